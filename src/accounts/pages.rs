//! Multi-account Control (the managed accounts' editions, scores, risks and images, and a read-only
//! view of each), the Resource Directory and received Invitations.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::api::*;
use super::model::*;
use crate::auth::context::MeRefresh;
use crate::assets::model::AssetQuery;
use crate::editions::{Edition, Feature};
use crate::auth::model::AccountKind;
use crate::components::route::{load_by_id, use_route_id};
use crate::components::form::{Field, FormError, FormErrors, SetCheckbox};
use crate::format::{date, date_time, list_href};
use crate::auth::gate::FeatureGate;
use crate::components::loaded::Loaded;
use crate::components::modal::{AskButton, Asking, ConfirmDialog};
use crate::components::table::{rows_or_empty, Pagination};
use crate::components::toast::{toast_outcome, use_toaster};
use crate::error::AppError;
use crate::overview::score::{ScoreBand, SeverityCounts};
use crate::locale::{fill, Label, td_string, tr, use_i18n};
use crate::components::tabs::SettingsTabs;

const LIST: &str = "/operation/multi-account";
const DIRECTORY: &str = "/settings/resource-directory";


fn kind_label(kind: AccountKind) -> Label {
    match kind {
        AccountKind::Cloud => |l| td_string!(l, accounts.kind.cloud),
        AccountKind::Resource => |l| td_string!(l, accounts.kind.resource),
    }
}

fn edition_badge(edition: Edition) -> impl IntoView {
    let i18n = use_i18n();
    view! { <span class=format!("badge badge-{}", edition.as_str())>{move || edition.label_in(i18n.get_locale())}</span> }
}

/// "3 · 1 · 0 · 2" by severity, with the total first.
fn risk_cell(counts: SeverityCounts, what: Label) -> impl IntoView {
    let i18n = use_i18n();
    let title = move || {
        let locale = i18n.get_locale();
        let n = |v: i64| v.to_string();
        fill(
            td_string!(locale, accounts.risk_title),
            &[
                ("what", what(locale)),
                ("critical", &n(counts.critical)),
                ("high", &n(counts.high)),
                ("medium", &n(counts.medium)),
                ("low", &n(counts.low)),
            ],
        )
    };
    view! {
        <td class="risk-cell" title=title>
            <strong>{counts.total()}</strong>
            <span class="sev-mini sev-critical">{counts.critical}</span>
            <span class="sev-mini sev-high">{counts.high}</span>
            <span class="sev-mini sev-medium">{counts.medium}</span>
            <span class="sev-mini sev-low">{counts.low}</span>
        </td>
    }
}

/// The images seen in admission, and under them how many are vulnerable, never scanned and denied.
fn images_cell(images: ImageCounts) -> impl IntoView {
    let i18n = use_i18n();
    let counts = move |template: &str| {
        fill(
            template,
            &[
                ("seen", &images.seen.to_string()),
                ("vulnerable", &images.vulnerable.to_string()),
                ("never_scanned", &images.never_scanned.to_string()),
                ("denied", &images.denied.to_string()),
            ],
        )
    };
    let title = move || counts(td_string!(i18n.get_locale(), accounts.images_title));
    let detail = move || counts(td_string!(i18n.get_locale(), accounts.images_detail));
    view! {
        <td class="images-cell" title=title data-testid="managed-images">
            <strong>{images.seen}</strong>
            <div class="muted small">{detail}</div>
        </td>
    }
}

/// A 30-day score sparkline (0–100).
fn sparkline(points: &[i64]) -> impl IntoView {
    let n = points.len();
    let path: String = points
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x = if n > 1 { 96.0 * i as f64 / (n - 1) as f64 } else { 48.0 };
            let y = 22.0 - 20.0 * (*v).clamp(0, 100) as f64 / 100.0;
            format!("{}{x:.1},{y:.1}", if i == 0 { "M" } else { " L" })
        })
        .collect();
    let i18n = use_i18n();
    let label = move || fill(td_string!(i18n.get_locale(), accounts.sparkline), &[("n", &n.to_string())]);
    view! {
        <svg class="sparkline" viewBox="0 0 96 24" width="96" height="24" role="img" aria-label=label>
            <path d=path fill="none" stroke="currentColor" stroke-width="1.5"/>
        </svg>
    }
}

