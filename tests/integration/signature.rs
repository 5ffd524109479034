//! Container signature: the key service and its signing API, witnesses, policies, image
//! signatures that openssl verifies, the admission webhook over every workload kind, and
//! publication to a real registry.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use bulwark::editions::Edition;
use bulwark::auth::model::Role;

use crate::common::*;

pub const D1: &str = "sha256:2604318952e369ea3a3f2f8538abc46fab24fb653f3f146194b1cae2342d5086";
pub const D2: &str = "sha256:2ce7ac933e0380fda0a2707213ebc9e000b31aec69bc5a22fe42ff5d5e44a896";
pub const D3: &str = "sha256:b62fa8b3056db497b383cface547329f877dcfe6b83da4fe3415dc827d45eba5";
pub const D4: &str = "sha256:b9a5c863c9e318cfaf0de4d896638bfe9dce47dc74422e510bd0d82f5c0c9c6b";
pub(crate) const REGISTRY: &str = "registry.example.com/shop";

/// An Enterprise account that authorized the key service, with its admin signed in.
pub(crate) async fn enterprise(app: &TestApp, name: &str) -> (i64, Session) {
    let (id, email) = app.account(name, Edition::Enterprise, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let granted = app.call(Some(&admin), "grant_authorization", &[("service", "keys_and_clusters")]).await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    (id, admin)
}

pub(crate) async fn ok(response: Response) -> Value {
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    if response.body.is_empty() {
        Value::Null
    } else {
        response.json()
    }
}

/// Creates a key; returns its public id.
pub(crate) async fn key(app: &TestApp, admin: &Session, alias: &str, spec: &str, usage: &str) -> String {
    let created = app
        .call(Some(admin), "signature/create_key", &[("input[alias]", alias), ("input[description]", ""), ("input[spec]", spec), ("input[usage]", usage)])
        .await;
    ok(created).await["key_id"].as_str().unwrap().to_string()
}

pub(crate) async fn witness(app: &TestApp, admin: &Session, name: &str, key_id: &str) -> Response {
    app.call(Some(admin), "signature/create_witness", &[("input[name]", name), ("input[key_id]", key_id), ("input[description]", "CI builds")]).await
}

pub(crate) async fn sign(app: &TestApp, admin: &Session, witness: &str, image: &str) -> Response {
    app.call(Some(admin), "signature/sign_image", &[("input[witness]", witness), ("input[image]", image), ("input[publish]", "false")]).await
}

/// A cluster with namespaces shop and dev; returns (id, webhook path with its token).
pub(crate) async fn cluster(app: &TestApp, admin: &Session, name: &str) -> (i64, String) {
    let id = ok(app.call(Some(admin), "signature/create_cluster", &[("input[name]", name), ("input[region]", "eu-central-1"), ("input[namespaces]", "shop, dev")]).await)
        .await
        .as_i64()
        .unwrap();
    let hook = ok(app.call(Some(admin), "signature/get_hook_instructions", &[("id", &id.to_string())]).await).await;
    let url = hook["url"].as_str().unwrap();
    let path = url[url.find("/api/").unwrap()..].to_string();
    (id, path)
}

/// Saves a policy; `extra` adds or overrides form fields.
pub(crate) async fn policy(app: &TestApp, admin: &Session, name: &str, cluster: i64, witnesses: &[i64], extra: &[(&str, &str)]) -> Response {
    let cluster = cluster.to_string();
    let mut form: Vec<(String, String)> = vec![
        ("input[name]".into(), name.into()),
        ("input[witness_match]".into(), "AllOf".into()),
        ("input[cluster_id]".into(), cluster),
        ("input[namespaces][0]".into(), "shop".into()),
        ("input[enabled]".into(), "true".into()),
        ("input[mode]".into(), "Enforce".into()),
        ("input[remarks]".into(), "".into()),
    ];
    for (i, w) in witnesses.iter().enumerate() {
        form.push((format!("input[witness_ids][{i}]"), w.to_string()));
    }
    for (k, v) in extra {
        form.retain(|(key, _)| key != k);
        form.push((k.to_string(), v.to_string()));
    }
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.call(Some(admin), "signature/save_policy", &pairs).await
}

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/admission").join(name)).unwrap()
}

pub(crate) async fn review(app: &TestApp, path: &str, body: Vec<u8>) -> Response {
    let request = Request::builder().method(Method::POST).uri(path).header(header::CONTENT_TYPE, "application/json").body(Body::from(body)).unwrap();
    app.request(request).await
}

/// The answer of the webhook to a fixture: (allowed, message, warnings).
pub(crate) async fn admit(app: &TestApp, path: &str, name: &str) -> (bool, String, Vec<String>) {
    let response = review(app, path, fixture(name)).await;
    assert_eq!(response.status, StatusCode::OK, "{name}: {}", response.body);
    let answer = response.json();
    assert_eq!(answer["kind"], "AdmissionReview");
    let sent: Value = serde_json::from_slice(&fixture(name)).unwrap();
    // Verify the answer carries the request's uid.
    assert_eq!(answer["response"]["uid"], sent["request"]["uid"], "{name}");
    let warnings = answer["response"]["warnings"].as_array().map(|w| w.iter().map(|s| s.as_str().unwrap().to_string()).collect()).unwrap_or_default();
    (answer["response"]["allowed"].as_bool().unwrap(), answer["response"]["status"]["message"].as_str().unwrap_or("").to_string(), warnings)
}

/// One witness "build" on an RSA_2048 key, a cluster whose hook called in once, and an enabled
/// Enforce policy over its "shop" namespace; web, api and worker are signed, tools is not.
pub(crate) struct Scene {
    pub admin: Session,
    pub key_id: String,
    pub witness_id: i64,
    pub cluster_id: i64,
    pub hook: String,
    pub policy_id: i64,
}

pub(crate) async fn scene(app: &TestApp) -> Scene {
    let (_, admin) = enterprise(app, "Shop").await;
    let key_id = key(app, &admin, "ci-build", "RSA_2048", "SIGN/VERIFY").await;
    let witness_id = ok(witness(app, &admin, "build", &key_id).await).await.as_i64().unwrap();
    let (cluster_id, hook) = cluster(app, &admin, "prod-eu").await;
    // A policy needs the hook installed: the first call from the API server installs it.
    let refused = policy(app, &admin, "prod-shop", cluster_id, &[witness_id], &[]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.json()["Validation"]["cluster"].as_str().unwrap().contains("not installed"));
    admit(app, &hook, "pod-other-namespace.json").await;
    let policy_id = ok(policy(app, &admin, "prod-shop", cluster_id, &[witness_id], &[]).await).await.as_i64().unwrap();
    for (repo, digest) in [("web", D1), ("api", D2), ("worker", D3)] {
        ok(sign(app, &admin, "build", &format!("{REGISTRY}/{repo}@{digest}")).await).await;
    }
    Scene { admin, key_id, witness_id, cluster_id, hook, policy_id }
}

/// Deletes the scene's signature of shop/web through `console`.
async fn delete_web_signature(console: &TestApp, admin: &Session) {
    let images = ok(console.call(Some(admin), "signature/list_images", &[("search", "shop/web")]).await).await["images"].clone();
    let web = images.as_array().unwrap().iter().find(|i| i["digest"] == D1).unwrap();
    let signature = web["signatures"][0]["id"].as_i64().unwrap().to_string();
    ok(console.call(Some(admin), "signature/delete_signature", &[("id", &signature)]).await).await;
}

