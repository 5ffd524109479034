//! The test harness: a fresh database per test, the real router, and helpers that speak HTTP to it.


use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use serde_json::Value;
use tower::ServiceExt;

use bulwark::editions::Edition;
use bulwark::auth::model::{AccountKind, Role};
use bulwark::auth::repo as auth_repo;
use bulwark::server::config::Config;
use bulwark::server::crypto::{self, random_hex};
use bulwark::server::db::Db;
use bulwark::server::outbound::OutboundPolicy;
use bulwark::server::secrets::Secrets;
use bulwark::console::router;
use bulwark::server::{clock, AppState};

pub const PASSWORD: &str = "correct horse battery staple";

/// Where the suite's clock starts unless `BULWARK_TEST_NOW` names another instant: a fixed
/// Wednesday, so no test passes or fails by the day it runs. `BULWARK_TEST_NOW=2028-02-29T23:30:00Z
/// cargo test …` runs the suite on another date.
pub const SUITE_START: &str = "2026-11-18T10:00:00Z";

/// Now on the suite's clock (started at `SUITE_START` the first time anything asks).
pub fn now() -> i64 {
    let start = chrono::DateTime::parse_from_rfc3339(SUITE_START).expect("SUITE_START is RFC 3339").timestamp();
    clock::start_at(start);
    clock::now()
}

/// The suite's clock for a console or agent process the test starts: `(BULWARK_TEST_NOW, now)`.
pub fn clock_env() -> (&'static str, String) {
    now();
    (clock::START_VAR, clock::now_rfc3339())
}

pub struct TestApp {
    pub state: AppState,
    router: Router,
    _dir: Option<tempfile::TempDir>,
    _data_dir: tempfile::TempDir,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// What the suite's consoles may reach: loopback, and DingTalk robots there over plain http.
pub fn loopback_policy() -> OutboundPolicy {
    let (policy, problems) = OutboundPolicy::parse("127.0.0.1, ::1, localhost", Some("oapi.dingtalk.com, http://127.0.0.1"));
    assert!(problems.is_empty(), "{problems:?}");
    policy
}

/// A signed-in browser: its session cookie.
#[derive(Clone)]
pub struct Session(pub String);

impl TestApp {
    /// A console whose outbound policy allows this machine, where the tests' receivers (SMTP,
    /// DingTalk, registries) listen; the allowance is explicit, as an operator would write it.
    pub async fn new() -> TestApp {
        TestApp::with_outbound(loopback_policy()).await
    }

    /// A console with the default outbound policy: public addresses only.
    pub async fn strict() -> TestApp {
        TestApp::with_outbound(OutboundPolicy::default()).await
    }

