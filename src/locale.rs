//! The console's languages: English and Simplified Chinese. The catalogues (`locales/<language>/<area>.json`)
//! are compiled into `i18n` by build.rs; this module adds what the catalogues cannot say alone:
//! the language cookie, and labels for the shared enums, by language.

include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

pub use i18n::{use_i18n, Locale};
pub use leptos_i18n::{t, t_string, td_string};

/// The cookie that carries the chosen language, so the server renders the page in it and
/// hydration finds the same words. Set in the browser when the user picks a language, and by
/// the server at sign-in from the language stored for the user.
pub const COOKIE: &str = "bulwark_lang";

/// A fixed label in the reader's language (a `td_string!` per language), for tables of labels.
pub type Label = fn(Locale) -> &'static str;

/// The language of the request being served, for words the server writes itself (validation
/// messages): the language cookie, else the first language of `Accept-Language` the console
/// speaks, else English — the same order the pages use.
#[cfg(feature = "ssr")]
pub fn request_locale() -> Locale {
    let Some(parts) = leptos::prelude::use_context::<http::request::Parts>() else {
        return Locale::en;
    };
    let cookies = parts.headers.get_all(http::header::COOKIE).iter().filter_map(|v| v.to_str().ok());
    for pair in cookies.flat_map(|v| v.split(';')) {
        if let Some(chosen) = pair.trim().strip_prefix(COOKIE).and_then(|rest| rest.strip_prefix('=')).and_then(parse) {
            return chosen;
        }
    }
    let accepted = parts.headers.get(http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut ranked: Vec<(f32, &str)> = accepted
        .split(',')
        .filter_map(|item| {
            let mut fields = item.split(';');
            let tag = fields.next()?.trim();
            let q = fields.find_map(|f| f.trim().strip_prefix("q=")).map_or(Some(1.0), |q| q.parse().ok())?;
            Some((q, tag))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, tag) in ranked {
        let language = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
        match language.as_str() {
            "zh" => return Locale::zh_CN,
            "en" => return Locale::en,
            _ => {}
        }
    }
    Locale::en
}

/// A fixed label that follows the reader's language, for a view or an attribute:
/// `{tr(i18n, |l| td_string!(l, assets.list.title))}`. Every label shares this one closure type,
/// so the browser's module holds one copy of the code that renders a reactive text, not one per
/// label: `t!` per label cost 55 KB of brotli more across the console.
pub fn tr(i18n: leptos_i18n::I18nContext<Locale>, label: Label) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    move || label(i18n.get_locale())
}

/// A catalogue text with its `{name}` placeholders filled, for text a component needs as a
/// plain string (a confirm question, a title, a toast). One pass over the template, so a value
/// that itself contains `{…}` is never filled in turn; an unknown placeholder stays as written.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').map(|close| (&after[..close], close)) {
            Some((name, close)) if values.iter().any(|(n, _)| *n == name) => {
                out.push_str(values.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).unwrap_or_default());
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The language tag as stored, sent in `lang` and in the cookie.
pub fn tag(locale: Locale) -> &'static str {
    match locale {
        Locale::en => "en",
        Locale::zh_CN => "zh-CN",
    }
}

/// A stored or submitted tag back to a language; `None` for anything else.
pub fn parse(tag: &str) -> Option<Locale> {
    match tag {
        "en" => Some(Locale::en),
        "zh-CN" => Some(Locale::zh_CN),
        _ => None,
    }
}

/// Every language, in the order the selector lists them, each named in itself.
pub fn all() -> [(Locale, &'static str); 2] {
    [(Locale::en, td_string!(Locale::en, common.language.en)), (Locale::zh_CN, td_string!(Locale::zh_CN, common.language.zh_CN))]
}

/// Addresses with the language each reads, grouped by language in the order each language first
/// appears; no group is empty.
pub fn group_by_language(readers: impl IntoIterator<Item = (Locale, String)>) -> Vec<(Locale, Vec<String>)> {
    let mut groups: Vec<(Locale, Vec<String>)> = Vec::new();
    for (language, address) in readers {
        match groups.iter_mut().find(|(l, _)| *l == language) {
            Some((_, group)) => group.push(address),
            None => groups.push((language, vec![address])),
        }
    }
    groups
}

/// A stored language tag named in itself ("English", "简体中文"); an unknown tag as "?".
pub fn language_name(tag: &str) -> &'static str {
    match parse(tag) {
        Some(locale) => all().into_iter().find(|(l, _)| *l == locale).map_or("", |(_, name)| name),
        None => "?",
    }
}

