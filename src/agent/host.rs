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
pub struct OsRelease {
    pub id: String,
    pub version_id: String,
    pub pretty_name: String,
    pub id_like: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PackageManager {
    Dpkg,
    Rpm,
    Apk,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
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
mod tests {
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
}
