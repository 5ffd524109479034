//! Publishes cosign signatures to an OCI registry in cosign's own layout (tag `sha256-<hex>.sig`,
//! one simple-signing layer per signature) and reads them back, over the distribution HTTP API.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode, Url};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::cosign::{parse_payload, signature_tag, PayloadError, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE};
use super::image_ref::{validate_digest, validate_tag, ImageRef};

pub const OCI_MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const DOCKER_MANIFEST_MEDIA_TYPE: &str = "application/vnd.docker.distribution.manifest.v2+json";
const OCI_TAR_LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";

const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// distribution's own manifest size limit.
const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// Simple-signing payloads are a few hundred bytes; the cap only stops a hostile registry.
const MAX_BLOB_BYTES: usize = 4 << 20;
/// Cosign's default cap on attachments per manifest (GHSA-vfp6-jrw2-99g9): more layers than this
/// is a denial-of-service attempt, not signatures.
const MAX_SIGNATURE_LAYERS: usize = 1000;
const MAX_ERROR_BODY_BYTES: usize = 64 << 10;

/// Credentials for one registry. Debug hides the password so it never reaches a log.
#[derive(Clone)]
pub enum RegistryAuth {
    Anonymous,
    Basic { username: String, password: String },
}

impl fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryAuth::Anonymous => f.write_str("Anonymous"),
            RegistryAuth::Basic { username, .. } => f.debug_struct("Basic").field("username", username).field("password", &"<redacted>").finish(),
        }
    }
}

/// Where to publish or read: the image (pinned for signatures), its credentials, and whether
/// the registry speaks plain HTTP (a local registry) instead of HTTPS.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    pub image: &'a ImageRef,
    pub auth: &'a RegistryAuth,
    pub plain_http: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// The `.sig` tag written.
    pub tag: String,
    /// Digest of the signature manifest now under `tag`.
    pub manifest_digest: String,
    /// Signatures in the manifest, this one included.
    pub layers: usize,
}

/// One layer of a `.sig` manifest, its blob already checked against its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureLayer {
    pub payload: Vec<u8>,
    /// Empty when the layer carries no signature annotation.
    pub signature_b64: String,
    pub media_type: String,
    pub digest: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("the HTTP client could not be set up: {0}")]
    Setup(String),
    #[error("invalid image reference: {0}")]
    InvalidImage(String),
    #[error("the image must be pinned by digest (registry/repository@sha256:…) to carry signatures")]
    NotPinned,
    #[error("the payload cannot be published: {0}")]
    Payload(PayloadError),
    #[error("the payload signs {payload_digest}, not this image's digest {image_digest}")]
    PayloadForOtherImage { payload_digest: String, image_digest: String },
    #[error("the signature is not valid base64")]
    SignatureNotBase64,
    #[error("could not reach {host}: {reason}")]
    Unreachable { host: String, reason: String },
    #[error("the registry requires credentials (401)")]
    CredentialsRequired,
    #[error("the registry refused the credentials (401)")]
    CredentialsRefused,
    #[error("the registry does not let these credentials {action} {repository} (403){}", detail(.message))]
    Forbidden { action: &'static str, repository: String, message: Option<String> },
    #[error("the registry asks for {0} authentication, which is not supported")]
    UnsupportedAuth(String),
    #[error("refusing to send credentials to the token service {0} over plain HTTP")]
    InsecureTokenService(String),
    #[error("the image {0} is not in the registry")]
    ImageNotFound(String),
    #[error("the registry answered {status} for {what}{}", detail(.message))]
    Status { status: u16, what: String, message: Option<String> },
    #[error("the registry sent an unexpected answer for {what}: {problem}")]
    Protocol { what: String, problem: String },
    #[error("{what} is larger than the {limit} bytes accepted")]
    TooLarge { what: String, limit: usize },
    #[error("the registry returned {what} with digest {actual}, expected {expected}")]
    DigestMismatch { what: String, expected: String, actual: String },
    #[error("{tag} already holds {limit} signatures, the most cosign reads")]
    TooManySignatures { tag: String, limit: usize },
    #[error("{tag} holds a {media_type}, not a cosign signature manifest")]
    NotSignatureManifest { tag: String, media_type: String },
}

