//! Host agents at fleet scale, and advisory matching.
//!
//! 1. Matching: one inventory of 2,000 Debian packages against 100,000 OSV advisories (10 per
//!    source package, about 1% of them affecting the installed versions). Then another account's
//!    Assets page rendered idle and while the same import runs again.
//! 2. Fleet: a `bulwark serve` process (this build's binary) with 1,000 simulated agents in this
//!    process, each enrolling and reporting 2,000 packages, then for a while holding a long poll
//!    open, heartbeating every 60 s and reporting its (unchanged) inventory every 4 hours (the
//!    product's defaults). The console's CPU and peak memory come from /proc; latencies are
//!    measured by the agents.
//!
//! `cargo bench --features ssr --bench agents -- [--agents N] [--packages N] [--advisories N]
//! [--seconds N] [--heartbeat SECS] [--inventory SECS] [--pg postgres://…/postgres] [--small]
//! [--matching-only]`

#[allow(dead_code)] // the other benchmarks use the rest
mod support;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bulwark::advisories::archive::Loaded;
use bulwark::advisories::osv::{Advisory, Affected, Event};
use bulwark::advisories::repo as advisories;
use bulwark::advisories::version::VersionScheme;
use bulwark::agent::host::{HostFacts, OsRelease, Package, PackageManager};
use bulwark::agent::protocol::*;
use bulwark::assets::model::EnrollmentTokenInput;
use bulwark::server::audit::Actor;
use bulwark::server::db::Db;
use support::{on_each_database, stats};

struct Args {
    agents: usize,
    packages: usize,
    advisories: usize,
    seconds: u64,
    /// Seconds between an agent's heartbeats in the steady state (the product's default).
    heartbeat: u64,
    /// Seconds between an agent's inventory reports in the steady state (the product's 4 hours).
    inventory: u64,
    pg: Option<String>,
    /// `--matching-only`: skip the fleet.
    fleet: bool,
}

fn args() -> Args {
    let mut args = Args { agents: 1_000, packages: 2_000, advisories: 100_000, seconds: 120, heartbeat: 60, inventory: 4 * 3600, pg: std::env::var("BULWARK_BENCH_PG_URL").ok(), fleet: true };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |name: &str| it.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{name} N"));
        match arg.as_str() {
            "--agents" => args.agents = number("--agents"),
            "--packages" => args.packages = number("--packages"),
            "--advisories" => args.advisories = number("--advisories"),
            "--seconds" => args.seconds = number("--seconds") as u64,
            "--heartbeat" => args.heartbeat = number("--heartbeat") as u64,
            "--inventory" => args.inventory = number("--inventory") as u64,
            "--pg" => args.pg = it.next(),
            "--matching-only" => args.fleet = false,
            "--small" => (args.agents, args.packages, args.advisories, args.seconds) = (20, 200, 2_000, 5),
            _ => {} // cargo bench passes --bench
        }
    }
    args
}

/// Advisories per source package; `packages × this` covers every advisory.
const PER_PACKAGE: usize = 10;

fn package_name(i: usize) -> String {
    format!("pkg{i:05}")
}

/// The advisory set: each affects one source package up to a fixed version; one in a hundred is
/// fixed above the installed "2.0-5", so it matches.
fn feed(count: usize) -> Vec<Loaded> {
    (0..count)
        .map(|i| {
            let fixed = if i % 100 == 7 { "2.0-9".to_string() } else { format!("1.{}-1", i % 50) };
            let advisory = Advisory {
                id: format!("DSA-{i:06}-1"),
                modified: 1_790_000_000,
                summary: format!("security update {i}"),
                aliases: Vec::new(),
                severity: ["critical", "high", "medium", "low"][i % 4],
                affected: vec![Affected {
                    ecosystem: "Debian:12".into(),
                    package: package_name(i / PER_PACKAGE),
                    scheme: Some(VersionScheme::Dpkg),
                    events: vec![Event::Introduced("0".into()), Event::Fixed(fixed)],
                    ranges: Vec::new(),
                    versions: Vec::new(),
                }],
                withdrawn: false,
            };
            Loaded { name: format!("{}.json", advisory.id), result: Ok(advisory) }
        })
        .collect()
}

