//! Server functions of the Assets pages.

use leptos::prelude::*;

use super::model::{AssetDetail, AssetPage, AssetQuery};
use crate::error::AppError;

#[server(endpoint = "list_assets")]
pub async fn list_assets(query: AssetQuery) -> Result<AssetPage, AppError> {
    use crate::auth::session::caller;

    let (user, state) = caller().await?;
    if query.search.chars().count() > 128 {
        return Err(AppError::field("search", "Search with at most 128 characters."));
    }
    super::repo::asset_page(&state.db, user.account_id(), &query).await
}

#[server(endpoint = "get_asset")]
pub async fn get_asset(id: i64) -> Result<AssetDetail, AppError> {
    use crate::auth::session::caller;

    let (user, state) = caller().await?;
    super::repo::asset_detail(&state.db, user.account_id(), id).await
}
