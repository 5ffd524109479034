//! Host agents and vulnerability detection: a real `bulwark agent` process on this Debian host,
//! enrollment, inventories matched against OSV advisories, fix jobs, Trivy reports, and the
//! boundaries between accounts.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};

use bulwark::advisories::{osv, repo as advisories};
use bulwark::editions::Edition;
use bulwark::auth::model::Role;
use bulwark::server::config::AgentSettings;

use crate::common::*;

/// An installed package as dpkg reports it here: binary name and version, source name and version.
pub(crate) struct Installed {
    pub version: String,
    pub source: String,
    pub source_version: String,
}

pub(crate) fn installed(package: &str) -> Installed {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f", "${Version}\t${source:Package}\t${source:Version}", package])
        .output()
        .expect("dpkg-query runs on this Debian host");
    let text = String::from_utf8(out.stdout).unwrap();
    let fields: Vec<&str> = text.split('\t').collect();
    Installed { version: fields[0].into(), source: fields[1].into(), source_version: fields[2].into() }
}

pub(crate) fn debian_ecosystem() -> String {
    let release = std::fs::read_to_string("/etc/os-release").unwrap();
    let version = release.lines().find_map(|l| l.strip_prefix("VERSION_ID=")).unwrap().trim_matches('"');
    format!("Debian:{}", version.split('.').next().unwrap())
}

pub(crate) fn machine_id() -> String {
    std::fs::read_to_string("/etc/machine-id").unwrap().trim().to_string()
}

/// An OSV advisory for one Debian source package with one ECOSYSTEM range.
pub(crate) fn advisory(id: &str, package: &str, events: Value) -> Value {
    json!({
        "schema_version": "1.6.0",
        "id": id,
        "modified": "2026-11-01T00:00:00Z",
        "summary": format!("{package}: test advisory {id}"),
        "affected": [{
            "package": { "ecosystem": debian_ecosystem(), "name": package },
            "ranges": [{ "type": "ECOSYSTEM", "events": events }],
        }],
        "database_specific": { "severity": "high" }
    })
}

pub(crate) fn loaded(values: &[Value]) -> Vec<bulwark::advisories::archive::Loaded> {
    values
        .iter()
        .map(|v| bulwark::advisories::archive::Loaded { name: format!("{}.json", v["id"].as_str().unwrap()), result: osv::parse(v.to_string().as_bytes()) })
        .collect()
}

pub(crate) struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

pub(crate) fn start_agent(server: &str, token: Option<&str>, state_dir: &std::path::Path, extra: &[&str]) -> Agent {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bulwark"));
    command.arg("agent").arg("--server").arg(server).arg("--state-dir").arg(state_dir).args(extra);
    if let Some(token) = token {
        command.arg("--token").arg(token);
    }
    let log = std::fs::File::create(state_dir.with_extension("log")).unwrap();
    command.env("RUST_LOG", "info").envs([clock_env()]).stdout(Stdio::null()).stderr(log);
    Agent(command.spawn().expect("start bulwark agent"))
}

pub(crate) async fn wait_for<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    // Generous: a loaded CI machine runs the debug agent and dpkg-query slowly.
    for _ in 0..240 {
        if let Some(value) = probe().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("timed out waiting for {what}");
}

pub(crate) async fn enrollment_token(app: &TestApp, admin: &Session, group: &str) -> String {
    let response = app.call(Some(admin), "create_enrollment_token", &[("input[name]", "fleet"), ("input[group]", group)]).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let body = response.json();
    assert!(body["command"].as_str().unwrap().contains("bulwark agent --server"));
    body["secret"].as_str().unwrap().to_string()
}

