//! Helpers for the console's plain axum routes (the JSON API, downloads), shared by every area.

pub mod body;
pub mod download;
pub mod json;