fn detail(message: &Option<String>) -> String {
    message.as_ref().map(|m| format!(": {m}")).unwrap_or_default()
}

/// One HTTP client (connection pool, TLS config) shared by every registry call.
#[derive(Clone)]
pub struct RegistryClient {
    http: reqwest::Client,
}

impl RegistryClient {
    pub fn new() -> Result<Self, RegistryError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("bulwark/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(REQUEST_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| RegistryError::Setup(e.to_string()))?;
        Ok(RegistryClient { http })
    }

    /// Adds a signature layer to the image's `.sig` manifest, creating it if needed, as
    /// `cosign sign` does. A layer with the same payload and signature is not added twice.
    pub async fn publish_signature(&self, target: Target<'_>, payload: &[u8], signature_b64: &str) -> Result<Published, RegistryError> {
        let image_digest = target.image.pinned_digest().map_err(|_| RegistryError::NotPinned)?;
        let signed = parse_payload(payload).map_err(RegistryError::Payload)?;
        if signed.digest != image_digest {
            return Err(RegistryError::PayloadForOtherImage { payload_digest: signed.digest, image_digest: image_digest.to_string() });
        }
        if base64::engine::general_purpose::STANDARD.decode(signature_b64).is_err() {
            return Err(RegistryError::SignatureNotBase64);
        }

        let mut session = Session::open(&self.http, target, Access::Push)?;
        // Like cosign, refuse to sign a digest the registry does not hold: it is almost always
        // a typo or the wrong repository.
        if !session.manifest_exists(image_digest).await? {
            return Err(RegistryError::ImageNotFound(target.image.to_string()));
        }

        let tag = signature_tag(image_digest);
        let existing = session.get_manifest(&tag).await?;
        let new_layer = Descriptor {
            media_type: SIMPLE_SIGNING_MEDIA_TYPE.to_string(),
            size: payload.len() as u64,
            digest: sha256_digest(payload),
            annotations: BTreeMap::from([(SIGNATURE_ANNOTATION.to_string(), signature_b64.to_string())]),
            other: serde_json::Map::new(),
        };

        let mut manifest = match existing {
            Some(found) => {
                let already =
                    found.manifest.layers.iter().any(|layer| {
                        layer.digest == new_layer.digest && layer.annotations.get(SIGNATURE_ANNOTATION).map(String::as_str) == Some(signature_b64)
                    });
                if already {
                    return Ok(Published { tag, manifest_digest: found.digest, layers: found.manifest.layers.len() });
                }
                if found.manifest.layers.len() >= MAX_SIGNATURE_LAYERS {
                    return Err(RegistryError::TooManySignatures { tag, limit: MAX_SIGNATURE_LAYERS });
                }
                found.manifest
            }
            None => Manifest {
                schema_version: 2,
                media_type: Some(OCI_MANIFEST_MEDIA_TYPE.to_string()),
                config: Descriptor::default(),
                layers: Vec::new(),
                annotations: BTreeMap::new(),
                other: serde_json::Map::new(),
            },
        };
        manifest.layers.push(new_layer);

        session.upload_blob(payload).await?;
        let diff_ids: Vec<&str> = manifest.layers.iter().map(|layer| layer.digest.as_str()).collect();
        let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let config = signature_config(&diff_ids, &created);
        manifest.config = Descriptor {
            // Keep the flavour cosign chose when it made the manifest (OCI, or Docker media types).
            media_type: if manifest.config.media_type.is_empty() { OCI_CONFIG_MEDIA_TYPE.to_string() } else { manifest.config.media_type },
            size: config.len() as u64,
            digest: session.upload_blob(&config).await?,
            annotations: BTreeMap::new(),
            other: serde_json::Map::new(),
        };
        let media_type = manifest.media_type.clone().unwrap_or_else(|| OCI_MANIFEST_MEDIA_TYPE.to_string());
        let body = serde_json::to_vec(&manifest).map_err(|e| RegistryError::Protocol { what: "the signature manifest".into(), problem: e.to_string() })?;
        let manifest_digest = session.put_manifest(&tag, &body, &media_type).await?;
        Ok(Published { tag, manifest_digest, layers: manifest.layers.len() })
    }

