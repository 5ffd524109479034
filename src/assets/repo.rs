//! SQL for assets, groups and security data: the Assets page's queries and the upserts that the
//! ingestion API and the demo seeder share. Every statement is scoped by `account_id`.

use std::collections::{HashMap, HashSet};

use sqlx::AnyConnection;

use super::model::*;
use crate::advisories::repo::FoundVulnerability;
use crate::error::AppError;
use crate::server::db::{like_pattern, page_window, Db, DbKind, PageWindow};

#[derive(sqlx::FromRow)]
struct AssetRow {
    id: i64,
    instance_id: String,
    name: String,
    ips: String,
    os: String,
    region: String,
    group_name: Option<String>,
    agent_status: String,
    last_seen_at: Option<i64>,
    open_vulnerabilities: i64,
    open_alerts: i64,
    baseline_risks: i64,
}

impl AssetRow {
    fn into_summary(self) -> AssetSummary {
        AssetSummary {
            id: self.id,
            instance_id: self.instance_id,
            name: self.name,
            ips: split_ips(&self.ips),
            os: self.os,
            region: self.region,
            group: self.group_name,
            agent_status: AgentStatus::parse(&self.agent_status).unwrap_or(AgentStatus::NotInstalled),
            last_seen_at: self.last_seen_at,
            open_vulnerabilities: self.open_vulnerabilities,
            open_alerts: self.open_alerts,
            baseline_risks: self.baseline_risks,
        }
    }
}

fn split_ips(ips: &str) -> Vec<String> {
    ips.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

const ASSET_COLUMNS: &str = "a.id, a.instance_id, a.name, a.ips, a.os, a.region, g.name AS group_name,
        a.agent_status, a.last_seen_at,
        COALESCE(r.open_vulnerabilities, 0) AS open_vulnerabilities, COALESCE(r.open_alerts, 0) AS open_alerts,
        COALESCE(r.baseline_risks, 0) AS baseline_risks";
/// The joins `ASSET_COLUMNS` reads from, after `assets a`.
const ASSET_JOINS: &str = "LEFT JOIN asset_groups g ON g.id = a.group_id LEFT JOIN asset_risks r ON r.asset_id = a.id";

fn asset_select() -> String {
    format!("SELECT {ASSET_COLUMNS} FROM assets a {ASSET_JOINS}")
}

/// Search results counted at most this far: past it the page says "1,000+" and pages through
/// the first 1,000, so a broad query costs no more than a narrow one.
pub const SEARCH_COUNT_CAP: i64 = 1_000;

/// Queries this long or longer match any substring (FTS5 trigram on SQLite, pg_trgm on
/// PostgreSQL); shorter ones match the start of a name, instance id or address list.
const TRIGRAM: usize = 3;

/// The WHERE clause of the Assets list: `$1` the account, `$2` the group (-1 all, 0 ungrouped,
/// else its id), then the search's own parameters from `$3` (none without a search). Each search
/// form is answered from an index, never by reading every asset of the account.
fn asset_filter(db: &Db, search: &str) -> (String, Vec<String>) {
    let mut clause = "a.account_id = $1 AND ($2 < 0 OR ($2 = 0 AND a.group_id IS NULL) OR a.group_id = $2)".to_string();
    if search.is_empty() {
        return (clause, Vec::new());
    }
    let lower = search.to_lowercase();
    let long = search.chars().count() >= TRIGRAM;
    let params = match (&db.kind, long) {
        (DbKind::Sqlite, true) => {
            // One FTS5 phrase (quotes doubled): the trigram tokenizer matches it as a substring.
            // The unary `+` keeps the planner off the (account, name) index, which without
            // statistics it would walk through every asset of the account probing the matches;
            // this way it looks up each match by rowid (cost follows the matches, not the account).
            clause = clause.replacen("a.account_id = $1", "+a.account_id = $1", 1);
            clause.push_str(" AND a.id IN (SELECT rowid FROM assets_search WHERE assets_search MATCH $3)");
            vec![format!("\"{}\"", search.replace('"', "\"\""))]
        }
        (DbKind::Sqlite, false) => {
            // A range on the expression indexes: every string that starts with `lower`.
            clause.push_str(
                " AND ((lower(a.name) >= $3 AND lower(a.name) < $4) OR (lower(a.instance_id) >= $3 AND lower(a.instance_id) < $4)
                   OR (a.ips >= $3 AND a.ips < $4))",
            );
            vec![lower.clone(), format!("{lower}\u{10FFFF}")]
        }
        (DbKind::Postgres, long) => {
            clause.push_str(
                " AND (lower(a.name) LIKE $3 ESCAPE '\\' OR a.ips LIKE $3 ESCAPE '\\' OR lower(a.instance_id) LIKE $3 ESCAPE '\\')",
            );
            let pattern = like_pattern(search);
            // `%q%` for the trigram indexes; `q%` (text_pattern_ops) when too short for trigrams.
            vec![if long { pattern } else { pattern[1..].to_string() }]
        }
    };
    (clause, params)
}

