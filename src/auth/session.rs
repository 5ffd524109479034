//! Who is calling: the session's user, loaded fresh on every call, and the checks every
//! server function runs (role, edition, authorization) before it touches data.

use tower_sessions::Session;

use crate::editions::Feature;
use super::model::{Account, Role};
use super::repo;
use crate::error::AppError;
use crate::server::db::Db;
use crate::server::audit::Actor;
use crate::server::state::{state, AppState};

pub const USER_ID_KEY: &str = "user_id";

pub use super::model::CurrentUser;

impl CurrentUser {
    pub fn account_id(&self) -> i64 {
        self.account.id
    }

    pub fn actor(&self) -> Actor {
        Actor::User { id: self.user_id, email: self.email.clone() }
    }

    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(AppError::Forbidden("Only admins can do this. Ask an admin of this account.".into()))
        }
    }

    /// The edition gate and, for features that reach other services, the authorization gate.
    pub async fn require_feature(&self, state: &AppState, feature: Feature) -> Result<(), AppError> {
        require_account_feature(state, &self.account, feature).await
    }
}

/// The edition and authorization gates for an account, whoever calls for it (a user or an API token).
pub async fn require_account_feature(state: &AppState, account: &Account, feature: Feature) -> Result<(), AppError> {
    let edition = feature.required_edition();
    if !account.edition.allows(feature) {
        return Err(AppError::UpgradeRequired { feature, edition });
    }
    if let Some(service) = feature.authorization() {
        if !repo::is_authorized(&state.db, account.id, service).await? {
            return Err(AppError::AuthorizationRequired(service));
        }
    }
    Ok(())
}

/// Background work (scheduled reports, playbook runs) asks again each time it runs whether the
/// account may still use `feature`, as the edition and authorizations are now: why not, or
/// `None` when it may.
pub async fn refusal_now(db: &Db, account_id: i64, feature: Feature) -> Result<Option<String>, AppError> {
    let account = repo::account(db, account_id).await?;
    let authorized = match feature.authorization() {
        Some(service) => repo::is_authorized(db, account_id, service).await?,
        None => true,
    };
    Ok(feature.refusal(account.edition, authorized))
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|error| {
        tracing::error!(%error, "no session layer on this request");
        AppError::Internal
    })
}

/// The user signed in on `session`, for plain axum routes (downloads, uploads); `Unauthorized`
/// when nobody is, or the user is gone.
pub async fn session_user(state: &AppState, session: &Session) -> Result<CurrentUser, AppError> {
    let user_id = session.get::<i64>(USER_ID_KEY).await?.ok_or(AppError::Unauthorized)?;
    repo::current_user(&state.db, user_id).await?.ok_or(AppError::Unauthorized)
}

/// The signed-in user, or `Unauthorized`.
pub async fn current_user() -> Result<CurrentUser, AppError> {
    let session = session().await?;
    let Some(user_id) = session.get::<i64>(USER_ID_KEY).await? else {
        return Err(AppError::Unauthorized);
    };
    let state = state()?;
    match repo::current_user(&state.db, user_id).await? {
        Some(user) => Ok(user),
        None => {
            // The user was removed while signed in.
            session.flush().await?;
            Err(AppError::Unauthorized)
        }
    }
}

/// The signed-in user and the state, for the common opening of a server function.
pub async fn caller() -> Result<(CurrentUser, AppState), AppError> {
    Ok((current_user().await?, state()?))
}

/// The signed-in admin and the state, for server functions that change things.
pub async fn admin() -> Result<(CurrentUser, AppState), AppError> {
    let (user, state) = caller().await?;
    user.require_admin()?;
    Ok((user, state))
}

/// The signed-in user of an account whose edition and authorizations allow `feature`; only
/// admins when `admin_only`.
pub async fn feature_caller(feature: Feature, admin_only: bool) -> Result<(CurrentUser, AppState), AppError> {
    let (user, state) = caller().await?;
    user.require_feature(&state, feature).await?;
    if admin_only {
        user.require_admin()?;
    }
    Ok((user, state))
}
