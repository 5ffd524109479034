//! Sign-in, sign-out and "who am I".

use leptos::prelude::*;

use super::model::Me;
use crate::error::AppError;

/// Failed attempts per email within the window before sign-in is refused for a while.
pub const MAX_FAILED_SIGN_INS: i64 = 5;
pub const FAILED_SIGN_IN_WINDOW_SECS: i64 = 15 * 60;
/// Failed attempts per client address (any emails) within the same window.
pub const MAX_FAILED_SIGN_INS_PER_CLIENT: i64 = 20;
pub use super::model::MAX_EMAIL_CHARS;

#[server(endpoint = "get_me")]
pub async fn get_me() -> Result<Me, AppError> {
    use super::repo;
    use super::session::caller;

    let (user, state) = caller().await?;
    let authorized = repo::authorized_services(&state.db, user.account_id()).await?;
    Ok(Me {
        user_id: user.user_id,
        email: user.email,
        name: user.name,
        role: user.role,
        account: user.account,
        authorized,
        language: user.language,
    })
}

#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use super::model::safe_next;
    use super::repo::{self, FailureKey};
    use super::session::{session, USER_ID_KEY};
    use crate::error::FieldErrors;
    use crate::locale::td_string;
    use crate::server::{audit, crypto, now, state};

    // The form's messages in the reader's language (this page has no session yet).
    let l = crate::locale::request_locale();
    let email = email.trim().to_lowercase();
    let mut errors = FieldErrors::new();
    if email.is_empty() {
        errors.insert("email".into(), td_string!(l, common.sign_in_check.enter_email).into());
    }
    if email.chars().count() > MAX_EMAIL_CHARS {
        errors.insert("email".into(), td_string!(l, common.sign_in_check.email_too_long, max = MAX_EMAIL_CHARS));
    }
    if password.is_empty() {
        errors.insert("password".into(), td_string!(l, common.sign_in_check.enter_password).into());
    }
    AppError::check(errors)?;

    let state = state()?;
    let now = now();
    let client = client_address(&state);
    let throttles = [
        (FailureKey::Client(&client), MAX_FAILED_SIGN_INS_PER_CLIENT, td_string!(l, common.sign_in_check.from_address)),
        (FailureKey::Email(&email), MAX_FAILED_SIGN_INS, td_string!(l, common.sign_in_check.for_email)),
    ];
    for (key, limit, whose) in throttles {
        let (recent, oldest) = repo::failures_since(&state.db, key, now - FAILED_SIGN_IN_WINDOW_SECS).await?;
        if recent >= limit {
            let wait = oldest.map(|t| t + FAILED_SIGN_IN_WINDOW_SECS - now).unwrap_or(FAILED_SIGN_IN_WINDOW_SECS);
            let minutes = (wait.max(1) + 59) / 60;
            let wait = if minutes == 1 {
                td_string!(l, common.sign_in_check.one_minute).to_string()
            } else {
                td_string!(l, common.sign_in_check.minutes, count = minutes)
            };
            return Err(AppError::TooManyRequests(td_string!(l, common.sign_in_check.too_many, whose, wait)));
        }
    }

    let stored = repo::credentials(&state.db, &email).await?;
    let slot = state.password_checks.slot().await?;
    let verified = crypto::verify_password(password, stored.as_ref().map(|(_, hash)| hash.clone())).await;
    drop(slot);
    let user_id = match (verified, stored) {
        (true, Some((user_id, _))) => user_id,
        _ => {
            repo::record_failure(&state.db, FailureKey::Email(&email)).await?;
            repo::record_failure(&state.db, FailureKey::Client(&client)).await?;
            tracing::info!("failed sign-in");
            return Err(AppError::BadCredentials);
        }
    };
    // The address's failures stay: one good account must not buy a guesser more attempts.
    repo::clear_failures(&state.db, &email).await?;

    let session = session().await?;
    // A new session id on sign-in, so a planted cookie is worthless.
    session.cycle_id().await?;
    session.insert(USER_ID_KEY, user_id).await?;
    if let Some(user) = repo::current_user(&state.db, user_id).await? {
        audit::record(&state.db.pool, user.account_id(), &user.actor(), "user.sign_in", &user.email, "").await?;
        // The language the user chose before, on any browser, becomes this browser's.
        if let Some(chosen) = user.language.as_deref().and_then(crate::locale::parse) {
            send_language_cookie(chosen);
        }
    }
    leptos_axum::redirect(safe_next(next.as_deref().unwrap_or("/")));
    Ok(())
}

/// Saves the signed-in user's language (any role: it is their own setting) and sets the
/// cookie that makes the server render in it.
#[server(endpoint = "set_language")]
pub async fn set_language(language: String) -> Result<(), AppError> {
    use super::session::caller;

    let (user, state) = caller().await?;
    let l = crate::locale::request_locale();
    let chosen = crate::locale::parse(&language)
        .ok_or_else(|| AppError::field("language", crate::locale::td_string!(l, common.errors.choose_language)))?;
    super::repo::set_user_locale(&state.db, user.user_id, crate::locale::tag(chosen)).await?;
    send_language_cookie(chosen);
    Ok(())
}

#[cfg(feature = "ssr")]
fn send_language_cookie(chosen: crate::locale::Locale) {
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&crate::locale::set_cookie_header(chosen)),
    ) {
        response.append_header(http::header::SET_COOKIE, value);
    }
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use super::session::session;

    session().await?.flush().await?;
    leptos_axum::redirect("/sign-in");
    Ok(())
}

#[server(endpoint = "grant_authorization")]
pub async fn grant_authorization(service: String) -> Result<(), AppError> {
    use crate::editions::Service;
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    let l = crate::locale::request_locale();
    let service = Service::parse(&service).ok_or_else(|| AppError::field("service", crate::locale::td_string!(l, common.errors.unknown_service)))?;
    let feature = service.feature();
    if !user.account.edition.allows(feature) {
        return Err(AppError::UpgradeRequired { feature, edition: feature.required_edition() });
    }
    super::repo::grant_authorization(&state.db, user.account_id(), &user.actor(), user.user_id, service).await
}

#[server(endpoint = "revoke_authorization")]
pub async fn revoke_authorization(service: String) -> Result<(), AppError> {
    use crate::editions::Service;
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    let l = crate::locale::request_locale();
    let service = Service::parse(&service).ok_or_else(|| AppError::field("service", crate::locale::td_string!(l, common.errors.unknown_service)))?;
    super::repo::revoke_authorization(&state.db, user.account_id(), &user.actor(), service).await
}

/// The address a sign-in comes from (see `server::client`); "unknown" when the request carries
/// no peer, which happens only to requests built in-process.
#[cfg(feature = "ssr")]
fn client_address(state: &crate::server::AppState) -> String {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;

    let Some(parts) = use_context::<http::request::Parts>() else { return "unknown".into() };
    let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else { return "unknown".into() };
    let forwarded = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
    state.config.trusted_proxies.client(peer.ip(), forwarded).to_string()
}
