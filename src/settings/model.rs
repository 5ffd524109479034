//! Settings models that cross the wire.

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::locale::{Locale, td_string};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenSummary {
    pub id: i64,
    pub name: String,
    /// The first characters, enough to recognise a token; the secret itself is never stored.
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub name: String,
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub at: i64,
}

pub const MAX_TOKEN_NAME: usize = 64;

pub fn validate_token_name(name: &str, l: Locale) -> Result<(), AppError> {
    let name = name.trim();
    if name.is_empty() {
        Err(AppError::field("name", td_string!(l, settings.errors.name_token)))
    } else if name.chars().count() > MAX_TOKEN_NAME {
        Err(AppError::field("name", td_string!(l, common.errors.at_most_chars, max = MAX_TOKEN_NAME)))
    } else {
        Ok(())
    }
}

/// The Email settings as the browser sees them: the password never comes back, only (to admins)
/// whether one is stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmailSettings {
    /// `None` when the account has no SMTP server of its own.
    pub smtp: Option<SmtpView>,
    /// The console has an SMTP server from its environment that this account falls back to.
    pub console_smtp: Option<String>,
    /// Mail of this account goes to the local outbox.
    pub outbox_mode: bool,
    pub time_zone: String,
    /// The account's default language (`en`, `zh-CN`): its scheduled reports are written in it.
    pub language: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmtpView {
    pub host: String,
    pub port: i64,
    pub security: String,
    /// For admins, who edit it; `None` for viewers, who see no credential or hint of one.
    pub username: Option<String>,
    /// Whether a password is stored (admins only; `None` for viewers).
    pub has_password: Option<bool>,
    pub from: String,
}

/// The SMTP form. An empty password keeps the stored one unless `clear_password` is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SmtpInput {
    pub host: String,
    pub port: String,
    pub security: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub clear_password: Option<String>,
    pub from: String,
    /// With security "none", the admin's explicit choice to send the user name and password
    /// unencrypted; without it such a form is refused.
    #[serde(default)]
    pub plain_auth: bool,
}

impl SmtpInput {
    /// The form's problems, worded in `l`. A user name over an unencrypted connection needs the
    /// admin's explicit choice (`plain_auth`).
    pub fn validate(&self, l: Locale) -> crate::error::FieldErrors {
        let mut errors = crate::error::FieldErrors::new();
        let host = self.host.trim();
        if host.is_empty() {
            errors.insert("host".into(), td_string!(l, settings.errors.enter_smtp_host).into());
        } else if host.len() > 253 || !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')) {
            errors.insert("host".into(), td_string!(l, settings.errors.smtp_host_shape).into());
        }
        match self.port.trim().parse::<u16>() {
            Ok(port) if port > 0 => {}
            _ => {
                errors.insert("port".into(), td_string!(l, settings.errors.port_range).into());
            }
        }
        if !matches!(self.security.as_str(), "starttls" | "tls" | "none") {
            errors.insert("security".into(), td_string!(l, settings.errors.choose_security).into());
        }
        let from = self.from.trim();
        let address = from.rsplit_once('<').map(|(_, a)| a.trim_end_matches('>').trim()).unwrap_or(from);
        if let Err(problem) = crate::auth::model::validate_email(address) {
            let message = if from.is_empty() { td_string!(l, settings.errors.enter_from).into() } else { problem.message(l) };
            errors.insert("from".into(), message);
        }
        if self.username.trim().is_empty() && !self.password.is_empty() {
            errors.insert("username".into(), td_string!(l, settings.errors.password_needs_username).into());
        } else if self.needs_plain_auth_choice() && !self.plain_auth {
            errors.insert("security".into(), td_string!(l, settings.errors.plain_auth).into());
        }
        errors
    }

    /// AUTH over a connection without TLS: only when the admin says so.
    pub fn needs_plain_auth_choice(&self) -> bool {
        self.security == "none" && !self.username.trim().is_empty()
    }
}

