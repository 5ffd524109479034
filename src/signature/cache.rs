//! What container signature keeps in memory, held by the console's one `AppState`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::kms::PrivateKey;

/// What container signature keeps in memory. Unlocked private keys by key version row, so that
/// signing does not unwrap and parse a key each time; whether a key may sign is still read from
/// the database on every use, so disabling a key takes effect at once, on every replica.
#[derive(Clone, Default)]
pub struct SignatureCache {
    unlocked: Arc<Mutex<HashMap<i64, Arc<PrivateKey>>>>,
    /// Signature checks already done, by (key version row, image digest, signature): revocation
    /// never depends on this, only the arithmetic is skipped.
    verified: Arc<Mutex<HashMap<Checked, bool>>>,
    /// When this replica last recorded where an image ran, by (cluster, namespace, image).
    recorded: Arc<Mutex<HashMap<Ran, i64>>>,
}

/// (key version row, image digest, signature).
type Checked = (i64, String, String);
/// (cluster, namespace, image).
type Ran = (i64, String, String);

/// Entries a cache map holds before it starts over (checked signatures, recorded runs).
pub(super) const CACHE_CAPACITY: usize = 100_000;
/// Where an image ran is written at most this often per cluster, namespace and image: the API
/// server calls for every pod.
pub const RUN_RECORD_SECS: i64 = 60;

impl SignatureCache {
    pub(super) fn unlocked(&self, version_row: i64) -> Option<Arc<PrivateKey>> {
        self.unlocked.lock().ok()?.get(&version_row).cloned()
    }

    pub(super) fn keep(&self, version_row: i64, key: Arc<PrivateKey>) {
        if let Ok(mut map) = self.unlocked.lock() {
            map.insert(version_row, key);
        }
    }

    /// Forgets a key's unlocked versions (disabled, scheduled for deletion, deleted).
    pub fn forget(&self, version_rows: &[i64]) {
        if let Ok(mut map) = self.unlocked.lock() {
            for row in version_rows {
                map.remove(row);
            }
        }
    }

    pub fn verified(&self, version_row: i64, digest: &str, signature: &str) -> Option<bool> {
        self.verified.lock().ok()?.get(&(version_row, digest.to_string(), signature.to_string())).copied()
    }

    /// Whether this replica should record that `image` ran there now (and notes that it did).
    pub fn should_record(&self, cluster_id: i64, namespace: &str, image: &str, now: i64) -> bool {
        let Ok(mut map) = self.recorded.lock() else { return true };
        if map.len() >= CACHE_CAPACITY {
            map.clear();
        }
        let key = (cluster_id, namespace.to_string(), image.to_string());
        match map.get(&key) {
            Some(at) if now - at < RUN_RECORD_SECS => false,
            _ => {
                map.insert(key, now);
                true
            }
        }
    }

    pub fn remember(&self, version_row: i64, digest: &str, signature: &str, valid: bool) {
        if let Ok(mut map) = self.verified.lock() {
            insert_bounded(&mut map, (version_row, digest.to_string(), signature.to_string()), valid);
        }
    }
}

/// Inserts into a cache map that starts over once it holds [`CACHE_CAPACITY`] entries.
pub(super) fn insert_bounded<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, key: K, value: V) {
    if map.len() >= CACHE_CAPACITY {
        map.clear();
    }
    map.insert(key, value);
}
