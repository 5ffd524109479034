//! The agent's wire protocol: JSON bodies exchanged between `bulwark agent` and the console's
//! `/api/v1/agent/*` routes. Both ends are this crate, so one set of types serves both.

use serde::{Deserialize, Serialize};

use super::fix::FixOutcome;
use super::host::{HostFacts, Package, PackageManager};

/// `Authorization: Bearer` prefix of enrollment tokens (created by an admin, shown once).
pub const ENROLLMENT_PREFIX: &str = "benr_";
/// `Authorization: Bearer` prefix of an enrolled agent's own credential.
pub const CREDENTIAL_PREFIX: &str = "bagt_";

/// Header with which an enrolled agent re-enrolling proves it is the host's current agent: its
/// credential, beside the enrollment token in `Authorization`.
pub const CURRENT_CREDENTIAL_HEADER: &str = "x-bulwark-agent-credential";
/// Header with which a held enrollment asks again: the hold secret from the 202 answer.
pub const HOLD_HEADER: &str = "x-bulwark-enrollment-hold";

/// How long a job poll may hang open before it answers 204, at most.
pub const MAX_POLL_SECS: u64 = 30;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(utoipa::ToSchema)]
pub struct EnrollRequest {
    pub facts: HostFacts,
    #[serde(default)]
    pub group: Option<String>,
    pub allow_fix: bool,
    pub agent_version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[derive(utoipa::ToSchema)]
pub struct EnrollResponse {
    pub credential: String,
    pub instance_id: String,
    pub asset_id: i64,
    pub heartbeat_secs: u64,
    pub inventory_secs: u64,
}

/// A re-enrollment of a known host without its current credential waits for an admin (202):
/// the agent asks again with `hold` in `HOLD_HEADER` every `retry_secs`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[derive(utoipa::ToSchema)]
pub struct EnrollmentHeld {
    pub hold: String,
    pub message: String,
    pub retry_secs: u64,
}

/// The answer to an enroll request: a credential (200), or held for approval (202).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
#[derive(utoipa::ToSchema)]
pub enum EnrollAnswer {
    Enrolled(EnrollResponse),
    Held(EnrollmentHeld),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(utoipa::ToSchema)]
pub struct Heartbeat {
    pub agent_version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(utoipa::ToSchema)]
pub struct InventoryReport {
    pub facts: HostFacts,
    pub package_manager: PackageManager,
    pub packages: Vec<Package>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[derive(utoipa::ToSchema)]
pub struct InventoryAccepted {
    /// Packages kept (distinct by name and architecture).
    pub packages: i64,
    pub open_findings: i64,
    /// False when the inventory was identical to the last one and no advisory changed since.
    pub matched: bool,
    /// Packages sent again under a name and architecture already listed: merged into the first.
    #[serde(default)]
    pub duplicates: i64,
    /// Packages kept whose version (or source version) the ecosystem's version scheme cannot
    /// order: no advisory can match them until the version is readable.
    #[serde(default)]
    pub unparsable: i64,
    /// The first 20 of those, by name.
    #[serde(default)]
    pub unparsable_packages: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[derive(utoipa::ToSchema)]
pub struct JobAssignment {
    pub id: i64,
    pub packages: Vec<String>,
    pub simulate: bool,
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(utoipa::ToSchema)]
pub struct JobResult {
    pub outcome: FixOutcome,
    /// The inventory collected again after a real fix, so findings close in the same request.
    #[serde(default)]
    pub inventory: Option<InventoryReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[derive(utoipa::ToSchema)]
pub struct JobAck {
    pub status: String,
    /// True when this result had been recorded already (a retried post); nothing changed.
    pub duplicate: bool,
}
