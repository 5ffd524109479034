//! Reading the registry's answers: capped bodies, its error messages, transport failures and
//! `WWW-Authenticate` challenges.

use std::collections::BTreeMap;

use base64::Engine as _;
use reqwest::header::HeaderMap;
use reqwest::{StatusCode, Url};
use serde::Deserialize;

use super::{RegistryError, MAX_ERROR_BODY_BYTES, REQUEST_TIMEOUT};

pub(super) fn same_origin(url: &Url, base: &Url) -> bool {
    url.scheme() == base.scheme() && url.host_str() == base.host_str() && url.port_or_known_default() == base.port_or_known_default()
}

pub(super) fn basic_authorization(username: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}")))
}

pub(super) fn header_string(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// Reads a body but stops at `limit` bytes, so a hostile registry cannot exhaust memory.
pub(super) async fn read_capped(mut response: reqwest::Response, limit: usize, host: &str, what: &str) -> Result<Vec<u8>, RegistryError> {
    if response.content_length().is_some_and(|len| len > limit as u64) {
        return Err(RegistryError::TooLarge { what: what.to_string(), limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(host, &e))? {
        if body.len() + chunk.len() > limit {
            return Err(RegistryError::TooLarge { what: what.to_string(), limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(super) async fn status_error(status: StatusCode, what: String, response: reqwest::Response) -> RegistryError {
    RegistryError::Status { status: status.as_u16(), what, message: registry_message(response).await }
}

/// The messages from the registry's `{"errors":[{"code","message","detail"}]}` body, if any.
pub(super) async fn registry_message(response: reqwest::Response) -> Option<String> {
    let body = read_capped(response, MAX_ERROR_BODY_BYTES, "", "").await.ok()?;
    error_body_message(&body)
}

pub(super) fn error_body_message(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(Deserialize)]
    struct ErrorEntry {
        code: Option<String>,
        message: Option<String>,
    }
    let parsed: Errors = serde_json::from_slice(body).ok()?;
    let messages: Vec<String> = parsed
        .errors
        .into_iter()
        .filter_map(|e| e.message.filter(|m| !m.is_empty()).or(e.code))
        .map(|m| m.chars().filter(|c| !c.is_control()).take(300).collect())
        .collect();
    (!messages.is_empty()).then(|| messages.join("; "))
}

/// Turns reqwest's nested error into the reason a user can act on.
pub(super) fn transport_error(host: &str, error: &reqwest::Error) -> RegistryError {
    if let Some(refused) = crate::server::outbound::refusal(error) {
        return RegistryError::Refused(refused);
    }
    RegistryError::Unreachable { host: host.to_string(), reason: transport_reason(error) }
}

fn transport_reason(error: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost: &(dyn std::error::Error + 'static) = error;
    let mut source = Some(error);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            let known = match io.kind() {
                ConnectionRefused => Some("connection refused"),
                ConnectionReset => Some("the connection was reset"),
                ConnectionAborted => Some("the connection was aborted"),
                TimedOut => Some("the connection timed out"),
                HostUnreachable => Some("the host is unreachable"),
                NetworkUnreachable => Some("the network is unreachable"),
                _ => None,
            };
            if let Some(reason) = known {
                return reason.to_string();
            }
            // rustls reports through InvalidData; a non-TLS answer is the usual plain-HTTP mix-up.
            if io.kind() == InvalidData {
                let text = io.to_string();
                return if text.contains("InvalidContentType") {
                    "it does not answer HTTPS on that port (is it a plain-HTTP registry?)".to_string()
                } else {
                    format!("the TLS handshake failed: {text}")
                };
            }
        }
        if current.to_string() == "dns error" {
            return "the host name could not be resolved".to_string();
        }
        innermost = current;
        // io::Error::source() skips the error it wraps (hyper-rustls nests io errors), so
        // step into the wrapped error itself.
        source = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
    }
    if let Some(reqwest_error) = error.downcast_ref::<reqwest::Error>() {
        if reqwest_error.is_timeout() {
            return format!("no answer within {} seconds", REQUEST_TIMEOUT.as_secs());
        }
    }
    innermost.to_string()
}

pub(super) struct Challenge {
    pub(super) scheme: String,
    pub(super) params: BTreeMap<String, String>,
}

/// Parses `Bearer realm="…",service="…",scope="…"` (quoted values may hold commas).
pub(super) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.is_empty() {
        return None;
    }
    let mut params = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect::<String>().trim().to_ascii_lowercase();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect::<String>().trim().to_string();
        }
        params.insert(key, value);
    }
    Some(Challenge { scheme: scheme.to_string(), params })
}
