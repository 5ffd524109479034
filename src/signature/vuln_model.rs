//! Vulnerability-aware admission, as it crosses the wire: the vulnerability rule of a security
//! policy, image scans and their counts, exceptions per CVE, and what admission requests ran.

use serde::{Deserialize, Serialize};

use super::model::Outcome;
use crate::assets::model::Severity;
use crate::error::FieldErrors;
pub use crate::overview::score::SeverityCounts;
use crate::locale::{Locale, td_string};

/// What the vulnerability rule does with an image over its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VulnAction {
    /// Admit, with a warning the API server shows, and record it.
    Warn,
    /// Deny the object.
    Refuse,
}

impl VulnAction {
    pub const ALL: [VulnAction; 2] = [VulnAction::Warn, VulnAction::Refuse];

    pub fn as_str(self) -> &'static str {
        match self {
            VulnAction::Warn => "warn",
            VulnAction::Refuse => "refuse",
        }
    }

    pub fn parse(value: &str) -> Option<VulnAction> {
        VulnAction::ALL.into_iter().find(|a| a.as_str() == value)
    }

    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            VulnAction::Warn => td_string!(locale, signature.vuln_action.warn),
            VulnAction::Refuse => td_string!(locale, signature.vuln_action.refuse),
        }
    }
}

/// What the vulnerability rule does with an image no scan is stored for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnscannedAction {
    Admit,
    Warn,
    Refuse,
}

impl UnscannedAction {
    pub const ALL: [UnscannedAction; 3] = [UnscannedAction::Admit, UnscannedAction::Warn, UnscannedAction::Refuse];

    pub fn as_str(self) -> &'static str {
        match self {
            UnscannedAction::Admit => "admit",
            UnscannedAction::Warn => "warn",
            UnscannedAction::Refuse => "refuse",
        }
    }

    pub fn parse(value: &str) -> Option<UnscannedAction> {
        UnscannedAction::ALL.into_iter().find(|a| a.as_str() == value)
    }

    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            UnscannedAction::Admit => td_string!(locale, signature.unscanned_action.admit),
            UnscannedAction::Warn => td_string!(locale, signature.unscanned_action.warn),
            UnscannedAction::Refuse => td_string!(locale, signature.unscanned_action.refuse),
        }
    }
}

/// "2 critical, 5 high": the severities with a count, most severe first ("none" when empty).
pub fn describe_counts(counts: &SeverityCounts) -> String {
    let parts: Vec<String> = Severity::ALL
        .iter()
        .filter(|s| counts.get(**s) > 0)
        .map(|s| format!("{} {}", counts.get(*s), s.as_str()))
        .collect();
    if parts.is_empty() { "none".into() } else { parts.join(", ") }
}

/// The vulnerability rule of a security policy: an image breaks it when, for a severity at or
/// above `min_severity`, it has more findings (not covered by an active exception; only those with
/// a fixed version when `fixable_only`) than `allowed` of that severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VulnRule {
    pub action: VulnAction,
    pub min_severity: Severity,
    pub fixable_only: bool,
    /// Findings tolerated per severity (0 unless set); severities below `min_severity` are ignored.
    pub allowed: SeverityCounts,
    pub unscanned: UnscannedAction,
}

impl VulnRule {
    /// Whether findings of `severity` count against the rule.
    pub fn counts(&self, severity: Severity) -> bool {
        severity <= self.min_severity
    }
}

/// The most findings of one severity a rule may tolerate.
pub const MAX_ALLOWED: i64 = 100_000;

/// The fields of the policy form that make its vulnerability rule, as typed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VulnRuleInput {
    /// "off", "warn" or "refuse".
    pub action: String,
    /// "critical", "high", "medium" or "low".
    pub min_severity: String,
    pub fixable_only: bool,
    /// Tolerated counts as typed; blank means 0.
    pub allowed_critical: String,
    pub allowed_high: String,
    pub allowed_medium: String,
    pub allowed_low: String,
    /// "admit", "warn" or "refuse".
    pub unscanned: String,
}

