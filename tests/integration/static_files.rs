//! The console's own files: precompressed brotli and gzip chosen by `Accept-Encoding`, a year of
//! caching for content-hashed names, revalidation (304) for the rest.

use std::io::{Read, Write};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};

use crate::common::*;

/// A wasm-like file that compresses well, as the real one does.
fn module_bytes() -> Vec<u8> {
    (0..40_000u32).flat_map(|i| [(i % 251) as u8, 0x61, (i % 7) as u8, 0x0b]).collect()
}

/// A site folder as `cargo leptos build --release --precompress` leaves it.
fn site(name: &str) -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let bytes = module_bytes();
    std::fs::write(pkg.join(name), &bytes).unwrap();
    let mut br = Vec::new();
    brotli::CompressorWriter::new(&mut br, 4096, 11, 22).write_all(&bytes).unwrap();
    std::fs::write(pkg.join(format!("{name}.br")), &br).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bytes).unwrap();
    std::fs::write(pkg.join(format!("{name}.gz")), gz.finish().unwrap()).unwrap();
    std::fs::write(dir.path().join("favicon.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
    (dir, bytes)
}

async fn fetch(app: &TestApp, path: &str, headers: &[(header::HeaderName, &str)]) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut request = Request::builder().uri(path);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = app.router().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

#[tokio::test]
async fn a_hashed_module_is_sent_precompressed_and_cached_for_a_year() {
    let name = "bulwark.Zk3q0aXb1_cd.wasm";
    let (dir, bytes) = site(name);
    let app = TestApp::with_site(dir.path(), true).await;
    let path = format!("/pkg/{name}");

    let (status, headers, body) = fetch(&app, &path, &[(header::ACCEPT_ENCODING, "gzip, deflate, br, zstd")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_ENCODING], "br");
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
    assert!(headers[header::VARY].to_str().unwrap().to_ascii_lowercase().contains("accept-encoding"));
    assert!(body.len() * 10 < bytes.len(), "brotli should send a tenth: {} of {}", body.len(), bytes.len());
    let mut inflated = Vec::new();
    brotli::Decompressor::new(&body[..], 4096).read_to_end(&mut inflated).unwrap();
    assert_eq!(inflated, bytes, "the brotli body is the module");

    let (_, headers, body) = fetch(&app, &path, &[(header::ACCEPT_ENCODING, "gzip")]).await;
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    let mut inflated = Vec::new();
    flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut inflated).unwrap();
    assert_eq!(inflated, bytes);

    let (_, headers, body) = fetch(&app, &path, &[]).await;
    assert!(headers.get(header::CONTENT_ENCODING).is_none(), "no Accept-Encoding, no encoding");
    assert_eq!(body, bytes);
}

#[tokio::test]
async fn unhashed_files_are_revalidated_and_answer_304_when_unchanged() {
    let (dir, _) = site("bulwark.wasm");
    let app = TestApp::with_site(dir.path(), false).await;
    for path in ["/pkg/bulwark.wasm", "/favicon.svg"] {
        let (status, headers, _) = fetch(&app, path, &[(header::ACCEPT_ENCODING, "br")]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache", "{path}: a name that stays the same is checked every time");
        let modified = headers[header::LAST_MODIFIED].to_str().unwrap().to_string();
        let (status, headers, body) = fetch(&app, path, &[(header::IF_MODIFIED_SINCE, &modified)]).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(body.is_empty());
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    }
    // Even with hashing on, only the package folder holds hashed names.
    let app = TestApp::with_site(dir.path(), true).await;
    let (_, headers, _) = fetch(&app, "/favicon.svg", &[]).await;
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
}

#[tokio::test]
async fn a_missing_file_is_the_not_found_page_and_is_not_cached() {
    // (Unhashed: a hashed console renders pages only where the build's hash file is.)
    let (dir, _) = site("bulwark.wasm");
    let app = TestApp::with_site(dir.path(), false).await;
    let (status, headers, body) = fetch(&app, "/pkg/bulwark.0ld.wasm", &[(header::ACCEPT_ENCODING, "br")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(headers.get(header::CACHE_CONTROL).is_none_or(|v| v != "public, max-age=31536000, immutable"));
    assert!(String::from_utf8_lossy(&body).contains("<html"), "the console's own 404 page");
}
