//! Container signature (Precaution › Container Signature): a key management service, clusters
//! with their validation hook, witnesses, security policies, image signing in cosign's format
//! with publication to OCI registries, and the admission webhook that admits only trusted images.

pub mod api;
pub mod model;
pub mod pages;
pub mod vuln_model;

#[cfg(feature = "ssr")]
pub mod admission;
#[cfg(feature = "ssr")]
pub mod admission_cache;
#[cfg(feature = "ssr")]
pub mod cache;
#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod cosign;
#[cfg(feature = "ssr")]
pub mod decisions;
#[cfg(feature = "ssr")]
pub mod hook;
#[cfg(feature = "ssr")]
pub mod image_ref;
#[cfg(feature = "ssr")]
pub mod images;
#[cfg(feature = "ssr")]
pub mod keys;
#[cfg(feature = "ssr")]
pub mod kms;
#[cfg(feature = "ssr")]
pub mod registry;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod routes;
#[cfg(feature = "ssr")]
pub mod vulns;
#[cfg(feature = "ssr")]
pub mod webhook;

pub use pages::*;
