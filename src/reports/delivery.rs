//! Sending reports: each tick moves due schedules into delivery rows, then claims deliveries
//! (one replica wins each claim), generates and archives the document, and mails it with
//! retries. Everything the loop knows lives in the database, so a restart loses nothing.

use chrono_tz::Tz;

use super::document::ReportDocument;
use super::model::{DeliveryStatus, ReportScope};
use super::schedule::{current_period, local_date};
use crate::server::clock::parse_time_zone;
use super::{generate, render, repo};
use crate::auth::session::refusal_now;
use crate::editions::Feature;
use crate::error::AppError;
use crate::server::mailer::{OutgoingMail, SendError};
use crate::mail::outbox::mailer_for;
use crate::locale::Locale;
use crate::server::{now, AppState};

/// How long a claim holds before another replica may take the delivery over.
pub const LEASE_SECS: i64 = 600;
/// Temporary failures are retried for this long after the first attempt.
pub const RETRY_FOR_SECS: i64 = 24 * 3600;

/// What one tick did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TickOutcome {
    pub materialized: usize,
    pub processed: usize,
}

/// One pass of the scheduler: plan, then send what is due.
pub async fn tick(state: &AppState, owner: &str, now: i64) -> Result<TickOutcome, AppError> {
    let mut outcome = TickOutcome::default();
    for due in repo::due_reports(&state.db, now, 1000).await? {
        if repo::materialize(&state.db, &due, now).await?.is_some() {
            outcome.materialized += 1;
        }
    }
    for id in repo::claimable_deliveries(&state.db, now, 50).await? {
        if repo::claim(&state.db, id, owner, now, LEASE_SECS).await? {
            process(state, id, owner).await?;
            outcome.processed += 1;
        }
    }
    Ok(outcome)
}

/// Backoff after the n-th failed attempt: 1, 2, 4 … minutes, at most an hour.
pub fn retry_delay(attempts: i64) -> i64 {
    60 * (1_i64 << (attempts.clamp(1, 7) - 1)).min(60)
}

