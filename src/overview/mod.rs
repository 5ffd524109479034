//! The Overview page: the security score, its trend and the open risks; and the score formula
//! every other area reuses.

pub mod api;
#[cfg(feature = "ssr")]
pub mod counters;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
pub mod score;
