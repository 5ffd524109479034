//! Container signature SQL: clusters and their hook token, witnesses, security policies,
//! registries, and the admission decisions the pages list.

use std::collections::HashMap;

use super::model::*;
use crate::editions::{Edition, Service};
use crate::error::{on_unique, AppError};
use crate::locale::{request_locale, td_string};
use crate::server::audit::{self, Actor};
use crate::server::crypto::{hash_token, random_hex};
use crate::server::db::{Db, DbKind};
use crate::server::next_read::NextRead;
use crate::server::secrets::Secrets;

pub const CLUSTER_TOKEN_PREFIX: &str = "bct_";

pub(super) fn json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

pub(super) fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

/// The name (`column`) of row `id` of `table` when it belongs to the account; `NotFound` otherwise.
async fn owned_name<'c, E>(executor: E, table: &'static str, column: &'static str, account_id: i64, id: i64) -> Result<String, AppError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query_scalar::<_, String>(&format!("SELECT {column} FROM {table} WHERE id = $1 AND account_id = $2"))
        .bind(id)
        .bind(account_id)
        .fetch_optional(executor)
        .await?
        .ok_or(AppError::NotFound)
}

fn token_context(cluster_id: i64) -> String {
    format!("cluster-token:{cluster_id}")
}

// ---- Clusters ------------------------------------------------------------------------------

pub async fn list_clusters(db: &Db, account_id: i64) -> Result<Vec<ClusterView>, AppError> {
    let rows = sqlx::query_as::<_, (i64, String, String, String, Option<i64>, i64)>(
        "SELECT id, name, region, namespaces, hook_seen_at, created_at FROM sig_clusters WHERE account_id = $1 ORDER BY name",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    let policies = sqlx::query_as::<_, (i64, String)>("SELECT cluster_id, name FROM sig_policies WHERE account_id = $1 ORDER BY name")
        .bind(account_id)
        .fetch_all(&db.pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| ClusterView {
            id: r.0,
            name: r.1,
            region: r.2,
            namespaces: json_list(&r.3),
            hook_seen_at: r.4,
            created_at: r.5,
            policies: policies.iter().filter(|p| p.0 == r.0).map(|p| p.1.clone()).collect(),
        })
        .collect())
}

/// Registers a cluster; returns its id. Its hook token is made here and shown in the hook's
/// configuration.
pub async fn create_cluster(db: &Db, secrets: &Secrets, account_id: i64, actor: &Actor, input: &ClusterInput, now: i64) -> Result<i64, AppError> {
    let l = request_locale();
    AppError::check(input.validate(l))?;
    let namespaces = input.namespace_list(l).map_err(|m| AppError::field("namespaces", m))?;
    let token = format!("{CLUSTER_TOKEN_PREFIX}{}", random_hex(24));
    let mut tx = db.begin_write().await?;
    // The sealed token is bound to the row id, which exists only after the insert.
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO sig_clusters (account_id, name, region, namespaces, token_hash, token_sealed, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, '', $6, $6) RETURNING id",
    )
    .bind(account_id)
    .bind(input.name.trim())
    .bind(input.region.trim())
    .bind(to_json(&namespaces))
    .bind(hash_token(&token))
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(on_unique("name", td_string!(l, signature.errors.cluster_name_taken)))?;
    sqlx::query("UPDATE sig_clusters SET token_sealed = $1 WHERE id = $2")
        .bind(secrets.seal(&token_context(id), &token))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(&mut *tx, account_id, actor, "signature.cluster.create", input.name.trim(), "").await?;
    tx.commit().await?;
    Ok(id)
}

