//! Carrying out a fix job: upgrading named packages (or simulating it) with the host's package
//! manager, unattended and bounded in time and output, and reading back what changed.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::host::{run_bounded, Capture, HostError, PackageManager};

#[derive(Debug, Clone)]
pub struct FixRequest {
    pub packages: Vec<String>,
    pub simulate: bool,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[derive(utoipa::ToSchema)]
pub struct FixOutcome {
    /// The argv actually run (or that would have run, when validation refused it).
    pub command: Vec<String>,
    /// None when it was killed (timeout, signal) or never started.
    pub exit_code: Option<i32>,
    /// stdout and stderr in arrival order, at most 64 KiB: head and tail around a marker.
    pub output: String,
    pub timed_out: bool,
    pub simulated: bool,
    pub changes: Vec<PlannedChange>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[derive(utoipa::ToSchema)]
pub struct PlannedChange {
    pub package: String,
    /// None for a package newly installed (or, with dnf 4, whose old version the table omits).
    pub from: Option<String>,
    pub to: String,
}

const OUTPUT_LIMIT: usize = 64 * 1024;
const MAX_NAME: usize = 128;

/// Accepts `[a-zA-Z0-9][a-zA-Z0-9+._-]*` (at most 128 bytes) with an optional `:arch`. Everything
/// else is refused, above all a leading `-` that the package manager would read as an option.
/// Upper case is allowed because rpm names have it (`NetworkManager`, `perl-Digest-MD5`).
pub fn validate_package_name(name: &str) -> Result<(), String> {
    let (base, arch) = match name.split_once(':') {
        Some((base, arch)) => (base, Some(arch)),
        None => (name, None),
    };
    let first_ok = base.starts_with(|c: char| c.is_ascii_alphanumeric());
    let rest_ok = base.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '_' | '-'));
    if base.is_empty() {
        return Err(format!("{name:?} is not a package name: the name is empty"));
    }
    if base.len() > MAX_NAME {
        return Err(format!("package name {:?}… is longer than {MAX_NAME} characters", prefix(base, 32)));
    }
    if !first_ok || !rest_ok {
        return Err(format!("{name:?} is not a package name: it must start with a letter or digit and hold only letters, digits and + . _ -"));
    }
    // apt-get reads "name-" as "remove name".
    if base.ends_with('-') {
        return Err(format!("{name:?} is not a package name: it ends with '-'"));
    }
    if let Some(arch) = arch {
        let arch_ok = arch.len() <= 32
            && arch.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && arch.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'));
        if !arch_ok {
            return Err(format!("{name:?} is not a package name: bad architecture after ':'"));
        }
    }
    Ok(())
}

fn prefix(text: &str, max: usize) -> &str {
    text.char_indices().nth(max).map_or(text, |(end, _)| &text[..end])
}

/// The argv that upgrades (or simulates upgrading) exactly the requested packages.
pub fn command_for(pm: PackageManager, req: &FixRequest) -> Vec<String> {
    let base: &[&str] = match (pm, req.simulate) {
        (PackageManager::Dpkg, false) => &["apt-get", "install", "--only-upgrade", "-y", "-q", "-o", "Dpkg::Options::=--force-confold"],
        (PackageManager::Dpkg, true) => &["apt-get", "-s", "install", "--only-upgrade"],
        (PackageManager::Rpm, false) => &["dnf", "upgrade", "-y"],
        (PackageManager::Rpm, true) => &["dnf", "upgrade", "--assumeno"],
        (PackageManager::Apk, false) => &["apk", "upgrade", "--no-interactive"],
        (PackageManager::Apk, true) => &["apk", "upgrade", "--simulate"],
    };
    base.iter().map(|s| s.to_string()).chain(req.packages.iter().cloned()).collect()
}

