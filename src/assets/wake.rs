//! Waking the long polls of agents when a job is queued for their asset.
//!
//! A long poll waits on its asset's [`waker`] (of this console) and checks the queue when woken.
//! A job queued by this console wakes it directly. On PostgreSQL a job may be queued by another
//! console (a replica): the transaction that queues it also sends `NOTIFY` on [`CHANNEL`] with
//! the asset id, delivered at commit, and each console listens ([`listen`]) and wakes its own
//! polls. A poll still checks the queue every [`POLL_RECHECK`] in case a notification was lost
//! (the listener's connection dropped and came back). SQLite has one console per database.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::Notify;

use crate::error::AppError;
use crate::server::db::{is_sqlite, Db, DbKind};

/// The PostgreSQL channel of queued jobs; the payload is the asset id.
pub const CHANNEL: &str = "bulwark_agent_jobs";
/// How often a waiting poll checks the queue without being woken: only a lost notification
/// needs it.
pub const POLL_RECHECK: Duration = Duration::from_secs(60);

/// This console's waiting polls per asset, and whether it listens for other consoles' jobs.
#[derive(Default)]
pub struct JobWakers {
    wakers: Mutex<HashMap<i64, Arc<Notify>>>,
    listening: AtomicBool,
}

impl JobWakers {
    fn waker(&self, asset_id: i64) -> Arc<Notify> {
        let mut map = self.wakers.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(asset_id).or_default().clone()
    }

    fn wake(&self, asset_id: i64) {
        let map = self.wakers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(waker) = map.get(&asset_id) {
            waker.notify_waiters();
        }
    }

    fn wake_all(&self) {
        let map = self.wakers.lock().unwrap_or_else(|p| p.into_inner());
        for waker in map.values() {
            waker.notify_waiters();
        }
    }
}

/// The waker of this console's polls for an asset.
pub fn waker(db: &Db, asset_id: i64) -> Arc<Notify> {
    db.shared::<JobWakers>().waker(asset_id)
}

/// Inside the transaction that queues a job for `asset_id`: on PostgreSQL, tells every console
/// at commit. (Wake this process's polls with [`waker`] after the commit.)
pub async fn announce(conn: &mut sqlx::AnyConnection, asset_id: i64) -> Result<(), AppError> {
    if !is_sqlite(conn) {
        sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(asset_id.to_string()).execute(&mut *conn).await?;
    }
    Ok(())
}

/// On PostgreSQL, starts (once per database) the task that wakes this console's polls when any
/// console queues a job. It ends with the database's last handle.
pub fn listen(db: &Db, url: &str) {
    if db.kind != DbKind::Postgres {
        return;
    }
    let wakers = db.shared::<JobWakers>();
    if wakers.listening.swap(true, Ordering::SeqCst) {
        return;
    }
    let alive = Arc::downgrade(&wakers);
    drop(wakers);
    let url = url.to_string();
    tokio::spawn(async move {
        let mut listener: Option<PgListener> = None;
        while alive.strong_count() > 0 {
            let wake = |what: Option<i64>| {
                if let Some(wakers) = alive.upgrade() {
                    match what {
                        Some(asset_id) => wakers.wake(asset_id),
                        None => wakers.wake_all(),
                    }
                }
            };
            let Some(l) = listener.as_mut() else {
                match subscribe(&url).await {
                    Ok(l) => {
                        listener = Some(l);
                        // Whatever was queued while nobody listened.
                        wake(None);
                    }
                    Err(e) => {
                        tracing::warn!("job notifications: cannot listen: {e}");
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    }
                }
                continue;
            };
            match l.try_recv().await {
                Ok(Some(notification)) => {
                    if let Ok(asset_id) = notification.payload().parse::<i64>() {
                        wake(Some(asset_id));
                    }
                }
                // The connection dropped and is reopened on the next call: what was sent
                // meanwhile is lost, so every poll looks.
                Ok(None) => wake(None),
                Err(e) => {
                    tracing::warn!("job notifications: {e}");
                    listener = None;
                    wake(None);
                }
            }
        }
    });
}

async fn subscribe(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
