//! The HTML shell, the router, and the console layout: navigation, header, and the signed-in
//! user (provided here, read through `auth::context`).

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Html, MetaTags, Title};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes, Outlet};
use leptos_router::hooks::use_location;
use leptos_router::{path, SsrMode};

use crate::accounts::pages::{InvitationsPage, MemberViewPage, MultiAccountPage, ResourceDirectoryPage};
use crate::advisories::pages::AdvisorySettingsPage;
use crate::assets::pages::{AddHostPage, AssetDetailPage, AssetListPage};
use crate::auth::api::{get_me, SignOut};
use crate::auth::context::{MeRefresh, MeResource};
use crate::auth::model::Me;
use crate::auth::pages::{LanguageSelect, SignInPage};
use crate::format::url_encode;
use crate::components::toast::{provide_toaster, ToastStack};
use crate::error::AppError;
use crate::locale::{self, Label, td_string, tr, use_i18n};
use crate::overview::pages::OverviewPage;
use crate::playbook::pages::{CreateTaskPage, MyPolicyPage, PolicyCenterPage, TaskDetailPage, TaskManagementPage};
use crate::reports::pages::{ArchivedReportPage, ReportArchivePage, ReportHistoryPage, ReportListPage, ReportWizardPage};
use crate::settings::pages::*;
use crate::signature::{
    AdmissionLogPage, SecurityPolicyPage, SignatureClustersPage, SignatureImagesPage, SignatureKeysPage, VulnExceptionsPage, WitnessPage,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::console::browser::send_page_policy();
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
                <HashedStylesheet id="leptos" options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let i18n = locale::provide_language();
    provide_toaster();
    // Marks the page as interactive once hydrated; end-to-end tests wait for it.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Html attr:lang=move || locale::tag(i18n.get_locale())/>
        <Title text="Bulwark"/>
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/sign-in") view=SignInPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=ConsoleLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=OverviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/assets") view=AssetListPage ssr=SsrMode::Async/>
                    <Route path=path!("/assets/add-host") view=AddHostPage ssr=SsrMode::Async/>
                    <Route path=path!("/assets/:id") view=AssetDetailPage ssr=SsrMode::Async/>
                    <Route path=path!("/precaution/container-signature") view=WitnessPage ssr=SsrMode::Async/>
                    <Route path=path!("/precaution/container-signature/policies") view=SecurityPolicyPage ssr=SsrMode::Async/>
                    <Route path=path!("/precaution/container-signature/exceptions") view=VulnExceptionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/precaution/container-signature/images") view=SignatureImagesPage ssr=SsrMode::Async/>
                    <Route path=path!("/precaution/container-signature/keys") view=SignatureKeysPage ssr=SsrMode::Async/>
                    <Route path=path!("/precaution/container-signature/clusters") view=SignatureClustersPage ssr=SsrMode::Async/>
                    <Route path=path!("/precaution/container-signature/decisions") view=AdmissionLogPage ssr=SsrMode::Async/>
                    <Route path=path!("/operation/reports") view=ReportListPage ssr=SsrMode::Async/>
                    <Route path=path!("/operation/reports/new") view=ReportWizardPage ssr=SsrMode::Async/>
                    <Route path=path!("/operation/reports/:id/edit") view=ReportWizardPage ssr=SsrMode::Async/>
                    <Route path=path!("/operation/reports/:id/history") view=ReportHistoryPage ssr=SsrMode::Async/>
                    <Route path=path!("/operation/reports/archive") view=ReportArchivePage ssr=SsrMode::Async/>
                    <Route path=path!("/operation/reports/archive/:id") view=ArchivedReportPage ssr=SsrMode::Async/>
                    <Route path=path!("/operation/multi-account") view=MultiAccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/operation/multi-account/:id") view=MemberViewPage ssr=SsrMode::Async/>
                    <Route path=path!("/playbook/policy-center") view=PolicyCenterPage ssr=SsrMode::Async/>
                    <Route path=path!("/playbook/my-policy") view=MyPolicyPage ssr=SsrMode::Async/>
                    <Route path=path!("/playbook/my-policy/:id/create-task") view=CreateTaskPage ssr=SsrMode::Async/>
                    <Route path=path!("/playbook/tasks") view=TaskManagementPage ssr=SsrMode::Async/>
                    <Route path=path!("/playbook/tasks/:id") view=TaskDetailPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings") view=|| view! { <Redirect path="/settings/account"/> }/>
                    <Route path=path!("/settings/account") view=AccountSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/email") view=EmailSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/resource-directory") view=ResourceDirectoryPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/invitations") view=InvitationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/advisories") view=AdvisorySettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/users") view=UsersSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/tokens") view=TokenSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/score") view=ScoreSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/authorizations") view=AuthorizationSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/audit") view=AuditSettingsPage ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
        <ToastStack/>
    }
}

/// A menu section: its heading (none for top-level links) and its `(href, label)` links.
type NavSection = (Option<Label>, &'static [(&'static str, Label)]);

