//! Runs playbook tasks: starts them at their time, fans out one fix job per host (at most the
//! task's concurrency at once), judges each host from its agent's result and the next inventory,
//! finishes the execution and sends the notifications. Every step is a conditional update in the
//! database, and a task is driven only by the replica holding its lease, so restarts and
//! replicas neither lose nor repeat a host's job.

use std::collections::HashSet;

use super::model::HostStatus;
use crate::assets::fleet;
use crate::auth::session::refusal_now;
use crate::editions::Feature;
use crate::error::AppError;
use crate::server::audit::Actor;
use crate::server::AppState;

/// How long a replica owns a running task without renewing; another takes over after that.
pub const LEASE_SECS: i64 = 30;

#[derive(Debug, Default, PartialEq)]
pub struct Tick {
    pub started: usize,
    pub dispatched: usize,
    pub finished_hosts: usize,
    pub completed: usize,
    pub notified: usize,
}

pub async fn tick(state: &AppState, replica: &str, now: i64) -> Result<Tick, AppError> {
    let db = &state.db;
    let mut tick = Tick::default();
    let due = sqlx::query_scalar::<_, i64>("SELECT id FROM playbook_tasks WHERE status = 'waiting' AND execute_at <= $1 ORDER BY execute_at, id")
        .bind(now)
        .fetch_all(&db.pool)
        .await?;
    for id in due {
        let mut tx = db.begin_write().await?;
        let started = sqlx::query(
            "UPDATE playbook_tasks SET status = 'running', executed_num = executed_num + 1, lease_owner = $1, lease_until = $2
             WHERE id = $3 AND status = 'waiting' AND execute_at <= $4",
        )
        .bind(replica)
        .bind(now + LEASE_SECS)
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if started == 1 {
            sqlx::query(
                "UPDATE playbook_runs SET started_at = $1
                 WHERE task_id = $2 AND number = (SELECT executed_num FROM playbook_tasks WHERE id = $2)",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tick.started += 1;
        }
        tx.commit().await?;
    }
    let running = sqlx::query_scalar::<_, i64>(
        "SELECT id FROM playbook_tasks WHERE status = 'running' AND (lease_owner = $1 OR lease_owner IS NULL OR lease_until < $2) ORDER BY id",
    )
    .bind(replica)
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    for id in running {
        let claimed = sqlx::query(
            "UPDATE playbook_tasks SET lease_owner = $1, lease_until = $2
             WHERE id = $3 AND status = 'running' AND (lease_owner = $1 OR lease_owner IS NULL OR lease_until < $4)",
        )
        .bind(replica)
        .bind(now + LEASE_SECS)
        .bind(id)
        .bind(now)
        .execute(&db.pool)
        .await?
        .rows_affected();
        if claimed == 1 {
            drive(state, id, now, &mut tick).await?;
        }
    }
    tick.notified = super::notify::pending(state, now).await?;
    Ok(tick)
}

struct TaskState {
    account_id: i64,
    executed_num: i64,
    concurrency: i64,
    dry_run: bool,
    stop_after: Option<i64>,
    name: String,
}

async fn drive(state: &AppState, task_id: i64, now: i64, tick: &mut Tick) -> Result<(), AppError> {
    let db = &state.db;
    let (account_id, executed_num, concurrency, dry_run, stop_after, name) = sqlx::query_as::<_, (i64, i64, i64, i64, Option<i64>, String)>(
        "SELECT account_id, executed_num, concurrency, dry_run, stop_after, name FROM playbook_tasks WHERE id = $1",
    )
    .bind(task_id)
    .fetch_one(&db.pool)
    .await?;
    let task = TaskState { account_id, executed_num, concurrency, dry_run: dry_run != 0, stop_after, name };
    let run_id = sqlx::query_scalar::<_, i64>("SELECT id FROM playbook_runs WHERE task_id = $1 AND number = $2")
        .bind(task_id)
        .bind(task.executed_num)
        .fetch_one(&db.pool)
        .await?;

    // Hosts whose job has finished get their verdict.
    let running = sqlx::query_as::<_, (i64, i64, Option<i64>, Option<String>, Option<String>)>(
        "SELECT h.id, h.asset_id, h.job_id, j.status, j.error FROM playbook_hosts h LEFT JOIN agent_jobs j ON j.id = h.job_id
         WHERE h.run_id = $1 AND h.status = 'running'",
    )
    .bind(run_id)
    .fetch_all(&db.pool)
    .await?;
    for (host_id, asset_id, job_id, job_status, job_error) in running {
        let verdict = match (job_id, job_status.as_deref()) {
            (None, _) | (Some(_), None) => Some(Verdict::failed("the host's fix job is gone")),
            (Some(_), Some("queued" | "running")) => None,
            (Some(_), Some("failed")) => Some(Verdict::failed(job_error.as_deref().unwrap_or("the fix job failed"))),
            (Some(_), Some("simulated")) if task.dry_run => Some(Verdict::all(HostStatus::Simulated)),
            (Some(_), Some("simulated")) => Some(Verdict::failed(
                "only simulated: the agent on this host runs without --allow-fix, so it never changes the host",
            )),
            (Some(_), Some(_)) => Some(still_vulnerable(db, host_id, asset_id).await?),
        };
        if let Some(verdict) = verdict {
            record_verdict(db, &task, host_id, asset_id, &verdict, now).await?;
            tick.finished_hosts += 1;
        }
    }

    // Stop early after too many failures.
    let failed = count(db, run_id, "failed").await?;
    if let Some(limit) = task.stop_after.filter(|limit| failed >= *limit) {
        skip_waiting_hosts(db, run_id, &format!("skipped: the task stops after {limit} failed hosts"), now).await?;
    }
    // The account as it is now, not as it was when the task was created: without the edition (or
    // the authorization) no further host starts. Hosts already handed to their agent finish.
    if let Some(reason) = refusal_now(db, task.account_id, Feature::Playbooks).await? {
        skip_waiting_hosts(db, run_id, &format!("not run: {reason}"), now).await?;
    }

    // Fan out up to the concurrency.
    let busy = count(db, run_id, "running").await?;
    let free = (task.concurrency - busy).max(0);
    if free > 0 {
        let waiting = sqlx::query_as::<_, (i64, i64)>(
            "SELECT id, asset_id FROM playbook_hosts WHERE run_id = $1 AND status = 'waiting' ORDER BY id LIMIT $2",
        )
        .bind(run_id)
        .bind(free)
        .fetch_all(&db.pool)
        .await?;
        for (host_id, asset_id) in waiting {
            dispatch(state, &task, host_id, asset_id, now).await?;
            tick.dispatched += 1;
        }
    }

    // Finished when no host waits or runs.
    let open = count(db, run_id, "waiting").await? + count(db, run_id, "running").await?;
    if open == 0 {
        let mut tx = db.begin_write().await?;
        let done = sqlx::query(
            "UPDATE playbook_tasks SET status = 'completed', completed_at = $1, lease_owner = NULL, lease_until = NULL
             WHERE id = $2 AND status = 'running'",
        )
        .bind(now)
        .bind(task_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("UPDATE playbook_runs SET finished_at = $1 WHERE id = $2").bind(now).bind(run_id).execute(&mut *tx).await?;
        tx.commit().await?;
        tick.completed += done as usize;
    }
    Ok(())
}

/// Every host of the run that has not started is skipped, with `error` as the reason.
async fn skip_waiting_hosts(db: &crate::server::db::Db, run_id: i64, error: &str, now: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE playbook_items SET status = 'skipped', error = $1
         WHERE host_id IN (SELECT id FROM playbook_hosts WHERE run_id = $2 AND status = 'waiting')",
    )
    .bind(error)
    .bind(run_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE playbook_hosts SET status = 'skipped', error = $1, ended_at = $2 WHERE run_id = $3 AND status = 'waiting'")
        .bind(error)
        .bind(now)
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn count(db: &crate::server::db::Db, run_id: i64, status: &str) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM playbook_hosts WHERE run_id = $1 AND status = $2")
        .bind(run_id)
        .bind(status)
        .fetch_one(&db.pool)
        .await?)
}

/// A host's outcome and each of its vulnerabilities'.
struct Verdict {
    host: HostStatus,
    error: Option<String>,
    /// vulnerability id → (status, error); vulnerabilities not named share the host's.
    items: Vec<(i64, HostStatus, Option<String>)>,
}

impl Verdict {
    fn all(status: HostStatus) -> Verdict {
        Verdict { host: status, error: None, items: Vec::new() }
    }

    fn failed(error: &str) -> Verdict {
        Verdict { host: HostStatus::Failed, error: Some(error.to_string()), items: Vec::new() }
    }
}

/// After a real fix: each vulnerability is fixed only if the inventory the agent sent with its
/// result no longer matches it.
async fn still_vulnerable(db: &crate::server::db::Db, host_id: i64, asset_id: i64) -> Result<Verdict, AppError> {
    let items = sqlx::query_as::<_, (i64, String, Option<i64>, Option<String>, Option<String>)>(
        "SELECT i.vulnerability_id, v.advisory_id, f.resolved_at, f.installed_version, f.fixed_version FROM playbook_items i
         JOIN vulnerabilities v ON v.id = i.vulnerability_id
         LEFT JOIN findings f ON f.vulnerability_id = i.vulnerability_id AND f.asset_id = $2
         WHERE i.host_id = $1",
    )
    .bind(host_id)
    .bind(asset_id)
    .fetch_all(&db.pool)
    .await?;
    let mut verdict = Verdict::all(HostStatus::Fixed);
    let mut still = Vec::new();
    for (vulnerability_id, advisory_id, resolved_at, installed, fixed) in items {
        if resolved_at.is_some() {
            verdict.items.push((vulnerability_id, HostStatus::Fixed, None));
        } else {
            let detail = format!(
                "still vulnerable after the fix: {} installed{}",
                installed.unwrap_or_default(),
                fixed.filter(|f| !f.is_empty()).map(|f| format!(", fixed in {f}")).unwrap_or_default()
            );
            verdict.items.push((vulnerability_id, HostStatus::Failed, Some(detail)));
            still.push(advisory_id);
        }
    }
    if !still.is_empty() {
        verdict.host = HostStatus::Failed;
        verdict.error = Some(format!("still vulnerable after the fix: {}", still.join(", ")));
    }
    Ok(verdict)
}

async fn record_verdict(db: &crate::server::db::Db, task: &TaskState, host_id: i64, asset_id: i64, verdict: &Verdict, now: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let updated = sqlx::query("UPDATE playbook_hosts SET status = $1, error = $2, ended_at = $3 WHERE id = $4 AND status = 'running'")
        .bind(verdict.host.as_str())
        .bind(&verdict.error)
        .bind(now)
        .bind(host_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if updated == 0 {
        return Ok(());
    }
    sqlx::query("UPDATE playbook_items SET status = $1, error = $2 WHERE host_id = $3")
        .bind(verdict.host.as_str())
        .bind(&verdict.error)
        .bind(host_id)
        .execute(&mut *tx)
        .await?;
    for (vulnerability_id, status, error) in &verdict.items {
        sqlx::query("UPDATE playbook_items SET status = $1, error = $2 WHERE host_id = $3 AND vulnerability_id = $4")
            .bind(status.as_str())
            .bind(error)
            .bind(host_id)
            .bind(vulnerability_id)
            .execute(&mut *tx)
            .await?;
    }
    if !task.dry_run && verdict.host == HostStatus::Failed {
        // The findings the fix did not close show it on the Assets pages too.
        sqlx::query(
            "UPDATE findings SET status = 'fix_failed' WHERE asset_id = $1 AND resolved_at IS NULL AND status = 'fixing'
               AND vulnerability_id IN (SELECT vulnerability_id FROM playbook_items WHERE host_id = $2)",
        )
        .bind(asset_id)
        .bind(host_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Starts one host: the packages that fix its selected vulnerabilities, in one fix job, queued in
/// the same transaction that marks the host running.
async fn dispatch(state: &AppState, task: &TaskState, host_id: i64, asset_id: i64, now: i64) -> Result<(), AppError> {
    let db = &state.db;
    let vulnerabilities: HashSet<i64> = sqlx::query_scalar::<_, i64>("SELECT vulnerability_id FROM playbook_items WHERE host_id = $1")
        .bind(host_id)
        .fetch_all(&db.pool)
        .await?
        .into_iter()
        .collect();
    let findings: Vec<i64> = sqlx::query_as::<_, (i64, i64)>(
        "SELECT id, vulnerability_id FROM findings WHERE asset_id = $1 AND account_id = $2 AND resolved_at IS NULL",
    )
    .bind(asset_id)
    .bind(task.account_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .filter(|(_, v)| vulnerabilities.contains(v))
    .map(|(id, _)| id)
    .collect();
    let has_agent = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM agents WHERE asset_id = $1").bind(asset_id).fetch_one(&db.pool).await? > 0;
    let packages = if findings.is_empty() { Vec::new() } else { crate::advisories::repo::fix_packages(db, task.account_id, asset_id, &findings).await? };
    let mut tx = db.begin_write().await?;
    let (status, error, job_id) = if findings.is_empty() {
        ("skipped", Some("nothing to fix: none of the selected vulnerabilities is open on this host".to_string()), None)
    } else if !has_agent {
        ("failed", Some("no agent: install the Bulwark agent on this host to fix it".to_string()), None)
    } else if packages.is_empty() {
        ("failed", Some("no installed package carries the fix: the host's inventory names none of the vulnerable packages".to_string()), None)
    } else {
        let actor = Actor::Token { name: format!("playbook task \"{}\"", task.name) };
        let job = fleet::insert_fix_job(&mut tx, task.account_id, asset_id, &packages, task.dry_run, &actor, now).await?;
        ("running", None, Some(job))
    };
    let updated = sqlx::query(
        "UPDATE playbook_hosts SET status = $1, error = $2, job_id = $3, started_at = $4, ended_at = CASE WHEN $1 = 'running' THEN NULL ELSE $4 END
         WHERE id = $5 AND status = 'waiting'",
    )
    .bind(status)
    .bind(&error)
    .bind(job_id)
    .bind(now)
    .bind(host_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        // Someone else started it meanwhile: the job queued above is rolled back with this.
        return Ok(());
    }
    sqlx::query("UPDATE playbook_items SET status = $1, error = $2 WHERE host_id = $3")
        .bind(status)
        .bind(&error)
        .bind(host_id)
        .execute(&mut *tx)
        .await?;
    if job_id.is_some() && !task.dry_run {
        sqlx::query(&format!(
            "UPDATE findings SET status = 'fixing' WHERE asset_id = $1 AND resolved_at IS NULL AND status = 'unfixed' AND id IN ({})",
            findings.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(", ")
        ))
        .bind(asset_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    if job_id.is_some() {
        fleet::waker(&state.db, asset_id).notify_waiters();
    }
    Ok(())
}
