//! Re-enrollment of a known host: an enrollment token alone cannot take over an agent's identity.
//! With the host's current credential it re-enrolls at once; without it the enrollment is held
//! (202) until an admin of the account approves or rejects it.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;

use bulwark::agent::protocol::{CURRENT_CREDENTIAL_HEADER, HOLD_HEADER};
use bulwark::auth::model::Role;
use bulwark::editions::Edition;

use crate::agents::{enroll, enrollment_token, facts, MACHINE_A};
use crate::common::*;

/// An enroll request for MACHINE_A, as a (re)installed host sends it, with optional proof headers.
async fn enroll_with(app: &TestApp, token: &str, current: Option<&str>, hold: Option<&str>) -> Response {
    let body = json!({ "facts": facts(MACHINE_A, "web-1"), "allow_fix": false, "agent_version": "test" });
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/agent/enroll")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(current) = current {
        request = request.header(CURRENT_CREDENTIAL_HEADER, current);
    }
    if let Some(hold) = hold {
        request = request.header(HOLD_HEADER, hold);
    }
    app.request(request.body(Body::from(body.to_string())).unwrap()).await
}

/// A heartbeat with an agent credential: 204 while it is the host's credential, else 401.
async fn heartbeat(app: &TestApp, credential: &str) -> StatusCode {
    app.api(credential, Method::POST, "/api/v1/agent/heartbeat", Some(json!({ "agent_version": "test" }))).await.status
}

struct Fleet {
    app: TestApp,
    admin: Session,
    token: String,
    /// The credential of MACHINE_A's enrolled agent.
    credential: String,
}

async fn enrolled_host() -> Fleet {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Enterprise, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let token = enrollment_token(&app, &admin, "").await;
    let credential = enroll(&app, &token, MACHINE_A).await;
    Fleet { app, admin, token, credential }
}

/// Holds a takeover attempt; returns the hold secret and the held enrollment's id.
async fn held_attempt(fleet: &Fleet) -> (String, i64) {
    let held = enroll_with(&fleet.app, &fleet.token, None, None).await;
    assert_eq!(held.status, StatusCode::ACCEPTED, "{}", held.body);
    let hold = held.json()["hold"].as_str().unwrap().to_string();
    let listed = fleet.app.call(Some(&fleet.admin), "list_held_enrollments", &[]).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let id = listed.json()[0]["id"].as_i64().unwrap();
    (hold, id)
}

/// The token alone does not take over the host: held, no credential issued, the old one works.
#[tokio::test(flavor = "multi_thread")]
async fn a_takeover_without_the_credential_is_held() {
    let fleet = enrolled_host().await;
    let held = enroll_with(&fleet.app, &fleet.token, None, None).await;
    // Verify the answer is 202, says it awaits approval, and carries no credential.
    assert_eq!(held.status, StatusCode::ACCEPTED, "{}", held.body);
    assert!(held.json()["message"].as_str().unwrap().contains("awaits approval"), "{}", held.body);
    assert!(held.json().get("credential").is_none(), "{}", held.body);
    // Verify the old credential still works and the agent row kept it.
    assert_eq!(heartbeat(&fleet.app, &fleet.credential).await, StatusCode::NO_CONTENT);
    assert_eq!(fleet.app.count("SELECT COUNT(*) FROM agents").await, 1);
    // Verify a wrong credential is no better than none, and asking again stays held.
    let wrong = enroll_with(&fleet.app, &fleet.token, Some("bagt_0000"), None).await;
    assert_eq!(wrong.status, StatusCode::ACCEPTED, "{}", wrong.body);
    let hold = held.json()["hold"].as_str().unwrap().to_string();
    let again = enroll_with(&fleet.app, &fleet.token, None, Some(&hold)).await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    assert_eq!(fleet.app.count("SELECT COUNT(*) FROM held_enrollments WHERE status = 'pending'").await, 2);
    assert_eq!(fleet.app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'agent.enroll.held'").await, 2);
    assert_eq!(heartbeat(&fleet.app, &fleet.credential).await, StatusCode::NO_CONTENT);
}

/// The host's own agent re-enrolls at once with its current credential, which then stops.
#[tokio::test(flavor = "multi_thread")]
async fn the_current_credential_re_enrolls_at_once() {
    let fleet = enrolled_host().await;
    let renewed = enroll_with(&fleet.app, &fleet.token, Some(&fleet.credential), None).await;
    // Verify a new credential is issued, it works, and the old one no longer does.
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.body);
    let new_credential = renewed.json()["credential"].as_str().unwrap().to_string();
    assert_ne!(new_credential, fleet.credential);
    assert_eq!(heartbeat(&fleet.app, &new_credential).await, StatusCode::NO_CONTENT);
    assert_eq!(heartbeat(&fleet.app, &fleet.credential).await, StatusCode::UNAUTHORIZED);
    assert_eq!(fleet.app.count("SELECT COUNT(*) FROM held_enrollments").await, 0);
}