/// The name to sort a page by. With a search on PostgreSQL, an expression the (account, name,
/// id) index cannot supply: otherwise the planner, expecting matches everywhere, walks that
/// index in order and filters every asset before the page fills (65 ms for an address
/// matching 0.25% of 100,000 assets) instead of taking the trigram index's matches and sorting
/// them. Same order either way.
fn name_order(db: &Db, search: &str) -> &'static str {
    if db.kind == DbKind::Postgres && !search.is_empty() {
        "(a.name || '')"
    } else {
        "a.name"
    }
}

pub async fn asset_page(db: &Db, account_id: i64, query: &AssetQuery) -> Result<AssetPage, AppError> {
    let search = query.search.trim().to_string();
    let group = query.group_id.unwrap_or(-1);
    let (filter, params) = asset_filter(db, &search);
    // Per group from the counters (no count at all without a search); with a search, count
    // one past the cap and stop there.
    let groups = groups(db, account_id).await?;
    let (all_count, ungrouped_count) = sqlx::query_as::<_, (i64, i64)>(
        "SELECT COALESCE(CAST(SUM(total) AS BIGINT), 0), COALESCE(CAST(SUM(CASE WHEN group_id = 0 THEN total ELSE 0 END) AS BIGINT), 0)
         FROM asset_counters WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_one(&db.pool)
    .await?;
    let counted = if search.is_empty() {
        match group {
            g if g < 0 => all_count,
            0 => ungrouped_count,
            g => groups.iter().find(|x| x.id == g).map_or(0, |x| x.asset_count),
        }
    } else {
        let count_sql = format!("SELECT COUNT(*) FROM (SELECT 1 FROM assets a WHERE {filter} LIMIT {}) t", SEARCH_COUNT_CAP + 1);
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql).bind(account_id).bind(group);
        for param in &params {
            count = count.bind(param);
        }
        count.fetch_one(&db.pool).await?
    };
    let total_capped = !search.is_empty() && counted > SEARCH_COUNT_CAP;
    let total = counted.min(if search.is_empty() { i64::MAX } else { SEARCH_COUNT_CAP });
    let PageWindow { page, pages: page_count, offset } = page_window(query.page, total, ASSET_PAGE_SIZE);
    let assets = match keyset_page(db, account_id, group, &filter, &params, query).await? {
        Some(assets) => assets,
        None => {
            // The page's ids first: PostgreSQL would otherwise compute the counts of every row it skips.
            let (limit_at, offset_at) = (params.len() + 3, params.len() + 4);
            let sql = format!(
                "SELECT {ASSET_COLUMNS} FROM (SELECT a.id FROM assets a WHERE {filter} ORDER BY {}, a.id LIMIT ${limit_at} OFFSET ${offset_at}) p
                 JOIN assets a ON a.id = p.id {ASSET_JOINS} ORDER BY a.name, a.id",
                name_order(db, &search)
            );
            let mut rows = sqlx::query_as::<_, AssetRow>(&sql).bind(account_id).bind(group);
            for param in &params {
                rows = rows.bind(param);
            }
            rows.bind(ASSET_PAGE_SIZE).bind(offset).fetch_all(&db.pool).await?.into_iter().map(AssetRow::into_summary).collect()
        }
    };
    Ok(AssetPage { assets, total, total_capped, page, page_count, groups, ungrouped_count, all_count })
}