async fn job_status(app: &TestApp, id: i64) -> Option<(String, Option<i64>, String, Option<String>)> {
    let row = sqlx::query_as::<_, (String, Option<i64>, String, Option<String>)>("SELECT status, exit_code, output, error FROM agent_jobs WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    (row.0 != "queued" && row.0 != "running").then_some(row)
}

/// A real agent heartbeats between its long polls on the same connection, so a console holds one
/// connection per agent: the poll after a heartbeat arrives from the heartbeat's client address,
/// and polls wait no longer than the next heartbeat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_agent_heartbeats_on_its_poll_connection() {
    use axum::extract::{ConnectInfo, Request as AxumRequest};
    use axum::middleware::{from_fn, Next};
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};
    let app = TestApp::with_config(|config| config.agents.heartbeat_secs = 2).await;
    let (_, email) = app.account("Alpha", Edition::Enterprise, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let token = enrollment_token(&app, &admin, "").await;
    // The console, recording which client address each agent request came from.
    let seen: Arc<Mutex<Vec<(String, SocketAddr)>>> = Arc::default();
    let record = seen.clone();
    let router = app.router().layer(from_fn(move |ConnectInfo(peer): ConnectInfo<SocketAddr>, request: AxumRequest, next: Next| {
        let record = record.clone();
        async move {
            record.lock().unwrap().push((request.uri().to_string(), peer));
            next.run(request).await
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.ok() });
    let state = tempfile::tempdir().unwrap();
    let _agent = start_agent(&server, Some(&token), &state.path().join("agent"), &[]);

    let after_inventory = |seen: &[(String, SocketAddr)]| -> Vec<(String, SocketAddr)> {
        let start = seen.iter().position(|(uri, _)| uri.starts_with("/api/v1/agent/jobs")).unwrap_or(seen.len());
        seen[start..].to_vec()
    };
    let steady = wait_for("four heartbeats between polls", || async {
        let steady = after_inventory(&seen.lock().unwrap());
        (steady.iter().filter(|(uri, _)| uri == "/api/v1/agent/heartbeat").count() >= 4).then_some(steady)
    })
    .await;
    // Verify the poll after a heartbeat goes out on the heartbeat's connection (the agent keeps no
    // second one for its heartbeats). Not every time: reqwest hands a connection back to its pool
    // from the connection's task, so a request sent right after a response may find none idle and
    // open another (seen once at the start of a run); two of the three transitions waited for must
    // share it. An agent with a client per purpose never shares one.
    let shared = steady
        .windows(2)
        .filter(|w| w[0].0 == "/api/v1/agent/heartbeat" && w[1].0.starts_with("/api/v1/agent/jobs?wait="))
        .filter(|w| w[0].1 == w[1].1)
        .count();
    assert!(shared >= 2, "{steady:?}");
    // … and no poll outwaits a heartbeat.
    assert!(steady.iter().filter(|(uri, _)| uri.starts_with("/api/v1/agent/jobs?wait=")).all(|(uri, _)| matches!(uri.rsplit('=').next(), Some("1" | "2"))), "{steady:?}");
    assert!(steady.iter().all(|(uri, _)| uri.starts_with("/api/v1/agent/jobs?wait=") || uri == "/api/v1/agent/heartbeat"), "{steady:?}");
}

/// A real agent enrolls, its dpkg inventory produces findings with the advisories' fixed
/// versions, and a fix job runs apt-get's simulation for real and reports back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_agent_reports_dpkg_packages_and_simulates_a_fix() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Enterprise, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let server = app.serve().await;
    let libc = installed("libc6");
    let bash = installed("bash");
    let fixed = format!("{}+bulwark1", libc.source_version);
    advisories::import(
        app.db(),
        advisories::FEED,
        "test",
        "fixtures",
        loaded(&[
            advisory("DSA-9001-1", &libc.source, json!([{ "introduced": "0" }, { "fixed": fixed }])),
            // Fixed before the installed version: not a finding.
            advisory("DSA-9002-1", &bash.source, json!([{ "introduced": "0" }, { "fixed": "5.0-1" }])),
        ]),
        now(),
    )
    .await
    .unwrap();
    let token = enrollment_token(&app, &admin, "Debian hosts").await;
    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().join("agent");
    let agent = start_agent(&server, Some(&token), &state_dir, &[]);

    let packages = wait_for("the inventory", || async {
        sqlx::query_scalar::<_, i64>("SELECT package_count FROM asset_inventories").fetch_optional(&app.db().pool).await.unwrap()
    })
    .await;

    // Verify one asset named by this machine's id, online, in the token's group, with the real dpkg package list.
    let (asset_id, instance_id, status, group) = sqlx::query_as::<_, (i64, String, String, String)>(
        "SELECT a.id, a.instance_id, a.agent_status, g.name FROM assets a JOIN asset_groups g ON g.id = a.group_id",
    )
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    assert_eq!((instance_id.as_str(), status.as_str(), group.as_str()), (machine_id().as_str(), "online", "Debian hosts"));
    let dpkg_count = String::from_utf8(Command::new("dpkg-query").args(["-W", "-f", "${db:Status-Abbrev}\n"]).output().unwrap().stdout)
        .unwrap()
        .lines()
        .filter(|l| l.as_bytes().get(1) == Some(&b'i'))
        .count() as i64;
    assert_eq!(packages, dpkg_count);
    let credential = std::fs::read_to_string(state_dir.join("agent.json")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(state_dir.join("agent.json")).unwrap().permissions().mode() & 0o777, 0o600);

    // Verify the glibc advisory matched through libc6's source package, with the installed and fixed versions.
    let findings = sqlx::query_as::<_, (i64, String, String, String, String, String)>(
        "SELECT f.id, v.advisory_id, v.package, f.installed_version, f.fixed_version, f.status FROM findings f
         JOIN vulnerabilities v ON v.id = f.vulnerability_id ORDER BY v.advisory_id",
    )
    .fetch_all(&app.db().pool)
    .await
    .unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    let (finding_id, advisory_id, package, installed_version, fixed_version, finding_status) = findings[0].clone();
    assert_eq!(
        (advisory_id.as_str(), package.as_str(), installed_version.as_str(), fixed_version.as_str(), finding_status.as_str()),
        ("DSA-9001-1", libc.source.as_str(), libc.source_version.as_str(), fixed.as_str(), "unfixed")
    );

    // A fix job for the finding: the agent runs without --allow-fix, so even a real fix only simulates.
    let response = app
        .call(Some(&admin), "fix_findings", &[("asset_id", &asset_id.to_string()), ("finding_id", &finding_id.to_string()), ("simulate", "false")])
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let job = response.json();
    assert!(job["packages"].as_array().unwrap().contains(&json!("libc6")), "{job}");
    let (status, exit_code, output, error) = wait_for("the job result", || job_status(&app, job["id"].as_i64().unwrap())).await;

    // Verify apt-get's own simulation ran and its answer came back, marked simulated.
    assert_eq!((status.as_str(), exit_code, error), ("simulated", Some(0), None), "{output}");
    assert!(output.starts_with("$ apt-get -s install --only-upgrade"), "{output}");
    assert!(output.contains("libc6"), "{output}");
    // The host's packages did not change: the libc6 version is the same as before.
    assert_eq!(installed("libc6").version, libc.version);
    drop(agent);

    // Re-running the agent with a token on the same machine keeps one asset and replaces the credential.
    let again = start_agent(&server, Some(&token), &state_dir, &[]);
    wait_for("the new credential", || async {
        let now = std::fs::read_to_string(state_dir.join("agent.json")).ok()?;
        (now != credential).then_some(())
    })
    .await;
    drop(again);
    assert_eq!(app.count("SELECT COUNT(*) FROM assets").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM agents").await, 1);
    let old: Value = serde_json::from_str(&credential).unwrap();
    let refused = app.api(old["credential"].as_str().unwrap(), Method::POST, "/api/v1/agent/heartbeat", Some(json!({ "agent_version": "x" }))).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
}

pub(crate) fn facts(machine: &str, host: &str) -> Value {
    json!({
        "hostname": host,
        "machine_id": machine,
        "os": { "id": "debian", "version_id": "12", "pretty_name": "Debian GNU/Linux 12 (bookworm)", "id_like": [] },
        "kernel": "6.1.0-13-amd64",
        "ips": ["10.0.0.5"]
    })
}

pub(crate) fn package(name: &str, version: &str, source: &str) -> Value {
    json!({ "name": name, "version": version, "arch": "amd64", "source": source, "source_version": version })
}

pub(crate) fn inventory(machine: &str, packages: Value) -> Value {
    json!({ "facts": facts(machine, "web-1"), "package_manager": "dpkg", "packages": packages })
}

/// Enrolls over HTTP as an agent would; returns the agent's credential.
pub(crate) async fn enroll(app: &TestApp, token: &str, machine: &str) -> String {
    let response = app
        .api(token, Method::POST, "/api/v1/agent/enroll", Some(json!({ "facts": facts(machine, "web-1"), "allow_fix": false, "agent_version": "test" })))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.json()["credential"].as_str().unwrap().to_string()
}

pub(crate) const MACHINE_A: &str = "0123456789abcdef0123456789abcdef";
pub(crate) const MACHINE_B: &str = "fedcba9876543210fedcba9876543210";

async fn setup() -> (TestApp, Session, String) {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Enterprise, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let token = enrollment_token(&app, &admin, "").await;
    (app, admin, token)
}

async fn import_openssl_advisory(app: &TestApp) {
    advisories::import(
        app.db(),
        advisories::FEED,
        "test",
        "fixtures",
        loaded(&[json!({
            "id": "DSA-5532-1",
            "modified": "2026-10-01T00:00:00Z",
            "summary": "openssl security update",
            "affected": [{
                "package": { "ecosystem": "Debian:12", "name": "openssl" },
                "ranges": [{ "type": "ECOSYSTEM", "events": [{ "introduced": "0" }, { "fixed": "3.0.11-1~deb12u2" }] }]
            }]
        })]),
        now(),
    )
    .await
    .unwrap();
}

/// The nice value of every thread of this process whose name starts with `prefix`.
fn nice_of_threads(prefix: &str) -> Vec<i32> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("stat")).ok())
        .filter_map(|stat| {
            let (open, close) = (stat.find('(')?, stat.rfind(')')?);
            let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
            stat[open + 1..close].starts_with(prefix).then(|| fields[16].parse().ok()).flatten()
        })
        .collect()
}

