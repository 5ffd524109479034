use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;

use bulwark::editions::Edition;
use bulwark::auth::model::Role;

use crate::common::*;

/// Console pages redirect to sign-in when signed out, and render fully on the server when signed in.
#[tokio::test(flavor = "multi_thread")]
async fn pages_render_on_the_server() {
    let app = TestApp::new().await;
    let signed_out = app.get(None, "/assets?q=web").await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER, "{}", signed_out.body);
    assert_eq!(signed_out.headers["location"], "/sign-in?next=%2Fassets%3Fq%3Dweb");

    let (_, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let token = app.token(&admin, "scanner").await;
    app.api(&token, Method::POST, "/api/v1/assets", Some(json!({ "assets": [asset("i-1", "web-1", "10.0.0.1"), asset("i-2", "db-1", "10.0.0.2")] }))).await;

    let page = app.get(Some(&admin), "/assets?q=10.0.0.2").await;
    // Verify the server-rendered HTML holds the search result and not the other asset.
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("db-1"), "{}", page.body);
    assert!(!page.body.contains(">web-1<"));

    let upgrade = app.get(Some(&admin), "/playbook/policy-center").await;
    // Verify a Basic account gets the upgrade page, rendered on the server.
    assert!(upgrade.body.contains("Upgrade to Enterprise to use Playbooks"), "{}", upgrade.body);

    assert_eq!(app.get(Some(&admin), "/no-such-page").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(None, "/healthz").await.body, "ok");
}

/// A signed-out visit to any console page is a 303 to the sign-in page that names the page, and
/// every response carries the browser security headers.
#[tokio::test(flavor = "multi_thread")]
async fn signed_out_pages_redirect_with_303_and_headers_guard_the_browser() {
    let app = TestApp::new().await;
    for path in ["/", "/operation/reports", "/operation/reports/archive/7", "/settings/tokens", "/precaution/container-signature/keys"] {
        let page = app.get(None, path).await;
        // Verify a real redirect, with the page to come back to.
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}: {}", page.body);
        let next = bulwark::format::url_encode(path);
        assert_eq!(page.headers["location"], format!("/sign-in?next={next}"), "{path}");
    }
    let sign_in = app.get(None, "/sign-in").await;
    assert_eq!(sign_in.status, StatusCode::OK);
    for response in [&sign_in, &app.get(None, "/healthz").await] {
        // Verify the headers that keep the console out of frames and sniffing.
        assert_eq!(response.headers["x-content-type-options"], "nosniff");
        assert_eq!(response.headers["x-frame-options"], "DENY");
        assert_eq!(response.headers["referrer-policy"], "same-origin");
        assert!(response.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    }
}

/// A signed-out call of a server function is refused as the function itself would refuse it
/// (401, `Unauthorized`, the server-function error header), and a form posted without JavaScript
/// is sent to the sign-in page; signing in and asking who is signed in stay open.
#[tokio::test(flavor = "multi_thread")]
async fn signed_out_server_function_calls_are_refused() {
    let app = TestApp::new().await;
    let refused = app.call(None, "create_report", &[("report[name]", "x")]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert_eq!(refused.json(), serde_json::json!("Unauthorized"));
    assert_eq!(refused.headers["serverfnerror"], "/api/create_report");
    let form = Request::builder()
        .method(Method::POST)
        .uri("/api/create_report")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .body(Body::from("report[name]=x"))
        .unwrap();
    let redirected = app.request(form).await;
    assert_eq!(redirected.status, StatusCode::SEE_OTHER, "{}", redirected.body);
    assert_eq!(redirected.headers["location"], "/sign-in");
    // Verify the open ones still answer: get_me says nobody, sign_in judges the password.
    let me = app.call(None, "get_me", &[]).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{}", me.body);
    let sign_in = app.call(None, "sign_in", &[("email", "nobody@example.test"), ("password", "wrong-password")]).await;
    assert_eq!(sign_in.json(), serde_json::json!("BadCredentials"), "{}", sign_in.body);
}

/// A page's scripts run only with the nonce of its own response: the hydration scripts carry it,
/// the header names it, each response has a new one, and an injected script without it would be
/// refused by the browser. Other responses allow no script at all.
#[tokio::test(flavor = "multi_thread")]
async fn pages_allow_only_their_own_nonced_scripts() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let nonce_of = |response: &Response| {
        let policy = response.headers["content-security-policy"].to_str().unwrap().to_string();
        let script_src = policy.split(';').map(str::trim).find(|d| d.starts_with("script-src")).unwrap().to_string();
        assert!(!script_src.contains("unsafe-inline") && !script_src.contains('*'), "{script_src}");
        let nonce = script_src.split_whitespace().find_map(|t| t.strip_prefix("'nonce-")).map(|n| n.trim_end_matches('\'').to_string());
        (policy, nonce.unwrap_or_else(|| panic!("no nonce in {script_src}")))
    };
    let first = app.get(Some(&admin), "/").await;
    let second = app.get(Some(&admin), "/").await;
    let (policy, nonce) = nonce_of(&first);
    // Verify every inline script of the page carries the header's nonce, and nonces differ.
    let scripts = first.body.matches("<script").count();
    assert!(scripts > 0, "{}", first.body);
    assert_eq!(first.body.matches(&format!("nonce=\"{nonce}\"")).count(), scripts, "{}", first.body);
    assert_ne!(nonce_of(&second).1, nonce);
    for directive in ["frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'", "connect-src 'self'"] {
        assert!(policy.contains(directive), "{directive} missing from {policy}");
    }
    let sign_in = app.get(None, "/sign-in").await;
    assert_eq!(sign_in.status, StatusCode::OK);
    nonce_of(&sign_in);
    let json = app.get(None, "/healthz").await;
    assert!(json.headers["content-security-policy"].to_str().unwrap().contains("script-src 'none'"));
}

/// A state-changing request a browser sends from another site is refused before it runs, even
/// with the victim's session cookie; the console's own pages and non-browser clients still work.
#[tokio::test(flavor = "multi_thread")]
async fn cross_site_writes_are_refused() {
    let app = TestApp::new().await;
    let (account_id, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let create_token = |headers: &'static [(&'static str, &'static str)]| {
        let admin = admin.clone();
        let app = &app;
        async move {
            let mut request = axum::http::Request::builder()
                .method(Method::POST)
                .uri("/api/create_token")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .header("cookie", admin.0.clone());
            for (k, v) in headers {
                request = request.header(*k, *v);
            }
            app.request(request.body(axum::body::Body::from("name=forged")).unwrap()).await
        }
    };
    for attack in [&[("sec-fetch-site", "cross-site")][..], &[("host", "console.local"), ("origin", "https://evil.example")][..], &[("origin", "null")][..]] {
        let refused = create_token(attack).await;
        // Verify 403 with the reason, and nothing written.
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{attack:?}: {}", refused.body);
        assert!(refused.body.starts_with("Refused:"), "{}", refused.body);
    }
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM api_tokens WHERE account_id = {account_id}")).await, 0);
    let own = create_token(&[("sec-fetch-site", "same-origin"), ("host", "console.local"), ("origin", "http://console.local")]).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let script = create_token(&[]).await;
    assert_eq!(script.status, StatusCode::OK, "{}", script.body);
}
