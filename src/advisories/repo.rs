//! Advisories in the database, and matching an asset's inventory against them: findings open
//! for every installed package inside an affected range and close when a later inventory no
//! longer matches.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

pub use super::index::MatchedVulnerability;
use super::index::{AdvisoryCache, AdvisoryIndex, Row};
use super::model::{AdvisoryStats, ImportProblem, ImportRecord, ImportReport};
use super::archive::Loaded;
use super::osv::{Advisory, Affected, Event};
use super::version::VersionScheme;
use crate::agent::host::Package;
use crate::error::AppError;
use crate::server::db::{is_sqlite, marker, marker_list, marker_rows, placeholders, Db};

/// The scope of the advisories every account matches against (the CLI imports there).
pub const FEED: i64 = 0;

/// Rows per `IN (…)` list or multi-row statement: well under SQLite's and PostgreSQL's bind limits.
const CHUNK: usize = 500;
/// Advisories an import writes per transaction on SQLite, and per statement on PostgreSQL.
const ADVISORIES_PER_TRANSACTION: usize = 5_000;

/// An advisory's affected ranges as stored: enough to rebuild [`Affected`] for matching.
#[derive(Serialize, Deserialize)]
struct StoredAffected {
    events: Vec<(String, String)>,
    /// Which slice of `events` each OSV range covers (ranges are evaluated one by one).
    #[serde(default)]
    ranges: Vec<(usize, usize)>,
    versions: Vec<String>,
}

impl StoredAffected {
    fn from_affected(affected: &Affected) -> StoredAffected {
        let events = affected
            .events
            .iter()
            .map(|event| match event {
                Event::Introduced(v) => ("introduced".to_string(), v.clone()),
                Event::Fixed(v) => ("fixed".to_string(), v.clone()),
                Event::LastAffected(v) => ("last_affected".to_string(), v.clone()),
                Event::Limit(v) => ("limit".to_string(), v.clone()),
            })
            .collect();
        let ranges = affected.ranges.iter().map(|r| (r.start, r.end)).collect();
        StoredAffected { events, ranges, versions: affected.versions.clone() }
    }

    fn into_affected(self, ecosystem: String, package: String) -> Option<Affected> {
        let scheme = Some(VersionScheme::for_ecosystem(&ecosystem)?);
        let events: Vec<Event> = self
            .events
            .into_iter()
            .filter_map(|(kind, version)| match kind.as_str() {
                "introduced" => Some(Event::Introduced(version)),
                "fixed" => Some(Event::Fixed(version)),
                "last_affected" => Some(Event::LastAffected(version)),
                "limit" => Some(Event::Limit(version)),
                _ => None,
            })
            .collect();
        let ranges = self.ranges.into_iter().filter(|(start, end)| start <= end && *end <= events.len()).map(|(start, end)| start..end).collect();
        Some(Affected { ecosystem, package, scheme, events, ranges, versions: self.versions })
    }
}

/// Writes every advisory that parsed (on SQLite in chunks of 5,000 a transaction, on PostgreSQL
/// in one); the ones that did not are reported by name. Re-importing an advisory replaces it
/// (same scope and id), so nothing is duplicated. Runs on the background thread
/// (`server::background`), at a lower CPU priority than the requests answered meanwhile.
pub async fn import(db: &Db, scope: i64, actor: &str, source_name: &str, loaded: Vec<Loaded>, now: i64) -> Result<ImportReport, AppError> {
    let (actor, source_name) = (actor.to_string(), source_name.to_string());
    crate::server::background::run(db, move |db| async move { import_here(&db, scope, &actor, &source_name, loaded, now).await }).await
}