#[component]
pub fn MultiAccountPage() -> impl IntoView {
    let query = use_query_map();
    let search = Memo::new(move |_| query.with(|q| q.get("q").unwrap_or_default()));
    let page = Memo::new(move |_| query.with(|q| q.get("page").and_then(|p| p.parse::<i64>().ok()).unwrap_or(1)));
    let add = ServerAction::<AddManaged>::new();
    let remove = ServerAction::<RemoveManaged>::new();
    let access = expect_context::<MeRefresh>();
    let list = Resource::new(
        move || (search.get(), page.get(), add.version().get(), remove.version().get(), access.version()),
        |(q, page, ..)| list_managed(q, Some(page)),
    );
    let candidates = Resource::new(move || (add.version().get(), remove.version().get(), access.version()), |_| list_candidates());
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    toast_outcome(move || remove.value().get(), td_string!(locale, accounts.list.removed), || ());
    let toaster = use_toaster();
    let adding = RwSignal::new(false);
    Effect::new(move |_| match add.value().get() {
        Some(Ok(n)) => {
            adding.set(false);
            let locale = i18n.get_locale_untracked();
            let text = if n == 1 { td_string!(locale, accounts.list.added_single) } else { td_string!(locale, accounts.list.added_many) };
            toaster.success(fill(text, &[("n", &n.to_string())]));
        }
        Some(Err(e)) => toaster.error(e.to_string()),
        None => {}
    });
    let deleting: Asking = RwSignal::new(None);
    view! {
        <div class="page-header">
            <div>
                <h1>{tr(i18n, |l| td_string!(l, accounts.list.title))}</h1>
                <p class="subtitle">{tr(i18n, |l| td_string!(l, accounts.list.subtitle))}</p>
            </div>
        </div>
        <FeatureGate feature=Feature::MultiAccountControl>
            <ConfirmDialog
                asking=deleting
                title=td_string!(locale, accounts.list.remove_title)
                question=|name| fill(td_string!(use_i18n().get_locale(), accounts.list.remove_question), &[("name", name)])
                confirm_label=td_string!(locale, accounts.list.remove)
                on_confirm=Callback::new(move |id| {
                    remove.dispatch(RemoveManaged { id });
                })
            />
            <Loaded resource=candidates loading="" render=move |c: Candidates| view! { <AddDialog open=adding candidates=c add/> }/>
            <div class="toolbar toolbar-ends">
                <form method="get" action=LIST role="search" class="inline-form">
                    <input
                        type="search"
                        name="q"
                        placeholder=tr(i18n, |l| td_string!(l, accounts.list.search_placeholder))
                        aria-label=tr(i18n, |l| td_string!(l, accounts.list.search_label))
                        value=move || search.get()
                    />
                    <button class="btn" type="submit">{tr(i18n, |l| td_string!(l, accounts.search))}</button>
                </form>
                <Loaded resource=list loading="" render=move |l: ManagedList| l.can_manage.then(|| view! {
                    <button class="btn btn-primary" type="button" on:click=move |_| adding.set(true)>{tr(i18n, |l| td_string!(l, accounts.list.add))}</button>
                })/>
            </div>
            <Loaded resource=list loading=td_string!(locale, accounts.list.loading) render=move |l: ManagedList| view! { <ManagedTable list=l search=search.get_untracked() deleting/> }/>
        </FeatureGate>
    }
}

#[component]
fn ManagedTable(list: ManagedList, search: String, deleting: Asking) -> impl IntoView {
    let can_manage = list.can_manage;
    let (page, page_count, total) = (list.page, list.page_count, list.total);
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let empty = if search.is_empty() { td_string!(locale, accounts.list.empty) } else { td_string!(locale, accounts.list.no_match) };
    view! {
        {list.auto_manage.then(|| view! { <p class="muted small" data-testid="auto-manage-on">{tr(i18n, |l| td_string!(l, accounts.list.auto_manage_on))}</p> })}
        <div class="table-wrap">
            <table class="table" data-testid="managed-table">
                <thead>
                    <tr>
                        <th>{tr(i18n, |l| td_string!(l, accounts.account_id))}</th>
                        <th>{tr(i18n, |l| td_string!(l, accounts.name))}</th>
                        <th>{tr(i18n, |l| td_string!(l, accounts.edition))}</th>
                        <th>{tr(i18n, |l| td_string!(l, accounts.security_score))}</th>
                        <th>{tr(i18n, |l| td_string!(l, accounts.days_30))}</th>
                        <th>{tr(i18n, |l| td_string!(l, accounts.alerts))}</th>
                        <th>{tr(i18n, |l| td_string!(l, accounts.vulnerabilities))}</th>
                        <th>{tr(i18n, |l| td_string!(l, accounts.baseline))}</th>
                        <th>{tr(i18n, |l| td_string!(l, accounts.images))}</th>
                        <th class="right">{tr(i18n, |l| td_string!(l, accounts.actions))}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows_or_empty(list.accounts, 10, empty, move |a| {
                        let band = ScoreBand::of(a.score);
                        let asked = (a.account_id, a.name.clone());
                        let kind = kind_label(a.kind);
                        view! {
                            <tr data-account=a.account_no.clone()>
                                <td class="mono">{a.account_no.clone()}</td>
                                <td>{a.name.clone()}<div class="muted small">{move || kind(i18n.get_locale())}</div></td>
                                <td>{edition_badge(a.edition)}</td>
                                <td><span class=format!("score-pill {}", band.class()) data-testid="managed-score">{a.score}</span></td>
                                <td class=band.class()>{sparkline(&a.history)}</td>
                                {risk_cell(a.risks.alerts, |l| td_string!(l, accounts.alerts))}
                                {risk_cell(a.risks.vulnerabilities, |l| td_string!(l, accounts.vulnerabilities))}
                                {risk_cell(a.risks.baseline, |l| td_string!(l, accounts.baseline))}
                                {images_cell(a.images)}
                                <td class="right actions">
                                    <a class="btn btn-sm" href=format!("{LIST}/{}", a.account_id)>{tr(i18n, |l| td_string!(l, accounts.list.view))}</a>
                                    {can_manage.then(|| view! { <AskButton asking=deleting item=asked.clone() label=td_string!(locale, accounts.list.delete)/> })}
                                </td>
                            </tr>
                        }
                    })}
                </tbody>
            </table>
        </div>
        <Pagination page page_count total href=move |p| list_href(LIST, &search, &[], p)/>
    }
}

