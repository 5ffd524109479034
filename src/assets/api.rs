//! Server functions of the Assets pages.

use leptos::prelude::*;

use super::model::{
    AssetDetail, AssetPage, AssetQuery, EnrollmentTokenInput, EnrollmentTokenView, FixJobView, HeldEnrollmentView, NewEnrollmentToken,
};
use crate::error::AppError;

#[server(endpoint = "list_assets")]
pub async fn list_assets(query: AssetQuery) -> Result<AssetPage, AppError> {
    use crate::auth::session::caller;

    const MAX_SEARCH: usize = 128;
    let (user, state) = caller().await?;
    if query.search.chars().count() > MAX_SEARCH {
        let l = crate::locale::request_locale();
        return Err(AppError::field("search", crate::locale::td_string!(l, common.errors.search_too_long, max = MAX_SEARCH)));
    }
    super::repo::asset_page(&state.db, user.account_id(), &query).await
}

#[server(endpoint = "get_asset")]
pub async fn get_asset(id: i64) -> Result<AssetDetail, AppError> {
    use crate::auth::session::caller;

    let (user, state) = caller().await?;
    let (asset, findings, alerts, baseline) = super::repo::asset_records(&state.db, user.account_id(), id).await?;
    let agent = super::fleet::agent_view(&state.db, asset.id).await?;
    let jobs = super::fleet::asset_jobs(&state.db, user.account_id(), asset.id, 20).await?;
    Ok(AssetDetail { asset, findings, alerts, baseline, agent, jobs })
}

#[server(endpoint = "list_enrollment_tokens")]
pub async fn list_enrollment_tokens() -> Result<Vec<EnrollmentTokenView>, AppError> {
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    super::fleet::list_tokens(&state.db, user.account_id()).await
}

#[server(endpoint = "create_enrollment_token")]
pub async fn create_enrollment_token(input: EnrollmentTokenInput) -> Result<NewEnrollmentToken, AppError> {
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    let (token, secret) = super::fleet::create_token(&state.db, user.account_id(), &user.actor(), &input, crate::server::now()).await?;
    let command = super::fleet::enroll_command(&state.config.public_url, &secret, token.group_name.as_deref());
    Ok(NewEnrollmentToken { token, secret, command })
}

#[server(endpoint = "revoke_enrollment_token")]
pub async fn revoke_enrollment_token(id: i64) -> Result<(), AppError> {
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    super::fleet::revoke_token(&state.db, user.account_id(), &user.actor(), id, crate::server::now()).await
}

/// Re-enrollments of known hosts waiting for an admin (admins only, like the tokens).
#[server(endpoint = "list_held_enrollments")]
pub async fn list_held_enrollments() -> Result<Vec<HeldEnrollmentView>, AppError> {
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    super::held::list(&state.db, user.account_id(), crate::server::now()).await
}

/// Lets a held enrollment take over its host: the host's current credential stops now, and the
/// waiting agent gets a new one when it next asks.
#[server(endpoint = "approve_held_enrollment")]
pub async fn approve_held_enrollment(id: i64) -> Result<(), AppError> {
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    super::held::decide(&state.db, user.account_id(), &user.actor(), id, true, crate::server::now()).await
}

#[server(endpoint = "reject_held_enrollment")]
pub async fn reject_held_enrollment(id: i64) -> Result<(), AppError> {
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    super::held::decide(&state.db, user.account_id(), &user.actor(), id, false, crate::server::now()).await
}

/// Queues a fix job for one open finding of an asset, or (no finding) for all of its open
/// findings that have a fixed version; `simulate` only asks the package manager what it would do.
#[server(endpoint = "fix_findings")]
pub async fn fix_findings(asset_id: i64, finding_id: Option<i64>, simulate: bool) -> Result<FixJobView, AppError> {
    use crate::auth::session::admin;

    let (user, state) = admin().await?;
    let account_id = user.account_id();
    let finding_ids = match finding_id {
        Some(id) => vec![id],
        None => crate::advisories::repo::fixable_findings(&state.db, account_id, asset_id).await?,
    };
    let packages = crate::advisories::repo::fix_packages(&state.db, account_id, asset_id, &finding_ids).await?;
    if packages.is_empty() {
        let l = crate::locale::request_locale();
        return Err(AppError::Conflict(crate::locale::td_string!(l, assets.errors.nothing_to_fix).into()));
    }
    super::fleet::create_fix_job(&state.db, account_id, asset_id, &packages, simulate, &user.actor(), crate::server::now()).await
}