/// Renames a cluster or changes its region and namespaces; a namespace a policy covers stays.
pub async fn update_cluster(db: &Db, account_id: i64, actor: &Actor, id: i64, input: &ClusterInput, now: i64) -> Result<(), AppError> {
    let l = request_locale();
    AppError::check(input.validate(l))?;
    let namespaces = input.namespace_list(l).map_err(|m| AppError::field("namespaces", m))?;
    owned_name(&db.pool, "sig_clusters", "name", account_id, id).await?;
    let covered = sqlx::query_as::<_, (String, String)>("SELECT name, namespaces FROM sig_policies WHERE cluster_id = $1 ORDER BY name")
        .bind(id)
        .fetch_all(&db.pool)
        .await?;
    for (policy, policy_namespaces) in covered {
        if let Some(missing) = json_list(&policy_namespaces).into_iter().find(|n| !namespaces.contains(n)) {
            return Err(AppError::field("namespaces", td_string!(l, signature.errors.policy_covers_namespace, policy, namespace = missing)));
        }
    }
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE sig_clusters SET name = $1, region = $2, namespaces = $3, updated_at = $4 WHERE id = $5 AND account_id = $6")
        .bind(input.name.trim())
        .bind(input.region.trim())
        .bind(to_json(&namespaces))
        .bind(now)
        .bind(id)
        .bind(account_id)
        .execute(&mut *tx)
        .await
        .map_err(on_unique("name", td_string!(l, signature.errors.cluster_name_taken)))?;
    audit::record(&mut *tx, account_id, actor, "signature.cluster.update", input.name.trim(), "").await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_cluster(db: &Db, account_id: i64, actor: &Actor, id: i64) -> Result<(), AppError> {
    let name = owned_name(&db.pool, "sig_clusters", "name", account_id, id).await?;
    let policy = sqlx::query_scalar::<_, String>("SELECT name FROM sig_policies WHERE cluster_id = $1 ORDER BY name")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    if let Some(policy) = policy {
        return Err(AppError::Conflict(td_string!(request_locale(), signature.errors.policy_covers_cluster, policy)));
    }
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM sig_clusters WHERE id = $1 AND account_id = $2").bind(id).bind(account_id).execute(&mut *tx).await?;
    audit::record(&mut *tx, account_id, actor, "signature.cluster.delete", &name, "").await?;
    tx.commit().await?;
    Ok(())
}


/// The cluster's hook token, for its configuration (admins only).
pub async fn cluster_token(db: &Db, secrets: &Secrets, account_id: i64, id: i64) -> Result<String, AppError> {
    let sealed = sqlx::query_scalar::<_, String>("SELECT token_sealed FROM sig_clusters WHERE id = $1 AND account_id = $2")
        .bind(id)
        .bind(account_id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    secrets.open(&token_context(id), &sealed).ok_or_else(|| {
        tracing::error!(cluster = id, "a cluster token does not open under the master key");
        AppError::Internal
    })
}

/// A new hook token; the old one stops working at once.
pub async fn rotate_cluster_token(db: &Db, secrets: &Secrets, account_id: i64, actor: &Actor, id: i64, now: i64) -> Result<(), AppError> {
    let name = owned_name(&db.pool, "sig_clusters", "name", account_id, id).await?;
    let token = format!("{CLUSTER_TOKEN_PREFIX}{}", random_hex(24));
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE sig_clusters SET token_hash = $1, token_sealed = $2, updated_at = $3 WHERE id = $4")
        .bind(hash_token(&token))
        .bind(secrets.seal(&token_context(id), &token))
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(&mut *tx, account_id, actor, "signature.cluster.rotate_token", &name, "").await?;
    tx.commit().await?;
    Ok(())
}

/// Who a webhook call comes from, with what decides whether its images are checked: the
/// account's edition and whether it authorizes Bulwark to reach its keys and clusters, as they
/// are now (a change to either bumps `signature_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookCaller {
    pub account_id: i64,
    pub edition: Edition,
    pub authorized: bool,
}

/// The reads of the version on PostgreSQL, shared by the requests that wait together.
#[derive(Default)]
struct VersionReads(NextRead<i64>);

/// The version of what the webhook decides from (see the `signature_state` migration). The
/// webhook and the signing API read it on every request, so it is a point read (`Db::point_i64`);
/// on PostgreSQL, where that is a round trip, requests that arrive together share one read that
/// began after they arrived (`server::next_read`).
pub async fn signature_version(db: &Db) -> Result<i64, AppError> {
    const SQL: &str = "SELECT version FROM signature_state WHERE id = 1";
    Ok(match db.kind {
        DbKind::Postgres => db.shared::<VersionReads>().0.get(|| db.point_i64(SQL)).await?,
        DbKind::Sqlite => db.point_i64(SQL).await?,
    })
}

/// The cluster a webhook call is for, when the token hash is that cluster's: its caller, and when
/// its hook was last recorded as seen.
pub async fn hook_caller(db: &Db, cluster_id: i64, token_hash: &str) -> Result<Option<(HookCaller, Option<i64>)>, AppError> {
    let found = sqlx::query_as::<_, (i64, Option<i64>, String, i64)>(
        "SELECT c.account_id, c.hook_seen_at, a.edition,
                (SELECT COUNT(*) FROM authorizations z WHERE z.account_id = c.account_id AND z.service = $3)
         FROM sig_clusters c JOIN accounts a ON a.id = c.account_id WHERE c.id = $1 AND c.token_hash = $2",
    )
    .bind(cluster_id)
    .bind(token_hash)
    .bind(Service::KeysAndClusters.as_str())
    .fetch_optional(&db.pool)
    .await?;
    let Some((account_id, seen, edition, authorized)) = found else { return Ok(None) };
    let edition = Edition::parse(&edition).ok_or(AppError::Internal)?;
    Ok(Some((HookCaller { account_id, edition, authorized: authorized > 0 }, seen)))
}

/// Records that the cluster's hook called in (the Clusters tab shows it).
pub async fn hook_seen(db: &Db, cluster_id: i64, now: i64) -> Result<(), AppError> {
    sqlx::query("UPDATE sig_clusters SET hook_seen_at = $1 WHERE id = $2").bind(now).bind(cluster_id).execute(&db.pool).await?;
    Ok(())
}

// ---- Witnesses -----------------------------------------------------------------------------

pub async fn list_witnesses(db: &Db, account_id: i64) -> Result<Vec<WitnessView>, AppError> {
    let rows = sqlx::query_as::<_, (i64, String, String, Option<String>, String, String, i64)>(
        "SELECT w.id, w.name, k.key_id, k.alias, k.state, w.description, w.created_at
         FROM sig_witnesses w JOIN kms_keys k ON k.id = w.key_row WHERE w.account_id = $1 ORDER BY w.name",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    let uses = policy_witness_names(db, account_id).await?;
    Ok(rows
        .into_iter()
        .map(|r| WitnessView {
            policies: uses.get(&r.0).cloned().unwrap_or_default(),
            id: r.0,
            name: r.1,
            key_id: r.2,
            key_alias: r.3,
            key_state: KeyState::parse(&r.4).unwrap_or(KeyState::Disabled),
            description: r.5,
            created_at: r.6,
        })
        .collect())
}

/// Witness id → the names of the policies that use it.
async fn policy_witness_names(db: &Db, account_id: i64) -> Result<HashMap<i64, Vec<String>>, AppError> {
    let rows = sqlx::query_as::<_, (i64, String)>(
        "SELECT pw.witness_id, p.name FROM sig_policy_witnesses pw JOIN sig_policies p ON p.id = pw.policy_id
         WHERE p.account_id = $1 ORDER BY p.name",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    let mut map: HashMap<i64, Vec<String>> = HashMap::new();
    for (witness, policy) in rows {
        map.entry(witness).or_default().push(policy);
    }
    Ok(map)
}

pub async fn create_witness(db: &Db, account_id: i64, actor: &Actor, input: &WitnessInput, now: i64) -> Result<i64, AppError> {
    let l = request_locale();
    AppError::check(input.validate(l))?;
    let key = super::keys::find_key(db, account_id, &input.key_id).await.map_err(|e| match e {
        AppError::NotFound => AppError::field("key_id", td_string!(l, signature.errors.no_such_key)),
        other => other,
    })?;
    if let Some(problem) = witness_key_problem(key.spec, key.usage, key.state, l) {
        return Err(AppError::field("key_id", problem));
    }
    let mut tx = db.begin_write().await?;
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO sig_witnesses (account_id, name, key_row, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(account_id)
    .bind(input.name.trim())
    .bind(key.id)
    .bind(input.description.trim())
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(on_unique("name", td_string!(l, signature.errors.witness_name_taken)))?;
    audit::record(&mut *tx, account_id, actor, "signature.witness.create", input.name.trim(), &key.key_id).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update_witness_description(db: &Db, account_id: i64, actor: &Actor, id: i64, description: &str, now: i64) -> Result<(), AppError> {
    if let Some(problem) = description_problem(description, request_locale()) {
        return Err(AppError::field("description", problem));
    }
    let name = owned_name(&db.pool, "sig_witnesses", "name", account_id, id).await?;
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE sig_witnesses SET description = $1, updated_at = $2 WHERE id = $3")
        .bind(description.trim())
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(&mut *tx, account_id, actor, "signature.witness.update", &name, "").await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_witness(db: &Db, account_id: i64, actor: &Actor, id: i64) -> Result<(), AppError> {
    let name = owned_name(&db.pool, "sig_witnesses", "name", account_id, id).await?;
    let policy = sqlx::query_scalar::<_, String>(
        "SELECT p.name FROM sig_policy_witnesses pw JOIN sig_policies p ON p.id = pw.policy_id WHERE pw.witness_id = $1 ORDER BY p.name",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    if let Some(policy) = policy {
        return Err(AppError::Conflict(td_string!(request_locale(), signature.errors.policy_uses_witness, policy)));
    }
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM sig_witnesses WHERE id = $1 AND account_id = $2").bind(id).bind(account_id).execute(&mut *tx).await?;
    audit::record(&mut *tx, account_id, actor, "signature.witness.delete", &name, "").await?;
    tx.commit().await?;
    Ok(())
}


// ---- Security policies ---------------------------------------------------------------------

type PolicyRow = (i64, String, i64, String, String, i64, String, String, String, i64, i64, String);

const POLICY_COLUMNS: &str =
    "p.id, p.name, p.cluster_id, c.name, p.namespaces, p.enabled, p.mode, p.witness_match, p.remarks, p.created_at, p.updated_at, p.vuln_rule";

pub async fn list_policies(db: &Db, account_id: i64) -> Result<Vec<PolicyView>, AppError> {
    let rows = sqlx::query_as::<_, PolicyRow>(&format!(
        "SELECT {POLICY_COLUMNS} FROM sig_policies p JOIN sig_clusters c ON c.id = p.cluster_id WHERE p.account_id = $1 ORDER BY p.name"
    ))
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    let witnesses = sqlx::query_as::<_, (i64, i64, String)>(
        "SELECT pw.policy_id, w.id, w.name FROM sig_policy_witnesses pw JOIN sig_witnesses w ON w.id = pw.witness_id
         WHERE w.account_id = $1 ORDER BY w.name",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|r| policy_view(r, &witnesses)).collect())
}

fn policy_view(r: PolicyRow, witnesses: &[(i64, i64, String)]) -> PolicyView {
    PolicyView {
        witnesses: witnesses.iter().filter(|w| w.0 == r.0).map(|w| (w.1, w.2.clone())).collect(),
        id: r.0,
        name: r.1,
        cluster_id: r.2,
        cluster_name: r.3,
        namespaces: json_list(&r.4),
        enabled: r.5 != 0,
        mode: PolicyMode::parse(&r.6).unwrap_or(PolicyMode::Enforce),
        witness_match: WitnessMatch::parse(&r.7).unwrap_or(WitnessMatch::AllOf),
        remarks: r.8,
        created_at: r.9,
        updated_at: r.10,
        vuln_rule: super::vuln_model::stored_rule(&r.11),
    }
}

/// Creates a policy, or updates the one `input.id` names; returns its id.
pub async fn save_policy(db: &Db, account_id: i64, actor: &Actor, input: &PolicyInput, now: i64) -> Result<i64, AppError> {
    let l = request_locale();
    AppError::check(input.validate(l))?;
    let cluster_id = input.cluster_id.ok_or(AppError::Internal)?;
    let cluster = list_clusters(db, account_id)
        .await?
        .into_iter()
        .find(|c| c.id == cluster_id)
        .ok_or_else(|| AppError::field("cluster", td_string!(l, signature.errors.no_such_cluster)))?;
    if !cluster.hook_installed() {
        return Err(AppError::field("cluster", td_string!(l, signature.errors.hook_not_installed)));
    }
    if let Some(missing) = input.namespaces.iter().find(|n| !cluster.namespaces.contains(n)) {
        return Err(AppError::field("namespaces", td_string!(l, signature.errors.not_cluster_namespace, namespace = missing, cluster = &cluster.name)));
    }
    let mut witness_ids = input.witness_ids.clone();
    witness_ids.sort_unstable();
    witness_ids.dedup();
    let known = list_witnesses(db, account_id).await?;
    if witness_ids.iter().any(|id| !known.iter().any(|w| w.id == *id)) {
        return Err(AppError::field("witnesses", td_string!(l, signature.errors.no_such_witness)));
    }
    let mut namespaces = input.namespaces.clone();
    namespaces.dedup();
    let vuln_rule = super::vuln_model::store_rule(input.vuln.rule(l).map_err(AppError::Validation)?.as_ref());
    let mut tx = db.begin_write().await?;
    let id = match input.id {
        None => sqlx::query_scalar::<_, i64>(
            "INSERT INTO sig_policies (account_id, name, cluster_id, namespaces, enabled, mode, witness_match, remarks, created_at, updated_at, vuln_rule)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) RETURNING id",
        )
        .bind(account_id)
        .bind(input.name.trim())
        .bind(cluster_id)
        .bind(to_json(&namespaces))
        .bind(i64::from(input.enabled))
        .bind(input.mode.as_str())
        .bind(input.witness_match.as_str())
        .bind(input.remarks.trim())
        .bind(now)
        .bind(&vuln_rule)
        .fetch_one(&mut *tx)
        .await
        .map_err(on_unique("name", td_string!(l, signature.errors.policy_name_taken)))?,
        Some(id) => {
            let changed = sqlx::query(
                "UPDATE sig_policies SET name = $1, cluster_id = $2, namespaces = $3, enabled = $4, mode = $5, witness_match = $6,
                        remarks = $7, updated_at = $8, vuln_rule = $11 WHERE id = $9 AND account_id = $10",
            )
            .bind(input.name.trim())
            .bind(cluster_id)
            .bind(to_json(&namespaces))
            .bind(i64::from(input.enabled))
            .bind(input.mode.as_str())
            .bind(input.witness_match.as_str())
            .bind(input.remarks.trim())
            .bind(now)
            .bind(id)
            .bind(account_id)
            .bind(&vuln_rule)
            .execute(&mut *tx)
            .await
            .map_err(on_unique("name", td_string!(l, signature.errors.policy_name_taken)))?
            .rows_affected();
            if changed == 0 {
                return Err(AppError::NotFound);
            }
            sqlx::query("DELETE FROM sig_policy_witnesses WHERE policy_id = $1").bind(id).execute(&mut *tx).await?;
            id
        }
    };
    for witness in &witness_ids {
        sqlx::query("INSERT INTO sig_policy_witnesses (policy_id, witness_id) VALUES ($1, $2)").bind(id).bind(witness).execute(&mut *tx).await?;
    }
    let action = if input.id.is_some() { "signature.policy.update" } else { "signature.policy.create" };
    let state = if input.enabled { "enabled" } else { "disabled" };
    let detail = match input.vuln.rule(l).ok().flatten() {
        Some(rule) => format!("{state}; vulnerability rule: {} at or above {}", rule.action.as_str(), rule.min_severity.as_str()),
        None => state.to_string(),
    };
    audit::record(&mut *tx, account_id, actor, action, input.name.trim(), &detail).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn set_policy_enabled(db: &Db, account_id: i64, actor: &Actor, id: i64, enabled: bool, now: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let name = owned_name(&mut *tx, "sig_policies", "name", account_id, id).await?;
    sqlx::query("UPDATE sig_policies SET enabled = $1, updated_at = $2 WHERE id = $3")
        .bind(i64::from(enabled))
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let action = if enabled { "signature.policy.enable" } else { "signature.policy.disable" };
    audit::record(&mut *tx, account_id, actor, action, &name, "").await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_policy(db: &Db, account_id: i64, actor: &Actor, id: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let name = owned_name(&mut *tx, "sig_policies", "name", account_id, id).await?;
    sqlx::query("DELETE FROM sig_policies WHERE id = $1").bind(id).execute(&mut *tx).await?;
    audit::record(&mut *tx, account_id, actor, "signature.policy.delete", &name, "").await?;
    tx.commit().await?;
    Ok(())
}

// ---- Registries ----------------------------------------------------------------------------

pub async fn list_registries(db: &Db, account_id: i64) -> Result<Vec<RegistryView>, AppError> {
    Ok(sqlx::query_as::<_, (i64, String, String, Option<String>, i64)>(
        "SELECT id, host, username, password_sealed, plain_http FROM sig_registries WHERE account_id = $1 ORDER BY host",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|r| RegistryView { id: r.0, host: r.1, username: Some(r.2), has_password: Some(r.3.is_some()), plain_http: r.4 != 0 })
    .collect())
}

fn registry_context(account_id: i64, host: &str) -> String {
    format!("registry-password:{account_id}:{host}")
}

/// Adds a registry's credentials, or replaces those of the same host.
pub async fn save_registry(db: &Db, secrets: &Secrets, account_id: i64, actor: &Actor, input: &RegistryInput, now: i64) -> Result<(), AppError> {
    AppError::check(input.validate(request_locale()))?;
    let host = input.host.trim().to_ascii_lowercase();
    let sealed = (!input.password.is_empty()).then(|| secrets.seal(&registry_context(account_id, &host), &input.password));
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM sig_registries WHERE account_id = $1 AND host = $2").bind(account_id).bind(&host).execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO sig_registries (account_id, host, username, password_sealed, plain_http, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(account_id)
    .bind(&host)
    .bind(input.username.trim())
    .bind(sealed)
    .bind(i64::from(input.plain_http))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(&mut *tx, account_id, actor, "signature.registry.save", &host, "").await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_registry(db: &Db, account_id: i64, actor: &Actor, id: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let host = owned_name(&mut *tx, "sig_registries", "host", account_id, id).await?;
    sqlx::query("DELETE FROM sig_registries WHERE id = $1").bind(id).execute(&mut *tx).await?;
    audit::record(&mut *tx, account_id, actor, "signature.registry.delete", &host, "").await?;
    tx.commit().await?;
    Ok(())
}

/// How to reach a registry: (username, password, plain HTTP); anonymous HTTPS when not configured.
pub async fn registry_access(db: &Db, secrets: &Secrets, account_id: i64, host: &str) -> Result<(Option<(String, String)>, bool), AppError> {
    let host = host.to_ascii_lowercase();
    let row = sqlx::query_as::<_, (String, Option<String>, i64)>(
        "SELECT username, password_sealed, plain_http FROM sig_registries WHERE account_id = $1 AND host = $2",
    )
    .bind(account_id)
    .bind(&host)
    .fetch_optional(&db.pool)
    .await?;
    let Some((username, sealed, plain_http)) = row else { return Ok((None, false)) };
    let credentials = match sealed {
        Some(sealed) if !username.is_empty() => {
            let password = secrets.open(&registry_context(account_id, &host), &sealed).ok_or_else(|| {
                tracing::error!(%host, "registry credentials do not open under the master key");
                AppError::Internal
            })?;
            Some((username, password))
        }
        _ => None,
    };
    Ok((credentials, plain_http != 0))
}

// ---- Decisions -----------------------------------------------------------------------------

pub const DECISIONS_PAGE: i64 = 100;

/// The newest decisions written (the caller writes this console's queue first, see `decisions`).
pub async fn list_decisions(db: &Db, account_id: i64, outcome: Option<Outcome>) -> Result<Vec<DecisionView>, AppError> {
    let rows = sqlx::query_as::<_, (i64, String, String, String, String, String, String, String, String, i64)>(
        "SELECT d.id, c.name, d.namespace, d.kind, d.name, d.operation, d.images, d.outcome, d.reason, d.created_at
         FROM sig_decisions d JOIN sig_clusters c ON c.id = d.cluster_id
         WHERE d.account_id = $1 AND ($2 = '' OR d.outcome = $2) ORDER BY d.created_at DESC, d.id DESC LIMIT $3",
    )
    .bind(account_id)
    .bind(outcome.map(Outcome::as_str).unwrap_or(""))
    .bind(DECISIONS_PAGE)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DecisionView {
            id: r.0,
            cluster_name: r.1,
            namespace: r.2,
            kind: r.3,
            name: r.4,
            operation: r.5,
            images: json_list(&r.6),
            outcome: Outcome::parse(&r.7).unwrap_or(Outcome::Denied),
            reason: r.8,
            created_at: r.9,
        })
        .collect())
}

/// Records an image (by repository and digest, '' when met by tag only) and returns its row.
pub(super) async fn upsert_image(conn: &mut sqlx::AnyConnection, account_id: i64, image: &super::image_ref::ImageRef, now: i64) -> Result<i64, AppError> {
    let repository = image.docker_reference();
    let digest = image.digest.clone().unwrap_or_default();
    let found = sqlx::query_as::<_, (i64, String)>("SELECT id, tags FROM sig_images WHERE account_id = $1 AND repository = $2 AND digest = $3")
        .bind(account_id)
        .bind(&repository)
        .bind(&digest)
        .fetch_optional(&mut *conn)
        .await?;
    match found {
        Some((id, tags)) => {
            let mut tags = json_list(&tags);
            if let Some(tag) = image.tag.as_ref().filter(|t| !tags.contains(t)) {
                tags.push(tag.clone());
            }
            sqlx::query("UPDATE sig_images SET tags = $1, last_seen_at = $2 WHERE id = $3")
                .bind(to_json(&tags))
                .bind(now)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            Ok(id)
        }
        None => {
            let tags: Vec<String> = image.tag.iter().cloned().collect();
            // Two admission requests for a new image at once: the loser finds the winner's row.
            let inserted = sqlx::query_scalar::<_, i64>(
                "INSERT INTO sig_images (account_id, repository, digest, tags, first_seen_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $5)
                 ON CONFLICT (account_id, repository, digest) DO NOTHING RETURNING id",
            )
            .bind(account_id)
            .bind(&repository)
            .bind(&digest)
            .bind(to_json(&tags))
            .bind(now)
            .fetch_optional(&mut *conn)
            .await?;
            match inserted {
                Some(id) => Ok(id),
                None => Ok(sqlx::query_scalar::<_, i64>("SELECT id FROM sig_images WHERE account_id = $1 AND repository = $2 AND digest = $3")
                    .bind(account_id)
                    .bind(&repository)
                    .bind(&digest)
                    .fetch_one(&mut *conn)
                    .await?),
            }
        }
    }
}