/// Generates (once) and sends a delivery this process has claimed; returns where it ended.
pub async fn process(state: &AppState, id: i64, owner: &str) -> Result<DeliveryStatus, AppError> {
    let delivery = repo::delivery(&state.db, id).await?;
    let mut conn = state.db.pool.acquire().await?;
    let report = repo::report_row(&mut conn, delivery.account_id, delivery.report_id).await?;
    let tz = crate::auth::repo::time_zone(&mut *conn, delivery.account_id).await?;
    drop(conn);
    let finish = |status: DeliveryStatus, recipients: Vec<String>, reply: String, sent_at: Option<i64>, late: bool, next: i64| {
        let db = state.db.clone();
        let owner = owner.to_string();
        async move {
            repo::finish_delivery(&db, id, &owner, status, &recipients, &reply, sent_at, late, next).await?;
            Ok::<DeliveryStatus, AppError>(status)
        }
    };
    let at = now();
    if delivery.manual == 0 && report.enabled == 0 {
        return finish(DeliveryStatus::Skipped, vec![], "The report was disabled before it was sent.".into(), None, false, at).await;
    }
    // The account as it is now, not as it was when the report was set up.
    if let Some(reason) = refusal_now(&state.db, delivery.account_id, Feature::SecurityReports).await? {
        return finish(DeliveryStatus::Skipped, vec![], format!("Not sent: {reason}."), None, false, at).await;
    }
    let recipients = report.recipients();
    if recipients.is_empty() {
        return finish(DeliveryStatus::Skipped, vec![], "No recipients: add them to the report to receive it.".into(), None, false, at)
            .await;
    }
    let consolidated = report.scope() != ReportScope::ThisAccount;
    let mut note = String::new();
    let members = if consolidated {
        if let Some(reason) = refusal_now(&state.db, delivery.account_id, Feature::MultiAccountControl).await? {
            return finish(DeliveryStatus::Skipped, vec![], format!("Not sent: this report covers managed accounts, and {reason}."), None, false, at)
                .await;
        }
        // Only the accounts this account manages now: a member removed since is left out.
        let members = repo::covered_members(&state.db, &report).await?;
        if members.is_empty() {
            let reason = "Not sent: this report covers managed accounts, and this account manages none of them any more.";
            return finish(DeliveryStatus::Skipped, vec![], reason.into(), None, false, at).await;
        }
        let left_out = report.scope_accounts().len().saturating_sub(members.len());
        if report.scope() == ReportScope::Chosen && left_out > 0 {
            note = format!(" ({left_out} chosen account(s) left out: this account no longer manages them.)");
        }
        members
    } else {
        Vec::new()
    };
    // One copy per language the recipients read; a retry sends only to those not reached yet.
    let copies = repo::copies(&state.db, id).await?;
    let reached: Vec<String> = copies.iter().flat_map(|c| c.sent_to()).collect();
    let remaining: Vec<String> = recipients.iter().filter(|r| !reached.contains(r)).cloned().collect();
    let mut replies: Vec<(String, String)> = copies.iter().filter(|c| !c.sent_to.is_empty()).map(|c| (c.language.clone(), c.server_reply.clone())).collect();
    let mut failure: Option<SendError> = None;
    for (language, to) in reading_groups(&state.db, delivery.account_id, &remaining).await? {
        let tag = crate::locale::tag(language);
        let earlier = copies.iter().find(|c| c.language == tag).and_then(|c| c.archive_id);
        let (archive_id, document) = match earlier {
            // A retry sends the document generated for the first attempt, except a consolidated
            // one: the managed accounts may have changed since.
            Some(archive_id) if !consolidated => (archive_id, repo::archived(&state.db, delivery.account_id, archive_id).await?.1),
            earlier => {
                let period = (parse_day(&delivery.period_start)?, parse_day(&delivery.period_end)?);
                let request = generate::Request {
                    account_id: delivery.account_id,
                    report_name: &report.name,
                    sections: &report.sections(),
                    tz,
                    period,
                    generated_at: at,
                    members: &members,
                    language,
                };
                let document = generate::build(&state.db, &request).await?;
                let archive_id = match earlier {
                    Some(archive_id) => {
                        repo::replace_archive(&state.db, delivery.account_id, archive_id, &document).await?;
                        archive_id
                    }
                    None => repo::insert_archive(&state.db, delivery.account_id, report.id, Some(id), &document).await?,
                };
                (archive_id, document)
            }
        };
        repo::save_copy(&state.db, id, tag, archive_id, &to).await?;
        let outcome = match compose(&document, to.clone(), &state.config.public_url).await {
            Ok(mail) => mailer_for(state, delivery.account_id).await?.send(&mail).await,
            Err(reason) => {
                tracing::error!(delivery = id, %reason, "rendering a report failed");
                Err(SendError { transient: false, message: format!("Rendering failed: {reason}") })
            }
        };
        let reply = match outcome {
            Ok(reply) => {
                repo::copy_sent(&state.db, id, tag, Some((&to, now())), &reply).await?;
                reply
            }
            Err(error) => {
                repo::copy_sent(&state.db, id, tag, None, &error.message).await?;
                let message = error.message.clone();
                // A temporary failure of any copy makes the delivery retry; a permanent one of
                // another copy does not stop that.
                if failure.as_ref().is_none_or(|f| !f.transient) {
                    failure = Some(error);
                }
                message
            }
        };
        replies.retain(|(l, _)| l != tag);
        replies.push((tag.to_string(), reply));
    }
    // One language: the server's answer as it is; several: each copy's, named by its language.
    let reply = match replies.as_slice() {
        [(_, only)] => only.clone(),
        all => all.iter().map(|(language, reply)| format!("{language}: {reply}")).collect::<Vec<_>>().join("; "),
    };
    let at = now();
    match failure {
        None => {
            let late = delivery.manual == 0 && at > delivery.window_end;
            tracing::info!(delivery = id, report = report.id, late, "report sent");
            finish(DeliveryStatus::Sent, recipients, format!("{reply}{note}"), Some(at), late, at).await
        }
        Some(SendError { transient, .. }) => {
            let first = delivery.first_attempt_at.unwrap_or(at);
            let attempts = delivery.attempts.max(1);
            if transient && at - first < RETRY_FOR_SECS {
                tracing::warn!(delivery = id, attempts, message = %reply, "report delivery will be retried");
                finish(DeliveryStatus::Retrying, recipients, reply, None, false, at + retry_delay(attempts)).await
            } else {
                tracing::warn!(delivery = id, attempts, message = %reply, "report delivery failed");
                let message = if transient { format!("Gave up after 24 hours of retries. Last answer: {reply}") } else { reply };
                finish(DeliveryStatus::Failed, recipients, message, None, false, at).await
            }
        }
    }
}