async fn import_here(db: &Db, scope: i64, actor: &str, source_name: &str, loaded: Vec<Loaded>, now: i64) -> Result<ImportReport, AppError> {
    let mut report = ImportReport::default();
    let mut advisories = Vec::new();
    for item in loaded {
        match item.result {
            Ok(advisory) => advisories.push(advisory),
            Err(message) => report.skipped.push(ImportProblem { name: item.name, message }),
        }
    }
    // An id met twice in one upload: the later one stands, the earlier counts as an update of it.
    let mut last: HashMap<&str, usize> = HashMap::with_capacity(advisories.len());
    for (i, advisory) in advisories.iter().enumerate() {
        last.insert(advisory.id.as_str(), i);
    }
    report.updated += (advisories.len() - last.len()) as i64;
    let distinct: Vec<&Advisory> = advisories.iter().enumerate().filter(|(i, a)| last[a.id.as_str()] == *i).map(|(_, a)| a).collect();
    // On SQLite, one transaction per chunk: SQLite has one writer at a time, and the others wait
    // for a chunk at most, not for the whole upload. A failed import there leaves the chunks
    // before it written; importing the same file again completes it (each advisory's rows are
    // replaced whole). PostgreSQL locks rows, so other writers do not wait on an import at all:
    // there the whole import is one transaction, written whole or not at all.
    let sqlite = db.kind == crate::server::db::DbKind::Sqlite;
    let mut tx = db.begin_write().await?;
    for (n, chunk) in distinct.chunks(ADVISORIES_PER_TRANSACTION).enumerate() {
        if sqlite && n > 0 {
            tx.commit().await?;
            tx = db.begin_write().await?;
        }
        // PostgreSQL takes a whole chunk in a few statements of one JSON parameter each
        // (`write_advisories_pg`): binds by the thousand plan slowly there (500 advisories to a
        // statement took 61 s for 100,000 of them, against 22 s one at a time).
        let per_statement = if sqlite { CHUNK } else { ADVISORIES_PER_TRANSACTION };
        for part in chunk.chunks(per_statement) {
            let imported = write_advisories(&mut tx, scope, part, now).await?;
            report.imported += imported as i64;
            report.updated += (part.len() - imported) as i64;
        }
    }
    record_import(&mut tx, scope, actor, source_name, &report, None, now).await?;
    // Every console's index of advisories is behind from this commit on.
    sqlx::query("UPDATE advisory_state SET version = version + 1 WHERE id = 1").execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(report)
}

/// Records an upload that could not be read at all (not a zip, not JSON).
pub async fn record_failed_import(db: &Db, scope: i64, actor: &str, source_name: &str, error: &str, now: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    record_import(&mut tx, scope, actor, source_name, &ImportReport::default(), Some(error), now).await?;
    tx.commit().await?;
    Ok(())
}

async fn record_import(
    conn: &mut AnyConnection,
    scope: i64,
    actor: &str,
    source_name: &str,
    report: &ImportReport,
    error: Option<&str>,
    now: i64,
) -> Result<(), AppError> {
    // The list of skipped files is kept short: the count says how many there were.
    let skipped: Vec<&ImportProblem> = report.skipped.iter().take(100).collect();
    sqlx::query(
        "INSERT INTO advisory_imports (scope, actor, source_name, imported, updated, skipped, error, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(scope)
    .bind(actor)
    .bind(source_name.chars().take(200).collect::<String>())
    .bind(report.imported)
    .bind(report.updated)
    .bind(serde_json::json!({ "count": report.skipped.len(), "first": skipped }).to_string())
    .bind(error)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The latest imports an account sees: the feed's and its own.
pub async fn recent_imports(db: &Db, account_id: i64, limit: i64) -> Result<Vec<ImportRecord>, AppError> {
    let rows = sqlx::query_as::<_, (i64, i64, String, String, i64, i64, String, Option<String>, i64)>(
        "SELECT id, scope, actor, source_name, imported, updated, skipped, error, at FROM advisory_imports
         WHERE scope IN ($1, $2) ORDER BY at DESC, id DESC LIMIT $3",
    )
    .bind(FEED)
    .bind(account_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, scope, actor, source_name, imported, updated, skipped, error, at)| {
            #[derive(Deserialize, Default)]
            struct Skipped {
                count: i64,
                first: Vec<ImportProblem>,
            }
            let skipped: Skipped = serde_json::from_str(&skipped).unwrap_or_default();
            ImportRecord {
                id,
                feed: scope == FEED,
                actor,
                source_name,
                imported,
                updated,
                skipped_count: skipped.count,
                skipped: skipped.first,
                error,
                at,
            }
        })
        .collect())
}

