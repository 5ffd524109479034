//! The Assets list (groups, search, pagination) and an asset's detail.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::api::*;
use super::model::*;
use crate::auth::context::use_is_admin;
use crate::components::route::{load_by_id, use_route_id};
use crate::components::form::{Field, FormError, FormErrors};
use crate::format::{date_time, list_href};
use crate::components::loaded::{refresh_while, Loaded};
use crate::components::modal::{AskButton, Asking, ConfirmDialog};
use crate::components::table::{rows_or_empty, Pagination};
use crate::components::toast::toast_outcome;
use crate::locale::{Locale, t, td_string, tr, use_i18n};

/// The reader's language where no `i18n` can be captured (a `fn` pointer): English without one.
fn reader_locale() -> Locale {
    use_context::<leptos_i18n::I18nContext<Locale>>().map(|i18n| i18n.get_locale()).unwrap_or(Locale::en)
}

fn severity_pill(severity: Severity) -> impl IntoView {
    let i18n = use_i18n();
    view! { <span class=format!("sev sev-{}", severity.as_str())>{move || severity.label_in(i18n.get_locale())}</span> }
}

fn assets_href(search: &str, group: Option<i64>, page: i64) -> String {
    let group: Vec<(&str, String)> = group.map(|g| ("group", g.to_string())).into_iter().collect();
    list_href("/assets", search, &group, page)
}

#[component]
pub fn AssetListPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        query_map.with(|q| AssetQuery {
            search: q.get("q").unwrap_or_default(),
            group_id: q.get("group").and_then(|g| g.parse().ok()),
            page: q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1),
            after: q.get("after").and_then(|p| p.parse().ok()),
            before: q.get("before").and_then(|p| p.parse().ok()),
        })
    });
    let page = Resource::new(move || query.get(), list_assets);
    let i18n = use_i18n();
    view! {
        <div class="page-header">
            <div>
                <h1>{tr(i18n, |l| td_string!(l, assets.list.title))}</h1>
                <p class="subtitle">{tr(i18n, |l| td_string!(l, assets.list.subtitle))}</p>
            </div>
            <div class="page-actions">
                <a class="btn btn-primary" href="/assets/add-host">{tr(i18n, |l| td_string!(l, assets.list.add_host))}</a>
            </div>
        </div>
        <Loaded
            resource=page
            loading=td_string!(i18n.get_locale_untracked(), assets.list.loading)
            render=move |p| view! { <AssetTable page=p query=query.get_untracked()/> }
        />
    }
}

