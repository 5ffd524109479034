//! Playbook models that cross the wire: policies, chatbots, tasks and their results, and the
//! task form's input with its validation (run in the browser and again on the server).

use serde::{Deserialize, Serialize};

use crate::assets::model::{Category, Severity};
use crate::error::FieldErrors;
use crate::locale::{Locale, td_string};

/// A policy template of the Policy Center.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyTemplate {
    pub key: String,
    pub name: String,
    pub description: String,
    pub policy_type: String,
    pub mode: String,
    /// When the template was last changed (Unix seconds); it ships with Bulwark.
    pub updated_at: i64,
}

pub const BATCH_FIX_TEMPLATE: &str = "batch_vulnerability_fix";

/// The templates Bulwark ships.
pub fn templates() -> Vec<PolicyTemplate> {
    vec![PolicyTemplate {
        key: BATCH_FIX_TEMPLATE.into(),
        name: "Automatic batch vulnerability fixing policies".into(),
        description: "Supports multiple hosts to automatically fix vulnerabilities in batches.".into(),
        policy_type: "Vulnerability".into(),
        mode: "Manual".into(),
        // 2026-11-27 00:00 UTC, when this template was written.
        updated_at: 1_795_737_600,
    }]
}

/// A policy of My Policy (a clone of a template).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub policy_type: String,
    pub mode: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Tasks of this policy that are waiting or running: the policy cannot be deleted meanwhile.
    pub active_tasks: i64,
}

/// A DingTalk chatbot as the browser sees it: never its webhook token or signing secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chatbot {
    pub id: i64,
    pub name: String,
    /// The webhook's host and path, with the access token masked; empty for viewers.
    pub webhook_hint: String,
    pub signed: bool,
    pub keywords: Vec<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatbotInput {
    pub name: String,
    pub webhook: String,
    #[serde(default)]
    pub secret: String,
    #[serde(default)]
    pub keywords: String,
}

