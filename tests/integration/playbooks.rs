//! Playbooks: policies, tasks carried out through agents' fix jobs (a real agent in dry-run),
//! durability across restarts and replicas, retries, DingTalk and email notifications, and the
//! rules on input, roles, editions and accounts.

use std::io::BufRead;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use bulwark::advisories::repo as advisories;
use bulwark::editions::Edition;
use bulwark::auth::model::Role;
use bulwark::playbook::engine;

use crate::agents::*;
use crate::common::*;

/// The DingTalk stand-in (`tests/support/dingtalk_gateway.py`): checks signatures and keywords
/// like DingTalk does and keeps what it accepted.
struct Gateway {
    port: u16,
    child: std::process::Child,
    dir: tempfile::TempDir,
}

impl Gateway {
    fn start(secret: &str, keywords: &str) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/dingtalk_gateway.py"))
            .args(["--port", "0", "--token", "robot-token", "--secret", secret, "--keywords", keywords, "--dir"])
            .arg(dir.path())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the DingTalk gateway");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().rsplit(' ').next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("gateway said {line:?}"));
        Gateway { port, child, dir }
    }

    fn webhook(&self) -> String {
        format!("http://127.0.0.1:{}/robot/send?access_token=robot-token", self.port)
    }

    fn accepted(&self) -> Vec<Value> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.file_name().is_some_and(|n| !n.to_string_lossy().starts_with("refused")))
            .collect();
        files.sort();
        files.iter().map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()).collect()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

