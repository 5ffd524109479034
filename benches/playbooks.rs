//! Playbook benchmark (not a test): one dry-run task over 5,000 hosts whose agents are simulated
//! in this process (each polls for its job and posts a simulated result through the real agent
//! API), on SQLite and, with --pg, PostgreSQL. Times the fan-out and roll-up by the engine, and
//! the server render of Task Management and of the task's Details page.
//!
//! cargo bench --features ssr --bench playbooks -- [--hosts 5000] [--pg postgres://…/postgres]

#[allow(dead_code)] // the other benchmarks use the rest
mod support;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};

use bulwark::editions::Edition;
use bulwark::auth::model::AccountKind;
use bulwark::server::crypto::hash_token;
use support::{admin_session, console, on_each_database, send, server_fn, stats};

struct Args {
    hosts: i64,
    pg: Option<String>,
}

fn args() -> Args {
    let mut args = Args { hosts: 5_000, pg: std::env::var("BULWARK_BENCH_PG_URL").ok() };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--hosts" => args.hosts = it.next().and_then(|v| v.parse().ok()).expect("--hosts N"),
            "--pg" => args.pg = it.next(),
            "--small" => args.hosts = 50,
            _ => {} // cargo bench passes --bench
        }
    }
    args
}

fn credential(n: i64) -> String {
    format!("bagt_bench{n:059}")
}

async fn page(router: &axum::Router, cookie: &str, path: &str) -> Duration {
    let request = Request::builder().uri(path).header(header::COOKIE, cookie).header(header::ACCEPT, "text/html").body(Body::empty()).unwrap();
    let started = Instant::now();
    let (status, _) = send(router, request).await;
    assert_eq!(status, StatusCode::OK, "{path}");
    started.elapsed()
}