/// The host part of an http(s) URL, without port or credentials.
fn url_host(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.starts_with('[') {
        return authority.split(']').next().unwrap_or_default().trim_start_matches('[');
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

impl ChatbotInput {
    /// The form's problems, worded in `l`.
    pub fn validate(&self, l: Locale) -> FieldErrors {
        const MAX_NAME: usize = 64;
        const MAX_SECRET: usize = 128;
        const MAX_KEYWORDS: usize = 10;
        const MAX_KEYWORD: usize = 32;
        let mut errors = FieldErrors::new();
        let name = self.name.trim();
        if name.is_empty() {
            errors.insert("name".into(), td_string!(l, playbook.errors.name_chatbot).into());
        } else if name.chars().count() > MAX_NAME {
            errors.insert("name".into(), td_string!(l, common.errors.at_most_chars, max = MAX_NAME));
        }
        let webhook = self.webhook.trim();
        let lower = webhook.to_ascii_lowercase();
        let not_a_webhook = td_string!(l, playbook.errors.not_a_webhook);
        let message = if webhook.is_empty() {
            Some(td_string!(l, playbook.errors.paste_webhook))
        } else if webhook.len() > 1024 || webhook.contains(char::is_whitespace) {
            Some(not_a_webhook)
        } else if let Some(rest) = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")) {
            // Which hosts (and whether plain http) is the operator's policy, checked by the server.
            url_host(rest).is_empty().then_some(not_a_webhook)
        } else {
            Some(td_string!(l, playbook.errors.use_https))
        };
        if let Some(message) = message {
            errors.insert("webhook".into(), message.into());
        } else if webhook.contains('@') && webhook.split('/').nth(2).is_some_and(|a| a.contains('@')) {
            errors.insert("webhook".into(), td_string!(l, playbook.errors.webhook_credentials).into());
        }
        if self.secret.trim().chars().count() > MAX_SECRET {
            errors.insert("secret".into(), td_string!(l, common.errors.at_most_chars, max = MAX_SECRET));
        }
        let keywords = self.keyword_list();
        if keywords.len() > MAX_KEYWORDS || keywords.iter().any(|k| k.chars().count() > MAX_KEYWORD) {
            errors.insert("keywords".into(), td_string!(l, playbook.errors.too_many_keywords, max = MAX_KEYWORDS, chars = MAX_KEYWORD));
        }
        errors
    }

    /// Keywords separated by commas or new lines.
    pub fn keyword_list(&self) -> Vec<String> {
        self.keywords.split([',', '\n']).map(str::trim).filter(|k| !k.is_empty()).map(str::to_string).collect()
    }
}

/// An asset the task form can pick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskAsset {
    pub id: i64,
    pub name: String,
    pub ips: Vec<String>,
    pub group_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskGroup {
    pub id: i64,
    pub name: String,
    pub asset_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskChoices {
    pub groups: Vec<TaskGroup>,
    pub assets: Vec<TaskAsset>,
    pub chatbots: Vec<Chatbot>,
    pub time_zone: String,
}

/// Fuzzy match for the asset search: every character of the query appears in order in the
/// name or in one of the addresses, ignoring case ("wp1" finds "web-prod-01").
pub fn fuzzy_match(query: &str, asset: &TaskAsset) -> bool {
    let query: Vec<char> = query.trim().to_lowercase().chars().filter(|c| !c.is_whitespace()).collect();
    if query.is_empty() {
        return true;
    }
    let subsequence = |text: &str| {
        let mut wanted = query.iter().peekable();
        for c in text.to_lowercase().chars() {
            if wanted.peek() == Some(&&c) {
                wanted.next();
            }
        }
        wanted.peek().is_none()
    };
    subsequence(&asset.name) || asset.ips.iter().any(|ip| subsequence(ip))
}

/// An unfixed vulnerability present on some of the selected assets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskVulnerability {
    pub vulnerability_id: i64,
    pub advisory_id: String,
    pub title: String,
    pub severity: Severity,
    pub category: Category,
    pub package: String,
    /// How many of the selected assets have it.
    pub hosts: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskInput {
    pub policy_id: i64,
    pub name: String,
    #[serde(default)]
    pub asset_ids: Vec<i64>,
    #[serde(default)]
    pub vulnerability_ids: Vec<i64>,
    #[serde(default)]
    pub chatbot_ids: Vec<i64>,
    #[serde(default)]
    pub emails: String,
    /// False: execute now. True: at `execute_at` (`YYYY-MM-DDTHH:MM` in the account's zone).
    #[serde(default)]
    pub custom_time: bool,
    #[serde(default)]
    pub execute_at: String,
    #[serde(default)]
    pub concurrency: String,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub stop_after: String,
}

pub const DEFAULT_CONCURRENCY: i64 = 10;
pub const MAX_TASK_ASSETS: usize = 10_000;
/// Hosts × vulnerabilities one task may cover: the work of a run, and the rows it writes.
pub const MAX_TASK_PAIRS: u64 = 100_000;

impl TaskInput {
    /// Everything that needs no database, worded in `l`; the server also checks ownership,
    /// uniqueness and that a custom time is in the future.
    pub fn validate(&self, l: Locale) -> FieldErrors {
        const MAX_NAME: usize = 64;
        let mut errors = FieldErrors::new();
        let name = self.name.trim();
        if name.is_empty() {
            errors.insert("name".into(), td_string!(l, playbook.errors.enter_task_name).into());
        } else if name.chars().count() > MAX_NAME {
            errors.insert("name".into(), td_string!(l, common.errors.at_most_chars, max = MAX_NAME));
        }
        if self.asset_ids.is_empty() {
            errors.insert("assets".into(), td_string!(l, playbook.errors.select_asset).into());
        } else if self.asset_ids.len() > MAX_TASK_ASSETS {
            errors.insert("assets".into(), td_string!(l, playbook.errors.too_many_assets, max = MAX_TASK_ASSETS));
        }
        let pairs = (self.asset_ids.len() as u64).saturating_mul(self.vulnerability_ids.len() as u64);
        if self.vulnerability_ids.is_empty() {
            errors.insert("vulnerabilities".into(), td_string!(l, playbook.errors.select_vulnerability).into());
        } else if pairs > MAX_TASK_PAIRS {
            errors.insert(
                "vulnerabilities".into(),
                td_string!(
                    l,
                    playbook.errors.too_many_pairs,
                    hosts = self.asset_ids.len(),
                    vulnerabilities = self.vulnerability_ids.len(),
                    pairs
                ),
            );
        }
        if let Err(message) = self.email_list(l) {
            errors.insert("emails".into(), message);
        }
        if self.custom_time && crate::format::parse_local_minute(&self.execute_at).is_none() {
            errors.insert("execute_at".into(), td_string!(l, playbook.errors.choose_execute_at).into());
        }
        if let Err(message) = self.concurrency_value(l) {
            errors.insert("concurrency".into(), message);
        }
        if let Err(message) = self.stop_after_value(l) {
            errors.insert("stop_after".into(), message);
        }
        errors
    }

    pub fn email_list(&self, l: Locale) -> Result<Vec<String>, String> {
        const MAX_EMAILS: usize = 20;
        let emails: Vec<String> = self.emails.split(',').map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty()).collect();
        if emails.len() > MAX_EMAILS {
            return Err(td_string!(l, playbook.errors.too_many_emails, max = MAX_EMAILS));
        }
        for email in &emails {
            crate::auth::model::validate_email(email)
                .map_err(|problem| td_string!(l, playbook.errors.bad_email, email, problem = problem.message(l)))?;
        }
        Ok(emails)
    }

    pub fn concurrency_value(&self, l: Locale) -> Result<i64, String> {
        match self.concurrency.trim() {
            "" => Ok(DEFAULT_CONCURRENCY),
            text => text
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| td_string!(l, playbook.errors.concurrency_range).to_string()),
        }
    }

    pub fn stop_after_value(&self, l: Locale) -> Result<Option<i64>, String> {
        match self.stop_after.trim() {
            "" => Ok(None),
            text => text
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=10_000).contains(n))
                .map(Some)
                .ok_or_else(|| td_string!(l, playbook.errors.stop_after_range).to_string()),
        }
    }
}

