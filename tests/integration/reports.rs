use axum::http::StatusCode;
use chrono::NaiveDate;

use bulwark::editions::Edition;
use bulwark::auth::model::Role;
use bulwark::reports::delivery;
use bulwark::reports::generate;
use bulwark::reports::model::{ReportKind, SendWindow, Section};
use bulwark::reports::schedule::Schedule;
use bulwark::server::clock::parse_time_zone;

use crate::common::*;

fn report(name: &str, kind: &str, recipients: &str, sections: &[&str]) -> Vec<(&'static str, String)> {
    const KEYS: [&str; 8] = [
        "report[sections][0]", "report[sections][1]", "report[sections][2]", "report[sections][3]",
        "report[sections][4]", "report[sections][5]", "report[sections][6]", "report[sections][7]",
    ];
    let mut form = vec![
        ("report[name]", name.to_string()),
        ("report[kind]", kind.to_string()),
        ("report[window]", "06-12".to_string()),
        ("report[recipients]", recipients.to_string()),
        ("report[custom_start]", String::new()),
        ("report[custom_end]", String::new()),
    ];
    for (key, section) in KEYS.iter().zip(sections) {
        form.push((key, section.to_string()));
    }
    form
}

async fn setup(app: &TestApp) -> (i64, Session) {
    let (account_id, email) = app.account("Alpha", Edition::Advanced, Role::Admin).await;
    (account_id, app.sign_in(&email).await)
}

async fn default_report_id(app: &TestApp, account_id: i64) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT id FROM reports WHERE account_id = $1 AND is_default = 1")
        .bind(account_id)
        .fetch_one(&app.db().pool)
        .await
        .unwrap()
}

/// A new account has its default report; its type cannot change and it cannot be deleted.
#[tokio::test(flavor = "multi_thread")]
async fn the_default_report_keeps_its_type_and_stays() {
    let app = TestApp::new().await;
    let (account_id, admin) = setup(&app).await;
    let list = app.call(Some(&admin), "list_reports", &[("status", ""), ("kind", ""), ("name", "")]).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let reports = list.json()["reports"].as_array().unwrap().clone();
    // Verify: one default report, enabled, weekly, every section, no recipients, scheduled.
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["is_default"], true);
    assert_eq!(reports[0]["enabled"], true);
    assert_eq!(reports[0]["kind"], "Weekly");
    assert_eq!(reports[0]["sections"].as_array().unwrap().len(), Section::ALL.len());
    assert!(reports[0]["recipients"].as_array().unwrap().is_empty());
    assert!(reports[0]["next_send_at"].as_i64().unwrap() > now());
    let id = default_report_id(&app, account_id).await.to_string();

    let mut change = report("Default security report", "daily", "", &["assets"]);
    change.push(("id", id.clone()));
    let refused = app.call(Some(&admin), "update_report", &form(&change)).await;
    // Verify the server refuses the type change beside the field, and nothing changed.
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.json()["Validation"]["kind"].as_str().unwrap().contains("cannot change"));
    assert_eq!(app.count("SELECT COUNT(*) FROM reports WHERE kind = 'weekly' AND sections LIKE '%score_trend%'").await, 1);

    let deleted = app.call(Some(&admin), "delete_report", &[("id", &id)]).await;
    assert_eq!(deleted.status, StatusCode::CONFLICT);
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 1);

    // Verify recipients and sections of the default report can be edited, keeping the type.
    let mut edit = report("SOC weekly", "weekly", "soc@alpha.test", &["alerts", "attacks"]);
    edit.push(("id", id));
    let saved = app.call(Some(&admin), "update_report", &form(&edit)).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM reports WHERE name = 'SOC weekly' AND recipients = 'soc@alpha.test' AND sections = 'alerts,attacks'").await, 1);
}

