use axum::http::StatusCode;

use bulwark::editions::Edition;
use bulwark::auth::model::Role;

use crate::common::*;

/// An Enterprise account that authorized the resource directory, signed in as its admin.
pub(crate) async fn management(app: &TestApp) -> (i64, Session) {
    let (id, email) = app.account("Holding", Edition::Enterprise, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let granted = app.call(Some(&admin), "grant_authorization", &[("service", "resource_directory")]).await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    (id, admin)
}

async fn account_no(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar::<_, String>("SELECT account_no FROM accounts WHERE id = $1").bind(id).fetch_one(&app.db().pool).await.unwrap()
}

async fn create_member(app: &TestApp, admin: &Session, name: &str) -> i64 {
    let created = app.call(Some(admin), "create_member", &[("member[name]", name), ("member[folder]", "")]).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    created.json().as_i64().unwrap()
}

async fn managed_names(app: &TestApp, admin: &Session, search: &str) -> Vec<String> {
    let list = app.call(Some(admin), "list_managed", &[("search", search)]).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    list.json()["accounts"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_string()).collect()
}

/// Resource accounts are created in folders; existing accounts join by accepted invitation only.
#[tokio::test(flavor = "multi_thread")]
async fn members_are_created_or_invited_and_accept() {
    let app = TestApp::new().await;
    let (holding, admin) = management(&app).await;
    let folder = app.call(Some(&admin), "create_folder", &[("name", "Production"), ("parent", "")]).await;
    assert_eq!(folder.status, StatusCode::OK, "{}", folder.body);
    let folder_id = folder.json().as_i64().unwrap().to_string();
    let sub = app.call(Some(&admin), "create_folder", &[("name", "EU"), ("parent", &folder_id)]).await.json().as_i64().unwrap().to_string();
    // The attack: a management account's admin asks for an Enterprise member. Editions are the
    // operator's: the field is ignored and the account starts on Basic.
    let created = app.call(Some(&admin), "create_member", &[("member[name]", "EU shop"), ("member[folder]", &sub), ("member[edition]", "enterprise")]).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let shop = created.json().as_i64().unwrap();
    // Verify: a Basic resource account without users, with its default report, in Root / Production / EU.
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM accounts WHERE id = {shop} AND kind = 'resource' AND edition = 'basic'")).await, 1);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM users WHERE account_id = {shop}")).await, 0);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM reports WHERE account_id = {shop} AND is_default = 1")).await, 1);
    let directory = app.call(Some(&admin), "get_directory", &[]).await.json();
    assert_eq!(directory["members"][0]["folder_path"], "Root / Production / EU");

    // Bad invitations are refused beside the field.
    for (input, message) in [
        ("12345", "Enter the 16-digit account id shown in that account's header."),
        ("9999999999999999", "No account has this id."),
    ] {
        let refused = app.call(Some(&admin), "invite_account", &[("account_no", input)]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(refused.json()["Validation"]["account_no"], message);
    }
    let own = account_no(&app, holding).await;
    let refused = app.call(Some(&admin), "invite_account", &[("account_no", &own)]).await;
    assert_eq!(refused.json()["Validation"]["account_no"], "This is the management account itself.");

    let (retail, retail_email) = app.account("Retail", Edition::Basic, Role::Admin).await;
    let retail_no = account_no(&app, retail).await;
    let invited = app.call(Some(&admin), "invite_account", &[("account_no", &retail_no)]).await;
    assert_eq!(invited.status, StatusCode::OK, "{}", invited.body);
    let again = app.call(Some(&admin), "invite_account", &[("account_no", &retail_no)]).await;
    assert_eq!(again.json()["Validation"]["account_no"], "An invitation to this account is already waiting for an answer.");
    // Verify the invitee is not a member until its admin accepts.
    assert_eq!(app.count("SELECT COUNT(*) FROM directory_members").await, 1);
    let retail_admin = app.sign_in(&retail_email).await;
    let received = app.call(Some(&retail_admin), "list_received_invitations", &[]).await.json();
    assert_eq!(received[0]["status"], "Pending");
    assert_eq!(received[0]["from_account_no"], own);
    let id = received[0]["id"].as_i64().unwrap().to_string();
    let accepted = app.call(Some(&retail_admin), "respond_invitation", &[("id", &id), ("accept", "true")]).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM directory_members WHERE member_account_id = {retail} AND joined_by = 'invited'")).await, 1);
    let twice = app.call(Some(&retail_admin), "respond_invitation", &[("id", &id), ("accept", "true")]).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    // Verify a member cannot run a directory of its own.
    let (_, third_email) = app.account("Third", Edition::Enterprise, Role::Admin).await;
    let _ = third_email;
    let member_directory = app.call(Some(&retail_admin), "get_directory", &[]).await;
    assert_eq!(member_directory.status, StatusCode::FORBIDDEN);

    // Moving and removing.
    let moved = app.call(Some(&admin), "move_member", &[("id", &shop.to_string()), ("folder", "")]).await;
    assert_eq!(moved.status, StatusCode::OK);
    let removed = app.call(Some(&admin), "remove_member", &[("id", &retail.to_string())]).await;
    assert_eq!(removed.status, StatusCode::OK);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM accounts WHERE id = {retail}")).await, 1, "the account itself stays");
    assert_eq!(app.count("SELECT COUNT(*) FROM directory_members").await, 1);
}

