//! The SQL of reports: definitions, the durable schedule kept in `reports.next_due_at`, the
//! delivery log, and the archive.

use chrono::NaiveDate;
use chrono_tz::Tz;
use sqlx::AnyConnection;

use super::document::ReportDocument;
use super::model::{
    ArchiveEntry, ArchivePage, Delivery, DeliveryCopy, DeliveryStatus, Report, ReportKind, ReportScope, SendWindow, Section, ValidReport,
    ARCHIVE_PAGE_SIZE, MAX_EXTRA_REPORTS,
};
use super::schedule::{Occurrence, Schedule};
use crate::server::clock::parse_time_zone;
use crate::error::AppError;
use crate::locale::{request_locale, td_string};
use crate::server::audit::{self, Actor};
use crate::server::db::{like_pattern, page_window, Db, PageWindow};
use crate::server::now;

const REPORT_COLUMNS: &str = "id, account_id, name, kind, custom_start, custom_end, send_window, recipients, sections, \
     enabled, is_default, next_due_at, next_period_start, next_period_end, created_at, scope, scope_accounts";

#[derive(sqlx::FromRow)]
pub struct ReportRow {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub kind: String,
    pub custom_start: Option<String>,
    pub custom_end: Option<String>,
    pub send_window: String,
    pub recipients: String,
    pub sections: String,
    pub enabled: i64,
    pub is_default: i64,
    pub next_due_at: Option<i64>,
    pub next_period_start: Option<String>,
    pub next_period_end: Option<String>,
    pub created_at: i64,
    pub scope: String,
    pub scope_accounts: String,
}

impl ReportRow {
    pub fn scope(&self) -> ReportScope {
        ReportScope::parse(&self.scope).unwrap_or(ReportScope::ThisAccount)
    }

    pub fn scope_accounts(&self) -> Vec<i64> {
        self.scope_accounts.split(',').filter_map(|id| id.parse().ok()).collect()
    }

    pub fn kind(&self) -> ReportKind {
        ReportKind::parse(&self.kind).unwrap_or(ReportKind::Weekly)
    }

    pub fn window(&self) -> SendWindow {
        SendWindow::parse(&self.send_window).unwrap_or(SendWindow::Morning)
    }

    pub fn recipients(&self) -> Vec<String> {
        address_list(&self.recipients)
    }

    pub fn sections(&self) -> Vec<Section> {
        self.sections.split(',').filter_map(Section::parse).collect()
    }

    pub fn custom(&self) -> Option<(NaiveDate, NaiveDate)> {
        let parse = |d: &Option<String>| d.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        Some((parse(&self.custom_start)?, parse(&self.custom_end)?))
    }

    pub fn schedule(&self, tz: Tz) -> Schedule {
        Schedule { kind: self.kind(), window: self.window(), custom: self.custom(), tz, spread_key: self.id }
    }

    pub fn into_report(self) -> Report {
        let next_period = match (&self.next_due_at, &self.next_period_start, &self.next_period_end) {
            (Some(_), Some(start), Some(end)) => Some(format!("{start} – {end}")),
            _ => None,
        };
        Report {
            id: self.id,
            name: self.name.clone(),
            kind: self.kind(),
            custom_start: self.custom_start.clone(),
            custom_end: self.custom_end.clone(),
            window: self.window(),
            recipients: self.recipients(),
            sections: self.sections(),
            enabled: self.enabled == 1,
            is_default: self.is_default == 1,
            scope: self.scope(),
            scope_accounts: self.scope_accounts(),
            next_send_at: if self.enabled == 1 { self.next_due_at } else { None },
            next_period: if self.enabled == 1 { next_period } else { None },
            created_at: self.created_at,
        }
    }
}

fn ids_text(ids: &[i64]) -> String {
    ids.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(",")
}

/// The managed accounts a report covers now: all of them, or the chosen ones still managed.
pub async fn covered_members(db: &Db, row: &ReportRow) -> Result<Vec<i64>, AppError> {
    let managed = crate::auth::repo::managed_ids(db, row.account_id).await?;
    Ok(match row.scope() {
        ReportScope::ThisAccount => Vec::new(),
        ReportScope::AllManaged => managed,
        ReportScope::Chosen => {
            let chosen = row.scope_accounts();
            managed.into_iter().filter(|id| chosen.contains(id)).collect()
        }
    })
}

