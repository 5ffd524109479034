//! The open-risk counters (kept by triggers) always equal a fresh recount: after every step of a
//! seeded random sequence of ingests, scans (an agent's inventory, a Trivy report), resolves,
//! re-opens, reclassified vulnerabilities, deleted assets and a deleted account; after two
//! concurrent ingests; and a drifted counter is found, repaired and reported by the reconcile
//! (and by `bulwark check counters`, which then fails).

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use bulwark::advisories::repo::FoundVulnerability;
use bulwark::assets::agent_api::import_trivy_findings;
use bulwark::auth::model::Role;
use bulwark::editions::Edition;
use bulwark::overview::counters::reconcile_account;
use bulwark::server::audit::Actor;

use crate::cli::bulwark;
use crate::common::*;

/// A small seeded generator (xorshift64*): the same sequence on every run and machine.
struct Seeded(u64);

impl Seeded {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];
const HOSTS: [&str; 4] = ["i-1", "i-2", "i-3", "i-4"];

async fn post(app: &TestApp, token: &str, path: &str, body: Value) {
    let answer = app.api(token, Method::POST, path, Some(body)).await;
    assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
}

async fn assets(app: &TestApp, token: &str) {
    let assets: Vec<Value> = HOSTS.iter().map(|h| asset(h, &format!("host-{h}"), "10.0.0.1")).collect();
    post(app, token, "/api/v1/assets", json!({ "assets": assets })).await;
}

/// One random step through the ingestion API (or, for what no API does, the SQL a fix or a
/// cleanup would run); returns what it did, for the failure message.
async fn step(app: &TestApp, token: &str, account_id: i64, rng: &mut Seeded) -> String {
    match rng.below(9) {
        0 | 1 => {
            let rows: Vec<Value> = (0..1 + rng.below(5))
                .map(|_| {
                    let mut row = finding(rng.pick(&HOSTS), &format!("CVE-2026-{}", rng.below(6)), rng.pick(&SEVERITIES));
                    row["category"] = json!(rng.pick(&["linux", "windows", "web_cms"]));
                    row["status"] = json!(rng.pick(&["unfixed", "unfixed", "fixed", "ignored"]));
                    // Sightings over a few days (and, unset, now): the daily flows move between days.
                    if rng.below(3) > 0 {
                        row["seen_at"] = json!(1_780_000_000 + 86_400 * (rng.below(5) as i64 - 2) + rng.below(86_400) as i64);
                    }
                    row
                })
                .collect();
            post(app, token, "/api/v1/findings", json!({ "findings": rows.clone() })).await;
            format!("findings {rows:?}")
        }
        2 => {
            let rows: Vec<Value> = (0..1 + rng.below(3))
                .map(|_| {
                    json!({ "external_id": format!("al-{}", rng.below(5)), "instance_id": rng.pick(&HOSTS), "name": "Suspicious process",
                            "alert_type": "process", "severity": rng.pick(&SEVERITIES), "status": rng.pick(&["unhandled", "handled", "ignored"]),
                            "occurred_at": 1_780_000_000 })
                })
                .collect();
            post(app, token, "/api/v1/alerts", json!({ "alerts": rows.clone() })).await;
            format!("alerts {rows:?}")
        }
        3 => {
            let rows: Vec<Value> = (0..1 + rng.below(3))
                .map(|_| {
                    json!({ "instance_id": rng.pick(&HOSTS), "check_name": format!("check-{}", rng.below(4)), "category": "ssh",
                            "risk_level": rng.pick(&SEVERITIES), "passed": rng.below(2) == 0 })
                })
                .collect();
            post(app, token, "/api/v1/baseline", json!({ "results": rows.clone() })).await;
            format!("baseline {rows:?}")
        }
        4 => {
            // A playbook fix (or its undo) writes findings directly.
            let resolved = if rng.below(2) == 0 { "NULL" } else { "1780000000" };
            sqlx::query(&format!(
                "UPDATE findings SET resolved_at = {resolved} WHERE account_id = $1 AND id IN (SELECT id FROM findings WHERE account_id = $1 ORDER BY id LIMIT 3)"
            ))
            .bind(account_id)
            .execute(&app.db().pool)
            .await
            .unwrap();
            format!("findings resolved_at = {resolved}")
        }
        7 => {
            // A host moves group, goes offline or comes back (as the ingestion API or the fleet would set it).
            let host = rng.pick(&HOSTS);
            let mut row = asset(host, &format!("host-{host}"), "10.0.0.1");
            let group = rng.pick(&["Web", "Db", ""]);
            row["group"] = if group.is_empty() { Value::Null } else { json!(group) };
            row["agent_status"] = json!(rng.pick(&["online", "offline", "not_installed"]));
            post(app, token, "/api/v1/assets", json!({ "assets": [row.clone()] })).await;
            format!("asset {row}")
        }
        8 => {
            // An agent's inventory or an image scan of one host (matched in memory, recorded set at a time).
            let host = rng.pick(&HOSTS);
            let asset_id = app.count(&format!("SELECT id FROM assets WHERE account_id = {account_id} AND instance_id = '{host}'")).await;
            let found: Vec<FoundVulnerability> = (0..rng.below(5))
                .map(|_| {
                    let advisory_id = format!("CVE-2026-{}", rng.below(6));
                    FoundVulnerability {
                        title: format!("{advisory_id} in openssl"),
                        advisory_id,
                        package: "openssl".into(),
                        severity: rng.pick(&SEVERITIES).into(),
                        category: "linux".into(),
                        affected_versions: "< 3.0.12".into(),
                        fix: "Upgrade openssl".into(),
                        installed_version: "3.0.11-1".into(),
                        fixed_version: "3.0.12".into(),
                    }
                })
                .collect();
            import_trivy_findings(app.db(), account_id, asset_id, host, &Actor::Operator, &found).await.unwrap();
            format!("scan of {host}: {:?}", found.iter().map(|f| (&f.advisory_id, &f.severity)).collect::<Vec<_>>())
        }
        5 => {
            let host = rng.pick(&HOSTS);
            sqlx::query("DELETE FROM assets WHERE account_id = $1 AND instance_id = $2").bind(account_id).bind(host).execute(&app.db().pool).await.unwrap();
            assets(app, token).await;
            format!("deleted and re-created {host}")
        }
        _ => {
            let severity = rng.pick(&SEVERITIES);
            sqlx::query("UPDATE vulnerabilities SET severity = $1 WHERE account_id = $2 AND advisory_id = 'CVE-2026-1'")
                .bind(severity)
                .bind(account_id)
                .execute(&app.db().pool)
                .await
                .unwrap();
            format!("CVE-2026-1 reclassified {severity}")
        }
    }
}

