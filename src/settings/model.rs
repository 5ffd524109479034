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
