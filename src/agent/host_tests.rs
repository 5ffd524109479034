use super::*;

#[test]
fn os_release_debian() {
    let os = parse_os_release(include_str!("../../tests/fixtures/agent/os-release-debian12"));
    assert_eq!(
        os,
        OsRelease { id: "debian".into(), version_id: "12".into(), pretty_name: "Debian GNU/Linux 12 (bookworm)".into(), id_like: vec![] }
    );
    assert_eq!(package_manager_for(&os), Some(PackageManager::Dpkg));
}

#[test]
fn os_release_quoting_escapes_and_comments() {
    let os = parse_os_release(include_str!("../../tests/fixtures/agent/os-release-rocky9"));
    assert_eq!(os.id, "rocky");
    assert_eq!(os.version_id, "9.3");
    assert_eq!(os.pretty_name, "Rocky Linux 9.3 (Blue Onyx)");
    assert_eq!(os.id_like, vec!["rhel", "centos", "fedora"]);
    assert_eq!(package_manager_for(&os), Some(PackageManager::Rpm));

    let odd = parse_os_release("# a comment\nID=alpine\nPRETTY_NAME=\"say \\\"hi\\\" for \\$5 \\\\ \\q\"\nVERSION_ID='3.19.1' # trailing\n  \nnot a line\n");
    assert_eq!(odd.pretty_name, "say \"hi\" for $5 \\ \\q");
    assert_eq!(odd.version_id, "3.19.1");
    assert_eq!(package_manager_for(&odd), Some(PackageManager::Apk));

    let empty = parse_os_release("");
    assert_eq!((empty.id.as_str(), empty.pretty_name.as_str()), ("linux", "Linux"));
    assert_eq!(package_manager_for(&empty), None);
    // Unterminated quotes and stray escapes must not panic.
    let _ = parse_os_release("ID=\"abc\nNAME='x\nX=\\\nY=\"\\");
}

#[test]
fn package_manager_by_id_like() {
    let os = |id: &str, like: &[&str]| OsRelease {
        id: id.into(),
        version_id: String::new(),
        pretty_name: String::new(),
        id_like: like.iter().map(|s| s.to_string()).collect(),
    };
    assert_eq!(package_manager_for(&os("linuxmint", &["ubuntu", "debian"])), Some(PackageManager::Dpkg));
    assert_eq!(package_manager_for(&os("ubuntu", &["debian"])), Some(PackageManager::Dpkg));
    assert_eq!(package_manager_for(&os("almalinux", &["rhel", "centos", "fedora"])), Some(PackageManager::Rpm));
    assert_eq!(package_manager_for(&os("ol", &["fedora"])), Some(PackageManager::Rpm));
    assert_eq!(package_manager_for(&os("arch", &[])), None);
}

