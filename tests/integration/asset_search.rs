//! Asset search from an index (FTS5 trigram on SQLite, pg_trgm on PostgreSQL): any substring of
//! three or more characters of a name, address or instance id, case-insensitive; shorter queries
//! match the start; the index follows renames and deletions; counts stop at 1,000 ("1,000+").

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use bulwark::auth::model::Role;
use bulwark::editions::Edition;

use crate::common::*;

async fn search(app: &TestApp, session: &Session, q: &str) -> Value {
    asset_page(app, session, &[("query[search]", q), ("query[page]", "1")]).await
}

fn names(page: &Value) -> Vec<String> {
    let mut names: Vec<String> = page["assets"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_string()).collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn search_matches_substrings_prefixes_and_follows_changes() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let token = app.token(&admin, "scanner").await;
    let assets = json!({ "assets": [
        asset("i-0a1b2c", "Web-Frontend-01", "10.1.134.7"),
        asset("i-9f8e7d", "db-primary", "10.1.200.9"),
        asset("i-555", "100%_done \"quoted\"", "192.168.0.5"),
    ] });
    assert_eq!(app.api(&token, Method::POST, "/api/v1/assets", Some(assets)).await.status, StatusCode::OK);
    // Another account's matching asset is never found.
    let (_, other) = app.account("Beta", Edition::Basic, Role::Admin).await;
    let other = app.sign_in(&other).await;
    let other_token = app.token(&other, "scanner").await;
    app.api(&other_token, Method::POST, "/api/v1/assets", Some(json!({ "assets": [asset("i-x", "web-frontend-99", "10.1.134.8")] }))).await;

    for (q, expected) in [
        // Substrings of three or more characters, in the middle, any case.
        ("frontend", vec!["Web-Frontend-01"]),
        ("FRONT", vec!["Web-Frontend-01"]),
        ("end-0", vec!["Web-Frontend-01"]),
        ("1.134.", vec!["Web-Frontend-01"]),
        ("10.1.", vec!["Web-Frontend-01", "db-primary"]),
        ("8e7", vec!["db-primary"]),
        // Characters that mean something to LIKE or FTS5 are taken literally.
        ("0%_d", vec!["100%_done \"quoted\""]),
        ("\"quoted\"", vec!["100%_done \"quoted\""]),
        ("e\" O", vec![]),
        // Shorter queries match the start of a name, instance id or address list.
        ("we", vec!["Web-Frontend-01"]),
        ("db", vec!["db-primary"]),
        ("i-", vec!["100%_done \"quoted\"", "Web-Frontend-01", "db-primary"]),
        ("19", vec!["100%_done \"quoted\""]),
        ("ro", vec![]),
        ("zzz", vec![]),
    ] {
        let page = search(&app, &admin, q).await;
        // Verify exactly the expected assets, and a total that agrees.
        assert_eq!(names(&page), expected, "{q}");
        assert_eq!(page["total"], expected.len(), "{q}");
        assert_eq!(page["total_capped"], false, "{q}");
    }

    // A rename through the ingestion API moves the asset in the index.
    let renamed = json!({ "assets": [asset("i-9f8e7d", "cache-replica", "10.1.200.9")] });
    assert_eq!(app.api(&token, Method::POST, "/api/v1/assets", Some(renamed)).await.status, StatusCode::OK);
    // Verify the old name is gone from the results and the new one is found.
    assert_eq!(names(&search(&app, &admin, "primary").await), Vec::<String>::new());
    assert_eq!(names(&search(&app, &admin, "replica").await), vec!["cache-replica"]);
    // A deleted asset is not found.
    sqlx::query("DELETE FROM assets WHERE instance_id = 'i-0a1b2c'").execute(&app.db().pool).await.unwrap();
    assert_eq!(names(&search(&app, &admin, "frontend").await), Vec::<String>::new());
}

/// A broad query counts at most 1,000 matches: the page says "1,000+" and pages through them.
#[tokio::test(flavor = "multi_thread")]
async fn broad_searches_stop_counting_at_a_thousand() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let token = app.token(&admin, "scanner").await;
    for batch in 0..3 {
        let assets: Vec<Value> = (0..400).map(|n| asset(&format!("i-{batch}-{n}"), &format!("node-{batch}-{n:03}"), &format!("10.{batch}.{}.{}", n / 200, n % 200))).collect();
        assert_eq!(app.api(&token, Method::POST, "/api/v1/assets", Some(json!({ "assets": assets }))).await.status, StatusCode::OK);
    }
    let broad = search(&app, &admin, "node").await;
    // Verify the cap, a full first page, and the pages of the first 1,000.
    assert_eq!(broad["total"], 1_000);
    assert_eq!(broad["total_capped"], true);
    assert_eq!(broad["page_count"], 1_000 / bulwark::assets::model::ASSET_PAGE_SIZE);
    assert_eq!(broad["assets"].as_array().unwrap().len() as i64, bulwark::assets::model::ASSET_PAGE_SIZE);
    let narrow = search(&app, &admin, "node-1-").await;
    assert_eq!(narrow["total"], 400);
    assert_eq!(narrow["total_capped"], false);
    // Verify the page shows it as "1,000+".
    let html = app.get(Some(&admin), "/assets?q=node").await;
    assert!(html.body.contains("1,000+ in all"), "{}", html.body);
    let listed = app.get(Some(&admin), "/assets").await;
    assert!(listed.body.contains("1,200 in all"), "{}", listed.body);
}