fn sections_text(sections: &[Section]) -> String {
    sections.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
}

/// Filters of the Reports page.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub enabled: Option<bool>,
    pub kind: Option<ReportKind>,
    pub name: String,
}

pub async fn list_reports(db: &Db, account_id: i64, filter: &ReportFilter) -> Result<Vec<Report>, AppError> {
    let mut sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE account_id = $1");
    let mut n = 1;
    let mut next = || {
        n += 1;
        n
    };
    if filter.enabled.is_some() {
        sql.push_str(&format!(" AND enabled = ${}", next()));
    }
    if filter.kind.is_some() {
        sql.push_str(&format!(" AND kind = ${}", next()));
    }
    if !filter.name.trim().is_empty() {
        sql.push_str(&format!(" AND LOWER(name) LIKE ${} ESCAPE '\\'", next()));
    }
    sql.push_str(" ORDER BY is_default DESC, created_at, id");
    let mut query = sqlx::query_as::<_, ReportRow>(&sql).bind(account_id);
    if let Some(enabled) = filter.enabled {
        query = query.bind(enabled as i64);
    }
    if let Some(kind) = filter.kind {
        query = query.bind(kind.as_str());
    }
    if !filter.name.trim().is_empty() {
        query = query.bind(like_pattern(filter.name.trim()));
    }
    Ok(query.fetch_all(&db.pool).await?.into_iter().map(ReportRow::into_report).collect())
}

pub async fn count_reports(db: &Db, account_id: i64) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM reports WHERE account_id = $1").bind(account_id).fetch_one(&db.pool).await?)
}

pub async fn report_row(conn: &mut AnyConnection, account_id: i64, id: i64) -> Result<ReportRow, AppError> {
    sqlx::query_as::<_, ReportRow>(&format!("SELECT {REPORT_COLUMNS} FROM reports WHERE id = $1 AND account_id = $2"))
        .bind(id)
        .bind(account_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn get_report(db: &Db, account_id: i64, id: i64) -> Result<Report, AppError> {
    let mut conn = db.pool.acquire().await?;
    Ok(report_row(&mut conn, account_id, id).await?.into_report())
}

/// Points the report's schedule at its next send after `after` (or at nothing).
async fn plan_next(conn: &mut AnyConnection, row: &ReportRow, tz: Tz, after: i64) -> Result<Option<Occurrence>, AppError> {
    let next = if row.enabled == 1 { row.schedule(tz).next_after(after) } else { None };
    set_next(conn, row.id, next.as_ref(), row).await?;
    Ok(next)
}

async fn set_next(conn: &mut AnyConnection, id: i64, next: Option<&Occurrence>, row: &ReportRow) -> Result<(), AppError> {
    let (due, start, end) = match next {
        Some(o) => (Some(o.due_at), Some(o.period_start.to_string()), Some(o.period_end.to_string())),
        // Keep the last planned period so a finished custom report is not planned again.
        None => (None, row.next_period_start.clone(), row.next_period_end.clone()),
    };
    sqlx::query("UPDATE reports SET next_due_at = $1, next_period_start = $2, next_period_end = $3 WHERE id = $4")
        .bind(due)
        .bind(start)
        .bind(end)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The account's default report, created with the account: weekly, all sections, no recipients.
pub async fn insert_default_report(conn: &mut AnyConnection, account_id: i64, at: i64) -> Result<i64, AppError> {
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO reports (account_id, name, kind, send_window, recipients, sections, enabled, is_default, created_at, updated_at)
         VALUES ($1, 'Default security report', 'weekly', '06-12', '', $2, 1, 1, $3, $3) RETURNING id",
    )
    .bind(account_id)
    .bind(sections_text(&Section::ALL))
    .bind(at)
    .fetch_one(&mut *conn)
    .await?;
    let row = report_row(conn, account_id, id).await?;
    let tz = crate::auth::repo::time_zone(&mut *conn, account_id).await?;
    plan_next(conn, &row, tz, at).await?;
    Ok(id)
}

pub async fn create_report(db: &Db, account_id: i64, actor: &Actor, report: &ValidReport) -> Result<i64, AppError> {
    let mut tx = db.begin_write().await?;
    // Serialise report creation per account (a row lock on PostgreSQL; SQLite's write
    // transaction is exclusive already), so two racing requests cannot both take the last slot.
    sqlx::query("UPDATE accounts SET id = id WHERE id = $1").bind(account_id).execute(&mut *tx).await?;
    let extra = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM reports WHERE account_id = $1 AND is_default = 0")
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await?;
    if extra >= MAX_EXTRA_REPORTS {
        return Err(AppError::Conflict(td_string!(request_locale(), reports.errors.too_many_reports, max = MAX_EXTRA_REPORTS)));
    }
    let at = now();
    let (custom_start, custom_end) = custom_text(report);
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO reports (account_id, name, kind, custom_start, custom_end, send_window, recipients, sections, enabled,
                              is_default, created_at, updated_at, scope, scope_accounts)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, 0, $9, $9, $10, $11) RETURNING id",
    )
    .bind(account_id)
    .bind(&report.name)
    .bind(report.kind.as_str())
    .bind(custom_start)
    .bind(custom_end)
    .bind(report.window.as_str())
    .bind(report.recipients.join(","))
    .bind(sections_text(&report.sections))
    .bind(at)
    .bind(report.scope.as_str())
    .bind(ids_text(&report.scope_accounts))
    .fetch_one(&mut *tx)
    .await?;
    let row = report_row(&mut tx, account_id, id).await?;
    let tz = crate::auth::repo::time_zone(&mut *tx, account_id).await?;
    plan_next(&mut tx, &row, tz, at).await?;
    audit::record(&mut *tx, account_id, actor, "report.create", &report.name, report.kind.as_str()).await?;
    tx.commit().await?;
    Ok(id)
}

