//! Security reports as they cross the wire: the report definition, its validation, and the
//! delivery and archive rows the history page lists.

use serde::{Deserialize, Serialize};

use crate::auth::model::validate_email;
use crate::error::{AppError, FieldErrors};
use crate::locale::{Locale, td_string};

/// Reports an account may have besides its default report.
pub const MAX_EXTRA_REPORTS: i64 = 9;
pub const MAX_RECIPIENTS: usize = 10;
pub const MAX_NAME: usize = 64;
/// The longest data collection period of a custom report, in days.
pub const MAX_CUSTOM_DAYS: i64 = 366;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReportKind {
    Daily,
    Weekly,
    Monthly,
    Custom,
}

impl ReportKind {
    pub const ALL: [ReportKind; 4] = [ReportKind::Daily, ReportKind::Weekly, ReportKind::Monthly, ReportKind::Custom];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Daily => "daily",
            ReportKind::Weekly => "weekly",
            ReportKind::Monthly => "monthly",
            ReportKind::Custom => "custom",
        }
    }

    pub fn parse(value: &str) -> Option<ReportKind> {
        ReportKind::ALL.into_iter().find(|k| k.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            ReportKind::Daily => "Daily",
            ReportKind::Weekly => "Weekly",
            ReportKind::Monthly => "Monthly",
            ReportKind::Custom => "Custom",
        }
    }
}

/// The six-hour window of the day, in the account's time zone, in which a report is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SendWindow {
    Night,
    Morning,
    Afternoon,
    Evening,
}

impl SendWindow {
    pub const ALL: [SendWindow; 4] = [SendWindow::Night, SendWindow::Morning, SendWindow::Afternoon, SendWindow::Evening];

    pub fn as_str(self) -> &'static str {
        match self {
            SendWindow::Night => "00-06",
            SendWindow::Morning => "06-12",
            SendWindow::Afternoon => "12-18",
            SendWindow::Evening => "18-24",
        }
    }

    pub fn parse(value: &str) -> Option<SendWindow> {
        SendWindow::ALL.into_iter().find(|w| w.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            SendWindow::Night => "00:00–06:00",
            SendWindow::Morning => "06:00–12:00",
            SendWindow::Afternoon => "12:00–18:00",
            SendWindow::Evening => "18:00–24:00",
        }
    }

    /// Local hour the window opens at; it closes six hours later.
    pub fn start_hour(self) -> u32 {
        match self {
            SendWindow::Night => 0,
            SendWindow::Morning => 6,
            SendWindow::Afternoon => 12,
            SendWindow::Evening => 18,
        }
    }
}

/// Which accounts a report covers: its own, or (a management account's) its managed accounts too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReportScope {
    ThisAccount,
    AllManaged,
    Chosen,
}

