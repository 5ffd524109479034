use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::http::{error_body_message, parse_challenge};
use super::*;
use crate::signature::cosign::simple_signing_payload;

/// A client that may reach this machine, where the tests' registries listen.
fn loopback_client() -> RegistryClient {
    RegistryClient::new(Arc::new(OutboundPolicy::parse("127.0.0.1", None).0)).unwrap()
}

const DIGEST: &str = "sha256:4c1c50d0ffc614f90b93b07d778028dc765548e823f676fb027f61d281ac380d";

#[test]
fn config_matches_what_cosign_pushed() {
    // The config cosign v1.13.1 pushed next to its signature layer (see cosign.rs tests):
    // 247 bytes, sha256:85ad8e17…
    let config = signature_config(&["sha256:b671489ededd1a180bd87235bba00fd83354f9c7d13b71d9f8b66a8e52965ebc"], "2023-02-17T09:25:33.91047962-08:00");
    assert_eq!(config.len(), 247);
    assert_eq!(sha256_digest(&config), "sha256:85ad8e17d3d7c00664855c638832bd99f32d42542c2d587851410a45a7f60b95");
}

#[test]
fn config_has_one_history_entry_per_layer() {
    let config: serde_json::Value = serde_json::from_slice(&signature_config(&["sha256:a", "sha256:b"], "2026-01-01T00:00:00Z")).unwrap();
    assert_eq!(config["history"].as_array().unwrap().len(), 2);
    assert_eq!(config["rootfs"]["diff_ids"], serde_json::json!(["sha256:a", "sha256:b"]));
}

#[test]
fn manifest_serialises_in_cosign_field_order() {
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST_MEDIA_TYPE.into()),
        config: Descriptor { media_type: OCI_CONFIG_MEDIA_TYPE.into(), size: 247, digest: "sha256:c".into(), ..Descriptor::default() },
        layers: vec![Descriptor {
            media_type: SIMPLE_SIGNING_MEDIA_TYPE.into(),
            size: 252,
            digest: "sha256:l".into(),
            annotations: BTreeMap::from([(SIGNATURE_ANNOTATION.into(), "MEYC".into())]),
            other: serde_json::Map::new(),
        }],
        annotations: BTreeMap::new(),
        other: serde_json::Map::new(),
    };
    assert_eq!(
        String::from_utf8(serde_json::to_vec(&manifest).unwrap()).unwrap(),
        r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":247,"digest":"sha256:c"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":252,"digest":"sha256:l","annotations":{"dev.cosignproject.cosign/signature":"MEYC"}}]}"#
    );
}

#[test]
fn manifest_keeps_fields_it_does_not_know() {
    let raw = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"x","size":1,"digest":"sha256:c"},"layers":[{"mediaType":"y","size":2,"digest":"sha256:l","urls":["u"]}],"subject":{"digest":"sha256:s"}}"#;
    let manifest: Manifest = serde_json::from_str(raw).unwrap();
    let again: serde_json::Value = serde_json::to_value(&manifest).unwrap();
    assert_eq!(again, serde_json::from_str::<serde_json::Value>(raw).unwrap());
}

#[test]
fn test_layer_is_a_valid_tar() {
    let tar = single_file_tar("f.txt", b"hello\n");
    assert_eq!(tar.len(), 512 * 4);
    assert_eq!(&tar[512..518], b"hello\n");
    let mut header = tar[..512].to_vec();
    let stored = u32::from_str_radix(std::str::from_utf8(&header[148..154]).unwrap(), 8).unwrap();
    header[148..156].copy_from_slice(b"        ");
    assert_eq!(stored, header.iter().map(|&b| u32::from(b)).sum::<u32>());
    assert_eq!(&header[124..136], b"00000000006\0");
}

