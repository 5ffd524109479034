//! The host agent (`bulwark agent`): what it collects on a host, how it carries out fix jobs,
//! the wire protocol it speaks with the console, and its main loop.

pub mod client;
pub mod fix;
pub mod host;
pub mod protocol;
