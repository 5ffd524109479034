//! Playbook pages: Policy Center, My Policy, the task form, Task Management and a task's details.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::api::*;
use super::model::*;
use crate::auth::context::use_is_admin;
use crate::assets::model::{Category, Severity};
use crate::editions::Feature;
use crate::components::route::{load_by_id, use_route_id};
use crate::components::form::{submit_checked, watch_form, Field, FormError, FormErrors, SetCheckbox};
use crate::format::date_time;
use crate::auth::gate::FeatureGate;
use crate::components::loaded::{refresh_while, Loaded};
use crate::components::modal::{AskButton, Asking, ConfirmDialog};
use crate::components::tabs::PageTabs;
use crate::components::table::rows_or_empty;
use crate::components::toast::{toast_outcome, use_toaster};
use crate::error::AppError;

#[component]
fn PlaybookHeader(current: &'static str, title: &'static str) -> impl IntoView {
    view! {
        <div class="page-header">
            <div>
                <h1>{title}</h1>
                <p class="subtitle">"Fix vulnerabilities on many hosts at once, through their agents."</p>
            </div>
        </div>
        <PageTabs tabs=PLAYBOOK_TABS current/>
    }
}

const PLAYBOOK_TABS: &[(&str, &str)] = &[
    ("/playbook/policy-center", "Policy Center"),
    ("/playbook/my-policy", "My Policy"),
    ("/playbook/tasks", "Task Management"),
];