/// Writes advisories of distinct ids (up to [`CHUNK`] on SQLite), a few statements for all of them: the ids
/// already stored are read, every advisory is upserted, the stored ones' package rows dropped,
/// and every package row inserted. How many were new.
async fn write_advisories(conn: &mut AnyConnection, scope: i64, advisories: &[&Advisory], now: i64) -> Result<usize, AppError> {
    let sqlite = is_sqlite(conn);
    if !sqlite {
        return write_advisories_pg(conn, scope, advisories, now).await;
    }
    let sql = format!(
        "SELECT osv_id FROM advisories WHERE scope = {} AND osv_id IN ({})",
        marker(sqlite, 1),
        marker_list(sqlite, 2, advisories.len())
    );
    let mut query = sqlx::query_scalar::<_, String>(&sql).bind(scope);
    for advisory in advisories {
        query = query.bind(&advisory.id);
    }
    let existing: HashSet<String> = query.fetch_all(&mut *conn).await?.into_iter().collect();

    let sql = format!(
        "INSERT INTO advisories (scope, osv_id, modified, summary, severity, aliases, withdrawn, imported_at) VALUES {}
         ON CONFLICT (scope, osv_id) DO UPDATE SET modified = excluded.modified, summary = excluded.summary,
            severity = excluded.severity, aliases = excluded.aliases, withdrawn = excluded.withdrawn, imported_at = excluded.imported_at
         RETURNING id, osv_id",
        marker_rows(sqlite, 1, advisories.len(), 8)
    );
    let mut query = sqlx::query_as::<_, (i64, String)>(&sql);
    for advisory in advisories {
        query = query
            .bind(scope)
            .bind(&advisory.id)
            .bind(advisory.modified)
            .bind(&advisory.summary)
            .bind(advisory.severity)
            .bind(advisory.aliases.join(","))
            .bind(i64::from(advisory.withdrawn))
            .bind(now);
    }
    let ids: HashMap<String, i64> = query.fetch_all(&mut *conn).await?.into_iter().map(|(id, osv_id)| (osv_id, id)).collect();

    let replaced: Vec<i64> = existing.iter().filter_map(|osv_id| ids.get(osv_id).copied()).collect();
    if !replaced.is_empty() {
        let sql = format!(
            "DELETE FROM advisory_packages WHERE advisory_id IN ({})",
            marker_list(sqlite, 1, replaced.len())
        );
        let mut query = sqlx::query(&sql);
        for id in &replaced {
            query = query.bind(id);
        }
        query.execute(&mut *conn).await?;
    }

    let mut rows: Vec<(i64, &str, &str, String)> = Vec::new();
    for advisory in advisories {
        let id = *ids.get(&advisory.id).ok_or(AppError::Internal)?;
        for affected in &advisory.affected {
            let stored = serde_json::to_string(&StoredAffected::from_affected(affected)).map_err(|_| AppError::Internal)?;
            rows.push((id, &affected.ecosystem, &affected.package, stored));
        }
    }
    for part in rows.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO advisory_packages (advisory_id, ecosystem, package, affected) VALUES {}",
            marker_rows(sqlite, 1, part.len(), 4)
        );
        let mut query = sqlx::query(&sql);
        for (id, ecosystem, package, stored) in part {
            query = query.bind(id).bind(*ecosystem).bind(*package).bind(stored);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(advisories.len() - existing.len())
}

