//! The console as a whole, above every area: the router that serves them, the background jobs
//! that drive them, and the demo data.

pub mod demo;
pub mod jobs;
pub mod router;

pub use router::router;