#[component]
fn AddDialog(open: RwSignal<bool>, candidates: Candidates, add: ServerAction<AddManaged>) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<i64>::new());
    let auto = RwSignal::new(candidates.auto_manage);
    let count = candidates.candidates.len();
    let all = StoredValue::new(candidates.candidates);
    let visible = move || {
        let needle = filter.get().to_lowercase();
        all.with_value(|c| {
            c.iter()
                .filter(|c| needle.is_empty() || c.name.to_lowercase().contains(&needle) || c.account_no.contains(&needle))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let i18n = use_i18n();
    view! {
        <Show when=move || open.get()>
            <div class="modal-backdrop" on:click=move |_| open.set(false)>
                <div class="modal" role="dialog" aria-modal="true" aria-label=tr(i18n, |l| td_string!(l, accounts.add.title)) on:click=|ev| ev.stop_propagation()>
                    <div class="modal-header"><h2>{tr(i18n, |l| td_string!(l, accounts.add.title))}</h2></div>
                    <div class="modal-body">
                        <p data-testid="can-be-added">{move || fill(td_string!(i18n.get_locale(), accounts.add.can_be_added), &[("count", &count.to_string())])}</p>
                        {if count == 0 {
                            view! {
                                <p class="muted">
                                    {tr(i18n, |l| td_string!(l, accounts.add.none_before))}
                                    <a href=DIRECTORY>{tr(i18n, |l| td_string!(l, accounts.add.none_link))}</a>
                                    {tr(i18n, |l| td_string!(l, accounts.add.none_after))}
                                </p>
                            }.into_any()
                        } else {
                            view! {
                                <input
                                    type="search"
                                    placeholder=tr(i18n, |l| td_string!(l, accounts.add.search_placeholder))
                                    aria-label=tr(i18n, |l| td_string!(l, accounts.add.search_label))
                                    bind:value=filter
                                />
                                <div class="pick-list" role="group" aria-label=tr(i18n, |l| td_string!(l, accounts.add.members))>
                                    {move || visible().into_iter().map(|c| view! {
                                        <SetCheckbox selected=chosen value=c.account_id label=format!("{} ({})", c.name, c.account_no)/>
                                    }).collect_view()}
                                </div>
                            }.into_any()
                        }}
                        <label class="check">
                            <input type="checkbox" prop:checked=move || auto.get() on:change=move |ev| auto.set(event_target_checked(&ev))/>
                            {tr(i18n, |l| td_string!(l, accounts.add.auto_manage))}
                        </label>
                    </div>
                    <div class="modal-footer">
                        <button class="btn" type="button" on:click=move |_| open.set(false)>{tr(i18n, |l| td_string!(l, accounts.cancel))}</button>
                        <button class="btn btn-primary" type="button" disabled=move || add.pending().get()
                            on:click=move |_| { add.dispatch(AddManaged { accounts: chosen.get(), auto_manage: auto.get() }); }>
                            {tr(i18n, |l| td_string!(l, accounts.add.ok))}
                        </button>
                    </div>
                </div>
            </div>
        </Show>
    }
}

/// A managed member's Overview and Assets, read-only.
#[component]
pub fn MemberViewPage() -> impl IntoView {
    let query = use_query_map();
    let id = use_route_id();
    let asset_query = Memo::new(move |_| {
        query.with(|q| AssetQuery {
            search: q.get("q").unwrap_or_default(),
            group_id: None,
            page: q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1),
            ..AssetQuery::default()
        })
    });
    let view_data = Resource::new(move || (id.get(), asset_query.get()), |(id, query)| load_by_id(id, move |id| get_member_view(id, query)));
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    view! {
        <FeatureGate feature=Feature::MultiAccountControl>
            <Loaded resource=view_data loading=td_string!(locale, accounts.member.loading) render=move |v: MemberView| {
                let member = v.member.clone();
                let overview = v.overview.clone();
                let band = ScoreBand::of(overview.score);
                let id = member.account_id;
                let search = asset_query.get_untracked().search;
                let assets = v.assets.clone();
                let kind = kind_label(member.kind);
                let account_no = member.account_no.clone();
                let subtitle = move || {
                    let locale = i18n.get_locale();
                    fill(td_string!(locale, accounts.member.subtitle), &[("account_no", &account_no), ("kind", kind(locale))])
                };
                let invited = member.invited.then_some(tr(i18n, |l| td_string!(l, accounts.invited)));
                let assets_line = move || {
                    fill(
                        td_string!(i18n.get_locale(), accounts.member.assets_online),
                        &[("total", &overview.assets_total.to_string()), ("online", &overview.assets_online.to_string())],
                    )
                };
                view! {
                    <div class="page-header">
                        <div>
                            <nav class="breadcrumbs" aria-label=tr(i18n, |l| td_string!(l, accounts.member.breadcrumbs))><a href=LIST>{tr(i18n, |l| td_string!(l, accounts.list.title))}</a></nav>
                            <h1>{member.name.clone()}</h1>
                            <p class="subtitle">{subtitle}</p>
                        </div>
                    </div>
                    <section class="card">
                        <h2>{tr(i18n, |l| td_string!(l, accounts.member.entry))}</h2>
                        <dl class="details" data-testid="member-entry">
                            <dt>{tr(i18n, |l| td_string!(l, accounts.account_id))}</dt><dd class="mono">{member.account_no.clone()}</dd>
                            <dt>{tr(i18n, |l| td_string!(l, accounts.kind_col))}</dt><dd>{move || kind(i18n.get_locale())}</dd>
                            <dt>{tr(i18n, |l| td_string!(l, accounts.edition))}</dt><dd>{edition_badge(member.edition)}</dd>
                            <dt>{tr(i18n, |l| td_string!(l, accounts.folder))}</dt><dd>{member.folder_path.clone()}</dd>
                            <dt>{tr(i18n, |l| td_string!(l, accounts.joined))}</dt><dd>{date_time(Some(member.joined_at))}{invited}</dd>
                        </dl>
                    </section>
                    <section class="card">
                        <h2>{tr(i18n, |l| td_string!(l, accounts.member.overview))}</h2>
                        <div class="cards">
                            <div class="stat"><div class="stat-label">{tr(i18n, |l| td_string!(l, accounts.security_score))}</div><div class=format!("stat-value {}", band.class()) data-testid="member-score">{overview.score}</div></div>
                            <div class="stat"><div class="stat-label">{tr(i18n, |l| td_string!(l, accounts.alerts))}</div><div class="stat-value">{overview.risks.alerts.total()}</div></div>
                            <div class="stat"><div class="stat-label">{tr(i18n, |l| td_string!(l, accounts.vulnerabilities))}</div><div class="stat-value">{overview.risks.vulnerabilities.total()}</div></div>
                            <div class="stat"><div class="stat-label">{tr(i18n, |l| td_string!(l, accounts.baseline))}</div><div class="stat-value">{overview.risks.baseline.total()}</div></div>
                            <div class="stat"><div class="stat-label">{tr(i18n, |l| td_string!(l, accounts.member.assets))}</div><div class="stat-value">{assets_line}</div></div>
                        </div>
                    </section>
                    <section class="card">
                        <h2>{tr(i18n, |l| td_string!(l, accounts.member.assets))}</h2>
                        <form class="toolbar" method="get" action=format!("{LIST}/{id}") role="search">
                            <input
                                type="search"
                                name="q"
                                value=search.clone()
                                placeholder=tr(i18n, |l| td_string!(l, accounts.member.search_placeholder))
                                aria-label=tr(i18n, |l| td_string!(l, accounts.member.search_label))
                            />
                            <button class="btn" type="submit">{tr(i18n, |l| td_string!(l, accounts.search))}</button>
                        </form>
                        <div class="table-wrap">
                            <table class="table dense" data-testid="member-assets">
                                <thead><tr>
                                    <th>{tr(i18n, |l| td_string!(l, accounts.member.asset))}</th>
                                    <th>{tr(i18n, |l| td_string!(l, accounts.member.ips))}</th>
                                    <th>{tr(i18n, |l| td_string!(l, accounts.member.os))}</th>
                                    <th>{tr(i18n, |l| td_string!(l, accounts.member.group))}</th>
                                    <th class="right">{tr(i18n, |l| td_string!(l, accounts.member.vulns))}</th>
                                    <th class="right">{tr(i18n, |l| td_string!(l, accounts.member.alerts))}</th>
                                    <th class="right">{tr(i18n, |l| td_string!(l, accounts.member.baseline))}</th>
                                </tr></thead>
                                <tbody>
                                    {rows_or_empty(assets.assets.clone(), 7, td_string!(locale, accounts.member.no_assets), |a| view! {
                                        <tr>
                                            <td>{a.name}</td><td>{a.ips.join(", ")}</td><td>{a.os}</td><td>{a.group.unwrap_or_default()}</td>
                                            <td class="right">{a.open_vulnerabilities}</td><td class="right">{a.open_alerts}</td><td class="right">{a.baseline_risks}</td>
                                        </tr>
                                    })}
                                </tbody>
                            </table>
                        </div>
                        <Pagination page=assets.page page_count=assets.page_count total=assets.total href=move |p| list_href(&format!("{LIST}/{id}"), &search, &[], p)/>
                    </section>
                }
            }/>
        </FeatureGate>
    }
}

fn folder_options(folders: &[Folder], locale: crate::locale::Locale) -> Vec<(String, String)> {
    let mut out = vec![(String::new(), td_string!(locale, accounts.root).to_string())];
    out.extend(folders.iter().map(|f| (f.id.to_string(), super::model::folder_label(folders, f.id))));
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

/// Settings › Resource Directory: folders, members, invitations (management account).
#[component]
pub fn ResourceDirectoryPage() -> impl IntoView {
    let folder = ServerAction::<CreateFolder>::new();
    let create = ServerAction::<CreateMember>::new();
    let invite = ServerAction::<InviteAccount>::new();
    let cancel = ServerAction::<CancelInvitation>::new();
    let upgrade = ServerAction::<UpgradeMember>::new();
    let moving = ServerAction::<MoveMember>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let access = expect_context::<MeRefresh>();
    let directory = Resource::new(
        move || {
            (
                access.version(),
                folder.version().get(),
                create.version().get(),
                invite.version().get(),
                cancel.version().get(),
                upgrade.version().get(),
                moving.version().get(),
                remove.version().get(),
            )
        },
        |_| get_directory(),
    );
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    toast_outcome(move || cancel.value().get(), td_string!(locale, accounts.directory.withdrawn), || ());
    toast_outcome(move || moving.value().get(), td_string!(locale, accounts.directory.moved), || ());
    toast_outcome(move || remove.value().get(), td_string!(locale, accounts.directory.removed), || ());
    let removing: Asking = RwSignal::new(None);
    view! {
        <SettingsTabs current=DIRECTORY/>
        <FeatureGate feature=Feature::MultiAccountControl>
            <ConfirmDialog
                asking=removing
                title=td_string!(locale, accounts.directory.remove_member)
                question=|name| fill(td_string!(use_i18n().get_locale(), accounts.directory.remove_question), &[("name", name)])
                confirm_label=td_string!(locale, accounts.directory.remove_member)
                on_confirm=Callback::new(move |id| {
                    remove.dispatch(RemoveMember { id });
                })
            />
            <Loaded resource=directory loading=td_string!(locale, accounts.directory.loading) render=move |d: Directory| view! {
                <DirectoryView directory=d removing folder create invite cancel upgrade moving/>
            }/>
        </FeatureGate>
    }
}

#[allow(clippy::too_many_arguments)]
#[component]
fn DirectoryView(
    directory: Directory,
    removing: Asking,
    folder: ServerAction<CreateFolder>,
    create: ServerAction<CreateMember>,
    invite: ServerAction<InviteAccount>,
    cancel: ServerAction<CancelInvitation>,
    upgrade: ServerAction<UpgradeMember>,
    moving: ServerAction<MoveMember>,
) -> impl IntoView {
    let admin = directory.can_manage;
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let options = folder_options(&directory.folders, locale);
    let move_options = options.clone();
    let upgrading = RwSignal::new(None::<(i64, String)>);
    view! {
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, accounts.directory.members))}</h2>
            <div class="table-wrap">
                <table class="table" data-testid="directory-table">
                    <thead><tr>
                        <th>{tr(i18n, |l| td_string!(l, accounts.account_id))}</th>
                        <th>{tr(i18n, |l| td_string!(l, accounts.directory.display_name))}</th>
                        <th>{tr(i18n, |l| td_string!(l, accounts.kind_col))}</th>
                        <th>{tr(i18n, |l| td_string!(l, accounts.folder))}</th>
                        <th>{tr(i18n, |l| td_string!(l, accounts.joined))}</th>
                        <th>{tr(i18n, |l| td_string!(l, accounts.status_col))}</th>
                        <th class="right">{tr(i18n, |l| td_string!(l, accounts.actions))}</th>
                    </tr></thead>
                    <tbody>
                        <tr data-account=directory.management_account_no.clone()>
                            <td class="mono">{directory.management_account_no.clone()}</td>
                            <td>{directory.management_name.clone()}</td>
                            <td>{tr(i18n, |l| td_string!(l, accounts.directory.management_account))}</td>
                            <td>{tr(i18n, |l| td_string!(l, accounts.root))}</td>
                            <td>"—"</td>
                            <td>{tr(i18n, |l| td_string!(l, accounts.directory.active))}</td>
                            <td></td>
                        </tr>
                        {directory.members.into_iter().map(|m| {
                            let id = m.account_id;
                            let asked = (m.account_id, m.name.clone());
                            let upgrade_item = (m.account_id, m.name.clone());
                            let current = m.folder_id.map(|f| f.to_string()).unwrap_or_default();
                            let options = move_options.clone();
                            let kind = kind_label(m.kind);
                            let name = m.name.clone();
                            let managed = m.managed;
                            let invited = m.invited.then_some(tr(i18n, |l| td_string!(l, accounts.invited)));
                            view! {
                                <tr data-account=m.account_no.clone()>
                                    <td class="mono">{m.account_no.clone()}</td>
                                    <td>{m.name.clone()}</td>
                                    <td>{move || kind(i18n.get_locale())}</td>
                                    <td>
                                        <select aria-label=move || fill(td_string!(i18n.get_locale(), accounts.directory.folder_of), &[("name", &name)]) disabled=!admin
                                            on:change=move |ev| { moving.dispatch(MoveMember { id, folder: event_target_value(&ev) }); }>
                                            {options.into_iter().map(|(value, label)| {
                                                let selected = value == current;
                                                view! { <option value=value selected=selected>{label}</option> }
                                            }).collect_view()}
                                        </select>
                                    </td>
                                    <td>{date(m.joined_at)}{invited}</td>
                                    <td>{move || if managed {
                                        td_string!(i18n.get_locale(), accounts.directory.active_managed)
                                    } else {
                                        td_string!(i18n.get_locale(), accounts.directory.active)
                                    }}</td>
                                    <td class="right actions">
                                        {(admin && m.kind == AccountKind::Resource).then(|| view! {
                                            <button class="btn btn-sm" type="button" on:click=move |_| upgrading.set(Some(upgrade_item.clone()))>{tr(i18n, |l| td_string!(l, accounts.directory.upgrade))}</button>
                                        })}
                                        {admin.then(|| view! { <AskButton asking=removing item=asked.clone() label=td_string!(locale, accounts.directory.remove)/> })}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        <UpgradeDialog upgrading upgrade/>
        {admin.then(|| view! {
            <div class="cards cards-2">
                <CreateMemberCard create options=options.clone()/>
                <InviteCard invite/>
            </div>
            <FolderCard folder options=options.clone() folders=directory.folders.clone()/>
        })}
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, accounts.directory.sent_title))}</h2>
            <div class="table-wrap">
                <table class="table dense" data-testid="sent-invitations">
                    <thead><tr>
                        <th>{tr(i18n, |l| td_string!(l, accounts.directory.account))}</th>
                        <th>{tr(i18n, |l| td_string!(l, accounts.directory.sent))}</th>
                        <th>{tr(i18n, |l| td_string!(l, accounts.directory.expires))}</th>
                        <th>{tr(i18n, |l| td_string!(l, accounts.status_col))}</th>
                        <th></th>
                    </tr></thead>
                    <tbody>
                        {rows_or_empty(directory.invitations, 5, td_string!(locale, accounts.directory.no_invitations), move |i| {
                            let id = i.id;
                            let pending = i.status == InvitationStatus::Pending;
                            let status = i.status;
                            view! {
                                <tr>
                                    <td>{format!("{} ({})", i.to_name, i.to_account_no)}</td>
                                    <td>{date_time(Some(i.created_at))}</td>
                                    <td>{date_time(Some(i.expires_at))}</td>
                                    <td>{move || status.label_in(i18n.get_locale())}</td>
                                    <td class="right">{(admin && pending).then(|| view! {
                                        <button class="btn btn-sm" type="button" on:click=move |_| { cancel.dispatch(CancelInvitation { id }); }>{tr(i18n, |l| td_string!(l, accounts.directory.withdraw))}</button>
                                    })}</td>
                                </tr>
                            }
                        })}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// Runs `reset` and toasts when a form's action succeeds; fills field errors otherwise.
fn form_outcome<T: Clone + Send + Sync + 'static>(
    value: impl Fn() -> Option<Result<T, AppError>> + 'static,
    errors: FormErrors,
    form_error: RwSignal<Option<String>>,
    success: &'static str,
    reset: impl Fn() + 'static,
) {
    let toaster = use_toaster();
    // As in `toast_outcome`: ignore the outcome present when the component was (re)built.
    Effect::new(move |seen: Option<()>| {
        let outcome = value();
        if let (Some(()), Some(result)) = (seen, outcome) {
            form_error.set(errors.absorb(&result));
            if result.is_ok() {
                toaster.success(success);
                reset();
            }
        }
    });
}

#[component]
fn CreateMemberCard(create: ServerAction<CreateMember>, options: Vec<(String, String)>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let folder = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    form_outcome(move || create.value().get(), errors, form_error, td_string!(locale, accounts.create.created), move || name.set(String::new()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let member = NewResourceAccount { name: name.get(), folder: folder.get() };
        match member.validate(i18n.get_locale_untracked()) {
            Err(e) => form_error.set(errors.absorb::<()>(&Err(e))),
            Ok(()) => {
                create.dispatch(CreateMember { member });
            }
        }
    };
    view! {
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, accounts.create.title))}</h2>
            <p class="muted">{tr(i18n, |l| td_string!(l, accounts.create.note))}</p>
            <form class="form" on:submit=submit novalidate data-testid="create-member">
                <Field label=td_string!(locale, accounts.create.display_name) name="member_name" error=errors.message("name")>
                    <input id="member_name" type="text" maxlength="64" bind:value=name/>
                </Field>
                <div class="field-row">
                    <Field label=td_string!(locale, accounts.folder) name="member_folder" error=errors.message("folder")>
                        <select id="member_folder" on:change=move |ev| folder.set(event_target_value(&ev))>
                            {options.into_iter().map(|(v, l)| view! { <option value=v>{l}</option> }).collect_view()}
                        </select>
                    </Field>
                </div>
                <FormError message=form_error/>
                <div class="form-actions"><button class="btn btn-primary" type="submit">{tr(i18n, |l| td_string!(l, accounts.create.submit))}</button></div>
            </form>
        </section>
    }
}

