//! Builds a report's document from the account's own data for one period, in the account's time
//! zone. Every number is a query over the same rows the console shows.

use crate::locale::{Locale, td_string};
use std::collections::HashMap;

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::document::{Chart, ChartKind, ChartPoint, ReportDocument, SectionData, Summary, SummaryRow, Table};
use super::model::Section;
use super::schedule::day_start;
use crate::error::AppError;
use crate::overview::repo::{findings_open_at, open_at_rest_of_day, score_as_of, score_history};
use crate::server::db::{placeholders, Db};

mod images;

const TOP: i64 = 10;
/// Findings first seen in [$2, $3): the UTC days wholly inside the period from the daily flows,
/// the partial days at either end (a time zone that is not UTC) row by row through the index on
/// the day of first sight. `$4`, `$5`: the first whole day and the day after the last.
const FINDINGS_NEW: &str = "
    SELECT CAST(COALESCE(SUM(opened), 0) AS BIGINT) FROM finding_days WHERE account_id = $1 AND day >= $4 AND day < $5
    UNION ALL
    SELECT COUNT(*) FROM findings WHERE account_id = $1 AND first_seen_at / 86400 >= CAST($2 AS BIGINT) / 86400
        AND first_seen_at / 86400 < $4 AND first_seen_at >= $2 AND first_seen_at < $3
    UNION ALL
    SELECT COUNT(*) FROM findings WHERE account_id = $1 AND first_seen_at / 86400 >= $5
        AND first_seen_at / 86400 <= (CAST($3 AS BIGINT) - 1) / 86400 AND first_seen_at >= $2 AND first_seen_at < $3";

/// The UTC days wholly inside [start, end): the first one and the day after the last (equal
/// when there is none). The days before the first and from the last on are partial.
fn whole_days(start: i64, end: i64) -> (i64, i64) {
    let from = start.div_euclid(86_400) + i64::from(start.rem_euclid(86_400) != 0);
    (from, end.div_euclid(86_400).max(from))
}

/// Findings first seen in [start, end) (see `FINDINGS_NEW`).
async fn findings_new(db: &Db, account: &Scope, start: i64, end: i64) -> Result<i64, AppError> {
    let (whole_from, whole_to) = whole_days(start, end);
    let counts = sqlx::query_scalar::<_, i64>(&account.sql(FINDINGS_NEW))
        .bind(account.id)
        .bind(start)
        .bind(end)
        .bind(whole_from)
        .bind(whole_to)
        .fetch_all(&db.pool)
        .await?;
    Ok(counts.iter().sum())
}

/// Per vulnerability, its findings open at the end of the period; per category, the findings
/// resolved in it as (fixed, ignored).
#[derive(Default)]
struct Counted {
    open_at_end: HashMap<i64, i64>,
    resolved: HashMap<String, (i64, i64)>,
}

/// Each vulnerability's findings open at `end` (first seen before it, not resolved before it):
/// its daily flows summed up to the UTC day of the period's last second, corrected row by row
/// for the rest of that day (`open_at_rest_of_day`). The cost follows the catalogue and its days
/// of history, not the findings.
async fn open_per_vulnerability(db: &Db, account: &Scope, end: i64) -> Result<HashMap<i64, i64>, AppError> {
    let sql = format!(
        "SELECT d.vulnerability_id, CAST(SUM(d.opened - d.closed) AS BIGINT) FROM finding_days d
         WHERE d.account_id = $1 AND d.day <= CAST($2 AS BIGINT) / 86400 GROUP BY d.vulnerability_id{}",
        open_at_rest_of_day("v.id", end - 1)
    );
    let mut open: HashMap<i64, i64> = HashMap::new();
    for (id, n) in sqlx::query_as::<_, (i64, i64)>(&account.sql(&sql)).bind(account.id).bind(end - 1).fetch_all(&db.pool).await? {
        *open.entry(id).or_default() += n;
    }
    Ok(open)
}

