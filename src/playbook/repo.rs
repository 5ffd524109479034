//! Playbook SQL: policies, chatbots (sealed webhook and secret), tasks with their executions,
//! and what the pages read.

use std::collections::{BTreeMap, HashMap, HashSet};

use sqlx::AnyConnection;

use super::model::*;
use crate::assets::model::{Category, Severity};
use crate::error::AppError;
use crate::locale::{request_locale, td_string};
use crate::server::audit::{self, Actor};
use crate::server::db::{placeholders, Db};
use crate::server::secrets::Secrets;

const CHUNK: usize = 500;

// ---- Policies ------------------------------------------------------------------------------

pub async fn list_policies(db: &Db, account_id: i64) -> Result<Vec<Policy>, AppError> {
    Ok(sqlx::query_as::<_, (i64, String, String, String, String, i64, i64, i64)>(
        "SELECT p.id, p.name, p.description, p.policy_type, p.mode, p.created_at, p.updated_at,
                (SELECT COUNT(*) FROM playbook_tasks t WHERE t.policy_id = p.id AND t.status IN ('waiting', 'running'))
         FROM playbook_policies p WHERE p.account_id = $1 ORDER BY p.created_at DESC, p.id DESC",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|r| Policy { id: r.0, name: r.1, description: r.2, policy_type: r.3, mode: r.4, created_at: r.5, updated_at: r.6, active_tasks: r.7 })
    .collect())
}

pub async fn clone_policy(db: &Db, account_id: i64, actor: &Actor, template: &str, now: i64) -> Result<i64, AppError> {
    let template = templates().into_iter().find(|t| t.key == template).ok_or(AppError::NotFound)?;
    let mut tx = db.begin_write().await?;
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO playbook_policies (account_id, template, name, description, policy_type, mode, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
    )
    .bind(account_id)
    .bind(&template.key)
    .bind(&template.name)
    .bind(&template.description)
    .bind(&template.policy_type)
    .bind(&template.mode)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    audit::record(&mut *tx, account_id, actor, "playbook.policy.clone", &template.name, "").await?;
    tx.commit().await?;
    Ok(id)
}

/// Deletes a policy; refused while one of its tasks waits or runs. Its finished tasks stay.
pub async fn delete_policy(db: &Db, account_id: i64, actor: &Actor, id: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let name = sqlx::query_scalar::<_, String>("SELECT name FROM playbook_policies WHERE id = $1 AND account_id = $2")
        .bind(id)
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::NotFound)?;
    let active = sqlx::query_scalar::<_, String>(
        "SELECT name FROM playbook_tasks WHERE policy_id = $1 AND status IN ('waiting', 'running') ORDER BY id LIMIT 1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(task) = active {
        return Err(AppError::Conflict(td_string!(request_locale(), playbook.errors.policy_in_use, name, task)));
    }
    sqlx::query("DELETE FROM playbook_policies WHERE id = $1").bind(id).execute(&mut *tx).await?;
    audit::record(&mut *tx, account_id, actor, "playbook.policy.delete", &name, "").await?;
    tx.commit().await?;
    Ok(())
}

// ---- Chatbots ------------------------------------------------------------------------------

fn chatbot_context(account_id: i64, field: &str) -> String {
    format!("dingtalk:{account_id}:{field}")
}

/// `https://oapi.dingtalk.com/robot/send?access_token=••••3f2a`: where the robot is and the last
/// four characters of each query value, enough to recognise it, never to use it. A hint stored in
/// an earlier form (`ab12…3f2a`) reads the same way, so this also runs on what the database holds.
fn webhook_hint(webhook: &str) -> String {
    const MASK: char = '•';
    let (base, query) = webhook.split_once('?').unwrap_or((webhook, ""));
    if query.is_empty() {
        return base.to_string();
    }
    let masked: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => {
                let last_four = |text: &str| text.chars().skip(text.chars().count().saturating_sub(4)).collect::<String>();
                let tail = match value.rsplit_once([MASK, '…']) {
                    // Already masked: keep what was shown.
                    Some((_, shown)) => last_four(shown),
                    None if value.chars().count() > 8 => last_four(value),
                    None => String::new(),
                };
                format!("{key}={}{tail}", MASK.to_string().repeat(4))
            }
            None => pair.to_string(),
        })
        .collect();
    format!("{base}?{}", masked.join("&"))
}