#[component]
fn InviteCard(invite: ServerAction<InviteAccount>) -> impl IntoView {
    let account_no = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    form_outcome(move || invite.value().get(), errors, form_error, td_string!(locale, accounts.invite.sent), move || account_no.set(String::new()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match normalise_account_no(&account_no.get(), i18n.get_locale_untracked()) {
            Err(message) => form_error.set(errors.absorb::<()>(&Err(AppError::field("account_no", message)))),
            Ok(_) => {
                invite.dispatch(InviteAccount { account_no: account_no.get() });
            }
        }
    };
    view! {
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, accounts.invite.title))}</h2>
            <p class="muted">{tr(i18n, |l| td_string!(l, accounts.invite.note))}</p>
            <form class="form" on:submit=submit novalidate data-testid="invite-account">
                <Field label=td_string!(locale, accounts.account_id) name="account_no" error=errors.message("account_no")>
                    <input id="account_no" type="text" inputmode="numeric" bind:value=account_no placeholder=tr(i18n, |l| td_string!(l, accounts.invite.placeholder))/>
                </Field>
                <FormError message=form_error/>
                <div class="form-actions"><button class="btn btn-primary" type="submit">{tr(i18n, |l| td_string!(l, accounts.invite.submit))}</button></div>
            </form>
        </section>
    }
}