impl ReportScope {
    pub const ALL: [ReportScope; 3] = [ReportScope::ThisAccount, ReportScope::AllManaged, ReportScope::Chosen];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportScope::ThisAccount => "self",
            ReportScope::AllManaged => "managed",
            ReportScope::Chosen => "chosen",
        }
    }

    /// "" is this account, as forms without the field send.
    pub fn parse(value: &str) -> Option<ReportScope> {
        if value.is_empty() {
            return Some(ReportScope::ThisAccount);
        }
        ReportScope::ALL.into_iter().find(|s| s.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            ReportScope::ThisAccount => "This account",
            ReportScope::AllManaged => "This account and all managed accounts",
            ReportScope::Chosen => "This account and chosen managed accounts",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Section {
    Assets,
    Alerts,
    VulnLinux,
    VulnWindows,
    VulnWebCms,
    /// Container images admitted with known vulnerabilities (from each image's latest scan).
    Images,
    Baseline,
    Attacks,
    ScoreTrend,
    /// The per-account table of a consolidated report; added by itself, never chosen.
    Accounts,
    /// The vulnerability exceptions that expire in the 14 days after the period; added by itself
    /// right after `Images`, never chosen.
    ImageExceptions,
}

impl Section {
    pub const ALL: [Section; 9] = [
        Section::Assets,
        Section::Alerts,
        Section::VulnLinux,
        Section::VulnWindows,
        Section::VulnWebCms,
        Section::Images,
        Section::Baseline,
        Section::Attacks,
        Section::ScoreTrend,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Section::Assets => "assets",
            Section::Alerts => "alerts",
            Section::VulnLinux => "vuln_linux",
            Section::VulnWindows => "vuln_windows",
            Section::VulnWebCms => "vuln_web_cms",
            Section::Images => "images",
            Section::Baseline => "baseline",
            Section::Attacks => "attacks",
            Section::ScoreTrend => "score_trend",
            Section::Accounts => "accounts",
            Section::ImageExceptions => "image_exceptions",
        }
    }

    /// The label in the Reports table, where room is short.
    pub fn short_label(self) -> &'static str {
        match self {
            Section::VulnLinux => "Linux vulns",
            Section::VulnWindows => "Windows vulns",
            Section::VulnWebCms => "Web-CMS vulns",
            Section::Images => "Vulnerable images",
            Section::Baseline => "Baseline",
            Section::ScoreTrend => "Score trend",
            other => other.label(),
        }
    }

    /// A section people choose (not the automatic Accounts table).
    pub fn parse(value: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Any section of a generated document, for downloads.
    pub fn parse_any(value: &str) -> Option<Section> {
        Section::parse(value).or_else(|| [Section::Accounts, Section::ImageExceptions].into_iter().find(|s| s.as_str() == value))
    }

    pub fn label(self) -> &'static str {
        match self {
            Section::Assets => "Assets",
            Section::Alerts => "Alerts",
            Section::VulnLinux => "Vulnerabilities: Linux software",
            Section::VulnWindows => "Vulnerabilities: Windows",
            Section::VulnWebCms => "Vulnerabilities: Web-CMS",
            Section::Images => "Images admitted with known vulnerabilities",
            Section::Baseline => "Baseline check",
            Section::Attacks => "Attacks",
            Section::ScoreTrend => "Security score trend",
            Section::Accounts => "Accounts",
            Section::ImageExceptions => "Exceptions expiring in the next 14 days",
        }
    }
}

/// A report definition as listed on the Reports page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub id: i64,
    pub name: String,
    pub kind: ReportKind,
    /// Custom reports only: first and last day (YYYY-MM-DD), inclusive.
    pub custom_start: Option<String>,
    pub custom_end: Option<String>,
    pub window: SendWindow,
    pub recipients: Vec<String>,
    pub sections: Vec<Section>,
    pub enabled: bool,
    pub is_default: bool,
    pub scope: ReportScope,
    /// Chosen managed accounts (scope `Chosen`).
    pub scope_accounts: Vec<i64>,
    /// When the next scheduled send is due (Unix seconds); `None` when nothing is scheduled.
    pub next_send_at: Option<i64>,
    /// Data period of the next scheduled send ("YYYY-MM-DD – YYYY-MM-DD").
    pub next_period: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportList {
    pub reports: Vec<Report>,
    /// All reports of the account, ignoring filters (for the "n of 10" hint).
    pub total: i64,
    pub time_zone: String,
    /// No SMTP server is configured: mail lands in the local outbox.
    pub outbox_mode: bool,
}

/// The wizard's fields, as a form posts them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportInput {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub custom_start: String,
    #[serde(default)]
    pub custom_end: String,
    pub window: String,
    /// Addresses separated by commas, semicolons, spaces or new lines.
    #[serde(default)]
    pub recipients: String,
    #[serde(default)]
    pub sections: Vec<String>,
    /// "" or "self", "managed", "chosen".
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub scope_accounts: Vec<i64>,
}

