use super::*;
use crate::advisories::archive::*;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::io::Write;

// Shaped like osv.dev's Debian DSA export: source package, "Debian:<release>", no severity.
const DSA: &str = r#"{
      "schema_version": "1.6.0",
      "id": "DSA-5532-1",
      "summary": "openssl - security update",
      "details": "\nSeveral vulnerabilities were discovered in OpenSSL.\n",
      "modified": "2023-10-26T05:02:31.276593Z",
      "published": "2023-10-24T00:00:00Z",
      "related": ["CVE-2023-5363"],
      "affected": [
        {
          "package": {"ecosystem": "Debian:12", "name": "openssl", "purl": "pkg:deb/debian/openssl?arch=source"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]}],
          "versions": ["3.0.9-1", "3.0.11-1~deb12u1"],
          "database_specific": {"source": "https://storage.googleapis.com/debian-osv/dsa-osv/DSA-5532-1.json"}
        },
        {
          "package": {"ecosystem": "Debian:11", "name": "openssl"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.1w-0+deb11u1"}]}]
        }
      ],
      "references": [{"type": "ADVISORY", "url": "https://www.debian.org/security/2023/dsa-5532"}]
    }"#;

// Shaped like osv.dev's Debian CVE records: urgency in ecosystem_specific, no summary.
const DEBIAN_CVE: &str = r#"{
      "id": "DEBIAN-CVE-2023-4807",
      "details": "Issue summary: The POLY1305 MAC implementation contains a bug...\nSecond line.",
      "modified": "2024-01-05T00:00:00Z",
      "aliases": ["CVE-2023-4807"],
      "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
      "affected": [{
        "package": {"ecosystem": "Debian:12", "name": "openssl"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "3.0.11-1~deb12u2"}]}],
        "ecosystem_specific": {"urgency": "unimportant"}
      }]
    }"#;

// Shaped like osv.dev's Alpine secdb export: no summary, CVSS only, "Alpine:vX.Y".
const ALPINE: &str = r#"{
      "id": "ALPINE-CVE-2023-5363",
      "modified": "2024-02-01T10:00:00+01:00",
      "details": "Issue summary: A bug has been identified in the processing of key and initialisation vector lengths.",
      "aliases": ["CVE-2023-5363"],
      "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
      "affected": [{
        "package": {"ecosystem": "Alpine:v3.18", "name": "openssl"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": "3.1.4-r0"}, {"introduced": "3.1.0-r0"}]}],
        "versions": ["3.0.12-r1"]
      }]
    }"#;

