//! OSV advisories (https://ossf.github.io/osv-schema/) for distro ecosystems: strict parsing, range
//! matching per the spec's evaluation algorithm, and loading from files, folders and osv.dev's all.zip.

use super::version::{self, VersionError, VersionScheme};
use serde::Deserialize;
use serde_json::Value;
use std::cmp::Ordering;
use std::fs;
use std::io::{self, Read, Seek};
use std::ops::Range;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq)]
pub struct Advisory {
    pub id: String,
    /// Unix seconds.
    pub modified: i64,
    /// `summary`, else the first line of `details`, else `id`.
    pub summary: String,
    pub aliases: Vec<String>,
    /// "critical" | "high" | "medium" | "low".
    pub severity: &'static str,
    pub affected: Vec<Affected>,
    pub withdrawn: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Affected {
    pub ecosystem: String,
    pub package: String,
    /// `None` when the ecosystem has no known version scheme: kept for display, never matched.
    pub scheme: Option<VersionScheme>,
    /// Events of the ECOSYSTEM-type ranges, in file order.
    pub events: Vec<Event>,
    /// Which slice of `events` each OSV range covers. The spec evaluates ranges independently,
    /// and merging overlapping ranges into one event list can un-match a vulnerable version.
    /// Empty means all of `events` is one range.
    pub ranges: Vec<Range<usize>>,
    pub versions: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl Event {
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }

    fn key(&self) -> &'static str {
        match self {
            Event::Introduced(_) => "introduced",
            Event::Fixed(_) => "fixed",
            Event::LastAffected(_) => "last_affected",
            Event::Limit(_) => "limit",
        }
    }

    /// OSV's `"introduced": "0"` means "from the very first version", whatever the scheme says "0" is.
    fn is_origin(&self) -> bool {
        matches!(self, Event::Introduced(v) if v == "0")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    pub fixed_version: Option<String>,
}

impl Affected {
    /// Whether `installed` is affected: inside any ECOSYSTEM range or listed in `versions`.
    /// Errors only when `installed` (or a hand-built event) is not a valid version of the scheme.
    pub fn matches(&self, installed: &str) -> Result<Option<Match>, VersionError> {
        let Some(scheme) = self.scheme else {
            return Ok(None);
        };
        version::validate(scheme, installed)?;
        for events in self.range_slices() {
            if let Some(found) = match_range(scheme, events, installed)? {
                return Ok(Some(found));
            }
        }
        for listed in &self.versions {
            if version::compare(scheme, installed, listed)? == Ordering::Equal {
                return Ok(Some(Match {
                    fixed_version: self.lowest_fix_above(scheme, installed)?,
                }));
            }
        }
        Ok(None)
    }

