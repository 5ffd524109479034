use super::*;
use Ordering::{Equal, Greater, Less};
use VersionScheme::{Apk, Dpkg, Rpm};

fn check(scheme: VersionScheme, vectors: &[(&str, &str, Ordering)]) {
    for &(a, b, want) in vectors {
        assert_eq!(
            compare(scheme, a, b),
            Ok(want),
            "{} {a} vs {b}",
            scheme.as_str()
        );
        assert_eq!(
            compare(scheme, b, a),
            Ok(want.reverse()),
            "{} {b} vs {a}",
            scheme.as_str()
        );
    }
}

fn rejects(scheme: VersionScheme, versions: &[&str]) {
    for v in versions {
        assert!(
            validate(scheme, v).is_err(),
            "{} accepted {v:?}",
            scheme.as_str()
        );
        assert!(
            compare(scheme, v, "1").is_err(),
            "{} compared {v:?}",
            scheme.as_str()
        );
    }
}

#[test]
fn ecosystems() {
    for (eco, want) in [
        ("Debian:12", Some(Dpkg)),
        ("Debian", Some(Dpkg)),
        ("Ubuntu:22.04:LTS", Some(Dpkg)),
        ("Ubuntu:Pro:20.04:LTS", Some(Dpkg)),
        ("Alpine:v3.18", Some(Apk)),
        ("Rocky Linux:9", Some(Rpm)),
        ("AlmaLinux:9", Some(Rpm)),
        ("Red Hat:enterprise_linux:9::appstream", Some(Rpm)),
        ("openSUSE:Leap 15.5", Some(Rpm)),
        ("SUSE:Linux Enterprise Server 15 SP5", Some(Rpm)),
        ("Mageia:9", Some(Rpm)),
        ("openEuler:22.03-LTS-SP1", Some(Rpm)),
        ("npm", None),
        ("Go", None),
        ("debian:12", None),
        ("", None),
    ] {
        assert_eq!(VersionScheme::for_ecosystem(eco), want, "{eco}");
    }
    assert_eq!(
        [Dpkg.as_str(), Rpm.as_str(), Apk.as_str()],
        ["dpkg", "rpm", "apk"]
    );
}

#[test]
fn error_message_names_scheme_and_version() {
    assert_eq!(
        validate(Dpkg, "a:0-0").map_err(|e| e.to_string()),
        Err("invalid dpkg version \"a:0-0\": epoch in version is empty".into())
    );
    assert_eq!(
        validate(Rpm, "1.0 1").map_err(|e| e.to_string()),
        Err("invalid rpm version \"1.0 1\": illegal char ' ' at byte 3".into())
    );
    assert_eq!(
        validate(Apk, "0.1_foobar").map_err(|e| e.to_string()),
        Err("invalid apk version \"0.1_foobar\": unknown suffix \"_foobar\" at byte 3".into())
    );
    assert_eq!(
        compare(Apk, "1.0", "1.0bc"),
        Err(VersionError::Invalid {
            scheme: Apk,
            version: "1.0bc".into(),
            reason: "unexpected 'c' at byte 4".into()
        })
    );
}

// dpkg lib/dpkg/t/t-version.c, test_version_compare(). The file builds "a" and "b" upstream
// versions as structs, skipping parseversion(); a leading digit makes them parseable here.
#[test]
fn dpkg_t_version_compare() {
    check(
        Dpkg,
        &[
            ("1-1", "2-1", Less),
            ("1-1", "1-2", Less),
            ("0-0", "0-0", Equal),
            ("0-00", "00-0", Equal),
            ("1:2-3", "1:2-3", Equal),
            ("0:0-0", "1:0-0", Less),
            ("0:0a-0", "0:0b-0", Less),
            ("0:0-a", "0:0-b", Less),
        ],
    );
}

