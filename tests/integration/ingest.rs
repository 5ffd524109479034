use axum::http::{Method, StatusCode};
use serde_json::json;

use bulwark::editions::Edition;
use bulwark::auth::model::Role;

use crate::common::*;

async fn setup() -> (TestApp, String) {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Enterprise, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let token = app.token(&admin, "scanner").await;
    (app, token)
}

/// Assets are upserted by instance id: sending one twice keeps one row with the latest values.
#[tokio::test(flavor = "multi_thread")]
async fn assets_are_upserted_by_instance_id() {
    let (app, token) = setup().await;
    let first = app.api(&token, Method::POST, "/api/v1/assets", Some(json!({ "assets": [asset("i-1", "web-1", "10.0.0.1")] }))).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.json()["accepted"], 1);
    app.api(&token, Method::POST, "/api/v1/assets", Some(json!({ "assets": [asset("i-1", "web-1-renamed", "10.0.0.2")] }))).await;

    // Verify one row, renamed, with the new address, in the group named in the payload.
    assert_eq!(app.count("SELECT COUNT(*) FROM assets").await, 1);
    let got = app.api(&token, Method::GET, "/api/v1/assets/i-1", None).await;
    assert_eq!(got.json()["name"], "web-1-renamed");
    assert_eq!(got.json()["ips"], json!(["10.0.0.2"]));
    assert_eq!(got.json()["group"], "Web");
}