async fn enterprise() -> (TestApp, i64, Session) {
    let app = TestApp::new().await;
    let (account, email) = app.account("Alpha", Edition::Enterprise, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    (app, account, admin)
}

async fn clone_policy(app: &TestApp, admin: &Session) -> i64 {
    let response = app.call(Some(admin), "clone_policy", &[("template", "batch_vulnerability_fix")]).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.json().as_i64().unwrap()
}

/// A task form as the browser posts it.
fn task_form(policy: i64, name: &str, assets: &[i64], vulnerabilities: &[i64], extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut form = vec![("input[policy_id]".to_string(), policy.to_string()), ("input[name]".to_string(), name.to_string())];
    for (i, a) in assets.iter().enumerate() {
        form.push((format!("input[asset_ids][{i}]"), a.to_string()));
    }
    for (i, v) in vulnerabilities.iter().enumerate() {
        form.push((format!("input[vulnerability_ids][{i}]"), v.to_string()));
    }
    for (k, v) in extra {
        form.push((format!("input[{k}]"), v.to_string()));
    }
    form
}

async fn create_task(app: &TestApp, admin: &Session, form: &[(String, String)]) -> Response {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.call(Some(admin), "create_task", &pairs).await
}

/// Ticks the engine (as replica `replica`, at `now`) until the task is completed.
async fn run_to_completion(app: &TestApp, task: i64, replica: &str) {
    wait_for("the task to complete", || async {
        engine::tick(&app.state, replica, now()).await.unwrap();
        let status = sqlx::query_scalar::<_, String>("SELECT status FROM playbook_tasks WHERE id = $1").bind(task).fetch_one(&app.db().pool).await.unwrap();
        (status == "completed").then_some(())
    })
    .await;
    // One more tick sends the notifications of a task completed by the last one.
    engine::tick(&app.state, replica, now()).await.unwrap();
}

/// An API-only asset (no agent) with the same vulnerability open, through the ingestion API.
async fn asset_without_agent(app: &TestApp, admin: &Session, advisory_id: &str, package: &str) -> i64 {
    let api = app.token(admin, "scanner").await;
    app.api(&api, Method::POST, "/api/v1/assets", Some(json!({ "assets": [asset("i-legacy", "legacy-01", "10.9.0.1")] }))).await;
    let finding = json!({ "findings": [{ "instance_id": "i-legacy", "advisory_id": advisory_id, "title": "test", "severity": "high",
                                        "category": "linux", "package": package, "installed_version": "1" }] });
    let response = app.api(&api, Method::POST, "/api/v1/findings", Some(finding)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    app.count("SELECT id FROM assets WHERE instance_id = 'i-legacy'").await
}

/// In dry run, a task over a real agent and a host without one completes with per-host results,
/// notifies a DingTalk robot (signature checked by the gateway) and by email, and Retry failed
/// runs a second execution on the failed host only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_task_completes_through_a_real_agent_and_notifies() {
    let (app, _, admin) = enterprise().await;
    let server = app.serve().await;
    let libc = installed("libc6");
    let fixed = format!("{}+bulwark1", libc.source_version);
    advisories::import(
        app.db(),
        advisories::FEED,
        "test",
        "fixtures",
        loaded(&[advisory("DSA-9300-1", &libc.source, json!([{ "introduced": "0" }, { "fixed": fixed }]))]),
        now(),
    )
    .await
    .unwrap();
    let token = enrollment_token(&app, &admin, "").await;
    let state = tempfile::tempdir().unwrap();
    let _agent = start_agent(&server, Some(&token), &state.path().join("agent"), &[]);
    wait_for("the inventory", || async { (app.count("SELECT COUNT(*) FROM findings").await > 0).then_some(()) }).await;
    let agent_host = app.count("SELECT asset_id FROM agents").await;
    let vulnerability = app.count("SELECT id FROM vulnerabilities WHERE advisory_id = 'DSA-9300-1'").await;
    let legacy = asset_without_agent(&app, &admin, "DSA-9300-1", &libc.source).await;
    let sink = SmtpSink::start();
    let smtp = sink.settings_form();
    assert_eq!(app.call(Some(&admin), "save_smtp_settings", &form(&smtp)).await.status, StatusCode::OK);
    let gateway = Gateway::start("SECtest-secret", "Bulwark");
    let webhook = gateway.webhook();
    let bot = app
        .call(Some(&admin), "create_chatbot", &[("input[name]", "ops"), ("input[webhook]", &webhook), ("input[secret]", "SECtest-secret"), ("input[keywords]", "Bulwark")])
        .await;
    assert_eq!(bot.status, StatusCode::OK, "{}", bot.body);
    // Verify the browser never sees the webhook's token or the secret.
    assert!(!bot.body.contains("robot-token") && !bot.body.contains("SECtest-secret"), "{}", bot.body);
    let bot_id = bot.json()["id"].as_i64().unwrap().to_string();
    let policy = clone_policy(&app, &admin).await;

    let task_form = task_form(
        policy,
        "Patch glibc",
        &[agent_host, legacy],
        &[vulnerability],
        &[("chatbot_ids][0", &bot_id), ("emails", "ops@alpha.test, sec@alpha.test"), ("dry_run", "true")],
    );
    let created = create_task(&app, &admin, &task_form).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let task = created.json().as_i64().unwrap();
    run_to_completion(&app, task, "replica-a").await;

    // Verify per-host results: simulated on the agent's host, failed (no agent) on the other.
    let detail = app.call(Some(&admin), "get_task", &[("id", &task.to_string())]).await.json();
    assert_eq!(detail["task"]["status"], "completed");
    assert_eq!((detail["task"]["total"].as_i64(), detail["task"]["success"].as_i64(), detail["task"]["failed"].as_i64()), (Some(2), Some(1), Some(1)));
    let hosts = detail["hosts"].as_array().unwrap();
    let legacy_row = hosts.iter().find(|h| h["asset_id"] == legacy).unwrap();
    assert_eq!(legacy_row["status"], "failed");
    assert!(legacy_row["error"].as_str().unwrap().starts_with("no agent"), "{legacy_row}");
    let agent_row = hosts.iter().find(|h| h["asset_id"] == agent_host).unwrap();
    assert_eq!(agent_row["status"], "simulated", "{agent_row}");
    assert_eq!(agent_row["items"][0]["status"], "simulated");
    assert!(agent_row["output"].as_str().unwrap().contains("apt-get -s install --only-upgrade"), "{agent_row}");
    // The host's packages were not changed by the dry run.
    assert_eq!(installed("libc6").version, libc.version);

    // Verify the DingTalk message arrived signed and with the keyword, and the email went out.
    let messages = gateway.accepted();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["verified_sign"], true);
    let text = messages[0]["body"]["markdown"]["text"].as_str().unwrap();
    assert!(text.contains("Total: 2; Success: 1; Failed: 1") && text.contains("Bulwark"), "{text}");
    let mail = sink.messages();
    assert_eq!(mail.iter().map(|m| m.recipient.as_str()).collect::<Vec<_>>(), vec!["ops@alpha.test", "sec@alpha.test"]);
    assert!(mail[0].raw.contains("Patch glibc"));
    let log = detail["notify_log"].as_str().unwrap();
    assert!(log.contains("DingTalk \"ops\": sent") && log.contains("Email to ops@alpha.test, sec@alpha.test: sent"), "{log}");

    // Retry failed: a second execution over the failed host only.
    let retry = app.call(Some(&admin), "retry_failed_hosts", &[("id", &task.to_string())]).await;
    assert_eq!(retry.status, StatusCode::OK, "{}", retry.body);
    run_to_completion(&app, task, "replica-a").await;
    let second = app.call(Some(&admin), "get_task", &[("id", &task.to_string())]).await.json();
    assert_eq!(second["task"]["executed_num"], 2);
    assert_eq!(second["hosts"].as_array().unwrap().len(), 1);
    assert_eq!(second["hosts"][0]["asset_id"], legacy);
    let first = app.call(Some(&admin), "get_task", &[("id", &task.to_string()), ("run", "1")]).await.json();
    assert_eq!(first["hosts"].as_array().unwrap().len(), 2, "the first execution's results stay");
    assert_eq!(app.count("SELECT COUNT(*) FROM agent_jobs").await, 1, "the agent's host was not touched again");

    // Verify notifications speak the account's language: a third execution after switching to
    // Chinese. sec@ is a user who reads English: their email comes in English.
    assert_eq!(app.call(Some(&admin), "set_account_language", &[("language", "zh-CN")]).await.status, StatusCode::OK);
    let alpha = app.count("SELECT account_id FROM playbook_tasks").await;
    app.user(alpha, "sec@alpha.test", Role::Viewer).await;
    let sec = app.sign_in("sec@alpha.test").await;
    assert_eq!(app.call(Some(&sec), "set_language", &[("language", "en")]).await.status, StatusCode::OK);
    let mailed_before = sink.messages().len();
    app.call(Some(&admin), "retry_failed_hosts", &[("id", &task.to_string())]).await;
    run_to_completion(&app, task, "replica-a").await;
    let messages = gateway.accepted();
    let chinese = messages.last().unwrap();
    assert_eq!(chinese["body"]["markdown"]["title"], "Bulwark 任务“Patch glibc”已完成");
    let text = chinese["body"]["markdown"]["text"].as_str().unwrap();
    assert!(text.contains("- 共 1 台；成功 0 台；失败 1 台") && text.contains("- 第 3 次执行") && text.contains("[详情]("), "{text}");
    // … and so does the task's notification log.
    let third = app.call(Some(&admin), "get_task", &[("id", &task.to_string())]).await.json();
    let log = third["notify_log"].as_str().unwrap();
    assert!(log.contains("钉钉机器人“ops”：已发送") && log.contains("邮件发送至 ops@alpha.test：已发送") && log.contains("邮件发送至 sec@alpha.test：已发送"), "{log}");
    let mail = sink.messages();
    let third: Vec<_> = mail[mailed_before..].iter().map(|m| (m.recipient.clone(), crate::language::decoded(&m.raw))).collect();
    assert_eq!(third.len(), 2);
    for (recipient, (subject, text)) in third {
        if recipient == "ops@alpha.test" {
            assert_eq!(subject, "Bulwark 任务“Patch glibc”已完成");
            assert!(text.contains("- 第 3 次执行"), "{text}");
        } else {
            assert_eq!(recipient, "sec@alpha.test");
            assert!(subject.contains("Patch glibc") && !subject.contains("任务"), "{subject}");
            assert!(text.contains("Total: 1; Success: 0; Failed: 1"), "{text}");
        }
    }
}