    /// Every `fixed` version across the ranges, in file order, without duplicates.
    pub fn fixed_versions(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for event in &self.events {
            if let Event::Fixed(v) = event {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
        }
        out
    }

    /// Human text such as ">= 0, < 1.2-3; >= 2.0-1, <= 2.0-4; exactly 3.0-1".
    pub fn describe_ranges(&self) -> String {
        const LISTED: usize = 5;
        let mut parts = Vec::new();
        for events in self.range_slices() {
            // Shown in evaluation order when the scheme can sort them, else as written.
            let ordered: Vec<&Event> = match self.scheme.map(|s| sort_events(s, events)) {
                Some(Ok(mut sorted)) => {
                    sorted.extend(events.iter().filter(|e| matches!(e, Event::Limit(_))));
                    sorted
                }
                _ => events.iter().collect(),
            };
            let mut group: Vec<String> = Vec::new();
            for event in ordered {
                // A new "introduced" after a closing bound starts a separate interval.
                if matches!(event, Event::Introduced(_))
                    && group.last().is_some_and(|g| !g.starts_with(">="))
                {
                    parts.push(group.join(", "));
                    group.clear();
                }
                group.push(match event {
                    Event::Introduced(v) => format!(">= {v}"),
                    Event::Fixed(v) => format!("< {v}"),
                    Event::LastAffected(v) => format!("<= {v}"),
                    Event::Limit(v) => format!("< {v} (limit)"),
                });
            }
            if !group.is_empty() {
                parts.push(group.join(", "));
            }
        }
        if !self.versions.is_empty() {
            let shown: Vec<&str> = self
                .versions
                .iter()
                .take(LISTED)
                .map(String::as_str)
                .collect();
            let more = self.versions.len().saturating_sub(LISTED);
            let tail = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            parts.push(format!("exactly {}{tail}", shown.join(", ")));
        }
        if parts.is_empty() {
            "no affected versions listed".to_owned()
        } else {
            parts.join("; ")
        }
    }

    fn range_slices(&self) -> Vec<&[Event]> {
        if self.ranges.is_empty() {
            return vec![&self.events];
        }
        // Clamped rather than indexed: the struct is public, and a bad span must not panic.
        let len = self.events.len();
        self.ranges
            .iter()
            .map(|r| {
                let end = r.end.min(len);
                &self.events[r.start.min(end)..end]
            })
            .collect()
    }

    /// For a match via the `versions` list, which has no range of its own: the nearest fix above.
    fn lowest_fix_above(
        &self,
        scheme: VersionScheme,
        installed: &str,
    ) -> Result<Option<String>, VersionError> {
        let mut best: Option<&str> = None;
        for event in &self.events {
            let Event::Fixed(v) = event else { continue };
            if version::compare(scheme, v, installed)? != Ordering::Greater {
                continue;
            }
            if best.map_or(Ok(true), |b| {
                version::compare(scheme, v, b).map(|o| o == Ordering::Less)
            })? {
                best = Some(v);
            }
        }
        Ok(best.map(str::to_owned))
    }
}

/// The spec's `IncludedInRanges` for one range, remembering which `introduced` opened the match.
fn match_range(
    scheme: VersionScheme,
    events: &[Event],
    installed: &str,
) -> Result<Option<Match>, VersionError> {
    if !before_limits(scheme, events, installed)? {
        return Ok(None);
    }
    let sorted = sort_events(scheme, events)?;
    let mut opened: Option<usize> = None;
    for (i, event) in sorted.iter().enumerate() {
        match event {
            Event::Introduced(v) => {
                if event.is_origin() || version::compare(scheme, installed, v)? != Ordering::Less {
                    opened = Some(i);
                }
            }
            Event::Fixed(v) => {
                if version::compare(scheme, installed, v)? != Ordering::Less {
                    opened = None;
                }
            }
            Event::LastAffected(v) => {
                if version::compare(scheme, installed, v)? == Ordering::Greater {
                    opened = None;
                }
            }
            Event::Limit(_) => {}
        }
    }
    Ok(opened.map(|i| Match {
        fixed_version: sorted.iter().skip(i + 1).find_map(|e| match e {
            Event::Fixed(v) => Some(v.clone()),
            _ => None,
        }),
    }))
}

fn before_limits(
    scheme: VersionScheme,
    events: &[Event],
    installed: &str,
) -> Result<bool, VersionError> {
    let mut has_limit = false;
    for event in events {
        if let Event::Limit(v) = event {
            has_limit = true;
            if v == "*" || version::compare(scheme, installed, v)? == Ordering::Less {
                return Ok(true);
            }
        }
    }
    Ok(!has_limit)
}

/// Stable insertion sort of the non-limit events by version, origin first. Hand-rolled because
/// `slice::sort_by` may panic when a comparator is not a total order, and rpmvercmp and apk's
/// mixed string/numeric rules are not proven to be one; ranges have a handful of events anyway.
fn sort_events(scheme: VersionScheme, events: &[Event]) -> Result<Vec<&Event>, VersionError> {
    let mut sorted: Vec<&Event> = Vec::with_capacity(events.len());
    for event in events.iter().filter(|e| !matches!(e, Event::Limit(_))) {
        let mut at = sorted.len();
        while at > 0 && event_order(scheme, sorted[at - 1], event)? == Ordering::Greater {
            at -= 1;
        }
        sorted.insert(at, event);
    }
    Ok(sorted)
}

fn event_order(scheme: VersionScheme, a: &Event, b: &Event) -> Result<Ordering, VersionError> {
    match (a.is_origin(), b.is_origin()) {
        (true, true) => Ok(Ordering::Equal),
        (true, false) => Ok(Ordering::Less),
        (false, true) => Ok(Ordering::Greater),
        (false, false) => version::compare(scheme, a.version(), b.version()),
    }
}

// ---- parsing ----

#[derive(Deserialize)]
#[serde(expecting = "an OSV advisory object")]
struct RawAdvisory {
    id: String,
    modified: String,
    summary: Option<String>,
    details: Option<String>,
    aliases: Option<Vec<String>>,
    withdrawn: Option<String>,
    severity: Option<Vec<RawSeverity>>,
    affected: Option<Vec<RawAffected>>,
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
#[serde(expecting = "a severity object")]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
#[serde(expecting = "an affected object")]
struct RawAffected {
    package: Option<RawPackage>,
    severity: Option<Vec<RawSeverity>>,
    ranges: Option<Vec<RawRange>>,
    versions: Option<Vec<String>>,
    ecosystem_specific: Option<Value>,
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
#[serde(expecting = "a package object")]
struct RawPackage {
    ecosystem: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(expecting = "a range object")]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    events: Vec<RawEvent>,
}

#[derive(Deserialize)]
#[serde(expecting = "an event object")]
struct RawEvent {
    introduced: Option<String>,
    fixed: Option<String>,
    last_affected: Option<String>,
    limit: Option<String>,
}

/// Parses one OSV JSON document; errors name the offending field path.
pub fn parse(bytes: &[u8]) -> Result<Advisory, String> {
    let bytes = without_bom(bytes);
    // serde's derived structs also accept JSON arrays; an OSV document is always an object.
    if !starts_like_object(bytes) {
        return Err("not an OSV document: expected a JSON object".to_owned());
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let raw: RawAdvisory = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        // "." is the document itself and "?" a position serde could not name (e.g. cut-off input).
        if path == "." || path == "?" {
            e.into_inner().to_string()
        } else {
            format!("{path}: {}", e.into_inner())
        }
    })?;
    de.end().map_err(|e| e.to_string())?;

