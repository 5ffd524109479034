//! The test harness: a fresh database per test, the real router, and helpers that speak HTTP to it.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use serde_json::Value;
use tower::ServiceExt;

use bulwark::auth::editions::Edition;
use bulwark::auth::model::{AccountKind, Role};
use bulwark::auth::repo as auth_repo;
use bulwark::server::config::Config;
use bulwark::server::crypto::{self, random_hex};
use bulwark::server::db::Db;
use bulwark::server::{router, AppState};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub state: AppState,
    router: Router,
    _dir: Option<tempfile::TempDir>,
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

/// A signed-in browser: its session cookie.
#[derive(Clone)]
pub struct Session(pub String);

impl TestApp {
    pub async fn new() -> TestApp {
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
        let config = Config { database_url: url, secure_cookies: false, demo: false, admin_password: None };
        let leptos_options = LeptosOptions::builder().output_name("bulwark").site_root("target/site").build();
        let state = AppState { leptos_options, db, config: Arc::new(config) };
        TestApp { router: router(state.clone()), state, _dir: dir }
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
        let account = auth_repo::create_account(&mut conn, name, edition, AccountKind::Cloud).await.unwrap();
        drop(conn);
        let email = format!("{}@{}.test", role.as_str(), name.to_lowercase().replace(' ', "-"));
        self.user(account.id, &email, role).await;
        (account.id, email)
    }

    pub async fn user(&self, account_id: i64, email: &str, role: Role) {
        let hash = crypto::hash_password(PASSWORD.to_string()).await.unwrap();
        auth_repo::create_user(&self.db().pool, account_id, email, "Test user", role, &hash.0).await.unwrap();
    }

    pub async fn request(&self, request: Request<Body>) -> Response {
        let response = self.router.clone().oneshot(request).await.expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        Response { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
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
    response
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("bulwark_session="))
        .map(|v| Session(v.split(';').next().unwrap().to_string()))
}

pub fn encode(value: &str) -> String {
    bulwark::components::format::url_encode(value)
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