/// Runs the fix and reports what happened; never panics, and runs nothing when a name is invalid.
/// Where dnf is missing, yum (same arguments) runs instead. dnf's `--assumeno` ends a simulation
/// with exit 1 and "Operation aborted": that is recorded as exit 0, a successful simulation.
pub async fn run_fix(pm: PackageManager, req: &FixRequest) -> FixOutcome {
    let command = command_for(pm, req);
    // Every one of these package managers upgrades everything when given no names.
    let refusal = if req.packages.is_empty() {
        Some("no packages named: refusing to upgrade everything".to_string())
    } else {
        req.packages.iter().find_map(|name| validate_package_name(name).err())
    };
    if let Some(error) = refusal {
        return FixOutcome {
            command,
            exit_code: None,
            output: String::new(),
            timed_out: false,
            simulated: req.simulate,
            changes: Vec::new(),
            error: Some(error),
        };
    }
    run_command(pm, command, req).await
}

async fn run_command(pm: PackageManager, mut command: Vec<String>, req: &FixRequest) -> FixOutcome {
    let env = [
        ("DEBIAN_FRONTEND", "noninteractive"),
        ("LC_ALL", "C"),
        // Neither may stop for a question: apt-listchanges' pager, needrestart's service menu.
        ("APT_LISTCHANGES_FRONTEND", "none"),
        ("NEEDRESTART_MODE", "l"),
    ];
    let mut run = run_bounded(&command, &env, req.timeout, Capture::Merged(OUTPUT_LIMIT)).await;
    let dnf_missing = matches!(&run, Err(HostError::Spawn { source, .. }) if source.kind() == std::io::ErrorKind::NotFound);
    if pm == PackageManager::Rpm && command.first().is_some_and(|p| p == "dnf") && dnf_missing {
        command[0] = "yum".into();
        run = run_bounded(&command, &env, req.timeout, Capture::Merged(OUTPUT_LIMIT)).await;
    }
    let program = command.first().cloned().unwrap_or_default();
    let mut outcome = FixOutcome {
        command,
        exit_code: None,
        output: String::new(),
        timed_out: false,
        simulated: req.simulate,
        changes: Vec::new(),
        error: None,
    };
    let run = match run {
        Ok(run) => run,
        Err(error) => {
            outcome.error = Some(error.to_string());
            return outcome;
        }
    };
    outcome.output = run.stdout.render();
    outcome.timed_out = run.timed_out;
    outcome.exit_code = run.exit_code;
    outcome.changes = match (pm, req.simulate) {
        (PackageManager::Dpkg, true) => parse_apt_simulation(&outcome.output),
        (PackageManager::Dpkg, false) => parse_dpkg_unpacking(&outcome.output),
        // dnf prints the same table before a real transaction, apk the same progress lines.
        (PackageManager::Rpm, _) => parse_dnf_simulation(&outcome.output),
        (PackageManager::Apk, _) => parse_apk_simulation(&outcome.output),
    };
    let declined = pm == PackageManager::Rpm
        && req.simulate
        && run.exit_code == Some(1)
        && (outcome.output.contains("Operation aborted") || outcome.output.contains("Exiting on user command"));
    if declined {
        outcome.exit_code = Some(0);
    }
    outcome.error = match (outcome.exit_code, run.timed_out) {
        (_, true) => Some(HostError::Timeout { program, timeout: req.timeout }.to_string()),
        (Some(0), _) => None,
        (Some(code), _) => Some(HostError::Exit { program, code, detail: error_line(&outcome.output) }.to_string()),
        (None, _) => Some(HostError::Signal { program, signal: run.signal.unwrap_or(0) }.to_string()),
    };
    outcome
}

/// The line that best explains a failure: the last one the tools mark as an error, else the last.
fn error_line(output: &str) -> String {
    let lines = || output.lines().map(str::trim).filter(|l| !l.is_empty());
    lines()
        .rev()
        .find(|l| l.starts_with("E:") || l.starts_with("Error") || l.starts_with("ERROR"))
        .or_else(|| lines().next_back())
        .unwrap_or("no output")
        .to_string()
}