impl Default for VulnRuleInput {
    fn default() -> Self {
        VulnRuleInput {
            action: "off".into(),
            min_severity: "critical".into(),
            fixable_only: false,
            allowed_critical: String::new(),
            allowed_high: String::new(),
            allowed_medium: String::new(),
            allowed_low: String::new(),
            unscanned: "admit".into(),
        }
    }
}

impl VulnRuleInput {
    /// The form's fields for a policy's rule (or for none).
    pub fn from_rule(rule: Option<&VulnRule>) -> VulnRuleInput {
        let Some(rule) = rule else { return VulnRuleInput::default() };
        let shown = |n: i64| if n == 0 { String::new() } else { n.to_string() };
        VulnRuleInput {
            action: rule.action.as_str().into(),
            min_severity: rule.min_severity.as_str().into(),
            fixable_only: rule.fixable_only,
            allowed_critical: shown(rule.allowed.critical),
            allowed_high: shown(rule.allowed.high),
            allowed_medium: shown(rule.allowed.medium),
            allowed_low: shown(rule.allowed.low),
            unscanned: rule.unscanned.as_str().into(),
        }
    }

    /// The rule ("off" gives none), or the problems by field, worded in `l`: `vuln_action`,
    /// `vuln_min_severity`, `vuln_allowed_<severity>`, `vuln_unscanned`.
    pub fn rule(&self, l: Locale) -> Result<Option<VulnRule>, FieldErrors> {
        let mut errors = FieldErrors::new();
        let action = match self.action.as_str() {
            "off" => None,
            other => match VulnAction::parse(other) {
                Some(action) => Some(action),
                None => {
                    errors.insert("vuln_action".into(), td_string!(l, signature.errors.choose_vuln_action).into());
                    None
                }
            },
        };
        let min_severity = Severity::parse(&self.min_severity);
        if min_severity.is_none() {
            errors.insert("vuln_min_severity".into(), td_string!(l, signature.errors.choose_min_severity).into());
        }
        let unscanned = UnscannedAction::parse(&self.unscanned);
        if unscanned.is_none() {
            errors.insert("vuln_unscanned".into(), td_string!(l, signature.errors.choose_unscanned).into());
        }
        let mut allowed = SeverityCounts::default();
        for (severity, text) in [
            (Severity::Critical, &self.allowed_critical),
            (Severity::High, &self.allowed_high),
            (Severity::Medium, &self.allowed_medium),
            (Severity::Low, &self.allowed_low),
        ] {
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            match text.parse::<i64>() {
                Ok(n) if (0..=MAX_ALLOWED).contains(&n) => allowed.add(severity, n),
                _ => {
                    errors.insert(format!("vuln_allowed_{}", severity.as_str()), td_string!(l, signature.errors.allowed_range, max = MAX_ALLOWED));
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let (Some(min_severity), Some(unscanned)) = (min_severity, unscanned) else { return Err(errors) };
        Ok(action.map(|action| VulnRule { action, min_severity, fixable_only: self.fixable_only, allowed, unscanned }))
    }
}

/// The latest scan of an image digest, as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanSummary {
    pub scanner: String,
    /// When the scanner ran (the report's `CreatedAt`), else when it was imported.
    pub scanned_at: i64,
    pub imported_at: i64,
    pub imported_by: String,
    pub packages: i64,
    pub counts: SeverityCounts,
    /// Of those, the findings with a fixed version.
    pub fixable: SeverityCounts,
}

impl ScanSummary {
    /// Critical or high findings: what the Images filter calls vulnerable.
    pub fn vulnerable(&self) -> bool {
        self.counts.critical + self.counts.high > 0
    }
}

/// What an imported scan stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScanAccepted {
    /// "registry/repository@sha256:…"
    pub image: String,
    /// Vulnerabilities stored (the report's, and those the OSV feed matched in its packages).
    pub vulnerabilities: usize,
    /// Of those, found by the OSV feed and not listed by the report.
    pub matched_by_osv: usize,
    /// Whether an earlier scan of the digest was replaced.
    pub replaced: bool,
}

/// One vulnerability of an image's latest scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageVulnerabilityView {
    pub vulnerability_id: String,
    pub package: String,
    pub installed_version: String,
    pub fixed_version: String,
    pub severity: Severity,
    pub title: String,
    /// "trivy" or "osv".
    pub source: String,
    /// The exception that lets it pass, if one is active.
    pub excepted_until: Option<i64>,
}

