//! Tabs across the top of a page: links, the current one marked for the eye and for screen readers.

use leptos::prelude::*;

use crate::locale::{t, td_string, use_i18n, Label};

/// One link per `(href, label)`; `current` is the href of the page shown.
#[component]
pub fn PageTabs(tabs: &'static [(&'static str, &'static str)], current: &'static str) -> impl IntoView {
    view! {
        <nav class="tabs">
            {tabs
                .iter()
                .map(|(href, label)| {
                    view! { <a class="tab" href=*href aria-current=if *href == current { "page" } else { "false" }>{*label}</a> }
                })
                .collect_view()}
        </nav>
    }
}

/// The Settings tabs. Several areas have a tab here (Resource Directory, Invitations,
/// Advisories), so the list lives with the components rather than in any one area.
pub const SETTINGS_TABS: &[(&str, &str)] = &[
    ("/settings/account", "Account"),
    ("/settings/email", "Email"),
    ("/settings/resource-directory", "Resource Directory"),
    ("/settings/invitations", "Invitations"),
    ("/settings/advisories", "Advisories"),
    ("/settings/users", "Users"),
    ("/settings/tokens", "API tokens"),
    ("/settings/score", "Security score"),
    ("/settings/authorizations", "Authorizations"),
    ("/settings/audit", "Audit log"),
];

/// The Settings tabs' labels in the reader's language, by href (the same tabs as `SETTINGS_TABS`).
const SETTINGS_TAB_LABELS: &[(&str, Label)] = &[
    ("/settings/account", |l| td_string!(l, assets.ui.settings_tabs.account)),
    ("/settings/email", |l| td_string!(l, assets.ui.settings_tabs.email)),
    ("/settings/resource-directory", |l| td_string!(l, assets.ui.settings_tabs.resource_directory)),
    ("/settings/invitations", |l| td_string!(l, assets.ui.settings_tabs.invitations)),
    ("/settings/advisories", |l| td_string!(l, assets.ui.settings_tabs.advisories)),
    ("/settings/users", |l| td_string!(l, assets.ui.settings_tabs.users)),
    ("/settings/tokens", |l| td_string!(l, assets.ui.settings_tabs.tokens)),
    ("/settings/score", |l| td_string!(l, assets.ui.settings_tabs.score)),
    ("/settings/authorizations", |l| td_string!(l, assets.ui.settings_tabs.authorizations)),
    ("/settings/audit", |l| td_string!(l, assets.ui.settings_tabs.audit)),
];

/// The Settings heading and its tabs.
#[component]
pub fn SettingsTabs(current: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="page-header">
            <h1>{t!(i18n, assets.ui.settings)}</h1>
        </div>
        <nav class="tabs">
            {SETTINGS_TAB_LABELS
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The translated Settings tabs are the same tabs, in the same order, with the same English labels.
    #[test]
    fn settings_tab_labels_follow_the_tabs() {
        let hrefs: Vec<_> = SETTINGS_TAB_LABELS.iter().map(|(h, l)| (*h, l(crate::locale::Locale::en))).collect();
        assert_eq!(hrefs, SETTINGS_TABS.to_vec());
    }
}