/// Findings resolved in [start, end) as fixed and as ignored, per vulnerability category (a
/// finding reopened since is open again and not counted): whole days from the daily flows,
/// partial ones row by row through the index on the resolution time.
async fn resolved_by_category(db: &Db, account: &Scope, start: i64, end: i64) -> Result<HashMap<String, (i64, i64)>, AppError> {
    let (whole_from, whole_to) = whole_days(start, end);
    let rows_part = |range: &str| {
        format!(
            "SELECT v.category, CAST(SUM(CASE WHEN f.status = 'fixed' THEN 1 ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN f.status = 'ignored' THEN 1 ELSE 0 END) AS BIGINT)
             FROM findings f JOIN vulnerabilities v ON v.id = f.vulnerability_id
             WHERE f.account_id = $1 AND {range} AND f.resolved_at >= $2 AND f.resolved_at < $3 GROUP BY v.category"
        )
    };
    let sql = format!(
        "SELECT v.category, CAST(SUM(d.fixed) AS BIGINT), CAST(SUM(d.ignored) AS BIGINT)
         FROM finding_days d JOIN vulnerabilities v ON v.id = d.vulnerability_id
         WHERE d.account_id = $1 AND d.day >= $4 AND d.day < $5 GROUP BY v.category
         UNION ALL {}
         UNION ALL {}",
        rows_part("f.resolved_at < $4 * 86400"),
        rows_part("f.resolved_at >= $5 * 86400")
    );
    let mut out: HashMap<String, (i64, i64)> = HashMap::new();
    for (category, fixed, ignored) in sqlx::query_as::<_, (String, i64, i64)>(&account.sql(&sql))
        .bind(account.id)
        .bind(start)
        .bind(end)
        .bind(whole_from)
        .bind(whole_to)
        .fetch_all(&db.pool)
        .await?
    {
        let entry = out.entry(category).or_default();
        entry.0 += fixed;
        entry.1 += ignored;
    }
    Ok(out)
}

const SEVERITY_RANK: &str = "CASE {col} WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END";

/// The rows of `baseline_results` that are risks: a failure episode, from the first failing result
/// to the first passing one after it. A check whose first result passed is stored with first seen
/// = resolved (one scan has one result per check), and never was a risk.
const BASELINE_RISK: &str = " AND (resolved_at IS NULL OR resolved_at > first_seen_at)";

/// A row of a "Top vulnerabilities" table: advisory, title, package, severity.
type AdvisoryRow = (String, String, String, String);

/// The order `SEVERITY_RANK` gives, for sorting in memory.
fn severity_rank(severity: &str) -> u8 {
    match severity {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        _ => 3,
    }
}

fn rank(col: &str) -> String {
    SEVERITY_RANK.replace("{col}", col)
}

/// What to generate.
pub struct Request<'a> {
    pub account_id: i64,
    pub report_name: &'a str,
    pub sections: &'a [Section],
    pub tz: Tz,
    pub period: (NaiveDate, NaiveDate),
    pub generated_at: i64,
    /// Managed accounts a consolidated report also covers (empty: this account only).
    pub members: &'a [i64],
    /// The language of its words.
    pub language: Locale,
}

/// The accounts a report covers: its own (bound as `$1` in every query) and, for a consolidated
/// report, managed members. Ids are integers from the database, so listing them inline is safe.
pub struct Scope {
    pub id: i64,
    clause: String,
}

impl Scope {
    pub fn new(id: i64, members: &[i64]) -> Scope {
        let mut ids = vec![id];
        ids.extend(members.iter().copied().filter(|m| *m != id));
        let list = ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        Scope { id, clause: format!("account_id IN ({list}) AND $1 = $1") }
    }

    /// The query with `account_id = $1` widened to every covered account.
    pub fn sql(&self, sql: &str) -> String {
        sql.replace("account_id = $1", &self.clause)
    }
}

/// The period as instants [start, end): local midnight of its first day to local midnight after
/// its last.
pub fn period_bounds(tz: Tz, period: (NaiveDate, NaiveDate)) -> (i64, i64) {
    let start = day_start(tz, period.0);
    let end = period.1.succ_opt().map(|d| day_start(tz, d)).unwrap_or(start + 86_400);
    (start, end)
}