/// A bad item anywhere in a batch is named by its path, and nothing of the batch is written.
#[tokio::test(flavor = "multi_thread")]
async fn malformed_batches_write_nothing() {
    let (app, token) = setup().await;
    let mut assets: Vec<_> = (0..5).map(|i| asset(&format!("i-{i}"), &format!("web-{i}"), "10.0.0.1")).collect();
    assets[3]["ips"] = json!(["10.0.0.999"]);

    let bad_ip = app.api(&token, Method::POST, "/api/v1/assets", Some(json!({ "assets": assets }))).await;

    // Verify the precise message and that the four good items were not written either.
    assert_eq!(bad_ip.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_ip.json()["fields"]["assets[3].ips[0]"], "\"10.0.0.999\" is not an IP address");
    assert_eq!(app.count("SELECT COUNT(*) FROM assets").await, 0);

    let not_json = app.api(&token, Method::POST, "/api/v1/assets", Some(json!("assets"))).await;
    assert_eq!(not_json.status, StatusCode::UNPROCESSABLE_ENTITY);

    let unknown_severity = app
        .api(&token, Method::POST, "/api/v1/findings", Some(json!({ "findings": [finding("i-1", "CVE-1", "catastrophic")] })))
        .await;
    // Verify the deserialisation error names the field path and the allowed values.
    assert_eq!(unknown_severity.status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = unknown_severity.json()["fields"]["findings[0].severity"].as_str().unwrap().to_string();
    assert!(message.contains("unknown variant `catastrophic`"), "{message}");

    let unknown_field = app
        .api(&token, Method::POST, "/api/v1/assets", Some(json!({ "assets": [{ "instance_id": "i-1", "name": "a", "colour": "red" }] })))
        .await;
    assert_eq!(unknown_field.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown_field.body.contains("colour"), "{}", unknown_field.body);

    let empty = app.api(&token, Method::POST, "/api/v1/alerts", Some(json!({ "alerts": [] }))).await;
    assert_eq!(empty.json()["fields"]["alerts"], "must contain at least one item");
    assert_eq!(app.count("SELECT COUNT(*) FROM assets").await + app.count("SELECT COUNT(*) FROM alerts").await, 0);
}

/// Findings for an asset that does not exist are refused by path; the valid ones before it are rolled back.
#[tokio::test(flavor = "multi_thread")]
async fn findings_need_known_assets() {
    let (app, token) = setup().await;
    app.api(&token, Method::POST, "/api/v1/assets", Some(json!({ "assets": [asset("i-1", "web-1", "10.0.0.1")] }))).await;

    let r = app
        .api(&token, Method::POST, "/api/v1/findings", Some(json!({ "findings": [finding("i-1", "CVE-1", "high"), finding("i-404", "CVE-2", "low")] })))
        .await;

    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["fields"]["findings[1].instance_id"], "no asset with instance id \"i-404\" in this account");
    // Verify the first finding (and its vulnerability) were rolled back with the batch.
    assert_eq!(app.count("SELECT COUNT(*) FROM findings").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM vulnerabilities").await, 0);
}

/// Reporting a finding fixed resolves it; seeing it again reopens it.
#[tokio::test(flavor = "multi_thread")]
async fn findings_resolve_and_reopen() {
    let (app, token) = setup().await;
    app.api(&token, Method::POST, "/api/v1/assets", Some(json!({ "assets": [asset("i-1", "web-1", "10.0.0.1")] }))).await;
    let open = json!({ "findings": [finding("i-1", "CVE-2024-0001", "critical")] });
    app.api(&token, Method::POST, "/api/v1/findings", Some(open.clone())).await;
    let asset = app.api(&token, Method::GET, "/api/v1/assets/i-1", None).await.json();
    assert_eq!(asset["open_vulnerabilities"], 1);

    let mut fixed = finding("i-1", "CVE-2024-0001", "critical");
    fixed["status"] = json!("fixed");
    app.api(&token, Method::POST, "/api/v1/findings", Some(json!({ "findings": [fixed] }))).await;
    // Verify it is resolved, still one row.
    assert_eq!(app.api(&token, Method::GET, "/api/v1/assets/i-1", None).await.json()["open_vulnerabilities"], 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM findings WHERE resolved_at IS NOT NULL").await, 1);

    app.api(&token, Method::POST, "/api/v1/findings", Some(open)).await;
    // Verify it reopened.
    assert_eq!(app.api(&token, Method::GET, "/api/v1/assets/i-1", None).await.json()["open_vulnerabilities"], 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM findings").await, 1);
}

/// Alerts with an external id are updated in place; baseline checks and attacks land too.
#[tokio::test(flavor = "multi_thread")]
async fn alerts_baseline_and_attacks_are_ingested() {
    let (app, token) = setup().await;
    app.api(&token, Method::POST, "/api/v1/assets", Some(json!({ "assets": [asset("i-1", "web-1", "10.0.0.1")] }))).await;
    let now = now();
    let alert = |status: &str| json!({ "alerts": [{ "external_id": "a-1", "instance_id": "i-1", "name": "Reverse shell", "alert_type": "Reverse shell", "severity": "high", "status": status, "occurred_at": now - 60 }] });
    assert_eq!(app.api(&token, Method::POST, "/api/v1/alerts", Some(alert("unhandled"))).await.status, StatusCode::OK);
    app.api(&token, Method::POST, "/api/v1/alerts", Some(alert("handled"))).await;
    let baseline = app
        .api(&token, Method::POST, "/api/v1/baseline", Some(json!({ "results": [{ "instance_id": "i-1", "check_name": "SSH root login is disabled", "category": "SSH", "risk_level": "high", "passed": false }] })))
        .await;
    let attacks = app
        .api(&token, Method::POST, "/api/v1/attacks", Some(json!({ "attacks": [{ "source_ip": "203.0.113.9", "target": "web-1/login", "attack_type": "Brute force", "occurred_at": now - 5 }] })))
        .await;

    assert_eq!(baseline.status, StatusCode::OK, "{}", baseline.body);
    assert_eq!(attacks.status, StatusCode::OK, "{}", attacks.body);
    // Verify one alert row, now handled; one open baseline risk; one attack.
    assert_eq!(app.count("SELECT COUNT(*) FROM alerts").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM alerts WHERE status = 'handled' AND resolved_at IS NOT NULL").await, 1);
    let asset = app.api(&token, Method::GET, "/api/v1/assets/i-1", None).await.json();
    assert_eq!((asset["open_alerts"].as_i64(), asset["baseline_risks"].as_i64()), (Some(0), Some(1)));
    assert_eq!(app.count("SELECT COUNT(*) FROM attacks").await, 1);
}

/// Missing, unknown and revoked tokens are refused alike; tokens are stored only as hashes.
#[tokio::test(flavor = "multi_thread")]
async fn tokens_authenticate_the_api() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Enterprise, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let token = app.token(&admin, "scanner").await;
    let body = || Some(json!({ "assets": [asset("i-1", "web-1", "10.0.0.1")] }));

    assert_eq!(app.api("blk_nonsense", Method::POST, "/api/v1/assets", body()).await.status, StatusCode::UNAUTHORIZED);
    let stored = sqlx::query_scalar::<_, String>("SELECT token_hash FROM api_tokens").fetch_one(&app.db().pool).await.unwrap();
    // Verify only the SHA-256 is stored.
    assert_ne!(stored, token);
    assert_eq!(stored, bulwark::server::crypto::hash_token(&token));
    assert_eq!(app.api(&token, Method::POST, "/api/v1/assets", body()).await.status, StatusCode::OK);

    let id = app.count("SELECT id FROM api_tokens").await;
    let revoked = app.call(Some(&admin), "revoke_token", &[("id", &id.to_string())]).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    // Verify the revoked token no longer works, and the listing never shows a secret.
    assert_eq!(app.api(&token, Method::POST, "/api/v1/assets", body()).await.status, StatusCode::UNAUTHORIZED);
    let listing = app.call(Some(&admin), "list_tokens", &[]).await;
    assert!(!listing.body.contains(&token[12..]), "{}", listing.body);
}

/// Batches sent at the same time by several scanners all land: writers wait for each other
/// instead of failing with "database is locked".
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_batches_all_land() {
    use axum::body::Body;
    use axum::http::{header, Request};
    use tower::ServiceExt;

    let (app, token) = setup().await;
    let assets: Vec<_> = (0..8).map(|i| asset(&format!("i-{i}"), &format!("web-{i}"), "10.0.0.1")).collect();
    app.api(&token, Method::POST, "/api/v1/assets", Some(json!({ "assets": assets }))).await;

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let router = app.router();
        let findings: Vec<_> = (0..200).map(|n| finding(&format!("i-{i}"), &format!("CVE-2024-{i}{n:04}"), "medium")).collect();
        let request = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/findings")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({ "findings": findings }).to_string()))
            .unwrap();
        tasks.spawn(async move { router.oneshot(request).await.unwrap().status() });
    }
    // Verify every batch succeeded and every row is there.
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM findings").await, 1600);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'ingest.findings'").await, 8);
}