/// An import runs on the background thread, at a lower CPU priority than the threads that answer
/// requests, through connections that thread opened (SQLite's worker threads for them are niced
/// too), and its advisories are there for every connection to read afterwards.
#[tokio::test(flavor = "multi_thread")]
async fn imports_run_at_a_lower_cpu_priority() {
    let app = TestApp::new().await;
    let here = bulwark::server::background::current_nice().unwrap();
    let there = bulwark::server::background::run(app.db(), |_| async { Ok(bulwark::server::background::current_nice()) }).await.unwrap().unwrap();
    assert!(there > here || here == 19, "the background thread runs at nice {there}, a request's at {here}");

    import_openssl_advisory(&app).await;

    // Verify the import's advisory through the main pool, and niced SQLite workers beside un-niced ones.
    assert_eq!(app.count("SELECT COUNT(*) FROM advisories WHERE osv_id = 'DSA-5532-1'").await, 1);
    if app.db().kind == bulwark::server::db::DbKind::Sqlite {
        let workers = nice_of_threads("sqlx-sqlite-wor");
        assert!(workers.contains(&there) && workers.contains(&here), "SQLite workers' nice values: {workers:?}");
    }
    assert!(nice_of_threads("bulwark-backgro").iter().all(|nice| *nice == there));
}

/// An import that fails part-way (here a database trigger refuses one advisory of the second
/// chunk): on PostgreSQL nothing of it is written; on SQLite the chunks before the failure stay
/// (one transaction per 5,000 advisories, so other writers never wait for a whole file). On both
/// no console's index moves, and importing the file again, once it can be written, completes it.
#[tokio::test(flavor = "multi_thread")]
async fn an_import_that_fails_part_way_is_whole_or_nothing_on_postgresql() {
    let app = TestApp::new().await;
    let sqlite = app.db().kind == bulwark::server::db::DbKind::Sqlite;
    let refuse = if sqlite {
        vec!["CREATE TRIGGER refuse BEFORE INSERT ON advisories WHEN NEW.osv_id = 'DSA-6500-1' BEGIN SELECT RAISE(ABORT, 'refused'); END"]
    } else {
        vec![
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN IF NEW.osv_id = 'DSA-6500-1' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse BEFORE INSERT ON advisories FOR EACH ROW EXECUTE FUNCTION refuse()",
        ]
    };
    for sql in refuse {
        sqlx::query(sql).execute(&app.db().pool).await.unwrap();
    }
    let file: Vec<Value> = (0..7_000).map(|n| advisory(&format!("DSA-{n:04}-1"), &format!("pkg{n}"), json!([{ "introduced": "0" }, { "fixed": "1.0-1" }]))).collect();
    let version = || app.count("SELECT version FROM advisory_state WHERE id = 1");
    let before = version().await;

    let failed = advisories::import(app.db(), advisories::FEED, "test", "all.zip", loaded(&file), now()).await;

    // Verify: refused, nothing (PostgreSQL) or the first chunk (SQLite) written, the index's version unmoved.
    assert!(failed.is_err());
    let written = app.count("SELECT COUNT(*) FROM advisories").await;
    assert_eq!(written, if sqlite { 5_000 } else { 0 });
    assert_eq!(app.count("SELECT COUNT(*) FROM advisory_packages").await, written);
    assert_eq!(version().await, before);

    let allow = if sqlite { "DROP TRIGGER refuse" } else { "DROP TRIGGER refuse ON advisories" };
    sqlx::query(allow).execute(&app.db().pool).await.unwrap();
    let report = advisories::import(app.db(), advisories::FEED, "test", "all.zip", loaded(&file), now()).await.unwrap();
    assert_eq!((report.imported, report.updated), (7_000 - written, written));
    assert_eq!(app.count("SELECT COUNT(*) FROM advisories").await, 7_000);
    assert_eq!(version().await, before + 1);
}

/// An upload larger than one transaction's chunk is written whole: counts of new and updated
/// advisories, an id met twice (the later copy stands), and a re-import replacing an advisory's
/// package rows instead of adding to them.
#[tokio::test(flavor = "multi_thread")]
async fn a_large_upload_is_imported_in_chunks_and_replaces_what_it_updates() {
    let app = TestApp::new().await;
    let advisory = |n: usize, fixed: &str| {
        json!({
            "id": format!("DSA-{n:05}-1"),
            "modified": "2026-10-01T00:00:00Z",
            "summary": format!("advisory {n}"),
            "affected": [
                { "package": { "ecosystem": "Debian:12", "name": format!("pkg{n}") },
                  "ranges": [{ "type": "ECOSYSTEM", "events": [{ "introduced": "0" }, { "fixed": fixed }] }] },
                { "package": { "ecosystem": "Debian:11", "name": format!("pkg{n}") },
                  "ranges": [{ "type": "ECOSYSTEM", "events": [{ "introduced": "0" }, { "fixed": fixed }] }] }
            ]
        })
    };
    // 6,001 files: 6,000 advisories (past one 5,000-advisory transaction) and DSA-00007-1 twice.
    let mut files: Vec<Value> = (0..6_000).map(|n| advisory(n, "1.0")).collect();
    files.push(advisory(7, "2.0"));
    let report = advisories::import(app.db(), advisories::FEED, "test", "big.zip", loaded(&files), now()).await.unwrap();
    assert_eq!((report.imported, report.updated), (6_000, 1));
    assert_eq!(app.count("SELECT COUNT(*) FROM advisories").await, 6_000);
    assert_eq!(app.count("SELECT COUNT(*) FROM advisory_packages").await, 12_000);
    // Verify the later copy of the duplicate stands.
    let fixed = sqlx::query_scalar::<_, String>(
        "SELECT p.affected FROM advisory_packages p JOIN advisories a ON a.id = p.advisory_id WHERE a.osv_id = 'DSA-00007-1' AND p.ecosystem = 'Debian:12'",
    )
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    assert!(fixed.contains("2.0"), "{fixed}");

    // A second upload: 10 of them again with one package each, and one new advisory.
    let mut again: Vec<Value> = (0..10)
        .map(|n| {
            let mut a = advisory(n, "3.0");
            a["affected"].as_array_mut().unwrap().truncate(1);
            a
        })
        .collect();
    again.push(advisory(6_000, "1.0"));
    let report = advisories::import(app.db(), advisories::FEED, "test", "again.zip", loaded(&again), now()).await.unwrap();
    assert_eq!((report.imported, report.updated), (1, 10));
    // Verify the updated advisories' packages were replaced, not added to.
    assert_eq!(app.count("SELECT COUNT(*) FROM advisory_packages").await, 12_000 - 10 + 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM advisory_imports").await, 2);
}

async fn open_findings(app: &TestApp) -> Vec<(String, String, String)> {
    sqlx::query_as::<_, (String, String, String)>(
        "SELECT v.advisory_id, f.installed_version, f.fixed_version FROM findings f JOIN vulnerabilities v ON v.id = f.vulnerability_id
         WHERE f.resolved_at IS NULL ORDER BY v.advisory_id",
    )
    .fetch_all(&app.db().pool)
    .await
    .unwrap()
}

/// A finding opens for a package in an affected range and is fixed by a later inventory.
#[tokio::test(flavor = "multi_thread")]
async fn findings_open_and_close_with_inventories() {
    let (app, _, token) = setup().await;
    import_openssl_advisory(&app).await;
    let credential = enroll(&app, &token, MACHINE_A).await;
    let vulnerable = json!([package("libssl3", "3.0.11-1~deb12u1", "openssl"), package("openssl", "3.0.11-1~deb12u1", "openssl")]);

    let first = app.api(&credential, Method::POST, "/api/v1/agent/inventory", Some(inventory(MACHINE_A, vulnerable.clone()))).await;

    // Verify one finding for the source package, with the installed and the fixed version.
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.json()["open_findings"], 1);
    assert_eq!(open_findings(&app).await, vec![("DSA-5532-1".into(), "3.0.11-1~deb12u1".into(), "3.0.11-1~deb12u2".into())]);
    // The same inventory again is recognised and not matched a second time.
    let same = app.api(&credential, Method::POST, "/api/v1/agent/inventory", Some(inventory(MACHINE_A, vulnerable))).await;
    assert_eq!(same.json()["matched"], false);

    let upgraded = json!([package("libssl3", "3.0.11-1~deb12u2", "openssl"), package("openssl", "3.0.11-1~deb12u2", "openssl")]);
    let second = app.api(&credential, Method::POST, "/api/v1/agent/inventory", Some(inventory(MACHINE_A, upgraded))).await;

    // Verify the finding is now fixed (resolved), not deleted.
    assert_eq!(second.json()["open_findings"], 0);
    assert!(open_findings(&app).await.is_empty());
    assert_eq!(app.count("SELECT COUNT(*) FROM findings WHERE status = 'fixed' AND resolved_at IS NOT NULL").await, 1);
}