/// Chooses the page's language (the cookie, else Accept-Language, else English, the same on the
/// server and in the browser) and provides it to every component below. Called once, by the App.
/// (The crate's own provider component also renders an empty `<script>`, which the pages'
/// nonce-only script policy has no use for.)
pub fn provide_language() -> leptos_i18n::I18nContext<Locale> {
    let options = leptos_i18n::context::I18nContextOptions::<Locale>::default().cookie_name(COOKIE).cookie_options(cookie_options());
    let i18n = leptos_i18n::context::init_i18n_context_with_options::<Locale>(options);
    leptos::prelude::provide_context(i18n);
    i18n
}

/// The language cookie's attributes: the whole site, a year, and sent on top-level navigation.
pub fn cookie_options() -> leptos_i18n::context::CookieOptions<Locale> {
    leptos_i18n::context::CookieOptions::default()
        .path("/")
        .max_age(COOKIE_MAX_AGE_SECS * 1000)
        .same_site(leptos_use::SameSite::Lax)
}

/// A year, in seconds.
pub const COOKIE_MAX_AGE_SECS: i64 = 365 * 24 * 3600;

/// The `Set-Cookie` value the server sends at sign-in and when the language is saved.
pub fn set_cookie_header(locale: Locale) -> String {
    format!("{COOKIE}={}; Path=/; Max-Age={COOKIE_MAX_AGE_SECS}; SameSite=Lax", tag(locale))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key of one catalogue is in the other, and no value is empty: a missing
    /// translation would otherwise fall back to English silently.
    #[test]
    fn the_catalogues_hold_the_same_keys() {
        fn keys(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
            match value {
                serde_json::Value::Object(map) => {
                    for (k, v) in map {
                        keys(&format!("{prefix}{k}."), v, out);
                    }
                }
                serde_json::Value::String(s) => {
                    assert!(!s.trim().is_empty(), "{prefix} is empty");
                    out.push(prefix.trim_end_matches('.').to_string());
                }
                other => panic!("{prefix}: unexpected {other}"),
            }
        }
        // Every catalogue file of a language, its keys prefixed by the file's name (the area).
        let read = |language: &str| -> Vec<String> {
            let dir = format!("{}/locales/{language}", env!("CARGO_MANIFEST_DIR"));
            let mut out = Vec::new();
            for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
                let path = entry.unwrap().path();
                let area = path.file_stem().unwrap().to_string_lossy().to_string();
                let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                keys(&format!("{area}."), &value, &mut out);
            }
            out.sort();
            out
        };
        let (en, zh) = (read("en"), read("zh-CN"));
        let only_en: Vec<_> = en.iter().filter(|k| !zh.contains(k)).collect();
        let only_zh: Vec<_> = zh.iter().filter(|k| !en.contains(k)).collect();
        assert!(only_en.is_empty() && only_zh.is_empty(), "only in en: {only_en:?}; only in zh-CN: {only_zh:?}");
        assert!(en.len() > 50, "{} keys", en.len());
    }

    #[test]
    fn fill_replaces_each_placeholder_once() {
        assert_eq!(fill("Remove {email}? {email}", &[("email", "a@b")]), "Remove a@b? a@b");
        // Verify values are not filled in turn, and unknown or unclosed braces stay.
        assert_eq!(fill("{a} and {b}", &[("a", "{b}"), ("b", "x")]), "{b} and x");
        assert_eq!(fill("{unknown} {a", &[("a", "1")]), "{unknown} {a");
    }

    #[test]
    fn tags_round_trip() {
        for (locale, _) in all() {
            assert_eq!(parse(tag(locale)), Some(locale));
        }
        assert_eq!(parse("fr"), None);
    }
}
