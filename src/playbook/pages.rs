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
use crate::components::tabs::PageTabs;
use crate::components::form::{submit_checked, watch_form, Field, FormError, FormErrors, SetCheckbox};
use crate::format::date_time;
use crate::auth::gate::FeatureGate;
use crate::components::loaded::{refresh_while, Loaded};
use crate::components::modal::{AskButton, Asking, ConfirmDialog};
use crate::components::table::rows_or_empty;
use crate::components::toast::{toast_outcome, use_toaster};
use crate::error::AppError;
use crate::locale::{fill, Label, Locale, t, td_string, tr, use_i18n};

#[component]
fn PlaybookHeader(current: &'static str, title: Label) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="page-header">
            <div>
                <h1>{move || title(i18n.get_locale())}</h1>
                <p class="subtitle">{tr(i18n, |l| td_string!(l, playbook.subtitle))}</p>
            </div>
        </div>
        <PageTabs tabs=PLAYBOOK_TABS current/>
    }
}

const PLAYBOOK_TABS: &[(&str, Label)] = &[
    ("/playbook/policy-center", |l| td_string!(l, playbook.tabs.policy_center)),
    ("/playbook/my-policy", |l| td_string!(l, playbook.tabs.my_policy)),
    ("/playbook/tasks", |l| td_string!(l, playbook.tabs.task_management)),
];


/// A policy's type in the reader's language (the shipped value translated, anything else as stored).
fn policy_type_in(value: &str, locale: Locale) -> String {
    match value {
        "Vulnerability" => td_string!(locale, playbook.policy_type.vulnerability).to_string(),
        other => other.to_string(),
    }
}

/// A policy's mode in the reader's language (the shipped value translated, anything else as stored).
fn policy_mode_in(value: &str, locale: Locale) -> String {
    match value {
        "Manual" => td_string!(locale, playbook.policy_mode.manual).to_string(),
        other => other.to_string(),
    }
}

/// A policy's name and description in the reader's language: those of the shipped template
/// (which clones copy) are translated, anything else shows as stored.
fn policy_text_in(value: &str, locale: Locale) -> String {
    let shipped = templates();
    match shipped.iter().find(|t| t.key == BATCH_FIX_TEMPLATE) {
        Some(t) if t.name == value => td_string!(locale, playbook.template.batch_fix_name).to_string(),
        Some(t) if t.description == value => td_string!(locale, playbook.template.batch_fix_description).to_string(),
        _ => value.to_string(),
    }
}

/// A task's mode as the tables say it, in the reader's language.
fn mode_in(t: &TaskRow, locale: Locale) -> String {
    let when = if t.custom_time { td_string!(locale, playbook.tasks.mode_custom) } else { td_string!(locale, playbook.tasks.mode_execute) };
    if t.dry_run {
        fill(td_string!(locale, playbook.tasks.mode_dry_run), &[("when", when)])
    } else {
        when.to_string()
    }
}

