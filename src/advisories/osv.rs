//! OSV advisories (https://ossf.github.io/osv-schema/) for distro ecosystems: strict parsing, range
//! matching per the spec's evaluation algorithm, and loading from files, folders and osv.dev's all.zip.

use super::version::{self, VersionError, VersionScheme};
use serde::Deserialize;
use serde_json::Value;
use std::cmp::Ordering;
use std::ops::Range;

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

/// An [`Affected`] made ready to test many installed versions: every version parsed once and
/// each range's events sorted once. [`PreparedAffected::matches`] answers exactly what
/// [`Affected::matches`] answers (a match, none, or an error at the same point), without
/// parsing or allocating per event.
#[derive(Debug)]
pub struct PreparedAffected {
    /// `None` when the ecosystem has no known scheme: never matched.
    scheme: Option<VersionScheme>,
    ranges: Vec<PreparedRange>,
    /// The `versions` list in order; an invalid entry is an error when a scan reaches it.
    versions: Vec<Result<version::Parsed, VersionError>>,
    /// Every `fixed` event in order, for a match through `versions`.
    fixes: Vec<(Result<version::Parsed, VersionError>, String)>,
}

#[derive(Debug)]
struct PreparedRange {
    /// The range's `limit` events in order: `None` is "*".
    limits: Vec<Option<Result<version::Parsed, VersionError>>>,
    /// The other events sorted as `sort_events` sorts them, or the error sorting met.
    sorted: Result<Vec<PreparedEvent>, VersionError>,
}

#[derive(Debug)]
struct PreparedEvent {
    kind: EventKind,
    /// `None` for the origin ("introduced": "0"), which compares with nothing.
    version: Option<Result<version::Parsed, VersionError>>,
    text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventKind {
    Introduced,
    Fixed,
    LastAffected,
}

impl PreparedAffected {
    pub fn new(affected: &Affected) -> PreparedAffected {
        let Some(scheme) = affected.scheme else {
            return PreparedAffected { scheme: None, ranges: Vec::new(), versions: Vec::new(), fixes: Vec::new() };
        };
        let parse = |v: &str| version::Parsed::parse(scheme, v);
        let ranges = affected
            .range_slices()
            .into_iter()
            .map(|events| PreparedRange {
                limits: events
                    .iter()
                    .filter_map(|e| match e {
                        Event::Limit(v) => Some((v != "*").then(|| parse(v))),
                        _ => None,
                    })
                    .collect(),
                sorted: sort_events(scheme, events).map(|sorted| {
                    sorted
                        .into_iter()
                        .filter_map(|event| {
                            let kind = match event {
                                Event::Introduced(_) => EventKind::Introduced,
                                Event::Fixed(_) => EventKind::Fixed,
                                Event::LastAffected(_) => EventKind::LastAffected,
                                Event::Limit(_) => return None,
                            };
                            let version = (!event.is_origin()).then(|| parse(event.version()));
                            Some(PreparedEvent { kind, version, text: event.version().to_string() })
                        })
                        .collect()
                }),
            })
            .collect();
        let versions = affected.versions.iter().map(|v| parse(v)).collect();
        let fixes = affected.events.iter().filter_map(|e| if let Event::Fixed(v) = e { Some((parse(v), v.clone())) } else { None }).collect();
        PreparedAffected { scheme: Some(scheme), ranges, versions, fixes }
    }

    /// The scheme installed versions are parsed with (`None`: nothing matches).
    pub fn scheme(&self) -> Option<VersionScheme> {
        self.scheme
    }

    /// Whether `installed` (parsed with [`Self::scheme`]) is affected; see [`Affected::matches`].
    pub fn matches(&self, installed: &version::Parsed) -> Result<Option<Match>, VersionError> {
        if self.scheme.is_none() {
            return Ok(None);
        }
        for range in &self.ranges {
            if let Some(found) = range.matches(installed)? {
                return Ok(Some(found));
            }
        }
        for listed in &self.versions {
            if installed.order(parsed(listed)?) == Ordering::Equal {
                return Ok(Some(Match { fixed_version: self.lowest_fix_above(installed)? }));
            }
        }
        Ok(None)
    }

    fn lowest_fix_above(&self, installed: &version::Parsed) -> Result<Option<String>, VersionError> {
        let mut best: Option<(&version::Parsed, &String)> = None;
        for (fix, text) in &self.fixes {
            let fix = parsed(fix)?;
            if fix.order(installed) != Ordering::Greater {
                continue;
            }
            if best.is_none_or(|(b, _)| fix.order(b) == Ordering::Less) {
                best = Some((fix, text));
            }
        }
        Ok(best.map(|(_, text)| text.clone()))
    }
}

fn parsed(v: &Result<version::Parsed, VersionError>) -> Result<&version::Parsed, VersionError> {
    v.as_ref().map_err(Clone::clone)
}

impl PreparedRange {
    /// `match_range` with the events parsed and sorted beforehand.
    fn matches(&self, installed: &version::Parsed) -> Result<Option<Match>, VersionError> {
        if !self.limits.is_empty() {
            let mut below = false;
            for limit in &self.limits {
                match limit {
                    None => below = true,
                    Some(v) => below = installed.order(parsed(v)?) == Ordering::Less,
                }
                if below {
                    break;
                }
            }
            if !below {
                return Ok(None);
            }
        }
        let sorted = self.sorted.as_ref().map_err(Clone::clone)?;
        let mut opened: Option<usize> = None;
        for (i, event) in sorted.iter().enumerate() {
            let Some(v) = &event.version else {
                opened = Some(i);
                continue;
            };
            let order = installed.order(parsed(v)?);
            match event.kind {
                EventKind::Introduced if order != Ordering::Less => opened = Some(i),
                EventKind::Fixed if order != Ordering::Less => opened = None,
                EventKind::LastAffected if order == Ordering::Greater => opened = None,
                _ => {}
            }
        }
        Ok(opened.map(|i| Match {
            fixed_version: sorted.iter().skip(i + 1).find(|e| e.kind == EventKind::Fixed).map(|e| e.text.clone()),
        }))
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

pub(crate) fn starts_like_object(bytes: &[u8]) -> bool {
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

#[cfg(test)]
#[path = "osv_tests.rs"]
mod tests;
