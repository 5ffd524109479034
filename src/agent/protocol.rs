//! The agent's wire protocol: JSON bodies exchanged between `bulwark agent` and the console's
//! `/api/v1/agent/*` routes. Both ends are this crate, so one set of types serves both.

use serde::{Deserialize, Serialize};

use super::fix::FixOutcome;
use super::host::{HostFacts, Package, PackageManager};

/// `Authorization: Bearer` prefix of enrollment tokens (created by an admin, shown once).
pub const ENROLLMENT_PREFIX: &str = "benr_";
/// `Authorization: Bearer` prefix of an enrolled agent's own credential.
pub const CREDENTIAL_PREFIX: &str = "bagt_";

/// How long a job poll may hang open before it answers 204, at most.
pub const MAX_POLL_SECS: u64 = 30;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    pub facts: HostFacts,
    #[serde(default)]
    pub group: Option<String>,
    pub allow_fix: bool,
    pub agent_version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub credential: String,
    pub instance_id: String,
    pub asset_id: i64,
    pub heartbeat_secs: u64,
    pub inventory_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    pub agent_version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryReport {
    pub facts: HostFacts,
    pub package_manager: PackageManager,
    pub packages: Vec<Package>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InventoryAccepted {
    pub packages: i64,
    pub open_findings: i64,
    /// False when the inventory was identical to the last one and no advisory changed since.
    pub matched: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JobAssignment {
    pub id: i64,
    pub packages: Vec<String>,
    pub simulate: bool,
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobResult {
    pub outcome: FixOutcome,
    /// The inventory collected again after a real fix, so findings close in the same request.
    #[serde(default)]
    pub inventory: Option<InventoryReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JobAck {
    pub status: String,
    /// True when this result had been recorded already (a retried post); nothing changed.
    pub duplicate: bool,
}
