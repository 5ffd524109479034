//! How an account's mail goes out: its own SMTP server (Settings › Email), else the console's
//! (`BULWARK_SMTP_*`), else its local outbox folder; and the outbox's listing and downloads
//! (admins only, as the Settings page that lists them).

use std::path::PathBuf;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use tower_sessions::Session;

use super::model::OutboxMessage;
use crate::auth::session::session_user;
use crate::error::AppError;
use crate::http::download::attachment;
use crate::server::mailer::Mailer;
use crate::server::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/settings/outbox/{file}", get(outbox_message))
}

/// The mailer an account sends through: its own SMTP settings, else the console's, else the
/// account's outbox folder.
pub async fn mailer_for(state: &AppState, account_id: i64) -> Result<Mailer, AppError> {
    if let Some(settings) = super::repo::smtp_settings(&state.db, &state.secrets, account_id).await? {
        return Ok(Mailer::Smtp(settings, Some(state.config.outbound.clone())));
    }
    if let Some(settings) = &state.config.smtp {
        return Ok(Mailer::Smtp(settings.clone(), None));
    }
    Ok(Mailer::Outbox(outbox_dir(state, account_id).await?))
}

/// `<data_dir>/outbox/<account id>`: each account sees only its own mail.
pub async fn outbox_dir(state: &AppState, account_id: i64) -> Result<PathBuf, AppError> {
    let account = crate::auth::repo::account(&state.db, account_id).await?;
    Ok(state.config.data_dir.join("outbox").join(account.account_no))
}

/// The newest `limit` messages of an outbox folder, read from their headers.
pub async fn list_outbox(dir: &std::path::Path, limit: usize) -> Vec<OutboxMessage> {
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else { return Vec::new() };
    let mut files = Vec::new();
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".eml") {
            continue;
        }
        if let Ok(meta) = entry.metadata().await {
            let at = meta.modified().ok().and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_secs() as i64).unwrap_or(0);
            files.push((at, name, meta.len() as i64));
        }
    }
    files.sort_by(|a, b| b.cmp(a));
    files.truncate(limit);
    let mut out = Vec::new();
    for (at, id, size) in files {
        let head = tokio::fs::read(dir.join(&id)).await.map(|b| String::from_utf8_lossy(&b[..b.len().min(16 * 1024)]).into_owned()).unwrap_or_default();
        out.push(OutboxMessage {
            to: header_value(&head, "To"),
            subject: header_value(&head, "Subject"),
            id,
            at,
            size,
        });
    }
    out
}

/// An unfolded header of a raw message ("" when absent).
fn header_value(raw: &str, name: &str) -> String {
    let mut value: Option<String> = None;
    for line in raw.lines() {
        if line.is_empty() {
            break;
        }
        match &mut value {
            Some(v) if line.starts_with([' ', '\t']) => v.push_str(line.trim_end()),
            Some(_) => break,
            None => {
                if let Some((key, rest)) = line.split_once(':') {
                    if key.eq_ignore_ascii_case(name) {
                        value = Some(rest.trim().to_string());
                    }
                }
            }
        }
    }
    value.unwrap_or_default()
}

async fn outbox_message(State(state): State<AppState>, session: Session, Path(file): Path<String>) -> Result<Response, AppError> {
    let user = session_user(&state, &session).await?;
    user.require_admin()?;
    // Only names the outbox itself writes: no separators, no way out of the folder.
    let stem = file.strip_suffix(".eml").ok_or(AppError::NotFound)?;
    if stem.is_empty() || !stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(AppError::NotFound);
    }
    let dir = outbox_dir(&state, user.account_id()).await?;
    let bytes = tokio::fs::read(dir.join(&file)).await.map_err(|_| AppError::NotFound)?;
    Ok(attachment("message/rfc822", &file, bytes))
}
