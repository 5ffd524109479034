//! Write-behind queues: work gathered in memory per database (agents' heartbeats, admission
//! decisions) and written by a task every few seconds, many rows to a statement. The task runs
//! while the queue holds something and stops when a round finds it empty; the next entry starts
//! it again, so a database nobody writes to has no task (and a test's database is not kept open).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use crate::error::AppError;
use crate::server::db::Db;

/// One kind of queued work: what it gathers, how often and how it is written.
pub trait WriteBehind: Send + Sync + 'static {
    /// What waits (a list, a map by key).
    type Items: Items;
    /// What the log calls the queue ("agents' heartbeats").
    const WHAT: &'static str;
    /// How long an entry waits at most (on a running console).
    const EVERY: Duration;
    /// Writes what waits (taking it with [`take`]).
    fn flush(db: &Db) -> impl Future<Output = Result<usize, AppError>> + Send;
}

/// A collection a queue gathers into.
pub trait Items: Default + Send + 'static {
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T: Send + 'static> Items for Vec<T> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
}

impl<K: Send + 'static, V: Send + 'static> Items for HashMap<K, V> {
    fn len(&self) -> usize {
        HashMap::len(self)
    }
}

/// The queue of `T` beside a database (`Db::shared`): what waits, and whether a task writes it.
struct Queue<T: WriteBehind>(Mutex<Queued<T::Items>>);

struct Queued<I> {
    items: I,
    writing: bool,
}

impl<T: WriteBehind> Default for Queue<T> {
    fn default() -> Self {
        Queue(Mutex::new(Queued { items: T::Items::default(), writing: false }))
    }
}

fn with_queue<T: WriteBehind, R>(db: &Db, then: impl FnOnce(&mut Queued<T::Items>) -> R) -> R {
    let queue = db.shared::<Queue<T>>();
    let mut queued = queue.0.lock().unwrap_or_else(|p| p.into_inner());
    then(&mut queued)
}

/// Adds to what waits (`change` gets the queue); starts the writing task if none runs.
pub fn add<T: WriteBehind, R>(db: &Db, change: impl FnOnce(&mut T::Items) -> R) -> R {
    let (result, start) = with_queue::<T, _>(db, |queued| (change(&mut queued.items), !std::mem::replace(&mut queued.writing, true)));
    if start {
        spawn::<T>(db);
    }
    result
}

/// Takes everything that waits, to be written.
pub fn take<T: WriteBehind>(db: &Db) -> T::Items {
    with_queue::<T, _>(db, |queued| std::mem::take(&mut queued.items))
}

/// Puts back what could not be written (`change` merges it with what came meanwhile); the
/// running task writes it on its next round.
pub fn put_back<T: WriteBehind>(db: &Db, change: impl FnOnce(&mut T::Items)) {
    with_queue::<T, _>(db, |queued| change(&mut queued.items))
}

/// How many entries wait to be written.
pub fn pending<T: WriteBehind>(db: &Db) -> usize {
    with_queue::<T, _>(db, |queued| queued.items.len())
}

/// The task that writes `T` every `T::EVERY` while anything waits. It notes that it stopped under
/// the queue's lock, so an entry added meanwhile starts a new one.
fn spawn<T: WriteBehind>(db: &Db) {
    let db = db.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(T::EVERY).await;
            let stop = with_queue::<T, _>(&db, |queued| {
                let empty = queued.items.is_empty();
                if empty {
                    queued.writing = false;
                }
                empty
            });
            if stop {
                break;
            }
            if let Err(e) = T::flush(&db).await {
                tracing::warn!("writing {}: {e}", T::WHAT);
            }
        }
    });
}
