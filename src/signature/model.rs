//! Container signature models shared by the server functions, the JSON API and the pages: keys of
//! the key management service, clusters, witnesses, security policies, images and decisions.

use serde::{Deserialize, Serialize};

pub use super::vuln_model::*;
use crate::error::FieldErrors;
use crate::locale::{Locale, td_string};

/// The algorithm and size of a key's material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeySpec {
    Rsa2048,
    Rsa3072,
    EcP256,
}

impl KeySpec {
    pub const ALL: [KeySpec; 3] = [KeySpec::Rsa2048, KeySpec::Rsa3072, KeySpec::EcP256];

    pub fn as_str(self) -> &'static str {
        match self {
            KeySpec::Rsa2048 => "RSA_2048",
            KeySpec::Rsa3072 => "RSA_3072",
            KeySpec::EcP256 => "EC_P256",
        }
    }

    pub fn parse(value: &str) -> Option<KeySpec> {
        KeySpec::ALL.into_iter().find(|s| s.as_str() == value)
    }

    pub fn is_rsa(self) -> bool {
        !matches!(self, KeySpec::EcP256)
    }
}

/// What a key may do: sign and verify, or encrypt and decrypt, never both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyUsage {
    SignVerify,
    EncryptDecrypt,
}

impl KeyUsage {
    pub const ALL: [KeyUsage; 2] = [KeyUsage::SignVerify, KeyUsage::EncryptDecrypt];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyUsage::SignVerify => "SIGN/VERIFY",
            KeyUsage::EncryptDecrypt => "ENCRYPT/DECRYPT",
        }
    }

    pub fn parse(value: &str) -> Option<KeyUsage> {
        KeyUsage::ALL.into_iter().find(|u| u.as_str() == value)
    }
}

/// Signature algorithms of the signing API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlgorithm {
    RsaPkcs1Sha256,
    RsaPssSha256,
    EcdsaSha256,
}

impl SigningAlgorithm {
    pub const ALL: [SigningAlgorithm; 3] =
        [SigningAlgorithm::RsaPkcs1Sha256, SigningAlgorithm::RsaPssSha256, SigningAlgorithm::EcdsaSha256];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlgorithm::RsaPkcs1Sha256 => "RSA_PKCS1_SHA_256",
            SigningAlgorithm::RsaPssSha256 => "RSA_PSS_SHA_256",
            SigningAlgorithm::EcdsaSha256 => "ECDSA_SHA_256",
        }
    }

    pub fn parse(value: &str) -> Option<SigningAlgorithm> {
        SigningAlgorithm::ALL.into_iter().find(|a| a.as_str() == value)
    }

    /// Whether keys of `spec` can make this kind of signature.
    pub fn fits(self, spec: KeySpec) -> bool {
        match self {
            SigningAlgorithm::RsaPkcs1Sha256 | SigningAlgorithm::RsaPssSha256 => spec.is_rsa(),
            SigningAlgorithm::EcdsaSha256 => !spec.is_rsa(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Enabled => "enabled",
            KeyState::Disabled => "disabled",
            KeyState::PendingDeletion => "pending_deletion",
        }
    }

    pub fn parse(value: &str) -> Option<KeyState> {
        [KeyState::Enabled, KeyState::Disabled, KeyState::PendingDeletion].into_iter().find(|s| s.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDeletion => "Pending deletion",
        }
    }

    /// The state inside a sentence: "disabled" in English ("this key is disabled"), the label as
    /// it is in Chinese.
    pub fn state_word(self, l: Locale) -> String {
        self.label_in(l).to_lowercase()
    }

    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            KeyState::Enabled => td_string!(locale, signature.key_state.enabled),
            KeyState::Disabled => td_string!(locale, signature.key_state.disabled),
            KeyState::PendingDeletion => td_string!(locale, signature.key_state.pending_deletion),
        }
    }
}

