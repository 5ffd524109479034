//! Tabs across the top of a page: links, the current one marked for the eye and for screen readers.

use leptos::prelude::*;

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

/// The Settings heading and its tabs.
#[component]
pub fn SettingsTabs(current: &'static str) -> impl IntoView {
    view! {
        <div class="page-header">
            <h1>"Settings"</h1>
        </div>
        <PageTabs tabs=SETTINGS_TABS current/>
    }
}