/// The page after (or before) the cursor's asset in (name, id) order: a range read on the
/// account's (name) index, whatever the page's depth. `None` without a cursor, when the cursor
/// names no asset of the account, or when nothing lies beyond it (the caller pages by number).
async fn keyset_page(
    db: &Db,
    account_id: i64,
    group: i64,
    filter: &str,
    params: &[String],
    query: &AssetQuery,
) -> Result<Option<Vec<AssetSummary>>, AppError> {
    let (cursor, forward) = match (query.after, query.before) {
        (Some(id), _) => (id, true),
        (None, Some(id)) => (id, false),
        (None, None) => return Ok(None),
    };
    let Some(name) = sqlx::query_scalar::<_, String>("SELECT name FROM assets WHERE account_id = $1 AND id = $2")
        .bind(account_id)
        .bind(cursor)
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(None);
    };
    let (name_at, id_at, limit_at) = (params.len() + 3, params.len() + 4, params.len() + 5);
    let (compare, order) = if forward { (">", "ASC") } else { ("<", "DESC") };
    let sql = format!(
        "SELECT {ASSET_COLUMNS} FROM (SELECT a.id FROM assets a WHERE {filter} AND (a.name, a.id) {compare} (${name_at}, ${id_at})
                                      ORDER BY {} {order}, a.id {order} LIMIT ${limit_at}) p
         JOIN assets a ON a.id = p.id {ASSET_JOINS} ORDER BY a.name, a.id",
        name_order(db, query.search.trim())
    );
    let mut rows = sqlx::query_as::<_, AssetRow>(&sql).bind(account_id).bind(group);
    for param in params {
        rows = rows.bind(param);
    }
    let assets: Vec<AssetSummary> =
        rows.bind(name).bind(cursor).bind(ASSET_PAGE_SIZE).fetch_all(&db.pool).await?.into_iter().map(AssetRow::into_summary).collect();
    Ok((!assets.is_empty()).then_some(assets))
}