/// Advisories imported after an inventory are matched against it by the fleet tick.
#[tokio::test(flavor = "multi_thread")]
async fn an_import_rematches_existing_inventories() {
    let (app, _, token) = setup().await;
    let credential = enroll(&app, &token, MACHINE_A).await;
    let packages = json!([package("openssl", "3.0.9-1", "openssl")]);
    app.api(&credential, Method::POST, "/api/v1/agent/inventory", Some(inventory(MACHINE_A, packages))).await;
    assert!(open_findings(&app).await.is_empty());
    let db = app.db();
    let tick = |at: i64| async move { bulwark::assets::fleet::tick(db, &AgentSettings::default(), at).await.unwrap().rematched };
    assert_eq!(tick(now()).await, 0, "nothing imported since the inventory was matched");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    import_openssl_advisory(&app).await;

    // The tick a second after the import (one in the import's own second matches again on the next).
    let rematched = tick(now() + 1).await;

    // Verify the inventory was matched again and the finding opened; the next tick finds nothing stale.
    assert_eq!(rematched, 1);
    assert_eq!(open_findings(&app).await.len(), 1);
    assert_eq!(tick(now() + 1).await, 0);
}

/// Bad enrollments and inventories are refused with the field named, and nothing is written.
#[tokio::test(flavor = "multi_thread")]
async fn malformed_enrollments_and_inventories_write_nothing() {
    let (app, _, token) = setup().await;
    let bad_machine = app
        .api(&token, Method::POST, "/api/v1/agent/enroll", Some(json!({ "facts": facts("not-hex", "web-1"), "allow_fix": false, "agent_version": "t" })))
        .await;
    assert_eq!(bad_machine.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_machine.json()["fields"]["facts.machine_id"], "must be the 32 hexadecimal digits of /etc/machine-id");
    assert_eq!(app.count("SELECT COUNT(*) FROM assets").await, 0);

    let credential = enroll(&app, &token, MACHINE_A).await;
    let packages = json!([package("openssl", "3.0.9-1", "openssl"), package("curl", "", "curl")]);
    let bad_package = app.api(&credential, Method::POST, "/api/v1/agent/inventory", Some(inventory(MACHINE_A, packages))).await;
    assert_eq!(bad_package.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_package.json()["fields"]["packages[1].version"], "must be 1 to 256 printable characters");
    let wrong_type = app.api(&credential, Method::POST, "/api/v1/agent/inventory", Some(json!({ "facts": facts(MACHINE_A, "h"), "package_manager": "pacman", "packages": [] }))).await;
    assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong_type.json()["fields"]["package_manager"].as_str().unwrap().contains("unknown variant `pacman`"), "{}", wrong_type.body);

    // Verify no inventory was stored by either request.
    assert_eq!(app.count("SELECT COUNT(*) FROM asset_inventories").await, 0);
    let unauthenticated = app.api("bagt_nonsense", Method::POST, "/api/v1/agent/inventory", Some(inventory(MACHINE_A, json!([])))).await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
}

/// What an inventory cannot use is said in the answer, and the rest is used: a package listed
/// twice (same name and architecture) is merged and counted; a version the host's scheme cannot
/// order (dpkg here) is kept, counted and named, and matches nothing; the other packages match as
/// usual. An inventory past the package limit is refused whole, naming it.
#[tokio::test(flavor = "multi_thread")]
async fn an_inventory_counts_duplicate_and_unparsable_packages() {
    let (app, _, token) = setup().await;
    import_openssl_advisory(&app).await;
    let credential = enroll(&app, &token, MACHINE_A).await;
    let packages = json!([
        package("openssl", "3.0.11-1~deb12u1", "openssl"),
        package("openssl", "3.0.11-1~deb12u1", "openssl"),
        package("libfoo", "a:0-0", "foo"),
        package("curl", "7.88.1-10", "curl"),
    ]);

    let answer = app.api(&credential, Method::POST, "/api/v1/agent/inventory", Some(inventory(MACHINE_A, packages))).await;

    // Verify the counts and the names, and that the readable vulnerable package still matched.
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let body = answer.json();
    assert_eq!((body["packages"].as_i64(), body["duplicates"].as_i64(), body["unparsable"].as_i64()), (Some(3), Some(1), Some(1)), "{body}");
    assert_eq!(body["unparsable_packages"], json!(["libfoo"]));
    assert_eq!(body["open_findings"], 1);
    assert_eq!(open_findings(&app).await.len(), 1);

    let too_many: Vec<Value> = (0..50_001).map(|i| package(&format!("p{i}"), "1.0-1", "p")).collect();
    let refused = app.api(&credential, Method::POST, "/api/v1/agent/inventory", Some(inventory(MACHINE_A, json!(too_many)))).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["fields"]["packages"], "at most 50000 packages");
    assert_eq!(app.count("SELECT package_count FROM asset_inventories").await, 3);
}