// Shaped like osv.dev's Rocky Linux RLSA export, with an extra range, a GIT range and an npm entry.
const ROCKY: &str = r#"{
      "id": "RLSA-2023:7877",
      "summary": "Low: openssl security update",
      "modified": "2024-01-12T08:19:02Z",
      "aliases": ["CVE-2023-3446", "CVE-2023-3817"],
      "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
      "affected": [
        {
          "package": {"ecosystem": "Rocky Linux:8", "name": "openssl"},
          "ranges": [
            {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.1.1k-9.el8_7"}]},
            {"type": "ECOSYSTEM", "events": [{"introduced": "1:1.1.1k-10.el8"}, {"last_affected": "1:1.1.1k-11.el8_9"}]},
            {"type": "GIT", "repo": "https://github.com/openssl/openssl", "events": [{"introduced": "abc123"}, {"fixed": "def456"}]}
          ]
        },
        {
          "package": {"ecosystem": "npm", "name": "openssl-wrapper"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0.0"}, {"fixed": "not a distro version"}]}]
        },
        {
          "ranges": [{"type": "GIT", "repo": "https://github.com/openssl/openssl", "events": [{"introduced": "0"}]}]
        }
      ]
    }"#;

fn advisory(json: &str) -> Advisory {
    parse(json.as_bytes()).unwrap_or_else(|e| panic!("fixture must parse: {e}"))
}

fn fixed(v: &str) -> Option<Match> {
    Some(Match {
        fixed_version: Some(v.to_owned()),
    })
}

fn unfixed() -> Option<Match> {
    Some(Match {
        fixed_version: None,
    })
}

/// Replaces the first occurrence of `from` in a fixture, to derive malformed variants.
fn with(json: &str, from: &str, to: &str) -> Vec<u8> {
    assert!(json.contains(from), "fixture lacks {from}");
    json.replacen(from, to, 1).into_bytes()
}

#[test]
fn debian_dsa_introduced_fixed() {
    let a = advisory(DSA);
    assert_eq!(a.id, "DSA-5532-1");
    assert_eq!(a.modified, 1698296551);
    assert_eq!(a.summary, "openssl - security update");
    assert_eq!(a.severity, "medium");
    assert!(a.aliases.is_empty());
    assert!(!a.withdrawn);
    let bookworm = &a.affected[0];
    assert_eq!(
        (bookworm.ecosystem.as_str(), bookworm.package.as_str()),
        ("Debian:12", "openssl")
    );
    assert_eq!(bookworm.scheme, Some(VersionScheme::Dpkg));
    assert_eq!(
        bookworm.events,
        [
            Event::Introduced("0".into()),
            Event::Fixed("3.0.11-1~deb12u2".into())
        ]
    );
    assert_eq!(
        bookworm.matches("3.0.11-1~deb12u1"),
        Ok(fixed("3.0.11-1~deb12u2"))
    );
    assert_eq!(bookworm.matches("1.0-1"), Ok(fixed("3.0.11-1~deb12u2")));
    assert_eq!(bookworm.matches("3.0.11-1~deb12u2"), Ok(None));
    assert_eq!(bookworm.matches("3.0.13-1~deb12u1"), Ok(None));
    assert_eq!(bookworm.fixed_versions(), ["3.0.11-1~deb12u2"]);
    assert_eq!(
        bookworm.describe_ranges(),
        ">= 0, < 3.0.11-1~deb12u2; exactly 3.0.9-1, 3.0.11-1~deb12u1"
    );
    assert_eq!(
        a.affected[1].matches("1.1.1n-0+deb11u5"),
        Ok(fixed("1.1.1w-0+deb11u1"))
    );
    assert_eq!(
        bookworm.matches("3.0 11").map_err(|e| e.to_string()),
        Err("invalid dpkg version \"3.0 11\": version string has embedded spaces".into())
    );
}

#[test]
fn debian_last_affected_and_urgency() {
    let a = advisory(DEBIAN_CVE);
    assert_eq!(
        a.summary,
        "Issue summary: The POLY1305 MAC implementation contains a bug..."
    );
    assert_eq!(a.aliases, ["CVE-2023-4807"]);
    // The distro's "unimportant" outranks the CVSS 8.1 vector.
    assert_eq!(a.severity, "low");
    let e = &a.affected[0];
    assert_eq!(e.matches("3.0.11-1~deb12u2"), Ok(unfixed()));
    assert_eq!(e.matches("3.0.11-1~deb12u3"), Ok(None));
    assert_eq!(e.fixed_versions(), Vec::<String>::new());
    assert_eq!(e.describe_ranges(), ">= 0, <= 3.0.11-1~deb12u2");
}

#[test]
fn alpine_unsorted_events_and_versions_list() {
    let a = advisory(ALPINE);
    assert_eq!(a.modified, 1706778000);
    assert!(a.summary.starts_with("Issue summary: A bug"));
    assert_eq!(a.severity, "high");
    let e = &a.affected[0];
    assert_eq!(e.scheme, Some(VersionScheme::Apk));
    assert_eq!(e.matches("3.1.2-r0"), Ok(fixed("3.1.4-r0")));
    assert_eq!(e.matches("3.1.4-r0"), Ok(None));
    assert_eq!(e.matches("3.0.9-r0"), Ok(None));
    // Only listed explicitly; the nearest fix above it is still reported.
    assert_eq!(e.matches("3.0.12-r1"), Ok(fixed("3.1.4-r0")));
    assert_eq!(
        e.describe_ranges(),
        ">= 3.1.0-r0, < 3.1.4-r0; exactly 3.0.12-r1"
    );
}

#[test]
fn rocky_multiple_ranges_last_affected_and_foreign_entries() {
    let a = advisory(ROCKY);
    assert_eq!(a.severity, "critical");
    assert_eq!(a.affected.len(), 2, "the package-less GIT entry is dropped");
    let rocky = &a.affected[0];
    assert_eq!(rocky.scheme, Some(VersionScheme::Rpm));
    assert_eq!(rocky.ranges, [0..2, 2..4]);
    assert_eq!(
        rocky.matches("1:1.1.1k-7.el8_6"),
        Ok(fixed("1:1.1.1k-9.el8_7"))
    );
    assert_eq!(rocky.matches("1:1.1.1k-9.el8_7"), Ok(None));
    assert_eq!(rocky.matches("1:1.1.1k-10.el8"), Ok(unfixed()));
    assert_eq!(rocky.matches("1:1.1.1k-11.el8_9"), Ok(unfixed()));
    assert_eq!(rocky.matches("1:1.1.1k-12.el8_9"), Ok(None));
    // Epoch 1 beats any epoch-0 version.
    assert_eq!(rocky.matches("3.0.7-1.el8"), Ok(fixed("1:1.1.1k-9.el8_7")));
    assert_eq!(
        rocky.describe_ranges(),
        ">= 0, < 1:1.1.1k-9.el8_7; >= 1:1.1.1k-10.el8, <= 1:1.1.1k-11.el8_9"
    );
    let npm = &a.affected[1];
    assert_eq!(npm.scheme, None);
    assert_eq!(npm.events.len(), 2);
    assert_eq!(npm.matches("1.0.5"), Ok(None));
    assert_eq!(npm.matches("anything at all"), Ok(None));
    assert_eq!(npm.describe_ranges(), ">= 1.0.0, < not a distro version");
}

#[test]
fn ranges_are_evaluated_independently() {
    let a = advisory(
        r#"{"id": "X-1", "modified": "2024-01-01T00:00:00Z", "affected": [{
                "package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "curl"},
                "ranges": [
                  {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0-1"}]},
                  {"type": "ECOSYSTEM", "events": [{"introduced": "1.0-1"}, {"fixed": "1.5-1"}]}
                ]}]}"#,
    );
    // Merged into one sorted event list, 1.5-1 would close the range and hide 1.7-1.
    assert_eq!(a.affected[0].matches("1.7-1"), Ok(fixed("2.0-1")));
    assert_eq!(a.affected[0].matches("1.2-1"), Ok(fixed("2.0-1")));
    assert_eq!(a.affected[0].matches("2.0-1"), Ok(None));
}