/// A `ReportInput` that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidReport {
    pub name: String,
    pub kind: ReportKind,
    pub custom: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
    pub window: SendWindow,
    pub recipients: Vec<String>,
    pub sections: Vec<Section>,
    pub scope: ReportScope,
    pub scope_accounts: Vec<i64>,
}

/// Splits a recipient list, trims, lower-cases and removes duplicates (first one wins).
pub fn split_recipients(raw: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in raw.split([',', ';', ' ', '\n', '\r', '\t']) {
        let address = part.trim().to_ascii_lowercase();
        if !address.is_empty() && !out.contains(&address) {
            out.push(address);
        }
    }
    out
}

impl ReportInput {
    /// Step 1 of the wizard: name, type, period, window and recipients, worded in `l`.
    /// `require_recipients` is false only for the default report, which may wait for them.
    pub fn validate_basics(&self, require_recipients: bool, l: Locale) -> FieldErrors {
        let mut errors = FieldErrors::new();
        let name = self.name.trim();
        if name.is_empty() {
            errors.insert("name".into(), td_string!(l, reports.errors.enter_name).into());
        } else if name.chars().count() > MAX_NAME {
            errors.insert("name".into(), td_string!(l, common.errors.at_most_chars, max = MAX_NAME));
        }
        match ReportKind::parse(&self.kind) {
            None => {
                errors.insert("kind".into(), td_string!(l, reports.errors.choose_kind).into());
            }
            Some(ReportKind::Custom) => {
                let start = parse_date(&self.custom_start);
                let end = parse_date(&self.custom_end);
                match (start, end) {
                    (None, _) => {
                        errors.insert("custom_start".into(), td_string!(l, reports.errors.enter_custom_start).into());
                    }
                    (_, None) => {
                        errors.insert("custom_end".into(), td_string!(l, reports.errors.enter_custom_end).into());
                    }
                    (Some(s), Some(e)) if e < s => {
                        errors.insert("custom_end".into(), td_string!(l, reports.errors.end_before_start).into());
                    }
                    (Some(s), Some(e)) if (e - s).num_days() > MAX_CUSTOM_DAYS => {
                        errors.insert("custom_end".into(), td_string!(l, reports.errors.period_too_long, max = MAX_CUSTOM_DAYS));
                    }
                    _ => {}
                }
            }
            Some(_) => {}
        }
        if SendWindow::parse(&self.window).is_none() {
            errors.insert("window".into(), td_string!(l, reports.errors.choose_window).into());
        }
        let recipients = split_recipients(&self.recipients);
        if recipients.is_empty() {
            if require_recipients {
                errors.insert("recipients".into(), td_string!(l, reports.errors.add_recipient).into());
            }
        } else if recipients.len() > MAX_RECIPIENTS {
            errors.insert(
                "recipients".into(),
                td_string!(l, reports.errors.too_many_recipients, max = MAX_RECIPIENTS, given = recipients.len()),
            );
        } else if let Some(address) = recipients.iter().find(|r| validate_email(r).is_err()) {
            errors.insert("recipients".into(), td_string!(l, reports.errors.invalid_recipient, address));
        }
        match ReportScope::parse(&self.scope) {
            None => {
                errors.insert("scope".into(), td_string!(l, reports.errors.choose_scope).into());
            }
            Some(ReportScope::Chosen) if self.scope_accounts.is_empty() => {
                errors.insert("scope_accounts".into(), td_string!(l, reports.errors.choose_scope_accounts).into());
            }
            _ => {}
        }
        errors
    }

    /// Step 2 of the wizard: at least one known section.
    pub fn validate_sections(&self, l: Locale) -> FieldErrors {
        let mut errors = FieldErrors::new();
        if self.sections.is_empty() {
            errors.insert("sections".into(), td_string!(l, reports.errors.choose_section).into());
        } else if let Some(section) = self.sections.iter().find(|s| Section::parse(s).is_none()) {
            errors.insert("sections".into(), td_string!(l, reports.errors.unknown_section, section));
        }
        errors
    }

