//! Ingestion, Assets-page and reports benchmark (not a test): loads assets and findings through
//! the ingestion API into SQLite, and into PostgreSQL when a server is given, then measures the
//! Assets page's server render and search at that size, generating one report with every
//! section (data, HTML, PNG charts and PDF), and planning the due deliveries of 10,000 reports.
//!
//! cargo bench --features ssr --bench ingest -- [--assets 100000] [--findings 1000000] [--pg postgres://…/postgres]

mod support;

use support::{admin_session, console, on_each_database, send, server_fn, stats};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};

use bulwark::editions::Edition;
use bulwark::auth::model::AccountKind;
use bulwark::server::db::Db;

const ASSET_BATCH: usize = 5_000;
const FINDING_BATCH: usize = 10_000;
const VULNERABILITIES: usize = 500;

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
    let request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, body) = send(router, request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
}

async fn page(router: &Router, cookie: &str, path: &str) -> (Duration, usize) {
    let request = Request::builder()
        .uri(path)
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let start = Instant::now();
    let (status, body) = send(router, request).await;
    assert_eq!(status, StatusCode::OK);
    (start.elapsed(), body.len())
}

async fn run(label: &str, url: &str, args: &Args) {
    println!("\n== {label}: {} assets, {} findings", args.assets, args.findings);
    let (db, router) = console(url).await;

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

    let per_asset = args.findings.div_ceil(args.assets.max(1));
    let start = Instant::now();
    let mut sent = 0;
    while sent < args.findings {
        let findings: Vec<Value> = (sent..(sent + FINDING_BATCH).min(args.findings))
            .map(|n| {
                let asset = n / per_asset;
                let vuln = (asset * 7 + n % per_asset * 13) % VULNERABILITIES;
                let severity = ["critical", "high", "medium", "low"][vuln % 4];
                let category = ["linux", "windows", "web_cms"][vuln % 3];
                json!({
                    "instance_id": format!("i-{asset:08}"), "advisory_id": format!("CVE-2024-{:05}", vuln),
                    "title": format!("Vulnerability {vuln} in package-{}", vuln % 50), "severity": severity,
                    "category": category, "package": format!("package-{}", vuln % 50),
                    "installed_version": "1.0.0", "fix": "Upgrade to 1.0.1"
                })
            })
            .collect();
        sent += findings.len();
        post_json(&router, &token, "/api/v1/findings", json!({ "findings": findings })).await;
    }
    let took = start.elapsed();
    println!("findings ingested   {:>9} rows in {:>7.1} s = {:>8.0} rows/s", args.findings, took.as_secs_f64(), args.findings as f64 / took.as_secs_f64());
    if db.kind == bulwark::server::db::DbKind::Postgres {
        // What autovacuum does within a minute of a load this size: fresh statistics for the
        // planner, so the figures below do not depend on when its worker happened to run.
        sqlx::query("VACUUM ANALYZE").execute(&db.pool).await.unwrap();
    }

    for (what, path) in [
        ("Assets page (first page)", "/assets".to_string()),
        ("Assets page (page 2000)", "/assets?page=2000".to_string()),
        ("Assets search by name", "/assets?q=host-09999".to_string()),
        ("Assets search by IP", "/assets?q=10.1.134.".to_string()),
        ("Overview page", "/".to_string()),
    ] {
        page(&router, &cookie, &path).await; // warm-up
        let mut samples = Vec::new();
        let mut bytes = 0;
        for _ in 0..30 {
            let (took, size) = page(&router, &cookie, &path).await;
            samples.push(took);
            bytes = size;
        }
        println!("{what:<26} {}  ({} KB of HTML)", stats(samples), bytes / 1024);
    }
    report_benchmarks(&db, account.id).await;
}

/// One weekly report of the benchmark account, and the scheduler's planning of 10,000 reports.
async fn report_benchmarks(db: &Db, account_id: i64) {
    use bulwark::reports::model::Section;
    use bulwark::reports::schedule::local_date;
    use bulwark::reports::{delivery, generate, repo};

    let tz = chrono_tz::UTC;
    let now = bulwark::server::now();
    // The week the data was ingested in, so every section has rows.
    let today = local_date(tz, now);
    let period = (today - chrono::Days::new(6), today);
    let mut samples = Vec::new();
    let mut document = None;
    for _ in 0..3 {
        let start = Instant::now();
        let request = generate::Request { account_id, report_name: "Benchmark", sections: &Section::ALL, tz, period, generated_at: now, members: &[] };
        document = Some(generate::build(db, &request).await.unwrap());
        samples.push(start.elapsed());
    }
    println!("report data (all sections)  {}", stats(samples));
    let document = document.unwrap();
    let mut samples = Vec::new();
    let mut size = 0;
    for _ in 0..5 {
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
