//! Container signature server functions (Enterprise, after authorization; viewers read, admins
//! change).

use leptos::prelude::*;

use super::model::*;
use crate::error::AppError;

#[cfg(feature = "ssr")]
async fn reader() -> Result<(crate::auth::session::CurrentUser, crate::server::AppState), AppError> {
    crate::auth::session::feature_caller(crate::editions::Feature::ContainerSignature, false).await
}

#[cfg(feature = "ssr")]
async fn writer() -> Result<(crate::auth::session::CurrentUser, crate::server::AppState), AppError> {
    crate::auth::session::feature_caller(crate::editions::Feature::ContainerSignature, true).await
}

// ---- Keys ----------------------------------------------------------------------------------

#[server(endpoint = "signature/list_keys")]
pub async fn list_keys() -> Result<Vec<KeyView>, AppError> {
    let (user, state) = reader().await?;
    super::keys::list_keys(&state.db, user.account_id()).await
}

#[server(endpoint = "signature/create_key")]
pub async fn create_key(input: KeyInput) -> Result<KeyView, AppError> {
    let (user, state) = writer().await?;
    super::keys::create_key(&state.db, &state.secrets, user.account_id(), &user.actor(), &input, crate::server::now()).await
}

#[server(endpoint = "signature/set_key_enabled")]
pub async fn set_key_enabled(key_id: String, enabled: bool) -> Result<(), AppError> {
    let (user, state) = writer().await?;
    super::keys::set_key_enabled(&state.db, &state.signature_cache, user.account_id(), &user.actor(), &key_id, enabled, crate::server::now()).await
}

/// Schedules deletion after `days` days (7–366); returns when the key will be deleted.
#[server(endpoint = "signature/schedule_key_deletion")]
pub async fn schedule_key_deletion(key_id: String, days: String) -> Result<i64, AppError> {
    let (user, state) = writer().await?;
    let days = days.trim().parse::<i64>().map_err(|_| {
        let (min, max) = (*DELETION_WINDOW_DAYS.start(), *DELETION_WINDOW_DAYS.end());
        AppError::field("days", crate::locale::td_string!(crate::locale::request_locale(), signature.errors.deletion_days, min, max))
    })?;
    super::keys::schedule_key_deletion(&state.db, &state.signature_cache, user.account_id(), &user.actor(), &key_id, days, crate::server::now()).await
}

#[server(endpoint = "signature/cancel_key_deletion")]
pub async fn cancel_key_deletion(key_id: String) -> Result<(), AppError> {
    let (user, state) = writer().await?;
    super::keys::cancel_key_deletion(&state.db, user.account_id(), &user.actor(), &key_id, crate::server::now()).await
}

/// A new key version; returns its number.
#[server(endpoint = "signature/rotate_key")]
pub async fn rotate_key(key_id: String) -> Result<i64, AppError> {
    let (user, state) = writer().await?;
    super::keys::rotate_key(&state.db, &state.secrets, user.account_id(), &user.actor(), &key_id, crate::server::now()).await
}

// ---- Clusters ------------------------------------------------------------------------------

#[server(endpoint = "signature/list_clusters")]
pub async fn list_clusters() -> Result<Vec<ClusterView>, AppError> {
    let (user, state) = reader().await?;
    super::repo::list_clusters(&state.db, user.account_id()).await
}

#[server(endpoint = "signature/create_cluster")]
pub async fn create_cluster(input: ClusterInput) -> Result<i64, AppError> {
    let (user, state) = writer().await?;
    super::repo::create_cluster(&state.db, &state.secrets, user.account_id(), &user.actor(), &input, crate::server::now()).await
}

#[server(endpoint = "signature/update_cluster")]
pub async fn update_cluster(id: i64, input: ClusterInput) -> Result<(), AppError> {
    let (user, state) = writer().await?;
    super::repo::update_cluster(&state.db, user.account_id(), &user.actor(), id, &input, crate::server::now()).await
}

#[server(endpoint = "signature/delete_cluster")]
pub async fn delete_cluster(id: i64) -> Result<(), AppError> {
    let (user, state) = writer().await?;
    super::repo::delete_cluster(&state.db, user.account_id(), &user.actor(), id).await
}