// dpkg lib/dpkg/t/t-version.c, test_version_parse(): the accepted strings and what they parse
// to, plus strtol() epoch edge cases checked against dpkg 1.21.22.
#[test]
fn dpkg_t_version_parse_valid() {
    for (input, epoch, upstream, revision) in [
        ("0", None, "0", None),
        ("0:0", Some(0), "0", None),
        ("+1:0", Some(1), "0", None),
        ("-0:1", Some(0), "1", None),
        ("00000000000000000001:1", Some(1), "1", None),
        ("2147483647:1", Some(2147483647), "1", None),
        ("0:0-0", Some(0), "0", Some("0")),
        ("0:0.0-0.0", Some(0), "0.0", Some("0.0")),
        ("1:0", Some(1), "0", None),
        ("5:1", Some(5), "1", None),
        ("0:0-0-0", Some(0), "0-0", Some("0")),
        ("0:0-0-0-0", Some(0), "0-0-0", Some("0")),
        ("0:0:0-0", Some(0), "0:0", Some("0")),
        ("0:0:0:0-0", Some(0), "0:0:0", Some("0")),
        ("0:0:0-0-0", Some(0), "0:0-0", Some("0")),
        ("0:0-0:0-0", Some(0), "0-0:0", Some("0")),
        ("0:09azAZ.-+~:-0", Some(0), "09azAZ.-+~:", Some("0")),
        ("0:0-azAZ09.+~", Some(0), "0", Some("azAZ09.+~")),
        ("  \t0:0-1", Some(0), "0", Some("1")),
        ("0:0-1\t  ", Some(0), "0", Some("1")),
        ("\t  0:0-1  \t", Some(0), "0", Some("1")),
    ] {
        let v = dpkg::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(
            (
                v.epoch,
                v.upstream_version.as_str(),
                v.debian_revision.as_deref()
            ),
            (epoch, upstream, revision),
            "{input:?}"
        );
    }
    check(
        Dpkg,
        &[
            ("0", "0:0", Equal),
            ("0:0", "0:0-0", Equal),
            ("0:0-1", " 0:0-1 ", Equal),
        ],
    );
}

// dpkg lib/dpkg/t/t-version.c, test_version_parse(): every string parseversion() refuses.
#[test]
fn dpkg_t_version_parse_invalid() {
    rejects(
        Dpkg,
        &[
            "",
            "  ",
            "0:",
            ":1.0",
            "1.0-",
            "0:0-",
            "0:0 0-1",
            "-1:0-1",
            "999999999999999999999999:0-1",
            "2147483648:1",
            "1a:0",
            "a:0-0",
            "A:0-0",
            "-0",
            "0:-0",
            "0:abc3-0",
            "0:0-0:0",
        ],
    );
    for c in "!#@$%&/|\\<>()[]{};,_=*^'".chars() {
        rejects(Dpkg, &[&format!("0:0{c}-0")]);
    }
    for c in "!#@$%&/|\\<>()[]{}:;,_=*^'".chars() {
        rejects(Dpkg, &[&format!("0:0-{c}")]);
    }
}

// Error texts are parseversion()'s, as printed by `dpkg --compare-versions` 1.21.22.
#[test]
fn dpkg_error_texts() {
    for (v, reason) in [
        ("", "version string is empty"),
        ("1.0 1", "version string has embedded spaces"),
        ("a:0-0", "epoch in version is empty"),
        ("1a:0", "epoch in version is not number"),
        ("-1:0-1", "epoch in version is negative"),
        ("2147483648:1", "epoch in version is too big"),
        ("0:", "nothing after colon in version number"),
        ("1.0-", "revision number is empty"),
        ("0:-0", "version number is empty"),
        ("0:abc3-0", "version number does not start with digit"),
        ("0:0a_-0", "invalid character '_' in version number"),
        ("0:0-0:0", "invalid character ':' in revision number"),
    ] {
        assert_eq!(dpkg::parse(v).err().as_deref(), Some(reason), "{v:?}");
    }
}

// Debian Policy §5.6.12: "~~" < "~~a" < "~" < "" < "a" within a part, digits compare numerically.
// All agree with `dpkg --compare-versions` 1.21.22 (also checked on 300 random pairs).
#[test]
fn dpkg_policy_ordering() {
    check(
        Dpkg,
        &[
            ("1.0~~", "1.0~~a", Less),
            ("1.0~~a", "1.0~", Less),
            ("1.0~", "1.0", Less),
            ("1.0", "1.0a", Less),
            ("1.0~rc1-1", "1.0-1", Less),
            ("1.0+dfsg-1", "1.0-1", Greater),
            ("1.2.10-1", "1.2.9-1", Greater),
            ("2:1.0-1", "1:9.9-9", Greater),
            ("3.0.11-1~deb12u2", "3.0.11-1", Less),
            ("3.0.11-1~deb12u2", "3.0.9-1", Greater),
            ("1.1.1n-0+deb11u5", "1.1.1n-0+deb11u4", Greater),
            ("1.0a", "1.0+", Less),
            ("1.0-1ubuntu0.1", "1.0-1", Greater),
        ],
    );
}

