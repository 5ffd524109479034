//! Bulwark: a self-hosted security operations console.
//! One crate: the same typed models and components compile for the server (`ssr`) and the browser (`hydrate`).

pub mod accounts;
pub mod advisories;
#[cfg(feature = "ssr")]
pub mod agent;
pub mod app;
pub mod assets;
pub mod auth;
pub mod components;
#[cfg(feature = "ssr")]
pub mod console;
pub mod editions;
pub mod error;
pub mod format;
pub mod locale;
pub mod mail;
#[cfg(feature = "ssr")]
pub mod http;
pub mod overview;
pub mod playbook;
pub mod reports;
pub mod settings;
pub mod signature;
#[cfg(feature = "ssr")]
pub mod tenants;

#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