/// An admin approves: the old credential stops, and the held agent gets its credential next time.
#[tokio::test(flavor = "multi_thread")]
async fn an_approved_enrollment_gets_its_credential_on_the_next_call() {
    let fleet = enrolled_host().await;
    let (hold, id) = held_attempt(&fleet).await;
    let approved = fleet.app.call(Some(&fleet.admin), "approve_held_enrollment", &[("id", &id.to_string())]).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    // Verify the approval is audited and ends the old credential.
    assert_eq!(fleet.app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'agent.enroll.approve'").await, 1);
    assert_eq!(heartbeat(&fleet.app, &fleet.credential).await, StatusCode::UNAUTHORIZED);

    // Verify someone else with the token but without the hold is still only held.
    let other = enroll_with(&fleet.app, &fleet.token, None, None).await;
    assert_eq!(other.status, StatusCode::ACCEPTED, "{}", other.body);

    let enrolled = enroll_with(&fleet.app, &fleet.token, None, Some(&hold)).await;
    // Verify the held agent now gets a working credential, once.
    assert_eq!(enrolled.status, StatusCode::OK, "{}", enrolled.body);
    let credential = enrolled.json()["credential"].as_str().unwrap().to_string();
    assert_eq!(heartbeat(&fleet.app, &credential).await, StatusCode::NO_CONTENT);
    assert_eq!(fleet.app.count("SELECT COUNT(*) FROM agents").await, 1);
    let replay = enroll_with(&fleet.app, &fleet.token, None, Some(&hold)).await;
    assert_eq!(replay.status, StatusCode::ACCEPTED, "{}", replay.body);
}

/// A rejected enrollment is refused when the agent asks again; the old agent keeps working.
#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_enrollment_is_refused() {
    let fleet = enrolled_host().await;
    let (hold, id) = held_attempt(&fleet).await;
    let rejected = fleet.app.call(Some(&fleet.admin), "reject_held_enrollment", &[("id", &id.to_string())]).await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.body);
    let refused = enroll_with(&fleet.app, &fleet.token, None, Some(&hold)).await;
    // Verify the refusal, the audit entry, and that the old credential still works.
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("rejected"), "{}", refused.body);
    assert_eq!(fleet.app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'agent.enroll.reject'").await, 1);
    assert_eq!(heartbeat(&fleet.app, &fleet.credential).await, StatusCode::NO_CONTENT);
    let list = fleet.app.call(Some(&fleet.admin), "list_held_enrollments", &[]).await;
    assert_eq!(list.json().as_array().unwrap().len(), 0);
}

