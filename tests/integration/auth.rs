use axum::http::StatusCode;

use bulwark::editions::Edition;
use bulwark::auth::model::Role;

use crate::common::*;

/// A wrong password and an unknown email get the same answer, and no session.
#[tokio::test(flavor = "multi_thread")]
async fn sign_in_failure_does_not_say_which_part_was_wrong() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;

    let wrong_password = app.call(None, "sign_in", &[("email", &email), ("password", "not the password")]).await;
    let unknown_email = app.call(None, "sign_in", &[("email", "nobody@alpha.test"), ("password", PASSWORD)]).await;

    // Verify both are 401 with the identical body and neither signs in.
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_email.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password.body, unknown_email.body);
    assert!(wrong_password.body.contains("BadCredentials"), "{}", wrong_password.body);
    let me = app.call(session_cookie(&wrong_password).as_ref(), "get_me", &[]).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
}

/// After five failures within 15 minutes even the right password is refused for a while.
#[tokio::test(flavor = "multi_thread")]
async fn repeated_failures_throttle_sign_in() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    for _ in 0..5 {
        let r = app.call(None, "sign_in", &[("email", &email), ("password", "guess")]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }

    let right = app.call(None, "sign_in", &[("email", &email), ("password", PASSWORD)]).await;

    // Verify the sixth attempt is throttled and says when to retry.
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS, "{}", right.body);
    assert!(right.body.contains("Try again in 15 minutes"), "{}", right.body);
    assert!(session_cookie(&right).is_none());
    // Verify the throttle is per email: another user still signs in.
    app.user(app.count("SELECT MIN(id) FROM accounts").await, "other@alpha.test", Role::Viewer).await;
    app.sign_in("other@alpha.test").await;
}

/// Sign-in sets an HttpOnly, SameSite session cookie; sign-out ends the session.
#[tokio::test(flavor = "multi_thread")]
async fn sign_in_and_out() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;

    let response = app.call(None, "sign_in", &[("email", &email.to_uppercase()), ("password", PASSWORD)]).await;
    let cookie = response.headers.get("set-cookie").unwrap().to_str().unwrap().to_string();

    // Verify the cookie's flags, and that the email matched case-insensitively.
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let session = session_cookie(&response).unwrap();
    let me = app.call(Some(&session), "get_me", &[]).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.json()["email"], email);
    assert_eq!(me.json()["account"]["edition"], "Basic");

    app.call(Some(&session), "sign_out", &[]).await;
    // Verify the old cookie no longer works.
    assert_eq!(app.call(Some(&session), "get_me", &[]).await.status, StatusCode::UNAUTHORIZED);
}

/// Server functions refuse callers without a session.
#[tokio::test(flavor = "multi_thread")]
async fn server_functions_need_a_session() {
    let app = TestApp::new().await;
    for function in ["get_me", "get_overview", "list_users", "list_tokens", "list_audit"] {
        let r = app.call(None, function, &[("page", "1")]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{function}: {}", r.body);
    }
}

/// After sign-in only same-site paths are followed: a crafted `next` (a tab or a line break that
/// browsers drop, a second slash, a backslash, control characters) goes to the Overview, and none
/// of them leaves the request without an answer.
#[tokio::test(flavor = "multi_thread")]
async fn sign_in_follows_only_same_site_next_paths() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let sign_in = |next: &'static str| {
        let email = email.clone();
        let app = &app;
        async move { app.call(None, "sign_in", &[("email", &email), ("password", PASSWORD), ("next", next)]).await }
    };
    let kept = sign_in("/operation/reports?name=a%20b").await;
    // Verify a plain path is kept (a server function answers fetch with 200 and the Location).
    assert!(kept.status.is_success() || kept.status.is_redirection(), "{} {}", kept.status, kept.body);
    assert_eq!(kept.headers["location"], "/operation/reports?name=a%20b");
    for crafted in ["/\t/evil.example", "/\n/evil.example", "//evil.example", "/\\evil.example", "/assets\r\nSet-Cookie: a=b", "/\u{1}x", "/\u{7f}", "https://evil.example"] {
        let response = sign_in(crafted).await;
        // Verify the answer sends the browser to the Overview, never to the crafted place.
        assert!(response.status.is_success() || response.status.is_redirection(), "{crafted:?}: {} {}", response.status, response.body);
        assert_eq!(response.headers["location"], "/", "{crafted:?}");
    }
}

/// An email longer than any real one is refused before any password work or throttling, and a
/// console whose password checks are all busy answers 429 after a short wait instead of piling up.
#[tokio::test(flavor = "multi_thread")]
async fn sign_in_bounds_its_own_work() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let long = format!("{}@alpha.test", "a".repeat(250));
    let refused = app.call(None, "sign_in", &[("email", &long), ("password", PASSWORD)]).await;
    // Verify a field error naming the limit, and no failure recorded against anyone.
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains("at most 254 characters"), "{}", refused.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM sign_in_failures").await, 0);

    let busy = app.state.password_checks.take_all().await;
    let waited = app.call(None, "sign_in", &[("email", &email), ("password", PASSWORD)]).await;
    // Verify: too busy, said plainly, no session.
    assert_eq!(waited.status, StatusCode::TOO_MANY_REQUESTS, "{}", waited.body);
    assert!(waited.body.contains("busy checking other sign-ins"), "{}", waited.body);
    assert!(session_cookie(&waited).is_none());
    drop(busy);
    app.sign_in(&email).await;
}