/// An invitation expires after 14 days; a new one can then be sent.
#[tokio::test(flavor = "multi_thread")]
async fn invitations_expire() {
    let app = TestApp::new().await;
    let (_, admin) = management(&app).await;
    let (retail, retail_email) = app.account("Retail", Edition::Basic, Role::Admin).await;
    let retail_no = account_no(&app, retail).await;
    app.call(Some(&admin), "invite_account", &[("account_no", &retail_no)]).await;
    let expires = app.count("SELECT expires_at FROM directory_invitations").await;
    assert!((expires - now() - 14 * 86_400).abs() < 60);
    sqlx::query("UPDATE directory_invitations SET expires_at = $1").bind(now() - 1).execute(&app.db().pool).await.unwrap();
    let retail_admin = app.sign_in(&retail_email).await;
    let received = app.call(Some(&retail_admin), "list_received_invitations", &[]).await.json();
    assert_eq!(received[0]["status"], "Expired");
    let id = received[0]["id"].as_i64().unwrap().to_string();
    let late = app.call(Some(&retail_admin), "respond_invitation", &[("id", &id), ("accept", "true")]).await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert!(late.body.contains("expired"));
    let renewed = app.call(Some(&admin), "invite_account", &[("account_no", &retail_no)]).await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM directory_invitations WHERE status = 'pending'").await, 1);
}