/// One asset of this account with its findings, alerts and baseline results; `NotFound` for any
/// other account's asset, exactly as for one that does not exist.
pub async fn asset_records(db: &Db, account_id: i64, asset_id: i64) -> Result<AssetRecords, AppError> {
    let asset = sqlx::query_as::<_, AssetRow>(&format!("{} WHERE a.account_id = $1 AND a.id = $2", asset_select()))
        .bind(account_id)
        .bind(asset_id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(AppError::NotFound)?
        .into_summary();
    let findings = sqlx::query_as::<_, FindingRow>(
        "SELECT f.id, v.advisory_id, v.title, v.severity, v.category, v.package, f.installed_version, f.fixed_version, v.fix,
                f.status, f.source, f.first_seen_at, f.last_seen_at
         FROM findings f JOIN vulnerabilities v ON v.id = f.vulnerability_id
         WHERE f.account_id = $1 AND f.asset_id = $2
         ORDER BY CASE WHEN f.resolved_at IS NULL THEN 0 ELSE 1 END,
                  CASE v.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, v.advisory_id",
    )
    .bind(account_id)
    .bind(asset_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|r| FindingView {
        id: r.0,
        advisory_id: r.1,
        title: r.2,
        severity: Severity::parse(&r.3).unwrap_or(Severity::Low),
        category: Category::parse(&r.4).unwrap_or(Category::Linux),
        package: r.5,
        installed_version: r.6,
        fixed_version: r.7,
        fix: r.8,
        status: FindingStatus::parse(&r.9).unwrap_or(FindingStatus::Unfixed),
        source: r.10,
        first_seen_at: r.11,
        last_seen_at: r.12,
    })
    .collect();
    let alerts = sqlx::query_as::<_, (i64, String, String, String, String, i64)>(
        "SELECT id, name, alert_type, severity, status, occurred_at FROM alerts
         WHERE account_id = $1 AND asset_id = $2 ORDER BY occurred_at DESC LIMIT 100",
    )
    .bind(account_id)
    .bind(asset_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|(id, name, alert_type, severity, status, occurred_at)| AlertView {
        id,
        name,
        alert_type,
        severity: Severity::parse(&severity).unwrap_or(Severity::Low),
        status: AlertStatus::parse(&status).unwrap_or(AlertStatus::Unhandled),
        occurred_at,
    })
    .collect();
    let baseline = sqlx::query_as::<_, (i64, String, String, String, i64, i64)>(
        "SELECT id, check_name, category, risk_level, passed, checked_at FROM baseline_results
         WHERE account_id = $1 AND asset_id = $2 ORDER BY passed, check_name",
    )
    .bind(account_id)
    .bind(asset_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|(id, check_name, category, risk_level, passed, checked_at)| BaselineView {
        id,
        check_name,
        category,
        risk_level: Severity::parse(&risk_level).unwrap_or(Severity::Low),
        passed: passed != 0,
        checked_at,
    })
    .collect();
    Ok((asset, findings, alerts, baseline))
}

/// An asset with its findings, alerts and baseline results.
pub type AssetRecords = (AssetSummary, Vec<FindingView>, Vec<AlertView>, Vec<BaselineView>);

type FindingRow = (i64, String, String, String, String, String, String, String, String, String, String, i64, i64);

/// An asset by instance id, for the API.
pub async fn asset_by_instance(db: &Db, account_id: i64, instance_id: &str) -> Result<AssetSummary, AppError> {
    Ok(sqlx::query_as::<_, AssetRow>(&format!("{} WHERE a.account_id = $1 AND a.instance_id = $2", asset_select()))
        .bind(account_id)
        .bind(instance_id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(AppError::NotFound)?
        .into_summary())
}

// ---- Writes shared by the ingestion API and the demo seeder ------------------------------

pub async fn upsert_group(conn: &mut AnyConnection, account_id: i64, name: &str, now: i64) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar::<_, i64>(
        "INSERT INTO asset_groups (account_id, name, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (account_id, name) DO UPDATE SET name = excluded.name RETURNING id",
    )
    .bind(account_id)
    .bind(name.trim())
    .bind(now)
    .fetch_one(conn)
    .await?)
}

pub async fn upsert_asset(
    conn: &mut AnyConnection,
    account_id: i64,
    asset: &AssetIn,
    group_id: Option<i64>,
    now: i64,
) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar::<_, i64>(
        "INSERT INTO assets (account_id, group_id, instance_id, name, ips, os, region, agent_status, last_seen_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
         ON CONFLICT (account_id, instance_id) DO UPDATE SET
            group_id = CASE WHEN excluded.group_id IS NULL THEN assets.group_id ELSE excluded.group_id END,
            name = excluded.name, ips = excluded.ips, os = excluded.os, region = excluded.region,
            agent_status = excluded.agent_status,
            last_seen_at = COALESCE(excluded.last_seen_at, assets.last_seen_at),
            updated_at = excluded.updated_at
         RETURNING id",
    )
    .bind(account_id)
    .bind(group_id)
    .bind(asset.instance_id.trim())
    .bind(asset.name.trim())
    .bind(asset.ips.join(","))
    .bind(asset.os.trim())
    .bind(asset.region.trim())
    .bind(asset.agent_status.as_str())
    .bind(asset.last_seen_at)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// Resolves instance ids to asset ids within one account, once per distinct id; a missing one is
