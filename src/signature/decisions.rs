//! The admission log, written in batches. The webhook answers the API server first and appends
//! its decision to a queue in memory; a task writes the queue every [`FLUSH_EVERY`], 100 rows to a
//! statement, instead of one insert per review. The Admission log page writes this console's
//! queue before it reads, and the console writes it on a clean shutdown (SIGTERM), so a clean
//! stop loses nothing; a crash loses at most the last [`FLUSH_EVERY`] of decisions (the verdicts
//! themselves were answered). Decisions older than the retention (`BULWARK_ADMISSION_LOG_DAYS`,
//! 30 days by default, days from 1 to 3650) are pruned hourly.

use std::time::Duration;

use std::collections::HashMap;

use super::image_ref::ImageRef;
use super::model::Outcome;
use crate::error::AppError;
use crate::server::behind::{self, WriteBehind};
use crate::server::db::{is_sqlite, marker_rows, Db};

/// How long a decision waits in memory at most (on a running console).
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Rows per statement (11 binds each).
const ROWS_PER_STATEMENT: usize = 100;
/// Decisions a queue holds at most; past it the webhook writes its own before answering, so a
/// database that cannot keep up slows the webhook rather than growing the queue without bound.
const MAX_QUEUED: usize = 50_000;

/// One decision, as the Admission log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub account_id: i64,
    pub cluster_id: i64,
    pub namespace: String,
    pub kind: String,
    pub name: String,
    pub operation: String,
    /// The images as a JSON list.
    pub images: String,
    pub outcome: Outcome,
    pub reason: String,
    pub created_at: i64,
    /// Each valid image of the review with the outcome it got, for the inventory of what ran
    /// where (written with the decision; empty when the images were not checked).
    pub ran: Vec<(ImageRef, Outcome)>,
}

/// The queue of this console's decisions not yet written, in the order decided (see `behind`).
pub struct DecisionQueue;

impl WriteBehind for DecisionQueue {
    type Items = Vec<Decision>;
    const WHAT: &'static str = "the admission log";
    const EVERY: Duration = FLUSH_EVERY;

    async fn flush(db: &Db) -> Result<usize, AppError> {
        flush(db).await
    }
}

/// Appends a decision to the log: queued, written within [`FLUSH_EVERY`].
pub async fn record(db: &Db, decision: Decision) -> Result<(), AppError> {
    let full = behind::add::<DecisionQueue, _>(db, |queued| {
        queued.push(decision);
        queued.len() >= MAX_QUEUED
    });
    if full {
        flush(db).await?;
    }
    Ok(())
}

/// Writes this console's queued decisions in one transaction; how many. On failure they stay
/// queued, in order, for the next round.
pub async fn flush(db: &Db) -> Result<usize, AppError> {
    let taken = behind::take::<DecisionQueue>(db);
    if taken.is_empty() {
        return Ok(0);
    }
    match write(db, &taken).await {
        Ok(()) => Ok(taken.len()),
        Err(e) => {
            behind::put_back::<DecisionQueue>(db, |queued| {
                let newer = std::mem::replace(queued, taken);
                queued.extend(newer);
            });
            Err(e)
        }
    }
}

async fn write(db: &Db, decisions: &[Decision]) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let sqlite = is_sqlite(&tx);
    for chunk in decisions.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            // A cluster deleted since its review takes its decisions with it (as the cascade would);
            // the rest get their ids in the order they were decided.
            "WITH v (seq, a, c, ns, k, n, op, i, o, r, t) AS (VALUES {})
             INSERT INTO sig_decisions (account_id, cluster_id, namespace, kind, name, operation, images, outcome, reason, created_at)
             SELECT v.a, v.c, v.ns, v.k, v.n, v.op, v.i, v.o, v.r, v.t FROM v
             WHERE EXISTS (SELECT 1 FROM sig_clusters c WHERE c.id = v.c) ORDER BY v.seq",
            marker_rows(sqlite, 1, chunk.len(), 11)
        );
        let mut query = sqlx::query(&sql);
        for (seq, d) in chunk.iter().enumerate() {
            query = query
                .bind(seq as i64)
                .bind(d.account_id)
                .bind(d.cluster_id)
                .bind(&d.namespace)
                .bind(&d.kind)
                .bind(&d.name)
                .bind(&d.operation)
                .bind(&d.images)
                .bind(d.outcome.as_str())
                .bind(&d.reason)
                .bind(d.created_at);
        }
        query.execute(&mut *tx).await?;
    }
    write_inventory(&mut tx, sqlite, decisions).await?;
    tx.commit().await?;
    Ok(())
}

