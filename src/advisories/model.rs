//! Advisory import results and counts, as they cross the wire.

use serde::{Deserialize, Serialize};

/// A file (or zip entry) that was not imported, and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportProblem {
    pub name: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub imported: i64,
    pub updated: i64,
    pub skipped: Vec<ImportProblem>,
}

impl ImportReport {
    pub fn summary(&self) -> String {
        let mut text = format!("{} new, {} updated", self.imported, self.updated);
        if !self.skipped.is_empty() {
            text.push_str(&format!(", {} skipped", self.skipped.len()));
        }
        text
    }
}

/// The advisories an account matches against: the shared feed's and its own uploads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AdvisoryStats {
    pub feed: i64,
    pub own: i64,
    pub last_import_at: Option<i64>,
    /// Advisories per OSV ecosystem ("Debian:12" → 1234).
    pub ecosystems: Vec<(String, i64)>,
}

/// One import as the Advisories page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportRecord {
    pub id: i64,
    /// Imported into the shared feed (by the CLI) rather than by this account.
    pub feed: bool,
    pub actor: String,
    pub source_name: String,
    pub imported: i64,
    pub updated: i64,
    pub skipped_count: i64,
    pub skipped: Vec<ImportProblem>,
    pub error: Option<String>,
    pub at: i64,
}

/// What the Advisories tab shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvisoryPage {
    pub stats: AdvisoryStats,
    pub imports: Vec<ImportRecord>,
}
