//! Admission that knows vulnerabilities: Trivy image reports stored per digest through the API,
//! the vulnerability rule of a security policy (refuse, warn, never scanned, fix available only,
//! tolerated counts), exceptions per CVE that lapse on their own, verdicts cached until a new scan
//! or exception changes them on every replica, and the inventory of what ran where.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};

use bulwark::auth::model::Role;
use bulwark::editions::Edition;

use crate::common::*;
use crate::signature::{admit, ok, policy, scene, Scene, D1, D2, D3, D4, REGISTRY};

fn trivy_fixture() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/trivy/image-web.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The fixture report of shop/web@D1 (1 critical and 1 high OS finding, 2 medium), re-dated and,
/// when `digest` is given, re-aimed at another image of the shop.
fn report(created_at: &str, repo_digest: Option<&str>) -> Value {
    let mut report = trivy_fixture();
    report["CreatedAt"] = json!(created_at);
    if let Some(reference) = repo_digest {
        report["Metadata"]["RepoDigests"] = json!([reference]);
    }
    report
}

/// A report of `reference` listing only these (id, severity, fixed version) OS findings.
fn report_with(created_at: &str, reference: &str, findings: &[(&str, &str, &str)]) -> Value {
    let mut report = report(created_at, Some(reference));
    let vulnerabilities: Vec<Value> = findings
        .iter()
        .map(|(id, severity, fixed)| {
            json!({"VulnerabilityID": id, "PkgName": "libssl3", "InstalledVersion": "3.0.11-1~deb12u2", "FixedVersion": fixed,
                   "Severity": severity, "Title": format!("openssl: {id}")})
        })
        .collect();
    report["Results"][0]["Vulnerabilities"] = json!(vulnerabilities);
    report["Results"][1]["Vulnerabilities"] = json!([]);
    report
}

async fn upload(app: &TestApp, token: &str, query: &str, body: Vec<u8>) -> Response {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/images/scans{query}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    app.request(request).await
}

async fn scan(app: &TestApp, token: &str, report: &Value) -> Value {
    let stored = upload(app, token, "", report.to_string().into_bytes()).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.body);
    stored.json()
}

fn image(name: &str, digest: &str) -> String {
    format!("{REGISTRY}/{name}@{digest}")
}

/// Sets the scene's policy's vulnerability rule: action, minimum severity, fixable only,
/// tolerated (critical, high), never scanned.
async fn rule(app: &TestApp, s: &Scene, action: &str, min: &str, fixable_only: bool, allowed: (&str, &str), unscanned: &str) {
    let id = s.policy_id.to_string();
    let fixable = fixable_only.to_string();
    let extra = [
        ("input[id]", id.as_str()),
        ("input[vuln][action]", action),
        ("input[vuln][min_severity]", min),
        ("input[vuln][fixable_only]", fixable.as_str()),
        ("input[vuln][allowed_critical]", allowed.0),
        ("input[vuln][allowed_high]", allowed.1),
        ("input[vuln][allowed_medium]", ""),
        ("input[vuln][allowed_low]", ""),
        ("input[vuln][unscanned]", unscanned),
    ];
    ok(policy(app, &s.admin, "prod-shop", s.cluster_id, &[s.witness_id], &extra).await).await;
}

async fn images(app: &TestApp, admin: &Session, form: &[(&str, &str)]) -> Vec<Value> {
    ok(app.call(Some(admin), "signature/list_images", form).await).await["images"].as_array().unwrap().clone()
}

