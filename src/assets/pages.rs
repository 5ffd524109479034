//! The Assets list (groups, search, pagination) and an asset's detail.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::api::{get_asset, list_assets};
use super::model::*;
use crate::components::format::{date_time, url_encode};
use crate::components::loaded::Loaded;
use crate::components::table::{rows_or_empty, Pagination};

fn severity_pill(severity: Severity) -> impl IntoView {
    view! { <span class=format!("sev sev-{}", severity.as_str())>{severity.label()}</span> }
}

fn assets_href(search: &str, group: Option<i64>, page: i64) -> String {
    let mut params = Vec::new();
    if !search.is_empty() {
        params.push(format!("q={}", url_encode(search)));
    }
    if let Some(g) = group {
        params.push(format!("group={g}"));
    }
    if page > 1 {
        params.push(format!("page={page}"));
    }
    if params.is_empty() {
        "/assets".to_string()
    } else {
        format!("/assets?{}", params.join("&"))
    }
}

#[component]
pub fn AssetListPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        query_map.with(|q| AssetQuery {
            search: q.get("q").unwrap_or_default(),
            group_id: q.get("group").and_then(|g| g.parse().ok()),
            page: q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1),
        })
    });
    let page = Resource::new(move || query.get(), list_assets);
    view! {
        <div class="page-header">
            <div>
                <h1>"Assets"</h1>
                <p class="subtitle">"Hosts reported by agents and the ingestion API."</p>
            </div>
        </div>
        <Loaded
            resource=page
            loading="Loading assets…"
            render=move |p| view! { <AssetTable page=p query=query.get_untracked()/> }
        />
    }
}

#[component]
fn AssetTable(page: AssetPage, query: AssetQuery) -> impl IntoView {
    let search = query.search.clone();
    let group = query.group_id;
    let current = move |g: Option<i64>| if g == group { "page" } else { "false" };
    view! {
        <div class="split">
            <nav class="group-list" aria-label="Asset groups">
                <a href=assets_href(&search, None, 1) aria-current=current(None)>
                    "All assets" <span class="count">{page.all_count}</span>
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
                    "Ungrouped" <span class="count">{page.ungrouped_count}</span>
                </a>
            </nav>
            <div>
                <form class="toolbar" method="get" action="/assets" role="search">
                    {group.map(|g| view! { <input type="hidden" name="group" value=g/> })}
                    <input
                        type="search"
                        name="q"
                        value=search.clone()
                        placeholder="Search by name, IP or instance id"
                        aria-label="Search assets"
                    />
                    <button class="btn" type="submit">"Search"</button>
                </form>
                <div class="table-wrap">
                    <table class="table dense" data-testid="asset-table">
                        <thead>
                            <tr>
                                <th>"Asset"</th>
                                <th>"IP addresses"</th>
                                <th>"OS"</th>
                                <th>"Region"</th>
                                <th>"Group"</th>
                                <th>"Agent"</th>
                                <th class="right">"Vulns"</th>
                                <th class="right">"Alerts"</th>
                                <th class="right">"Baseline"</th>
                                <th>"Last seen"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows_or_empty(
                                page.assets,
                                10,
                                if search.is_empty() { "No assets yet." } else { "No assets match this search." },
                                |a| {
                                        view! {
                                            <tr>
                                                <td>
                                                    <a href=format!("/assets/{}", a.id)>{a.name.clone()}</a>
                                                    <div class="muted mono">{a.instance_id.clone()}</div>
                                                </td>
                                                <td class="mono">{a.ips.join(", ")}</td>
                                                <td>{a.os.clone()}</td>
                                                <td>{a.region.clone()}</td>
                                                <td>{a.group.clone().unwrap_or_else(|| "—".into())}</td>
                                                <td>
                                                    <span class=format!("pill status-{}", a.agent_status.as_str())>
                                                        {a.agent_status.label()}
                                                    </span>
                                                </td>
                                                <td class="right">{a.open_vulnerabilities}</td>
                                                <td class="right">{a.open_alerts}</td>
                                                <td class="right">{a.baseline_risks}</td>
                                                <td class="nowrap">{date_time(a.last_seen_at)}</td>
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
                    href=move |p| assets_href(&query.search, group, p)
                />
            </div>
        </div>
    }
}

#[component]
pub fn AssetDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0)));
    let detail = Resource::new(move || id.get(), get_asset);
    view! { <Loaded resource=detail loading="Loading the asset…" render=|d| view! { <AssetDetailBody detail=d/> }/> }
}

