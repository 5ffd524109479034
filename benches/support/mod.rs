//! What the benchmarks share: the console on a database (no socket), a signed-in admin, requests
//! through the router and server-function calls as the browser makes them, the median/p95 line,
//! and running a scenario on SQLite and then on a throwaway PostgreSQL database.

use std::future::Future;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use leptos::prelude::LeptosOptions;
use http_body_util::BodyExt;
use tower::ServiceExt;

use bulwark::auth::model::Role;
use bulwark::auth::repo as auth_repo;
use bulwark::server::config::Config;
use bulwark::server::crypto::{self, random_hex};
use bulwark::server::db::Db;
use bulwark::console::router;
use bulwark::server::AppState;

pub const PASSWORD: &str = "benchmark-password";

/// The database (migrated) and the whole router over it.
pub async fn console(url: &str) -> (Db, Router) {
    let db = Db::open(url).await.expect("open database");
    let config = Config::new(url.to_string(), std::env::temp_dir().join("bulwark-bench"));
    let leptos_options = LeptosOptions::builder().output_name("bulwark").site_root("target/site").build();
    let secrets = bulwark::server::secrets::Secrets::from_key(&[1; 32]);
    let state = AppState::new(leptos_options, db.clone(), config, secrets);
    (db, router(state))
}

/// Adds an admin to the account and signs in through the server function; the session cookie.
pub async fn admin_session(db: &Db, router: &Router, account_id: i64) -> String {
    let email = format!("bench-{}@bulwark.local", random_hex(4));
    let hash = crypto::hash_password(PASSWORD.into()).await.unwrap();
    auth_repo::create_user(&db.pool, account_id, &email, "Bench", Role::Admin, &hash.0).await.unwrap();
    let sign_in = Request::builder()
        .method(Method::POST)
        .uri("/api/sign_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::from(format!("email={email}&password={PASSWORD}")))
        .unwrap();
    let response = router.clone().oneshot(sign_in).await.unwrap();
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("bulwark_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("signed in")
}

/// Sends a request through the router (no socket): its status and body.
pub async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    (status, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

/// A page's server render as the browser asks for it under the session `cookie`: how long it
/// took and its size in bytes.
pub async fn page(router: &Router, cookie: &str, path: &str) -> (Duration, usize) {
    let request = Request::builder()
        .uri(path)
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let start = std::time::Instant::now();
    let (status, body) = send(router, request).await;
    assert_eq!(status, StatusCode::OK);
    (start.elapsed(), body.len())
}

/// A server-function call as the browser makes it: a form-encoded POST under the session `cookie`.
pub fn server_fn(cookie: &str, function: &str, form: String) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(format!("/api/{function}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::COOKIE, cookie)
        .body(Body::from(form))
        .unwrap()
}

/// The `q` quantile (nearest rank) of samples sorted in ascending order.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

pub fn stats(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |q: f64| quantile(&samples, q).as_secs_f64() * 1e3;
    format!("median {:>8.1} ms, p95 {:>8.1} ms", at(0.5), at(0.95))
}

/// Runs `scenario(label, url)` on a temporary SQLite file, then on a fresh database of the
/// PostgreSQL server at `pg` (dropped afterwards) when one is given. With `BULWARK_BENCH_KEEP=DIR`
/// the databases outlive the run (`DIR/<bench>.db` and `bulwark_bench_kept_<bench>`), so a scenario that
/// finds its data already loaded can skip the load (for profiling; the figures of record come
/// from fresh databases).
pub async fn on_each_database<F, Fut>(pg: Option<&str>, scenario: F)
where
    F: Fn(&'static str, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let keep = std::env::var("BULWARK_BENCH_KEEP").ok().map(std::path::PathBuf::from);
    // This benchmark's name, from its executable (`target/release/deps/ingest-0123abcd`).
    let bench = std::env::args()
        .next()
        .and_then(|path| std::path::Path::new(&path).file_name().map(|f| f.to_string_lossy().into_owned()))
        .and_then(|file| file.split('-').next().map(str::to_string))
        .unwrap_or_else(|| "bench".into());
    let dir = tempfile::tempdir().unwrap();
    let sqlite_dir = keep.clone().unwrap_or_else(|| dir.path().to_path_buf());
    std::fs::create_dir_all(&sqlite_dir).unwrap();
    scenario("SQLite", format!("sqlite://{}/{bench}.db?mode=rwc", sqlite_dir.display())).await;
    if let Some(admin_url) = pg {
        let name = if keep.is_some() { format!("bulwark_bench_kept_{bench}") } else { format!("bulwark_bench_{}", random_hex(4)) };
        let admin = Db::connect(admin_url).await.expect("connect to PostgreSQL");
        let exists = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM pg_database WHERE datname = $1").bind(&name).fetch_one(&admin.pool).await.unwrap();
        if exists == 0 {
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin.pool).await.unwrap();
        }
        let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap();
        scenario("PostgreSQL", format!("{base}/{name}")).await;
        if keep.is_none() {
            sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&admin.pool).await.ok();
        }
    } else {
        println!("\n(PostgreSQL skipped: pass --pg postgres://…/postgres or set BULWARK_BENCH_PG_URL)");
    }
}
