use axum::http::{Method, StatusCode};
use serde_json::json;

use bulwark::editions::Edition;
use bulwark::auth::model::Role;

use crate::common::*;

/// Console pages redirect to sign-in when signed out, and render fully on the server when signed in.
#[tokio::test(flavor = "multi_thread")]
async fn pages_render_on_the_server() {
    let app = TestApp::new().await;
    let signed_out = app.get(None, "/assets?q=web").await;
    assert_eq!(signed_out.status, StatusCode::FOUND, "{}", signed_out.body);
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