fn without_zero_epoch(version: &str) -> String {
    version.strip_prefix("0:").unwrap_or(version).to_string()
}

/// Reads apt-get's simulation: `Inst openssl [3.0.11-1~deb12u1] (3.0.13-1~deb12u1 Debian:12.5/stable [amd64])`
/// is an upgrade; without the `[old]` part it is a new install.
pub fn parse_apt_simulation(output: &str) -> Vec<PlannedChange> {
    output
        .lines()
        .filter_map(|line| {
            let (package, rest) = line.strip_prefix("Inst ")?.split_once(' ')?;
            let rest = rest.trim_start();
            let (from, rest) = match rest.strip_prefix('[') {
                Some(bracketed) => {
                    let (from, rest) = bracketed.split_once(']')?;
                    (Some(from.to_string()), rest.trim_start())
                }
                None => (None, rest),
            };
            let to = rest.strip_prefix('(')?.split_whitespace().next()?.trim_end_matches(')');
            (!package.is_empty() && !to.is_empty()).then(|| PlannedChange { package: package.into(), from, to: to.into() })
        })
        .collect()
}

/// Reads what dpkg did in a real apt-get run: `Unpacking openssl (3.0.13-1~deb12u1) over (3.0.11-1~deb12u1) ...`,
/// or without `over (…)` for a new package.
fn parse_dpkg_unpacking(output: &str) -> Vec<PlannedChange> {
    output
        .lines()
        .filter_map(|line| {
            let (package, rest) = line.strip_prefix("Unpacking ")?.split_once(" (")?;
            let (to, rest) = rest.split_once(')')?;
            let from = rest.trim_start().strip_prefix("over (").and_then(|r| r.split_once(')')).map(|(v, _)| v.to_string());
            (!package.is_empty() && !to.is_empty()).then(|| PlannedChange { package: package.into(), from, to: to.into() })
        })
        .collect()
}

