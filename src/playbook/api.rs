//! Playbook server functions (Enterprise only).

use leptos::prelude::*;

use super::model::PolicyTemplate;
use crate::error::AppError;

#[server(endpoint = "list_policy_templates")]
pub async fn list_policy_templates() -> Result<Vec<PolicyTemplate>, AppError> {
    use crate::auth::editions::Feature;
    use crate::auth::session::caller;

    let (user, state) = caller().await?;
    user.require_feature(&state, Feature::Playbooks).await?;
    Ok(super::model::templates())
}
