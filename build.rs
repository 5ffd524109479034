//! Compiles the translation catalogues into the `i18n` module: one file per language and area
//! (`locales/<language>/<area>.json`, the area being the key's first part: `common.nav.assets`),
//! every key checked at compile time, in every language.

use std::error::Error;
use std::path::PathBuf;

use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};

/// One catalogue per console area, so each area's words live beside each other (`report`: the
/// generated reports, their emails and PDFs; `reports`: the Reports pages).
const NAMESPACES: &[&str] =
    &["common", "overview", "assets", "advisories", "reports", "playbook", "signature", "settings", "accounts", "report"];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?).join("i18n");
    // interpolate_display: server-side text (reports, emails) fills values into plain strings.
    let config = Config::new("en")?
        .add_locale("zh-CN")?
        .add_namespaces(NAMESPACES)?
        .parse_options(ParseOptions::default().interpolate_display(true));
    let translations = TranslationsInfos::parse(config)?;
    translations.emit_diagnostics();
    translations.rerun_if_locales_changed();
    translations.generate_i18n_module(out)?;
    Ok(())
}