#[server(endpoint = "signature/rotate_cluster_token")]
pub async fn rotate_cluster_token(id: i64) -> Result<(), AppError> {
    let (user, state) = writer().await?;
    super::repo::rotate_cluster_token(&state.db, &state.secrets, user.account_id(), &user.actor(), id, crate::server::now()).await
}

/// The hook's configuration, with the cluster's token in its URL (admins only).
#[server(endpoint = "signature/get_hook_instructions")]
pub async fn get_hook_instructions(id: i64) -> Result<HookInstructions, AppError> {
    let (user, state) = writer().await?;
    let cluster = super::repo::list_clusters(&state.db, user.account_id()).await?.into_iter().find(|c| c.id == id).ok_or(AppError::NotFound)?;
    let token = super::repo::cluster_token(&state.db, &state.secrets, user.account_id(), id).await?;
    let url = format!("{}{}", state.config.public_url, super::webhook::webhook_path(id, &token));
    let ca_bundle = match state.config.tls.as_ref() {
        Some(tls) => Some(tokio::fs::read(tls.ca_bundle()).await.map_err(|e| {
            tracing::error!(error = %e, "cannot read the TLS certificate for the hook's caBundle");
            AppError::Internal
        })?),
        None => None,
    };
    let configuration = super::hook::configuration(&cluster.name, &cluster.namespaces, &url, ca_bundle.as_deref());
    Ok(HookInstructions { url, yaml: super::hook::to_yaml(&configuration), tls: ca_bundle.is_some() })
}

// ---- Witnesses -----------------------------------------------------------------------------

#[server(endpoint = "signature/list_witnesses")]
pub async fn list_witnesses() -> Result<Vec<WitnessView>, AppError> {
    let (user, state) = reader().await?;
    super::repo::list_witnesses(&state.db, user.account_id()).await
}

#[server(endpoint = "signature/create_witness")]
pub async fn create_witness(input: WitnessInput) -> Result<i64, AppError> {
    let (user, state) = writer().await?;
    super::repo::create_witness(&state.db, user.account_id(), &user.actor(), &input, crate::server::now()).await
}

#[server(endpoint = "signature/update_witness")]
pub async fn update_witness(id: i64, description: String) -> Result<(), AppError> {
    let (user, state) = writer().await?;
    super::repo::update_witness_description(&state.db, user.account_id(), &user.actor(), id, &description, crate::server::now()).await
}

#[server(endpoint = "signature/delete_witness")]
pub async fn delete_witness(id: i64) -> Result<(), AppError> {
    let (user, state) = writer().await?;
    super::repo::delete_witness(&state.db, user.account_id(), &user.actor(), id).await
}

// ---- Security policies ---------------------------------------------------------------------

#[server(endpoint = "signature/list_policies")]
pub async fn list_signature_policies() -> Result<Vec<PolicyView>, AppError> {
    let (user, state) = reader().await?;
    super::repo::list_policies(&state.db, user.account_id()).await
}

#[server(endpoint = "signature/save_policy")]
pub async fn save_signature_policy(input: PolicyInput) -> Result<i64, AppError> {
    let (user, state) = writer().await?;
    super::repo::save_policy(&state.db, user.account_id(), &user.actor(), &input, crate::server::now()).await
}

#[server(endpoint = "signature/set_policy_enabled")]
pub async fn set_signature_policy_enabled(id: i64, enabled: bool) -> Result<(), AppError> {
    let (user, state) = writer().await?;
    super::repo::set_policy_enabled(&state.db, user.account_id(), &user.actor(), id, enabled, crate::server::now()).await
}

#[server(endpoint = "signature/delete_policy")]
pub async fn delete_signature_policy(id: i64) -> Result<(), AppError> {
    let (user, state) = writer().await?;
    super::repo::delete_policy(&state.db, user.account_id(), &user.actor(), id).await
}

// ---- Images, signatures, registries, decisions ---------------------------------------------

