//! The agent's main loop: enroll once, then report the inventory, heartbeat, and carry out the
//! jobs the console hands out, until stopped.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::fix::{run_fix, FixOutcome, FixRequest};
use super::host::{collect_facts, collect_packages, package_manager_for, PackageManager};
use super::protocol::*;

pub const AGENT_VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Debug, Clone)]
pub struct AgentOptions {
    pub server: String,
    pub token: Option<String>,
    pub group: Option<String>,
    pub allow_fix: bool,
    pub state_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("{0}")]
    Setup(String),
    #[error("the console refused this agent's credential; enroll again with --token")]
    Revoked,
    #[error("the console refused the enrollment token (unknown, revoked or expired)")]
    BadToken,
    #[error("the console rejected the request: {0}")]
    Rejected(String),
    #[error("cannot reach the console: {0}")]
    Network(String),
    #[error("{0}")]
    Host(String),
}

/// What the agent keeps between runs (`<state dir>/agent.json`, mode 0600).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AgentState {
    server: String,
    credential: String,
    instance_id: String,
    heartbeat_secs: u64,
    inventory_secs: u64,
}

fn state_path(dir: &Path) -> PathBuf {
    dir.join("agent.json")
}

fn load_state(dir: &Path) -> Option<AgentState> {
    serde_json::from_slice(&std::fs::read(state_path(dir)).ok()?).ok()
}

fn save_state(dir: &Path, state: &AgentState) -> Result<(), AgentError> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    let fail = |e: std::io::Error| AgentError::Setup(format!("cannot write the state folder {}: {e}", dir.display()));
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(fail)?;
    let path = state_path(dir);
    let tmp = dir.join("agent.json.tmp");
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).map_err(fail)?;
    // An existing file keeps its mode on open: make sure the credential is never group-readable.
    file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(fail)?;
    let json = serde_json::to_vec_pretty(state).map_err(|e| AgentError::Setup(e.to_string()))?;
    file.write_all(&json).and_then(|_| file.sync_all()).map_err(fail)?;
    std::fs::rename(&tmp, &path).map_err(fail)
}

struct Console {
    http: reqwest::Client,
    base: String,
}

impl Console {
    fn new(server: &str) -> Result<Console, AgentError> {
        let base = server.trim_end_matches('/').to_string();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(AgentError::Setup(format!("--server must be an http(s) URL, not \"{server}\"")));
        }
        let http = reqwest::Client::builder()
            .user_agent(format!("bulwark-agent/{AGENT_VERSION}"))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(MAX_POLL_SECS + 30))
            .build()
            .map_err(|e| AgentError::Setup(e.to_string()))?;
        Ok(Console { http, base })
    }

    async fn send<T: for<'de> Deserialize<'de>>(&self, request: reqwest::RequestBuilder) -> Result<Option<T>, AgentError> {
        let response = request.send().await.map_err(|e| AgentError::Network(e.without_url().to_string()))?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(AgentError::Revoked);
        }
        if status == reqwest::StatusCode::NO_CONTENT {
            return Ok(None);
        }
        let body = response.bytes().await.map_err(|e| AgentError::Network(e.without_url().to_string()))?;
        if status.is_server_error() {
            return Err(AgentError::Network(format!("the console answered {status}")));
        }
        if !status.is_success() {
            return Err(AgentError::Rejected(format!("{status}: {}", String::from_utf8_lossy(&body))));
        }
        serde_json::from_slice(&body).map(Some).map_err(|e| AgentError::Rejected(format!("unexpected answer: {e}")))
    }

    async fn post<B: Serialize, T: for<'de> Deserialize<'de>>(&self, path: &str, bearer: &str, body: &B) -> Result<Option<T>, AgentError> {
        self.send(self.http.post(format!("{}{path}", self.base)).bearer_auth(bearer).json(body)).await
    }
}

/// Facts and packages of this host, as an inventory report.
pub async fn collect_inventory() -> Result<(InventoryReport, PackageManager), AgentError> {
    let facts = collect_facts().map_err(|e| AgentError::Host(format!("cannot read this host's facts: {e}")))?;
    let package_manager = package_manager_for(&facts.os)
        .ok_or_else(|| AgentError::Host(format!("no supported package manager for {} (dpkg, rpm or apk)", facts.os.pretty_name)))?;
    let packages = collect_packages(package_manager).await.map_err(|e| AgentError::Host(e.to_string()))?;
    Ok((InventoryReport { facts, package_manager, packages }, package_manager))
}

