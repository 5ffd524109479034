//! Publishing and reading cosign signatures against a real registry (distribution 2.8), checking
//! what lands in the registry with plain HTTP requests, not through the code under test.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use bulwark::signature::cosign::{simple_signing_payload, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE};
use bulwark::signature::image_ref::ImageRef;
use bulwark::signature::registry::{RegistryAuth, RegistryClient, RegistryError, Target, OCI_CONFIG_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE};
use sha2::{Digest, Sha256};
use crate::common::loopback_policy;
use crate::registry_support::TestRegistry;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Pushes a test image to `host/repository:tag` and returns the reference pinned to its digest.
async fn pushed_image(client: &RegistryClient, host: &str, repository: &str, tag: &str, auth: &RegistryAuth) -> ImageRef {
    let unpinned = ImageRef::parse(&format!("{host}/{repository}:{tag}")).unwrap();
    let digest = client.push_test_image(Target { image: &unpinned, auth, plain_http: true }, tag).await.unwrap();
    ImageRef::parse(&format!("{host}/{repository}@{digest}")).unwrap()
}

async fn raw_get(url: &str, accept: &str) -> reqwest::Response {
    let response = reqwest::Client::new().get(url).header("Accept", accept).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {url}");
    response
}

/// Two signatures become two layers of one `.sig` manifest; publishing one again changes nothing.
#[tokio::test]
async fn publish_writes_cosign_layout_and_appends() {
    let registry = TestRegistry::start();
    let client = RegistryClient::new(Arc::new(loopback_policy())).unwrap();
    let auth = RegistryAuth::Anonymous;
    let image = pushed_image(&client, &registry.host(), "team/app", "v1", &auth).await;
    let digest = image.digest.clone().unwrap();
    let target = Target { image: &image, auth: &auth, plain_http: true };
    let payload = simple_signing_payload(&image.docker_reference(), &digest, &BTreeMap::new());

    let first = client.publish_signature(target, &payload, &b64(b"first signature")).await.unwrap();
    let expected_tag = format!("{}.sig", digest.replace(':', "-"));
    assert_eq!((first.tag.as_str(), first.layers), (expected_tag.as_str(), 1));

    // Verify the manifest as the registry serves it: cosign's OCI shape and the annotation.
    let base = format!("http://{}/v2/team/app", registry.host());
    let response = raw_get(&format!("{base}/manifests/{expected_tag}"), OCI_MANIFEST_MEDIA_TYPE).await;
    assert_eq!(response.headers()["docker-content-digest"], first.manifest_digest.as_str());
    let raw = response.bytes().await.unwrap();
    assert_eq!(format!("sha256:{}", hex::encode(Sha256::digest(&raw))), first.manifest_digest);
    let manifest: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(manifest["mediaType"], OCI_MANIFEST_MEDIA_TYPE);
    assert_eq!(manifest["config"]["mediaType"], OCI_CONFIG_MEDIA_TYPE);
    let layer = &manifest["layers"][0];
    assert_eq!(layer["mediaType"], SIMPLE_SIGNING_MEDIA_TYPE);
    assert_eq!(layer["size"], payload.len());
    assert_eq!(layer["annotations"][SIGNATURE_ANNOTATION], b64(b"first signature"));

    // Verify the layer blob is the payload, byte for byte, under its sha256.
    let layer_digest = layer["digest"].as_str().unwrap();
    let blob = raw_get(&format!("{base}/blobs/{layer_digest}"), "*/*").await.bytes().await.unwrap();
    assert_eq!(blob.as_ref(), payload.as_slice());
    assert_eq!(layer_digest, format!("sha256:{}", hex::encode(Sha256::digest(&payload))));

    // Verify the config blob lists the layer as go-containerregistry would.
    let config_digest = manifest["config"]["digest"].as_str().unwrap();
    let config: serde_json::Value = raw_get(&format!("{base}/blobs/{config_digest}"), "*/*").await.json().await.unwrap();
    assert_eq!(config["rootfs"]["diff_ids"], serde_json::json!([layer_digest]));

    let optional = BTreeMap::from([("env".to_string(), "prod".to_string())]);
    let second_payload = simple_signing_payload(&image.docker_reference(), &digest, &optional);
    let second = client.publish_signature(target, &second_payload, &b64(b"second signature")).await.unwrap();
    assert_eq!(second.layers, 2);
    let again = client.publish_signature(target, &second_payload, &b64(b"second signature")).await.unwrap();
    // Verify an identical signature is not appended and the manifest is left alone.
    assert_eq!(again, second);
    let manifest: serde_json::Value = raw_get(&format!("{base}/manifests/{expected_tag}"), OCI_MANIFEST_MEDIA_TYPE).await.json().await.unwrap();
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 2);

    let read = client.read_signatures(target).await.unwrap();
    assert_eq!(read.len(), 2);
    assert_eq!((read[0].payload.as_slice(), read[0].signature_b64.as_str()), (payload.as_slice(), b64(b"first signature").as_str()));
    assert_eq!((read[1].payload.as_slice(), read[1].signature_b64.as_str()), (second_payload.as_slice(), b64(b"second signature").as_str()));
    assert!(read.iter().all(|layer| layer.media_type == SIMPLE_SIGNING_MEDIA_TYPE));
}

