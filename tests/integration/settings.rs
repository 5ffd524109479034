use axum::http::StatusCode;

use bulwark::auth::editions::Edition;
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
    assert_eq!(duplicate.json()["Validation"]["email"], "A user with this email already exists.");

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