    if raw.id.trim().is_empty() {
        return Err("id: must not be empty".to_owned());
    }
    let modified = rfc3339("modified", &raw.modified)?;
    if let Some(w) = &raw.withdrawn {
        rfc3339("withdrawn", w)?;
    }
    let summary = raw
        .summary
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .or_else(|| {
            raw.details
                .as_deref()
                .and_then(|d| d.lines().map(str::trim).find(|l| !l.is_empty()))
        })
        .unwrap_or(&raw.id)
        .to_owned();
    let raw_affected = raw.affected.unwrap_or_default();
    let severity = severity(
        raw.severity.as_deref().unwrap_or_default(),
        raw.database_specific.as_ref(),
        &raw_affected,
    );
    let mut affected = Vec::with_capacity(raw_affected.len());
    for (i, a) in raw_affected.into_iter().enumerate() {
        // Entries without a package (GIT-only upstream data) can never name an installed package.
        if let Some(entry) = convert_affected(i, a)? {
            affected.push(entry);
        }
    }
    Ok(Advisory {
        id: raw.id,
        modified,
        summary,
        aliases: raw.aliases.unwrap_or_default(),
        severity,
        affected,
        withdrawn: raw.withdrawn.is_some(),
    })
}

fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

fn starts_like_object(bytes: &[u8]) -> bool {
    without_bom(bytes).iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

fn rfc3339(field: &str, value: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.timestamp())
        .map_err(|_| format!("{field}: not an RFC 3339 time ({value:?})"))
}

fn convert_affected(i: usize, raw: RawAffected) -> Result<Option<Affected>, String> {
    let Some(package) = raw.package else {
        return Ok(None);
    };
    let scheme = VersionScheme::for_ecosystem(&package.ecosystem);
    let mut events = Vec::new();
    let mut ranges = Vec::new();
    for (r, range) in raw.ranges.unwrap_or_default().into_iter().enumerate() {
        // SEMVER and GIT ranges carry upstream versions or commits, not distro package versions.
        if range.kind != "ECOSYSTEM" {
            continue;
        }
        let start = events.len();
        for (e, raw_event) in range.events.into_iter().enumerate() {
            let path = format!("affected[{i}].ranges[{r}].events[{e}]");
            let event = match raw_event {
                RawEvent {
                    introduced: Some(v),
                    fixed: None,
                    last_affected: None,
                    limit: None,
                } => Event::Introduced(v),
                RawEvent {
                    introduced: None,
                    fixed: Some(v),
                    last_affected: None,
                    limit: None,
                } => Event::Fixed(v),
                RawEvent {
                    introduced: None,
                    fixed: None,
                    last_affected: Some(v),
                    limit: None,
                } => Event::LastAffected(v),
                RawEvent {
                    introduced: None,
                    fixed: None,
                    last_affected: None,
                    limit: Some(v),
                } => Event::Limit(v),
                _ => {
                    return Err(format!(
                        "{path}: expected exactly one of introduced, fixed, last_affected, limit"
                    ))
                }
            };
            let unbounded = matches!(&event, Event::Limit(v) if v == "*");
            if let (Some(scheme), false) = (scheme, unbounded) {
                version::validate(scheme, event.version())
                    .map_err(|err| format!("{path}.{}: {err}", event.key()))?;
            }
            events.push(event);
        }
        ranges.push(start..events.len());
    }
    let versions = raw.versions.unwrap_or_default();
    if let Some(scheme) = scheme {
        for (j, v) in versions.iter().enumerate() {
            version::validate(scheme, v)
                .map_err(|err| format!("affected[{i}].versions[{j}]: {err}"))?;
        }
    }
    Ok(Some(Affected {
        ecosystem: package.ecosystem,
        package: package.name,
        scheme,
        events,
        ranges,
        versions,
    }))
}

const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];

/// Distro-assigned labels win over CVSS, since they weigh the package as shipped; among several
/// labels (or several CVSS vectors) the highest counts.
fn severity(
    top: &[RawSeverity],
    database_specific: Option<&Value>,
    affected: &[RawAffected],
) -> &'static str {
    let mut labels: Vec<&str> = Vec::new();
    let mut vectors: Vec<&RawSeverity> = top.iter().collect();
    labels.extend(
        database_specific
            .and_then(|d| d.get("severity"))
            .and_then(Value::as_str),
    );
    for a in affected {
        labels.extend(
            a.database_specific
                .as_ref()
                .and_then(|d| d.get("severity"))
                .and_then(Value::as_str),
        );
        for key in ["severity", "urgency"] {
            labels.extend(
                a.ecosystem_specific
                    .as_ref()
                    .and_then(|d| d.get(key))
                    .and_then(Value::as_str),
            );
        }
        vectors.extend(a.severity.as_deref().unwrap_or_default());
    }
    // Ubuntu publishes its priority as a severity entry of type "Ubuntu".
    labels.extend(
        vectors
            .iter()
            .filter(|s| s.kind == "Ubuntu")
            .map(|s| s.score.as_str()),
    );
    if let Some(rank) = labels.iter().filter_map(|l| label_rank(l)).max() {
        return SEVERITIES[rank];
    }
    // Unparseable vectors are skipped: severity is advisory metadata, not a reason to reject the record.
    let best = vectors
        .iter()
        .filter(|s| s.kind == "CVSS_V3")
        .filter_map(|s| s.score.parse::<cvss::v3::Vector>().ok())
        .map(|v| v.base_score().value())
        .fold(None, |acc: Option<f64>, s| {
            Some(acc.map_or(s, |a| a.max(s)))
        });
    match best {
        Some(s) if s >= 9.0 => "critical",
        Some(s) if s >= 7.0 => "high",
        Some(s) if s >= 4.0 => "medium",
        Some(_) => "low",
        None => "medium",
    }
}