pub async fn build(db: &Db, request: &Request<'_>) -> Result<ReportDocument, AppError> {
    let (account_name, account_no) = sqlx::query_as::<_, (String, String)>("SELECT name, account_no FROM accounts WHERE id = $1")
        .bind(request.account_id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    let (start, end) = period_bounds(request.tz, request.period);
    let scope = Scope::new(request.account_id, request.members);
    let account = &scope;
    let mut covered = vec![request.account_id];
    covered.extend(request.members.iter().copied().filter(|m| *m != request.account_id));
    // A consolidated report's score is the mean of the covered accounts' scores.
    let (mut score, mut previous) = (0, 0);
    for id in &covered {
        score += score_as_of(db, *id, end - 1).await?;
        previous += score_as_of(db, *id, start - 1).await?;
    }
    let n = covered.len() as i64;
    let summary = Summary {
        score: (score + n / 2) / n,
        previous_score: Some((previous + n / 2) / n),
        rows: summary_rows(db, account, start, end, request.language).await?,
    };
    let mut sections = Vec::new();
    // What the three vulnerability sections share, counted once.
    let counted = if request.sections.iter().any(|s| matches!(s, Section::VulnLinux | Section::VulnWindows | Section::VulnWebCms)) {
        Counted { open_at_end: open_per_vulnerability(db, account, end).await?, resolved: resolved_by_category(db, account, start, end).await? }
    } else {
        Counted::default()
    };
    if covered.len() > 1 {
        sections.push(accounts_section(db, &covered, start, end, request.language).await?);
    }
    let l = request.language;
    for section in request.sections {
        let data = match section {
            Section::Assets => assets_section(db, account, start, end, l).await?,
            Section::Alerts => alerts_section(db, account, start, end, l).await?,
            Section::VulnLinux => vulnerability_section(db, account, *section, "linux", &counted, start, end, l).await?,
            Section::VulnWindows => vulnerability_section(db, account, *section, "windows", &counted, start, end, l).await?,
            Section::VulnWebCms => vulnerability_section(db, account, *section, "web_cms", &counted, start, end, l).await?,
            Section::Images => {
                // The exceptions expiring after the period follow the images, as their own section.
                let [admitted, expiring] = images::image_sections(db, account, start, end, l).await?;
                sections.push(admitted);
                expiring
            }
            Section::Baseline => baseline_section(db, account, start, end, l).await?,
            Section::Attacks => attacks_section(db, account, start, end, l).await?,
            Section::ScoreTrend => score_section(db, account, request.period, summary.score, l).await?,
            Section::Accounts | Section::ImageExceptions => continue,
        };
        sections.push(data);
    }
    Ok(ReportDocument {
        report_name: request.report_name.to_string(),
        account_name,
        account_no,
        time_zone: request.tz.name().to_string(),
        period_start: request.period.0.to_string(),
        period_end: request.period.1.to_string(),
        generated_at: request.generated_at,
        summary,
        sections,
        language: crate::locale::tag(l).to_string(),
    })
}

async fn scalar(db: &Db, sql: &str, account: &Scope, a: i64, b: i64) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar::<_, i64>(&account.sql(sql)).bind(account.id).bind(a).bind(b).fetch_one(&db.pool).await?)
}

/// Findings open at `end` (first seen before it, not resolved before it), from the counters
/// and the changes since (`findings_open_at` at the period's last second).
async fn open_findings_at(db: &Db, account: &Scope, end: i64) -> Result<i64, AppError> {
    let rows = sqlx::query_as::<_, (String, String, i64)>(&account.sql(&findings_open_at(end - 1))).bind(account.id).bind(end - 1).fetch_all(&db.pool).await?;
    Ok(rows.iter().map(|(_, _, n)| n).sum())
}

