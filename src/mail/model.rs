//! What the browser sees of the local outbox.

use serde::{Deserialize, Serialize};

/// A message in the local outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// The file name (`<id>.eml`).
    pub id: String,
    pub to: String,
    pub subject: String,
    /// Unix seconds.
    pub at: i64,
    pub size: i64,
}

/// Where a message of the outbox downloads from (the route in `outbox.rs`).
pub fn outbox_href(file: &str) -> String {
    format!("/settings/outbox/{file}")
}