fn openssl_verify(dir: &Path, pem: &str, message: &[u8], signature: &[u8], pss: bool) -> bool {
    std::fs::write(dir.join("pub.pem"), pem).unwrap();
    std::fs::write(dir.join("msg"), message).unwrap();
    std::fs::write(dir.join("sig"), signature).unwrap();
    let mut command = Command::new("openssl");
    command.current_dir(dir).args(["dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig"]);
    if pss {
        command.args(["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"]);
    }
    let output = command.arg("msg").output().expect("run openssl");
    output.status.success()
}

/// The signing API signs digests with each algorithm, openssl verifies them with the exported
/// public key, and disabled or pending-deletion keys refuse to sign.
#[tokio::test(flavor = "multi_thread")]
async fn the_signing_api_signs_digests_that_openssl_verifies() {
    let app = TestApp::new().await;
    let (_, admin) = enterprise(&app, "Pipeline").await;
    let rsa = key(&app, &admin, "release", "RSA_3072", "SIGN/VERIFY").await;
    let ec = key(&app, &admin, "", "EC_P256", "SIGN/VERIFY").await;
    let token = app.token(&admin, "ci").await;
    let message = b"release 4.2 of the shop";
    let digest = BASE64.encode(Sha256::digest(message));
    let dir = tempfile::tempdir().unwrap();

    let public = app.api(&token, Method::GET, &format!("/api/v1/kms/keys/{rsa}/public-key"), None).await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.body);
    let pem = public.json()["public_key"].as_str().unwrap().to_string();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    for (algorithm, pss) in [("RSA_PKCS1_SHA_256", false), ("RSA_PSS_SHA_256", true)] {
        // The alias works as well as the key id.
        let signed = app.api(&token, Method::POST, "/api/v1/kms/keys/release/sign", Some(json!({ "digest": digest, "algorithm": algorithm }))).await;
        assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
        let signature = BASE64.decode(signed.json()["signature"].as_str().unwrap()).unwrap();
        // Verify with openssl, and that a changed message fails there.
        assert!(openssl_verify(dir.path(), &pem, message, &signature, pss), "{algorithm}");
        assert!(!openssl_verify(dir.path(), &pem, b"release 4.3 of the shop", &signature, pss), "{algorithm}");
        let verified = app
            .api(&token, Method::POST, &format!("/api/v1/kms/keys/{rsa}/verify"), Some(json!({ "digest": digest, "algorithm": algorithm, "signature": BASE64.encode(&signature) })))
            .await;
        assert_eq!(verified.json()["valid"], true, "{}", verified.body);
    }
    let ec_pem = app.api(&token, Method::GET, &format!("/api/v1/kms/keys/{ec}/public-key"), None).await.json()["public_key"].as_str().unwrap().to_string();
    let signed = app.api(&token, Method::POST, &format!("/api/v1/kms/keys/{ec}/sign"), Some(json!({ "digest": digest, "algorithm": "ECDSA_SHA_256" }))).await;
    let signature = BASE64.decode(signed.json()["signature"].as_str().unwrap()).unwrap();
    assert!(openssl_verify(dir.path(), &ec_pem, message, &signature, false));

    // Verify misuse is a 422 naming the field.
    let wrong = app.api(&token, Method::POST, &format!("/api/v1/kms/keys/{ec}/sign"), Some(json!({ "digest": digest, "algorithm": "RSA_PSS_SHA_256" }))).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.json()["fields"]["algorithm"], "RSA_PSS_SHA_256 cannot be used with an EC_P256 key.");
    let short = app.api(&token, Method::POST, &format!("/api/v1/kms/keys/{rsa}/sign"), Some(json!({ "digest": BASE64.encode([1u8; 20]), "algorithm": "RSA_PKCS1_SHA_256" }))).await;
    assert_eq!(short.json()["fields"]["digest"], "A SHA-256 digest is 32 bytes; this one is 20.");
    let malformed = app.request(Request::builder().method(Method::POST).uri(format!("/api/v1/kms/keys/{rsa}/sign"))
        .header(header::AUTHORIZATION, format!("Bearer {token}")).header(header::CONTENT_TYPE, "application/json").body(Body::from("{\"digest\": 5")).unwrap()).await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", malformed.body);

    // Disabled, then pending deletion: both refuse to sign.
    ok(app.call(Some(&admin), "signature/set_key_enabled", &[("key_id", &rsa), ("enabled", "false")]).await).await;
    let refused = app.api(&token, Method::POST, &format!("/api/v1/kms/keys/{rsa}/sign"), Some(json!({ "digest": digest, "algorithm": "RSA_PKCS1_SHA_256" }))).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.json()["message"], "This key is disabled and cannot sign.");
    let too_soon = app.call(Some(&admin), "signature/schedule_key_deletion", &[("key_id", &ec), ("days", "6")]).await;
    assert_eq!(too_soon.json()["Validation"]["days"], "The pending window is 7 to 366 days.");
    ok(app.call(Some(&admin), "signature/schedule_key_deletion", &[("key_id", &ec), ("days", "7")]).await).await;
    let refused = app.api(&token, Method::POST, &format!("/api/v1/kms/keys/{ec}/sign"), Some(json!({ "digest": digest, "algorithm": "ECDSA_SHA_256" }))).await;
    assert_eq!(refused.json()["message"], "This key is pending deletion and cannot sign.");
    let enable = app.call(Some(&admin), "signature/set_key_enabled", &[("key_id", &ec), ("enabled", "true")]).await;
    assert_eq!(enable.status, StatusCode::CONFLICT, "a key pending deletion is not enabled before the deletion is cancelled");
    ok(app.call(Some(&admin), "signature/cancel_key_deletion", &[("key_id", &ec)]).await).await;
    let keys = ok(app.call(Some(&admin), "signature/list_keys", &[]).await).await;
    let ec_row = keys.as_array().unwrap().iter().find(|k| k["key_id"] == ec.as_str()).unwrap();
    assert_eq!(ec_row["state"], "Disabled");
    assert!(ec_row["deletion_at"].is_null());

    // Once the window has passed, the tick deletes the key and its material.
    ok(app.call(Some(&admin), "signature/schedule_key_deletion", &[("key_id", &ec), ("days", "7")]).await).await;
    let later = now() + 8 * 86_400;
    let deleted = bulwark::signature::keys::delete_due_keys(app.db(), &app.state.signature_cache, later).await.unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM kms_keys WHERE spec = 'EC_P256'").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM kms_key_versions v LEFT JOIN kms_keys k ON k.id = v.key_row WHERE k.id IS NULL").await, 0);

    // Verify private keys are stored sealed: no PKCS#8 header in the clear.
    let stored: Vec<String> = sqlx::query_scalar("SELECT encrypted_private_key FROM kms_key_versions").fetch_all(&app.db().pool).await.unwrap();
    for sealed in stored {
        let bytes = BASE64.decode(sealed).unwrap();
        assert!(!bytes.windows(3).any(|w| w == [0x30, 0x82, 0x06]), "private key stored in the clear");
    }
}