    /// The layers of the image's `.sig` manifest with their blobs; empty when it has none.
    pub async fn read_signatures(&self, target: Target<'_>) -> Result<Vec<SignatureLayer>, RegistryError> {
        let image_digest = target.image.pinned_digest().map_err(|_| RegistryError::NotPinned)?;
        let mut session = Session::open(&self.http, target, Access::Pull)?;
        let Some(found) = session.get_manifest(&signature_tag(image_digest)).await? else {
            return Ok(Vec::new());
        };
        let mut signatures = Vec::with_capacity(found.manifest.layers.len());
        for layer in found.manifest.layers {
            let payload = session.get_blob(&layer.digest, layer.size).await?;
            signatures.push(SignatureLayer {
                payload,
                signature_b64: layer.annotations.get(SIGNATURE_ANNOTATION).cloned().unwrap_or_default(),
                media_type: layer.media_type,
                digest: layer.digest,
            });
        }
        Ok(signatures)
    }

    /// For tests and demos: pushes a minimal image (config, one uncompressed tar layer holding a
    /// text file that names `tag`, OCI manifest) to the target's repository under `tag` and
    /// returns its manifest digest. The target's own tag and digest are ignored.
    pub async fn push_test_image(&self, target: Target<'_>, tag: &str) -> Result<String, RegistryError> {
        validate_tag(tag).map_err(|e| RegistryError::InvalidImage(e.to_string()))?;
        let mut session = Session::open(&self.http, target, Access::Push)?;
        let layer = single_file_tar("bulwark-test-image.txt", format!("Bulwark test image {tag}\n").as_bytes());
        let layer_digest = session.upload_blob(&layer).await?;
        let config = test_image_config(&layer_digest);
        let config_digest = session.upload_blob(&config).await?;
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(OCI_MANIFEST_MEDIA_TYPE.to_string()),
            config: Descriptor { media_type: OCI_CONFIG_MEDIA_TYPE.into(), size: config.len() as u64, digest: config_digest, ..Descriptor::default() },
            layers: vec![Descriptor { media_type: OCI_TAR_LAYER_MEDIA_TYPE.into(), size: layer.len() as u64, digest: layer_digest, ..Descriptor::default() }],
            annotations: BTreeMap::new(),
            other: serde_json::Map::new(),
        };
        let body = serde_json::to_vec(&manifest).map_err(|e| RegistryError::Protocol { what: "the test image manifest".into(), problem: e.to_string() })?;
        session.put_manifest(tag, &body, OCI_MANIFEST_MEDIA_TYPE).await
    }
}

/// An image manifest as the registry holds it. Unknown fields ride along in `other` so that
/// appending a signature does not drop what another tool wrote.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    config: Descriptor,
    #[serde(default)]
    layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    media_type: String,
    size: u64,
    digest: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

struct FetchedManifest {
    manifest: Manifest,
    digest: String,
}

/// The config blob go-containerregistry writes when cosign appends signature layers to an empty
/// image: same fields, same order, one zero-time history entry per layer.
fn signature_config(diff_ids: &[&str], created: &str) -> Vec<u8> {
    #[derive(Serialize)]
    struct Config<'a> {
        architecture: &'static str,
        created: &'a str,
        history: Vec<History>,
        os: &'static str,
        rootfs: RootFs<'a>,
        config: serde_json::Map<String, serde_json::Value>,
    }
    #[derive(Serialize)]
    struct History {
        created: &'static str,
    }
    #[derive(Serialize)]
    struct RootFs<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        diff_ids: &'a [&'a str],
    }
    let config = Config {
        architecture: "",
        created,
        history: diff_ids.iter().map(|_| History { created: "0001-01-01T00:00:00Z" }).collect(),
        os: "",
        rootfs: RootFs { kind: "layers", diff_ids },
        config: serde_json::Map::new(),
    };
    // Cannot fail: the value is only strings, arrays and maps.
    serde_json::to_vec(&config).unwrap_or_default()
}

