//! The manifest and config documents a signature is stored as, and the blobs written for a test image.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// An image manifest as the registry holds it. Unknown fields ride along in `other` so that
/// appending a signature does not drop what another tool wrote.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Manifest {
    pub(super) schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) media_type: Option<String>,
    pub(super) config: Descriptor,
    #[serde(default)]
    pub(super) layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(super) annotations: BTreeMap<String, String>,
    #[serde(flatten)]
    pub(super) other: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Descriptor {
    pub(super) media_type: String,
    pub(super) size: u64,
    pub(super) digest: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(super) annotations: BTreeMap<String, String>,
    #[serde(flatten)]
    pub(super) other: serde_json::Map<String, serde_json::Value>,
}

pub(super) struct FetchedManifest {
    pub(super) manifest: Manifest,
    pub(super) digest: String,
}

/// The config blob go-containerregistry writes when cosign appends signature layers to an empty
/// image: same fields, same order, one zero-time history entry per layer.
pub(super) fn signature_config(diff_ids: &[&str], created: &str) -> Vec<u8> {
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

pub(super) fn test_image_config(layer_digest: &str) -> Vec<u8> {
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
pub(super) fn single_file_tar(name: &str, content: &[u8]) -> Vec<u8> {
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

pub(super) fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}
