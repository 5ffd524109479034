//! What the agent reports about its host: identity (os-release, machine id, kernel, addresses) and
//! the installed packages as dpkg, rpm or apk record them, read through bounded, timed commands.

use std::collections::VecDeque;
use std::io;
use std::net::IpAddr;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use tokio::time::Instant;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[derive(utoipa::ToSchema)]
pub struct OsRelease {
    pub id: String,
    pub version_id: String,
    pub pretty_name: String,
    pub id_like: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
#[derive(utoipa::ToSchema)]
pub enum PackageManager {
    Dpkg,
    Rpm,
    Apk,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[derive(utoipa::ToSchema)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub arch: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[derive(utoipa::ToSchema)]
pub struct HostFacts {
    pub hostname: String,
    pub machine_id: String,
    pub os: OsRelease,
    pub kernel: String,
    pub ips: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: io::Error,
    },
    #[error("{program} exited with {code}: {detail}")]
    Exit { program: String, code: i32, detail: String },
    #[error("{program} was killed by signal {signal}")]
    Signal { program: String, signal: i32 },
    #[error("{program} did not finish within {timeout:?} and was killed")]
    Timeout { program: String, timeout: Duration },
    #[error("{program} printed more than {limit} bytes")]
    TooMuchOutput { program: String, limit: usize },
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{input} line {line}: {message}")]
    Parse { input: &'static str, line: usize, message: String },
    #[error("{0} listed no installed packages")]
    NoPackages(&'static str),
}

/// How long an inventory command may run.
const COLLECT_TIMEOUT: Duration = Duration::from_secs(60);
/// A package list beyond this is not a package list (a few thousand packages print ~1 MB).
const LIST_LIMIT: usize = 32 * 1024 * 1024;
/// Enough stderr to explain a failure.
const STDERR_LIMIT: usize = 16 * 1024;
/// After the command exits, how long pipes that a background process inherited may stay open.
const PIPE_GRACE: Duration = Duration::from_secs(2);
/// Between asking the process group to stop and forcing it.
const KILL_GRACE: Duration = Duration::from_secs(3);

const DPKG_FORMAT: &str = "${db:Status-Abbrev}\\t${Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\t${source:Version}\\n";
const RPM_FORMAT: &str = "%{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\n";
const APK_DB: &str = "/lib/apk/db/installed";

/// Parses `/etc/os-release`: shell-style `KEY=value` lines whose values may be quoted and escaped.
/// Missing keys take the defaults os-release(5) gives (`ID=linux`, `PRETTY_NAME=Linux`).
pub fn parse_os_release(text: &str) -> OsRelease {
    let mut os = OsRelease { id: "linux".into(), version_id: String::new(), pretty_name: "Linux".into(), id_like: Vec::new() };
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else { continue };
        let value = shell_unquote(raw);
        match key.trim() {
            "ID" => os.id = value,
            "VERSION_ID" => os.version_id = value,
            "PRETTY_NAME" => os.pretty_name = value,
            "ID_LIKE" => os.id_like = value.split_whitespace().map(str::to_string).collect(),
            _ => {}
        }
    }
    os
}

/// The value of a shell assignment: `"…"` honours `\"`, `\\`, `\$` and `` \` ``, `'…'` is literal,
/// and unquoted whitespace ends the value (so a trailing `# comment` is dropped).
fn shell_unquote(raw: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut chars = raw.trim_start().chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => out.push(c),
            (Some(_), '\\') => match chars.next() {
                Some(next @ ('"' | '\\' | '$' | '`')) => out.push(next),
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            },
            (None, '\\') => out.extend(chars.next()),
            (None, c) if c.is_whitespace() => break,
            (_, c) => out.push(c),
        }
    }
    out
}

fn read_with_path(path: &Path) -> io::Result<String> {
    std::fs::read_to_string(path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// Reads `root/etc/os-release`, or `root/usr/lib/os-release` where the former is missing.
pub fn read_os_release(root: &Path) -> io::Result<OsRelease> {
    match read_with_path(&root.join("etc/os-release")) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => read_with_path(&root.join("usr/lib/os-release")),
        other => other,
    }
    .map(|text| parse_os_release(&text))
}

/// Reads the machine id from `root/etc/machine-id`, else from D-Bus's copy; it must be 32 hex digits
/// (an empty file or `uninitialized` during first boot is not an id).
pub fn read_machine_id(root: &Path) -> io::Result<String> {
    let mut failures = Vec::new();
    for path in [root.join("etc/machine-id"), root.join("var/lib/dbus/machine-id")] {
        match read_with_path(&path) {
            Ok(text) => {
                let id = text.trim();
                if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Ok(id.to_ascii_lowercase());
                }
                failures.push(format!("{}: not 32 hex digits", path.display()));
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    Err(io::Error::new(io::ErrorKind::InvalidData, format!("no machine id ({})", failures.join("; "))))
}

fn first_readable(paths: &[&str]) -> io::Result<String> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no path given");
    for path in paths {
        match read_with_path(Path::new(path)) {
            Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_string()),
            Ok(_) => last = io::Error::new(io::ErrorKind::InvalidData, format!("{path} is empty")),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// This host's identity as the console shows it.
pub fn collect_facts() -> io::Result<HostFacts> {
    let hostname = first_readable(&["/proc/sys/kernel/hostname", "/etc/hostname"])?;
    let kernel = first_readable(&["/proc/sys/kernel/osrelease"])?;
    let root = Path::new("/");
    let interfaces = if_addrs::get_if_addrs().map_err(|e| io::Error::new(e.kind(), format!("listing network interfaces: {e}")))?;
    // if-addrs already leaves out IPv6 link-local (fe80::/10) addresses, which every interface has.
    let mut ips: Vec<IpAddr> = interfaces.iter().map(|i| i.ip()).filter(|ip| !ip.is_loopback() && !ip.is_unspecified()).collect();
    ips.sort();
    ips.dedup();
    Ok(HostFacts {
        hostname,
        machine_id: read_machine_id(root)?,
        os: read_os_release(root)?,
        kernel,
        ips: ips.iter().map(IpAddr::to_string).collect(),
    })
}

/// The package manager of a distribution, by its `ID` first, then by the families in `ID_LIKE`.
pub fn package_manager_for(os: &OsRelease) -> Option<PackageManager> {
    std::iter::once(&os.id).chain(&os.id_like).find_map(|id| match id.to_ascii_lowercase().as_str() {
        "debian" | "ubuntu" => Some(PackageManager::Dpkg),
        "rhel" | "rocky" | "almalinux" | "centos" | "fedora" => Some(PackageManager::Rpm),
        "alpine" => Some(PackageManager::Apk),
        _ => None,
    })
}

/// The installed packages, sorted by name and architecture.
pub async fn collect_packages(pm: PackageManager) -> Result<Vec<Package>, HostError> {
    let (packages, source) = match pm {
        PackageManager::Dpkg => {
            let argv = ["dpkg-query", "-W", &format!("-f={DPKG_FORMAT}")].map(String::from);
            (parse_dpkg(&list_command(&argv).await?)?, "dpkg-query")
        }
        PackageManager::Rpm => {
            let argv = ["rpm", "-qa", "--qf", RPM_FORMAT].map(String::from);
            (parse_rpm(&list_command(&argv).await?)?, "rpm")
        }
        PackageManager::Apk => {
            let bytes = std::fs::read(APK_DB).map_err(|source| HostError::Read { path: APK_DB.into(), source })?;
            (parse_apk_installed(&String::from_utf8_lossy(&bytes))?, APK_DB)
        }
    };
    // An empty inventory would read as "everything was fixed" on the console: refuse it.
    if packages.is_empty() {
        return Err(HostError::NoPackages(source));
    }
    Ok(packages)
}

/// Runs a listing command and returns its whole stdout, or says why it failed.
async fn list_command(argv: &[String]) -> Result<String, HostError> {
    let program = argv.first().cloned().unwrap_or_default();
    let run = run_bounded(argv, &[("LC_ALL", "C")], COLLECT_TIMEOUT, Capture::Separate(LIST_LIMIT)).await?;
    if run.timed_out {
        return Err(HostError::Timeout { program, timeout: COLLECT_TIMEOUT });
    }
    match (run.exit_code, run.signal) {
        (Some(0), _) => {}
        (Some(code), _) => {
            let stderr = String::from_utf8_lossy(&run.stderr.into_bytes()).into_owned();
            let detail = stderr.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("no error output").to_string();
            return Err(HostError::Exit { program, code, detail });
        }
        (None, signal) => return Err(HostError::Signal { program, signal: signal.unwrap_or(0) }),
    }
    if run.stdout.omitted() > 0 {
        return Err(HostError::TooMuchOutput { program, limit: LIST_LIMIT });
    }
    Ok(String::from_utf8_lossy(&run.stdout.into_bytes()).into_owned())
}

fn parse_error(input: &'static str, line: usize, message: impl Into<String>) -> HostError {
    HostError::Parse { input, line, message: message.into() }
}

/// Sorts by name, architecture and version, and drops exact duplicates. Several versions of one
/// name and architecture stay: rpm keeps e.g. more than one kernel installed side by side.
fn sorted(mut packages: Vec<Package>) -> Vec<Package> {
    packages.sort_by(|a, b| (&a.name, &a.arch, &a.version).cmp(&(&b.name, &b.arch, &b.version)));
    packages.dedup();
    packages
}

/// Parses `dpkg-query -W -f='${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n'`,
/// keeping the packages whose status (second letter) is installed.
pub fn parse_dpkg(output: &str) -> Result<Vec<Package>, HostError> {
    const INPUT: &str = "dpkg-query output";
    let mut packages = Vec::new();
    for (index, line) in output.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [status, name, version, arch, source, source_version] = fields[..] else {
            return Err(parse_error(INPUT, index + 1, format!("expected 6 tab-separated fields, found {}", fields.len())));
        };
        // "ii " is installed; "rc " (config files left), "un " (unknown) and "iU " (unpacked) are not.
        if status.as_bytes().get(1) != Some(&b'i') {
            continue;
        }
        if name.is_empty() || version.is_empty() {
            return Err(parse_error(INPUT, index + 1, "installed package without a name or version"));
        }
        packages.push(Package {
            name: name.into(),
            version: version.into(),
            arch: arch.into(),
            source: Some(if source.is_empty() { name } else { source }.into()),
            source_version: Some(if source_version.is_empty() { version } else { source_version }.into()),
        });
    }
    Ok(sorted(packages))
}

/// Parses `rpm -qa --qf '%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\n'`.
/// Versions drop a `0:` epoch, as rpm and dnf print them; the source is the SRPM's name, and its
/// version the SRPM's `version-release` (the file name has no epoch).
pub fn parse_rpm(output: &str) -> Result<Vec<Package>, HostError> {
    const INPUT: &str = "rpm output";
    let mut packages = Vec::new();
    for (index, line) in output.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [name, evr, arch, srpm] = fields[..] else {
            return Err(parse_error(INPUT, index + 1, format!("expected 4 tab-separated fields, found {}", fields.len())));
        };
        // Imported signing keys show up as "gpg-pubkey" packages with no architecture: not software.
        if name == "gpg-pubkey" {
            continue;
        }
        if name.is_empty() || evr.is_empty() {
            return Err(parse_error(INPUT, index + 1, "package without a name or version"));
        }
        let version = evr.strip_prefix("0:").unwrap_or(evr);
        let (source, source_version) = split_srpm(srpm).map_or((None, None), |(n, v)| (Some(n.to_string()), Some(v.to_string())));
        packages.push(Package { name: name.into(), version: version.into(), arch: arch.into(), source, source_version });
    }
    Ok(sorted(packages))
}

/// `openssl-3.0.7-27.el9.src.rpm` → (`openssl`, `3.0.7-27.el9`); `(none)` and odd names → None.
fn split_srpm(srpm: &str) -> Option<(&str, &str)> {
    let stem = srpm.strip_suffix(".src.rpm").or_else(|| srpm.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = stem.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() || release.is_empty() {
        return None;
    }
    Some((name, &stem[name.len() + 1..]))
}

/// Parses apk's database (`/lib/apk/db/installed`): blank-line separated stanzas of `K:value`
/// lines, of which `P` (name), `V` (version), `A` (arch) and `o` (origin, the source) matter.
pub fn parse_apk_installed(db: &str) -> Result<Vec<Package>, HostError> {
    const INPUT: &str = "apk database";
    #[derive(Default)]
    struct Stanza<'a> {
        start: usize,
        name: Option<&'a str>,
        version: Option<&'a str>,
        arch: Option<&'a str>,
        origin: Option<&'a str>,
    }
    fn finish(stanza: Stanza<'_>, packages: &mut Vec<Package>) -> Result<(), HostError> {
        match stanza {
            Stanza { name: None, version: None, .. } => Ok(()),
            Stanza { name: Some(name), version: Some(version), arch, origin, .. } if !name.is_empty() && !version.is_empty() => {
                packages.push(Package {
                    name: name.into(),
                    version: version.into(),
                    arch: arch.unwrap_or_default().into(),
                    source: origin.map(str::to_string),
                    // abuild gives every subpackage its origin's pkgver-pkgrel.
                    source_version: origin.map(|_| version.to_string()),
                });
                Ok(())
            }
            Stanza { start, .. } => Err(parse_error(INPUT, start, "package entry without both P: and V:")),
        }
    }
    let mut packages = Vec::new();
    let mut stanza = Stanza::default();
    for (index, line) in db.lines().enumerate() {
        if line.trim().is_empty() {
            finish(std::mem::take(&mut stanza), &mut packages)?;
            continue;
        }
        if stanza.start == 0 {
            stanza.start = index + 1;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(parse_error(INPUT, index + 1, "expected KEY:value"));
        };
        match key {
            "P" => stanza.name = Some(value),
            "V" => stanza.version = Some(value),
            "A" => stanza.arch = Some(value),
            "o" => stanza.origin = Some(value),
            _ => {}
        }
    }
    finish(stanza, &mut packages)?;
    Ok(sorted(packages))
}

/// Where a command's stderr goes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Capture {
    /// stdout and stderr kept apart; stdout bounded to this many bytes.
    Separate(usize),
    /// stderr into stdout through one pipe, in the order written (as `2>&1`), bounded to this many bytes.
    Merged(usize),
}

/// A byte stream cut to its first and last `limit / 2` bytes, counting what fell in between.
#[derive(Debug)]
pub(crate) struct Bounded {
    limit: usize,
    head: Vec<u8>,
    tail: VecDeque<u8>,
    omitted: u64,
}

impl Bounded {
    pub(crate) fn new(limit: usize) -> Bounded {
        Bounded { limit, head: Vec::new(), tail: VecDeque::new(), omitted: 0 }
    }

    pub(crate) fn push(&mut self, bytes: &[u8]) {
        let head_limit = self.limit / 2;
        let (to_head, to_tail) = bytes.split_at(head_limit.saturating_sub(self.head.len()).min(bytes.len()));
        self.head.extend_from_slice(to_head);
        self.tail.extend(to_tail);
        let excess = self.tail.len().saturating_sub(self.limit - head_limit);
        if excess > 0 {
            self.tail.drain(..excess);
            self.omitted += excess as u64;
        }
    }

    /// Bytes dropped from the middle; zero means the stream was kept whole.
    pub(crate) fn omitted(&self) -> u64 {
        self.omitted
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        let mut bytes = self.head;
        bytes.extend(self.tail);
        bytes
    }

    /// The text, at most `limit` bytes: whole if it fits, else head, a marker, and tail.
    pub(crate) fn render(&self) -> String {
        let (head, tail) = self.tail.as_slices();
        if self.omitted == 0 {
            let whole = String::from_utf8_lossy(&[&self.head[..], head, tail].concat()).into_owned();
            if whole.len() <= self.limit {
                return whole;
            }
        }
        let head_text = String::from_utf8_lossy(without_partial_end(&self.head)).into_owned();
        let tail_bytes: Vec<u8> = self.tail.iter().copied().collect();
        // The cut may have split a UTF-8 sequence: start the tail at the next character.
        let skip = tail_bytes.iter().take(3).take_while(|b| (0x80..0xc0).contains(*b)).count();
        let tail_text = String::from_utf8_lossy(&tail_bytes[skip..]).into_owned();
        let budget = self.limit.saturating_sub(MARKER_ROOM);
        let head_part = prefix_within(&head_text, budget / 2);
        let tail_part = suffix_within(&tail_text, budget - head_part.len());
        let kept = self.head.len() + tail_bytes.len();
        let omitted = self.omitted + kept.saturating_sub(head_part.len() + tail_part.len()) as u64;
        format!("{head_part}\n… {omitted} bytes omitted …\n{tail_part}")
    }
}

/// Room for the "… N bytes omitted …" marker in a rendered [`Bounded`].
const MARKER_ROOM: usize = 48;

/// Drops a UTF-8 sequence that the head's cut left incomplete.
fn without_partial_end(bytes: &[u8]) -> &[u8] {
    for back in 1..=bytes.len().min(4) {
        let at = bytes.len() - back;
        let needed = match bytes[at] {
            0x80..=0xbf => continue,
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xff => 4,
            _ => return bytes,
        };
        return if back < needed { &bytes[..at] } else { bytes };
    }
    bytes
}

fn prefix_within(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn suffix_within(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// What a command left behind.
#[derive(Debug)]
pub(crate) struct RunOutput {
    /// None when a signal ended it (including the kill on timeout).
    pub(crate) exit_code: Option<i32>,
    pub(crate) signal: Option<i32>,
    pub(crate) timed_out: bool,
    pub(crate) stdout: Bounded,
    /// Empty with [`Capture::Merged`].
    pub(crate) stderr: Bounded,
}

/// Runs `argv` without a shell, stdin closed, with `env` added, in a process group of its own so a
/// timeout stops what it started too. Output beyond the bounds is dropped, never buffered.
pub(crate) async fn run_bounded(argv: &[String], env: &[(&str, &str)], timeout: Duration, capture: Capture) -> Result<RunOutput, HostError> {
    let Some((program, args)) = argv.split_first() else {
        return Err(HostError::Spawn { program: String::new(), source: io::Error::new(io::ErrorKind::InvalidInput, "empty command") });
    };
    let spawn_error = |source: io::Error| HostError::Spawn { program: program.clone(), source };
    let mut command = Command::new(program);
    command.args(args).envs(env.iter().copied()).stdin(Stdio::null()).process_group(0).kill_on_drop(true);
    let (limit, merged) = match capture {
        Capture::Separate(limit) => (limit, false),
        Capture::Merged(limit) => (limit, true),
    };
    // Merged output is one pipe that stdout and stderr both write to, so it reads in the order
    // the command wrote it, as on a terminal.
    let shared = if merged {
        let (reader, writer) = io::pipe().map_err(spawn_error)?;
        command.stdout(writer.try_clone().map_err(spawn_error)?).stderr(writer);
        Some(reader)
    } else {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        None
    };
    let mut child = command.spawn().map_err(spawn_error)?;
    // The command holds our copies of the pipe's write end: without them the read sees the end.
    drop(command);
    let no_pipe = || spawn_error(io::Error::other("no output pipe"));
    let mut out_pipe: Box<dyn AsyncRead + Unpin + Send> = match shared {
        Some(reader) => Box::new(tokio::net::unix::pipe::Receiver::from_owned_fd(reader.into()).map_err(spawn_error)?),
        None => Box::new(child.stdout.take().ok_or_else(no_pipe)?),
    };
    let mut err_pipe = child.stderr.take();
    let mut stdout = Bounded::new(limit);
    let mut stderr = Bounded::new(if merged { 0 } else { STDERR_LIMIT });
    let (mut out_buf, mut err_buf) = ([0u8; 8192], [0u8; 8192]);
    let (mut out_open, mut err_open) = (true, err_pipe.is_some());
    let mut status = None;
    let mut timed_out = false;
    let deadline = Instant::now() + timeout;
    let sleep = tokio::time::sleep_until(deadline);
    tokio::pin!(sleep);
    while out_open || err_open || status.is_none() {
        tokio::select! {
            read = out_pipe.read(&mut out_buf), if out_open => match read {
                Ok(n) if n > 0 => stdout.push(&out_buf[..n]),
                _ => out_open = false,
            },
            read = read_from(&mut err_pipe, &mut err_buf), if err_open => match read {
                Ok(n) if n > 0 => stderr.push(&err_buf[..n]),
                _ => err_open = false,
            },
            exited = child.wait(), if status.is_none() => {
                status = Some(exited.map_err(spawn_error)?);
                // A daemon the command started may hold the pipes open for good: don't wait on it.
                sleep.as_mut().reset(deadline.min(Instant::now() + PIPE_GRACE));
            },
            () = &mut sleep => {
                if status.is_none() {
                    timed_out = true;
                    status = stop(&mut child).await;
                }
                break;
            }
        }
    }
    Ok(RunOutput {
        exit_code: status.and_then(|s| s.code()),
        signal: status.and_then(|s| s.signal()),
        timed_out,
        stdout,
        stderr,
    })
}

/// Reads from a pipe that may be absent (stderr when merged); an absent one never yields.
async fn read_from(pipe: &mut Option<tokio::process::ChildStderr>, buf: &mut [u8]) -> io::Result<usize> {
    match pipe {
        Some(pipe) => pipe.read(buf).await,
        None => std::future::pending().await,
    }
}

/// Asks the child's process group to stop, then forces it. The group id is the child's pid, which
/// cannot be reused while the child is not yet reaped, so this never hits another process.
async fn stop(child: &mut Child) -> Option<std::process::ExitStatus> {
    if let Some(pid) = child.id() {
        signal_group(pid, "TERM").await;
        if let Ok(Ok(status)) = tokio::time::timeout(KILL_GRACE, child.wait()).await {
            // The leader is gone but may have left members behind.
            signal_group(pid, "KILL").await;
            return Some(status);
        }
        signal_group(pid, "KILL").await;
    }
    // Also covers a `kill` binary that is missing or does not take process groups.
    let _ = child.start_kill();
    tokio::time::timeout(KILL_GRACE, child.wait()).await.ok().and_then(Result::ok)
}

async fn signal_group(pgid: u32, signal: &str) {
    // std has no kill(2) for a group; the kill binary (procps, util-linux, busybox) does it without unsafe code.
    let kill = Command::new("kill")
        .args([format!("-{signal}"), "--".into(), format!("-{pgid}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .status();
    let _ = tokio::time::timeout(KILL_GRACE, kill).await;
}

#[cfg(test)]
#[path = "host_tests.rs"]
mod tests;
