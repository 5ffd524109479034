//! Server functions of the Reports page. Everyone in an Advanced or Enterprise account can
//! look; only admins change reports or send them.

use leptos::prelude::*;

use super::document::ArchivedReport;
use super::model::{ArchivePage, DeliveryStatus, Report, ReportHistory, ReportInput, ReportList};
use crate::error::AppError;

#[cfg(feature = "ssr")]
async fn reader() -> Result<(crate::auth::session::CurrentUser, crate::server::AppState), AppError> {
    crate::auth::session::feature_caller(crate::editions::Feature::SecurityReports, false).await
}

#[cfg(feature = "ssr")]
async fn writer() -> Result<(crate::auth::session::CurrentUser, crate::server::AppState), AppError> {
    crate::auth::session::feature_caller(crate::editions::Feature::SecurityReports, true).await
}

/// Filters: `status` is "" | "enabled" | "disabled", `kind` "" or a report type, `name` a substring.
#[server(endpoint = "list_reports")]
pub async fn list_reports(status: String, kind: String, name: String) -> Result<ReportList, AppError> {
    use super::model::ReportKind;
    use super::repo::{self, ReportFilter};

    let (user, state) = reader().await?;
    let filter = ReportFilter {
        enabled: match status.as_str() {
            "enabled" => Some(true),
            "disabled" => Some(false),
            _ => None,
        },
        kind: ReportKind::parse(&kind),
        name,
    };
    let mailer = crate::mail::outbox::mailer_for(&state, user.account_id()).await?;
    let mut conn = state.db.pool.acquire().await?;
    let time_zone = crate::auth::repo::time_zone(&mut *conn, user.account_id()).await?.name().to_string();
    drop(conn);
    Ok(ReportList {
        reports: repo::list_reports(&state.db, user.account_id(), &filter).await?,
        total: repo::count_reports(&state.db, user.account_id()).await?,
        time_zone,
        outbox_mode: mailer.is_outbox(),
    })
}

#[server(endpoint = "get_report")]
pub async fn get_report(id: i64) -> Result<Report, AppError> {
    let (user, state) = reader().await?;
    super::repo::get_report(&state.db, user.account_id(), id).await
}

/// A report that covers managed accounts needs a management account (Enterprise, authorized)
/// and accounts it manages.
#[cfg(feature = "ssr")]
async fn check_scope(
    user: &crate::auth::session::CurrentUser,
    state: &crate::server::AppState,
    report: &super::model::ValidReport,
) -> Result<(), AppError> {
    use super::model::ReportScope;
    use crate::locale::td_string;
    if report.scope == ReportScope::ThisAccount {
        return Ok(());
    }
    let managed = crate::auth::repo::managed_ids(&state.db, user.account_id()).await?;
    let l = crate::locale::request_locale();
    if user.require_feature(state, crate::editions::Feature::MultiAccountControl).await.is_err() || managed.is_empty() {
        return Err(AppError::field("scope", td_string!(l, reports.errors.scope_needs_management)));
    }
    if report.scope == ReportScope::Chosen && report.scope_accounts.iter().any(|id| !managed.contains(id)) {
        return Err(AppError::field("scope_accounts", td_string!(l, reports.errors.scope_accounts_not_managed)));
    }
    Ok(())
}

/// Managed accounts a report of this account can cover; empty unless it is a management account.
#[server(endpoint = "list_report_accounts")]
pub async fn list_report_accounts() -> Result<Vec<(i64, String)>, AppError> {
    let (user, state) = reader().await?;
    if user.require_feature(&state, crate::editions::Feature::MultiAccountControl).await.is_err() {
        return Ok(Vec::new());
    }
    Ok(crate::auth::repo::managed_names(&state.db, user.account_id())
        .await?
        .into_iter()
        .map(|(id, name, no)| (id, format!("{name} ({no})")))
        .collect())
}

#[server(endpoint = "create_report")]
pub async fn create_report(report: ReportInput) -> Result<i64, AppError> {
    let (user, state) = writer().await?;
    let valid = report.validate(true, crate::locale::request_locale())?;
    check_scope(&user, &state, &valid).await?;
    super::repo::create_report(&state.db, user.account_id(), &user.actor(), &valid).await
}

#[server(endpoint = "update_report")]
pub async fn update_report(id: i64, report: ReportInput) -> Result<(), AppError> {
    let (user, state) = writer().await?;
    let current = super::repo::get_report(&state.db, user.account_id(), id).await?;
    let valid = report.validate(!current.is_default, crate::locale::request_locale())?;
    check_scope(&user, &state, &valid).await?;
    super::repo::update_report(&state.db, user.account_id(), &user.actor(), id, &valid).await
}

#[server(endpoint = "set_report_enabled")]
pub async fn set_report_enabled(id: i64, enabled: bool) -> Result<(), AppError> {
    let (user, state) = writer().await?;
    super::repo::set_enabled(&state.db, user.account_id(), &user.actor(), id, enabled).await
}

#[server(endpoint = "delete_report")]
pub async fn delete_report(id: i64) -> Result<(), AppError> {
    let (user, state) = writer().await?;
    super::repo::delete_report(&state.db, user.account_id(), &user.actor(), id).await
}

/// What "Send now" did: the delivery and where it ended up.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SendOutcome {
    pub delivery_id: i64,
    pub status: DeliveryStatus,
    pub server_reply: String,
    pub recipients: Vec<String>,
}

#[server(endpoint = "send_report_now")]
pub async fn send_report_now(id: i64) -> Result<SendOutcome, AppError> {
    use crate::server::audit;
    use crate::server::limits::{self, Action};

    let (user, state) = writer().await?;
    let report = super::repo::get_report(&state.db, user.account_id(), id).await?;
    if report.recipients.is_empty() {
        return Err(AppError::Conflict(crate::locale::td_string!(crate::locale::request_locale(), reports.errors.no_recipients).into()));
    }
    limits::take(&mut *state.db.pool.acquire().await?, user.account_id(), Action::SendNow, crate::server::now()).await?;
    let (delivery_id, status) = super::delivery::send_now(&state, user.account_id(), id, crate::server::config::replica_id()).await?;
    audit::record(&state.db.pool, user.account_id(), &user.actor(), "report.send_now", &report.name, status.as_str()).await?;
    let delivery = super::repo::delivery(&state.db, delivery_id).await?.into_delivery();
    Ok(SendOutcome { delivery_id, status, server_reply: delivery.server_reply, recipients: delivery.recipients })
}

#[server(endpoint = "get_report_history")]
pub async fn get_report_history(id: i64) -> Result<ReportHistory, AppError> {
    let (user, state) = reader().await?;
    Ok(ReportHistory {
        report: super::repo::get_report(&state.db, user.account_id(), id).await?,
        deliveries: super::repo::deliveries(&state.db, user.account_id(), id).await?,
    })
}

#[server(endpoint = "get_archived_report")]
pub async fn get_archived_report(id: i64) -> Result<ArchivedReport, AppError> {
    let (user, state) = reader().await?;
    let (report_id, document) = super::repo::archived(&state.db, user.account_id(), id).await?;
    let chart_svgs = super::render::chart_svgs(&document);
    Ok(ArchivedReport { id, report_id, document, chart_svgs })
}

#[server(endpoint = "list_archive")]
pub async fn list_archive(page: i64) -> Result<ArchivePage, AppError> {
    let (user, state) = reader().await?;
    super::repo::archive_page(&state.db, user.account_id(), page).await
}