/// An enrollment token enrolls into its own account only; revoked and expired ones are refused;
/// an agent reaches only its own jobs; API tokens cannot queue jobs on another account's assets.
#[tokio::test(flavor = "multi_thread")]
async fn tokens_and_agents_stay_inside_their_account() {
    let (app, admin_a, token_a) = setup().await;
    let (_, email_b) = app.account("Beta", Edition::Enterprise, Role::Admin).await;
    let admin_b = app.sign_in(&email_b).await;
    let token_b = enrollment_token(&app, &admin_b, "").await;
    let agent_a = enroll(&app, &token_a, MACHINE_A).await;
    let agent_b = enroll(&app, &token_b, MACHINE_B).await;

    // Verify each asset landed in its token's account.
    let owners = sqlx::query_as::<_, (String, String)>("SELECT a.instance_id, c.name FROM assets a JOIN accounts c ON c.id = a.account_id ORDER BY c.name")
        .fetch_all(&app.db().pool)
        .await
        .unwrap();
    assert_eq!(owners, vec![(MACHINE_A.to_string(), "Alpha".to_string()), (MACHINE_B.to_string(), "Beta".to_string())]);

    // A job for B's host: A's agent never receives it and cannot post its result.
    let api_b = app.token(&admin_b, "ci").await;
    let job = app.api(&api_b, Method::POST, &format!("/api/v1/assets/{MACHINE_B}/fix-jobs"), Some(json!({ "packages": ["openssl"], "simulate": true }))).await;
    assert_eq!(job.status, StatusCode::CREATED, "{}", job.body);
    let job_id = job.json()["id"].as_i64().unwrap();
    let poll_a = app.api(&agent_a, Method::GET, "/api/v1/agent/jobs", None).await;
    assert_eq!(poll_a.status, StatusCode::NO_CONTENT);
    let result = json!({ "outcome": { "command": [], "exit_code": 0, "output": "", "timed_out": false, "simulated": true, "changes": [], "error": null } });
    let foreign = app.api(&agent_a, Method::POST, &format!("/api/v1/agent/jobs/{job_id}/result"), Some(result)).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let poll_b = app.api(&agent_b, Method::GET, "/api/v1/agent/jobs", None).await;
    assert_eq!(poll_b.json()["id"], job_id);

    // An API token of A cannot reach B's asset or job.
    let api_a = app.token(&admin_a, "ci").await;
    let cross = app.api(&api_a, Method::POST, &format!("/api/v1/assets/{MACHINE_B}/fix-jobs"), Some(json!({ "packages": ["openssl"] }))).await;
    assert_eq!(cross.status, StatusCode::NOT_FOUND);
    assert_eq!(app.api(&api_a, Method::GET, &format!("/api/v1/fix-jobs/{job_id}"), None).await.status, StatusCode::NOT_FOUND);
    // Option injection in a package name is refused before anything is queued.
    let injection = app.api(&api_a, Method::POST, &format!("/api/v1/assets/{MACHINE_A}/fix-jobs"), Some(json!({ "packages": ["--purge"] }))).await;
    assert_eq!(injection.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(injection.json()["fields"]["packages[0]"].is_string(), "{}", injection.body);

    // A revoked token enrolls nothing; neither does an enrollment attempt with an API token.
    let id = app.count("SELECT MIN(id) FROM enrollment_tokens").await;
    let revoked = app.call(Some(&admin_a), "revoke_enrollment_token", &[("id", &id.to_string())]).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    let body = json!({ "facts": facts("11111111111111111111111111111111", "h"), "allow_fix": false, "agent_version": "t" });
    assert_eq!(app.api(&token_a, Method::POST, "/api/v1/agent/enroll", Some(body.clone())).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.api(&api_a, Method::POST, "/api/v1/agent/enroll", Some(body)).await.status, StatusCode::UNAUTHORIZED);
    // B cannot revoke A's tokens.
    let other = app.call(Some(&admin_b), "revoke_enrollment_token", &[("id", &id.to_string())]).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM assets").await, 2);
}

/// An agent's long poll for a job, waiting up to `wait` seconds, sent from a task of its own.
fn long_poll(router: axum::Router, credential: String, wait: u64) -> tokio::task::JoinHandle<(StatusCode, axum::body::Bytes)> {
    tokio::spawn(async move {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let request = Request::builder()
            .uri(format!("/api/v1/agent/jobs?wait={wait}"))
            .header(header::AUTHORIZATION, format!("Bearer {credential}"))
            .body(axum::body::Body::empty())
            .unwrap();
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        (status, response.into_body().collect().await.unwrap().to_bytes())
    })
}

/// A job result posted twice counts once; a long poll hands out a job queued while it waits.
#[tokio::test(flavor = "multi_thread")]
async fn results_are_idempotent_and_polls_wait_for_jobs() {
    let (app, admin, token) = setup().await;
    let agent = enroll(&app, &token, MACHINE_A).await;
    let api = app.token(&admin, "ci").await;
    let poll = long_poll(app.router(), agent.clone(), 20);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let job = app.api(&api, Method::POST, &format!("/api/v1/assets/{MACHINE_A}/fix-jobs"), Some(json!({ "packages": ["openssl", "libssl3"] }))).await;
    let job_id = job.json()["id"].as_i64().unwrap();

    // Verify the waiting poll got the job.
    let (status, body) = poll.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    let assignment: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((assignment["id"].as_i64(), assignment["simulate"].as_bool()), (Some(job_id), Some(false)));

    let result = json!({ "outcome": { "command": ["apt-get", "install"], "exit_code": 100, "output": "E: Could not get lock", "timed_out": false, "simulated": false, "changes": [], "error": null } });
    let first = app.api(&agent, Method::POST, &format!("/api/v1/agent/jobs/{job_id}/result"), Some(result.clone())).await;
    let mut retried = result.clone();
    retried["outcome"]["exit_code"] = json!(0);
    let second = app.api(&agent, Method::POST, &format!("/api/v1/agent/jobs/{job_id}/result"), Some(retried)).await;

    // Verify the first result stands and the retry is acknowledged as a duplicate.
    assert_eq!(first.json(), json!({ "status": "failed", "duplicate": false }));
    assert_eq!(second.json(), json!({ "status": "failed", "duplicate": true }));
    let stored = app.api(&api, Method::GET, &format!("/api/v1/fix-jobs/{job_id}"), None).await.json();
    assert_eq!(stored["error"], "non-zero exit: the package manager exited with 100");
    assert_eq!(stored["exit_code"], 100);
}

/// Heartbeats are written a moment later, many agents to a statement: the task writes them by
/// itself, and the fleet tick writes what this console has heard before it marks anyone offline.
#[tokio::test(flavor = "multi_thread")]
async fn heartbeats_are_written_in_batches_and_count_before_the_offline_sweep() {
    let (app, _, token) = setup().await;
    let agent = enroll(&app, &token, MACHINE_A).await;
    let stored = |app: &TestApp| {
        let pool = app.db().pool.clone();
        async move {
            sqlx::query_as::<_, (String, i64, String)>(
                "SELECT g.version, g.last_heartbeat_at, a.agent_status FROM agents g JOIN assets a ON a.id = g.asset_id",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    // The agent was last heard from long ago.
    sqlx::query("UPDATE agents SET last_heartbeat_at = $1").bind(now() - 3600).execute(&app.db().pool).await.unwrap();
    let before = now();
    let beat = app.api(&agent, Method::POST, "/api/v1/agent/heartbeat", Some(json!({ "agent_version": "2.0.0" }))).await;
    assert_eq!(beat.status, StatusCode::NO_CONTENT, "{}", beat.body);

    // Verify the sweep counts the heartbeat, written or not yet: the agent stays online.
    let settings = AgentSettings { offline_after_secs: 180, ..AgentSettings::default() };
    let tick = bulwark::assets::fleet::tick(app.db(), &settings, now()).await.unwrap();
    assert_eq!(tick.went_offline, 0);
    let (version, heard_at, status) = stored(&app).await;
    assert_eq!((version.as_str(), status.as_str()), ("2.0.0", "online"));
    assert!(heard_at >= before, "heard at {heard_at}, before {before}");

    // Verify the task writes a heartbeat by itself, without a tick.
    let beat = app.api(&agent, Method::POST, "/api/v1/agent/heartbeat", Some(json!({ "agent_version": "2.0.1" }))).await;
    assert_eq!(beat.status, StatusCode::NO_CONTENT);
    let mut waited = Duration::ZERO;
    while stored(&app).await.0 != "2.0.1" && waited < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += Duration::from_millis(100);
    }
    assert_eq!(stored(&app).await.0, "2.0.1", "written within {waited:?}");
    assert_eq!(bulwark::server::behind::pending::<bulwark::assets::heard::HeardFrom>(app.db()), 0);
}

/// A job queued through one console reaches an agent whose long poll waits on another console of
/// the same PostgreSQL database (a replica): the queueing transaction notifies every console, and
/// each wakes its own polls. (A poll that missed it would look again only after a minute, past
/// this poll's 30 s.) SQLite has one console per database.
#[tokio::test(flavor = "multi_thread")]
async fn a_job_queued_on_one_console_wakes_a_poll_on_another() {
    let (app, admin, token) = setup().await;
    if app.db().kind == bulwark::server::db::DbKind::Sqlite {
        return;
    }
    let agent = enroll(&app, &token, MACHINE_A).await;
    let api = app.token(&admin, "ci").await;
    let replica = app.restart().await;
    let poll = long_poll(replica.router(), agent, 30);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let queued = std::time::Instant::now();
    let job = app.api(&api, Method::POST, &format!("/api/v1/assets/{MACHINE_A}/fix-jobs"), Some(json!({ "packages": ["openssl"] }))).await;
    assert_eq!(job.status, StatusCode::CREATED, "{}", job.body);

    // Verify the poll on the other console got the job when it was queued, not at its deadline
    // (where a poll looks once more anyway).
    let (status, body) = poll.await.unwrap();
    assert!(queued.elapsed() < Duration::from_secs(20), "woken after {:?}", queued.elapsed());
    assert_eq!(status, StatusCode::OK);
    let assignment: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(assignment["id"], job.json()["id"]);
}

/// Jobs of an agent that stays offline fail with "agent offline" after the job timeout.
#[tokio::test(flavor = "multi_thread")]
async fn jobs_of_offline_agents_fail_after_the_timeout() {
    let (app, admin, token) = setup().await;
    enroll(&app, &token, MACHINE_A).await;
    let api = app.token(&admin, "ci").await;
    let job = app.api(&api, Method::POST, &format!("/api/v1/assets/{MACHINE_A}/fix-jobs"), Some(json!({ "packages": ["openssl"] }))).await;
    let job_id = job.json()["id"].as_i64().unwrap();
    let settings = AgentSettings { offline_after_secs: 180, job_timeout_secs: 1800, ..AgentSettings::default() };
    let now = now();

    // Before the timeout nothing changes, even though the agent has gone quiet.
    let early = bulwark::assets::fleet::tick(app.db(), &settings, now + 600).await.unwrap();
    assert_eq!((early.went_offline, early.offline_jobs), (1, 0));
    let late = bulwark::assets::fleet::tick(app.db(), &settings, now + 1801).await.unwrap();

    // Verify the job failed with the reason, and the asset shows the agent offline.
    assert_eq!(late.offline_jobs, 1);
    let stored = app.api(&api, Method::GET, &format!("/api/v1/fix-jobs/{job_id}"), None).await.json();
    assert_eq!(stored["status"], "failed");
    assert!(stored["error"].as_str().unwrap().starts_with("agent offline"), "{stored}");
    assert_eq!(app.api(&api, Method::GET, &format!("/api/v1/assets/{MACHINE_A}"), None).await.json()["agent_status"], "offline");
}

fn zip_of(files: &[(&str, String)]) -> Vec<u8> {
    let mut buffer = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buffer);
    for (name, body) in files {
        zip.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    buffer.into_inner()
}

async fn upload(app: &TestApp, token: &str, name: &str, bytes: Vec<u8>) -> Response {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/advisories?name={name}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(axum::body::Body::from(bytes))
        .unwrap();
    app.request(request).await
}

/// A zip with a malformed advisory imports the good ones, names the bad one, and a second
/// import updates instead of duplicating; an unreadable upload is refused and recorded.
#[tokio::test(flavor = "multi_thread")]
async fn advisory_uploads_skip_malformed_files_and_never_duplicate() {
    let (app, admin, _) = setup().await;
    let api = app.token(&admin, "feeds").await;
    let good = advisory("DSA-1-1", "openssl", json!([{ "introduced": "0" }, { "fixed": "3.0.13-1" }])).to_string();
    let bad = json!({ "id": "DSA-2-1", "modified": "yesterday", "affected": [] }).to_string();
    let archive = zip_of(&[("debian/DSA-1-1.json", good), ("debian/DSA-2-1.json", bad)]);

    let first = upload(&app, &api, "all.zip", archive.clone()).await;

    // Verify the good advisory was imported and the bad one reported by its name.
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let report = first.json();
    assert_eq!((report["imported"].as_i64(), report["updated"].as_i64()), (Some(1), Some(0)));
    assert_eq!(report["skipped"][0]["name"], "debian/DSA-2-1.json");
    assert!(report["skipped"][0]["message"].as_str().unwrap().contains("modified"), "{report}");
    let second = upload(&app, &api, "all.zip", archive).await.json();
    assert_eq!((second["imported"].as_i64(), second["updated"].as_i64()), (Some(0), Some(1)));
    assert_eq!(app.count("SELECT COUNT(*) FROM advisories").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM advisory_packages").await, 1);

    let garbage = upload(&app, &api, "all.zip", b"PK\x03\x04 not really a zip".to_vec()).await;
    assert_eq!(garbage.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(garbage.json()["fields"]["file"].is_string(), "{}", garbage.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM advisories").await, 1);
    // Verify every import, the failed one too, is listed for the account.
    assert_eq!(app.count("SELECT COUNT(*) FROM advisory_imports WHERE error IS NOT NULL").await, 1);
    let page = app.get(Some(&admin), "/settings/advisories").await;
    assert!(page.body.contains("debian/DSA-2-1.json"), "the skipped file is listed");

    // Uploaded advisories are the account's own: another account does not match against them.
    let (beta, _) = app.account("Beta", Edition::Enterprise, Role::Admin).await;
    let stats = advisories::stats(app.db(), beta).await.unwrap();
    assert_eq!((stats.feed, stats.own), (0, 0));
}

/// A Trivy report becomes the asset's findings (OS packages Linux, application packages
/// Web-CMS); the next report resolves what it no longer lists; a malformed one writes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn trivy_reports_become_findings() {
    let (app, admin, _) = setup().await;
    let api = app.token(&admin, "scanner").await;
    app.api(&api, Method::POST, "/api/v1/assets", Some(json!({ "assets": [asset("i-web", "web-1", "10.0.0.1")] }))).await;
    let report = |vulns: Value| {
        json!({ "SchemaVersion": 2, "ArtifactName": "web-1", "Results": [
            { "Target": "web-1 (debian 12.5)", "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": vulns },
            { "Target": "composer.lock", "Class": "lang-pkgs", "Type": "composer", "Vulnerabilities": [
                { "VulnerabilityID": "CVE-2023-29197", "PkgName": "guzzlehttp/psr7", "InstalledVersion": "2.4.4", "FixedVersion": "2.4.5", "Severity": "HIGH" }
            ]}
        ]})
    };
    let openssl = json!({ "VulnerabilityID": "CVE-2024-0727", "PkgName": "libssl3", "InstalledVersion": "3.0.11-1~deb12u2", "FixedVersion": "3.0.13-1~deb12u1", "Severity": "MEDIUM", "Title": "openssl: null dereference" });

    let first = app.api(&api, Method::POST, "/api/v1/assets/i-web/trivy", Some(report(json!([openssl])))).await;

    // Verify both findings, with their categories and fixed versions.
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.json()["open_findings"], 2);
    let rows = sqlx::query_as::<_, (String, String, String)>(
        "SELECT v.advisory_id, v.category, f.fixed_version FROM findings f JOIN vulnerabilities v ON v.id = f.vulnerability_id ORDER BY v.advisory_id",
    )
    .fetch_all(&app.db().pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            ("CVE-2023-29197".into(), "web_cms".into(), "2.4.5".into()),
            ("CVE-2024-0727".into(), "linux".into(), "3.0.13-1~deb12u1".into())
        ]
    );
    let second = app.api(&api, Method::POST, "/api/v1/assets/i-web/trivy", Some(report(json!([])))).await;
    assert_eq!(second.json()["open_findings"], 1);

    let malformed = app.api(&api, Method::POST, "/api/v1/assets/i-web/trivy", Some(json!({ "Results": [{ "Class": "os-pkgs", "Vulnerabilities": [{ "PkgName": "x" }] }] }))).await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(malformed.json()["fields"]["body"], "Results[0].Vulnerabilities[0]: missing field `VulnerabilityID`");
    assert_eq!(app.count("SELECT COUNT(*) FROM findings").await, 2);
}

/// A scan (an image's Trivy report, as an agent's inventory) matched again keeps what people
/// decided: an ignored finding stays ignored and resolved, one being fixed keeps its state, a
/// fixed one matched again reopens as new; what a scan no longer matches is fixed. Written set at
/// a time, so a scan of more matches than one statement holds is checked too.
#[tokio::test(flavor = "multi_thread")]
async fn a_scan_keeps_ignored_and_fixing_findings_and_reopens_fixed_ones() {
    let (app, admin, _) = setup().await;
    let api = app.token(&admin, "scanner").await;
    app.api(&api, Method::POST, "/api/v1/assets", Some(json!({ "assets": [asset("i-web", "web-1", "10.0.0.1")] }))).await;
    let vuln = |id: &str| json!({ "VulnerabilityID": id, "PkgName": "libssl3", "InstalledVersion": "3.0.11", "FixedVersion": "3.0.13", "Severity": "HIGH" });
    let report = |ids: &[String]| json!({ "Results": [{ "Target": "web-1", "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": ids.iter().map(|id| vuln(id)).collect::<Vec<_>>() }] });
    let scan = |ids: Vec<String>| {
        let app = &app;
        let api = &api;
        async move {
            let answer = app.api(api, Method::POST, "/api/v1/assets/i-web/trivy", Some(report(&ids))).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
            answer.json()["open_findings"].as_i64().unwrap()
        }
    };
    let three: Vec<String> = ["CVE-A", "CVE-B", "CVE-C"].map(String::from).to_vec();
    assert_eq!(scan(three.clone()).await, 3);
    let status = |id: &'static str| {
        let app = &app;
        async move {
            sqlx::query_as::<_, (String, Option<i64>, i64)>(
                "SELECT f.status, f.resolved_at, f.first_seen_at FROM findings f JOIN vulnerabilities v ON v.id = f.vulnerability_id WHERE v.advisory_id = $1",
            )
            .bind(id)
            .fetch_one(&app.db().pool)
            .await
            .unwrap()
        }
    };
    let set = |id: &'static str, sql: &'static str| {
        let app = &app;
        async move {
            let sql = format!("UPDATE findings SET {sql} WHERE vulnerability_id = (SELECT id FROM vulnerabilities WHERE advisory_id = $1)");
            sqlx::query(&sql).bind(id).execute(&app.db().pool).await.unwrap();
        }
    };
    set("CVE-A", "status = 'ignored', resolved_at = 1000").await;
    set("CVE-B", "status = 'fixing'").await;
    set("CVE-C", "status = 'fixed', resolved_at = 1000, first_seen_at = 500").await;

    // Verify: matched again, A stays ignored (resolved when it was), B stays fixing, C reopens as new.
    assert_eq!(scan(three.clone()).await, 2);
    let (a_status, a_resolved, _) = status("CVE-A").await;
    assert_eq!((a_status.as_str(), a_resolved), ("ignored", Some(1000)));
    let (b_status, b_resolved, _) = status("CVE-B").await;
    assert_eq!((b_status.as_str(), b_resolved), ("fixing", None));
    let (c_status, c_resolved, c_first_seen) = status("CVE-C").await;
    assert_eq!((c_status.as_str(), c_resolved), ("unfixed", None));
    assert!(c_first_seen > 500, "a reopened finding is new again: first seen {c_first_seen}");

    // Verify: a scan of 1,200 matches (more than a statement's rows), then one of none.
    let many: Vec<String> = (0..1200).map(|i| format!("CVE-2026-{i:04}")).collect();
    assert_eq!(scan(many).await, 1200);
    assert_eq!(app.count("SELECT COUNT(*) FROM findings WHERE resolved_at IS NULL").await, 1200);
    assert_eq!(scan(Vec::new()).await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM findings WHERE status = 'fixed' AND resolved_at IS NOT NULL").await, 1202);
    assert_eq!(status("CVE-A").await.0, "ignored");
}

/// A zip bomb (a small archive whose entries expand past the import's 1 GiB allowance) is
/// refused whole with the limit named; nothing is imported, and the console answers other
/// requests while it inflates: the work runs off the async workers. The runtime has one worker,
/// and the health checks are spawned onto it, so inflating on that worker would hold every one
/// of them for the seconds the archive takes.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn advisory_zip_bombs_are_refused_naming_the_limit() {
    let (app, admin, _) = setup().await;
    let api = app.token(&admin, "feeds").await;
    // One 15 MiB entry of blanks, copied (compressed) 70 times: past 1 GiB in all, each entry
    // under the 16 MiB one an entry may have.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("debian/BOMB-0.json", zip::write::SimpleFileOptions::default()).unwrap();
    let blanks = vec![b' '; 1024 * 1024];
    for _ in 0..15 {
        zip.write_all(&blanks).unwrap();
    }
    for n in 1..70 {
        zip.deep_copy_file("debian/BOMB-0.json", &format!("debian/BOMB-{n}.json")).unwrap();
    }
    let bomb = zip.finish().unwrap().into_inner();
    assert!(bomb.len() < 2 * 1024 * 1024, "{}", bomb.len());

    let router = app.router();
    let importing = tokio::spawn({
        let api = api.clone();
        async move {
            let request = Request::builder()
                .method(Method::POST)
                .uri("/api/v1/advisories?name=all.zip")
                .header(header::AUTHORIZATION, format!("Bearer {api}"))
                .body(axum::body::Body::from(bomb))
                .unwrap();
            let response = tower::ServiceExt::oneshot(router, request).await.unwrap();
            let status = response.status();
            let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
    });
    // Verify the console keeps answering while the archive inflates: health checks run on the
    // runtime's worker, each timed from its start to its answer.
    let mut waits = Vec::new();
    while !importing.is_finished() {
        let router = app.router();
        let check = tokio::spawn(async move {
            let started = std::time::Instant::now();
            let request = Request::builder().uri("/healthz").body(axum::body::Body::empty()).unwrap();
            let response = tower::ServiceExt::oneshot(router, request).await.unwrap();
            (response.status(), started.elapsed())
        });
        let (status, waited) = check.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        waits.push(waited);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (status, body) = importing.await.unwrap();
    assert!(!waits.is_empty());
    waits.sort();
    // The figure is 100 ms; the median must meet it. The slowest answer is only held
    // under one second, since other tests share these two cores: a bomb inflated on the worker
    // holds a check for the whole inflation (several seconds).
    let median = waits[waits.len() / 2];
    assert!(median < std::time::Duration::from_millis(100), "median health check {median:?} of {}", waits.len());
    assert!(*waits.last().unwrap() < std::time::Duration::from_secs(1), "slowest health check {:?}", waits.last());
    eprintln!("health checks during the bomb: {} answered, median {median:?}, slowest {:?}", waits.len(), waits.last().unwrap());
    // Verify 422 naming the limit, and no advisory stored.
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("expands to more than 1024 MiB"), "{body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM advisories").await, 0);
}

/// Inventories are matched against an in-memory index of the advisories. A second console on
/// the same database (another replica) matches an import made through the first from its next
/// match on; a console whose index is current reads no advisory rows to match; an account's own
/// advisories are matched for it alone.
#[tokio::test(flavor = "multi_thread")]
async fn every_console_matches_the_latest_import_from_memory() {
    let app = TestApp::new().await;
    let (alpha, _) = app.account("Alpha", Edition::Enterprise, Role::Admin).await;
    let (beta, _) = app.account("Beta", Edition::Enterprise, Role::Admin).await;
    let replica = bulwark::server::db::Db::open(&app.state.config.database_url).await.unwrap();
    let ecosystems = vec![debian_ecosystem()];
    let packages = vec![bulwark::agent::host::Package {
        name: "libssl3".into(),
        version: "3.0.11-1~deb12u2".into(),
        arch: "amd64".into(),
        source: Some("openssl".into()),
        source_version: None,
    }];
    let matched = |db: bulwark::server::db::Db, account: i64| {
        let (ecosystems, packages) = (ecosystems.clone(), packages.clone());
        async move {
            let found = advisories::match_packages(&db, account, &ecosystems, &packages).await.unwrap();
            found.into_iter().map(|m| format!("{} {} {}", m.osv_id, m.package, m.installed_version)).collect::<Vec<_>>()
        }
    };
    let affected = json!([{ "introduced": "0" }, { "fixed": "3.0.13-1~deb12u1" }]);
    assert!(matched(replica.clone(), alpha).await.is_empty());

    advisories::import(app.db(), advisories::FEED, "test", "one", loaded(&[advisory("DSA-0001-1", "openssl", affected.clone())]), 1_780_000_000)
        .await
        .unwrap();
    // Verify the replica, whose index was built before the import, matches it now.
    assert_eq!(matched(replica.clone(), alpha).await, ["DSA-0001-1 openssl 3.0.11-1~deb12u2"]);

    // Verify the match reads the index, not the rows: rows removed behind its back (no import,
    // so the version stands) still match, on the replica and on the first console alike…
    sqlx::query("DELETE FROM advisory_packages").execute(&app.db().pool).await.unwrap();
    assert_eq!(matched(replica.clone(), alpha).await, ["DSA-0001-1 openssl 3.0.11-1~deb12u2"]);
    // …until the next import moves the version on, and both rebuild from the rows.
    advisories::import(app.db(), advisories::FEED, "test", "two", loaded(&[advisory("DSA-0002-1", "openssl", affected.clone())]), 1_780_000_100)
        .await
        .unwrap();
    assert_eq!(matched(replica.clone(), alpha).await, ["DSA-0002-1 openssl 3.0.11-1~deb12u2"]);
    assert_eq!(matched(app.db().clone(), alpha).await, ["DSA-0002-1 openssl 3.0.11-1~deb12u2"]);

    // An account's own upload is matched for it, not for another account.
    advisories::import(app.db(), beta, "test", "beta's own", loaded(&[advisory("BETA-0001", "openssl", affected)]), 1_780_000_200).await.unwrap();
    assert_eq!(matched(replica.clone(), beta).await, ["BETA-0001 openssl 3.0.11-1~deb12u2", "DSA-0002-1 openssl 3.0.11-1~deb12u2"]);
    assert_eq!(matched(replica, alpha).await, ["DSA-0002-1 openssl 3.0.11-1~deb12u2"]);
}
