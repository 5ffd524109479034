//! Risk counts as of a moment, score weights, and the daily score history.

use std::collections::HashMap;

use super::score::{security_score, RiskCounts, ScoreWeights};
use crate::error::AppError;
use crate::server::db::{placeholders, Db};

/// The changes after a past moment `t` to the findings that are open, as rows (key, n) to add
/// to the open counters now: open at `t` = open now − Σ (opened − closed) over the UTC days
/// after t's day (`finding_days`), − the findings first seen later on t's own day and still open
/// at its end, + those seen by `t` and resolved later that day. The cost follows the days since
/// `t` (and, when `t` is not the last second of a UTC day, the findings of that day), not how
/// many findings the account holds. `key` is what rows are grouped by, over `v` (the
/// vulnerability: `v.severity`, `v.id`); `$1` the account, `$2` = t. The unary `+` keeps SQLite
/// on the day's index rather than the account's every open finding.
pub fn open_at_changes(key: &str, t: i64) -> String {
    format!(
        "SELECT {key}, CAST(-SUM(d.opened - d.closed) AS BIGINT) FROM finding_days d JOIN vulnerabilities v ON v.id = d.vulnerability_id
         WHERE d.account_id = $1 AND d.day > CAST($2 AS BIGINT) / 86400 GROUP BY {key}{}",
        open_at_rest_of_day(key, t)
    )
}

/// The rows to add to the findings open at the end of t's UTC day to have those open at `t`
/// (`$2`): `UNION ALL` parts, empty when `t` is that day's last second. See `open_at_changes`.
pub fn open_at_rest_of_day(key: &str, t: i64) -> String {
    if (t + 1).rem_euclid(86_400) == 0 {
        return String::new();
    }
    format!(
        "
         UNION ALL
         SELECT {key}, -COUNT(*) FROM findings f JOIN vulnerabilities v ON v.id = f.vulnerability_id
         WHERE f.account_id = $1 AND f.first_seen_at / 86400 = CAST($2 AS BIGINT) / 86400 AND f.first_seen_at > $2
           AND (+f.resolved_at IS NULL OR +f.resolved_at >= (CAST($2 AS BIGINT) / 86400 + 1) * 86400) GROUP BY {key}
         UNION ALL
         SELECT {key}, COUNT(*) FROM findings f JOIN vulnerabilities v ON v.id = f.vulnerability_id
         WHERE f.account_id = $1 AND f.resolved_at > $2 AND f.resolved_at < (CAST($2 AS BIGINT) / 86400 + 1) * 86400
           AND +f.first_seen_at <= $2 GROUP BY {key}"
    )
}

/// Findings open at a past moment `t` (bound as `$2`), one row per (kind, severity, n) to sum:
/// the counters now and the changes since (`open_at_changes`).
pub fn findings_open_at(t: i64) -> String {
    format!(
        "SELECT 'vulnerability', severity, CAST(SUM(open_count) AS BIGINT) FROM risk_counters
         WHERE account_id = $1 AND kind = 'vulnerability' GROUP BY severity
         UNION ALL
         SELECT 'vulnerability', changes.* FROM ({}) changes",
        open_at_changes("v.severity", t)
    )
}

/// Open risks at time `as_of`: each finding, alert and failed baseline check is open from its
/// first sighting until it is resolved. (Now, the counters answer: `counters::open_risks`.)
pub async fn risk_counts(db: &Db, account_id: i64, as_of: i64) -> Result<RiskCounts, AppError> {
    let rows = sqlx::query_as::<_, (String, String, i64)>(&format!(
        "{}
         UNION ALL
         SELECT 'alert', severity, COUNT(*) FROM alerts
         WHERE account_id = $1 AND occurred_at <= $2 AND (resolved_at IS NULL OR resolved_at > $2) GROUP BY severity
         UNION ALL
         SELECT 'baseline', risk_level, COUNT(*) FROM baseline_results
         WHERE account_id = $1 AND first_seen_at <= $2 AND (resolved_at IS NULL OR resolved_at > $2) GROUP BY risk_level",
        findings_open_at(as_of)
    ))
    .bind(account_id)
    .bind(as_of)
    .fetch_all(&db.pool)
    .await?;
    let mut counts = RiskCounts::default();
    for (kind, severity, n) in rows {
        super::counters::add_counted(&mut counts, &kind, &severity, n);
    }
    Ok(counts)
}