/// Sightings of the same finding in one batch are merged, not an error: the latest sighting
/// wins (a fix reported after the open sighting resolves it), and the catalogue keeps one row.
#[tokio::test(flavor = "multi_thread")]
async fn duplicate_findings_in_a_batch_are_merged() {
    let (app, token) = setup().await;
    app.api(&token, Method::POST, "/api/v1/assets", Some(json!({ "assets": [asset("i-1", "web-1", "10.0.0.1"), asset("i-2", "web-2", "10.0.0.2")] }))).await;
    let mut open = finding("i-1", "CVE-2024-0001", "high");
    open["seen_at"] = json!(1_790_000_000);
    let mut fixed = finding("i-1", "CVE-2024-0001", "high");
    fixed["seen_at"] = json!(1_790_000_100);
    fixed["status"] = json!("fixed");
    let mut stale = finding(" i-1 ", "CVE-2024-0001", "high");
    stale["seen_at"] = json!(1_789_000_000);
    let other = finding("i-2", "CVE-2024-0001", "high");

    let r = app.api(&token, Method::POST, "/api/v1/findings", Some(json!({ "findings": [open, fixed, stale, other] }))).await;

    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["accepted"], 4);
    // Verify one finding per asset, the first resolved at the fix's time, and one catalogue row.
    assert_eq!(app.count("SELECT COUNT(*) FROM findings").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM vulnerabilities").await, 1);
    let resolved = app.count("SELECT COALESCE(MAX(resolved_at), 0) FROM findings f JOIN assets a ON a.id = f.asset_id WHERE a.instance_id = 'i-1'").await;
    assert_eq!(resolved, 1_790_000_100);
    assert_eq!(app.api(&token, Method::GET, "/api/v1/assets/i-1", None).await.json()["open_vulnerabilities"], 0);
    assert_eq!(app.api(&token, Method::GET, "/api/v1/assets/i-2", None).await.json()["open_vulnerabilities"], 1);
}

/// A large batch spans several multi-row statements and stays atomic: a bad row late in it
/// (past the first statements) is named by its index and nothing of the batch is written; a
/// batch over the item limit is refused with 413 naming the limit.
#[tokio::test(flavor = "multi_thread")]
async fn large_batches_are_atomic_and_limited() {
    let (app, token) = setup().await;
    let assets: Vec<_> = (0..20).map(|i| asset(&format!("i-{i}"), &format!("web-{i}"), "10.0.0.1")).collect();
    app.api(&token, Method::POST, "/api/v1/assets", Some(json!({ "assets": assets }))).await;
    let mut findings: Vec<_> = (0..2_400).map(|n| finding(&format!("i-{}", n % 20), &format!("CVE-2024-{n:05}"), "medium")).collect();
    findings[2_203]["instance_id"] = json!("i-404");

    let refused = app.api(&token, Method::POST, "/api/v1/findings", Some(json!({ "findings": findings }))).await;

    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(refused.json()["fields"]["findings[2203].instance_id"], "no asset with instance id \"i-404\" in this account");
    assert_eq!(app.count("SELECT COUNT(*) FROM findings").await + app.count("SELECT COUNT(*) FROM vulnerabilities").await, 0);

    findings[2_203]["instance_id"] = json!("i-3");
    let accepted = app.api(&token, Method::POST, "/api/v1/findings", Some(json!({ "findings": findings }))).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM findings").await, 2_400);
    assert_eq!(app.count("SELECT CAST(SUM(open_vulnerabilities) AS BIGINT) FROM asset_risks").await, 2_400);

    let too_many: Vec<_> = (0..10_001).map(|n| finding("i-1", &format!("CVE-2025-{n:05}"), "low")).collect();
    let over = app.api(&token, Method::POST, "/api/v1/findings", Some(json!({ "findings": too_many }))).await;
    assert_eq!(over.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", over.body);
    assert_eq!(over.json()["message"], "A batch holds at most 10,000 findings; this one holds 10,001. Send larger loads in several requests.");
    assert_eq!(app.count("SELECT COUNT(*) FROM findings").await, 2_400);
}