// rpm tests/rpmvercmp.at, the RPMVERCMP(a, b, result) cases.
#[test]
fn rpm_rpmvercmp_at() {
    check(
        Rpm,
        &[
            ("1.0", "1.0", Equal),
            ("1.0", "2.0", Less),
            ("2.0.1", "2.0.1", Equal),
            ("2.0", "2.0.1", Less),
            ("2.0.1a", "2.0.1a", Equal),
            ("2.0.1a", "2.0.1", Greater),
            ("5.5p1", "5.5p1", Equal),
            ("5.5p1", "5.5p2", Less),
            ("5.5p10", "5.5p10", Equal),
            ("5.5p1", "5.5p10", Less),
            ("10xyz", "10.1xyz", Less),
            ("xyz10", "xyz10", Equal),
            ("xyz10", "xyz10.1", Less),
            ("xyz.4", "xyz.4", Equal),
            ("xyz.4", "8", Less),
            ("xyz.4", "2", Less),
            ("5.5p2", "5.6p1", Less),
            ("5.6p1", "6.5p1", Less),
            ("6.0.rc1", "6.0", Greater),
            ("10b2", "10a1", Greater),
            ("10a2", "10b2", Less),
            ("1.0aa", "1.0aa", Equal),
            ("1.0a", "1.0aa", Less),
            ("10.0001", "10.0001", Equal),
            ("10.0001", "10.1", Equal),
            ("10.0001", "10.0039", Less),
            ("4.999.9", "5.0", Less),
            ("20101121", "20101121", Equal),
            ("20101121", "20101122", Less),
            ("2_0", "2_0", Equal),
            ("2.0", "2_0", Equal),
            ("a", "a", Equal),
            ("a+", "a+", Equal),
            ("a+", "a_", Equal),
            ("+a", "+a", Equal),
            ("+a", "_a", Equal),
            ("+_", "+_", Equal),
            ("_+", "+_", Equal),
            ("_+", "_+", Equal),
            ("+", "_", Equal),
            ("1.0~rc1", "1.0~rc1", Equal),
            ("1.0~rc1", "1.0", Less),
            ("1.0~rc1", "1.0~rc2", Less),
            ("1.0~rc1~git123", "1.0~rc1~git123", Equal),
            ("1.0~rc1~git123", "1.0~rc1", Less),
        ],
    );
}

// rpm tests/rpmvercmp.at has no caret or EVR cases; these follow rpm's documented caret rule
// ("1.0^" sorts after "1.0" but before "1.0.1") and epoch-version-release order, and agree
// with rpm 4.18.0's `rpm.vercmp()` (checked against it, plus 3,000 random EVR pairs).
#[test]
fn rpm_caret_and_evr() {
    check(
        Rpm,
        &[
            ("1.0^", "1.0", Greater),
            ("1.0^git1", "1.0", Greater),
            ("1.0^git1", "1.0.1", Less),
            ("1.0^git1", "1.0^git2", Less),
            ("1.0~rc1^git1", "1.0~rc1", Greater),
            ("1.0~rc1^git1", "1.0", Less),
            ("1:1.0-1", "2.0-1", Greater),
            ("0:1.0-1", "1.0-1", Equal),
            ("1.0", "1.0-1", Less),
            ("1.0-1.el9", "1.0-1.el9_2", Less),
            ("1:3.0.7-16.el9_2", "1:3.0.7-24.el9", Less),
            ("1.1.1k-9.el8_7", "1.1.1k-12.el8_9", Less),
            ("3.0.8-150500.5.8.1", "3.0.8-150500.5.14.1", Less),
        ],
    );
}

// rpm has no parser test file; these follow rpmbuild's rules (build/parsePreamble.c
// rpmCharCheck with ALLOWED_CHARS_VERREL "._+%{}~^", the ".." check, numeric 32-bit epoch).
#[test]
fn rpm_invalid() {
    rejects(
        Rpm,
        &[
            "",
            "1.0 1",
            " 1.0",
            "1.0\t",
            "1.0/1",
            "1.0@2",
            "1.0#1",
            "1.0,1",
            "1..0",
            "1.0-1..el9",
            "a:1.0",
            ":1.0",
            "1:",
            "1:-1",
            "-1",
            "1.0-",
            "1.0-1-1",
            "1:2:3",
            "99999999999:1.0",
            "1.0-1é",
            "1.0\n",
        ],
    );
}