#[component]
fn FolderCard(folder: ServerAction<CreateFolder>, options: Vec<(String, String)>, folders: Vec<Folder>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let parent = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    form_outcome(move || folder.value().get(), errors, form_error, td_string!(locale, accounts.folders.created), move || name.set(String::new()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        folder.dispatch(CreateFolder { name: name.get(), parent: parent.get() });
    };
    view! {
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, accounts.folders.title))}</h2>
            <ul class="folder-tree" data-testid="folder-tree">
                <li>{tr(i18n, |l| td_string!(l, accounts.root))}</li>
                {folders.iter().map(|f| view! { <li>{super::model::folder_label(&folders, f.id)}</li> }).collect_view()}
            </ul>
            <form class="inline-form" on:submit=submit novalidate>
                <Field label=td_string!(locale, accounts.folders.new_folder) name="folder_name" error=errors.message("name")>
                    <input id="folder_name" type="text" maxlength="64" bind:value=name/>
                </Field>
                <Field label=td_string!(locale, accounts.folders.inside) name="folder_parent" error=errors.message("folder")>
                    <select id="folder_parent" on:change=move |ev| parent.set(event_target_value(&ev))>
                        {options.into_iter().map(|(v, l)| view! { <option value=v>{l}</option> }).collect_view()}
                    </select>
                </Field>
                <button class="btn" type="submit">{tr(i18n, |l| td_string!(l, accounts.folders.create))}</button>
            </form>
            <FormError message=form_error/>
        </section>
    }
}