/// Index into `SEVERITIES` for Ubuntu priorities, Debian urgencies and Red Hat impacts.
fn label_rank(label: &str) -> Option<usize> {
    // Debian marks unconfirmed urgencies with trailing '*' ("low**").
    let label = label.trim().trim_end_matches('*').to_ascii_lowercase();
    match label.as_str() {
        "low" | "negligible" | "unimportant" => Some(0),
        "medium" | "moderate" | "not yet assigned" => Some(1),
        "high" | "important" => Some(2),
        "critical" => Some(3),
        _ => None,
    }
}

// ---- loading ----

/// One advisory document as found on disk or in an archive.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// File path or zip entry name.
    pub name: String,
    pub result: Result<Advisory, String>,
}

/// Uploads and archives are untrusted, and no real OSV record comes near this size.
const MAX_DOCUMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Reads a `.json` file, a folder (recursively, `*.json`, sorted by path) or a `.zip` such as
/// osv.dev's per-ecosystem all.zip. Unreadable or malformed documents become `Loaded` errors;
/// only a path that can't be opened at all, or a broken zip, fails the whole call.
pub fn read_path(path: &Path) -> io::Result<Vec<Loaded>> {
    if fs::metadata(path)?.is_dir() {
        let mut files = Vec::new();
        collect_json(path, &mut files)?;
        files.sort();
        return Ok(files
            .into_iter()
            .map(|file| Loaded {
                name: file.display().to_string(),
                result: load(fs::File::open(&file).and_then(read_capped), "cannot read"),
            })
            .collect());
    }
    let mut file = fs::File::open(path)?;
    let mut magic = Vec::new();
    file.by_ref().take(4).read_to_end(&mut magic)?;
    file.rewind()?;
    let name = path.display().to_string();
    if is_zip(&name, &magic) {
        return read_zip(io::BufReader::new(file))
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e));
    }
    let result = load(Ok(read_capped(file)?), "cannot read");
    Ok(vec![Loaded { name, result }])
}

