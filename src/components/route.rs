//! The numeric `:id` of a console route, and loading what it names.

use std::future::Future;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::error::AppError;

/// The route's `:id`; `None` when the address holds no number.
pub fn use_route_id() -> Memo<Option<i64>> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok())))
}

/// Loads what `id` names, or answers "not found" without asking the server when there is no id.
pub async fn load_by_id<T, F, Fut>(id: Option<i64>, load: F) -> Result<T, AppError>
where
    F: FnOnce(i64) -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    match id {
        Some(id) => load(id).await,
        None => Err(AppError::NotFound),
    }
}