/// Where an image ran: one workload of one namespace, and the last decision it got there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRun {
    pub cluster_id: i64,
    pub cluster_name: String,
    pub namespace: String,
    /// "Pod", "Deployment", … ('' for what was recorded before workloads were).
    pub workload_kind: String,
    pub workload_name: String,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    pub outcome: Outcome,
}

/// The filters of the Images tab.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageFilter {
    #[serde(default)]
    pub search: String,
    /// Images that ran in this cluster (and namespace, when set).
    #[serde(default)]
    pub cluster_id: Option<i64>,
    #[serde(default)]
    pub namespace: String,
    /// No stored signature.
    #[serde(default)]
    pub unsigned: bool,
    /// The latest scan has critical or high findings.
    #[serde(default)]
    pub vulnerable: bool,
    /// No scan stored (tag-only images included).
    #[serde(default)]
    pub never_scanned: bool,
}

/// An exception: one CVE passes the vulnerability rule until it expires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExceptionView {
    pub id: i64,
    pub vulnerability_id: String,
    /// "" for every image of the account.
    pub repository: String,
    pub reason: String,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// Expired when listed: it no longer applies.
    pub expired: bool,
}

/// The exception form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExceptionInput {
    pub vulnerability_id: String,
    /// Optional: "registry/repository" the exception is limited to.
    #[serde(default)]
    pub repository: String,
    pub reason: String,
    /// The last day it applies, "YYYY-MM-DD" (UTC): it expires at the end of that day.
    pub expires_on: String,
}

/// How far ahead an exception may run.
pub const MAX_EXCEPTION_DAYS: i64 = 366;

impl ExceptionInput {
    /// The problems by field, worded in `l`, and when valid the expiry (the end of the day named,
    /// UTC), given the time now. The repository is checked by the server, which parses image
    /// references.
    pub fn validate(&self, now: i64, l: Locale) -> Result<i64, FieldErrors> {
        const MAX_REASON: usize = 500;
        const MAX_REPOSITORY: usize = 255;
        let mut errors = FieldErrors::new();
        let id = self.vulnerability_id.trim();
        if id.is_empty() {
            errors.insert("vulnerability_id".into(), td_string!(l, signature.errors.enter_vulnerability_id).into());
        } else if !is_vulnerability_id(id) {
            errors.insert("vulnerability_id".into(), td_string!(l, signature.errors.bad_vulnerability_id).into());
        }
        let reason = self.reason.trim();
        if reason.is_empty() {
            errors.insert("reason".into(), td_string!(l, signature.errors.enter_reason).into());
        } else if reason.chars().count() > MAX_REASON {
            errors.insert("reason".into(), td_string!(l, common.errors.at_most_chars, max = MAX_REASON));
        }
        if self.repository.chars().count() > MAX_REPOSITORY {
            errors.insert("repository".into(), td_string!(l, common.errors.at_most_chars, max = MAX_REPOSITORY));
        }
        let expires_at = match parse_day(self.expires_on.trim()) {
            None => {
                errors.insert("expires_on".into(), td_string!(l, signature.errors.choose_expires_on).into());
                0
            }
            Some(day_start) => {
                let end = day_start + 86_400;
                if end <= now {
                    errors.insert("expires_on".into(), td_string!(l, signature.errors.expires_in_past).into());
                } else if end - now > MAX_EXCEPTION_DAYS * 86_400 {
                    errors.insert("expires_on".into(), td_string!(l, signature.errors.expires_too_far, max = MAX_EXCEPTION_DAYS));
                }
                end
            }
        };
        if errors.is_empty() { Ok(expires_at) } else { Err(errors) }
    }
}

/// Whether `id` reads as an advisory id: a letter first, then letters, digits, '-', '.', ':' (≤ 64).
pub fn is_vulnerability_id(id: &str) -> bool {
    id.len() <= 64
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id.contains('-')
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '_'))
}

