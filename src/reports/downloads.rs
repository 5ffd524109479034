//! Downloads from the report archive: the PDF and each section's table as CSV. Plain axum
//! routes (a browser follows a link to them), checked like server functions: the session,
//! the edition, and the account that owns the archived report.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use tower_sessions::Session;

use super::model::Section;
use super::{delivery, render, repo};
use crate::editions::Feature;
use crate::auth::session::{session_user, CurrentUser};
use crate::error::AppError;
use crate::http::download::attachment;
use crate::server::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports/archive/{id}/pdf", get(pdf))
        .route("/reports/archive/{id}/csv/{section}", get(csv))
}

async fn reader(state: &AppState, session: &Session) -> Result<CurrentUser, AppError> {
    let user = session_user(state, session).await?;
    user.require_feature(state, Feature::SecurityReports).await?;
    Ok(user)
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
