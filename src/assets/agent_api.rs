//! The HTTP API of host agents (`/api/v1/agent/*`: enroll, heartbeat, inventory, long-polled
//! jobs and their results), and the API-token routes that queue fix jobs and import Trivy
//! reports for an asset.

use std::time::Duration;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::fleet::{self, AgentIdentity};
use crate::http::body::{LimitedBody, DEFAULT_LIMIT, INGEST_LIMIT, TRIVY_LIMIT};
use super::held;
use crate::http::json::parse;
use super::model::FixJobView;
use crate::agent::protocol::*;
use crate::auth::token::{bearer, ApiCaller};
use crate::error::AppError;
use crate::http::openapi::Error;
use crate::server::audit;
use crate::server::{now, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enroll))
        .routes(routes!(heartbeat))
        .routes(routes!(inventory))
        .routes(routes!(poll_job))
        .routes(routes!(job_result))
        .routes(routes!(create_fix_job))
        .routes(routes!(import_trivy))
        .routes(routes!(get_fix_job))
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

#[utoipa::path(post, path = "/api/v1/agent/enroll", tag = "agents", security(("enrollment_token" = [])),
    params(("x-bulwark-agent-credential" = Option<String>, Header, description = "A re-enrolling agent's current credential: proves it is the host's agent"),
        ("x-bulwark-enrollment-hold" = Option<String>, Header, description = "The hold secret of an earlier 202, asking again")),
    request_body(content = EnrollRequest, example = json!({"facts": {"hostname": "web-01", "machine_id": "4c4c4544004d3510804cb4c04f4e4d32",
            "os": {"id": "debian", "version_id": "12", "pretty_name": "Debian GNU/Linux 12 (bookworm)", "id_like": []},
            "kernel": "6.1.0-28-amd64", "ips": ["10.0.1.5"]}, "group": null, "allow_fix": true, "agent_version": "0.1.0"})),
    responses((status = 200, description = "Enrolled: the agent's credential (shown once) and its intervals", body = EnrollResponse),
        (status = 202, description = "A known host re-enrolling without its credential: held until an admin approves", body = EnrollmentHeld),
        (status = 401, description = "No valid enrollment token", body = Error),
        (status = 422, description = "Malformed facts", body = Error)))]
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

#[utoipa::path(post, path = "/api/v1/agent/heartbeat", tag = "agents", security(("agent_credential" = [])),
    request_body(content = Heartbeat, example = json!({"agent_version": "0.1.0"})),
    responses((status = 204, description = "Recorded"), (status = 401, description = "No valid agent credential", body = Error)))]
async fn heartbeat(State(state): State<AppState>, AgentCaller(agent): AgentCaller, LimitedBody(body): LimitedBody<DEFAULT_LIMIT>) -> Result<StatusCode, AppError> {
    let beat: Heartbeat = parse(&body)?;
    fleet::heartbeat(&state.db, &agent, &beat.agent_version, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/agent/inventory", tag = "agents", security(("agent_credential" = [])),
    request_body(content = InventoryReport, example = json!({"facts": {"hostname": "web-01", "machine_id": "4c4c4544004d3510804cb4c04f4e4d32",
            "os": {"id": "debian", "version_id": "12", "pretty_name": "Debian GNU/Linux 12 (bookworm)", "id_like": []},
            "kernel": "6.1.0-28-amd64", "ips": ["10.0.1.5"]}, "package_manager": "dpkg",
        "packages": [{"name": "openssl", "version": "3.0.11-1~deb12u2", "arch": "amd64"}, {"name": "libssl3", "version": "3.0.11-1~deb12u2", "arch": "amd64", "source": "openssl"}]})),
    responses((status = 200, description = "Stored and matched against the advisories", body = InventoryAccepted),
        (status = 401, description = "No valid agent credential", body = Error),
        (status = 422, description = "Malformed inventory: nothing was written", body = Error)))]
async fn inventory(State(state): State<AppState>, AgentCaller(agent): AgentCaller, LimitedBody(body): LimitedBody<INGEST_LIMIT>) -> Result<Json<InventoryAccepted>, AppError> {
    let report: InventoryReport = parse(&body)?;
    Ok(Json(fleet::record_inventory(&state.db, &agent, &report, now()).await?))
}

#[derive(Deserialize)]
struct PollQuery {
    #[serde(default)]
    wait: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/agent/jobs", tag = "agents", security(("agent_credential" = [])),
    params(("wait" = Option<u64>, Query, description = "Seconds to hold the request open for a job (at most 30)")),
    responses((status = 200, description = "The next fix job, now running", body = JobAssignment),
        (status = 204, description = "No job within `wait`"),
        (status = 401, description = "No valid agent credential", body = Error)))]
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