fn custom_text(report: &ValidReport) -> (Option<String>, Option<String>) {
    match report.custom {
        Some((start, end)) => (Some(start.to_string()), Some(end.to_string())),
        None => (None, None),
    }
}

pub async fn update_report(db: &Db, account_id: i64, actor: &Actor, id: i64, report: &ValidReport) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let current = report_row(&mut tx, account_id, id).await?;
    if current.is_default == 1 && current.kind() != report.kind {
        return Err(AppError::field("kind", td_string!(request_locale(), reports.errors.default_kind_fixed)));
    }
    let (custom_start, custom_end) = custom_text(report);
    sqlx::query(
        "UPDATE reports SET name = $1, kind = $2, custom_start = $3, custom_end = $4, send_window = $5, recipients = $6,
                            sections = $7, updated_at = $8, next_due_at = NULL, next_period_start = NULL, next_period_end = NULL,
                            scope = $10, scope_accounts = $11
         WHERE id = $9",
    )
    .bind(&report.name)
    .bind(report.kind.as_str())
    .bind(custom_start)
    .bind(custom_end)
    .bind(report.window.as_str())
    .bind(report.recipients.join(","))
    .bind(sections_text(&report.sections))
    .bind(now())
    .bind(id)
    .bind(report.scope.as_str())
    .bind(ids_text(&report.scope_accounts))
    .execute(&mut *tx)
    .await?;
    let row = report_row(&mut tx, account_id, id).await?;
    let tz = crate::auth::repo::time_zone(&mut *tx, account_id).await?;
    plan_next(&mut tx, &row, tz, now()).await?;
    audit::record(&mut *tx, account_id, actor, "report.update", &report.name, "").await?;
    tx.commit().await?;
    Ok(())
}

