//! The one state every handler and server function sees.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::*;

use super::config::Config;
use super::db::Db;
use crate::error::AppError;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
}

/// The state inside a server function (provided by `leptos_routes_with_context`).
pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        let uri = use_context::<http::request::Parts>().map(|p| p.uri.to_string());
        tracing::error!(?uri, backtrace = %std::backtrace::Backtrace::force_capture(), "AppState missing from the Leptos context");
        AppError::Internal
    })
}
