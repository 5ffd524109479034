//! Container signature over plain HTTP: the key service's API for pipelines (API tokens: sign,
//! verify, encrypt, decrypt, public keys, image signatures), and the console's downloads (public
//! keys, signature payloads and signatures; the session's user). Each checks the edition and the
//! authorization like the server functions do.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::Deserialize;
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::admission_cache::AdmissionCache;
use super::cache::SignatureCache;
use super::model::{ScanAccepted, SignInput, SignOutcome};
use super::{images, keys};
use crate::editions::Feature;
use crate::auth::session::{require_account_feature, session_user};
use crate::http::json::parse;
use crate::auth::token::ApiCaller;
use crate::error::AppError;
use crate::http::openapi::Error;
use crate::server::db::Db;
use crate::server::secrets::Secrets;
use crate::http::body::{LimitedBody, TRIVY_LIMIT};
use crate::http::download::attachment;
use crate::server::{now, AppState};

/// The key service and image signatures for pipelines (API tokens).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_sign))
        .routes(routes!(api_verify))
        .routes(routes!(api_public_key))
        .routes(routes!(api_encrypt))
        .routes(routes!(api_decrypt))
        .routes(routes!(api_sign_image))
        .routes(routes!(api_signature))
}

/// Image scans for pipelines (API tokens), which read their bodies under their own limit.
pub fn scan_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_import_scan))
}

/// The console's downloads (the signed-in user's session).
pub fn routes() -> Router<AppState> {
    Router::new()
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

#[derive(Deserialize, ToSchema)]
struct SignRequest {
    /// SHA-256 digest of the message, base64.
    digest: String,
    algorithm: String,
}

/// A signature made with a key's primary version.
#[derive(serde::Serialize, ToSchema)]
struct Signed {
    key_id: String,
    key_version: i64,
    algorithm: String,
    /// Base64.
    signature: String,
}

#[utoipa::path(post, path = "/api/v1/kms/keys/{key}/sign", tag = "key service", security(("api_token" = [])), params(("key" = String, Path, description = "The key's id or its alias")),
    request_body(content = SignRequest, example = json!({"digest": "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=", "algorithm": "RSA_PKCS1_SHA_256"})),
    responses((status = 200, description = "Signed", body = Signed), (status = 401, description = "No valid API token", body = Error),
        (status = 403, description = "The edition or the container-signature authorization does not allow it", body = Error),
        (status = 404, description = "No such key in the token's account", body = Error),
        (status = 422, description = "A field is wrong, or the key is disabled, pending deletion or of another usage", body = Error)))]
async fn api_sign(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<Signed>, AppError> {
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
    Ok(Json(Signed { key_id: key.key_id, key_version: version, algorithm: request.algorithm.trim().to_string(), signature: BASE64.encode(signature) }))
}

#[derive(Deserialize, ToSchema)]
struct VerifyRequest {
    digest: String,
    algorithm: String,
    signature: String,
    key_version: Option<i64>,
}

#[derive(serde::Serialize, ToSchema)]
struct Verified {
    key_id: String,
    key_version: i64,
    valid: bool,
}

#[utoipa::path(post, path = "/api/v1/kms/keys/{key}/verify", tag = "key service", security(("api_token" = [])), params(("key" = String, Path, description = "The key's id or its alias")),
    request_body(content = VerifyRequest, description = "`key_version` defaults to the primary version", example = json!({"digest": "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
        "algorithm": "RSA_PKCS1_SHA_256", "signature": "c2lnbmF0dXJl", "key_version": null})),
    responses((status = 200, description = "Whether the signature is valid", body = Verified), (status = 401, description = "No valid API token", body = Error),
        (status = 403, description = "The edition or the container-signature authorization does not allow it", body = Error),
        (status = 404, description = "No such key in the token's account", body = Error),
        (status = 422, description = "A field is wrong, or the key is disabled, pending deletion or of another usage", body = Error)))]
async fn api_verify(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<Verified>, AppError> {
    let account_id = api_account(&state, &caller).await?;
    let request: VerifyRequest = parse(&body)?;
    let (key, version, valid) =
        keys::verify_digest(&state.db, account_id, &key, request.key_version, &request.algorithm, &request.digest, &request.signature).await?;
    Ok(Json(Verified { key_id: key.key_id, key_version: version, valid }))
}

#[derive(Deserialize, ToSchema)]
struct EncryptRequest {
    /// Base64.
    plaintext: String,
}

#[derive(serde::Serialize, ToSchema)]
struct Encrypted {
    key_id: String,
    key_version: i64,
    algorithm: String,
    /// Base64.
    ciphertext: String,
}

#[utoipa::path(post, path = "/api/v1/kms/keys/{key}/encrypt", tag = "key service", security(("api_token" = [])), params(("key" = String, Path, description = "The key's id or its alias")),
    request_body(content = EncryptRequest, example = json!({"plaintext": "ZGF0YWJhc2UgcGFzc3dvcmQ="})),
    responses((status = 200, description = "Encrypted with RSAES-OAEP SHA-256", body = Encrypted), (status = 401, description = "No valid API token", body = Error),
        (status = 403, description = "The edition or the container-signature authorization does not allow it", body = Error),
        (status = 404, description = "No such key in the token's account", body = Error),
        (status = 422, description = "A field is wrong, or the key is disabled, pending deletion or of another usage", body = Error)))]
