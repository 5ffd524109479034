//! Server functions of Settings. Reading is open to every user of the account except the audit
//! log; every change needs an admin and is audited.

use leptos::prelude::*;

use super::model::{AuditEntry, CreatedToken, TokenSummary};
use crate::auth::model::{NewUser, UserList};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::locale::{request_locale, td_string};
use crate::overview::score::ScoreWeights;

#[server(endpoint = "list_users")]
pub async fn list_users() -> Result<UserList, AppError> {
    use crate::auth::model::Role;
    use crate::auth::session::caller;

    let (user, state) = caller().await?;
    Ok(UserList {
        users: crate::auth::repo::list_users(&state.db, user.account_id()).await?,
        you: user.user_id,
        can_manage: user.role == Role::Admin,
    })
}

#[server(endpoint = "add_user")]
pub async fn add_user(user: NewUser) -> Result<(), AppError> {
    use crate::auth::model::Role;
    use crate::auth::session::admin;
    use crate::server::{audit, crypto};

    let (admin_user, state) = admin().await?;
    user.validate(request_locale())?;
    let role = Role::parse(&user.role).ok_or(AppError::Internal)?;
    let hash = crypto::hash_password(user.password.clone()).await?;
    let mut tx = state.db.begin_write().await?;
    crate::auth::repo::create_user(&mut *tx, admin_user.account_id(), &user.email, &user.name, role, &hash.0).await?;
    audit::record(&mut *tx, admin_user.account_id(), &admin_user.actor(), "user.add", &user.email.trim().to_lowercase(), role.as_str())
        .await?;
    tx.commit().await?;
    Ok(())
}

#[server(endpoint = "set_user_role")]
pub async fn set_user_role(id: i64, role: String) -> Result<(), AppError> {
    use crate::auth::model::Role;
    use crate::auth::session::admin;

    let (admin_user, state) = admin().await?;
    let role = Role::parse(&role).ok_or_else(|| AppError::field("role", td_string!(request_locale(), common.errors.choose_role)))?;
    super::repo::set_user_role(&state.db, admin_user.account_id(), &admin_user.actor(), id, role).await
}

#[server(endpoint = "remove_user")]
pub async fn remove_user(id: i64) -> Result<(), AppError> {
    use crate::auth::session::admin;

    let (admin_user, state) = admin().await?;
    if id == admin_user.user_id {
        return Err(AppError::Conflict(td_string!(request_locale(), settings.errors.cannot_remove_self).into()));
    }
    super::repo::remove_user(&state.db, admin_user.account_id(), &admin_user.actor(), id).await
}

#[server(endpoint = "list_tokens")]
pub async fn list_tokens() -> Result<Vec<TokenSummary>, AppError> {
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    super::repo::list_tokens(&state.db, user.account_id()).await
}

#[server(endpoint = "create_token")]
pub async fn create_token(name: String) -> Result<CreatedToken, AppError> {
    use super::model::validate_token_name;
    use crate::auth::session::admin;
    use crate::server::crypto::new_api_token;

    let (user, state) = admin().await?;
    validate_token_name(&name, request_locale())?;
    let (token, prefix, hash) = new_api_token();
    super::repo::create_token(&state.db, user.account_id(), &user.actor(), Some(user.user_id), &name, &prefix, &hash).await?;
    Ok(CreatedToken { name: name.trim().to_string(), token })
}

#[server(endpoint = "revoke_token")]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    super::repo::revoke_token(&state.db, user.account_id(), &user.actor(), id).await
}

#[server(endpoint = "get_score_weights")]
pub async fn get_score_weights() -> Result<ScoreWeights, AppError> {
    use crate::auth::session::caller;

    let (user, state) = caller().await?;
    crate::overview::repo::weights(&state.db, user.account_id()).await
}

#[server(endpoint = "set_score_weights")]
pub async fn set_score_weights(weights: ScoreWeights) -> Result<(), AppError> {
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    weights.validate(request_locale())?;
    super::repo::set_weights(&state.db, user.account_id(), &user.actor(), &weights).await
}

#[server(endpoint = "list_audit")]
pub async fn list_audit(page: i64) -> Result<(Vec<AuditEntry>, i64), AppError> {
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    super::repo::audit_page(&state.db, user.account_id(), page).await
}

#[server(endpoint = "get_email_settings")]
pub async fn get_email_settings() -> Result<super::model::EmailSettings, AppError> {
    use super::model::{EmailSettings, SmtpView};
    use crate::auth::model::Role;
    use crate::auth::session::caller;

    let (user, state) = caller().await?;
    let admin = user.role == Role::Admin;
    let own = crate::mail::repo::smtp_settings(&state.db, &state.secrets, user.account_id()).await?;
    let mut conn = state.db.pool.acquire().await?;
    let time_zone = crate::auth::repo::time_zone(&mut *conn, user.account_id()).await?.name().to_string();
    drop(conn);
    let language = crate::locale::tag(crate::auth::repo::account_locale(&state.db, user.account_id()).await?).to_string();
    Ok(EmailSettings {
        outbox_mode: own.is_none() && state.config.smtp.is_none(),
        smtp: own.map(|s| SmtpView {
            host: s.host,
            port: s.port as i64,
            security: s.security.as_str().into(),
            username: admin.then(|| s.username.unwrap_or_default()),
            has_password: admin.then_some(s.password.is_some()),
            from: s.from,
        }),
        console_smtp: state.config.smtp.as_ref().map(|s| format!("{}:{}", s.host, s.port)),
        time_zone,
        language,
    })
}

