//! The JSON ingestion API (`/api/v1/…`): scanners and agents push assets, findings, alerts,
//! baseline results and attacks. A batch is validated whole, then written in one transaction:
//! any bad item means a 4xx naming it, and nothing written.

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::*;
use super::bulk;
use super::repo::{self, AssetIds};
use crate::auth::token::ApiCaller;
use crate::error::AppError;
use crate::http::body::{LimitedBody, INGEST_LIMIT};
use crate::http::json::parse;
use crate::http::openapi::{Accepted, Error};
use crate::server::audit::{self, Actor};
use crate::server::db::Db;
use crate::server::{now, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_assets))
        .routes(routes!(get_asset))
        .routes(routes!(post_findings))
        .routes(routes!(post_alerts))
        .routes(routes!(post_baseline))
        .routes(routes!(post_attacks))
}

/// A batch of assets, created or updated by `instance_id`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Assets {
    assets: Vec<AssetIn>,
}
/// A batch of findings, each on an asset sent before.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Findings {
    findings: Vec<FindingIn>,
}
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Alerts {
    alerts: Vec<AlertIn>,
}
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Baseline {
    results: Vec<BaselineIn>,
}
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Attacks {
    attacks: Vec<AttackIn>,
}

fn accepted(count: usize) -> Json<Accepted> {
    Json(Accepted { accepted: count })
}

#[utoipa::path(post, path = "/api/v1/assets", tag = "ingestion", security(("api_token" = [])),
    request_body(content = Assets, example = json!({"assets": [
        {"instance_id": "i-web-01", "name": "web-01", "ips": ["10.0.1.5"], "os": "Debian 12", "region": "eu-west", "group": "Web", "agent_status": "online"},
        {"instance_id": "i-db-01", "name": "db-01", "ips": ["10.0.2.7"]}
    ]})),
    responses((status = 200, description = "All written, in one transaction", body = Accepted),
        (status = 401, description = "No valid API token", body = Error),
        (status = 413, description = "Over the ingestion body limit", body = Error),
        (status = 422, description = "A bad item: nothing was written", body = Error)))]
async fn post_assets(State(state): State<AppState>, caller: ApiCaller, LimitedBody(body): LimitedBody<INGEST_LIMIT>) -> Result<Json<Accepted>, AppError> {
    let batch: Assets = parse(&body)?;
    Ok(accepted(ingest_assets(&state.db, caller.account_id, &caller.actor(), &batch.assets).await?))
}

#[utoipa::path(post, path = "/api/v1/findings", tag = "ingestion", security(("api_token" = [])),
    request_body(content = Findings, example = json!({"findings": [
        {"instance_id": "i-web-01", "advisory_id": "CVE-2024-6387", "title": "OpenSSH regreSSHion", "severity": "critical", "category": "linux",
         "package": "openssh-server", "installed_version": "1:9.2p1-2", "fix": "1:9.2p1-2+deb12u3"}
    ]})),
    responses((status = 200, description = "All written, in one transaction", body = Accepted),
        (status = 401, description = "No valid API token", body = Error),
        (status = 413, description = "Over the ingestion body limit", body = Error),
        (status = 422, description = "A bad item, or an asset not sent before: nothing was written", body = Error)))]
async fn post_findings(State(state): State<AppState>, caller: ApiCaller, LimitedBody(body): LimitedBody<INGEST_LIMIT>) -> Result<Json<Accepted>, AppError> {
    let batch: Findings = parse(&body)?;
    Ok(accepted(ingest_findings(&state.db, caller.account_id, &caller.actor(), &batch.findings).await?))
}

#[utoipa::path(post, path = "/api/v1/alerts", tag = "ingestion", security(("api_token" = [])),
    request_body(content = Alerts, example = json!({"alerts": [
        {"external_id": "alert-7781", "instance_id": "i-web-01", "name": "Reverse shell", "alert_type": "process", "severity": "high", "occurred_at": 1795000000}
    ]})),
    responses((status = 200, description = "All written, in one transaction", body = Accepted),
        (status = 401, description = "No valid API token", body = Error),
        (status = 422, description = "A bad item: nothing was written", body = Error)))]