/// Retries a request on network trouble with a growing pause; other errors end the attempt.
async fn with_retries<T, F, Fut>(what: &str, mut attempt: F) -> Result<T, AgentError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, AgentError>>,
{
    let mut pause = Duration::from_secs(1);
    loop {
        match attempt().await {
            Err(AgentError::Network(error)) => {
                tracing::warn!(%error, "{what} failed; retrying in {}s", pause.as_secs());
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(60));
            }
            other => return other,
        }
    }
}

/// Enrolls with the token. A host enrolled before sends its current credential too, so the
/// console knows it is the same agent; without it (a reinstalled host) the console holds the
/// enrollment until an admin approves it, and this asks again until then.
async fn enroll(console: &Console, options: &AgentOptions, token: &str, current: Option<&AgentState>) -> Result<AgentState, AgentError> {
    let facts = collect_facts().map_err(|e| AgentError::Host(format!("cannot read this host's facts: {e}")))?;
    let request = EnrollRequest { facts, group: options.group.clone(), allow_fix: options.allow_fix, agent_version: AGENT_VERSION.into() };
    let url = format!("{}/api/v1/agent/enroll", console.base);
    let mut hold: Option<String> = None;
    let response = loop {
        let answer: Option<EnrollAnswer> = with_retries("enrollment", || {
            let mut call = console.http.post(&url).bearer_auth(token).json(&request);
            if let Some(state) = current {
                call = call.header(CURRENT_CREDENTIAL_HEADER, &state.credential);
            }
            if let Some(hold) = &hold {
                call = call.header(HOLD_HEADER, hold);
            }
            console.send(call)
        })
        .await
        .map_err(|e| if matches!(e, AgentError::Revoked) { AgentError::BadToken } else { e })?;
        match answer.ok_or_else(|| AgentError::Rejected("empty enrollment answer".into()))? {
            EnrollAnswer::Enrolled(response) => break response,
            EnrollAnswer::Held(held) => {
                tracing::warn!("{}", held.message);
                hold = Some(held.hold);
                tokio::time::sleep(Duration::from_secs(held.retry_secs.max(1))).await;
            }
        }
    };
    let state = AgentState {
        server: console.base.clone(),
        credential: response.credential,
        instance_id: response.instance_id,
        heartbeat_secs: response.heartbeat_secs.max(1),
        inventory_secs: response.inventory_secs.max(60),
    };
    save_state(&options.state_dir, &state)?;
    tracing::info!(instance_id = %state.instance_id, "enrolled");
    Ok(state)
}

/// Runs the agent until the process is stopped or the console revokes it.
pub async fn run(options: AgentOptions) -> Result<(), AgentError> {
    let console = Console::new(&options.server)?;
    if console.base.starts_with("http://") {
        tracing::warn!("the console is reached over plain HTTP: use https:// outside a lab");
    }
    let state = match (&options.token, load_state(&options.state_dir)) {
        (Some(token), saved) => enroll(&console, &options, token, saved.as_ref().filter(|s| s.server == console.base)).await?,
        (None, Some(state)) if state.server == console.base => state,
        (None, _) => return Err(AgentError::Setup("this host is not enrolled with that console: pass --token".into())),
    };
    work(&console, &options, &state).await
}

/// The agent's heartbeats, sent between its other requests on the same client: the connection of
/// the long poll is idle then, so a console holds one connection per agent, not two. A poll
/// waits no longer than the next heartbeat, and a fix job (minutes long) heartbeats while it runs.
struct Beats<'a> {
    console: &'a Console,
    credential: &'a str,
    every: Duration,
    next: tokio::time::Instant,
}

