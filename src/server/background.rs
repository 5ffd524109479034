//! Work that takes seconds of CPU while no page waits on it (an advisory import rewriting
//! 100,000 advisories), run at a lower CPU priority than the requests answered beside it.
//!
//! On a machine of two cores an import fills more than one (its statements are built on one
//! thread and run on SQLite's worker thread, and the log it writes is checkpointed on a third),
//! so every page rendered meanwhile waited its turn: another account's Assets page took 2.6–4.2x
//! its idle p99 during an import. Here such work runs on a thread of its own, niced by
//! [`LOWER_BY`] (on Linux the nice value is a thread's, and a thread it starts inherits it), with a small pool
//! whose connections that thread opens (`Db::for_background`), so SQLite's worker threads for
//! them are niced too. Alone on the machine the job has every cycle it had; when requests want
//! the cores, the scheduler gives them ~9 in 10 (CFS weights 1024 against 110).
//!
//! What it costs: a background job that holds SQLite's write lock runs slower while the cores are
//! busy, and a request that writes waits for its transaction that much longer; the import keeps
//! its transactions to 5,000 advisories (tens of ms) for that reason. On PostgreSQL only the
//! console's share of the work (building each chunk's JSON) is niced; the server's backends are
//! not the console's to renice.

use std::future::Future;
use std::sync::OnceLock;

use super::db::Db;
use crate::error::AppError;

/// How much nicer the background thread is than the process (a request's thread runs at the
/// process's nice value, usually 0; 19 is the lowest priority).
pub const LOWER_BY: i32 = 10;

/// The runtime of the background thread (one worker, niced; its blocking threads too), or `None`
/// when it could not be built (the job then runs where it is called).
fn runtime() -> Option<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .max_blocking_threads(2)
                .thread_name("bulwark-background")
                .on_thread_start(lower_priority)
                .enable_all()
                .build()
                .map_err(|e| tracing::warn!("background work runs at normal priority: no runtime for it ({e})"))
                .ok()
        })
        .as_ref()
}

/// Lowers the calling thread's CPU priority by [`LOWER_BY`], to 19 at most (Linux:
/// `setpriority(PRIO_PROCESS, 0)` names the calling thread only).
fn lower_priority() {
    let nice = current_nice().unwrap_or(0).saturating_add(LOWER_BY).min(19);
    if let Err(e) = rustix::process::setpriority_process(None, nice) {
        tracing::warn!("background work runs at normal priority: setpriority: {e}");
    }
}

/// The nice value of the calling thread.
pub fn current_nice() -> Option<i32> {
    rustix::process::getpriority_process(None).ok()
}

/// Runs `job` on the background thread with `db`'s background view (`Db::for_background`) and
/// waits for its result. A job whose caller goes away (a closed request) still runs to its end.
/// A database that a second pool cannot reach (in-memory SQLite), or no background runtime,
/// runs the job here, on `db` itself.
pub async fn run<T, F, Fut>(db: &Db, job: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(Db) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, AppError>> + Send + 'static,
{
    let Some(runtime) = runtime().filter(|_| db.for_background_possible()) else {
        return job(db.clone()).await;
    };
    let db = db.clone();
    let handle = runtime.spawn(async move {
        match db.for_background() {
            Some(Ok(background)) => job(background).await,
            Some(Err(e)) => Err(AppError::from(e)),
            None => job(db).await,
        }
    });
    handle.await.unwrap_or_else(|e| {
        tracing::error!("a background job ended without its result: {e}");
        Err(AppError::Internal)
    })
}
