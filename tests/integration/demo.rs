use bulwark::console::demo;

use crate::common::*;

/// The demo seeds two accounts with realistic data and score history, once.
#[tokio::test(flavor = "multi_thread")]
async fn demo_data_is_seeded_once() {
    let app = TestApp::new().await;
    assert!(demo::seed(app.db()).await.unwrap());

    // Verify the sizes the README promises: a few dozen hosts in groups, hundreds of findings
    // across the three categories, alerts, baseline results and attacks over 60 days.
    assert_eq!(app.count("SELECT COUNT(*) FROM accounts").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 3);
    let demo_assets = app.count("SELECT COUNT(*) FROM assets a JOIN accounts c ON c.id = a.account_id WHERE c.name = 'Bulwark Demo'").await;
    assert_eq!(demo_assets, 38);
    assert!(app.count("SELECT COUNT(*) FROM findings").await >= 150);
    assert_eq!(app.count("SELECT COUNT(DISTINCT v.category) FROM findings f JOIN vulnerabilities v ON v.id = f.vulnerability_id").await, 3);
    assert!(app.count("SELECT COUNT(*) FROM alerts").await > 0);
    assert!(app.count("SELECT COUNT(*) FROM baseline_results WHERE passed = 0").await > 0);
    let now = now();
    assert!(app.count("SELECT MIN(occurred_at) FROM attacks").await < now - 50 * 86_400);
    assert_eq!(app.count("SELECT COUNT(*) FROM score_history").await, 120);

    // Verify the printed sign-in works, and a second seed changes nothing.
    let session = app.sign_in_with(demo::DEMO_USERS[0].0, demo::DEMO_USERS[0].1).await;
    assert_eq!(app.call(Some(&session), "get_me", &[]).await.json()["account"]["edition"], "Enterprise");
    assert!(!demo::seed(app.db()).await.unwrap());
    assert_eq!(app.count("SELECT COUNT(*) FROM accounts").await, 2);
}
