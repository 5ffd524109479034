//! Request body limits: 1 MiB unless a route names a larger one, and the body read only after the
//! request is authenticated (`LimitedBody` goes last among a handler's extractors).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_LENGTH;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::error::AppError;

const MIB: usize = 1024 * 1024;
/// Every route that names no other limit: forms, server functions, the key service's API.
pub const DEFAULT_LIMIT: usize = MIB;
/// The ingestion API's batches and agents' inventories.
pub const INGEST_LIMIT: usize = 16 * MIB;
/// A Trivy JSON report over HTTP.
pub const TRIVY_LIMIT: usize = 32 * MIB;
/// An advisory upload (compressed; the archive limits bound what it inflates to).
pub const ADVISORY_LIMIT: usize = 128 * MIB;
/// An AdmissionReview: the Kubernetes API server sends at most 3 MiB.
pub const ADMISSION_LIMIT: usize = 3 * MIB;

/// A request body of at most `LIMIT` bytes. As an extractor it reads the body, so it comes after
/// the extractors that authenticate the request: axum runs them in argument order.
pub struct LimitedBody<const LIMIT: usize>(pub Bytes);

impl<S: Send + Sync, const LIMIT: usize> FromRequest<S> for LimitedBody<LIMIT> {
    type Rejection = AppError;

    async fn from_request(request: Request, _: &S) -> Result<Self, AppError> {
        check_declared_length(request.headers(), LIMIT)?;
        let collected = Limited::new(request.into_body(), LIMIT).collect().await.map_err(|error| {
            if error.is::<LengthLimitError>() {
                too_large(LIMIT)
            } else {
                AppError::Request("The request body could not be read.".into())
            }
        })?;
        Ok(LimitedBody(collected.to_bytes()))
    }
}

fn too_large(limit: usize) -> AppError {
    AppError::PayloadTooLarge(limit as u64)
}

/// Refuses a body whose `Content-Length` already says it is too large, without reading it.
fn check_declared_length(headers: &HeaderMap, limit: usize) -> Result<(), AppError> {
    let declared = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > limit as u64 => Err(too_large(limit)),
        _ => Ok(()),
    }
}

/// The default limit for handlers that read the body themselves (server functions, multipart,
/// axum's `Bytes`): the body stops after `DEFAULT_LIMIT` bytes and the answer is a 413, whatever
/// the handler made of the cut-off body.
pub async fn default_limit(request: Request, next: Next) -> Response {
    if let Err(error) = check_declared_length(request.headers(), DEFAULT_LIMIT) {
        return error.into_response();
    }
    let exceeded = Arc::new(AtomicBool::new(false));
    let flag = exceeded.clone();
    let request = request.map(|body| {
        Body::new(Limited::new(body, DEFAULT_LIMIT).map_err(move |error| {
            if error.is::<LengthLimitError>() {
                flag.store(true, Ordering::Relaxed);
            }
            error
        }))
    });
    let response = next.run(request).await;
    if exceeded.load(Ordering::Relaxed) {
        return too_large(DEFAULT_LIMIT).into_response();
    }
    response
}