/// Reads an uploaded `.zip` or `.json`, recognised by name or content; a bad zip is an error.
pub fn read_upload(file_name: &str, bytes: &[u8]) -> Result<Vec<Loaded>, String> {
    if is_zip(file_name, bytes) {
        return read_zip(io::Cursor::new(bytes));
    }
    if !file_name.to_ascii_lowercase().ends_with(".json") && !starts_like_object(bytes) {
        return Err(format!(
            "{file_name}: expected an OSV .json file or a .zip of them"
        ));
    }
    Ok(vec![Loaded {
        name: file_name.to_owned(),
        result: parse(bytes),
    }])
}

fn is_zip(name: &str, head: &[u8]) -> bool {
    // Local file header, or the end-of-directory record an empty archive starts with.
    name.to_ascii_lowercase().ends_with(".zip")
        || head.starts_with(b"PK\x03\x04")
        || head.starts_with(b"PK\x05\x06")
}

/// Reads one document, or `None` past `MAX_DOCUMENT_BYTES`; zip headers can lie about sizes,
/// so the cap applies to what is actually read.
fn read_capped(reader: impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= MAX_DOCUMENT_BYTES).then_some(bytes))
}

fn load(read: io::Result<Option<Vec<u8>>>, failure: &str) -> Result<Advisory, String> {
    match read {
        Err(e) => Err(format!("{failure}: {e}")),
        Ok(None) => Err(format!(
            "larger than {} MiB",
            MAX_DOCUMENT_BYTES / (1024 * 1024)
        )),
        Ok(Some(bytes)) => parse(&bytes),
    }
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        // Symlinked folders are not followed, so a link cycle cannot recurse forever.
        if kind.is_dir() {
            collect_json(&path, out)?;
        } else if has_json_extension(&path)
            && (kind.is_file() || kind.is_symlink() && path.is_file())
        {
            out.push(path);
        }
    }
    Ok(())
}

fn has_json_extension(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

fn read_zip<R: Read + Seek>(reader: R) -> Result<Vec<Loaded>, String> {
    let mut archive =
        zip::ZipArchive::new(reader).map_err(|e| format!("not a readable zip archive: {e}"))?;
    let mut out = Vec::new();
    for index in 0..archive.len() {
        let entry = archive.by_index(index).and_then(|entry| {
            let name = entry.name()?.into_owned();
            Ok((name, entry))
        });
        let (name, entry) = match entry {
            Ok(found) => found,
            Err(e) => {
                out.push(Loaded {
                    name: format!("zip entry #{index}"),
                    result: Err(format!("cannot open zip entry: {e}")),
                });
                continue;
            }
        };
        if entry.is_dir() || !name.to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        let result = load(read_capped(entry), "cannot decompress");
        out.push(Loaded { name, result });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let loaded = read_upload("all.zip", &bytes).expect("zip reads");
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
        assert_eq!(read_upload("download", &bytes).map(|l| l.len()), Ok(4));
        assert_eq!(
            read_upload("empty.zip", &zip_of(&[])).map(|l| l.len()),
            Ok(0)
        );
    }

    #[test]
    fn upload_bad_inputs() {
        let err = read_upload("all.zip", b"PK\x03\x04 truncated").expect_err("bad zip");
        assert!(err.starts_with("not a readable zip archive: "), "{err}");
        let err = read_upload("all.zip", b"{}").expect_err("json named .zip");
        assert!(err.starts_with("not a readable zip archive: "), "{err}");
        assert_eq!(
            read_upload("notes.txt", b"hello").map(|l| l.len()),
            Err("notes.txt: expected an OSV .json file or a .zip of them".to_owned())
        );
        let single = read_upload("advisory.txt", ALPINE.as_bytes()).expect("json by content");
        assert_eq!(
            summarize(&single),
            [(
                "advisory.txt".to_owned(),
                Ok("ALPINE-CVE-2023-5363".to_owned())
            )]
        );
        let bad = read_upload("x.json", b"{").expect("a json upload always yields one entry");
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
}