/// The pending window of a scheduled key deletion, in days.
pub const DELETION_WINDOW_DAYS: std::ops::RangeInclusive<i64> = 7..=366;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyVersionView {
    pub version: i64,
    /// "sha256:<hex>" of the public key (SubjectPublicKeyInfo DER).
    pub fingerprint: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyView {
    /// The key's public id ("key-…"), used in the API and the key's pages.
    pub key_id: String,
    pub alias: Option<String>,
    pub description: String,
    pub spec: KeySpec,
    pub usage: KeyUsage,
    pub state: KeyState,
    pub primary_version: i64,
    pub versions: Vec<KeyVersionView>,
    pub deletion_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The witnesses that sign with this key.
    pub witnesses: Vec<String>,
}

impl KeyView {
    pub fn display_name(&self) -> String {
        match &self.alias {
            Some(alias) => format!("{alias} ({})", self.key_id),
            None => self.key_id.clone(),
        }
    }

    /// The keys a witness may use: enabled RSA_2048 SIGN/VERIFY keys.
    pub fn can_witness(&self) -> bool {
        // Only whether there is a problem, so the language of its wording does not matter.
        witness_key_problem(self.spec, self.usage, self.state, Locale::en).is_none()
    }
}

/// Why a key cannot back a witness, worded in `l`, or `None` when it can.
pub fn witness_key_problem(spec: KeySpec, usage: KeyUsage, state: KeyState, l: Locale) -> Option<String> {
    if spec != KeySpec::Rsa2048 {
        Some(td_string!(l, signature.errors.witness_needs_rsa_2048, spec = spec.as_str()))
    } else if usage != KeyUsage::SignVerify {
        Some(td_string!(l, signature.errors.witness_needs_sign_key).into())
    } else if state != KeyState::Enabled {
        Some(td_string!(l, signature.errors.witness_needs_enabled_key, state = state.state_word(l)))
    } else {
        None
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyInput {
    pub alias: String,
    pub description: String,
    pub spec: String,
    pub usage: String,
}

impl KeyInput {
    /// The form's problems, worded in `l`.
    pub fn validate(&self, l: Locale) -> FieldErrors {
        let mut errors = FieldErrors::new();
        let alias = self.alias.trim();
        if !alias.is_empty() {
            if alias.chars().count() > MAX_NAME {
                errors.insert("alias".into(), td_string!(l, common.errors.at_most_chars, max = MAX_NAME));
            } else if !alias.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/')) {
                errors.insert("alias".into(), td_string!(l, signature.errors.alias_chars).into());
            }
        }
        if let Some(problem) = description_problem(&self.description, l) {
            errors.insert("description".into(), problem);
        }
        let spec = KeySpec::parse(&self.spec);
        let usage = KeyUsage::parse(&self.usage);
        if spec.is_none() {
            errors.insert("spec".into(), td_string!(l, signature.errors.choose_spec).into());
        }
        match usage {
            None => {
                errors.insert("usage".into(), td_string!(l, signature.errors.choose_usage).into());
            }
            Some(KeyUsage::EncryptDecrypt) if spec == Some(KeySpec::EcP256) => {
                errors.insert("usage".into(), td_string!(l, signature.errors.ec_sign_only).into());
            }
            Some(_) => {}
        }
        errors
    }

    pub fn alias_value(&self) -> Option<String> {
        Some(self.alias.trim().to_string()).filter(|a| !a.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterView {
    pub id: i64,
    pub name: String,
    pub region: String,
    pub namespaces: Vec<String>,
    /// When the cluster's admission hook last called in; `None` until it is installed.
    pub hook_seen_at: Option<i64>,
    pub created_at: i64,
    pub policies: Vec<String>,
}

impl ClusterView {
    pub fn hook_installed(&self) -> bool {
        self.hook_seen_at.is_some()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterInput {
    pub name: String,
    pub region: String,
    /// Namespaces separated by commas, spaces or new lines.
    pub namespaces: String,
}

impl ClusterInput {
    /// The form's problems, worded in `l`.
    pub fn validate(&self, l: Locale) -> FieldErrors {
        let mut errors = FieldErrors::new();
        check_name(&mut errors, "name", &self.name, td_string!(l, signature.errors.name_cluster), l);
        let region = self.region.trim();
        if region.is_empty() {
            errors.insert("region".into(), td_string!(l, signature.errors.enter_region).into());
        } else if region.chars().count() > MAX_NAME {
            errors.insert("region".into(), td_string!(l, common.errors.at_most_chars, max = MAX_NAME));
        }
        match self.namespace_list(l) {
            Ok(list) if list.is_empty() => {
                errors.insert("namespaces".into(), td_string!(l, signature.errors.list_namespace).into());
            }
            Ok(_) => {}
            Err(message) => {
                errors.insert("namespaces".into(), message);
            }
        }
        errors
    }

    /// The namespaces, each a valid Kubernetes namespace name, without repeats; or the first
    /// problem, worded in `l`.
    pub fn namespace_list(&self, l: Locale) -> Result<Vec<String>, String> {
        const MAX_NAMESPACES: usize = 200;
        let mut list: Vec<String> = Vec::new();
        for name in self.namespaces.split([',', ' ', '\n', '\r', '\t']).filter(|n| !n.is_empty()) {
            if let Some(problem) = namespace_problem(name, l) {
                return Err(problem);
            }
            if !list.iter().any(|n| n == name) {
                list.push(name.to_string());
            }
        }
        if list.len() > MAX_NAMESPACES {
            return Err(td_string!(l, signature.errors.too_many_namespaces, max = MAX_NAMESPACES));
        }
        Ok(list)
    }
}

/// Why `name` is not a Kubernetes namespace name (an RFC 1123 label), naming it, in `l`; or `None`.
pub fn namespace_problem(name: &str, l: Locale) -> Option<String> {
    const MAX_NAMESPACE: usize = 63;
    if name.len() > MAX_NAMESPACE {
        Some(td_string!(l, signature.errors.namespace_too_long, name, max = MAX_NAMESPACE))
    } else if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        Some(td_string!(l, signature.errors.namespace_chars, name))
    } else if name.starts_with('-') || name.ends_with('-') {
        Some(td_string!(l, signature.errors.namespace_ends, name))
    } else {
        None
    }
}

/// The longest name (of a cluster, witness, policy, key alias or region), in characters.
const MAX_NAME: usize = 64;
/// The longest description or remarks, in characters.
const MAX_DESCRIPTION: usize = 256;

fn check_name(errors: &mut FieldErrors, field: &str, value: &str, empty: &str, l: Locale) {
    let value = value.trim();
    if value.is_empty() {
        errors.insert(field.into(), empty.into());
    } else if value.chars().count() > MAX_NAME {
        errors.insert(field.into(), td_string!(l, common.errors.at_most_chars, max = MAX_NAME));
    }
}

/// Why a description or remarks are too long, in `l`; or `None`.
pub fn description_problem(text: &str, l: Locale) -> Option<String> {
    (text.chars().count() > MAX_DESCRIPTION).then(|| td_string!(l, common.errors.at_most_chars, max = MAX_DESCRIPTION))
}

/// The ValidatingWebhookConfiguration to apply in a cluster (admins only: it carries the token).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookInstructions {
    pub url: String,
    pub yaml: String,
    /// The console serves TLS itself, so the configuration carries its caBundle.
    pub tls: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WitnessView {
    pub id: i64,
    pub name: String,
    pub key_id: String,
    pub key_alias: Option<String>,
    pub key_state: KeyState,
    pub description: String,
    pub created_at: i64,
    pub policies: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WitnessInput {
    pub name: String,
    /// The key's public id.
    pub key_id: String,
    pub description: String,
}

impl WitnessInput {
    /// The form's problems, worded in `l`.
    pub fn validate(&self, l: Locale) -> FieldErrors {
        let mut errors = FieldErrors::new();
        check_name(&mut errors, "name", &self.name, td_string!(l, signature.errors.name_witness), l);
        if self.key_id.trim().is_empty() {
            errors.insert("key_id".into(), td_string!(l, signature.errors.select_certificate).into());
        }
        if let Some(problem) = description_problem(&self.description, l) {
            errors.insert("description".into(), problem);
        }
        errors
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyMode {
    /// Reject what the policy does not trust.
    Enforce,
    /// Admit, but warn and record.
    Warn,
}

impl PolicyMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyMode::Enforce => "enforce",
            PolicyMode::Warn => "warn",
        }
    }

    pub fn parse(value: &str) -> Option<PolicyMode> {
        [PolicyMode::Enforce, PolicyMode::Warn].into_iter().find(|m| m.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            PolicyMode::Enforce => "Enforce",
            PolicyMode::Warn => "Warn",
        }
    }

    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            PolicyMode::Enforce => td_string!(locale, signature.policy_mode.enforce),
            PolicyMode::Warn => td_string!(locale, signature.policy_mode.warn),
        }
    }
}

/// How a policy with several witnesses combines them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WitnessMatch {
    AllOf,
    AnyOf,
}

impl WitnessMatch {
    pub fn as_str(self) -> &'static str {
        match self {
            WitnessMatch::AllOf => "all",
            WitnessMatch::AnyOf => "any",
        }
    }

    pub fn parse(value: &str) -> Option<WitnessMatch> {
        [WitnessMatch::AllOf, WitnessMatch::AnyOf].into_iter().find(|m| m.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            WitnessMatch::AllOf => "All of",
            WitnessMatch::AnyOf => "Any of",
        }
    }

    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            WitnessMatch::AllOf => td_string!(locale, signature.witness_match.all_of),
            WitnessMatch::AnyOf => td_string!(locale, signature.witness_match.any_of),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyView {
    pub id: i64,
    pub name: String,
    pub cluster_id: i64,
    pub cluster_name: String,
    pub namespaces: Vec<String>,
    pub enabled: bool,
    pub mode: PolicyMode,
    pub witness_match: WitnessMatch,
    /// (id, name) of each witness.
    pub witnesses: Vec<(i64, String)>,
    pub remarks: String,
    /// The vulnerability rule beside the signature rule, if the policy has one.
    pub vuln_rule: Option<VulnRule>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyInput {
    /// Set when editing.
    pub id: Option<i64>,
    pub name: String,
    /// Empty lists are left out of form encoding: they default.
    #[serde(default)]
    pub witness_ids: Vec<i64>,
    pub witness_match: WitnessMatch,
    pub cluster_id: Option<i64>,
    #[serde(default)]
    pub namespaces: Vec<String>,
    pub enabled: bool,
    pub mode: PolicyMode,
    pub remarks: String,
    /// The vulnerability rule's fields ("off" by default).
    #[serde(default)]
    pub vuln: VulnRuleInput,
}

impl Default for PolicyInput {
    fn default() -> Self {
        PolicyInput {
            id: None,
            name: String::new(),
            witness_ids: Vec::new(),
            witness_match: WitnessMatch::AllOf,
            cluster_id: None,
            namespaces: Vec::new(),
            enabled: false,
            mode: PolicyMode::Enforce,
            remarks: String::new(),
            vuln: VulnRuleInput::default(),
        }
    }
}

impl PolicyInput {
    /// The form's problems, worded in `l`.
    pub fn validate(&self, l: Locale) -> FieldErrors {
        const MAX_WITNESSES: usize = 10;
        let mut errors = FieldErrors::new();
        check_name(&mut errors, "name", &self.name, td_string!(l, signature.errors.enter_policy_name), l);
        if self.witness_ids.is_empty() {
            errors.insert("witnesses".into(), td_string!(l, signature.errors.choose_witness).into());
        } else if self.witness_ids.len() > MAX_WITNESSES {
            errors.insert("witnesses".into(), td_string!(l, signature.errors.too_many_witnesses, max = MAX_WITNESSES));
        }
        if self.cluster_id.is_none() {
            errors.insert("cluster".into(), td_string!(l, signature.errors.choose_cluster).into());
        }
        if self.namespaces.is_empty() {
            errors.insert("namespaces".into(), td_string!(l, signature.errors.choose_namespace).into());
        } else if let Some(problem) = self.namespaces.iter().find_map(|n| namespace_problem(n, l)) {
            errors.insert("namespaces".into(), problem);
        }
        if let Some(problem) = description_problem(&self.remarks, l) {
            errors.insert("remarks".into(), problem);
        }
        if let Err(vuln) = self.vuln.rule(l) {
            errors.extend(vuln);
        }
        errors
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignatureView {
    pub id: i64,
    pub witness_name: String,
    pub key_id: String,
    pub key_version: i64,
    /// The key can still vouch for the image (enabled); a disabled key's signatures are not trusted.
    pub key_enabled: bool,
    pub signed_by: String,
    pub created_at: i64,
    pub published_at: Option<i64>,
    pub published_tag: Option<String>,
    pub publish_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageView {
    pub id: i64,
    /// "registry/repository".
    pub repository: String,
    /// "sha256:<hex>", or empty for an image met by tag only.
    pub digest: String,
    pub tags: Vec<String>,
    pub signatures: Vec<SignatureView>,
    /// Where admission requests named the image: each cluster, namespace and workload.
    /// The most recent ten, newest first.
    pub runs: Vec<ImageRun>,
    /// How many cluster, namespace and workload entries the image has in all.
    pub runs_total: i64,
    /// The latest scan of the digest, if one is stored.
    pub scan: Option<ScanSummary>,
    /// The decision the image got most recently in any cluster.
    pub last_outcome: Option<Outcome>,
    /// The enabled policies whose witnesses vouch for this image: shown as "Trusted Image".
    pub trusted_by: Vec<String>,
    pub last_seen_at: i64,
}

/// One page of the Images tab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImagePage {
    pub images: Vec<ImageView>,
    /// Images matching the search, on every page.
    pub total: i64,
    pub page: i64,
    pub page_count: i64,
}

impl ImageView {
    pub fn reference(&self) -> String {
        if self.digest.is_empty() {
            match self.tags.first() {
                Some(tag) => format!("{}:{tag}", self.repository),
                None => self.repository.clone(),
            }
        } else {
            format!("{}@{}", self.repository, self.digest)
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SignInput {
    pub witness: String,
    /// `registry/repository@sha256:<64 hex>`, with or without a tag.
    pub image: String,
    /// Also publish the signature to the image's registry in cosign's layout.
    #[serde(default)]
    pub publish: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SignOutcome {
    pub signature_id: i64,
    pub image: String,
    pub digest: String,
    pub witness: String,
    pub key_id: String,
    pub key_version: i64,
    /// The exact bytes signed (the cosign simple-signing payload), base64.
    pub payload: String,
    /// The RSASSA-PKCS1-v1_5 SHA-256 signature, base64.
    pub signature: String,
    /// The `.sig` tag the signature was published under.
    pub published_tag: Option<String>,
    pub publish_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistryView {
    pub id: i64,
    pub host: String,
    /// The user, "" when anonymous; `None` for viewers, who see no credential or hint of one.
    pub username: Option<String>,
    /// Whether a password is stored (admins only; `None` for viewers).
    pub has_password: Option<bool>,
    pub plain_http: bool,
}

impl RegistryView {
    /// What a viewer may see: the registry, not who Bulwark signs in as.
    pub fn without_credentials(self) -> RegistryView {
        RegistryView { username: None, has_password: None, ..self }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegistryInput {
    pub host: String,
    pub username: String,
    pub password: String,
    pub plain_http: bool,
}

impl RegistryInput {
    /// The form's problems, worded in `l`.
    pub fn validate(&self, l: Locale) -> FieldErrors {
        const MAX_USERNAME: usize = 128;
        const MAX_PASSWORD: usize = 1024;
        let mut errors = FieldErrors::new();
        let host = self.host.trim();
        if host.is_empty() {
            errors.insert("host".into(), td_string!(l, signature.errors.enter_registry_host).into());
        } else if host.len() > 253 || host.contains('/') || host.contains(char::is_whitespace) || host.contains('@') {
            errors.insert("host".into(), td_string!(l, signature.errors.registry_host_only).into());
        }
        if self.username.chars().count() > MAX_USERNAME {
            errors.insert("username".into(), td_string!(l, common.errors.at_most_chars, max = MAX_USERNAME));
        }
        if self.password.chars().count() > MAX_PASSWORD {
            errors.insert("password".into(), td_string!(l, common.errors.at_most_chars, max = MAX_PASSWORD));
        }
        if !self.username.trim().is_empty() && self.password.is_empty() {
            errors.insert("password".into(), td_string!(l, signature.errors.enter_registry_password).into());
        }
        errors
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Allowed,
    Denied,
    /// Admitted with warnings (a Warn policy).
    Warned,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Warned => "warned",
        }
    }

    pub fn parse(value: &str) -> Option<Outcome> {
        [Outcome::Allowed, Outcome::Denied, Outcome::Warned].into_iter().find(|o| o.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Allowed => "Allowed",
            Outcome::Denied => "Denied",
            Outcome::Warned => "Warned",
        }
    }

    /// The label in the reader's language.
    pub fn label_in(self, locale: Locale) -> &'static str {
        match self {
            Outcome::Allowed => td_string!(locale, signature.outcome.allowed),
            Outcome::Denied => td_string!(locale, signature.outcome.denied),
            Outcome::Warned => td_string!(locale, signature.outcome.warned),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionView {
    pub id: i64,
    pub cluster_name: String,
    pub namespace: String,
    pub kind: String,
    pub name: String,
    pub operation: String,
    pub images: Vec<String>,
    pub outcome: Outcome,
    pub reason: String,
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_follow_kubernetes_rules() {
        let input = ClusterInput { name: "prod".into(), region: "eu".into(), namespaces: "shop, payments\nshop".into() };
        assert_eq!(input.namespace_list(Locale::en).unwrap(), vec!["shop", "payments"]);
        assert!(input.validate(Locale::en).is_empty());
        for bad in ["Shop", "-shop", "shop-", "a_b", &"x".repeat(64)] {
            let input = ClusterInput { namespaces: bad.to_string(), ..input.clone() };
            assert!(input.validate(Locale::en).contains_key("namespaces"), "{bad} should be refused");
        }
        let upper = ClusterInput { namespaces: "Shop".into(), ..input.clone() };
        assert_eq!(upper.validate(Locale::en)["namespaces"], "\"Shop\" is not a namespace name: use lowercase letters, digits and '-'.");
        let empty = ClusterInput { namespaces: " , ".into(), ..input };
        assert_eq!(empty.validate(Locale::en)["namespaces"], "List at least one namespace.");
    }

    #[test]
    fn ec_keys_cannot_encrypt() {
        let input = KeyInput { alias: "ci".into(), description: String::new(), spec: "EC_P256".into(), usage: "ENCRYPT/DECRYPT".into() };
        assert_eq!(input.validate(Locale::en)["usage"], "EC_P256 keys can only sign and verify.");
        let bad_alias = KeyInput { alias: "has space".into(), spec: "RSA_2048".into(), usage: "SIGN/VERIFY".into(), ..input };
        assert_eq!(bad_alias.validate(Locale::en)["alias"], "Use letters, digits, '-', '_' and '/' only.");
        // Verify the same check speaks Chinese when asked.
        assert_eq!(bad_alias.validate(Locale::zh_CN)["alias"], "只能使用字母、数字、“-”、“_”和“/”。");
    }

    #[test]
    fn only_enabled_rsa_2048_sign_keys_back_witnesses() {
        assert_eq!(witness_key_problem(KeySpec::Rsa2048, KeyUsage::SignVerify, KeyState::Enabled, Locale::en), None);
        assert_eq!(
            witness_key_problem(KeySpec::Rsa3072, KeyUsage::SignVerify, KeyState::Enabled, Locale::en).unwrap(),
            "A witness needs an RSA_2048 key; this key is RSA_3072."
        );
        assert!(witness_key_problem(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt, KeyState::Enabled, Locale::en).is_some());
        assert!(witness_key_problem(KeySpec::Rsa2048, KeyUsage::SignVerify, KeyState::Disabled, Locale::en).unwrap().contains("disabled"));
    }

    #[test]
    fn algorithms_fit_their_key_specs() {
        assert!(SigningAlgorithm::RsaPssSha256.fits(KeySpec::Rsa3072));
        assert!(!SigningAlgorithm::EcdsaSha256.fits(KeySpec::Rsa2048));
        assert!(!SigningAlgorithm::RsaPkcs1Sha256.fits(KeySpec::EcP256));
        assert_eq!(SigningAlgorithm::parse("RSA_PKCS1_SHA_256"), Some(SigningAlgorithm::RsaPkcs1Sha256));
    }

    #[test]
    fn a_policy_needs_witnesses_a_cluster_and_namespaces() {
        let errors = PolicyInput::default().validate(Locale::en);
        assert_eq!(errors.keys().map(String::as_str).collect::<Vec<_>>(), vec!["cluster", "name", "namespaces", "witnesses"]);
    }
}