fn test_image_config(layer_digest: &str) -> Vec<u8> {
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": { "type": "layers", "diff_ids": [layer_digest] },
        "config": {},
    });
    config.to_string().into_bytes()
}

/// A ustar archive holding one regular file: enough of an image layer for registries and
/// `docker pull` to accept, without pulling in a tar crate for test images.
fn single_file_tar(name: &str, content: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    let put = |header: &mut [u8; 512], offset: usize, value: &[u8]| {
        header[offset..offset + value.len()].copy_from_slice(value);
    };
    let name = &name.as_bytes()[..name.len().min(100)];
    put(&mut header, 0, name);
    put(&mut header, 100, b"0000644\0");
    put(&mut header, 108, b"0000000\0");
    put(&mut header, 116, b"0000000\0");
    put(&mut header, 124, format!("{:011o}\0", content.len()).as_bytes());
    put(&mut header, 136, b"00000000000\0");
    put(&mut header, 148, b"        ");
    header[156] = b'0';
    put(&mut header, 257, b"ustar\0");
    put(&mut header, 263, b"00");
    let checksum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    put(&mut header, 148, format!("{checksum:06o}\0 ").as_bytes());

    let padded = content.len().div_ceil(512) * 512;
    let mut tar = Vec::with_capacity(512 + padded + 1024);
    tar.extend_from_slice(&header);
    tar.extend_from_slice(content);
    tar.resize(512 + padded + 1024, 0);
    tar
}

fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

#[derive(Clone, Copy)]
enum Access {
    Pull,
    Push,
}

impl Access {
    fn actions(self) -> &'static str {
        match self {
            Access::Pull => "pull",
            Access::Push => "pull,push",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Access::Pull => "pull from",
            Access::Push => "push to",
        }
    }
}

/// One operation against one repository: remembers the Authorization header negotiated from the
/// registry's first 401 challenge so later requests reuse it.
struct Session<'a> {
    http: &'a reqwest::Client,
    base: Url,
    registry: &'a str,
    repository: &'a str,
    auth: &'a RegistryAuth,
    access: Access,
    authorization: Option<HeaderValue>,
}

struct Request<'b> {
    method: Method,
    url: Url,
    accept: Option<&'b str>,
    body: Option<(&'b [u8], &'b str)>,
}

impl<'a> Session<'a> {
    fn open(http: &'a reqwest::Client, target: Target<'a>, access: Access) -> Result<Self, RegistryError> {
        // Fields of ImageRef are public; re-parsing its canonical form keeps anything that was
        // not produced by ImageRef::parse (say "../x") out of the URLs below.
        let image = target.image;
        match ImageRef::parse(&image.to_string()) {
            Ok(reparsed) if reparsed == *image => {}
            Ok(_) => return Err(RegistryError::InvalidImage(format!("{image} is not in canonical form"))),
            Err(e) => return Err(RegistryError::InvalidImage(e.to_string())),
        }
        let scheme = if target.plain_http { "http" } else { "https" };
        let base = Url::parse(&format!("{scheme}://{}/", image.registry)).map_err(|e| RegistryError::InvalidImage(format!("{}: {e}", image.registry)))?;
        Ok(Session { http, base, registry: &image.registry, repository: &image.repository, auth: target.auth, access, authorization: None })
    }

    fn url(&self, kind: &str, reference: &str) -> Result<Url, RegistryError> {
        self.base
            .join(&format!("v2/{}/{kind}/{reference}", self.repository))
            .map_err(|e| RegistryError::InvalidImage(format!("{}/{}: {e}", self.registry, self.repository)))
    }

    fn describe(&self, what: &str, reference: &str) -> String {
        let separator = if reference.starts_with("sha256:") { '@' } else { ':' };
        format!("{what} {}/{}{separator}{reference}", self.registry, self.repository)
    }