/// [`write_advisories`] on PostgreSQL: the same four steps, each statement taking all its rows as
/// one JSON text parameter (`json_to_recordset`, the `Any` driver's stand-in for arrays, as
/// `assets::bulk` does for findings), so thousands of advisories are four small statements to
/// plan.
async fn write_advisories_pg(conn: &mut AnyConnection, scope: i64, advisories: &[&Advisory], now: i64) -> Result<usize, AppError> {
    use serde_json::{json, Value};
    let osv_ids: Vec<&str> = advisories.iter().map(|a| a.id.as_str()).collect();
    let existing: HashSet<String> = sqlx::query_scalar::<_, String>(
        "SELECT osv_id FROM advisories WHERE scope = $1 AND osv_id IN (SELECT json_array_elements_text(CAST($2 AS json)))",
    )
    .bind(scope)
    .bind(json!(osv_ids).to_string())
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();

    let rows: Vec<Value> = advisories
        .iter()
        .map(|a| json!({ "o": a.id, "m": a.modified, "s": a.summary, "v": a.severity, "a": a.aliases.join(","), "w": i64::from(a.withdrawn) }))
        .collect();
    let ids: HashMap<String, i64> = sqlx::query_as::<_, (i64, String)>(
        "INSERT INTO advisories (scope, osv_id, modified, summary, severity, aliases, withdrawn, imported_at)
         SELECT $1, r.o, r.m, r.s, r.v, r.a, r.w, $2
         FROM json_to_recordset(CAST($3 AS json)) AS r (o TEXT, m BIGINT, s TEXT, v TEXT, a TEXT, w BIGINT)
         ON CONFLICT (scope, osv_id) DO UPDATE SET modified = excluded.modified, summary = excluded.summary,
            severity = excluded.severity, aliases = excluded.aliases, withdrawn = excluded.withdrawn, imported_at = excluded.imported_at
         RETURNING id, osv_id",
    )
    .bind(scope)
    .bind(now)
    .bind(Value::Array(rows).to_string())
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(id, osv_id)| (osv_id, id))
    .collect();

    let replaced: Vec<i64> = existing.iter().filter_map(|osv_id| ids.get(osv_id).copied()).collect();
    if !replaced.is_empty() {
        sqlx::query("DELETE FROM advisory_packages WHERE advisory_id IN (SELECT CAST(json_array_elements_text(CAST($1 AS json)) AS BIGINT))")
            .bind(json!(replaced).to_string())
            .execute(&mut *conn)
            .await?;
    }

    let mut rows: Vec<Value> = Vec::new();
    for advisory in advisories {
        let id = *ids.get(&advisory.id).ok_or(AppError::Internal)?;
        for affected in &advisory.affected {
            let stored = serde_json::to_string(&StoredAffected::from_affected(affected)).map_err(|_| AppError::Internal)?;
            rows.push(json!({ "i": id, "e": affected.ecosystem, "p": affected.package, "f": stored }));
        }
    }
    for part in rows.chunks(PG_PACKAGE_ROWS) {
        sqlx::query(
            "INSERT INTO advisory_packages (advisory_id, ecosystem, package, affected)
             SELECT r.i, r.e, r.p, r.f FROM json_to_recordset(CAST($1 AS json)) AS r (i BIGINT, e TEXT, p TEXT, f TEXT)",
        )
        .bind(Value::Array(part.to_vec()).to_string())
        .execute(&mut *conn)
        .await?;
    }
    Ok(advisories.len() - existing.len())
}

/// Package rows to one statement on PostgreSQL (a few MB of JSON).
const PG_PACKAGE_ROWS: usize = 10_000;

/// How many advisories an account sees: the feed's and its own.
pub async fn stats(db: &Db, account_id: i64) -> Result<AdvisoryStats, AppError> {
    let (feed, feed_at) = sqlx::query_as::<_, (i64, Option<i64>)>("SELECT COUNT(*), MAX(imported_at) FROM advisories WHERE scope = $1")
        .bind(FEED)
        .fetch_one(&db.pool)
        .await?;
    let (own, own_at) = sqlx::query_as::<_, (i64, Option<i64>)>("SELECT COUNT(*), MAX(imported_at) FROM advisories WHERE scope = $1")
        .bind(account_id)
        .fetch_one(&db.pool)
        .await?;
    let ecosystems = sqlx::query_as::<_, (String, i64)>(
        "SELECT p.ecosystem, COUNT(DISTINCT p.advisory_id) FROM advisory_packages p JOIN advisories a ON a.id = p.advisory_id
         WHERE a.scope IN ($1, $2) GROUP BY p.ecosystem ORDER BY p.ecosystem",
    )
    .bind(FEED)
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(AdvisoryStats { feed, own, last_import_at: feed_at.max(own_at), ecosystems })
}

