//! Server functions of the Resource Directory, Multi-account Control and Invitations. The
//! directory and the list need Enterprise and the one-time authorization; changes need an admin.
//! A member's data is read only through `get_member_view`, which checks the member is managed
//! by the caller's account and audits the read.

use leptos::prelude::*;

use super::model::{Candidates, Directory, Invitation, ManagedList, MemberView, NewResourceAccount, UpgradeInput};
use crate::assets::model::AssetQuery;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::locale::{request_locale, td_string};

#[cfg(feature = "ssr")]
async fn management(admin: bool) -> Result<(crate::auth::session::CurrentUser, crate::server::AppState), AppError> {
    let (user, state) = crate::auth::session::caller().await?;
    user.require_feature(&state, crate::editions::Feature::MultiAccountControl).await?;
    if admin {
        user.require_admin()?;
    }
    super::repo::require_management(&state.db, user.account_id()).await?;
    Ok((user, state))
}

#[cfg(feature = "ssr")]
fn folder_id(text: &str) -> Result<Option<i64>, AppError> {
    if text.trim().is_empty() {
        Ok(None)
    } else {
        text.trim().parse().map(Some).map_err(|_| AppError::field("folder", td_string!(request_locale(), accounts.errors.choose_folder)))
    }
}

#[server(endpoint = "get_directory")]
pub async fn get_directory() -> Result<Directory, AppError> {
    use crate::auth::model::Role;
    let (user, state) = management(false).await?;
    super::repo::directory(&state.db, user.account_id(), user.role == Role::Admin).await
}

#[server(endpoint = "create_folder")]
pub async fn create_folder(name: String, parent: String) -> Result<i64, AppError> {
    let (user, state) = management(true).await?;
    let l = request_locale();
    super::model::validate_name(&name, td_string!(l, accounts.errors.name_folder), l).map_err(|m| AppError::field("name", m))?;
    super::repo::create_folder(&state.db, user.account_id(), &user.actor(), folder_id(&parent)?, &name).await
}

#[server(endpoint = "create_member")]
pub async fn create_member(member: NewResourceAccount) -> Result<i64, AppError> {
    use crate::auth::model::AccountKind;
    use crate::editions::Edition;
    let (user, state) = management(true).await?;
    member.validate(request_locale())?;
    // Editions are the operator's to set (`bulwark account edition`): a management account's
    // admin could otherwise mint Enterprise accounts. A new member starts on Basic.
    let edition = Edition::Basic;
    let folder = folder_id(&member.folder)?;
    let mut tx = state.db.begin_write().await?;
    let account = crate::tenants::open_account(&mut tx, member.name.trim(), edition, AccountKind::Resource).await?;
    super::repo::add_created_member(&mut tx, user.account_id(), &user.actor(), &account, folder).await?;
    tx.commit().await?;
    Ok(account.id)
}

#[server(endpoint = "invite_account")]
pub async fn invite_account(account_no: String) -> Result<i64, AppError> {
    let (user, state) = management(true).await?;
    let account_no = super::model::normalise_account_no(&account_no, request_locale()).map_err(|m| AppError::field("account_no", m))?;
    super::repo::invite(&state.db, user.account_id(), &user.actor(), &account_no).await
}

#[server(endpoint = "cancel_invitation")]
pub async fn cancel_invitation(id: i64) -> Result<(), AppError> {
    let (user, state) = management(true).await?;
    super::repo::cancel_invitation(&state.db, user.account_id(), &user.actor(), id).await
}

#[server(endpoint = "upgrade_member")]
pub async fn upgrade_member(id: i64, admin: UpgradeInput) -> Result<(), AppError> {
    use crate::server::crypto;
    let (user, state) = management(true).await?;
    admin.validate(request_locale())?;
    let hash = crypto::hash_password(admin.password.clone()).await?;
    super::repo::upgrade(&state.db, user.account_id(), &user.actor(), id, &admin.email, &admin.name, &hash.0).await
}

#[server(endpoint = "move_member")]
pub async fn move_member(id: i64, folder: String) -> Result<(), AppError> {
    let (user, state) = management(true).await?;
    super::repo::move_member(&state.db, user.account_id(), &user.actor(), id, folder_id(&folder)?).await
}

