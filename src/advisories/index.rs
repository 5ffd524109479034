//! The advisories held in memory for matching: built once from the database after an import
//! (every scope: the feed and each account's own uploads), then shared by every match until the
//! advisories' version in the database moves on. A match reads no row: it looks each installed
//! package up by name and evaluates the ranges stored with it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use super::osv::{Affected, PreparedAffected};
use super::version::{Parsed, VersionScheme};
use crate::agent::host::Package;

/// One installed package inside an advisory's affected range.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchedVulnerability {
    pub osv_id: String,
    /// The package the advisory names: the source package for Debian and Ubuntu.
    pub package: String,
    pub installed_version: String,
    pub fixed_version: Option<String>,
    pub severity: String,
    pub summary: String,
    pub ranges: String,
}

/// One advisory's ranges for one (ecosystem, package), and what a match reports.
struct Entry {
    scope: i64,
    /// Index into `AdvisoryIndex::ecosystems`.
    ecosystem: u32,
    osv_id: Arc<str>,
    summary: Arc<str>,
    severity: Arc<str>,
    affected: PreparedAffected,
    /// `Affected::describe_ranges`, computed once.
    ranges: Box<str>,
}

/// One advisory row as read from the database, for [`AdvisoryIndex::build`].
pub struct Row {
    pub scope: i64,
    pub osv_id: Arc<str>,
    pub summary: Arc<str>,
    pub severity: Arc<str>,
    pub affected: Affected,
}

/// Every advisory by the package name it names, as of one version of the advisories.
pub struct AdvisoryIndex {
    /// `advisory_state.version` when it was read: an import moves it on.
    pub version: i64,
    by_package: HashMap<Box<str>, Vec<Entry>>,
    /// Every ecosystem named, once (entries hold its position).
    ecosystems: Vec<Box<str>>,
    entries: usize,
}

impl AdvisoryIndex {
    pub fn build(version: i64, rows: impl IntoIterator<Item = Row>) -> AdvisoryIndex {
        let mut by_package: HashMap<Box<str>, Vec<Entry>> = HashMap::new();
        let mut ecosystems: Vec<Box<str>> = Vec::new();
        let mut ecosystem_ids: HashMap<String, u32> = HashMap::new();
        let mut entries = 0;
        for row in rows {
            let ranges = row.affected.describe_ranges().into_boxed_str();
            let package: Box<str> = row.affected.package.as_str().into();
            let ecosystem = *ecosystem_ids.entry(row.affected.ecosystem.clone()).or_insert_with(|| {
                ecosystems.push(row.affected.ecosystem.as_str().into());
                (ecosystems.len() - 1) as u32
            });
            by_package.entry(package).or_default().push(Entry {
                scope: row.scope,
                ecosystem,
                osv_id: row.osv_id,
                summary: row.summary,
                severity: row.severity,
                affected: PreparedAffected::new(&row.affected),
                ranges,
            });
            entries += 1;
        }
        AdvisoryIndex { version, by_package, ecosystems, entries }
    }

    /// How many (advisory, package) ranges it holds.
    pub fn len(&self) -> usize {
        self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// The packages inside an affected range of an advisory the account sees (the feed's,
    /// `feed`, and its own), for one set of ecosystems; one result per (advisory, package), in
    /// that order. An advisory may name a binary package or (Debian, Ubuntu, Alpine origins) its
    /// source; each name is tested with the installed versions it stands for.
    pub fn match_packages(&self, feed: i64, account_id: i64, ecosystems: &[String], packages: &[Package]) -> Vec<MatchedVulnerability> {
        if ecosystems.is_empty() || packages.is_empty() {
            return Vec::new();
        }
        let mut by_name: HashMap<&str, Vec<&str>> = HashMap::new();
        for package in packages {
            by_name.entry(package.name.as_str()).or_default().push(package.version.as_str());
            if let Some(source) = package.source.as_deref().filter(|s| *s != package.name) {
                let version = package.source_version.as_deref().unwrap_or(&package.version);
                by_name.entry(source).or_default().push(version);
            }
        }
        let wanted: Vec<u32> =
            self.ecosystems.iter().enumerate().filter(|(_, e)| ecosystems.iter().any(|w| w.as_str() == &***e)).map(|(i, _)| i as u32).collect();
        let mut found: BTreeMap<(&str, &str), MatchedVulnerability> = BTreeMap::new();
        for (name, installed_versions) in &by_name {
            let Some(entries) = self.by_package.get(*name) else { continue };
            // Each installed version parsed once per scheme it meets (a version the scheme
            // rejects cannot be ordered: it is not a match, not an error).
            let mut parsed: Vec<(VersionScheme, Vec<Option<Parsed>>)> = Vec::new();
            for entry in entries {
                if (entry.scope != feed && entry.scope != account_id) || !wanted.contains(&entry.ecosystem) {
                    continue;
                }
                let Some(scheme) = entry.affected.scheme() else { continue };
                let at = match parsed.iter().position(|(s, _)| *s == scheme) {
                    Some(at) => at,
                    None => {
                        parsed.push((scheme, installed_versions.iter().map(|v| Parsed::parse(scheme, v).ok()).collect()));
                        parsed.len() - 1
                    }
                };
                for (installed, version) in installed_versions.iter().zip(&parsed[at].1) {
                    let Some(version) = version else { continue };
                    if let Ok(Some(hit)) = entry.affected.matches(version) {
                        // The first entry that matches an (advisory, package) is the one reported.
                        found.entry((&*entry.osv_id, *name)).or_insert_with(|| MatchedVulnerability {
                                osv_id: entry.osv_id.to_string(),
                                package: name.to_string(),
                                installed_version: installed.to_string(),
                                fixed_version: hit.fixed_version,
                                severity: entry.severity.to_string(),
                                summary: entry.summary.to_string(),
                                ranges: entry.ranges.to_string(),
                            });
                        break;
                    }
                }
            }
        }
        found.into_values().collect()
    }
}

/// The index of one database (kept with it, see `Db::shared`): the current one, and a lock so
/// that one rebuild runs at a time.
#[derive(Default)]
pub struct AdvisoryCache {
    current: RwLock<Option<Arc<AdvisoryIndex>>>,
    pub rebuilding: tokio::sync::Mutex<()>,
}

impl AdvisoryCache {
    /// The index, if one was built for `version`.
    pub fn at(&self, version: i64) -> Option<Arc<AdvisoryIndex>> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).as_ref().filter(|index| index.version == version).cloned()
    }

    pub fn replace(&self, index: Arc<AdvisoryIndex>) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(index);
    }
}