#[component]
fn UpgradeDialog(upgrading: RwSignal<Option<(i64, String)>>, upgrade: ServerAction<UpgradeMember>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    form_outcome(move || upgrade.value().get(), errors, form_error, td_string!(locale, accounts.upgrade.done), move || {
        upgrading.set(None);
        password.set(String::new());
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some((id, _)) = upgrading.get_untracked() else { return };
        let admin = UpgradeInput { email: email.get(), name: name.get(), password: password.get() };
        match admin.validate(i18n.get_locale_untracked()) {
            Err(e) => form_error.set(errors.absorb::<()>(&Err(e))),
            Ok(()) => {
                upgrade.dispatch(UpgradeMember { id, admin });
            }
        }
    };
    view! {
        <Show when=move || upgrading.with(Option::is_some)>
            <div class="modal-backdrop" on:click=move |_| upgrading.set(None)>
                <div class="modal" role="dialog" aria-modal="true" aria-label=tr(i18n, |l| td_string!(l, accounts.upgrade.title)) on:click=|ev| ev.stop_propagation()>
                    <form on:submit=submit novalidate>
                        <div class="modal-header"><h2>{tr(i18n, |l| td_string!(l, accounts.upgrade.title))}</h2></div>
                        <div class="modal-body">
                            <p>{move || upgrading.get().map(|(_, n)| fill(td_string!(i18n.get_locale(), accounts.upgrade.question), &[("name", &n)]))}</p>
                            <Field label=td_string!(locale, accounts.upgrade.admin_email) name="upgrade_email" error=errors.message("email")>
                                <input id="upgrade_email" type="email" bind:value=email/>
                            </Field>
                            <Field label=td_string!(locale, accounts.upgrade.admin_name) name="upgrade_name" error=errors.message("name")>
                                <input id="upgrade_name" type="text" bind:value=name/>
                            </Field>
                            <Field label=td_string!(locale, accounts.initial_password) name="upgrade_password" error=errors.message("password") hint=td_string!(locale, accounts.upgrade.password_hint)>
                                <input id="upgrade_password" type="password" autocomplete="new-password" bind:value=password/>
                            </Field>
                            <FormError message=form_error/>
                        </div>
                        <div class="modal-footer">
                            <button class="btn" type="button" on:click=move |_| upgrading.set(None)>{tr(i18n, |l| td_string!(l, accounts.cancel))}</button>
                            <button class="btn btn-primary" type="submit" disabled=move || upgrade.pending().get()>{tr(i18n, |l| td_string!(l, accounts.upgrade.submit))}</button>
                        </div>
                    </form>
                </div>
            </div>
        </Show>
    }
}

/// Settings › Invitations: invitations this account received from management accounts.
#[component]
pub fn InvitationsPage() -> impl IntoView {
    let respond = ServerAction::<RespondInvitation>::new();
    let invitations = Resource::new(move || respond.version().get(), |_| list_received_invitations());
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    toast_outcome(move || respond.value().get(), td_string!(locale, accounts.invitations.answered), || ());
    view! {
        <SettingsTabs current="/settings/invitations"/>
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, accounts.invitations.title))}</h2>
            <p class="muted">{tr(i18n, |l| td_string!(l, accounts.invitations.note))}</p>
            <Loaded resource=invitations loading=td_string!(locale, accounts.invitations.loading) render=move |list| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="received-invitations">
                        <thead><tr>
                            <th>{tr(i18n, |l| td_string!(l, accounts.invitations.from))}</th>
                            <th>{tr(i18n, |l| td_string!(l, accounts.directory.sent))}</th>
                            <th>{tr(i18n, |l| td_string!(l, accounts.directory.expires))}</th>
                            <th>{tr(i18n, |l| td_string!(l, accounts.status_col))}</th>
                            <th class="right">{tr(i18n, |l| td_string!(l, accounts.invitations.answer))}</th>
                        </tr></thead>
                        <tbody>
                            {rows_or_empty(list, 5, td_string!(locale, accounts.directory.no_invitations), move |i| {
                                let id = i.id;
                                let pending = i.status == InvitationStatus::Pending;
                                let status = i.status;
                                view! {
                                    <tr>
                                        <td>{format!("{} ({})", i.from_name, i.from_account_no)}</td>
                                        <td>{date_time(Some(i.created_at))}</td>
                                        <td>{date_time(Some(i.expires_at))}</td>
                                        <td>{move || status.label_in(i18n.get_locale())}</td>
                                        <td class="right actions">{pending.then(|| view! {
                                            <button class="btn btn-sm btn-primary" type="button" on:click=move |_| { respond.dispatch(RespondInvitation { id, accept: true }); }>{tr(i18n, |l| td_string!(l, accounts.invitations.accept))}</button>
                                            <button class="btn btn-sm" type="button" on:click=move |_| { respond.dispatch(RespondInvitation { id, accept: false }); }>{tr(i18n, |l| td_string!(l, accounts.invitations.decline))}</button>
                                        })}</td>
                                    </tr>
                                }
                            })}
                        </tbody>
                    </table>
                </div>
            }/>
        </section>
    }
}