#[test]
fn limit_events() {
    let a = advisory(
        r#"{"id": "X-2", "modified": "2024-01-01T00:00:00Z", "affected": [
                {"package": {"ecosystem": "Alpine:v3.19", "name": "zlib"},
                 "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"limit": "1.3-r0"}]}]},
                {"package": {"ecosystem": "Alpine:v3.19", "name": "zlib"},
                 "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.2-r0"}, {"limit": "*"}]}]}
            ]}"#,
    );
    assert_eq!(a.affected[0].matches("1.2.13-r0"), Ok(unfixed()));
    assert_eq!(a.affected[0].matches("1.3-r0"), Ok(None));
    assert_eq!(a.affected[1].matches("9.9-r9"), Ok(unfixed()));
    assert_eq!(a.affected[0].describe_ranges(), ">= 0, < 1.3-r0 (limit)");
}

#[test]
fn describe_long_lists_and_empty_entries() {
    let mut e = advisory(DSA).affected.remove(1);
    e.versions = (1..=7).map(|n| format!("1.1.1-{n}")).collect();
    assert_eq!(
        e.describe_ranges(),
        ">= 0, < 1.1.1w-0+deb11u1; exactly 1.1.1-1, 1.1.1-2, 1.1.1-3, 1.1.1-4, 1.1.1-5 and 2 more"
    );
    assert_eq!(e.matches("1.1.1-7"), Ok(fixed("1.1.1w-0+deb11u1")));
    e.events.clear();
    e.ranges.clear();
    e.versions.clear();
    assert_eq!(e.describe_ranges(), "no affected versions listed");
    assert_eq!(e.matches("1.1.1-7"), Ok(None));
    // Hand-built spans past the end are clamped, not a panic.
    e.events = vec![Event::Introduced("0".into())];
    e.ranges = vec![0..9, Range { start: 5, end: 2 }];
    assert_eq!(e.matches("1.0-1"), Ok(unfixed()));
}