/// New, resolved and still-open risks of each kind, and the previous period's new ones.
async fn summary_rows(db: &Db, account: &Scope, start: i64, end: i64, l: Locale) -> Result<Vec<SummaryRow>, AppError> {
    let previous_start = start - (end - start);
    let mut rows = Vec::new();
    for (label, table, opened, risk) in [
        (td_string!(l, report.kind.vulnerabilities), "findings", "first_seen_at", ""),
        (td_string!(l, report.kind.alerts), "alerts", "occurred_at", ""),
        (td_string!(l, report.kind.baseline_risks), "baseline_results", "first_seen_at", BASELINE_RISK),
    ] {
        let new_sql = format!("SELECT COUNT(*) FROM {table} WHERE account_id = $1 AND {opened} >= $2 AND {opened} < $3{risk}");
        let new_sql = &new_sql;
        let new = |from, to| async move {
            if table == "findings" {
                findings_new(db, account, from, to).await
            } else {
                scalar(db, new_sql, account, from, to).await
            }
        };
        rows.push(SummaryRow {
            label: label.into(),
            new: new(start, end).await?,
            resolved: Some(
                scalar(
                    db,
                    &format!("SELECT COUNT(*) FROM {table} WHERE account_id = $1 AND resolved_at >= $2 AND resolved_at < $3{risk}"),
                    account,
                    start,
                    end,
                )
                .await?,
            ),
            open: Some(if table == "findings" {
                open_findings_at(db, account, end).await?
            } else {
                scalar(
                    db,
                    &format!("SELECT COUNT(*) FROM {table} WHERE account_id = $1 AND {opened} < $3 AND (resolved_at IS NULL OR resolved_at >= $3) AND $2 = $2"),
                    account,
                    start,
                    end,
                )
                .await?
            }),
            previous_new: new(previous_start, start).await?,
        });
    }
    let attacks_sql = "SELECT COUNT(*) FROM attacks WHERE account_id = $1 AND occurred_at >= $2 AND occurred_at < $3";
    rows.push(SummaryRow {
        label: td_string!(l, report.kind.attacks).into(),
        new: scalar(db, attacks_sql, account, start, end).await?,
        resolved: None,
        open: None,
        previous_new: scalar(db, attacks_sql, account, previous_start, start).await?,
    });
    Ok(rows)
}

fn bars(title: &str, points: Vec<(String, i64)>) -> Chart {
    Chart {
        kind: ChartKind::Bars,
        title: title.into(),
        points: points.into_iter().map(|(label, value)| ChartPoint { label, value }).collect(),
    }
}

/// A section's title in the report's language.
fn section_title(section: Section, l: Locale) -> &'static str {
    match section {
        Section::Assets => td_string!(l, report.section.assets),
        Section::Alerts => td_string!(l, report.section.alerts),
        Section::VulnLinux => td_string!(l, report.section.vuln_linux),
        Section::VulnWindows => td_string!(l, report.section.vuln_windows),
        Section::VulnWebCms => td_string!(l, report.section.vuln_web_cms),
        Section::Images => td_string!(l, report.section.images),
        Section::Baseline => td_string!(l, report.section.baseline),
        Section::Attacks => td_string!(l, report.section.attacks),
        Section::ScoreTrend => td_string!(l, report.section.score_trend),
        Section::Accounts => td_string!(l, report.section.accounts),
        Section::ImageExceptions => td_string!(l, report.section.image_exceptions),
    }
}

/// A severity (as stored) in the report's language; anything else as it is, capitalised.
fn severity_label(severity: &str, l: Locale) -> String {
    match severity {
        "critical" => td_string!(l, report.severity.critical).to_string(),
        "high" => td_string!(l, report.severity.high).to_string(),
        "medium" => td_string!(l, report.severity.medium).to_string(),
        "low" => td_string!(l, report.severity.low).to_string(),
        other => capitalise(other),
    }
}

fn section(section: Section, l: Locale, empty: bool, chart: Chart, table_title: String, columns: &[&str], rows: Vec<Vec<String>>) -> SectionData {
    SectionData {
        section,
        title: section_title(section, l).to_string(),
        empty,
        chart,
        table: Table { title: table_title, columns: columns.iter().map(|c| c.to_string()).collect(), rows },
    }
}

async fn severity_counts(db: &Db, sql: &str, account: &Scope, start: i64, end: i64, l: Locale) -> Result<Vec<(String, i64)>, AppError> {
    let rows = sqlx::query_as::<_, (String, i64)>(&account.sql(sql)).bind(account.id).bind(start).bind(end).fetch_all(&db.pool).await?;
    Ok(every_severity(&rows, l))
}

