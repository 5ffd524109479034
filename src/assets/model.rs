//! Assets, groups and the security data attached to them, as they cross the wire, and the
//! ingestion API's payloads with their validation.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::error::{AppError, FieldErrors};
use crate::locale::{Locale, td_string};

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal, $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $text),+ } }
            pub fn label(self) -> &'static str { match self { $($name::$variant => $label),+ } }
            pub fn parse(value: &str) -> Option<$name> { $name::ALL.iter().copied().find(|v| v.as_str() == value) }
        }
    };
}

wire_enum!(
    /// Severity of a vulnerability or alert, and the risk level of a baseline check.
    Severity { Critical => "critical", "Critical", High => "high", "High", Medium => "medium", "Medium", Low => "low", "Low" }
);
wire_enum!(
    /// The three vulnerability categories of the console.
    Category { Linux => "linux", "Linux software", Windows => "windows", "Windows", WebCms => "web_cms", "Web-CMS" }
);
wire_enum!(
    FindingStatus { Unfixed => "unfixed", "Unfixed", Fixing => "fixing", "Fixing", Fixed => "fixed", "Fixed", FixFailed => "fix_failed", "Fix failed", Ignored => "ignored", "Ignored" }
);
wire_enum!(
    AlertStatus { Unhandled => "unhandled", "Unhandled", Handled => "handled", "Handled", Ignored => "ignored", "Ignored" }
);
wire_enum!(
    AgentStatus { Online => "online", "Online", Offline => "offline", "Offline", NotInstalled => "not_installed", "Not installed" }
);

impl FindingStatus {
    /// Open findings count against the score; fixed and ignored ones are resolved.
    pub fn is_open(self) -> bool {
        matches!(self, FindingStatus::Unfixed | FindingStatus::Fixing | FindingStatus::FixFailed)
    }
}

