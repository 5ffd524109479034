//! Server functions of the Overview page.

use leptos::prelude::*;

use super::model::Overview;
use crate::error::AppError;

#[server(endpoint = "get_overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    use crate::auth::session::caller;

    let (user, state) = caller().await?;
    // Looking at the Overview keeps today's snapshot current.
    super::repo::overview(&state.db, user.account_id(), true).await
}