    pub async fn with_outbound(outbound: OutboundPolicy) -> TestApp {
        now();
        let (url, dir) = match std::env::var("BULWARK_TEST_PG_URL") {
            Ok(admin_url) => {
                let name = format!("bulwark_test_{}", random_hex(6));
                let admin = Db::connect(&admin_url).await.expect("connect to PostgreSQL");
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin.pool).await.expect("create test database");
                admin.pool.close().await;
                let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin_url);
                (format!("{base}/{name}"), None)
            }
            Err(_) => {
                let dir = tempfile::tempdir().expect("temp dir");
                (format!("sqlite://{}/test.db?mode=rwc", dir.path().display()), Some(dir))
            }
        };
        let db = Db::open(&url).await.expect("open the test database");
        let data_dir = tempfile::tempdir().expect("data dir");
        let mut config = Config::new(url, data_dir.path().to_path_buf());
        config.outbound = Arc::new(outbound);
        let leptos_options = LeptosOptions::builder().output_name("bulwark").site_root("target/site").build();
        let secrets = Secrets::from_key(&[42; 32]);
        let state = AppState::new(leptos_options, db, config, secrets);
        TestApp { router: router(state.clone()), state, _dir: dir, _data_dir: data_dir }
    }

    /// A second console process on the same database, with its own connections (a restart,
    /// or another replica); it runs the migrations again as a starting console does.
    pub async fn restart(&self) -> TestApp {
        let data_dir = tempfile::tempdir().expect("data dir");
        let db = Db::open(&self.state.config.database_url).await.expect("reopen the database");
        let mut config = Config::new(self.state.config.database_url.clone(), data_dir.path().to_path_buf());
        config.outbound = self.state.config.outbound.clone();
        let state = AppState::new(self.state.leptos_options.clone(), db, config, self.state.secrets.clone());
        TestApp { router: router(state.clone()), state, _dir: None, _data_dir: data_dir }
    }

    /// Serves the console on a loopback port, for real processes (the agent) to reach it.
    pub async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let addr = listener.local_addr().unwrap();
        let app = self.router.clone().into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        format!("http://{addr}")
    }

    /// The router, for requests sent from spawned tasks.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// Creates an account with one user of the given role; returns (account id, email).
    pub async fn account(&self, name: &str, edition: Edition, role: Role) -> (i64, String) {
        let mut conn = self.db().pool.acquire().await.unwrap();
        let account = bulwark::tenants::open_account(&mut conn, name, edition, AccountKind::Cloud).await.unwrap();
        drop(conn);
        let email = format!("{}@{}.test", role.as_str(), name.to_lowercase().replace(' ', "-"));
        self.user(account.id, &email, role).await;
        (account.id, email)
    }

    pub async fn user(&self, account_id: i64, email: &str, role: Role) {
        let hash = crypto::hash_password(PASSWORD.to_string()).await.unwrap();
        auth_repo::create_user(&self.db().pool, account_id, email, "Test user", role, &hash.0).await.unwrap();
    }

    /// Sends a request through the router. A request that has not answered, body included,
    /// within two minutes fails the test naming it, instead of holding the whole suite.
    pub async fn request(&self, request: Request<Body>) -> Response {
        let what = format!("{} {}", request.method(), request.uri());
        let answer = async {
            let response = self.router.clone().oneshot(request).await.expect("router answers");
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = response.into_body().collect().await.expect("body").to_bytes();
            Response { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
        };
        match tokio::time::timeout(std::time::Duration::from_secs(120), answer).await {
            Ok(response) => response,
            Err(_) => panic!("{what} did not answer within 120 s"),
        }
    }

    /// Calls a server function the way the hydrated console does (form-encoded POST).
    pub async fn call(&self, session: Option<&Session>, function: &str, form: &[(&str, &str)]) -> Response {
        let body = form.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&");
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/{function}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json");
        if let Some(session) = session {
            request = request.header(header::COOKIE, &session.0);
        }
        self.request(request.body(Body::from(body)).unwrap()).await
    }

    /// A page load as a browser makes it.
    pub async fn get(&self, session: Option<&Session>, path: &str) -> Response {
        let mut request = Request::builder().uri(path).header(header::ACCEPT, "text/html,application/xhtml+xml");
        if let Some(session) = session {
            request = request.header(header::COOKIE, &session.0);
        }
        self.request(request.body(Body::empty()).unwrap()).await
    }

    /// Signs in through the server function and returns the session cookie.
    pub async fn sign_in(&self, email: &str) -> Session {
        self.sign_in_with(email, PASSWORD).await
    }

    pub async fn sign_in_with(&self, email: &str, password: &str) -> Session {
        let response = self.call(None, "sign_in", &[("email", email), ("password", password)]).await;
        assert!(response.status.is_success() || response.status.is_redirection(), "sign-in failed: {} {}", response.status, response.body);
        session_cookie(&response).expect("a session cookie")
    }

    /// Calls the JSON API with a bearer token.
    pub async fn api(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut request = Request::builder().method(method).uri(path).header(header::AUTHORIZATION, format!("Bearer {token}"));
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.request(request.body(body).unwrap()).await
    }

    /// Creates an API token through Settings as the given admin session.
    pub async fn token(&self, admin: &Session, name: &str) -> String {
        let response = self.call(Some(admin), "create_token", &[("name", name)]).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        response.json()["token"].as_str().unwrap().to_string()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql).fetch_one(&self.db().pool).await.unwrap()
    }
}

pub fn session_cookie(response: &Response) -> Option<Session> {
    set_cookie(response, "bulwark_session").map(|v| Session(v.split(';').next().unwrap().to_string()))
}

/// The whole `Set-Cookie` value the response sends for the named cookie, attributes included.
pub fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.strip_prefix(name).is_some_and(|rest| rest.starts_with('=')))
        .map(str::to_string)
}

pub fn encode(value: &str) -> String {
    bulwark::format::url_encode(value)
}

/// A valid asset payload item.
pub fn asset(instance_id: &str, name: &str, ip: &str) -> Value {
    serde_json::json!({ "instance_id": instance_id, "name": name, "ips": [ip], "os": "Debian GNU/Linux 12", "region": "eu-central-1", "group": "Web", "agent_status": "online" })
}

