//! Set-at-a-time writes for the ingestion API's hot path: a batch of findings costs a few
//! statements per few hundred rows (asset ids resolved in one query, the vulnerability catalogue
//! read and brought up to date in one, the findings upserted many rows to a statement) instead
//! of three statements per row. The SQL is portable (`$n` binds, multi-row `VALUES`, `ON
//! CONFLICT`), so one path serves SQLite and PostgreSQL through the `Any` pool; the bind
//! markers are positional on SQLite (see `db::marker`), so every value is bound in the order
//! the text names it, once per marker.

use std::collections::HashMap;

use sqlx::AnyConnection;

use super::model::{FindingStatus, VulnerabilityEntry};
use crate::error::{AppError, FieldErrors};
use crate::server::db::{is_sqlite, marker, marker_list, marker_rows};

/// Rows per multi-row statement. SQLite accepts 32,766 binds per statement and PostgreSQL
/// 65,535; beyond a few hundred rows the statement's own cost stops shrinking.
const ROWS_PER_STATEMENT: usize = 500;
/// Names per `IN (…)` list when looking ids up.
const KEYS_PER_LOOKUP: usize = 900;

/// The ids of the account's assets named by `instance_ids` (trimmed), in one query per 900
/// names. `path(i)` names the field of the i-th entry for the error; every unknown name is
/// reported (up to 20), and nothing is returned then.
pub async fn asset_ids(
    conn: &mut AnyConnection,
    account_id: i64,
    instance_ids: &[Option<&str>],
    path: impl Fn(usize) -> String,
) -> Result<Vec<Option<i64>>, AppError> {
    let mut distinct: Vec<&str> = instance_ids.iter().flatten().map(|s| s.trim()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let mut known: HashMap<String, i64> = HashMap::with_capacity(distinct.len());
    let sqlite = is_sqlite(conn);
    for chunk in distinct.chunks(KEYS_PER_LOOKUP) {
        let names = marker_list(sqlite, 2, chunk.len());
        let sql = format!("SELECT instance_id, id FROM assets WHERE account_id = {} AND instance_id IN ({names})", marker(sqlite, 1));
        let mut query = sqlx::query_as::<_, (String, i64)>(&sql).bind(account_id);
        for name in chunk {
            query = query.bind(*name);
        }
        known.extend(query.fetch_all(&mut *conn).await?);
    }
    let mut errors = FieldErrors::new();
    let ids = instance_ids
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let name = (*name)?.trim();
            let id = known.get(name).copied();
            if id.is_none() && errors.len() < 20 {
                errors.insert(path(i), format!("no asset with instance id \"{name}\" in this account"));
            }
            id
        })
        .collect();
    AppError::check(errors)?;
    Ok(ids)
}

type CatalogueRow = (i64, String, String, String, String, String, String, String);

/// The catalogue ids of `entries` (advisory, package), creating the missing rows and bringing
/// changed ones up to date; unchanged rows are only read, not rewritten. When one key appears
/// several times the first entry's details count. Keys are returned trimmed.
pub async fn vulnerability_ids(
    conn: &mut AnyConnection,
    account_id: i64,
    entries: &[VulnerabilityEntry<'_>],
) -> Result<HashMap<(String, String), i64>, AppError> {
    let mut firsts: Vec<&VulnerabilityEntry<'_>> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for entry in entries {
        if seen.insert((entry.advisory_id, entry.package)) {
            firsts.push(entry);
        }
    }
    let mut ids = HashMap::with_capacity(firsts.len());
    let sqlite = is_sqlite(conn);
    for chunk in firsts.chunks(ROWS_PER_STATEMENT) {
        // What the catalogue holds now for these keys (the keys bound first, then the account).
        let keys = marker_rows(sqlite, 1, chunk.len(), 2);
        let sql = format!(
            "WITH k (advisory_id, package) AS (VALUES {keys})
             SELECT v.id, v.advisory_id, v.package, v.title, v.severity, v.category, v.affected_versions, v.fix
             FROM k JOIN vulnerabilities v
               ON v.account_id = {} AND v.advisory_id = k.advisory_id AND v.package = k.package",
            marker(sqlite, 1 + 2 * chunk.len())
        );
        let mut query = sqlx::query_as::<_, CatalogueRow>(&sql);
        for entry in chunk {
            query = query.bind(entry.advisory_id).bind(entry.package);
        }
        let query = query.bind(account_id);
        let mut current: HashMap<(String, String), CatalogueRow> = HashMap::new();
        for row in query.fetch_all(&mut *conn).await? {
            current.insert((row.1.clone(), row.2.clone()), row);
        }
        let mut stale = Vec::new();
        for entry in chunk {
            let key = (entry.advisory_id.to_string(), entry.package.to_string());
            match current.get(&key) {
                Some((id, _, _, title, severity, category, affected, fix))
                    if title == entry.title
                        && severity == entry.severity
                        && category == entry.category
                        && affected == entry.affected_versions
                        && fix == entry.fix =>
                {
                    ids.insert(key, *id);
                }
                _ => stale.push(*entry),
            }
        }
        if stale.is_empty() {
            continue;
        }
        for (id, advisory_id, package) in upsert_catalogue(conn, account_id, &stale).await? {
            ids.insert((advisory_id, package), id);
        }
    }
    Ok(ids)
}

