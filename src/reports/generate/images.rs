//! The container-image sections of a report: the images admitted in the period whose latest scan
//! has vulnerabilities, worst first, and the vulnerability exceptions that expire in the 14 days
//! after the period. Every query reads one account's rows through an index on `account_id` (the
//! inventory, the exceptions' expiry), and the lists stop at a LIMIT.

use std::collections::HashMap;

use crate::locale::{td_string, Locale};

use super::{bars, every_severity, section, Scope, TOP};
use crate::error::AppError;
use crate::reports::document::SectionData;
use crate::reports::model::Section;
use crate::server::db::{placeholders, Db};

/// Exceptions expiring within this many days after the period are listed.
const EXPIRING_DAYS: i64 = 14;
/// Rows of the expiring-exceptions table at most (the chart counts them all).
const EXCEPTIONS_SHOWN: i64 = 50;
/// Places ("cluster/namespace") named per image before "+N more".
const PLACES_SHOWN: usize = 3;

/// Inventory rows of images admitted in [$2, $3) (allowed or warned) whose digest's latest scan
/// has findings. A row is a workload seen from `first_seen_at` to `last_seen_at`; it counts when
/// that span meets the period, so an image that ran through the period and was admitted again
/// after it (before the report was made) is not lost.
const ADMITTED_VULNERABLE: &str = "FROM image_inventory r JOIN sig_images i ON i.id = r.image_id
     JOIN image_scans s ON s.account_id = i.account_id AND s.digest = i.digest
     WHERE r.account_id = $1 AND r.outcome IN ('allowed', 'warned') AND r.last_seen_at >= $2 AND r.first_seen_at < $3
       AND i.digest <> '' AND s.critical + s.high + s.medium + s.low > 0";

/// One image of the table: its identity, where it ran, and its latest scan's counts.
struct AdmittedImage {
    id: i64,
    repository: String,
    digest: String,
    /// Critical, high, medium, low.
    counts: [i64; 4],
    /// Of those, the findings with a fixed version.
    fixable: [i64; 4],
    /// Inventory entries (cluster, namespace, workload) it was admitted to in the period.
    workloads: i64,
}

/// Both sections: the admitted vulnerable images, then the exceptions expiring after the period.
pub(super) async fn image_sections(db: &Db, account: &Scope, start: i64, end: i64, l: Locale) -> Result<[SectionData; 2], AppError> {
    Ok([admitted_section(db, account, start, end, l).await?, expiring_section(db, account, end, l).await?])
}

/// "sha256:0123456789ab" of "sha256:0123456789abcdef…": enough to tell digests apart in a table.
fn short_digest(digest: &str) -> String {
    match digest.split_once(':') {
        Some((algorithm, hex)) => format!("{algorithm}:{}", hex.chars().take(12).collect::<String>()),
        None => digest.chars().take(19).collect(),
    }
}

async fn admitted_section(db: &Db, account: &Scope, start: i64, end: i64, l: Locale) -> Result<SectionData, AppError> {
    // Each admitted vulnerable image once, by its most severe finding: the chart and the total.
    let by_worst = sqlx::query_as::<_, (String, i64)>(&account.sql(&format!(
        "SELECT worst, COUNT(*) FROM (
             SELECT DISTINCT i.id, CASE WHEN s.critical > 0 THEN 'critical' WHEN s.high > 0 THEN 'high'
                                        WHEN s.medium > 0 THEN 'medium' ELSE 'low' END AS worst
             {ADMITTED_VULNERABLE}) w
         GROUP BY worst"
    )))
    .bind(account.id)
    .bind(start)
    .bind(end)
    .fetch_all(&db.pool)
    .await?;
    let total: i64 = by_worst.iter().map(|(_, n)| n).sum();
    type Row = (i64, String, String, i64, i64, i64, i64, i64, i64, i64, i64, i64);
    let top: Vec<AdmittedImage> = sqlx::query_as::<_, Row>(&account.sql(&format!(
        "SELECT i.id, i.repository, i.digest, s.critical, s.high, s.medium, s.low,
                s.fixable_critical, s.fixable_high, s.fixable_medium, s.fixable_low, COUNT(*)
         {ADMITTED_VULNERABLE}
         GROUP BY i.id, i.repository, i.digest, s.critical, s.high, s.medium, s.low,
                  s.fixable_critical, s.fixable_high, s.fixable_medium, s.fixable_low
         ORDER BY s.critical DESC, s.high DESC, s.medium DESC, s.low DESC, i.repository, i.digest LIMIT {TOP}"
    )))
    .bind(account.id)
    .bind(start)
    .bind(end)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|r| AdmittedImage { id: r.0, repository: r.1, digest: r.2, counts: [r.3, r.4, r.5, r.6], fixable: [r.7, r.8, r.9, r.10], workloads: r.11 })
    .collect();
    let places = places_of(db, &top, start, end).await?;
    let rows = top
        .iter()
        .map(|image| {
            let ran_in = format!("{} ({})", places_text(places.get(&image.id), l), image.workloads);
            let mut row = vec![format!("{}@{}", image.repository, short_digest(&image.digest)), ran_in];
            row.extend(image.counts.iter().map(i64::to_string));
            row.push(image.fixable.iter().map(i64::to_string).collect::<Vec<_>>().join("/"));
            row
        })
        .collect();
    Ok(section(
        Section::Images,
        l,
        total == 0,
        bars(td_string!(l, report.images.chart), every_severity(&by_worst, l)),
        td_string!(l, report.images.table, total),
        &[
            td_string!(l, report.images.image),
            td_string!(l, report.images.ran_in),
            td_string!(l, report.severity.critical),
            td_string!(l, report.severity.high),
            td_string!(l, report.severity.medium),
            td_string!(l, report.severity.low),
            td_string!(l, report.images.fixable),
        ],
        rows,
    ))
}