/// Annotations another tool put on an existing layer (cosign's bundle, say) survive an append.
#[tokio::test]
async fn appending_keeps_annotations_of_existing_layers() {
    let registry = TestRegistry::start();
    let client = RegistryClient::new(Arc::new(loopback_policy())).unwrap();
    let auth = RegistryAuth::Anonymous;
    let image = pushed_image(&client, &registry.host(), "app", "v1", &auth).await;
    let digest = image.digest.clone().unwrap();
    let target = Target { image: &image, auth: &auth, plain_http: true };
    let payload = simple_signing_payload(&image.docker_reference(), &digest, &BTreeMap::new());
    let first = client.publish_signature(target, &payload, &b64(b"one")).await.unwrap();

    let url = format!("http://{}/v2/app/manifests/{}", registry.host(), first.tag);
    let mut manifest: serde_json::Value = raw_get(&url, OCI_MANIFEST_MEDIA_TYPE).await.json().await.unwrap();
    manifest["layers"][0]["annotations"]["dev.sigstore.cosign/bundle"] = serde_json::json!("{\"SignedEntryTimestamp\":\"x\"}");
    let put = reqwest::Client::new().put(&url).header("Content-Type", OCI_MANIFEST_MEDIA_TYPE).body(manifest.to_string()).send().await.unwrap();
    assert_eq!(put.status(), 201);

    let optional = BTreeMap::from([("n".to_string(), "2".to_string())]);
    let second = simple_signing_payload(&image.docker_reference(), &digest, &optional);
    assert_eq!(client.publish_signature(target, &second, &b64(b"two")).await.unwrap().layers, 2);
    let manifest: serde_json::Value = raw_get(&url, OCI_MANIFEST_MEDIA_TYPE).await.json().await.unwrap();
    // Verify the foreign annotation is still on the first layer.
    assert_eq!(manifest["layers"][0]["annotations"]["dev.sigstore.cosign/bundle"], "{\"SignedEntryTimestamp\":\"x\"}");
    assert_eq!(manifest["layers"][0]["annotations"][SIGNATURE_ANNOTATION], b64(b"one"));
}

/// A digest without a `.sig` tag, in an existing or a missing repository, has no signatures.
#[tokio::test]
async fn unsigned_digest_reads_as_empty() {
    let registry = TestRegistry::start();
    let client = RegistryClient::new(Arc::new(loopback_policy())).unwrap();
    let auth = RegistryAuth::Anonymous;
    let image = pushed_image(&client, &registry.host(), "app", "v1", &auth).await;
    assert!(client.read_signatures(Target { image: &image, auth: &auth, plain_http: true }).await.unwrap().is_empty());

    let elsewhere = ImageRef::parse(&format!("{}/never/pushed@{}", registry.host(), image.digest.clone().unwrap())).unwrap();
    assert!(client.read_signatures(Target { image: &elsewhere, auth: &auth, plain_http: true }).await.unwrap().is_empty());
}

