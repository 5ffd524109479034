//! The Settings pages, one tab per concern.

mod account;
mod audit;
mod authorizations;
mod email;
mod score;
mod tokens;
mod users;

use leptos::prelude::*;

use crate::auth::context::MeRefresh;
use crate::components::toast::toast_outcome;
use crate::error::AppError;

pub use account::AccountSettingsPage;
pub use audit::AuditSettingsPage;
pub use authorizations::AuthorizationSettingsPage;
pub use email::EmailSettingsPage;
pub use score::ScoreSettingsPage;
pub use tokens::TokenSettingsPage;
pub use users::UsersSettingsPage;

/// Shows a toast when an action finishes, and refreshes the signed-in user on success if asked.
fn on_done<T: 'static>(value: impl Fn() -> Option<Result<T, AppError>> + 'static, success: &'static str, refresh_me: bool) {
    let refresh = expect_context::<MeRefresh>();
    toast_outcome(value, success, move || {
        if refresh_me {
            refresh.bump();
        }
    });
}


