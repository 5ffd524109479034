//! Accounts, users and roles as they cross the wire.

use serde::{Deserialize, Serialize};

use crate::editions::{Edition, Feature, Service};
use crate::error::{AppError, FieldErrors};
use crate::locale::{Locale, td_string};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Admin,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Admin, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Viewer => "Viewer",
        }
    }
}

/// A cloud account signs in by itself; a resource account is managed from a management account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountKind {
    Cloud,
    Resource,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Cloud => "cloud",
            AccountKind::Resource => "resource",
        }
    }

    pub fn parse(value: &str) -> Option<AccountKind> {
        match value {
            "cloud" => Some(AccountKind::Cloud),
            "resource" => Some(AccountKind::Resource),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: i64,
    /// The 16-digit account id people quote.
    pub account_no: String,
    pub name: String,
    pub edition: Edition,
    pub kind: AccountKind,
}

/// The signed-in user and what their account may use; drives the shell and the feature gates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub account: Account,
    pub authorized: Vec<Service>,
    /// The language the user chose (a tag such as `zh-CN`), if they chose one.
    pub language: Option<String>,
}

impl Me {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn allows(&self, feature: Feature) -> bool {
        self.account.edition.allows(feature)
    }

    pub fn has_authorized(&self, service: Service) -> bool {
        self.authorized.contains(&service)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: i64,
}

/// The Users page: the account's users, who is asking, and whether they may manage users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserList {
    pub users: Vec<UserSummary>,
    pub you: i64,
    pub can_manage: bool,
}

pub const MIN_PASSWORD_LEN: usize = 12;

/// A user an admin adds to their account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: String,
    pub password: String,
}

impl NewUser {
    pub fn validate(&self, l: Locale) -> Result<(), AppError> {
        let mut errors = FieldErrors::new();
        if let Err(problem) = validate_email(&self.email) {
            errors.insert("email".into(), problem.message(l));
        }
        if self.name.trim().is_empty() {
            errors.insert("name".into(), td_string!(l, common.errors.enter_user_name).into());
        } else if self.name.trim().chars().count() > 100 {
            errors.insert("name".into(), td_string!(l, common.errors.at_most_chars, max = 100));
        }
        if Role::parse(&self.role).is_none() {
            errors.insert("role".into(), td_string!(l, common.errors.choose_role).into());
        }
        if let Err(problem) = validate_password(&self.password) {
            errors.insert("password".into(), problem.message(l));
        }
        AppError::check(errors)
    }
}

pub const MAX_PASSWORD_LEN: usize = 256;

/// Why a password was refused. The console shows `message` in the reader's language; the command
/// line prints it (`Display`) in English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort,
    TooLong,
}

impl PasswordProblem {
    pub fn message(self, l: Locale) -> String {
        match self {
            PasswordProblem::TooShort => td_string!(l, common.errors.password_too_short, min = MIN_PASSWORD_LEN),
            PasswordProblem::TooLong => td_string!(l, common.errors.at_most_chars, max = MAX_PASSWORD_LEN),
        }
    }
}

impl std::fmt::Display for PasswordProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Locale::en))
    }
}

impl std::error::Error for PasswordProblem {}

pub fn validate_password(password: &str) -> Result<(), PasswordProblem> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_LEN {
        Err(PasswordProblem::TooShort)
    } else if length > MAX_PASSWORD_LEN {
        Err(PasswordProblem::TooLong)
    } else {
        Ok(())
    }
}

/// The longest email address there is (RFC 5321's path limit less its brackets).
pub const MAX_EMAIL_CHARS: usize = 254;

/// Why an email address was refused. The console shows `message` in the reader's language; the
/// command line prints it (`Display`) in English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailProblem {
    Missing,
    TooLong,
    /// The address as given (trimmed), to quote back.
    Malformed(String),
}

impl EmailProblem {
    pub fn message(&self, l: Locale) -> String {
        match self {
            EmailProblem::Missing => td_string!(l, common.errors.enter_email).into(),
            EmailProblem::TooLong => td_string!(l, common.errors.email_too_long, max = MAX_EMAIL_CHARS),
            EmailProblem::Malformed(email) => td_string!(l, common.errors.invalid_email, email),
        }
    }
}

impl std::fmt::Display for EmailProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Locale::en))
    }
}

impl std::error::Error for EmailProblem {}

/// A pragmatic address check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn validate_email(email: &str) -> Result<(), EmailProblem> {
    let email = email.trim();
    if email.is_empty() {
        return Err(EmailProblem::Missing);
    }
    if email.len() > MAX_EMAIL_CHARS {
        return Err(EmailProblem::TooLong);
    }
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(EmailProblem::Malformed(email.to_string()))
    }
}

/// Only same-site paths are followed after sign-in, so a crafted link cannot bounce users
/// elsewhere: a path that parses as one, with no second slash or backslash up front (browsers read
/// those as another host), no backslash anywhere, and no control characters or white space
/// (browsers drop tabs and line breaks, so `/\t/evil.example` would become `//evil.example`; a
/// line break would not even make a valid Location header).
pub fn safe_next(next: &str) -> &str {
    let same_site = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace())
        && next.parse::<http::uri::PathAndQuery>().is_ok();
    if same_site {
        next
    } else {
        "/"
    }
}

/// The signed-in user as the server sees them (the checks on it live in `session.rs`).
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub account: Account,
    /// The language the user chose (a tag such as `zh-CN`), if they chose one.
    pub language: Option<String>,
}

impl Role {
    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            Role::Admin => td_string!(locale, common.role.admin),
            Role::Viewer => td_string!(locale, common.role.viewer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_for_shape() {
        assert!(validate_email("ops@example.com").is_ok());
        assert!(validate_email(" ops@example.com ").is_ok());
        for bad in ["", "ops", "ops@", "@example.com", "ops@example", "o ps@example.com", "a@b@c.com", "ops@.com"] {
            assert!(validate_email(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn new_user_reports_every_bad_field() {
        let user = NewUser { email: "x".into(), name: " ".into(), role: "root".into(), password: "short".into() };
        let Err(AppError::Validation(errors)) = user.validate(Locale::en) else { panic!("expected validation error") };
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["email", "name", "password", "role"]);
    }

    #[test]
    fn email_and_password_problems_speak_both_languages() {
        let malformed = validate_email(" ops ").unwrap_err();
        // Verify the English words are unchanged (the command line prints them) and the Chinese quote the address.
        assert_eq!(malformed.to_string(), "\"ops\" is not a valid email address.");
        assert_eq!(malformed.message(Locale::zh_CN), "“ops”不是有效的邮箱地址。");
        assert_eq!(validate_password("short").unwrap_err().to_string(), "Use at least 12 characters.");
        assert_eq!(validate_password(&"p".repeat(257)).unwrap_err().message(Locale::zh_CN), "最多 256 个字符。");
    }

    #[test]
    fn next_paths_stay_on_this_site() {
        assert_eq!(safe_next("/assets?page=2"), "/assets?page=2");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        for crafted in ["/\t/evil.example", "/\n/evil.example", "/assets\r\nSet-Cookie: x=1", "/\u{1}", "/\u{7f}", "/a b", "/a\\..\\evil", ""] {
            assert_eq!(safe_next(crafted), "/", "{crafted:?}");
        }
        assert_eq!(safe_next("/operation/reports?name=a%20b&page=2"), "/operation/reports?name=a%20b&page=2");
    }
}