/// A host's packages: binary packages built from the first `count` source packages.
fn inventory(count: usize) -> Vec<Package> {
    (0..count)
        .map(|i| Package {
            name: format!("lib{}", package_name(i)),
            version: "2.0-5".into(),
            arch: "amd64".into(),
            source: Some(package_name(i)),
            source_version: Some("2.0-5".into()),
        })
        .collect()
}

fn facts(n: usize) -> HostFacts {
    HostFacts {
        hostname: format!("host-{n:05}"),
        machine_id: format!("{n:032x}"),
        os: OsRelease { id: "debian".into(), version_id: "12".into(), pretty_name: "Debian GNU/Linux 12 (bookworm)".into(), id_like: Vec::new() },
        kernel: "6.1.0-13-amd64".into(),
        ips: vec![format!("10.{}.{}.{}", n / 65536 % 256, n / 256 % 256, n % 256)],
    }
}

async fn matching(label: &str, db: &Db, args: &Args) {
    let started = Instant::now();
    let report = advisories::import(db, advisories::FEED, "bench", "synthetic", feed(args.advisories), bulwark::server::now()).await.unwrap();
    println!("{label:<10} import {:>7} advisories: {:>8.1} s", report.imported, started.elapsed().as_secs_f64());
    let ecosystems = advisories::ecosystems_for("debian", "12");
    let packages = inventory(args.packages);
    let account = sqlx::query_scalar::<_, i64>("SELECT MIN(id) FROM accounts").fetch_one(&db.pool).await.unwrap();
    // The first match after an import builds the in-memory index (once per import and replica).
    let started = Instant::now();
    let index = advisories::index(db).await.unwrap();
    println!("{label:<10} index of {} advisory packages built in {:.1} s", index.len(), started.elapsed().as_secs_f64());
    let mut samples = Vec::new();
    let mut found = 0;
    for _ in 0..30 {
        let started = Instant::now();
        found = index.match_packages(advisories::FEED, account, &ecosystems, &packages).len();
        samples.push(started.elapsed());
    }
    println!("{label:<10} match {} packages against {} advisories ({found} matches), in memory: {}", args.packages, args.advisories, stats(samples));
    let mut samples = Vec::new();
    for _ in 0..30 {
        let started = Instant::now();
        advisories::match_packages(db, account, &ecosystems, &packages).await.unwrap();
        samples.push(started.elapsed());
    }
    println!("{label:<10}   the same through match_packages (with its version read): {}", stats(samples));
}

/// CPU ticks (1/100 s) of this process's threads, summed by thread name and nice value.
fn thread_cpu() -> Vec<(String, u64)> {
    let mut by_name: std::collections::BTreeMap<String, u64> = Default::default();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        let mut name = stat[open + 1..close].trim_end_matches(char::is_numeric).to_string();
        if fields[16] != "0" {
            name = format!("{name} (nice {})", fields[16]);
        }
        let ticks = fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
        *by_name.entry(name).or_default() += ticks;
    }
    by_name.into_iter().collect()
}

/// The quantile `q` of sorted samples, in ms.
fn ms_at(sorted: &[Duration], q: f64) -> f64 {
    support::quantile(sorted, q).as_secs_f64() * 1e3
}