/// Only enabled RSA_2048 SIGN/VERIFY keys back witnesses; names are unique; a witness in use
/// by a policy cannot be deleted, nor its key scheduled for deletion.
#[tokio::test(flavor = "multi_thread")]
async fn witnesses_take_only_enabled_rsa_2048_signing_keys() {
    let app = TestApp::new().await;
    let s = scene(&app).await;
    let admin = &s.admin;
    for (spec, usage, message) in [
        ("RSA_3072", "SIGN/VERIFY", "A witness needs an RSA_2048 key; this key is RSA_3072."),
        ("EC_P256", "SIGN/VERIFY", "A witness needs an RSA_2048 key; this key is EC_P256."),
        ("RSA_2048", "ENCRYPT/DECRYPT", "A witness needs a SIGN/VERIFY key; this key is for ENCRYPT/DECRYPT."),
    ] {
        let other = key(&app, admin, "", spec, usage).await;
        let refused = witness(&app, admin, "other", &other).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(refused.json()["Validation"]["key_id"], message);
    }
    let disabled = key(&app, admin, "", "RSA_2048", "SIGN/VERIFY").await;
    ok(app.call(Some(admin), "signature/set_key_enabled", &[("key_id", &disabled), ("enabled", "false")]).await).await;
    assert_eq!(witness(&app, admin, "other", &disabled).await.json()["Validation"]["key_id"], "A witness needs an enabled key; this key is disabled.");
    let twin = witness(&app, admin, "build", &s.key_id).await;
    assert_eq!(twin.json()["Validation"]["name"], "Another witness has this name.");

    // Verify a witness whose key was disabled after its creation cannot sign.
    ok(app.call(Some(admin), "signature/set_key_enabled", &[("key_id", &s.key_id), ("enabled", "false")]).await).await;
    let refused = sign(&app, admin, "build", &format!("{REGISTRY}/web@{D1}")).await;
    assert_eq!(refused.json()["Validation"]["witness"], "\"build\" cannot sign: A witness needs an enabled key; this key is disabled.");
    ok(app.call(Some(admin), "signature/set_key_enabled", &[("key_id", &s.key_id), ("enabled", "true")]).await).await;

    let in_use = app.call(Some(admin), "signature/delete_witness", &[("id", &s.witness_id.to_string())]).await;
    assert_eq!(in_use.status, StatusCode::CONFLICT);
    assert_eq!(in_use.json()["Conflict"], "The policy \"prod-shop\" uses this witness: change or delete the policy first.");
    let key_in_use = app.call(Some(admin), "signature/schedule_key_deletion", &[("key_id", &s.key_id), ("days", "30")]).await;
    assert_eq!(key_in_use.json()["Conflict"], "The witness \"build\" signs with this key: delete the witness first.");
    ok(app.call(Some(admin), "signature/delete_policy", &[("id", &s.policy_id.to_string())]).await).await;
    ok(app.call(Some(admin), "signature/delete_witness", &[("id", &s.witness_id.to_string())]).await).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM sig_witnesses").await, 0);
}

/// A signature is cosign's simple-signing payload signed with RSASSA-PKCS1-v1_5 SHA-256:
/// openssl verifies the exported signature over the exported payload with the witness's key.
#[tokio::test(flavor = "multi_thread")]
async fn image_signatures_are_cosign_payloads_that_openssl_verifies() {
    let app = TestApp::new().await;
    let s = scene(&app).await;
    let signed = ok(sign(&app, &s.admin, "build", &format!("{REGISTRY}/web:1.4.2@{D1}")).await).await;
    let payload = BASE64.decode(signed["payload"].as_str().unwrap()).unwrap();
    let document: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(document["critical"]["identity"]["docker-reference"], "registry.example.com/shop/web");
    assert_eq!(document["critical"]["image"]["docker-manifest-digest"], D1);
    assert_eq!(document["critical"]["type"], "cosign container image signature");

    // Export through the console's downloads, as a person would, and check with openssl.
    let id = signed["signature_id"].as_i64().unwrap();
    let downloaded = app.get(Some(&s.admin), &format!("/precaution/container-signature/signatures/{id}/payload.json")).await;
    assert_eq!(downloaded.body.as_bytes(), payload.as_slice());
    let raw = app.request(Request::builder().uri(format!("/precaution/container-signature/signatures/{id}/signature.sig"))
        .header(header::COOKIE, &s.admin.0).body(Body::empty()).unwrap()).await;
    assert_eq!(raw.status, StatusCode::OK);
    let pem = app.get(Some(&s.admin), &format!("/precaution/container-signature/keys/{}/public-key.pem", s.key_id)).await.body;
    let signature = BASE64.decode(signed["signature"].as_str().unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    assert!(openssl_verify(dir.path(), &pem, &payload, &signature, false));
    assert!(!openssl_verify(dir.path(), &pem, &payload[1..], &signature, false));

    // Verify the tag was recorded and only digests can be signed.
    let images = ok(app.call(Some(&s.admin), "signature/list_images", &[("search", "web")]).await).await["images"].clone();
    assert_eq!(images[0]["tags"], json!(["1.4.2"]));
    assert_eq!(images[0]["trusted_by"], json!(["prod-shop"]));
    let by_tag = sign(&app, &s.admin, "build", "registry.example.com/shop/web:1.4.2").await;
    assert_eq!(by_tag.json()["Validation"]["image"], "Sign an image by digest: registry/repository@sha256:<64 hex digits>.");
    let bad = sign(&app, &s.admin, "build", "registry.example.com/shop/web@sha256:ABC").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let nobody = sign(&app, &s.admin, "qa", &format!("{REGISTRY}/web@{D1}")).await;
    assert_eq!(nobody.json()["Validation"]["witness"], "There is no witness named \"qa\".");
}

/// After a key rotation the new version signs, and images signed by the old one stay trusted.
#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_key_still_verifies_what_its_old_version_signed() {
    let app = TestApp::new().await;
    let s = scene(&app).await;
    let version = ok(app.call(Some(&s.admin), "signature/rotate_key", &[("key_id", &s.key_id)]).await).await;
    assert_eq!(version, 2);
    let tools = format!("{REGISTRY}/tools@{D4}");
    let signed = ok(sign(&app, &s.admin, "build", &tools).await).await;
    assert_eq!(signed["key_version"], 2);
    // Verify old (v1: web) and new (v2: tools) signatures both admit.
    assert!(admit(&app, &s.hook, "pod-signed.json").await.0);
    assert!(admit(&app, &s.hook, "pod-unsigned.json").await.0);
    // The public key of each version verifies its own signatures only.
    let token = app.token(&s.admin, "ci").await;
    let v1 = app.api(&token, Method::GET, &format!("/api/v1/kms/keys/{}/public-key?version=1", s.key_id), None).await.json();
    let v2 = app.api(&token, Method::GET, &format!("/api/v1/kms/keys/{}/public-key", s.key_id), None).await.json();
    assert_eq!((v1["key_version"].as_i64(), v2["key_version"].as_i64()), (Some(1), Some(2)));
    let payload = BASE64.decode(signed["payload"].as_str().unwrap()).unwrap();
    let signature = BASE64.decode(signed["signature"].as_str().unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    assert!(openssl_verify(dir.path(), v2["public_key"].as_str().unwrap(), &payload, &signature, false));
    assert!(!openssl_verify(dir.path(), v1["public_key"].as_str().unwrap(), &payload, &signature, false));
}

/// The webhook over every fixture: signed pods and workloads admitted, unsigned, tag-only and
/// partly signed ones rejected naming each bad image; Warn mode, disabled policies and other
/// namespaces admit; revocation applies at once; every decision is recorded.
#[tokio::test(flavor = "multi_thread")]
async fn the_admission_webhook_admits_only_trusted_images() {
    let app = TestApp::new().await;
    let s = scene(&app).await;

    let (allowed, _, _) = admit(&app, &s.hook, "pod-signed.json").await;
    assert!(allowed);
    let (allowed, message, _) = admit(&app, &s.hook, "pod-unsigned.json").await;
    assert!(!allowed);
    assert!(message.contains(&format!("{REGISTRY}/tools@{D4} (container tools): unsigned [policy prod-shop]")), "{message}");
    let (allowed, message, _) = admit(&app, &s.hook, "pod-tag-only.json").await;
    assert!(!allowed);
    assert!(message.contains("registry.example.com/shop/web:1.4.2") && message.contains("not pinned by digest"), "{message}");
    let (allowed, message, _) = admit(&app, &s.hook, "pod-three-containers.json").await;
    assert!(!allowed);
    // Verify only the one bad image of three is named.
    assert!(message.contains("shop/tools@") && !message.contains("shop/web@") && !message.contains("shop/api@"), "{message}");
    for kind in ["deployment", "replicaset", "statefulset", "daemonset", "job", "cronjob", "replicationcontroller"] {
        let (allowed, message, _) = admit(&app, &s.hook, &format!("{kind}.json")).await;
        assert!(allowed, "{kind}: {message}");
    }
    let (allowed, message, _) = admit(&app, &s.hook, "pod-ephemeral.json").await;
    assert!(!allowed && message.contains("ephemeralContainer"), "{message}");
    assert!(admit(&app, &s.hook, "pod-other-namespace.json").await.0, "no policy covers dev");
    assert!(admit(&app, &s.hook, "pod-delete.json").await.0);
    assert!(admit(&app, &s.hook, "service.json").await.0);

    // A worker signed by another key does not count.
    let (_, other_admin) = (0, &s.admin);
    let other_key = key(&app, other_admin, "other", "RSA_2048", "SIGN/VERIFY").await;
    ok(witness(&app, other_admin, "qa", &other_key).await).await;
    ok(sign(&app, other_admin, "qa", &format!("{REGISTRY}/tools@{D4}")).await).await;
    let (allowed, message, _) = admit(&app, &s.hook, "pod-unsigned.json").await;
    assert!(!allowed);
    assert!(message.contains("signed by another key, not by witness build"), "{message}");

    // Warn mode admits with a warning; a disabled policy has no effect.
    ok(policy(&app, &s.admin, "prod-shop", s.cluster_id, &[s.witness_id], &[("input[id]", &s.policy_id.to_string()), ("input[mode]", "Warn")]).await).await;
    let (allowed, _, warnings) = admit(&app, &s.hook, "pod-unsigned.json").await;
    assert!(allowed);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].starts_with("untrusted image registry.example.com/shop/tools@sha256:b9a5c863c9e3:") && warnings[0].len() <= 160, "{warnings:?}");
    ok(policy(&app, &s.admin, "prod-shop", s.cluster_id, &[s.witness_id], &[("input[id]", &s.policy_id.to_string())]).await).await;
    ok(app.call(Some(&s.admin), "signature/set_policy_enabled", &[("id", &s.policy_id.to_string()), ("enabled", "false")]).await).await;
    assert!(admit(&app, &s.hook, "pod-unsigned.json").await.0);
    ok(app.call(Some(&s.admin), "signature/set_policy_enabled", &[("id", &s.policy_id.to_string()), ("enabled", "true")]).await).await;

    // Revocation takes effect at once, though the signature check was cached: disable the key...
    assert!(admit(&app, &s.hook, "pod-signed.json").await.0);
    ok(app.call(Some(&s.admin), "signature/set_key_enabled", &[("key_id", &s.key_id), ("enabled", "false")]).await).await;
    let (allowed, message, _) = admit(&app, &s.hook, "pod-signed.json").await;
    assert!(!allowed && message.contains("signed by witness build, whose key is disabled"), "{message}");
    ok(app.call(Some(&s.admin), "signature/set_key_enabled", &[("key_id", &s.key_id), ("enabled", "true")]).await).await;
    assert!(admit(&app, &s.hook, "pod-signed.json").await.0);
    // ...or delete the signature.
    delete_web_signature(&app, &s.admin).await;
    let (allowed, message, _) = admit(&app, &s.hook, "pod-signed.json").await;
    assert!(!allowed && message.contains("unsigned"), "{message}");

    // Verify every checked request was recorded, with where each image ran.
    let decisions = ok(app.call(Some(&s.admin), "signature/list_decisions", &[("outcome", "")]).await).await;
    let decisions = decisions.as_array().unwrap();
    assert!(decisions.len() >= 20, "{}", decisions.len());
    let denied = ok(app.call(Some(&s.admin), "signature/list_decisions", &[("outcome", "denied")]).await).await;
    assert!(denied.as_array().unwrap().iter().all(|d| d["outcome"] == "Denied"));
    assert!(decisions.iter().any(|d| d["kind"] == "CronJob" && d["outcome"] == "Allowed"));
    assert!(decisions.iter().any(|d| d["outcome"] == "Warned"));
    let clusters = ok(app.call(Some(&s.admin), "signature/list_clusters", &[]).await).await;
    assert!(clusters[0]["hook_seen_at"].is_i64());
    let tools = ok(app.call(Some(&s.admin), "signature/list_images", &[("search", "shop/tools")]).await).await["images"].clone();
    let mut ran: Vec<String> = tools[0]["runs"].as_array().unwrap().iter().map(|r| format!("{} / {}", r["cluster_name"].as_str().unwrap(), r["namespace"].as_str().unwrap())).collect();
    ran.sort();
    ran.dedup();
    assert_eq!(ran, ["prod-eu / dev", "prod-eu / shop"]);
}

