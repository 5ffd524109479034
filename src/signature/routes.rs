//! Container signature over plain HTTP: the key service's API for pipelines (API tokens: sign,
//! verify, encrypt, decrypt, public keys, image signatures), and the console's downloads (public
//! keys, signature payloads and signatures; the session's user). Each checks the edition and the
//! authorization like the server functions do.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::Deserialize;
use tower_sessions::Session;

use super::admission_cache::AdmissionCache;
use super::cache::SignatureCache;
use super::model::{SignInput, SignOutcome};
use super::{images, keys};
use crate::editions::Feature;
use crate::auth::session::{require_account_feature, session_user};
use crate::http::json::parse;
use crate::auth::token::ApiCaller;
use crate::error::AppError;
use crate::server::db::Db;
use crate::server::secrets::Secrets;
use crate::http::download::attachment;
use crate::server::{now, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/kms/keys/{key}/sign", post(api_sign))
        .route("/api/v1/kms/keys/{key}/verify", post(api_verify))
        .route("/api/v1/kms/keys/{key}/public-key", get(api_public_key))
        .route("/api/v1/kms/keys/{key}/encrypt", post(api_encrypt))
        .route("/api/v1/kms/keys/{key}/decrypt", post(api_decrypt))
        .route("/api/v1/signatures", post(api_sign_image))
        .route("/api/v1/signatures/{id}", get(api_signature))
        .route("/precaution/container-signature/keys/{key}/public-key.pem", get(download_public_key))
        .route("/precaution/container-signature/signatures/{id}/payload.json", get(download_payload))
        .route("/precaution/container-signature/signatures/{id}/signature.sig", get(download_signature))
}

/// The API caller's account, once its edition and authorization allow container signature.
async fn api_account(state: &AppState, caller: &ApiCaller) -> Result<i64, AppError> {
    let account = crate::auth::repo::account(&state.db, caller.account_id).await?;
    require_account_feature(state, &account, Feature::ContainerSignature).await?;
    Ok(account.id)
}

/// Signs a SHA-256 digest with the named key's primary version, at `version` of `signature_state`
/// (the caller has synced the cache to it): the key a request names (with its primary version's
/// row and unlocked private key) is kept by this console under that version (see
/// `admission_cache`), so a signature reads nothing more, while a disabled, rotated or renamed key
/// moves the version and applies to the next request on every replica.
#[allow(clippy::too_many_arguments)]
async fn sign_digest_at(
    db: &Db,
    secrets: &Secrets,
    cache: &SignatureCache,
    version: i64,
    account_id: i64,
    key: &str,
    algorithm: &str,
    digest_b64: &str,
) -> Result<(keys::KeyRow, i64, Vec<u8>), AppError> {
    let kept = db.shared::<AdmissionCache>();
    let name = key.trim();
    let (key, version_row) = match kept.key(account_id, name) {
        Some(known) => known,
        None => {
            let key = keys::find_key(db, account_id, name).await?;
            let (row, _, _) = keys::signing_key(db, secrets, cache, &key).await?;
            kept.keep_key(version, account_id, name, key.clone(), row);
            (key, row)
        }
    };
    let algorithm = keys::algorithm_for(&key, algorithm)?;
    let digest = keys::decode_digest(digest_b64)?;
    let private = match cache.unlocked(version_row) {
        Some(private) => private,
        None => keys::signing_key(db, secrets, cache, &key).await?.2,
    };
    let signature = private.sign_digest(algorithm, &digest).map_err(|e| AppError::field("digest", e.to_string()))?;
    let primary_version = key.primary_version;
    Ok((key, primary_version, signature))
}

#[derive(Deserialize)]
struct SignRequest {
    /// SHA-256 digest of the message, base64.
    digest: String,
    algorithm: String,
}