    pub fn validate(&self, require_recipients: bool, l: Locale) -> Result<ValidReport, AppError> {
        let mut errors = self.validate_basics(require_recipients, l);
        errors.extend(self.validate_sections(l));
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let kind = ReportKind::parse(&self.kind).expect("validated");
        let custom = match kind {
            ReportKind::Custom => Some((
                parse_date(&self.custom_start).expect("validated"),
                parse_date(&self.custom_end).expect("validated"),
            )),
            _ => None,
        };
        let mut sections: Vec<Section> = self.sections.iter().filter_map(|s| Section::parse(s)).collect();
        sections.sort();
        sections.dedup();
        Ok(ValidReport {
            name: self.name.trim().to_string(),
            kind,
            custom,
            window: SendWindow::parse(&self.window).expect("validated"),
            recipients: split_recipients(&self.recipients),
            sections,
            scope: ReportScope::parse(&self.scope).expect("validated"),
            scope_accounts: {
                let mut ids = self.scope_accounts.clone();
                ids.sort_unstable();
                ids.dedup();
                ids
            },
        })
    }
}

fn parse_date(value: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryStatus {
    /// Due at `due_at`, not yet sent.
    Scheduled,
    /// Claimed by a console replica and being sent.
    Sending,
    /// A temporary failure; retried at `next_attempt_at`.
    Retrying,
    Sent,
    /// A permanent failure, or temporary failures for 24 hours.
    Failed,
    /// Nothing to send: the report had no recipients when it was due.
    Skipped,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 6] = [
        DeliveryStatus::Scheduled,
        DeliveryStatus::Sending,
        DeliveryStatus::Retrying,
        DeliveryStatus::Sent,
        DeliveryStatus::Failed,
        DeliveryStatus::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Scheduled => "scheduled",
            DeliveryStatus::Sending => "sending",
            DeliveryStatus::Retrying => "retrying",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Skipped => "skipped",
        }
    }

    pub fn parse(value: &str) -> Option<DeliveryStatus> {
        DeliveryStatus::ALL.into_iter().find(|s| s.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            DeliveryStatus::Scheduled => "Scheduled",
            DeliveryStatus::Sending => "Sending",
            DeliveryStatus::Retrying => "Retrying",
            DeliveryStatus::Sent => "Sent",
            DeliveryStatus::Failed => "Failed",
            DeliveryStatus::Skipped => "Skipped",
        }
    }
}

/// One send of a report for one period: the delivery log's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub period_start: String,
    pub period_end: String,
    pub due_at: i64,
    pub status: DeliveryStatus,
    /// Sent by "Send now" rather than the schedule.
    pub manual: bool,
    /// Sent after its window had passed (the console was down).
    pub late: bool,
    pub attempts: i64,
    pub recipients: Vec<String>,
    pub sent_at: Option<i64>,
    /// The SMTP server's last answer, or where the outbox put the message.
    pub server_reply: String,
    /// The archived document, once generated (the first copy's: in the account's language when
    /// any recipient reads it).
    pub archive_id: Option<i64>,
    /// One copy per language its recipients read, each with its own document.
    pub copies: Vec<DeliveryCopy>,
}

/// The copy of a delivery in one language: who it is for, its document, and whom it reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryCopy {
    /// A language tag (`en`, `zh-CN`).
    pub language: String,
    pub recipients: Vec<String>,
    pub archive_id: Option<i64>,
    /// The addresses it was sent to; a retry sends only to the others.
    pub sent_to: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportHistory {
    pub report: Report,
    pub deliveries: Vec<Delivery>,
}

/// One generated report in the archive list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchiveEntry {
    pub id: i64,
    pub report_name: String,
    pub period_start: String,
    pub period_end: String,
    pub generated_at: i64,
    /// The report it came from, unless that was deleted since.
    pub report_id: Option<i64>,
    /// The language it is written in (`en`, `zh-CN`).
    pub language: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchivePage {
    pub entries: Vec<ArchiveEntry>,
    pub page: i64,
    pub total: i64,
}