/// An agent enrolled over HTTP (no process): its fix jobs are answered by the test.
async fn fake_agent(app: &TestApp, admin: &Session, machine: &str) -> (String, i64, i64) {
    advisories::import(
        app.db(),
        advisories::FEED,
        "test",
        "fixtures",
        loaded(&[json!({
            "id": "DSA-7000-1", "modified": "2026-10-01T00:00:00Z", "summary": "openssl update",
            "affected": [{ "package": { "ecosystem": "Debian:12", "name": "openssl" },
                           "ranges": [{ "type": "ECOSYSTEM", "events": [{ "introduced": "0" }, { "fixed": "3.0.11-1~deb12u2" }] }] }]
        })]),
        now(),
    )
    .await
    .unwrap();
    let token = enrollment_token(app, admin, "").await;
    let credential = enroll(app, &token, machine).await;
    let vulnerable = json!([package("openssl", "3.0.11-1~deb12u1", "openssl")]);
    let posted = app.api(&credential, Method::POST, "/api/v1/agent/inventory", Some(inventory(machine, vulnerable))).await;
    assert_eq!(posted.json()["open_findings"], 1, "{}", posted.body);
    let asset = sqlx::query_scalar::<_, i64>("SELECT id FROM assets WHERE instance_id = $1").bind(machine).fetch_one(&app.db().pool).await.unwrap();
    let vulnerability = app.count("SELECT id FROM vulnerabilities WHERE advisory_id = 'DSA-7000-1'").await;
    (credential, asset, vulnerability)
}