async fn assert_counted(app: &TestApp, account_id: i64, after: &str) {
    let repairs = reconcile_account(app.db(), account_id).await.unwrap();
    assert!(repairs.is_empty(), "after {after}: {}", repairs.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "));
}

#[tokio::test(flavor = "multi_thread")]
async fn counters_equal_a_recount_after_every_change() {
    let app = TestApp::new().await;
    let mut accounts = Vec::new();
    for name in ["Alpha", "Beta"] {
        let (account_id, email) = app.account(name, Edition::Enterprise, Role::Admin).await;
        let admin = app.sign_in(&email).await;
        let token = app.token(&admin, "scanner").await;
        assets(&app, &token).await;
        accounts.push((account_id, token));
    }
    let mut rng = Seeded(0x5EED_C0DE_2026_1206);
    let seeds = std::env::var("BULWARK_COUNTER_STEPS").ok().and_then(|v| v.parse().ok()).unwrap_or(120);
    for n in 0..seeds {
        let (account_id, token) = &accounts[rng.below(2)];
        let did = step(&app, token, *account_id, &mut rng).await;
        for (id, _) in &accounts {
            assert_counted(&app, *id, &format!("step {n}: {did}")).await;
        }
    }
    // Verify the sequence did open and close things (the test would prove little otherwise).
    assert!(app.count("SELECT COUNT(*) FROM findings WHERE resolved_at IS NULL").await > 0);
    assert!(app.count("SELECT COUNT(*) FROM findings WHERE resolved_at IS NOT NULL").await > 0);
    assert!(app.count("SELECT COUNT(*) FROM alerts WHERE resolved_at IS NULL").await > 0);
    assert!(app.count("SELECT COUNT(*) FROM baseline_results WHERE resolved_at IS NULL").await > 0);

    // Two ingests of the same rows at once leave the counters right.
    let (alpha, token) = &accounts[0];
    let rows = json!({ "findings": HOSTS.iter().map(|h| finding(h, "CVE-2026-9", "high")).collect::<Vec<_>>() });
    let (a, b) = tokio::join!(
        app.api(token, Method::POST, "/api/v1/findings", Some(rows.clone())),
        app.api(token, Method::POST, "/api/v1/findings", Some(rows))
    );
    assert_eq!((a.status, b.status), (StatusCode::OK, StatusCode::OK), "{} {}", a.body, b.body);
    assert_counted(&app, *alpha, "two concurrent ingests").await;

    // Deleting an account takes its counters with it and leaves the other's right.
    let (beta, _) = &accounts[1];
    sqlx::query("DELETE FROM accounts WHERE id = $1").bind(beta).execute(&app.db().pool).await.unwrap();
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM risk_counters WHERE account_id = {beta}")).await, 0);
    assert_counted(&app, *alpha, "deleting the other account").await;
}

/// The Overview reads the counters: what it shows is the recount of the open rows.
#[tokio::test(flavor = "multi_thread")]
async fn the_overview_shows_the_counted_risks() {
    let app = TestApp::new().await;
    let (account_id, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let token = app.token(&admin, "scanner").await;
    assets(&app, &token).await;
    let rows = json!({ "findings": [finding("i-1", "CVE-1", "critical"), finding("i-2", "CVE-1", "critical"), finding("i-1", "CVE-2", "low")] });
    post(&app, &token, "/api/v1/findings", rows).await;
    let mut fixed = finding("i-2", "CVE-1", "critical");
    fixed["status"] = json!("fixed");
    post(&app, &token, "/api/v1/findings", json!({ "findings": [fixed] })).await;
    let overview = app.call(Some(&admin), "get_overview", &[]).await;
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.body);
    // Verify: two open critical-or-low findings on i-1, the fixed one on i-2 not counted.
    assert_eq!(overview.json()["risks"]["vulnerabilities"]["critical"], 1);
    assert_eq!(overview.json()["risks"]["vulnerabilities"]["low"], 1);
    let list = app.call(Some(&admin), "list_assets", &[("query[search]", ""), ("query[page]", "1")]).await.json();
    let open: Vec<(String, i64)> = list["assets"].as_array().unwrap().iter().map(|a| (a["instance_id"].as_str().unwrap().to_string(), a["open_vulnerabilities"].as_i64().unwrap())).collect();
    assert!(open.contains(&("i-1".into(), 2)) && open.contains(&("i-2".into(), 0)), "{open:?}");
    assert_counted(&app, account_id, "the overview's rows").await;
}

/// A counter written around the triggers is found by the reconcile, repaired and reported;
/// `bulwark check counters` says so and fails, and passes once everything matches.
#[tokio::test(flavor = "multi_thread")]
async fn drifted_counters_are_repaired_and_reported() {
    let app = TestApp::new().await;
    let (account_id, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let token = app.token(&admin, "scanner").await;
    assets(&app, &token).await;
    post(&app, &token, "/api/v1/findings", json!({ "findings": [finding("i-1", "CVE-1", "high")] })).await;
    sqlx::query("UPDATE risk_counters SET open_count = open_count + 5 WHERE account_id = $1").bind(account_id).execute(&app.db().pool).await.unwrap();
    sqlx::query("INSERT INTO asset_risks (asset_id, open_alerts) SELECT id, 7 FROM assets WHERE account_id = $1 AND instance_id = 'i-3'")
        .bind(account_id)
        .execute(&app.db().pool)
        .await
        .unwrap();
    sqlx::query("UPDATE asset_counters SET online = online + 2 WHERE account_id = $1").bind(account_id).execute(&app.db().pool).await.unwrap();
    sqlx::query("UPDATE finding_days SET opened = opened + 3 WHERE account_id = $1").bind(account_id).execute(&app.db().pool).await.unwrap();

    let url = app.state.config.database_url.clone();
    let check = tokio::task::spawn_blocking(move || bulwark(&url).args(["check", "counters"]).env("RUST_LOG", "warn").output().unwrap()).await.unwrap();
    let printed = String::from_utf8_lossy(&check.stdout);
    // Verify it failed, naming both repairs with what was stored and what was counted.
    assert!(!check.status.success(), "{printed}");
    assert!(printed.contains("risk_counters vulnerability/high/linux was 6, counted 1"), "{printed}");
    assert!(printed.contains("open_alerts of asset") && printed.contains("was 7, counted 0"), "{printed}");
    assert!(printed.contains("asset_counters online of group") && printed.contains("was 6, counted 4"), "{printed}");
    assert!(printed.contains("finding_days.opened of day") && printed.contains("was 4, counted 1"), "{printed}");
    // Verify the repair holds: nothing left to repair, and the command now passes.
    assert_counted(&app, account_id, "the repair").await;
    let url = app.state.config.database_url.clone();
    let again = tokio::task::spawn_blocking(move || bulwark(&url).args(["check", "counters"]).env("RUST_LOG", "warn").output().unwrap()).await.unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stdout));
    assert!(String::from_utf8_lossy(&again.stdout).contains("Every counter matches its recount."));
}
