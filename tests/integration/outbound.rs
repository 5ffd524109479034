//! The outbound request policy, attacked: DingTalk robots, redirects, response bodies and an
//! account's SMTP server aimed at this machine (the stand-in for an internal service or a
//! cloud metadata address), refused unless the operator allowed them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use bulwark::auth::model::Role;
use bulwark::editions::Edition;
use bulwark::playbook::dingtalk::{self, Robot};
use bulwark::server::mailer::{Mailer, OutgoingMail};
use bulwark::server::outbound::OutboundPolicy;

use crate::common::*;

/// A loopback HTTP server that answers every request with `response` and counts requests.
async fn receiver(response: String) -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let response = response.clone();
            tokio::spawn(async move {
                let mut buffer = [0u8; 8192];
                let _ = stream.read(&mut buffer).await;
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (port, hits)
}

fn answer(status: &str, extra_headers: &str, body: &str) -> String {
    format!("HTTP/1.1 {status}\r\n{extra_headers}Content-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
}

fn robot(port: u16) -> Robot {
    Robot { webhook: format!("http://127.0.0.1:{port}/robot/send?access_token=t"), secret: None, keywords: Vec::new() }
}

async fn send(app: &TestApp, robot: &Robot) -> Result<(), String> {
    dingtalk::send(&app.state.outbound, robot, "Bulwark", "text", 1_700_000_000_000).await.map_err(|e| e.to_string())
}

/// With the default policy a robot must be https on oapi.dingtalk.com; nothing is stored otherwise.
#[tokio::test(flavor = "multi_thread")]
async fn robots_post_only_to_the_operators_dingtalk_hosts() {
    let app = TestApp::strict().await;
    let (_, email) = app.account("Alpha", Edition::Enterprise, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let (port, hits) = receiver(answer("200 OK", "", r#"{"errcode":0}"#)).await;

    for (webhook, message) in [
        (format!("http://127.0.0.1:{port}/robot/send?access_token=t"), "Use an https:// URL.".to_string()),
        ("https://169.254.169.254/latest/meta-data/".to_string(), "DingTalk robots post to oapi.dingtalk.com; the console's operator can allow other hosts in BULWARK_DINGTALK_HOSTS.".to_string()),
        ("https://oapi.dingtalk.com.evil.example/robot/send".to_string(), "DingTalk robots post to oapi.dingtalk.com; the console's operator can allow other hosts in BULWARK_DINGTALK_HOSTS.".to_string()),
    ] {
        let response = app.call(Some(&admin), "create_chatbot", &[("input[name]", "ops"), ("input[webhook]", &webhook)]).await;
        // Verify the refusal sits beside the field, and nothing was written or sent.
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{webhook}: {}", response.body);
        assert_eq!(response.json()["Validation"]["webhook"], message, "{webhook}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM dingtalk_chatbots").await, 0);
    // A robot stored before the policy (or by hand) is refused when it would send.
    assert_eq!(send(&app, &robot(port)).await.unwrap_err(), "Use an https:// URL.");
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

/// A DingTalk host the operator listed still has to resolve to an allowed address.
#[tokio::test(flavor = "multi_thread")]
async fn a_listed_robot_host_on_a_private_address_is_not_reached() {
    let (policy, _) = OutboundPolicy::parse("", Some("http://127.0.0.1, http://localhost"));
    let app = TestApp::with_outbound(policy).await;
    let (port, hits) = receiver(answer("200 OK", "", r#"{"errcode":0}"#)).await;

    let refused = "127.0.0.1 is not a public address; this console only sends to public addresses unless its operator allows the host in BULWARK_OUTBOUND_ALLOW";
    assert_eq!(send(&app, &robot(port)).await.unwrap_err(), format!("cannot reach DingTalk: {refused}"));
    // A name is checked after it resolves.
    let by_name = Robot { webhook: format!("http://localhost:{port}/robot/send"), ..robot(port) };
    assert_eq!(
        send(&app, &by_name).await.unwrap_err(),
        "cannot reach DingTalk: localhost is not a public address; this console only sends to public addresses unless its operator allows the host in BULWARK_OUTBOUND_ALLOW"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0);

    // Once the operator allows loopback, the same robot is reached.
    let allowed = TestApp::new().await;
    send(&allowed, &robot(port)).await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

/// A redirect (to a metadata address, here another loopback server) is not followed, and an
/// unexpected answer's body is never part of the result that the notification log keeps.
#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_not_followed_and_bodies_are_not_kept() {
    let app = TestApp::new().await;
    let (target, target_hits) = receiver(answer("200 OK", "", r#"{"errcode":0}"#)).await;
    let (port, _) = receiver(answer("302 Found", &format!("Location: http://127.0.0.1:{target}/latest/meta-data/\r\n"), "")).await;
    assert_eq!(send(&app, &robot(port)).await.unwrap_err(), "DingTalk answered HTTP 302");
    assert_eq!(target_hits.load(Ordering::SeqCst), 0, "the redirect was followed");

    let secret = "aws_secret_access_key=internal-only";
    let (port, _) = receiver(answer("500 Internal Server Error", "", secret)).await;
    assert_eq!(send(&app, &robot(port)).await.unwrap_err(), "DingTalk answered HTTP 500");
    let (port, _) = receiver(answer("200 OK", "", secret)).await;
    assert_eq!(send(&app, &robot(port)).await.unwrap_err(), "DingTalk answered HTTP 200 with something other than its JSON answer");
    let (port, _) = receiver(answer("200 OK", "", &format!("{{\"errcode\":0,\"padding\":\"{}\"}}", "x".repeat(20_000)))).await;
    assert_eq!(send(&app, &robot(port)).await.unwrap_err(), "DingTalk's answer was longer than 16 KiB");
}

/// An account's SMTP server is held to the same policy: saving one on a private address is
/// refused beside the host field, and a stored one is not connected to.
#[tokio::test(flavor = "multi_thread")]
async fn an_account_smtp_server_on_a_private_address_is_refused() {
    let app = TestApp::strict().await;
    let (_, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let sink = SmtpSink::start();

    let response = app.call(Some(&admin), "save_smtp_settings", &form(&sink.settings_form())).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.body);
    assert_eq!(
        response.json()["Validation"]["host"],
        "127.0.0.1 is not a public address; this console only sends to public addresses unless its operator allows the host in BULWARK_OUTBOUND_ALLOW"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM smtp_settings").await, 0);

    let settings = bulwark::server::mailer::SmtpSettings {
        host: "localhost".into(),
        port: sink.port,
        security: bulwark::server::mailer::SmtpSecurity::None,
        username: None,
        password: None,
        from: "Bulwark <reports@bulwark.test>".into(),
    };
    let mail = OutgoingMail { to: vec!["ops@alpha.test".into()], subject: "probe".into(), text: "probe".into(), ..Default::default() };
    let error = Mailer::Smtp(settings.clone(), Some(app.state.config.outbound.clone())).send(&mail).await.unwrap_err();
    assert!(error.message.starts_with("localhost is not a public address"), "{}", error.message);
    assert!(sink.messages().is_empty());
    // The operator's own server (BULWARK_SMTP_*) is trusted as configured.
    Mailer::Smtp(settings, None).send(&mail).await.unwrap();
    assert_eq!(sink.messages().len(), 1);
}

/// AUTH without TLS needs the admin's explicit choice; without it the form is refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_password_goes_unencrypted_only_when_the_admin_says_so() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let sink = SmtpSink::start();
    let mut fields = sink.settings_form();
    fields.retain(|(k, _)| !matches!(*k, "smtp[username]" | "smtp[password]"));
    fields.push(("smtp[username]", "reports".into()));
    fields.push(("smtp[password]", "relay-password".into()));

    let response = app.call(Some(&admin), "save_smtp_settings", &form(&fields)).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.body);
    assert!(response.json()["Validation"]["security"].as_str().unwrap().starts_with("Without encryption the user name and password cross the network"));
    assert_eq!(app.count("SELECT COUNT(*) FROM smtp_settings").await, 0);

    fields.push(("smtp[plain_auth]", "true".into()));
    let response = app.call(Some(&admin), "save_smtp_settings", &form(&fields)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM smtp_settings").await, 1);
}
