//! What the console tells browsers and which browser requests it accepts: security headers on
//! every response, state-changing requests only from the console's own pages, and a real redirect
//! (303) where a page sends a signed-out visitor to the sign-in page; a server function is
//! refused to a signed-out caller before its body is read.

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::server::AppState;

/// Sent with every response that is not a console page (JSON, files, downloads): no scripts at
/// all; framing, plugins, `<base>` and form targets restricted.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
     frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'";

/// A console page's policy: scripts only from the console itself or inline with this render's
/// nonce (the hydration scripts carry it), WebAssembly compiled from the console's own module,
/// requests only to the console. Inline style attributes (chart widths) stay allowed.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'"
    )
}

/// Called while a page renders: puts the page's policy, with the nonce Leptos generated for
/// this response, on the response.
pub fn send_page_policy() {
    use leptos::prelude::use_context;
    if let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) {
        if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce)) {
            response.insert_header(header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

/// Adds the security headers to every response.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    response
}

/// Refuses a state-changing request (server functions, forms) that a browser sent from another
/// site: `Sec-Fetch-Site` must say same-origin (or none: typed or bookmarked), and an `Origin`
/// header must name this console. The JSON API under `/api/v1/` authenticates with bearer tokens,
/// which a browser never attaches on its own, so it is not checked here. Clients that send
/// neither header (scripts, old browsers) rely on the SameSite=Lax session cookie.
pub async fn same_origin_writes(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let writes = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if writes && !request.uri().path().starts_with("/api/v1/") {
        if let Err(reason) = check_origin(request.headers(), &state.config.public_url) {
            tracing::info!(path = request.uri().path(), reason, "cross-site request refused");
            return (StatusCode::FORBIDDEN, format!("Refused: {reason}.")).into_response();
        }
    }
    next.run(request).await
}

fn check_origin(headers: &HeaderMap, public_url: &str) -> Result<(), &'static str> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        if !matches!(site, "same-origin" | "none") {
            return Err("the request came from another site");
        }
    }
    if let Some(origin) = text("origin") {
        let host = text("host").unwrap_or_default();
        let own = |scheme: &str| format!("{scheme}://{host}");
        let public = public_url.trim_end_matches('/');
        let same = !host.is_empty() && (origin == own("http") || origin == own("https"));
        if !same && origin != public {
            return Err("the request's Origin is not this console");
        }
    }
    Ok(())
}

/// Server functions a signed-out caller may call: signing in, and asking who is signed in.
const ANONYMOUS_SERVER_FNS: [&str; 3] = ["/api/sign_in", "/api/sign_out", "/api/get_me"];

/// The paths of the registered server functions, read once (the registry copies them into a new
/// list on every call).
fn server_fn_paths() -> &'static std::collections::HashSet<&'static str> {
    static PATHS: std::sync::OnceLock<std::collections::HashSet<&'static str>> = std::sync::OnceLock::new();
    PATHS.get_or_init(|| leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path).collect())
}

/// Every other server function needs a signed-in session, checked here before the body is read
/// (the function checks the user, role, edition and account again). A signed-out call answers
/// as the function would, `Unauthorized` with the server-function error header, or, for a form
/// posted without JavaScript, 303 to the sign-in page.
pub async fn signed_in_server_fns(request: Request, next: Next) -> Response {
    use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;
    use tower_sessions::Session;

    let path = request.uri().path();
    let gated = request.method() == Method::POST && !ANONYMOUS_SERVER_FNS.contains(&path) && server_fn_paths().contains(path);
    if !gated {
        return next.run(request).await;
    }
    let signed_in = match request.extensions().get::<Session>() {
        Some(session) => matches!(session.get::<i64>(crate::auth::session::USER_ID_KEY).await, Ok(Some(_))),
        None => false,
    };
    if signed_in {
        return next.run(request).await;
    }
    let wants_html = request.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    if wants_html {
        return (StatusCode::SEE_OTHER, [(header::LOCATION, "/sign-in")]).into_response();
    }
    let body = serde_json::to_string(&crate::error::AppError::Unauthorized).unwrap_or_default();
    let mut response = (StatusCode::UNAUTHORIZED, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Ok(value) = HeaderValue::from_str(path) {
        response.headers_mut().insert(header::HeaderName::from_static(SERVER_FN_ERROR_HEADER), value);
    }
    response
}

/// A page that sends the visitor elsewhere while it renders (a signed-out visit to a console
/// page) answers 303 with its Location, whatever status the render chose (some answered 200 with
/// an empty page), so clients without JavaScript, link checkers and scanners follow it.
pub async fn page_redirects(request: Request, next: Next) -> Response {
    let page = request.method() == Method::GET;
    let mut response = next.run(request).await;
    let html = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
    if page && html && response.headers().contains_key(header::LOCATION) {
        *response.status_mut() = StatusCode::SEE_OTHER;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn only_this_consoles_pages_may_write() {
        let public = "https://console.example.com";
        assert!(check_origin(&headers(&[]), public).is_ok());
        assert!(check_origin(&headers(&[("sec-fetch-site", "same-origin")]), public).is_ok());
        assert!(check_origin(&headers(&[("sec-fetch-site", "none")]), public).is_ok());
        assert!(check_origin(&headers(&[("sec-fetch-site", "cross-site")]), public).is_err());
        assert!(check_origin(&headers(&[("sec-fetch-site", "same-site")]), public).is_err());
        assert!(check_origin(&headers(&[("host", "10.0.0.5:3000"), ("origin", "http://10.0.0.5:3000")]), public).is_ok());
        assert!(check_origin(&headers(&[("host", "proxy.internal"), ("origin", "https://console.example.com")]), public).is_ok());
        assert!(check_origin(&headers(&[("host", "10.0.0.5:3000"), ("origin", "https://evil.example")]), public).is_err());
        assert!(check_origin(&headers(&[("origin", "null")]), public).is_err());
    }
}