    /// Sends a request; on a 401 negotiates credentials from the challenge and retries once.
    async fn send(&mut self, request: &Request<'_>) -> Result<reqwest::Response, RegistryError> {
        let mut retried = false;
        loop {
            let mut builder = self.http.request(request.method.clone(), request.url.clone());
            if let Some(accept) = request.accept {
                builder = builder.header(ACCEPT, accept);
            }
            if let Some((body, content_type)) = request.body {
                builder = builder.header(CONTENT_TYPE, content_type).body(body.to_vec());
            }
            // Upload locations may point at another host; credentials only go to the registry.
            if let Some(authorization) = self.authorization.as_ref().filter(|_| same_origin(&request.url, &self.base)) {
                builder = builder.header(AUTHORIZATION, authorization.clone());
            }
            let response = builder.send().await.map_err(|e| transport_error(self.registry, &e))?;
            if response.status() != StatusCode::UNAUTHORIZED {
                return Ok(response);
            }
            if retried {
                return Err(self.refused());
            }
            self.negotiate(response.headers()).await?;
            retried = true;
        }
    }

    fn refused(&self) -> RegistryError {
        match self.auth {
            RegistryAuth::Anonymous => RegistryError::CredentialsRequired,
            RegistryAuth::Basic { .. } => RegistryError::CredentialsRefused,
        }
    }

