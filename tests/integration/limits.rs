//! Request body limits per route (and no body read before authentication), per-account rate
//! limits and quotas, and integer inputs out of range: each attack refused, nothing written.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use bulwark::auth::model::Role;
use bulwark::editions::Edition;

use crate::accounts::management;
use crate::agents::advisory;
use crate::common::*;
use crate::signature::{cluster, enterprise};

const MIB: usize = 1024 * 1024;

/// A POST with a bearer token and a body of exactly these bytes (no Content-Length header, as a
/// streaming client sends it).
fn post(path: &str, token: Option<&str>, body: Vec<u8>) -> Request<Body> {
    let mut request = Request::builder().method(Method::POST).uri(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::from(body)).unwrap()
}

/// `json` followed by spaces up to `size` bytes: still valid JSON.
fn padded(json: &serde_json::Value, size: usize) -> Vec<u8> {
    let mut bytes = json.to_string().into_bytes();
    bytes.resize(size, b' ');
    bytes
}

fn assert_too_large(response: &Response, limit: &str) {
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", response.body);
    assert_eq!(response.json()["message"], format!("The request body is larger than the {limit} this route accepts."), "{}", response.body);
}

/// Every route takes 1 MiB unless it names more; one byte past a route's limit is a 413 naming
/// it and writes nothing, a body just under it is accepted.
#[tokio::test(flavor = "multi_thread")]
async fn bodies_past_the_route_limit_are_refused_naming_it() {
    let app = TestApp::new().await;
    let (_, admin) = enterprise(&app, "Alpha").await;
    let token = app.token(&admin, "scanner").await;

    // Verify a server function (which reads its own body) stops at the default 1 MiB.
    let mut form = b"email=a%40b.test&password=".to_vec();
    form.resize(MIB + 1, b'x');
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/sign_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    assert_too_large(&app.request(request).await, "1 MiB");
    // … and so does a route of the key service's API, behind its token.
    let kms = app.request(post("/api/v1/kms/keys/nope/sign", Some(&token), padded(&json!({}), MIB + 1))).await;
    assert_too_large(&kms, "1 MiB");

    // Verify the ingestion API takes 16 MiB: one byte more is refused and nothing is written.
    let batch = json!({ "assets": [asset("i-big", "big", "10.0.0.1")] });
    let over = app.request(post("/api/v1/assets", Some(&token), padded(&batch, 16 * MIB + 1))).await;
    assert_too_large(&over, "16 MiB");
    assert_eq!(app.count("SELECT COUNT(*) FROM assets").await, 0);
    let under = app.request(post("/api/v1/assets", Some(&token), padded(&batch, 16 * MIB - 1))).await;
    assert_eq!(under.status, StatusCode::OK, "{}", under.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM assets").await, 1);

    // Verify a declared length past the limit is refused without waiting for the body.
    for (path, limit) in [("/api/v1/assets/i-big/trivy", "32 MiB"), ("/api/v1/advisories", "128 MiB"), ("/api/v1/findings", "16 MiB")] {
        let bytes: u64 = limit.trim_end_matches(" MiB").parse::<u64>().unwrap() * MIB as u64 + 1;
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_LENGTH, bytes)
            .body(Body::empty())
            .unwrap();
        assert_too_large(&app.request(request).await, limit);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM advisory_imports").await, 0);

    // Verify an AdmissionReview takes Kubernetes' 3 MiB, once the cluster's token is checked.
    let (_, hook) = cluster(&app, &admin, "prod").await;
    let review = app.request(post(&hook, None, padded(&json!({}), 3 * MIB + 1))).await;
    assert_too_large(&review, "3 MiB");
    bulwark::signature::decisions::flush(app.db()).await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM sig_decisions").await, 0);
}

/// Sends a request over a real socket whose chunked body never ends; returns the status line
/// of the answer, which must come without the body being read.
async fn status_of_endless_post(server: &str, path: &str, extra_headers: &str) -> String {
    let address = server.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n{extra_headers}\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    // The first chunk of a body that goes on for ever (the writer stops only when refused).
    let (mut reader, mut writer) = socket.into_split();
    let feeder = tokio::spawn(async move {
        let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
        while writer.write_all(chunk.as_bytes()).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buffer = [0u8; 1024];
        while !answer.windows(2).any(|w| w == b"\r\n") {
            let n = reader.read(&mut buffer).await.unwrap();
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buffer[..n]);
        }
    })
    .await;
    feeder.abort();
    assert!(read.is_ok(), "{path}: no answer within 5 s");
    String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_string()
}

