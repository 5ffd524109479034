//! Multi-account Control benchmark (not a test): 1,000 managed accounts with 1,000 assets (and as
//! many findings) each, on SQLite and, with --pg, PostgreSQL. Times the page's server render (its
//! first and last page of 50) and the score computation over every account.
//!
//! cargo bench --features ssr --bench multi_account -- [--accounts 1000] [--assets 1000] [--pg postgres://…/postgres]

#[allow(dead_code)] // the other benchmarks use the rest
mod support;

use support::{admin_session, console, on_each_database, stats};
use std::time::Instant;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use bulwark::editions::Edition;
use bulwark::auth::model::AccountKind;

struct Args {
    accounts: i64,
    assets: i64,
    pg: Option<String>,
}

fn args() -> Args {
    let mut args = Args { accounts: 1_000, assets: 1_000, pg: std::env::var("BULWARK_BENCH_PG_URL").ok() };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--accounts" => args.accounts = it.next().and_then(|v| v.parse().ok()).expect("--accounts N"),
            "--assets" => args.assets = it.next().and_then(|v| v.parse().ok()).expect("--assets N"),
            "--pg" => args.pg = it.next(),
            _ => {}
        }
    }
    args
}

async fn run(label: &str, url: &str, args: &Args) {
    println!("\n== {label}: {} managed accounts x {} assets (and findings)", args.accounts, args.assets);
    let (db, router) = console(url).await;

    // A database kept from an earlier run (BULWARK_BENCH_KEEP) is measured as it is.
    let kept = sqlx::query_scalar::<_, i64>("SELECT id FROM accounts WHERE name = 'Holding'").fetch_optional(&db.pool).await.unwrap();
    let holding_id = match kept {
        Some(id) => {
            println!("(reusing the kept database: no seeding)");
            id
        }
        None => seed(&db, args).await,
    };
    measure(&db, &router, holding_id).await;
}

/// The management account and its members with their assets, findings and alerts; its id.
async fn seed(db: &bulwark::server::db::Db, args: &Args) -> i64 {
    let mut conn = db.pool.acquire().await.unwrap();
    let holding = bulwark::tenants::open_account(&mut conn, "Holding", Edition::Enterprise, AccountKind::Cloud).await.unwrap();
    sqlx::query("INSERT INTO authorizations (account_id, service, granted_at) VALUES ($1, 'resource_directory', 0)")
        .bind(holding.id)
        .execute(&mut *conn)
        .await
        .unwrap();

    let start = Instant::now();
    for n in 0..args.accounts {
        let member = bulwark::tenants::open_account(&mut conn, &format!("Tenant {n:04}"), Edition::Advanced, AccountKind::Resource).await.unwrap();
        sqlx::query("INSERT INTO directory_members (member_account_id, management_account_id, joined_by, joined_at) VALUES ($1, $2, 'created', 0)")
            .bind(member.id)
            .bind(holding.id)
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO managed_accounts (management_account_id, member_account_id, added_at) VALUES ($1, $2, 0)")
            .bind(holding.id)
            .bind(member.id)
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    // Bulk rows per account: assets, ten vulnerabilities, one finding per asset, a few alerts.
    let numbers = format!("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {}) SELECT n FROM c", args.assets);
    for sql in [
        format!(
            "INSERT INTO assets (account_id, instance_id, name, ips, agent_status, created_at, updated_at)
             SELECT a.id, 'i-' || CAST(c.n AS TEXT), 'host-' || CAST(c.n AS TEXT), '10.0.0.1', 'online', 0, 0
             FROM accounts a CROSS JOIN ({numbers}) c WHERE a.kind = 'resource'"
        ),
        "INSERT INTO vulnerabilities (account_id, advisory_id, package, title, severity, category)
         SELECT a.id, 'CVE-2026-' || CAST(c.n AS TEXT), 'pkg', 'flaw', CASE c.n % 4 WHEN 0 THEN 'critical' WHEN 1 THEN 'high' WHEN 2 THEN 'medium' ELSE 'low' END, 'linux'
         FROM accounts a CROSS JOIN (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 10) SELECT n FROM c) c WHERE a.kind = 'resource'"
            .to_string(),
        "INSERT INTO findings (account_id, asset_id, vulnerability_id, status, first_seen_at, last_seen_at)
         SELECT s.account_id, s.id, v.id, 'unfixed', 0, 0 FROM assets s
         JOIN vulnerabilities v ON v.account_id = s.account_id AND v.advisory_id = 'CVE-2026-' || CAST(s.id % 10 + 1 AS TEXT)"
            .to_string(),
        "INSERT INTO alerts (account_id, asset_id, name, alert_type, severity, status, occurred_at)
         SELECT s.account_id, s.id, 'Brute force', 'login', 'high', 'unhandled', 0 FROM assets s WHERE s.id % 200 = 0"
            .to_string(),
    ] {
        sqlx::query(&sql).execute(&mut *conn).await.unwrap();
    }
    drop(conn);
    let findings = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM findings").fetch_one(&db.pool).await.unwrap();
    println!("seeded in {:.1} s ({findings} findings)", start.elapsed().as_secs_f64());
    holding.id
}

/// Every account's score one after another, then the page's first and last page, 30 renders each.
async fn measure(db: &bulwark::server::db::Db, router: &axum::Router, holding: i64) {
    let db = db.clone();
    let cookie = admin_session(&db, router, holding).await;

    let ids = sqlx::query_scalar::<_, i64>("SELECT member_account_id FROM managed_accounts WHERE management_account_id = $1")
        .bind(holding)
        .fetch_all(&db.pool)
        .await
        .unwrap();
    let start = Instant::now();
    for id in &ids {
        let risks = bulwark::overview::repo::risk_counts(&db, *id, bulwark::server::now()).await.unwrap();
        let weights = bulwark::overview::repo::weights(&db, *id).await.unwrap();
        std::hint::black_box(bulwark::overview::score::security_score(&risks, &weights));
    }
    let took = start.elapsed();
    println!("scores of {} accounts        {:>8.0} ms ({:.2} ms per account)", ids.len(), took.as_secs_f64() * 1e3, took.as_secs_f64() * 1e3 / ids.len() as f64);

    let last = (ids.len() as i64 + 49) / 50;
    for (label, uri) in [("first page".to_string(), "/operation/multi-account".to_string()), (format!("page {last}"), format!("/operation/multi-account?page={last}"))] {
        let mut samples = Vec::new();
        let mut size = 0;
        for i in 0..31 {
            let request = Request::builder().uri(&uri).header(header::ACCEPT, "text/html").header(header::COOKIE, &cookie).body(Body::empty()).unwrap();
            let start = Instant::now();
            let response = router.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            size = response.into_body().collect().await.unwrap().to_bytes().len();
            if i > 0 {
                samples.push(start.elapsed());
            }
        }
        println!("Multi-account Control, {label:<10} {}  ({} KB of HTML)", stats(samples), size / 1024);
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