/// The Images tab; the filters narrow it to images that ran in a cluster (and namespace), have no
/// signature, have critical or high findings, or were never scanned.
#[server(endpoint = "signature/list_images")]
pub async fn list_images(
    #[server(default)] search: String,
    #[server(default)] page: Option<i64>,
    #[server(default)] cluster_id: Option<i64>,
    #[server(default)] namespace: String,
    #[server(default)] unsigned: bool,
    #[server(default)] vulnerable: bool,
    #[server(default)] never_scanned: bool,
) -> Result<ImagePage, AppError> {
    let (user, state) = reader().await?;
    // What this console's admission requests ran waits with their decisions: written first.
    super::decisions::flush(&state.db).await?;
    let filter = ImageFilter { search, cluster_id, namespace, unsigned, vulnerable, never_scanned };
    super::images::list_images(&state.db, &state.signature_cache, user.account_id(), &filter, page.unwrap_or(1)).await
}

/// The vulnerabilities of an image's latest scan, most severe first.
#[server(endpoint = "signature/list_image_vulnerabilities")]
pub async fn list_image_vulnerabilities(image_id: i64) -> Result<Vec<ImageVulnerabilityView>, AppError> {
    let (user, state) = reader().await?;
    super::vulns::image_vulnerabilities(&state.db, user.account_id(), image_id, crate::server::now()).await
}

// ---- Vulnerability exceptions --------------------------------------------------------------

#[server(endpoint = "signature/list_vuln_exceptions")]
pub async fn list_vuln_exceptions() -> Result<Vec<ExceptionView>, AppError> {
    let (user, state) = reader().await?;
    super::vulns::list_exceptions(&state.db, user.account_id(), crate::server::now()).await
}

#[server(endpoint = "signature/create_vuln_exception")]
pub async fn create_vuln_exception(input: ExceptionInput) -> Result<i64, AppError> {
    let (user, state) = writer().await?;
    super::vulns::create_exception(&state.db, user.account_id(), &user.actor(), &input, crate::server::now()).await
}

#[server(endpoint = "signature/delete_vuln_exception")]
pub async fn delete_vuln_exception(id: i64) -> Result<(), AppError> {
    let (user, state) = writer().await?;
    super::vulns::delete_exception(&state.db, user.account_id(), &user.actor(), id).await
}

#[server(endpoint = "signature/sign_image")]
pub async fn sign_image(input: SignInput) -> Result<SignOutcome, AppError> {
    let (user, state) = writer().await?;
    super::images::sign_image(&state, user.account_id(), &user.actor(), &input, crate::server::now()).await
}

/// Publishes a stored signature to its image's registry; returns the `.sig` tag.
#[server(endpoint = "signature/publish_signature")]
pub async fn publish_signature(id: i64) -> Result<String, AppError> {
    let (user, state) = writer().await?;
    super::images::publish_signature(&state, user.account_id(), &user.actor(), id, crate::server::now()).await
}

#[server(endpoint = "signature/delete_signature")]
pub async fn delete_signature(id: i64) -> Result<(), AppError> {
    let (user, state) = writer().await?;
    super::images::delete_signature(&state.db, user.account_id(), &user.actor(), id).await
}

#[server(endpoint = "signature/list_registries")]
pub async fn list_registries() -> Result<Vec<RegistryView>, AppError> {
    let (user, state) = reader().await?;
    let registries = super::repo::list_registries(&state.db, user.account_id()).await?;
    Ok(if user.role == crate::auth::model::Role::Admin {
        registries
    } else {
        registries.into_iter().map(RegistryView::without_credentials).collect()
    })
}

#[server(endpoint = "signature/save_registry")]
pub async fn save_registry(input: RegistryInput) -> Result<(), AppError> {
    let (user, state) = writer().await?;
    super::repo::save_registry(&state.db, &state.secrets, user.account_id(), &user.actor(), &input, crate::server::now()).await
}

#[server(endpoint = "signature/delete_registry")]
pub async fn delete_registry(id: i64) -> Result<(), AppError> {
    let (user, state) = writer().await?;
    super::repo::delete_registry(&state.db, user.account_id(), &user.actor(), id).await
}

#[server(endpoint = "signature/list_decisions")]
pub async fn list_decisions(#[server(default)] outcome: String) -> Result<Vec<DecisionView>, AppError> {
    let (user, state) = reader().await?;
    // This console's queued decisions are written first, so the log shows them.
    super::decisions::flush(&state.db).await?;
    super::repo::list_decisions(&state.db, user.account_id(), Outcome::parse(&outcome)).await
}
