use axum::http::StatusCode;

use bulwark::editions::Edition;
use bulwark::auth::model::Role;
use bulwark::auth::repo as auth_repo;
use bulwark::server::audit::Actor;

use crate::common::*;

/// A Basic account cannot call a playbook function; once the operator sets Enterprise it can, and
/// once the operator sets Basic again it cannot: the gates read the account's stored edition.
#[tokio::test(flavor = "multi_thread")]
async fn playbooks_need_enterprise() {
    let app = TestApp::new().await;
    let (account_id, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let admin = app.sign_in(&email).await;

    let refused = app.call(Some(&admin), "list_policy_templates", &[]).await;

    // Verify the typed refusal names the feature and the edition it needs.
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["UpgradeRequired"]["feature"], "Playbooks");
    assert_eq!(refused.json()["UpgradeRequired"]["edition"], "Enterprise");

    // What `bulwark account edition Alpha enterprise` does.
    let previous = auth_repo::set_edition(app.db(), account_id, &Actor::Operator, Edition::Enterprise).await.unwrap();
    assert_eq!(previous, Edition::Basic);
    let allowed = app.call(Some(&admin), "list_policy_templates", &[]).await;
    // Verify the template list, and that the change is audited.
    assert_eq!(allowed.status, StatusCode::OK, "{}", allowed.body);
    assert_eq!(allowed.json()[0]["name"], "Automatic batch vulnerability fixing policies");
    let audited = app
        .count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE account_id = {account_id} AND action = 'account.edition' AND detail = 'basic → enterprise'
               AND actor = 'operator (command line)'"
        ))
        .await;
    assert_eq!(audited, 1);

    auth_repo::set_edition(app.db(), account_id, &Actor::Operator, Edition::Basic).await.unwrap();
    // Verify the same session is refused again at once.
    let downgraded = app.call(Some(&admin), "list_policy_templates", &[]).await;
    assert_eq!(downgraded.status, StatusCode::FORBIDDEN, "{}", downgraded.body);
    assert_eq!(downgraded.json()["UpgradeRequired"]["feature"], "Playbooks");
}

/// An admin cannot raise their own account's edition: the console has no endpoint for it.
#[tokio::test(flavor = "multi_thread")]
async fn admins_cannot_set_their_own_edition() {
    let app = TestApp::new().await;
    let (account_id, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let admin = app.sign_in(&email).await;

    let attempt = app.call(Some(&admin), "set_edition", &[("edition", "enterprise")]).await;

    // Verify the old endpoint is gone, and the edition, the audit log and the gates are as before.
    assert_eq!(attempt.status, StatusCode::NOT_FOUND, "{}", attempt.body);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM accounts WHERE id = {account_id} AND edition = 'basic'")).await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'account.edition'").await, 0);
    assert_eq!(app.call(Some(&admin), "get_me", &[]).await.json()["account"]["edition"], "Basic");
    assert_eq!(app.call(Some(&admin), "list_policy_templates", &[]).await.status, StatusCode::FORBIDDEN);
}

/// Viewers can look but not change anything.
#[tokio::test(flavor = "multi_thread")]
async fn viewers_cannot_change_settings() {
    let app = TestApp::new().await;
    let (account_id, _) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    app.user(account_id, "viewer@alpha.test", Role::Viewer).await;
    let viewer = app.sign_in("viewer@alpha.test").await;

    let zone = app.call(Some(&viewer), "set_time_zone", &[("time_zone", "Europe/Berlin")]).await;
    let token = app.call(Some(&viewer), "create_token", &[("name", "scanner")]).await;
    let user = app
        .call(Some(&viewer), "add_user", &[("user[email]", "x@alpha.test"), ("user[name]", "X"), ("user[role]", "admin"), ("user[password]", "a long enough password")])
        .await;

    // Verify each is refused and nothing changed.
    for r in [&zone, &token, &user] {
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM accounts WHERE id = {account_id} AND time_zone = 'UTC'")).await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM api_tokens").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 2);
    // Verify reading is allowed.
    assert_eq!(app.call(Some(&viewer), "list_users", &[]).await.status, StatusCode::OK);
}

/// Authorization for a service is granted once, can be revoked, and needs the feature's edition.
#[tokio::test(flavor = "multi_thread")]
async fn authorizations_are_granted_and_revoked() {
    let app = TestApp::new().await;
    let (_, basic_email) = app.account("Basic", Edition::Basic, Role::Admin).await;
    let basic = app.sign_in(&basic_email).await;
    let refused = app.call(Some(&basic), "grant_authorization", &[("service", "resource_directory")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    let (_, email) = app.account("Ent", Edition::Enterprise, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let granted = app.call(Some(&admin), "grant_authorization", &[("service", "resource_directory")]).await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    // Verify the signed-in user now carries the authorization.
    assert_eq!(app.call(Some(&admin), "get_me", &[]).await.json()["authorized"][0], "ResourceDirectory");

    let revoked = app.call(Some(&admin), "revoke_authorization", &[("service", "resource_directory")]).await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(app.call(Some(&admin), "get_me", &[]).await.json()["authorized"].as_array().unwrap().len(), 0);
    // Verify an unknown service is a field error.
    let unknown = app.call(Some(&admin), "grant_authorization", &[("service", "everything")]).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.json()["Validation"]["service"], "Unknown service.");
}