/// This console keeps what its reviews read; a change made through another console on the same
/// database (a replica) takes effect on this console's next review all the same: a disabled key,
/// a disabled policy, a deleted signature, a rotated hook token.
#[tokio::test(flavor = "multi_thread")]
async fn a_change_on_another_console_takes_effect_on_the_next_review() {
    let app = TestApp::new().await;
    let s = scene(&app).await;
    let replica = app.restart().await;
    // This console has read (and kept) the policy, the signers and the hook's caller.
    assert!(admit(&app, &s.hook, "pod-signed.json").await.0);
    assert!(!admit(&app, &s.hook, "pod-unsigned.json").await.0);

    ok(replica.call(Some(&s.admin), "signature/set_key_enabled", &[("key_id", &s.key_id), ("enabled", "false")]).await).await;
    let (allowed, message, _) = admit(&app, &s.hook, "pod-signed.json").await;
    // Verify the key disabled elsewhere counts here at once.
    assert!(!allowed && message.contains("signed by witness build, whose key is disabled"), "{message}");
    ok(replica.call(Some(&s.admin), "signature/set_key_enabled", &[("key_id", &s.key_id), ("enabled", "true")]).await).await;
    assert!(admit(&app, &s.hook, "pod-signed.json").await.0);

    ok(replica.call(Some(&s.admin), "signature/set_policy_enabled", &[("id", &s.policy_id.to_string()), ("enabled", "false")]).await).await;
    // Verify the policy disabled elsewhere no longer guards the namespace here.
    assert!(admit(&app, &s.hook, "pod-unsigned.json").await.0);
    ok(replica.call(Some(&s.admin), "signature/set_policy_enabled", &[("id", &s.policy_id.to_string()), ("enabled", "true")]).await).await;
    assert!(!admit(&app, &s.hook, "pod-unsigned.json").await.0);

    delete_web_signature(&replica, &s.admin).await;
    let (allowed, message, _) = admit(&app, &s.hook, "pod-signed.json").await;
    // Verify the signature deleted elsewhere no longer vouches here.
    assert!(!allowed && message.contains("unsigned"), "{message}");

    ok(replica.call(Some(&s.admin), "signature/rotate_cluster_token", &[("id", &s.cluster_id.to_string())]).await).await;
    // Verify the old hook URL is refused here.
    assert_eq!(review(&app, &s.hook, fixture("pod-signed.json")).await.status, StatusCode::UNAUTHORIZED);
}