impl Beats<'_> {
    /// Sends a heartbeat if one is due; a failed one is logged and tried at the next due time.
    async fn when_due(&mut self) -> Result<(), AgentError> {
        if tokio::time::Instant::now() < self.next {
            return Ok(());
        }
        self.next = tokio::time::Instant::now() + self.every;
        let beat = Heartbeat { agent_version: AGENT_VERSION.into() };
        match self.console.post::<_, serde_json::Value>("/api/v1/agent/heartbeat", self.credential, &beat).await {
            Err(AgentError::Revoked) => Err(AgentError::Revoked),
            Err(error) => {
                tracing::warn!(%error, "heartbeat failed");
                Ok(())
            }
            Ok(_) => Ok(()),
        }
    }

    /// How long the next poll may wait: until the next heartbeat is due, 1 to MAX_POLL_SECS seconds.
    fn poll_wait(&self) -> u64 {
        let until = self.next.saturating_duration_since(tokio::time::Instant::now());
        until.as_secs().saturating_add(u64::from(until.subsec_nanos() > 0)).clamp(1, MAX_POLL_SECS)
    }

    /// Runs `work`, heartbeating whenever one is due meanwhile (a revoked credential is left for
    /// the next poll to find).
    async fn during<F: std::future::Future>(&mut self, work: F) -> F::Output {
        tokio::pin!(work);
        loop {
            tokio::select! {
                output = &mut work => return output,
                _ = tokio::time::sleep_until(self.next) => {
                    let _ = self.when_due().await;
                }
            }
        }
    }
}

async fn report_inventory(console: &Console, credential: &str) -> Result<PackageManager, AgentError> {
    let (report, package_manager) = collect_inventory().await?;
    let accepted: Option<InventoryAccepted> = with_retries("inventory", || console.post("/api/v1/agent/inventory", credential, &report)).await?;
    if let Some(accepted) = accepted {
        tracing::info!(packages = accepted.packages, open_findings = accepted.open_findings, "inventory reported");
        if accepted.unparsable > 0 {
            tracing::warn!(
                unparsable = accepted.unparsable,
                packages = %accepted.unparsable_packages.join(", "),
                "the console cannot order these packages' versions: no advisory matches them"
            );
        }
    }
    Ok(package_manager)
}

async fn work(console: &Console, options: &AgentOptions, state: &AgentState) -> Result<(), AgentError> {
    let credential = state.credential.as_str();
    let every = Duration::from_secs(state.heartbeat_secs);
    let mut beats = Beats { console, credential, every, next: tokio::time::Instant::now() + every };
    let mut package_manager = report_inventory(console, credential).await?;
    let mut last_inventory = tokio::time::Instant::now();
    loop {
        if last_inventory.elapsed() >= Duration::from_secs(state.inventory_secs) {
            package_manager = report_inventory(console, credential).await?;
            last_inventory = tokio::time::Instant::now();
        }
        beats.when_due().await?;
        let poll_url = format!("{}/api/v1/agent/jobs?wait={}", console.base, beats.poll_wait());
        let job: Option<JobAssignment> = match console.send(console.http.get(&poll_url).bearer_auth(credential)).await {
            Ok(job) => job,
            Err(AgentError::Network(error)) => {
                tracing::warn!(%error, "job poll failed");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
            Err(other) => return Err(other),
        };
        let Some(job) = job else { continue };
        let outcome = beats.during(carry_out(package_manager, &job, options.allow_fix)).await;
        // After a real change the inventory is what proves the fix: send it with the result.
        let inventory = if outcome.simulated { None } else { collect_inventory().await.ok().map(|(report, _)| report) };
        let result = JobResult { outcome, inventory };
        let path = format!("/api/v1/agent/jobs/{}/result", job.id);
        let ack: Option<JobAck> = with_retries("job result", || console.post(&path, credential, &result)).await?;
        if let Some(ack) = ack {
            tracing::info!(job = job.id, status = %ack.status, duplicate = ack.duplicate, "job reported");
        }
        if result.inventory.is_some() {
            last_inventory = tokio::time::Instant::now();
        }
    }
}

/// Runs one fix job; without --allow-fix only the package manager's simulation ever runs.
async fn carry_out(package_manager: PackageManager, job: &JobAssignment, allow_fix: bool) -> FixOutcome {
    let simulate = job.simulate || !allow_fix;
    tracing::info!(job = job.id, simulate, packages = %job.packages.join(" "), "running fix job");
    let request = FixRequest { packages: job.packages.clone(), simulate, timeout: Duration::from_secs(job.timeout_secs.max(1)) };
    run_fix(package_manager, &request).await
}
