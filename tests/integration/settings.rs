use axum::http::StatusCode;

use bulwark::editions::Edition;
use bulwark::auth::model::Role;

use crate::common::*;

fn new_user<'a>(email: &'a str, password: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![("user[email]", email), ("user[name]", "Dana Ops"), ("user[role]", "viewer"), ("user[password]", password)]
}

/// An admin adds a user who can then sign in; bad input is refused field by field and writes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn admins_add_users() {
    let app = TestApp::new().await;
    let (account_id, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let admin = app.sign_in(&email).await;

    let bad = app.call(Some(&admin), "add_user", &new_user("not-an-email", "short")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["Validation"]["email"], "\"not-an-email\" is not a valid email address.");
    assert_eq!(bad.json()["Validation"]["password"], "Use at least 12 characters.");
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);

    let added = app.call(Some(&admin), "add_user", &new_user("dana@alpha.test", PASSWORD)).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let duplicate = app.call(Some(&admin), "add_user", &new_user("DANA@alpha.test", PASSWORD)).await;
    // Verify duplicates are refused case-insensitively, beside the email field.
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(duplicate.json()["Validation"]["email"], "This email cannot be added.");

    // Verify the new user signs in as a viewer of the same account, and the audit log has it.
    let dana = app.sign_in("dana@alpha.test").await;
    let me = app.call(Some(&dana), "get_me", &[]).await.json();
    assert_eq!(me["role"], "Viewer");
    assert_eq!(me["account"]["id"], account_id);
    let audit = app.call(Some(&admin), "list_audit", &[("page", "1")]).await;
    assert!(audit.json()[0].as_array().unwrap().iter().any(|e| e["action"] == "user.add" && e["target"] == "dana@alpha.test"));
    // Verify the password is stored as an argon2id hash.
    let hash = sqlx::query_scalar::<_, String>("SELECT password_hash FROM users WHERE email = 'dana@alpha.test'")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
}

/// A token name is required; the secret is returned once, with the prefix listed afterwards.
#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_named_and_shown_once() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let admin = app.sign_in(&email).await;

    let unnamed = app.call(Some(&admin), "create_token", &[("name", "  ")]).await;
    assert_eq!(unnamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unnamed.json()["Validation"]["name"].as_str().unwrap().starts_with("Name the token"));

    let token = app.token(&admin, "scanner").await;
    let listed = app.call(Some(&admin), "list_tokens", &[]).await.json();
    // Verify the listing shows the prefix only.
    assert_eq!(listed[0]["name"], "scanner");
    assert!(token.starts_with(listed[0]["prefix"].as_str().unwrap()));
    assert!(listed[0].get("token").is_none());
}

/// A token's "last used" is written on its first use and then at most once a minute, however
/// many requests it makes.
#[tokio::test(flavor = "multi_thread")]
async fn a_tokens_last_use_is_written_once_a_minute() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let token = app.token(&admin, "scanner").await;
    let last_used = || app.count("SELECT COALESCE(last_used_at, -1) FROM api_tokens");
    assert_eq!(last_used().await, -1);

    let first = now();
    for _ in 0..3 {
        // An authenticated request (the asset does not exist).
        let response = app.api(&token, axum::http::Method::GET, "/api/v1/assets/i-none", None).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{}", response.body);
    }
    // Verify the first use was written and the next two left it.
    let written = last_used().await;
    assert!(written >= first, "{written} >= {first}");
    // Times are set relative to the clock at the moment of the update, with margins of
    // many seconds, so a second boundary crossed between requests cannot change the verdict.
    let recent = now() - 45;
    sqlx::query("UPDATE api_tokens SET last_used_at = $1").bind(recent).execute(&app.db().pool).await.unwrap();
    app.api(&token, axum::http::Method::GET, "/api/v1/assets/i-none", None).await;
    assert_eq!(last_used().await, recent, "45 s ago is recent enough");
    sqlx::query("UPDATE api_tokens SET last_used_at = $1").bind(now() - 75).execute(&app.db().pool).await.unwrap();
    app.api(&token, axum::http::Method::GET, "/api/v1/assets/i-none", None).await;
    // Verify a use more than a minute after the last written one is written.
    assert!(last_used().await >= written, "rewritten: {}", last_used().await);
}