/// The OSV ecosystems an OS release belongs to, most specific first: advisories name either a
/// release ("Debian:12", "Ubuntu:22.04:LTS", "Alpine:v3.18", "Rocky Linux:9") or none ("Debian").
pub fn ecosystems_for(os_id: &str, version_id: &str) -> Vec<String> {
    let major = version_id.split('.').next().unwrap_or_default();
    let major_minor: String = version_id.split('.').take(2).collect::<Vec<_>>().join(".");
    match os_id {
        "debian" if !major.is_empty() => vec![format!("Debian:{major}"), "Debian".into()],
        "debian" => vec!["Debian".into()],
        "ubuntu" => vec![
            format!("Ubuntu:{major_minor}:LTS"),
            format!("Ubuntu:{major_minor}"),
            format!("Ubuntu:Pro:{major_minor}:LTS"),
            "Ubuntu".into(),
        ],
        "alpine" => vec![format!("Alpine:v{major_minor}"), "Alpine".into()],
        "rocky" => vec![format!("Rocky Linux:{major}"), "Rocky Linux".into()],
        "almalinux" => vec![format!("AlmaLinux:{major}"), "AlmaLinux".into()],
        "rhel" => vec![format!("Red Hat:enterprise_linux:{major}"), "Red Hat".into()],
        _ => Vec::new(),
    }
}

/// Matches packages against the advisories an account sees, for one set of ecosystems, in
/// memory (see [`index`]).
pub async fn match_packages(db: &Db, account_id: i64, ecosystems: &[String], packages: &[Package]) -> Result<Vec<MatchedVulnerability>, AppError> {
    if ecosystems.is_empty() || packages.is_empty() {
        return Ok(Vec::new());
    }
    Ok(index(db).await?.match_packages(FEED, account_id, ecosystems, packages))
}

/// The advisories' version: moved on by every import, in its transaction.
async fn version(conn: &mut AnyConnection) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar::<_, i64>("SELECT version FROM advisory_state WHERE id = 1").fetch_one(conn).await?)
}

/// Rows read per statement while building the index.
const BUILD_PAGE: i64 = 20_000;

/// The in-memory index of every advisory as the database holds them now: the one this console
/// already has when the advisories' version has not moved (one small read), else a new one,
/// built by one request while the others wait for it. Every replica reads the version, so an
/// import on one is matched on all from their next inventory on.
pub async fn index(db: &Db) -> Result<Arc<AdvisoryIndex>, AppError> {
    let cache = db.shared::<AdvisoryCache>();
    let mut conn = db.pool.acquire().await?;
    if let Some(index) = cache.at(version(&mut conn).await?) {
        return Ok(index);
    }
    drop(conn);
    let _one_at_a_time = cache.rebuilding.lock().await;
    // The version and the rows from one snapshot.
    let mut read = db.pool.begin().await?;
    if db.kind == crate::server::db::DbKind::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(&mut *read).await?;
    }
    let current = version(&mut read).await?;
    if let Some(index) = cache.at(current) {
        return Ok(index);
    }
    let started = std::time::Instant::now();
    let mut rows = Vec::new();
    let mut after = 0_i64;
    loop {
        let page = sqlx::query_as::<_, (i64, i64, String, String, String, String, String, String)>(
            "SELECT p.id, a.scope, a.osv_id, a.summary, a.severity, p.ecosystem, p.package, p.affected
             FROM advisory_packages p JOIN advisories a ON a.id = p.advisory_id
             WHERE p.id > $1 AND a.withdrawn = 0 ORDER BY p.id LIMIT $2",
        )
        .bind(after)
        .bind(BUILD_PAGE)
        .fetch_all(&mut *read)
        .await?;
        let Some(last) = page.last() else { break };
        after = last.0;
        let full = page.len() as i64 == BUILD_PAGE;
        for (_, scope, osv_id, summary, severity, ecosystem, package, stored) in page {
            let Ok(stored) = serde_json::from_str::<StoredAffected>(&stored) else { continue };
            let Some(affected) = stored.into_affected(ecosystem, package) else { continue };
            rows.push(Row { scope, osv_id: osv_id.into(), summary: summary.into(), severity: severity.into(), affected });
        }
        if !full {
            break;
        }
    }
    read.rollback().await?;
    let index = Arc::new(AdvisoryIndex::build(current, rows));
    tracing::info!(version = current, entries = index.len(), took_ms = started.elapsed().as_millis() as u64, "advisory index built");
    cache.replace(index.clone());
    Ok(index)
}

