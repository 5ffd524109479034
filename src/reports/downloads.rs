//! Downloads from the report archive (the PDF and each section's table as CSV) and of messages
//! in the account's local outbox (admins only, as the Settings page that lists them). Plain axum
//! routes (a browser follows a link to them), checked like server functions: the session,
//! the edition, and the account that owns the archived report.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_sessions::Session;

use super::model::Section;
use super::{delivery, render, repo};
use crate::auth::editions::Feature;
use crate::auth::session::{session_user, CurrentUser};
use crate::error::AppError;
use crate::server::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports/archive/{id}/pdf", get(pdf))
        .route("/reports/archive/{id}/csv/{section}", get(csv))
        .route("/settings/outbox/{file}", get(outbox_message))
}

async fn reader(state: &AppState, session: &Session) -> Result<CurrentUser, AppError> {
    let user = session_user(state, session).await?;
    user.require_feature(state, Feature::SecurityReports).await?;
    Ok(user)
}

pub(crate) fn attachment(content_type: &'static str, file_name: &str, body: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", file_name.replace(['"', '\\', '\r', '\n'], "_"));
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

async fn pdf(State(state): State<AppState>, session: Session, Path(id): Path<i64>) -> Result<Response, AppError> {
    let user = reader(&state, &session).await?;
    let (_, document) = repo::archived(&state.db, user.account_id(), id).await?;
    let name = delivery::pdf_file_name(&document);
    let bytes = tokio::task::spawn_blocking(move || render::pdf(&document))
        .await
        .map_err(|_| AppError::Internal)?
        .map_err(|reason| {
            tracing::error!(archive = id, %reason, "PDF rendering failed");
            AppError::Internal
        })?;
    Ok(attachment("application/pdf", &name, bytes))
}

async fn csv(State(state): State<AppState>, session: Session, Path((id, section)): Path<(i64, String)>) -> Result<Response, AppError> {
    let user = reader(&state, &session).await?;
    let section = Section::parse_any(&section).ok_or(AppError::NotFound)?;
    let (_, document) = repo::archived(&state.db, user.account_id(), id).await?;
    let data = document.sections.iter().find(|s| s.section == section).ok_or(AppError::NotFound)?;
    let name = format!("{}_{}_{}.csv", section.as_str(), document.period_start, document.period_end);
    Ok(attachment("text/csv; charset=utf-8", &name, render::section_csv(&data.table).into_bytes()))
}

async fn outbox_message(State(state): State<AppState>, session: Session, Path(file): Path<String>) -> Result<Response, AppError> {
    let user = session_user(&state, &session).await?;
    user.require_admin()?;
    // Only names the outbox itself writes: no separators, no way out of the folder.
    let stem = file.strip_suffix(".eml").ok_or(AppError::NotFound)?;
    if stem.is_empty() || !stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(AppError::NotFound);
    }
    let dir = crate::server::mailer::outbox_dir(&state, user.account_id()).await?;
    let bytes = tokio::fs::read(dir.join(&file)).await.map_err(|_| AppError::NotFound)?;
    Ok(attachment("message/rfc822", &file, bytes))
}