fn scratch_root(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("h-agent-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("etc")).unwrap();
    std::fs::create_dir_all(dir.join("usr/lib")).unwrap();
    std::fs::create_dir_all(dir.join("var/lib/dbus")).unwrap();
    dir
}

#[test]
fn os_release_falls_back_to_usr_lib() {
    let root = scratch_root("os");
    std::fs::write(root.join("usr/lib/os-release"), "ID=fedora\nVERSION_ID=40\n").unwrap();
    assert_eq!(read_os_release(&root).unwrap().id, "fedora");
    std::fs::write(root.join("etc/os-release"), "ID=ubuntu\n").unwrap();
    assert_eq!(read_os_release(&root).unwrap().id, "ubuntu");
    std::fs::remove_dir_all(&root).unwrap();
    assert_eq!(read_os_release(&root).unwrap_err().kind(), io::ErrorKind::NotFound);
}

#[test]
fn machine_id_validated_with_dbus_fallback() {
    let root = scratch_root("mid");
    let err = read_machine_id(&root).unwrap_err();
    assert!(err.to_string().contains("etc/machine-id"), "{err}");
    std::fs::write(root.join("etc/machine-id"), "uninitialized\n").unwrap();
    std::fs::write(root.join("var/lib/dbus/machine-id"), "0123456789ABCDEF0123456789abcdef\n").unwrap();
    assert_eq!(read_machine_id(&root).unwrap(), "0123456789abcdef0123456789abcdef");
    std::fs::write(root.join("etc/machine-id"), "fedcba98765432100123456789abcdef\n").unwrap();
    assert_eq!(read_machine_id(&root).unwrap(), "fedcba98765432100123456789abcdef");
    std::fs::write(root.join("etc/machine-id"), "").unwrap();
    std::fs::write(root.join("var/lib/dbus/machine-id"), "0123456789abcdef0123456789abcdeg").unwrap();
    let err = read_machine_id(&root).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert!(err.to_string().contains("not 32 hex digits"), "{err}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn facts_of_this_host() {
    let facts = collect_facts().unwrap();
    assert!(!facts.hostname.is_empty() && !facts.kernel.is_empty());
    assert_eq!(facts.machine_id.len(), 32);
    let ips: Vec<IpAddr> = facts.ips.iter().map(|ip| ip.parse().unwrap()).collect();
    assert!(ips.iter().all(|ip| !ip.is_loopback()), "{ips:?}");
    assert!(ips.windows(2).all(|w| w[0] < w[1]), "sorted and unique: {ips:?}");
    let json = serde_json::to_value(&facts).unwrap();
    assert_eq!(serde_json::from_value::<HostFacts>(json).unwrap(), facts);
}

#[test]
fn dpkg_fixture() {
    let packages = parse_dpkg(include_str!("../../tests/fixtures/agent/dpkg-query.txt")).unwrap();
    let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    // "rc" (removed, config kept), "un" and "iU" (unpacked, not configured) are not installed.
    assert!(!names.contains(&"old-removed") && !names.contains(&"never-installed") && !names.contains(&"half-unpacked"), "{names:?}");
    assert!(names.contains(&"held-package"));
    assert!(names.windows(2).all(|w| w[0] <= w[1]));
    let libssl = packages.iter().find(|p| p.name == "libssl3").unwrap();
    assert_eq!(libssl.source.as_deref(), Some("openssl"));
    assert_eq!(libssl.source_version.as_deref(), Some("3.0.11-1~deb12u2"));
    let bash = packages.iter().find(|p| p.name == "bash").unwrap();
    // binNMU: the binary version differs from its source's.
    assert_eq!((bash.version.as_str(), bash.source.as_deref(), bash.source_version.as_deref()), ("5.2.15-2+b2", Some("bash"), Some("5.2.15-2")));
    let libc: Vec<&str> = packages.iter().filter(|p| p.name == "libc6").map(|p| p.arch.as_str()).collect();
    assert_eq!(libc, ["amd64", "i386"]);
    assert_eq!(packages.iter().filter(|p| p.name == "adduser").count(), 1, "duplicates dropped");
}

#[test]
fn dpkg_errors_name_the_line() {
    let err = parse_dpkg("ii \tbash\t5.2\tamd64\tbash\t5.2\nii \tbroken\t1.0\n").unwrap_err();
    assert_eq!(err.to_string(), "dpkg-query output line 2: expected 6 tab-separated fields, found 3");
    assert!(parse_dpkg("ii \t\t\tamd64\t\t\n").is_err());
    assert_eq!(parse_dpkg("\n\n").unwrap(), vec![]);
    // Multi-byte text must not upset the status check.
    assert_eq!(parse_dpkg("é\tx\t1\tall\tx\t1\n").unwrap(), vec![]);
}

#[tokio::test]
async fn dpkg_on_this_machine() {
    if which("dpkg-query").is_none() {
        eprintln!("no dpkg-query here; skipped");
        return;
    }
    let packages = collect_packages(PackageManager::Dpkg).await.unwrap();
    assert!(packages.len() > 50, "{}", packages.len());
    for name in ["dpkg", "bash"] {
        let p = packages.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(p.source.as_deref(), Some(name));
        assert!(!p.version.is_empty() && !p.arch.is_empty() && p.source_version.is_some(), "{p:?}");
    }
    if let Some(p) = packages.iter().find(|p| p.name == "libc6") {
        assert_eq!(p.source.as_deref(), Some("glibc"));
    }
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|path| std::env::split_paths(&path).map(|d| d.join(program)).find(|p| p.is_file()))
}

#[test]
fn rpm_fixture() {
    let packages = parse_rpm(include_str!("../../tests/fixtures/agent/rpm-qa.txt")).unwrap();
    assert!(packages.iter().all(|p| p.name != "gpg-pubkey"));
    let openssl = packages.iter().find(|p| p.name == "openssl-libs").unwrap();
    assert_eq!(openssl.version, "1:3.0.7-27.el9");
    assert_eq!(openssl.source.as_deref(), Some("openssl"));
    assert_eq!(openssl.source_version.as_deref(), Some("3.0.7-27.el9"));
    let bash = packages.iter().find(|p| p.name == "bash").unwrap();
    assert_eq!(bash.version, "5.1.8-9.el9", "0: epoch dropped");
    let python = packages.iter().find(|p| p.name == "python3-dnf").unwrap();
    assert_eq!(python.source.as_deref(), Some("dnf"));
    let kernels: Vec<&str> = packages.iter().filter(|p| p.name == "kernel-core").map(|p| p.version.as_str()).collect();
    assert_eq!(kernels, ["5.14.0-362.24.1.el9_3", "5.14.0-427.13.1.el9_4"], "both installed kernels kept");
    let names: Vec<(&str, &str)> = packages.iter().map(|p| (p.name.as_str(), p.arch.as_str())).collect();
    assert!(names.windows(2).all(|w| w[0] <= w[1]));
    assert!(packages.iter().any(|p| p.name == "glibc" && p.arch == "i686"));
}

#[test]
fn rpm_errors_and_odd_srpms() {
    let err = parse_rpm("bash\t0:5.1-1\tx86_64\n").unwrap_err();
    assert_eq!(err.to_string(), "rpm output line 1: expected 4 tab-separated fields, found 3");
    let odd = parse_rpm("a\t0:1-1\tnoarch\t(none)\nb\t0:1-1\tnoarch\tweird.src.rpm\nc\t0:1-1\tnoarch\t-1-2.src.rpm\n").unwrap();
    assert!(odd.iter().all(|p| p.source.is_none() && p.source_version.is_none()), "{odd:?}");
}

#[test]
fn apk_fixture() {
    let packages = parse_apk_installed(include_str!("../../tests/fixtures/agent/apk-installed")).unwrap();
    let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["alpine-baselayout", "alpine-baselayout-data", "busybox", "libcrypto3", "libssl3", "musl"]);
    let libssl = packages.iter().find(|p| p.name == "libssl3").unwrap();
    assert_eq!(
        *libssl,
        Package {
            name: "libssl3".into(),
            version: "3.1.4-r5".into(),
            arch: "x86_64".into(),
            source: Some("openssl".into()),
            source_version: Some("3.1.4-r5".into())
        }
    );
}