pub fn finding(instance_id: &str, advisory: &str, severity: &str) -> Value {
    serde_json::json!({
        "instance_id": instance_id, "advisory_id": advisory, "title": format!("{advisory} in openssl"),
        "severity": severity, "category": "linux", "package": "openssl", "installed_version": "3.0.11-1", "fix": "Upgrade openssl"
    })
}

/// A real SMTP server (aiosmtpd, tests/support/smtp_sink.py) on a free loopback port, stopped
/// when dropped. Each message lands once per envelope recipient in its folder.
pub struct SmtpSink {
    pub port: u16,
    child: std::process::Child,
    dir: tempfile::TempDir,
}

/// One received copy: the envelope recipient and the raw message.
pub struct Received {
    pub recipient: String,
    pub raw: String,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        use std::io::BufRead;
        let root = env!("CARGO_MANIFEST_DIR");
        let python = std::env::var("BULWARK_TEST_PYTHON").unwrap_or_else(|_| format!("{root}/.tmp/venv/bin/python"));
        let dir = tempfile::tempdir().expect("mail dir");
        let mut child = std::process::Command::new(&python)
            .arg(format!("{root}/tests/support/smtp_sink.py"))
            .args(["--port", "0", "--dir"])
            .arg(dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the SMTP sink with {python} ({e}); run scripts/setup.sh --test"));
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("sink output");
        let port = line.trim().strip_prefix("listening on ").and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("SMTP sink said {line:?}"));
        SmtpSink { port, child, dir }
    }

    pub fn messages(&self) -> Vec<Received> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|path| {
                let raw = std::fs::read_to_string(&path).unwrap();
                let recipient = raw.lines().next().unwrap().trim_start_matches("X-Envelope-To: ").to_string();
                Received { recipient, raw }
            })
            .collect()
    }

    /// Form fields that point an account's SMTP settings at this server.
    pub fn settings_form(&self) -> Vec<(&'static str, String)> {
        vec![
            ("smtp[host]", "127.0.0.1".into()),
            ("smtp[port]", self.port.to_string()),
            ("smtp[security]", "none".into()),
            ("smtp[username]", String::new()),
            ("smtp[password]", String::new()),
            ("smtp[from]", "Bulwark Reports <reports@bulwark.test>".into()),
        ]
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Turns owned form pairs into the borrowed shape `call` takes.
pub fn form<'a>(pairs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

impl TestApp {
    /// Moves this console's rate-limit windows `seconds` into the past, as if that much time had
    /// passed for them (the suite's clock is shared by every test, so it is not moved).
    pub async fn age_rate_windows(&self, seconds: i64) {
        sqlx::query("UPDATE rate_counters SET window_start = window_start - $1").bind(seconds).execute(&self.db().pool).await.unwrap();
    }

    /// A console serving its files from `site_root`, with content-hashed names or not.
    pub async fn with_site(site_root: &std::path::Path, hash_files: bool) -> TestApp {
        let mut app = TestApp::new().await;
        let mut options = app.state.leptos_options.clone();
        options.site_root = site_root.to_string_lossy().into_owned().into();
        options.hash_files = hash_files;
        app.state = app.state.changed(|state| state.leptos_options = options);
        app.router = router(app.state.clone());
        app
    }

    /// A console whose configuration `change` adjusts (as the environment would).
    pub async fn with_config(change: impl FnOnce(&mut bulwark::server::config::Config)) -> TestApp {
        let mut app = TestApp::new().await;
        let mut config = (*app.state.config).clone();
        change(&mut config);
        app.state = app.state.changed(|state| state.config = Arc::new(config));
        app.router = router(app.state.clone());
        app
    }

    /// A console that serves `/metrics` to this bearer token (`BULWARK_METRICS_TOKEN`).
    pub async fn with_metrics_token(token: &str) -> TestApp {
        TestApp::with_config(|config| config.metrics_token = Some(bulwark::server::metrics::MetricsToken::new(token))).await
    }

    /// A console behind the given trusted proxies (`BULWARK_TRUSTED_PROXIES`).
    pub async fn behind_proxies(proxies: &str) -> TestApp {
        let (trusted, problems) = bulwark::server::client::TrustedProxies::parse(proxies);
        assert!(problems.is_empty(), "{problems:?}");
        TestApp::with_config(|config| config.trusted_proxies = trusted).await
    }
}
