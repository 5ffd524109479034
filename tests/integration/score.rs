use axum::http::{Method, StatusCode};
use serde_json::json;

use bulwark::editions::Edition;
use bulwark::auth::model::Role;

use crate::common::*;

async fn setup() -> (TestApp, Session, String) {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Enterprise, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let token = app.token(&admin, "scanner").await;
    let r = app.api(&token, Method::POST, "/api/v1/assets", Some(json!({ "assets": [asset("i-1", "web-1", "10.0.0.1")] }))).await;
    assert_eq!(r.status, StatusCode::OK);
    (app, admin, token)
}

async fn score(app: &TestApp, session: &Session) -> i64 {
    let r = app.call(Some(session), "get_overview", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["score"].as_i64().unwrap()
}

/// Each kind of open risk caps the score: baseline at 90, vulnerabilities at 80, alerts at 60.
#[tokio::test(flavor = "multi_thread")]
async fn each_risk_kind_caps_the_score() {
    let (app, admin, token) = setup().await;
    assert_eq!(score(&app, &admin).await, 100);

    app.api(&token, Method::POST, "/api/v1/baseline", Some(json!({ "results": [{ "instance_id": "i-1", "check_name": "auditd is running", "category": "Logging", "risk_level": "low", "passed": false }] }))).await;
    // Verify one low baseline risk (a 2-point deduction) is capped at 90.
    assert_eq!(score(&app, &admin).await, 90);

    app.api(&token, Method::POST, "/api/v1/findings", Some(json!({ "findings": [finding("i-1", "CVE-1", "low")] }))).await;
    assert_eq!(score(&app, &admin).await, 80);

    let now = now();
    app.api(&token, Method::POST, "/api/v1/alerts", Some(json!({ "alerts": [{ "instance_id": "i-1", "name": "Login", "alert_type": "Unusual login", "severity": "low", "occurred_at": now - 10 }] }))).await;
    assert_eq!(score(&app, &admin).await, 60);

    // Verify the overview's counts match, and today's snapshot was stored.
    let overview = app.call(Some(&admin), "get_overview", &[]).await.json();
    assert_eq!(overview["risks"]["alerts"]["low"], 1);
    assert_eq!(overview["risks"]["vulnerabilities"]["low"], 1);
    assert_eq!(overview["risks"]["baseline"]["low"], 1);
    assert_eq!(overview["vulnerabilities_by_category"], json!([["linux", 1], ["windows", 0], ["web_cms", 0]]));
    assert_eq!(app.count("SELECT score FROM score_history").await, 60);
}

fn weights_form(alerts: [i64; 4], vulnerabilities: [i64; 4], baseline: [i64; 4]) -> Vec<(String, String)> {
    let mut form = Vec::new();
    for (kind, row) in [("alerts", alerts), ("vulnerabilities", vulnerabilities), ("baseline", baseline)] {
        for (i, w) in row.iter().enumerate() {
            form.push((format!("weights[{kind}][{i}]"), w.to_string()));
        }
    }
    form
}

/// Custom weights change the deductions; weights that do not add up to 100 are refused.
#[tokio::test(flavor = "multi_thread")]
async fn custom_weights_change_the_score() {
    let (app, admin, token) = setup().await;
    app.api(&token, Method::POST, "/api/v1/findings", Some(json!({ "findings": [finding("i-1", "CVE-1", "critical")] }))).await;
    // Default weights: one critical vulnerability deducts 7 → 93, capped at 80.
    assert_eq!(score(&app, &admin).await, 80);

    let form = weights_form([0; 4], [100, 0, 0, 0], [0; 4]);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved = app.call(Some(&admin), "set_score_weights", &pairs).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    // Verify: one critical vulnerability now deducts 100 × 1/2 = 50.
    assert_eq!(score(&app, &admin).await, 50);

    let bad = weights_form([10; 4], [10; 4], [10; 4]);
    let pairs: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let refused = app.call(Some(&admin), "set_score_weights", &pairs).await;
    // Verify the total is named, and the saved weights are unchanged.
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["Validation"]["total"], "The weights must add up to 100; they add up to 120.");
    assert_eq!(score(&app, &admin).await, 50);
    let weights = app.call(Some(&admin), "get_score_weights", &[]).await.json();
    assert_eq!(weights["vulnerabilities"], json!([100, 0, 0, 0]));
}

/// The score can be computed for any past moment: a finding counts from first sighting until fixed.
#[tokio::test(flavor = "multi_thread")]
async fn history_follows_when_risks_were_open() {
    let (app, _admin, token) = setup().await;
    let now = now();
    let day = 86_400;
    let mut seen = finding("i-1", "CVE-2024-0002", "low");
    seen["seen_at"] = json!(now - 10 * day);
    app.api(&token, Method::POST, "/api/v1/findings", Some(json!({ "findings": [seen] }))).await;
    let mut fixed = finding("i-1", "CVE-2024-0002", "low");
    fixed["status"] = json!("fixed");
    fixed["seen_at"] = json!(now - 5 * day);
    app.api(&token, Method::POST, "/api/v1/findings", Some(json!({ "findings": [fixed] }))).await;
    let account_id = app.count("SELECT account_id FROM assets").await;

    let score_at = |t: i64| bulwark::overview::repo::score_as_of(app.db(), account_id, t);
    // Verify: before the sighting, 100; while open, capped at 80; after the fix, 100 again.
    assert_eq!(score_at(now - 11 * day).await.unwrap(), 100);
    assert_eq!(score_at(now - 7 * day).await.unwrap(), 80);
    assert_eq!(score_at(now - 4 * day).await.unwrap(), 100);

    // Verify the daily job records one row per account and day, idempotently.
    bulwark::console::jobs::snapshot_scores(app.db()).await.unwrap();
    bulwark::console::jobs::snapshot_scores(app.db()).await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM score_history").await, 1);
    assert_eq!(app.count("SELECT score FROM score_history").await, 100);
}