#[component]
fn AssetTable(page: AssetPage, query: AssetQuery) -> impl IntoView {
    let i18n = use_i18n();
    let search = query.search.clone();
    let group = query.group_id;
    let current = move |g: Option<i64>| if g == group { "page" } else { "false" };
    // Previous and next pages by keyset (this page's first and last rows), page 1 plainly.
    let (this_page, first_id, last_id) = (page.page, page.assets.first().map(|a| a.id), page.assets.last().map(|a| a.id));
    let page_href = move |p: i64| {
        let href = assets_href(&query.search, group, p);
        let cursor = if p > this_page { last_id.map(|id| format!("after={id}")) } else { first_id.map(|id| format!("before={id}")) };
        match cursor {
            Some(cursor) if p > 1 => format!("{href}{}{cursor}", if href.contains('?') { '&' } else { '?' }),
            _ => href,
        }
    };
    view! {
        <div class="split">
            <nav class="group-list" aria-label=tr(i18n, |l| td_string!(l, assets.list.groups_label))>
                <a href=assets_href(&search, None, 1) aria-current=current(None)>
                    {tr(i18n, |l| td_string!(l, assets.list.all_assets))} <span class="count">{page.all_count}</span>
                </a>
                {page
                    .groups
                    .iter()
                    .map(|g| {
                        view! {
                            <a href=assets_href(&search, Some(g.id), 1) aria-current=current(Some(g.id))>
                                {g.name.clone()}
                                <span class="count">{g.asset_count}</span>
                            </a>
                        }
                    })
                    .collect_view()}
                <a href=assets_href(&search, Some(0), 1) aria-current=current(Some(0))>
                    {tr(i18n, |l| td_string!(l, assets.list.ungrouped))} <span class="count">{page.ungrouped_count}</span>
                </a>
            </nav>
            <div>
                <form class="toolbar" method="get" action="/assets" role="search">
                    {group.map(|g| view! { <input type="hidden" name="group" value=g/> })}
                    <input
                        type="search"
                        name="q"
                        value=search.clone()
                        placeholder=tr(i18n, |l| td_string!(l, assets.list.search_placeholder))
                        aria-label=tr(i18n, |l| td_string!(l, assets.list.search_label))
                    />
                    <button class="btn" type="submit">{tr(i18n, |l| td_string!(l, assets.list.search))}</button>
                </form>
                <div class="table-wrap">
                    <table class="table dense" data-testid="asset-table">
                        <thead>
                            <tr>
                                <th>{tr(i18n, |l| td_string!(l, assets.list.col_asset))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.list.col_ips))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.list.col_os_region))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.list.col_group))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.list.col_agent))}</th>
                                <th class="right">{tr(i18n, |l| td_string!(l, assets.list.col_vulns))}</th>
                                <th class="right">{tr(i18n, |l| td_string!(l, assets.list.col_alerts))}</th>
                                <th class="right">{tr(i18n, |l| td_string!(l, assets.list.col_baseline))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.list.col_last_seen))}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows_or_empty(
                                page.assets,
                                9,
                                if search.is_empty() {
                                    td_string!(i18n.get_locale_untracked(), assets.list.empty)
                                } else {
                                    td_string!(i18n.get_locale_untracked(), assets.list.empty_search)
                                },
                                move |a| {
                                        let agent_status = a.agent_status;
                                        view! {
                                            <tr>
                                                <td>
                                                    <a href=format!("/assets/{}", a.id)>{a.name.clone()}</a>
                                                    <div class="muted mono">{a.instance_id.clone()}</div>
                                                </td>
                                                <td class="mono">{a.ips.iter().map(|ip| view! { <div>{ip.clone()}</div> }).collect_view()}</td>
                                                <td class="wrap">
                                                    {a.os.clone()}
                                                    {(!a.region.is_empty()).then(|| view! { <div class="muted">{a.region.clone()}</div> })}
                                                </td>
                                                <td class="wrap">{a.group.clone().unwrap_or_else(|| "—".into())}</td>
                                                <td>
                                                    <span class=format!("pill status-{}", a.agent_status.as_str())>
                                                        {move || agent_status.label_in(i18n.get_locale())}
                                                    </span>
                                                </td>
                                                <td class="right">{a.open_vulnerabilities}</td>
                                                <td class="right">{a.open_alerts}</td>
                                                <td class="right">{a.baseline_risks}</td>
                                                <td class="wrap">{date_time(a.last_seen_at)}</td>
                                            </tr>
                                        }
                                },
                            )}
                        </tbody>
                    </table>
                </div>
                <Pagination
                    page=page.page
                    page_count=page.page_count
                    total=page.total
                    capped=page.total_capped
                    href=page_href
                />
            </div>
        </div>
    }
}

#[component]
pub fn AssetDetailPage() -> impl IntoView {
    let id = use_route_id();
    let fix = ServerAction::<FixFindings>::new();
    // Fix jobs take minutes: while one is queued or running the page asks again every 2 s.
    let refresh = RwSignal::new(0u32);
    let detail = Resource::new(move || (id.get(), fix.version().get(), refresh.get()), |(id, _, _)| load_by_id(id, get_asset));
    refresh_while(detail, refresh, Duration::from_secs(2), |d| d.jobs.iter().any(|j| !j.status.is_finished()));
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    toast_outcome(move || fix.value().get(), td_string!(locale, assets.detail.fix_queued), || ());
    view! { <Loaded resource=detail loading=td_string!(locale, assets.detail.loading) render=move |d| view! { <AssetDetailBody detail=d fix/> }/> }
}

