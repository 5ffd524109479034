//! Open-risk counters: read by the Overview and the Assets list, kept by database triggers (see
//! the `risk_counters` migrations), and recounted here. The reconcile job compares every counter
//! with a fresh count and repairs what drifted, logging each repair; `bulwark check counters`
//! runs it on demand.
//!
//! A recount reads the rows and the counters in one snapshot (a read transaction; REPEATABLE
//! READ on PostgreSQL), where the two agree unless something bypassed the triggers, and repairs
//! by adding the difference in a second, short write transaction. Changes committed in between
//! carry their own increments, so adding the difference is right even then, and ingestion waits
//! at most for that short write.

use std::collections::HashMap;

use super::score::RiskCounts;
use crate::assets::model::{Category, Severity};
use crate::error::AppError;
use crate::server::db::{placeholders, Db, DbKind};

/// (kind, severity, category) of one account's counter.
type Key = (String, String, String);
/// (total, online) assets of one group.
type HostCounts = (i64, i64);

/// Adds `n` open risks of one counter kind ("vulnerability", "alert" or "baseline") and
/// severity, as the counters and the recounts name them.
pub fn add_counted(counts: &mut RiskCounts, kind: &str, severity: &str, n: i64) {
    let Some(severity) = Severity::parse(severity) else { return };
    match kind {
        "vulnerability" => counts.vulnerabilities.add(severity, n),
        "alert" => counts.alerts.add(severity, n),
        "baseline" => counts.baseline.add(severity, n),
        _ => {}
    }
}

/// The open risks of an account now, from its counters, and its open vulnerabilities by category.
pub async fn open_risks(db: &Db, account_id: i64) -> Result<(RiskCounts, Vec<(Category, i64)>), AppError> {
    let rows = sqlx::query_as::<_, (String, String, String, i64)>(
        "SELECT kind, severity, category, open_count FROM risk_counters WHERE account_id = $1 AND open_count <> 0",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    let mut risks = RiskCounts::default();
    let mut by_category: Vec<(Category, i64)> = Category::ALL.iter().map(|c| (*c, 0)).collect();
    for (kind, severity, category, n) in rows {
        add_counted(&mut risks, &kind, &severity, n);
        if kind == "vulnerability" {
            if let Some(slot) = by_category.iter_mut().find(|(c, _)| c.as_str() == category) {
                slot.1 += n;
            }
        }
    }
    Ok((risks, by_category))
}

/// The open risks now of several accounts, from their counters, in one query.
pub async fn open_risks_of(db: &Db, accounts: &[i64]) -> Result<HashMap<i64, RiskCounts>, AppError> {
    let sql = format!(
        "SELECT account_id, kind, severity, open_count FROM risk_counters WHERE account_id IN ({}) AND open_count <> 0",
        placeholders(1, accounts.len())
    );
    let mut query = sqlx::query_as::<_, (i64, String, String, i64)>(&sql);
    for id in accounts {
        query = query.bind(*id);
    }
    let mut counts: HashMap<i64, RiskCounts> = HashMap::new();
    for (account, kind, severity, n) in query.fetch_all(&db.pool).await? {
        add_counted(counts.entry(account).or_default(), &kind, &severity, n);
    }
    Ok(counts)
}

/// One counter that did not match its recount, and by how much it was corrected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    pub account_id: i64,
    /// `risk_counters kind/severity/category`, `asset_risks.<column> of asset <id>` or
    /// `asset_counters <column> of group <id>`.
    pub counter: String,
    pub was: i64,
    pub counted: i64,
}

impl std::fmt::Display for Repair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "account {}: {} was {}, counted {}", self.account_id, self.counter, self.was, self.counted)
    }
}