#[component]
fn AssetDetailBody(detail: AssetDetail) -> impl IntoView {
    let a = detail.asset;
    view! {
        <div class="page-header">
            <div>
                <h1>{a.name.clone()}</h1>
                <p class="subtitle mono">{a.instance_id.clone()}</p>
            </div>
            <div class="page-actions">
                <a class="btn" href="/assets">"‹ All assets"</a>
            </div>
        </div>
        <section class="card">
            <dl class="details">
                <dt>"IP addresses"</dt>
                <dd class="mono">{a.ips.join(", ")}</dd>
                <dt>"Operating system"</dt>
                <dd>{a.os.clone()}</dd>
                <dt>"Region"</dt>
                <dd>{a.region.clone()}</dd>
                <dt>"Group"</dt>
                <dd>{a.group.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>"Agent"</dt>
                <dd>
                    <span class=format!("pill status-{}", a.agent_status.as_str())>{a.agent_status.label()}</span>
                </dd>
                <dt>"Last seen"</dt>
                <dd>{date_time(a.last_seen_at)}</dd>
            </dl>
        </section>
        <section class="card">
            <h2>{format!("Vulnerabilities ({} open)", a.open_vulnerabilities)}</h2>
            <div class="table-wrap">
                <table class="table" data-testid="finding-table">
                    <thead>
                        <tr>
                            <th>"Advisory"</th>
                            <th>"Title"</th>
                            <th>"Severity"</th>
                            <th>"Category"</th>
                            <th>"Package"</th>
                            <th>"Fix"</th>
                            <th>"Status"</th>
                            <th>"First seen"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows_or_empty(detail.findings, 8, "No vulnerabilities found on this asset.", |f| {
                                    view! {
                                        <tr>
                                            <td class="mono nowrap">{f.advisory_id}</td>
                                            <td>{f.title}</td>
                                            <td>{severity_pill(f.severity)}</td>
                                            <td>{f.category.label()}</td>
                                            <td class="mono">{format!("{} {}", f.package, f.installed_version)}</td>
                                            <td>{f.fix}</td>
                                            <td>
                                                <span class=format!("pill status-{}", f.status.as_str())>{f.status.label()}</span>
                                            </td>
                                            <td class="nowrap">{date_time(Some(f.first_seen_at))}</td>
                                        </tr>
                                    }
                        })}
                    </tbody>
                </table>
            </div>
        </section>
        <div class="cards">
            <section class="card">
                <h2>"Alerts"</h2>
                <div class="table-wrap">
                    <table class="table">
                        <thead>
                            <tr>
                                <th>"Alert"</th>
                                <th>"Severity"</th>
                                <th>"Status"</th>
                                <th>"When"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows_or_empty(detail.alerts, 4, "No alerts.", |al| {
                                        view! {
                                            <tr>
                                                <td>{al.name}<div class="muted">{al.alert_type}</div></td>
                                                <td>{severity_pill(al.severity)}</td>
                                                <td><span class=format!("pill status-{}", al.status.as_str())>{al.status.label()}</span></td>
                                                <td class="nowrap">{date_time(Some(al.occurred_at))}</td>
                                            </tr>
                                        }
                            })}
                        </tbody>
                    </table>
                </div>
            </section>
            <section class="card">
                <h2>"Baseline checks"</h2>
                <div class="table-wrap">
                    <table class="table">
                        <thead>
                            <tr>
                                <th>"Check"</th>
                                <th>"Risk"</th>
                                <th>"Result"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows_or_empty(detail.baseline, 3, "No baseline results.", |b| {
                                        let (class, label) = if b.passed { ("pass", "Pass") } else { ("fail", "Fail") };
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