/// Creates or brings up to date the catalogue rows of `entries` (distinct keys) in one
/// statement; each row's id with its key.
pub async fn upsert_catalogue(
    conn: &mut AnyConnection,
    account_id: i64,
    entries: &[&VulnerabilityEntry<'_>],
) -> Result<Vec<(i64, String, String)>, AppError> {
    let rows = marker_rows(is_sqlite(conn), 1, entries.len(), 8);
    let sql = format!(
        "INSERT INTO vulnerabilities (account_id, advisory_id, package, title, severity, category, affected_versions, fix)
         VALUES {rows}
         ON CONFLICT (account_id, advisory_id, package) DO UPDATE SET
            title = excluded.title, severity = excluded.severity, category = excluded.category,
            affected_versions = excluded.affected_versions, fix = excluded.fix
         RETURNING id, advisory_id, package"
    );
    let mut query = sqlx::query_as::<_, (i64, String, String)>(&sql);
    for v in entries {
        query = query
            .bind(account_id)
            .bind(v.advisory_id)
            .bind(v.package)
            .bind(v.title)
            .bind(v.severity)
            .bind(v.category)
            .bind(v.affected_versions)
            .bind(v.fix);
    }
    Ok(query.fetch_all(&mut *conn).await?)
}

/// One sighting of a vulnerability on an asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting<'a> {
    pub asset_id: i64,
    pub vulnerability_id: i64,
    pub status: FindingStatus,
    pub installed_version: &'a str,
    pub seen_at: i64,
}