#[test]
fn challenge_parsing() {
    let c = parse_challenge(r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push""#).unwrap();
    assert_eq!(c.scheme, "Bearer");
    assert_eq!(c.params["realm"], "https://auth.docker.io/token");
    assert_eq!(c.params["service"], "registry.docker.io");
    assert_eq!(c.params["scope"], "repository:a/b:pull,push");
    let c = parse_challenge(r#"Basic realm="my \"realm\"""#).unwrap();
    assert_eq!((c.scheme.as_str(), c.params["realm"].as_str()), ("Basic", r#"my "realm""#));
    let c = parse_challenge("Bearer realm=https://x/token, service=x").unwrap();
    assert_eq!((c.params["realm"].as_str(), c.params["service"].as_str()), ("https://x/token", "x"));
    assert!(parse_challenge("").is_none());
    assert!(parse_challenge("Bearer realm=\"unterminated").is_some());
}

#[test]
fn registry_error_messages_are_extracted() {
    let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}},{"code":"DENIED"}]}"#;
    assert_eq!(error_body_message(body).as_deref(), Some("manifest unknown; DENIED"));
    assert_eq!(error_body_message(b"<html>oops</html>"), None);
    let error = RegistryError::Status { status: 404, what: "manifest r/x:t".into(), message: Some("manifest unknown".into()) };
    assert_eq!(error.to_string(), "the registry answered 404 for manifest r/x:t: manifest unknown");
}

#[test]
fn debug_never_shows_the_password() {
    let auth = RegistryAuth::Basic { username: "ci".into(), password: "hunter2".into() };
    let shown = format!("{auth:?} {:?}", Target { image: &ImageRef::parse("nginx").unwrap(), auth: &auth, plain_http: false });
    assert!(shown.contains("ci") && !shown.contains("hunter2"), "{shown}");
}

#[tokio::test]
async fn publish_checks_its_inputs_before_any_request() {
    let client = loopback_client();
    let auth = RegistryAuth::Anonymous;
    let pinned = ImageRef::parse(&format!("127.0.0.1:9/o/r@{DIGEST}")).unwrap();
    let target = Target { image: &pinned, auth: &auth, plain_http: true };
    let payload = simple_signing_payload(&pinned.docker_reference(), DIGEST, &BTreeMap::new());

    let tagged = ImageRef::parse("127.0.0.1:9/o/r:v1").unwrap();
    let unpinned = Target { image: &tagged, ..target };
    assert!(matches!(client.publish_signature(unpinned, &payload, "AA==").await, Err(RegistryError::NotPinned)));
    assert!(matches!(client.publish_signature(target, b"{}", "AA==").await, Err(RegistryError::Payload(_))));
    assert!(matches!(client.publish_signature(target, &payload, "not base64!").await, Err(RegistryError::SignatureNotBase64)));
    let other = simple_signing_payload(&pinned.docker_reference(), &format!("sha256:{}", "0".repeat(64)), &BTreeMap::new());
    assert!(matches!(client.publish_signature(target, &other, "AA==").await, Err(RegistryError::PayloadForOtherImage { .. })));

    let forged = ImageRef { repository: "../admin".into(), ..pinned.clone() };
    let forged_target = Target { image: &forged, ..target };
    assert!(matches!(client.read_signatures(forged_target).await, Err(RegistryError::InvalidImage(_))));
}

/// A registry that wants a Bearer token from its own /token endpoint, which accepts only
/// user:pass; with the token, every manifest is unknown. Records request lines and headers.
async fn token_registry() -> (u16, Arc<Mutex<Vec<String>>>) {
    token_registry_with_realm(None).await
}