impl AlertStatus {
    pub fn is_open(self) -> bool {
        self == AlertStatus::Unhandled
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetGroup {
    pub id: i64,
    pub name: String,
    pub asset_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AssetSummary {
    pub id: i64,
    pub instance_id: String,
    pub name: String,
    pub ips: Vec<String>,
    pub os: String,
    pub region: String,
    pub group: Option<String>,
    pub agent_status: AgentStatus,
    pub last_seen_at: Option<i64>,
    pub open_vulnerabilities: i64,
    pub open_alerts: i64,
    pub baseline_risks: i64,
}

/// Filters of the Assets page, kept in the URL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AssetQuery {
    pub search: String,
    pub group_id: Option<i64>,
    pub page: i64,
    /// Keyset paging: the page after this asset (the previous page's last row) or before it
    /// (the next page's first row), so a deep page reads 20 rows instead of skipping thousands.
    /// `page` then only labels the page. A cursor that names no asset of the account falls
    /// back to paging by number.
    #[serde(default)]
    pub after: Option<i64>,
    #[serde(default)]
    pub before: Option<i64>,
}

pub const ASSET_PAGE_SIZE: i64 = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetPage {
    pub assets: Vec<AssetSummary>,
    pub total: i64,
    /// The search matched more than `total` (the count stops there: shown as "1,000+").
    #[serde(default)]
    pub total_capped: bool,
    pub page: i64,
    pub page_count: i64,
    pub groups: Vec<AssetGroup>,
    pub ungrouped_count: i64,
    pub all_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingView {
    pub id: i64,
    pub advisory_id: String,
    pub title: String,
    pub severity: Severity,
    pub category: Category,
    pub package: String,
    pub installed_version: String,
    /// The first version without the vulnerability, when known.
    pub fixed_version: String,
    pub fix: String,
    pub status: FindingStatus,
    /// Who reported it: "agent" (inventory matching), "trivy", or "api".
    pub source: String,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertView {
    pub id: i64,
    pub name: String,
    pub alert_type: String,
    pub severity: Severity,
    pub status: AlertStatus,
    pub occurred_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineView {
    pub id: i64,
    pub check_name: String,
    pub category: String,
    pub risk_level: Severity,
    pub passed: bool,
    pub checked_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetDetail {
    pub asset: AssetSummary,
    pub findings: Vec<FindingView>,
    pub alerts: Vec<AlertView>,
    pub baseline: Vec<BaselineView>,
    pub agent: Option<AgentView>,
    pub jobs: Vec<FixJobView>,
}

// ---- Host agents -------------------------------------------------------------------------

/// The agent of an asset, as the asset page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentView {
    pub version: String,
    pub allow_fix: bool,
    pub package_manager: Option<String>,
    pub kernel: String,
    pub enrolled_at: i64,
    pub last_heartbeat_at: i64,
    pub package_count: Option<i64>,
    pub inventory_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PlannedChangeView {
    pub package: String,
    pub from: Option<String>,
    pub to: String,
}

wire_enum!(
    /// Where a fix job is: waiting for its agent, carried out, or finished one of three ways.
    FixJobStatus { Queued => "queued", "Queued", Running => "running", "Running", Succeeded => "succeeded", "Fixed",
                   Simulated => "simulated", "Simulated", Failed => "failed", "Failed" }
);

impl FixJobStatus {
    pub fn is_finished(self) -> bool {
        matches!(self, FixJobStatus::Succeeded | FixJobStatus::Simulated | FixJobStatus::Failed)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FixJobView {
    pub id: i64,
    pub asset_id: i64,
    pub packages: Vec<String>,
    pub simulate: bool,
    pub status: FixJobStatus,
    pub requested_by: String,
    pub created_at: i64,
    pub dispatched_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub exit_code: Option<i64>,
    pub output: String,
    pub changes: Vec<PlannedChangeView>,
    pub error: Option<String>,
}

/// An enrollment token as listed; the secret itself is shown once, at creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollmentTokenView {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub group_name: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub use_count: i64,
}

/// A re-enrollment of a known host that came without the host's current credential, waiting for
/// an admin to approve (the host gets a new credential, the old one stops) or reject it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldEnrollmentView {
    pub id: i64,
    pub hostname: String,
    pub machine_id: String,
    pub ips: String,
    /// The enrollment token it came with (its display prefix).
    pub token_prefix: String,
    pub created_at: i64,
}

/// A token just created: the secret and the command that enrolls a host with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEnrollmentToken {
    pub token: EnrollmentTokenView,
    pub secret: String,
    pub command: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnrollmentTokenInput {
    pub name: String,
    #[serde(default)]
    pub group: String,
    /// Days until the token expires; empty means it does not.
    #[serde(default)]
    pub expires_in_days: String,
}

impl EnrollmentTokenInput {
    /// The days until expiry, if any; the form's problems are worded in `l`.
    pub fn validate(&self, l: Locale) -> Result<Option<i64>, AppError> {
        const MAX_NAME: usize = 64;
        let mut errors = FieldErrors::new();
        let name = self.name.trim();
        if name.is_empty() {
            errors.insert("name".into(), td_string!(l, assets.errors.name_token).into());
        } else if name.chars().count() > MAX_NAME {
            errors.insert("name".into(), td_string!(l, common.errors.at_most_chars, max = MAX_NAME));
        }
        if self.group.trim().chars().count() > MAX_NAME {
            errors.insert("group".into(), td_string!(l, common.errors.at_most_chars, max = MAX_NAME));
        }
        let days = match self.expires_in_days.trim() {
            "" => None,
            text => match text.parse::<i64>() {
                Ok(days) if (1..=365).contains(&days) => Some(days),
                _ => {
                    errors.insert("expires_in_days".into(), td_string!(l, assets.errors.expiry_days).into());
                    None
                }
            },
        };
        AppError::check(errors)?;
        Ok(days)
    }
}

// ---- Ingestion API payloads -------------------------------------------------------------

/// Items per ingestion request; larger loads are sent in several requests.
pub const MAX_BATCH: usize = 10_000;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AssetIn {
    pub instance_id: String,
    pub name: String,
    #[serde(default)]
    pub ips: Vec<String>,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default = "default_agent_status")]
    pub agent_status: AgentStatus,
    #[serde(default)]
    pub last_seen_at: Option<i64>,
}

fn default_agent_status() -> AgentStatus {
    AgentStatus::NotInstalled
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FindingIn {
    pub instance_id: String,
    pub advisory_id: String,
    pub title: String,
    pub severity: Severity,
    pub category: Category,
    #[serde(default)]
    pub package: String,
    #[serde(default)]
    pub installed_version: String,
    #[serde(default)]
    pub affected_versions: String,
    #[serde(default)]
    pub fix: String,
    #[serde(default = "default_finding_status")]
    pub status: FindingStatus,
    #[serde(default)]
    pub seen_at: Option<i64>,
}

fn default_finding_status() -> FindingStatus {
    FindingStatus::Unfixed
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AlertIn {
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub instance_id: Option<String>,
    pub name: String,
    pub alert_type: String,
    pub severity: Severity,
    #[serde(default = "default_alert_status")]
    pub status: AlertStatus,
    pub occurred_at: i64,
}

fn default_alert_status() -> AlertStatus {
    AlertStatus::Unhandled
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BaselineIn {
    pub instance_id: String,
    pub check_name: String,
    pub category: String,
    pub risk_level: Severity,
    pub passed: bool,
    #[serde(default)]
    pub checked_at: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AttackIn {
    #[serde(default)]
    pub instance_id: Option<String>,
    pub source_ip: String,
    pub target: String,
    pub attack_type: String,
    pub occurred_at: i64,
}

/// Collects `path: message` errors while validating a batch.
pub struct Problems<'a> {
    prefix: String,
    errors: &'a mut FieldErrors,
}

impl<'a> Problems<'a> {
    pub fn new(prefix: String, errors: &'a mut FieldErrors) -> Self {
        Problems { prefix, errors }
    }

    fn add(&mut self, field: &str, message: String) {
        self.errors.insert(format!("{}.{field}", self.prefix), message);
    }

    pub fn text(&mut self, field: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.add(field, "must not be empty".into());
        } else {
            self.optional_text(field, value, max);
        }
    }

    pub fn optional_text(&mut self, field: &str, value: &str, max: usize) {
        if value.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
        } else if value.chars().any(|c| c.is_control()) {
            self.add(field, "must not contain control characters".into());
        }
    }

    pub fn ip(&mut self, field: &str, value: &str) {
        if value.parse::<IpAddr>().is_err() {
            self.add(field, format!("\"{value}\" is not an IP address"));
        }
    }

    pub fn time(&mut self, field: &str, value: i64, now: i64) {
        // From 2000-01-01 to a day ahead of now (clock skew).
        if !(946_684_800..=now + 86_400).contains(&value) {
            self.add(field, format!("{value} is not a plausible Unix time in seconds"));
        }
    }
}

impl AssetIn {
    pub fn validate(&self, p: &mut Problems, now: i64) {
        p.text("instance_id", &self.instance_id, 128);
        p.text("name", &self.name, 128);
        if self.ips.len() > 16 {
            p.add("ips", "at most 16 addresses".into());
        }
        for (i, ip) in self.ips.iter().enumerate() {
            p.ip(&format!("ips[{i}]"), ip);
        }
        p.optional_text("os", &self.os, 128);
        p.optional_text("region", &self.region, 64);
        if let Some(group) = &self.group {
            p.text("group", group, 64);
        }
        if let Some(t) = self.last_seen_at {
            p.time("last_seen_at", t, now);
        }
    }
}

impl FindingIn {
    pub fn validate(&self, p: &mut Problems, now: i64) {
        p.text("instance_id", &self.instance_id, 128);
        p.text("advisory_id", &self.advisory_id, 64);
        p.text("title", &self.title, 512);
        p.optional_text("package", &self.package, 128);
        p.optional_text("installed_version", &self.installed_version, 128);
        p.optional_text("affected_versions", &self.affected_versions, 512);
        p.optional_text("fix", &self.fix, 512);
        if let Some(t) = self.seen_at {
            p.time("seen_at", t, now);
        }
    }
}

impl AlertIn {
    pub fn validate(&self, p: &mut Problems, now: i64) {
        if let Some(id) = &self.external_id {
            p.text("external_id", id, 128);
        }
        if let Some(id) = &self.instance_id {
            p.text("instance_id", id, 128);
        }
        p.text("name", &self.name, 256);
        p.text("alert_type", &self.alert_type, 64);
        p.time("occurred_at", self.occurred_at, now);
    }
}

impl BaselineIn {
    pub fn validate(&self, p: &mut Problems, now: i64) {
        p.text("instance_id", &self.instance_id, 128);
        p.text("check_name", &self.check_name, 256);
        p.text("category", &self.category, 64);
        if let Some(t) = self.checked_at {
            p.time("checked_at", t, now);
        }
    }
}

impl AttackIn {
    pub fn validate(&self, p: &mut Problems, now: i64) {
        if let Some(id) = &self.instance_id {
            p.text("instance_id", id, 128);
        }
        p.ip("source_ip", &self.source_ip);
        p.text("target", &self.target, 256);
        p.text("attack_type", &self.attack_type, 64);
        p.time("occurred_at", self.occurred_at, now);
    }
}

/// A vulnerability as an ingested finding, an advisory match or a scan report names it.
pub struct VulnerabilityEntry<'a> {
    pub advisory_id: &'a str,
    pub package: &'a str,
    pub title: &'a str,
    pub severity: &'a str,
    pub category: &'a str,
    pub affected_versions: &'a str,
    pub fix: &'a str,
}

impl<'a> VulnerabilityEntry<'a> {
    /// The catalogue entry an ingested finding names (fields trimmed).
    pub fn of_finding(f: &'a FindingIn) -> Self {
        VulnerabilityEntry {
            advisory_id: f.advisory_id.trim(),
            package: f.package.trim(),
            title: f.title.trim(),
            severity: f.severity.as_str(),
            category: f.category.as_str(),
            affected_versions: f.affected_versions.trim(),
            fix: f.fix.trim(),
        }
    }
}

/// Validates a whole batch; the first errors (at most 20) are reported by path.
pub fn validate_batch<T>(
    items: &[T],
    name: &str,
    now: i64,
    check: impl Fn(&T, &mut Problems, i64),
) -> Result<(), AppError> {
    if items.len() > MAX_BATCH {
        return Err(AppError::BatchTooLarge { items: name.to_string(), limit: MAX_BATCH, sent: items.len() });
    }
    let mut errors = FieldErrors::new();
    if items.is_empty() {
        errors.insert(name.to_string(), "must contain at least one item".into());
    } else {
        for (i, item) in items.iter().enumerate() {
            check(item, &mut Problems::new(format!("{name}[{i}]"), &mut errors), now);
            if errors.len() >= 20 {
                break;
            }
        }
    }
    AppError::check(errors)
}

impl Severity {
    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            Severity::Critical => td_string!(locale, common.severity.critical),
            Severity::High => td_string!(locale, common.severity.high),
            Severity::Medium => td_string!(locale, common.severity.medium),
            Severity::Low => td_string!(locale, common.severity.low),
        }
    }
}

impl Category {
    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            Category::Linux => td_string!(locale, common.category.linux),
            Category::Windows => td_string!(locale, common.category.windows),
            Category::WebCms => td_string!(locale, common.category.web_cms),
        }
    }
}

