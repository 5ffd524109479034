//! Prometheus metrics: the process-wide recorder (`metrics` with `metrics-exporter-prometheus`),
//! the HTTP middleware that counts and times every request by route template, and `/metrics`,
//! served only with the operator's bearer token (`BULWARK_METRICS_TOKEN`; without one the route
//! answers 404 as if it did not exist).
//!
//! Labels never carry account ids, user names, raw paths or anything else a request chose: a
//! route is its template (`/api/v1/assets/{instance_id}`), and paths no route matched fold into
//! `(static)` or `(unmatched)`.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::AppState;

/// Upper bounds of the latency histograms (seconds): 1 ms to 30 s.
const LATENCY_BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Background jobs run longer: 10 ms to 10 minutes.
const JOB_BUCKETS: [f64; 11] = [0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0];

pub const HTTP_REQUESTS: &str = "bulwark_http_requests_total";
pub const HTTP_DURATION: &str = "bulwark_http_request_duration_seconds";
pub const JOB_RUNS: &str = "bulwark_job_runs_total";
pub const JOB_DURATION: &str = "bulwark_job_duration_seconds";
pub const JOBS_QUEUED: &str = "bulwark_jobs_queued";
pub const EMAILS: &str = "bulwark_emails_total";
pub const DINGTALK: &str = "bulwark_dingtalk_messages_total";
pub const ADMISSION_DECISIONS: &str = "bulwark_admission_decisions_total";
pub const AGENTS_ONLINE: &str = "bulwark_agents_online";
pub const DB_CONNECTIONS: &str = "bulwark_db_pool_connections";
pub const DB_MAX_CONNECTIONS: &str = "bulwark_db_pool_max_connections";
pub const RECONCILE_REPAIRS: &str = "bulwark_counter_reconcile_repairs";
pub const RECONCILE_LAST: &str = "bulwark_counter_reconcile_last_run_timestamp_seconds";

/// The process's recorder, installed the first time anything asks for it. Each process has one
/// (`metrics` allows one global recorder), however many routers it builds.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), &LATENCY_BUCKETS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(JOB_DURATION.into()), &JOB_BUCKETS))
            .expect("the bucket lists are not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder may be installed already (a test harness, an embedding program):
        // then this one stays private and `/metrics` shows only what is set at scrape time.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was installed before Bulwark's; /metrics will miss request counts");
        }
        describe();
        handle
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by route template, method and status.");
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "Time to answer an HTTP request, by route template and method.");
    describe_counter!(JOB_RUNS, "Background job runs, by job and outcome.");
    describe_histogram!(JOB_DURATION, Unit::Seconds, "Time one background job run took.");
    describe_gauge!(JOBS_QUEUED, "Work waiting for a background job, by queue (read at scrape time).");
    describe_counter!(EMAILS, "Emails handed to SMTP or the outbox, by outcome.");
    describe_counter!(DINGTALK, "DingTalk robot messages, by outcome.");
    describe_counter!(ADMISSION_DECISIONS, "Admission webhook decisions, by result.");
    describe_gauge!(AGENTS_ONLINE, "Host agents online, all accounts (read at scrape time).");
    describe_gauge!(DB_CONNECTIONS, "Database pool connections, by state (read at scrape time).");
    describe_gauge!(DB_MAX_CONNECTIONS, "The database pool's size limit.");
    describe_gauge!(RECONCILE_REPAIRS, "Counters the last risk-counter reconcile on this replica had to repair.");
    describe_gauge!(RECONCILE_LAST, "When this replica last ran the risk-counter reconcile (Unix time).");
}

/// Drains the histograms' pending samples; run every few seconds so they never pile up between
/// scrapes (the recorder leaves this to its owner).
pub const UPKEEP_EVERY: Duration = Duration::from_secs(5);

pub fn upkeep() {
    handle().run_upkeep();
}

/// Counts and times one request under its route template. Layered over the whole router, so
/// every route, server function and the fallback pass through it.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status();
    let route = route.unwrap_or_else(|| if status.is_success() || status.is_redirection() { "(static)" } else { "(unmatched)" }.to_string());
    metrics::counter!(HTTP_REQUESTS, "route" => route.clone(), "method" => method, "status" => status.as_u16().to_string()).increment(1);
    metrics::histogram!(HTTP_DURATION, "route" => route, "method" => method).record(started.elapsed().as_secs_f64());
    response
}