macro_rules! status_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal, $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $text),+ } }
            pub fn label(self) -> &'static str { match self { $($name::$variant => $label),+ } }
            pub fn parse(value: &str) -> Option<$name> { [$($name::$variant),+].into_iter().find(|v| v.as_str() == value) }
        }
    };
}

status_enum!(TaskStatus { Waiting => "waiting", "Waiting", Running => "running", "Running", Completed => "completed", "Completed", Cancelled => "cancelled", "Cancelled" });
status_enum!(
    /// A host's (and each of its vulnerabilities') state in one execution.
    HostStatus { Waiting => "waiting", "Waiting", Running => "running", "Running", Fixed => "fixed", "Fixed",
                 Simulated => "simulated", "Simulated", Failed => "failed", "Failed", Skipped => "skipped", "Skipped" }
);

impl TaskStatus {
    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            TaskStatus::Waiting => td_string!(locale, playbook.task_status.waiting),
            TaskStatus::Running => td_string!(locale, playbook.task_status.running),
            TaskStatus::Completed => td_string!(locale, playbook.task_status.completed),
            TaskStatus::Cancelled => td_string!(locale, playbook.task_status.cancelled),
        }
    }
}

impl HostStatus {
    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            HostStatus::Waiting => td_string!(locale, playbook.host_status.waiting),
            HostStatus::Running => td_string!(locale, playbook.host_status.running),
            HostStatus::Fixed => td_string!(locale, playbook.host_status.fixed),
            HostStatus::Simulated => td_string!(locale, playbook.host_status.simulated),
            HostStatus::Failed => td_string!(locale, playbook.host_status.failed),
            HostStatus::Skipped => td_string!(locale, playbook.host_status.skipped),
        }
    }
}

impl TaskStatus {
    /// Waiting for its time or running: it can still change, and be cancelled.
    pub fn is_active(self) -> bool {
        matches!(self, TaskStatus::Waiting | TaskStatus::Running)
    }
}