pub const ARCHIVE_PAGE_SIZE: i64 = 50;

/// Where an archived report's PDF downloads from (the route in `downloads.rs`).
pub fn archive_pdf_href(archive_id: i64) -> String {
    format!("/reports/archive/{archive_id}/pdf")
}

/// Where one section's table of an archived report downloads as CSV.
pub fn archive_csv_href(archive_id: i64, section: Section) -> String {
    format!("/reports/archive/{archive_id}/csv/{}", section.as_str())
}

impl Report {
    /// What each send covers, as the table says it.
    pub fn period_description(&self) -> String {
        match self.kind {
            ReportKind::Daily => "Previous day".into(),
            ReportKind::Weekly => "Previous Monday–Sunday".into(),
            ReportKind::Monthly => "Previous calendar month".into(),
            ReportKind::Custom => format!(
                "{} – {}",
                self.custom_start.as_deref().unwrap_or("?"),
                self.custom_end.as_deref().unwrap_or("?")
            ),
        }
    }

    /// The wizard's fields for editing (or cloning) this report.
    pub fn to_input(&self) -> ReportInput {
        ReportInput {
            name: self.name.clone(),
            kind: self.kind.as_str().into(),
            custom_start: self.custom_start.clone().unwrap_or_default(),
            custom_end: self.custom_end.clone().unwrap_or_default(),
            window: self.window.as_str().into(),
            recipients: self.recipients.join(", "),
            sections: self.sections.iter().map(|s| s.as_str().to_string()).collect(),
            scope: self.scope.as_str().into(),
            scope_accounts: self.scope_accounts.clone(),
        }
    }
}

impl ReportKind {
    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            ReportKind::Daily => td_string!(locale, reports.kind.daily),
            ReportKind::Weekly => td_string!(locale, reports.kind.weekly),
            ReportKind::Monthly => td_string!(locale, reports.kind.monthly),
            ReportKind::Custom => td_string!(locale, reports.kind.custom),
        }
    }
}

impl ReportScope {
    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            ReportScope::ThisAccount => td_string!(locale, reports.scope.this_account),
            ReportScope::AllManaged => td_string!(locale, reports.scope.managed),
            ReportScope::Chosen => td_string!(locale, reports.scope.chosen),
        }
    }
}

impl Section {
    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            Section::Assets => td_string!(locale, reports.section.assets),
            Section::Alerts => td_string!(locale, reports.section.alerts),
            Section::VulnLinux => td_string!(locale, reports.section.vuln_linux),
            Section::VulnWindows => td_string!(locale, reports.section.vuln_windows),
            Section::VulnWebCms => td_string!(locale, reports.section.vuln_web_cms),
            Section::Images => td_string!(locale, reports.section.images),
            Section::Baseline => td_string!(locale, reports.section.baseline),
            Section::Attacks => td_string!(locale, reports.section.attacks),
            Section::ScoreTrend => td_string!(locale, reports.section.score_trend),
            Section::Accounts => td_string!(locale, reports.section.accounts),
            Section::ImageExceptions => td_string!(locale, reports.section.image_exceptions),
        }
    }

    /// The short label (the Reports table's) in the reader's language.
    pub fn short_label_in(self, locale: Locale) -> &'static str {
        match self {
            Section::VulnLinux => td_string!(locale, reports.section_short.vuln_linux),
            Section::VulnWindows => td_string!(locale, reports.section_short.vuln_windows),
            Section::VulnWebCms => td_string!(locale, reports.section_short.vuln_web_cms),
            Section::Images => td_string!(locale, reports.section_short.images),
            Section::Baseline => td_string!(locale, reports.section_short.baseline),
            Section::ScoreTrend => td_string!(locale, reports.section_short.score_trend),
            other => other.label_in(locale),
        }
    }
}