pub async fn weights(db: &Db, account_id: i64) -> Result<ScoreWeights, AppError> {
    let stored = sqlx::query_scalar::<_, Option<String>>("SELECT score_weights FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(&db.pool)
        .await?;
    Ok(stored.and_then(|json| serde_json::from_str(&json).ok()).unwrap_or_default())
}

/// The account's score now, from its counters.
pub async fn score_now(db: &Db, account_id: i64) -> Result<i64, AppError> {
    let (counts, _) = super::counters::open_risks(db, account_id).await?;
    Ok(security_score(&counts, &weights(db, account_id).await?))
}

pub async fn score_as_of(db: &Db, account_id: i64, as_of: i64) -> Result<i64, AppError> {
    let counts = risk_counts(db, account_id, as_of).await?;
    Ok(security_score(&counts, &weights(db, account_id).await?))
}

/// Records the account's score for the UTC day of `at` (the day's last record wins).
pub async fn record_score(db: &Db, account_id: i64, at: i64, score: i64) -> Result<(), AppError> {
    let day = day_of(at);
    sqlx::query(
        "INSERT INTO score_history (account_id, day, score) VALUES ($1, $2, $3)
         ON CONFLICT (account_id, day) DO UPDATE SET score = excluded.score",
    )
    .bind(account_id)
    .bind(day)
    .bind(score)
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub async fn score_history(db: &Db, account_id: i64, since_day: &str) -> Result<Vec<(String, i64)>, AppError> {
    Ok(sqlx::query_as::<_, (String, i64)>(
        "SELECT day, score FROM score_history WHERE account_id = $1 AND day >= $2 ORDER BY day",
    )
    .bind(account_id)
    .bind(since_day)
    .fetch_all(&db.pool)
    .await?)
}

pub async fn asset_counts(db: &Db, account_id: i64) -> Result<(i64, i64), AppError> {
    Ok(sqlx::query_as::<_, (i64, i64)>(
        "SELECT COALESCE(CAST(SUM(total) AS BIGINT), 0), COALESCE(CAST(SUM(online) AS BIGINT), 0) FROM asset_counters WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_one(&db.pool)
    .await?)
}

pub async fn attacks_by_type(db: &Db, account_id: i64, since: i64) -> Result<Vec<(String, i64)>, AppError> {
    Ok(sqlx::query_as::<_, (String, i64)>(
        "SELECT attack_type, COUNT(*) AS n FROM attacks WHERE account_id = $1 AND occurred_at >= $2
         GROUP BY attack_type ORDER BY n DESC, attack_type",
    )
    .bind(account_id)
    .bind(since)
    .fetch_all(&db.pool)
    .await?)
}

/// The Overview of an account now; `record` also stores today's score snapshot (only the
/// account's own users do that, never a management account looking in).
pub async fn overview(db: &Db, account_id: i64, record: bool) -> Result<super::model::Overview, AppError> {
    use super::model::{Overview, ScorePoint};
    let now = crate::server::now();
    let (risks, vulnerabilities_by_category) = super::counters::open_risks(db, account_id).await?;
    let weights = weights(db, account_id).await?;
    let score = security_score(&risks, &weights);
    if record {
        record_score(db, account_id, now, score).await?;
    }
    let history: Vec<ScorePoint> = score_history(db, account_id, &day_of(now - 29 * 86_400))
        .await?
        .into_iter()
        .map(|(day, score)| ScorePoint { day, score })
        .collect();
    let week_ago = day_of(now - 7 * 86_400);
    let score_week_ago = history.iter().find(|p| p.day == week_ago).map(|p| p.score);
    let (assets_total, assets_online) = asset_counts(db, account_id).await?;
    let attacks_by_type = attacks_by_type(db, account_id, now - 7 * 86_400).await?;
    Ok(Overview {
        score,
        score_week_ago,
        risks,
        weights,
        history,
        assets_total,
        assets_online,
        vulnerabilities_by_category,
        attacks_last_7_days: attacks_by_type.iter().map(|(_, n)| n).sum(),
        attacks_by_type,
    })
}

/// The UTC day of a Unix time, as stored in `score_history`.
fn day_of(seconds: i64) -> String {
    crate::format::date(seconds)
}

/// The score histories of several accounts since the UTC day of `since`, oldest first.
pub async fn score_histories(db: &Db, account_ids: &[i64], since: i64) -> Result<HashMap<i64, Vec<i64>>, AppError> {
    let mut histories: HashMap<i64, Vec<i64>> = HashMap::new();
    if account_ids.is_empty() {
        return Ok(histories);
    }
    let sql = format!(
        "SELECT account_id, score FROM score_history WHERE account_id IN ({}) AND day >= $1 ORDER BY account_id, day",
        placeholders(2, account_ids.len())
    );
    let mut query = sqlx::query_as::<_, (i64, i64)>(&sql).bind(day_of(since));
    for id in account_ids {
        query = query.bind(*id);
    }
    for (account_id, score) in query.fetch_all(&db.pool).await? {
        histories.entry(account_id).or_default().push(score);
    }
    Ok(histories)
}
