//! Security reports (Operation › Reports): definitions and their wizard, a durable schedule in
//! the account's time zone, generation from the account's data, delivery by email with a PDF,
//! and the archive.

pub mod api;
pub mod document;
pub mod model;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod delivery;
#[cfg(feature = "ssr")]
pub mod downloads;
#[cfg(feature = "ssr")]
pub mod generate;
#[cfg(feature = "ssr")]
pub mod render;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod schedule;
