//! Playbook models that cross the wire.

use serde::{Deserialize, Serialize};

/// A policy template of the Policy Center.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyTemplate {
    pub key: String,
    pub name: String,
    pub description: String,
    pub policy_type: String,
    pub mode: String,
}

/// The templates Bulwark ships.
pub fn templates() -> Vec<PolicyTemplate> {
    vec![PolicyTemplate {
        key: "batch_vulnerability_fix".into(),
        name: "Automatic batch vulnerability fixing policies".into(),
        description: "Supports multiple hosts to automatically fix vulnerabilities in batches.".into(),
        policy_type: "Vulnerability".into(),
        mode: "Manual".into(),
    }]
}