impl DeliveryStatus {
    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            DeliveryStatus::Scheduled => td_string!(locale, reports.delivery.scheduled),
            DeliveryStatus::Sending => td_string!(locale, reports.delivery.sending),
            DeliveryStatus::Retrying => td_string!(locale, reports.delivery.retrying),
            DeliveryStatus::Sent => td_string!(locale, reports.delivery.sent),
            DeliveryStatus::Failed => td_string!(locale, reports.delivery.failed),
            DeliveryStatus::Skipped => td_string!(locale, reports.delivery.skipped),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ReportInput {
        ReportInput {
            name: "Weekly for the SOC".into(),
            kind: "weekly".into(),
            window: "06-12".into(),
            recipients: "soc@example.com, Lead@Example.com;soc@example.com\nops@example.com".into(),
            sections: vec!["alerts".into(), "assets".into(), "alerts".into()],
            ..Default::default()
        }
    }

    #[test]
    fn recipients_are_split_trimmed_and_deduplicated() {
        let valid = input().validate(true, Locale::en).unwrap();
        assert_eq!(valid.recipients, ["soc@example.com", "lead@example.com", "ops@example.com"]);
        assert_eq!(valid.sections, [Section::Assets, Section::Alerts]);
    }

    /// The exceptions that follow the Images section are never chosen, but download like any section.
    #[test]
    fn the_image_exceptions_section_is_automatic() {
        assert_eq!(Section::parse("images"), Some(Section::Images));
        assert_eq!(Section::parse("image_exceptions"), None);
        assert_eq!(Section::parse_any("image_exceptions"), Some(Section::ImageExceptions));
        assert_eq!(Section::parse_any("accounts"), Some(Section::Accounts));
        assert_eq!(Section::parse_any("nonsense"), None);
    }

    #[test]
    fn each_bad_field_gets_its_own_message() {
        let bad = ReportInput { name: " ".into(), kind: "hourly".into(), window: "01-02".into(), recipients: String::new(), sections: vec![], ..Default::default() };
        let AppError::Validation(errors) = bad.validate(true, Locale::en).unwrap_err() else { panic!("validation error expected") };
        for field in ["name", "kind", "window", "recipients", "sections"] {
            assert!(errors.contains_key(field), "{field} missing from {errors:?}");
        }
        assert!(!bad.validate_basics(false, Locale::en).contains_key("recipients"), "the default report may wait for recipients");
    }

    #[test]
    fn recipients_are_bounded_and_valid() {
        let eleven = (0..11).map(|i| format!("u{i}@example.com")).collect::<Vec<_>>().join(",");
        let errors = ReportInput { recipients: eleven, ..input() }.validate_basics(true, Locale::en);
        assert_eq!(errors["recipients"], "Add at most 10 recipients (11 given).");
        let errors = ReportInput { recipients: "ok@example.com, not-an-address".into(), ..input() }.validate_basics(true, Locale::en);
        assert_eq!(errors["recipients"], "\u{201c}not-an-address\u{201d} is not a valid email address.");
        let errors = ReportInput { recipients: "ok@example.com, not-an-address".into(), ..input() }.validate_basics(true, Locale::zh_CN);
        // Verify the same check speaks Chinese to a Chinese reader.
        assert_eq!(errors["recipients"], "“not-an-address”不是有效的邮箱地址。");
    }

    #[test]
    fn custom_reports_need_an_ordered_period() {
        let custom = ReportInput { kind: "custom".into(), ..input() };
        assert!(custom.validate_basics(true, Locale::en).contains_key("custom_start"));
        let reversed = ReportInput { custom_start: "2026-11-20".into(), custom_end: "2026-11-01".into(), ..custom.clone() };
        assert_eq!(reversed.validate_basics(true, Locale::en)["custom_end"], "The end date must not be before the start date.");
        let fine = ReportInput { custom_start: "2026-11-01".into(), custom_end: "2026-11-20".into(), ..custom };
        assert!(fine.validate(true, Locale::en).unwrap().custom.is_some());
    }
}
