//! Settings › Advisories: what the console matches inventories against, and uploads.

use leptos::prelude::*;

use super::api::get_advisories;
use crate::auth::context::use_is_admin;
use crate::format::date_time;
use crate::components::loaded::Loaded;
use crate::components::table::rows_or_empty;
use crate::components::tabs::SettingsTabs;
use crate::locale::{t, td_string, use_i18n};

#[component]
pub fn AdvisorySettingsPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_advisories());
    let admin = use_is_admin();
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    view! {
        <SettingsTabs current="/settings/advisories"/>
        <section class="card">
            <h2>{t!(i18n, advisories.upload.title)}</h2>
            <p class="muted">
                {t!(i18n, advisories.upload.intro)}
                <code>"bulwark advisories import PATH"</code>
                {t!(i18n, advisories.upload.intro_after)}
            </p>
            <Transition fallback=|| ()>
            {move || if admin.get() {
                view! {
                    <form class="inline-form" method="post" action="/settings/advisories/upload" enctype="multipart/form-data">
                        <div class="field">
                            <label for="advisory-file">{t!(i18n, advisories.upload.file)}</label>
                            <input id="advisory-file" name="file" type="file" accept=".json,.zip,application/json,application/zip" required/>
                        </div>
                        <button class="btn btn-primary" type="submit">{t!(i18n, advisories.upload.submit)}</button>
                    </form>
                }.into_any()
            } else {
                view! { <p class="muted">{t!(i18n, advisories.upload.admins_only)}</p> }.into_any()
            }}
            </Transition>
        </section>
        <Loaded resource=overview loading=td_string!(locale, advisories.loading) render=move |o| {
            let stats = o.stats;
            view! {
                <section class="card">
                    <h2>{t!(i18n, advisories.stats.title)}</h2>
                    <dl class="details" data-testid="advisory-stats">
                        <dt>{t!(i18n, advisories.stats.feed)}</dt>
                        <dd>{stats.feed}</dd>
                        <dt>{t!(i18n, advisories.stats.own)}</dt>
                        <dd data-testid="own-advisories">{stats.own}</dd>
                        <dt>{t!(i18n, advisories.stats.last_import)}</dt>
                        <dd>{date_time(stats.last_import_at)}</dd>
                    </dl>
                    <div class="table-wrap">
                        <table class="table">
                            <thead>
                                <tr>
                                    <th>{t!(i18n, advisories.stats.col_ecosystem)}</th>
                                    <th class="right">{t!(i18n, advisories.stats.col_advisories)}</th>
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
                    <h2>{t!(i18n, advisories.imports.title)}</h2>
                    <div class="table-wrap">
                        <table class="table" data-testid="advisory-imports">
                            <thead>
                                <tr>
                                    <th>{t!(i18n, advisories.imports.col_when)}</th>
                                    <th>{t!(i18n, advisories.imports.col_file)}</th>
                                    <th>{t!(i18n, advisories.imports.col_by)}</th>
                                    <th>{t!(i18n, advisories.imports.col_new)}</th>
                                    <th>{t!(i18n, advisories.imports.col_updated)}</th>
                                    <th>{t!(i18n, advisories.imports.col_problems)}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows_or_empty(o.imports, 6, td_string!(locale, advisories.imports.empty), move |i| {
                                    let problems = match (&i.error, i.skipped_count) {
                                        (Some(error), _) => view! { <span class="error-text">{error.clone()}</span> }.into_any(),
                                        (None, 0) => view! { <span>{t!(i18n, advisories.imports.none)}</span> }.into_any(),
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
                                            <td class="mono">{i.source_name}{i.feed.then_some(t!(i18n, advisories.imports.shared_feed))}</td>
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