async fn post_alerts(State(state): State<AppState>, caller: ApiCaller, LimitedBody(body): LimitedBody<INGEST_LIMIT>) -> Result<Json<Accepted>, AppError> {
    let batch: Alerts = parse(&body)?;
    Ok(accepted(ingest_alerts(&state.db, caller.account_id, &caller.actor(), &batch.alerts).await?))
}

#[utoipa::path(post, path = "/api/v1/baseline", tag = "ingestion", security(("api_token" = [])),
    request_body(content = Baseline, example = json!({"results": [
        {"instance_id": "i-web-01", "check_name": "SSH root login disabled", "category": "CIS Debian 12", "risk_level": "high", "passed": false}
    ]})),
    responses((status = 200, description = "All written, in one transaction", body = Accepted),
        (status = 401, description = "No valid API token", body = Error),
        (status = 422, description = "A bad item: nothing was written", body = Error)))]
async fn post_baseline(State(state): State<AppState>, caller: ApiCaller, LimitedBody(body): LimitedBody<INGEST_LIMIT>) -> Result<Json<Accepted>, AppError> {
    let batch: Baseline = parse(&body)?;
    Ok(accepted(ingest_baseline(&state.db, caller.account_id, &caller.actor(), &batch.results).await?))
}

#[utoipa::path(post, path = "/api/v1/attacks", tag = "ingestion", security(("api_token" = [])),
    request_body(content = Attacks, example = json!({"attacks": [
        {"instance_id": "i-web-01", "source_ip": "203.0.113.9", "target": "/wp-login.php", "attack_type": "brute_force", "occurred_at": 1795000000}
    ]})),
    responses((status = 200, description = "All written, in one transaction", body = Accepted),
        (status = 401, description = "No valid API token", body = Error),
        (status = 422, description = "A bad item: nothing was written", body = Error)))]
async fn post_attacks(State(state): State<AppState>, caller: ApiCaller, LimitedBody(body): LimitedBody<INGEST_LIMIT>) -> Result<Json<Accepted>, AppError> {
    let batch: Attacks = parse(&body)?;
    Ok(accepted(ingest_attacks(&state.db, caller.account_id, &caller.actor(), &batch.attacks).await?))
}

#[utoipa::path(get, path = "/api/v1/assets/{instance_id}", tag = "ingestion", security(("api_token" = [])),
    params(("instance_id" = String, Path, description = "The asset's instance id, as ingested")),
    responses((status = 200, description = "The asset and its open risks", body = AssetSummary),
        (status = 401, description = "No valid API token", body = Error),
        (status = 404, description = "No such asset in the token's account", body = Error)))]
async fn get_asset(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(instance_id): Path<String>,
) -> Result<Json<AssetSummary>, AppError> {
    Ok(Json(repo::asset_by_instance(&state.db, caller.account_id, &instance_id).await?))
}

pub async fn ingest_assets(db: &Db, account_id: i64, actor: &Actor, assets: &[AssetIn]) -> Result<usize, AppError> {
    let now = now();
    validate_batch(assets, "assets", now, AssetIn::validate)?;
    let mut tx = db.begin_write().await?;
    let mut groups = std::collections::HashMap::new();
    for asset in assets {
        let group_id = match &asset.group {
            Some(name) => match groups.get(name.trim()) {
                Some(id) => Some(*id),
                None => {
                    let id = repo::upsert_group(&mut tx, account_id, name, now).await?;
                    groups.insert(name.trim().to_string(), id);
                    Some(id)
                }
            },
            None => None,
        };
        repo::upsert_asset(&mut tx, account_id, asset, group_id, now).await?;
    }
    audit::record(&mut *tx, account_id, actor, "ingest.assets", "assets", &format!("{} assets", assets.len())).await?;
    tx.commit().await?;
    Ok(assets.len())
}