#[component]
pub fn PolicyCenterPage() -> impl IntoView {
    // Created here, not inside the gate, so the server and the browser create it in the same
    // order; for accounts without the feature the server refuses it and the gate shows why.
    let templates = Resource::new(|| (), |_| list_policy_templates());
    let clone = ServerAction::<ClonePolicy>::new();
    let i18n = use_i18n();
    toast_outcome(move || clone.value().get(), td_string!(i18n.get_locale_untracked(), playbook.center.cloned), || ());
    let admin = use_is_admin();
    view! {
        <PlaybookHeader current="/playbook/policy-center" title=|l| td_string!(l, playbook.center.title)/>
        <FeatureGate feature=Feature::Playbooks>
            <Loaded resource=templates loading=td_string!(i18n.get_locale_untracked(), playbook.center.loading) render=move |templates| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="policy-templates">
                        <thead><tr>
                            <th>{tr(i18n, |l| td_string!(l, playbook.columns.policy_name))}</th>
                            <th>{tr(i18n, |l| td_string!(l, playbook.columns.policy_type))}</th>
                            <th>{tr(i18n, |l| td_string!(l, playbook.columns.mode))}</th>
                            <th>{tr(i18n, |l| td_string!(l, playbook.columns.updated))}</th>
                            <th></th>
                        </tr></thead>
                        <tbody>
                            {templates.into_iter().map(|t| {
                                let key = t.key.clone();
                                let PolicyTemplate { name, description, policy_type, mode, .. } = t.clone();
                                view! {
                                    <tr>
                                        <td>
                                            <strong>{move || policy_text_in(&name, i18n.get_locale())}</strong>
                                            <div class="muted">{move || policy_text_in(&description, i18n.get_locale())}</div>
                                        </td>
                                        <td>{move || policy_type_in(&policy_type, i18n.get_locale())}</td>
                                        <td>{move || policy_mode_in(&mode, i18n.get_locale())}</td>
                                        <td class="nowrap">{date_time(Some(t.updated_at))}</td>
                                        <td class="right">
                                            {move || admin.get().then(|| {
                                                let key = key.clone();
                                                view! {
                                                    <button class="btn btn-sm" type="button" disabled=move || clone.pending().get()
                                                        on:click=move |_| { clone.dispatch(ClonePolicy { template: key.clone() }); }>
                                                        {tr(i18n, |l| td_string!(l, playbook.center.clone))}
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
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    toast_outcome(move || delete.value().get(), td_string!(locale, playbook.policies.deleted), || ());
    let asking: Asking = RwSignal::new(None);
    let admin = use_is_admin();
    view! {
        <PlaybookHeader current="/playbook/my-policy" title=|l| td_string!(l, playbook.policies.title)/>
        <FeatureGate feature=Feature::Playbooks>
            <ConfirmDialog
                asking
                title=td_string!(locale, playbook.policies.delete_title)
                question=|name| fill(td_string!(use_i18n().get_locale(), playbook.policies.delete_question), &[("name", name)])
                confirm_label=td_string!(locale, playbook.policies.delete_confirm)
                on_confirm=Callback::new(move |id| { delete.dispatch(DeletePolicy { id }); })
            />
            <Loaded resource=policies loading=td_string!(locale, playbook.policies.loading) render=move |policies| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="my-policies">
                        <thead><tr>
                            <th>{tr(i18n, |l| td_string!(l, playbook.columns.policy_name))}</th>
                            <th>{tr(i18n, |l| td_string!(l, playbook.columns.policy_type))}</th>
                            <th>{tr(i18n, |l| td_string!(l, playbook.columns.mode))}</th>
                            <th>{tr(i18n, |l| td_string!(l, playbook.columns.updated))}</th>
                            <th></th>
                        </tr></thead>
                        <tbody>
                            {rows_or_empty(policies, 5, td_string!(locale, playbook.policies.empty), move |p| {
                                let asked = (p.id, p.name.clone());
                                let create = format!("/playbook/my-policy/{}/create-task", p.id);
                                let Policy { name, description, policy_type, mode, .. } = p.clone();
                                view! {
                                    <tr>
                                        <td>
                                            <strong>{move || policy_text_in(&name, i18n.get_locale())}</strong>
                                            <div class="muted">{move || policy_text_in(&description, i18n.get_locale())}</div>
                                        </td>
                                        <td>{move || policy_type_in(&policy_type, i18n.get_locale())}</td>
                                        <td>{move || policy_mode_in(&mode, i18n.get_locale())}</td>
                                        <td class="nowrap">{date_time(Some(p.created_at))}<div class="muted">{date_time(Some(p.updated_at))}</div></td>
                                        <td class="right row-actions">
                                            {move || admin.get().then(|| view! {
                                                <a class="btn btn-sm btn-primary" href=create.clone()>{tr(i18n, |l| td_string!(l, playbook.policies.create))}</a>
                                                <AskButton asking item=asked.clone() label=td_string!(locale, playbook.policies.delete)/>
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
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    watch_form(create, errors, form_error, td_string!(locale, playbook.form.created), move |_| navigate("/playbook/tasks", Default::default()));
    let submit = move |_| {
        let Some(policy) = policy_id.get_untracked() else {
            form_error.set(Some(td_string!(i18n.get_locale_untracked(), playbook.form.no_policy).into()));
            return;
        };
        let input = form.input(policy);
        let problems = input.validate(i18n.get_locale_untracked());
        submit_checked(create, input, problems, errors, form_error);
    };
    view! {
        <PlaybookHeader current="/playbook/my-policy" title=|l| td_string!(l, playbook.form.title)/>
        <FeatureGate feature=Feature::Playbooks>
            <Loaded resource=choices loading=td_string!(locale, playbook.form.loading) render=move |c: TaskChoices| view! {
                <section class="card">
                    <h2>{tr(i18n, |l| td_string!(l, playbook.form.task))}</h2>
                    <Field label=td_string!(locale, playbook.form.task_name) name="name" error=errors.message("name")>
                        <input id="name" type="text" maxlength="64" bind:value=form.name/>
                    </Field>
                </section>
                <AssetPicker form errors groups=c.groups.clone() assets=c.assets.clone()/>
                <VulnerabilityPicker form errors vulnerabilities asset_count=Signal::derive(move || form.assets.with(Vec::len))/>
                <Notifications form errors chatbots=c.chatbots.clone() add_bot/>
                <section class="card">
                    <h2>{tr(i18n, |l| td_string!(l, playbook.form.execution))}</h2>
                    <div class="field" role="radiogroup" aria-label=tr(i18n, |l| td_string!(l, playbook.form.execution_time))>
                        <label class="check">
                            <input type="radio" name="execution" prop:checked=move || !form.custom_time.get() on:change=move |_| form.custom_time.set(false)/>
                            {tr(i18n, |l| td_string!(l, playbook.form.execute))}
                        </label>
                        <label class="check">
                            <input type="radio" name="execution" prop:checked=move || form.custom_time.get() on:change=move |_| form.custom_time.set(true)/>
                            {tr(i18n, |l| td_string!(l, playbook.form.custom_time))}
                        </label>
                    </div>
                    <Show when=move || form.custom_time.get()>
                        <Field label=td_string!(locale, playbook.form.date_time) name="execute_at" error=errors.message("execute_at")>
                            <input id="execute_at" type="datetime-local" bind:value=form.execute_at/>
                        </Field>
                    </Show>
                    <p class="muted">{t!(i18n, playbook.form.time_zone, tz = c.time_zone.clone())}</p>
                    <div class="inline-form">
                        <Field label=td_string!(locale, playbook.form.concurrency) name="concurrency" error=errors.message("concurrency")>
                            <input id="concurrency" type="text" inputmode="numeric" size="5" bind:value=form.concurrency/>
                        </Field>
                        <Field label=td_string!(locale, playbook.form.stop_after) name="stop_after" error=errors.message("stop_after")>
                            <input id="stop_after" type="text" inputmode="numeric" size="5" bind:value=form.stop_after/>
                        </Field>
                    </div>
                    <label class="check">
                        <input type="checkbox" bind:checked=form.dry_run/>
                        {tr(i18n, |l| td_string!(l, playbook.form.dry_run))}
                    </label>
                </section>
                <div class="form-actions">
                    <FormError message=form_error/>
                    <a class="btn" href="/playbook/my-policy">{tr(i18n, |l| td_string!(l, playbook.form.cancel))}</a>
                    <button class="btn btn-primary" type="button" disabled=move || create.pending().get() on:click=submit>{tr(i18n, |l| td_string!(l, playbook.form.create))}</button>
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
    let i18n = use_i18n();
    view! {
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, playbook.form.asset_list))}</h2>
            {move || errors.message("assets").get().map(|m| view! { <div class="field-error" role="alert" data-field="assets">{m}</div> })}
            <div class="picker">
                <div class="picker-column">
                    <h3>{tr(i18n, |l| td_string!(l, playbook.form.asset_groups))}</h3>
                    <div class="pick-list" role="group" aria-label=tr(i18n, |l| td_string!(l, playbook.form.asset_groups))>
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
                    <h3>{tr(i18n, |l| td_string!(l, playbook.form.assets))}</h3>
                    <input
                        type="search"
                        placeholder=tr(i18n, |l| td_string!(l, playbook.form.search))
                        aria-label=tr(i18n, |l| td_string!(l, playbook.form.search_label))
                        bind:value=form.search
                    />
                    <ul class="pick-rows" aria-label=tr(i18n, |l| td_string!(l, playbook.form.matching))>
                        {move || matches().into_iter().map(|a| {
                            let id = a.id;
                            view! {
                                <li>
                                    <span>{a.name.clone()}<span class="muted mono">{format!(" {}", a.ips.join(", "))}</span></span>
                                    <button class="btn btn-sm" type="button"
                                        aria-label=fill(td_string!(i18n.get_locale(), playbook.form.add_label), &[("name", &a.name)])
                                        on:click=move |_| form.assets.update(|s| if !s.contains(&id) { s.push(id) })>{tr(i18n, |l| td_string!(l, playbook.form.add))}</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </div>
                <div class="picker-column">
                    <h3>{move || fill(td_string!(i18n.get_locale(), playbook.form.selected_count), &[("count", &form.assets.with(Vec::len).to_string())])}</h3>
                    <ul class="pick-rows" aria-label=tr(i18n, |l| td_string!(l, playbook.form.selected_assets)) data-testid="selected-assets">
                        {move || {
                            let chosen = selected();
                            if chosen.is_empty() {
                                return view! { <li class="muted">{tr(i18n, |l| td_string!(l, playbook.form.none_selected))}</li> }.into_any();
                            }
                            chosen.into_iter().map(|a| {
                                let id = a.id;
                                view! {
                                    <li>
                                        <span>{a.name.clone()}<span class="muted mono">{format!(" {}", a.ips.join(", "))}</span></span>
                                        <button class="btn btn-sm" type="button"
                                            aria-label=fill(td_string!(i18n.get_locale(), playbook.form.remove_label), &[("name", &a.name)])
                                            on:click=move |_| form.assets.update(|s| s.retain(|x| *x != id))>{tr(i18n, |l| td_string!(l, playbook.form.remove))}</button>
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
    let i18n = use_i18n();
    view! {
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, playbook.form.vulnerability))}</h2>
            {move || errors.message("vulnerabilities").get().map(|m| view! { <div class="field-error" role="alert" data-field="vulnerabilities">{m}</div> })}
            <nav class="tabs" aria-label=tr(i18n, |l| td_string!(l, playbook.form.categories))>
                {Category::ALL.iter().copied().map(|c| view! {
                    <button type="button" class="tab" aria-current=move || if form.tab.get() == c { "page" } else { "false" }
                        on:click=move |_| form.tab.set(c)>
                        {move || format!("{} ({})", c.label_in(i18n.get_locale()), list().iter().filter(|v| v.category == c).count())}
                    </button>
                }).collect_view()}
            </nav>
            <div class="inline-form">
                <div class="field">
                    <label for="severity-filter">{tr(i18n, |l| td_string!(l, playbook.form.severity))}</label>
                    <select id="severity-filter" on:change=move |ev| form.severity.set(Severity::parse(&event_target_value(&ev)))>
                        <option value="">{tr(i18n, |l| td_string!(l, playbook.form.all))}</option>
                        {Severity::ALL.iter().map(|s| {
                            let s = *s;
                            view! { <option value=s.as_str()>{move || s.label_in(i18n.get_locale())}</option> }
                        }).collect_view()}
                    </select>
                </div>
            </div>
            <Transition fallback=move || view! { <p class="muted">{tr(i18n, |l| td_string!(l, playbook.form.loading_vulnerabilities))}</p> }>
                <div class="table-wrap">
                    <table class="table" data-testid="task-vulnerabilities">
                        <thead>
                            <tr>
                                <th>
                                    <input type="checkbox" aria-label=tr(i18n, |l| td_string!(l, playbook.form.select_all))
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
                                <th>{tr(i18n, |l| td_string!(l, playbook.form.col_vulnerability))}</th>
                                <th>{tr(i18n, |l| td_string!(l, playbook.form.col_severity))}</th>
                                <th>{tr(i18n, |l| td_string!(l, playbook.form.col_package))}</th>
                                <th>{tr(i18n, |l| td_string!(l, playbook.form.col_affected))}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {move || {
                                let rows = visible();
                                if rows.is_empty() {
                                    let locale = i18n.get_locale();
                                    let message = if asset_count.get() == 0 {
                                        td_string!(locale, playbook.form.select_assets_first)
                                    } else {
                                        td_string!(locale, playbook.form.no_vulnerabilities)
                                    };
                                    return view! { <tr><td colspan="5" class="empty">{message}</td></tr> }.into_any();
                                }
                                rows.into_iter().map(|v| view! {
                                    <tr>
                                        <td><SetCheckbox selected=form.vulnerabilities value=v.vulnerability_id label=String::new()/></td>
                                        <td><span class="mono">{v.advisory_id.clone()}</span><div class="muted">{v.title.clone()}</div></td>
                                        <td><span class=format!("sev sev-{}", v.severity.as_str())>{let s = v.severity; move || s.label_in(i18n.get_locale())}</span></td>
                                        <td class="mono">{v.package.clone()}</td>
                                        <td>{move || fill(td_string!(i18n.get_locale(), playbook.form.affected), &[("hosts", &v.hosts.to_string()), ("total", &asset_count.get().to_string())])}</td>
                                    </tr>
                                }).collect_view().into_any()
                            }}
                        </tbody>
                    </table>
                </div>
            </Transition>
            <p class="muted">{move || fill(td_string!(i18n.get_locale(), playbook.form.selected), &[("count", &form.vulnerabilities.with(Vec::len).to_string())])}</p>
        </section>
    }
}

#[component]
fn Notifications(form: TaskForm, errors: FormErrors, chatbots: Vec<Chatbot>, add_bot: ServerAction<CreateChatbot>) -> impl IntoView {
    let open = form.bot_dialog;
    let bot_errors = FormErrors::new();
    let bot_error = RwSignal::new(None::<String>);
    let toaster = use_toaster();
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    Effect::new(move |previous: Option<()>| {
        let outcome = add_bot.value().get();
        // This component is rebuilt when a chatbot is added: only a new outcome is news.
        let (Some(()), Some(result)) = (previous, outcome) else { return };
        bot_error.set(bot_errors.absorb(&result));
        if let Ok(bot) = result {
            open.set(false);
            form.chatbots.update(|s| if !s.contains(&bot.id) { s.push(bot.id) });
            form.bots_added.update(|n| *n += 1);
            toaster.success(fill(td_string!(i18n.get_locale_untracked(), playbook.form.chatbot_added), &[("name", &bot.name)]));
        }
    });
    view! {
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, playbook.form.notification))}</h2>
            <h3>{tr(i18n, |l| td_string!(l, playbook.form.dingtalk_chatbot))}</h3>
            {move || errors.message("chatbots").get().map(|m| view! { <div class="field-error" role="alert" data-field="chatbots">{m}</div> })}
            <div class="pick-list" role="group" aria-label=tr(i18n, |l| td_string!(l, playbook.form.dingtalk_chatbots))>
                {if chatbots.is_empty() {
                    view! { <p class="muted">{tr(i18n, |l| td_string!(l, playbook.form.no_chatbots))}</p> }.into_any()
                } else {
                    chatbots.into_iter().map(|b| view! {
                        <SetCheckbox selected=form.chatbots value=b.id label=chatbot_label(&b, locale)/>
                    }).collect_view().into_any()
                }}
            </div>
            <button class="btn btn-sm" type="button" on:click=move |_| open.set(true)>{tr(i18n, |l| td_string!(l, playbook.form.add_chatbot))}</button>
            <Field
                label=td_string!(locale, playbook.form.email)
                name="emails"
                error=errors.message("emails")
                hint=td_string!(locale, playbook.form.email_hint)
            >
                <textarea id="emails" rows="2" bind:value=form.emails></textarea>
            </Field>
        </section>
        <Show when=move || open.get()>
            <div class="modal-backdrop" on:click=move |_| open.set(false)>
                <div class="modal" role="dialog" aria-modal="true" aria-label=tr(i18n, |l| td_string!(l, playbook.bot.title)) on:click=|ev| ev.stop_propagation()>
                    <div class="modal-header"><h2>{tr(i18n, |l| td_string!(l, playbook.bot.title))}</h2></div>
                    <ActionForm action=add_bot attr:novalidate=true>
                        <div class="modal-body">
                            <Field label=td_string!(locale, playbook.bot.name) name="bot-name" error=bot_errors.message("name")>
                                <input id="bot-name" name="input[name]" type="text" maxlength="64"/>
                            </Field>
                            <Field label=td_string!(locale, playbook.bot.webhook) name="bot-webhook" error=bot_errors.message("webhook")
                                hint=td_string!(locale, playbook.bot.webhook_hint)>
                                <input id="bot-webhook" name="input[webhook]" type="text"/>
                            </Field>
                            <Field label=td_string!(locale, playbook.bot.secret) name="bot-secret" error=bot_errors.message("secret") hint=td_string!(locale, playbook.bot.secret_hint)>
                                <input id="bot-secret" name="input[secret]" type="password" autocomplete="off"/>
                            </Field>
                            <Field label=td_string!(locale, playbook.bot.keywords) name="bot-keywords" error=bot_errors.message("keywords") hint=td_string!(locale, playbook.bot.keywords_hint)>
                                <input id="bot-keywords" name="input[keywords]" type="text"/>
                            </Field>
                            <FormError message=bot_error/>
                        </div>
                        <div class="modal-footer">
                            <button class="btn" type="button" on:click=move |_| open.set(false)>{tr(i18n, |l| td_string!(l, playbook.bot.cancel))}</button>
                            <button class="btn btn-primary" type="submit">{tr(i18n, |l| td_string!(l, playbook.bot.add))}</button>
                        </div>
                    </ActionForm>
                </div>
            </div>
        </Show>
    }
}

fn status_text(t: &TaskRow, locale: Locale) -> String {
    match t.status {
        TaskStatus::Completed => {
            fill(td_string!(locale, playbook.tasks.completed), &[("total", &t.total.to_string()), ("success", &t.success.to_string()), ("failed", &t.failed.to_string())])
        }
        TaskStatus::Running => fill(td_string!(locale, playbook.tasks.running), &[("done", &(t.success + t.failed).to_string()), ("total", &t.total.to_string())]),
        other => other.label_in(locale).to_string(),
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
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    toast_outcome(move || retry.value().get(), td_string!(locale, playbook.tasks.retrying), || ());
    toast_outcome(move || cancel.value().get(), td_string!(locale, playbook.tasks.cancelled), || ());
    let asking: Asking = RwSignal::new(None);
    let admin = use_is_admin();
    view! {
        <PlaybookHeader current="/playbook/tasks" title=|l| td_string!(l, playbook.tasks.title)/>
        <FeatureGate feature=Feature::Playbooks>
            <ConfirmDialog
                asking
                title=td_string!(locale, playbook.tasks.cancel_title)
                question=|name| fill(td_string!(use_i18n().get_locale(), playbook.tasks.cancel_question), &[("name", name)])
                confirm_label=td_string!(locale, playbook.tasks.cancel_confirm)
                on_confirm=Callback::new(move |id| { cancel.dispatch(CancelTask { id }); })
            />
            <Loaded resource=tasks loading=td_string!(locale, playbook.tasks.loading) render=move |tasks| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="task-table">
                        <thead><tr>
                            <th>{tr(i18n, |l| td_string!(l, playbook.tasks.col_name))}</th>
                            <th>{tr(i18n, |l| td_string!(l, playbook.tasks.col_executed))}</th>
                            <th>{tr(i18n, |l| td_string!(l, playbook.tasks.col_mode))}</th>
                            <th>{tr(i18n, |l| td_string!(l, playbook.tasks.col_time))}</th>
                            <th>{tr(i18n, |l| td_string!(l, playbook.tasks.col_status))}</th>
                            <th></th>
                        </tr></thead>
                        <tbody>
                            {rows_or_empty(tasks, 6, td_string!(locale, playbook.tasks.empty), move |t| {
                                let row = t.clone();
                                let status = move || status_text(&row, i18n.get_locale());
                                let row = t.clone();
                                let mode = move || mode_in(&row, i18n.get_locale());
                                let can_retry = t.status == TaskStatus::Completed && t.failed > 0;
                                let can_cancel = t.status.is_active();
                                let asked = (t.id, t.name.clone());
                                let id = t.id;
                                view! {
                                    <tr data-task=t.name.clone()>
                                        <td><a href=format!("/playbook/tasks/{}", t.id)>{t.name.clone()}</a><div class="muted">{let p = t.policy_name.clone(); move || policy_text_in(&p, i18n.get_locale())}</div></td>
                                        <td>{t.executed_num}</td>
                                        <td>{mode}</td>
                                        <td class="nowrap">{date_time(Some(t.created_at))}<div class="muted">{date_time(t.completed_at)}</div></td>
                                        <td><span class=format!("pill status-{}", t.status.as_str()) data-testid="task-status">{status}</span></td>
                                        <td class="right row-actions">
                                            <a class="btn btn-sm" href=format!("/playbook/tasks/{}", t.id)>{tr(i18n, |l| td_string!(l, playbook.tasks.details))}</a>
                                            {move || (admin.get() && can_retry).then(|| view! {
                                                <button class="btn btn-sm" type="button" on:click=move |_| { retry.dispatch(RetryFailedHosts { id }); }>{tr(i18n, |l| td_string!(l, playbook.tasks.retry))}</button>
                                            })}
                                            {move || (admin.get() && can_cancel).then(|| view! { <AskButton asking item=asked.clone() label=td_string!(locale, playbook.tasks.cancel)/> })}
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
    let i18n = use_i18n();
    view! {
        <FeatureGate feature=Feature::Playbooks>
            <Loaded resource=detail loading=td_string!(i18n.get_locale_untracked(), playbook.detail.loading) render=|d: TaskDetail| view! { <TaskDetailBody detail=d/> }/>
        </FeatureGate>
    }
}

#[component]
fn TaskDetailBody(detail: TaskDetail) -> impl IntoView {
    let t = detail.task.clone();
    let task_id = t.id;
    let shown = detail.run;
    let i18n = use_i18n();
    let status = {
        let t = t.clone();
        move || status_text(&t, i18n.get_locale())
    };
    let mode = {
        let t = t.clone();
        move || mode_in(&t, i18n.get_locale())
    };
    let execute_at = date_time(Some(t.execute_at));
    let time_zone = detail.time_zone.clone();
    let stop_after = detail.stop_after;
    view! {
        <div class="page-header">
            <div>
                <h1>{t.name.clone()}</h1>
                <p class="subtitle"><span class=format!("pill status-{}", t.status.as_str()) data-testid="task-status">{status}</span></p>
            </div>
            <div class="page-actions"><a class="btn" href="/playbook/tasks">{tr(i18n, |l| td_string!(l, playbook.detail.back))}</a></div>
        </div>
        <PageTabs tabs=PLAYBOOK_TABS current="/playbook/tasks"/>
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, playbook.detail.parameters))}</h2>
            <dl class="details">
                <dt>{tr(i18n, |l| td_string!(l, playbook.detail.policy))}</dt><dd>{let p = t.policy_name.clone(); move || policy_text_in(&p, i18n.get_locale())}</dd>
                <dt>{tr(i18n, |l| td_string!(l, playbook.detail.mode))}</dt><dd>{mode}</dd>
                <dt>{tr(i18n, |l| td_string!(l, playbook.detail.execution_time))}</dt>
                <dd>{move || fill(td_string!(i18n.get_locale(), playbook.detail.execute_at), &[("time", &execute_at), ("tz", &time_zone)])}</dd>
                <dt>{tr(i18n, |l| td_string!(l, playbook.detail.concurrency))}</dt><dd>{detail.concurrency}</dd>
                <dt>{tr(i18n, |l| td_string!(l, playbook.detail.stop_after))}</dt>
                <dd>{move || match stop_after {
                    Some(n) => fill(td_string!(i18n.get_locale(), playbook.detail.stop_after_value), &[("count", &n.to_string())]),
                    None => td_string!(i18n.get_locale(), playbook.detail.never).to_string(),
                }}</dd>
                <dt>{tr(i18n, |l| td_string!(l, playbook.detail.dingtalk))}</dt><dd>{if detail.chatbots.is_empty() { "—".to_string() } else { detail.chatbots.join(", ") }}</dd>
                <dt>{tr(i18n, |l| td_string!(l, playbook.detail.email))}</dt><dd>{if detail.emails.is_empty() { "—".to_string() } else { detail.emails.join(", ") }}</dd>
                <dt>{tr(i18n, |l| td_string!(l, playbook.detail.vulnerabilities))}</dt>
                <dd>{detail.vulnerabilities.iter().map(|v| format!("{} ({})", v.advisory_id, v.package)).collect::<Vec<_>>().join(", ")}</dd>
            </dl>
        </section>
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, playbook.detail.results))}</h2>
            <nav class="tabs" aria-label=tr(i18n, |l| td_string!(l, playbook.detail.executions))>
                {detail.runs.iter().map(|r| {
                    let current = Some(r.number) == shown;
                    view! {
                        <a class="tab" href=format!("/playbook/tasks/{task_id}?run={}", r.number) aria-current=if current { "page" } else { "false" }>
                            {t!(i18n, playbook.detail.execution, number = r.number, success = r.success, total = r.total)}
                        </a>
                    }
                }).collect_view()}
            </nav>
            <div class="table-wrap">
                <table class="table" data-testid="host-results">
                    <thead><tr>
                        <th>{tr(i18n, |l| td_string!(l, playbook.detail.col_host))}</th>
                        <th>{tr(i18n, |l| td_string!(l, playbook.detail.col_status))}</th>
                        <th>{tr(i18n, |l| td_string!(l, playbook.detail.col_start))}</th>
                        <th>{tr(i18n, |l| td_string!(l, playbook.detail.col_end))}</th>
                        <th>{tr(i18n, |l| td_string!(l, playbook.detail.col_vulnerabilities))}</th>
                        <th>{tr(i18n, |l| td_string!(l, playbook.detail.col_output))}</th>
                    </tr></thead>
                    <tbody>
                        {rows_or_empty(detail.hosts, 6, td_string!(i18n.get_locale_untracked(), playbook.detail.empty), move |h| {
                            let output = h.output.clone();
                            view! {
                                <tr data-host=h.asset_name.clone()>
                                    <td><a href=format!("/assets/{}", h.asset_id)>{h.asset_name.clone()}</a><div class="muted mono">{h.ips.join(", ")}</div></td>
                                    <td>
                                        <span class=format!("pill status-{}", h.status.as_str()) data-testid="host-status">{let s = h.status; move || s.label_in(i18n.get_locale())}</span>
                                        {h.error.clone().map(|e| view! { <div class="error-text" data-testid="host-error">{e}</div> })}
                                    </td>
                                    <td class="nowrap">{date_time(h.started_at)}</td>
                                    <td class="nowrap">{date_time(h.ended_at)}</td>
                                    <td>
                                        <ul class="compact">
                                            {h.items.into_iter().map(|i| view! {
                                                <li>
                                                    <span class="mono">{i.advisory_id}</span>" "{i.package}": "
                                                    <span class=format!("pill status-{}", i.status.as_str())>{let s = i.status; move || s.label_in(i18n.get_locale())}</span>
                                                    {i.error.map(|e| view! { <span class="muted">{format!(" {e}")}</span> })}
                                                </li>
                                            }).collect_view()}
                                        </ul>
                                    </td>
                                    <td>
                                        {(!output.is_empty()).then(|| view! {
                                            <details><summary>{tr(i18n, |l| td_string!(l, playbook.detail.output))}</summary><pre class="output">{output.clone()}</pre></details>
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
                <h2>{tr(i18n, |l| td_string!(l, playbook.detail.notifications))}</h2>
                <pre class="output" data-testid="notify-log">{detail.notify_log.clone()}</pre>
            </section>
        })}
    }
}

/// A robot as the task form lists it: its name, where it posts (admins only) and whether it signs.
fn chatbot_label(bot: &Chatbot, locale: Locale) -> String {
    let details: Vec<&str> = [bot.webhook_hint.as_str(), if bot.signed { td_string!(locale, playbook.form.signed) } else { "" }].into_iter().filter(|d| !d.is_empty()).collect();
    if details.is_empty() {
        bot.name.clone()
    } else {
        format!("{} ({})", bot.name, details.join(", "))
    }
}