/// (severity, count) rows as one bar per severity, most severe first, zero where absent.
fn every_severity(rows: &[(String, i64)], l: Locale) -> Vec<(String, i64)> {
    ["critical", "high", "medium", "low"]
        .iter()
        .map(|s| (severity_label(s, l), rows.iter().find(|(k, _)| k == s).map(|(_, n)| *n).unwrap_or(0)))
        .collect()
}

/// The assets with the most open risks at the end of the period.
async fn assets_section(db: &Db, account: &Scope, start: i64, end: i64, l: Locale) -> Result<SectionData, AppError> {
    let (total, new) = sqlx::query_as::<_, (i64, i64)>(&account.sql(
        "SELECT COUNT(*), COALESCE(CAST(SUM(CASE WHEN created_at >= $2 AND created_at < $3 THEN 1 ELSE 0 END) AS BIGINT), 0)
         FROM assets WHERE account_id = $1 AND created_at < $3",
    ))
    .bind(account.id)
    .bind(start)
    .bind(end)
    .fetch_one(&db.pool)
    .await?;
    let mut per_asset: HashMap<i64, [i64; 3]> = HashMap::new();
    for (slot, sql) in [
        // Findings: each asset's counter now, less what opened after the period, plus what closed after it.
        "SELECT r.asset_id, r.open_vulnerabilities FROM asset_risks r JOIN assets a ON a.id = r.asset_id
         WHERE a.account_id = $1 AND r.open_vulnerabilities <> 0 AND $2 = $2
         UNION ALL
         SELECT asset_id, -COUNT(*) FROM findings WHERE account_id = $1 AND first_seen_at / 86400 >= CAST($2 AS BIGINT) / 86400 AND first_seen_at >= $2 AND +resolved_at IS NULL GROUP BY asset_id
         UNION ALL
         SELECT asset_id, COUNT(*) FROM findings WHERE account_id = $1 AND resolved_at >= $2 AND +first_seen_at < $2 GROUP BY asset_id",
        "SELECT asset_id, COUNT(*) FROM alerts WHERE account_id = $1 AND asset_id IS NOT NULL AND occurred_at < $2 AND (resolved_at IS NULL OR resolved_at >= $2) GROUP BY asset_id",
        "SELECT asset_id, COUNT(*) FROM baseline_results WHERE account_id = $1 AND first_seen_at < $2 AND (resolved_at IS NULL OR resolved_at >= $2) GROUP BY asset_id",
    ]
    .iter()
    .enumerate()
    {
        for (asset, n) in sqlx::query_as::<_, (i64, i64)>(&account.sql(sql)).bind(account.id).bind(end).fetch_all(&db.pool).await? {
            per_asset.entry(asset).or_default()[slot] += n;
        }
    }
    let mut ranked: Vec<(i64, [i64; 3])> = per_asset.into_iter().filter(|(_, counts)| counts.iter().any(|n| *n != 0)).collect();
    ranked.sort_by_key(|(id, counts)| (-(counts.iter().sum::<i64>()), *id));
    ranked.truncate(TOP as usize);
    let mut rows = Vec::new();
    let mut points = Vec::new();
    for (asset_id, counts) in &ranked {
        let (name, ips, os) = sqlx::query_as::<_, (String, String, String)>("SELECT name, ips, os FROM assets WHERE id = $1")
            .bind(asset_id)
            .fetch_one(&db.pool)
            .await?;
        let total_risks: i64 = counts.iter().sum();
        points.push((name.clone(), total_risks));
        rows.push(vec![name, ips, os, counts[0].to_string(), counts[1].to_string(), counts[2].to_string(), total_risks.to_string()]);
    }
    Ok(section(
        Section::Assets,
        l,
        total == 0,
        bars(td_string!(l, report.assets.chart), points),
        td_string!(l, report.assets.table, total, new),
        &[
            td_string!(l, report.assets.asset),
            td_string!(l, report.assets.ips),
            td_string!(l, report.assets.os),
            td_string!(l, report.assets.vulnerabilities),
            td_string!(l, report.assets.alerts),
            td_string!(l, report.assets.baseline_risks),
            td_string!(l, report.assets.total),
        ],
        rows,
    ))
}