/// Reads the "Upgrading:" section of dnf's (or yum's "Updating:") transaction table. dnf 5 adds
/// `replacing` rows with the installed version; dnf 4's table has none, so `from` stays None.
pub fn parse_dnf_simulation(output: &str) -> Vec<PlannedChange> {
    let mut changes: Vec<PlannedChange> = Vec::new();
    let mut in_section = false;
    // A name too wide for its column gets a row of its own; the rest follows on the next row.
    let mut wrapped_name: Option<&str> = None;
    for line in output.lines() {
        if !line.starts_with(' ') {
            in_section = matches!(line.trim_end(), "Upgrading:" | "Updating:");
            wrapped_name = None;
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if !in_section || fields.is_empty() {
            continue;
        }
        if fields[0] == "replacing" {
            let (name, evr) = match fields[..] {
                [_, name, _arch, evr, ..] => (name, evr),
                [_, name_arch, evr] => (name_arch.rsplit_once('.').map_or(name_arch, |(name, _)| name), evr),
                _ => continue,
            };
            if let Some(last) = changes.last_mut().filter(|c| c.package == name && c.from.is_none()) {
                last.from = Some(without_zero_epoch(evr));
            }
            continue;
        }
        let (name, evr) = match (wrapped_name.take(), &fields[..]) {
            (None, [name]) => {
                wrapped_name = Some(name);
                continue;
            }
            (Some(name), [_arch, evr, ..]) => (name, *evr),
            (None, [name, _arch, evr, _repo, ..]) => (*name, *evr),
            _ => continue,
        };
        changes.push(PlannedChange { package: name.into(), from: None, to: without_zero_epoch(evr) });
    }
    changes
}

/// Reads apk's progress lines: `(1/2) Upgrading musl (1.2.4-r1 -> 1.2.4-r2)`, `(2/2) Installing foo (1.0-r0)`.
pub fn parse_apk_simulation(output: &str) -> Vec<PlannedChange> {
    output
        .lines()
        .filter_map(|line| {
            let (_, rest) = line.trim().strip_prefix('(')?.split_once(") ")?;
            let (verb, rest) = rest.split_once(' ')?;
            if !matches!(verb, "Upgrading" | "Downgrading" | "Installing" | "Replacing") {
                return None;
            }
            let (package, versions) = rest.split_once(" (")?;
            let versions = versions.strip_suffix(')')?;
            let (from, to) = match versions.split_once(" -> ") {
                Some((from, to)) => (Some(from.to_string()), to),
                None => (None, versions),
            };
            (!package.is_empty() && !to.is_empty()).then(|| PlannedChange { package: package.into(), from, to: to.into() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(package: &str, from: Option<&str>, to: &str) -> PlannedChange {
        PlannedChange { package: package.into(), from: from.map(str::to_string), to: to.into() }
    }

    fn request(packages: &[&str], simulate: bool) -> FixRequest {
        FixRequest { packages: packages.iter().map(|s| s.to_string()).collect(), simulate, timeout: Duration::from_secs(60) }
    }

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn package_names() {
        for good in ["openssl", "libssl3", "g++", "libstdc++6", "python3.11", "libc6:i386", "NetworkManager", "perl-Digest-MD5", "kernel-core", "0ad", "py3-typing_extensions"] {
            assert_eq!(validate_package_name(good), Ok(()), "{good}");
        }
        let long = "a".repeat(129);
        for bad in [
            "", "-y", "--allow-unauthenticated", "-oAPT::Get::AllowUnauthenticated=1", "foo bar", "foo;rm", "$(id)", "`id`", "a|b", "a&b", "a>b", "foo\n",
            "pkg-", "foo/bookworm", "foo=1.0", "foo*", "a:", "a:b:c", "a:AMD64", ":amd64", "é", ".hidden", "+x", long.as_str(),
        ] {
            assert!(validate_package_name(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(validate_package_name(&"b".repeat(128)), Ok(()));
        assert!(validate_package_name(&"é".repeat(200)).unwrap_err().contains("longer than 128"));
    }

    #[test]
    fn commands() {
        let req = request(&["openssl", "libssl3"], false);
        assert_eq!(
            command_for(PackageManager::Dpkg, &req),
            argv(&["apt-get", "install", "--only-upgrade", "-y", "-q", "-o", "Dpkg::Options::=--force-confold", "openssl", "libssl3"])
        );
        assert_eq!(command_for(PackageManager::Rpm, &req), argv(&["dnf", "upgrade", "-y", "openssl", "libssl3"]));
        assert_eq!(command_for(PackageManager::Apk, &req), argv(&["apk", "upgrade", "--no-interactive", "openssl", "libssl3"]));
        let sim = request(&["openssl"], true);
        assert_eq!(command_for(PackageManager::Dpkg, &sim), argv(&["apt-get", "-s", "install", "--only-upgrade", "openssl"]));
        assert_eq!(command_for(PackageManager::Rpm, &sim), argv(&["dnf", "upgrade", "--assumeno", "openssl"]));
        assert_eq!(command_for(PackageManager::Apk, &sim), argv(&["apk", "upgrade", "--simulate", "openssl"]));
    }

    #[tokio::test]
    async fn invalid_names_run_nothing() {
        for packages in [&["openssl", "-oDebug::pkgProblemResolver=1"][..], &["$(reboot)"], &[]] {
            let outcome = run_fix(PackageManager::Dpkg, &request(packages, false)).await;
            assert_eq!((outcome.exit_code, outcome.timed_out, outcome.output.as_str()), (None, false, ""));
            assert!(outcome.error.is_some());
            assert_eq!(outcome.command[..3], argv(&["apt-get", "install", "--only-upgrade"])[..]);
        }
        let outcome = run_fix(PackageManager::Rpm, &request(&[], true)).await;
        assert_eq!(outcome.error.as_deref(), Some("no packages named: refusing to upgrade everything"));
    }

    #[test]
    fn apt_simulation_as_root() {
        // Captured on Debian 12 as root: no "NOTE: This is only a simulation!" banner.
        let changes = parse_apt_simulation(include_str!("../../tests/fixtures/agent/apt-simulate-root.txt"));
        assert_eq!(
            changes,
            [
                change("libssl-dev", Some("3.0.19-1~deb12u2"), "3.0.22-1~deb12u2"),
                change("libssl3", Some("3.0.19-1~deb12u2"), "3.0.22-1~deb12u2"),
                change("openssl", Some("3.0.19-1~deb12u2"), "3.0.22-1~deb12u2"),
            ]
        );
    }

    #[test]
    fn apt_simulation_as_user_with_new_package() {
        let changes = parse_apt_simulation(include_str!("../../tests/fixtures/agent/apt-simulate-user.txt"));
        assert_eq!(
            changes,
            [
                change("linux-image-6.1.0-21-amd64", None, "6.1.90-1"),
                change("linux-image-amd64", Some("6.1.85-1"), "6.1.90-1"),
                change("libc6:i386", Some("2.36-9+deb12u4"), "2.36-9+deb12u7"),
            ]
        );
        assert_eq!(parse_apt_simulation("Inst\nInst x\nInst x [1.0\nInst x (\nInst  ()\n"), []);
    }

    #[test]
    fn apt_real_run() {
        let changes = parse_dpkg_unpacking(include_str!("../../tests/fixtures/agent/apt-install.txt"));
        assert_eq!(
            changes,
            [change("openssl", Some("3.0.11-1~deb12u2"), "3.0.13-1~deb12u1"), change("libssl3:amd64", Some("3.0.11-1~deb12u2"), "3.0.13-1~deb12u1")]
        );
    }

    #[test]
    fn dnf4_table() {
        let changes = parse_dnf_simulation(include_str!("../../tests/fixtures/agent/dnf4-assumeno.txt"));
        assert_eq!(
            changes,
            [
                change("openssl", None, "1:3.0.7-28.el9_4"),
                change("openssl-libs", None, "1:3.0.7-28.el9_4"),
                change("python3-libselinux-with-a-very-long-name", None, "3.6-1.el9"),
            ]
        );
    }

    #[test]
    fn dnf5_table() {
        let changes = parse_dnf_simulation(include_str!("../../tests/fixtures/agent/dnf5-assumeno.txt"));
        assert_eq!(
            changes,
            [change("curl", Some("8.9.1-2.fc41"), "8.9.1-3.fc41"), change("libcurl", Some("8.9.1-2.fc41"), "8.9.1-3.fc41")]
        );
    }

    #[test]
    fn yum_table() {
        let changes = parse_dnf_simulation(include_str!("../../tests/fixtures/agent/yum-assumeno.txt"));
        assert_eq!(changes, [change("bash", None, "4.2.46-35.el7_9")]);
    }

    #[test]
    fn apk_simulation() {
        let changes = parse_apk_simulation(include_str!("../../tests/fixtures/agent/apk-simulate.txt"));
        assert_eq!(
            changes,
            [
                change("musl", Some("1.2.4_git20230717-r4"), "1.2.4_git20230717-r5"),
                change("libcrypto3", Some("3.1.4-r5"), "3.1.7-r1"),
                change("libssl3", Some("3.1.4-r5"), "3.1.7-r1"),
                change("ca-certificates-bundle", None, "20240705-r0"),
            ]
        );
        assert_eq!(parse_apk_simulation("(\n(1/1) \n(1/1) Upgrading x\n(1/1) Upgrading x (\n"), []);
    }

    #[tokio::test]
    async fn apt_simulation_on_this_machine() {
        if !std::path::Path::new("/usr/bin/apt-get").exists() {
            eprintln!("no apt-get here; skipped");
            return;
        }
        let outcome = run_fix(PackageManager::Dpkg, &request(&["bash"], true)).await;
        assert_eq!(outcome.exit_code, Some(0), "{outcome:?}");
        assert!(outcome.simulated && !outcome.timed_out && outcome.error.is_none(), "{outcome:?}");
        assert_eq!(outcome.command[..2], argv(&["apt-get", "-s"])[..]);
        assert!(outcome.output.contains("Reading package lists"), "{}", outcome.output);
        // bash is installed, so either an upgrade is planned or it is already the newest.
        assert!(outcome.changes.iter().all(|c| c.package == "bash" && c.from.is_some()), "{:?}", outcome.changes);
        let json = serde_json::to_string(&outcome).unwrap();
        assert_eq!(serde_json::from_str::<FixOutcome>(&json).unwrap(), outcome);
    }

    #[tokio::test]
    async fn yum_when_dnf_is_missing() {
        if std::path::Path::new("/usr/bin/dnf").exists() || std::path::Path::new("/usr/bin/yum").exists() {
            return;
        }
        let outcome = run_fix(PackageManager::Rpm, &request(&["bash"], true)).await;
        assert_eq!(outcome.command, argv(&["yum", "upgrade", "--assumeno", "bash"]));
        assert!(outcome.error.as_deref().is_some_and(|e| e.starts_with("cannot run yum: ")), "{outcome:?}");
        assert_eq!(outcome.exit_code, None);
    }

    #[tokio::test]
    async fn timeout_kills_and_says_so() {
        let req = FixRequest { packages: vec!["x".into()], simulate: false, timeout: Duration::from_millis(200) };
        let started = std::time::Instant::now();
        let outcome = run_command(PackageManager::Dpkg, argv(&["sleep", "5"]), &req).await;
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(outcome.timed_out);
        assert_eq!(outcome.exit_code, None);
        assert_eq!(outcome.error.as_deref(), Some("sleep did not finish within 200ms and was killed"));
    }

    #[tokio::test]
    async fn output_is_bounded() {
        let script = "i=0; while [ $i -lt 3000 ]; do echo \"line $i of a long upgrade log\"; i=$((i+1)); done; echo 'E: the end' >&2; exit 100";
        let outcome = run_command(PackageManager::Dpkg, argv(&["sh", "-c", script]), &request(&["x"], false)).await;
        assert!(outcome.output.len() <= 64 * 1024, "{}", outcome.output.len());
        assert!(outcome.output.starts_with("line 0 of a long upgrade log\n"));
        assert!(outcome.output.contains(" bytes omitted …\n"));
        // stdout and stderr share one pipe: the output keeps the order they were written in.
        assert!(outcome.output.ends_with("line 2999 of a long upgrade log\nE: the end\n"), "{}", &outcome.output[outcome.output.len() - 200..]);
        assert_eq!(outcome.exit_code, Some(100));
        assert_eq!(outcome.error.as_deref(), Some("sh exited with 100: E: the end"));
    }

    #[tokio::test]
    async fn dnf_declined_simulation_counts_as_success() {
        let script = format!("cat <<'EOF'\n{}EOF\nexit 1", include_str!("../../tests/fixtures/agent/dnf4-assumeno.txt"));
        let outcome = run_command(PackageManager::Rpm, argv(&["sh", "-c", &script]), &request(&["openssl"], true)).await;
        assert_eq!((outcome.exit_code, outcome.error.as_deref()), (Some(0), None));
        assert_eq!(outcome.changes.len(), 3);
        // Not for a real run: there exit 1 is a failure.
        let outcome = run_command(PackageManager::Rpm, argv(&["sh", "-c", &script]), &request(&["openssl"], false)).await;
        assert_eq!(outcome.exit_code, Some(1));
        assert_eq!(outcome.error.as_deref(), Some("sh exited with 1: Operation aborted."));
    }
}
