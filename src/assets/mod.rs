//! Hosts, groups and their security data: the Assets pages, the ingestion API, and the host
//! agents (enrollment, inventories, fix jobs) that feed them.

#[cfg(feature = "ssr")]
pub mod agent_api;
pub mod api;
#[cfg(feature = "ssr")]
pub mod bulk;
#[cfg(feature = "ssr")]
pub mod fleet;
#[cfg(feature = "ssr")]
pub mod heard;
#[cfg(feature = "ssr")]
pub mod held;
#[cfg(feature = "ssr")]
pub mod ingest;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod wake;
