//! The one state every handler and server function sees.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::*;

use super::config::Config;
use super::crypto::PasswordChecks;
use super::db::Db;
use super::outbound::{Outbound, Redirects};
use super::secrets::Secrets;
use crate::error::AppError;
use crate::signature::cache::SignatureCache;

/// The console's state, shared: a clone is one reference count (every `State` extractor and
/// every middleware holding the state clones it, several times per request).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

#[derive(Clone)]
pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
    /// The master key for secrets at rest.
    pub secrets: Secrets,
    /// Unlocked keys, checked signatures and recently recorded image runs.
    pub signature_cache: SignatureCache,
    /// Bounds how many password checks run at once.
    pub password_checks: PasswordChecks,
    /// The HTTP client for webhooks, bound to the outbound policy (no redirects).
    pub outbound: Outbound,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// A state like this one with `change` made (a console set up differently, in tests).
    pub fn changed(&self, change: impl FnOnce(&mut Shared)) -> AppState {
        let mut shared = (*self.0).clone();
        change(&mut shared);
        AppState(Arc::new(shared))
    }
}

/// leptos_axum's handlers take the options from the state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> LeptosOptions {
        state.leptos_options.clone()
    }
}

/// How long a webhook may take to answer.
const WEBHOOK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl AppState {
    pub fn new(leptos_options: LeptosOptions, db: Db, config: Config, secrets: Secrets) -> AppState {
        // Building a client fails only when the TLS backend cannot start, which is not recoverable.
        let outbound = Outbound::new(config.outbound.clone(), Redirects::None, WEBHOOK_TIMEOUT).expect("the webhook HTTP client");
        AppState(Arc::new(Shared {
            outbound,
            leptos_options,
            db,
            config: Arc::new(config),
            secrets,
            signature_cache: SignatureCache::default(),
            password_checks: PasswordChecks::default(),
        }))
    }
}

/// The state inside a server function (provided by `leptos_routes_with_context`).
pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        if use_context::<http::request::Parts>().is_some() {
            tracing::error!("AppState missing from the Leptos context of a request");
        } else {
            // A page render whose request was dropped (the browser navigated away) can still
            // poll its resources after the request's context is gone; nobody reads the result.
            tracing::debug!("server function polled after its request ended");
        }
        AppError::Internal
    })
}