async fn api_sign(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, AppError> {
    // What decides whether and with what this account signs, as kept at the current version.
    let version = super::repo::signature_version(&state.db).await?;
    let kept = state.db.shared::<AdmissionCache>();
    kept.sync(version);
    if !kept.may_sign(caller.account_id) {
        api_account(&state, &caller).await?;
        kept.keep_may_sign(version, caller.account_id);
    }
    let request: SignRequest = parse(&body)?;
    let (key, version, signature) =
        sign_digest_at(&state.db, &state.secrets, &state.signature_cache, version, caller.account_id, &key, &request.algorithm, &request.digest).await?;
    Ok(Json(serde_json::json!({
        "key_id": key.key_id,
        "key_version": version,
        "algorithm": request.algorithm.trim(),
        "signature": BASE64.encode(signature),
    })))
}

#[derive(Deserialize)]
struct VerifyRequest {
    digest: String,
    algorithm: String,
    signature: String,
    key_version: Option<i64>,
}

async fn api_verify(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, AppError> {
    let account_id = api_account(&state, &caller).await?;
    let request: VerifyRequest = parse(&body)?;
    let (key, version, valid) =
        keys::verify_digest(&state.db, account_id, &key, request.key_version, &request.algorithm, &request.digest, &request.signature).await?;
    Ok(Json(serde_json::json!({ "key_id": key.key_id, "key_version": version, "valid": valid })))
}

#[derive(Deserialize)]
struct EncryptRequest {
    /// Base64.
    plaintext: String,
}

async fn api_encrypt(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, AppError> {
    let account_id = api_account(&state, &caller).await?;
    let request: EncryptRequest = parse(&body)?;
    let (key, version, ciphertext) = keys::encrypt(&state.db, account_id, &key, &request.plaintext).await?;
    Ok(Json(serde_json::json!({
        "key_id": key.key_id,
        "key_version": version,
        "algorithm": "RSAES_OAEP_SHA_256",
        "ciphertext": BASE64.encode(ciphertext),
    })))
}

#[derive(Deserialize)]
struct DecryptRequest {
    ciphertext: String,
    key_version: Option<i64>,
}

async fn api_decrypt(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, AppError> {
    let account_id = api_account(&state, &caller).await?;
    let request: DecryptRequest = parse(&body)?;
    let (key, version, plaintext) =
        keys::decrypt(&state.db, &state.secrets, &state.signature_cache, account_id, &key, request.key_version, &request.ciphertext).await?;
    Ok(Json(serde_json::json!({ "key_id": key.key_id, "key_version": version, "plaintext": BASE64.encode(plaintext) })))
}

#[derive(Deserialize)]
struct VersionQuery {
    version: Option<i64>,
}

async fn api_public_key(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
    Query(query): Query<VersionQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let account_id = api_account(&state, &caller).await?;
    let (key, version, pem) = keys::public_key_pem(&state.db, account_id, &key, query.version).await?;
    Ok(Json(serde_json::json!({
        "key_id": key.key_id,
        "key_version": version,
        "key_spec": key.spec.as_str(),
        "public_key": pem,
    })))
}

async fn api_sign_image(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Bytes,
) -> Result<Json<SignOutcome>, AppError> {
    let account_id = api_account(&state, &caller).await?;
    let input: SignInput = parse(&body)?;
    let outcome = images::sign_image(&state, account_id, &caller.actor(), &input, now()).await?;
    Ok(Json(outcome))
}

async fn api_signature(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<i64>) -> Result<Json<serde_json::Value>, AppError> {
    let account_id = api_account(&state, &caller).await?;
    let (image, payload, signature) = images::signature_parts(&state.db, account_id, id).await?;
    Ok(Json(serde_json::json!({ "image": image, "payload": BASE64.encode(payload), "signature": signature })))
}

async fn session_account(state: &AppState, session: &Session) -> Result<i64, AppError> {
    let user = session_user(state, session).await?;
    user.require_feature(state, Feature::ContainerSignature).await?;
    Ok(user.account_id())
}

async fn download_public_key(
    State(state): State<AppState>,
    session: Session,
    Path(key): Path<String>,
    Query(query): Query<VersionQuery>,
) -> Result<Response, AppError> {
    let account_id = session_account(&state, &session).await?;
    let (key, version, pem) = keys::public_key_pem(&state.db, account_id, &key, query.version).await?;
    Ok(attachment("application/x-pem-file", &format!("{}-v{version}.pem", key.key_id), pem.into_bytes()))
}

async fn download_payload(State(state): State<AppState>, session: Session, Path(id): Path<i64>) -> Result<Response, AppError> {
    let account_id = session_account(&state, &session).await?;
    let (_, payload, _) = images::signature_parts(&state.db, account_id, id).await?;
    Ok(attachment("application/json", &format!("signature-{id}-payload.json"), payload))
}

/// The raw signature bytes, as `openssl dgst -verify -signature` reads them.
async fn download_signature(State(state): State<AppState>, session: Session, Path(id): Path<i64>) -> Result<Response, AppError> {
    let account_id = session_account(&state, &session).await?;
    let (_, _, signature) = images::signature_parts(&state.db, account_id, id).await?;
    let bytes = BASE64.decode(signature).map_err(|_| AppError::Internal)?;
    Ok(attachment("application/octet-stream", &format!("signature-{id}.sig"), bytes))
}
