//! Settings › Advisories: what the console matches inventories against, and uploads.

use leptos::prelude::*;

use super::api::get_advisories;
use crate::auth::context::use_is_admin;
use crate::format::date_time;
use crate::components::loaded::Loaded;
use crate::components::table::rows_or_empty;
use crate::components::tabs::SettingsTabs;

#[component]
pub fn AdvisorySettingsPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_advisories());
    let admin = use_is_admin();
    view! {
        <SettingsTabs current="/settings/advisories"/>
        <section class="card">
            <h2>"Upload advisories"</h2>
            <p class="muted">
                "Bulwark matches the packages its agents report against advisories in the OSV format, the format osv.dev publishes per ecosystem "
                "(Debian, Ubuntu, Alpine, Rocky Linux, AlmaLinux …). Upload one advisory (.json) or a zip of them, such as osv.dev's all.zip for an ecosystem. "
                "Uploads apply to this account only; the shared feed is imported on the console host with "
                <code>"bulwark advisories import PATH"</code>". Re-importing an advisory updates it."
            </p>
            <Transition fallback=|| ()>
            {move || if admin.get() {
                view! {
                    <form class="inline-form" method="post" action="/settings/advisories/upload" enctype="multipart/form-data">
                        <div class="field">
                            <label for="advisory-file">"Advisory file"</label>
                            <input id="advisory-file" name="file" type="file" accept=".json,.zip,application/json,application/zip" required/>
                        </div>
                        <button class="btn btn-primary" type="submit">"Upload"</button>
                    </form>
                }.into_any()
            } else {
                view! { <p class="muted">"Only admins can upload advisories."</p> }.into_any()
            }}
            </Transition>
        </section>
        <Loaded resource=overview loading="Loading advisories…" render=move |o| {
            let stats = o.stats;
            view! {
                <section class="card">
                    <h2>"Advisories in use"</h2>
                    <dl class="details" data-testid="advisory-stats">
                        <dt>"Shared feed"</dt>
                        <dd>{stats.feed}</dd>
                        <dt>"Uploaded by this account"</dt>
                        <dd data-testid="own-advisories">{stats.own}</dd>
                        <dt>"Last import"</dt>
                        <dd>{date_time(stats.last_import_at)}</dd>
                    </dl>
                    <div class="table-wrap">
                        <table class="table">
                            <thead><tr><th>"Ecosystem"</th><th class="right">"Advisories"</th></tr></thead>
                            <tbody>
                                {rows_or_empty(stats.ecosystems, 2, "No advisories yet.", |(ecosystem, count)| view! {
                                    <tr><td>{ecosystem}</td><td class="right">{count}</td></tr>
                                })}
                            </tbody>
                        </table>
                    </div>
                </section>
                <section class="card">
                    <h2>"Recent imports"</h2>
                    <div class="table-wrap">
                        <table class="table" data-testid="advisory-imports">
                            <thead><tr><th>"When"</th><th>"File"</th><th>"By"</th><th>"New"</th><th>"Updated"</th><th>"Problems"</th></tr></thead>
                            <tbody>
                                {rows_or_empty(o.imports, 6, "Nothing imported yet.", |i| {
                                    let problems = match (&i.error, i.skipped_count) {
                                        (Some(error), _) => view! { <span class="error-text">{error.clone()}</span> }.into_any(),
                                        (None, 0) => view! { <span>"None"</span> }.into_any(),
                                        (None, n) => view! {
                                            <details>
                                                <summary class="error-text">{format!("{n} skipped")}</summary>
                                                <ul class="compact">
                                                    {i.skipped.iter().map(|p| view! { <li><span class="mono">{p.name.clone()}</span>": "{p.message.clone()}</li> }).collect_view()}
                                                </ul>
                                            </details>
                                        }.into_any(),
                                    };
                                    view! {
                                        <tr>
                                            <td class="nowrap">{date_time(Some(i.at))}</td>
                                            <td class="mono">{i.source_name}{i.feed.then_some(" (shared feed)")}</td>
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
