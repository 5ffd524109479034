//! The whole HTTP application: console pages and server functions (Leptos), the JSON API,
//! /healthz, sessions. Tests drive it with `tower::ServiceExt::oneshot`, no socket needed.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;
use axum::handler::Handler;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use super::browser;
use crate::server::db::SessionPool;
use crate::server::AppState;
use crate::app::{shell, App};
use crate::error::AppError;
use crate::http::body;

pub const SESSION_COOKIE: &str = "bulwark_session";
/// Signed-in sessions end after this much inactivity.
pub const SESSION_IDLE_HOURS: i64 = 8;

/// The console's page routes, generated once per process. `generate_route_list` renders the app
/// with resource loading suppressed through a flag that is global to the process (leptos_server's
/// `SuppressResourceLoad`), and a resource first polled by any request while that flag is up waits
/// forever (leptos-rs/leptos#4773): a test suite that built a router per test while other tests
/// rendered pages saw a page hang now and then. Generated before the first router exists and never
/// again, no render can overlap it.
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    crate::server::metrics::handle();
    let routes = page_routes();
    // The JSON API, described as it is registered (`http::openapi`). The key service reads its
    // bodies under the default limit; the others each read theirs with their own.
    let (signing_api, signing) = crate::http::openapi::describe(crate::signature::routes::api_routes());
    let (api, mut document) = crate::http::openapi::describe(
        utoipa_axum::router::OpenApiRouter::new()
            .merge(crate::assets::ingest::routes())
            .merge(crate::assets::agent_api::routes())
            .merge(crate::advisories::api::api_routes())
            .merge(crate::signature::webhook::routes())
            .merge(crate::signature::routes::scan_routes()),
    );
    document.merge(signing);
    let options = state.leptos_options.clone();
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    // The console: pages, server functions and the browser's downloads and forms, with the
    // session and the browser's guards (same-origin writes, signed-in server functions).
    let console = Router::new()
        .merge(crate::reports::downloads::routes())
        .merge(crate::mail::outbox::routes())
        .merge(crate::signature::routes::routes())
        .merge(crate::http::openapi::routes(document))
        .leptos_routes_with_context(
            &state,
            routes,
            context.clone(),
            move || shell(options.clone()),
        )
        // The console's files (the wasm, JS, CSS and icon under the site root), with their
        // brotli or gzip twin when the client accepts it and the build made one, and
        // conditional requests answered 304; anything else is the console's not-found page.
        // (leptos_axum's own file handler passes only the path and `Accept-Encoding` on, so
        // `If-Modified-Since` never matched.)
        .fallback_service(
            tower_http::services::ServeDir::new(&*state.leptos_options.site_root)
                .precompressed_br()
                .precompressed_gzip()
                .append_index_html_on_directories(false)
                .call_fallback_on_method_not_allowed(true)
                .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, shell).with_state(state.clone())),
        )
        // Server functions read their bodies past `DefaultBodyLimit`: cut every body above here.
        .layer(axum::middleware::from_fn(body::default_limit))
        // The advisory upload form reads its body under its own limit.
        .merge(crate::advisories::api::routes())
        .layer(axum::middleware::from_fn(server_fn_status))
        .layer(axum::middleware::from_fn(browser::page_redirects))
        .layer(axum::middleware::from_fn(browser::signed_in_server_fns))
        .layer(axum::middleware::from_fn_with_state(state.clone(), browser::same_origin_writes))
        .layer(DefaultBodyLimit::max(body::DEFAULT_LIMIT));
    let console = match &state.db.sessions {
        SessionPool::Sqlite(pool) => console.layer(session_layer(SqliteStore::new(pool.clone()), &state)),
        SessionPool::Postgres(pool) => console.layer(session_layer(PostgresStore::new(pool.clone()), &state)),
    };
    let console = console.layer(axum::middleware::from_fn_with_state(state.clone(), cache_static));
    // What machines call: the JSON API under /api/v1 (bearer tokens, never a cookie), the health
    // check and the metrics. None reads a session or answers a browser's form, so none pays for
    // those layers: the admission webhook and the signing API are called for every pod and every
    // signature. The key service reads its bodies under the default limit; the other API routes
    // read theirs with `LimitedBody`, each with its own limit, once the caller is authenticated.
    let machines = Router::new()
        .route("/healthz", get(healthz))
        .merge(crate::server::metrics::routes())
        .merge(signing_api.layer(axum::middleware::from_fn(body::default_limit)))
        .merge(api)
        .layer(DefaultBodyLimit::max(body::DEFAULT_LIMIT));
    console
        .merge(machines)
        .layer(axum::middleware::from_fn(browser::security_headers))
        .layer(axum::middleware::from_fn(crate::server::metrics::track))
        .with_state(state)
}

/// Whether the build's content-hash names (`hash.txt`, written by cargo-leptos beside the
/// binary) are there for the pages to link.
pub fn hash_file_present(options: &LeptosOptions) -> bool {
    std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join(options.hash_file.as_ref()))).is_some_and(|path| path.is_file())
}

/// A year, the most HTTP caches keep anything.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// How long browsers may keep the console's files. The wasm, JS and CSS under the package
/// folder are named by their content when the build hashes file names: a new build means new
/// names, so a browser keeps them for a year without asking again. Unhashed (a plain debug
/// build) and the other files (the icon) are revalidated on every use: `Last-Modified` and
/// `If-Modified-Since` make that a 304 with no body.
async fn cache_static(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let options = &state.leptos_options;
    let hashed = options.hash_files && request.uri().path().strip_prefix('/').and_then(|p| p.strip_prefix(options.site_pkg_dir.as_ref())).is_some_and(|p| p.starts_with('/'));
    let mut response = next.run(request).await;
    let status = response.status();
    let served_file = (status.is_success() && response.headers().contains_key(axum::http::header::LAST_MODIFIED)) || status == StatusCode::NOT_MODIFIED;
    if served_file {
        let policy = if hashed { IMMUTABLE } else { "no-cache" };
        let headers = response.headers_mut();
        headers.insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static(policy));
        // The same name answers brotli, gzip or plain: a shared cache must key on the encoding.
        headers.insert(axum::http::header::VARY, axum::http::HeaderValue::from_static("accept-encoding"));
    }
    response
}

fn session_layer<S: SessionStore + Clone>(store: S, state: &AppState) -> SessionManagerLayer<S> {
    SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(SESSION_IDLE_HOURS)))
}

/// Server functions answer every error with 500; this gives each `AppError` its own status
/// (401, 403, 404, 422, 429 …) so that HTTP clients and logs see what happened.
async fn server_fn_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR || !response.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1024 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "error body too large").into_response();
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = error.status();
    }
    Response::from_parts(parts, Body::from(bytes))
}

async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&state.db.pool).await {
        Ok(_) => (StatusCode::OK, "ok"),
        Err(error) => {
            tracing::error!(%error, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
