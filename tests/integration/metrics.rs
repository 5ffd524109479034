//! `/metrics`: behind the operator's bearer token, in Prometheus's text format, labelled by
//! route template, with no request-chosen text in its labels.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};

use crate::common::*;

const TOKEN: &str = "scrape-me-4f1d";

async fn scrape(app: &TestApp, token: Option<&str>) -> Response {
    let mut request = Request::builder().uri("/metrics");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    app.request(request.body(Body::empty()).unwrap()).await
}

/// The value of the sample `name{labels…}` whose labels include every pair given, or 0.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (series_name, rest) = series.split_once('{').unwrap_or((series, "}"));
            if series_name != name {
                return None;
            }
            let has_all = labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
            has_all.then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}

#[tokio::test]
async fn metrics_are_not_served_without_an_operator_token() {
    let app = TestApp::new().await;
    assert_eq!(scrape(&app, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(scrape(&app, Some("anything")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metrics_need_the_operators_bearer_token() {
    let app = TestApp::with_metrics_token(TOKEN).await;
    let missing = scrape(&app, None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.headers.get(header::WWW_AUTHENTICATE).unwrap(), "Bearer realm=\"metrics\"");
    assert_eq!(scrape(&app, Some("scrape-me")).await.status, StatusCode::UNAUTHORIZED);
    // A signed-in administrator's session is not the scrape token either.
    let (_, email) = app.account("Metrics Co", bulwark::editions::Edition::Enterprise, bulwark::auth::model::Role::Admin).await;
    let session = app.sign_in(&email).await;
    let mut request = Request::builder().uri("/metrics").header(header::COOKIE, &session.0);
    request = request.header(header::ACCEPT, "text/plain");
    assert_eq!(app.request(request.body(Body::empty()).unwrap()).await.status, StatusCode::UNAUTHORIZED);

    let ok = scrape(&app, Some(TOKEN)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(ok.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    for name in [
        "bulwark_http_requests_total",
        "bulwark_http_request_duration_seconds_bucket",
        "bulwark_db_pool_connections",
        "bulwark_db_pool_max_connections",
        "bulwark_jobs_queued",
        "bulwark_agents_online",
    ] {
        assert!(ok.body.lines().any(|l| l.starts_with(name)), "{name} missing from:\n{}", ok.body);
    }
    for queue in ["report_deliveries", "playbook_tasks_due", "playbook_tasks_running", "agent_jobs", "heartbeats", "admission_log"] {
        assert!(ok.body.contains(&format!("bulwark_jobs_queued{{queue=\"{queue}\"}}")), "queue {queue} missing");
    }
}

#[tokio::test]
async fn a_request_moves_its_routes_counter_under_the_template() {
    let app = TestApp::with_metrics_token(TOKEN).await;
    let route = [("route", "/api/v1/assets/{instance_id}"), ("method", "GET"), ("status", "401")];
    let before = sample(&scrape(&app, Some(TOKEN)).await.body, "bulwark_http_requests_total", &route);
    for i in 0..3 {
        let answer = app.api("not-a-token", Method::GET, &format!("/api/v1/assets/i-metrics-{i}"), None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let text = scrape(&app, Some(TOKEN)).await.body;
    let after = sample(&text, "bulwark_http_requests_total", &route);
    // Other tests in this process share the recorder, so at least (not exactly) three more.
    assert!(after - before >= 3.0, "{before} -> {after}");
    assert!(sample(&text, "bulwark_http_request_duration_seconds_count", &route[..2]) >= 3.0);
    // The raw path never becomes a label; nor does a path no route serves.
    assert!(!text.contains("i-metrics-"), "a raw path leaked into the labels");
    let missing = app.get(None, "/no-such-page/secret-looking-path").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let text = scrape(&app, Some(TOKEN)).await.body;
    assert!(!text.contains("secret-looking-path"));
    assert!(sample(&text, "bulwark_http_requests_total", &[("route", "(unmatched)"), ("status", "404")]) >= 1.0);
}

#[tokio::test]
async fn queue_gauges_read_the_database_at_scrape_time() {
    let app = TestApp::with_metrics_token(TOKEN).await;
    let (account_id, _) = app.account("Queue Co", bulwark::editions::Edition::Enterprise, bulwark::auth::model::Role::Admin).await;
    let before = sample(&scrape(&app, Some(TOKEN)).await.body, "bulwark_jobs_queued", &[("queue", "agent_jobs")]);
    assert_eq!(before, 0.0, "a fresh database has no agent jobs");
    let asset_id: i64 = sqlx::query_scalar(
        "INSERT INTO assets (account_id, instance_id, name, ips, os, agent_status, created_at, updated_at)
         VALUES ($1, 'i-queue', 'queue-host', '10.0.0.9', 'linux', 'online', 0, 0) RETURNING id",
    )
    .bind(account_id)
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    for status in ["queued", "running", "succeeded"] {
        sqlx::query(
            "INSERT INTO agent_jobs (account_id, asset_id, packages, simulate, status, requested_by, created_at)
             VALUES ($1, $2, '[\"openssl\"]', 0, $3, 'test', 0)",
        )
        .bind(account_id)
        .bind(asset_id)
        .bind(status)
        .execute(&app.db().pool)
        .await
        .unwrap();
    }
    let text = scrape(&app, Some(TOKEN)).await.body;
    assert_eq!(sample(&text, "bulwark_agents_online", &[]), 1.0, "{text}");
    assert_eq!(sample(&text, "bulwark_jobs_queued", &[("queue", "agent_jobs")]), 2.0, "queued and running count; finished do not");
    assert!(sample(&text, "bulwark_db_pool_max_connections", &[]) >= 1.0);
}
