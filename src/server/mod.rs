//! Server-only plumbing: configuration, database, state, crypto helpers, audit, background jobs,
//! demo data, and the axum router that ties the console together.

pub mod audit;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod jobs;
pub mod mailer;
pub mod router;
pub mod secrets;
pub mod state;
pub mod tls;

pub use router::router;
pub use state::{state, AppState};

/// Now, in Unix seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