const RECOUNT: &str = "
    SELECT 'vulnerability', v.severity, v.category, COUNT(*) FROM findings f JOIN vulnerabilities v ON v.id = f.vulnerability_id
    WHERE f.account_id = $1 AND f.resolved_at IS NULL GROUP BY v.severity, v.category
    UNION ALL
    SELECT 'alert', severity, '', COUNT(*) FROM alerts WHERE account_id = $1 AND resolved_at IS NULL GROUP BY severity
    UNION ALL
    SELECT 'baseline', risk_level, '', COUNT(*) FROM baseline_results WHERE account_id = $1 AND resolved_at IS NULL GROUP BY risk_level";

/// The asset columns and the rows they count.
const ASSET_COLUMNS: [(&str, &str); 3] =
    [("open_vulnerabilities", "findings"), ("open_alerts", "alerts"), ("baseline_risks", "baseline_results")];

fn by_group(rows: Vec<(i64, i64, i64)>) -> HashMap<i64, HostCounts> {
    rows.into_iter().map(|(group, total, online)| (group, (total, online))).collect()
}

fn keyed(rows: Vec<(String, String, String, i64)>) -> HashMap<Key, i64> {
    rows.into_iter().map(|(kind, severity, category, n)| ((kind, severity, category), n)).collect()
}

/// The columns of `finding_days`, in the order the recount and the repairs use.
const DAY_COLUMNS: [&str; 5] = ["opened", "closed", "resolved", "fixed", "ignored"];
type DayKey = (i64, i64);

