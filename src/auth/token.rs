//! API-token authentication for the JSON API: `Authorization: Bearer blk_…`, looked up by its
//! SHA-256; revoked tokens are refused exactly like unknown ones.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::AppError;
use crate::server::audit::Actor;
use crate::server::crypto::hash_token;
use crate::server::{now, AppState};

/// The token of an `Authorization: Bearer …` header, if there is a non-empty one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// "Last used" is written at most this often per token: a CI pipeline that signs or ingests in a
/// burst costs one write a minute, not one per request (the Settings page shows minutes).
pub const LAST_USED_PRECISION_SECS: i64 = 60;

/// The account an API request acts for.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub account_id: i64,
    pub token_id: i64,
    pub token_name: String,
}

impl ApiCaller {
    pub fn actor(&self) -> Actor {
        Actor::Token { name: self.token_name.clone() }
    }
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        const SQL: &str = "SELECT id, account_id, name, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL";
        let token_hash = hash_token(bearer(parts).ok_or(AppError::Unauthorized)?);
        // Read on every request (a revoked token is refused by the next one, on every replica);
        // on SQLite on this thread, which costs a signature a tenth of the pool's round trip.
        let found: Option<(i64, i64, String, Option<i64>)> = state.db.point_row(SQL, &token_hash).await?;
        let (token_id, account_id, token_name, last_used_at) = found.ok_or(AppError::Unauthorized)?;
        let now = now();
        if last_used_at.is_none_or(|at| now - at >= LAST_USED_PRECISION_SECS) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(now).bind(token_id).execute(&state.db.pool).await?;
        }
        Ok(ApiCaller { token_id, account_id, token_name })
    }
}
