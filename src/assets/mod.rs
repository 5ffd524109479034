//! Hosts, groups and their security data: the Assets pages, and the ingestion API that feeds them.

pub mod api;
#[cfg(feature = "ssr")]
pub mod ingest;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
