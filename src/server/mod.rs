//! Server-only plumbing below every console area: the clock, configuration, database, state,
//! crypto helpers, secrets at rest, audit, the mail transport, the outbound request policy, TLS,
//! per-account rate limits, low-priority background work, the client address behind proxies and Prometheus metrics.

pub mod audit;
pub mod background;
pub mod behind;
pub mod client;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod limits;
pub mod mailer;
pub mod metrics;
pub mod next_read;
pub mod outbound;
pub mod point_read;
pub mod secrets;
pub mod state;
pub mod tls;
pub mod wal;

pub use clock::now;
pub use state::{state, AppState};