/// The same, with its challenge naming `realm` as the token service instead of its own /token.
async fn token_registry_with_realm(realm: Option<&'static str>) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buffer[..end]).to_string();
                    buffer.drain(..end + 4);
                    let request_line = head.lines().next().unwrap_or_default().to_string();
                    let authorization = head.lines().find_map(|l| l.strip_prefix("authorization: ")).unwrap_or("-").to_string();
                    log.lock().unwrap().push(format!("{request_line} | {authorization}"));
                    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("user:pass"));
                    let (status, extra, body) = if request_line.starts_with("GET /token") {
                        if authorization == basic {
                            ("200 OK", String::new(), r#"{"token":"tok-1"}"#.to_string())
                        } else {
                            ("401 Unauthorized", String::new(), String::new())
                        }
                    } else if authorization == "Bearer tok-1" {
                        ("404 Not Found", String::new(), r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#.to_string())
                    } else {
                        let realm = realm.map_or_else(|| format!("http://127.0.0.1:{port}/token"), str::to_string);
                        let challenge = format!("WWW-Authenticate: Bearer realm=\"{realm}\",service=\"mock\"\r\n");
                        ("401 Unauthorized", challenge, String::new())
                    };
                    let response = format!("HTTP/1.1 {status}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                    if stream.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, seen)
}

#[tokio::test]
async fn bearer_token_flow() {
    let (port, seen) = token_registry().await;
    let client = loopback_client();
    let image = ImageRef::parse(&format!("127.0.0.1:{port}/o/r@{DIGEST}")).unwrap();
    let good = RegistryAuth::Basic { username: "user".into(), password: "pass".into() };
    let signatures = client.read_signatures(Target { image: &image, auth: &good, plain_http: true }).await.unwrap();
    // Verify: no signatures, and the token was asked for with the pull scope and then used.
    assert!(signatures.is_empty());
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen[1].starts_with("GET /token?service=mock&scope=repository%3Ao%2Fr%3Apull "), "{seen:?}");
    assert!(seen[2].ends_with("| Bearer tok-1"), "{seen:?}");

    let bad = RegistryAuth::Basic { username: "user".into(), password: "nope".into() };
    let error = client.read_signatures(Target { image: &image, auth: &bad, plain_http: true }).await.unwrap_err();
    assert_eq!(error.to_string(), "the registry refused the credentials (401)");
    let error = client.read_signatures(Target { image: &image, auth: &RegistryAuth::Anonymous, plain_http: true }).await.unwrap_err();
    assert_eq!(error.to_string(), "the registry requires credentials (401)");
}

#[tokio::test]
async fn credentials_never_go_to_a_plain_http_token_service_of_an_https_registry() {
    let session_auth = RegistryAuth::Basic { username: "u".into(), password: "p".into() };
    let image = ImageRef::parse(&format!("registry.example/o/r@{DIGEST}")).unwrap();
    let client = loopback_client();
    let session = Session::open(&client.http, Target { image: &image, auth: &session_auth, plain_http: false }, Access::Pull).unwrap();
    let challenge = parse_challenge(r#"Bearer realm="http://127.0.0.1:9/token",service="x""#).unwrap();
    assert!(matches!(session.fetch_token(&challenge).await, Err(RegistryError::InsecureTokenService(_))));
}

#[tokio::test]
async fn the_outbound_policy_guards_the_registry_and_its_token_service() {
    let (port, seen) = token_registry_with_realm(Some("http://169.254.169.254/latest/meta-data/token")).await;
    let image = ImageRef::parse(&format!("127.0.0.1:{port}/o/r@{DIGEST}")).unwrap();
    let auth = RegistryAuth::Basic { username: "user".into(), password: "pass".into() };
    let target = Target { image: &image, auth: &auth, plain_http: true };

    // Without the operator's allowance the registry on this machine is not reached at all.
    let strict = RegistryClient::new(Arc::new(OutboundPolicy::default())).unwrap();
    let error = strict.read_signatures(target).await.unwrap_err();
    assert!(matches!(error, RegistryError::Refused(Refused::Blocked { .. })), "{error}");
    assert!(seen.lock().unwrap().is_empty());

    // Allowed, the registry answers, but its token realm (cloud metadata) is refused.
    let error = loopback_client().read_signatures(target).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "169.254.169.254 is not a public address; this console only sends to public addresses unless its operator allows the host in BULWARK_OUTBOUND_ALLOW"
    );
    assert_eq!(seen.lock().unwrap().len(), 1, "only the first registry request was sent");
}
