//! Publishes cosign signatures to an OCI registry in cosign's own layout (tag `sha256-<hex>.sig`,
//! one simple-signing layer per signature) and reads them back, over the distribution HTTP API.

mod http;
mod manifest;
mod session;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;

use super::cosign::{parse_payload, signature_tag, PayloadError, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE};
use super::image_ref::{validate_tag, ImageRef};
use crate::server::outbound::{Outbound, OutboundPolicy, Redirects, Refused};
use manifest::{sha256_digest, signature_config, single_file_tar, test_image_config, Descriptor, Manifest};
use session::{Access, Session};

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
    #[error("{0}")]
    Refused(#[from] Refused),
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

/// One HTTP client (connection pool, TLS config) shared by every registry call, bound to the
/// console's outbound policy: the registry, its token service and any redirect (registries send
/// blob downloads to their storage) must pass it.
#[derive(Clone)]
pub struct RegistryClient {
    http: Outbound,
}

/// Redirects a registry call may follow (each checked by the policy, never https to http).
const MAX_REDIRECTS: usize = 5;

impl RegistryClient {
    pub fn new(policy: Arc<OutboundPolicy>) -> Result<Self, RegistryError> {
        let http = Outbound::new(policy, Redirects::Checked(MAX_REDIRECTS), REQUEST_TIMEOUT).map_err(RegistryError::Setup)?;
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
        let created = crate::server::clock::now_rfc3339();
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
