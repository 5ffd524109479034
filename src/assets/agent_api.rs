//! The HTTP API of host agents (`/api/v1/agent/*`: enroll, heartbeat, inventory, long-polled
//! jobs and their results), and the API-token routes that queue fix jobs and import Trivy
//! reports for an asset.

use std::time::Duration;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::fleet::{self, AgentIdentity};
use crate::http::body::{LimitedBody, DEFAULT_LIMIT, INGEST_LIMIT, TRIVY_LIMIT};
use super::held;
use crate::http::json::parse;
use super::model::FixJobView;
use crate::agent::protocol::*;
use crate::auth::token::{bearer, ApiCaller};
use crate::error::AppError;
use crate::server::audit;
use crate::server::{now, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/agent/enroll", post(enroll))
        .route("/api/v1/agent/heartbeat", post(heartbeat))
        .route("/api/v1/agent/inventory", post(inventory))
        .route("/api/v1/agent/jobs", get(poll_job))
        .route("/api/v1/agent/jobs/{id}/result", post(job_result))
        .route("/api/v1/assets/{instance_id}/fix-jobs", post(create_fix_job))
        .route("/api/v1/assets/{instance_id}/trivy", post(import_trivy))
        .route("/api/v1/fix-jobs/{id}", get(get_fix_job))
}

/// An enrolled agent, authenticated by its own credential.
pub struct AgentCaller(pub AgentIdentity);

impl FromRequestParts<AppState> for AgentCaller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let credential = bearer(parts).filter(|t| t.starts_with(CREDENTIAL_PREFIX)).ok_or(AppError::Unauthorized)?;
        fleet::agent_by_credential(&state.db, credential).await?.map(AgentCaller).ok_or(AppError::Unauthorized)
    }
}

/// The enrollment token of an enroll request.
struct EnrollmentToken(String);

impl FromRequestParts<AppState> for EnrollmentToken {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        bearer(parts)
            .filter(|t| t.starts_with(ENROLLMENT_PREFIX))
            .map(|t| EnrollmentToken(t.to_string()))
            .ok_or(AppError::Unauthorized)
    }
}

/// 200 with a credential, or 202 when the host is known and the request did not prove it is the
/// host's agent (see `held`).
async fn enroll(State(state): State<AppState>, token: EnrollmentToken, headers: HeaderMap, LimitedBody(body): LimitedBody<DEFAULT_LIMIT>) -> Result<Response, AppError> {
    let request: EnrollRequest = parse(&body)?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    let proof = held::Proof { current_credential: header(CURRENT_CREDENTIAL_HEADER), hold: header(HOLD_HEADER) };
    Ok(match fleet::enroll(&state.db, &state.config.agents, &token.0, proof, &request, now()).await? {
        answer @ EnrollAnswer::Enrolled(_) => Json(answer).into_response(),
        answer @ EnrollAnswer::Held(_) => (StatusCode::ACCEPTED, Json(answer)).into_response(),
    })
}

async fn heartbeat(State(state): State<AppState>, AgentCaller(agent): AgentCaller, LimitedBody(body): LimitedBody<DEFAULT_LIMIT>) -> Result<StatusCode, AppError> {
    let beat: Heartbeat = parse(&body)?;
    fleet::heartbeat(&state.db, &agent, &beat.agent_version, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn inventory(State(state): State<AppState>, AgentCaller(agent): AgentCaller, LimitedBody(body): LimitedBody<INGEST_LIMIT>) -> Result<Json<InventoryAccepted>, AppError> {
    let report: InventoryReport = parse(&body)?;
    Ok(Json(fleet::record_inventory(&state.db, &agent, &report, now()).await?))
}

#[derive(Deserialize)]
struct PollQuery {
    #[serde(default)]
    wait: Option<u64>,
}

/// Answers with the next job as soon as there is one, or 204 after `wait` seconds. A poll is
/// also a heartbeat: an agent waiting for work is online.
async fn poll_job(State(state): State<AppState>, AgentCaller(agent): AgentCaller, Query(query): Query<PollQuery>) -> Result<Response, AppError> {
    let wait = Duration::from_secs(query.wait.unwrap_or(0).min(MAX_POLL_SECS));
    let deadline = tokio::time::Instant::now() + wait;
    fleet::touch(&state.db, &agent, None, now());
    super::wake::listen(&state.db, &state.config.database_url);
    let waker = fleet::waker(&state.db, agent.asset_id);
    loop {
        let notified = waker.notified();
        if let Some(job) = fleet::claim_job(&state.db, &state.config.agents, agent.asset_id, now()).await? {
            return Ok(Json(job).into_response());
        }
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        if remaining.is_zero() {
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        let _ = tokio::time::timeout(remaining.min(fleet::POLL_RECHECK), notified).await;
    }
}

async fn job_result(
    State(state): State<AppState>,
    AgentCaller(agent): AgentCaller,
    Path(id): Path<i64>,
    LimitedBody(body): LimitedBody<DEFAULT_LIMIT>,
) -> Result<Json<JobAck>, AppError> {
    let result: JobResult = parse(&body)?;
    Ok(Json(fleet::finish_job(&state.db, &agent, id, &result, now()).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixJobRequest {
    packages: Vec<String>,
    #[serde(default)]
    simulate: bool,
}

async fn create_fix_job(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(instance_id): Path<String>,
    LimitedBody(body): LimitedBody<DEFAULT_LIMIT>,
) -> Result<(StatusCode, Json<FixJobView>), AppError> {
    let request: FixJobRequest = parse(&body)?;
    let asset = super::repo::asset_by_instance(&state.db, caller.account_id, &instance_id).await?;
    let job = fleet::create_fix_job(&state.db, caller.account_id, asset.id, &request.packages, request.simulate, &caller.actor(), now()).await?;
    Ok((StatusCode::CREATED, Json(job)))
}

async fn get_fix_job(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<i64>) -> Result<Json<FixJobView>, AppError> {
    Ok(Json(fleet::job(&state.db, caller.account_id, id).await?))
}

/// A Trivy report of one asset replaces that asset's earlier Trivy findings.
async fn import_trivy(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(instance_id): Path<String>,
    LimitedBody(body): LimitedBody<TRIVY_LIMIT>,
) -> Result<Json<serde_json::Value>, AppError> {
    // Up to 32 MiB of JSON: parsed off the async workers.
    let found = tokio::task::spawn_blocking(move || crate::advisories::trivy::parse(&body))
        .await
        .map_err(|_| AppError::Internal)?
        .map_err(|message| AppError::field("body", message))?;
    let asset = super::repo::asset_by_instance(&state.db, caller.account_id, &instance_id).await?;
    let open = import_trivy_findings(&state.db, caller.account_id, asset.id, &asset.name, &caller.actor(), &found).await?;
    Ok(Json(serde_json::json!({ "accepted": found.len(), "open_findings": open })))
}

pub async fn import_trivy_findings(
    db: &crate::server::db::Db,
    account_id: i64,
    asset_id: i64,
    asset_name: &str,
    actor: &audit::Actor,
    found: &[crate::advisories::repo::FoundVulnerability],
) -> Result<i64, AppError> {
    let mut tx = db.begin_write().await?;
    let open = super::repo::record_matches(&mut tx, account_id, asset_id, "trivy", found, now()).await?;
    audit::record(&mut *tx, account_id, actor, "ingest.trivy", asset_name, &format!("{} vulnerabilities", found.len())).await?;
    tx.commit().await?;
    Ok(open)
}
