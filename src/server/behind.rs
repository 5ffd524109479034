//! Write-behind queues: work gathered in memory per database (agents' heartbeats, admission
//! decisions) and written by a task every few seconds, many rows to a statement. The task runs
//! while the queue holds something and stops when a round finds it empty; the next entry starts
//! it again, so a database nobody writes to has no task (and a test's database is not kept open).

use std::future::Future;
use std::time::Duration;

use crate::error::AppError;
use crate::server::db::Db;

/// A queue kept beside a database (`Db::shared`).
pub trait WriteBehind: Default + Send + Sync + 'static {
    /// What the log calls the queue ("agents' heartbeats").
    const WHAT: &'static str;
    /// Whether nothing waits; if so, also notes that no task is writing any more (under the
    /// queue's lock, so an entry added meanwhile starts a new task).
    fn stop_if_empty(&self) -> bool;
    /// Writes what waits.
    fn flush(db: &Db) -> impl Future<Output = Result<usize, AppError>> + Send;
}

/// Starts the task that writes `T` every `period` (call it when an entry finds no task running).
pub fn spawn<T: WriteBehind>(db: &Db, period: Duration) {
    let db = db.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(period).await;
            if db.shared::<T>().stop_if_empty() {
                break;
            }
            if let Err(e) = T::flush(&db).await {
                tracing::warn!("writing {}: {e}", T::WHAT);
            }
        }
    });
}