    async fn negotiate(&mut self, headers: &HeaderMap) -> Result<(), RegistryError> {
        let challenge = headers.get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).and_then(parse_challenge);
        let Some(challenge) = challenge else {
            return Err(self.refused());
        };
        let value = if challenge.scheme.eq_ignore_ascii_case("basic") {
            let RegistryAuth::Basic { username, password } = self.auth else {
                return Err(RegistryError::CredentialsRequired);
            };
            basic_authorization(username, password)
        } else if challenge.scheme.eq_ignore_ascii_case("bearer") {
            format!("Bearer {}", self.fetch_token(&challenge).await?)
        } else {
            return Err(RegistryError::UnsupportedAuth(challenge.scheme));
        };
        let mut header = HeaderValue::from_str(&value).map_err(|_| RegistryError::Protocol {
            what: "the token service".into(),
            problem: "the token contains characters not allowed in a header".into(),
        })?;
        header.set_sensitive(true);
        self.authorization = Some(header);
        Ok(())
    }

    /// The Docker token flow: GET realm?service=…&scope=repository:<name>:<actions>, with the
    /// user's credentials as Basic auth when there are any.
    async fn fetch_token(&self, challenge: &Challenge) -> Result<String, RegistryError> {
        let what = "the token service".to_string();
        let realm =
            challenge.params.get("realm").ok_or_else(|| RegistryError::Protocol { what: what.clone(), problem: "the Bearer challenge has no realm".into() })?;
        let mut url = Url::parse(realm).map_err(|e| RegistryError::Protocol { what: what.clone(), problem: format!("bad realm {realm:?}: {e}") })?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(RegistryError::Protocol { what, problem: format!("bad realm {realm:?}") });
        }
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = challenge.params.get("service") {
                query.append_pair("service", service);
            }
            query.append_pair("scope", &format!("repository:{}:{}", self.repository, self.access.actions()));
        }
        let host = url.host_str().unwrap_or_default().to_string();
        let mut builder = self.http.get(url.clone());
        if let RegistryAuth::Basic { username, password } = self.auth {
            // Credentials over plain HTTP are only acceptable when the registry itself is plain HTTP.
            if url.scheme() == "http" && self.base.scheme() == "https" {
                return Err(RegistryError::InsecureTokenService(host));
            }
            builder = builder.basic_auth(username, Some(password));
        }
        let response = builder.send().await.map_err(|e| transport_error(&host, &e))?;
        match response.status() {
            s if s.is_success() => {}
            StatusCode::UNAUTHORIZED => return Err(self.refused()),
            StatusCode::FORBIDDEN => return Err(self.forbidden(response).await),
            s => return Err(status_error(s, what, response).await),
        }
        #[derive(Deserialize)]
        struct TokenResponse {
            token: Option<String>,
            access_token: Option<String>,
        }
        let body = read_capped(response, MAX_ERROR_BODY_BYTES, &host, &what).await?;
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| RegistryError::Protocol { what: what.clone(), problem: e.to_string() })?;
        parsed.token.or(parsed.access_token).filter(|t| !t.is_empty()).ok_or(RegistryError::Protocol { what, problem: "the answer has no token".into() })
    }

    async fn forbidden(&self, response: reqwest::Response) -> RegistryError {
        RegistryError::Forbidden {
            action: self.access.verb(),
            repository: format!("{}/{}", self.registry, self.repository),
            message: registry_message(response).await,
        }
    }

    /// Checks the status of an answer that is not a 401, turning anything unexpected into the
    /// registry's own words.
    async fn expect(&self, response: reqwest::Response, ok: StatusCode, what: String) -> Result<reqwest::Response, RegistryError> {
        match response.status() {
            s if s == ok => Ok(response),
            StatusCode::FORBIDDEN => Err(self.forbidden(response).await),
            s => Err(status_error(s, what, response).await),
        }
    }

    async fn manifest_exists(&mut self, reference: &str) -> Result<bool, RegistryError> {
        let request = Request { method: Method::HEAD, url: self.url("manifests", reference)?, accept: Some(MANIFEST_ACCEPT), body: None };
        let response = self.send(&request).await?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(false),
            _ => self.expect(response, StatusCode::OK, self.describe("image", reference)).await.map(|_| true),
        }
    }

    /// The manifest under `tag`, or None when the tag (or the whole repository) does not exist.
    async fn get_manifest(&mut self, tag: &str) -> Result<Option<FetchedManifest>, RegistryError> {
        let request = Request { method: Method::GET, url: self.url("manifests", tag)?, accept: Some(MANIFEST_ACCEPT), body: None };
        let response = self.send(&request).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let what = self.describe("manifest", tag);
        let response = self.expect(response, StatusCode::OK, what.clone()).await?;
        let header_type =
            response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(|v| v.split(';').next().unwrap_or_default().trim().to_string());
        let announced_digest = header_string(response.headers(), "docker-content-digest");
        let body = read_capped(response, MAX_MANIFEST_BYTES, self.registry, &what).await?;
        let digest = sha256_digest(&body);
        if let Some(announced) = announced_digest.filter(|d| *d != digest) {
            return Err(RegistryError::DigestMismatch { what, expected: announced, actual: digest });
        }

        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Probe {
            media_type: Option<String>,
        }
        let probe: Probe = serde_json::from_slice(&body).map_err(|e| RegistryError::Protocol { what: what.clone(), problem: e.to_string() })?;
        let media_type = probe.media_type.or(header_type).unwrap_or_else(|| OCI_MANIFEST_MEDIA_TYPE.to_string());
        if media_type != OCI_MANIFEST_MEDIA_TYPE && media_type != DOCKER_MANIFEST_MEDIA_TYPE {
            return Err(RegistryError::NotSignatureManifest { tag: tag.to_string(), media_type });
        }
        let manifest: Manifest = serde_json::from_slice(&body).map_err(|e| RegistryError::Protocol { what: what.clone(), problem: e.to_string() })?;
        if manifest.layers.len() > MAX_SIGNATURE_LAYERS {
            return Err(RegistryError::Protocol { what, problem: format!("{} layers, more than the {MAX_SIGNATURE_LAYERS} accepted", manifest.layers.len()) });
        }
        Ok(Some(FetchedManifest { manifest, digest }))
    }

    /// Downloads a blob and checks its size and sha256 against the descriptor.
    async fn get_blob(&mut self, digest: &str, size: u64) -> Result<Vec<u8>, RegistryError> {
        let what = self.describe("blob", digest);
        // The digest comes from the registry and goes into a URL: only a well-formed sha256 may.
        validate_digest(digest).map_err(|e| RegistryError::Protocol { what: what.clone(), problem: e.to_string() })?;
        if size > MAX_BLOB_BYTES as u64 {
            return Err(RegistryError::TooLarge { what, limit: MAX_BLOB_BYTES });
        }
        let request = Request { method: Method::GET, url: self.url("blobs", digest)?, accept: None, body: None };
        let response = self.send(&request).await?;
        let response = self.expect(response, StatusCode::OK, what.clone()).await?;
        let body = read_capped(response, MAX_BLOB_BYTES, self.registry, &what).await?;
        let actual = sha256_digest(&body);
        if actual != digest || body.len() as u64 != size {
            return Err(RegistryError::DigestMismatch {
                what,
                expected: digest.to_string(),
                actual: format!("{actual} ({} bytes, expected {size})", body.len()),
            });
        }
        Ok(body)
    }

    /// Uploads a blob unless the registry already has it, returning its digest. Monolithic
    /// upload: POST to open the session, PUT the bytes with `?digest=` to close it.
    async fn upload_blob(&mut self, bytes: &[u8]) -> Result<String, RegistryError> {
        let digest = sha256_digest(bytes);
        let what = self.describe("blob", &digest);
        let head = Request { method: Method::HEAD, url: self.url("blobs", &digest)?, accept: None, body: None };
        if self.send(&head).await?.status() == StatusCode::OK {
            return Ok(digest);
        }

        let start = Request { method: Method::POST, url: self.url("blobs", "uploads/")?, accept: None, body: None };
        let response = self.send(&start).await?;
        let response = self.expect(response, StatusCode::ACCEPTED, format!("the upload of {what}")).await?;
        let location = header_string(response.headers(), LOCATION.as_str())
            .ok_or_else(|| RegistryError::Protocol { what: format!("the upload of {what}"), problem: "no Location header".into() })?;
        let mut url = self
            .base
            .join(&location)
            .map_err(|e| RegistryError::Protocol { what: format!("the upload of {what}"), problem: format!("bad Location {location:?}: {e}") })?;
        url.query_pairs_mut().append_pair("digest", &digest);

        let finish = Request { method: Method::PUT, url, accept: None, body: Some((bytes, "application/octet-stream")) };
        let response = self.send(&finish).await?;
        let response = self.expect(response, StatusCode::CREATED, format!("the upload of {what}")).await?;
        if let Some(stored) = header_string(response.headers(), "docker-content-digest").filter(|d| *d != digest) {
            return Err(RegistryError::DigestMismatch { what, expected: digest, actual: stored });
        }
        Ok(digest)
    }

    /// Stores a manifest under `reference`, returning the digest the registry confirmed.
    async fn put_manifest(&mut self, reference: &str, body: &[u8], media_type: &str) -> Result<String, RegistryError> {
        let digest = sha256_digest(body);
        let what = self.describe("manifest", reference);
        let request = Request { method: Method::PUT, url: self.url("manifests", reference)?, accept: None, body: Some((body, media_type)) };
        let response = self.send(&request).await?;
        let response = self.expect(response, StatusCode::CREATED, what.clone()).await?;
        if let Some(stored) = header_string(response.headers(), "docker-content-digest").filter(|d| *d != digest) {
            return Err(RegistryError::DigestMismatch { what, expected: digest, actual: stored });
        }
        Ok(digest)
    }
}

