//! Sign-in, sessions, users, roles, and the edition/feature table.

pub mod api;
pub mod editions;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
pub mod token;