/// The buttons that queue a fix job: simulate (what would change) or fix for real.
#[component]
fn FixButtons(fix: ServerAction<FixFindings>, asset_id: i64, finding_id: Option<i64>, simulate_label: &'static str, fix_label: &'static str) -> impl IntoView {
    let finding = finding_id.map(|id| id.to_string()).unwrap_or_default();
    let finding2 = finding.clone();
    view! {
        <div class="row-actions">
            <ActionForm action=fix>
                <input type="hidden" name="asset_id" value=asset_id.to_string()/>
                {(!finding.is_empty()).then(|| view! { <input type="hidden" name="finding_id" value=finding.clone()/> })}
                <input type="hidden" name="simulate" value="true"/>
                <button class="btn btn-small" type="submit">{simulate_label}</button>
            </ActionForm>
            <ActionForm action=fix>
                <input type="hidden" name="asset_id" value=asset_id.to_string()/>
                {(!finding2.is_empty()).then(|| view! { <input type="hidden" name="finding_id" value=finding2.clone()/> })}
                <input type="hidden" name="simulate" value="false"/>
                <button class="btn btn-small" type="submit">{fix_label}</button>
            </ActionForm>
        </div>
    }
}

#[component]
fn AgentCard(agent: Option<AgentView>) -> impl IntoView {
    let i18n = use_i18n();
    let Some(agent) = agent else {
        return view! {
            <section class="card" data-testid="agent-card">
                <h2>{tr(i18n, |l| td_string!(l, assets.agent.title))}</h2>
                <p class="muted">
                    {tr(i18n, |l| td_string!(l, assets.agent.none_before))}
                    <a href="/assets/add-host">{tr(i18n, |l| td_string!(l, assets.agent.none_link))}</a>
                    {tr(i18n, |l| td_string!(l, assets.agent.none_after))}
                </p>
            </section>
        }
        .into_any();
    };
    view! {
        <section class="card" data-testid="agent-card">
            <h2>{tr(i18n, |l| td_string!(l, assets.agent.title))}</h2>
            <dl class="details">
                <dt>{tr(i18n, |l| td_string!(l, assets.agent.version))}</dt>
                <dd>{agent.version}</dd>
                <dt>{tr(i18n, |l| td_string!(l, assets.agent.last_heartbeat))}</dt>
                <dd>{date_time(Some(agent.last_heartbeat_at))}</dd>
                <dt>{tr(i18n, |l| td_string!(l, assets.agent.enrolled))}</dt>
                <dd>{date_time(Some(agent.enrolled_at))}</dd>
                <dt>{tr(i18n, |l| td_string!(l, assets.agent.kernel))}</dt>
                <dd class="mono">{agent.kernel}</dd>
                <dt>{tr(i18n, |l| td_string!(l, assets.agent.packages))}</dt>
                <dd data-testid="package-count">
                    {match (agent.package_count, agent.package_manager) {
                        (Some(n), Some(pm)) => {
                            let collected = date_time(agent.inventory_at);
                            t!(i18n, assets.agent.package_count, count = n, manager = pm.clone(), time = collected.clone()).into_any()
                        }
                        _ => tr(i18n, |l| td_string!(l, assets.agent.no_inventory)).into_any(),
                    }}
                </dd>
                <dt>{tr(i18n, |l| td_string!(l, assets.agent.fixes))}</dt>
                <dd>
                    {if agent.allow_fix {
                        tr(i18n, |l| td_string!(l, assets.agent.fix_allowed)).into_any()
                    } else {
                        tr(i18n, |l| td_string!(l, assets.agent.simulation_only)).into_any()
                    }}
                </dd>
            </dl>
        </section>
    }
    .into_any()
}