/// The signing API keeps the keys it signs with, yet follows a change made on another console at
/// the next request: a disabled key refuses, a rotated key signs with its new version.
#[tokio::test(flavor = "multi_thread")]
async fn the_signing_api_follows_key_changes_on_another_console() {
    let app = TestApp::new().await;
    let s = scene(&app).await;
    let replica = app.restart().await;
    let token = app.token(&s.admin, "ci").await;
    let body = json!({ "digest": BASE64.encode([7u8; 32]), "algorithm": "RSA_PKCS1_SHA_256" });
    let path = format!("/api/v1/kms/keys/{}/sign", s.key_id);
    let signed = app.api(&token, Method::POST, &path, Some(body.clone())).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    assert_eq!(signed.json()["key_version"], 1);

    ok(replica.call(Some(&s.admin), "signature/set_key_enabled", &[("key_id", &s.key_id), ("enabled", "false")]).await).await;
    let refused = app.api(&token, Method::POST, &path, Some(body.clone())).await;
    // Verify the key disabled elsewhere refuses here at once.
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains("cannot sign"), "{}", refused.body);
    ok(replica.call(Some(&s.admin), "signature/set_key_enabled", &[("key_id", &s.key_id), ("enabled", "true")]).await).await;

    ok(replica.call(Some(&s.admin), "signature/rotate_key", &[("key_id", &s.key_id)]).await).await;
    let rotated = app.api(&token, Method::POST, &path, Some(body)).await;
    // Verify the new version signs here.
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    assert_eq!(rotated.json()["key_version"], 2);
}