async fn api_encrypt(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<Encrypted>, AppError> {
    let account_id = api_account(&state, &caller).await?;
    let request: EncryptRequest = parse(&body)?;
    let (key, version, ciphertext) = keys::encrypt(&state.db, account_id, &key, &request.plaintext).await?;
    Ok(Json(Encrypted { key_id: key.key_id, key_version: version, algorithm: "RSAES_OAEP_SHA_256".into(), ciphertext: BASE64.encode(ciphertext) }))
}

#[derive(Deserialize, ToSchema)]
struct DecryptRequest {
    ciphertext: String,
    key_version: Option<i64>,
}

#[derive(serde::Serialize, ToSchema)]
struct Decrypted {
    key_id: String,
    key_version: i64,
    /// Base64.
    plaintext: String,
}

#[utoipa::path(post, path = "/api/v1/kms/keys/{key}/decrypt", tag = "key service", security(("api_token" = [])), params(("key" = String, Path, description = "The key's id or its alias")),
    request_body(content = DecryptRequest, description = "`ciphertext` (base64) from the encrypt route; `key_version` defaults to the primary version",
        example = json!({"ciphertext": "Y2lwaGVydGV4dA==", "key_version": null})),
    responses((status = 200, description = "Decrypted", body = Decrypted), (status = 401, description = "No valid API token", body = Error),
        (status = 403, description = "The edition or the container-signature authorization does not allow it", body = Error),
        (status = 404, description = "No such key in the token's account", body = Error),
        (status = 422, description = "A field is wrong, or the key is disabled, pending deletion or of another usage", body = Error)))]
async fn api_decrypt(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<Decrypted>, AppError> {
    let account_id = api_account(&state, &caller).await?;
    let request: DecryptRequest = parse(&body)?;
    let (key, version, plaintext) =
        keys::decrypt(&state.db, &state.secrets, &state.signature_cache, account_id, &key, request.key_version, &request.ciphertext).await?;
    Ok(Json(Decrypted { key_id: key.key_id, key_version: version, plaintext: BASE64.encode(plaintext) }))
}

#[derive(Deserialize)]
struct VersionQuery {
    version: Option<i64>,
}

#[derive(serde::Serialize, ToSchema)]
struct PublicKey {
    key_id: String,
    key_version: i64,
    key_spec: String,
    /// PEM (SubjectPublicKeyInfo).
    public_key: String,
}

#[utoipa::path(get, path = "/api/v1/kms/keys/{key}/public-key", tag = "key service", security(("api_token" = [])),
    params(("key" = String, Path, description = "The key's id or its alias"), ("version" = Option<i64>, Query, description = "A key version; the primary by default")),
    responses((status = 200, description = "The public key", body = PublicKey), (status = 401, description = "No valid API token", body = Error),
        (status = 403, description = "The edition or the container-signature authorization does not allow it", body = Error),
        (status = 404, description = "No such key in the token's account", body = Error),
        (status = 422, description = "A field is wrong, or the key is disabled, pending deletion or of another usage", body = Error)))]
async fn api_public_key(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
    Query(query): Query<VersionQuery>,
) -> Result<Json<PublicKey>, AppError> {
    let account_id = api_account(&state, &caller).await?;
    let (key, version, pem) = keys::public_key_pem(&state.db, account_id, &key, query.version).await?;
    Ok(Json(PublicKey { key_id: key.key_id, key_version: version, key_spec: key.spec.as_str().to_string(), public_key: pem }))
}

#[utoipa::path(post, path = "/api/v1/signatures", tag = "signatures", security(("api_token" = [])),
    request_body(content = SignInput, example = json!({"witness": "build", "image": "registry.example.com/shop/web@sha256:9f2c4a7b1e0d3c5f6a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f", "publish": false})),
    responses((status = 200, description = "Signed in cosign's format (and published, when asked)", body = SignOutcome),
        (status = 401, description = "No valid API token", body = Error),
        (status = 403, description = "The edition or the container-signature authorization does not allow it", body = Error),
        (status = 422, description = "Unknown witness, a disabled key, or an image without a digest", body = Error)))]
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

/// A signature as cosign stores it.
#[derive(serde::Serialize, ToSchema)]
struct SignatureParts {
    image: String,
    /// The simple-signing payload, base64.
    payload: String,
    /// Base64.
    signature: String,
}

