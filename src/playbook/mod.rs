//! Playbooks: batch vulnerability fixing. Policies cloned from the Policy Center, tasks over
//! chosen hosts and vulnerabilities carried out through the host agents' fix jobs, and
//! notifications by DingTalk robot and email.

pub mod api;
#[cfg(feature = "ssr")]
pub mod dingtalk;
#[cfg(feature = "ssr")]
pub mod engine;
pub mod model;
#[cfg(feature = "ssr")]
pub mod notify;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