/// Where the shown images were admitted in the period: their distinct (cluster, namespace)
/// pairs, by name, through the inventory's index on the image.
async fn places_of(db: &Db, images: &[AdmittedImage], start: i64, end: i64) -> Result<HashMap<i64, Vec<String>>, AppError> {
    let mut places: HashMap<i64, Vec<String>> = HashMap::new();
    if images.is_empty() {
        return Ok(places);
    }
    let sql = format!(
        "SELECT DISTINCT r.image_id, c.name, r.namespace FROM image_inventory r JOIN sig_clusters c ON c.id = r.cluster_id
         WHERE r.image_id IN ({}) AND r.outcome IN ('allowed', 'warned') AND r.last_seen_at >= $1 AND r.first_seen_at < $2
         ORDER BY c.name, r.namespace",
        placeholders(3, images.len())
    );
    let mut query = sqlx::query_as::<_, (i64, String, String)>(&sql).bind(start).bind(end);
    for image in images {
        query = query.bind(image.id);
    }
    for (image, cluster, namespace) in query.fetch_all(&db.pool).await? {
        places.entry(image).or_default().push(format!("{cluster}/{namespace}"));
    }
    Ok(places)
}

/// "prod/payments, prod/web, stage/web +2 more" (the cell adds the number of workloads).
fn places_text(places: Option<&Vec<String>>, l: Locale) -> String {
    let Some(places) = places else { return String::new() };
    let mut text = places.iter().take(PLACES_SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if places.len() > PLACES_SHOWN {
        text.push(' ');
        text.push_str(&td_string!(l, report.images.more_places, count = places.len() - PLACES_SHOWN));
    }
    text
}

/// Exceptions that expire in the 14 days after the period (`end`), soonest first: those already
/// expired by then, and those lasting longer, are left out.
async fn expiring_section(db: &Db, account: &Scope, end: i64, l: Locale) -> Result<SectionData, AppError> {
    let until = end + EXPIRING_DAYS * 86_400;
    // An exception applies to the end of its last day (UTC): the chart and the table name that day.
    let per_day = sqlx::query_as::<_, (i64, i64)>(&account.sql(
        "SELECT (expires_at - 1) / 86400 AS day, COUNT(*) FROM image_vuln_exceptions
         WHERE account_id = $1 AND expires_at > $2 AND expires_at <= $3 GROUP BY (expires_at - 1) / 86400 ORDER BY day",
    ))
    .bind(account.id)
    .bind(end)
    .bind(until)
    .fetch_all(&db.pool)
    .await?;
    let rows = sqlx::query_as::<_, (String, String, String, i64)>(&account.sql(&format!(
        "SELECT vulnerability_id, repository, reason, expires_at FROM image_vuln_exceptions
         WHERE account_id = $1 AND expires_at > $2 AND expires_at <= $3
         ORDER BY expires_at, vulnerability_id, repository LIMIT {EXCEPTIONS_SHOWN}"
    )))
    .bind(account.id)
    .bind(end)
    .bind(until)
    .fetch_all(&db.pool)
    .await?;
    let total: i64 = per_day.iter().map(|(_, n)| n).sum();
    let last_day = |expires_at: i64| crate::format::date(expires_at - 1);
    Ok(section(
        Section::ImageExceptions,
        l,
        total == 0,
        bars(td_string!(l, report.image_exceptions.chart), per_day.into_iter().map(|(day, n)| (crate::format::date(day * 86_400), n)).collect()),
        td_string!(l, report.image_exceptions.table, total, from = last_day(end + 1), until = last_day(until)),
        &[
            td_string!(l, report.image_exceptions.vulnerability),
            td_string!(l, report.image_exceptions.repository),
            td_string!(l, report.image_exceptions.reason),
            td_string!(l, report.image_exceptions.last_day),
        ],
        rows.into_iter()
            .map(|(vulnerability, repository, reason, expires_at)| {
                let repository = if repository.is_empty() { td_string!(l, report.image_exceptions.all_repositories).to_string() } else { repository };
                vec![vulnerability, repository, reason, last_day(expires_at)]
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_shortened_to_twelve_hex_digits() {
        assert_eq!(short_digest(&format!("sha256:{}", "ab".repeat(32))), "sha256:abababababab");
        assert_eq!(short_digest("odd"), "odd");
    }

    #[test]
    fn places_beyond_three_are_counted() {
        let places: Vec<String> = ["a/x", "a/y", "b/x", "c/z", "d/w"].iter().map(|p| p.to_string()).collect();
        assert_eq!(places_text(Some(&places), Locale::en), "a/x, a/y, b/x +2 more");
        assert_eq!(places_text(Some(&places[..1].to_vec()), Locale::en), "a/x");
        assert_eq!(places_text(None, Locale::en), "");
    }
}
