use axum::http::{Method, StatusCode};
use serde_json::json;

use bulwark::editions::Edition;
use bulwark::auth::model::Role;

use crate::common::*;

/// A user of account A asking for B's asset, by server function and by API token, gets not-found.
#[tokio::test(flavor = "multi_thread")]
async fn accounts_never_see_each_others_data() {
    let app = TestApp::new().await;
    let (_, a_email) = app.account("Alpha", Edition::Enterprise, Role::Admin).await;
    let (_, b_email) = app.account("Bravo", Edition::Enterprise, Role::Admin).await;
    let a = app.sign_in(&a_email).await;
    let b = app.sign_in(&b_email).await;
    let a_token = app.token(&a, "scanner").await;
    let b_token = app.token(&b, "scanner").await;
    let posted = app.api(&b_token, Method::POST, "/api/v1/assets", Some(json!({ "assets": [asset("i-bravo", "bravo-db", "10.9.9.9")] }))).await;
    assert_eq!(posted.status, StatusCode::OK);
    let b_asset_id = app.count("SELECT id FROM assets WHERE instance_id = 'i-bravo'").await;

    let by_function = app.call(Some(&a), "get_asset", &[("id", &b_asset_id.to_string())]).await;
    let by_token = app.api(&a_token, Method::GET, "/api/v1/assets/i-bravo", None).await;
    let own = app.call(Some(&b), "get_asset", &[("id", &b_asset_id.to_string())]).await;

    // Verify A gets exactly what a missing asset gets; B sees its own asset.
    assert_eq!(by_function.status, StatusCode::NOT_FOUND);
    assert_eq!(by_function.body, app.call(Some(&a), "get_asset", &[("id", "999999")]).await.body);
    assert_eq!(by_token.status, StatusCode::NOT_FOUND);
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert_eq!(own.json()["asset"]["name"], "bravo-db");

    // Verify A's list and search do not include B's asset.
    let list = app.call(Some(&a), "list_assets", &[("query[search]", "bravo"), ("query[page]", "1")]).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.json()["total"], 0);

    // Verify A's token cannot attach findings to B's asset, and writes nothing.
    let cross = app
        .api(&a_token, Method::POST, "/api/v1/findings", Some(json!({ "findings": [finding("i-bravo", "CVE-1", "critical")] })))
        .await;
    assert_eq!(cross.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("SELECT COUNT(*) FROM findings").await, 0);

    // Verify A cannot revoke B's token.
    let b_token_id = app.count("SELECT MAX(id) FROM api_tokens").await;
    let revoke = app.call(Some(&a), "revoke_token", &[("id", &b_token_id.to_string())]).await;
    assert_eq!(revoke.status, StatusCode::NOT_FOUND);
    assert_eq!(app.api(&b_token, Method::GET, "/api/v1/assets/i-bravo", None).await.status, StatusCode::OK);
}
