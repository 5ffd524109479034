//! The per-address sign-in limit: 20 failures from one client address in 15 minutes, whatever the
//! emails, refuse that address (429) without touching other addresses; behind a trusted proxy the
//! forwarded address counts, and a forwarded address from anyone else is ignored.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};

use bulwark::auth::model::Role;
use bulwark::editions::Edition;

use crate::common::*;

/// A sign-in as it arrives over TCP from `peer`, with an optional X-Forwarded-For.
async fn sign_in_from(app: &TestApp, peer: &str, forwarded: Option<&str>, email: &str, password: &str) -> Response {
    let body = format!("email={}&password={}", encode(email), encode(password));
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/api/sign_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    let mut request = request.body(Body::from(body)).unwrap();
    request.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    app.request(request).await
}

/// Twenty wrong passwords, each for a different email, from one address.
async fn fail_twenty_times(app: &TestApp, peer: &str, forwarded: Option<&str>) {
    for i in 0..20 {
        let response = sign_in_from(app, peer, forwarded, &format!("guess{i}@elsewhere.test"), "wrong password").await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "attempt {i}: {}", response.body);
    }
}

/// After 20 failures over 20 emails, the address is refused even with a correct password.
#[tokio::test]
async fn twenty_failures_from_one_address_refuse_it() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    fail_twenty_times(&app, "198.51.100.7:40000", None).await;

    let refused = sign_in_from(&app, "198.51.100.7:40001", None, &email, PASSWORD).await;
    // Verify the 21st attempt is refused before any password check, with a clear message.
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    assert!(refused.body.contains("Too many failed sign-in attempts from your network address"), "{}", refused.body);
    assert!(session_cookie(&refused).is_none());
    // Verify no email reached its own limit: the per-email count is one failure each.
    assert_eq!(app.count("SELECT COUNT(*) FROM sign_in_failures WHERE email = 'guess0@elsewhere.test'").await, 1);

    // Verify another address signs the same user in.
    let other = sign_in_from(&app, "203.0.113.9:40000", None, &email, PASSWORD).await;
    assert!(other.status.is_success() || other.status.is_redirection(), "{} {}", other.status, other.body);
    assert!(session_cookie(&other).is_some());
}

/// A client that is not a trusted proxy cannot move its failures elsewhere with X-Forwarded-For.
#[tokio::test]
async fn a_forged_forwarded_address_is_ignored() {
    let app = TestApp::behind_proxies("10.0.0.0/8").await;
    let (_, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    for i in 0..20 {
        // A new forged address each time: were it believed, no address would reach the limit.
        let forged = format!("192.0.2.{i}");
        let response = sign_in_from(&app, "198.51.100.7:40000", Some(&forged), &format!("guess{i}@elsewhere.test"), "wrong").await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{}", response.body);
    }
    // Verify the peer itself is refused, whatever it claims to forward.
    let refused = sign_in_from(&app, "198.51.100.7:40000", Some("192.0.2.200"), &email, PASSWORD).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    // Verify the failures were counted against the peer, not the forged addresses.
    assert_eq!(app.count("SELECT COUNT(*) FROM sign_in_client_failures WHERE address = '198.51.100.7'").await, 20);
    assert_eq!(app.count("SELECT COUNT(*) FROM sign_in_client_failures WHERE address LIKE '192.0.2.%'").await, 0);
}

/// Behind a trusted proxy, each forwarded client has its own count and the proxy is not blocked.
#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_counts() {
    let app = TestApp::behind_proxies("10.0.0.0/8").await;
    let (_, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    // The client's own claim comes first; the proxy appends the address it saw.
    fail_twenty_times(&app, "10.1.2.3:50000", Some("6.6.6.6, 198.51.100.7")).await;

    let refused = sign_in_from(&app, "10.1.2.3:50001", Some("198.51.100.7"), &email, PASSWORD).await;
    // Verify the forwarded client is refused…
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM sign_in_client_failures WHERE address = '198.51.100.7'").await, 20);
    // Verify … while another client through the same proxy signs in.
    let other = sign_in_from(&app, "10.1.2.3:50002", Some("203.0.113.9"), &email, PASSWORD).await;
    assert!(session_cookie(&other).is_some(), "{} {}", other.status, other.body);
}
