//! How an account's mail goes out: its own SMTP server (kept here, edited in Settings › Email),
//! else the console's, else its local outbox folder, which Settings lists. Reports and playbooks
//! send through `outbox::mailer_for`; the transport itself is `server::mailer`.

pub mod model;
#[cfg(feature = "ssr")]
pub mod outbox;
#[cfg(feature = "ssr")]
pub mod repo;
