//! Ingestion, Assets-page and reports benchmark (not a test): loads assets and findings through
//! the ingestion API into SQLite, and into PostgreSQL when a server is given, then measures the
//! Assets page's server render and search at that size, generating one report with every
//! section (data, HTML, PNG charts and PDF), and planning the due deliveries of 10,000 reports.
//!
//! cargo bench --features ssr --bench ingest -- [--assets 100000] [--findings 1000000] [--pg postgres://…/postgres]

mod support;

use support::{admin_session, console, on_each_database, page, send, server_fn, stats};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};

use bulwark::editions::Edition;
use bulwark::auth::model::AccountKind;
use bulwark::server::db::Db;

const ASSET_BATCH: usize = 5_000;
const FINDING_BATCH: usize = 5_000;
/// Batches whose bodies are built before each timed round (500,000 findings, about 170 MB).
const ROUND: usize = 100;
const VULNERABILITIES: usize = 2_000;
/// A fixed "now" for the findings' times: 90 days of history end here.
const BASE_TIME: i64 = 1_796_000_000;

struct Args {
    assets: usize,
    findings: usize,
    pg: Option<String>,
}

fn args() -> Args {
    let mut args = Args { assets: 100_000, findings: 1_000_000, pg: std::env::var("BULWARK_BENCH_PG_URL").ok() };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--assets" => args.assets = it.next().and_then(|v| v.parse().ok()).expect("--assets N"),
            "--findings" => args.findings = it.next().and_then(|v| v.parse().ok()).expect("--findings N"),
            "--pg" => args.pg = it.next(),
            _ => {} // cargo bench passes --bench
        }
    }
    args
}

async fn post_json(router: &Router, token: &str, path: &str, body: Value) {
    post_body(router, token, path, body.to_string()).await;
}

async fn post_body(router: &Router, token: &str, path: &str, body: String) {
    let request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    let (status, body) = send(router, request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
}

async fn run(label: &str, url: &str, args: &Args) {
    println!("\n== {label}: {} assets, {} findings", args.assets, args.findings);
    let (db, router) = console(url).await;

    // A database kept from an earlier run (BULWARK_BENCH_KEEP) already holds the load.
    let kept = sqlx::query_scalar::<_, i64>("SELECT id FROM accounts WHERE name = 'Benchmark'").fetch_optional(&db.pool).await.unwrap();
    if let Some(account_id) = kept {
        println!("(reusing the kept database: no load, no planning)");
        let cookie = admin_session(&db, &router, account_id).await;
        pages(&db, &router, &cookie, account_id).await;
        report_data(&db, account_id).await;
        return;
    }
    let mut conn = db.pool.acquire().await.unwrap();
    let account = bulwark::tenants::open_account(&mut conn, "Benchmark", Edition::Enterprise, AccountKind::Cloud).await.unwrap();
    drop(conn);
    let cookie = admin_session(&db, &router, account.id).await;
    let (_, body) = send(&router, server_fn(&cookie, "create_token", "name=bench".into())).await;
    let token = serde_json::from_slice::<Value>(&body).unwrap()["token"].as_str().unwrap().to_string();

    let start = Instant::now();
    for chunk_start in (0..args.assets).step_by(ASSET_BATCH) {
        let assets: Vec<Value> = (chunk_start..(chunk_start + ASSET_BATCH).min(args.assets))
            .map(|i| {
                json!({
                    "instance_id": format!("i-{i:08}"), "name": format!("host-{i:06}"),
                    "ips": [format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256)],
                    "os": "Debian GNU/Linux 12", "region": "eu-central-1", "group": format!("group-{:02}", i % 40),
                    "agent_status": "online"
                })
            })
            .collect();
        post_json(&router, &token, "/api/v1/assets", json!({ "assets": assets })).await;
    }
    let took = start.elapsed();
    println!("assets ingested     {:>9} rows in {:>7.1} s = {:>8.0} rows/s", args.assets, took.as_secs_f64(), args.assets as f64 / took.as_secs_f64());

    ingest_findings(&db, &router, &token, args).await;
    if db.kind == bulwark::server::db::DbKind::Postgres {
        // What autovacuum does within a minute of a load this size: fresh statistics for the
        // planner, so the figures below do not depend on when its worker happened to run.
        sqlx::query("VACUUM ANALYZE").execute(&db.pool).await.unwrap();
    }

    pages(&db, &router, &cookie, account.id).await;
    report_benchmarks(&db, account.id).await;
}

