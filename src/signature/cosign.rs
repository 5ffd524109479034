//! Cosign's "simple signing" payload (the bytes a signature covers) and the names cosign uses
//! to store signatures next to an image in a registry.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::image_ref::{validate_digest, ImageRef, ImageRefError};

/// Media type of a signature layer whose blob is the payload.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Layer annotation holding the base64 signature over the layer's blob.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// `critical.type` of every cosign container image signature.
pub const COSIGN_SIGNATURE_TYPE: &str = "cosign container image signature";

/// A parsed payload. `optional` keeps any JSON value: cosign writes strings there, but other
/// simple-signing producers put numbers (e.g. "timestamp") in it.
#[derive(Clone, Debug, PartialEq)]
pub struct SimpleSigning {
    pub docker_reference: String,
    pub digest: String,
    pub optional: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum PayloadError {
    #[error("the signature payload is not a valid simple-signing document: {0}")]
    Malformed(String),
    #[error("the signature payload is of type \"{0}\", not a cosign container image signature")]
    WrongType(String),
    #[error("the signature payload names \"{0}\", which is not an image repository")]
    BadReference(String),
    #[error("the signature payload's image digest is invalid: {0}")]
    BadDigest(ImageRefError),
}

/// The exact bytes cosign signs for `docker_reference@digest`, byte for byte what cosign's
/// Go `json.Marshal` of sigstore's `payload.Cosign` produces: fields in struct order,
/// `optional` keys sorted, `null` when there are none, and Go's string escaping.
pub fn simple_signing_payload(docker_reference: &str, digest: &str, optional: &BTreeMap<String, String>) -> Vec<u8> {
    let mut out = String::with_capacity(256);
    out.push_str(r#"{"critical":{"identity":{"docker-reference":"#);
    push_go_json_string(&mut out, docker_reference);
    out.push_str(r#"},"image":{"docker-manifest-digest":"#);
    push_go_json_string(&mut out, digest);
    out.push_str(r#"},"type":"#);
    push_go_json_string(&mut out, COSIGN_SIGNATURE_TYPE);
    out.push_str(r#"},"optional":"#);
    if optional.is_empty() {
        out.push_str("null");
    } else {
        out.push('{');
        for (i, (key, value)) in optional.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_go_json_string(&mut out, key);
            out.push(':');
            push_go_json_string(&mut out, value);
        }
        out.push('}');
    }
    out.push('}');
    out.into_bytes()
}

/// Parses and checks a payload. Unknown fields under `critical` are refused, as the
/// containers-signature format requires, so nothing a verifier ignores can be claimed there.
pub fn parse_payload(bytes: &[u8]) -> Result<SimpleSigning, PayloadError> {
    #[derive(Deserialize)]
    struct Document {
        critical: Critical,
        #[serde(default)]
        optional: Option<BTreeMap<String, serde_json::Value>>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Critical {
        identity: Identity,
        image: Image,
        #[serde(rename = "type")]
        kind: String,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Identity {
        #[serde(rename = "docker-reference")]
        docker_reference: String,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Image {
        #[serde(rename = "docker-manifest-digest")]
        digest: String,
    }

    let document: Document = serde_json::from_slice(bytes).map_err(|e| PayloadError::Malformed(e.to_string()))?;
    let critical = document.critical;
    if critical.kind != COSIGN_SIGNATURE_TYPE {
        return Err(PayloadError::WrongType(critical.kind));
    }
    let digest = validate_digest(&critical.image.digest).map_err(PayloadError::BadDigest)?;
    let reference = critical.identity.docker_reference;
    match ImageRef::parse(&reference) {
        Ok(image) if image.tag.is_none() && image.digest.is_none() => {}
        _ => return Err(PayloadError::BadReference(reference)),
    }
    Ok(SimpleSigning { docker_reference: reference, digest, optional: document.optional.unwrap_or_default() })
}

/// The tag cosign stores signatures under: "sha256:abc…" → "sha256-abc….sig".
/// Expects a digest already checked by `validate_digest`.
pub fn signature_tag(digest: &str) -> String {
    format!("{}.sig", digest.replacen(':', "-", 1))
}

/// Go's encoding/json string form (Go ≥ 1.22): HTML-sensitive characters and U+2028/U+2029
/// are \u-escaped and control characters use short escapes where Go has them, so payloads
/// carrying user annotations hash the same as cosign's.
fn push_go_json_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    // A real signature cosign v1.13.1 pushed to Docker Hub (trace in jeffhuang4704/just-notes,
    // cosign/cosign-traffic.md): its layer was 252 bytes with this digest.
    const REAL_REFERENCE: &str = "index.docker.io/chihjenhuang/cosign1";
    const REAL_IMAGE_DIGEST: &str = "sha256:4c1c50d0ffc614f90b93b07d778028dc765548e823f676fb027f61d281ac380d";
    const REAL_LAYER_DIGEST: &str = "b671489ededd1a180bd87235bba00fd83354f9c7d13b71d9f8b66a8e52965ebc";

    #[test]
    fn payload_matches_cosign_byte_for_byte() {
        let payload = simple_signing_payload(REAL_REFERENCE, REAL_IMAGE_DIGEST, &BTreeMap::new());
        // Verify the exact text and that it hashes to the layer cosign uploaded.
        assert_eq!(
            String::from_utf8(payload.clone()).unwrap(),
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"{REAL_REFERENCE}"}},"image":{{"docker-manifest-digest":"{REAL_IMAGE_DIGEST}"}},"type":"cosign container image signature"}},"optional":null}}"#
            )
        );
        assert_eq!(payload.len(), 252);
        assert_eq!(hex::encode(Sha256::digest(&payload)), REAL_LAYER_DIGEST);
    }

    #[test]
    fn optional_annotations_are_sorted_and_go_escaped() {
        let optional = BTreeMap::from([("z".to_string(), "last".to_string()), ("a".to_string(), "<b>&\"q\"\\\n\u{1}\u{2028}é".to_string())]);
        let payload = String::from_utf8(simple_signing_payload("ghcr.io/o/r", REAL_IMAGE_DIGEST, &optional)).unwrap();
        assert!(payload.ends_with(r#""optional":{"a":"\u003cb\u003e\u0026\"q\"\\\n\u0001\u2028é","z":"last"}}"#), "{payload}");
        // Verify the escaped text still means the same strings.
        let parsed = parse_payload(payload.as_bytes()).unwrap();
        assert_eq!(parsed.optional["a"], serde_json::Value::String(optional["a"].clone()));
    }

    #[test]
    fn payload_is_deterministic() {
        let optional = BTreeMap::from([("env".to_string(), "prod".to_string()), ("by".to_string(), "bulwark".to_string())]);
        let first = simple_signing_payload("ghcr.io/o/r", REAL_IMAGE_DIGEST, &optional);
        assert_eq!(first, simple_signing_payload("ghcr.io/o/r", REAL_IMAGE_DIGEST, &optional.clone()));
    }

    #[test]
    fn parse_round_trip() {
        let optional = BTreeMap::from([("env".to_string(), "prod".to_string())]);
        let parsed = parse_payload(&simple_signing_payload(REAL_REFERENCE, REAL_IMAGE_DIGEST, &optional)).unwrap();
        assert_eq!(parsed.docker_reference, REAL_REFERENCE);
        assert_eq!(parsed.digest, REAL_IMAGE_DIGEST);
        assert_eq!(parsed.optional, BTreeMap::from([("env".to_string(), serde_json::json!("prod"))]));
        let parsed = parse_payload(&simple_signing_payload(REAL_REFERENCE, REAL_IMAGE_DIGEST, &BTreeMap::new())).unwrap();
        assert!(parsed.optional.is_empty());
    }

    #[test]
    fn parse_accepts_non_string_optional_values_and_missing_optional() {
        let doc = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"ghcr.io/o/r"}},"image":{{"docker-manifest-digest":"{REAL_IMAGE_DIGEST}"}},"type":"cosign container image signature"}},"optional":{{"timestamp":1471035347}}}}"#
        );
        assert_eq!(parse_payload(doc.as_bytes()).unwrap().optional["timestamp"], serde_json::json!(1471035347));
        let doc = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"ghcr.io/o/r"}},"image":{{"docker-manifest-digest":"{REAL_IMAGE_DIGEST}"}},"type":"cosign container image signature"}}}}"#
        );
        assert!(parse_payload(doc.as_bytes()).unwrap().optional.is_empty());
    }

    #[test]
    fn parse_rejects_other_types_and_bad_fields() {
        let with = |reference: &str, digest: &str, kind: &str, extra: &str| {
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"{reference}"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"{kind}"{extra}}},"optional":null}}"#
            )
        };
        let atomic = with("ghcr.io/o/r", REAL_IMAGE_DIGEST, "atomic container signature", "");
        assert_eq!(parse_payload(atomic.as_bytes()), Err(PayloadError::WrongType("atomic container signature".into())));
        let bad_digest = with("ghcr.io/o/r", "sha512:00", COSIGN_SIGNATURE_TYPE, "");
        assert_eq!(parse_payload(bad_digest.as_bytes()), Err(PayloadError::BadDigest(ImageRefError::UnsupportedDigestAlgorithm("sha512".into()))));
        let tagged = with("ghcr.io/o/r:latest", REAL_IMAGE_DIGEST, COSIGN_SIGNATURE_TYPE, "");
        assert_eq!(parse_payload(tagged.as_bytes()), Err(PayloadError::BadReference("ghcr.io/o/r:latest".into())));
        let extra = with("ghcr.io/o/r", REAL_IMAGE_DIGEST, COSIGN_SIGNATURE_TYPE, r#","expires":1"#);
        assert!(matches!(parse_payload(extra.as_bytes()), Err(PayloadError::Malformed(m)) if m.contains("expires")));
        assert!(matches!(parse_payload(b"not json"), Err(PayloadError::Malformed(_))));
        assert!(matches!(parse_payload(br#"{"critical":{}}"#), Err(PayloadError::Malformed(m)) if m.contains("identity")));
    }

    #[test]
    fn signature_tag_replaces_the_colon() {
        assert_eq!(signature_tag(REAL_IMAGE_DIGEST), "sha256-4c1c50d0ffc614f90b93b07d778028dc765548e823f676fb027f61d281ac380d.sig");
    }
}
