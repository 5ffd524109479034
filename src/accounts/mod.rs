//! Multi-account control and the resource directory: a management account's member accounts
//! (created as resource accounts or invited), and one list of their editions, scores and risks.

pub mod api;
pub mod model;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod repo;