#[test]
fn apk_errors() {
    let err = parse_apk_installed("P:musl\nV:1.2.4-r2\n\nP:broken\nA:x86_64\n").unwrap_err();
    assert_eq!(err.to_string(), "apk database line 4: package entry without both P: and V:");
    let err = parse_apk_installed("P:musl\nno colon here\n").unwrap_err();
    assert_eq!(err.to_string(), "apk database line 2: expected KEY:value");
    assert_eq!(parse_apk_installed("").unwrap(), vec![]);
}

#[test]
fn package_json_leaves_out_absent_sources() {
    let p = Package { name: "a".into(), version: "1".into(), arch: "all".into(), source: None, source_version: None };
    assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"name":"a","version":"1","arch":"all"}"#);
    assert_eq!(serde_json::from_str::<Package>(r#"{"name":"a","version":"1","arch":"all"}"#).unwrap(), p);
    assert_eq!(serde_json::to_string(&PackageManager::Dpkg).unwrap(), r#""dpkg""#);
}

#[test]
fn bounded_keeps_head_and_tail() {
    let mut b = Bounded::new(10);
    b.push(b"0123");
    b.push(b"456789");
    assert_eq!((b.omitted(), b.render().as_str()), (0, "0123456789"));
    b.push(b"abc");
    assert_eq!(b.omitted(), 3);
    let text = Bounded { limit: 100, head: b"head".to_vec(), tail: b"tail".iter().copied().collect(), omitted: 7 }.render();
    assert_eq!(text, "head\n… 7 bytes omitted …\ntail");
    // A cut through a multi-byte character leaves no broken character at the tail's start.
    let mut b = Bounded::new(100);
    b.push(b"x");
    b.push(&"é".repeat(200).into_bytes());
    let text = b.render();
    assert!(text.len() <= 100 && !text.contains('\u{fffd}'), "{text}");
}

#[tokio::test]
async fn run_bounded_reports_exit_and_stderr() {
    let argv = ["sh", "-c", "echo out; echo err >&2; exit 3"].map(String::from);
    let run = run_bounded(&argv, &[], Duration::from_secs(10), Capture::Separate(1024)).await.unwrap();
    assert_eq!((run.exit_code, run.timed_out), (Some(3), false));
    assert_eq!((run.stdout.render().as_str(), run.stderr.render().as_str()), ("out\n", "err\n"));
    let err = list_command(&argv).await.unwrap_err();
    assert_eq!(err.to_string(), "sh exited with 3: err");
    let missing = run_bounded(&["/nonexistent/tool".to_string()], &[], Duration::from_secs(1), Capture::Separate(1)).await.unwrap_err();
    assert!(missing.to_string().starts_with("cannot run /nonexistent/tool: "), "{missing}");
    assert!(run_bounded(&[], &[], Duration::from_secs(1), Capture::Separate(1)).await.is_err());
}

#[tokio::test]
async fn merged_output_keeps_the_order_it_was_written_in() {
    let script = "for i in 1 2 3 4 5 6 7 8 9 10; do echo out $i; echo err $i >&2; done; exit 3";
    let argv: Vec<String> = ["sh", "-c", script].map(String::from).to_vec();
    let run = run_bounded(&argv, &[], Duration::from_secs(10), Capture::Merged(64 * 1024)).await.unwrap();
    let expected: String = (1..=10).map(|i| format!("out {i}\nerr {i}\n")).collect();
    assert_eq!(run.stdout.render(), expected);
    assert_eq!(run.stderr.render(), "");
    assert_eq!(run.exit_code, Some(3));
}

#[tokio::test]
async fn run_bounded_times_out() {
    let started = std::time::Instant::now();
    let run = run_bounded(&["sleep".to_string(), "5".to_string()], &[], Duration::from_millis(200), Capture::Separate(1024)).await.unwrap();
    assert!(run.timed_out);
    assert_eq!(run.exit_code, None);
    assert!(run.signal.is_some());
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test]
async fn run_bounded_kills_the_whole_group() {
    let argv = ["sh", "-c", "sleep 30 & echo $!; wait"].map(String::from);
    let started = std::time::Instant::now();
    let run = run_bounded(&argv, &[], Duration::from_millis(300), Capture::Merged(1024)).await.unwrap();
    assert!(run.timed_out);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    let background: u32 = run.stdout.render().trim().parse().unwrap();
    let alive = || {
        std::fs::read_to_string(format!("/proc/{background}/stat"))
            .is_ok_and(|stat| stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
    };
    for _ in 0..40 {
        if !alive() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the background sleep {background} survived the timeout");
}

#[tokio::test]
async fn run_bounded_does_not_wait_for_daemons() {
    // A finished command whose background child keeps stdout open: the exit counts.
    let argv = ["sh", "-c", "sleep 6 & echo started"].map(String::from);
    let started = std::time::Instant::now();
    let run = run_bounded(&argv, &[], Duration::from_secs(20), Capture::Merged(1024)).await.unwrap();
    assert_eq!((run.exit_code, run.timed_out), (Some(0), false));
    assert_eq!(run.stdout.render(), "started\n");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}