#[utoipa::path(post, path = "/api/v1/agent/jobs/{id}/result", tag = "agents", security(("agent_credential" = [])),
    params(("id" = i64, Path, description = "The job's id, from the poll")),
    request_body(content = JobResult, example = json!({"outcome": {"command": ["apt-get", "-s", "install", "--only-upgrade", "openssl"],
        "exit_code": 0, "output": "Inst openssl [3.0.11-1~deb12u2] (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])",
        "timed_out": false, "simulated": true, "changes": [{"package": "openssl", "from": "3.0.11-1~deb12u2", "to": "3.0.15-1~deb12u1"}], "error": null}})),
    responses((status = 200, description = "Recorded (or recorded already: `duplicate`)", body = JobAck),
        (status = 401, description = "No valid agent credential", body = Error),
        (status = 404, description = "No such job for this agent", body = Error)))]
async fn job_result(
    State(state): State<AppState>,
    AgentCaller(agent): AgentCaller,
    Path(id): Path<i64>,
    LimitedBody(body): LimitedBody<DEFAULT_LIMIT>,
) -> Result<Json<JobAck>, AppError> {
    let result: JobResult = parse(&body)?;
    Ok(Json(fleet::finish_job(&state.db, &agent, id, &result, now()).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct FixJobRequest {
    packages: Vec<String>,
    #[serde(default)]
    simulate: bool,
}

#[utoipa::path(post, path = "/api/v1/assets/{instance_id}/fix-jobs", tag = "fix jobs", security(("api_token" = [])),
    params(("instance_id" = String, Path, description = "The asset's instance id")),
    request_body(content = FixJobRequest, example = json!({"packages": ["openssl"], "simulate": true})),
    responses((status = 201, description = "Queued for the asset's agent", body = FixJobView),
        (status = 401, description = "No valid API token", body = Error),
        (status = 404, description = "No such asset in the token's account", body = Error),
        (status = 422, description = "No agent, fixes not allowed on the host, or bad package names", body = Error)))]
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

#[utoipa::path(get, path = "/api/v1/fix-jobs/{id}", tag = "fix jobs", security(("api_token" = [])),
    params(("id" = i64, Path, description = "The job's id")),
    responses((status = 200, description = "The job and, once finished, its output", body = FixJobView),
        (status = 401, description = "No valid API token", body = Error),
        (status = 404, description = "No such job in the token's account", body = Error)))]
async fn get_fix_job(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<i64>) -> Result<Json<FixJobView>, AppError> {
    Ok(Json(fleet::job(&state.db, caller.account_id, id).await?))
}

#[utoipa::path(post, path = "/api/v1/assets/{instance_id}/trivy", tag = "fix jobs", security(("api_token" = [])),
    params(("instance_id" = String, Path, description = "The asset's instance id")),
    request_body(content = Object, description = "The JSON `trivy fs|rootfs --format json` writes (up to 32 MiB)", example = json!({"SchemaVersion": 2,
        "ArtifactName": "/", "ArtifactType": "filesystem", "Results": [{"Target": "debian 12", "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": [
        {"VulnerabilityID": "CVE-2024-6387", "PkgName": "openssh-server", "InstalledVersion": "1:9.2p1-2", "FixedVersion": "1:9.2p1-2+deb12u3",
         "Severity": "CRITICAL", "Title": "openssh: regreSSHion"}]}]})),
    responses((status = 200, description = "The asset's Trivy findings replaced", body = TrivyAccepted),
        (status = 401, description = "No valid API token", body = Error),
        (status = 404, description = "No such asset in the token's account", body = Error),
        (status = 413, description = "Over 32 MiB", body = Error),
        (status = 422, description = "Not a Trivy report: nothing was written", body = Error)))]
/// A Trivy report of one asset replaces that asset's earlier Trivy findings.
async fn import_trivy(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(instance_id): Path<String>,
    LimitedBody(body): LimitedBody<TRIVY_LIMIT>,
) -> Result<Json<TrivyAccepted>, AppError> {
    // Up to 32 MiB of JSON: parsed off the async workers.
    let found = tokio::task::spawn_blocking(move || crate::advisories::trivy::parse(&body))
        .await
        .map_err(|_| AppError::Internal)?
        .map_err(|message| AppError::field("body", message))?;
    let asset = super::repo::asset_by_instance(&state.db, caller.account_id, &instance_id).await?;
    let open = import_trivy_findings(&state.db, caller.account_id, asset.id, &asset.name, &caller.actor(), &found).await?;
    Ok(Json(TrivyAccepted { accepted: found.len(), open_findings: open }))
}

/// How many vulnerabilities the report held, and how many findings the asset has open now.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct TrivyAccepted {
    accepted: usize,
    open_findings: i64,
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
