//! Background work of a console process: the report scheduler, the playbook engine, the agent
//! fleet tick, the hourly recount of the risk counters (one replica claims each hour's), the
//! daily score snapshot and expired-session cleanup. Several replicas on one
//! PostgreSQL may run them side by side: the snapshot and cleanup are idempotent, each report
//! delivery is claimed by one replica, and each running playbook task is leased to one.

use std::time::{Duration, Instant};

use tower_sessions::ExpiredDeletion;
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::server::config::replica_id;
use crate::server::db::{Db, SessionPool};
use crate::server::metrics;
use crate::server::now;
use crate::overview::repo::{record_score, score_now};
use crate::server::AppState;

/// Records today's score for every account.
pub async fn snapshot_scores(db: &Db) -> Result<usize, crate::error::AppError> {
    let accounts = crate::auth::repo::account_ids(db).await?;
    let now = now();
    for account_id in &accounts {
        let score = score_now(db, *account_id).await?;
        record_score(db, *account_id, now, score).await?;
    }
    Ok(accounts.len())
}

/// How often the report scheduler looks for due work.
pub const REPORT_TICK: Duration = Duration::from_secs(15);

/// How often playbook tasks are started, fanned out and judged.
pub const PLAYBOOK_TICK: Duration = Duration::from_secs(3);

/// How often silent agents are marked offline and stuck fix jobs failed.
pub const FLEET_TICK: Duration = Duration::from_secs(15);

pub fn spawn(state: AppState) {
    let reports = state.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(REPORT_TICK);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let started = Instant::now();
            let result = crate::reports::delivery::tick(&reports, replica_id(), now()).await;
            metrics::job_run("report_scheduler", started, result.is_ok());
            match result {
                Ok(outcome) if outcome.processed > 0 || outcome.materialized > 0 => {
                    tracing::info!(materialized = outcome.materialized, processed = outcome.processed, "report scheduler")
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "report scheduler tick failed"),
            }
        }
    });
    let playbooks = state.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PLAYBOOK_TICK);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let started = Instant::now();
            let result = crate::playbook::engine::tick(&playbooks, replica_id(), now()).await;
            metrics::job_run("playbook_engine", started, result.is_ok());
            match result {
                Ok(t) if t != Default::default() => tracing::info!(
                    started = t.started,
                    dispatched = t.dispatched,
                    finished_hosts = t.finished_hosts,
                    completed = t.completed,
                    notified = t.notified,
                    "playbooks"
                ),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "playbook tick failed"),
            }
        }
    });
    let fleet = state.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(FLEET_TICK);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let started = Instant::now();
            let result = crate::assets::fleet::tick(&fleet.db, &fleet.config.agents, now()).await;
            metrics::job_run("agent_fleet", started, result.is_ok());
            match result {
                Ok(t) if t != Default::default() => tracing::info!(
                    went_offline = t.went_offline,
                    offline_jobs = t.offline_jobs,
                    timed_out_jobs = t.timed_out_jobs,
                    rematched = t.rematched,
                    "agent fleet"
                ),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "agent fleet tick failed"),
            }
        }
    });
    let keys = state.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match crate::signature::keys::delete_due_keys(&keys.db, &keys.signature_cache, now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "keys deleted after their pending window"),
                Err(error) => tracing::warn!(%error, "key deletion tick failed"),
            }
        }
    });
    let log = state.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let started = Instant::now();
            let result = crate::signature::decisions::prune(&log.db, log.config.admission_log_days, now()).await;
            metrics::job_run("admission_log_prune", started, result.is_ok());
            match result {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, days = log.config.admission_log_days, "admission log pruned"),
                Err(error) => tracing::warn!(%error, "admission log pruning failed"),
            }
        }
    });
    let counters = state.db.clone();
    tokio::spawn(async move {
        // Every replica asks each minute; one claims each hour's reconcile.
        let mut every = tokio::time::interval(Duration::from_secs(60));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match crate::overview::counters::claim_reconcile(&counters, replica_id(), now()).await {
                Ok(true) => {
                    let started = Instant::now();
                    let result = crate::overview::counters::reconcile_all(&counters).await;
                    metrics::job_run("counter_reconcile", started, result.is_ok());
                    match result {
                        Ok(repairs) => {
                            metrics::reconciled(repairs.len(), now());
                            if repairs.is_empty() {
                                tracing::debug!("risk counters match their recount")
                            } else {
                                tracing::warn!(repaired = repairs.len(), "risk counters repaired")
                            }
                        }
                        Err(error) => tracing::warn!(%error, "counter reconcile failed"),
                    }
                }
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "counter reconcile claim failed"),
            }
        }
    });
    let db = state.db.clone();
    let snapshots = db.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every.tick().await;
            let started = Instant::now();
            let result = snapshot_scores(&snapshots).await;
            metrics::job_run("score_snapshot", started, result.is_ok());
            match result {
                Ok(n) => tracing::debug!(accounts = n, "score snapshot"),
                Err(error) => tracing::warn!(%error, "score snapshot failed"),
            }
        }
    });
    tokio::spawn(async {
        let mut every = tokio::time::interval(metrics::UPKEEP_EVERY);
        loop {
            every.tick().await;
            metrics::upkeep();
        }
    });
    let period = Duration::from_secs(900);
    match db.sessions {
        SessionPool::Sqlite(pool) => {
            tokio::spawn(SqliteStore::new(pool).continuously_delete_expired(period));
        }
        SessionPool::Postgres(pool) => {
            tokio::spawn(PostgresStore::new(pool).continuously_delete_expired(period));
        }
    }
}