/// A batch of findings, written set-at-a-time (see `bulk`): one query resolves the assets,
/// one per few hundred rows reads and updates the vulnerability catalogue, one per few hundred
/// rows upserts the findings. Sightings of the same finding in one batch are merged.
pub async fn ingest_findings(db: &Db, account_id: i64, actor: &Actor, findings: &[FindingIn]) -> Result<usize, AppError> {
    let now = now();
    validate_batch(findings, "findings", now, FindingIn::validate)?;
    let entries: Vec<VulnerabilityEntry<'_>> = findings.iter().map(VulnerabilityEntry::of_finding).collect();
    let mut tx = db.begin_write().await?;
    let names: Vec<Option<&str>> = findings.iter().map(|f| Some(f.instance_id.as_str())).collect();
    let asset_ids = bulk::asset_ids(&mut tx, account_id, &names, |i| format!("findings[{i}].instance_id")).await?;
    let vulnerabilities = bulk::vulnerability_ids(&mut tx, account_id, &entries).await?;
    let sightings = findings
        .iter()
        .zip(&entries)
        .zip(asset_ids)
        .map(|((finding, entry), asset_id)| {
            let key = (entry.advisory_id.to_string(), entry.package.to_string());
            bulk::Sighting {
                asset_id: asset_id.unwrap_or_default(),
                vulnerability_id: vulnerabilities[&key],
                status: finding.status,
                installed_version: &finding.installed_version,
                seen_at: finding.seen_at.unwrap_or(now),
            }
        })
        .collect();
    bulk::upsert_findings(&mut tx, account_id, &bulk::merge_sightings(sightings)).await?;
    audit::record(&mut *tx, account_id, actor, "ingest.findings", "findings", &format!("{} findings", findings.len())).await?;
    tx.commit().await?;
    Ok(findings.len())
}

pub async fn ingest_alerts(db: &Db, account_id: i64, actor: &Actor, alerts: &[AlertIn]) -> Result<usize, AppError> {
    let now = now();
    validate_batch(alerts, "alerts", now, AlertIn::validate)?;
    let mut tx = db.begin_write().await?;
    let mut assets = AssetIds::new(account_id);
    for (i, alert) in alerts.iter().enumerate() {
        let asset_id = match &alert.instance_id {
            Some(instance) => Some(assets.require(&mut tx, instance, format!("alerts[{i}].instance_id")).await?),
            None => None,
        };
        repo::upsert_alert(&mut tx, account_id, asset_id, alert, now).await?;
    }
    audit::record(&mut *tx, account_id, actor, "ingest.alerts", "alerts", &format!("{} alerts", alerts.len())).await?;
    tx.commit().await?;
    Ok(alerts.len())
}

pub async fn ingest_baseline(db: &Db, account_id: i64, actor: &Actor, results: &[BaselineIn]) -> Result<usize, AppError> {
    let now = now();
    validate_batch(results, "results", now, BaselineIn::validate)?;
    let mut tx = db.begin_write().await?;
    let mut assets = AssetIds::new(account_id);
    for (i, result) in results.iter().enumerate() {
        let asset_id = assets.require(&mut tx, &result.instance_id, format!("results[{i}].instance_id")).await?;
        repo::upsert_baseline(&mut tx, account_id, asset_id, result, result.checked_at.unwrap_or(now)).await?;
    }
    audit::record(&mut *tx, account_id, actor, "ingest.baseline", "baseline", &format!("{} results", results.len())).await?;
    tx.commit().await?;
    Ok(results.len())
}

pub async fn ingest_attacks(db: &Db, account_id: i64, actor: &Actor, attacks: &[AttackIn]) -> Result<usize, AppError> {
    let now = now();
    validate_batch(attacks, "attacks", now, AttackIn::validate)?;
    let mut tx = db.begin_write().await?;
    let mut assets = AssetIds::new(account_id);
    for (i, attack) in attacks.iter().enumerate() {
        let asset_id = match &attack.instance_id {
            Some(instance) => Some(assets.require(&mut tx, instance, format!("attacks[{i}].instance_id")).await?),
            None => None,
        };
        repo::insert_attack(&mut tx, account_id, asset_id, attack).await?;
    }
    audit::record(&mut *tx, account_id, actor, "ingest.attacks", "attacks", &format!("{} attacks", attacks.len())).await?;
    tx.commit().await?;
    Ok(attacks.len())
}