/// a validation error naming the item.
pub struct AssetIds {
    account_id: i64,
    known: HashMap<String, Option<i64>>,
}

impl AssetIds {
    pub fn new(account_id: i64) -> Self {
        AssetIds { account_id, known: HashMap::new() }
    }

    pub async fn resolve(&mut self, conn: &mut AnyConnection, instance_id: &str) -> Result<Option<i64>, AppError> {
        let instance_id = instance_id.trim();
        if let Some(id) = self.known.get(instance_id) {
            return Ok(*id);
        }
        let id = sqlx::query_scalar::<_, i64>("SELECT id FROM assets WHERE account_id = $1 AND instance_id = $2")
            .bind(self.account_id)
            .bind(instance_id)
            .fetch_optional(conn)
            .await?;
        self.known.insert(instance_id.to_string(), id);
        Ok(id)
    }

    pub async fn require(&mut self, conn: &mut AnyConnection, instance_id: &str, path: String) -> Result<i64, AppError> {
        self.resolve(conn, instance_id)
            .await?
            .ok_or_else(|| AppError::field(path, format!("no asset with instance id \"{}\" in this account", instance_id.trim())))
    }
}

/// Records a finding as seen at `seen_at`. Fixed and ignored findings are resolved; a resolved
/// finding seen open again reopens with a new first-seen time (the statement is `bulk`'s).
pub async fn upsert_finding(
    conn: &mut AnyConnection,
    account_id: i64,
    asset_id: i64,
    vulnerability_id: i64,
    status: FindingStatus,
    installed_version: &str,
    seen_at: i64,
) -> Result<(), AppError> {
    let sighting = super::bulk::Sighting { asset_id, vulnerability_id, status, installed_version, seen_at };
    super::bulk::upsert_findings(conn, account_id, &[sighting]).await
}