/// Navigation, mirroring the original console's left menu.
const NAV: &[NavSection] = &[
    (None, &[("/", |l| td_string!(l, common.nav.overview)), ("/assets", |l| td_string!(l, common.nav.assets))]),
    (Some(|l| td_string!(l, common.nav.precaution)), &[("/precaution/container-signature", |l| td_string!(l, common.nav.container_signature))]),
    (
        Some(|l| td_string!(l, common.nav.operation)),
        &[("/operation/reports", |l| td_string!(l, common.nav.reports)), ("/operation/multi-account", |l| td_string!(l, common.nav.multi_account))],
    ),
    (
        Some(|l| td_string!(l, common.nav.playbook)),
        &[
            ("/playbook/policy-center", |l| td_string!(l, common.nav.policy_center)),
            ("/playbook/my-policy", |l| td_string!(l, common.nav.my_policy)),
            ("/playbook/tasks", |l| td_string!(l, common.nav.task_management)),
        ],
    ),
    (None, &[("/settings", |l| td_string!(l, common.nav.settings))]),
];

fn is_current(href: &str, path: &str) -> bool {
    if href == "/" {
        path == "/"
    } else {
        path == href || path.starts_with(&format!("{href}/"))
    }
}

#[component]
fn ConsoleLayout() -> impl IntoView {
    let refresh = RwSignal::new(0u64);
    provide_context(MeRefresh::new(refresh));
    let me: MeResource = Resource::new(move || refresh.get(), |_| get_me());
    provide_context(me);
    let location = use_location();
    // The user's stored language wins over this browser's cookie (they may have chosen on
    // another browser, or just signed in here): the labels follow, and the cookie with them.
    let i18n = use_i18n();
    Effect::new(move |_| {
        let chosen = me.get().and_then(|me| me.ok()).and_then(|me| me.language).and_then(|tag| locale::parse(&tag));
        if let Some(chosen) = chosen.filter(|chosen| *chosen != i18n.get_locale_untracked()) {
            i18n.set_locale(chosen);
        }
    });
    // The page itself (the Outlet) renders outside any Suspense, so it is created once, in the
    // same order on the server and in the browser; only the header and the redirect wait for `me`.
    view! {
        <Transition>
            {move || Suspend::new(async move {
                match me.await {
                    Err(AppError::Unauthorized) => {
                        let path = location.pathname.get_untracked();
                        let search = location.search.get_untracked();
                        let search = search.trim_start_matches('?');
                        let here = if search.is_empty() { path } else { format!("{path}?{search}") };
                        Some(view! { <Redirect path=format!("/sign-in?next={}", url_encode(&here))/> })
                    }
                    _ => None,
                }
            })}
        </Transition>
        <div class="shell">
            <aside class="sidebar">
                <div class="brand">
                    <span class="brand-mark"></span>
                    "Bulwark"
                </div>
                <Navigation/>
            </aside>
            <div class="main">
                <header class="topbar">
                    <Transition>
                        {move || Suspend::new(async move { me.await.ok().map(|me| view! { <Header me/> }) })}
                    </Transition>
                </header>
                <main class="content">
                    <Outlet/>
                </main>
            </div>
        </div>
    }
}

#[component]
fn Navigation() -> impl IntoView {
    let location = use_location();
    let i18n = use_i18n();
    view! {
        <nav class="nav" aria-label=tr(i18n, |l| td_string!(l, common.nav.label))>
            {NAV
                .iter()
                .map(|(section, links)| {
                    view! {
                        {section.map(|s| view! { <div class="nav-section">{move || s(i18n.get_locale())}</div> })}
                        {links
                            .iter()
                            .map(|(href, label)| {
                                let (href, label) = (*href, *label);
                                let class = if section.is_some() { "nav-sub" } else { "" };
                                view! {
                                    <a
                                        href=href
                                        class=class
                                        aria-current=move || {
                                            if is_current(href, &location.pathname.get()) { "page" } else { "false" }
                                        }
                                    >
                                        {move || label(i18n.get_locale())}
                                    </a>
                                }
                            })
                            .collect_view()}
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// Account, edition and the signed-in user, with the language and sign-out.
#[component]
fn Header(me: Me) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let i18n = use_i18n();
    let account = me.account;
    let edition = account.edition;
    let role = me.role;
    view! {
        <div class="account">
            <span class="account-name">{account.name}</span>
            " "
            <span class="account-id" title=tr(i18n, |l| td_string!(l, common.header.account_id))>{account.account_no}</span>
            " "
            <span class=format!("badge badge-{}", edition.as_str()) data-testid="edition-badge">
                {move || edition.label_in(i18n.get_locale())}
            </span>
        </div>
        <div class="user-menu">
            <LanguageSelect stored=true/>
            <span class="user-email">{me.email}</span>
            <span class="muted">{move || role.label_in(i18n.get_locale())}</span>
            <ActionForm action=sign_out>
                <button class="btn-link" type="submit">{tr(i18n, |l| td_string!(l, common.header.sign_out))}</button>
            </ActionForm>
        </div>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    let i18n = use_i18n();
    view! {
        <div class="sign-in-page">
            <div class="sign-in-card">
                <h1>{tr(i18n, |l| td_string!(l, common.not_found.title))}</h1>
                <p>{tr(i18n, |l| td_string!(l, common.not_found.body))}</p>
                <a class="btn btn-primary" href="/">{tr(i18n, |l| td_string!(l, common.not_found.home))}</a>
            </div>
        </div>
    }
}