/// Index types are accepted too, so that a `.sig` tag pointing at one is reported as such
/// instead of as a missing manifest.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json";

fn same_origin(url: &Url, base: &Url) -> bool {
    url.scheme() == base.scheme() && url.host_str() == base.host_str() && url.port_or_known_default() == base.port_or_known_default()
}

fn basic_authorization(username: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}")))
}

fn header_string(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// Reads a body but stops at `limit` bytes, so a hostile registry cannot exhaust memory.
async fn read_capped(mut response: reqwest::Response, limit: usize, host: &str, what: &str) -> Result<Vec<u8>, RegistryError> {
    if response.content_length().is_some_and(|len| len > limit as u64) {
        return Err(RegistryError::TooLarge { what: what.to_string(), limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(host, &e))? {
        if body.len() + chunk.len() > limit {
            return Err(RegistryError::TooLarge { what: what.to_string(), limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn status_error(status: StatusCode, what: String, response: reqwest::Response) -> RegistryError {
    RegistryError::Status { status: status.as_u16(), what, message: registry_message(response).await }
}

/// The messages from the registry's `{"errors":[{"code","message","detail"}]}` body, if any.
async fn registry_message(response: reqwest::Response) -> Option<String> {
    let body = read_capped(response, MAX_ERROR_BODY_BYTES, "", "").await.ok()?;
    error_body_message(&body)
}

fn error_body_message(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(Deserialize)]
    struct ErrorEntry {
        code: Option<String>,
        message: Option<String>,
    }
    let parsed: Errors = serde_json::from_slice(body).ok()?;
    let messages: Vec<String> = parsed
        .errors
        .into_iter()
        .filter_map(|e| e.message.filter(|m| !m.is_empty()).or(e.code))
        .map(|m| m.chars().filter(|c| !c.is_control()).take(300).collect())
        .collect();
    (!messages.is_empty()).then(|| messages.join("; "))
}

/// Turns reqwest's nested error into the reason a user can act on.
fn transport_error(host: &str, error: &reqwest::Error) -> RegistryError {
    RegistryError::Unreachable { host: host.to_string(), reason: transport_reason(error) }
}

fn transport_reason(error: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost: &(dyn std::error::Error + 'static) = error;
    let mut source = Some(error);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            let known = match io.kind() {
                ConnectionRefused => Some("connection refused"),
                ConnectionReset => Some("the connection was reset"),
                ConnectionAborted => Some("the connection was aborted"),
                TimedOut => Some("the connection timed out"),
                HostUnreachable => Some("the host is unreachable"),
                NetworkUnreachable => Some("the network is unreachable"),
                _ => None,
            };
            if let Some(reason) = known {
                return reason.to_string();
            }
            // rustls reports through InvalidData; a non-TLS answer is the usual plain-HTTP mix-up.
            if io.kind() == InvalidData {
                let text = io.to_string();
                return if text.contains("InvalidContentType") {
                    "it does not answer HTTPS on that port (is it a plain-HTTP registry?)".to_string()
                } else {
                    format!("the TLS handshake failed: {text}")
                };
            }
        }
        if current.to_string() == "dns error" {
            return "the host name could not be resolved".to_string();
        }
        innermost = current;
        // io::Error::source() skips the error it wraps (hyper-rustls nests io errors), so
        // step into the wrapped error itself.
        source = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
    }
    if let Some(reqwest_error) = error.downcast_ref::<reqwest::Error>() {
        if reqwest_error.is_timeout() {
            return format!("no answer within {} seconds", REQUEST_TIMEOUT.as_secs());
        }
    }
    innermost.to_string()
}

struct Challenge {
    scheme: String,
    params: BTreeMap<String, String>,
}

/// Parses `Bearer realm="…",service="…",scope="…"` (quoted values may hold commas).
fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.is_empty() {
        return None;
    }
    let mut params = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect::<String>().trim().to_ascii_lowercase();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect::<String>().trim().to_string();
        }
        params.insert(key, value);
    }
    Some(Challenge { scheme: scheme.to_string(), params })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::signature::cosign::simple_signing_payload;

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
        let client = RegistryClient::new().unwrap();
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
                            let challenge = format!("WWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"mock\"\r\n");
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
        let client = RegistryClient::new().unwrap();
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
        let client = RegistryClient::new().unwrap();
        let session = Session::open(&client.http, Target { image: &image, auth: &session_auth, plain_http: false }, Access::Pull).unwrap();
        let challenge = parse_challenge(r#"Bearer realm="http://127.0.0.1:9/token",service="x""#).unwrap();
        assert!(matches!(session.fetch_token(&challenge).await, Err(RegistryError::InsecureTokenService(_))));
    }
}