/// The admission log is written in batches: a console's queued decisions are written before its
/// log is read and on shutdown, none is lost or doubled, and decisions past the retention go.
#[tokio::test(flavor = "multi_thread")]
async fn the_admission_log_is_written_in_batches_and_pruned() {
    let app = TestApp::new().await;
    let s = scene(&app).await;
    bulwark::signature::decisions::flush(app.db()).await.unwrap();
    let before = app.count("SELECT COUNT(*) FROM sig_decisions").await;
    for _ in 0..30 {
        admit(&app, &s.hook, "pod-signed.json").await;
    }
    // The log page writes what waits (as shutdown does) and shows all thirty, once each.
    let decisions = ok(app.call(Some(&s.admin), "signature/list_decisions", &[("outcome", "allowed")]).await).await;
    assert_eq!(bulwark::server::behind::pending::<bulwark::signature::decisions::DecisionQueue>(app.db()), 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM sig_decisions").await, before + 30);
    assert!(decisions.as_array().unwrap().len() >= 30);
    admit(&app, &s.hook, "pod-unsigned.json").await;
    bulwark::signature::decisions::flush(app.db()).await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM sig_decisions WHERE outcome = 'denied'").await, 1);

    // A month later, with a 30-day retention, only what is newer than 30 days stays.
    // So do the image inventory's entries: a workload not seen for 31 days is gone.
    sqlx::query("UPDATE sig_decisions SET created_at = created_at - 31 * 86400 WHERE outcome = 'allowed'").execute(&app.db().pool).await.unwrap();
    let inventory = app.count("SELECT COUNT(*) FROM image_inventory").await;
    sqlx::query("UPDATE image_inventory SET last_seen_at = last_seen_at - 31 * 86400 WHERE workload_name = 'web'").execute(&app.db().pool).await.unwrap();
    let pruned = bulwark::signature::decisions::prune(app.db(), 30, now()).await.unwrap();
    assert_eq!(pruned as i64, before + 30);
    assert_eq!(app.count("SELECT COUNT(*) FROM sig_decisions").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM image_inventory").await, inventory - 1);
}

/// The Images tab pages through every image, newest first, and the search narrows the count.
#[tokio::test(flavor = "multi_thread")]
async fn the_images_tab_pages_through_every_image() {
    let app = TestApp::new().await;
    let s = scene(&app).await;
    // The image the hook met is written with the scene's decisions (within a second).
    bulwark::signature::decisions::flush(app.db()).await.unwrap();
    // Four images from the scene (three signed, one met by the hook), and 60 batch images
    // signed after them.
    for n in 0..60u8 {
        let digest = format!("sha256:{}", hex::encode([n; 32]));
        ok(sign(&app, &s.admin, "build", &format!("{REGISTRY}/batch-{n:02}@{digest}")).await).await;
    }
    let page = |search: &'static str, page: &'static str| {
        let (app, admin) = (&app, &s.admin);
        async move { ok(app.call(Some(admin), "signature/list_images", &[("search", search), ("page", page)]).await).await }
    };
    let names = |p: &Value| p["images"].as_array().unwrap().iter().map(|i| i["repository"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let first = page("", "1").await;
    assert_eq!((first["total"].as_i64(), first["page"].as_i64(), first["page_count"].as_i64()), (Some(64), Some(1), Some(2)));
    assert_eq!(names(&first).len(), 50);
    assert_eq!(names(&first)[0], format!("{REGISTRY}/batch-59"));
    let second = page("", "2").await;
    let rest = names(&second);
    assert_eq!(rest.len(), 14);
    // Every image is on exactly one page.
    let mut all: Vec<String> = names(&first).into_iter().chain(rest).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 64);
    // A page past the end shows the last page; page 0 the first.
    assert_eq!(page("", "9").await["page"], 2);
    assert_eq!(page("", "0").await["page"], 1);
    let batch = page("batch-1", "1").await;
    assert_eq!((batch["total"].as_i64(), batch["page_count"].as_i64()), (Some(10), Some(1)));
    assert!(names(&batch).iter().all(|n| n.contains("batch-1")));
}

/// Malformed bodies are 400 with the reason, a wrong or rotated token is 401, and nothing is
/// recorded for either.
#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_refuses_malformed_reviews_and_wrong_tokens() {
    let app = TestApp::new().await;
    let s = scene(&app).await;
    bulwark::signature::decisions::flush(app.db()).await.unwrap();
    let before = app.count("SELECT COUNT(*) FROM sig_decisions").await;
    for (name, expected) in [
        ("malformed-not-json.json", "the body is not JSON"),
        ("malformed-not-review.json", "not an admission.k8s.io/v1 AdmissionReview"),
        ("malformed-v1beta1.json", "admission.k8s.io/v1beta1 AdmissionReview is not supported"),
        ("malformed-pod-no-image.json", "spec.containers[0].image: missing"),
        ("malformed-pod-image-not-string.json", "spec.containers[0].image: invalid type"),
        ("malformed-no-uid.json", "the request has no uid"),
    ] {
        let response = review(&app, &s.hook, fixture(name)).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{name}");
        assert!(response.json()["message"].as_str().unwrap().starts_with(expected), "{name}: {}", response.body);
    }
    let wrong = s.hook.rsplit_once('/').unwrap().0.to_string() + "/bct_0000";
    assert_eq!(review(&app, &wrong, fixture("pod-signed.json")).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(review(&app, "/api/v1/admission/not-a-number/x", fixture("pod-signed.json")).await.status, StatusCode::UNAUTHORIZED);
    ok(app.call(Some(&s.admin), "signature/rotate_cluster_token", &[("id", &s.cluster_id.to_string())]).await).await;
    assert_eq!(review(&app, &s.hook, fixture("pod-signed.json")).await.status, StatusCode::UNAUTHORIZED);
    bulwark::signature::decisions::flush(app.db()).await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM sig_decisions").await, before);
}

/// Accounts are isolated: another account's token cannot reach a cluster, its keys, witnesses
/// or signatures; viewers read but do not change; Basic accounts and unauthorized ones are refused.
#[tokio::test(flavor = "multi_thread")]
async fn container_signature_is_per_account_and_gated() {
    let app = TestApp::new().await;
    let s = scene(&app).await;
    let (other, other_admin) = enterprise(&app, "Rival").await;
    let (_, rival_hook) = cluster(&app, &other_admin, "rival").await;
    // Rival's token with Shop's cluster id.
    let cross = format!("/api/v1/admission/{}/{}", s.cluster_id, rival_hook.rsplit_once('/').unwrap().1);
    assert_eq!(review(&app, &cross, fixture("pod-signed.json")).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(witness(&app, &other_admin, "stolen", &s.key_id).await.json()["Validation"]["key_id"], "This account has no such key.");
    assert_eq!(sign(&app, &other_admin, "build", &format!("{REGISTRY}/web@{D1}")).await.json()["Validation"]["witness"], "There is no witness named \"build\".");
    let token = app.token(&other_admin, "rival-ci").await;
    let digest = BASE64.encode([7u8; 32]);
    let refused = app.api(&token, Method::POST, &format!("/api/v1/kms/keys/{}/sign", s.key_id), Some(json!({ "digest": digest, "algorithm": "RSA_PKCS1_SHA_256" }))).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let none = ok(app.call(Some(&other_admin), "signature/list_images", &[("search", "")]).await).await;
    assert_eq!((none["images"].clone(), none["total"].clone()), (json!([]), json!(0)));
    let _ = other;

    let viewer_email = "viewer@shop.test";
    let shop_id: i64 = sqlx::query_scalar("SELECT account_id FROM sig_clusters WHERE id = $1").bind(s.cluster_id).fetch_one(&app.db().pool).await.unwrap();
    app.user(shop_id, viewer_email, Role::Viewer).await;
    let viewer = app.sign_in(viewer_email).await;
    assert_eq!(ok(app.call(Some(&viewer), "signature/list_witnesses", &[]).await).await[0]["name"], "build");
    assert_eq!(app.call(Some(&viewer), "signature/list_keys", &[]).await.status, StatusCode::OK);
    let forbidden = app.call(Some(&viewer), "signature/get_hook_instructions", &[("id", &s.cluster_id.to_string())]).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN, "the hook's token is for admins");
    assert_eq!(sign(&app, &viewer, "build", &format!("{REGISTRY}/web@{D1}")).await.status, StatusCode::FORBIDDEN);

    let (_, basic_email) = app.account("Corner", Edition::Basic, Role::Admin).await;
    let basic = app.sign_in(&basic_email).await;
    let upgrade = app.call(Some(&basic), "signature/list_keys", &[]).await;
    assert_eq!(upgrade.status, StatusCode::FORBIDDEN, "{}", upgrade.body);
    assert_eq!(upgrade.json()["UpgradeRequired"]["feature"], "ContainerSignature");
    let (_, unauthorized_email) = app.account("Fresh", Edition::Enterprise, Role::Admin).await;
    let fresh = app.sign_in(&unauthorized_email).await;
    assert_eq!(app.call(Some(&fresh), "signature/list_keys", &[]).await.json()["AuthorizationRequired"], "KeysAndClusters");
    let fresh_token = app.token(&fresh, "ci").await;
    let api = app.api(&fresh_token, Method::POST, "/api/v1/signatures", Some(json!({ "witness": "build", "image": format!("{REGISTRY}/web@{D1}") }))).await;
    assert_eq!(api.status, StatusCode::FORBIDDEN, "{}", api.body);
}

/// A policy covers only namespaces of its cluster, needs existing witnesses, and checks its
/// input; clusters keep namespaces their policies cover.
#[tokio::test(flavor = "multi_thread")]
async fn policies_and_clusters_check_their_input() {
    let app = TestApp::new().await;
    let s = scene(&app).await;
    let empty = app.call(Some(&s.admin), "signature/save_policy", &[("input[name]", ""), ("input[witness_match]", "AnyOf"), ("input[enabled]", "false"), ("input[mode]", "Warn"), ("input[remarks]", "")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = empty.json()["Validation"].clone();
    for field in ["name", "witnesses", "cluster", "namespaces"] {
        assert!(fields[field].is_string(), "{field}: {fields}");
    }
    let foreign = policy(&app, &s.admin, "wide", s.cluster_id, &[s.witness_id], &[("input[namespaces][0]", "kube-system")]).await;
    assert_eq!(foreign.json()["Validation"]["namespaces"], "\"kube-system\" is not a namespace of prod-eu.");
    let twin = policy(&app, &s.admin, "prod-shop", s.cluster_id, &[s.witness_id], &[]).await;
    assert_eq!(twin.json()["Validation"]["name"], "Another policy has this name.");
    assert_eq!(app.count("SELECT COUNT(*) FROM sig_policies").await, 1);

    let shrink = app.call(Some(&s.admin), "signature/update_cluster", &[("id", &s.cluster_id.to_string()), ("input[name]", "prod-eu"), ("input[region]", "eu"), ("input[namespaces]", "dev")]).await;
    assert_eq!(shrink.json()["Validation"]["namespaces"], "The policy \"prod-shop\" covers \"shop\": keep it, or change the policy first.");
    let bad = app.call(Some(&s.admin), "signature/create_cluster", &[("input[name]", "x"), ("input[region]", "eu"), ("input[namespaces]", "Shop_1")]).await;
    assert!(bad.json()["Validation"]["namespaces"].as_str().unwrap().contains("is not a namespace name"));
    let in_use = app.call(Some(&s.admin), "signature/delete_cluster", &[("id", &s.cluster_id.to_string())]).await;
    assert_eq!(in_use.status, StatusCode::CONFLICT);

    // The hook configuration is a ValidatingWebhookConfiguration for exactly this URL.
    let hook = ok(app.call(Some(&s.admin), "signature/get_hook_instructions", &[("id", &s.cluster_id.to_string())]).await).await;
    let yaml = hook["yaml"].as_str().unwrap();
    assert!(yaml.contains("kind: ValidatingWebhookConfiguration") && yaml.contains(&s.hook) && yaml.contains("failurePolicy: Fail"), "{yaml}");
    assert_eq!(hook["tls"], false);
}

/// Signing with "publish" pushes the signature to the image's registry in cosign's layout, with
/// the credentials saved (sealed) for that registry; failures keep the signature and say why.
#[tokio::test(flavor = "multi_thread")]
async fn signatures_are_published_to_a_real_registry() {
    use bulwark::signature::image_ref::ImageRef;
    use bulwark::signature::registry::{RegistryAuth, RegistryClient, Target};

    let registry = crate::registry_support::TestRegistry::start_with_htpasswd("ci", "s3cret-push");
    let app = TestApp::new().await;
    let s = scene(&app).await;
    let client = RegistryClient::new(Arc::new(loopback_policy())).unwrap();
    let auth = RegistryAuth::Basic { username: "ci".into(), password: "s3cret-push".into() };
    let unpinned = ImageRef::parse(&format!("{}/shop/web:2.0", registry.host())).unwrap();
    let digest = client.push_test_image(Target { image: &unpinned, auth: &auth, plain_http: true }, "2.0").await.unwrap();
    let image = format!("{}/shop/web@{digest}", registry.host());

    let save = |password: &'static str| {
        let host = registry.host();
        let app = &app;
        let admin = &s.admin;
        async move {
            app.call(Some(admin), "signature/save_registry", &[("input[host]", &host), ("input[username]", "ci"), ("input[password]", password), ("input[plain_http]", "true")]).await
        }
    };
    ok(save("wrong").await).await;
    let signed = ok(app.call(Some(&s.admin), "signature/sign_image", &[("input[witness]", "build"), ("input[image]", &image), ("input[publish]", "true")]).await).await;
    // Verify the signature is kept, and the refusal explained.
    assert!(signed["published_tag"].is_null());
    assert!(signed["publish_error"].as_str().unwrap().contains("refused the credentials (401)"), "{signed}");
    let id = signed["signature_id"].as_i64().unwrap().to_string();

    ok(save("s3cret-push").await).await;
    let tag = ok(app.call(Some(&s.admin), "signature/publish_signature", &[("id", &id)]).await).await;
    assert_eq!(tag.as_str().unwrap(), format!("{}.sig", digest.replace(':', "-")));

    // Read the .sig manifest back from the registry: one layer, our payload and signature.
    let pinned = ImageRef::parse(&image).unwrap();
    let layers = client.read_signatures(Target { image: &pinned, auth: &auth, plain_http: true }).await.unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0].payload, BASE64.decode(signed["payload"].as_str().unwrap()).unwrap());
    assert_eq!(layers[0].signature_b64, signed["signature"].as_str().unwrap());
    assert_eq!(layers[0].media_type, "application/vnd.dev.cosign.simplesigning.v1+json");

    // Verify the password is stored sealed and never sent back.
    let sealed: String = sqlx::query_scalar("SELECT password_sealed FROM sig_registries").fetch_one(&app.db().pool).await.unwrap();
    assert!(!sealed.contains("s3cret-push"));
    let listed = ok(app.call(Some(&s.admin), "signature/list_registries", &[]).await).await;
    assert_eq!(listed[0]["has_password"], true);
    assert!(!listed.to_string().contains("s3cret-push"));
    let images = ok(app.call(Some(&s.admin), "signature/list_images", &[("search", "127.0.0.1")]).await).await["images"].clone();
    assert_eq!(images[0]["signatures"][0]["published_tag"], tag);
    assert!(images[0]["signatures"][0]["publish_error"].is_null());
}

/// `bulwark sign` signs through a console's API with an API token, as a pipeline would, and
/// writes a payload and signature that openssl verifies with the witness's public key.
#[tokio::test(flavor = "multi_thread")]
async fn bulwark_sign_signs_through_the_api() {
    let app = TestApp::new().await;
    let s = scene(&app).await;
    let server = app.serve().await;
    let token = app.token(&s.admin, "pipeline").await;
    let dir = tempfile::tempdir().unwrap();
    let run = |image: String| {
        let (server, token, dir) = (server.clone(), token.clone(), dir.path().to_path_buf());
        let url = app.state.config.database_url.clone();
        tokio::task::spawn_blocking(move || {
            crate::cli::bulwark(&url)
                .args(["sign", "--witness", "build", &image, "--server", &server, "--payload-out", "payload.json", "--signature-out", "payload.sig"])
                .env("BULWARK_API_TOKEN", &token)
                .current_dir(dir)
                .output()
                .unwrap()
        })
    };
    let signed = run(format!("{REGISTRY}/tools@{D4}")).await.unwrap();
    assert!(signed.status.success(), "{}", String::from_utf8_lossy(&signed.stderr));
    assert!(String::from_utf8_lossy(&signed.stdout).contains(&format!("Signed {REGISTRY}/tools@{D4} as build")));
    let pem = app.get(Some(&s.admin), &format!("/precaution/container-signature/keys/{}/public-key.pem", s.key_id)).await.body;
    std::fs::write(dir.path().join("build.pem"), pem).unwrap();
    let verified = Command::new("openssl")
        .current_dir(dir.path())
        .args(["dgst", "-sha256", "-verify", "build.pem", "-signature", "payload.sig", "payload.json"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&verified.stdout).trim(), "Verified OK");
    // Verify the webhook now trusts the image the pipeline signed.
    assert!(admit(&app, &s.hook, "pod-unsigned.json").await.0);

    let refused = run(format!("{REGISTRY}/tools:latest")).await.unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("Sign an image by digest"), "{}", String::from_utf8_lossy(&refused.stderr));
}

/// With BULWARK_TLS_CERT and BULWARK_TLS_KEY the console serves HTTPS with that certificate,
/// and the hook's configuration carries its CA (BULWARK_TLS_CA) as the caBundle.
#[tokio::test(flavor = "multi_thread")]
async fn the_console_serves_tls_and_the_hook_carries_its_ca_bundle() {
    // A small CA and a certificate it issued for 127.0.0.1, as a cluster operator would make.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("leaf.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n").unwrap();
    for args in [
        "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=Bulwark-Test-CA",
        "req -newkey rsa:2048 -nodes -keyout key.pem -out leaf.csr -subj /CN=localhost",
        "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem -days 2 -extfile leaf.ext",
    ] {
        let made = Command::new("openssl").current_dir(dir.path()).args(args.split(' ')).output().unwrap();
        assert!(made.status.success(), "openssl {args}: {}", String::from_utf8_lossy(&made.stderr));
    }
    let cert = std::fs::read(dir.path().join("ca.pem")).unwrap();

    let app = TestApp::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = crate::cli::bulwark(&app.state.config.database_url)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("BULWARK_TLS_CERT", dir.path().join("cert.pem"))
        .env("BULWARK_TLS_KEY", dir.path().join("key.pem"))
        .env("BULWARK_TLS_CA", dir.path().join("ca.pem"))
        .env("BULWARK_ADMIN_PASSWORD", PASSWORD)
        .env("BULWARK_PUBLIC_URL", format!("https://127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder().add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap()).build().unwrap();
    let url = format!("https://127.0.0.1:{port}");
    let mut health = None;
    for _ in 0..120 {
        if let Ok(response) = client.get(format!("{url}/healthz")).send().await {
            health = Some(response.status());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    // Verify the answer came over TLS, trusting only our certificate; plain HTTP gets nothing.
    assert_eq!(health, Some(reqwest::StatusCode::OK));
    assert!(reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.is_err());

    // The first admin signs in over HTTPS; the session cookie is Secure.
    let post = |path: &str, form: Vec<(&'static str, String)>, cookie: Option<String>| {
        let mut request = client.post(format!("{url}/api/{path}")).header("Accept", "application/json").form(&form);
        if let Some(cookie) = cookie {
            request = request.header("Cookie", cookie);
        }
        request.send()
    };
    let signed_in = post("sign_in", vec![("email", "admin@bulwark.local".into()), ("password", PASSWORD.into())], None).await.unwrap();
    let set_cookie = signed_in.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).find(|c| c.starts_with("bulwark_session")).unwrap();
    assert!(set_cookie.contains("Secure"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    post("grant_authorization", vec![("service", "keys_and_clusters".into())], Some(cookie.clone())).await.unwrap();
    let created = post("signature/create_cluster", vec![("input[name]", "tls".into()), ("input[region]", "eu".into()), ("input[namespaces]", "shop".into())], Some(cookie.clone()))
        .await
        .unwrap();
    let id = created.text().await.unwrap();
    let hook: Value = post("signature/get_hook_instructions", vec![("id", id.clone())], Some(cookie)).await.unwrap().json().await.unwrap();
    child.kill().ok();
    child.wait().ok();
    assert_eq!(hook["tls"], true, "{hook}");
    let yaml = hook["yaml"].as_str().unwrap();
    // Verify the YAML's values, whatever quoting the base64 needs.
    let parsed: Value = yaml_serde::from_str(yaml).unwrap();
    let client = &parsed["webhooks"][0]["clientConfig"];
    assert_eq!(client["caBundle"], BASE64.encode(&cert), "{yaml}");
    assert!(client["url"].as_str().unwrap().starts_with(&format!("https://127.0.0.1:{port}/api/v1/admission/{id}/bct_")), "{yaml}");
}

/// ENCRYPT/DECRYPT keys encrypt with RSAES-OAEP-SHA-256: what openssl encrypts with the exported
/// public key decrypts through the API, and such keys refuse to sign (and signing keys to decrypt).
#[tokio::test(flavor = "multi_thread")]
async fn encryption_keys_interoperate_with_openssl() {
    let app = TestApp::new().await;
    let (_, admin) = enterprise(&app, "Vault").await;
    let vault = key(&app, &admin, "vault", "RSA_2048", "ENCRYPT/DECRYPT").await;
    let signer = key(&app, &admin, "signer", "RSA_2048", "SIGN/VERIFY").await;
    let token = app.token(&admin, "ci").await;
    let dir = tempfile::tempdir().unwrap();
    let pem = app.api(&token, Method::GET, "/api/v1/kms/keys/vault/public-key", None).await.json()["public_key"].as_str().unwrap().to_string();
    std::fs::write(dir.path().join("pub.pem"), pem).unwrap();
    std::fs::write(dir.path().join("secret.txt"), "database password: hunter2").unwrap();
    let encrypted = Command::new("openssl")
        .current_dir(dir.path())
        .args(["pkeyutl", "-encrypt", "-pubin", "-inkey", "pub.pem", "-in", "secret.txt", "-out", "secret.bin"])
        .args(["-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256"])
        .output()
        .unwrap();
    assert!(encrypted.status.success(), "{}", String::from_utf8_lossy(&encrypted.stderr));
    let ciphertext = BASE64.encode(std::fs::read(dir.path().join("secret.bin")).unwrap());
    let decrypted = app.api(&token, Method::POST, &format!("/api/v1/kms/keys/{vault}/decrypt"), Some(json!({ "ciphertext": ciphertext }))).await;
    assert_eq!(decrypted.status, StatusCode::OK, "{}", decrypted.body);
    assert_eq!(BASE64.decode(decrypted.json()["plaintext"].as_str().unwrap()).unwrap(), b"database password: hunter2");

    // Round trip through the API, then a rotation: the old version still decrypts its ciphertext.
    let sealed = app.api(&token, Method::POST, "/api/v1/kms/keys/vault/encrypt", Some(json!({ "plaintext": BASE64.encode("token 42") }))).await.json();
    ok(app.call(Some(&admin), "signature/rotate_key", &[("key_id", &vault)]).await).await;
    let opened = app
        .api(&token, Method::POST, "/api/v1/kms/keys/vault/decrypt", Some(json!({ "ciphertext": sealed["ciphertext"], "key_version": sealed["key_version"] })))
        .await;
    assert_eq!(BASE64.decode(opened.json()["plaintext"].as_str().unwrap()).unwrap(), b"token 42");
    let wrong_version = app.api(&token, Method::POST, "/api/v1/kms/keys/vault/decrypt", Some(json!({ "ciphertext": sealed["ciphertext"] }))).await;
    assert_eq!(wrong_version.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong_version.body);

    let too_long = app.api(&token, Method::POST, "/api/v1/kms/keys/vault/encrypt", Some(json!({ "plaintext": BASE64.encode([0u8; 191]) }))).await;
    assert!(too_long.json()["fields"]["plaintext"].as_str().unwrap().contains("at most 190 bytes"), "{}", too_long.body);
    let digest = BASE64.encode([1u8; 32]);
    let sign = app.api(&token, Method::POST, "/api/v1/kms/keys/vault/sign", Some(json!({ "digest": digest, "algorithm": "RSA_PKCS1_SHA_256" }))).await;
    assert_eq!(sign.json()["message"], "This key is for ENCRYPT/DECRYPT and cannot sign.");
    let decrypt = app.api(&token, Method::POST, &format!("/api/v1/kms/keys/{signer}/decrypt"), Some(json!({ "ciphertext": ciphertext }))).await;
    assert_eq!(decrypt.json()["message"], "This key is for SIGN/VERIFY and cannot encrypt or decrypt.");
}

/// Once the operator lowers the account's edition (or an admin revokes the authorization), the
/// hook checks no image: a namespace an enforcing policy guards stays closed (denied, saying why),
/// a warning policy admits with a warning, a namespace no policy covers is admitted; each
/// decision is recorded with its reason, and nothing about the images is recorded.
#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_follows_the_accounts_edition_as_it_is_now() {
    let app = TestApp::new().await;
    let s = scene(&app).await;
    let account = app.count(&format!("SELECT account_id FROM sig_clusters WHERE id = {}", s.cluster_id)).await;
    assert!(admit(&app, &s.hook, "pod-signed.json").await.0);
    // What ran is written with the decisions.
    bulwark::signature::decisions::flush(app.db()).await.unwrap();
    let runs = app.count("SELECT COUNT(*) FROM image_inventory").await;
    let images = app.count("SELECT COUNT(*) FROM sig_images").await;

    bulwark::auth::repo::set_edition(app.db(), account, &bulwark::server::audit::Actor::Operator, Edition::Advanced).await.unwrap();
    let (allowed, message, _) = admit(&app, &s.hook, "pod-signed.json").await;
    // Verify the enforcing policy's namespace is closed, with the reason, even for a signed image.
    assert!(!allowed);
    assert!(
        message.contains("its images were not checked because the account is on the Advanced edition and Container signature needs Enterprise")
            && message.ends_with("[policy prod-shop]"),
        "{message}"
    );
    assert!(admit(&app, &s.hook, "pod-other-namespace.json").await.0, "no policy covers dev");
    sqlx::query("UPDATE sig_policies SET mode = 'warn' WHERE id = $1").bind(s.policy_id).execute(&app.db().pool).await.unwrap();
    let (allowed, _, warnings) = admit(&app, &s.hook, "pod-unsigned.json").await;
    assert!(allowed);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].starts_with("images not checked: the account is on the Advanced edition"), "{warnings:?}");
    // Verify each decision is recorded with its reason (once the queue is written), and no image or run was.
    bulwark::signature::decisions::flush(app.db()).await.unwrap();
    let decisions = sqlx::query_as::<_, (String, String)>("SELECT outcome, reason FROM sig_decisions ORDER BY id DESC LIMIT 3")
        .fetch_all(&app.db().pool)
        .await
        .unwrap();
    let outcomes: Vec<&str> = decisions.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(outcomes, ["warned", "allowed", "denied"]);
    assert!(decisions.iter().all(|(_, reason)| reason.contains("Container signature needs Enterprise")), "{decisions:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM image_inventory").await, runs);
    assert_eq!(app.count("SELECT COUNT(*) FROM sig_images").await, images);

    // Enterprise again, but the authorization revoked: the same, naming the authorization.
    bulwark::auth::repo::set_edition(app.db(), account, &bulwark::server::audit::Actor::Operator, Edition::Enterprise).await.unwrap();
    sqlx::query("UPDATE sig_policies SET mode = 'enforce' WHERE id = $1").bind(s.policy_id).execute(&app.db().pool).await.unwrap();
    ok(app.call(Some(&s.admin), "revoke_authorization", &[("service", "keys_and_clusters")]).await).await;
    let (allowed, message, _) = admit(&app, &s.hook, "pod-signed.json").await;
    assert!(!allowed);
    assert!(message.contains("no longer authorizes Bulwark to access the key management service"), "{message}");
}