// apk-tools test/unit/version.data: a selection of its "a op b" lines.
#[test]
fn apk_version_data_compare() {
    check(
        Apk,
        &[
            ("2.34", "0.1.0_alpha", Greater),
            ("0.1.0_alpha", "0.1.0_alpha", Equal),
            ("0.1.0_alpha", "0.1.3_alpha", Less),
            ("0.1.0_alpha2", "0.1.0_alpha", Greater),
            ("0.1.0_alpha", "2.2.39-r1", Less),
            ("1.0.4-r3", "1.0.4-r4", Less),
            ("1.1", "1.1_alpha1", Greater),
            ("1.2.1", "1.2", Greater),
            ("1.3_alpha2", "1.3_alpha3", Less),
            ("2.3.0b-r1", "2.3.0b-r2", Less),
            ("0.12.3", "0.12", Greater),
            ("1.06-r6", "006", Less),
            ("006", "1.0.0", Greater),
            ("1.2.2-r1", "1.2.2", Greater),
            ("3.1_p16", "3.1_p17", Less),
            ("20050718-r1", "20050718-r2", Less),
            ("3.9.8-r5", "2.01.01_alpha10", Greater),
            ("1.0", "0.99.3.20040818", Greater),
            ("4.2.52_p2-r1", "4.2.52_p4-r2", Less),
            ("2.18.3-r10", "1.05-r18", Greater),
            ("20060720", "3.0.20060720", Greater),
            ("2.5.1-r8", "2.5.1a-r1", Less),
            ("1.3.5-r10", "1.3.5-r8", Greater),
            ("20040401", "2.0.0_rc3-r1", Greater),
            ("3.0.0-r2", "021109-r3", Less),
            ("0.9.16-r1", "3.9_pre20060124", Less),
            ("0.10.0", "0.10.1_rc1", Less),
            ("1.7", "1.7b", Less),
            ("1.8.5", "1.8.5_p2", Less),
            ("2.9.11_pre20051101-r3", "2.9.11_pre20051101", Greater),
            ("1.6.8_p12-r1", "1.6.8_p9-r2", Greater),
            ("0.9.28.1", "087-r1", Less),
            ("104-r11", "104-r9", Greater),
            ("2.12r-r4", "2.12r-r5", Less),
            ("7.0.17", "7.0.174", Less),
            ("0.20070118", "0.20070207_rc1", Less),
            ("4.5_p1-r1", "4.5_p1", Greater),
            ("0.9.8c-r1", "0.9.8d", Less),
            ("1.3-r0", "1.3.1-r0", Less),
            ("1.3_pre1-r1", "1.3.2", Less),
            ("1.0_p10-r0", "1.0_p9-r0", Greater),
            ("0.1.0_alpha_pre2", "0.1.0_alpha", Less),
            (
                "1.0.0_pre20191002222144-r0",
                "1.0.0_pre20210530193627-r0",
                Less,
            ),
            ("6.0_pre1", "6.0", Less),
            ("6.0_p1", "6.0", Greater),
            ("8.2.0", "8.2.001", Less),
            ("8.2.0015", "8.2.002", Less),
            ("1.0~1234", "1.0~2345", Less),
            ("1.0~1234-r1", "1.0~2345-r0", Less),
            ("1.0~1234-r1", "1.0~1234-r0", Greater),
            ("1.2.3_git20230101-r0", "1.2.3-r0", Greater),
            ("1.2.3_cvs", "1.2.3_svn", Less),
            ("1.2.3_hg", "1.2.3_p", Less),
            ("1.2.3_rc1", "1.2.3_beta9", Greater),
        ],
    );
}

// apk-tools test/unit/version.data: the plain "version" (valid) and "!version" (invalid) lines,
// plus the two "a op b" lines whose left side the current tokenizer rejects.
#[test]
fn apk_version_data_validity() {
    for v in [
        "1.2",
        "0.1_pre2",
        "0.1_pre2~1234abcd",
        "0.1_p1_pre2",
        "0.1_alpha1_pre2",
        "0.1_git20240101_pre1",
        "3.1.4-r5",
        "1.0_rc1-r10",
    ] {
        assert_eq!(validate(Apk, v), Ok(()), "{v}");
    }
    rejects(
        Apk,
        &[
            "",
            "0.1bc",
            "0.1bc1",
            "0.1a1",
            "0.1a.1",
            "0.1_pre2~",
            "0.1_pre2~1234xbcd",
            "0.1_pre2~1234abcd_pre1",
            "0.1_pre2-r1~1234xbcd",
            "0.1_foobar",
            "0.1_foobar1",
            "0.1-pre1.1",
            "0.1-r",
            "0.1-r2_pre1",
            "0.1-r2_p3_pre1",
            "0.1-r2-r3",
            "0.1-r2.1",
            ".1",
            "a",
            "_pre1",
            "-r1",
            "0.1_",
            "0.1_-r0",
            "0.1__alpha",
            "0.1_1_alpha",
            "1.0bc",
            "23_foo",
            "1.0.",
            "1.0-R1",
            "1.0 ",
        ],
    );
}

#[test]
fn apk_huge_numbers_do_not_overflow() {
    check(
        Apk,
        &[
            (
                "1.99999999999999999999999",
                "1.100000000000000000000000",
                Less,
            ),
            (
                "1-r99999999999999999999999",
                "1-r100000000000000000000000",
                Less,
            ),
        ],
    );
}
