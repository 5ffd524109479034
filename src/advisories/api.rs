//! Server functions of the Advisories settings tab, and the upload routes: a browser form
//! (`/settings/advisories/upload`, multipart) and the API (`POST /api/v1/advisories`).

use leptos::prelude::*;

use super::model::AdvisoryPage;
use crate::error::AppError;

#[server(endpoint = "get_advisories")]
pub async fn get_advisories() -> Result<AdvisoryPage, AppError> {
    use crate::auth::session::caller;

    let (user, state) = caller().await?;
    let stats = super::repo::stats(&state.db, user.account_id()).await?;
    let imports = super::repo::recent_imports(&state.db, user.account_id(), 20).await?;
    Ok(AdvisoryPage { stats, imports })
}

#[cfg(feature = "ssr")]
pub use routes::{api_routes, routes};

#[cfg(feature = "ssr")]
mod routes {
    use axum::extract::multipart::MultipartError;
    use axum::extract::{DefaultBodyLimit, FromRequestParts, Multipart, Query, State};
    use axum::http::request::Parts;
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Redirect, Response};
    use axum::routing::post;
    use axum::{Json, Router};
    use serde::Deserialize;
    use tower_sessions::Session;
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;

    use crate::advisories::{archive, repo};
    use crate::advisories::model::ImportReport;
    use crate::auth::token::ApiCaller;
    use crate::error::AppError;
    use crate::http::body::{LimitedBody, ADVISORY_LIMIT};
    use crate::http::openapi::Error;
    use crate::server::limits::{self, Action};
    use crate::server::{now, AppState};

    /// The Advisories tab's upload form.
    pub fn routes() -> Router<AppState> {
        Router::new().route("/settings/advisories/upload", post(upload_form).layer(DefaultBodyLimit::max(ADVISORY_LIMIT)))
    }

    pub fn api_routes() -> OpenApiRouter<AppState> {
        OpenApiRouter::new().routes(routes!(upload_api))
    }

    /// Counts an upload against the account's hourly allowance, before its body is read.
    async fn count_upload(state: &AppState, account_id: i64) -> Result<(), AppError> {
        limits::take(&mut *state.db.pool.acquire().await?, account_id, Action::AdvisoryImport, now()).await
    }

    /// An API caller with an upload left this hour.
    struct Uploader(ApiCaller);

    impl FromRequestParts<AppState> for Uploader {
        type Rejection = AppError;

        async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
            let caller = ApiCaller::from_request_parts(parts, state).await?;
            count_upload(state, caller.account_id).await?;
            Ok(Uploader(caller))
        }
    }

    fn multipart_error(error: MultipartError) -> AppError {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge(ADVISORY_LIMIT as u64)
        } else {
            AppError::field("file", error.body_text())
        }
    }

    /// Imports one uploaded file into an account's own advisories, then matches that
    /// account's inventories again so new findings show at once.
    async fn import_upload(state: &AppState, account_id: i64, actor: &str, name: &str, bytes: &[u8]) -> Result<ImportReport, AppError> {
        let now = now();
        // Inflating an archive is CPU work: off the async workers that serve every other request.
        let (upload_name, upload) = (name.to_string(), bytes.to_vec());
        let read = tokio::task::spawn_blocking(move || archive::read_upload(&upload_name, &upload, archive::UPLOAD_LIMITS))
            .await
            .map_err(|_| AppError::Internal)?;
        let loaded = match read {
            Ok(loaded) => loaded,
            Err(message) => {
                repo::record_failed_import(&state.db, account_id, actor, name, &message, now).await?;
                return Err(AppError::field("file", message));
            }
        };
        let started = std::time::Instant::now();
        let report = repo::import(&state.db, account_id, actor, name, loaded, now).await;
        crate::server::metrics::job_run("advisory_import", started, report.is_ok());
        let report = report?;
        crate::assets::fleet::rematch_stale(&state.db, 500, now).await?;
        Ok(report)
    }

    /// The browser form: a file field named `file`; back to the tab, where the import is listed.
    async fn upload_form(State(state): State<AppState>, session: Session, mut multipart: Multipart) -> Result<Response, AppError> {
        let user = crate::auth::session::session_user(&state, &session).await?;
        user.require_admin()?;
        count_upload(&state, user.account_id()).await?;
        let mut file = None;
        while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
            if field.name() == Some("file") {
                let name = field.file_name().unwrap_or("upload").to_string();
                let bytes = field.bytes().await.map_err(multipart_error)?;
                file = Some((name, bytes));
            }
        }
        let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
            return Err(AppError::field("file", "Choose an OSV .json file or a .zip of them."));
        };
        match import_upload(&state, user.account_id(), &user.actor().label(), &name, &bytes).await {
            // The failure is recorded and listed on the tab like any import.
            Ok(_) | Err(AppError::Validation(_)) => Ok(Redirect::to("/settings/advisories").into_response()),
            Err(other) => Err(other),
        }
    }

    #[derive(Deserialize)]
    struct UploadQuery {
        #[serde(default)]
        name: Option<String>,
    }

    /// The API: the body is one OSV JSON document or a zip of them; `?name=` names it.
    #[utoipa::path(post, path = "/api/v1/advisories", tag = "advisories", security(("api_token" = [])),
        params(("name" = Option<String>, Query, description = "The upload's name in the import history (`upload.json` or `upload.zip` by default)")),
        request_body(content = Object, description = "One OSV advisory (JSON), or a zip of them (`application/zip`, as osv.dev publishes them)",
            content_type = "application/json", example = json!({"schema_version": "1.6.0", "id": "DEBIAN-CVE-2024-6387", "modified": "2024-07-01T12:00:00Z",
                "summary": "openssh: regreSSHion", "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssh"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:9.2p1-2+deb12u3"}]}]}],
                "database_specific": {"severity": "critical"}})),
        responses((status = 200, description = "Imported (files that were not advisories are listed under `skipped`)", body = ImportReport),
            (status = 401, description = "No valid API token", body = Error),
            (status = 403, description = "Not an administrator's token", body = Error),
            (status = 413, description = "Over the upload limit, or an archive that inflates past it", body = Error),
            (status = 422, description = "Neither JSON nor a zip", body = Error),
            (status = 429, description = "Too many uploads this hour", body = Error)))]
    async fn upload_api(
        State(state): State<AppState>,
        Uploader(caller): Uploader,
        Query(query): Query<UploadQuery>,
        LimitedBody(body): LimitedBody<ADVISORY_LIMIT>,
    ) -> Result<Json<ImportReport>, AppError> {
        let name = query.name.unwrap_or_else(|| if body.starts_with(b"PK") { "upload.zip".into() } else { "upload.json".into() });
        Ok(Json(import_upload(&state, caller.account_id, &caller.actor().label(), &name, &body).await?))
    }
}
