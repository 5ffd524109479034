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

fn severity_pill(severity: Severity) -> impl IntoView {
    view! { <span class=format!("sev sev-{}", severity.as_str())>{severity.label()}</span> }
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
    view! {
        <div class="page-header">
            <div>
                <h1>"Assets"</h1>
                <p class="subtitle">"Hosts reported by agents and the ingestion API."</p>
            </div>
            <div class="page-actions">
                <a class="btn btn-primary" href="/assets/add-host">"Add host"</a>
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
                                <th>"OS · region"</th>
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
                                9,
                                if search.is_empty() { "No assets yet." } else { "No assets match this search." },
                                |a| {
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
                                                        {a.agent_status.label()}
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
    toast_outcome(move || fix.value().get(), "Fix job queued.", || ());
    view! { <Loaded resource=detail loading="Loading the asset…" render=move |d| view! { <AssetDetailBody detail=d fix/> }/> }
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
    let Some(agent) = agent else {
        return view! {
            <section class="card" data-testid="agent-card">
                <h2>"Agent"</h2>
                <p class="muted">"No Bulwark agent on this host: its data comes from the ingestion API. "<a href="/assets/add-host">"Add the agent"</a>" to collect its packages and carry out fixes."</p>
            </section>
        }
        .into_any();
    };
    view! {
        <section class="card" data-testid="agent-card">
            <h2>"Agent"</h2>
            <dl class="details">
                <dt>"Version"</dt>
                <dd>{agent.version}</dd>
                <dt>"Last heartbeat"</dt>
                <dd>{date_time(Some(agent.last_heartbeat_at))}</dd>
                <dt>"Enrolled"</dt>
                <dd>{date_time(Some(agent.enrolled_at))}</dd>
                <dt>"Kernel"</dt>
                <dd class="mono">{agent.kernel}</dd>
                <dt>"Packages"</dt>
                <dd data-testid="package-count">
                    {match (agent.package_count, agent.package_manager) {
                        (Some(n), Some(pm)) => format!("{n} ({pm}), collected {}", date_time(agent.inventory_at)),
                        _ => "No inventory yet".to_string(),
                    }}
                </dd>
                <dt>"Fixes"</dt>
                <dd>{if agent.allow_fix { "Allowed (--allow-fix)" } else { "Simulation only: the agent runs without --allow-fix" }}</dd>
            </dl>
        </section>
    }
    .into_any()
}

#[component]
fn JobTable(jobs: Vec<FixJobView>) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Fix jobs"</h2>
            <div class="table-wrap">
                <table class="table" data-testid="job-table">
                    <thead>
                        <tr>
                            <th>"Job"</th>
                            <th>"Packages"</th>
                            <th>"Mode"</th>
                            <th>"Status"</th>
                            <th>"Requested"</th>
                            <th>"Finished"</th>
                            <th>"Result"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows_or_empty(jobs, 7, "No fix jobs yet.", |j| {
                            let changes = j.changes.iter().map(|c| match &c.from {
                                Some(from) => format!("{} {from} → {}", c.package, c.to),
                                None => format!("{} (new) {}", c.package, c.to),
                            }).collect::<Vec<_>>();
                            let summary = match (&j.error, j.status) {
                                (Some(error), _) => error.clone(),
                                (None, FixJobStatus::Simulated | FixJobStatus::Succeeded) if changes.is_empty() => "No change needed".to_string(),
                                (None, FixJobStatus::Simulated) => format!("Would upgrade {}", changes.len()),
                                (None, FixJobStatus::Succeeded) => format!("Upgraded {}", changes.len()),
                                _ => String::new(),
                            };
                            let output = j.output.clone();
                            view! {
                                <tr data-job=j.id.to_string()>
                                    <td class="mono">{format!("#{}", j.id)}</td>
                                    <td class="mono">{j.packages.join(" ")}</td>
                                    <td>{if j.simulate { "Simulate" } else { "Fix" }}</td>
                                    <td><span class=format!("pill status-{}", j.status.as_str()) data-testid="job-status">{j.status.label()}</span></td>
                                    <td class="nowrap">{date_time(Some(j.created_at))}<div class="muted">{j.requested_by}</div></td>
                                    <td class="nowrap">{date_time(j.finished_at)}</td>
                                    <td>
                                        <div>{summary}</div>
                                        {(!changes.is_empty()).then(|| view! { <ul class="compact">{changes.into_iter().map(|c| view! { <li class="mono">{c}</li> }).collect_view()}</ul> })}
                                        {(!output.is_empty()).then(|| view! {
                                            <details>
                                                <summary>{format!("Output (exit {})", j.exit_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into()))}</summary>
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
        <AgentCard agent=detail.agent.clone()/>
        <section class="card">
            <div class="card-header">
                <h2>{format!("Vulnerabilities ({} open)", a.open_vulnerabilities)}</h2>
                {move || (fixable && admin.get()).then(|| view! {
                    <FixButtons fix asset_id finding_id=None simulate_label="Simulate fixing all" fix_label="Fix all"/>
                })}
            </div>
            <div class="table-wrap">
                <table class="table" data-testid="finding-table">
                    <thead>
                        <tr>
                            <th>"Advisory"</th>
                            <th>"Title"</th>
                            <th>"Severity"</th>
                            <th>"Category"</th>
                            <th>"Package"</th>
                            <th>"Installed"</th>
                            <th>"Fixed in"</th>
                            <th>"Fix"</th>
                            <th>"Status"</th>
                            <th>"First seen"</th>
                            <th></th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows_or_empty(detail.findings, 11, "No vulnerabilities found on this asset.", move |f| {
                                    let can_fix = has_agent && f.status.is_open() && f.source == "agent";
                                    let finding_id = f.id;
                                    view! {
                                        <tr>
                                            <td class="mono nowrap">{f.advisory_id}</td>
                                            <td>{f.title}</td>
                                            <td>{severity_pill(f.severity)}</td>
                                            <td>{f.category.label()}</td>
                                            <td class="mono">{f.package}</td>
                                            <td class="mono">{f.installed_version}</td>
                                            <td class="mono" data-testid="fixed-version">{f.fixed_version}</td>
                                            <td>{f.fix}</td>
                                            <td>
                                                <span class=format!("pill status-{}", f.status.as_str())>{f.status.label()}</span>
                                            </td>
                                            <td class="nowrap">{date_time(Some(f.first_seen_at))}</td>
                                            <td class="right">
                                                {move || (can_fix && admin.get()).then(|| view! {
                                                    <FixButtons fix asset_id finding_id=Some(finding_id) simulate_label="Simulate" fix_label="Fix"/>
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

/// Re-enrollments of hosts that have an agent already, waiting for an admin: approving gives the
/// host to the waiting agent (the current one stops), rejecting refuses it.
#[component]
fn HeldEnrollments() -> impl IntoView {
    let approve = ServerAction::<ApproveHeldEnrollment>::new();
    let reject = ServerAction::<RejectHeldEnrollment>::new();
    let held = Resource::new(move || (approve.version().get(), reject.version().get()), |_| list_held_enrollments());
    toast_outcome(move || approve.value().get(), "Enrollment approved: the host's agent gets its new credential when it next asks.", || ());
    toast_outcome(move || reject.value().get(), "Enrollment rejected.", || ());
    view! {
        <section class="card">
            <h2>"Enrollments awaiting approval"</h2>
            <p class="muted">"A host that already has an agent re-enrolls at once only with that agent's credential. Without it, the enrollment waits here: approve it only if you moved or reinstalled the host yourself."</p>
            <Loaded resource=held loading="Loading enrollments…" render=move |held| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="held-enrollments">
                        <thead><tr><th>"Host"</th><th>"Machine id"</th><th>"Addresses"</th><th>"Token"</th><th>"Asked"</th><th></th></tr></thead>
                        <tbody>
                            {rows_or_empty(held, 6, "No enrollment awaits approval.", move |h| {
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
                                                <button class="btn btn-sm btn-primary" type="submit">"Approve"</button>
                                            </ActionForm>
                                            <ActionForm action=reject>
                                                <input type="hidden" name="id" value=reject_id/>
                                                <button class="btn btn-sm btn-danger" type="submit">"Reject"</button>
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
    toast_outcome(move || revoke.value().get(), "Enrollment token revoked.", || ());
    let confirming: Asking = RwSignal::new(None);
    view! {
        <div class="page-header">
            <div>
                <h1>"Add host"</h1>
                <p class="subtitle">"Install the Bulwark agent on a Linux host (Debian, Ubuntu, RHEL-like or Alpine). It reports the host's packages, heartbeats, and carries out fix jobs."</p>
            </div>
            <div class="page-actions">
                <a class="btn" href="/assets">"‹ All assets"</a>
            </div>
        </div>
        <ConfirmDialog
            asking=confirming
            title="Revoke enrollment token"
            question=|name| format!("Revoke \"{name}\"? Hosts can no longer enroll with it. Hosts already enrolled keep working.")
            confirm_label="Revoke token"
            on_confirm=Callback::new(move |id| {
                revoke.dispatch(RevokeEnrollmentToken { id });
            })
        />
        <section class="card">
            <h2>"1. Create an enrollment token"</h2>
            <p class="muted">"The token is shown once; Bulwark keeps only its hash. Each host that enrolls gets its own credential, so revoking the token later does not disconnect them."</p>
            <ActionForm action=create attr:class="inline-form" attr:novalidate=true>
                <Field label="Token name" name="name" error=errors.message("name")>
                    <input id="name" name="input[name]" type="text" maxlength="64" placeholder="web servers"/>
                </Field>
                <Field label="Asset group (optional)" name="group" error=errors.message("group")>
                    <input id="group" name="input[group]" type="text" maxlength="64"/>
                </Field>
                <Field label="Expires in days (optional)" name="expires_in_days" error=errors.message("expires_in_days")>
                    <input id="expires_in_days" name="input[expires_in_days]" type="text" inputmode="numeric" size="6"/>
                </Field>
                <button class="btn btn-primary" type="submit">"Create token"</button>
            </ActionForm>
            <FormError message=form_error/>
            {move || create.value().get().and_then(|r| r.ok()).map(|t| view! {
                <div class="notice notice-warning">
                    <p>{format!("2. On the host, run this as root (add --allow-fix to let Bulwark install upgrades). Copy it now: the token \"{}\" will not be shown again.", t.token.name)}</p>
                    <div class="secret-once" data-testid="enroll-command">{t.command}</div>
                </div>
            })}
        </section>
        <section class="card">
            <h2>"Enrollment tokens"</h2>
            <Loaded resource=tokens loading="Loading tokens…" render=move |tokens| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="enrollment-tokens">
                        <thead><tr><th>"Name"</th><th>"Token"</th><th>"Group"</th><th>"Created"</th><th>"Expires"</th><th>"Hosts enrolled"</th><th>"Last used"</th><th>"Status"</th><th></th></tr></thead>
                        <tbody>
                            {rows_or_empty(tokens, 9, "No enrollment tokens yet.", |t| {
                                let active = t.revoked_at.is_none();
                                let asked = (t.id, t.name.clone());
                                view! {
                                    <tr>
                                        <td>{t.name}</td>
                                        <td class="mono">{format!("{}…", t.prefix)}</td>
                                        <td>{t.group_name.unwrap_or_else(|| "—".into())}</td>
                                        <td>{date_time(Some(t.created_at))}</td>
                                        <td>{t.expires_at.map(|e| date_time(Some(e))).unwrap_or_else(|| "Never".into())}</td>
                                        <td>{t.use_count}</td>
                                        <td>{date_time(t.last_used_at)}</td>
                                        <td>{if active { "Active".to_string() } else { format!("Revoked {}", date_time(t.revoked_at)) }}</td>
                                        <td class="right">{active.then(|| view! { <AskButton asking=confirming item=asked label="Revoke"/> })}</td>
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
