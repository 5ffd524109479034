//! Background work of a console process: the daily score snapshot and expired-session cleanup.
//! Both are idempotent, so several replicas on one PostgreSQL may run them side by side.

use std::time::Duration;

use tower_sessions::ExpiredDeletion;
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use super::db::{Db, SessionPool};
use super::now;
use crate::overview::repo::{day_of, record_score, score_as_of};

/// Records today's score for every account.
pub async fn snapshot_scores(db: &Db) -> Result<usize, crate::error::AppError> {
    let accounts = sqlx::query_scalar::<_, i64>("SELECT id FROM accounts").fetch_all(&db.pool).await?;
    let now = now();
    for account_id in &accounts {
        let score = score_as_of(db, *account_id, now).await?;
        record_score(db, *account_id, &day_of(now), score).await?;
    }
    Ok(accounts.len())
}

pub fn spawn(db: Db) {
    let snapshots = db.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every.tick().await;
            match snapshot_scores(&snapshots).await {
                Ok(n) => tracing::debug!(accounts = n, "score snapshot"),
                Err(error) => tracing::warn!(%error, "score snapshot failed"),
            }
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