impl AgentStatus {
    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            AgentStatus::Online => td_string!(locale, assets.agent_status.online),
            AgentStatus::Offline => td_string!(locale, assets.agent_status.offline),
            AgentStatus::NotInstalled => td_string!(locale, assets.agent_status.not_installed),
        }
    }
}

impl FindingStatus {
    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            FindingStatus::Unfixed => td_string!(locale, assets.finding_status.unfixed),
            FindingStatus::Fixing => td_string!(locale, assets.finding_status.fixing),
            FindingStatus::Fixed => td_string!(locale, assets.finding_status.fixed),
            FindingStatus::FixFailed => td_string!(locale, assets.finding_status.fix_failed),
            FindingStatus::Ignored => td_string!(locale, assets.finding_status.ignored),
        }
    }
}

impl AlertStatus {
    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            AlertStatus::Unhandled => td_string!(locale, assets.alert_status.unhandled),
            AlertStatus::Handled => td_string!(locale, assets.alert_status.handled),
            AlertStatus::Ignored => td_string!(locale, assets.alert_status.ignored),
        }
    }
}

impl FixJobStatus {
    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            FixJobStatus::Queued => td_string!(locale, assets.job_status.queued),
            FixJobStatus::Running => td_string!(locale, assets.job_status.running),
            FixJobStatus::Succeeded => td_string!(locale, assets.job_status.succeeded),
            FixJobStatus::Simulated => td_string!(locale, assets.job_status.simulated),
            FixJobStatus::Failed => td_string!(locale, assets.job_status.failed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(ips: &[&str]) -> AssetIn {
        AssetIn {
            instance_id: "i-1".into(),
            name: "web-1".into(),
            ips: ips.iter().map(|s| s.to_string()).collect(),
            os: String::new(),
            region: String::new(),
            group: None,
            agent_status: AgentStatus::Online,
            last_seen_at: None,
        }
    }

    #[test]
    fn batch_errors_name_the_item_and_field() {
        let items = vec![asset(&["10.0.0.1"]), asset(&["10.0.0.300"])];
        let Err(AppError::Validation(errors)) = validate_batch(&items, "assets", 2_000_000_000, AssetIn::validate) else {
            panic!("expected a validation error")
        };
        assert_eq!(errors.get("assets[1].ips[0]").map(String::as_str), Some("\"10.0.0.300\" is not an IP address"));
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn empty_batches_and_implausible_times_are_refused() {
        assert!(validate_batch::<AssetIn>(&[], "assets", 0, AssetIn::validate).is_err());
        let mut a = asset(&[]);
        a.last_seen_at = Some(1_700_000_000_000);
        assert!(validate_batch(&[a], "assets", 1_800_000_000, AssetIn::validate).is_err());
    }

    #[test]
    fn wire_names_round_trip() {
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(*s));
        }
        assert_eq!(serde_json::to_string(&Category::WebCms).unwrap(), "\"web_cms\"");
        assert!(FindingStatus::FixFailed.is_open() && !FindingStatus::Ignored.is_open());
    }

    /// The English labels by language are the labels the server uses (CSV, emails).
    #[test]
    fn english_labels_match() {
        for s in AgentStatus::ALL {
            assert_eq!(s.label_in(Locale::en), s.label());
        }
        for s in FindingStatus::ALL {
            assert_eq!(s.label_in(Locale::en), s.label());
        }
        for s in AlertStatus::ALL {
            assert_eq!(s.label_in(Locale::en), s.label());
        }
        for s in FixJobStatus::ALL {
            assert_eq!(s.label_in(Locale::en), s.label());
        }
    }
}
