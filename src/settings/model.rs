//! Settings models that cross the wire.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

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

pub fn validate_token_name(name: &str) -> Result<(), AppError> {
    let name = name.trim();
    if name.is_empty() {
        Err(AppError::field("name", "Name the token after what uses it, e.g. \"vulnerability scanner\"."))
    } else if name.chars().count() > 64 {
        Err(AppError::field("name", "Use at most 64 characters."))
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

/// Why a user name over an unencrypted connection needs the admin's explicit choice.
pub const PLAIN_AUTH_WARNING: &str =
    "Without encryption the user name and password cross the network readable by anyone on the path. Choose STARTTLS or TLS, or tick \u{201c}Send the password unencrypted\u{201d} for a relay on a trusted network.";

impl SmtpInput {
    pub fn validate(&self) -> crate::error::FieldErrors {
        let mut errors = crate::error::FieldErrors::new();
        let host = self.host.trim();
        if host.is_empty() {
            errors.insert("host".into(), "Enter the SMTP server's host name.".into());
        } else if host.len() > 253 || !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')) {
            errors.insert("host".into(), "Enter a host name or IP address, without scheme or port.".into());
        }
        match self.port.trim().parse::<u16>() {
            Ok(port) if port > 0 => {}
            _ => {
                errors.insert("port".into(), "Enter a port between 1 and 65535.".into());
            }
        }
        if !matches!(self.security.as_str(), "starttls" | "tls" | "none") {
            errors.insert("security".into(), "Choose STARTTLS, TLS or None.".into());
        }
        let from = self.from.trim();
        let address = from.rsplit_once('<').map(|(_, a)| a.trim_end_matches('>').trim()).unwrap_or(from);
        if let Err(message) = crate::auth::model::validate_email(address) {
            errors.insert("from".into(), if from.is_empty() { "Enter the From address.".into() } else { message });
        }
        if self.username.trim().is_empty() && !self.password.is_empty() {
            errors.insert("username".into(), "A password needs a user name.".into());
        } else if self.needs_plain_auth_choice() && !self.plain_auth {
            errors.insert("security".into(), PLAIN_AUTH_WARNING.into());
        }
        errors
    }

    /// AUTH over a connection without TLS: only when the admin says so.
    pub fn needs_plain_auth_choice(&self) -> bool {
        self.security == "none" && !self.username.trim().is_empty()
    }
}

