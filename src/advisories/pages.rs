//! Settings › Advisories: what the console matches inventories against, and uploads.

use leptos::prelude::*;

use super::api::get_advisories;
use crate::auth::context::use_is_admin;
use crate::format::date_time;
use crate::components::loaded::Loaded;
use crate::components::table::rows_or_empty;
use crate::components::tabs::SettingsTabs;
use crate::locale::{t, td_string, tr, use_i18n};

#[component]
pub fn AdvisorySettingsPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_advisories());
    let admin = use_is_admin();
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    view! {
        <SettingsTabs current="/settings/advisories"/>
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, advisories.upload.title))}</h2>
            <p class="muted">
                {tr(i18n, |l| td_string!(l, advisories.upload.intro))}
                <code>"bulwark advisories import PATH"</code>
                {tr(i18n, |l| td_string!(l, advisories.upload.intro_after))}
            </p>
            <Transition fallback=|| ()>
            {move || if admin.get() {
                view! {
                    <form class="inline-form" method="post" action="/settings/advisories/upload" enctype="multipart/form-data">
                        <div class="field">
                            <label for="advisory-file">{tr(i18n, |l| td_string!(l, advisories.upload.file))}</label>
                            <input id="advisory-file" name="file" type="file" accept=".json,.zip,application/json,application/zip" required/>
                        </div>
                        <button class="btn btn-primary" type="submit">{tr(i18n, |l| td_string!(l, advisories.upload.submit))}</button>
                    </form>
                }.into_any()
            } else {
                view! { <p class="muted">{tr(i18n, |l| td_string!(l, advisories.upload.admins_only))}</p> }.into_any()
            }}
            </Transition>
        </section>
        <Loaded resource=overview loading=td_string!(locale, advisories.loading) render=move |o| {
            let stats = o.stats;
            view! {
                <section class="card">
                    <h2>{tr(i18n, |l| td_string!(l, advisories.stats.title))}</h2>
                    <dl class="details" data-testid="advisory-stats">
                        <dt>{tr(i18n, |l| td_string!(l, advisories.stats.feed))}</dt>
                        <dd>{stats.feed}</dd>
                        <dt>{tr(i18n, |l| td_string!(l, advisories.stats.own))}</dt>
                        <dd data-testid="own-advisories">{stats.own}</dd>
                        <dt>{tr(i18n, |l| td_string!(l, advisories.stats.last_import))}</dt>
                        <dd>{date_time(stats.last_import_at)}</dd>
                    </dl>
                    <div class="table-wrap">
                        <table class="table">
                            <thead>
                                <tr>
                                    <th>{tr(i18n, |l| td_string!(l, advisories.stats.col_ecosystem))}</th>
                                    <th class="right">{tr(i18n, |l| td_string!(l, advisories.stats.col_advisories))}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows_or_empty(stats.ecosystems, 2, td_string!(locale, advisories.stats.empty), |(ecosystem, count)| view! {
                                    <tr><td>{ecosystem}</td><td class="right">{count}</td></tr>
                                })}
                            </tbody>
                        </table>
                    </div>
                </section>
                <section class="card">
                    <h2>{tr(i18n, |l| td_string!(l, advisories.imports.title))}</h2>
                    <div class="table-wrap">
                        <table class="table" data-testid="advisory-imports">
                            <thead>
                                <tr>
                                    <th>{tr(i18n, |l| td_string!(l, advisories.imports.col_when))}</th>
                                    <th>{tr(i18n, |l| td_string!(l, advisories.imports.col_file))}</th>
                                    <th>{tr(i18n, |l| td_string!(l, advisories.imports.col_by))}</th>
                                    <th>{tr(i18n, |l| td_string!(l, advisories.imports.col_new))}</th>
                                    <th>{tr(i18n, |l| td_string!(l, advisories.imports.col_updated))}</th>
                                    <th>{tr(i18n, |l| td_string!(l, advisories.imports.col_problems))}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows_or_empty(o.imports, 6, td_string!(locale, advisories.imports.empty), move |i| {
                                    let problems = match (&i.error, i.skipped_count) {
                                        (Some(error), _) => view! { <span class="error-text">{error.clone()}</span> }.into_any(),
                                        (None, 0) => view! { <span>{tr(i18n, |l| td_string!(l, advisories.imports.none))}</span> }.into_any(),
                                        (None, n) => view! {
                                            <details>
                                                <summary class="error-text">{t!(i18n, advisories.imports.skipped, count = n)}</summary>
                                                <ul class="compact">
                                                    {i.skipped.iter().map(|p| view! { <li><span class="mono">{p.name.clone()}</span>": "{p.message.clone()}</li> }).collect_view()}
                                                </ul>
                                            </details>
                                        }.into_any(),
                                    };
                                    view! {
                                        <tr>
                                            <td class="nowrap">{date_time(Some(i.at))}</td>
                                            <td class="mono">{i.source_name}{i.feed.then_some(tr(i18n, |l| td_string!(l, advisories.imports.shared_feed)))}</td>
                                            <td>{i.actor}</td>
                                            <td>{i.imported}</td>
                                            <td>{i.updated}</td>
                                            <td>{problems}</td>
                                        </tr>
                                    }
                                })}
                            </tbody>
                        </table>
                    </div>
                </section>
            }
        }/>
    }
}
