//! The console as a whole, above every area: the router that serves them, the background jobs
//! that drive them, what it tells browsers, and the demo data.

pub mod browser;
pub mod demo;
pub mod jobs;
pub mod router;

pub use router::router;