/// Nine reports besides the default; the tenth is refused, also when two requests race.
#[tokio::test(flavor = "multi_thread")]
async fn the_tenth_extra_report_is_refused_even_under_a_race() {
    let app = TestApp::new().await;
    let (account_id, admin) = setup(&app).await;
    for i in 0..8 {
        let created = app.call(Some(&admin), "create_report", &form(&report(&format!("R{i}"), "daily", "a@alpha.test", &["assets"]))).await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    }
    let (racer_a, racer_b) = (report("Racer A", "daily", "a@alpha.test", &["assets"]), report("Racer B", "daily", "a@alpha.test", &["assets"]));
    let (form_a, form_b) = (form(&racer_a), form(&racer_b));
    let (a, b) = tokio::join!(app.call(Some(&admin), "create_report", &form_a), app.call(Some(&admin), "create_report", &form_b));
    // Verify exactly one racer won and the loser got a clear 409.
    let statuses = [a.status, b.status];
    assert!(statuses.contains(&StatusCode::OK) && statuses.contains(&StatusCode::CONFLICT), "{statuses:?}");
    let loser = if a.status == StatusCode::CONFLICT { &a } else { &b };
    assert!(loser.body.contains("at most 9 reports besides the default"), "{}", loser.body);
    let total = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM reports WHERE account_id = $1").bind(account_id).fetch_one(&app.db().pool).await.unwrap();
    assert_eq!(total, 10);
    let again = app.call(Some(&admin), "create_report", &form(&report("Eleventh", "daily", "a@alpha.test", &["assets"]))).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

/// Bad wizard input is refused field by field and writes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn bad_reports_are_refused_with_field_errors() {
    let app = TestApp::new().await;
    let (_, admin) = setup(&app).await;
    let mut bad = report(" ", "custom", "ok@alpha.test, nope", &[]);
    bad[4].1 = "2026-11-20".into();
    bad[5].1 = "2026-11-01".into();
    let refused = app.call(Some(&admin), "create_report", &form(&bad)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = &refused.json()["Validation"];
    // Verify every wrong field has its own message.
    assert_eq!(fields["name"], "Enter a report name.");
    assert_eq!(fields["recipients"], "\u{201c}nope\u{201d} is not a valid email address.");
    assert_eq!(fields["custom_end"], "The end date must not be before the start date.");
    assert_eq!(fields["sections"], "Choose at least one section.");
    let none = app.call(Some(&admin), "create_report", &form(&report("No one", "daily", "", &["assets"]))).await;
    assert_eq!(none.json()["Validation"]["recipients"], "Add at least one recipient.");
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 1);
}

