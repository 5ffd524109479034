//! The JSON ingestion API (`/api/v1/…`): scanners and agents push assets, findings, alerts,
//! baseline results and attacks. A batch is validated whole, then written in one transaction:
//! any bad item means a 4xx naming it, and nothing written.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::model::*;
use super::bulk;
use super::repo::{self, AssetIds};
use crate::auth::token::ApiCaller;
use crate::error::AppError;
use crate::http::body::{LimitedBody, INGEST_LIMIT};
use crate::http::json::parse;
use crate::server::audit::{self, Actor};
use crate::server::db::Db;
use crate::server::{now, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/assets", post(post_assets))
        .route("/api/v1/assets/{instance_id}", get(get_asset))
        .route("/api/v1/findings", post(post_findings))
        .route("/api/v1/alerts", post(post_alerts))
        .route("/api/v1/baseline", post(post_baseline))
        .route("/api/v1/attacks", post(post_attacks))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Assets {
    assets: Vec<AssetIn>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Findings {
    findings: Vec<FindingIn>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Alerts {
    alerts: Vec<AlertIn>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Baseline {
    results: Vec<BaselineIn>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Attacks {
    attacks: Vec<AttackIn>,
}

fn accepted(count: usize) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "accepted": count }))
}

async fn post_assets(State(state): State<AppState>, caller: ApiCaller, LimitedBody(body): LimitedBody<INGEST_LIMIT>) -> Result<Json<serde_json::Value>, AppError> {
    let batch: Assets = parse(&body)?;
    Ok(accepted(ingest_assets(&state.db, caller.account_id, &caller.actor(), &batch.assets).await?))
}

async fn post_findings(State(state): State<AppState>, caller: ApiCaller, LimitedBody(body): LimitedBody<INGEST_LIMIT>) -> Result<Json<serde_json::Value>, AppError> {
    let batch: Findings = parse(&body)?;
    Ok(accepted(ingest_findings(&state.db, caller.account_id, &caller.actor(), &batch.findings).await?))
}

async fn post_alerts(State(state): State<AppState>, caller: ApiCaller, LimitedBody(body): LimitedBody<INGEST_LIMIT>) -> Result<Json<serde_json::Value>, AppError> {
    let batch: Alerts = parse(&body)?;
    Ok(accepted(ingest_alerts(&state.db, caller.account_id, &caller.actor(), &batch.alerts).await?))
}

async fn post_baseline(State(state): State<AppState>, caller: ApiCaller, LimitedBody(body): LimitedBody<INGEST_LIMIT>) -> Result<Json<serde_json::Value>, AppError> {
    let batch: Baseline = parse(&body)?;
    Ok(accepted(ingest_baseline(&state.db, caller.account_id, &caller.actor(), &batch.results).await?))
}

async fn post_attacks(State(state): State<AppState>, caller: ApiCaller, LimitedBody(body): LimitedBody<INGEST_LIMIT>) -> Result<Json<serde_json::Value>, AppError> {
    let batch: Attacks = parse(&body)?;
    Ok(accepted(ingest_attacks(&state.db, caller.account_id, &caller.actor(), &batch.attacks).await?))
}

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