/// The Assets and Overview pages' server render, 30 samples each after a warm-up.
async fn pages(db: &Db, router: &Router, cookie: &str, account_id: i64) {
    // Page 2,000 as its "Next" link from page 1,999 names it: after that page's last asset.
    let after = sqlx::query_scalar::<_, i64>("SELECT id FROM assets WHERE account_id = $1 ORDER BY name, id LIMIT 1 OFFSET 39979")
        .bind(account_id)
        .fetch_optional(&db.pool)
        .await
        .unwrap()
        .unwrap_or(0);
    for (what, path) in [
        ("Assets page (first page)", "/assets".to_string()),
        ("Assets page (page 2000)", format!("/assets?page=2000&after={after}")),
        ("Assets page 2000 by OFFSET", "/assets?page=2000".to_string()),
        ("Assets search by name", "/assets?q=host-09999".to_string()),
        ("Assets search by IP", "/assets?q=10.1.134.".to_string()),
        ("Overview page", "/".to_string()),
    ] {
        page(router, cookie, &path).await; // warm-up
        let mut samples = Vec::new();
        let mut bytes = 0;
        for _ in 0..30 {
            let (took, size) = page(router, cookie, &path).await;
            samples.push(took);
            bytes = size;
        }
        println!("{what:<26} {}  ({} KB of HTML)", stats(samples), bytes / 1024);
    }
}

/// The n-th finding of the load: `per_asset` findings on each asset, drawn from a catalogue of
/// 2,000 vulnerabilities with a real spread of severities (5% critical, 20% high, 45% medium,
/// 30% low) and kinds, first seen over the last 90 days; about one in six already fixed and
/// one in thirty ignored. Deterministic: the same n gives the same finding on every run.
fn finding(n: usize, per_asset: usize) -> Value {
    let asset = n / per_asset;
    let slot = n % per_asset;
    let vuln = (asset * 7919 + slot * 104_729) % VULNERABILITIES;
    let hash = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    let severity = match vuln % 20 {
        0 => "critical",
        1..=4 => "high",
        5..=13 => "medium",
        _ => "low",
    };
    let category = ["linux", "linux", "linux", "linux", "windows", "web_cms"][vuln % 6];
    let status = match hash % 30 {
        0..=4 => "fixed",
        5 => "ignored",
        _ => "unfixed",
    };
    let seen_at = BASE_TIME - (hash % (90 * 86_400)) as i64;
    json!({
        "instance_id": format!("i-{asset:08}"), "advisory_id": format!("CVE-2024-{vuln:05}"),
        "title": format!("Vulnerability {vuln} in package-{}", vuln % 300), "severity": severity,
        "category": category, "package": format!("package-{}", vuln % 300),
        "installed_version": format!("1.{}.0", vuln % 7), "fix": "Upgrade to the fixed version",
        "status": status, "seen_at": seen_at
    })
}

/// The process's peak resident memory so far (VmHWM).
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok());
    kb.unwrap_or(0.0) / 1024.0
}