#[server(endpoint = "remove_member")]
pub async fn remove_member(id: i64) -> Result<(), AppError> {
    let (user, state) = management(true).await?;
    super::repo::remove_member(&state.db, user.account_id(), &user.actor(), id).await
}

/// Invitations this account received (Settings › Invitations); any edition, admins only.
#[server(endpoint = "list_received_invitations")]
pub async fn list_received_invitations() -> Result<Vec<Invitation>, AppError> {
    let (user, state) = crate::auth::session::admin().await?;
    super::repo::received_invitations(&state.db, user.account_id()).await
}

#[server(endpoint = "respond_invitation")]
pub async fn respond_invitation(id: i64, accept: bool) -> Result<(), AppError> {
    let (user, state) = crate::auth::session::admin().await?;
    super::repo::respond(&state.db, user.account_id(), &user.actor(), id, accept).await
}

#[server(endpoint = "list_managed")]
pub async fn list_managed(search: String, #[server(default)] page: Option<i64>) -> Result<ManagedList, AppError> {
    use crate::auth::model::Role;
    let (user, state) = management(false).await?;
    const MAX_SEARCH: usize = 64;
    if search.chars().count() > MAX_SEARCH {
        return Err(AppError::field("search", td_string!(request_locale(), common.errors.search_too_long, max = MAX_SEARCH)));
    }
    let (accounts, total, page, page_count) = super::repo::managed(&state.db, user.account_id(), &search, page.unwrap_or(1)).await?;
    Ok(ManagedList {
        accounts,
        total,
        page,
        page_count,
        auto_manage: super::repo::auto_manage_flag(&state.db, user.account_id()).await?,
        can_manage: user.role == Role::Admin,
    })
}

#[server(endpoint = "list_candidates")]
pub async fn list_candidates() -> Result<Candidates, AppError> {
    let (user, state) = management(false).await?;
    Ok(Candidates {
        candidates: super::repo::candidates(&state.db, user.account_id()).await?,
        auto_manage: super::repo::auto_manage_flag(&state.db, user.account_id()).await?,
    })
}

#[server(endpoint = "add_managed")]
pub async fn add_managed(#[server(default)] accounts: Vec<i64>, auto_manage: bool) -> Result<i64, AppError> {
    let (user, state) = management(true).await?;
    // No directory holds more members than this; a longer list is not a real choice.
    if accounts.len() > super::repo::MAX_MEMBERS as usize {
        let max = crate::format::thousands(super::repo::MAX_MEMBERS);
        return Err(AppError::field("accounts", td_string!(request_locale(), accounts.errors.too_many_accounts, max)));
    }
    Ok(super::repo::add_managed(&state.db, user.account_id(), &user.actor(), &accounts, auto_manage).await? as i64)
}

#[server(endpoint = "remove_managed")]
pub async fn remove_managed(id: i64) -> Result<(), AppError> {
    let (user, state) = management(true).await?;
    super::repo::remove_managed(&state.db, user.account_id(), &user.actor(), id).await
}

/// A managed member's Overview and Assets, read-only; every read is in the audit log.
#[server(endpoint = "get_member_view")]
pub async fn get_member_view(id: i64, query: AssetQuery) -> Result<MemberView, AppError> {
    use crate::server::audit;
    let (user, state) = management(false).await?;
    let member = super::repo::managed_member(&state.db, user.account_id(), id).await?;
    const MAX_SEARCH: usize = 128;
    if query.search.chars().count() > MAX_SEARCH {
        return Err(AppError::field("search", td_string!(request_locale(), common.errors.search_too_long, max = MAX_SEARCH)));
    }
    let overview = crate::overview::repo::overview(&state.db, id, false).await?;
    let assets = crate::assets::repo::asset_page(&state.db, id, &query).await?;
    audit::record(&state.db.pool, user.account_id(), &user.actor(), "multi_account.view", &member.account_no, &member.name).await?;
    Ok(MemberView { member, overview, assets })
}
