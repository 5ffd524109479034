//! Tells people a task finished: a markdown message to each chosen DingTalk chatbot and an email
//! through the account's mailer. A failed notification is logged on the task, never fails it.
//! Each completed task is claimed once (`notified_at`), so replicas do not notify twice.

use crate::locale::{td_string, Locale};
use super::dingtalk::{self, Robot};
use crate::error::AppError;
use crate::server::mailer::OutgoingMail;
use crate::mail::outbox::mailer_for;
use crate::server::AppState;

/// Notifies every completed task not notified yet; returns how many.
pub async fn pending(state: &AppState, now: i64) -> Result<usize, AppError> {
    let db = &state.db;
    let tasks = sqlx::query_scalar::<_, i64>("SELECT id FROM playbook_tasks WHERE status = 'completed' AND notified_at IS NULL")
        .fetch_all(&db.pool)
        .await?;
    let mut sent = 0;
    for id in tasks {
        let claimed = sqlx::query("UPDATE playbook_tasks SET notified_at = $1 WHERE id = $2 AND notified_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&db.pool)
            .await?
            .rows_affected();
        if claimed == 1 {
            notify(state, id, now).await?;
            sent += 1;
        }
    }
    Ok(sent)
}

async fn notify(state: &AppState, task_id: i64, now: i64) -> Result<(), AppError> {
    let db = &state.db;
    let (account_id, name, chatbots, emails, dry_run, executed) = sqlx::query_as::<_, (i64, String, String, String, i64, i64)>(
        "SELECT account_id, name, chatbots, emails, dry_run, executed_num FROM playbook_tasks WHERE id = $1",
    )
    .bind(task_id)
    .fetch_one(&db.pool)
    .await?;
    let stamp = crate::format::date_time(Some(now));
    // The account's language: DingTalk groups are shared, not one user's, and so is the task's
    // notification log. Emails go to each recipient in their own language.
    let l = crate::auth::repo::account_locale(db, account_id).await?;
    // Notifying is part of the feature: not once the account's edition (or authorization) lacks it.
    if let Some(reason) = crate::auth::session::refusal_now(db, account_id, crate::editions::Feature::Playbooks).await? {
        return append_log(db, task_id, &[td_string!(l, playbook.notify.log_not_notified, stamp = stamp.clone(), reason)]).await;
    }
    let hosts = sqlx::query_as::<_, (String, String, Option<String>)>(
        "SELECT a.name, h.status, h.error FROM playbook_hosts h JOIN playbook_runs r ON r.id = h.run_id JOIN assets a ON a.id = h.asset_id
         WHERE r.task_id = $1 AND r.number = $2 ORDER BY a.name",
    )
    .bind(task_id)
    .bind(executed)
    .fetch_all(&db.pool)
    .await?;
    let success = hosts.iter().filter(|(_, s, _)| s == "fixed" || s == "simulated").count();
    let failures: Vec<&(String, String, Option<String>)> = hosts.iter().filter(|(_, s, _)| s == "failed").collect();
    // The message in one language: DingTalk groups read the account's, each email recipient
    // their own.
    let message = |l: Locale| {
        let title = td_string!(l, playbook.notify.title, name = name.clone());
        let mut text = format!(
            "### {title}\n\n{}\n{}{}\n",
            td_string!(l, playbook.notify.summary, total = hosts.len(), success, failed = failures.len()),
            td_string!(l, playbook.notify.execution, number = executed),
            if dry_run != 0 { td_string!(l, playbook.notify.dry_run) } else { "" }
        );
        for (host, _, error) in failures.iter().take(10) {
            text.push_str(&format!("- {host}: {}\n", error.as_deref().unwrap_or(td_string!(l, playbook.notify.failed))));
        }
        if failures.len() > 10 {
            text.push_str(&format!("{}\n", td_string!(l, playbook.notify.more_failed, count = failures.len() - 10)));
        }
        text.push_str(&format!("\n[{}]({}/playbook/tasks/{task_id})", td_string!(l, playbook.notify.details), state.config.public_url));
        (title, text)
    };
    let (title, text) = message(l);
    let mut log = Vec::new();

    let ids: Vec<i64> = serde_json::from_str(&chatbots).unwrap_or_default();
    for bot in super::repo::open_chatbots(db, &state.secrets, account_id, &ids).await? {
        let robot = Robot { webhook: bot.webhook, secret: bot.secret, keywords: bot.keywords };
        let outcome = dingtalk::send(&state.outbound, &robot, &title, &text, crate::server::clock::wall_millis()).await;
        log.push(match outcome {
            Ok(()) => td_string!(l, playbook.notify.log_dingtalk_sent, stamp = stamp.clone(), name = bot.name.clone()),
            Err(error) => {
                tracing::warn!(task = task_id, chatbot = %bot.name, %error, "DingTalk notification failed");
                td_string!(l, playbook.notify.log_dingtalk_failed, stamp = stamp.clone(), name = bot.name.clone(), error)
            }
        });
    }
    let to: Vec<String> = emails.split(',').filter(|e| !e.is_empty()).map(str::to_string).collect();
    // One email per language its recipients read.
    for (language, to) in crate::auth::repo::recipients_by_language(db, account_id, &to).await? {
        let (subject, text) = message(language);
        let mail = OutgoingMail { to: to.clone(), subject, text: text.replace("### ", ""), ..OutgoingMail::default() };
        let outcome = match mailer_for(state, account_id).await {
            Ok(mailer) => mailer.send(&mail).await.map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        log.push(match outcome {
            Ok(_) => td_string!(l, playbook.notify.log_email_sent, stamp = stamp.clone(), to = to.join(", ")),
            Err(error) => {
                tracing::warn!(task = task_id, %error, "email notification failed");
                td_string!(l, playbook.notify.log_email_failed, stamp = stamp.clone(), to = to.join(", "), error)
            }
        });
    }
    append_log(db, task_id, &log).await
}

/// Adds lines to the task's notification log (shown on the task's page).
async fn append_log(db: &crate::server::db::Db, task_id: i64, lines: &[String]) -> Result<(), AppError> {
    if !lines.is_empty() {
        sqlx::query("UPDATE playbook_tasks SET notify_log = notify_log || $1 WHERE id = $2")
            .bind(format!("{}\n", lines.join("\n")))
            .bind(task_id)
            .execute(&db.pool)
            .await?;
    }
    Ok(())
}
