//! Sign-in, sessions, users, roles, the signed-in user's context and
//! the feature gate (editions and the one-time authorizations).

pub mod api;
pub mod context;
pub mod gate;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
pub mod token;