/// Alerts raised in the period, by severity and by alert.
async fn alerts_section(db: &Db, account: &Scope, start: i64, end: i64, l: Locale) -> Result<SectionData, AppError> {
    let by_severity = severity_counts(
        db,
        "SELECT severity, COUNT(*) FROM alerts WHERE account_id = $1 AND occurred_at >= $2 AND occurred_at < $3 GROUP BY severity",
        account,
        start,
        end,
        l,
    )
    .await?;
    let rows = sqlx::query_as::<_, (String, String, String, i64, i64)>(&account.sql(&format!(
        "SELECT name, alert_type, severity, COUNT(*) AS n,
                CAST(SUM(CASE WHEN resolved_at IS NULL OR resolved_at >= $3 THEN 1 ELSE 0 END) AS BIGINT)
         FROM alerts WHERE account_id = $1 AND occurred_at >= $2 AND occurred_at < $3
         GROUP BY name, alert_type, severity ORDER BY {}, n DESC, name LIMIT {TOP}",
        rank("severity")
    )))
    .bind(account.id)
    .bind(start)
    .bind(end)
    .fetch_all(&db.pool)
    .await?;
    let total: i64 = by_severity.iter().map(|(_, n)| n).sum();
    Ok(section(
        Section::Alerts,
        l,
        total == 0,
        bars(td_string!(l, report.alerts.chart), by_severity),
        td_string!(l, report.alerts.table).into(),
        &[
            td_string!(l, report.alerts.alert),
            td_string!(l, report.alerts.alert_type),
            td_string!(l, report.alerts.severity),
            td_string!(l, report.alerts.occurrences),
            td_string!(l, report.alerts.still_open),
        ],
        rows.into_iter().map(|(name, kind, severity, n, open)| vec![name, kind, severity_label(&severity, l), n.to_string(), open.to_string()]).collect(),
    ))
}

/// Open vulnerabilities of one category at the end of the period.
#[allow(clippy::too_many_arguments)] // the period, the language and what the three sections share
async fn vulnerability_section(
    db: &Db,
    account: &Scope,
    which: Section,
    category: &str,
    counted: &Counted,
    start: i64,
    end: i64,
    l: Locale,
) -> Result<SectionData, AppError> {
    let Counted { open_at_end, resolved } = counted;
    // Grouped by advisory, title, package and severity, as the table shows them (one catalogue
    // row per account in a consolidated report).
    let mut grouped: HashMap<AdvisoryRow, (i64, Vec<i64>)> = HashMap::new();
    for (id, advisory, title, package, severity) in sqlx::query_as::<_, (i64, String, String, String, String)>(&account.sql(
        "SELECT id, advisory_id, title, package, severity FROM vulnerabilities WHERE account_id = $1 AND category = $2",
    ))
    .bind(account.id)
    .bind(category)
    .fetch_all(&db.pool)
    .await?
    {
        if let Some(&hosts) = open_at_end.get(&id).filter(|hosts| **hosts > 0) {
            let entry = grouped.entry((advisory, title, package, severity)).or_default();
            entry.0 += hosts;
            entry.1.push(id);
        }
    }
    let by_severity: Vec<(String, i64)> = ["critical", "high", "medium", "low"]
        .iter()
        .map(|s| (s.to_string(), grouped.iter().filter(|((_, _, _, sev), _)| sev == s).map(|(_, (hosts, _))| hosts).sum()))
        .collect();
    let by_severity = every_severity(&by_severity, l);
    let mut top: Vec<(AdvisoryRow, (i64, Vec<i64>))> = grouped.into_iter().collect();
    top.sort_by(|(a, (a_hosts, _)), (b, (b_hosts, _))| {
        (severity_rank(&a.3), -a_hosts, &a.0, &a.1, &a.2).cmp(&(severity_rank(&b.3), -b_hosts, &b.0, &b.1, &b.2))
    });
    top.truncate(TOP as usize);
    // "New in period" only for the rows shown: their findings first seen in the period and
    // still open at its end, through the index on the vulnerability.
    let ids: Vec<i64> = top.iter().flat_map(|(_, (_, ids))| ids.iter().copied()).collect();
    let mut new_of: HashMap<i64, i64> = HashMap::new();
    if !ids.is_empty() {
        let sql = format!(
            "SELECT vulnerability_id, COUNT(*) FROM findings WHERE vulnerability_id IN ({}) AND +first_seen_at >= $1 AND +first_seen_at < $2
             AND (resolved_at IS NULL OR resolved_at >= $2) GROUP BY vulnerability_id",
            placeholders(3, ids.len())
        );
        let mut query = sqlx::query_as::<_, (i64, i64)>(&sql).bind(start).bind(end);
        for id in &ids {
            query = query.bind(id);
        }
        new_of.extend(query.fetch_all(&db.pool).await?);
    }
    let rows: Vec<(String, String, String, String, i64, i64)> = top
        .into_iter()
        .map(|((advisory, title, package, severity), (hosts, ids))| {
            let new = ids.iter().map(|id| new_of.get(id).copied().unwrap_or(0)).sum();
            (advisory, title, package, severity, hosts, new)
        })
        .collect();
    let (fixed, ignored) = resolved.get(category).copied().unwrap_or((0, 0));
    let open_total: i64 = by_severity.iter().map(|(_, n)| n).sum();
    Ok(section(
        which,
        l,
        open_total == 0 && fixed == 0 && ignored == 0,
        bars(td_string!(l, report.vulns.chart), by_severity),
        td_string!(l, report.vulns.table_title, open = open_total, fixed, ignored).to_string(),
        &[
            td_string!(l, report.vulns.advisory),
            td_string!(l, report.vulns.title),
            td_string!(l, report.vulns.package),
            td_string!(l, report.vulns.severity),
            td_string!(l, report.vulns.hosts),
            td_string!(l, report.vulns.new_in_period),
        ],
        rows.into_iter()
            .map(|(id, title, package, severity, hosts, new)| vec![id, title, package, severity_label(&severity, l), hosts.to_string(), new.to_string()])
            .collect(),
    ))
}