pub async fn upsert_alert(
    conn: &mut AnyConnection,
    account_id: i64,
    asset_id: Option<i64>,
    alert: &AlertIn,
    now: i64,
) -> Result<(), AppError> {
    let resolved_at = (!alert.status.is_open()).then_some(now.max(alert.occurred_at));
    sqlx::query(
        "INSERT INTO alerts (account_id, asset_id, external_id, name, alert_type, severity, status, occurred_at, resolved_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (account_id, external_id) DO UPDATE SET
            asset_id = excluded.asset_id, name = excluded.name, alert_type = excluded.alert_type,
            severity = excluded.severity, status = excluded.status, occurred_at = excluded.occurred_at,
            resolved_at = CASE WHEN excluded.resolved_at IS NULL THEN NULL
                               ELSE COALESCE(alerts.resolved_at, excluded.resolved_at) END",
    )
    .bind(account_id)
    .bind(asset_id)
    .bind(alert.external_id.as_deref().map(str::trim))
    .bind(alert.name.trim())
    .bind(alert.alert_type.trim())
    .bind(alert.severity.as_str())
    .bind(alert.status.as_str())
    .bind(alert.occurred_at)
    .bind(resolved_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a baseline check result. A passing check is never a risk; a failing one is open from
/// the first failure until it passes.
pub async fn upsert_baseline(
    conn: &mut AnyConnection,
    account_id: i64,
    asset_id: i64,
    result: &BaselineIn,
    checked_at: i64,
) -> Result<(), AppError> {
    let resolved_at = result.passed.then_some(checked_at);
    sqlx::query(
        "INSERT INTO baseline_results (account_id, asset_id, check_name, category, risk_level, passed, first_seen_at, checked_at, resolved_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)
         ON CONFLICT (asset_id, check_name) DO UPDATE SET
            category = excluded.category, risk_level = excluded.risk_level, passed = excluded.passed,
            checked_at = excluded.checked_at,
            first_seen_at = CASE WHEN excluded.passed = 0 AND baseline_results.passed = 1
                                 THEN excluded.first_seen_at ELSE baseline_results.first_seen_at END,
            resolved_at = CASE WHEN excluded.passed = 1
                               THEN COALESCE(baseline_results.resolved_at, excluded.resolved_at) ELSE NULL END",
    )
    .bind(account_id)
    .bind(asset_id)
    .bind(result.check_name.trim())
    .bind(result.category.trim())
    .bind(result.risk_level.as_str())
    .bind(i64::from(result.passed))
    .bind(checked_at)
    .bind(resolved_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_attack(
    conn: &mut AnyConnection,
    account_id: i64,
    asset_id: Option<i64>,
    attack: &AttackIn,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO attacks (account_id, asset_id, source_ip, target, attack_type, occurred_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(account_id)
    .bind(asset_id)
    .bind(attack.source_ip.trim())
    .bind(attack.target.trim())
    .bind(attack.attack_type.trim())
    .bind(attack.occurred_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The account's asset groups by name, each with how many assets it holds.
pub async fn groups(db: &Db, account_id: i64) -> Result<Vec<AssetGroup>, AppError> {
    Ok(sqlx::query_as::<_, (i64, String, i64)>(
        "SELECT g.id, g.name, COALESCE(c.total, 0) FROM asset_groups g
         LEFT JOIN asset_counters c ON c.account_id = g.account_id AND c.group_id = g.id
         WHERE g.account_id = $1 ORDER BY g.name",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|(id, name, asset_count)| AssetGroup { id, name, asset_count })
    .collect())
}

/// Records what an inventory matched on one asset: opens or refreshes its findings (source
/// `source`) and resolves that source's open findings the inventory no longer matches.
/// Returns the number of open findings from that source. Set-at-a-time (see `bulk`): the
/// catalogue read in one statement per 500 matches, the findings upserted likewise, and the
/// ones gone resolved by id, so an inventory of hundreds of matches is a handful of statements.
pub async fn record_matches(
    conn: &mut AnyConnection,
    account_id: i64,
    asset_id: i64,
    source: &str,
    matches: &[FoundVulnerability],
    now: i64,
) -> Result<i64, AppError> {
    let entries: Vec<VulnerabilityEntry<'_>> = matches
        .iter()
        .map(|found| VulnerabilityEntry {
            advisory_id: &found.advisory_id,
            package: &found.package,
            title: &found.title,
            severity: &found.severity,
            category: &found.category,
            affected_versions: &found.affected_versions,
            fix: &found.fix,
        })
        .collect();
    let ids = super::bulk::vulnerability_ids(&mut *conn, account_id, &entries).await?;
    // One finding per vulnerability: the first match of it counts.
    let mut seen = HashSet::new();
    let mut rows = Vec::with_capacity(matches.len());
    for found in matches {
        let vulnerability_id = ids.get(&(found.advisory_id.clone(), found.package.clone())).copied().ok_or(AppError::Internal)?;
        if seen.insert(vulnerability_id) {
            rows.push(super::bulk::Match { vulnerability_id, installed_version: &found.installed_version, fixed_version: &found.fixed_version });
        }
    }
    super::bulk::upsert_matches(&mut *conn, account_id, asset_id, source, &rows, now).await?;
    let open = sqlx::query_as::<_, (i64, i64)>(
        "SELECT id, vulnerability_id FROM findings WHERE asset_id = $1 AND source = $2 AND resolved_at IS NULL",
    )
    .bind(asset_id)
    .bind(source)
    .fetch_all(&mut *conn)
    .await?;
    let (still_open, gone): (Vec<_>, Vec<_>) = open.into_iter().partition(|(_, vulnerability_id)| seen.contains(vulnerability_id));
    let gone: Vec<i64> = gone.into_iter().map(|(finding_id, _)| finding_id).collect();
    super::bulk::resolve_findings(&mut *conn, &gone, now).await?;
    Ok(still_open.len() as i64)
}