/// A custom-time task fires after a restart; a running task is driven by one replica at a time,
/// and a restart in the middle neither loses nor repeats a host's job; a real fix that leaves
/// the package vulnerable fails the host with that reason.
#[tokio::test(flavor = "multi_thread")]
async fn tasks_survive_restarts_and_run_on_one_replica() {
    let (app, _, admin) = enterprise().await;
    let (credential, asset, vulnerability) = fake_agent(&app, &admin, MACHINE_A).await;
    let legacy = asset_without_agent(&app, &admin, "DSA-7000-1", "openssl").await;
    let policy = clone_policy(&app, &admin).await;
    let at = bulwark::server::clock::now_utc() + chrono::Duration::hours(2);
    let when = at.format("%Y-%m-%dT%H:%M").to_string();
    let form = task_form(policy, "Night fix", &[asset, legacy], &[vulnerability], &[("custom_time", "true"), ("execute_at", &when), ("concurrency", "1")]);
    let task = create_task(&app, &admin, &form).await.json().as_i64().unwrap();

    // Before its time nothing starts; after a restart, at its time, it does.
    let now = now();
    assert_eq!(engine::tick(&app.state, "replica-a", now).await.unwrap().started, 0);
    let restarted = app.restart().await;
    let due = at.timestamp() - at.timestamp() % 60 + 1;
    let first = engine::tick(&restarted.state, "replica-b", due).await.unwrap();
    assert_eq!((first.started, first.dispatched), (1, 1), "one host at a time");

    // Another replica does not drive it while replica-b holds the lease.
    let other = engine::tick(&app.state, "replica-c", due + 1).await.unwrap();
    assert_eq!(other.dispatched + other.finished_hosts, 0);
    // replica-b stops (a crash): after the lease another takes over without re-queuing the job.
    let later = due + engine::LEASE_SECS + 1;
    let takeover = engine::tick(&app.state, "replica-c", later).await.unwrap();
    assert_eq!(takeover.dispatched, 0, "the running host's job is not queued again");
    assert_eq!(app.count("SELECT COUNT(*) FROM agent_jobs").await, 1);

    // The agent reports a real fix that did not change the package: still vulnerable.
    let job = app.api(&credential, Method::GET, "/api/v1/agent/jobs", None).await.json();
    assert_eq!(job["simulate"], false);
    let unchanged = inventory(MACHINE_A, json!([package("openssl", "3.0.11-1~deb12u1", "openssl")]));
    let result = json!({ "outcome": { "command": ["apt-get", "install", "--only-upgrade", "-y", "openssl"], "exit_code": 0,
                                      "output": "openssl is already the newest version", "timed_out": false, "simulated": false,
                                      "changes": [], "error": null }, "inventory": unchanged });
    let posted = app.api(&credential, Method::POST, &format!("/api/v1/agent/jobs/{}/result", job["id"]), Some(result)).await;
    assert_eq!(posted.json()["status"], "succeeded", "{}", posted.body);
    run_to_completion(&app, task, "replica-c").await;

    let detail = app.call(Some(&admin), "get_task", &[("id", &task.to_string())]).await.json();
    let agent_row = detail["hosts"].as_array().unwrap().iter().find(|h| h["asset_id"] == asset).unwrap().clone();
    assert_eq!(agent_row["status"], "failed");
    assert_eq!(agent_row["error"], "still vulnerable after the fix: DSA-7000-1");
    assert!(agent_row["items"][0]["error"].as_str().unwrap().contains("fixed in 3.0.11-1~deb12u2"), "{agent_row}");
    assert_eq!(detail["task"]["executed_num"], 1);
    // Verify the finding shows the failed fix on the Assets pages.
    assert_eq!(app.count("SELECT COUNT(*) FROM findings WHERE status = 'fix_failed'").await, 1);
}