/// Another account's Assets page (1,000 assets), rendered one request at a time through the
/// router: idle (1,000 renders after a warm-up), then for as long as an import of the whole feed
/// again runs beside it (every advisory rewritten, as a feed update does). The goal compares the
/// two p99s; the CPU each thread spent meanwhile shows where the import ran.
async fn pages_during_import(label: &str, url: &str, args: &Args) {
    let (db, router) = support::console(url).await;
    let mut conn = db.pool.acquire().await.unwrap();
    let other = bulwark::tenants::open_account(&mut conn, "Other", bulwark::editions::Edition::Enterprise, bulwark::auth::model::AccountKind::Cloud)
        .await
        .unwrap();
    drop(conn);
    let assets: Vec<bulwark::assets::model::AssetIn> = (0..1_000)
        .map(|n| serde_json::from_value(serde_json::json!({ "instance_id": format!("i-{n:05}"), "name": format!("web-{n:05}"), "ips": [format!("10.9.{}.{}", n / 256, n % 256)] })).unwrap())
        .collect();
    bulwark::assets::ingest::ingest_assets(&db, other.id, &Actor::System, &assets).await.unwrap();
    let cookie = support::admin_session(&db, &router, other.id).await;
    for _ in 0..20 {
        support::page(&router, &cookie, "/assets").await; // warm-up
    }
    let mut idle: Vec<Duration> = Vec::new();
    for _ in 0..1_000 {
        idle.push(support::page(&router, &cookie, "/assets").await.0);
    }
    let feed = feed(args.advisories);
    let threads_before = thread_cpu();
    let importing = {
        let db = db.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            advisories::import(&db, advisories::FEED, "bench", "synthetic", feed, bulwark::server::now()).await.unwrap();
            started.elapsed()
        })
    };
    let mut during: Vec<Duration> = Vec::new();
    while !importing.is_finished() {
        during.push(support::page(&router, &cookie, "/assets").await.0);
    }
    let took = importing.await.unwrap();
    let mut spent: Vec<(String, f64)> = thread_cpu()
        .into_iter()
        .map(|(name, ticks)| {
            let before = threads_before.iter().filter(|(n, _)| *n == name).map(|(_, t)| t).sum::<u64>();
            (name, (ticks.saturating_sub(before)) as f64 / 100.0)
        })
        .collect();
    spent.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!("{label:<10}   CPU by thread during it: {}", spent.iter().take(6).map(|(n, s)| format!("{n} {s:.2} s")).collect::<Vec<_>>().join(", "));
    idle.sort();
    during.sort();
    let line = |samples: &[Duration]| format!("median {:.2} ms, p95 {:.2} ms, p99 {:.2} ms", ms_at(samples, 0.5), ms_at(samples, 0.95), ms_at(samples, 0.99));
    println!("{label:<10} another account's Assets page, idle ({} renders): {}", idle.len(), line(&idle));
    println!(
        "{label:<10}   the same during an import of {} advisories ({:.1} s, {} renders): {}; p99 {:.2}x idle (goal <= 2x)",
        args.advisories,
        took.as_secs_f64(),
        during.len(),
        line(&during),
        ms_at(&during, 0.99) / ms_at(&idle, 0.99)
    );
}

/// The console as its own process, so its CPU and memory are its own.
struct Console {
    child: Child,
    base: String,
}

impl Drop for Console {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

async fn start_console(url: &str, data_dir: &std::path::Path) -> Console {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_bulwark"))
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_OUTPUT_NAME", "bulwark")
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("BULWARK_DATA_DIR", data_dir)
        .env("BULWARK_ADMIN_PASSWORD", "benchmark-password")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start bulwark serve");
    // Owned by `Console` at once, so every path below reaps it.
    let console = Console { child, base: format!("http://127.0.0.1:{port}") };
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if client.get(format!("{}/healthz", console.base)).send().await.is_ok_and(|r| r.status().is_success()) {
            return console;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the console did not start");
}

/// CPU seconds (user + system) and peak and current resident memory of a process.
fn usage(pid: u32) -> (f64, u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks: f64 = fields.get(11..13).map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()).unwrap_or(0.0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| status.lines().find_map(|l| l.strip_prefix(key)).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0);
    // USER_HZ is 100 on Linux.
    (ticks / 100.0, kib("VmHWM:"), kib("VmRSS:"))
}

#[derive(Default)]
struct Latencies {
    enroll: Vec<Duration>,
    first_inventory: Vec<Duration>,
    heartbeat: Vec<Duration>,
    inventory: Vec<Duration>,
    errors: usize,
}

async fn timed(request: reqwest::RequestBuilder) -> Result<(Duration, reqwest::Response), reqwest::Error> {
    let started = Instant::now();
    let response = request.send().await?.error_for_status()?;
    Ok((started.elapsed(), response))
}

async fn fleet(label: &str, url: &str, db: &Db, args: &Args) {
    let data_dir = tempfile::tempdir().unwrap();
    let console = start_console(url, data_dir.path()).await;
    let account = sqlx::query_scalar::<_, i64>("SELECT MIN(id) FROM accounts").fetch_one(&db.pool).await.unwrap();
    let input = EnrollmentTokenInput { name: "bench".into(), group: "Fleet".into(), expires_in_days: String::new() };
    let (_, token) = bulwark::assets::fleet::create_token(db, account, &Actor::System, &input, bulwark::server::now()).await.unwrap();
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.agents * 2).timeout(Duration::from_secs(120)).build().unwrap();
    let packages = Arc::new(inventory(args.packages));
    let latencies = Arc::new(std::sync::Mutex::new(Latencies::default()));
    let pid = console.child.id();