/// Sightings of the same finding (asset, vulnerability) merged into one: the latest sighting
/// wins, and of two equally recent ones the later in the batch. Order of first appearance kept.
pub fn merge_sightings(sightings: Vec<Sighting<'_>>) -> Vec<Sighting<'_>> {
    let mut at: HashMap<(i64, i64), usize> = HashMap::with_capacity(sightings.len());
    let mut merged: Vec<Sighting<'_>> = Vec::with_capacity(sightings.len());
    for sighting in sightings {
        match at.get(&(sighting.asset_id, sighting.vulnerability_id)) {
            Some(&i) => {
                if sighting.seen_at >= merged[i].seen_at {
                    merged[i] = sighting;
                }
            }
            None => {
                at.insert((sighting.asset_id, sighting.vulnerability_id), merged.len());
                merged.push(sighting);
            }
        }
    }
    merged
}

/// What an upsert does with a sighting of a finding that exists: fixed and ignored findings
/// resolve; a resolved finding seen open again reopens with a new first-seen time.
const ON_SIGHTING: &str = "ON CONFLICT (asset_id, vulnerability_id) DO UPDATE SET
    status = excluded.status,
    installed_version = excluded.installed_version,
    last_seen_at = excluded.last_seen_at,
    first_seen_at = CASE WHEN findings.resolved_at IS NOT NULL AND excluded.resolved_at IS NULL
                         THEN excluded.first_seen_at ELSE findings.first_seen_at END,
    resolved_at = CASE WHEN excluded.resolved_at IS NULL THEN NULL
                       ELSE COALESCE(findings.resolved_at, excluded.resolved_at) END";

/// Records each sighting as `repo::upsert_finding` does (see `ON_SIGHTING`). The sightings must
/// be merged (one per finding): a statement may not upsert the same row twice.
///
/// SQLite: 500 rows to a statement with positional binds. PostgreSQL: the whole batch in one
/// statement over `json_to_recordset` of a single text parameter, the `Any` driver's stand-in for
/// an `UNNEST` of arrays (it binds no arrays): one small statement to parse and plan instead of
/// thousands of binds, and one run of the statement-level counter triggers per batch.
pub async fn upsert_findings(conn: &mut AnyConnection, account_id: i64, sightings: &[Sighting<'_>]) -> Result<(), AppError> {
    if sightings.is_empty() {
        return Ok(());
    }
    let resolved_at = |s: &Sighting<'_>| (!s.status.is_open()).then_some(s.seen_at);
    if !is_sqlite(conn) {
        let rows: Vec<serde_json::Value> = sightings
            .iter()
            .map(|s| {
                serde_json::json!({
                    "a": s.asset_id, "v": s.vulnerability_id, "s": s.status.as_str(),
                    "i": s.installed_version.trim(), "t": s.seen_at, "r": resolved_at(s)
                })
            })
            .collect();
        let sql = format!(
            "INSERT INTO findings (account_id, asset_id, vulnerability_id, status, installed_version, first_seen_at, last_seen_at, resolved_at)
             SELECT $1, r.a, r.v, r.s, r.i, r.t, r.t, r.r
             FROM json_to_recordset(CAST($2 AS json)) AS r (a BIGINT, v BIGINT, s TEXT, i TEXT, t BIGINT, r BIGINT)
             {ON_SIGHTING}"
        );
        sqlx::query(&sql).bind(account_id).bind(serde_json::Value::Array(rows).to_string()).execute(&mut *conn).await?;
        return Ok(());
    }
    for chunk in sightings.chunks(ROWS_PER_STATEMENT) {
        let rows = marker_rows(true, 1, chunk.len(), 8);
        let sql = format!(
            "INSERT INTO findings (account_id, asset_id, vulnerability_id, status, installed_version, first_seen_at, last_seen_at, resolved_at)
             VALUES {rows} {ON_SIGHTING}"
        );
        let mut query = sqlx::query(&sql);
        for s in chunk {
            query = query
                .bind(account_id)
                .bind(s.asset_id)
                .bind(s.vulnerability_id)
                .bind(s.status.as_str())
                .bind(s.installed_version.trim())
                .bind(s.seen_at)
                .bind(s.seen_at)
                .bind(resolved_at(s));
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A vulnerability an inventory (an agent's or an image scan's) matched on one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match<'a> {
    pub vulnerability_id: i64,
    pub installed_version: &'a str,
    pub fixed_version: &'a str,
}

/// What an upsert does with a match of a finding that exists: an ignored finding stays ignored
/// (and resolved as it was); an open one being fixed keeps its fixing state; anything else is
/// unfixed and open, and a resolved finding matched again reopens with a new first-seen time.
const ON_MATCH: &str = "ON CONFLICT (asset_id, vulnerability_id) DO UPDATE SET
    installed_version = excluded.installed_version,
    fixed_version = excluded.fixed_version,
    source = excluded.source,
    last_seen_at = excluded.last_seen_at,
    status = CASE WHEN findings.status = 'ignored' THEN 'ignored'
                  WHEN findings.resolved_at IS NULL AND findings.status IN ('fixing', 'fix_failed') THEN findings.status
                  ELSE 'unfixed' END,
    first_seen_at = CASE WHEN findings.resolved_at IS NOT NULL AND findings.status <> 'ignored'
                         THEN excluded.first_seen_at ELSE findings.first_seen_at END,
    resolved_at = CASE WHEN findings.status = 'ignored' THEN findings.resolved_at ELSE NULL END";

/// Records the matches (one per vulnerability) of one asset as seen `now` from `source` (see
/// `ON_MATCH`). PostgreSQL: one statement over `json_to_recordset`, as `upsert_findings`;
/// SQLite: 500 rows to a statement.
pub async fn upsert_matches(
    conn: &mut AnyConnection,
    account_id: i64,
    asset_id: i64,
    source: &str,
    matches: &[Match<'_>],
    now: i64,
) -> Result<(), AppError> {
    if matches.is_empty() {
        return Ok(());
    }
    if !is_sqlite(conn) {
        let rows: Vec<serde_json::Value> = matches
            .iter()
            .map(|m| serde_json::json!({"v": m.vulnerability_id, "i": m.installed_version, "f": m.fixed_version}))
            .collect();
        let sql = format!(
            "INSERT INTO findings (account_id, asset_id, vulnerability_id, status, installed_version, fixed_version, source,
                                   first_seen_at, last_seen_at, resolved_at)
             SELECT $1, $2, r.v, 'unfixed', r.i, r.f, $3, $4, $4, NULL
             FROM json_to_recordset(CAST($5 AS json)) AS r (v BIGINT, i TEXT, f TEXT)
             {ON_MATCH}"
        );
        sqlx::query(&sql)
            .bind(account_id)
            .bind(asset_id)
            .bind(source)
            .bind(now)
            .bind(serde_json::Value::Array(rows).to_string())
            .execute(&mut *conn)
            .await?;
        return Ok(());
    }
    for chunk in matches.chunks(ROWS_PER_STATEMENT) {
        let rows = (0..chunk.len()).map(|_| "(?, ?, ?, 'unfixed', ?, ?, ?, ?, ?, NULL)").collect::<Vec<_>>().join(", ");
        let sql = format!(
            "INSERT INTO findings (account_id, asset_id, vulnerability_id, status, installed_version, fixed_version, source,
                                   first_seen_at, last_seen_at, resolved_at)
             VALUES {rows} {ON_MATCH}"
        );
        let mut query = sqlx::query(&sql);
        for m in chunk {
            query = query
                .bind(account_id)
                .bind(asset_id)
                .bind(m.vulnerability_id)
                .bind(m.installed_version)
                .bind(m.fixed_version)
                .bind(source)
                .bind(now)
                .bind(now);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Marks the findings `ids` fixed at `now`, 900 to a statement.
pub async fn resolve_findings(conn: &mut AnyConnection, ids: &[i64], now: i64) -> Result<(), AppError> {
    let sqlite = is_sqlite(conn);
    for chunk in ids.chunks(KEYS_PER_LOOKUP) {
        let sql = format!(
            "UPDATE findings SET status = 'fixed', resolved_at = {now_marker}, last_seen_at = {now_marker} WHERE id IN ({ids})",
            now_marker = marker(sqlite, 1),
            ids = marker_list(sqlite, 2, chunk.len())
        );
        let mut query = sqlx::query(&sql).bind(now);
        if sqlite {
            // Positional markers: the text names `now` twice.
            query = query.bind(now);
        }
        for id in chunk {
            query = query.bind(*id);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sighting(asset_id: i64, vulnerability_id: i64, status: FindingStatus, seen_at: i64) -> Sighting<'static> {
        Sighting { asset_id, vulnerability_id, status, installed_version: "1.0", seen_at }
    }

    #[test]
    fn duplicate_sightings_merge_to_the_latest() {
        let merged = merge_sightings(vec![
            sighting(1, 7, FindingStatus::Unfixed, 100),
            sighting(2, 7, FindingStatus::Unfixed, 100),
            sighting(1, 7, FindingStatus::Fixed, 300),
            sighting(1, 7, FindingStatus::Unfixed, 200),
            sighting(2, 7, FindingStatus::Fixed, 100),
        ]);
        assert_eq!(merged, vec![sighting(1, 7, FindingStatus::Fixed, 300), sighting(2, 7, FindingStatus::Fixed, 100)]);
    }
}