#[test]
fn withdrawn_and_summary_fallbacks() {
    let a = advisory(
        r#"{"id": "UBUNTU-CVE-2022-0001", "modified": "2024-03-01T00:00:00Z",
                "withdrawn": "2024-02-29T12:00:00Z", "summary": "  ", "details": "\n\n  first real line  \nmore",
                "aliases": null, "affected": null, "severity": null}"#,
    );
    assert!(a.withdrawn);
    assert_eq!(a.summary, "first real line");
    assert!(a.aliases.is_empty() && a.affected.is_empty());
    let bare = advisory(r#"{"id": "ALSA-2024:0001", "modified": "2024-03-01T00:00:00Z"}"#);
    assert_eq!(bare.summary, "ALSA-2024:0001");
    assert_eq!(bare.severity, "medium");
    let bom = [
        b"\xEF\xBB\xBF".as_slice(),
        br#"{"id": "A", "modified": "2024-03-01T00:00:00Z"}"#,
    ]
    .concat();
    assert_eq!(parse(&bom).map(|a| a.id), Ok("A".to_owned()));
}

#[test]
fn severity_sources() {
    let doc =
        |extra: &str| format!(r#"{{"id": "S", "modified": "2024-01-01T00:00:00Z", {extra}}}"#);
    let sev = |extra: &str| parse(doc(extra).as_bytes()).map(|a| a.severity);
    let cvss = |v: &str| format!(r#""severity": [{{"type": "CVSS_V3", "score": "{v}"}}]"#);
    let eco = |k: &str, v: &str| {
        format!(
            r#""affected": [{{"package": {{"ecosystem": "Debian:12", "name": "p"}}, "ecosystem_specific": {{"{k}": "{v}"}}}}]"#
        )
    };
    assert_eq!(
        sev(r#""database_specific": {"severity": "Important"}"#),
        Ok("high")
    );
    assert_eq!(sev(&eco("urgency", "not yet assigned")), Ok("medium"));
    assert_eq!(sev(&eco("urgency", "unimportant")), Ok("low"));
    assert_eq!(sev(&eco("urgency", "high**")), Ok("high"));
    assert_eq!(sev(&eco("severity", "Critical")), Ok("critical"));
    assert_eq!(
        sev(r#""severity": [{"type": "Ubuntu", "score": "negligible"}]"#),
        Ok("low")
    );
    assert_eq!(
        sev(&cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")),
        Ok("critical")
    );
    assert_eq!(
        sev(&cvss("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N")),
        Ok("medium")
    );
    assert_eq!(
        sev(&cvss("CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:L/I:N/A:N")),
        Ok("low")
    );
    assert_eq!(sev(&cvss("not a vector")), Ok("medium"));
    assert_eq!(
        sev(r#""severity": [
                {"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:L/I:N/A:N"},
                {"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:C/I:C/A:C"},
                {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}]"#),
        Ok("high")
    );
    assert_eq!(
        sev(r#""database_specific": {"severity": "whatever"}"#),
        Ok("medium")
    );
}

#[test]
fn malformed_documents() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (with(DSA, r#""id": "DSA-5532-1","#, ""), "missing field `id` at line 22 column 5"),
        (with(DSA, r#""DSA-5532-1""#, r#""  ""#), "id: must not be empty"),
        (
            with(DSA, r#""id": "DSA-5532-1""#, r#""id": 5532"#),
            "id: invalid type: integer `5532`, expected a string at line 3 column 16",
        ),
        (
            with(DSA, r#""related""#, r#""aliases": "CVE-2023-5363", "related""#),
            "aliases: invalid type: string \"CVE-2023-5363\", expected a sequence at line 8 column 32",
        ),
        (
            with(DSA, "2023-10-26T05:02:31.276593Z", "yesterday"),
            "modified: not an RFC 3339 time (\"yesterday\")",
        ),
        (
            with(DSA, r#""published""#, r#""withdrawn": "soon", "published""#),
            "withdrawn: not an RFC 3339 time (\"soon\")",
        ),
        (
            with(DSA, r#"{"fixed": "3.0.11-1~deb12u2"}"#, r#"{"fixed": "3.0.11 beta"}"#),
            "affected[0].ranges[0].events[1].fixed: invalid dpkg version \"3.0.11 beta\": version string has embedded spaces",
        ),
        (
            with(DSA, r#"{"fixed": "1.1.1w-0+deb11u1"}"#, r#"{"fixed": "1.1.1w_0"}"#),
            "affected[1].ranges[0].events[1].fixed: invalid dpkg version \"1.1.1w_0\": invalid character '_' in version number",
        ),
        (
            with(DSA, r#"{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}"#, r#"{"introduced": "0", "fixed": "3.0.11-1~deb12u2"}"#),
            "affected[0].ranges[0].events[0]: expected exactly one of introduced, fixed, last_affected, limit",
        ),
        (
            with(DSA, r#""3.0.9-1""#, r#""3.0.9-1", "v3""#),
            "affected[0].versions[1]: invalid dpkg version \"v3\": version number does not start with digit",
        ),
        (
            with(DSA, r#"{"fixed": "3.0.11-1~deb12u2"}"#, r#"{"fixed": 3}"#),
            "affected[0].ranges[0].events[1].fixed: invalid type: integer `3`, expected a string at line 12 column 86",
        ),
        (
            with(DSA, r#""package": {"ecosystem": "Debian:11", "name": "openssl"}"#, r#""package": {"ecosystem": "Debian:11"}"#),
            "affected[1].package: missing field `name` at line 17 column 47",
        ),
        (
            with(ALPINE, r#"{"fixed": "3.1.4-r0"}"#, r#"{"fixed": "3.1.4-r0_p1"}"#),
            "affected[0].ranges[0].events[0].fixed: invalid apk version \"3.1.4-r0_p1\": unexpected '_' at byte 8",
        ),
        (
            with(ROCKY, r#"{"fixed": "1:1.1.1k-9.el8_7"}"#, r#"{"fixed": "1:1.1.1k-9..el8_7"}"#),
            "affected[0].ranges[0].events[1].fixed: invalid rpm version \"1:1.1.1k-9..el8_7\": illegal sequence \"..\"",
        ),
        (
            with(ROCKY, r#""events": [{"introduced": "0"}, {"fixed": "1:1.1.1k-9.el8_7"}]"#, r#""events": {}"#),
            "affected[0].ranges[0].events: invalid type: map, expected a sequence at line 11 column 44",
        ),
        (
            with(ROCKY, r#""score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H""#, r#""score": 9.8"#),
            "severity[0].score: invalid type: floating point `9.8`, expected a string at line 6 column 51",
        ),
        (b"not json".to_vec(), "not an OSV document: expected a JSON object"),
        (b" [\"DSA-1\", \"2024-01-01T00:00:00Z\"]".to_vec(), "not an OSV document: expected a JSON object"),
        (format!("{DSA} {{}}").into_bytes(), "trailing characters at line 22 column 7"),
        (Vec::new(), "not an OSV document: expected a JSON object"),
        (b"{".to_vec(), "EOF while parsing an object at line 1 column 1"),
        (
            with(DSA, r#""package": {"ecosystem": "Debian:11", "name": "openssl"}"#, r#""package": "openssl""#),
            "affected[1].package: invalid type: string \"openssl\", expected a package object at line 17 column 30",
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(doc, want)| {
            let got = parse(doc).map(|a| a.id);
            (got != Err((*want).to_owned())).then(|| format!("want {want:?}\n got {got:?}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn read_upload_default(file_name: &str, bytes: &[u8]) -> Result<Vec<Loaded>, String> {
    read_upload(file_name, bytes, UPLOAD_LIMITS)
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut writer = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        if name.ends_with('/') {
            writer.add_directory(*name, options).expect("add directory");
        } else {
            writer.start_file(*name, options).expect("start file");
            writer.write_all(bytes).expect("write entry");
        }
    }
    writer.finish().expect("finish zip").into_inner()
}

fn summarize(loaded: &[Loaded]) -> Vec<(String, Result<String, String>)> {
    loaded
        .iter()
        .map(|l| {
            (
                l.name.clone(),
                l.result
                    .as_ref()
                    .map(|a| a.id.clone())
                    .map_err(Clone::clone),
            )
        })
        .collect()
}

#[test]
fn upload_zip_like_osv_all_zip() {
    let bytes = zip_of(&[
        ("RLSA-2023:7877.json", ROCKY.as_bytes()),
        ("alpine/", b""),
        ("alpine/ALPINE-CVE-2023-5363.JSON", ALPINE.as_bytes()),
        ("DSA-5532-1.json", DSA.as_bytes()),
        ("broken.json", b"{\"id\": 1}"),
        ("README.md", b"not an advisory"),
    ]);
    let loaded = read_upload_default("all.zip", &bytes).expect("zip reads");
    assert_eq!(
        summarize(&loaded),
        [
            ("DSA-5532-1.json".to_owned(), Ok("DSA-5532-1".to_owned())),
            (
                "RLSA-2023:7877.json".to_owned(),
                Ok("RLSA-2023:7877".to_owned())
            ),
            (
                "alpine/ALPINE-CVE-2023-5363.JSON".to_owned(),
                Ok("ALPINE-CVE-2023-5363".to_owned())
            ),
            (
                "broken.json".to_owned(),
                Err(
                    "id: invalid type: integer `1`, expected a string at line 1 column 8"
                        .to_owned()
                )
            ),
        ]
    );
    // Recognised by content even without the extension.
    assert_eq!(read_upload_default("download", &bytes).map(|l| l.len()), Ok(4));
    assert_eq!(
        read_upload_default("empty.zip", &zip_of(&[])).map(|l| l.len()),
        Ok(0)
    );
}

#[test]
fn upload_bad_inputs() {
    let err = read_upload_default("all.zip", b"PK\x03\x04 truncated").expect_err("bad zip");
    assert!(err.starts_with("not a readable zip archive: "), "{err}");
    let err = read_upload_default("all.zip", b"{}").expect_err("json named .zip");
    assert!(err.starts_with("not a readable zip archive: "), "{err}");
    assert_eq!(
        read_upload_default("notes.txt", b"hello").map(|l| l.len()),
        Err("notes.txt: expected an OSV .json file or a .zip of them".to_owned())
    );
    let single = read_upload_default("advisory.txt", ALPINE.as_bytes()).expect("json by content");
    assert_eq!(
        summarize(&single),
        [(
            "advisory.txt".to_owned(),
            Ok("ALPINE-CVE-2023-5363".to_owned())
        )]
    );
    let bad = read_upload_default("x.json", b"{").expect("a json upload always yields one entry");
    assert_eq!(
        summarize(&bad),
        [(
            "x.json".to_owned(),
            Err("EOF while parsing an object at line 1 column 1".to_owned())
        )]
    );
}

#[test]
fn oversized_documents_are_refused_not_buffered_whole() {
    let endless = io::repeat(b' ').take(MAX_DOCUMENT_BYTES + 10);
    assert_eq!(
        load(read_capped(endless), "cannot read"),
        Err("larger than 64 MiB".to_owned())
    );
}

/// A scratch folder under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("bulwark-osv-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create parent");
        }
        fs::write(&path, bytes).expect("write file");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn read_path_folder_file_and_zip() {
    let dir = Scratch::new("read-path");
    dir.write("debian/DSA-5532-1.json", DSA.as_bytes());
    dir.write("alpine/v3.18/ALPINE-CVE-2023-5363.json", ALPINE.as_bytes());
    dir.write("alpine/notes.txt", b"ignored");
    dir.write("rocky.json", b"{\"id\": \"R\"}");
    let loaded = read_path(&dir.0).expect("folder reads");
    let rel = |l: &Loaded| {
        Path::new(&l.name)
            .strip_prefix(&dir.0)
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        loaded
            .iter()
            .map(|l| (
                rel(l),
                l.result
                    .as_ref()
                    .map(|a| a.id.as_str())
                    .map_err(String::as_str)
            ))
            .collect::<Vec<_>>(),
        [
            (
                "alpine/v3.18/ALPINE-CVE-2023-5363.json".to_owned(),
                Ok("ALPINE-CVE-2023-5363")
            ),
            ("debian/DSA-5532-1.json".to_owned(), Ok("DSA-5532-1")),
            (
                "rocky.json".to_owned(),
                Err("missing field `modified` at line 1 column 11")
            ),
        ]
    );

    let single = read_path(&dir.0.join("debian/DSA-5532-1.json")).expect("file reads");
    assert_eq!(single.len(), 1);
    assert_eq!(single[0].result.as_ref().map(|a| a.affected.len()), Ok(2));

    let zip_path = dir.write("all.zip", &zip_of(&[("DSA-5532-1.json", DSA.as_bytes())]));
    assert_eq!(
        summarize(&read_path(&zip_path).expect("zip reads")),
        [("DSA-5532-1.json".to_owned(), Ok("DSA-5532-1".to_owned()))]
    );

    let bad_zip = dir.write("bad.zip", b"PK\x03\x04garbage");
    let err = read_path(&bad_zip).expect_err("bad zip fails");
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert_eq!(
        read_path(&dir.0.join("missing"))
            .map_err(|e| e.kind())
            .err(),
        Some(io::ErrorKind::NotFound)
    );
}

#[test]
fn archives_past_their_limits_are_refused_whole() {
    let zeros = vec![b' '; 300_000];
    let bytes = zip_of(&[("a.json", &zeros), ("b.json", &zeros), ("c.json", &zeros), ("d.json", DSA.as_bytes())]);
    // A few hundred KiB of blanks compress to almost nothing; read in full they pass 800 KB.
    assert!(bytes.len() < 10_000, "{}", bytes.len());
    let small = ArchiveLimits { max_entries: 100, max_entry_bytes: 400_000, max_total_bytes: 800_000 };
    assert_eq!(
        read_upload("bomb.zip", &bytes, small).map(|l| l.len()),
        Err("the archive expands to more than 800000 bytes; an import takes at most that much".to_owned())
    );
    let few = ArchiveLimits { max_entries: 3, max_entry_bytes: 400_000, max_total_bytes: 10_000_000 };
    assert_eq!(
        read_upload("one.zip", &bytes, ArchiveLimits { max_entries: 4, max_entry_bytes: 200_000, max_total_bytes: 10_000_000 }).map(|l| l.len()),
        Err("a.json expands to more than 200000 bytes; an import takes entries of at most that size".to_owned())
    );
    assert_eq!(
        read_upload("many.zip", &bytes, few).map(|l| l.len()),
        Err("the archive has 4 entries; an import takes at most 3".to_owned())
    );
    let roomy = ArchiveLimits { max_entries: 4, max_entry_bytes: 400_000, max_total_bytes: 2_000_000 };
    assert_eq!(read_upload("fine.zip", &bytes, roomy).map(|l| l.len()), Ok(4));
}

/// An entry's events built by hand (valid or not), for the prepared-matcher comparison.
fn entry(ecosystem: &str, events: Vec<Event>, ranges: Vec<std::ops::Range<usize>>, versions: &[&str]) -> Affected {
    Affected {
        ecosystem: ecosystem.into(),
        package: "p".into(),
        scheme: version::VersionScheme::for_ecosystem(ecosystem),
        events,
        ranges,
        versions: versions.iter().map(|v| v.to_string()).collect(),
    }
}

/// The in-memory index matches through `PreparedAffected`: for every entry shape (ranges,
/// last_affected, limits, listed versions, origin, several ranges, invalid events and versions
/// on all three schemes) and every installed version, valid or not, it answers exactly what
/// `Affected::matches` answers, error included.
#[test]
fn prepared_entries_match_exactly_like_the_entries() {
    use Event::*;
    let s = |v: &str| v.to_string();
    let dpkg = [
        entry("Debian:12", vec![Introduced(s("0")), Fixed(s("3.0.11-1~deb12u2"))], vec![], &[]),
        entry("Debian:12", vec![Introduced(s("1.0-1")), LastAffected(s("1.4-2")), Introduced(s("2:1.0")), Fixed(s("2:1.5-1"))], vec![], &[]),
        entry("Debian", vec![Fixed(s("2.0-1")), Introduced(s("1.0-1"))], vec![0..1, 1..2], &["0.9-1", "bad version"]),
        entry("Debian", vec![Introduced(s("0")), Fixed(s("1.0-1"))], vec![], &["1.2-1"]),
        entry("Ubuntu:22.04:LTS", vec![Introduced(s("0")), Limit(s("1.3-1")), Limit(s("*"))], vec![], &[]),
        entry("Debian:12", vec![Introduced(s("0")), Limit(s("not a version")), Limit(s("*"))], vec![], &[]),
        entry("Debian:12", vec![Introduced(s("a:1")), Fixed(s("1.0-1"))], vec![], &["1.0-1"]),
        entry("Debian:12", vec![Introduced(s("1.0")), Fixed(s("1.0-"))], vec![], &[]),
        entry("Debian:12", vec![Fixed(s("1.0-1"))], vec![0..1, 0..5], &[]),
        entry("Debian:12", vec![], vec![], &["1.0-1", "1.1-1"]),
    ];
    let rpm = [
        entry("Rocky Linux:9", vec![Introduced(s("0")), Fixed(s("1:2.3-4.el9"))], vec![], &[]),
        entry("AlmaLinux:9", vec![Introduced(s("2.0-1")), LastAffected(s("2.5-1"))], vec![], &["1.0-1", "x..y"]),
    ];
    let apk = [
        entry("Alpine:v3.19", vec![Introduced(s("0")), Limit(s("1.3-r0"))], vec![], &[]),
        entry("Alpine:v3.19", vec![Introduced(s("1.2-r0")), Fixed(s("1.2.13-r1")), Introduced(s("1.3_rc1-r0"))], vec![], &["1.1-r0"]),
    ];
    let unknown = [entry("npm", vec![Introduced(s("0"))], vec![], &[])];
    let installed = [
        "0", "0.9-1", "1.0", "1.0-1", "1.2-1", "1.3-1", "1.4-2", "1.4-3", "2.0-1", "2:1.2", "3.0.11-1~deb12u1", "3.0.11-1~deb12u2", "9.9",
        "1:2.3-3.el9", "1:2.3-4.el9", "2.3-5.el9", "2.4-1", "1.1-r0", "1.2.13-r0", "1.2.13-r1", "1.3-r0", "1.3_rc1-r0", "9.9-r9",
        "", "not a version", "1.0-", "x..y", "1..2-r0",
    ];
    let mut compared = 0;
    for affected in dpkg.iter().chain(&rpm).chain(&apk).chain(&unknown) {
        let prepared = PreparedAffected::new(affected);
        for version in installed {
            let expected = affected.matches(version);
            let got = match prepared.scheme() {
                None => Ok(None),
                Some(scheme) => version::Parsed::parse(scheme, version).and_then(|v| prepared.matches(&v)),
            };
            assert_eq!(got, expected, "{affected:?} with {version:?}");
            compared += 1;
        }
    }
    // Verify the comparison covered matches, misses and errors alike.
    let outcomes: Vec<Result<Option<Match>, version::VersionError>> =
        dpkg.iter().chain(&rpm).chain(&apk).flat_map(|a| installed.map(|v| a.matches(v))).collect();
    assert!(outcomes.iter().any(|o| matches!(o, Ok(Some(m)) if m.fixed_version.is_some())));
    assert!(outcomes.iter().any(|o| matches!(o, Ok(Some(m)) if m.fixed_version.is_none())));
    assert!(outcomes.iter().any(|o| matches!(o, Ok(None))));
    assert!(outcomes.iter().any(|o| o.is_err()));
    assert_eq!(compared, 15 * installed.len());
}