#[component]
pub fn PolicyCenterPage() -> impl IntoView {
    // Created here, not inside the gate, so the server and the browser create it in the same
    // order; for accounts without the feature the server refuses it and the gate shows why.
    let templates = Resource::new(|| (), |_| list_policy_templates());
    let clone = ServerAction::<ClonePolicy>::new();
    toast_outcome(move || clone.value().get(), "Policy cloned to My Policy.", || ());
    let admin = use_is_admin();
    view! {
        <PlaybookHeader current="/playbook/policy-center" title="Playbook"/>
        <FeatureGate feature=Feature::Playbooks>
            <Loaded resource=templates loading="Loading templates…" render=move |templates| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="policy-templates">
                        <thead><tr><th>"Policy Name"</th><th>"Policy Type"</th><th>"Mode"</th><th>"Creation/Last Update Time"</th><th></th></tr></thead>
                        <tbody>
                            {templates.into_iter().map(|t| {
                                let key = t.key.clone();
                                view! {
                                    <tr>
                                        <td><strong>{t.name}</strong><div class="muted">{t.description}</div></td>
                                        <td>{t.policy_type}</td>
                                        <td>{t.mode}</td>
                                        <td class="nowrap">{date_time(Some(t.updated_at))}</td>
                                        <td class="right">
                                            {move || admin.get().then(|| {
                                                let key = key.clone();
                                                view! {
                                                    <button class="btn btn-sm" type="button" disabled=move || clone.pending().get()
                                                        on:click=move |_| { clone.dispatch(ClonePolicy { template: key.clone() }); }>
                                                        "Clone"
                                                    </button>
                                                }
                                            })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }/>
        </FeatureGate>
    }
}

#[component]
pub fn MyPolicyPage() -> impl IntoView {
    let delete = ServerAction::<DeletePolicy>::new();
    let policies = Resource::new(move || delete.version().get(), |_| list_policies());
    toast_outcome(move || delete.value().get(), "Policy deleted.", || ());
    let asking: Asking = RwSignal::new(None);
    let admin = use_is_admin();
    view! {
        <PlaybookHeader current="/playbook/my-policy" title="My Policy"/>
        <FeatureGate feature=Feature::Playbooks>
            <ConfirmDialog
                asking
                title="Delete policy"
                question=|name| format!("Delete \"{name}\"? Its finished tasks stay in Task Management.")
                confirm_label="Delete"
                on_confirm=Callback::new(move |id| { delete.dispatch(DeletePolicy { id }); })
            />
            <Loaded resource=policies loading="Loading policies…" render=move |policies| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="my-policies">
                        <thead><tr><th>"Policy Name"</th><th>"Policy Type"</th><th>"Mode"</th><th>"Creation/Last Update Time"</th><th></th></tr></thead>
                        <tbody>
                            {rows_or_empty(policies, 5, "No policies yet: clone one from the Policy Center.", move |p| {
                                let asked = (p.id, p.name.clone());
                                let create = format!("/playbook/my-policy/{}/create-task", p.id);
                                view! {
                                    <tr>
                                        <td><strong>{p.name}</strong><div class="muted">{p.description}</div></td>
                                        <td>{p.policy_type}</td>
                                        <td>{p.mode}</td>
                                        <td class="nowrap">{date_time(Some(p.created_at))}<div class="muted">{date_time(Some(p.updated_at))}</div></td>
                                        <td class="right row-actions">
                                            {move || admin.get().then(|| view! {
                                                <a class="btn btn-sm btn-primary" href=create.clone()>"Create"</a>
                                                <AskButton asking item=asked.clone() label="Delete"/>
                                            })}
                                        </td>
                                    </tr>
                                }
                            })}
                        </tbody>
                    </table>
                </div>
            }/>
        </FeatureGate>
    }
}

/// The task form's state, kept at the page so it survives the form re-rendering (a chatbot added).
#[derive(Clone, Copy)]
struct TaskForm {
    name: RwSignal<String>,
    assets: RwSignal<Vec<i64>>,
    vulnerabilities: RwSignal<Vec<i64>>,
    chatbots: RwSignal<Vec<i64>>,
    emails: RwSignal<String>,
    custom_time: RwSignal<bool>,
    execute_at: RwSignal<String>,
    concurrency: RwSignal<String>,
    dry_run: RwSignal<bool>,
    stop_after: RwSignal<String>,
    search: RwSignal<String>,
    tab: RwSignal<Category>,
    severity: RwSignal<Option<Severity>>,
    /// The Add DingTalk Chatbot dialog is open.
    bot_dialog: RwSignal<bool>,
    /// Bumped when a chatbot was added, to load the list again.
    bots_added: RwSignal<u32>,
}

impl TaskForm {
    fn new() -> Self {
        TaskForm {
            name: RwSignal::new(String::new()),
            assets: RwSignal::new(Vec::new()),
            vulnerabilities: RwSignal::new(Vec::new()),
            chatbots: RwSignal::new(Vec::new()),
            emails: RwSignal::new(String::new()),
            custom_time: RwSignal::new(false),
            execute_at: RwSignal::new(String::new()),
            concurrency: RwSignal::new(DEFAULT_CONCURRENCY.to_string()),
            dry_run: RwSignal::new(false),
            stop_after: RwSignal::new(String::new()),
            search: RwSignal::new(String::new()),
            tab: RwSignal::new(Category::Linux),
            severity: RwSignal::new(None),
            bot_dialog: RwSignal::new(false),
            bots_added: RwSignal::new(0),
        }
    }

    fn input(&self, policy_id: i64) -> TaskInput {
        TaskInput {
            policy_id,
            name: self.name.get_untracked(),
            asset_ids: self.assets.get_untracked(),
            vulnerability_ids: self.vulnerabilities.get_untracked(),
            chatbot_ids: self.chatbots.get_untracked(),
            emails: self.emails.get_untracked(),
            custom_time: self.custom_time.get_untracked(),
            execute_at: self.execute_at.get_untracked(),
            concurrency: self.concurrency.get_untracked(),
            dry_run: self.dry_run.get_untracked(),
            stop_after: self.stop_after.get_untracked(),
        }
    }
}

#[component]
pub fn CreateTaskPage() -> impl IntoView {
    let policy_id = use_route_id();
    let add_bot = ServerAction::<CreateChatbot>::new();
    let form = TaskForm::new();
    let choices = Resource::new(move || form.bots_added.get(), |_| get_task_choices());
    let vulnerabilities = Resource::new(move || form.assets.get(), list_task_vulnerabilities);
    let create = Action::new(|input: &TaskInput| create_task(input.clone()));
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    watch_form(create, errors, form_error, "Created", move |_| navigate("/playbook/tasks", Default::default()));
    let submit = move |_| {
        let Some(policy) = policy_id.get_untracked() else {
            form_error.set(Some("There is no such policy: open the task form from My Policy.".into()));
            return;
        };
        let input = form.input(policy);
        let problems = input.validate();
        submit_checked(create, input, problems, errors, form_error);
    };
    view! {
        <PlaybookHeader current="/playbook/my-policy" title="Create task"/>
        <FeatureGate feature=Feature::Playbooks>
            <Loaded resource=choices loading="Loading assets…" render=move |c: TaskChoices| view! {
                <section class="card">
                    <h2>"Task"</h2>
                    <Field label="Task Name" name="name" error=errors.message("name")>
                        <input id="name" type="text" maxlength="64" bind:value=form.name/>
                    </Field>
                </section>
                <AssetPicker form errors groups=c.groups.clone() assets=c.assets.clone()/>
                <VulnerabilityPicker form errors vulnerabilities asset_count=Signal::derive(move || form.assets.with(Vec::len))/>
                <Notifications form errors chatbots=c.chatbots.clone() add_bot/>
                <section class="card">
                    <h2>"Execution"</h2>
                    <div class="field" role="radiogroup" aria-label="Execution Time">
                        <label class="check">
                            <input type="radio" name="execution" prop:checked=move || !form.custom_time.get() on:change=move |_| form.custom_time.set(false)/>
                            "Execute"
                        </label>
                        <label class="check">
                            <input type="radio" name="execution" prop:checked=move || form.custom_time.get() on:change=move |_| form.custom_time.set(true)/>
                            "Custom Time"
                        </label>
                    </div>
                    <Show when=move || form.custom_time.get()>
                        <Field label="Date and time" name="execute_at" error=errors.message("execute_at")>
                            <input id="execute_at" type="datetime-local" bind:value=form.execute_at/>
                        </Field>
                    </Show>
                    <p class="muted">{format!("Times are in the account's time zone, {}.", c.time_zone)}</p>
                    <div class="inline-form">
                        <Field label="Concurrent hosts" name="concurrency" error=errors.message("concurrency")>
                            <input id="concurrency" type="text" inputmode="numeric" size="5" bind:value=form.concurrency/>
                        </Field>
                        <Field label="Stop after N failed hosts (optional)" name="stop_after" error=errors.message("stop_after")>
                            <input id="stop_after" type="text" inputmode="numeric" size="5" bind:value=form.stop_after/>
                        </Field>
                    </div>
                    <label class="check">
                        <input type="checkbox" bind:checked=form.dry_run/>
                        "Dry run: only simulate (the package manager reports what it would change)"
                    </label>
                </section>
                <div class="form-actions">
                    <FormError message=form_error/>
                    <a class="btn" href="/playbook/my-policy">"Cancel"</a>
                    <button class="btn btn-primary" type="button" disabled=move || create.pending().get() on:click=submit>"Create"</button>
                </div>
            }/>
        </FeatureGate>
    }
}

#[component]
fn AssetPicker(form: TaskForm, errors: FormErrors, groups: Vec<TaskGroup>, assets: Vec<TaskAsset>) -> impl IntoView {
    let all = StoredValue::new(assets);
    let group_members = move |group: i64| all.with_value(|a| a.iter().filter(|a| a.group_id == Some(group)).map(|a| a.id).collect::<Vec<_>>());
    let matches = move || {
        let query = form.search.get();
        let chosen = form.assets.get();
        all.with_value(|a| a.iter().filter(|a| !chosen.contains(&a.id) && fuzzy_match(&query, a)).take(50).cloned().collect::<Vec<_>>())
    };
    let selected = move || {
        let chosen = form.assets.get();
        all.with_value(|a| a.iter().filter(|a| chosen.contains(&a.id)).cloned().collect::<Vec<_>>())
    };
    view! {
        <section class="card">
            <h2>"Asset List"</h2>
            {move || errors.message("assets").get().map(|m| view! { <div class="field-error" role="alert" data-field="assets">{m}</div> })}
            <div class="picker">
                <div class="picker-column">
                    <h3>"Asset Groups"</h3>
                    <div class="pick-list" role="group" aria-label="Asset Groups">
                        {groups.into_iter().map(|g| {
                            let members = group_members(g.id);
                            let members_check = members.clone();
                            view! {
                                <label class="check">
                                    <input
                                        type="checkbox"
                                        prop:checked=move || !members_check.is_empty() && form.assets.with(|s| members_check.iter().all(|m| s.contains(m)))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            let members = members.clone();
                                            form.assets.update(|s| {
                                                s.retain(|a| !members.contains(a));
                                                if on {
                                                    s.extend(members);
                                                }
                                            });
                                        }
                                    />
                                    {format!("{} ({})", g.name, g.asset_count)}
                                </label>
                            }
                        }).collect_view()}
                    </div>
                    <h3>"Assets"</h3>
                    <input type="search" placeholder="Search by name or IP" aria-label="Search assets" bind:value=form.search/>
                    <ul class="pick-rows" aria-label="Matching assets">
                        {move || matches().into_iter().map(|a| {
                            let id = a.id;
                            view! {
                                <li>
                                    <span>{a.name.clone()}<span class="muted mono">{format!(" {}", a.ips.join(", "))}</span></span>
                                    <button class="btn btn-sm" type="button" aria-label=format!("Add {}", a.name)
                                        on:click=move |_| form.assets.update(|s| if !s.contains(&id) { s.push(id) })>"Add"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </div>
                <div class="picker-column">
                    <h3>{move || format!("Selected Assets ({})", form.assets.with(Vec::len))}</h3>
                    <ul class="pick-rows" aria-label="Selected Assets" data-testid="selected-assets">
                        {move || {
                            let chosen = selected();
                            if chosen.is_empty() {
                                return view! { <li class="muted">"None yet: pick a group or add assets."</li> }.into_any();
                            }
                            chosen.into_iter().map(|a| {
                                let id = a.id;
                                view! {
                                    <li>
                                        <span>{a.name.clone()}<span class="muted mono">{format!(" {}", a.ips.join(", "))}</span></span>
                                        <button class="btn btn-sm" type="button" aria-label=format!("Remove {}", a.name)
                                            on:click=move |_| form.assets.update(|s| s.retain(|x| *x != id))>"Remove"</button>
                                    </li>
                                }
                            }).collect_view().into_any()
                        }}
                    </ul>
                </div>
            </div>
        </section>
    }
}

#[component]
fn VulnerabilityPicker(
    form: TaskForm,
    errors: FormErrors,
    vulnerabilities: Resource<Result<Vec<TaskVulnerability>, AppError>>,
    asset_count: Signal<usize>,
) -> impl IntoView {
    let list = move || vulnerabilities.get().and_then(Result::ok).unwrap_or_default();
    let visible = move || {
        let (tab, severity) = (form.tab.get(), form.severity.get());
        list().into_iter().filter(|v| v.category == tab && severity.is_none_or(|s| v.severity == s)).collect::<Vec<_>>()
    };
    view! {
        <section class="card">
            <h2>"Vulnerability"</h2>
            {move || errors.message("vulnerabilities").get().map(|m| view! { <div class="field-error" role="alert" data-field="vulnerabilities">{m}</div> })}
            <nav class="tabs" aria-label="Vulnerability categories">
                {Category::ALL.iter().copied().map(|c| view! {
                    <button type="button" class="tab" aria-current=move || if form.tab.get() == c { "page" } else { "false" }
                        on:click=move |_| form.tab.set(c)>
                        {move || format!("{} ({})", c.label(), list().iter().filter(|v| v.category == c).count())}
                    </button>
                }).collect_view()}
            </nav>
            <div class="inline-form">
                <div class="field">
                    <label for="severity-filter">"Severity"</label>
                    <select id="severity-filter" on:change=move |ev| form.severity.set(Severity::parse(&event_target_value(&ev)))>
                        <option value="">"All"</option>
                        {Severity::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                    </select>
                </div>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading vulnerabilities…"</p> }>
                <div class="table-wrap">
                    <table class="table" data-testid="task-vulnerabilities">
                        <thead>
                            <tr>
                                <th>
                                    <input type="checkbox" aria-label="Select all"
                                        prop:checked=move || { let v = visible(); !v.is_empty() && form.vulnerabilities.with(|s| v.iter().all(|x| s.contains(&x.vulnerability_id))) }
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            let ids: Vec<i64> = visible().iter().map(|v| v.vulnerability_id).collect();
                                            form.vulnerabilities.update(|s| {
                                                s.retain(|x| !ids.contains(x));
                                                if on {
                                                    s.extend(ids);
                                                }
                                            });
                                        }/>
                                </th>
                                <th>"Vulnerability"</th><th>"Severity"</th><th>"Package"</th><th>"Selected assets affected"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {move || {
                                let rows = visible();
                                if rows.is_empty() {
                                    let message = if asset_count.get() == 0 { "Select assets first." } else { "No unfixed vulnerabilities of this kind on the selected assets." };
                                    return view! { <tr><td colspan="5" class="empty">{message}</td></tr> }.into_any();
                                }
                                rows.into_iter().map(|v| view! {
                                    <tr>
                                        <td><SetCheckbox selected=form.vulnerabilities value=v.vulnerability_id label=String::new()/></td>
                                        <td><span class="mono">{v.advisory_id.clone()}</span><div class="muted">{v.title.clone()}</div></td>
                                        <td><span class=format!("sev sev-{}", v.severity.as_str())>{v.severity.label()}</span></td>
                                        <td class="mono">{v.package.clone()}</td>
                                        <td>{move || format!("{} of {}", v.hosts, asset_count.get())}</td>
                                    </tr>
                                }).collect_view().into_any()
                            }}
                        </tbody>
                    </table>
                </div>
            </Transition>
            <p class="muted">{move || format!("{} selected", form.vulnerabilities.with(Vec::len))}</p>
        </section>
    }
}

#[component]
fn Notifications(form: TaskForm, errors: FormErrors, chatbots: Vec<Chatbot>, add_bot: ServerAction<CreateChatbot>) -> impl IntoView {
    let open = form.bot_dialog;
    let bot_errors = FormErrors::new();
    let bot_error = RwSignal::new(None::<String>);
    let toaster = use_toaster();
    Effect::new(move |previous: Option<()>| {
        let outcome = add_bot.value().get();
        // This component is rebuilt when a chatbot is added: only a new outcome is news.
        let (Some(()), Some(result)) = (previous, outcome) else { return };
        bot_error.set(bot_errors.absorb(&result));
        if let Ok(bot) = result {
            open.set(false);
            form.chatbots.update(|s| if !s.contains(&bot.id) { s.push(bot.id) });
            form.bots_added.update(|n| *n += 1);
            toaster.success(format!("Chatbot \"{}\" added.", bot.name));
        }
    });
    view! {
        <section class="card">
            <h2>"Notification"</h2>
            <h3>"DingTalk Chatbot"</h3>
            {move || errors.message("chatbots").get().map(|m| view! { <div class="field-error" role="alert" data-field="chatbots">{m}</div> })}
            <div class="pick-list" role="group" aria-label="DingTalk Chatbots">
                {if chatbots.is_empty() {
                    view! { <p class="muted">"No chatbots yet."</p> }.into_any()
                } else {
                    chatbots.into_iter().map(|b| view! {
                        <SetCheckbox selected=form.chatbots value=b.id label=chatbot_label(&b)/>
                    }).collect_view().into_any()
                }}
            </div>
            <button class="btn btn-sm" type="button" on:click=move |_| open.set(true)>"Add DingTalk Chatbot"</button>
            <Field label="Email" name="emails" error=errors.message("emails") hint="Addresses separated by commas.">
                <textarea id="emails" rows="2" bind:value=form.emails></textarea>
            </Field>
        </section>
        <Show when=move || open.get()>
            <div class="modal-backdrop" on:click=move |_| open.set(false)>
                <div class="modal" role="dialog" aria-modal="true" aria-label="Add DingTalk Chatbot" on:click=|ev| ev.stop_propagation()>
                    <div class="modal-header"><h2>"Add DingTalk Chatbot"</h2></div>
                    <ActionForm action=add_bot attr:novalidate=true>
                        <div class="modal-body">
                            <Field label="Chatbot name" name="bot-name" error=bot_errors.message("name")>
                                <input id="bot-name" name="input[name]" type="text" maxlength="64"/>
                            </Field>
                            <Field label="Webhook URL" name="bot-webhook" error=bot_errors.message("webhook")
                                hint="The robot's webhook from DingTalk (https://oapi.dingtalk.com/robot/send?access_token=…), or http:// to a gateway on this machine.">
                                <input id="bot-webhook" name="input[webhook]" type="text"/>
                            </Field>
                            <Field label="Signing secret (optional)" name="bot-secret" error=bot_errors.message("secret") hint="The robot's \"Additional signature\" secret (SEC…). Stored encrypted.">
                                <input id="bot-secret" name="input[secret]" type="password" autocomplete="off"/>
                            </Field>
                            <Field label="Keywords (optional)" name="bot-keywords" error=bot_errors.message("keywords") hint="The robot's custom keywords, separated by commas.">
                                <input id="bot-keywords" name="input[keywords]" type="text"/>
                            </Field>
                            <FormError message=bot_error/>
                        </div>
                        <div class="modal-footer">
                            <button class="btn" type="button" on:click=move |_| open.set(false)>"Cancel"</button>
                            <button class="btn btn-primary" type="submit">"Add chatbot"</button>
                        </div>
                    </ActionForm>
                </div>
            </div>
        </Show>
    }
}

fn status_text(t: &TaskRow) -> String {
    match t.status {
        TaskStatus::Completed => format!("Completed — Total: {}; Success: {}; Failed: {}", t.total, t.success, t.failed),
        TaskStatus::Running => format!("Running — {} of {} hosts done", t.success + t.failed, t.total),
        other => other.label().to_string(),
    }
}

#[component]
pub fn TaskManagementPage() -> impl IntoView {
    let retry = ServerAction::<RetryFailedHosts>::new();
    let cancel = ServerAction::<CancelTask>::new();
    let refresh = RwSignal::new(0u32);
    let tasks = Resource::new(move || (retry.version().get(), cancel.version().get(), refresh.get()), |_| list_tasks());
    // Running tasks change by the second: follow them while any is waiting or running.
    refresh_while(tasks, refresh, Duration::from_secs(3), |t| t.iter().any(|t| t.status.is_active()));
    toast_outcome(move || retry.value().get(), "Retrying the failed hosts.", || ());
    toast_outcome(move || cancel.value().get(), "Task cancelled.", || ());
    let asking: Asking = RwSignal::new(None);
    let admin = use_is_admin();
    view! {
        <PlaybookHeader current="/playbook/tasks" title="Task Management"/>
        <FeatureGate feature=Feature::Playbooks>
            <ConfirmDialog
                asking
                title="Cancel task"
                question=|name| format!("Cancel \"{name}\"? Hosts not started yet are skipped; a fix already running on a host finishes there.")
                confirm_label="Cancel task"
                on_confirm=Callback::new(move |id| { cancel.dispatch(CancelTask { id }); })
            />
            <Loaded resource=tasks loading="Loading tasks…" render=move |tasks| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="task-table">
                        <thead><tr><th>"Task Name"</th><th>"Executed Num"</th><th>"Mode"</th><th>"Creation/Completion Time"</th><th>"Status"</th><th></th></tr></thead>
                        <tbody>
                            {rows_or_empty(tasks, 6, "No tasks yet: create one from My Policy.", move |t| {
                                let status = status_text(&t);
                                let can_retry = t.status == TaskStatus::Completed && t.failed > 0;
                                let can_cancel = t.status.is_active();
                                let asked = (t.id, t.name.clone());
                                let id = t.id;
                                view! {
                                    <tr data-task=t.name.clone()>
                                        <td><a href=format!("/playbook/tasks/{}", t.id)>{t.name.clone()}</a><div class="muted">{t.policy_name.clone()}</div></td>
                                        <td>{t.executed_num}</td>
                                        <td>{t.mode()}</td>
                                        <td class="nowrap">{date_time(Some(t.created_at))}<div class="muted">{date_time(t.completed_at)}</div></td>
                                        <td><span class=format!("pill status-{}", t.status.as_str()) data-testid="task-status">{status}</span></td>
                                        <td class="right row-actions">
                                            <a class="btn btn-sm" href=format!("/playbook/tasks/{}", t.id)>"Details"</a>
                                            {move || (admin.get() && can_retry).then(|| view! {
                                                <button class="btn btn-sm" type="button" on:click=move |_| { retry.dispatch(RetryFailedHosts { id }); }>"Retry failed"</button>
                                            })}
                                            {move || (admin.get() && can_cancel).then(|| view! { <AskButton asking item=asked.clone() label="Cancel"/> })}
                                        </td>
                                    </tr>
                                }
                            })}
                        </tbody>
                    </table>
                </div>
            }/>
        </FeatureGate>
    }
}

#[component]
pub fn TaskDetailPage() -> impl IntoView {
    let query = use_query_map();
    let id = use_route_id();
    let run = Memo::new(move |_| query.with(|q| q.get("run").and_then(|v| v.parse::<i64>().ok())));
    let refresh = RwSignal::new(0u32);
    let detail = Resource::new(move || (id.get(), run.get(), refresh.get()), |(id, run, _)| load_by_id(id, move |id| get_task(id, run)));
    refresh_while(detail, refresh, Duration::from_secs(2), |d| d.task.status.is_active());
    view! {
        <FeatureGate feature=Feature::Playbooks>
            <Loaded resource=detail loading="Loading the task…" render=|d: TaskDetail| view! { <TaskDetailBody detail=d/> }/>
        </FeatureGate>
    }
}

#[component]
fn TaskDetailBody(detail: TaskDetail) -> impl IntoView {
    let t = detail.task.clone();
    let task_id = t.id;
    let shown = detail.run;
    view! {
        <div class="page-header">
            <div>
                <h1>{t.name.clone()}</h1>
                <p class="subtitle"><span class=format!("pill status-{}", t.status.as_str()) data-testid="task-status">{status_text(&t)}</span></p>
            </div>
            <div class="page-actions"><a class="btn" href="/playbook/tasks">"‹ Task Management"</a></div>
        </div>
        <PageTabs tabs=PLAYBOOK_TABS current="/playbook/tasks"/>
        <section class="card">
            <h2>"Parameters"</h2>
            <dl class="details">
                <dt>"Policy"</dt><dd>{t.policy_name.clone()}</dd>
                <dt>"Mode"</dt><dd>{t.mode()}</dd>
                <dt>"Execution time"</dt><dd>{format!("{} (account time zone {})", date_time(Some(t.execute_at)), detail.time_zone)}</dd>
                <dt>"Concurrent hosts"</dt><dd>{detail.concurrency}</dd>
                <dt>"Stop after"</dt><dd>{detail.stop_after.map(|n| format!("{n} failed hosts")).unwrap_or_else(|| "Never".into())}</dd>
                <dt>"DingTalk"</dt><dd>{if detail.chatbots.is_empty() { "—".to_string() } else { detail.chatbots.join(", ") }}</dd>
                <dt>"Email"</dt><dd>{if detail.emails.is_empty() { "—".to_string() } else { detail.emails.join(", ") }}</dd>
                <dt>"Vulnerabilities"</dt>
                <dd>{detail.vulnerabilities.iter().map(|v| format!("{} ({})", v.advisory_id, v.package)).collect::<Vec<_>>().join(", ")}</dd>
            </dl>
        </section>
        <section class="card">
            <h2>"Results per host"</h2>
            <nav class="tabs" aria-label="Executions">
                {detail.runs.iter().map(|r| {
                    let current = Some(r.number) == shown;
                    view! {
                        <a class="tab" href=format!("/playbook/tasks/{task_id}?run={}", r.number) aria-current=if current { "page" } else { "false" }>
                            {format!("Execution #{} — {} of {} succeeded", r.number, r.success, r.total)}
                        </a>
                    }
                }).collect_view()}
            </nav>
            <div class="table-wrap">
                <table class="table" data-testid="host-results">
                    <thead><tr><th>"Host"</th><th>"Status"</th><th>"Start"</th><th>"End"</th><th>"Vulnerabilities"</th><th>"Output"</th></tr></thead>
                    <tbody>
                        {rows_or_empty(detail.hosts, 6, "No hosts in this execution.", |h| {
                            let output = h.output.clone();
                            view! {
                                <tr data-host=h.asset_name.clone()>
                                    <td><a href=format!("/assets/{}", h.asset_id)>{h.asset_name.clone()}</a><div class="muted mono">{h.ips.join(", ")}</div></td>
                                    <td>
                                        <span class=format!("pill status-{}", h.status.as_str()) data-testid="host-status">{h.status.label()}</span>
                                        {h.error.clone().map(|e| view! { <div class="error-text" data-testid="host-error">{e}</div> })}
                                    </td>
                                    <td class="nowrap">{date_time(h.started_at)}</td>
                                    <td class="nowrap">{date_time(h.ended_at)}</td>
                                    <td>
                                        <ul class="compact">
                                            {h.items.into_iter().map(|i| view! {
                                                <li>
                                                    <span class="mono">{i.advisory_id}</span>" "{i.package}": "
                                                    <span class=format!("pill status-{}", i.status.as_str())>{i.status.label()}</span>
                                                    {i.error.map(|e| view! { <span class="muted">{format!(" {e}")}</span> })}
                                                </li>
                                            }).collect_view()}
                                        </ul>
                                    </td>
                                    <td>
                                        {(!output.is_empty()).then(|| view! {
                                            <details><summary>"Package manager output"</summary><pre class="output">{output.clone()}</pre></details>
                                        })}
                                    </td>
                                </tr>
                            }
                        })}
                    </tbody>
                </table>
            </div>
        </section>
        {(!detail.notify_log.is_empty()).then(|| view! {
            <section class="card">
                <h2>"Notifications"</h2>
                <pre class="output" data-testid="notify-log">{detail.notify_log.clone()}</pre>
            </section>
        })}
    }
}

/// A robot as the task form lists it: its name, where it posts (admins only) and whether it signs.
fn chatbot_label(bot: &Chatbot) -> String {
    let details: Vec<&str> = [bot.webhook_hint.as_str(), if bot.signed { "signed" } else { "" }].into_iter().filter(|d| !d.is_empty()).collect();
    if details.is_empty() {
        bot.name.clone()
    } else {
        format!("{} ({})", bot.name, details.join(", "))
    }
}
