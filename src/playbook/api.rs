//! Playbook server functions (Enterprise only; viewers read, admins change).

use leptos::prelude::*;

use super::model::*;
use crate::error::AppError;

#[cfg(feature = "ssr")]
async fn reader() -> Result<(crate::auth::session::CurrentUser, crate::server::AppState), AppError> {
    crate::auth::session::feature_caller(crate::editions::Feature::Playbooks, false).await
}

#[cfg(feature = "ssr")]
async fn writer() -> Result<(crate::auth::session::CurrentUser, crate::server::AppState), AppError> {
    crate::auth::session::feature_caller(crate::editions::Feature::Playbooks, true).await
}

#[server(endpoint = "list_policy_templates")]
pub async fn list_policy_templates() -> Result<Vec<PolicyTemplate>, AppError> {
    reader().await?;
    Ok(templates())
}

#[server(endpoint = "clone_policy")]
pub async fn clone_policy(template: String) -> Result<i64, AppError> {
    let (user, state) = writer().await?;
    super::repo::clone_policy(&state.db, user.account_id(), &user.actor(), &template, crate::server::now()).await
}

#[server(endpoint = "list_policies")]
pub async fn list_policies() -> Result<Vec<Policy>, AppError> {
    let (user, state) = reader().await?;
    super::repo::list_policies(&state.db, user.account_id()).await
}

#[server(endpoint = "delete_policy")]
pub async fn delete_policy(id: i64) -> Result<(), AppError> {
    let (user, state) = writer().await?;
    super::repo::delete_policy(&state.db, user.account_id(), &user.actor(), id).await
}

#[server(endpoint = "get_task_choices")]
pub async fn get_task_choices() -> Result<TaskChoices, AppError> {
    let (user, state) = reader().await?;
    let (groups, assets) = super::repo::task_choices(&state.db, user.account_id()).await?;
    let mut chatbots = super::repo::list_chatbots(&state.db, user.account_id()).await?;
    // Even masked, where a webhook points is for admins, who manage the robots.
    if user.role != crate::auth::model::Role::Admin {
        chatbots.iter_mut().for_each(|bot| bot.webhook_hint.clear());
    }
    let time_zone = crate::auth::repo::time_zone(&state.db.pool, user.account_id()).await?.name().to_string();
    Ok(TaskChoices { groups, assets, chatbots, time_zone })
}

/// The unfixed vulnerabilities on the selected assets (the task form's Vulnerability tabs).
#[server(endpoint = "list_task_vulnerabilities")]
pub async fn list_task_vulnerabilities(#[server(default)] asset_ids: Vec<i64>) -> Result<Vec<TaskVulnerability>, AppError> {
    let (user, state) = reader().await?;
    if asset_ids.len() > MAX_TASK_ASSETS {
        let l = crate::locale::request_locale();
        return Err(AppError::field("assets", crate::locale::td_string!(l, playbook.errors.too_many_assets, max = MAX_TASK_ASSETS)));
    }
    let mut conn = state.db.pool.acquire().await?;
    super::repo::task_vulnerabilities(&mut conn, user.account_id(), &asset_ids).await
}

#[server(endpoint = "create_chatbot")]
pub async fn create_chatbot(input: ChatbotInput) -> Result<Chatbot, AppError> {
    let (user, state) = writer().await?;
    AppError::check(input.validate(crate::locale::request_locale()))?;
    // The operator's DingTalk hosts (https on oapi.dingtalk.com unless the operator says more).
    state.config.outbound.robot_url(input.webhook.trim()).map_err(|message| AppError::field("webhook", message))?;
    super::repo::create_chatbot(&state.db, &state.secrets, user.account_id(), &user.actor(), &input, crate::server::now()).await
}

#[server(endpoint = "create_task")]
pub async fn create_task(input: TaskInput) -> Result<i64, AppError> {
    use chrono::TimeZone;
    use crate::locale::td_string;

    let (user, state) = writer().await?;
    let l = crate::locale::request_locale();
    AppError::check(input.validate(l))?;
    let now = crate::server::now();
    let execute_at = if input.custom_time {
        let zone = crate::auth::repo::time_zone(&state.db.pool, user.account_id()).await?;
        let zone_name = zone.name();
        let local = crate::format::parse_local_minute(&input.execute_at)
            .ok_or_else(|| AppError::field("execute_at", td_string!(l, playbook.errors.choose_execute_at)))?;
        // A time the clock skips (DST) cannot be chosen; a repeated one means its first occurrence.
        let at = zone
            .from_local_datetime(&local)
            .earliest()
            .ok_or_else(|| AppError::field("execute_at", td_string!(l, playbook.errors.time_skipped, time = &input.execute_at, zone = zone_name)))?
            .timestamp();
        if at <= now {
            return Err(AppError::field("execute_at", td_string!(l, playbook.errors.time_in_past, zone = zone_name)));
        }
        at
    } else {
        now
    };
    let task = super::repo::NewTask {
        execute_at,
        emails: input.email_list(l).map_err(|m| AppError::field("emails", m))?,
        concurrency: input.concurrency_value(l).map_err(|m| AppError::field("concurrency", m))?,
        stop_after: input.stop_after_value(l).map_err(|m| AppError::field("stop_after", m))?,
    };
    super::repo::create_task(&state.db, user.account_id(), &user.actor(), &input, &task, now).await
}

#[server(endpoint = "list_tasks")]
pub async fn list_tasks() -> Result<Vec<TaskRow>, AppError> {
    let (user, state) = reader().await?;
    super::repo::list_tasks(&state.db, user.account_id()).await
}

#[server(endpoint = "get_task")]
pub async fn get_task(id: i64, run: Option<i64>) -> Result<TaskDetail, AppError> {
    let (user, state) = reader().await?;
    super::repo::task_detail(&state.db, user.account_id(), id, run).await
}

#[server(endpoint = "retry_failed_hosts")]
pub async fn retry_failed_hosts(id: i64) -> Result<(), AppError> {
    let (user, state) = writer().await?;
    super::repo::retry_failed(&state.db, user.account_id(), &user.actor(), id, crate::server::now()).await
}

#[server(endpoint = "cancel_task")]
pub async fn cancel_task(id: i64) -> Result<(), AppError> {
    let (user, state) = writer().await?;
    super::repo::cancel_task(&state.db, user.account_id(), &user.actor(), id, crate::server::now()).await
}