/// Admins change roles and remove users of their own account; the last admin stays, nobody
/// removes themselves, and other accounts' users are not found.
#[tokio::test(flavor = "multi_thread")]
async fn admins_manage_roles_and_remove_users() {
    let app = TestApp::new().await;
    let (account_id, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    app.user(account_id, "dana@alpha.test", Role::Viewer).await;
    let (_, other_email) = app.account("Bravo", Edition::Basic, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let dana = app.sign_in("dana@alpha.test").await;
    let admin_id = app.count(&format!("SELECT id FROM users WHERE email = '{email}'")).await.to_string();
    let dana_id = app.count("SELECT id FROM users WHERE email = 'dana@alpha.test'").await.to_string();
    let other_id = app.count(&format!("SELECT id FROM users WHERE email = '{other_email}'")).await.to_string();

    let last_admin = app.call(Some(&admin), "set_user_role", &[("id", &admin_id), ("role", "viewer")]).await;
    // Verify the only admin cannot step down, nor remove themselves.
    assert_eq!(last_admin.status, StatusCode::CONFLICT);
    assert!(last_admin.body.contains("at least one admin"), "{}", last_admin.body);
    assert_eq!(app.call(Some(&admin), "remove_user", &[("id", &admin_id)]).await.status, StatusCode::CONFLICT);
    // Verify another account's user is not found, and untouched.
    assert_eq!(app.call(Some(&admin), "remove_user", &[("id", &other_id)]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.call(Some(&admin), "set_user_role", &[("id", &other_id), ("role", "viewer")]).await.status, StatusCode::NOT_FOUND);
    // Verify a viewer cannot manage users.
    assert_eq!(app.call(Some(&dana), "remove_user", &[("id", &admin_id)]).await.status, StatusCode::FORBIDDEN);

    let promoted = app.call(Some(&admin), "set_user_role", &[("id", &dana_id), ("role", "admin")]).await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.body);
    assert_eq!(app.call(Some(&dana), "get_me", &[]).await.json()["role"], "Admin");
    // With a second admin, the first may step down.
    assert_eq!(app.call(Some(&admin), "set_user_role", &[("id", &admin_id), ("role", "viewer")]).await.status, StatusCode::OK);

    let removed = app.call(Some(&dana), "remove_user", &[("id", &admin_id)]).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    // Verify the removed user's session ends at once, and the changes are audited.
    assert_eq!(app.call(Some(&admin), "get_me", &[]).await.status, StatusCode::UNAUTHORIZED);
    let actions = app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE account_id = {account_id} AND action IN ('user.role', 'user.remove')")).await;
    assert_eq!(actions, 3);
}

/// A stored SMTP password never goes to a server it was not entered for: pointing the settings at
/// another host without typing it again is refused, and nothing changes.
#[tokio::test(flavor = "multi_thread")]
async fn a_new_smtp_host_needs_the_password_again() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Advanced, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let smtp = |host: &'static str, password: &'static str| {
        vec![
            ("smtp[host]", host),
            ("smtp[port]", "587"),
            ("smtp[security]", "starttls"),
            ("smtp[username]", "reports"),
            ("smtp[password]", password),
            ("smtp[from]", "Bulwark <reports@alpha.test>"),
        ]
    };
    let saved = app.call(Some(&admin), "save_smtp_settings", &smtp("mail.alpha.test", "secret-1")).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let kept = app.call(Some(&admin), "save_smtp_settings", &smtp("mail.alpha.test", "")).await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);

    let moved = app.call(Some(&admin), "save_smtp_settings", &smtp("collector.evil.example", "")).await;
    // Verify the field error, and the stored server and password unchanged.
    assert_eq!(moved.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", moved.body);
    assert!(moved.body.contains("Enter the password again"), "{}", moved.body);
    let host = sqlx::query_scalar::<_, String>("SELECT host FROM smtp_settings").fetch_one(&app.db().pool).await.unwrap();
    assert_eq!(host, "mail.alpha.test");
    assert_eq!(app.call(Some(&admin), "get_email_settings", &[]).await.json()["smtp"]["has_password"], true);

    let retyped = app.call(Some(&admin), "save_smtp_settings", &smtp("smtp.alpha.test", "secret-2")).await;
    assert_eq!(retyped.status, StatusCode::OK, "{}", retyped.body);
}

/// Page numbers from the client are bounded: the largest and smallest numbers show the last and
/// the first page instead of overflowing.
#[tokio::test(flavor = "multi_thread")]
async fn page_numbers_at_the_edges_of_i64_are_served() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Advanced, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    for page in [i64::MAX.to_string(), i64::MIN.to_string(), "0".into()] {
        let audit = app.call(Some(&admin), "list_audit", &[("page", &page)]).await;
        assert_eq!(audit.status, StatusCode::OK, "audit page {page}: {}", audit.body);
        let archive = app.call(Some(&admin), "list_archive", &[("page", &page)]).await;
        assert_eq!(archive.status, StatusCode::OK, "archive page {page}: {}", archive.body);
        assert_eq!(archive.json()["page"], 1);
    }
    let assets = app.get(Some(&admin), &format!("/assets?page={}", i64::MAX)).await;
    assert_eq!(assets.status, StatusCode::OK);
}

/// Adding an email taken in another account answers exactly as adding one taken in one's own
/// account: same status, same body, nothing written, no audit entry naming it.
#[tokio::test(flavor = "multi_thread")]
async fn adding_a_member_does_not_reveal_other_accounts() {
    let app = TestApp::new().await;
    let (alpha, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let (_, stranger) = app.account("Beta", Edition::Basic, Role::Viewer).await;
    let admin = app.sign_in(&email).await;
    app.user(alpha, "dana@alpha.test", Role::Viewer).await;
    let users_before = app.count("SELECT COUNT(*) FROM users").await;
    let audit_before = app.count("SELECT COUNT(*) FROM audit_log").await;

    let elsewhere = app.call(Some(&admin), "add_user", &new_user(&stranger, PASSWORD)).await;
    let own = app.call(Some(&admin), "add_user", &new_user("dana@alpha.test", PASSWORD)).await;
    // Verify both refusals are the same status and the same body, beside the email field.
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", elsewhere.body);
    assert_eq!(elsewhere.status, own.status);
    assert_eq!(elsewhere.body, own.body);
    assert_eq!(elsewhere.json()["Validation"]["email"], "This email cannot be added.");
    // Verify nothing was written: no user moved or added, no audit entry.
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, users_before);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audit_before);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM users WHERE email = '{stranger}' AND account_id = {alpha}")).await, 0);
}