/// A vulnerability found on an asset by a scanner of ours (agent matching or a Trivy report),
/// ready to be written as a vulnerability and a finding.
#[derive(Debug, Clone)]
pub struct FoundVulnerability {
    pub advisory_id: String,
    pub package: String,
    pub title: String,
    pub severity: String,
    pub category: String,
    pub affected_versions: String,
    pub fix: String,
    pub installed_version: String,
    pub fixed_version: String,
}

impl From<MatchedVulnerability> for FoundVulnerability {
    fn from(m: MatchedVulnerability) -> Self {
        let fix = match &m.fixed_version {
            Some(v) => format!("Upgrade {} to {v} or later.", m.package),
            None => "No fixed version published yet.".to_string(),
        };
        FoundVulnerability {
            advisory_id: m.osv_id,
            package: m.package,
            title: m.summary,
            severity: m.severity,
            category: "linux".into(),
            affected_versions: m.ranges,
            fix,
            installed_version: m.installed_version,
            fixed_version: m.fixed_version.unwrap_or_default(),
        }
    }
}

/// An asset's open findings that name a fixed version: what "Fix all" upgrades.
pub async fn fixable_findings(db: &Db, account_id: i64, asset_id: i64) -> Result<Vec<i64>, AppError> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT id FROM findings WHERE account_id = $1 AND asset_id = $2 AND resolved_at IS NULL AND fixed_version <> ''",
    )
    .bind(account_id)
    .bind(asset_id)
    .fetch_all(&db.pool)
    .await?)
}

/// The installed packages that carry the fix for some of an asset's findings: the binary
/// packages named by, or built from, each finding's package. Fix jobs upgrade these.
pub async fn fix_packages(db: &Db, account_id: i64, asset_id: i64, finding_ids: &[i64]) -> Result<Vec<String>, AppError> {
    let mut wanted = HashSet::new();
    for chunk in finding_ids.chunks(CHUNK) {
        let sql = format!(
            "SELECT v.package FROM findings f JOIN vulnerabilities v ON v.id = f.vulnerability_id
             WHERE f.account_id = $1 AND f.asset_id = $2 AND f.resolved_at IS NULL AND f.id IN ({})",
            placeholders(3, chunk.len())
        );
        let mut query = sqlx::query_scalar::<_, String>(&sql).bind(account_id).bind(asset_id);
        for id in chunk {
            query = query.bind(*id);
        }
        wanted.extend(query.fetch_all(&db.pool).await?);
    }
    let packages = inventory_packages(db, asset_id).await?;
    let mut names: Vec<String> = packages
        .into_iter()
        .filter(|p| wanted.contains(&p.name) || p.source.as_ref().is_some_and(|s| wanted.contains(s)))
        .map(|p| p.name)
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// The packages of an asset's last inventory (empty without one).
pub async fn inventory_packages(db: &Db, asset_id: i64) -> Result<Vec<Package>, AppError> {
    let json = sqlx::query_scalar::<_, String>("SELECT packages FROM asset_inventories WHERE asset_id = $1")
        .bind(asset_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default())
}