/// An inventory entry: (account, image reference, cluster, namespace, workload kind, name).
type InventoryKey = (i64, String, i64, String, String, String);

/// Inventory rows per statement (9 binds each).
const INVENTORY_ROWS_PER_STATEMENT: usize = 100;

/// What the decisions say ran where: each image once (its row found or made), then each (image,
/// cluster, namespace, workload) once with its latest outcome, a hundred rows to a statement.
/// Clusters deleted since their reviews are left out, as their decisions are.
async fn write_inventory(tx: &mut sqlx::Transaction<'static, sqlx::Any>, sqlite: bool, decisions: &[Decision]) -> Result<(), AppError> {
    let mut clusters: Vec<i64> = decisions.iter().filter(|d| !d.ran.is_empty()).map(|d| d.cluster_id).collect();
    if clusters.is_empty() {
        return Ok(());
    }
    clusters.sort_unstable();
    clusters.dedup();
    let sql = format!("SELECT id FROM sig_clusters WHERE id IN ({})", crate::server::db::placeholders(1, clusters.len()));
    let mut query = sqlx::query_scalar::<_, i64>(&sql);
    for id in &clusters {
        query = query.bind(*id);
    }
    let live: std::collections::HashSet<i64> = query.fetch_all(&mut **tx).await?.into_iter().collect();
    // The latest word on each (account, image, cluster, namespace, kind, name), in decision order.
    let mut images: HashMap<(i64, String), i64> = HashMap::new();
    // Value: (outcome, image row, first seen, last seen).
    let mut rows: HashMap<InventoryKey, (Outcome, i64, i64, i64)> = HashMap::new();
    // Rows are written in the order first met, so ids follow the decisions.
    let mut order = Vec::new();
    for d in decisions.iter().filter(|d| live.contains(&d.cluster_id)) {
        for (image, outcome) in &d.ran {
            let key = (d.account_id, image.to_string());
            let image_id = match images.get(&key) {
                Some(id) => *id,
                None => {
                    let id = super::repo::upsert_image(tx, d.account_id, image, d.created_at).await?;
                    images.insert(key.clone(), id);
                    id
                }
            };
            let row = (d.account_id, image.to_string(), d.cluster_id, d.namespace.clone(), d.kind.clone(), d.name.clone());
            let first = match rows.get(&row) {
                Some((_, _, first, _)) => (*first).min(d.created_at),
                None => {
                    order.push(row.clone());
                    d.created_at
                }
            };
            rows.insert(row, (*outcome, image_id, first, d.created_at));
        }
    }
    let rows: Vec<_> = order.into_iter().filter_map(|key| rows.remove(&key).map(|value| (key, value))).collect();
    for chunk in rows.chunks(INVENTORY_ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO image_inventory (account_id, image_id, cluster_id, namespace, workload_kind, workload_name, first_seen_at, last_seen_at, outcome)
             VALUES {}
             ON CONFLICT (image_id, cluster_id, namespace, workload_kind, workload_name)
             DO UPDATE SET last_seen_at = excluded.last_seen_at, outcome = excluded.outcome",
            marker_rows(sqlite, 1, chunk.len(), 9)
        );
        let mut query = sqlx::query(&sql);
        for ((account_id, _, cluster_id, namespace, kind, name), (outcome, image_id, first, last)) in chunk {
            query = query
                .bind(*account_id)
                .bind(*image_id)
                .bind(*cluster_id)
                .bind(namespace)
                .bind(kind)
                .bind(name)
                .bind(*first)
                .bind(*last)
                .bind(outcome.as_str());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Deletes decisions older than `days` before `now`, and the image inventory's entries not seen
/// since then (a workload long gone); how many decisions.
pub async fn prune(db: &Db, days: u32, now: i64) -> Result<u64, AppError> {
    let cutoff = now - i64::from(days) * 86_400;
    sqlx::query("DELETE FROM image_inventory WHERE last_seen_at < $1").bind(cutoff).execute(&db.pool).await?;
    Ok(sqlx::query("DELETE FROM sig_decisions WHERE created_at < $1").bind(cutoff).execute(&db.pool).await?.rows_affected())
}