/// Loads `args.findings` findings through the API in batches of 5,000, bodies built before each
/// timed round; then, as the engine's own limit, a bare multi-row insert of the same rows (500
/// rows to a statement, one transaction per 5,000, no index but the key, no trigger).
async fn ingest_findings(db: &Db, router: &Router, token: &str, args: &Args) {
    let per_asset = args.findings.div_ceil(args.assets.max(1));
    let batches = args.findings.div_ceil(FINDING_BATCH);
    let mut samples = Vec::new();
    let mut busy = Duration::ZERO;
    let mut peak_rss: f64 = 0.0;
    let mut body_mib: f64 = 0.0;
    for round in (0..batches).step_by(ROUND) {
        let bodies: Vec<String> = (round..(round + ROUND).min(batches))
            .map(|b| {
                let range = b * FINDING_BATCH..((b + 1) * FINDING_BATCH).min(args.findings);
                json!({ "findings": range.map(|n| finding(n, per_asset)).collect::<Vec<_>>() }).to_string()
            })
            .collect();
        body_mib = body_mib.max(bodies.iter().map(String::len).sum::<usize>() as f64 / 1_048_576.0);
        for body in bodies {
            let start = Instant::now();
            post_body(router, token, "/api/v1/findings", body).await;
            let took = start.elapsed();
            busy += took;
            samples.push(took);
        }
        peak_rss = peak_rss.max(rss_mib());
    }
    let rate = |d: Duration| FINDING_BATCH as f64 / d.as_secs_f64();
    let (median, p95) = quantiles(&samples);
    println!(
        "findings ingested   {:>9} rows in {:>7.1} s = {:>8.0} rows/s; per batch of {FINDING_BATCH}: median {:.0} rows/s, p95 {:.0} rows/s ({} batches)",
        args.findings,
        busy.as_secs_f64(),
        args.findings as f64 / busy.as_secs_f64(),
        rate(median),
        rate(p95),
        samples.len()
    );
    println!("process peak RSS (VmHWM) through the load: {peak_rss:.0} MiB, of which up to {body_mib:.0} MiB are the bench's prebuilt request bodies");

    // The engine's bare rate for the same rows, in the same run.
    let key = if db.kind == bulwark::server::db::DbKind::Sqlite { "INTEGER PRIMARY KEY" } else { "BIGSERIAL PRIMARY KEY" };
    sqlx::query(&format!(
        "CREATE TABLE bench_bare_findings (id {key}, account_id BIGINT, instance_id TEXT, advisory_id TEXT,
         package TEXT, status TEXT, installed_version TEXT, seen_at BIGINT, resolved_at BIGINT)"
    ))
    .execute(&db.pool)
    .await
    .unwrap();
    let bare_batches = batches.clamp(1, 40);
    let mut bare = Vec::new();
    for b in 0..bare_batches {
        let rows: Vec<Value> = (b * FINDING_BATCH..(b + 1) * FINDING_BATCH).map(|n| finding(n, per_asset)).collect();
        let start = Instant::now();
        let mut tx = db.begin_write().await.unwrap();
        for chunk in rows.chunks(500) {
            // The same bind markers as the console's bulk writes (positional on SQLite).
            let values = bulwark::server::db::marker_rows(db.kind == bulwark::server::db::DbKind::Sqlite, 1, chunk.len(), 8);
            let sql = format!(
                "INSERT INTO bench_bare_findings (account_id, instance_id, advisory_id, package, status, installed_version, seen_at, resolved_at) VALUES {values}"
            );
            let mut query = sqlx::query(&sql);
            for f in chunk {
                let seen_at = f["seen_at"].as_i64().unwrap();
                let resolved = (f["status"] != "unfixed").then_some(seen_at);
                query = query
                    .bind(1_i64)
                    .bind(f["instance_id"].as_str().unwrap().to_string())
                    .bind(f["advisory_id"].as_str().unwrap().to_string())
                    .bind(f["package"].as_str().unwrap().to_string())
                    .bind(f["status"].as_str().unwrap().to_string())
                    .bind(f["installed_version"].as_str().unwrap().to_string())
                    .bind(seen_at)
                    .bind(resolved);
            }
            query.execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
        bare.push(start.elapsed());
    }
    let (bare_median, bare_p95) = quantiles(&bare);
    println!(
        "bare multi-row insert (limit) per batch of {FINDING_BATCH}: median {:.0} rows/s, p95 {:.0} rows/s ({} batches); API/bare = {:.2}",
        rate(bare_median),
        rate(bare_p95),
        bare.len(),
        rate(median) / rate(bare_median)
    );
}

/// The median and the 95th percentile (the slower end) of some durations.
fn quantiles(samples: &[Duration]) -> (Duration, Duration) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    (support::quantile(&sorted, 0.5), support::quantile(&sorted, 0.95))
}

