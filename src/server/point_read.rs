//! Reads of one small row from a SQLite database on the request's own thread.
//!
//! Every sqlx query on SQLite is a round trip to the connection's worker thread: the request's
//! task parks, the worker wakes, runs the statement and wakes the task again. For a statement
//! that reads one row by its key that round trip is most of the cost (about 40 µs of CPU on this
//! machine, against a few µs for the read itself), and the hottest paths pay it on every request:
//! the admission webhook and the signing API read `signature_state.version` before trusting what
//! they keep (see `signature::admission_cache`), because a change written by another process (a
//! `bulwark` command on the same file) must apply to the next request.
//!
//! So a few read-only connections of this process's own are kept beside the pool (rusqlite, on
//! the same bundled SQLite), and such a read runs on them synchronously. In WAL mode a reader
//! never waits for a writer, and the busy timeout is zero: the one moment it could wait (a
//! truncating checkpoint resetting the log) it answers busy at once and the caller reads through
//! the pool instead. PostgreSQL has no such shortcut; the caller reads through the pool there.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use sqlx::sqlite::SqliteConnectOptions;

/// Idle connections kept; more requests at once open one each and close it after.
const KEEP: usize = 4;

/// Read-only connections to one SQLite file.
#[derive(Debug)]
pub struct PointReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl PointReader {
    /// For the file a `sqlite:` URL names; `None` for an in-memory database (another connection
    /// would see another database) or a URL sqlx would not accept.
    pub fn for_url(url: &str) -> Option<PointReader> {
        if url.contains("mode=memory") {
            return None;
        }
        let options = SqliteConnectOptions::from_str(url).ok()?;
        let path = options.get_filename().to_path_buf();
        let name = path.to_string_lossy();
        if name.is_empty() || name.starts_with(":memory:") || name.starts_with("file:") {
            return None;
        }
        Some(PointReader { path, idle: Mutex::new(Vec::new()) })
    }

    /// The one integer `sql` selects (a statement that reads one row by its key), or `None`
    /// when SQLite could not answer at once (or found no row); the caller then reads through the
    /// pool.
    pub fn scalar_i64(&self, sql: &str) -> Option<i64> {
        self.row(sql, [], |row| row.get::<_, i64>(0))?
    }

    /// The row `sql` selects by its key with `params` (`$1`, `$2`… bind in order), mapped by
    /// `map`: `Some(None)` when there is no such row, `None` when SQLite could not answer at once
    /// (the caller then reads through the pool, whose answer is the one that counts).
    pub fn row<T>(&self, sql: &str, params: impl rusqlite::Params, map: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>) -> Option<Option<T>> {
        let conn = self.take()?;
        let value = conn.prepare_cached(sql).and_then(|mut statement| {
            let mut rows = statement.query(params)?;
            rows.next()?.map(map).transpose()
        });
        match value {
            Ok(value) => {
                self.put(conn);
                Some(value)
            }
            Err(e) => {
                // Busy (a checkpoint resetting the log) or a statement it cannot run. The
                // connection is dropped in case it is the cause.
                tracing::debug!("point read through the pool instead: {e}");
                None
            }
        }
    }

    fn take(&self) -> Option<Connection> {
        if let Some(conn) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Some(conn);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)
            .map_err(|e| tracing::debug!("point read: cannot open {}: {e}", self.path.display()))
            .ok()?;
        conn.busy_timeout(Duration::ZERO).ok()?;
        Some(conn)
    }

    fn put(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < KEEP {
            idle.push(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_databases_have_no_point_reader() {
        assert!(PointReader::for_url("sqlite::memory:").is_none());
        assert!(PointReader::for_url("sqlite://:memory:").is_none());
    }

    #[test]
    fn reads_what_another_connection_committed_and_declines_what_it_cannot_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("point.db");
        let writer = Connection::open(&path).unwrap();
        writer.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE state (id INTEGER PRIMARY KEY, version INTEGER NOT NULL); INSERT INTO state VALUES (1, 7);").unwrap();
        let reader = PointReader::for_url(&format!("sqlite://{}", path.display())).expect("a file database");
        assert_eq!(reader.scalar_i64("SELECT version FROM state WHERE id = 1"), Some(7));
        writer.execute("UPDATE state SET version = version + 1 WHERE id = 1", []).unwrap();
        // The kept connection (and its cached statement) sees the newer commit.
        assert_eq!(reader.scalar_i64("SELECT version FROM state WHERE id = 1"), Some(8));
        // No row, or a statement that cannot run: the caller is told to read through the pool.
        assert_eq!(reader.scalar_i64("SELECT version FROM state WHERE id = 2"), None);
        // Rows by a key given as a parameter, and no row as an answer of its own.
        let by_id = "SELECT id, version FROM state WHERE id = $1";
        assert_eq!(reader.row(by_id, [1], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))), Some(Some((1, 8))));
        assert_eq!(reader.row(by_id, [2], |row| row.get::<_, i64>(0)), Some(None));
        assert_eq!(reader.scalar_i64("SELECT version FROM nowhere"), None);
        // It never writes.
        assert_eq!(reader.scalar_i64("UPDATE state SET version = 0 RETURNING version"), None);
        assert_eq!(reader.scalar_i64("SELECT version FROM state WHERE id = 1"), Some(8));
    }
}
