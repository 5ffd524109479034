use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use axum::http::StatusCode;

use crate::common::*;

pub(crate) fn bulwark(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bulwark"));
    command
        .env("DATABASE_URL", database_url)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LEPTOS_OUTPUT_NAME", "bulwark")
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("RUST_LOG", "info")
        // The console process shares the suite's clock.
        .envs([clock_env()])
        // Never the repository's own data folder (the master key is created there).
        .env("BULWARK_DATA_DIR", std::env::temp_dir().join(format!("bulwark-cli-{}", bulwark::server::crypto::random_hex(6))))
        .env_remove("BULWARK_MASTER_KEY")
        .env_remove("BULWARK_SMTP_HOST")
        .env_remove("BULWARK_ADMIN_PASSWORD")
        .env_remove("BULWARK_DEMO");
    command
}

/// Starts `bulwark serve`, collects what it prints until it says it is listening, then stops it.
fn first_lines_of_serve(mut command: Command) -> Vec<String> {
    let mut child = command.arg("serve").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start bulwark");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).for_each(|l| drop(tx.send(l))));
    std::thread::spawn(move || BufReader::new(stderr).lines().map_while(Result::ok).for_each(|l| drop(tx2.send(format!("stderr: {l}")))));
    let mut lines = Vec::new();
    // Generous: a loaded CI machine may take a while to start the debug binary.
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) {
        let listening = line.contains("is listening on");
        lines.push(line);
        if listening {
            break;
        }
    }
    child.kill().ok();
    child.wait().ok();
    lines
}

/// On an empty database the first start creates the management account and an admin whose
/// random password is printed once; the next start prints no password.
#[tokio::test(flavor = "multi_thread")]
async fn first_start_creates_the_management_account() {
    let app = TestApp::new().await;
    let url = app.state.config.database_url.clone();

    let first = tokio::task::spawn_blocking({
        let url = url.clone();
        move || first_lines_of_serve(bulwark(&url))
    })
    .await
    .unwrap();
    let line = first.iter().find(|l| l.contains("with the password")).unwrap_or_else(|| panic!("no password printed: {first:?}"));
    let password = line.split("with the password ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();

    // Verify one Enterprise management account whose admin signs in with the printed password.
    assert_eq!(app.count("SELECT COUNT(*) FROM accounts WHERE edition = 'enterprise' AND name = 'Management account'").await, 1);
    let admin = app.sign_in_with("admin@bulwark.local", &password).await;
    let me = app.call(Some(&admin), "get_me", &[]).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["role"], "Admin");
    // Verify the password is stored hashed, not as printed.
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM users WHERE password_hash = '{password}'")).await, 0);

    let second = tokio::task::spawn_blocking(move || first_lines_of_serve(bulwark(&url))).await.unwrap();
    assert!(second.iter().all(|l| !l.contains("password")), "{second:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM accounts").await, 1);
}

/// `bulwark user add` reads the password from standard input and refuses a short one.
#[tokio::test(flavor = "multi_thread")]
async fn user_add_reads_the_password_from_stdin() {
    let app = TestApp::new().await;
    let (_, _) = app.account("Alpha", bulwark::editions::Edition::Basic, bulwark::auth::model::Role::Admin).await;
    let url = app.state.config.database_url.clone();

    let run = |password: &'static str| {
        let url = url.clone();
        move || {
            let mut child = bulwark(&url)
                .args(["user", "add", "--email", "ops@alpha.test", "--name", "Ops", "--role", "viewer"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
            child.wait_with_output().unwrap()
        }
    };
    let short = tokio::task::spawn_blocking(run("short")).await.unwrap();
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("Use at least 12 characters."));

    let ok = tokio::task::spawn_blocking(run(PASSWORD)).await.unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let session = app.sign_in("ops@alpha.test").await;
    assert_eq!(app.call(Some(&session), "get_me", &[]).await.json()["role"], "Viewer");
}

/// Runs `bulwark account edition <account> <edition>` on the test database: (success, stdout, stderr).
async fn account_edition(url: &str, account: &str, edition: &str) -> (bool, String, String) {
    let mut command = bulwark(url);
    // The console's log goes to standard output too; only what the command says is wanted here.
    command.env("RUST_LOG", "warn").args(["account", "edition", account, edition]);
    let output = tokio::task::spawn_blocking(move || command.output().expect("run bulwark")).await.unwrap();
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// The operator sets an account's edition by name or id; the change is printed and audited, and
/// the account's gates follow it. Unknown accounts and editions, and ambiguous names, are refused.
#[tokio::test(flavor = "multi_thread")]
async fn the_operator_sets_an_accounts_edition() {
    let app = TestApp::new().await;
    let (alpha, email) = app.account("Alpha", bulwark::editions::Edition::Basic, bulwark::auth::model::Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let url = app.state.config.database_url.clone();
    let alpha_no = sqlx::query_scalar::<_, String>("SELECT account_no FROM accounts WHERE id = $1").bind(alpha).fetch_one(&app.db().pool).await.unwrap();

    let (ok, stdout, stderr) = account_edition(&url, "Alpha", "Enterprise").await;
    // Verify the change is printed, stored, audited as the operator's, and opens the gate.
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim(), format!("Alpha ({alpha_no}): edition Basic → Enterprise."));
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM accounts WHERE id = {alpha} AND edition = 'enterprise'")).await, 1);
    let audited = app
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'account.edition' AND actor = 'operator (command line)' AND detail = 'basic → enterprise'")
        .await;
    assert_eq!(audited, 1);
    assert_eq!(app.call(Some(&admin), "list_policy_templates", &[]).await.status, StatusCode::OK);

    // By account id; the same edition again changes nothing and writes no audit entry.
    let (ok, stdout, _) = account_edition(&url, &alpha_no, "advanced").await;
    assert!(ok);
    assert!(stdout.contains("edition Enterprise → Advanced"), "{stdout}");
    let (ok, stdout, _) = account_edition(&url, &alpha_no, "advanced").await;
    assert!(ok);
    assert!(stdout.contains("already on the Advanced edition; nothing changed"), "{stdout}");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'account.edition'").await, 2);
    assert_eq!(app.call(Some(&admin), "list_policy_templates", &[]).await.status, StatusCode::FORBIDDEN);

    // Verify each mistake exits non-zero with a message, and changes nothing.
    let (ok, _, stderr) = account_edition(&url, "Alpha", "gold").await;
    assert!(!ok);
    assert!(stderr.contains("unknown edition \"gold\": choose basic, advanced or enterprise"), "{stderr}");
    let (ok, _, stderr) = account_edition(&url, "Nobody", "basic").await;
    assert!(!ok);
    assert!(stderr.contains("no account has the id or name \"Nobody\""), "{stderr}");
    app.account("Twin", bulwark::editions::Edition::Basic, bulwark::auth::model::Role::Admin).await;
    sqlx::query("UPDATE accounts SET name = 'Twin' WHERE id = $1").bind(alpha).execute(&app.db().pool).await.unwrap();
    let (ok, _, stderr) = account_edition(&url, "Twin", "enterprise").await;
    assert!(!ok);
    assert!(stderr.contains("2 accounts are named \"Twin\": name one by its id"), "{stderr}");
    assert_eq!(app.count("SELECT COUNT(*) FROM accounts WHERE edition = 'enterprise'").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'account.edition'").await, 2);
}