/// Neither a viewer of the account nor another account's admin can approve or even list it.
#[tokio::test(flavor = "multi_thread")]
async fn only_the_accounts_admins_decide() {
    let fleet = enrolled_host().await;
    let (_, id) = held_attempt(&fleet).await;
    let alpha = fleet.app.count("SELECT id FROM accounts WHERE name = 'Alpha'").await;
    fleet.app.user(alpha, "viewer@alpha.test", Role::Viewer).await;
    let viewer = fleet.app.sign_in("viewer@alpha.test").await;
    let (_, beta_email) = fleet.app.account("Beta", Edition::Enterprise, Role::Admin).await;
    let stranger = fleet.app.sign_in(&beta_email).await;
    let id = id.to_string();

    // Verify the viewer is forbidden, and the other account's admin finds nothing.
    let by_viewer = fleet.app.call(Some(&viewer), "approve_held_enrollment", &[("id", &id)]).await;
    assert_eq!(by_viewer.status, StatusCode::FORBIDDEN, "{}", by_viewer.body);
    assert_eq!(fleet.app.call(Some(&viewer), "list_held_enrollments", &[]).await.status, StatusCode::FORBIDDEN);
    let by_stranger = fleet.app.call(Some(&stranger), "approve_held_enrollment", &[("id", &id)]).await;
    assert_eq!(by_stranger.status, StatusCode::NOT_FOUND, "{}", by_stranger.body);
    let rejected_by_stranger = fleet.app.call(Some(&stranger), "reject_held_enrollment", &[("id", &id)]).await;
    assert_eq!(rejected_by_stranger.status, StatusCode::NOT_FOUND, "{}", rejected_by_stranger.body);
    assert_eq!(fleet.app.call(Some(&stranger), "list_held_enrollments", &[]).await.json().as_array().unwrap().len(), 0);
    // Verify nothing changed: still pending, old credential working, no decision audited.
    assert_eq!(fleet.app.count("SELECT COUNT(*) FROM held_enrollments WHERE status = 'pending'").await, 1);
    assert_eq!(heartbeat(&fleet.app, &fleet.credential).await, StatusCode::NO_CONTENT);
    assert_eq!(fleet.app.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'agent.enroll.%' AND action <> 'agent.enroll.held'").await, 0);
}

/// A hold lives seven days: an expired one is no longer listed nor approvable, and its agent is
/// judged afresh (held again, with a new hold), so a forgotten attempt cannot be approved later.
#[tokio::test(flavor = "multi_thread")]
async fn a_hold_expires_after_seven_days() {
    let fleet = enrolled_host().await;
    let (hold, id) = held_attempt(&fleet).await;
    // The suite's clock is shared by every test: age the hold instead of moving it.
    let ttl = bulwark::assets::held::HOLD_TTL_SECS;
    sqlx::query("UPDATE held_enrollments SET created_at = created_at - $1").bind(ttl + 1).execute(&fleet.app.db().pool).await.unwrap();

    // Verify it is no longer listed and cannot be approved.
    let listed = fleet.app.call(Some(&fleet.admin), "list_held_enrollments", &[]).await;
    assert_eq!(listed.json().as_array().unwrap().len(), 0, "{}", listed.body);
    let approved = fleet.app.call(Some(&fleet.admin), "approve_held_enrollment", &[("id", &id.to_string())]).await;
    assert_eq!(approved.status, StatusCode::NOT_FOUND, "{}", approved.body);
    assert_eq!(heartbeat(&fleet.app, &fleet.credential).await, StatusCode::NO_CONTENT);

    // Verify the agent asking with the expired hold is held again under a new hold, and the old row is gone.
    let again = enroll_with(&fleet.app, &fleet.token, None, Some(&hold)).await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    assert_ne!(again.json()["hold"].as_str().unwrap(), hold);
    // (SQLite may give the new row the old id, so the old row is known by its age.)
    let aged = format!("SELECT COUNT(*) FROM held_enrollments WHERE created_at < {}", bulwark::server::now() - ttl);
    assert_eq!(fleet.app.count(&aged).await, 0);
    assert_eq!(fleet.app.count("SELECT COUNT(*) FROM held_enrollments WHERE status = 'pending'").await, 1);
}
