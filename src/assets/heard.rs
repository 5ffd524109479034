//! "Heard from" times of agents, gathered in memory and written a few seconds later in one
//! statement per table, instead of two UPDATEs (two write transactions) for every heartbeat and
//! every long poll.
//!
//! A heartbeat or a poll records (agent, asset, time, version) here. A task per database writes
//! what has gathered every [`FLUSH_EVERY`]: the agents' `last_heartbeat_at` (and version) and the
//! assets' `agent_status = 'online'` and `last_seen_at`, 500 rows to a statement. The fleet tick
//! writes first, so it never marks offline an agent heard since; the console writes on a clean
//! shutdown. A crash loses at most the last [`FLUSH_EVERY`] of "heard from" times, which the
//! agents' next heartbeat restores (the offline threshold is minutes). The task stops when
//! nothing has been heard for a round and starts again with the next heartbeat, so a database
//! nobody heartbeats to has no task.

use std::collections::HashMap;
use std::time::Duration;

use crate::error::AppError;
use crate::server::behind::{self, WriteBehind};
use crate::server::db::{is_sqlite, marker_rows, Db};

/// How long a heartbeat waits in memory at most (on a running console).
pub const FLUSH_EVERY: Duration = Duration::from_secs(2);
/// Rows per statement.
const ROWS_PER_STATEMENT: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    asset_id: i64,
    at: i64,
    /// The version a heartbeat reported; a poll reports none and keeps the last one.
    version: Option<String>,
}

/// The queue of agents heard and not yet written, by agent id (see `behind`).
pub struct HeardFrom;

impl WriteBehind for HeardFrom {
    type Items = HashMap<i64, Heard>;
    const WHAT: &'static str = "agents' heartbeats";
    const EVERY: Duration = FLUSH_EVERY;

    async fn flush(db: &Db) -> Result<usize, AppError> {
        flush(db).await
    }
}

/// Records that the agent called in at `now` (with its version, for a heartbeat).
pub fn record(db: &Db, agent_id: i64, asset_id: i64, version: Option<&str>, now: i64) {
    behind::add::<HeardFrom, _>(db, |agents| {
        let entry = agents.entry(agent_id).or_insert(Heard { asset_id, at: now, version: None });
        entry.asset_id = asset_id;
        entry.at = entry.at.max(now);
        if let Some(version) = version {
            entry.version = Some(version.to_string());
        }
    });
}

/// Writes what has been heard; the number of agents written. What fails to be written is kept
/// for the next round (unless something newer was heard meanwhile).
pub async fn flush(db: &Db) -> Result<usize, AppError> {
    let taken: Vec<(i64, Heard)> = behind::take::<HeardFrom>(db).into_iter().collect();
    if taken.is_empty() {
        return Ok(0);
    }
    match write(db, &taken).await {
        Ok(()) => Ok(taken.len()),
        Err(e) => {
            behind::put_back::<HeardFrom>(db, |agents| {
                for (agent_id, old) in taken {
                    agents.entry(agent_id).or_insert(old);
                }
            });
            Err(e)
        }
    }
}

async fn write(db: &Db, heard: &[(i64, Heard)]) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let sqlite = is_sqlite(&tx);
    for chunk in heard.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "WITH v (id, at, version) AS (VALUES {})
             UPDATE agents SET last_heartbeat_at = v.at, version = COALESCE(v.version, agents.version) FROM v WHERE agents.id = v.id",
            marker_rows(sqlite, 1, chunk.len(), 3)
        );
        let mut query = sqlx::query(&sql);
        for (agent_id, h) in chunk {
            query = query.bind(*agent_id).bind(h.at).bind(h.version.as_deref());
        }
        query.execute(&mut *tx).await?;
        let sql = format!(
            "WITH v (id, at) AS (VALUES {})
             UPDATE assets SET agent_status = 'online', last_seen_at = v.at FROM v WHERE assets.id = v.id",
            marker_rows(sqlite, 1, chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for (_, h) in chunk {
            query = query.bind(h.asset_id).bind(h.at);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
