//! JSON request bodies of the HTTP API, parsed with the path of what was wrong.

use axum::body::Bytes;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// Parses JSON with the path of the first offending value in the message.
pub fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, AppError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let field = if path == "." { "body".to_string() } else { path };
        AppError::field(field, error.into_inner().to_string())
    })
}