/// A row of Task Management.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRow {
    pub id: i64,
    pub name: String,
    pub policy_name: String,
    pub executed_num: i64,
    pub custom_time: bool,
    pub dry_run: bool,
    pub execute_at: i64,
    pub created_at: i64,
    pub completed_at: Option<i64>,
    pub status: TaskStatus,
    /// Totals of the latest execution.
    pub total: i64,
    pub success: i64,
    pub failed: i64,
}

impl TaskRow {
    pub fn mode(&self) -> String {
        let when = if self.custom_time { "Custom time" } else { "Execute" };
        if self.dry_run {
            format!("{when}, dry run")
        } else {
            when.to_string()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemResult {
    pub advisory_id: String,
    pub package: String,
    pub status: HostStatus,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostResult {
    pub asset_id: i64,
    pub asset_name: String,
    pub ips: Vec<String>,
    pub status: HostStatus,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub error: Option<String>,
    pub output: String,
    pub items: Vec<ItemResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunView {
    pub number: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub total: i64,
    pub success: i64,
    pub failed: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskDetail {
    pub task: TaskRow,
    pub concurrency: i64,
    pub stop_after: Option<i64>,
    pub emails: Vec<String>,
    pub chatbots: Vec<String>,
    pub vulnerabilities: Vec<TaskVulnerability>,
    pub runs: Vec<RunView>,
    /// The execution shown (the latest unless another was asked for).
    pub run: Option<i64>,
    pub hosts: Vec<HostResult>,
    pub notify_log: String,
    pub time_zone: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> TaskInput {
        TaskInput { policy_id: 1, name: "Patch openssl".into(), asset_ids: vec![1], vulnerability_ids: vec![2], ..TaskInput::default() }
    }

    #[test]
    fn a_complete_task_is_valid() {
        assert!(input().validate(Locale::en).is_empty());
        assert_eq!(input().concurrency_value(Locale::en), Ok(10));
    }

    #[test]
    fn each_bad_field_is_named() {
        let bad = TaskInput {
            name: " ".into(),
            asset_ids: vec![],
            vulnerability_ids: vec![],
            emails: "ops@example.com, not-an-email".into(),
            custom_time: true,
            execute_at: "tomorrow".into(),
            concurrency: "0".into(),
            stop_after: "-1".into(),
            ..input()
        };
        let errors = bad.validate(Locale::en);
        for field in ["name", "assets", "vulnerabilities", "emails", "execute_at", "concurrency", "stop_after"] {
            assert!(errors.contains_key(field), "{field}: {errors:?}");
        }
        assert!(errors["emails"].starts_with("not-an-email: "), "{}", errors["emails"]);
        // Verify the same problems in Chinese, the address quoted in Chinese marks.
        let chinese = bad.validate(Locale::zh_CN);
        assert_eq!(chinese["emails"], "not-an-email：“not-an-email”不是有效的邮箱地址。");
        assert_eq!(chinese["name"], "请输入任务名称。");
    }

    #[test]
    fn webhooks_are_http_urls_without_credentials() {
        let bot = |webhook: &str| ChatbotInput { name: "ops".into(), webhook: webhook.into(), ..Default::default() }.validate(Locale::en);
        assert!(bot("https://oapi.dingtalk.com/robot/send?access_token=abc").is_empty());
        // The host list and plain http are the server's outbound policy, not the form's.
        assert!(bot("http://127.0.0.1:8080/robot/send?access_token=abc").is_empty());
        assert_eq!(bot("ftp://x")["webhook"], "Use an https:// URL.");
        assert_eq!(bot("https://")["webhook"], "This is not a webhook URL.");
        assert_eq!(bot("https://user:pw@oapi.dingtalk.com/robot")["webhook"], "The URL must not carry a user name or password.");
    }

    #[test]
    fn fuzzy_search_matches_in_order_on_names_and_addresses() {
        let asset = TaskAsset { id: 1, name: "web-prod-01".into(), ips: vec!["10.0.1.5".into()], group_id: None };
        assert!(fuzzy_match("wp01", &asset));
        assert!(fuzzy_match("WEB", &asset));
        assert!(fuzzy_match("10.0.1", &asset));
        assert!(!fuzzy_match("db", &asset));
        assert!(!fuzzy_match("10w", &asset));
    }
}
