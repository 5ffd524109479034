//! SQL for the settings pages. Every change writes its audit entry in the same transaction.

use super::model::{AuditEntry, TokenSummary};
use crate::auth::model::Role;
use crate::error::AppError;
use crate::overview::score::ScoreWeights;
use crate::server::audit::{self, Actor};
use crate::server::db::{page_window, Db};
use crate::server::now;

pub async fn list_tokens(db: &Db, account_id: i64) -> Result<Vec<TokenSummary>, AppError> {
    Ok(sqlx::query_as::<_, (i64, String, String, i64, Option<i64>, Option<i64>)>(
        "SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens WHERE account_id = $1
         ORDER BY revoked_at IS NOT NULL, created_at DESC, id DESC",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|(id, name, prefix, created_at, last_used_at, revoked_at)| TokenSummary {
        id,
        name,
        prefix,
        created_at,
        last_used_at,
        revoked_at,
    })
    .collect())
}

pub async fn create_token(
    db: &Db,
    account_id: i64,
    actor: &Actor,
    created_by: Option<i64>,
    name: &str,
    prefix: &str,
    token_hash: &str,
) -> Result<i64, AppError> {
    let mut tx = db.begin_write().await?;
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO api_tokens (account_id, name, prefix, token_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(account_id)
    .bind(name.trim())
    .bind(prefix)
    .bind(token_hash)
    .bind(created_by)
    .bind(now())
    .fetch_one(&mut *tx)
    .await?;
    audit::record(&mut *tx, account_id, actor, "api_token.create", &format!("API token \"{}\"", name.trim()), prefix).await?;
    tx.commit().await?;
    Ok(id)
}

/// Revokes a token of this account; `NotFound` for other accounts' tokens or revoked ones.
pub async fn revoke_token(db: &Db, account_id: i64, actor: &Actor, token_id: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let name = sqlx::query_scalar::<_, String>(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL RETURNING name",
    )
    .bind(now())
    .bind(token_id)
    .bind(account_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    audit::record(&mut *tx, account_id, actor, "api_token.revoke", &format!("API token \"{name}\""), "").await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_weights(db: &Db, account_id: i64, actor: &Actor, weights: &ScoreWeights) -> Result<(), AppError> {
    let json = serde_json::to_string(weights).map_err(|_| AppError::Internal)?;
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE accounts SET score_weights = $1 WHERE id = $2").bind(&json).bind(account_id).execute(&mut *tx).await?;
    audit::record(&mut *tx, account_id, actor, "score.weights", "security score", &json).await?;
    tx.commit().await?;
    Ok(())
}

pub const AUDIT_PAGE_SIZE: i64 = 50;

pub async fn audit_page(db: &Db, account_id: i64, page: i64) -> Result<(Vec<AuditEntry>, i64), AppError> {
    let total = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(&db.pool)
        .await?;
    let offset = page_window(page, total, AUDIT_PAGE_SIZE).offset;
    let entries = sqlx::query_as::<_, (i64, String, String, String, String, i64)>(
        "SELECT id, actor, action, target, detail, at FROM audit_log WHERE account_id = $1 ORDER BY at DESC, id DESC LIMIT $2 OFFSET $3",
    )
    .bind(account_id)
    .bind(AUDIT_PAGE_SIZE)
    .bind(offset)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|(id, actor, action, target, detail, at)| AuditEntry { id, actor, action, target, detail, at })
    .collect();
    Ok((entries, total))
}

/// The email of a user of this account, with the account row locked so that concurrent role
/// changes and removals are serialised (PostgreSQL takes a row lock; SQLite's write
/// transaction is already exclusive).
async fn lock_user(tx: &mut sqlx::AnyConnection, account_id: i64, user_id: i64) -> Result<(String, Role), AppError> {
    sqlx::query("UPDATE accounts SET id = id WHERE id = $1").bind(account_id).execute(&mut *tx).await?;
    let (email, role) = sqlx::query_as::<_, (String, String)>("SELECT email, role FROM users WHERE id = $1 AND account_id = $2")
        .bind(user_id)
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((email, Role::parse(&role).ok_or(AppError::Internal)?))
}

/// Refuses to take away the account's last admin.
async fn keep_an_admin(tx: &mut sqlx::AnyConnection, account_id: i64, user_id: i64) -> Result<(), AppError> {
    let others = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE account_id = $1 AND role = 'admin' AND id <> $2")
        .bind(account_id)
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
    if others == 0 {
        Err(AppError::Conflict(crate::locale::td_string!(crate::locale::request_locale(), settings.errors.last_admin).into()))
    } else {
        Ok(())
    }
}

pub async fn set_user_role(db: &Db, account_id: i64, actor: &Actor, user_id: i64, role: Role) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let (email, current) = lock_user(&mut tx, account_id, user_id).await?;
    if current == Role::Admin && role != Role::Admin {
        keep_an_admin(&mut tx, account_id, user_id).await?;
    }
    sqlx::query("UPDATE users SET role = $1 WHERE id = $2").bind(role.as_str()).bind(user_id).execute(&mut *tx).await?;
    audit::record(&mut *tx, account_id, actor, "user.role", &email, &format!("{} → {}", current.as_str(), role.as_str())).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn remove_user(db: &Db, account_id: i64, actor: &Actor, user_id: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let (email, role) = lock_user(&mut tx, account_id, user_id).await?;
    if role == Role::Admin {
        keep_an_admin(&mut tx, account_id, user_id).await?;
    }
    sqlx::query("DELETE FROM users WHERE id = $1").bind(user_id).execute(&mut *tx).await?;
    audit::record(&mut *tx, account_id, actor, "user.remove", &email, "").await?;
    tx.commit().await?;
    Ok(())
}

/// Changes the account's time zone and plans its reports again in the new zone.
pub async fn set_time_zone(db: &Db, account_id: i64, actor: &Actor, zone: &str) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let previous = crate::auth::repo::time_zone(&mut *tx, account_id).await?;
    sqlx::query("UPDATE accounts SET time_zone = $1 WHERE id = $2").bind(zone).bind(account_id).execute(&mut *tx).await?;
    crate::reports::repo::replan_account(&mut tx, account_id).await?;
    audit::record(&mut *tx, account_id, actor, "account.time_zone", "account", &format!("{previous} → {zone}")).await?;
    tx.commit().await?;
    Ok(())
}
