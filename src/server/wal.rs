//! SQLite's write-ahead log, checkpointed off the request path.
//!
//! By default SQLite checkpoints inside the commit that takes the log past 1,000 pages: that
//! request copies every page of the log into the database file before it answers. A batch of
//! 5,000 findings at millions of rows dirties about 5,000 pages (the findings' indexes and the
//! daily flows are written all over), so every ingestion request also paid a whole checkpoint,
//! and the pages one batch after another rewrites (index leaves, flows, counters) were copied
//! once per batch. Here one task per database checkpoints on a connection of its own, beside the
//! requests (the other core), and copies a page rewritten by several batches once.
//!
//! - Every [`PASSIVE_EVERY`], a passive checkpoint: it copies what no reader still needs and
//!   never blocks a reader or a writer.
//! - When the log has grown past [`TRUNCATE_AT`] pages, a truncating one: it waits for the writer
//!   of the moment (the busy timeout), copies the rest, and empties the log file, so the log stays
//!   bounded (about 64 MiB) under a steady load.
//! - The pool's connections keep an automatic checkpoint at [`FALLBACK_PAGES`] as a safety net,
//!   for a moment the task is behind (or its connection is gone and being reopened).
//!
//! The task holds only a weak reference to the database's shared state, and ends (closing its
//! connection) once every clone of the `Db` is dropped.

use std::sync::Weak;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};

/// How often the task checkpoints.
pub const PASSIVE_EVERY: Duration = Duration::from_millis(250);
/// Log pages (4 KiB each) past which the task empties the log.
pub const TRUNCATE_AT: i64 = 16_384;
/// The pool connections' own automatic checkpoint, in log pages: well past what the task lets
/// the log grow to, so it only acts when the task does not.
pub const FALLBACK_PAGES: i64 = 65_536;

/// Starts the checkpointer of the database at `url`; it runs while `alive` can be upgraded.
pub fn spawn<T: Send + Sync + 'static>(url: String, alive: Weak<T>) {
    tokio::spawn(async move {
        let mut conn: Option<SqliteConnection> = None;
        loop {
            tokio::time::sleep(PASSIVE_EVERY).await;
            if alive.strong_count() == 0 {
                break;
            }
            if conn.is_none() {
                conn = open(&url).await.map_err(|e| tracing::warn!("WAL checkpointer: cannot open the database: {e}")).ok();
            }
            let Some(c) = conn.as_mut() else { continue };
            if let Err(e) = checkpoint(c, TRUNCATE_AT).await {
                tracing::warn!("WAL checkpointer: {e}");
                conn = None;
            }
        }
        if let Some(c) = conn {
            let _ = c.close().await;
        }
    });
}

async fn open(url: &str) -> Result<SqliteConnection, sqlx::Error> {
    let options: SqliteConnectOptions = url.parse()?;
    options.busy_timeout(Duration::from_secs(15)).connect().await
}

/// One round: a passive checkpoint, and a truncating one when the log holds `truncate_at` pages
/// or more. The log's length in pages after the round.
pub async fn checkpoint(conn: &mut SqliteConnection, truncate_at: i64) -> Result<i64, sqlx::Error> {
    let (_busy, pages, _copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&mut *conn).await?;
    if pages < truncate_at {
        return Ok(pages.max(0));
    }
    let (_busy, pages, _copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&mut *conn).await?;
    Ok(pages.max(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::Db;

    /// About 2 MiB in one commit: some 500 pages in the log, far below the commits' own
    /// checkpoint ([`FALLBACK_PAGES`]).
    const WRITE: &str = "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
                         INSERT INTO t SELECT zeroblob(4000) FROM n";

    async fn database() -> (tempfile::TempDir, std::path::PathBuf, String) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("wal.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        (dir, path, url)
    }

    fn size(path: &std::path::Path) -> u64 {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }

    #[tokio::test]
    async fn the_task_copies_the_log_into_the_database_without_a_commit_doing_it() {
        let (_dir, path, url) = database().await;
        let db = Db::connect(&url).await.expect("the database opens");
        sqlx::query("CREATE TABLE t (x BLOB)").execute(&db.pool).await.expect("a table");
        let fallback: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint").fetch_one(&db.pool).await.expect("the setting");
        assert_eq!(fallback, FALLBACK_PAGES, "a commit checkpoints only past the fallback");
        sqlx::query(WRITE).execute(&db.pool).await.expect("the write");
        let mut waited = Duration::ZERO;
        while size(&path) < 2_000_000 && waited < Duration::from_secs(10) {
            tokio::time::sleep(PASSIVE_EVERY).await;
            waited += PASSIVE_EVERY;
        }
        assert!(size(&path) >= 2_000_000, "the database file holds the pages after {waited:?}: {} bytes", size(&path));
    }

    #[tokio::test]
    async fn a_long_log_is_emptied() {
        let (_dir, path, url) = database().await;
        let db = Db::connect(&url).await.expect("the database opens");
        sqlx::query("CREATE TABLE t (x BLOB)").execute(&db.pool).await.expect("a table");
        sqlx::query(WRITE).execute(&db.pool).await.expect("the write");
        let mut conn = open(&url).await.expect("a connection");
        let wal = path.with_extension("db-wal");
        assert!(size(&wal) > 1 << 20, "the log holds the write");
        assert!(checkpoint(&mut conn, 1_000).await.expect("a checkpoint") > 0, "below the threshold the log is kept");
        assert_eq!(checkpoint(&mut conn, 100).await.expect("a checkpoint"), 0);
        assert_eq!(size(&wal), 0, "the log file is emptied");
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t").fetch_one(&db.pool).await.expect("a count");
        assert_eq!(rows, 500);
    }
}