async fn run(label: &str, url: &str, args: &Args) {
    println!("\n== {label}: a dry-run task over {} hosts", args.hosts);
    let (db, router) = console(url).await;
    let state = {
        let config = bulwark::server::config::Config::new(url.to_string(), std::env::temp_dir().join("bulwark-bench"));
        bulwark::server::AppState::new(
            leptos::prelude::LeptosOptions::builder().output_name("bulwark").site_root("target/site").build(),
            db.clone(),
            config,
            bulwark::server::secrets::Secrets::from_key(&[1; 32]),
        )
    };
    let mut conn = db.pool.acquire().await.unwrap();
    let account = bulwark::tenants::open_account(&mut conn, "Fleet", Edition::Enterprise, AccountKind::Cloud).await.unwrap().id;
    drop(conn);

    // Hosts with agents, an inventory each and one open finding, seeded with plain SQL.
    let started = Instant::now();
    let mut tx = db.pool.begin().await.unwrap();
    let vulnerability = sqlx::query_scalar::<_, i64>(
        "INSERT INTO vulnerabilities (account_id, advisory_id, package, title, severity, category) VALUES ($1, 'DSA-1-1', 'openssl', 'openssl', 'high', 'linux') RETURNING id",
    )
    .bind(account)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let packages = r#"[{"name":"libssl3","version":"3.0.11-1","arch":"amd64","source":"openssl","source_version":"3.0.11-1"}]"#;
    let mut assets = Vec::new();
    for n in 0..args.hosts {
        let asset = sqlx::query_scalar::<_, i64>(
            "INSERT INTO assets (account_id, instance_id, name, ips, os, agent_status, last_seen_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, 'Debian GNU/Linux 12', 'online', 0, 0, 0) RETURNING id",
        )
        .bind(account)
        .bind(format!("{n:032x}"))
        .bind(format!("host-{n:05}"))
        .bind(format!("10.{}.{}.{}", n / 65536, n / 256 % 256, n % 256))
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO agents (account_id, asset_id, machine_id, credential_hash, allow_fix, enrolled_at, last_heartbeat_at)
             VALUES ($1, $2, $3, $4, 0, 0, $5)",
        )
        .bind(account)
        .bind(asset)
        .bind(format!("{n:032x}"))
        .bind(hash_token(&credential(n)))
        .bind(bulwark::server::now() + 86_400)
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO asset_inventories (asset_id, account_id, package_manager, ecosystems, packages, package_count, digest, collected_at, matched_at)
             VALUES ($1, $2, 'dpkg', 'Debian:12', $3, 1, 'bench', 0, 0)",
        )
        .bind(asset)
        .bind(account)
        .bind(packages)
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO findings (account_id, asset_id, vulnerability_id, status, installed_version, fixed_version, source, first_seen_at, last_seen_at)
             VALUES ($1, $2, $3, 'unfixed', '3.0.11-1', '3.0.11-2', 'agent', 0, 0)",
        )
        .bind(account)
        .bind(asset)
        .bind(vulnerability)
        .execute(&mut *tx)
        .await
        .unwrap();
        assets.push((n, asset));
    }
    tx.commit().await.unwrap();
    println!("{label:<10} seeded {} hosts in {:.1} s", args.hosts, started.elapsed().as_secs_f64());

    let cookie = admin_session(&db, &router, account).await;
    let (_, policy) = send(&router, server_fn(&cookie, "clone_policy", "template=batch_vulnerability_fix".into())).await;
    let policy = String::from_utf8(policy).unwrap();
    let mut form = format!("input[policy_id]={policy}&input[name]=Fleet+fix&input[vulnerability_ids][0]={vulnerability}&input[dry_run]=true&input[concurrency]=100");
    for (i, (_, asset)) in assets.iter().enumerate() {
        form.push_str(&format!("&input[asset_ids][{i}]={asset}"));
    }
    let started = Instant::now();
    let (status, body) = send(&router, server_fn(&cookie, "create_task", form)).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let task: i64 = String::from_utf8(body).unwrap().parse().unwrap();
    println!("{label:<10} task created (one host row and item each) in {:.2} s", started.elapsed().as_secs_f64());

    // The engine ticks back to back; the simulated agents answer every queued job in between.
    let started = Instant::now();
    let (mut ticks, mut engine_time, mut agent_time, mut dispatched_all) = (0, Duration::ZERO, Duration::ZERO, None);
    let result = r#"{"outcome":{"command":["apt-get","-s","install","--only-upgrade","libssl3"],"exit_code":0,"output":"Inst libssl3 [3.0.11-1] (3.0.11-2 Debian:12/stable [amd64])","timed_out":false,"simulated":true,"changes":[{"package":"libssl3","from":"3.0.11-1","to":"3.0.11-2"}],"error":null}}"#;
    loop {
        let tick_started = Instant::now();
        let tick = bulwark::playbook::engine::tick(&state, "bench", bulwark::server::now()).await.unwrap();
        engine_time += tick_started.elapsed();
        ticks += 1;
        if tick.completed > 0 {
            break;
        }
        let waiting = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM playbook_hosts h JOIN playbook_runs r ON r.id = h.run_id WHERE r.task_id = $1 AND h.status = 'waiting'",
        )
        .bind(task)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        if waiting == 0 && dispatched_all.is_none() {
            dispatched_all = Some(started.elapsed());
        }
        let agents_started = Instant::now();
        let queued = sqlx::query_scalar::<_, String>("SELECT a.machine_id FROM agent_jobs j JOIN agents a ON a.asset_id = j.asset_id WHERE j.status = 'queued'")
            .fetch_all(&db.pool)
            .await
            .unwrap();
        for machine in queued {
            let n = i64::from_str_radix(&machine, 16).unwrap();
            let poll = Request::builder().uri("/api/v1/agent/jobs").header(header::AUTHORIZATION, format!("Bearer {}", credential(n))).body(Body::empty()).unwrap();
            let (status, job) = send(&router, poll).await;
            assert_eq!(status, StatusCode::OK);
            let id = serde_json::from_slice::<serde_json::Value>(&job).unwrap()["id"].as_i64().unwrap();
            let post = Request::builder()
                .method(Method::POST)
                .uri(format!("/api/v1/agent/jobs/{id}/result"))
                .header(header::AUTHORIZATION, format!("Bearer {}", credential(n)))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(result))
                .unwrap();
            assert_eq!(send(&router, post).await.0, StatusCode::OK);
        }
        agent_time += agents_started.elapsed();
    }
    let total = started.elapsed();
    println!(
        "{label:<10} {} hosts, 100 at a time: every host dispatched after {:.1} s, completed in {:.1} s ({ticks} engine ticks, {:.1} s of engine work = {:.0} ms per tick; the simulated agents took {:.1} s)",
        args.hosts,
        dispatched_all.unwrap_or(total).as_secs_f64(),
        total.as_secs_f64(),
        engine_time.as_secs_f64(),
        engine_time.as_secs_f64() * 1e3 / ticks as f64,
        agent_time.as_secs_f64()
    );
    println!(
        "{label:<10} (the console ticks every {} s, so at most 100 hosts start per tick: {:.1} min for {} hosts when agents answer within a tick)",
        bulwark::console::jobs::PLAYBOOK_TICK.as_secs(),
        (args.hosts as f64 / 100.0).ceil() * bulwark::console::jobs::PLAYBOOK_TICK.as_secs_f64() / 60.0,
        args.hosts
    );

    let mut list = Vec::new();
    let mut details = Vec::new();
    for _ in 0..10 {
        list.push(page(&router, &cookie, "/playbook/tasks").await);
        details.push(page(&router, &cookie, &format!("/playbook/tasks/{task}")).await);
    }
    println!("{label:<10} Task Management page: {}", stats(list));
    println!("{label:<10} Details page ({} host rows): {}", args.hosts, stats(details));
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