/// Each (day, vulnerability) of the account's daily flows whose stored counts differ from a
/// recount of the findings: (key, stored, counted).
async fn drifted_days(read: &mut sqlx::AnyConnection, kind: DbKind, account_id: i64) -> Result<Vec<(DayKey, [i64; 5], [i64; 5])>, AppError> {
    let greatest = if kind == DbKind::Sqlite { "MAX" } else { "GREATEST" };
    let counted = sqlx::query_as::<_, (i64, i64, i64, i64, i64, i64, i64)>(&format!(
        "SELECT day, vulnerability_id, CAST(SUM(opened) AS BIGINT), CAST(SUM(closed) AS BIGINT), CAST(SUM(resolved) AS BIGINT),
                CAST(SUM(fixed) AS BIGINT), CAST(SUM(ignored) AS BIGINT) FROM (
             SELECT first_seen_at / 86400 AS day, vulnerability_id, 1 AS opened, 0 AS closed, 0 AS resolved, 0 AS fixed, 0 AS ignored
             FROM findings WHERE account_id = $1
             UNION ALL
             SELECT {greatest}(resolved_at, first_seen_at) / 86400, vulnerability_id, 0, 1, 0, 0, 0 FROM findings WHERE account_id = $1 AND resolved_at IS NOT NULL
             UNION ALL
             SELECT resolved_at / 86400, vulnerability_id, 0, 0, 1, CASE WHEN status = 'fixed' THEN 1 ELSE 0 END, CASE WHEN status = 'ignored' THEN 1 ELSE 0 END
             FROM findings WHERE account_id = $1 AND resolved_at IS NOT NULL
         ) shares GROUP BY day, vulnerability_id"
    ))
    .bind(account_id)
    .fetch_all(&mut *read)
    .await?;
    let stored = sqlx::query_as::<_, (i64, i64, i64, i64, i64, i64, i64)>(
        "SELECT day, vulnerability_id, opened, closed, resolved, fixed, ignored FROM finding_days WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_all(&mut *read)
    .await?;
    let as_map = |rows: Vec<(i64, i64, i64, i64, i64, i64, i64)>| -> HashMap<DayKey, [i64; 5]> {
        rows.into_iter().map(|(day, v, a, b, c, d, e)| ((day, v), [a, b, c, d, e])).collect()
    };
    let (counted, stored) = (as_map(counted), as_map(stored));
    let mut drifted = Vec::new();
    for key in counted.keys().chain(stored.keys()).copied().collect::<std::collections::BTreeSet<_>>() {
        let (was, n) = (stored.get(&key).copied().unwrap_or_default(), counted.get(&key).copied().unwrap_or_default());
        if was != n {
            drifted.push((key, was, n));
        }
    }
    Ok(drifted)
}

/// Recounts one account's counters and repairs each that drifted; returns the repairs made.
pub async fn reconcile_account(db: &Db, account_id: i64) -> Result<Vec<Repair>, AppError> {
    // One snapshot for the counters and the rows they count.
    let mut read = db.pool.begin().await?;
    if db.kind == DbKind::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *read).await?;
    }
    let counted = keyed(sqlx::query_as(RECOUNT).bind(account_id).fetch_all(&mut *read).await?);
    let stored = keyed(
        sqlx::query_as("SELECT kind, severity, category, open_count FROM risk_counters WHERE account_id = $1")
            .bind(account_id)
            .fetch_all(&mut *read)
            .await?,
    );
    let mut counter_fixes: Vec<(Key, i64, i64)> = Vec::new();
    for (key, &n) in &counted {
        let was = stored.get(key).copied().unwrap_or(0);
        if was != n {
            counter_fixes.push((key.clone(), was, n));
        }
    }
    for (key, &was) in &stored {
        if was != 0 && !counted.contains_key(key) {
            counter_fixes.push((key.clone(), was, 0));
        }
    }
    let mut asset_fixes: Vec<(&str, i64, i64, i64)> = Vec::new();
    for (column, table) in ASSET_COLUMNS {
        let drifted = sqlx::query_as::<_, (i64, i64, i64)>(&format!(
            "SELECT id, was, n FROM (
                 SELECT a.id, COALESCE(r.{column}, 0) AS was, (SELECT COUNT(*) FROM {table} t WHERE t.asset_id = a.id AND t.resolved_at IS NULL) AS n
                 FROM assets a LEFT JOIN asset_risks r ON r.asset_id = a.id WHERE a.account_id = $1) c
             WHERE was <> n"
        ))
        .bind(account_id)
        .fetch_all(&mut *read)
        .await?;
        asset_fixes.extend(drifted.into_iter().map(|(id, was, n)| (column, id, was, n)));
    }
    let hosts_counted = by_group(
        sqlx::query_as(
            "SELECT COALESCE(group_id, 0), COUNT(*), COALESCE(CAST(SUM(CASE WHEN agent_status = 'online' THEN 1 ELSE 0 END) AS BIGINT), 0)
             FROM assets WHERE account_id = $1 GROUP BY COALESCE(group_id, 0)",
        )
        .bind(account_id)
        .fetch_all(&mut *read)
        .await?,
    );
    let hosts_stored = by_group(
        sqlx::query_as("SELECT group_id, total, online FROM asset_counters WHERE account_id = $1").bind(account_id).fetch_all(&mut *read).await?,
    );
    let mut host_fixes: Vec<(i64, HostCounts, HostCounts)> = Vec::new();
    for group in hosts_counted.keys().chain(hosts_stored.keys()).copied().collect::<std::collections::BTreeSet<_>>() {
        let (was, n) = (hosts_stored.get(&group).copied().unwrap_or((0, 0)), hosts_counted.get(&group).copied().unwrap_or((0, 0)));
        if was != n {
            host_fixes.push((group, was, n));
        }
    }
    let day_fixes = drifted_days(&mut read, db.kind, account_id).await?;
    read.rollback().await?;
    if counter_fixes.is_empty() && asset_fixes.is_empty() && host_fixes.is_empty() && day_fixes.is_empty() {
        return Ok(Vec::new());
    }

    // Add each difference: right even if other changes committed since the snapshot.
    let mut write = db.begin_write().await?;
    let mut repairs = Vec::new();
    for ((kind, severity, category), was, n) in counter_fixes {
        sqlx::query(
            "INSERT INTO risk_counters (account_id, kind, severity, category, open_count) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (account_id, kind, severity, category) DO UPDATE SET open_count = risk_counters.open_count + excluded.open_count",
        )
        .bind(account_id)
        .bind(&kind)
        .bind(&severity)
        .bind(&category)
        .bind(n - was)
        .execute(&mut *write)
        .await?;
        repairs.push(Repair { account_id, counter: format!("risk_counters {kind}/{severity}/{category}"), was, counted: n });
    }
    for (column, asset_id, was, n) in asset_fixes {
        sqlx::query(&format!(
            "INSERT INTO asset_risks (asset_id, {column}) VALUES ($1, $2) ON CONFLICT (asset_id) DO UPDATE SET {column} = asset_risks.{column} + excluded.{column}"
        ))
        .bind(asset_id)
        .bind(n - was)
        .execute(&mut *write)
        .await?;
        repairs.push(Repair { account_id, counter: format!("asset_risks.{column} of asset {asset_id}"), was, counted: n });
    }
    for (group, was, n) in host_fixes {
        sqlx::query(
            "INSERT INTO asset_counters (account_id, group_id, total, online) VALUES ($1, $2, $3, $4)
             ON CONFLICT (account_id, group_id) DO UPDATE SET total = asset_counters.total + excluded.total, online = asset_counters.online + excluded.online",
        )
        .bind(account_id)
        .bind(group)
        .bind(n.0 - was.0)
        .bind(n.1 - was.1)
        .execute(&mut *write)
        .await?;
        for (column, was, n) in [("total", was.0, n.0), ("online", was.1, n.1)] {
            if was != n {
                repairs.push(Repair { account_id, counter: format!("asset_counters {column} of group {group}"), was, counted: n });
            }
        }
    }
    for ((day, vulnerability_id), was, n) in day_fixes {
        let mut query = sqlx::query(
            "INSERT INTO finding_days (account_id, day, vulnerability_id, opened, closed, resolved, fixed, ignored) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (account_id, day, vulnerability_id) DO UPDATE SET opened = finding_days.opened + excluded.opened,
                 closed = finding_days.closed + excluded.closed, resolved = finding_days.resolved + excluded.resolved,
                 fixed = finding_days.fixed + excluded.fixed, ignored = finding_days.ignored + excluded.ignored",
        )
        .bind(account_id)
        .bind(day)
        .bind(vulnerability_id);
        for i in 0..DAY_COLUMNS.len() {
            query = query.bind(n[i] - was[i]);
        }
        query.execute(&mut *write).await?;
        for (i, column) in DAY_COLUMNS.iter().enumerate() {
            if was[i] != n[i] {
                repairs.push(Repair { account_id, counter: format!("finding_days.{column} of day {day}, vulnerability {vulnerability_id}"), was: was[i], counted: n[i] });
            }
        }
    }
    write.commit().await?;
    for repair in &repairs {
        tracing::warn!(%repair, "counter repaired");
    }
    Ok(repairs)
}

/// Recounts every account, one at a time; the repairs made.
pub async fn reconcile_all(db: &Db) -> Result<Vec<Repair>, AppError> {
    let mut repairs = Vec::new();
    for account_id in crate::auth::repo::account_ids(db).await? {
        repairs.extend(reconcile_account(db, account_id).await?);
    }
    Ok(repairs)
}

/// How often the reconcile job runs, and how long one replica's claim on it lasts.
pub const RECONCILE_EVERY_SECS: i64 = 3600;

/// Claims this period's reconcile for `replica`: true for exactly one replica per period, so
/// two replicas never add the same difference twice.
pub async fn claim_reconcile(db: &Db, replica: &str, now: i64) -> Result<bool, AppError> {
    let claimed = sqlx::query_scalar::<_, String>(
        "INSERT INTO job_leases (name, holder, until) VALUES ('reconcile_counters', $1, $2)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until WHERE job_leases.until <= $3
         RETURNING holder",
    )
    .bind(replica)
    .bind(now + RECONCILE_EVERY_SECS - 60)
    .bind(now)
    .fetch_optional(&db.pool)
    .await?;
    Ok(claimed.is_some())
}
