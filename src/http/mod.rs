//! Helpers for the console's plain axum routes (the JSON API, downloads, the API's OpenAPI
//! description), shared by every area.

pub mod body;
pub mod download;
pub mod json;
pub mod openapi;