#[server(endpoint = "save_smtp_settings")]
pub async fn save_smtp_settings(smtp: super::model::SmtpInput) -> Result<(), AppError> {
    use crate::auth::session::admin;
    use crate::server::mailer::{SmtpSecurity, SmtpSettings};

    let (user, state) = admin().await?;
    let l = request_locale();
    AppError::check(smtp.validate(l))?;
    let username = Some(smtp.username.trim().to_string()).filter(|u| !u.is_empty());
    let password = if smtp.clear_password.is_some() || username.is_none() {
        Some("")
    } else if smtp.password.is_empty() {
        None
    } else {
        Some(smtp.password.as_str())
    };
    // A host the outbound policy refuses is refused here, beside the field (sending checks again).
    let host = smtp.host.trim();
    if let Err(refused @ crate::server::outbound::Refused::Blocked { .. }) = state.config.outbound.resolve(host, 25).await {
        return Err(AppError::field("host", refused.to_string()));
    }
    let settings = SmtpSettings {
        host: host.to_string(),
        port: smtp.port.trim().parse().map_err(|_| AppError::field("port", td_string!(l, settings.errors.port_range)))?,
        security: SmtpSecurity::parse(&smtp.security).ok_or(AppError::Internal)?,
        username,
        password: None,
        from: smtp.from.trim().to_string(),
    };
    crate::mail::repo::save_smtp_settings(&state.db, &state.secrets, user.account_id(), &user.actor(), &settings, password).await
}

#[server(endpoint = "remove_smtp_settings")]
pub async fn remove_smtp_settings() -> Result<(), AppError> {
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    crate::mail::repo::delete_smtp_settings(&state.db, user.account_id(), &user.actor()).await
}

/// Sends a short message through the account's mailer; returns the server's answer.
#[server(endpoint = "send_test_email")]
pub async fn send_test_email(to: String) -> Result<String, AppError> {
    use crate::auth::session::admin;
    use crate::mail::outbox::mailer_for;
    use crate::server::limits::{self, Action};
    use crate::server::mailer::OutgoingMail;

    let (user, state) = admin().await?;
    let to = to.trim().to_lowercase();
    // In the language of the admin who asks for it, as the page they read.
    let l = request_locale();
    crate::auth::model::validate_email(&to).map_err(|problem| AppError::field("to", problem.message(l)))?;
    limits::take(&mut *state.db.pool.acquire().await?, user.account_id(), Action::TestEmail, crate::server::now()).await?;
    let mailer = mailer_for(&state, user.account_id()).await?;
    let mail = OutgoingMail {
        to: vec![to.clone()],
        subject: td_string!(l, settings.email.test_subject).into(),
        text: td_string!(l, settings.email.test_body, sender = user.email.clone(), account = user.account.name.clone()).to_string(),
        ..Default::default()
    };
    let reply = mailer.send(&mail).await.map_err(|reason| AppError::field("to", td_string!(l, settings.errors.not_sent, reason)))?;
    crate::server::audit::record(&state.db.pool, user.account_id(), &user.actor(), "smtp.test", &to, &reply).await?;
    Ok(reply)
}

#[server(endpoint = "set_time_zone")]
pub async fn set_time_zone(time_zone: String) -> Result<(), AppError> {
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    let zone = crate::server::clock::parse_time_zone(&time_zone)
        .ok_or_else(|| AppError::field("time_zone", td_string!(request_locale(), settings.errors.unknown_time_zone, zone = time_zone.trim())))?;
    super::repo::set_time_zone(&state.db, user.account_id(), &user.actor(), zone.name()).await
}

/// The account's default language: the language of its scheduled reports (admins only).
#[server(endpoint = "set_account_language")]
pub async fn set_account_language(language: String) -> Result<(), AppError> {
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    let chosen = crate::locale::parse(&language)
        .ok_or_else(|| AppError::field("language", td_string!(request_locale(), common.errors.choose_language)))?;
    crate::auth::repo::set_account_locale(&state.db, user.account_id(), &user.actor(), crate::locale::tag(chosen)).await
}

/// Messages of this account in the local outbox, newest first.
#[server(endpoint = "list_outbox")]
pub async fn list_outbox() -> Result<Vec<crate::mail::model::OutboxMessage>, AppError> {
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    let dir = crate::mail::outbox::outbox_dir(&state, user.account_id()).await?;
    Ok(crate::mail::outbox::list_outbox(&dir, 100).await)
}