/// Failed baseline checks open at the end of the period, by check.
async fn baseline_section(db: &Db, account: &Scope, start: i64, end: i64, l: Locale) -> Result<SectionData, AppError> {
    let rows = sqlx::query_as::<_, (String, String, String, i64)>(&account.sql(&format!(
        "SELECT check_name, category, risk_level, COUNT(*) AS hosts FROM baseline_results
         WHERE account_id = $1 AND first_seen_at < $3 AND (resolved_at IS NULL OR resolved_at >= $3) AND $2 = $2
         GROUP BY check_name, category, risk_level ORDER BY hosts DESC, {}, check_name LIMIT {TOP}",
        rank("risk_level")
    )))
    .bind(account.id)
    .bind(start)
    .bind(end)
    .fetch_all(&db.pool)
    .await?;
    let points = rows.iter().take(8).map(|(check, _, _, n)| (check.clone(), *n)).collect();
    Ok(section(
        Section::Baseline,
        l,
        rows.is_empty(),
        bars(td_string!(l, report.baseline.chart), points),
        td_string!(l, report.baseline.table).into(),
        &[
            td_string!(l, report.baseline.check),
            td_string!(l, report.baseline.category),
            td_string!(l, report.baseline.risk_level),
            td_string!(l, report.baseline.hosts),
        ],
        rows.into_iter().map(|(check, category, level, n)| vec![check, category, severity_label(&level, l), n.to_string()]).collect(),
    ))
}