/// One weekly report of the benchmark account, and the scheduler's planning of 10,000 reports.
/// The whole report's data, 30 samples, and where its time goes: the summary with the scores
/// alone, then each section alone (a few samples each, for profiling).
async fn report_data(db: &Db, account_id: i64) -> bulwark::reports::document::ReportDocument {
    use bulwark::reports::generate;
    use bulwark::reports::model::Section;
    use bulwark::reports::schedule::local_date;

    let tz = chrono_tz::UTC;
    // The last week of the findings' 90 days, so every section has rows.
    let today = local_date(tz, BASE_TIME);
    let period = (today - chrono::Days::new(6), today);
    let time = |sections: &'static [Section], samples: usize| async move {
        let mut taken = Vec::new();
        let mut document = None;
        for _ in 0..samples {
            let start = Instant::now();
            let request = generate::Request { account_id, report_name: "Benchmark", sections, tz, period, generated_at: BASE_TIME, members: &[], language: bulwark::locale::Locale::en };
            document = Some(generate::build(db, &request).await.unwrap());
            taken.push(start.elapsed());
        }
        (stats(taken), document.unwrap())
    };
    let (figure, document) = time(&Section::ALL, 30).await;
    println!("report data (all sections)  {figure}");
    let (figure, _) = time(&[], 5).await;
    println!("  of which summary + scores {figure}  (5 samples)");
    for section in Section::ALL.iter() {
        let (figure, _) = time(std::slice::from_ref(section), 5).await;
        println!("  with {:<21} {figure}  (5 samples)", format!("{section:?}"));
    }
    document
}

async fn report_benchmarks(db: &Db, account_id: i64) {
    use bulwark::reports::{delivery, repo};

    let tz = chrono_tz::UTC;
    let now = BASE_TIME;
    let document = report_data(db, account_id).await;
    let mut samples = Vec::new();
    let mut size = 0;
    for _ in 0..30 {
        let start = Instant::now();
        let mail = delivery::compose(&document, vec!["a@bulwark.local".into()], "http://localhost").await.unwrap();
        samples.push(start.elapsed());
        size = mail.attachments[0].2.len() + mail.inline_png.iter().map(|(_, p)| p.len()).sum::<usize>();
    }
    println!("report HTML+PNG+PDF render  {}  ({} KB of images and PDF)", stats(samples), size / 1024);

    // 10,000 reports (1,000 accounts x 10) all due now: the planning pass of the scheduler.
    let mut conn = db.pool.acquire().await.unwrap();
    for a in 0..1_000 {
        let account = bulwark::tenants::open_account(&mut conn, &format!("Tenant {a}"), Edition::Advanced, AccountKind::Cloud).await.unwrap();
        for r in 0..9 {
            sqlx::query(
                "INSERT INTO reports (account_id, name, kind, send_window, recipients, sections, enabled, is_default, created_at, updated_at)
                 VALUES ($1, $2, $3, '06-12', 'ops@tenant.test', 'assets', 1, 0, $4, $4)",
            )
            .bind(account.id)
            .bind(format!("Report {r}"))
            .bind(["daily", "weekly", "monthly"][r % 3])
            .bind(now)
            .execute(&mut *conn)
            .await
            .unwrap();
        }
    }
    drop(conn);
    // Every report is planned (next send computed) once, then made due and materialised.
    let start = Instant::now();
    let mut planned = 0;
    loop {
        let due = repo::due_reports(db, now, 1000).await.unwrap();
        if due.is_empty() {
            break;
        }
        for row in &due {
            repo::materialize(db, row, now).await.unwrap();
            planned += 1;
        }
    }
    let took = start.elapsed();
    println!("planning {planned} reports       {:>7.1} s = {:>8.0} reports/s", took.as_secs_f64(), planned as f64 / took.as_secs_f64());
    // Pretend the clock jumped a week: every one is due; time turning them into deliveries.
    let later = now + 8 * 86_400;
    let start = Instant::now();
    let due = repo::due_reports(db, later, 20_000).await.unwrap();
    let query_took = start.elapsed();
    let mut materialized = 0;
    for row in &due {
        if repo::materialize(db, row, later).await.unwrap().is_some() {
            materialized += 1;
        }
    }
    let took = start.elapsed();
    println!(
        "due deliveries: {} due found in {:.0} ms; {} deliveries created in {:.1} s = {:.0}/s",
        due.len(),
        query_took.as_secs_f64() * 1e3,
        materialized,
        took.as_secs_f64(),
        materialized as f64 / took.as_secs_f64()
    );
    let start = Instant::now();
    let mut n = 0;
    for row in &due {
        if row.report.schedule(tz).next_after(later).is_some() {
            n += 1;
        }
    }
    println!("next-send computation for {n} reports in memory: {:.1} ms", start.elapsed().as_secs_f64() * 1e3);
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
