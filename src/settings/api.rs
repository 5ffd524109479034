//! Server functions of Settings. Reading is open to every user of the account except the audit
//! log; every change needs an admin and is audited.

use leptos::prelude::*;

use super::model::{AuditEntry, CreatedToken, TokenSummary};
use crate::auth::model::{NewUser, UserList};
use crate::error::AppError;
use crate::overview::score::ScoreWeights;

#[server(endpoint = "set_edition")]
pub async fn set_edition(edition: String) -> Result<(), AppError> {
    use crate::auth::editions::Edition;
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    let edition = Edition::parse(&edition).ok_or_else(|| AppError::field("edition", "Choose Basic, Advanced or Enterprise."))?;
    super::repo::set_edition(&state.db, user.account_id(), &user.actor(), edition).await
}

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
    user.validate()?;
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
    let role = Role::parse(&role).ok_or_else(|| AppError::field("role", "Choose Admin or Viewer."))?;
    super::repo::set_user_role(&state.db, admin_user.account_id(), &admin_user.actor(), id, role).await
}

#[server(endpoint = "remove_user")]
pub async fn remove_user(id: i64) -> Result<(), AppError> {
    use crate::auth::session::admin;

    let (admin_user, state) = admin().await?;
    if id == admin_user.user_id {
        return Err(AppError::Conflict("You cannot remove yourself; another admin can.".into()));
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
    validate_token_name(&name)?;
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
    weights.validate()?;
    super::repo::set_weights(&state.db, user.account_id(), &user.actor(), &weights).await
}

#[server(endpoint = "grant_authorization")]
pub async fn grant_authorization(service: String) -> Result<(), AppError> {
    use crate::auth::editions::Service;
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    let service = Service::parse(&service).ok_or_else(|| AppError::field("service", "Unknown service."))?;
    let feature = service.feature();
    if !user.account.edition.allows(feature) {
        return Err(AppError::UpgradeRequired { feature, edition: feature.required_edition() });
    }
    super::repo::grant(&state.db, user.account_id(), &user.actor(), user.user_id, service).await
}

#[server(endpoint = "revoke_authorization")]
pub async fn revoke_authorization(service: String) -> Result<(), AppError> {
    use crate::auth::editions::Service;
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    let service = Service::parse(&service).ok_or_else(|| AppError::field("service", "Unknown service."))?;
    super::repo::revoke(&state.db, user.account_id(), &user.actor(), service).await
}

#[server(endpoint = "list_audit")]
pub async fn list_audit(page: i64) -> Result<(Vec<AuditEntry>, i64), AppError> {
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    super::repo::audit_page(&state.db, user.account_id(), page).await
}