/// A Trivy image report is stored as its digest's scan, counted by severity, with what the OSV
/// feed matches in its packages; a newer scan replaces it, an older one is refused whole.
#[tokio::test(flavor = "multi_thread")]
async fn a_trivy_image_report_is_the_digests_scan_until_a_newer_one_replaces_it() {
    let app = TestApp::new().await;
    let s = scene(&app).await;
    let token = app.token(&s.admin, "ci").await;
    // A Debian advisory for zlib, which the report lists as a package but not as vulnerable.
    let zlib = json!({"schema_version": "1.6.0", "id": "DSA-9001-1", "modified": "2026-11-01T00:00:00Z", "summary": "zlib: heap overflow in inflate",
        "affected": [{"package": {"ecosystem": "Debian:12", "name": "zlib"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.2.13.dfsg-1+deb12u1"}]}]}],
        "database_specific": {"severity": "high"}});
    let loaded = vec![bulwark::advisories::archive::Loaded { name: "DSA-9001-1.json".into(), result: bulwark::advisories::osv::parse(zlib.to_string().as_bytes()) }];
    bulwark::advisories::repo::import(app.db(), bulwark::advisories::repo::FEED, "test", "DSA-9001-1.json", loaded, now()).await.unwrap();

    let first = scan(&app, &token, &report("2026-11-17T08:12:44Z", None)).await;
    assert_eq!(first, json!({"image": image("web", D1), "vulnerabilities": 5, "matched_by_osv": 1, "replaced": false}));
    let web = images(&app, &s.admin, &[("search", "shop/web")]).await;
    let scanned = &web.iter().find(|i| i["digest"] == D1).unwrap()["scan"];
    assert_eq!(scanned["counts"], json!({"critical": 1, "high": 2, "medium": 2, "low": 0}));
    assert_eq!(scanned["fixable"], json!({"critical": 1, "high": 1, "medium": 2, "low": 0}));
    assert_eq!(scanned["packages"], 5);
    let web_id = web.iter().find(|i| i["digest"] == D1).unwrap()["id"].as_i64().unwrap().to_string();
    let listed = ok(app.call(Some(&s.admin), "signature/list_image_vulnerabilities", &[("image_id", &web_id)]).await).await;
    let ids: Vec<&str> = listed.as_array().unwrap().iter().map(|v| v["vulnerability_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["CVE-2024-6387", "CVE-2023-50495", "DSA-9001-1", "CVE-2024-0727", "CVE-2024-29041"]);
    assert_eq!(listed[2]["source"], "osv");

    // Verify a newer scan replaces the findings, and an older one is refused with nothing written.
    let newer = report_with("2026-11-18T06:00:00Z", &image("web", D1), &[("CVE-2025-0001", "LOW", "")]);
    let replaced = upload(&app, &token, &format!("?image={}", encode(&image("web", D1))), newer.to_string().into_bytes()).await;
    assert_eq!(replaced.status, StatusCode::CREATED, "{}", replaced.body);
    assert_eq!(replaced.json()["replaced"], true);
    let older = upload(&app, &token, "", report("2026-11-16T00:00:00Z", None).to_string().into_bytes()).await;
    assert_eq!(older.status, StatusCode::CONFLICT, "{}", older.body);
    assert!(older.json()["message"].as_str().unwrap().contains("A newer scan of sha256:2604"), "{}", older.body);
    // The zlib match stays: the package list is the same.
    assert_eq!(app.count("SELECT COUNT(*) FROM image_vulnerabilities").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM image_scans").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'signature.image.scan'").await, 2);
}

/// Bad scans get a 4xx naming the problem, and nothing is written.
#[tokio::test(flavor = "multi_thread")]
async fn bad_scans_are_refused_whole_with_the_reason() {
    let app = TestApp::new().await;
    let s = scene(&app).await;
    let token = app.token(&s.admin, "ci").await;
    let field = |response: &Response, name: &str| {
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.body);
        response.json()["fields"][name].as_str().unwrap_or_default().to_string()
    };

    let not_json = upload(&app, &token, "", b"<html>scan</html>".to_vec()).await;
    assert!(field(&not_json, "body").starts_with("not a Trivy JSON report"), "{}", not_json.body);
    let mut no_digest = report("2026-11-17T08:12:44Z", None);
    no_digest["Metadata"]["RepoDigests"] = json!([]);
    let undigested = upload(&app, &token, "", no_digest.to_string().into_bytes()).await;
    assert!(field(&undigested, "image").contains("--image"), "{}", undigested.body);
    let tagged = upload(&app, &token, "?image=registry.example.com/shop/web:1.4.2", no_digest.to_string().into_bytes()).await;
    assert!(field(&tagged, "image").contains("by digest"), "{}", tagged.body);
    let other = upload(&app, &token, &format!("?image={}", encode(&image("web", D2))), report("2026-11-17T08:12:44Z", None).to_string().into_bytes()).await;
    assert!(field(&other, "image").contains(&format!("not of {D2}")), "{}", other.body);
    let mut bad_time = report("yesterday", None);
    bad_time["CreatedAt"] = json!("yesterday");
    assert!(field(&upload(&app, &token, "", bad_time.to_string().into_bytes()).await, "body").starts_with("CreatedAt"));

    // Verify a scan for an account outside the token's scope is forbidden.
    let (_, other_email) = app.account("Elsewhere", Edition::Enterprise, Role::Admin).await;
    let elsewhere = sqlx::query_scalar::<_, String>("SELECT account_no FROM accounts WHERE name = 'Elsewhere'").fetch_one(&app.db().pool).await.unwrap();
    let foreign = upload(&app, &token, &format!("?account={elsewhere}"), report("2026-11-17T08:12:44Z", None).to_string().into_bytes()).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN, "{}", foreign.body);
    assert!(foreign.json()["message"].as_str().unwrap().contains("not in this token's scope"));
    let _ = other_email;

    // Verify the upload limit is named, before the body is read.
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/images/scans")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_LENGTH, 32 * 1024 * 1024 + 1)
        .body(Body::empty())
        .unwrap();
    let large = app.request(request).await;
    assert_eq!(large.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", large.body);
    assert!(large.json()["message"].as_str().unwrap().contains("32 MiB"), "{}", large.body);

    // Verify an account without the edition cannot store scans.
    let (_, basic_email) = app.account("Small", Edition::Basic, Role::Admin).await;
    let basic = app.sign_in(&basic_email).await;
    let basic_token = app.token(&basic, "ci").await;
    let refused = upload(&app, &basic_token, "", report("2026-11-17T08:12:44Z", None).to_string().into_bytes()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    assert_eq!(app.count("SELECT COUNT(*) FROM image_scans").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM image_vulnerabilities").await, 0);
}

/// The rule refuses or warns over its limits, tolerates what it allows, counts only fixable
/// findings when asked, and treats never-scanned and tag-only images as configured.
#[tokio::test(flavor = "multi_thread")]
async fn the_vulnerability_rule_refuses_warns_and_judges_unscanned_images() {
    let app = TestApp::new().await;
    let s = scene(&app).await;
    let token = app.token(&s.admin, "ci").await;
    // web: 1 critical (fixable), 1 high (no fix), 2 medium. api: one high without a fix.
    scan(&app, &token, &report("2026-11-17T08:12:44Z", None)).await;
    scan(&app, &token, &report_with("2026-11-17T08:12:44Z", &image("api", D2), &[("CVE-2024-5535", "HIGH", "")])).await;

    // Without a rule, the signed web image is admitted as before.
    assert!(admit(&app, &s.hook, "pod-signed.json").await.0);

    rule(&app, &s, "refuse", "high", false, ("", ""), "admit").await;
    let (allowed, message, _) = admit(&app, &s.hook, "pod-signed.json").await;
    assert!(!allowed);
    assert_eq!(
        message,
        format!("Bulwark rejected Pod shop/web: {} (container web): 1 critical, 1 high known vulnerabilities at or above high (CVE-2024-6387, CVE-2023-50495) [policy prod-shop]", image("web", D1))
    );

    // Verify tolerated counts: one critical and one high pass.
    rule(&app, &s, "refuse", "high", false, ("1", "1"), "admit").await;
    assert!(admit(&app, &s.hook, "pod-signed.json").await.0);

    // Verify fixable only: api's high has no fix, so it passes; web's fixable critical does not.
    rule(&app, &s, "refuse", "high", true, ("", ""), "admit").await;
    let (allowed, message, _) = admit(&app, &s.hook, "pod-three-containers.json").await;
    assert!(!allowed);
    assert!(message.contains("1 critical known vulnerabilities at or above high with a fix available (CVE-2024-6387)"), "{message}");
    assert!(!message.contains("CVE-2024-5535") && !message.contains("CVE-2023-50495"), "{message}");

    // Verify warn admits with a warning the API server shows.
    rule(&app, &s, "warn", "critical", false, ("", ""), "admit").await;
    let (allowed, _, warnings) = admit(&app, &s.hook, "pod-signed.json").await;
    assert!(allowed);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("1 critical known vulnerabilities at or above critical (CVE-2024-6387)"), "{warnings:?}");

    // Verify never-scanned images: worker is signed but never scanned.
    for (unscanned, expected) in [("admit", true), ("warn", true), ("refuse", false)] {
        rule(&app, &s, "warn", "critical", false, ("", ""), unscanned).await;
        let (allowed, message, warnings) = admit(&app, &s.hook, "deployment.json").await;
        assert_eq!(allowed, expected, "{unscanned}: {message}");
        let said = format!("{message}{warnings:?}");
        assert_eq!(said.contains(&format!("{} (initContainer warm-cache): never scanned for vulnerabilities", image("worker", D3))), unscanned == "refuse", "{said}");
        assert_eq!(said.contains("never scanned"), unscanned != "admit", "{said}");
    }

    // Verify a tag-only image is treated as never scanned, and the decision says why.
    let (allowed, message, _) = admit(&app, &s.hook, "pod-tag-only.json").await;
    assert!(!allowed);
    assert!(message.contains("pinned by tag only, so no vulnerability scan can be matched to it"), "{message}");
    assert!(message.contains("not pinned by digest"), "the signature rule still says its part: {message}");

    // Verify the decisions are in the admission log, with the reasons.
    bulwark::signature::decisions::flush(app.db()).await.unwrap();
    let denied = app.count("SELECT COUNT(*) FROM sig_decisions WHERE outcome = 'denied' AND reason LIKE '%known vulnerabilities%'").await;
    assert_eq!(denied, 2);
}

/// An exception lets one CVE pass until it expires (then it counts again, with no write), per
/// repository when it names one; adding and removing are audited; viewers cannot add.
#[tokio::test(flavor = "multi_thread")]
async fn exceptions_let_a_cve_pass_until_they_expire() {
    let app = TestApp::new().await;
    let s = scene(&app).await;
    let token = app.token(&s.admin, "ci").await;
    scan(&app, &token, &report_with("2026-11-17T08:12:44Z", &image("web", D1), &[("CVE-2024-6387", "CRITICAL", "1:9.2p1-2+deb12u3")])).await;
    rule(&app, &s, "refuse", "critical", false, ("", ""), "admit").await;
    assert!(!admit(&app, &s.hook, "pod-signed.json").await.0);

    let add = |id: &'static str, repository: &'static str, until: &'static str| {
        let app = &app;
        let admin = &s.admin;
        async move {
            app.call(Some(admin), "signature/create_vuln_exception", &[
                ("input[vulnerability_id]", id),
                ("input[repository]", repository),
                ("input[reason]", "Not reachable: sshd is not started in this image"),
                ("input[expires_on]", until),
            ])
            .await
        }
    };
    // Verify bad input is refused beside each field.
    let bad = add("not an id", "registry.example.com/shop/web:1.4", "2026-11-01").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let fields = bad.json()["Validation"].clone();
    assert!(fields["vulnerability_id"].is_string() && fields["expires_on"].is_string(), "{fields}");
    let tagged = add("CVE-2024-6387", "registry.example.com/shop/web:1.4", "2026-12-31").await;
    assert!(tagged.json()["Validation"]["repository"].as_str().unwrap().contains("without a tag"), "{}", tagged.body);

    // Another repository's exception does not apply; one for shop/web does.
    ok(add("CVE-2024-6387", "registry.example.com/shop/api", "2026-12-31").await).await;
    assert!(!admit(&app, &s.hook, "pod-signed.json").await.0);
    let id = ok(add("CVE-2024-6387", "registry.example.com/shop/web", "2026-12-31").await).await.as_i64().unwrap();
    assert!(admit(&app, &s.hook, "pod-signed.json").await.0);
    let duplicate = add("CVE-2024-6387", "registry.example.com/shop/web", "2027-01-31").await;
    assert!(duplicate.json()["Validation"]["vulnerability_id"].as_str().unwrap().contains("exists"), "{}", duplicate.body);

    // Verify viewers see exceptions but cannot add or remove them.
    let shop = sqlx::query_scalar::<_, i64>("SELECT account_id FROM image_vuln_exceptions LIMIT 1").fetch_one(&app.db().pool).await.unwrap();
    app.user(shop, "viewer@shop.test", Role::Viewer).await;
    let viewer = app.sign_in("viewer@shop.test").await;
    assert_eq!(ok(app.call(Some(&viewer), "signature/list_vuln_exceptions", &[]).await).await.as_array().unwrap().len(), 2);
    let refused = app.call(Some(&viewer), "signature/delete_vuln_exception", &[("id", &id.to_string())]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    ok(app.call(Some(&s.admin), "signature/delete_vuln_exception", &[("id", &id.to_string())]).await).await;
    assert!(!admit(&app, &s.hook, "pod-signed.json").await.0);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'signature.exception.%'").await, 3);

    // An exception that runs out a few seconds from now: admitted while it runs, refused after,
    // with nothing written in between (the cached verdict lapses on its own).
    let expires_at = now() + 6;
    sqlx::query(
        "INSERT INTO image_vuln_exceptions (account_id, vulnerability_id, repository, reason, created_by, created_at, expires_at)
         VALUES ($1, 'CVE-2024-6387', '', 'hotfix rolling out', 'test', $2, $3)",
    )
    .bind(shop)
    .bind(now())
    .bind(expires_at)
    .execute(&app.db().pool)
    .await
    .unwrap();
    assert!(admit(&app, &s.hook, "pod-signed.json").await.0, "admitted while the exception runs");
    assert!(now() < expires_at, "the machine took too long to admit the pod within the exception's six seconds");
    let version = app.count("SELECT version FROM signature_state").await;
    while now() <= expires_at {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (allowed, message, _) = admit(&app, &s.hook, "pod-signed.json").await;
    assert!(!allowed, "refused once the exception expired");
    assert!(message.contains("CVE-2024-6387"), "{message}");
    assert_eq!(app.count("SELECT version FROM signature_state").await, version, "nothing was written to end the exception");
    let listed = ok(app.call(Some(&s.admin), "signature/list_vuln_exceptions", &[]).await).await;
    let expired = listed.as_array().unwrap().iter().find(|e| e["reason"] == "hotfix rolling out").unwrap();
    assert_eq!(expired["expired"], true);
}

/// A new scan stored through one console takes effect on the next review of another console on
/// the same database, which had cached the verdict.
#[tokio::test(flavor = "multi_thread")]
async fn a_new_scan_changes_the_verdict_on_every_replica() {
    let app = TestApp::new().await;
    let s = scene(&app).await;
    let token = app.token(&s.admin, "ci").await;
    scan(&app, &token, &report("2026-11-17T08:12:44Z", None)).await;
    rule(&app, &s, "refuse", "high", false, ("", ""), "refuse").await;
    assert!(!admit(&app, &s.hook, "pod-signed.json").await.0);
    assert!(!admit(&app, &s.hook, "pod-signed.json").await.0, "the cached verdict");

    let replica = app.restart().await;
    scan(&replica, &token, &report_with("2026-11-18T07:00:00Z", &image("web", D1), &[("CVE-2025-0002", "MEDIUM", "3.0.13-1~deb12u1")])).await;
    assert!(admit(&app, &s.hook, "pod-signed.json").await.0, "the rebuilt image is admitted at once");
    scan(&replica, &token, &report_with("2026-11-18T08:00:00Z", &image("web", D1), &[("CVE-2025-0003", "HIGH", "")])).await;
    assert!(!admit(&app, &s.hook, "pod-signed.json").await.0);
}

/// Every review adds its images to the inventory of the cluster, namespace and workload, with
/// the outcome each got; the Images tab filters by cluster, namespace, unsigned, vulnerable and
/// never scanned.
#[tokio::test(flavor = "multi_thread")]
async fn the_inventory_shows_what_ran_where_and_the_images_tab_filters_it() {
    let app = TestApp::new().await;
    let s = scene(&app).await;
    let token = app.token(&s.admin, "ci").await;
    scan(&app, &token, &report("2026-11-17T08:12:44Z", None)).await;
    scan(&app, &token, &report_with("2026-11-17T08:12:44Z", &image("tools", D4), &[("CVE-2024-0001", "LOW", "")])).await;
    rule(&app, &s, "refuse", "critical", false, ("", ""), "admit").await;
    // web is refused for its critical, tools for its missing signature, api admitted.
    assert!(!admit(&app, &s.hook, "pod-three-containers.json").await.0);
    assert!(admit(&app, &s.hook, "pod-other-namespace.json").await.0);

    let all = images(&app, &s.admin, &[]).await;
    let by_repo = |name: &str| all.iter().find(|i| i["repository"] == format!("{REGISTRY}/{name}")).unwrap().clone();
    let web = by_repo("web");
    let run = web["runs"].as_array().unwrap().iter().find(|r| r["workload_name"] == "shop-frontend").unwrap().clone();
    assert_eq!((run["namespace"].as_str(), run["workload_kind"].as_str(), run["outcome"].as_str()), (Some("shop"), Some("Pod"), Some("Denied")));
    assert_eq!(run["cluster_name"], "prod-eu");
    assert_eq!(by_repo("api")["last_outcome"], "Allowed", "the pod was denied, but api itself passed");
    assert_eq!(by_repo("tools")["last_outcome"], "Denied");
    assert_eq!((by_repo("tools")["runs_total"].as_i64(), by_repo("tools")["runs"].as_array().unwrap().len()), (Some(2), 2));
    assert_eq!(by_repo("tools")["runs"][0]["workload_name"], "shop-frontend", "the most recent first");

    let names = |list: Vec<Value>| {
        let mut names: Vec<String> = list.iter().map(|i| i["repository"].as_str().unwrap().trim_start_matches("registry.example.com/shop/").to_string()).collect();
        names.sort();
        names
    };
    let cluster = s.cluster_id.to_string();
    assert_eq!(names(images(&app, &s.admin, &[("vulnerable", "true")]).await), ["web"]);
    assert_eq!(names(images(&app, &s.admin, &[("unsigned", "true"), ("cluster_id", &cluster)]).await), ["tools"]);
    assert_eq!(names(images(&app, &s.admin, &[("never_scanned", "true"), ("cluster_id", &cluster), ("namespace", "shop")]).await), ["api"]);
    assert_eq!(names(images(&app, &s.admin, &[("cluster_id", &cluster), ("namespace", "dev")]).await).len(), 1, "the other-namespace pod");
    assert!(images(&app, &s.admin, &[("cluster_id", "999999")]).await.is_empty());
}

/// `bulwark trivy import --image` stores an image scan from the command line, audited as the
/// operator; without --image it takes the report's digest; a wrong image is refused, naming it.
#[tokio::test(flavor = "multi_thread")]
async fn the_command_line_imports_image_scans() {
    let app = TestApp::new().await;
    let s = scene(&app).await;
    let account_no = sqlx::query_scalar::<_, String>("SELECT account_no FROM accounts WHERE name = 'Shop'").fetch_one(&app.db().pool).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scan.json");
    std::fs::write(&file, report("2026-11-17T08:12:44Z", None).to_string()).unwrap();
    let url = app.state.config.database_url.clone();
    let run = |args: Vec<String>| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || crate::cli::bulwark(&url).args(args).output().expect("run bulwark"))
    };
    let path = file.display().to_string();

    let wrong = run(vec!["trivy".into(), "import".into(), path.clone(), "--image".into(), image("web", D2), "--account".into(), account_no.clone()]).await.unwrap();
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains(&format!("not of {D2}")), "{}", String::from_utf8_lossy(&wrong.stderr));
    assert_eq!(app.count("SELECT COUNT(*) FROM image_scans").await, 0);

    let stored = run(vec!["trivy".into(), "import".into(), path, "--account".into(), account_no]).await.unwrap();
    assert!(stored.status.success(), "{}", String::from_utf8_lossy(&stored.stderr));
    assert!(String::from_utf8_lossy(&stored.stdout).contains(&format!("Scan of {} stored: 4 vulnerabilities", image("web", D1))), "{}", String::from_utf8_lossy(&stored.stdout));
    let web = images(&app, &s.admin, &[("search", "shop/web"), ("vulnerable", "true")]).await;
    assert_eq!(web.len(), 1);
    assert_eq!(web[0]["scan"]["imported_by"], "operator (command line)");
}