#[component]
fn JobTable(jobs: Vec<FixJobView>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    view! {
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, assets.jobs.title))}</h2>
            <div class="table-wrap">
                <table class="table" data-testid="job-table">
                    <thead>
                        <tr>
                            <th>{tr(i18n, |l| td_string!(l, assets.jobs.col_job))}</th>
                            <th>{tr(i18n, |l| td_string!(l, assets.jobs.col_packages))}</th>
                            <th>{tr(i18n, |l| td_string!(l, assets.jobs.col_mode))}</th>
                            <th>{tr(i18n, |l| td_string!(l, assets.jobs.col_status))}</th>
                            <th>{tr(i18n, |l| td_string!(l, assets.jobs.col_requested))}</th>
                            <th>{tr(i18n, |l| td_string!(l, assets.jobs.col_finished))}</th>
                            <th>{tr(i18n, |l| td_string!(l, assets.jobs.col_result))}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows_or_empty(jobs, 7, td_string!(locale, assets.jobs.empty), move |j| {
                            let new_package = td_string!(locale, assets.jobs.new_package);
                            let changes = j.changes.iter().map(|c| match &c.from {
                                Some(from) => format!("{} {from} → {}", c.package, c.to),
                                None => format!("{} {new_package} {}", c.package, c.to),
                            }).collect::<Vec<_>>();
                            let count = changes.len();
                            let summary = match (&j.error, j.status) {
                                (Some(error), _) => error.clone().into_any(),
                                (None, FixJobStatus::Simulated | FixJobStatus::Succeeded) if changes.is_empty() => tr(i18n, |l| td_string!(l, assets.jobs.no_change)).into_any(),
                                (None, FixJobStatus::Simulated) => t!(i18n, assets.jobs.would_upgrade, count = count).into_any(),
                                (None, FixJobStatus::Succeeded) => t!(i18n, assets.jobs.upgraded, count = count).into_any(),
                                _ => String::new().into_any(),
                            };
                            let output = j.output.clone();
                            let (simulate, status) = (j.simulate, j.status);
                            let exit_code = j.exit_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into());
                            view! {
                                <tr data-job=j.id.to_string()>
                                    <td class="mono">{format!("#{}", j.id)}</td>
                                    <td class="mono">{j.packages.join(" ")}</td>
                                    <td>{if simulate { tr(i18n, |l| td_string!(l, assets.jobs.simulate)).into_any() } else { tr(i18n, |l| td_string!(l, assets.jobs.fix)).into_any() }}</td>
                                    <td><span class=format!("pill status-{}", j.status.as_str()) data-testid="job-status">{move || status.label_in(i18n.get_locale())}</span></td>
                                    <td class="nowrap">{date_time(Some(j.created_at))}<div class="muted">{j.requested_by}</div></td>
                                    <td class="nowrap">{date_time(j.finished_at)}</td>
                                    <td>
                                        <div>{summary}</div>
                                        {(!changes.is_empty()).then(|| view! { <ul class="compact">{changes.into_iter().map(|c| view! { <li class="mono">{c}</li> }).collect_view()}</ul> })}
                                        {(!output.is_empty()).then(|| view! {
                                            <details>
                                                <summary>{t!(i18n, assets.jobs.output, code = exit_code.clone())}</summary>
                                                <pre class="output">{output}</pre>
                                            </details>
                                        })}
                                    </td>
                                </tr>
                            }
                        })}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn AssetDetailBody(detail: AssetDetail, fix: ServerAction<FixFindings>) -> impl IntoView {
    let a = detail.asset;
    let admin = use_is_admin();
    let has_agent = detail.agent.is_some();
    let fixable = detail.findings.iter().any(|f| f.status.is_open() && f.source == "agent" && !f.fixed_version.is_empty());
    let asset_id = a.id;
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let agent_status = a.agent_status;
    let open_vulnerabilities = a.open_vulnerabilities;
    view! {
        <div class="page-header">
            <div>
                <h1>{a.name.clone()}</h1>
                <p class="subtitle mono">{a.instance_id.clone()}</p>
            </div>
            <div class="page-actions">
                <a class="btn" href="/assets">{tr(i18n, |l| td_string!(l, assets.detail.all_assets))}</a>
            </div>
        </div>
        <section class="card">
            <dl class="details">
                <dt>{tr(i18n, |l| td_string!(l, assets.detail.ips))}</dt>
                <dd class="mono">{a.ips.join(", ")}</dd>
                <dt>{tr(i18n, |l| td_string!(l, assets.detail.os))}</dt>
                <dd>{a.os.clone()}</dd>
                <dt>{tr(i18n, |l| td_string!(l, assets.detail.region))}</dt>
                <dd>{a.region.clone()}</dd>
                <dt>{tr(i18n, |l| td_string!(l, assets.detail.group))}</dt>
                <dd>{a.group.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>{tr(i18n, |l| td_string!(l, assets.detail.agent))}</dt>
                <dd>
                    <span class=format!("pill status-{}", a.agent_status.as_str())>{move || agent_status.label_in(i18n.get_locale())}</span>
                </dd>
                <dt>{tr(i18n, |l| td_string!(l, assets.detail.last_seen))}</dt>
                <dd>{date_time(a.last_seen_at)}</dd>
            </dl>
        </section>
        <AgentCard agent=detail.agent.clone()/>
        <section class="card">
            <div class="card-header">
                <h2>{t!(i18n, assets.detail.vulnerabilities, count = open_vulnerabilities)}</h2>
                {move || (fixable && admin.get()).then(|| view! {
                    <FixButtons
                        fix
                        asset_id
                        finding_id=None
                        simulate_label=td_string!(locale, assets.detail.simulate_all)
                        fix_label=td_string!(locale, assets.detail.fix_all)
                    />
                })}
            </div>
            <div class="table-wrap">
                <table class="table" data-testid="finding-table">
                    <thead>
                        <tr>
                            <th>{tr(i18n, |l| td_string!(l, assets.detail.col_advisory))}</th>
                            <th>{tr(i18n, |l| td_string!(l, assets.detail.col_title))}</th>
                            <th>{tr(i18n, |l| td_string!(l, assets.detail.col_severity))}</th>
                            <th>{tr(i18n, |l| td_string!(l, assets.detail.col_category))}</th>
                            <th>{tr(i18n, |l| td_string!(l, assets.detail.col_package))}</th>
                            <th>{tr(i18n, |l| td_string!(l, assets.detail.col_installed))}</th>
                            <th>{tr(i18n, |l| td_string!(l, assets.detail.col_fixed_in))}</th>
                            <th>{tr(i18n, |l| td_string!(l, assets.detail.col_fix))}</th>
                            <th>{tr(i18n, |l| td_string!(l, assets.detail.col_status))}</th>
                            <th>{tr(i18n, |l| td_string!(l, assets.detail.col_first_seen))}</th>
                            <th></th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows_or_empty(detail.findings, 11, td_string!(locale, assets.detail.no_findings), move |f| {
                                    let can_fix = has_agent && f.status.is_open() && f.source == "agent";
                                    let finding_id = f.id;
                                    let (category, status) = (f.category, f.status);
                                    view! {
                                        <tr>
                                            <td class="mono nowrap">{f.advisory_id}</td>
                                            <td>{f.title}</td>
                                            <td>{severity_pill(f.severity)}</td>
                                            <td>{move || category.label_in(i18n.get_locale())}</td>
                                            <td class="mono">{f.package}</td>
                                            <td class="mono">{f.installed_version}</td>
                                            <td class="mono" data-testid="fixed-version">{f.fixed_version}</td>
                                            <td>{f.fix}</td>
                                            <td>
                                                <span class=format!("pill status-{}", f.status.as_str())>{move || status.label_in(i18n.get_locale())}</span>
                                            </td>
                                            <td class="nowrap">{date_time(Some(f.first_seen_at))}</td>
                                            <td class="right">
                                                {move || (can_fix && admin.get()).then(|| view! {
                                                    <FixButtons
                                                        fix
                                                        asset_id
                                                        finding_id=Some(finding_id)
                                                        simulate_label=td_string!(locale, assets.detail.simulate)
                                                        fix_label=td_string!(locale, assets.detail.fix)
                                                    />
                                                })}
                                            </td>
                                        </tr>
                                    }
                        })}
                    </tbody>
                </table>
            </div>
        </section>
        {has_agent.then(|| view! { <JobTable jobs=detail.jobs.clone()/> })}
        <div class="cards">
            <section class="card">
                <h2>{tr(i18n, |l| td_string!(l, assets.detail.alerts))}</h2>
                <div class="table-wrap">
                    <table class="table">
                        <thead>
                            <tr>
                                <th>{tr(i18n, |l| td_string!(l, assets.detail.col_alert))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.detail.col_severity))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.detail.col_status))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.detail.col_when))}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows_or_empty(detail.alerts, 4, td_string!(locale, assets.detail.no_alerts), move |al| {
                                        let status = al.status;
                                        view! {
                                            <tr>
                                                <td>{al.name}<div class="muted">{al.alert_type}</div></td>
                                                <td>{severity_pill(al.severity)}</td>
                                                <td><span class=format!("pill status-{}", al.status.as_str())>{move || status.label_in(i18n.get_locale())}</span></td>
                                                <td class="nowrap">{date_time(Some(al.occurred_at))}</td>
                                            </tr>
                                        }
                            })}
                        </tbody>
                    </table>
                </div>
            </section>
            <section class="card">
                <h2>{tr(i18n, |l| td_string!(l, assets.detail.baseline))}</h2>
                <div class="table-wrap">
                    <table class="table">
                        <thead>
                            <tr>
                                <th>{tr(i18n, |l| td_string!(l, assets.detail.col_check))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.detail.col_risk))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.detail.col_result))}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows_or_empty(detail.baseline, 3, td_string!(locale, assets.detail.no_baseline), move |b| {
                                        let class = if b.passed { "pass" } else { "fail" };
                                        let passed = b.passed;
                                        let label = move || {
                                            if passed {
                                                td_string!(i18n.get_locale(), assets.detail.pass)
                                            } else {
                                                td_string!(i18n.get_locale(), assets.detail.fail)
                                            }
                                        };
                                        view! {
                                            <tr>
                                                <td>{b.check_name}<div class="muted">{b.category}</div></td>
                                                <td>{severity_pill(b.risk_level)}</td>
                                                <td><span class=format!("pill status-{class}")>{label}</span></td>
                                            </tr>
                                        }
                            })}
                        </tbody>
                    </table>
                </div>
            </section>
        </div>
    }
}

