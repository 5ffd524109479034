//! The Audit log tab: who did what in the console, page by page.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::settings::api::*;
use crate::format::date_time;
use crate::components::loaded::Loaded;
use crate::components::table::Pagination;
use crate::locale::{td_string, tr, use_i18n};
use crate::components::tabs::SettingsTabs;

#[component]
pub fn AuditSettingsPage() -> impl IntoView {
    let query = use_query_map();
    let page = Memo::new(move |_| query.with(|q| q.get("page").and_then(|p| p.parse::<i64>().ok()).unwrap_or(1).max(1)));
    let entries = Resource::new(move || page.get(), list_audit);
    let i18n = use_i18n();
    view! {
        <SettingsTabs current="/settings/audit"/>
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, settings.audit.title))}</h2>
            <Loaded resource=entries loading=td_string!(i18n.get_locale_untracked(), settings.audit.loading) render=move |(entries, total)| view! {
                            <div class="table-wrap">
                                <table class="table" data-testid="audit-table">
                                    <thead><tr>
                                        <th>{tr(i18n, |l| td_string!(l, settings.audit.when))}</th>
                                        <th>{tr(i18n, |l| td_string!(l, settings.audit.who))}</th>
                                        <th>{tr(i18n, |l| td_string!(l, settings.audit.action))}</th>
                                        <th>{tr(i18n, |l| td_string!(l, settings.audit.target))}</th>
                                        <th>{tr(i18n, |l| td_string!(l, settings.audit.detail))}</th>
                                    </tr></thead>
                                    <tbody>
                                        {entries.into_iter().map(|e| view! {
                                            <tr>
                                                <td class="nowrap">{date_time(Some(e.at))}</td>
                                                <td>{e.actor}</td>
                                                <td class="mono">{e.action}</td>
                                                <td>{e.target}</td>
                                                <td class="muted">{e.detail}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <Pagination page=page.get_untracked() page_count=(total + 49) / 50 total href=|p| format!("/settings/audit?page={p}")/>
            }/>
        </section>
    }
}
