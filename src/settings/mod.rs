//! Settings: edition, time zone, email, users, API tokens,
//! score weights, authorizations and the audit log.

pub mod api;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
