//! Building blocks every console page uses, so tables, forms, charts and feedback look and
//! behave the same everywhere.

pub mod chart;
pub mod errors;
pub mod form;
pub mod loaded;
pub mod modal;
pub mod route;
pub mod table;
pub mod tabs;
pub mod toast;
pub mod toggle;