/// Without a token, credential, enrollment token, cluster token or signed-in session, a request
/// whose body never ends is answered 401 at once: no body is read before the caller is known.
#[tokio::test(flavor = "multi_thread")]
async fn unauthenticated_requests_are_refused_before_their_body_is_read() {
    let app = TestApp::new().await;
    let server = app.serve().await;
    for (path, headers) in [
        ("/api/v1/assets", ""),
        ("/api/v1/findings", "Authorization: Bearer blk_not-a-token\r\n"),
        ("/api/v1/agent/inventory", "Authorization: Bearer not-a-credential\r\n"),
        ("/api/v1/agent/enroll", ""),
        ("/api/v1/assets/i-1/trivy", ""),
        ("/api/v1/advisories", ""),
        ("/api/v1/admission/1/bct_wrong", ""),
        ("/api/v1/kms/keys/k/sign", ""),
        // Server functions: a signed-out caller is refused before the form is read.
        ("/api/create_report", ""),
        ("/api/signature/create_key", ""),
        ("/api/add_user", "Cookie: bulwark_session=not-a-session\r\n"),
    ] {
        let status = status_of_endless_post(&server, path, headers).await;
        // Verify the refusal is the authentication's, not the body limit's.
        assert!(status.starts_with("HTTP/1.1 401"), "{path}: {status}");
    }
}

/// Send Now: five reports a minute per account; the sixth is refused (429, naming the limit and
/// the wait) and sends nothing; another account is not affected; a minute later it is allowed.
#[tokio::test(flavor = "multi_thread")]
async fn send_now_is_limited_to_five_a_minute_per_account() {
    let app = TestApp::new().await;
    let mut accounts = Vec::new();
    for name in ["Alpha", "Beta"] {
        let (_, email) = app.account(name, Edition::Advanced, Role::Admin).await;
        let admin = app.sign_in(&email).await;
        let form = [
            ("report[name]", "Ops daily"),
            ("report[kind]", "daily"),
            ("report[window]", "06-12"),
            ("report[recipients]", "ops@example.test"),
            ("report[custom_start]", ""),
            ("report[custom_end]", ""),
            ("report[sections][0]", "assets"),
        ];
        let created = app.call(Some(&admin), "create_report", &form).await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.body);
        accounts.push((admin, created.json().as_i64().unwrap().to_string()));
    }
    let (alpha, alpha_report) = &accounts[0];
    let (beta, beta_report) = &accounts[1];
    for _ in 0..5 {
        let sent = app.call(Some(alpha), "send_report_now", &[("id", alpha_report)]).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    }
    let refused = app.call(Some(alpha), "send_report_now", &[("id", alpha_report)]).await;

    // Verify the sixth is refused with the limit and the wait, and no delivery was made.
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    let message = refused.json()["TooManyRequests"].as_str().unwrap().to_string();
    assert!(message.starts_with("Send Now is limited to 5 reports a minute per account; try again in "), "{message}");
    assert!(message.ends_with(" s."), "{message}");
    assert_eq!(app.count("SELECT COUNT(*) FROM report_deliveries").await, 5);

    // Verify another account still sends.
    let other = app.call(Some(beta), "send_report_now", &[("id", beta_report)]).await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.body);

    // Verify a minute later the window has reopened.
    app.age_rate_windows(60).await;
    let again = app.call(Some(alpha), "send_report_now", &[("id", alpha_report)]).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM report_deliveries").await, 7);
}