/// The recipients not reached yet, grouped by the language each reads (their own if they are a
/// user of the account who chose one, else the account's), in languages a report can be drawn
/// in: without a CJK font, Chinese readers get the English copy.
async fn reading_groups(db: &crate::server::db::Db, account_id: i64, remaining: &[String]) -> Result<Vec<(Locale, Vec<String>)>, AppError> {
    let groups = crate::auth::repo::recipients_by_language(db, account_id, remaining).await?;
    Ok(crate::locale::group_by_language(groups.into_iter().flat_map(|(language, to)| {
        let language = render::usable_language(language);
        to.into_iter().map(move |address| (language, address))
    })))
}

/// "Send now": a manual delivery of the current period, claimed and sent at once.
pub async fn send_now(state: &AppState, account_id: i64, report_id: i64, owner: &str) -> Result<(i64, DeliveryStatus), AppError> {
    let mut conn = state.db.pool.acquire().await?;
    let report = repo::report_row(&mut conn, account_id, report_id).await?;
    let tz: Tz = crate::auth::repo::time_zone(&mut *conn, account_id).await?;
    drop(conn);
    let at = now();
    let period = current_period(report.kind(), local_date(tz, at), report.custom()).ok_or(AppError::Internal)?;
    let id = repo::insert_manual_delivery(&state.db, account_id, report_id, period, at).await?;
    if !repo::claim(&state.db, id, owner, at, LEASE_SECS).await? {
        // A scheduler tick took it first; it sends it.
        return Ok((id, DeliveryStatus::Sending));
    }
    Ok((id, process(state, id, owner).await?))
}

fn parse_day(text: &str) -> Result<chrono::NaiveDate, AppError> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| AppError::Internal)
}

/// The email of a document: HTML with inline PNG charts, plain text, and the PDF attached.
pub async fn compose(document: &ReportDocument, to: Vec<String>, console_url: &str) -> Result<OutgoingMail, String> {
    let document = document.clone();
    let console_url = console_url.to_string();
    tokio::task::spawn_blocking(move || {
        let mut inline_png = Vec::new();
        for (i, section) in document.sections.iter().enumerate() {
            inline_png.push((format!("chart-{i}"), render::chart_png_in(&section.chart, document.locale())?));
        }
        let pdf = render::pdf(&document)?;
        Ok(OutgoingMail {
            to,
            subject: format!("[Bulwark] {}: {} ({})", document.report_name, document.period_label(), document.account_name),
            text: render::email_text_with_link(&document, &console_url),
            html: Some(render::email_html(&document, &console_url)),
            inline_png,
            attachments: vec![(pdf_file_name(&document), "application/pdf".into(), pdf)],
        })
    })
    .await
    .map_err(|e| e.to_string())?
}

/// `weekly-report_2026-11-16_2026-11-22.pdf`: the report name made file-safe, and the period.
pub fn pdf_file_name(document: &ReportDocument) -> String {
    let slug: String = document
        .report_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let slug = if slug.is_empty() { "report".to_string() } else { slug };
    format!("{slug}_{}_{}.pdf", document.period_start, document.period_end)
}

/// The time zone an account's reports use.
pub fn zone_or_utc(name: &str) -> Tz {
    parse_time_zone(name).unwrap_or(chrono_tz::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(retry_delay(1), 60);
        assert_eq!(retry_delay(2), 120);
        assert_eq!(retry_delay(6), 1920);
        assert_eq!(retry_delay(7), 3600);
        assert_eq!(retry_delay(50), 3600);
    }
}