/// Viewers read but cannot change; Basic accounts have no reports; other accounts' reports are invisible.
#[tokio::test(flavor = "multi_thread")]
async fn reports_respect_role_edition_and_account() {
    let app = TestApp::new().await;
    let (alpha, admin) = setup(&app).await;
    app.user(alpha, "viewer@alpha.test", Role::Viewer).await;
    let viewer = app.sign_in("viewer@alpha.test").await;
    let (_, basic_email) = app.account("Basic Co", Edition::Basic, Role::Admin).await;
    let basic = app.sign_in(&basic_email).await;
    let (beta, beta_email) = app.account("Beta", Edition::Enterprise, Role::Admin).await;
    let beta_admin = app.sign_in(&beta_email).await;

    let filters = [("status", ""), ("kind", ""), ("name", "")];
    assert_eq!(app.call(Some(&viewer), "list_reports", &filters).await.status, StatusCode::OK);
    let create = report("Viewer's", "daily", "v@alpha.test", &["assets"]);
    // Verify the viewer is refused writes, the Basic account is told to upgrade.
    assert_eq!(app.call(Some(&viewer), "create_report", &form(&create)).await.status, StatusCode::FORBIDDEN);
    let upgrade = app.call(Some(&basic), "list_reports", &filters).await;
    assert_eq!(upgrade.status, StatusCode::FORBIDDEN, "{}", upgrade.body);
    assert_eq!(upgrade.json()["UpgradeRequired"]["edition"], "Advanced");
    assert_eq!(app.call(None, "list_reports", &filters).await.status, StatusCode::UNAUTHORIZED);

    // Verify another account's report is not found, for reading, changing and sending.
    let alpha_default = default_report_id(&app, alpha).await.to_string();
    for function in ["get_report", "delete_report", "send_report_now", "get_report_history"] {
        let response = app.call(Some(&beta_admin), function, &[("id", &alpha_default)]).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{function}: {}", response.body);
    }
    let toggled = app.call(Some(&beta_admin), "set_report_enabled", &[("id", &alpha_default), ("enabled", "false")]).await;
    assert_eq!(toggled.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM reports WHERE enabled = 1").await, 3);
    let _ = (beta, admin);
}

/// Filters by status, type and name (case-insensitive substring).
#[tokio::test(flavor = "multi_thread")]
async fn the_list_filters_by_status_type_and_name() {
    let app = TestApp::new().await;
    let (_, admin) = setup(&app).await;
    for (name, kind) in [("Daily ops", "daily"), ("Monthly board", "monthly"), ("Daily SOC", "daily")] {
        app.call(Some(&admin), "create_report", &form(&report(name, kind, "a@alpha.test", &["assets"]))).await;
    }
    let soc_id = app.count("SELECT id FROM reports WHERE name = 'Daily SOC'").await.to_string();
    app.call(Some(&admin), "set_report_enabled", &[("id", &soc_id), ("enabled", "false")]).await;
    let names = |response: Response| -> Vec<String> {
        response.json()["reports"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect()
    };
    let daily = app.call(Some(&admin), "list_reports", &[("status", ""), ("kind", "daily"), ("name", "")]).await;
    assert_eq!(names(daily), ["Daily ops", "Daily SOC"]);
    let enabled_daily = app.call(Some(&admin), "list_reports", &[("status", "enabled"), ("kind", "daily"), ("name", "")]).await;
    assert_eq!(names(enabled_daily), ["Daily ops"]);
    let disabled = app.call(Some(&admin), "list_reports", &[("status", "disabled"), ("kind", ""), ("name", "")]).await;
    assert_eq!(names(disabled), ["Daily SOC"]);
    let by_name = app.call(Some(&admin), "list_reports", &[("status", ""), ("kind", ""), ("name", "BOARD")]).await;
    assert_eq!(names(by_name), ["Monthly board"]);
    // Verify a disabled report has nothing scheduled.
    assert_eq!(app.count("SELECT COUNT(*) FROM reports WHERE name = 'Daily SOC' AND next_due_at IS NULL").await, 1);
}

/// Send now mails the multipart report (HTML, text, inline charts, PDF) to every recipient over
/// real SMTP, logs the delivery with the server's answer, and archives the document.
#[tokio::test(flavor = "multi_thread")]
async fn send_now_mails_every_recipient_over_smtp() {
    let app = TestApp::new().await;
    let (account_id, admin) = setup(&app).await;
    let sink = SmtpSink::start();
    let mut smtp = sink.settings_form();
    smtp[3].1 = "reports".into();
    smtp[4].1 = "smtp-secret-pass".into();
    // A relay on the test's own loopback: the admin chooses to send the password without TLS.
    smtp.push(("smtp[plain_auth]", "true".into()));
    let saved = app.call(Some(&admin), "save_smtp_settings", &form(&smtp)).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    // The sink offers no AUTH; send without credentials, keeping the stored password test above.
    let sealed = sqlx::query_scalar::<_, Option<String>>("SELECT password_sealed FROM smtp_settings").fetch_one(&app.db().pool).await.unwrap().unwrap();
    assert!(!sealed.contains("smtp-secret-pass") && sealed.starts_with("v1:"), "stored sealed");
    let shown = app.call(Some(&admin), "get_email_settings", &[]).await;
    assert!(!shown.body.contains("smtp-secret-pass") && !shown.body.contains(&sealed));
    assert_eq!(shown.json()["smtp"]["has_password"], true);
    smtp[3].1 = String::new();
    smtp[4].1 = String::new();
    app.call(Some(&admin), "save_smtp_settings", &form(&smtp)).await;

    let created = app.call(Some(&admin), "create_report", &form(&report("Ops daily", "daily", "ann@alpha.test, bob@alpha.test", &["assets", "alerts", "vuln_linux", "score_trend"]))).await;
    let id = created.json().as_i64().unwrap().to_string();
    let sent = app.call(Some(&admin), "send_report_now", &[("id", &id)]).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert_eq!(sent.json()["status"], "Sent", "{}", sent.body);
    assert!(sent.json()["server_reply"].as_str().unwrap().starts_with("250"), "{}", sent.body);

    // Verify each recipient received the whole multipart message with the PDF attached.
    let messages = sink.messages();
    let mut recipients: Vec<_> = messages.iter().map(|m| m.recipient.clone()).collect();
    recipients.sort();
    assert_eq!(recipients, ["ann@alpha.test", "bob@alpha.test"]);
    for message in &messages {
        for part in ["multipart/mixed", "multipart/alternative", "multipart/related", "text/plain", "text/html", "image/png", "application/pdf", "Content-ID: <chart-0>"] {
            assert!(message.raw.contains(part), "{part} missing");
        }
        assert!(message.raw.contains("Subject: [Bulwark] Ops daily"));
        let from = message.raw.lines().find(|l| l.starts_with("From: ")).unwrap();
        assert!(from.contains("Bulwark Reports") && from.contains("<reports@bulwark.test>"), "{from}");
        let pdf = attachment(&message.raw, "application/pdf");
        assert!(pdf.starts_with(b"%PDF-"), "the attachment is a PDF");
    }
    // Verify the delivery log and the archive.
    let history = app.call(Some(&admin), "get_report_history", &[("id", &id)]).await.json();
    let delivery = &history["deliveries"][0];
    assert_eq!(delivery["status"], "Sent");
    assert_eq!(delivery["manual"], true);
    assert!(delivery["server_reply"].as_str().unwrap().contains("queued as sink-"));
    let archive_id = delivery["archive_id"].as_i64().unwrap();
    let archived = app.call(Some(&admin), "get_archived_report", &[("id", &archive_id.to_string())]).await.json();
    assert_eq!(archived["document"]["report_name"], "Ops daily");
    assert_eq!(archived["chart_svgs"].as_array().unwrap().len(), 4);
    let pdf = app.get(Some(&admin), &format!("/reports/archive/{archive_id}/pdf")).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    let csv = app.get(Some(&admin), &format!("/reports/archive/{archive_id}/csv/alerts")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.starts_with("Alert,Type,Severity,Occurrences,Still open"), "{}", csv.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'report.send_now'").await, 1);

    // Verify the archive outlives the report, and stays within the account.
    assert_eq!(app.call(Some(&admin), "delete_report", &[("id", &id)]).await.status, StatusCode::OK);
    let archive = app.call(Some(&admin), "list_archive", &[("page", "1")]).await.json();
    assert_eq!(archive["total"], 1);
    assert_eq!(archive["entries"][0]["report_name"], "Ops daily");
    assert!(archive["entries"][0]["report_id"].is_null());
    let (_, other_email) = app.account("Beta", Edition::Enterprise, Role::Admin).await;
    let other = app.sign_in(&other_email).await;
    assert_eq!(app.call(Some(&other), "list_archive", &[("page", "1")]).await.json()["total"], 0);
    let stolen = app.call(Some(&other), "get_archived_report", &[("id", &archive_id.to_string())]).await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(Some(&other), &format!("/reports/archive/{archive_id}/pdf")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(None, &format!("/reports/archive/{archive_id}/pdf")).await.status, StatusCode::UNAUTHORIZED);
    let _ = account_id;
}

/// Pulls one base64 part of a raw message, decoded.
fn attachment(raw: &str, content_type: &str) -> Vec<u8> {
    use base64::Engine;
    let start = raw.find(&format!("Content-Type: {content_type}")).expect("part present");
    let body_start = raw[start..].find("\r\n\r\n").map(|i| start + i + 4).expect("part body");
    let body_end = raw[body_start..].find("\r\n--").map(|i| body_start + i).unwrap_or(raw.len());
    let encoded: String = raw[body_start..body_end].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(encoded).expect("base64 part")
}

/// A 4xx answer is retried with backoff; a 5xx answer fails at once and says why.
#[tokio::test(flavor = "multi_thread")]
async fn smtp_failures_retry_or_fail_with_the_servers_answer() {
    let app = TestApp::new().await;
    let (_, admin) = setup(&app).await;
    let sink = SmtpSink::start();
    app.call(Some(&admin), "save_smtp_settings", &form(&sink.settings_form())).await;
    let temp = app.call(Some(&admin), "create_report", &form(&report("Temp", "daily", "tempfail@alpha.test", &["assets"]))).await.json();
    let perm = app.call(Some(&admin), "create_report", &form(&report("Perm", "daily", "permfail@alpha.test", &["assets"]))).await.json();

    let retry = app.call(Some(&admin), "send_report_now", &[("id", &temp.to_string())]).await.json();
    // Verify the temporary failure is scheduled for a retry a minute later.
    assert_eq!(retry["status"], "Retrying", "{retry}");
    assert!(retry["server_reply"].as_str().unwrap().contains("451"), "{retry}");
    let (next, attempts) = sqlx::query_as::<_, (i64, i64)>("SELECT next_attempt_at, attempts FROM report_deliveries WHERE status = 'retrying'")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert!(next >= now() + 50 && next <= now() + 61, "{next}");
    assert_eq!(attempts, 1);
    // Verify a tick before the backoff does nothing; a tick after it tries again.
    delivery::tick(&app.state, "replica-a", now()).await.unwrap();
    assert_eq!(app.count("SELECT attempts FROM report_deliveries WHERE status = 'retrying'").await, 1);
    let outcome = delivery::tick(&app.state, "replica-a", next + 1).await.unwrap();
    assert_eq!(outcome.processed, 1);
    assert_eq!(app.count("SELECT attempts FROM report_deliveries WHERE report_id = (SELECT id FROM reports WHERE name = 'Temp')").await, 2);
    // Verify retrying stops after 24 hours.
    sqlx::query("UPDATE report_deliveries SET first_attempt_at = first_attempt_at - 90000, next_attempt_at = 0").execute(&app.db().pool).await.unwrap();
    delivery::tick(&app.state, "replica-a", now()).await.unwrap();
    let (status, reply) = sqlx::query_as::<_, (String, String)>("SELECT status, server_reply FROM report_deliveries").fetch_one(&app.db().pool).await.unwrap();
    assert_eq!(status, "failed");
    assert!(reply.starts_with("Gave up after 24 hours"), "{reply}");

    let failed = app.call(Some(&admin), "send_report_now", &[("id", &perm.to_string())]).await.json();
    assert_eq!(failed["status"], "Failed", "{failed}");
    assert!(failed["server_reply"].as_str().unwrap().contains("550"), "{failed}");
    assert!(sink.messages().is_empty());
}

/// A due report is sent once for its period: two replicas ticking together and a restarted
/// console do not send it again; a send after its window is marked late.
#[tokio::test(flavor = "multi_thread")]
async fn scheduled_reports_go_out_once_per_period() {
    let app = TestApp::new().await;
    let (account_id, admin) = setup(&app).await;
    let created = app.call(Some(&admin), "create_report", &form(&report("Nightly", "daily", "ann@alpha.test", &["alerts"]))).await.json();
    let id = created.as_i64().unwrap();
    // Pretend the console was down: the schedule pointed at a send three days ago.
    let schedule = Schedule { kind: ReportKind::Daily, window: SendWindow::Morning, custom: None, tz: parse_time_zone("UTC").unwrap(), spread_key: id };
    let missed = schedule.next_after(now() - 3 * 86_400).unwrap();
    sqlx::query("UPDATE reports SET next_due_at = $1 WHERE id = $2").bind(missed.due_at).bind(id).execute(&app.db().pool).await.unwrap();

    let (a, b) = tokio::join!(delivery::tick(&app.state, "replica-a", now()), delivery::tick(&app.state, "replica-b", now()));
    let (a, b) = (a.unwrap(), b.unwrap());
    // Verify one delivery row for the latest missed period, processed by exactly one replica.
    assert_eq!(a.materialized + b.materialized, 1);
    assert_eq!(a.processed + b.processed, 1);
    let latest = schedule.latest_due(missed.due_at, now()).unwrap();
    let (period_end, status, late) = sqlx::query_as::<_, (String, String, i64)>("SELECT period_end, status, late FROM report_deliveries WHERE report_id = $1")
        .bind(id)
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert_eq!(period_end, latest.period_end.to_string());
    assert_eq!(status, "sent");
    assert_eq!(late == 1, latest.window_end < now());
    // Verify the outbox (no SMTP configured) holds exactly one message.
    let outbox = app.call(Some(&admin), "list_outbox", &[]).await.json();
    assert_eq!(outbox.as_array().unwrap().len(), 1, "{outbox}");

    // A restart: the schedule in the database is all there is. Forcing the pointer back at the
    // same period must not produce a second delivery.
    let restarted = app.restart().await;
    sqlx::query("UPDATE reports SET next_due_at = $1 WHERE id = $2").bind(latest.due_at).bind(id).execute(&app.db().pool).await.unwrap();
    let again = delivery::tick(&restarted.state, "replica-c", now()).await.unwrap();
    assert_eq!(again.materialized, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM report_deliveries").await, 1);
    // Verify the schedule moved on to a future send.
    let next_due = app.count(&format!("SELECT next_due_at FROM reports WHERE id = {id}")).await;
    assert!(next_due > now());
    let _ = account_id;
}

/// Disabling stops sending (a due send is skipped); enabling plans from the next period.
#[tokio::test(flavor = "multi_thread")]
async fn disabled_reports_are_not_sent() {
    let app = TestApp::new().await;
    let (_, admin) = setup(&app).await;
    let id = app.call(Some(&admin), "create_report", &form(&report("Paused", "daily", "ann@alpha.test", &["alerts"]))).await.json().as_i64().unwrap();
    app.call(Some(&admin), "set_report_enabled", &[("id", &id.to_string()), ("enabled", "false")]).await;
    delivery::tick(&app.state, "replica-a", now() + 3 * 86_400).await.unwrap();
    // Verify the paused report made no delivery (the default weekly report may fall due meanwhile).
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM report_deliveries WHERE report_id = {id}")).await, 0);
    let enabled = app.call(Some(&admin), "set_report_enabled", &[("id", &id.to_string()), ("enabled", "true")]).await;
    assert_eq!(enabled.status, StatusCode::OK);
    // Verify it resumes with the next send after now, not the ones missed while disabled.
    let next_due = app.count(&format!("SELECT next_due_at FROM reports WHERE id = {id}")).await;
    assert!(next_due > now() && next_due <= now() + 2 * 86_400, "{next_due}");
}

/// The report's numbers are the database's numbers for the period, in the account's time zone.
#[tokio::test(flavor = "multi_thread")]
async fn report_numbers_match_the_database() {
    let app = TestApp::new().await;
    let (account_id, admin) = setup(&app).await;
    let zone = app.call(Some(&admin), "set_time_zone", &[("time_zone", "Asia/Tokyo")]).await;
    assert_eq!(zone.status, StatusCode::OK, "{}", zone.body);
    let bad_zone = app.call(Some(&admin), "set_time_zone", &[("time_zone", "Mars/Olympus")]).await;
    assert_eq!(bad_zone.status, StatusCode::UNPROCESSABLE_ENTITY);
    let tz = parse_time_zone("Asia/Tokyo").unwrap();
    let period = (NaiveDate::from_ymd_opt(2026, 11, 16).unwrap(), NaiveDate::from_ymd_opt(2026, 11, 22).unwrap());
    let (start, end) = generate::period_bounds(tz, period);
    assert_eq!(end - start, 7 * 86_400);
    // Rows at known times before, inside and after the period (Tokyo midnight boundaries).
    let db = &app.db().pool;
    let asset = |n: i64| async move {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO assets (account_id, instance_id, name, ips, agent_status, created_at, updated_at) VALUES ($1, $2, $3, '10.0.0.1', 'online', $4, $4) RETURNING id",
        )
        .bind(account_id)
        .bind(format!("i-{n}"))
        .bind(format!("host-{n}"))
        .bind(start - 86_400 * 30)
        .fetch_one(db)
        .await
        .unwrap()
    };
    let hosts = [asset(1).await, asset(2).await, asset(3).await];
    let vuln = sqlx::query_scalar::<_, i64>(
        "INSERT INTO vulnerabilities (account_id, advisory_id, package, title, severity, category) VALUES ($1, 'CVE-2026-0001', 'openssl', 'openssl flaw', 'high', 'linux') RETURNING id",
    )
    .bind(account_id)
    .fetch_one(db)
    .await
    .unwrap();
    // (first seen, resolved): before & open, inside & open, inside & resolved inside, before & resolved after.
    let findings = [(start - 10, None), (start, None), (start + 100, Some(end - 1)), (start - 500, Some(end))];
    for (host, (seen, resolved)) in hosts.iter().cycle().zip(findings) {
        sqlx::query(
            "INSERT INTO findings (account_id, asset_id, vulnerability_id, status, first_seen_at, last_seen_at, resolved_at) VALUES ($1, $2, $3, 'unfixed', $4, $4, $5)
             ON CONFLICT (asset_id, vulnerability_id) DO NOTHING",
        )
        .bind(account_id)
        .bind(host)
        .bind(vuln)
        .bind(seen)
        .bind(resolved)
        .execute(db)
        .await
        .unwrap();
    }
    for (at, severity, resolved) in [(start - 1, "critical", None), (start, "high", None), (end - 1, "low", Some(end - 1)), (end, "high", None)] {
        sqlx::query("INSERT INTO alerts (account_id, asset_id, name, alert_type, severity, status, occurred_at, resolved_at) VALUES ($1, $2, 'Brute force', 'login', $3, 'unhandled', $4, $5)")
            .bind(account_id)
            .bind(hosts[0])
            .bind(severity)
            .bind(at)
            .bind(resolved)
            .execute(db)
            .await
            .unwrap();
    }
    for (at, kind) in [(start - 86_400 * 3, "sql_injection"), (start + 5, "sql_injection"), (start + 6, "xss"), (end - 2, "sql_injection")] {
        sqlx::query("INSERT INTO attacks (account_id, source_ip, target, attack_type, occurred_at) VALUES ($1, '203.0.113.9', 'web', $2, $3)")
            .bind(account_id)
            .bind(kind)
            .bind(at)
            .execute(db)
            .await
            .unwrap();
    }

    let document = generate::build(
        app.db(),
        &generate::Request { account_id, report_name: "Weekly", sections: &Section::ALL, tz, period, generated_at: now(), members: &[], language: bulwark::locale::Locale::en },
    )
    .await
    .unwrap();
    let row = |label: &str| document.summary.rows.iter().find(|r| r.label == label).unwrap().clone();
    // Verify against the rows above: 3 distinct findings inserted (host 1 twice: the 4th conflicts).
    let vulns = row("Vulnerabilities");
    assert_eq!((vulns.new, vulns.resolved, vulns.open), (2, Some(1), Some(2)));
    let alerts = row("Alerts");
    assert_eq!((alerts.new, alerts.resolved, alerts.open), (2, Some(1), Some(2)));
    let attacks = row("Attacks");
    assert_eq!((attacks.new, attacks.previous_new), (3, 1));
    let section = |s: Section| document.sections.iter().find(|d| d.section == s).unwrap().clone();
    let attack_types = section(Section::Attacks).chart.points;
    assert_eq!(attack_types.iter().map(|p| (p.label.as_str(), p.value)).collect::<Vec<_>>(), [("sql_injection", 2), ("xss", 1)]);
    let linux = section(Section::VulnLinux);
    assert_eq!(linux.table.rows[0][0], "CVE-2026-0001");
    assert_eq!(linux.table.rows[0][4], "2", "two hosts still affected at the end");
    // Verify empty sections say so and the Windows section is empty.
    assert!(section(Section::VulnWindows).empty);
    assert!(!section(Section::Alerts).empty);
    assert_eq!(document.time_zone, "Asia/Tokyo");
    assert_eq!(document.period_label(), "2026-11-16 – 2026-11-22");
}

/// A report set up under Advanced is not sent once the operator lowers the edition to Basic: the
/// scheduled delivery is skipped, says why in the delivery log, and nothing is generated or mailed.
#[tokio::test(flavor = "multi_thread")]
async fn scheduled_reports_are_skipped_once_the_edition_is_lowered() {
    let app = TestApp::new().await;
    let (account_id, admin) = setup(&app).await;
    let id = app.call(Some(&admin), "create_report", &form(&report("Nightly", "daily", "ann@alpha.test", &["alerts"]))).await.json().as_i64().unwrap();
    let schedule = Schedule { kind: ReportKind::Daily, window: SendWindow::Morning, custom: None, tz: parse_time_zone("UTC").unwrap(), spread_key: id };
    let missed = schedule.next_after(now() - 2 * 86_400).unwrap();
    sqlx::query("UPDATE reports SET next_due_at = $1 WHERE id = $2").bind(missed.due_at).bind(id).execute(&app.db().pool).await.unwrap();

    bulwark::auth::repo::set_edition(app.db(), account_id, &bulwark::server::audit::Actor::Operator, Edition::Basic).await.unwrap();
    let outcome = delivery::tick(&app.state, "replica-a", now()).await.unwrap();

    // Verify the delivery ran, was skipped with the reason, and left no document and no mail.
    assert_eq!(outcome.processed, 1);
    let (status, reply, archive) = sqlx::query_as::<_, (String, String, Option<i64>)>("SELECT status, server_reply, archive_id FROM report_deliveries WHERE report_id = $1")
        .bind(id)
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert_eq!(status, "skipped");
    assert_eq!(reply, "Not sent: the account is on the Basic edition and Security reports needs Advanced; the console operator sets the edition.");
    assert_eq!(archive, None);
    assert_eq!(app.count("SELECT COUNT(*) FROM report_archive").await, 0);
    assert_eq!(app.call(Some(&admin), "list_outbox", &[]).await.json().as_array().unwrap().len(), 0);
}

/// An account whose default language is Chinese gets its reports in Chinese: the archived
/// document, its CSV headers, and the emailed PDF drawn with the CJK font. Only admins set it,
/// and only to one of the console's languages.
#[tokio::test(flavor = "multi_thread")]
async fn reports_are_written_in_the_accounts_language() {
    let app = TestApp::new().await;
    let (_, admin) = setup(&app).await;
    app.user(app.count("SELECT id FROM accounts WHERE name = 'Alpha'").await, "viewer@alpha.test", Role::Viewer).await;
    let viewer = app.sign_in("viewer@alpha.test").await;
    let sink = SmtpSink::start();
    app.call(Some(&admin), "save_smtp_settings", &form(&sink.settings_form())).await;

    let refused = app.call(Some(&admin), "set_account_language", &[("language", "fr")]).await;
    // Verify bad input and viewers are refused, and nothing changes.
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.json()["Validation"]["language"].as_str().unwrap().contains("zh-CN"));
    assert_eq!(app.call(Some(&viewer), "set_account_language", &[("language", "zh-CN")]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.call(Some(&admin), "get_email_settings", &[]).await.json()["language"], "en");

    let saved = app.call(Some(&admin), "set_account_language", &[("language", "zh-CN")]).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(app.call(Some(&admin), "get_email_settings", &[]).await.json()["language"], "zh-CN");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'account.language'").await, 1);

    let created = app.call(Some(&admin), "create_report", &form(&report("周报", "weekly", "ann@alpha.test", &["assets", "alerts"]))).await;
    let id = created.json().as_i64().unwrap().to_string();
    let sent = app.call(Some(&admin), "send_report_now", &[("id", &id)]).await;
    assert_eq!(sent.json()["status"], "Sent", "{}", sent.body);

    // Verify the document is Chinese: its language, section titles and table headers.
    let history = app.call(Some(&admin), "get_report_history", &[("id", &id)]).await.json();
    let archive_id = history["deliveries"][0]["archive_id"].as_i64().unwrap();
    let archived = app.call(Some(&admin), "get_archived_report", &[("id", &archive_id.to_string())]).await.json();
    let document = &archived["document"];
    assert_eq!(document["language"], "zh-CN");
    assert_eq!(document["sections"][0]["title"], "资产");
    assert_eq!(document["sections"][1]["title"], "告警");
    assert_eq!(document["summary"]["rows"][0]["label"], "漏洞");
    let csv = app.get(Some(&admin), &format!("/reports/archive/{archive_id}/csv/alerts")).await;
    assert!(csv.body.trim_start_matches('\u{feff}').starts_with("告警,类型,等级,发生次数,仍未处理"), "{}", csv.body);

    // Verify the mailed PDF says it in Chinese, with the Chinese glyphs from a CJK font.
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let pdf = attachment(&messages[0].raw, "application/pdf");
    let text: String = pdf_extract::extract_text_from_mem(&pdf).unwrap().chars().filter(|c| !c.is_whitespace()).collect();
    for needle in ["BULWARK安全报告", "周报", "安全评分：", "统计口径"] {
        assert!(text.contains(needle), "PDF lacks {needle}: {text}");
    }
    if bulwark::reports::render::has_cjk_font() {
        assert!(pdf.windows(9).any(|w| w == b"WenQuanYi") || pdf.windows(4).any(|w| w == b"Noto"), "no CJK font in the PDF");
    }
}

/// The PDF attached to a raw message, as text without whitespace.
fn pdf_text(raw: &str) -> String {
    let pdf = attachment(raw, "application/pdf");
    pdf_extract::extract_text_from_mem(&pdf).unwrap().chars().filter(|c| !c.is_whitespace()).collect()
}

/// Each recipient reads a report in their own language: a user of the account who chose Chinese
/// gets a Chinese copy, everyone else (other users, outside addresses, another account's user)
/// the account's English. Each copy is archived; a retry sends only to those not reached yet.
#[tokio::test(flavor = "multi_thread")]
async fn each_recipient_reads_the_report_in_their_language() {
    let app = TestApp::new().await;
    let (account_id, admin) = setup(&app).await;
    app.user(account_id, "mei@alpha.test", Role::Viewer).await;
    app.user(account_id, "tempfail-lin@alpha.test", Role::Viewer).await;
    let (beta, _) = app.account("Beta", Edition::Advanced, Role::Admin).await;
    app.user(beta, "li@beta.test", Role::Viewer).await;
    for email in ["mei@alpha.test", "tempfail-lin@alpha.test", "li@beta.test"] {
        let user = app.sign_in(email).await;
        assert_eq!(app.call(Some(&user), "set_language", &[("language", "zh-CN")]).await.status, StatusCode::OK);
    }
    let sink = SmtpSink::start();
    app.call(Some(&admin), "save_smtp_settings", &form(&sink.settings_form())).await;

    let created = app.call(Some(&admin), "create_report", &form(&report("Ops weekly", "weekly", "ann@alpha.test, MEI@alpha.test, li@beta.test", &["assets"]))).await;
    let id = created.json().as_i64().unwrap().to_string();
    let sent = app.call(Some(&admin), "send_report_now", &[("id", &id)]).await.json();
    assert_eq!(sent["status"], "Sent", "{sent}");
    // Verify the reply names each copy's language, and the Chinese copy went to mei alone.
    let reply = sent["server_reply"].as_str().unwrap();
    assert!(reply.starts_with("en: 250") && reply.contains("; zh-CN: 250"), "{reply}");
    let messages = sink.messages();
    let mut by_recipient: Vec<(String, bool)> = messages.iter().map(|m| (m.recipient.clone(), pdf_text(&m.raw).contains("安全评分"))).collect();
    by_recipient.sort();
    assert_eq!(by_recipient, [("ann@alpha.test".to_string(), false), ("li@beta.test".to_string(), false), ("mei@alpha.test".to_string(), true)]);

    // Verify the history lists both copies with their documents, the English one first.
    let history = app.call(Some(&admin), "get_report_history", &[("id", &id)]).await.json();
    let delivery = &history["deliveries"][0];
    let copies = delivery["copies"].as_array().unwrap();
    assert_eq!(copies.len(), 2, "{delivery}");
    assert_eq!((copies[0]["language"].as_str(), copies[1]["language"].as_str()), (Some("en"), Some("zh-CN")));
    assert_eq!(copies[0]["sent_to"], serde_json::json!(["ann@alpha.test", "li@beta.test"]));
    assert_eq!(copies[1]["sent_to"], serde_json::json!(["mei@alpha.test"]));
    assert_eq!(delivery["archive_id"], copies[0]["archive_id"]);
    for copy in copies {
        let archived = app.call(Some(&admin), "get_archived_report", &[("id", &copy["archive_id"].to_string())]).await.json();
        assert_eq!(archived["document"]["language"], copy["language"]);
    }
    let archive = app.call(Some(&admin), "list_archive", &[("page", "1")]).await.json();
    let mut languages: Vec<&str> = archive["entries"].as_array().unwrap().iter().map(|e| e["language"].as_str().unwrap()).collect();
    languages.sort();
    assert_eq!(languages, ["en", "zh-CN"]);

    // A Chinese reader whose server answers "try later": the English copy goes out once, the
    // Chinese one is retried, and its document is made once.
    let created = app.call(Some(&admin), "create_report", &form(&report("Retried", "weekly", "ann@alpha.test, tempfail-lin@alpha.test", &["assets"]))).await;
    let retried = created.json().as_i64().unwrap();
    let first = app.call(Some(&admin), "send_report_now", &[("id", &retried.to_string())]).await.json();
    assert_eq!(first["status"], "Retrying", "{first}");
    let reply = first["server_reply"].as_str().unwrap();
    assert!(reply.starts_with("en: 250") && reply.contains("; zh-CN: ") && reply.contains("451"), "{reply}");
    let to_ann = || async { sink.messages().iter().filter(|m| m.recipient == "ann@alpha.test").count() };
    assert_eq!(to_ann().await, 2, "one message per report");
    let next = app.count(&format!("SELECT next_attempt_at FROM report_deliveries WHERE report_id = {retried}")).await;
    delivery::tick(&app.state, "replica-a", next + 1).await.unwrap();
    // Verify the retry reached nobody twice and kept one document per language.
    assert_eq!(app.count(&format!("SELECT attempts FROM report_deliveries WHERE report_id = {retried}")).await, 2);
    assert_eq!(to_ann().await, 2, "the English copy is not sent again");
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM report_archive WHERE report_id = {retried}")).await, 2);
    // Once the unreachable reader is taken off the list, the delivery completes with what was sent.
    sqlx::query("UPDATE reports SET recipients = 'ann@alpha.test' WHERE id = $1").bind(retried).execute(&app.db().pool).await.unwrap();
    sqlx::query("UPDATE report_deliveries SET next_attempt_at = 0 WHERE report_id = $1").bind(retried).execute(&app.db().pool).await.unwrap();
    delivery::tick(&app.state, "replica-a", now()).await.unwrap();
    let (status, reply) = sqlx::query_as::<_, (String, String)>("SELECT status, server_reply FROM report_deliveries WHERE report_id = $1")
        .bind(retried)
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert_eq!(status, "sent");
    // Verify the reply is the English copy's: the Chinese one reached no one.
    assert!(reply.starts_with("250"), "{reply}");
    assert_eq!(to_ann().await, 2);
}