#[utoipa::path(get, path = "/api/v1/signatures/{id}", tag = "signatures", security(("api_token" = [])),
    params(("id" = i64, Path, description = "The signature's id (`signature_id` from signing)")),
    responses((status = 200, description = "The signed payload and its signature", body = SignatureParts),
        (status = 401, description = "No valid API token", body = Error),
        (status = 403, description = "The edition or the container-signature authorization does not allow it", body = Error),
        (status = 404, description = "No such signature in the token's account", body = Error)))]
async fn api_signature(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<i64>) -> Result<Json<SignatureParts>, AppError> {
    let account_id = api_account(&state, &caller).await?;
    let (image, payload, signature) = images::signature_parts(&state.db, account_id, id).await?;
    Ok(Json(SignatureParts { image, payload: BASE64.encode(payload), signature }))
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

#[derive(Deserialize, utoipa::IntoParams)]
struct ScanQuery {
    /// The scanned image, pinned by digest: registry/repository@sha256:<64 hex digits>. Without
    /// it, the first of the report's `Metadata.RepoDigests`.
    image: Option<String>,
    /// The 16-digit id of the account the scan belongs to: the token's own (the default), or a
    /// member account the token's account watches on Multi-account Control.
    account: Option<String>,
}

/// The account a scan is for: the token's own, or one its account watches on Multi-account
/// Control; then its edition and authorization must allow container signature.
async fn scan_account(state: &AppState, caller: &ApiCaller, named: Option<&str>) -> Result<i64, AppError> {
    let account_id = match named.map(str::trim).filter(|n| !n.is_empty()) {
        None => caller.account_id,
        Some(number) => {
            let found = crate::auth::repo::find_accounts(&state.db, number).await?;
            let Some(account) = found.into_iter().find(|a| a.account_no == number) else {
                return Err(AppError::field("account", format!("No account has the id {number}.")));
            };
            if account.id != caller.account_id && crate::accounts::repo::managed_member(&state.db, caller.account_id, account.id).await.is_err() {
                return Err(AppError::Forbidden(format!(
                    "The account {number} is not in this token's scope: use a token of that account, or watch it on Multi-account Control first."
                )));
            }
            account.id
        }
    };
    let account = crate::auth::repo::account(&state.db, account_id).await?;
    require_account_feature(state, &account, Feature::ContainerSignature).await?;
    Ok(account.id)
}

#[utoipa::path(post, path = "/api/v1/images/scans", tag = "signatures", security(("api_token" = [])), params(ScanQuery),
    request_body(content = Object, description = "The JSON `trivy image --format json` writes (up to 32 MiB)", example = json!({"SchemaVersion": 2,
        "CreatedAt": "2026-12-01T09:30:00Z", "ArtifactName": "registry.example.com/shop/web:1.4", "ArtifactType": "container_image",
        "Metadata": {"OS": {"Family": "debian", "Name": "12.5"},
            "RepoDigests": ["registry.example.com/shop/web@sha256:9f2c4a7b1e0d3c5f6a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f"]},
        "Results": [{"Target": "registry.example.com/shop/web:1.4 (debian 12.5)", "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": [
            {"VulnerabilityID": "CVE-2024-6387", "PkgName": "openssh-server", "InstalledVersion": "1:9.2p1-2", "FixedVersion": "1:9.2p1-2+deb12u3",
             "Severity": "CRITICAL", "Title": "openssh: regreSSHion"}]}]})),
    responses((status = 201, description = "Stored as the digest's latest scan (replacing an older one)", body = ScanAccepted),
        (status = 401, description = "No valid API token", body = Error),
        (status = 403, description = "The edition or authorization does not allow it, or the account named is not in the token's scope", body = Error),
        (status = 409, description = "A newer scan of the digest is stored: nothing was written", body = Error),
        (status = 413, description = "Over 32 MiB", body = Error),
        (status = 422, description = "Not a Trivy report, no digest named, or the image named is not the one the report is of: nothing was written", body = Error)))]
/// Stores a Trivy image report as the latest vulnerability scan of an image digest.
async fn api_import_scan(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<ScanQuery>,
    LimitedBody(body): LimitedBody<TRIVY_LIMIT>,
) -> Result<(StatusCode, Json<ScanAccepted>), AppError> {
    let account_id = scan_account(&state, &caller, query.account.as_deref()).await?;
    // Up to 32 MiB of JSON: parsed off the async workers.
    let report = tokio::task::spawn_blocking(move || crate::advisories::trivy::parse_image(&body))
        .await
        .map_err(|_| AppError::Internal)?
        .map_err(|message| AppError::field("body", message))?;
    let image = super::vulns::scanned_image(&report, query.image.as_deref())?;
    let accepted = super::vulns::import_scan(&state.db, account_id, &caller.actor(), report, &image, now()).await?;
    Ok((StatusCode::CREATED, Json(accepted)))
}