/// Settings › Email's test email: one a minute per account.
#[tokio::test(flavor = "multi_thread")]
async fn test_emails_are_limited_to_one_a_minute_per_account() {
    let app = TestApp::new().await;
    let (_, alpha_email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let (_, beta_email) = app.account("Beta", Edition::Basic, Role::Admin).await;
    let alpha = app.sign_in(&alpha_email).await;
    let beta = app.sign_in(&beta_email).await;
    let test = |session| app.call(Some(session), "send_test_email", &[("to", "ops@example.test")]);
    let first = test(&alpha).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let audited = app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'smtp.test'").await;

    let refused = test(&alpha).await;
    // Verify the second is refused, naming the limit, and nothing was sent or recorded.
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    assert!(refused.json()["TooManyRequests"].as_str().unwrap().starts_with("Test emails are limited to 1 a minute per account; try again in "));
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'smtp.test'").await, audited);

    // Verify another account is not affected, and a minute later the first may test again.
    assert_eq!(test(&beta).await.status, StatusCode::OK);
    app.age_rate_windows(60).await;
    assert_eq!(test(&alpha).await.status, StatusCode::OK);
}

/// Advisory uploads: ten an hour per account, counted before the body is read.
#[tokio::test(flavor = "multi_thread")]
async fn advisory_uploads_are_limited_to_ten_an_hour_per_account() {
    let app = TestApp::new().await;
    let (_, alpha) = enterprise(&app, "Alpha").await;
    let (_, beta) = enterprise(&app, "Beta").await;
    let alpha = app.token(&alpha, "feeds").await;
    let beta = app.token(&beta, "feeds").await;
    let upload = |token: &str| {
        let body = advisory("DSA-1-1", "openssl", json!([{ "introduced": "0" }, { "fixed": "3.0.13-1" }])).to_string().into_bytes();
        app.request(post("/api/v1/advisories?name=one.json", Some(token), body))
    };
    for _ in 0..10 {
        let imported = upload(&alpha).await;
        assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    }
    let refused = upload(&alpha).await;

    // Verify the eleventh is refused with the limit and the wait in minutes, and not recorded.
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    let message = refused.json()["message"].as_str().unwrap().to_string();
    assert!(message.starts_with("Advisory uploads are limited to 10 an hour per account; try again in "), "{message}");
    assert!(message.ends_with(" min."), "{message}");
    assert_eq!(app.count("SELECT COUNT(*) FROM advisory_imports").await, 10);

    // Verify another account uploads, and an hour later the first may again.
    assert_eq!(upload(&beta).await.status, StatusCode::OK);
    app.age_rate_windows(59 * 60).await;
    assert_eq!(upload(&alpha).await.status, StatusCode::TOO_MANY_REQUESTS);
    app.age_rate_windows(60).await;
    assert_eq!(upload(&alpha).await.status, StatusCode::OK);
}

async fn create_member(app: &TestApp, admin: &Session, name: &str) -> Response {
    app.call(Some(admin), "create_member", &[("member[name]", name), ("member[folder]", "")]).await
}

/// Gives `holding` 999 member accounts, one short of the quota.
async fn seed_members(app: &TestApp, holding: i64) {
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
         INSERT INTO accounts (account_no, name, edition, kind, created_at) SELECT 'seed-' || i, 'Seed ' || i, 'basic', 'resource', 0 FROM n",
    )
    .execute(&app.db().pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO directory_members (member_account_id, management_account_id, joined_by, joined_at) SELECT id, $1, 'created', 0 FROM accounts WHERE account_no LIKE 'seed-%'")
        .bind(holding)
        .execute(&app.db().pool)
        .await
        .unwrap();
}

/// A management account has at most 1,000 member accounts: the 1,001st is refused (409), created
/// or invited, and nothing is written.
#[tokio::test(flavor = "multi_thread")]
async fn a_management_account_has_at_most_a_thousand_members() {
    let app = TestApp::new().await;
    let (holding, admin) = management(&app).await;
    let (outsider, _) = app.account("Outsider", Edition::Basic, Role::Admin).await;
    seed_members(&app, holding).await;
    // The thousandth member is allowed.
    assert_eq!(create_member(&app, &admin, "Last").await.status, StatusCode::OK);
    let accounts = app.count("SELECT COUNT(*) FROM accounts").await;

    let refused = create_member(&app, &admin, "One too many").await;
    // Verify the next is refused with the quota named, and no account was opened.
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.json()["Conflict"].as_str().unwrap().contains("at most 1,000 member accounts"), "{}", refused.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM accounts").await, accounts);
    // Verify an invitation is refused the same way, and none is stored.
    let outsider_no = sqlx::query_scalar::<_, String>("SELECT account_no FROM accounts WHERE id = $1").bind(outsider).fetch_one(&app.db().pool).await.unwrap();
    let invited = app.call(Some(&admin), "invite_account", &[("account_no", &outsider_no)]).await;
    assert_eq!(invited.status, StatusCode::CONFLICT, "{}", invited.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM directory_invitations").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM directory_members").await, 1_000);
}