/// Bad input is refused field by field, and nothing is written.
#[tokio::test(flavor = "multi_thread")]
async fn bad_tasks_and_chatbots_are_refused_with_nothing_written() {
    let (app, _, admin) = enterprise().await;
    let (_, asset, vulnerability) = fake_agent(&app, &admin, MACHINE_A).await;
    let policy = clone_policy(&app, &admin).await;
    type Case = (Vec<(String, String)>, &'static str, &'static str);
    let cases: Vec<Case> = vec![
        (task_form(policy, " ", &[asset], &[vulnerability], &[]), "name", "Enter a task name."),
        (task_form(policy, "t", &[], &[vulnerability], &[]), "assets", "Select at least one asset."),
        (task_form(policy, "t", &[asset], &[], &[]), "vulnerabilities", "Select at least one vulnerability to fix."),
        (task_form(policy, "t", &[asset], &[vulnerability], &[("custom_time", "true"), ("execute_at", "2020-01-01T10:00")]), "execute_at", "Choose a time in the future (UTC)."),
        (task_form(policy, "t", &[asset], &[vulnerability], &[("emails", "ops@alpha.test, nobody")]), "emails", "nobody: "),
        (task_form(policy, "t", &[asset, 999_999], &[vulnerability], &[]), "assets", "Some selected assets are not in this account."),
        (task_form(policy, "t", &[asset], &[vulnerability], &[("concurrency", "500")]), "concurrency", "Enter 1 to 100 hosts at once."),
    ];
    for (form, field, message) in cases {
        let response = create_task(&app, &admin, &form).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", response.body);
        let got = response.json()["Validation"][field].as_str().unwrap_or_default().to_string();
        assert!(got.starts_with(message), "{field}: {got}");
    }
    let plain_http = app
        .call(Some(&admin), "create_chatbot", &[("input[name]", "ops"), ("input[webhook]", "http://oapi.dingtalk.com/robot/send?access_token=x")])
        .await;
    assert_eq!(plain_http.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(plain_http.json()["Validation"]["webhook"], "Use an https:// URL.");

    // Verify nothing was written by any of them.
    assert_eq!(app.count("SELECT COUNT(*) FROM playbook_tasks").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM playbook_runs").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM dingtalk_chatbots").await, 0);

    // Names are unique in the account.
    let ok = task_form(policy, "Patch", &[asset], &[vulnerability], &[]);
    assert_eq!(create_task(&app, &admin, &ok).await.status, StatusCode::OK);
    let again = create_task(&app, &admin, &ok).await;
    assert_eq!(again.json()["Validation"]["name"], "A task with this name exists already.");
    // The policy cannot be deleted while its task waits.
    let delete = app.call(Some(&admin), "delete_policy", &[("id", &policy.to_string())]).await;
    assert_eq!(delete.status, StatusCode::CONFLICT);
    assert!(delete.json()["Conflict"].as_str().unwrap().contains("\"Patch\" is waiting or running"), "{}", delete.body);
}