/// Standard methods by name; anything else (a client may send any token) as one label.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Records one run of a background job: its duration and whether it succeeded.
pub fn job_run(job: &'static str, started: Instant, ok: bool) {
    metrics::histogram!(JOB_DURATION, "job" => job).record(started.elapsed().as_secs_f64());
    metrics::counter!(JOB_RUNS, "job" => job, "outcome" => if ok { "ok" } else { "error" }).increment(1);
}

pub fn email_sent(ok: bool) {
    metrics::counter!(EMAILS, "outcome" => outcome(ok)).increment(1);
}

pub fn dingtalk_sent(ok: bool) {
    metrics::counter!(DINGTALK, "outcome" => outcome(ok)).increment(1);
}

pub fn admission_decision(result: &'static str) {
    metrics::counter!(ADMISSION_DECISIONS, "result" => result).increment(1);
}

pub fn reconciled(repairs: usize, at: i64) {
    metrics::gauge!(RECONCILE_REPAIRS).set(repairs as f64);
    metrics::gauge!(RECONCILE_LAST).set(at as f64);
}

fn outcome(ok: bool) -> &'static str {
    if ok {
        "sent"
    } else {
        "failed"
    }
}

/// The operator's scrape token, kept only as its SHA-256 digest.
#[derive(Clone)]
pub struct MetricsToken([u8; 32]);

impl MetricsToken {
    pub fn new(token: &str) -> MetricsToken {
        MetricsToken(digest(token))
    }

    fn admits(&self, presented: &str) -> bool {
        // Digests compared: the comparison's timing says nothing about the token itself.
        digest(presented) == self.0
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(…)")
    }
}

fn digest(token: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).into()
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let Some(token) = &state.config.metrics_token else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(presented) if token.admits(presented) => {}
        _ => {
            return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")], "a valid bearer token is required\n")
                .into_response()
        }
    }
    // The gauges are the process's: two scrapes at once (two consoles in one process, as the
    // tests run them) must not interleave setting them and rendering them.
    static SCRAPING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one_at_a_time = SCRAPING.lock().await;
    if let Err(error) = read_gauges(&state).await {
        tracing::warn!(%error, "metrics: reading the queue gauges failed");
    }
    let handle = handle();
    handle.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
}

/// Gauges read when scraped: the pool, the queues and the agents online. Each is one statement
/// on an index or a counter table, independent of how many findings the accounts hold.
async fn read_gauges(state: &AppState) -> Result<(), crate::error::AppError> {
    let db = &state.db;
    let pool = &db.pool;
    let (size, idle) = (pool.size() as f64, pool.num_idle() as f64);
    metrics::gauge!(DB_CONNECTIONS, "state" => "idle").set(idle);
    metrics::gauge!(DB_CONNECTIONS, "state" => "in_use").set((size - idle).max(0.0));
    metrics::gauge!(DB_MAX_CONNECTIONS).set(pool.options().get_max_connections() as f64);
    let now = super::now();
    let queued: (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT
            (SELECT COUNT(*) FROM report_deliveries WHERE status IN ('scheduled', 'sending', 'retrying') AND next_attempt_at <= $1),
            (SELECT COUNT(*) FROM playbook_tasks WHERE status = 'waiting' AND execute_at <= $1),
            (SELECT COUNT(*) FROM playbook_tasks WHERE status = 'running'),
            (SELECT COUNT(*) FROM agent_jobs WHERE status IN ('queued', 'running'))",
    )
    .bind(now)
    .fetch_one(pool)
    .await?;
    for (queue, n) in [("report_deliveries", queued.0), ("playbook_tasks_due", queued.1), ("playbook_tasks_running", queued.2), ("agent_jobs", queued.3)] {
        metrics::gauge!(JOBS_QUEUED, "queue" => queue).set(n as f64);
    }
    metrics::gauge!(JOBS_QUEUED, "queue" => "heartbeats").set(super::behind::pending::<crate::assets::heard::HeardFrom>(db) as f64);
    metrics::gauge!(JOBS_QUEUED, "queue" => "admission_log").set(super::behind::pending::<crate::signature::decisions::DecisionQueue>(db) as f64);
    let online: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(SUM(online), 0) AS BIGINT) FROM asset_counters").fetch_one(pool).await?;
    metrics::gauge!(AGENTS_ONLINE).set(online as f64);
    Ok(())
}
