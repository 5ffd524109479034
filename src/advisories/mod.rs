//! Vulnerability advisories in the OSV format: import (CLI, console upload, API), each
//! ecosystem's version ordering, matching inventories against them, and Trivy reports.

pub mod api;
#[cfg(feature = "ssr")]
pub mod archive;
#[cfg(feature = "ssr")]
pub mod index;
pub mod model;
#[cfg(feature = "ssr")]
pub mod osv;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod trivy;
#[cfg(feature = "ssr")]
pub mod version;
