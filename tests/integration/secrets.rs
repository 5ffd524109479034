//! Secrets and their hints in what the console sends: viewers get none, admins a masked form.

use axum::http::StatusCode;

use bulwark::auth::model::Role;
use bulwark::editions::Edition;

use crate::common::*;

const ROBOT_TOKEN: &str = "9d1c0e7b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f3f2a";

/// An Enterprise account holding one of each secret: an SMTP login, a signed DingTalk robot,
/// registry credentials, a cluster, an API token and an enrollment token. Returns (admin, viewer,
/// the API token).
async fn account_with_secrets(app: &TestApp) -> (Session, Session, String) {
    let (alpha, email) = app.account("Alpha", Edition::Enterprise, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    app.user(alpha, "viewer@alpha.test", Role::Viewer).await;
    let viewer = app.sign_in("viewer@alpha.test").await;
    let ok = |r: Response| assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    ok(app.call(Some(&admin), "grant_authorization", &[("service", "keys_and_clusters")]).await);
    ok(app
        .call(
            Some(&admin),
            "save_smtp_settings",
            &[("smtp[host]", "127.0.0.1"), ("smtp[port]", "465"), ("smtp[security]", "tls"), ("smtp[username]", "mailer-login"),
              ("smtp[password]", "smtp-pass-word-1"), ("smtp[from]", "reports@alpha.test")],
        )
        .await);
    let webhook = format!("https://oapi.dingtalk.com/robot/send?access_token={ROBOT_TOKEN}");
    ok(app
        .call(Some(&admin), "create_chatbot", &[("input[name]", "ops"), ("input[webhook]", &webhook), ("input[secret]", "SECrobot-signing"), ("input[keywords]", "Bulwark")])
        .await);
    ok(app
        .call(
            Some(&admin),
            "signature/save_registry",
            &[("input[host]", "registry.example.com"), ("input[username]", "registry-login"), ("input[password]", "registry-pass-word"), ("input[plain_http]", "false")],
        )
        .await);
    ok(app.call(Some(&admin), "signature/create_cluster", &[("input[name]", "prod"), ("input[region]", "eu"), ("input[namespaces]", "shop")]).await);
    let token = app.token(&admin, "scanner").await;
    ok(app.call(Some(&admin), "create_enrollment_token", &[("input[name]", "hosts"), ("input[group]", ""), ("input[expires_in_days]", "")]).await);
    (admin, viewer, token)
}

/// What a viewer's answers may never contain: a secret, part of one, or where it is used.
fn viewer_must_not_see(api_token: &str) -> Vec<String> {
    let mut hints: Vec<String> = [
        "oapi.dingtalk.com", "access_token", "3f2a", "SECrobot", "mailer-login", "smtp-pass", "registry-login", "registry-pass",
        "blk_", "benr_", "bct_", "has_password\":true",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    hints.push(ROBOT_TOKEN.to_string());
    hints.push(api_token[4..12].to_string());
    hints
}

/// Viewers read every list of the account without a secret or a hint of one; the lists that
/// exist only to manage secrets are refused to them.
#[tokio::test(flavor = "multi_thread")]
async fn viewers_see_no_secret_and_no_hint_of_one() {
    let app = TestApp::new().await;
    let (_, viewer, api_token) = account_with_secrets(&app).await;
    let forbidden = viewer_must_not_see(&api_token);

    for (function, form) in [
        ("get_email_settings", vec![]),
        ("get_task_choices", vec![]),
        ("signature/list_registries", vec![]),
        ("signature/list_clusters", vec![]),
        ("signature/list_keys", vec![]),
        ("signature/list_decisions", vec![("outcome", "")]),
        ("list_users", vec![]),
        ("get_me", vec![]),
    ] {
        let answer = app.call(Some(&viewer), function, &form).await;
        // Verify each answer is served, and holds nothing of a secret.
        assert_eq!(answer.status, StatusCode::OK, "{function}: {}", answer.body);
        for hint in &forbidden {
            assert!(!answer.body.contains(hint.as_str()), "{function} shows {hint} to a viewer: {}", answer.body);
        }
    }
    let settings = app.call(Some(&viewer), "get_email_settings", &[]).await.json();
    assert_eq!(settings["smtp"]["host"], "127.0.0.1");
    assert!(settings["smtp"]["username"].is_null() && settings["smtp"]["has_password"].is_null(), "{settings}");
    let registries = app.call(Some(&viewer), "signature/list_registries", &[]).await.json();
    assert_eq!(registries[0]["host"], "registry.example.com");
    assert!(registries[0]["username"].is_null() && registries[0]["has_password"].is_null(), "{registries}");
    assert_eq!(app.call(Some(&viewer), "get_task_choices", &[]).await.json()["chatbots"][0]["webhook_hint"], "");
    // Verify the lists that exist to manage secrets are for admins only.
    let cluster = app.count("SELECT id FROM sig_clusters").await.to_string();
    for (function, form) in [
        ("list_tokens", vec![]),
        ("list_enrollment_tokens", vec![]),
        ("list_audit", vec![("page", "1")]),
        ("signature/get_hook_instructions", vec![("id", cluster.as_str())]),
    ] {
        let answer = app.call(Some(&viewer), function, &form).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{function}: {}", answer.body);
    }
}

/// Admins see secrets masked: where a robot posts with the last four characters of its token,
/// the SMTP and registry user names and whether a password is stored, a token's prefix; never a
/// password, a signing secret or a whole token.
#[tokio::test(flavor = "multi_thread")]
async fn admins_see_secrets_only_masked() {
    let app = TestApp::new().await;
    let (admin, _, api_token) = account_with_secrets(&app).await;
    let whole = [ROBOT_TOKEN, "SECrobot", "smtp-pass", "registry-pass", api_token.as_str()];

    let choices = app.call(Some(&admin), "get_task_choices", &[]).await;
    // Verify the robot's hint shows its host and the token's last four characters only.
    assert_eq!(choices.json()["chatbots"][0]["webhook_hint"], "https://oapi.dingtalk.com/robot/send?access_token=••••3f2a");
    assert!(!choices.body.contains(&ROBOT_TOKEN[..4]), "{}", choices.body);
    let settings = app.call(Some(&admin), "get_email_settings", &[]).await.json();
    assert_eq!((settings["smtp"]["username"].as_str(), settings["smtp"]["has_password"].as_bool()), (Some("mailer-login"), Some(true)));
    let registries = app.call(Some(&admin), "signature/list_registries", &[]).await.json();
    assert_eq!((registries[0]["username"].as_str(), registries[0]["has_password"].as_bool()), (Some("registry-login"), Some(true)));
    let tokens = app.call(Some(&admin), "list_tokens", &[]).await.json();
    assert_eq!(tokens[0]["prefix"], api_token[..12]);
    for function in ["get_task_choices", "get_email_settings", "signature/list_registries", "list_tokens", "list_enrollment_tokens", "signature/list_clusters"] {
        let answer = app.call(Some(&admin), function, &[]).await;
        assert_eq!(answer.status, StatusCode::OK, "{function}: {}", answer.body);
        for secret in whole {
            assert!(!answer.body.contains(secret), "{function} shows a whole secret: {}", answer.body);
        }
    }
    let audit = app.call(Some(&admin), "list_audit", &[("page", "1")]).await;
    for secret in whole {
        assert!(!audit.body.contains(secret), "the audit log shows a whole secret: {}", audit.body);
    }
}
