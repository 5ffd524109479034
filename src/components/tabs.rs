//! Tabs across the top of a page: links, the current one marked for the eye and for screen readers.

use leptos::prelude::*;

use crate::locale::{Label, td_string, tr, use_i18n};

/// One link per `(href, label)`, each label in the reader's language; `current` is the href of
/// the page shown.
#[component]
pub fn PageTabs(tabs: &'static [(&'static str, Label)], current: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <nav class="tabs">
            {tabs
                .iter()
                .map(|(href, label)| {
                    let label = *label;
                    view! {
                        <a class="tab" href=*href aria-current=if *href == current { "page" } else { "false" }>
                            {move || label(i18n.get_locale())}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// The Settings tabs. Several areas have a tab here (Resource Directory, Invitations,
/// Advisories), so the list lives with the components rather than in any one area.
pub const SETTINGS_TABS: &[(&str, Label)] = &[
    ("/settings/account", |l| td_string!(l, common.settings_tabs.account)),
    ("/settings/email", |l| td_string!(l, common.settings_tabs.email)),
    ("/settings/resource-directory", |l| td_string!(l, common.settings_tabs.resource_directory)),
    ("/settings/invitations", |l| td_string!(l, common.settings_tabs.invitations)),
    ("/settings/advisories", |l| td_string!(l, common.settings_tabs.advisories)),
    ("/settings/users", |l| td_string!(l, common.settings_tabs.users)),
    ("/settings/tokens", |l| td_string!(l, common.settings_tabs.tokens)),
    ("/settings/score", |l| td_string!(l, common.settings_tabs.score)),
    ("/settings/authorizations", |l| td_string!(l, common.settings_tabs.authorizations)),
    ("/settings/audit", |l| td_string!(l, common.settings_tabs.audit)),
];

/// The Settings heading and its tabs.
#[component]
pub fn SettingsTabs(current: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="page-header">
            <h1>{tr(i18n, |l| td_string!(l, common.nav.settings))}</h1>
        </div>
        <PageTabs tabs=SETTINGS_TABS current/>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Settings tabs read as they always have in English, and every one has a Chinese label.
    #[test]
    fn settings_tabs_in_both_languages() {
        let english: Vec<_> = SETTINGS_TABS.iter().map(|(_, l)| l(crate::locale::Locale::en)).collect();
        assert_eq!(english[..3], ["Account", "Email", "Resource Directory"]);
        assert_eq!(english[9], "Audit log");
        for (href, label) in SETTINGS_TABS {
            assert_ne!(label(crate::locale::Locale::zh_CN), label(crate::locale::Locale::en), "{href}");
        }
    }
}