/// Playbooks need Enterprise; viewers read but do not write; other accounts see nothing.
#[tokio::test(flavor = "multi_thread")]
async fn playbooks_respect_editions_roles_and_accounts() {
    let (app, alpha, admin) = enterprise().await;
    let policy = clone_policy(&app, &admin).await;
    app.user(alpha, "viewer@alpha.test", Role::Viewer).await;
    let viewer = app.sign_in("viewer@alpha.test").await;
    assert_eq!(app.call(Some(&viewer), "list_policies", &[]).await.status, StatusCode::OK);
    assert_eq!(app.call(Some(&viewer), "clone_policy", &[("template", "batch_vulnerability_fix")]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.call(Some(&viewer), "delete_policy", &[("id", &policy.to_string())]).await.status, StatusCode::FORBIDDEN);

    let (_, advanced) = app.account("Beta", Edition::Advanced, Role::Admin).await;
    let beta = app.sign_in(&advanced).await;
    let refused = app.call(Some(&beta), "list_policies", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["UpgradeRequired"]["feature"], "Playbooks");

    let (_, other) = app.account("Gamma", Edition::Enterprise, Role::Admin).await;
    let gamma = app.sign_in(&other).await;
    assert_eq!(app.call(Some(&gamma), "delete_policy", &[("id", &policy.to_string())]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.call(Some(&gamma), "list_policies", &[]).await.json(), json!([]));
    // Another account's policy cannot carry a task.
    let form = task_form(policy, "x", &[1], &[1], &[]);
    let response = create_task(&app, &gamma, &form).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.json()["Validation"]["policy_id"].is_string(), "{}", response.body);
}

/// Where a DingTalk robot posts is for admins: viewers see the robot's name only, admins a masked
/// webhook (never its access token or secret).
#[tokio::test(flavor = "multi_thread")]
async fn viewers_do_not_see_where_robots_post() {
    let (app, alpha, admin) = enterprise().await;
    let bot = app
        .call(Some(&admin), "create_chatbot", &[("input[name]", "ops"), ("input[webhook]", "https://oapi.dingtalk.com/robot/send?access_token=robot-token"), ("input[secret]", "SECsecret"), ("input[keywords]", "Bulwark")])
        .await;
    assert_eq!(bot.status, StatusCode::OK, "{}", bot.body);
    app.user(alpha, "viewer@alpha.test", Role::Viewer).await;
    let viewer = app.sign_in("viewer@alpha.test").await;

    let seen_by_admin = app.call(Some(&admin), "get_task_choices", &[]).await.json();
    let seen_by_viewer = app.call(Some(&viewer), "get_task_choices", &[]).await;
    // Verify the admin's hint is masked, and the viewer's answer names the robot and nothing more.
    let hint = seen_by_admin["chatbots"][0]["webhook_hint"].as_str().unwrap().to_string();
    assert!(hint.contains("oapi.dingtalk.com") && !hint.contains("robot-token"), "{hint}");
    assert_eq!(seen_by_viewer.status, StatusCode::OK, "{}", seen_by_viewer.body);
    assert_eq!(seen_by_viewer.json()["chatbots"][0]["name"], "ops");
    assert_eq!(seen_by_viewer.json()["chatbots"][0]["webhook_hint"], "");
    assert!(!seen_by_viewer.body.contains("oapi.dingtalk.com") && !seen_by_viewer.body.contains("SECsecret"), "{}", seen_by_viewer.body);
}

/// A task created under Enterprise does not run once the operator lowers the edition: at its time
/// it starts and completes with every host skipped and the reason on each, no fix job is queued,
/// and nobody is notified (the task's log says why).
#[tokio::test(flavor = "multi_thread")]
async fn a_task_does_not_run_after_the_edition_is_lowered() {
    let (app, alpha, admin) = enterprise().await;
    let legacy = asset_without_agent(&app, &admin, "DSA-7000-1", "openssl").await;
    let vulnerability = app.count("SELECT id FROM vulnerabilities WHERE advisory_id = 'DSA-7000-1'").await;
    let policy = clone_policy(&app, &admin).await;
    let at = bulwark::server::clock::now_utc() + chrono::Duration::hours(2);
    let when = at.format("%Y-%m-%dT%H:%M").to_string();
    let form = task_form(policy, "Night fix", &[legacy], &[vulnerability], &[("custom_time", "true"), ("execute_at", &when), ("emails", "ops@alpha.test")]);
    let created = create_task(&app, &admin, &form).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let task = created.json().as_i64().unwrap();

    bulwark::auth::repo::set_edition(app.db(), alpha, &bulwark::server::audit::Actor::Operator, Edition::Advanced).await.unwrap();
    let due = at.timestamp() - at.timestamp() % 60 + 1;
    let tick = engine::tick(&app.state, "replica-a", due).await.unwrap();

    // Verify the run is recorded as done with its host skipped for the edition, and nothing ran.
    assert_eq!((tick.started, tick.dispatched, tick.completed, tick.notified), (1, 0, 1, 1));
    let (status, log) = sqlx::query_as::<_, (String, String)>("SELECT status, notify_log FROM playbook_tasks WHERE id = $1")
        .bind(task)
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert_eq!(status, "completed");
    let (host, error) = sqlx::query_as::<_, (String, String)>("SELECT status, error FROM playbook_hosts WHERE asset_id = $1").bind(legacy).fetch_one(&app.db().pool).await.unwrap();
    assert_eq!(host, "skipped");
    assert_eq!(error, "not run: the account is on the Advanced edition and Playbooks needs Enterprise; the console operator sets the edition");
    assert_eq!(app.count("SELECT COUNT(*) FROM playbook_items WHERE status = 'skipped'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM agent_jobs").await, 0);
    assert!(log.contains("Not notified: the account is on the Advanced edition"), "{log}");
    assert!(!log.contains("Email to"), "{log}");
    // Verify the admin sees the same on the task's page once the edition allows it again.
    bulwark::auth::repo::set_edition(app.db(), alpha, &bulwark::server::audit::Actor::Operator, Edition::Enterprise).await.unwrap();
    let detail = app.call(Some(&admin), "get_task", &[("id", &task.to_string())]).await.json();
    assert_eq!(detail["hosts"][0]["status"], "skipped", "{detail}");
    assert!(detail["hosts"][0]["error"].as_str().unwrap().starts_with("not run: the account is on the Advanced edition"));
}