async fn asset_page(app: &TestApp, session: &Session, args: &[(&str, &str)]) -> Value {
    let found = app.call(Some(session), "list_assets", args).await;
    assert_eq!(found.status, StatusCode::OK, "{args:?}: {}", found.body);
    found.json()
}

fn ids(page: &Value) -> Vec<i64> {
    page["assets"].as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()).collect()
}

/// Deep pages are read by keyset: the page after the previous page's last row (or before the
/// next page's first) holds exactly the rows that paging by number gives, in order, ties on
/// the name broken by id; within a search too. A cursor that names no asset of this account
/// (deleted, or another account's) pages by number instead and shows nothing of the other.
#[tokio::test(flavor = "multi_thread")]
async fn keyset_pages_equal_numbered_pages() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let token = app.token(&admin, "scanner").await;
    // 50 assets, names repeating in pairs so ties need the id.
    let assets: Vec<Value> = (0..50).map(|i| asset(&format!("i-{i:03}"), &format!("node-{:02}", (i * 7) % 25), "10.0.0.1")).collect();
    assert_eq!(app.api(&token, Method::POST, "/api/v1/assets", Some(json!({ "assets": assets }))).await.status, StatusCode::OK);
    let (_, other) = app.account("Beta", Edition::Basic, Role::Admin).await;
    let other = app.sign_in(&other).await;
    let other_token = app.token(&other, "scanner").await;
    app.api(&other_token, Method::POST, "/api/v1/assets", Some(json!({ "assets": [asset("i-x", "node-00", "10.0.0.9")] }))).await;
    let foreign = ids(&asset_page(&app, &other, &[("query[search]", ""), ("query[page]", "1")]).await)[0];

    let numbered: Vec<Vec<i64>> = numbered_pages(&app, &admin, "").await;
    assert_eq!(numbered.iter().map(Vec::len).collect::<Vec<_>>(), vec![20, 20, 10]);
    let after_1 = numbered[0][19].to_string();
    let page_2 = asset_page(&app, &admin, &[("query[search]", ""), ("query[page]", "2"), ("query[after]", &after_1)]).await;
    assert_eq!(ids(&page_2), numbered[1]);
    assert_eq!(page_2["page"], 2);
    let after_2 = numbered[1][19].to_string();
    let page_3 = asset_page(&app, &admin, &[("query[search]", ""), ("query[page]", "3"), ("query[after]", &after_2)]).await;
    assert_eq!(ids(&page_3), numbered[2]);
    let before_3 = numbered[2][0].to_string();
    let back_2 = asset_page(&app, &admin, &[("query[search]", ""), ("query[page]", "2"), ("query[before]", &before_3)]).await;
    assert_eq!(ids(&back_2), numbered[1]);

    // Within a search (a substring, answered by the trigram index), the same.
    let searched = numbered_pages(&app, &admin, "ode-").await;
    assert_eq!(searched.len(), 3);
    let after = searched[1][19].to_string();
    let next = asset_page(&app, &admin, &[("query[search]", "ode-"), ("query[page]", "3"), ("query[after]", &after)]).await;
    assert_eq!(ids(&next), searched[2]);

    for cursor in [foreign.to_string(), "999999".to_string()] {
        let fallback = asset_page(&app, &admin, &[("query[search]", ""), ("query[page]", "2"), ("query[after]", &cursor)]).await;
        assert_eq!(ids(&fallback), numbered[1], "cursor {cursor}");
    }
}

/// Every page by number, for comparison.
async fn numbered_pages(app: &TestApp, session: &Session, search: &str) -> Vec<Vec<i64>> {
    let first = asset_page(app, session, &[("query[search]", search), ("query[page]", "1")]).await;
    let pages = first["page_count"].as_i64().unwrap();
    let mut all = vec![ids(&first)];
    for p in 2..=pages {
        all.push(ids(&asset_page(app, session, &[("query[search]", search), ("query[page]", &p.to_string())]).await));
    }
    all
}