    // Phase 1: every agent enrolls and reports its packages, 50 at a time.
    let (cpu_before, _, _) = usage(pid);
    let started = Instant::now();
    let limit = Arc::new(tokio::sync::Semaphore::new(50));
    let mut credentials = Vec::new();
    let mut tasks = Vec::new();
    for n in 0..args.agents {
        let (client, base, token, packages, latencies, limit) =
            (client.clone(), console.base.clone(), token.clone(), packages.clone(), latencies.clone(), limit.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            let enroll = EnrollRequest { facts: facts(n), group: None, allow_fix: false, agent_version: "bench".into() };
            let (took, response) = timed(client.post(format!("{base}/api/v1/agent/enroll")).bearer_auth(&token).json(&enroll)).await.unwrap();
            let credential = response.json::<EnrollResponse>().await.unwrap().credential;
            let report = InventoryReport { facts: facts(n), package_manager: PackageManager::Dpkg, packages: (*packages).clone() };
            let (took_inventory, _) =
                timed(client.post(format!("{base}/api/v1/agent/inventory")).bearer_auth(&credential).json(&report)).await.unwrap();
            let mut l = latencies.lock().unwrap();
            l.enroll.push(took);
            l.first_inventory.push(took_inventory);
            credential
        }));
    }
    for task in tasks {
        credentials.push(task.await.unwrap());
    }
    let enrolled_in = started.elapsed();
    let (cpu_after, peak_kib, _) = usage(pid);
    let findings = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM findings").fetch_one(&db.pool).await.unwrap();
    {
        let l = latencies.lock().unwrap();
        println!(
            "{label:<10} {} agents enrolled and reported {} packages each in {:.1} s ({findings} findings); console CPU {:.0}% of one core, peak RSS {} MiB",
            args.agents,
            args.packages,
            enrolled_in.as_secs_f64(),
            100.0 * (cpu_after - cpu_before) / enrolled_in.as_secs_f64(),
            peak_kib / 1024
        );
        println!("{label:<10}   enroll: {}", stats_p99(l.enroll.clone()));
        println!("{label:<10}   first inventory: {}", stats_p99(l.first_inventory.clone()));
    }

    // Phase 2: steady state. Every agent keeps a long poll open and heartbeats every
    // `--heartbeat` seconds (the product's 60 by default) between polls, on the same connection;
    // as many agents as report in the window
    // at the product's inventory interval (`--inventory`, 4 hours) report their unchanged
    // inventory once, at a random moment.
    let window = Duration::from_secs(args.seconds);
    let heartbeat = args.heartbeat.max(1);
    let reporters = (args.agents as u64 * args.seconds).div_ceil(args.inventory.max(1)) as usize;
    let (cpu_before, _, _) = usage(pid);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (n, credential) in credentials.into_iter().enumerate() {
        let (client, base, packages, latencies) = (client.clone(), console.base.clone(), packages.clone(), latencies.clone());
        tasks.push(tokio::spawn(async move {
            // As the agent does (`agent::client`): one request at a time, so one connection per
            // agent: a heartbeat when due, the inventory when due, else a long poll that waits no
            // longer than the next heartbeat.
            let deadline = tokio::time::Instant::now() + window;
            // Spread the agents' beats and reports over the window.
            let offset = Duration::from_millis((n as u64 * 7919) % (heartbeat * 1000));
            let report_at = tokio::time::Instant::now() + Duration::from_millis((n as u64 * 104_729) % window.as_millis().max(1) as u64);
            let mut next_beat = tokio::time::Instant::now() + offset;
            let mut reported = n >= reporters;
            while tokio::time::Instant::now() < deadline {
                let now = tokio::time::Instant::now();
                if !reported && now >= report_at {
                    reported = true;
                    let report = InventoryReport { facts: facts(n), package_manager: PackageManager::Dpkg, packages: (*packages).clone() };
                    let result = timed(client.post(format!("{base}/api/v1/agent/inventory")).bearer_auth(&credential).json(&report)).await;
                    let mut l = latencies.lock().unwrap();
                    match result {
                        Ok((took, _)) => l.inventory.push(took),
                        Err(_) => l.errors += 1,
                    }
                    continue;
                }
                if now >= next_beat {
                    let beat = Heartbeat { agent_version: "bench".into() };
                    let result = timed(client.post(format!("{base}/api/v1/agent/heartbeat")).bearer_auth(&credential).json(&beat)).await;
                    let mut l = latencies.lock().unwrap();
                    match result {
                        Ok((took, _)) => l.heartbeat.push(took),
                        Err(_) => l.errors += 1,
                    }
                    next_beat += Duration::from_secs(heartbeat);
                    continue;
                }
                // The poll ends at the next heartbeat, the report or the window's end, whichever is first.
                let until = if reported { next_beat } else { next_beat.min(report_at) }.min(deadline);
                let wait = until.saturating_duration_since(now).as_secs_f64().ceil().clamp(1.0, MAX_POLL_SECS as f64) as u64;
                let poll = client.get(format!("{base}/api/v1/agent/jobs?wait={wait}")).bearer_auth(&credential).send();
                let _ = tokio::time::timeout_at(deadline, poll).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed();
    let (cpu_after, peak_kib, rss_kib) = usage(pid);
    let l = latencies.lock().unwrap();
    println!(
        "{label:<10} steady state, {} agents for {} s with long polls open: console CPU {:.1}% of one core, peak RSS {} MiB (now {} MiB), {} errors",
        args.agents,
        args.seconds,
        100.0 * (cpu_after - cpu_before) / elapsed.as_secs_f64(),
        peak_kib / 1024,
        rss_kib / 1024,
        l.errors
    );
    println!("{label:<10}   heartbeat ({}): {}", l.heartbeat.len(), stats_p99(l.heartbeat.clone()));
    println!("{label:<10}   unchanged inventory ({}): {}", l.inventory.len(), stats_p99(l.inventory.clone()));
}

fn stats_p99(mut samples: Vec<Duration>) -> String {
    if samples.is_empty() {
        return "no samples".into();
    }
    samples.sort();
    let p99 = ms_at(&samples, 0.99);
    format!("{}, p99 {p99:>8.1} ms", stats(samples))
}

async fn run(label: &'static str, url: &str, args: &Args) {
    let db = Db::open(url).await.expect("open database");
    let mut conn = db.pool.acquire().await.unwrap();
    bulwark::tenants::open_account(&mut conn, "Bench", bulwark::editions::Edition::Enterprise, bulwark::auth::model::AccountKind::Cloud)
        .await
        .unwrap();
    drop(conn);
    matching(label, &db, args).await;
    pages_during_import(label, url, args).await;
    if args.fleet {
        fleet(label, url, &db, args).await;
    }
}

#[tokio::main]
async fn main() {
    let args = args();
    on_each_database(args.pg.as_deref(), |label, url| {
        let args = &args;
        async move { run(label, &url, args).await }
    })
    .await;
}