pub async fn list_chatbots(db: &Db, account_id: i64) -> Result<Vec<Chatbot>, AppError> {
    Ok(sqlx::query_as::<_, (i64, String, String, Option<String>, String, i64)>(
        "SELECT id, name, webhook_hint, secret_sealed, keywords, created_at FROM dingtalk_chatbots WHERE account_id = $1 ORDER BY name",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|r| Chatbot {
        id: r.0,
        name: r.1,
        webhook_hint: webhook_hint(&r.2),
        signed: r.3.is_some(),
        keywords: r.4.lines().map(str::to_string).collect(),
        created_at: r.5,
    })
    .collect())
}

pub async fn create_chatbot(db: &Db, secrets: &Secrets, account_id: i64, actor: &Actor, input: &ChatbotInput, now: i64) -> Result<Chatbot, AppError> {
    AppError::check(input.validate(request_locale()))?;
    let webhook = input.webhook.trim();
    let secret = Some(input.secret.trim()).filter(|s| !s.is_empty());
    let mut tx = db.begin_write().await?;
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO dingtalk_chatbots (account_id, name, webhook_sealed, webhook_hint, secret_sealed, keywords, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(account_id)
    .bind(input.name.trim())
    .bind(secrets.seal(&chatbot_context(account_id, "webhook"), webhook))
    .bind(webhook_hint(webhook))
    .bind(secret.map(|s| secrets.seal(&chatbot_context(account_id, "secret"), s)))
    .bind(input.keyword_list().join("\n"))
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(crate::error::on_unique("name", "A chatbot with this name exists already."))?;
    audit::record(&mut *tx, account_id, actor, "playbook.chatbot.create", input.name.trim(), &webhook_hint(webhook)).await?;
    tx.commit().await?;
    list_chatbots(db, account_id).await?.into_iter().find(|c| c.id == id).ok_or(AppError::Internal)
}

/// A chatbot opened for sending. Never serialised.
pub struct OpenChatbot {
    pub name: String,
    pub webhook: String,
    pub secret: Option<String>,
    pub keywords: Vec<String>,
}

pub async fn open_chatbots(db: &Db, secrets: &Secrets, account_id: i64, ids: &[i64]) -> Result<Vec<OpenChatbot>, AppError> {
    let rows = sqlx::query_as::<_, (i64, String, String, Option<String>, String)>(
        "SELECT id, name, webhook_sealed, secret_sealed, keywords FROM dingtalk_chatbots WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    let mut bots = Vec::new();
    for (id, name, webhook, secret, keywords) in rows {
        if !ids.contains(&id) {
            continue;
        }
        let Some(webhook) = secrets.open(&chatbot_context(account_id, "webhook"), &webhook) else {
            tracing::error!(chatbot = id, "a chatbot's webhook does not open with this master key");
            continue;
        };
        let secret = match secret {
            Some(sealed) => secrets.open(&chatbot_context(account_id, "secret"), &sealed),
            None => None,
        };
        bots.push(OpenChatbot { name, webhook, secret, keywords: keywords.lines().map(str::to_string).collect() });
    }
    Ok(bots)
}

// ---- The task form -------------------------------------------------------------------------

pub async fn task_choices(db: &Db, account_id: i64) -> Result<(Vec<TaskGroup>, Vec<TaskAsset>), AppError> {
    let groups = crate::assets::repo::groups(db, account_id)
        .await?
        .into_iter()
        .map(|g| TaskGroup { id: g.id, name: g.name, asset_count: g.asset_count })
        .collect();
    let assets = sqlx::query_as::<_, (i64, String, String, Option<i64>)>(
        "SELECT id, name, ips, group_id FROM assets WHERE account_id = $1 ORDER BY name, id",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|(id, name, ips, group_id)| TaskAsset {
        id,
        name,
        ips: ips.split(',').filter(|i| !i.is_empty()).map(str::to_string).collect(),
        group_id,
    })
    .collect();
    Ok((groups, assets))
}

/// The unfixed vulnerabilities on some of the given assets, with how many of them have each.
pub async fn task_vulnerabilities(conn: &mut AnyConnection, account_id: i64, asset_ids: &[i64]) -> Result<Vec<TaskVulnerability>, AppError> {
    let mut found: BTreeMap<i64, TaskVulnerability> = BTreeMap::new();
    for chunk in asset_ids.chunks(CHUNK) {
        let sql = format!(
            "SELECT v.id, v.advisory_id, v.title, v.severity, v.category, v.package, COUNT(DISTINCT f.asset_id)
             FROM findings f JOIN vulnerabilities v ON v.id = f.vulnerability_id
             WHERE f.account_id = $1 AND f.resolved_at IS NULL AND f.asset_id IN ({})
             GROUP BY v.id, v.advisory_id, v.title, v.severity, v.category, v.package",
            placeholders(2, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (i64, String, String, String, String, String, i64)>(&sql).bind(account_id);
        for id in chunk {
            query = query.bind(*id);
        }
        for r in query.fetch_all(&mut *conn).await? {
            found
                .entry(r.0)
                .and_modify(|v| v.hosts += r.6)
                .or_insert_with(|| TaskVulnerability {
                    vulnerability_id: r.0,
                    advisory_id: r.1,
                    title: r.2,
                    severity: Severity::parse(&r.3).unwrap_or(Severity::Low),
                    category: Category::parse(&r.4).unwrap_or(Category::Linux),
                    package: r.5,
                    hosts: r.6,
                });
        }
    }
    let mut list: Vec<TaskVulnerability> = found.into_values().collect();
    list.sort_by(|a, b| (a.severity, std::cmp::Reverse(a.hosts), &a.advisory_id).cmp(&(b.severity, std::cmp::Reverse(b.hosts), &b.advisory_id)));
    Ok(list)
}

/// The (asset, vulnerability) pairs among the given ones that are open now.
async fn open_pairs(conn: &mut AnyConnection, account_id: i64, asset_ids: &[i64], vulnerability_ids: &HashSet<i64>) -> Result<Vec<(i64, i64)>, AppError> {
    let mut pairs = Vec::new();
    for chunk in asset_ids.chunks(CHUNK) {
        let sql = format!(
            "SELECT asset_id, vulnerability_id FROM findings WHERE account_id = $1 AND resolved_at IS NULL AND asset_id IN ({})",
            placeholders(2, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (i64, i64)>(&sql).bind(account_id);
        for id in chunk {
            query = query.bind(*id);
        }
        pairs.extend(query.fetch_all(&mut *conn).await?.into_iter().filter(|(_, v)| vulnerability_ids.contains(v)));
    }
    Ok(pairs)
}

/// Validated input, ready to write.
pub struct NewTask {
    pub execute_at: i64,
    pub emails: Vec<String>,
    pub concurrency: i64,
    pub stop_after: Option<i64>,
}

/// Creates a task with its first execution pending: a host row for every selected asset and an
/// item for every selected vulnerability open on it. All or nothing.
pub async fn create_task(db: &Db, account_id: i64, actor: &Actor, input: &TaskInput, task: &NewTask, now: i64) -> Result<i64, AppError> {
    let mut tx = db.begin_write().await?;
    let policy_name = sqlx::query_scalar::<_, String>("SELECT name FROM playbook_policies WHERE id = $1 AND account_id = $2")
        .bind(input.policy_id)
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::field("policy_id", td_string!(request_locale(), playbook.errors.policy_gone)))?;
    let mut asset_ids = input.asset_ids.clone();
    asset_ids.sort_unstable();
    asset_ids.dedup();
    let mut known = 0;
    for chunk in asset_ids.chunks(CHUNK) {
        let sql = format!("SELECT COUNT(*) FROM assets WHERE account_id = $1 AND id IN ({})", placeholders(2, chunk.len()));
        let mut query = sqlx::query_scalar::<_, i64>(&sql).bind(account_id);
        for id in chunk {
            query = query.bind(*id);
        }
        known += query.fetch_one(&mut *tx).await?;
    }
    if known != asset_ids.len() as i64 {
        return Err(AppError::field("assets", td_string!(request_locale(), playbook.errors.assets_not_in_account)));
    }
    let selected: HashSet<i64> = input.vulnerability_ids.iter().copied().collect();
    let pairs = open_pairs(&mut tx, account_id, &asset_ids, &selected).await?;
    let present: HashSet<i64> = pairs.iter().map(|(_, v)| *v).collect();
    if let Some(id) = selected.iter().find(|v| !present.contains(v)) {
        return Err(AppError::field("vulnerabilities", td_string!(request_locale(), playbook.errors.vulnerability_not_open, id)));
    }
    let chatbots = list_chatbots(db, account_id).await?;
    if input.chatbot_ids.iter().any(|id| !chatbots.iter().any(|c| c.id == *id)) {
        return Err(AppError::field("chatbots", td_string!(request_locale(), playbook.errors.chatbot_gone)));
    }
    let mut vulnerability_ids: Vec<i64> = selected.into_iter().collect();
    vulnerability_ids.sort_unstable();
    let task_id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO playbook_tasks (account_id, policy_id, policy_name, name, vulnerabilities, chatbots, emails, execute_at, custom_time,
                                     concurrency, dry_run, stop_after, status, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'waiting', $13, $14) RETURNING id",
    )
    .bind(account_id)
    .bind(input.policy_id)
    .bind(&policy_name)
    .bind(input.name.trim())
    .bind(serde_json::to_string(&vulnerability_ids).map_err(|_| AppError::Internal)?)
    .bind(serde_json::to_string(&input.chatbot_ids).map_err(|_| AppError::Internal)?)
    .bind(task.emails.join(","))
    .bind(task.execute_at)
    .bind(i64::from(input.custom_time))
    .bind(task.concurrency)
    .bind(i64::from(input.dry_run))
    .bind(task.stop_after)
    .bind(actor.label())
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(crate::error::on_unique("name", "A task with this name exists already."))?;
    let mut by_asset: HashMap<i64, Vec<i64>> = HashMap::new();
    for (asset, vulnerability) in pairs {
        by_asset.entry(asset).or_default().push(vulnerability);
    }
    let hosts: Vec<(i64, Vec<i64>)> = asset_ids.iter().map(|a| (*a, by_asset.remove(a).unwrap_or_default())).collect();
    insert_run(&mut tx, task_id, 1, &hosts).await?;
    audit::record(&mut *tx, account_id, actor, "playbook.task.create", input.name.trim(), &format!("{} hosts", asset_ids.len())).await?;
    tx.commit().await?;
    Ok(task_id)
}

/// A pending execution: its hosts waiting, each with its vulnerabilities.
async fn insert_run(conn: &mut AnyConnection, task_id: i64, number: i64, hosts: &[(i64, Vec<i64>)]) -> Result<(), AppError> {
    let run_id = sqlx::query_scalar::<_, i64>("INSERT INTO playbook_runs (task_id, number) VALUES ($1, $2) RETURNING id")
        .bind(task_id)
        .bind(number)
        .fetch_one(&mut *conn)
        .await?;
    for (asset_id, vulnerabilities) in hosts {
        let host_id = sqlx::query_scalar::<_, i64>("INSERT INTO playbook_hosts (run_id, asset_id, status) VALUES ($1, $2, 'waiting') RETURNING id")
            .bind(run_id)
            .bind(asset_id)
            .fetch_one(&mut *conn)
            .await?;
        for vulnerability_id in vulnerabilities {
            sqlx::query("INSERT INTO playbook_items (host_id, vulnerability_id, status) VALUES ($1, $2, 'waiting')")
                .bind(host_id)
                .bind(vulnerability_id)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// A new execution over the failed hosts of the latest one, starting now.
pub async fn retry_failed(db: &Db, account_id: i64, actor: &Actor, task_id: i64, now: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let (name, status, executed) = sqlx::query_as::<_, (String, String, i64)>(
        "SELECT name, status, executed_num FROM playbook_tasks WHERE id = $1 AND account_id = $2",
    )
    .bind(task_id)
    .bind(account_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    if status != "completed" {
        return Err(AppError::Conflict(td_string!(request_locale(), playbook.errors.retry_not_completed).into()));
    }
    let failed = sqlx::query_as::<_, (i64, i64)>(
        "SELECT h.id, h.asset_id FROM playbook_hosts h JOIN playbook_runs r ON r.id = h.run_id
         WHERE r.task_id = $1 AND r.number = $2 AND h.status = 'failed' ORDER BY h.asset_id",
    )
    .bind(task_id)
    .bind(executed)
    .fetch_all(&mut *tx)
    .await?;
    if failed.is_empty() {
        return Err(AppError::Conflict(td_string!(request_locale(), playbook.errors.nothing_to_retry).into()));
    }
    let mut hosts = Vec::new();
    for (host_id, asset_id) in failed {
        let vulnerabilities = sqlx::query_scalar::<_, i64>("SELECT vulnerability_id FROM playbook_items WHERE host_id = $1 ORDER BY vulnerability_id")
            .bind(host_id)
            .fetch_all(&mut *tx)
            .await?;
        hosts.push((asset_id, vulnerabilities));
    }
    insert_run(&mut tx, task_id, executed + 1, &hosts).await?;
    sqlx::query(
        "UPDATE playbook_tasks SET status = 'waiting', execute_at = $1, completed_at = NULL, notified_at = NULL WHERE id = $2",
    )
    .bind(now)
    .bind(task_id)
    .execute(&mut *tx)
    .await?;
    audit::record(&mut *tx, account_id, actor, "playbook.task.retry", &name, &format!("{} failed hosts", hosts.len())).await?;
    tx.commit().await?;
    Ok(())
}

/// Cancels a waiting or running task: hosts not yet started are skipped, and jobs their agents
/// have not picked up yet are withdrawn. A job already running on a host finishes there.
pub async fn cancel_task(db: &Db, account_id: i64, actor: &Actor, task_id: i64, now: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let (name, executed) = sqlx::query_as::<_, (String, i64)>(
        "SELECT name, executed_num FROM playbook_tasks WHERE id = $1 AND account_id = $2",
    )
    .bind(task_id)
    .bind(account_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let updated = sqlx::query(
        "UPDATE playbook_tasks SET status = 'cancelled', completed_at = $1, notified_at = $1, lease_owner = NULL, lease_until = NULL
         WHERE id = $2 AND status IN ('waiting', 'running')",
    )
    .bind(now)
    .bind(task_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(AppError::Conflict(td_string!(request_locale(), playbook.errors.cancel_not_active).into()));
    }
    // The pending execution is the one after the last started (a waiting task) or the running one.
    let run_id = sqlx::query_scalar::<_, i64>("SELECT id FROM playbook_runs WHERE task_id = $1 AND number >= $2 ORDER BY number DESC LIMIT 1")
        .bind(task_id)
        .bind(executed.max(1))
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(run_id) = run_id {
        sqlx::query(
            "UPDATE agent_jobs SET status = 'failed', finished_at = $1, error = 'cancelled with its playbook task'
             WHERE status = 'queued' AND id IN (SELECT job_id FROM playbook_hosts WHERE run_id = $2 AND job_id IS NOT NULL)",
        )
        .bind(now)
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        for (from, error) in [("waiting", "cancelled before it started"), ("running", "cancelled: a job already on the host finishes there")] {
            sqlx::query(
                "UPDATE playbook_items SET status = 'skipped', error = $1
                 WHERE status IN ('waiting', 'running') AND host_id IN (SELECT id FROM playbook_hosts WHERE run_id = $2 AND status = $3)",
            )
            .bind(error)
            .bind(run_id)
            .bind(from)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE playbook_hosts SET status = 'skipped', error = $1, ended_at = $2 WHERE run_id = $3 AND status = $4")
                .bind(error)
                .bind(now)
                .bind(run_id)
                .bind(from)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE playbook_runs SET finished_at = COALESCE(finished_at, $1) WHERE id = $2").bind(now).bind(run_id).execute(&mut *tx).await?;
    }
    audit::record(&mut *tx, account_id, actor, "playbook.task.cancel", &name, "").await?;
    tx.commit().await?;
    Ok(())
}

// ---- What the pages read -------------------------------------------------------------------

type TaskRowSql = (i64, String, String, i64, i64, i64, i64, i64, Option<i64>, String, i64, i64, i64);

const TASK_ROW: &str = "SELECT t.id, t.name, t.policy_name, t.executed_num, t.custom_time, t.dry_run, t.execute_at, t.created_at,
        t.completed_at, t.status,
        (SELECT COUNT(*) FROM playbook_hosts h JOIN playbook_runs r ON r.id = h.run_id WHERE r.task_id = t.id AND r.number = t.executed_num),
        (SELECT COUNT(*) FROM playbook_hosts h JOIN playbook_runs r ON r.id = h.run_id WHERE r.task_id = t.id AND r.number = t.executed_num AND h.status IN ('fixed', 'simulated')),
        (SELECT COUNT(*) FROM playbook_hosts h JOIN playbook_runs r ON r.id = h.run_id WHERE r.task_id = t.id AND r.number = t.executed_num AND h.status = 'failed')
     FROM playbook_tasks t";

fn task_row(r: TaskRowSql) -> TaskRow {
    TaskRow {
        id: r.0,
        name: r.1,
        policy_name: r.2,
        executed_num: r.3,
        custom_time: r.4 != 0,
        dry_run: r.5 != 0,
        execute_at: r.6,
        created_at: r.7,
        completed_at: r.8,
        status: TaskStatus::parse(&r.9).unwrap_or(TaskStatus::Waiting),
        total: r.10,
        success: r.11,
        failed: r.12,
    }
}

pub async fn list_tasks(db: &Db, account_id: i64) -> Result<Vec<TaskRow>, AppError> {
    Ok(sqlx::query_as::<_, TaskRowSql>(&format!("{TASK_ROW} WHERE t.account_id = $1 ORDER BY t.created_at DESC, t.id DESC"))
        .bind(account_id)
        .fetch_all(&db.pool)
        .await?
        .into_iter()
        .map(task_row)
        .collect())
}

pub async fn task_detail(db: &Db, account_id: i64, task_id: i64, run: Option<i64>) -> Result<TaskDetail, AppError> {
    let row = sqlx::query_as::<_, TaskRowSql>(&format!("{TASK_ROW} WHERE t.account_id = $1 AND t.id = $2"))
        .bind(account_id)
        .bind(task_id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    let task = task_row(row);
    let (concurrency, stop_after, emails, chatbots, vulnerabilities, notify_log) = sqlx::query_as::<_, (i64, Option<i64>, String, String, String, String)>(
        "SELECT concurrency, stop_after, emails, chatbots, vulnerabilities, notify_log FROM playbook_tasks WHERE id = $1",
    )
    .bind(task_id)
    .fetch_one(&db.pool)
    .await?;
    let chatbot_ids: Vec<i64> = serde_json::from_str(&chatbots).unwrap_or_default();
    let chatbots = list_chatbots(db, account_id).await?.into_iter().filter(|c| chatbot_ids.contains(&c.id)).map(|c| c.name).collect();
    let vulnerability_ids: Vec<i64> = serde_json::from_str(&vulnerabilities).unwrap_or_default();
    let mut selected = Vec::new();
    for chunk in vulnerability_ids.chunks(CHUNK) {
        let sql = format!(
            "SELECT id, advisory_id, title, severity, category, package FROM vulnerabilities WHERE account_id = $1 AND id IN ({}) ORDER BY advisory_id",
            placeholders(2, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (i64, String, String, String, String, String)>(&sql).bind(account_id);
        for id in chunk {
            query = query.bind(*id);
        }
        selected.extend(query.fetch_all(&db.pool).await?.into_iter().map(|r| TaskVulnerability {
            vulnerability_id: r.0,
            advisory_id: r.1,
            title: r.2,
            severity: Severity::parse(&r.3).unwrap_or(Severity::Low),
            category: Category::parse(&r.4).unwrap_or(Category::Linux),
            package: r.5,
            hosts: 0,
        }));
    }
    let runs: Vec<RunView> = sqlx::query_as::<_, (i64, Option<i64>, Option<i64>, i64, i64, i64)>(
        "SELECT r.number, r.started_at, r.finished_at,
                (SELECT COUNT(*) FROM playbook_hosts h WHERE h.run_id = r.id),
                (SELECT COUNT(*) FROM playbook_hosts h WHERE h.run_id = r.id AND h.status IN ('fixed', 'simulated')),
                (SELECT COUNT(*) FROM playbook_hosts h WHERE h.run_id = r.id AND h.status = 'failed')
         FROM playbook_runs r WHERE r.task_id = $1 ORDER BY r.number DESC",
    )
    .bind(task_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|r| RunView { number: r.0, started_at: r.1, finished_at: r.2, total: r.3, success: r.4, failed: r.5 })
    .collect();
    let shown = run.filter(|n| runs.iter().any(|r| r.number == *n)).or(runs.first().map(|r| r.number));
    let mut hosts = Vec::new();
    if let Some(number) = shown {
        let rows = sqlx::query_as::<_, (i64, i64, String, String, String, Option<i64>, Option<i64>, Option<String>, Option<String>)>(
            "SELECT h.id, h.asset_id, a.name, a.ips, h.status, h.started_at, h.ended_at, h.error, j.output
             FROM playbook_hosts h JOIN playbook_runs r ON r.id = h.run_id JOIN assets a ON a.id = h.asset_id
             LEFT JOIN agent_jobs j ON j.id = h.job_id
             WHERE r.task_id = $1 AND r.number = $2
             ORDER BY CASE h.status WHEN 'failed' THEN 0 WHEN 'running' THEN 1 WHEN 'waiting' THEN 2 ELSE 3 END, a.name",
        )
        .bind(task_id)
        .bind(number)
        .fetch_all(&db.pool)
        .await?;
        let mut items: HashMap<i64, Vec<ItemResult>> = HashMap::new();
        let item_rows = sqlx::query_as::<_, (i64, String, String, String, Option<String>)>(
            "SELECT i.host_id, v.advisory_id, v.package, i.status, i.error FROM playbook_items i
             JOIN vulnerabilities v ON v.id = i.vulnerability_id
             JOIN playbook_hosts h ON h.id = i.host_id JOIN playbook_runs r ON r.id = h.run_id
             WHERE r.task_id = $1 AND r.number = $2 ORDER BY v.advisory_id",
        )
        .bind(task_id)
        .bind(number)
        .fetch_all(&db.pool)
        .await?;
        for (host_id, advisory_id, package, status, error) in item_rows {
            items.entry(host_id).or_default().push(ItemResult {
                advisory_id,
                package,
                status: HostStatus::parse(&status).unwrap_or(HostStatus::Waiting),
                error,
            });
        }
        hosts = rows
            .into_iter()
            .map(|r| HostResult {
                asset_id: r.1,
                asset_name: r.2,
                ips: r.3.split(',').filter(|i| !i.is_empty()).map(str::to_string).collect(),
                status: HostStatus::parse(&r.4).unwrap_or(HostStatus::Waiting),
                started_at: r.5,
                ended_at: r.6,
                error: r.7,
                output: r.8.unwrap_or_default(),
                items: items.remove(&r.0).unwrap_or_default(),
            })
            .collect();
    }
    let time_zone = crate::auth::repo::time_zone(&db.pool, account_id).await?.name().to_string();
    Ok(TaskDetail {
        task,
        concurrency,
        stop_after,
        emails: emails.split(',').filter(|e| !e.is_empty()).map(str::to_string).collect(),
        chatbots,
        vulnerabilities: selected,
        runs,
        run: shown,
        hosts,
        notify_log,
        time_zone,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn webhook_hints_mask_tokens() {
        let hint = super::webhook_hint("https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef");
        assert_eq!(hint, "https://oapi.dingtalk.com/robot/send?access_token=••••cdef");
        // Masking what is already masked, or a hint stored in the earlier form, keeps the same hint.
        assert_eq!(super::webhook_hint(&hint), hint);
        assert_eq!(super::webhook_hint("https://oapi.dingtalk.com/robot/send?access_token=0123…cdef"), hint);
        assert_eq!(super::webhook_hint("http://127.0.0.1:9/robot/send?t=abc&x"), "http://127.0.0.1:9/robot/send?t=••••&x");
    }
}