/// With the checkbox on, members created or joined later are managed; with it off they are not.
#[tokio::test(flavor = "multi_thread")]
async fn new_members_are_added_automatically_only_when_asked() {
    let app = TestApp::new().await;
    let (_, admin) = management(&app).await;
    let first = create_member(&app, &admin, "First").await;
    let candidates = app.call(Some(&admin), "list_candidates", &[]).await.json();
    assert_eq!(candidates["candidates"].as_array().unwrap().len(), 1);
    let added = app.call(Some(&admin), "add_managed", &[("accounts[0]", &first.to_string()), ("auto_manage", "true")]).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert_eq!(added.json(), 1);
    create_member(&app, &admin, "Second").await;
    // Verify the second appeared by itself.
    assert_eq!(managed_names(&app, &admin, "").await, ["First", "Second"]);

    let off = app.call(Some(&admin), "add_managed", &[("auto_manage", "false")]).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    create_member(&app, &admin, "Third").await;
    assert_eq!(managed_names(&app, &admin, "").await, ["First", "Second"]);
    assert_eq!(app.call(Some(&admin), "list_candidates", &[]).await.json()["candidates"][0]["name"], "Third");
    // An account of no directory cannot be added.
    let (stranger, _) = app.account("Stranger", Edition::Basic, Role::Admin).await;
    let refused = app.call(Some(&admin), "add_managed", &[("accounts[0]", &stranger.to_string()), ("auto_manage", "false")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Delete removes from the list only.
    let removed = app.call(Some(&admin), "remove_managed", &[("id", &first.to_string())]).await;
    assert_eq!(removed.status, StatusCode::OK);
    assert_eq!(managed_names(&app, &admin, "").await, ["Second"]);
    assert_eq!(app.count("SELECT COUNT(*) FROM directory_members").await, 3);
}

/// The list shows each account's score and risks from the foundation's formula, and searches.
#[tokio::test(flavor = "multi_thread")]
async fn the_list_shows_scores_and_risks() {
    let app = TestApp::new().await;
    let (_, admin) = management(&app).await;
    let shop = create_member(&app, &admin, "Shop").await;
    let blog = create_member(&app, &admin, "Blog").await;
    app.call(Some(&admin), "add_managed", &[("accounts[0]", &shop.to_string()), ("accounts[1]", &blog.to_string()), ("auto_manage", "false")]).await;
    let db = &app.db().pool;
    let asset = sqlx::query_scalar::<_, i64>(
        "INSERT INTO assets (account_id, instance_id, name, agent_status, created_at, updated_at) VALUES ($1, 'i-1', 'web-1', 'online', 0, 0) RETURNING id",
    )
    .bind(shop)
    .fetch_one(db)
    .await
    .unwrap();
    for (n, severity) in [(1, "critical"), (2, "high")] {
        sqlx::query("INSERT INTO alerts (account_id, asset_id, name, alert_type, severity, status, occurred_at) VALUES ($1, $2, $3, 'login', $4, 'unhandled', 0)")
            .bind(shop)
            .bind(asset)
            .bind(format!("alert {n}"))
            .bind(severity)
            .execute(db)
            .await
            .unwrap();
    }
    let vuln = sqlx::query_scalar::<_, i64>(
        "INSERT INTO vulnerabilities (account_id, advisory_id, title, severity, category) VALUES ($1, 'CVE-9', 't', 'high', 'windows') RETURNING id",
    )
    .bind(shop)
    .fetch_one(db)
    .await
    .unwrap();
    sqlx::query("INSERT INTO findings (account_id, asset_id, vulnerability_id, status, first_seen_at, last_seen_at) VALUES ($1, $2, $3, 'unfixed', 0, 0)")
        .bind(shop)
        .bind(asset)
        .bind(vuln)
        .execute(db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO baseline_results (account_id, asset_id, check_name, category, risk_level, passed, first_seen_at, checked_at) VALUES ($1, $2, 'ssh root login', 'ssh', 'medium', 0, 0, 0)",
    )
    .bind(shop)
    .bind(asset)
    .execute(db)
    .await
    .unwrap();
    let list = app.call(Some(&admin), "list_managed", &[("search", "")]).await.json();
    let shop_row = list["accounts"].as_array().unwrap().iter().find(|a| a["name"] == "Shop").unwrap().clone();
    // Verify the risks and the score (two unhandled alerts cap it at 60, minus their weights).
    assert_eq!(shop_row["risks"]["alerts"]["critical"], 1);
    assert_eq!(shop_row["risks"]["alerts"]["high"], 1);
    assert_eq!(shop_row["risks"]["vulnerabilities"]["high"], 1);
    assert_eq!(shop_row["risks"]["baseline"]["medium"], 1);
    let risks = bulwark::overview::repo::risk_counts(app.db(), shop, now()).await.unwrap();
    let weights = bulwark::overview::repo::weights(app.db(), shop).await.unwrap();
    assert_eq!(shop_row["score"], bulwark::overview::score::security_score(&risks, &weights));
    assert!(shop_row["score"].as_i64().unwrap() <= 60);
    let blog_row = list["accounts"].as_array().unwrap().iter().find(|a| a["name"] == "Blog").unwrap().clone();
    assert_eq!(blog_row["score"], 100);
    // Search by name and by account id.
    assert_eq!(managed_names(&app, &admin, "SHO").await, ["Shop"]);
    let blog_no = account_no(&app, blog).await;
    assert_eq!(managed_names(&app, &admin, &blog_no[..10]).await, ["Blog"]);
}

/// Data crosses accounts only as the management account's audited, read-only view of managed members.
#[tokio::test(flavor = "multi_thread")]
async fn only_managed_members_are_visible_and_only_read() {
    let app = TestApp::new().await;
    let (holding, admin) = management(&app).await;
    let (retail, retail_email) = app.account("Retail", Edition::Enterprise, Role::Admin).await;
    let retail_no = account_no(&app, retail).await;
    app.call(Some(&admin), "invite_account", &[("account_no", &retail_no)]).await;
    let retail_admin = app.sign_in(&retail_email).await;
    let id = app.call(Some(&retail_admin), "list_received_invitations", &[]).await.json()[0]["id"].as_i64().unwrap().to_string();
    app.call(Some(&retail_admin), "respond_invitation", &[("id", &id), ("accept", "true")]).await;
    let view = [("id", retail.to_string()), ("query[search]", String::new()), ("query[page]", "1".to_string())];

    // Not managed yet: nothing to see.
    assert_eq!(app.call(Some(&admin), "get_member_view", &form(&view)).await.status, StatusCode::NOT_FOUND);
    app.call(Some(&admin), "add_managed", &[("accounts[0]", &retail.to_string()), ("auto_manage", "false")]).await;
    let seen = app.call(Some(&admin), "get_member_view", &form(&view)).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert_eq!(seen.json()["member"]["name"], "Retail");
    assert_eq!(seen.json()["overview"]["score"], 100);
    // Verify the read is audited in the management account.
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE account_id = {holding} AND action = 'multi_account.view' AND target = '{retail_no}'")).await, 1);
    // Verify the view wrote nothing into the member (no score snapshot).
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM score_history WHERE account_id = {retail}")).await, 0);

    // The member cannot look the other way.
    let back = [("id", holding.to_string()), ("query[search]", String::new()), ("query[page]", "1".to_string())];
    let refused = app.call(Some(&retail_admin), "get_member_view", &form(&back)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(app.call(Some(&retail_admin), "list_managed", &[("search", "")]).await.status, StatusCode::FORBIDDEN);
    // The management account cannot change the member's data through the usual functions.
    let member_report = app.count(&format!("SELECT id FROM reports WHERE account_id = {retail}")).await.to_string();
    for function in ["delete_report", "send_report_now"] {
        assert_eq!(app.call(Some(&admin), function, &[("id", &member_report)]).await.status, StatusCode::NOT_FOUND, "{function}");
    }
    assert_eq!(app.call(Some(&admin), "set_report_enabled", &[("id", &member_report), ("enabled", "false")]).await.status, StatusCode::NOT_FOUND);
    // Viewers of the management account see the list but cannot change it.
    app.user(holding, "viewer@holding.test", Role::Viewer).await;
    let viewer = app.sign_in("viewer@holding.test").await;
    assert_eq!(app.call(Some(&viewer), "list_managed", &[("search", "")]).await.status, StatusCode::OK);
    assert_eq!(app.call(Some(&viewer), "remove_managed", &[("id", &retail.to_string())]).await.status, StatusCode::FORBIDDEN);
}

/// A resource account gets its own admin and then signs in by itself.
/// The list pages by name, 50 to a page, and counts risks for the accounts on the shown page.
#[tokio::test(flavor = "multi_thread")]
async fn the_managed_list_pages_by_name() {
    let app = TestApp::new().await;
    let (_, admin) = management(&app).await;
    let auto = app.call(Some(&admin), "add_managed", &[("auto_manage", "true")]).await;
    assert_eq!(auto.status, StatusCode::OK, "{}", auto.body);
    let mut ids = Vec::new();
    for n in 0..55 {
        ids.push(create_member(&app, &admin, &format!("Member {n:02}")).await);
    }
    // One alert in an account on the second page.
    let late = ids[52];
    let asset = sqlx::query_scalar::<_, i64>(
        "INSERT INTO assets (account_id, instance_id, name, agent_status, created_at, updated_at) VALUES ($1, 'i-1', 'web-1', 'online', 0, 0) RETURNING id",
    )
    .bind(late)
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO alerts (account_id, asset_id, name, alert_type, severity, status, occurred_at) VALUES ($1, $2, 'a', 'login', 'critical', 'unhandled', 0)")
        .bind(late)
        .bind(asset)
        .execute(&app.db().pool)
        .await
        .unwrap();
    let list = |search: &'static str, page: &'static str| {
        let (app, admin) = (&app, &admin);
        async move {
            let list = app.call(Some(admin), "list_managed", &[("search", search), ("page", page)]).await;
            assert_eq!(list.status, StatusCode::OK, "{}", list.body);
            list.json()
        }
    };
    let names = |l: &serde_json::Value| l["accounts"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let first = list("", "1").await;
    assert_eq!((first["total"].as_i64(), first["page"].as_i64(), first["page_count"].as_i64()), (Some(55), Some(1), Some(2)));
    assert_eq!(names(&first).len(), 50);
    assert_eq!((names(&first)[0].as_str(), names(&first)[49].as_str()), ("Member 00", "Member 49"));
    assert!(first["accounts"].as_array().unwrap().iter().all(|a| a["risks"]["alerts"]["critical"] == 0));
    let second = list("", "2").await;
    assert_eq!(names(&second), ["Member 50", "Member 51", "Member 52", "Member 53", "Member 54"]);
    assert_eq!(second["accounts"][2]["risks"]["alerts"]["critical"], 1);
    assert!(second["accounts"][2]["score"].as_i64().unwrap() < 100);
    assert_eq!(second["accounts"][3]["score"], 100);
    // Past the end: the last page.
    assert_eq!(list("", "7").await["page"], 2);
    let search = list("member 5", "1").await;
    assert_eq!((search["total"].as_i64(), search["page_count"].as_i64()), (Some(5), Some(1)));
    assert_eq!(names(&search), ["Member 50", "Member 51", "Member 52", "Member 53", "Member 54"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn upgraded_resource_accounts_sign_in() {
    let app = TestApp::new().await;
    let (_, admin) = management(&app).await;
    let shop = create_member(&app, &admin, "Shop").await.to_string();
    let bad = app.call(Some(&admin), "upgrade_member", &[("id", &shop), ("admin[email]", "nope"), ("admin[name]", ""), ("admin[password]", "short")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["Validation"].as_object().unwrap().len(), 3);
    let good = [("id", shop.as_str()), ("admin[email]", "owner@shop.test"), ("admin[name]", "Shop Owner"), ("admin[password]", PASSWORD)];
    let upgraded = app.call(Some(&admin), "upgrade_member", &good).await;
    assert_eq!(upgraded.status, StatusCode::OK, "{}", upgraded.body);
    let owner = app.sign_in("owner@shop.test").await;
    let me = app.call(Some(&owner), "get_me", &[]).await.json();
    assert_eq!(me["account"]["name"], "Shop");
    assert_eq!(me["account"]["kind"], "Cloud");
    assert_eq!(me["role"], "Admin");
    let again = app.call(Some(&admin), "upgrade_member", &good).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

/// Multi-account control needs Enterprise and the one-time authorization.
#[tokio::test(flavor = "multi_thread")]
async fn the_directory_needs_enterprise_and_authorization() {
    let app = TestApp::new().await;
    let (_, advanced_email) = app.account("Adv", Edition::Advanced, Role::Admin).await;
    let advanced = app.sign_in(&advanced_email).await;
    let refused = app.call(Some(&advanced), "get_directory", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["UpgradeRequired"]["edition"], "Enterprise");
    let (_, enterprise_email) = app.account("Ent", Edition::Enterprise, Role::Admin).await;
    let enterprise = app.sign_in(&enterprise_email).await;
    let unauthorized = app.call(Some(&enterprise), "list_managed", &[("search", "")]).await;
    assert_eq!(unauthorized.status, StatusCode::FORBIDDEN);
    assert_eq!(unauthorized.json()["AuthorizationRequired"], "ResourceDirectory");
}

/// A management account's report can cover its managed accounts: one consolidated document with
/// a per-account table and the risks of every covered account.
#[tokio::test(flavor = "multi_thread")]
async fn consolidated_reports_cover_managed_accounts() {
    let app = TestApp::new().await;
    let (holding, admin) = management(&app).await;
    let report = |scope: &str, chosen: Option<i64>| {
        let mut form = vec![
            ("report[name]", "Group weekly".to_string()),
            ("report[kind]", "weekly".to_string()),
            ("report[window]", "06-12".to_string()),
            ("report[recipients]", "ciso@holding.test".to_string()),
            ("report[sections][0]", "vuln_linux".to_string()),
            ("report[scope]", scope.to_string()),
        ];
        if let Some(id) = chosen {
            form.push(("report[scope_accounts][0]", id.to_string()));
        }
        form
    };
    // Verify: no managed accounts yet, so no consolidated report.
    let refused = app.call(Some(&admin), "create_report", &form(&report("managed", None))).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.json()["Validation"]["scope"].as_str().unwrap().starts_with("Only a management account"));

    let shop = create_member(&app, &admin, "Shop").await;
    let blog = create_member(&app, &admin, "Blog").await;
    let outsider = create_member(&app, &admin, "Not managed").await;
    app.call(Some(&admin), "add_managed", &[("accounts[0]", &shop.to_string()), ("accounts[1]", &blog.to_string()), ("auto_manage", "false")]).await;
    let db = &app.db().pool;
    for (account, n) in [(holding, 1), (shop, 2), (blog, 3), (outsider, 5)] {
        let vuln = sqlx::query_scalar::<_, i64>(
            "INSERT INTO vulnerabilities (account_id, advisory_id, title, severity, category) VALUES ($1, 'CVE-1', 't', 'high', 'linux') RETURNING id",
        )
        .bind(account)
        .fetch_one(db)
        .await
        .unwrap();
        for i in 0..n {
            let asset = sqlx::query_scalar::<_, i64>(
                "INSERT INTO assets (account_id, instance_id, name, agent_status, created_at, updated_at) VALUES ($1, $2, $2, 'online', 0, 0) RETURNING id",
            )
            .bind(account)
            .bind(format!("i-{i}"))
            .fetch_one(db)
            .await
            .unwrap();
            sqlx::query("INSERT INTO findings (account_id, asset_id, vulnerability_id, status, first_seen_at, last_seen_at) VALUES ($1, $2, $3, 'unfixed', 0, 0)")
                .bind(account)
                .bind(asset)
                .bind(vuln)
                .execute(db)
                .await
                .unwrap();
        }
    }
    let wrong = app.call(Some(&admin), "create_report", &form(&report("chosen", Some(outsider)))).await;
    assert_eq!(wrong.json()["Validation"]["scope_accounts"], "Choose accounts this account manages.");
    let none = app.call(Some(&admin), "create_report", &form(&report("chosen", None))).await;
    assert_eq!(none.json()["Validation"]["scope_accounts"], "Choose at least one managed account.");

    let created = app.call(Some(&admin), "create_report", &form(&report("managed", None))).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.json().as_i64().unwrap().to_string();
    let sent = app.call(Some(&admin), "send_report_now", &[("id", &id)]).await.json();
    assert_eq!(sent["status"], "Sent", "{sent}");
    let archive_id = app.count("SELECT MAX(id) FROM report_archive").await.to_string();
    let document = app.call(Some(&admin), "get_archived_report", &[("id", &archive_id)]).await.json()["document"].clone();
    // Verify the per-account table (this account and both managed ones, not the outsider).
    let accounts = &document["sections"][0];
    assert_eq!(accounts["section"], "Accounts");
    let rows = accounts["table"]["rows"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str().unwrap()).collect();
    assert_eq!(names, ["Holding", "Shop", "Blog"]);
    assert_eq!(rows.iter().map(|r| r[4].as_str().unwrap()).collect::<Vec<_>>(), ["1", "2", "3"]);
    // Verify the summary and the sections add up over the covered accounts only: 1 + 2 + 3.
    let vulns = document["summary"]["rows"].as_array().unwrap().iter().find(|r| r["label"] == "Vulnerabilities").unwrap().clone();
    assert_eq!(vulns["open"], 6);
    assert_eq!(document["sections"][1]["table"]["rows"][0][4], "6", "affected hosts over the covered accounts");
    let csv = app.get(Some(&admin), &format!("/reports/archive/{archive_id}/csv/accounts")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.contains("Shop"));
}

/// A consolidated report checks membership and the edition when it runs: a member removed after
/// the report was set up is left out (the delivery log says so, the document holds none of its
/// data); once the edition lacks multi-account control the report is not sent at all.
#[tokio::test(flavor = "multi_thread")]
async fn consolidated_reports_check_members_and_edition_when_they_run() {
    use bulwark::reports::delivery;
    use bulwark::reports::model::{ReportKind, SendWindow};
    use bulwark::reports::schedule::Schedule;

    let app = TestApp::new().await;
    let (holding, admin) = management(&app).await;
    let shop = create_member(&app, &admin, "Shop").await;
    let blog = create_member(&app, &admin, "Blog").await;
    app.call(Some(&admin), "add_managed", &[("accounts[0]", &shop.to_string()), ("accounts[1]", &blog.to_string()), ("auto_manage", "false")]).await;
    let form = [
        ("report[name]", "Group daily".to_string()),
        ("report[kind]", "daily".to_string()),
        ("report[window]", "06-12".to_string()),
        ("report[recipients]", "ciso@holding.test".to_string()),
        ("report[sections][0]", "assets".to_string()),
        ("report[scope]", "chosen".to_string()),
        ("report[scope_accounts][0]", shop.to_string()),
        ("report[scope_accounts][1]", blog.to_string()),
    ];
    let created = app.call(Some(&admin), "create_report", &crate::common::form(&form)).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.json().as_i64().unwrap();
    let schedule = Schedule { kind: ReportKind::Daily, window: SendWindow::Morning, custom: None, tz: chrono_tz::UTC, spread_key: id };
    let due = |after: i64| {
        let at = schedule.next_after(after).unwrap().due_at;
        sqlx::query("UPDATE reports SET next_due_at = $1 WHERE id = $2").bind(at).bind(id).execute(&app.db().pool)
    };
    let last = || sqlx::query_as::<_, (String, String, Option<i64>)>("SELECT status, server_reply, archive_id FROM report_deliveries WHERE report_id = $1 ORDER BY id DESC").bind(id).fetch_one(&app.db().pool);

    ok_remove(&app, &admin, blog).await;
    due(now() - 3 * 86_400).await.unwrap();
    delivery::tick(&app.state, "replica-a", now()).await.unwrap();
    let (status, reply, archive) = last().await.unwrap();
    // Verify it was sent over the accounts still managed, saying one chosen account was left out.
    assert_eq!(status, "sent", "{reply}");
    assert!(reply.ends_with("(1 chosen account(s) left out: this account no longer manages them.)"), "{reply}");
    let document = app.call(Some(&admin), "get_archived_report", &[("id", &archive.unwrap().to_string())]).await;
    let names: Vec<String> =
        document.json()["document"]["sections"][0]["table"]["rows"].as_array().unwrap().iter().map(|r| r[0].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["Holding", "Shop"]);
    assert!(!document.body.contains("Blog"), "{}", document.body);

    bulwark::auth::repo::set_edition(app.db(), holding, &bulwark::server::audit::Actor::Operator, Edition::Advanced).await.unwrap();
    due(now()).await.unwrap();
    delivery::tick(&app.state, "replica-a", now() + 2 * 86_400).await.unwrap();
    let (status, reply, archive) = last().await.unwrap();
    // Verify the next run is skipped with the reason, and generates nothing.
    assert_eq!(status, "skipped");
    assert_eq!(
        reply,
        "Not sent: this report covers managed accounts, and the account is on the Advanced edition and Multi-account control needs Enterprise; the console operator sets the edition."
    );
    assert_eq!(archive, None);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM report_archive WHERE report_id = {id}")).await, 1);
}

async fn ok_remove(app: &TestApp, admin: &Session, member: i64) {
    let removed = app.call(Some(admin), "remove_managed", &[("id", &member.to_string())]).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
}

/// A consolidated report whose first attempt failed is generated again for the retry, so a
/// member removed meanwhile is not in what is finally sent or kept.
#[tokio::test(flavor = "multi_thread")]
async fn a_retried_consolidated_report_leaves_out_a_member_removed_meanwhile() {
    let app = TestApp::new().await;
    let (_, admin) = management(&app).await;
    let sink = SmtpSink::start();
    app.call(Some(&admin), "save_smtp_settings", &form(&sink.settings_form())).await;
    let shop = create_member(&app, &admin, "Shop").await;
    let blog = create_member(&app, &admin, "Blog").await;
    app.call(Some(&admin), "add_managed", &[("accounts[0]", &shop.to_string()), ("accounts[1]", &blog.to_string()), ("auto_manage", "false")]).await;
    let report = [
        ("report[name]", "Group daily".to_string()),
        ("report[kind]", "daily".to_string()),
        ("report[window]", "06-12".to_string()),
        ("report[recipients]", "tempfail@holding.test".to_string()),
        ("report[sections][0]", "assets".to_string()),
        ("report[scope]", "managed".to_string()),
    ];
    let id = app.call(Some(&admin), "create_report", &form(&report)).await.json().as_i64().unwrap();
    let first = app.call(Some(&admin), "send_report_now", &[("id", &id.to_string())]).await.json();
    assert_eq!(first["status"], "Retrying", "{first}");
    let archive = app.count("SELECT MAX(id) FROM report_archive").await.to_string();
    let before = app.call(Some(&admin), "get_archived_report", &[("id", &archive)]).await;
    assert!(before.body.contains("Blog"));

    ok_remove(&app, &admin, blog).await;
    // Only the retry is due: the report's own schedule is put off.
    sqlx::query("UPDATE reports SET next_due_at = $1 WHERE id = $2").bind(now() + 10 * 86_400).bind(id).execute(&app.db().pool).await.unwrap();
    bulwark::reports::delivery::tick(&app.state, "replica-a", now() + 3600).await.unwrap();

    // Verify the retry ran and its document (the same archive entry) no longer holds the member.
    assert_eq!(app.count(&format!("SELECT attempts FROM report_deliveries WHERE report_id = {id}")).await, 2);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM report_archive WHERE report_id = {id}")).await, 1);
    let after = app.call(Some(&admin), "get_archived_report", &[("id", &archive)]).await;
    assert!(after.body.contains("Shop") && !after.body.contains("Blog"), "{}", after.body);
}