/// Re-enrollments of hosts that have an agent already, waiting for an admin: approving gives the
/// host to the waiting agent (the current one stops), rejecting refuses it.
#[component]
fn HeldEnrollments() -> impl IntoView {
    let approve = ServerAction::<ApproveHeldEnrollment>::new();
    let reject = ServerAction::<RejectHeldEnrollment>::new();
    let held = Resource::new(move || (approve.version().get(), reject.version().get()), |_| list_held_enrollments());
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    toast_outcome(move || approve.value().get(), td_string!(locale, assets.held.approved), || ());
    toast_outcome(move || reject.value().get(), td_string!(locale, assets.held.rejected), || ());
    view! {
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, assets.held.title))}</h2>
            <p class="muted">{tr(i18n, |l| td_string!(l, assets.held.intro))}</p>
            <Loaded resource=held loading=td_string!(locale, assets.held.loading) render=move |held| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="held-enrollments">
                        <thead>
                            <tr>
                                <th>{tr(i18n, |l| td_string!(l, assets.held.col_host))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.held.col_machine_id))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.held.col_addresses))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.held.col_token))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.held.col_asked))}</th>
                                <th></th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows_or_empty(held, 6, td_string!(locale, assets.held.empty), move |h| {
                                let approve_id = h.id.to_string();
                                let reject_id = approve_id.clone();
                                view! {
                                    <tr>
                                        <td>{h.hostname}</td>
                                        <td class="mono">{h.machine_id}</td>
                                        <td>{h.ips}</td>
                                        <td class="mono">{format!("{}…", h.token_prefix)}</td>
                                        <td>{date_time(Some(h.created_at))}</td>
                                        <td class="right row-actions">
                                            <ActionForm action=approve>
                                                <input type="hidden" name="id" value=approve_id/>
                                                <button class="btn btn-sm btn-primary" type="submit">{tr(i18n, |l| td_string!(l, assets.held.approve))}</button>
                                            </ActionForm>
                                            <ActionForm action=reject>
                                                <input type="hidden" name="id" value=reject_id/>
                                                <button class="btn btn-sm btn-danger" type="submit">{tr(i18n, |l| td_string!(l, assets.held.reject))}</button>
                                            </ActionForm>
                                        </td>
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

/// Add host: enrollment tokens and the command that installs the agent with one.
#[component]
pub fn AddHostPage() -> impl IntoView {
    let create = ServerAction::<CreateEnrollmentToken>::new();
    let revoke = ServerAction::<RevokeEnrollmentToken>::new();
    let tokens = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_enrollment_tokens());
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(result) = create.value().get() {
            form_error.set(errors.absorb(&result));
        }
    });
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    toast_outcome(move || revoke.value().get(), td_string!(locale, assets.add_host.revoked), || ());
    let confirming: Asking = RwSignal::new(None);
    view! {
        <div class="page-header">
            <div>
                <h1>{tr(i18n, |l| td_string!(l, assets.add_host.title))}</h1>
                <p class="subtitle">{tr(i18n, |l| td_string!(l, assets.add_host.subtitle))}</p>
            </div>
            <div class="page-actions">
                <a class="btn" href="/assets">{tr(i18n, |l| td_string!(l, assets.add_host.all_assets))}</a>
            </div>
        </div>
        <ConfirmDialog
            asking=confirming
            title=td_string!(locale, assets.add_host.revoke_title)
            question=|name| {
                let locale = reader_locale();
                format!(
                    "{}{name}{}",
                    td_string!(locale, assets.add_host.revoke_question_before),
                    td_string!(locale, assets.add_host.revoke_question_after)
                )
            }
            confirm_label=td_string!(locale, assets.add_host.revoke_confirm)
            on_confirm=Callback::new(move |id| {
                revoke.dispatch(RevokeEnrollmentToken { id });
            })
        />
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, assets.add_host.step1))}</h2>
            <p class="muted">{tr(i18n, |l| td_string!(l, assets.add_host.step1_intro))}</p>
            <ActionForm action=create attr:class="inline-form" attr:novalidate=true>
                <Field label=td_string!(locale, assets.add_host.token_name) name="name" error=errors.message("name")>
                    <input
                        id="name"
                        name="input[name]"
                        type="text"
                        maxlength="64"
                        placeholder=tr(i18n, |l| td_string!(l, assets.add_host.token_name_placeholder))
                    />
                </Field>
                <Field label=td_string!(locale, assets.add_host.group) name="group" error=errors.message("group")>
                    <input id="group" name="input[group]" type="text" maxlength="64"/>
                </Field>
                <Field label=td_string!(locale, assets.add_host.expires) name="expires_in_days" error=errors.message("expires_in_days")>
                    <input id="expires_in_days" name="input[expires_in_days]" type="text" inputmode="numeric" size="6"/>
                </Field>
                <button class="btn btn-primary" type="submit">{tr(i18n, |l| td_string!(l, assets.add_host.create))}</button>
            </ActionForm>
            <FormError message=form_error/>
            {move || create.value().get().and_then(|r| r.ok()).map(|new| view! {
                <div class="notice notice-warning">
                    <p>{t!(i18n, assets.add_host.step2, name = new.token.name.clone())}</p>
                    <div class="secret-once" data-testid="enroll-command">{new.command}</div>
                </div>
            })}
        </section>
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, assets.add_host.tokens))}</h2>
            <Loaded resource=tokens loading=td_string!(locale, assets.add_host.loading) render=move |tokens| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="enrollment-tokens">
                        <thead>
                            <tr>
                                <th>{tr(i18n, |l| td_string!(l, assets.add_host.col_name))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.add_host.col_token))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.add_host.col_group))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.add_host.col_created))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.add_host.col_expires))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.add_host.col_hosts))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.add_host.col_last_used))}</th>
                                <th>{tr(i18n, |l| td_string!(l, assets.add_host.col_status))}</th>
                                <th></th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows_or_empty(tokens, 9, td_string!(locale, assets.add_host.empty), move |t| {
                                let active = t.revoked_at.is_none();
                                let asked = (t.id, t.name.clone());
                                view! {
                                    <tr>
                                        <td>{t.name}</td>
                                        <td class="mono">{format!("{}…", t.prefix)}</td>
                                        <td>{t.group_name.unwrap_or_else(|| "—".into())}</td>
                                        <td>{date_time(Some(t.created_at))}</td>
                                        <td>
                                            {match t.expires_at {
                                                Some(e) => date_time(Some(e)).into_any(),
                                                None => tr(i18n, |l| td_string!(l, assets.add_host.never)).into_any(),
                                            }}
                                        </td>
                                        <td>{t.use_count}</td>
                                        <td>{date_time(t.last_used_at)}</td>
                                        <td>
                                            {if active {
                                                tr(i18n, |l| td_string!(l, assets.add_host.active)).into_any()
                                            } else {
                                                let revoked = date_time(t.revoked_at);
                                                t!(i18n, assets.add_host.revoked_at, time = revoked.clone()).into_any()
                                            }}
                                        </td>
                                        <td class="right">
                                            {active.then(|| view! {
                                                <AskButton asking=confirming item=asked label=td_string!(locale, assets.add_host.revoke)/>
                                            })}
                                        </td>
                                    </tr>
                                }
                            })}
                        </tbody>
                    </table>
                </div>
            }/>
        </section>
        <HeldEnrollments/>
    }
}