/// Two admins (or two replicas) adding the thousandth member at once: one gets it, the other is
/// refused. On PostgreSQL the account's row is locked while the count is checked.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_adds_do_not_pass_the_member_quota() {
    let app = TestApp::new().await;
    let (holding, admin) = management(&app).await;
    seed_members(&app, holding).await;
    let (a, b, c, d) = tokio::join!(
        create_member(&app, &admin, "A"),
        create_member(&app, &admin, "B"),
        create_member(&app, &admin, "C"),
        create_member(&app, &admin, "D"),
    );
    let statuses = [a.status, b.status, c.status, d.status];
    // Verify exactly one was added and the directory holds exactly the quota.
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 3, "{statuses:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM directory_members").await, 1_000);
}

/// A playbook task covers at most 100,000 hosts × vulnerabilities: more is refused beside the
/// vulnerabilities field (422) and no task is written.
#[tokio::test(flavor = "multi_thread")]
async fn a_playbook_task_covers_at_most_a_hundred_thousand_pairs() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Enterprise, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let mut form = vec![("input[policy_id]".to_string(), "1".to_string()), ("input[name]".to_string(), "Everything".to_string())];
    form.extend((0..10_000).map(|i| (format!("input[asset_ids][{i}]"), (i + 1).to_string())));
    form.extend((0..11).map(|i| (format!("input[vulnerability_ids][{i}]"), (i + 1).to_string())));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let refused = app.call(Some(&admin), "create_task", &pairs).await;

    // Verify the refusal names the quota beside the field, and nothing was written.
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    let message = refused.json()["Validation"]["vulnerabilities"].as_str().unwrap().to_string();
    assert!(message.starts_with("A task covers at most 100,000 hosts × vulnerabilities; 10000 × 11 is 110000."), "{message}");
    assert_eq!(app.count("SELECT COUNT(*) FROM playbook_tasks").await, 0);
}

/// Page numbers, ids and day counts at the ends of their range are clamped or refused with a 4xx,
/// never a 500 or a panic.
#[tokio::test(flavor = "multi_thread")]
async fn integer_inputs_at_the_ends_of_their_range_never_fail_the_server() {
    let app = TestApp::new().await;
    let (_, admin) = enterprise(&app, "Alpha").await;
    let max = i64::MAX.to_string();
    let min = i64::MIN.to_string();
    for page in [max.as_str(), min.as_str(), "-1", "0"] {
        // Verify a page out of range shows the nearest page.
        let audit = app.call(Some(&admin), "list_audit", &[("page", page)]).await;
        assert_eq!(audit.status, StatusCode::OK, "{page}: {}", audit.body);
        let archive = app.call(Some(&admin), "list_archive", &[("page", page)]).await;
        assert_eq!(archive.status, StatusCode::OK, "{page}: {}", archive.body);
        assert_eq!(archive.json()["page"], 1, "{page}");
        let images = app.call(Some(&admin), "signature/list_images", &[("search", ""), ("page", page)]).await;
        assert_eq!(images.status, StatusCode::OK, "{page}: {}", images.body);
    }
    // Verify a number past i64 is a 400, and ids at the ends of the range are simply not found.
    let overflow = app.call(Some(&admin), "list_audit", &[("page", "9223372036854775808")]).await;
    assert_eq!(overflow.status, StatusCode::BAD_REQUEST, "{}", overflow.body);
    for id in [max.as_str(), min.as_str()] {
        assert_eq!(app.call(Some(&admin), "get_report", &[("id", id)]).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.call(Some(&admin), "get_task", &[("id", id), ("run", id)]).await.status, StatusCode::NOT_FOUND);
    }
    // Verify the key deletion delay and an enrollment token's lifetime refuse huge values beside the field.
    let days = app.call(Some(&admin), "signature/schedule_key_deletion", &[("key_id", "none"), ("days", &max)]).await;
    assert_eq!(days.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", days.body);
    let token = app.call(Some(&admin), "create_enrollment_token", &[("input[name]", "fleet"), ("input[group]", ""), ("input[expires_in_days]", &max)]).await;
    assert_eq!(token.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", token.body);
}