/// Disabling stops sending (and drops sends not yet started); enabling resumes from the next
/// period after now.
pub async fn set_enabled(db: &Db, account_id: i64, actor: &Actor, id: i64, enabled: bool) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let current = report_row(&mut tx, account_id, id).await?;
    sqlx::query("UPDATE reports SET enabled = $1, updated_at = $2 WHERE id = $3")
        .bind(enabled as i64)
        .bind(now())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if !enabled {
        sqlx::query("DELETE FROM report_deliveries WHERE report_id = $1 AND manual = 0 AND status = 'scheduled'")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    let row = report_row(&mut tx, account_id, id).await?;
    let tz = crate::auth::repo::time_zone(&mut *tx, account_id).await?;
    plan_next(&mut tx, &row, tz, now()).await?;
    let action = if enabled { "report.enable" } else { "report.disable" };
    audit::record(&mut *tx, account_id, actor, action, &current.name, "").await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_report(db: &Db, account_id: i64, actor: &Actor, id: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let current = report_row(&mut tx, account_id, id).await?;
    if current.is_default == 1 {
        return Err(AppError::Conflict(td_string!(request_locale(), reports.errors.default_not_deletable).into()));
    }
    sqlx::query("DELETE FROM reports WHERE id = $1").bind(id).execute(&mut *tx).await?;
    audit::record(&mut *tx, account_id, actor, "report.delete", &current.name, "").await?;
    tx.commit().await?;
    Ok(())
}

/// After the account's time zone changed: every enabled report is planned again from now.
pub async fn replan_account(conn: &mut AnyConnection, account_id: i64) -> Result<(), AppError> {
    let rows = sqlx::query_as::<_, ReportRow>(&format!("SELECT {REPORT_COLUMNS} FROM reports WHERE account_id = $1 AND enabled = 1"))
        .bind(account_id)
        .fetch_all(&mut *conn)
        .await?;
    let tz = crate::auth::repo::time_zone(&mut *conn, account_id).await?;
    for row in rows {
        plan_next(conn, &row, tz, now()).await?;
    }
    Ok(())
}

// ----- the schedule -----

/// A report whose next send is due, with the account's time zone.
#[derive(sqlx::FromRow)]
pub struct DueRow {
    #[sqlx(flatten)]
    pub report: ReportRow,
    pub time_zone: String,
}

/// Enabled reports due at `now`, and reports never planned (created before the schedule existed).
pub async fn due_reports(db: &Db, now: i64, limit: i64) -> Result<Vec<DueRow>, AppError> {
    let columns = REPORT_COLUMNS.split(", ").map(|c| format!("r.{c}")).collect::<Vec<_>>().join(", ");
    Ok(sqlx::query_as::<_, DueRow>(&format!(
        "SELECT {columns}, a.time_zone FROM reports r JOIN accounts a ON a.id = r.account_id
         WHERE r.enabled = 1 AND (r.next_due_at <= $1 OR (r.next_due_at IS NULL AND r.next_period_end IS NULL))
         ORDER BY r.next_due_at LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?)
}

/// Turns a due report into a delivery row (once per period) and moves its schedule on. Safe to
/// run on several replicas at once: the schedule moves by compare-and-set on `next_due_at`, and
/// the unique index on (report, period) refuses a second delivery. Returns the new delivery.
pub async fn materialize(db: &Db, due: &DueRow, now: i64) -> Result<Option<i64>, AppError> {
    let row = &due.report;
    let tz = parse_time_zone(&due.time_zone).unwrap_or(chrono_tz::UTC);
    let schedule = row.schedule(tz);
    let mut tx = db.begin_write().await?;
    let Some(first_due) = row.next_due_at else {
        // Never planned: plan from now, send nothing yet.
        let next = schedule.next_after(now);
        let (due_at, start, end) = match &next {
            Some(o) => (Some(o.due_at), Some(o.period_start.to_string()), Some(o.period_end.to_string())),
            None => (None, Some(String::new()), Some(String::new())),
        };
        sqlx::query(
            "UPDATE reports SET next_due_at = $1, next_period_start = $2, next_period_end = $3
             WHERE id = $4 AND next_due_at IS NULL AND next_period_end IS NULL",
        )
        .bind(due_at)
        .bind(start)
        .bind(end)
        .bind(row.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return Ok(None);
    };
    let occurrence = schedule.latest_due(first_due, now);
    let next = schedule.next_after(now);
    let moved = sqlx::query(
        "UPDATE reports SET next_due_at = $1, next_period_start = COALESCE($2, next_period_start),
                            next_period_end = COALESCE($3, next_period_end)
         WHERE id = $4 AND next_due_at = $5",
    )
    .bind(next.map(|o| o.due_at))
    .bind(next.map(|o| o.period_start.to_string()))
    .bind(next.map(|o| o.period_end.to_string()))
    .bind(row.id)
    .bind(first_due)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved == 0 {
        // Another replica got here first.
        return Ok(None);
    }
    let Some(occurrence) = occurrence else {
        tx.commit().await?;
        return Ok(None);
    };
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO report_deliveries (account_id, report_id, period_start, period_end, manual, due_at, window_end, status,
                                        next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, 0, $5, $6, 'scheduled', $5, $7)
         ON CONFLICT (report_id, period_start, period_end) WHERE manual = 0 DO NOTHING RETURNING id",
    )
    .bind(row.account_id)
    .bind(row.id)
    .bind(occurrence.period_start.to_string())
    .bind(occurrence.period_end.to_string())
    .bind(occurrence.due_at)
    .bind(occurrence.window_end)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A "Send now" delivery: due at once, outside the schedule.
pub async fn insert_manual_delivery(db: &Db, account_id: i64, report_id: i64, period: (NaiveDate, NaiveDate), now: i64) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar::<_, i64>(
        "INSERT INTO report_deliveries (account_id, report_id, period_start, period_end, manual, due_at, window_end, status,
                                        next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, 1, $5, $5, 'scheduled', $5, $5) RETURNING id",
    )
    .bind(account_id)
    .bind(report_id)
    .bind(period.0.to_string())
    .bind(period.1.to_string())
    .bind(now)
    .fetch_one(&db.pool)
    .await?)
}

const CLAIMABLE: &str = "((status IN ('scheduled', 'retrying') AND next_attempt_at <= $1) OR (status = 'sending' AND lease_until < $1))";

pub async fn claimable_deliveries(db: &Db, now: i64, limit: i64) -> Result<Vec<i64>, AppError> {
    Ok(sqlx::query_scalar::<_, i64>(&format!(
        "SELECT id FROM report_deliveries WHERE {CLAIMABLE} ORDER BY next_attempt_at, id LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?)
}

/// Takes a delivery for this process for `lease` seconds; only one claimant wins.
pub async fn claim(db: &Db, id: i64, owner: &str, now: i64, lease: i64) -> Result<bool, AppError> {
    let claimed = sqlx::query(&format!(
        "UPDATE report_deliveries SET status = 'sending', lease_owner = $2, lease_until = $3, attempts = attempts + 1,
                first_attempt_at = COALESCE(first_attempt_at, $1)
         WHERE id = $4 AND {CLAIMABLE}"
    ))
    .bind(now)
    .bind(owner)
    .bind(now + lease)
    .bind(id)
    .execute(&db.pool)
    .await?
    .rows_affected();
    Ok(claimed == 1)
}

#[derive(sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub account_id: i64,
    pub report_id: i64,
    pub period_start: String,
    pub period_end: String,
    pub manual: i64,
    pub late: i64,
    pub due_at: i64,
    pub window_end: i64,
    pub status: String,
    pub attempts: i64,
    pub first_attempt_at: Option<i64>,
    pub recipients: String,
    pub sent_at: Option<i64>,
    pub server_reply: String,
    pub archive_id: Option<i64>,
}

const DELIVERY_COLUMNS: &str = "id, account_id, report_id, period_start, period_end, manual, late, due_at, window_end, status, \
     attempts, first_attempt_at, recipients, sent_at, server_reply, archive_id";

impl DeliveryRow {
    pub fn into_delivery(self) -> Delivery {
        Delivery {
            id: self.id,
            period_start: self.period_start,
            period_end: self.period_end,
            due_at: self.due_at,
            status: DeliveryStatus::parse(&self.status).unwrap_or(DeliveryStatus::Failed),
            manual: self.manual == 1,
            late: self.late == 1,
            attempts: self.attempts,
            recipients: address_list(&self.recipients),
            sent_at: self.sent_at,
            server_reply: self.server_reply,
            archive_id: self.archive_id,
            copies: Vec::new(),
        }
    }
}

pub async fn delivery(db: &Db, id: i64) -> Result<DeliveryRow, AppError> {
    sqlx::query_as::<_, DeliveryRow>(&format!("SELECT {DELIVERY_COLUMNS} FROM report_deliveries WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(AppError::NotFound)
}

/// A stored comma-separated address list.
fn address_list(stored: &str) -> Vec<String> {
    stored.split(',').filter(|r| !r.is_empty()).map(str::to_string).collect()
}

pub async fn deliveries(db: &Db, account_id: i64, report_id: i64) -> Result<Vec<Delivery>, AppError> {
    let mut deliveries: Vec<Delivery> = sqlx::query_as::<_, DeliveryRow>(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM report_deliveries WHERE account_id = $1 AND report_id = $2 ORDER BY created_at DESC, id DESC LIMIT 200"
    ))
    .bind(account_id)
    .bind(report_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(DeliveryRow::into_delivery)
    .collect();
    let copies = sqlx::query_as::<_, CopyRow>(&format!(
        "SELECT {COPY_COLUMNS} FROM report_delivery_copies WHERE delivery_id IN
           (SELECT id FROM report_deliveries WHERE account_id = $1 AND report_id = $2 ORDER BY created_at DESC, id DESC LIMIT 200)
         ORDER BY delivery_id, language"
    ))
    .bind(account_id)
    .bind(report_id)
    .fetch_all(&db.pool)
    .await?;
    for copy in copies {
        if let Some(delivery) = deliveries.iter_mut().find(|d| d.id == copy.delivery_id) {
            delivery.copies.push(copy.into_copy());
        }
    }
    // The first copy first: the one the delivery's own document link opens.
    for delivery in &mut deliveries {
        let first = delivery.archive_id;
        delivery.copies.sort_by_key(|c| c.archive_id != first);
    }
    Ok(deliveries)
}

/// A delivery's copy in one language, as stored.
#[derive(sqlx::FromRow)]
pub struct CopyRow {
    pub delivery_id: i64,
    pub language: String,
    pub archive_id: Option<i64>,
    pub recipients: String,
    pub sent_to: String,
    pub server_reply: String,
}

const COPY_COLUMNS: &str = "delivery_id, language, archive_id, recipients, sent_to, server_reply";

impl CopyRow {
    pub fn sent_to(&self) -> Vec<String> {
        address_list(&self.sent_to)
    }

    pub fn into_copy(self) -> DeliveryCopy {
        DeliveryCopy { sent_to: self.sent_to(), recipients: address_list(&self.recipients), language: self.language, archive_id: self.archive_id }
    }
}

/// The copies of one delivery.
pub async fn copies(db: &Db, delivery_id: i64) -> Result<Vec<CopyRow>, AppError> {
    Ok(sqlx::query_as::<_, CopyRow>(&format!("SELECT {COPY_COLUMNS} FROM report_delivery_copies WHERE delivery_id = $1 ORDER BY language"))
        .bind(delivery_id)
        .fetch_all(&db.pool)
        .await?)
}

/// Records a copy before it is sent: its recipients this attempt and its document.
pub async fn save_copy(db: &Db, delivery_id: i64, language: &str, archive_id: i64, recipients: &[String]) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO report_delivery_copies (delivery_id, language, archive_id, recipients) VALUES ($1, $2, $3, $4)
         ON CONFLICT (delivery_id, language) DO UPDATE SET archive_id = excluded.archive_id, recipients = excluded.recipients",
    )
    .bind(delivery_id)
    .bind(language)
    .bind(archive_id)
    .bind(recipients.join(","))
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Records how sending a copy went: on success its recipients join `sent_to`.
pub async fn copy_sent(db: &Db, delivery_id: i64, language: &str, sent: Option<(&[String], i64)>, reply: &str) -> Result<(), AppError> {
    let (reached, at) = match sent {
        Some((to, at)) => (to.join(","), Some(at)),
        None => (String::new(), None),
    };
    sqlx::query(
        "UPDATE report_delivery_copies
         SET sent_to = CASE WHEN $1 = '' THEN sent_to WHEN sent_to = '' THEN $1 ELSE sent_to || ',' || $1 END,
             sent_at = COALESCE($2, sent_at), server_reply = $3
         WHERE delivery_id = $4 AND language = $5",
    )
    .bind(reached)
    .bind(at)
    .bind(reply)
    .bind(delivery_id)
    .bind(language)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Records where a claimed delivery ended up; ignored if the lease was lost meanwhile.
#[allow(clippy::too_many_arguments)]
pub async fn finish_delivery(
    db: &Db,
    id: i64,
    owner: &str,
    status: DeliveryStatus,
    recipients: &[String],
    reply: &str,
    sent_at: Option<i64>,
    late: bool,
    next_attempt_at: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE report_deliveries SET status = $1, recipients = $2, server_reply = $3, sent_at = $4, late = $5,
                next_attempt_at = $6, lease_owner = NULL, lease_until = NULL
         WHERE id = $7 AND lease_owner = $8",
    )
    .bind(status.as_str())
    .bind(recipients.join(","))
    .bind(reply)
    .bind(sent_at)
    .bind(late as i64)
    .bind(next_attempt_at)
    .bind(id)
    .bind(owner)
    .execute(&db.pool)
    .await?;
    Ok(())
}

// ----- the archive -----

pub async fn insert_archive(db: &Db, account_id: i64, report_id: i64, delivery_id: Option<i64>, document: &ReportDocument) -> Result<i64, AppError> {
    let json = serde_json::to_string(document).map_err(|_| AppError::Internal)?;
    let mut tx = db.begin_write().await?;
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO report_archive (account_id, report_id, report_name, period_start, period_end, document, generated_at, language)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(account_id)
    .bind(report_id)
    .bind(&document.report_name)
    .bind(&document.period_start)
    .bind(&document.period_end)
    .bind(json)
    .bind(document.generated_at)
    .bind(&document.language)
    .fetch_one(&mut *tx)
    .await?;
    if let Some(delivery_id) = delivery_id {
        // The delivery's own link opens its first copy.
        sqlx::query("UPDATE report_deliveries SET archive_id = COALESCE(archive_id, $1) WHERE id = $2").bind(id).bind(delivery_id).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Puts a newly generated document in place of an archived one (a consolidated report made again
/// for a retry).
pub async fn replace_archive(db: &Db, account_id: i64, id: i64, document: &ReportDocument) -> Result<(), AppError> {
    let json = serde_json::to_string(document).map_err(|_| AppError::Internal)?;
    sqlx::query("UPDATE report_archive SET document = $1, generated_at = $2 WHERE id = $3 AND account_id = $4")
        .bind(json)
        .bind(document.generated_at)
        .bind(id)
        .bind(account_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn archived(db: &Db, account_id: i64, id: i64) -> Result<(Option<i64>, ReportDocument), AppError> {
    let (report_id, json) = sqlx::query_as::<_, (Option<i64>, String)>(
        "SELECT report_id, document FROM report_archive WHERE id = $1 AND account_id = $2",
    )
    .bind(id)
    .bind(account_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    let document = serde_json::from_str(&json).map_err(|error| {
        tracing::error!(%error, archive = id, "unreadable archived report");
        AppError::Internal
    })?;
    Ok((report_id, document))
}

/// The account's archive, newest first.
pub async fn archive_page(db: &Db, account_id: i64, page: i64) -> Result<ArchivePage, AppError> {
    let total = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM report_archive WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(&db.pool)
        .await?;
    let PageWindow { page, offset, .. } = page_window(page, total, ARCHIVE_PAGE_SIZE);
    let rows = sqlx::query_as::<_, (i64, String, String, String, i64, Option<i64>, String)>(
        "SELECT id, report_name, period_start, period_end, generated_at, report_id, language FROM report_archive
         WHERE account_id = $1 ORDER BY generated_at DESC, id DESC LIMIT $2 OFFSET $3",
    )
    .bind(account_id)
    .bind(ARCHIVE_PAGE_SIZE)
    .bind(offset)
    .fetch_all(&db.pool)
    .await?;
    Ok(ArchivePage {
        entries: rows
            .into_iter()
            .map(|(id, report_name, period_start, period_end, generated_at, report_id, language)| ArchiveEntry {
                id,
                report_name,
                period_start,
                period_end,
                generated_at,
                report_id,
                language,
            })
            .collect(),
        page,
        total,
    })
}