/// The start (00:00 UTC) of a "YYYY-MM-DD" day, as Unix seconds.
fn parse_day(text: &str) -> Option<i64> {
    let mut parts = text.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let date = chrono::NaiveDate::from_ymd_opt(y as i32, m, d)?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp())
}

/// Reads a policy's stored rule ('' for none).
pub fn stored_rule(text: &str) -> Option<VulnRule> {
    if text.is_empty() {
        return None;
    }
    serde_json::from_str(text).ok()
}

pub fn store_rule(rule: Option<&VulnRule>) -> String {
    rule.map(|r| serde_json::to_string(r).unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-03-10 12:00:00 UTC
    const NOW: i64 = 1_773_144_000;

    #[test]
    fn a_rule_is_read_from_the_form_with_blank_counts_as_zero() {
        let input = VulnRuleInput { action: "refuse".into(), min_severity: "high".into(), allowed_high: " 3 ".into(), ..VulnRuleInput::default() };
        let rule = input.rule(Locale::en).unwrap().unwrap();
        assert_eq!((rule.action, rule.min_severity, rule.allowed.high, rule.allowed.critical), (VulnAction::Refuse, Severity::High, 3, 0));
        assert!(rule.counts(Severity::Critical) && rule.counts(Severity::High) && !rule.counts(Severity::Medium));
        assert_eq!(VulnRuleInput::from_rule(Some(&rule)).rule(Locale::en).unwrap(), Some(rule));
        assert_eq!(VulnRuleInput::default().rule(Locale::en).unwrap(), None);
    }

    #[test]
    fn a_rule_names_each_bad_field() {
        let input = VulnRuleInput { action: "block".into(), min_severity: "severe".into(), allowed_low: "-1".into(), unscanned: "x".into(), ..VulnRuleInput::default() };
        let errors = input.rule(Locale::en).unwrap_err();
        assert_eq!(errors.keys().map(String::as_str).collect::<Vec<_>>(), vec!["vuln_action", "vuln_allowed_low", "vuln_min_severity", "vuln_unscanned"]);
        let too_many = VulnRuleInput { action: "warn".into(), allowed_high: "100001".into(), ..VulnRuleInput::default() };
        assert!(too_many.rule(Locale::en).unwrap_err()["vuln_allowed_high"].contains("0 to 100000"));
    }

    #[test]
    fn an_exception_runs_to_the_end_of_its_last_day() {
        let input = ExceptionInput { vulnerability_id: "CVE-2024-3094".into(), repository: String::new(), reason: "Not reachable: xz is not linked".into(), expires_on: "2026-03-31".into() };
        // 2026-04-01 00:00:00 UTC
        assert_eq!(input.validate(NOW, Locale::en).unwrap(), 1_775_001_600);
        let today = ExceptionInput { expires_on: "2026-03-10".into(), ..input.clone() };
        assert_eq!(today.validate(NOW, Locale::en).unwrap(), 1_773_187_200);
        let past = ExceptionInput { expires_on: "2026-03-09".into(), ..input.clone() };
        assert_eq!(past.validate(NOW, Locale::en).unwrap_err()["expires_on"], "Choose a day that has not passed.");
        let far = ExceptionInput { expires_on: "2027-03-12".into(), ..input.clone() };
        assert!(far.validate(NOW, Locale::en).unwrap_err()["expires_on"].contains("366 days"));
        let bad = ExceptionInput { vulnerability_id: "DROP TABLE".into(), reason: " ".into(), expires_on: "31/03/2026".into(), ..input };
        assert_eq!(bad.validate(NOW, Locale::en).unwrap_err().keys().map(String::as_str).collect::<Vec<_>>(), vec!["expires_on", "reason", "vulnerability_id"]);
    }

    #[test]
    fn counts_read_most_severe_first() {
        let counts = SeverityCounts { critical: 2, high: 0, medium: 1, low: 7 };
        assert_eq!(describe_counts(&counts), "2 critical, 1 medium, 7 low");
        assert_eq!(describe_counts(&SeverityCounts::default()), "none");
        assert!(is_vulnerability_id("GHSA-xxxx-yyyy-zzzz") && is_vulnerability_id("DSA-5678-1") && !is_vulnerability_id("CVE 1"));
    }
}