/// Attacks in the period by type, and their top sources.
async fn attacks_section(db: &Db, account: &Scope, start: i64, end: i64, l: Locale) -> Result<SectionData, AppError> {
    let by_type = sqlx::query_as::<_, (String, i64)>(&account.sql(&format!(
        "SELECT attack_type, COUNT(*) AS n FROM attacks WHERE account_id = $1 AND occurred_at >= $2 AND occurred_at < $3
         GROUP BY attack_type ORDER BY n DESC, attack_type LIMIT {TOP}"
    )))
    .bind(account.id)
    .bind(start)
    .bind(end)
    .fetch_all(&db.pool)
    .await?;
    let sources = sqlx::query_as::<_, (String, i64, i64, i64)>(&account.sql(&format!(
        "SELECT source_ip, COUNT(*) AS n, COUNT(DISTINCT attack_type), MAX(occurred_at) FROM attacks
         WHERE account_id = $1 AND occurred_at >= $2 AND occurred_at < $3
         GROUP BY source_ip ORDER BY n DESC, source_ip LIMIT {TOP}"
    )))
    .bind(account.id)
    .bind(start)
    .bind(end)
    .fetch_all(&db.pool)
    .await?;
    Ok(section(
        Section::Attacks,
        l,
        by_type.is_empty(),
        bars(td_string!(l, report.attacks.chart), by_type),
        td_string!(l, report.attacks.table).into(),
        &[
            td_string!(l, report.attacks.source),
            td_string!(l, report.attacks.attacks),
            td_string!(l, report.attacks.types),
            td_string!(l, report.attacks.last_seen),
        ],
        sources
            .into_iter()
            .map(|(ip, n, types, last)| vec![ip, n.to_string(), types.to_string(), crate::format::date_time(Some(last))])
            .collect(),
    ))
}

/// A consolidated report's per-account table: each covered account's score and risks.
async fn accounts_section(db: &Db, covered: &[i64], start: i64, end: i64, l: Locale) -> Result<SectionData, AppError> {
    let mut rows = Vec::new();
    let mut points = Vec::new();
    for id in covered {
        let (name, account_no, edition) = sqlx::query_as::<_, (String, String, String)>("SELECT name, account_no, edition FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await?;
        let one = Scope::new(*id, &[]);
        let counts = summary_rows(db, &one, start, end, l).await?;
        let score = score_as_of(db, *id, end - 1).await?;
        points.push((name.clone(), score));
        // The summary's rows, in its order: vulnerabilities, alerts, baseline risks, attacks.
        let open = |row: usize| counts.get(row).and_then(|r| r.open).unwrap_or(0).to_string();
        let new = |row: usize| counts.get(row).map(|r| r.new).unwrap_or(0).to_string();
        rows.push(vec![
            name,
            account_no,
            capitalise(&edition),
            score.to_string(),
            open(0),
            open(1),
            open(2),
            new(3),
        ]);
    }
    Ok(section(
        Section::Accounts,
        l,
        false,
        bars(td_string!(l, report.accounts.chart), points),
        td_string!(l, report.accounts.table, count = covered.len()),
        &[
            td_string!(l, report.accounts.account),
            td_string!(l, report.accounts.account_id),
            td_string!(l, report.accounts.edition),
            td_string!(l, report.accounts.score),
            td_string!(l, report.accounts.vulnerabilities),
            td_string!(l, report.accounts.alerts),
            td_string!(l, report.accounts.baseline_risks),
            td_string!(l, report.accounts.attacks),
        ],
        rows,
    ))
}

/// The daily score over the period (the end-of-period score when no day was recorded).
async fn score_section(db: &Db, account: &Scope, period: (NaiveDate, NaiveDate), end_score: i64, l: Locale) -> Result<SectionData, AppError> {
    let mut days: Vec<(String, i64)> = score_history(db, account.id, &period.0.to_string())
        .await?
        .into_iter()
        .filter(|(day, _)| day.as_str() <= period.1.to_string().as_str())
        .collect();
    if days.is_empty() {
        days.push((period.1.to_string(), end_score));
    }
    Ok(SectionData {
        section: Section::ScoreTrend,
        title: section_title(Section::ScoreTrend, l).to_string(),
        empty: false,
        chart: Chart {
            kind: ChartKind::Line,
            title: td_string!(l, report.score.chart).into(),
            points: days.iter().map(|(day, score)| ChartPoint { label: day.clone(), value: *score }).collect(),
        },
        table: Table {
            title: td_string!(l, report.score.table).into(),
            columns: vec![td_string!(l, report.score.date).into(), td_string!(l, report.score.score).into()],
            rows: days.into_iter().map(|(day, score)| vec![day, score.to_string()]).collect(),
        },
    })
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
