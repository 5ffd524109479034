//! What the admission webhook decides from, kept in memory per console under a version.
//!
//! Every change to what a verdict depends on (hook tokens, policies and their witnesses, key
//! states and versions, stored signatures, an account's edition or authorizations) bumps
//! `signature_state.version` in the database, by triggers, in the same transaction. A review
//! reads that one row; when it moved, this console forgets what it read and reads afresh, so a
//! change takes effect on the next review on every replica. What is kept: the callers of hook
//! URLs, the enabled policies of each cluster, the signers of each image digest; and for the
//! signing API, the accounts allowed to sign and the keys they name (with the row of each key's
//! primary version). A value read while the version moves is kept under the old version and
//! dropped by the next request.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use super::cache::{insert_bounded, CACHE_CAPACITY};
use super::images::{ActivePolicy, Signers};
use super::keys::KeyRow;
use super::repo::HookCaller;
use super::vulns::{ActiveException, Judgement};

#[derive(Default)]
pub struct AdmissionCache(Mutex<Kept>);

#[derive(Default)]
struct Kept {
    version: i64,
    /// By (cluster, token hash): the caller, and when its hook was last recorded as seen.
    hooks: HashMap<(i64, String), (HookCaller, Option<i64>)>,
    /// By (account, cluster).
    policies: HashMap<(i64, i64), Arc<Vec<ActivePolicy>>>,
    /// By (account, repository, digest).
    signers: HashMap<(i64, String, String), Signers>,
    /// Accounts whose edition and authorization allow the key service.
    signing_accounts: HashSet<i64>,
    /// By (account, key id or alias as named): the key, and the row of its primary version.
    keys: HashMap<(i64, String), (KeyRow, i64)>,
    /// By account: the exceptions that had not expired when read (each is checked again).
    exceptions: HashMap<i64, Arc<Vec<ActiveException>>>,
    /// By (policy, repository, digest): the vulnerability rule's judgement, until it lapses.
    judgements: HashMap<(i64, String, String), Judgement>,
}

impl AdmissionCache {
    fn kept(&self) -> MutexGuard<'_, Kept> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes what is kept, unless the version has moved since `version` was read.
    fn keep(&self, version: i64, change: impl FnOnce(&mut Kept)) {
        let mut kept = self.kept();
        if kept.version == version {
            change(&mut kept);
        }
    }

    /// Keeps what was read at `version`, or forgets everything when the version moved.
    pub fn sync(&self, version: i64) {
        let mut kept = self.kept();
        if kept.version != version {
            *kept = Kept { version, ..Kept::default() };
        }
    }

    /// The caller of a hook URL, and when its hook was last recorded as seen.
    pub fn hook(&self, cluster_id: i64, token_hash: &str) -> Option<(HookCaller, Option<i64>)> {
        self.kept().hooks.get(&(cluster_id, token_hash.to_string())).copied()
    }

    /// Keeps a hook's caller read at `version` (nothing when the version has moved since).
    pub fn keep_hook(&self, version: i64, cluster_id: i64, token_hash: &str, caller: HookCaller, seen: Option<i64>) {
        self.keep(version, |kept| insert_bounded(&mut kept.hooks, (cluster_id, token_hash.to_string()), (caller, seen)));
    }

    pub fn policies(&self, account_id: i64, cluster_id: i64) -> Option<Arc<Vec<ActivePolicy>>> {
        self.kept().policies.get(&(account_id, cluster_id)).cloned()
    }

    pub fn keep_policies(&self, version: i64, account_id: i64, cluster_id: i64, policies: Arc<Vec<ActivePolicy>>) {
        self.keep(version, |kept| insert_bounded(&mut kept.policies, (account_id, cluster_id), policies));
    }

    /// The signers of those of `images` (repository, digest) that are kept.
    pub fn signers(&self, account_id: i64, images: &[(String, String)]) -> HashMap<(String, String), Signers> {
        let kept = self.kept();
        images
            .iter()
            .filter_map(|(repository, digest)| {
                let signers = kept.signers.get(&(account_id, repository.clone(), digest.clone()))?;
                Some(((repository.clone(), digest.clone()), signers.clone()))
            })
            .collect()
    }

    pub fn keep_signers(&self, version: i64, account_id: i64, found: &HashMap<(String, String), Signers>) {
        self.keep(version, |kept| {
            for ((repository, digest), signers) in found {
                insert_bounded(&mut kept.signers, (account_id, repository.clone(), digest.clone()), signers.clone());
            }
        });
    }

    pub fn may_sign(&self, account_id: i64) -> bool {
        self.kept().signing_accounts.contains(&account_id)
    }

    pub fn keep_may_sign(&self, version: i64, account_id: i64) {
        self.keep(version, |kept| {
            if kept.signing_accounts.len() >= CACHE_CAPACITY {
                kept.signing_accounts.clear();
            }
            kept.signing_accounts.insert(account_id);
        });
    }

    /// A key as the account named it, and the row of its primary version.
    pub fn key(&self, account_id: i64, name: &str) -> Option<(KeyRow, i64)> {
        self.kept().keys.get(&(account_id, name.to_string())).cloned()
    }

    pub fn keep_key(&self, version: i64, account_id: i64, name: &str, key: KeyRow, version_row: i64) {
        self.keep(version, |kept| insert_bounded(&mut kept.keys, (account_id, name.to_string()), (key, version_row)));
    }

    pub fn exceptions(&self, account_id: i64) -> Option<Arc<Vec<ActiveException>>> {
        self.kept().exceptions.get(&account_id).cloned()
    }

    pub fn keep_exceptions(&self, version: i64, account_id: i64, exceptions: Arc<Vec<ActiveException>>) {
        self.keep(version, |kept| insert_bounded(&mut kept.exceptions, account_id, exceptions));
    }

    /// The vulnerability rule's judgement of an image under a policy, while it holds at `now`.
    pub fn judgement(&self, policy_id: i64, repository: &str, digest: &str, now: i64) -> Option<Judgement> {
        let kept = self.kept();
        let judged = kept.judgements.get(&(policy_id, repository.to_string(), digest.to_string()))?;
        (now < judged.until).then(|| judged.clone())
    }

    pub fn keep_judgement(&self, version: i64, policy_id: i64, repository: &str, digest: &str, judged: Judgement) {
        self.keep(version, |kept| insert_bounded(&mut kept.judgements, (policy_id, repository.to_string(), digest.to_string()), judged));
    }
}