/// Signing a digest the registry does not hold is refused before anything is written.
#[tokio::test]
async fn signing_an_unknown_digest_is_refused() {
    let registry = TestRegistry::start();
    let client = RegistryClient::new(Arc::new(loopback_policy())).unwrap();
    let auth = RegistryAuth::Anonymous;
    let missing = format!("sha256:{}", "ab".repeat(32));
    let image = ImageRef::parse(&format!("{}/app@{missing}", registry.host())).unwrap();
    let payload = simple_signing_payload(&image.docker_reference(), &missing, &BTreeMap::new());
    let error = client.publish_signature(Target { image: &image, auth: &auth, plain_http: true }, &payload, &b64(b"sig")).await.unwrap_err();
    assert!(matches!(error, RegistryError::ImageNotFound(_)), "{error}");
    assert_eq!(error.to_string(), format!("the image {}/app@{missing} is not in the registry", registry.host()));
}

/// With htpasswd auth: no credentials and a wrong password get specific 401 errors, the right
/// password pushes, signs and reads.
#[tokio::test]
async fn htpasswd_credentials() {
    let registry = TestRegistry::start_with_htpasswd("ci", "s3cret");
    let client = RegistryClient::new(Arc::new(loopback_policy())).unwrap();
    let unpinned = ImageRef::parse(&format!("{}/secure/app:v1", registry.host())).unwrap();

    let wrong = RegistryAuth::Basic { username: "ci".into(), password: "wrong".into() };
    let error = client.push_test_image(Target { image: &unpinned, auth: &wrong, plain_http: true }, "v1").await.unwrap_err();
    assert!(matches!(error, RegistryError::CredentialsRefused), "{error}");
    assert_eq!(error.to_string(), "the registry refused the credentials (401)");

    let anonymous = RegistryAuth::Anonymous;
    let error = client.push_test_image(Target { image: &unpinned, auth: &anonymous, plain_http: true }, "v1").await.unwrap_err();
    assert_eq!(error.to_string(), "the registry requires credentials (401)");

    let right = RegistryAuth::Basic { username: "ci".into(), password: "s3cret".into() };
    let image = pushed_image(&client, &registry.host(), "secure/app", "v1", &right).await;
    let target = Target { image: &image, auth: &right, plain_http: true };
    let payload = simple_signing_payload(&image.docker_reference(), image.digest.as_deref().unwrap(), &BTreeMap::new());
    assert_eq!(client.publish_signature(target, &payload, &b64(b"sig")).await.unwrap().layers, 1);
    let read = client.read_signatures(target).await.unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].payload, payload);

    // Verify reading with the wrong password fails the same way as pushing did.
    let error = client.read_signatures(Target { auth: &wrong, ..target }).await.unwrap_err();
    assert!(matches!(error, RegistryError::CredentialsRefused), "{error}");
}

/// Nothing listening on the port: the error names the host and the reason.
#[tokio::test]
async fn unreachable_registry() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = RegistryClient::new(Arc::new(loopback_policy())).unwrap();
    let image = ImageRef::parse(&format!("127.0.0.1:{port}/app@sha256:{}", "cd".repeat(32))).unwrap();
    let error = client.read_signatures(Target { image: &image, auth: &RegistryAuth::Anonymous, plain_http: true }).await.unwrap_err();
    assert!(matches!(error, RegistryError::Unreachable { .. }), "{error:?}");
    assert_eq!(error.to_string(), format!("could not reach 127.0.0.1:{port}: connection refused"));
}

/// Talking HTTPS to a plain-HTTP registry says so instead of a TLS decoding error.
#[tokio::test]
async fn https_to_a_plain_http_registry() {
    let registry = TestRegistry::start();
    let client = RegistryClient::new(Arc::new(loopback_policy())).unwrap();
    let image = ImageRef::parse(&format!("{}/app@sha256:{}", registry.host(), "cd".repeat(32))).unwrap();
    let error = client.read_signatures(Target { image: &image, auth: &RegistryAuth::Anonymous, plain_http: false }).await.unwrap_err();
    assert_eq!(error.to_string(), format!("could not reach {}: it does not answer HTTPS on that port (is it a plain-HTTP registry?)", registry.host()));
}
