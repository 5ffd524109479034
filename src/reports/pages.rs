//! The Reports pages: the list with its filters, the two-step wizard (create, edit, clone),
//! a report's delivery history, and an archived report.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use super::api::*;
use super::document::{ArchivedReport, ReportDocument, COUNTING_NOTES, COUNTING_TITLE};
use super::model::*;
use crate::auth::context::{use_is_admin, use_me};
use crate::editions::Feature;
use crate::components::route::{load_by_id, use_route_id};
use crate::components::form::{Field, FormError, FormErrors, SetCheckbox};
use crate::format::date_time;
use crate::auth::gate::FeatureGate;
use crate::components::loaded::Loaded;
use crate::components::modal::{AskButton, Asking, ConfirmDialog};
use crate::components::table::{rows_or_empty, Pagination};
use crate::components::toast::{toast_outcome, use_toaster};
use crate::components::toggle::Toggle;
use crate::error::AppError;
use crate::locale::{fill, language_name, Label, Locale, t, td_string, tr, use_i18n};

const LIST: &str = "/operation/reports";

#[component]
fn ReportsHeader(#[prop(into)] title: Signal<String>, #[prop(optional, into)] subtitle: Signal<String>, #[prop(optional)] children: Option<Children>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="page-header">
            <div>
                <nav class="breadcrumbs" aria-label=tr(i18n, |l| td_string!(l, reports.breadcrumbs))>
                    <a href=LIST>{tr(i18n, |l| td_string!(l, reports.reports))}</a>
                </nav>
                <h1>{move || title.get()}</h1>
                {move || {
                    let subtitle = subtitle.get();
                    (!subtitle.is_empty()).then(|| view! { <p class="subtitle">{subtitle}</p> })
                }}
            </div>
            <div class="page-actions">{children.map(|c| c())}</div>
        </div>
    }
}

#[component]
pub fn ReportListPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|q| (q.get("status").unwrap_or_default(), q.get("type").unwrap_or_default(), q.get("name").unwrap_or_default()))
    });
    let toggle = ServerAction::<SetReportEnabled>::new();
    let delete = ServerAction::<DeleteReport>::new();
    let send = ServerAction::<SendReportNow>::new();
    let reports = Resource::new(
        move || (filters.get(), toggle.version().get(), delete.version().get(), send.version().get()),
        |((status, kind, name), _, _, _)| list_reports(status, kind, name),
    );
    let toaster = use_toaster();
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    toast_outcome(move || toggle.value().get(), td_string!(locale, reports.list.updated), || ());
    toast_outcome(move || delete.value().get(), td_string!(locale, reports.list.deleted), || ());
    Effect::new(move |_| {
        let outcome = send.value().get();
        let locale = i18n.get_locale_untracked();
        match outcome {
            Some(Err(e)) => toaster.error(e.to_string()),
            Some(Ok(outcome)) => match outcome.status {
                DeliveryStatus::Sent => {
                    toaster.success(fill(td_string!(locale, reports.list.sent_to), &[("recipients", &outcome.recipients.join(", "))]))
                }
                DeliveryStatus::Retrying => {
                    toaster.error(fill(td_string!(locale, reports.list.retrying), &[("reply", &outcome.server_reply)]))
                }
                DeliveryStatus::Sending => toaster.success(td_string!(locale, reports.list.sending)),
                _ => toaster.error(fill(td_string!(locale, reports.list.not_sent), &[("reply", &outcome.server_reply)])),
            },
            None => {}
        }
    });
    let deleting: Asking = RwSignal::new(None);
    let me = use_me();
    view! {
        <ReportsHeader
            title=Signal::derive(move || td_string!(i18n.get_locale(), reports.list.title).to_string())
            subtitle=Signal::derive(move || td_string!(i18n.get_locale(), reports.list.subtitle).to_string())
        >
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let admin = me.await.map(|m| m.is_admin()).unwrap_or(false);
                    view! {
                        <a class="btn" href="/operation/reports/archive">{tr(i18n, |l| td_string!(l, reports.list.archive))}</a>
                        {admin.then(|| view! { <a class="btn btn-primary" href="/operation/reports/new">{tr(i18n, |l| td_string!(l, reports.list.create))}</a> })}
                    }
                })}
            </Transition>
        </ReportsHeader>
        <FeatureGate feature=Feature::SecurityReports>
            <ConfirmDialog
                asking=deleting
                title=td_string!(locale, reports.list.delete_title)
                question=|name| fill(td_string!(use_i18n().get_locale(), reports.list.delete_question), &[("name", name)])
                confirm_label=td_string!(locale, reports.list.delete_confirm)
                on_confirm=Callback::new(move |id| {
                    delete.dispatch(DeleteReport { id });
                })
            />
            <form class="toolbar" method="get" action=LIST role="search">
                <select name="status" aria-label=tr(i18n, |l| td_string!(l, reports.list.status)) prop:value=move || filters.get().0>
                    <option value="">{tr(i18n, |l| td_string!(l, reports.list.all_statuses))}</option>
                    <option value="enabled">{tr(i18n, |l| td_string!(l, reports.list.enabled))}</option>
                    <option value="disabled">{tr(i18n, |l| td_string!(l, reports.list.disabled))}</option>
                </select>
                <select name="type" aria-label=tr(i18n, |l| td_string!(l, reports.list.type_label)) prop:value=move || filters.get().1>
                    <option value="">{tr(i18n, |l| td_string!(l, reports.list.all_types))}</option>
                    {ReportKind::ALL.iter().map(|k| {
                        let k = *k;
                        view! { <option value=k.as_str()>{move || k.label_in(i18n.get_locale())}</option> }
                    }).collect_view()}
                </select>
                <input
                    type="search"
                    name="name"
                    placeholder=tr(i18n, |l| td_string!(l, reports.list.name))
                    aria-label=tr(i18n, |l| td_string!(l, reports.list.name))
                    value=move || filters.get().2
                />
                <button class="btn" type="submit">{tr(i18n, |l| td_string!(l, reports.list.filter))}</button>
                {move || {
                    let (s, k, n) = filters.get();
                    (!(s.is_empty() && k.is_empty() && n.is_empty())).then(|| view! { <a class="btn btn-link" href=LIST>{tr(i18n, |l| td_string!(l, reports.list.clear))}</a> })
                }}
            </form>
            <Loaded resource=reports loading=td_string!(locale, reports.list.loading) render=move |list: ReportList| {
                view! { <ReportTable list deleting toggle send/> }
            }/>
        </FeatureGate>
    }
}

#[component]
fn ReportTable(
    list: ReportList,
    deleting: Asking,
    toggle: ServerAction<SetReportEnabled>,
    send: ServerAction<SendReportNow>,
) -> impl IntoView {
    let admin = use_is_admin();
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let tz = list.time_zone.clone();
    view! {
        {list.outbox_mode.then(|| view! {
            <div class="notice notice-info" data-testid="outbox-notice">
                {tr(i18n, |l| td_string!(l, reports.list.outbox_before))}
                <a href="/settings/email">{tr(i18n, |l| td_string!(l, reports.list.outbox_link))}</a>{tr(i18n, |l| td_string!(l, reports.list.outbox_after))}
            </div>
        })}
        <div class="table-wrap">
            <table class="table" data-testid="report-table">
                <thead>
                    <tr>
                        <th>{tr(i18n, |l| td_string!(l, reports.list.col_name))}</th>
                        <th>{tr(i18n, |l| td_string!(l, reports.list.col_type))}</th>
                        <th>{tr(i18n, |l| td_string!(l, reports.list.col_period))}</th>
                        <th>{tr(i18n, |l| td_string!(l, reports.list.col_time))}</th>
                        <th>{tr(i18n, |l| td_string!(l, reports.list.col_recipients))}</th>
                        <th>{tr(i18n, |l| td_string!(l, reports.list.col_sections))}</th>
                        <th>{tr(i18n, |l| td_string!(l, reports.list.col_next))}</th>
                        <th>{tr(i18n, |l| td_string!(l, reports.list.col_enabled))}</th>
                        <th class="right">{tr(i18n, |l| td_string!(l, reports.list.col_actions))}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows_or_empty(list.reports, 9, td_string!(locale, reports.list.empty), move |r| {
                        let id = r.id;
                        let asked = (r.id, r.name.clone());
                        let enabled = r.enabled;
                        let name = r.name.clone();
                        let no_recipients = r.recipients.is_empty();
                        view! {
                            <tr data-report=r.name.clone()>
                                <td>
                                    <a href=format!("{LIST}/{id}/history")>{r.name.clone()}</a>
                                    {r.is_default.then(|| view! { <span class="badge">{tr(i18n, |l| td_string!(l, reports.list.default))}</span> })}
                                    {(r.scope != ReportScope::ThisAccount).then(|| {
                                        let (scope, chosen) = (r.scope, r.scope_accounts.len());
                                        view! {
                                            <div class="muted small" data-testid="report-scope">{move || match scope {
                                                ReportScope::Chosen => fill(td_string!(i18n.get_locale(), reports.list.scope_chosen), &[("count", &chosen.to_string())]),
                                                _ => td_string!(i18n.get_locale(), reports.list.scope_all).to_string(),
                                            }}</div>
                                        }
                                    })}
                                </td>
                                <td>{let kind = r.kind; move || kind.label_in(i18n.get_locale())}</td>
                                <td>{let report = r.clone(); move || period_in(&report, i18n.get_locale())}</td>
                                <td>{format!("{} ({})", r.window.label(), tz)}</td>
                                <td class="recipients">
                                    {if no_recipients {
                                        view! { <span class="warning-text">{tr(i18n, |l| td_string!(l, reports.list.no_recipients))}</span> }.into_any()
                                    } else {
                                        r.recipients.join(", ").into_any()
                                    }}
                                </td>
                                <td class="sections">{
                                    let sections = r.sections.clone();
                                    move || {
                                        let locale = i18n.get_locale();
                                        if sections.len() == Section::ALL.len() {
                                            td_string!(locale, reports.list.all_sections).to_string()
                                        } else {
                                            sections.iter().map(|s| s.short_label_in(locale)).collect::<Vec<_>>().join(", ")
                                        }
                                    }
                                }</td>
                                <td>
                                    {r.next_send_at.map(|t| date_time(Some(t))).unwrap_or_else(|| "—".into())}
                                    {r.next_period.clone().map(|p| view! { <div class="muted small">{t!(i18n, reports.list.next_data, period = p.clone())}</div> })}
                                </td>
                                <td>
                                    <Toggle
                                        checked=enabled
                                        label=fill(td_string!(locale, reports.list.enable), &[("name", &name)])
                                        disabled=Signal::derive(move || !admin.get())
                                        on_change=Callback::new(move |on| {
                                            toggle.dispatch(SetReportEnabled { id, enabled: on });
                                        })
                                    />
                                </td>
                                <td class="right actions">
                                    <Show when=move || admin.get()>
                                        <a class="btn btn-sm" href=format!("{LIST}/{id}/edit")>{tr(i18n, |l| td_string!(l, reports.list.edit))}</a>
                                        <a class="btn btn-sm" href=format!("{LIST}/new?from={id}")>{tr(i18n, |l| td_string!(l, reports.list.clone))}</a>
                                        <button
                                            class="btn btn-sm"
                                            type="button"
                                            disabled=move || no_recipients || send.pending().get()
                                            title=move || if no_recipients {
                                                td_string!(i18n.get_locale(), reports.list.add_recipients_first)
                                            } else {
                                                td_string!(i18n.get_locale(), reports.list.send_now_title)
                                            }
                                            on:click=move |_| {
                                                send.dispatch(SendReportNow { id });
                                            }
                                        >
                                            {tr(i18n, |l| td_string!(l, reports.list.send_now))}
                                        </button>
                                        {(!r.is_default).then(|| view! { <AskButton asking=deleting item=asked.clone() label=td_string!(locale, reports.list.delete)/> })}
                                    </Show>
                                    <a class="btn btn-sm" href=format!("{LIST}/{id}/history")>{tr(i18n, |l| td_string!(l, reports.list.history))}</a>
                                </td>
                            </tr>
                        }
                    })}
                </tbody>
            </table>
        </div>
        <p class="muted small">{t!(i18n, reports.list.count, total = list.total, max = MAX_EXTRA_REPORTS + 1, extra = MAX_EXTRA_REPORTS)}</p>
    }
}

/// Create (optionally cloned from `?from=`) or edit (`/:id/edit`) a report.
#[component]
pub fn ReportWizardPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let editing = params.with_untracked(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let cloning = query.with_untracked(|q| q.get("from").and_then(|id| id.parse::<i64>().ok()));
    let source = Resource::new(
        move || editing.or(cloning),
        |id| async move {
            let report = match id {
                Some(id) => Some(get_report(id).await?),
                None => None,
            };
            Ok::<_, AppError>((report, list_report_accounts().await?))
        },
    );
    let i18n = use_i18n();
    let title = Signal::derive(move || {
        let locale = i18n.get_locale();
        match (editing, cloning) {
            (Some(_), _) => td_string!(locale, reports.wizard.edit_title),
            (None, Some(_)) => td_string!(locale, reports.wizard.clone_title),
            _ => td_string!(locale, reports.wizard.create_title),
        }
        .to_string()
    });
    let render = move |(report, accounts): (Option<Report>, Vec<(i64, String)>)| {
                let copy = |name: &str| fill(td_string!(i18n.get_locale_untracked(), reports.wizard.copy), &[("name", name)]);
                let (initial, is_default) = match (&report, editing) {
                    (Some(r), Some(_)) => (r.to_input(), r.is_default),
                    (Some(r), None) => (ReportInput { name: copy(&r.name), ..r.to_input() }, false),
                    (None, _) => (
                        ReportInput {
                            kind: "weekly".into(),
                            window: "06-12".into(),
                            sections: Section::ALL.iter().map(|s| s.as_str().to_string()).collect(),
                            ..Default::default()
                        },
                        false,
                    ),
                };
                view! { <ReportWizard initial editing is_default accounts/> }
    };
    view! {
        <ReportsHeader title=title/>
        <FeatureGate feature=Feature::SecurityReports>
            <Loaded resource=source loading=td_string!(i18n.get_locale_untracked(), reports.wizard.loading) render/>
        </FeatureGate>
    }
}

#[component]
fn ReportWizard(initial: ReportInput, editing: Option<i64>, is_default: bool, accounts: Vec<(i64, String)>) -> impl IntoView {
    let step = RwSignal::new(1u8);
    let name = RwSignal::new(initial.name.clone());
    let kind = RwSignal::new(initial.kind.clone());
    let custom_start = RwSignal::new(initial.custom_start.clone());
    let custom_end = RwSignal::new(initial.custom_end.clone());
    let window = RwSignal::new(initial.window.clone());
    let recipients = RwSignal::new(initial.recipients.clone());
    let sections = RwSignal::new(initial.sections.clone());
    let scope = RwSignal::new(if initial.scope.is_empty() { "self".to_string() } else { initial.scope.clone() });
    let scope_accounts = RwSignal::new(initial.scope_accounts.clone());
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    let create = ServerAction::<CreateReport>::new();
    let update = ServerAction::<UpdateReport>::new();
    let input = move || ReportInput {
        name: name.get(),
        kind: kind.get(),
        custom_start: custom_start.get(),
        custom_end: custom_end.get(),
        window: window.get(),
        recipients: recipients.get(),
        sections: sections.get(),
        scope: scope.get(),
        scope_accounts: scope_accounts.get(),
    };
    let toaster = use_toaster();
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let navigate = use_navigate();
    let finished = move |result: Result<(), AppError>| {
        form_error.set(errors.absorb(&result));
        match result {
            Ok(()) => {
                let locale = i18n.get_locale_untracked();
                toaster.success(if editing.is_some() {
                    td_string!(locale, reports.wizard.saved)
                } else {
                    td_string!(locale, reports.wizard.created)
                });
                navigate(LIST, Default::default());
            }
            Err(AppError::Validation(fields)) => {
                if fields.keys().any(|k| k != "sections") {
                    step.set(1);
                }
            }
            Err(_) => {}
        }
    };
    let done = finished.clone();
    Effect::new(move |_| {
        if let Some(result) = create.value().get() {
            done(result.map(|_| ()));
        }
    });
    Effect::new(move |_| {
        if let Some(result) = update.value().get() {
            finished(result);
        }
    });
    let next = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let found = input().validate_basics(!is_default, i18n.get_locale_untracked());
        errors.0.set(found.clone());
        if found.is_empty() {
            step.set(2);
        }
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let report = input();
        let found = report.validate_sections(i18n.get_locale_untracked());
        errors.0.set(found.clone());
        if !found.is_empty() {
            return;
        }
        match editing {
            Some(id) => {
                update.dispatch(UpdateReport { id, report });
            }
            None => {
                create.dispatch(CreateReport { report });
            }
        }
    };
    let pending = Signal::derive(move || create.pending().get() || update.pending().get());
    let toggle_section = move |value: &'static str, on: bool| {
        sections.update(|list| {
            list.retain(|s| s != value);
            if on {
                list.push(value.to_string());
            }
        })
    };
    view! {
        <ol class="steps" aria-label=tr(i18n, |l| td_string!(l, reports.wizard.steps))>
            <li aria-current=move || if step.get() == 1 { "step" } else { "false" } class:done=move || { step.get() > 1 }>
                {tr(i18n, |l| td_string!(l, reports.wizard.step_basics))}
            </li>
            <li aria-current=move || if step.get() == 2 { "step" } else { "false" }>{tr(i18n, |l| td_string!(l, reports.wizard.step_data))}</li>
        </ol>
        <section class="card wizard">
            <Show when=move || step.get() == 1>
                <form class="form" on:submit=next novalidate data-testid="wizard-step-1">
                    <Field label=td_string!(locale, reports.wizard.name) name="name" error=errors.message("name")>
                        <input id="name" type="text" maxlength="64" bind:value=name/>
                    </Field>
                    <Field
                        label=td_string!(locale, reports.wizard.kind)
                        name="kind"
                        error=errors.message("kind")
                        hint=if is_default { td_string!(locale, reports.wizard.kind_fixed) } else { "" }
                    >
                        <select id="kind" disabled=is_default prop:value=move || kind.get() on:change=move |ev| kind.set(event_target_value(&ev))>
                            {ReportKind::ALL.iter().map(|k| {
                                let k = *k;
                                view! { <option value=k.as_str()>{move || k.label_in(i18n.get_locale())}</option> }
                            }).collect_view()}
                        </select>
                    </Field>
                    <Show when=move || kind.get() == "custom">
                        <div class="field-row">
                            <Field label=td_string!(locale, reports.wizard.custom_start) name="custom_start" error=errors.message("custom_start")>
                                <input id="custom_start" type="date" bind:value=custom_start/>
                            </Field>
                            <Field label=td_string!(locale, reports.wizard.custom_end) name="custom_end" error=errors.message("custom_end")>
                                <input id="custom_end" type="date" bind:value=custom_end/>
                            </Field>
                        </div>
                    </Show>
                    <Field
                        label=td_string!(locale, reports.wizard.window)
                        name="window"
                        error=errors.message("window")
                        hint=td_string!(locale, reports.wizard.window_hint)
                    >
                        <select id="window" prop:value=move || window.get() on:change=move |ev| window.set(event_target_value(&ev))>
                            {SendWindow::ALL.iter().map(|w| view! { <option value=w.as_str()>{w.label()}</option> }).collect_view()}
                        </select>
                    </Field>
                    {(!accounts.is_empty()).then(|| {
                        let accounts = accounts.clone();
                        view! {
                            <Field label=td_string!(locale, reports.wizard.scope) name="scope" error=errors.message("scope")>
                                <select id="scope" prop:value=move || scope.get() on:change=move |ev| scope.set(event_target_value(&ev))>
                                    {ReportScope::ALL.iter().map(|s| {
                                        let s = *s;
                                        view! { <option value=s.as_str()>{move || s.label_in(i18n.get_locale())}</option> }
                                    }).collect_view()}
                                </select>
                            </Field>
                            <Show when=move || scope.get() == "chosen">
                                <fieldset class="checks">
                                    <legend>{tr(i18n, |l| td_string!(l, reports.wizard.managed_accounts))}</legend>
                                    {accounts.iter().map(|(id, label)| view! {
                                        <SetCheckbox selected=scope_accounts value=*id label=label.clone()/>
                                    }).collect_view()}
                                </fieldset>
                                {move || errors.message("scope_accounts").get().map(|m| view! { <div class="field-error" role="alert" data-field="scope_accounts">{m}</div> })}
                            </Show>
                        }
                    })}
                    <Field
                        label=td_string!(locale, reports.wizard.recipients)
                        name="recipients"
                        error=errors.message("recipients")
                        hint=td_string!(locale, reports.wizard.recipients_hint)
                    >
                        <textarea id="recipients" rows="3" bind:value=recipients></textarea>
                    </Field>
                    <div class="form-actions">
                        <a class="btn" href=LIST>{tr(i18n, |l| td_string!(l, reports.wizard.cancel))}</a>
                        <button class="btn btn-primary" type="submit">{tr(i18n, |l| td_string!(l, reports.wizard.next))}</button>
                    </div>
                </form>
            </Show>
            <Show when=move || step.get() == 2>
                <form class="form" on:submit=save novalidate data-testid="wizard-step-2">
                    <fieldset class="checks" aria-describedby="sections-error">
                        <legend>{tr(i18n, |l| td_string!(l, reports.wizard.sections))}</legend>
                        {Section::ALL.iter().map(|s| {
                            let s = *s;
                            let value = s.as_str();
                            view! {
                                <label class="check" class:indent=value.starts_with("vuln_")>
                                    <input
                                        type="checkbox"
                                        name="sections"
                                        value=value
                                        prop:checked=move || sections.with(|l| l.iter().any(|x| x == value))
                                        on:change=move |ev| toggle_section(value, event_target_checked(&ev))
                                    />
                                    {move || s.label_in(i18n.get_locale())}
                                </label>
                            }
                        }).collect_view()}
                    </fieldset>
                    {move || errors.message("sections").get().map(|m| view! { <div class="field-error" id="sections-error" role="alert" data-field="sections">{m}</div> })}
                    <FormError message=form_error/>
                    <div class="form-actions">
                        <button class="btn" type="button" on:click=move |_| step.set(1)>{tr(i18n, |l| td_string!(l, reports.wizard.previous))}</button>
                        <button class="btn btn-primary" type="submit" disabled=move || pending.get()>
                            {move || if pending.get() {
                                td_string!(i18n.get_locale(), reports.wizard.saving)
                            } else {
                                td_string!(i18n.get_locale(), reports.wizard.save)
                            }}
                        </button>
                    </div>
                </form>
            </Show>
        </section>
    }
}

fn delta_class(change: i64) -> &'static str {
    if change >= 0 {
        "delta up"
    } else {
        "delta down"
    }
}

fn status_pill(status: DeliveryStatus) -> impl IntoView {
    let i18n = use_i18n();
    view! { <span class=format!("status status-{}", status.as_str())>{move || status.label_in(i18n.get_locale())}</span> }
}

/// What each send of `report` covers, as the table says it, in the reader's language.
fn period_in(report: &Report, locale: Locale) -> String {
    match report.kind {
        ReportKind::Daily => td_string!(locale, reports.period.daily).to_string(),
        ReportKind::Weekly => td_string!(locale, reports.period.weekly).to_string(),
        ReportKind::Monthly => td_string!(locale, reports.period.monthly).to_string(),
        ReportKind::Custom => report.period_description(),
    }
}

/// A report's delivery log with links into the archive.
#[component]
pub fn ReportHistoryPage() -> impl IntoView {
    let id = use_route_id();
    let send = ServerAction::<SendReportNow>::new();
    let history = Resource::new(move || (id.get(), send.version().get()), |(id, _)| load_by_id(id, get_report_history));
    let toaster = use_toaster();
    let i18n = use_i18n();
    Effect::new(move |_| {
        let outcome = send.value().get();
        let locale = i18n.get_locale_untracked();
        match outcome {
            Some(Err(e)) => toaster.error(e.to_string()),
            Some(Ok(o)) if o.status == DeliveryStatus::Sent => {
                toaster.success(fill(td_string!(locale, reports.history.sent_to), &[("recipients", &o.recipients.join(", "))]))
            }
            Some(Ok(o)) => toaster.error(format!("{}: {}", o.status.label_in(locale), o.server_reply)),
            None => {}
        }
    });
    let me = use_me();
    view! {
        <FeatureGate feature=Feature::SecurityReports>
            <Loaded resource=history loading=td_string!(i18n.get_locale_untracked(), reports.history.loading) render=move |h: ReportHistory| {
                let report_id = h.report.id;
                let can_send = !h.report.recipients.is_empty();
                let report = h.report.clone();
                let subtitle = Signal::derive(move || {
                    let locale = i18n.get_locale();
                    fill(td_string!(locale, reports.history.subtitle), &[("kind", report.kind.label_in(locale)), ("period", &period_in(&report, locale).to_string()), ("window", report.window.label())])
                });
                view! {
                    <ReportsHeader title=h.report.name.clone() subtitle>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                let admin = me.await.map(|m| m.is_admin()).unwrap_or(false);
                                admin.then(|| view! {
                                    <button class="btn btn-primary" type="button" disabled=move || !can_send || send.pending().get()
                                        on:click=move |_| { send.dispatch(SendReportNow { id: report_id }); }>
                                        {move || if send.pending().get() {
                                            td_string!(i18n.get_locale(), reports.history.sending)
                                        } else {
                                            td_string!(i18n.get_locale(), reports.history.send_now)
                                        }}
                                    </button>
                                })
                            })}
                        </Transition>
                    </ReportsHeader>
                    <section class="card">
                        <h2>{tr(i18n, |l| td_string!(l, reports.history.delivery_log))}</h2>
                        <div class="table-wrap">
                            <table class="table" data-testid="delivery-table">
                                <thead><tr>
                                    <th>{tr(i18n, |l| td_string!(l, reports.history.col_due))}</th>
                                    <th>{tr(i18n, |l| td_string!(l, reports.history.col_period))}</th>
                                    <th>{tr(i18n, |l| td_string!(l, reports.history.col_status))}</th>
                                    <th>{tr(i18n, |l| td_string!(l, reports.history.col_recipients))}</th>
                                    <th>{tr(i18n, |l| td_string!(l, reports.history.col_sent))}</th>
                                    <th class="right">{tr(i18n, |l| td_string!(l, reports.history.col_attempts))}</th>
                                    <th>{tr(i18n, |l| td_string!(l, reports.history.col_reply))}</th>
                                    <th>{tr(i18n, |l| td_string!(l, reports.history.col_report))}</th>
                                </tr></thead>
                                <tbody>
                                    {rows_or_empty(h.deliveries, 8, td_string!(i18n.get_locale_untracked(), reports.history.empty), move |d| view! {
                                        <tr>
                                            <td>{date_time(Some(d.due_at))}</td>
                                            <td>{format!("{} – {}", d.period_start, d.period_end)}</td>
                                            <td>
                                                {status_pill(d.status)}
                                                {d.manual.then(|| view! { <span class="badge">{tr(i18n, |l| td_string!(l, reports.history.manual))}</span> })}
                                                {d.late.then(|| view! { <span class="badge badge-warning">{tr(i18n, |l| td_string!(l, reports.history.late))}</span> })}
                                            </td>
                                            <td class="recipients">{d.recipients.join(", ")}</td>
                                            <td>{date_time(d.sent_at)}</td>
                                            <td class="right">{d.attempts}</td>
                                            <td class="reply">{d.server_reply.clone()}</td>
                                            <td>{if d.copies.len() > 1 {
                                                // One document per language its recipients read.
                                                d.copies.into_iter().map(|c| view! {
                                                    <div class="copy" title=c.recipients.join(", ")>
                                                        <span class="badge">{language_name(&c.language)}</span>" "
                                                        {c.archive_id.map(|a| archive_links(i18n, a))}
                                                    </div>
                                                }).collect_view().into_any()
                                            } else {
                                                d.archive_id.map(|a| archive_links(i18n, a)).into_any()
                                            }}</td>
                                        </tr>
                                    })}
                                </tbody>
                            </table>
                        </div>
                    </section>
                }
            }/>
        </FeatureGate>
    }
}

/// "View · PDF" for one archived document.
fn archive_links(i18n: leptos_i18n::I18nContext<Locale>, a: i64) -> impl IntoView {
    view! {
        <a href=format!("{LIST}/archive/{a}")>{tr(i18n, |l| td_string!(l, reports.history.view))}</a>" · "
        <a href=archive_pdf_href(a) rel="external" download>{tr(i18n, |l| td_string!(l, reports.history.pdf))}</a>
    }
}

/// One archived report as the console shows it; the same document the email and PDF carry.
#[component]
pub fn ArchivedReportPage() -> impl IntoView {
    let id = use_route_id();
    let archived = Resource::new(move || id.get(), |id| load_by_id(id, get_archived_report));
    let i18n = use_i18n();
    view! {
        <FeatureGate feature=Feature::SecurityReports>
            <Loaded resource=archived loading=td_string!(i18n.get_locale_untracked(), reports.archived.loading) render=move |a: ArchivedReport| {
                let pdf = archive_pdf_href(a.id);
                let history = a.report_id.map(|report| format!("{LIST}/{report}/history"));
                view! {
                    <ReportsHeader title=a.document.report_name.clone() subtitle=format!("{} · {}", a.document.period_label(), a.document.time_zone)>
                        {history.map(|history| view! { <a class="btn" href=history>{tr(i18n, |l| td_string!(l, reports.archived.delivery_log))}</a> })}
                        <a class="btn btn-primary" href=pdf rel="external" download>{tr(i18n, |l| td_string!(l, reports.archived.download_pdf))}</a>
                    </ReportsHeader>
                    <ArchivedDocument id=a.id document=a.document charts=a.chart_svgs/>
                }
            }/>
        </FeatureGate>
    }
}

#[component]
fn ArchivedDocument(id: i64, document: ReportDocument, charts: Vec<String>) -> impl IntoView {
    let summary = document.summary.clone();
    let change = summary.previous_score.map(|p| summary.score - p);
    let i18n = use_i18n();
    let nothing = td_string!(i18n.get_locale_untracked(), reports.archived.nothing);
    view! {
        <section class="card report-summary" data-testid="report-summary">
            <dl class="details">
                <dt>{tr(i18n, |l| td_string!(l, reports.archived.account))}</dt><dd>{format!("{} ({})", document.account_name, document.account_no)}</dd>
                <dt>{tr(i18n, |l| td_string!(l, reports.archived.period))}</dt><dd>{document.period_label()}</dd>
                <dt>{tr(i18n, |l| td_string!(l, reports.archived.generated))}</dt><dd>{date_time(Some(document.generated_at))}</dd>
                <dt>{tr(i18n, |l| td_string!(l, reports.archived.score))}</dt>
                <dd data-testid="report-score">
                    {summary.score}
                    {change.map(|c| view! { <span class=delta_class(c)>{t!(i18n, reports.archived.vs_previous, change = format!("{c:+}"))}</span> })}
                </dd>
            </dl>
            <table class="table dense">
                <thead><tr>
                    <th>{tr(i18n, |l| td_string!(l, reports.archived.col_kind))}</th>
                    <th class="right">{tr(i18n, |l| td_string!(l, reports.archived.col_new))}</th>
                    <th class="right">{tr(i18n, |l| td_string!(l, reports.archived.col_resolved))}</th>
                    <th class="right">{tr(i18n, |l| td_string!(l, reports.archived.col_open))}</th>
                    <th class="right">{tr(i18n, |l| td_string!(l, reports.archived.col_change))}</th>
                </tr></thead>
                <tbody>
                    {summary.rows.into_iter().map(|r| view! {
                        <tr data-kind=r.label.clone()>
                            <td>{r.label.clone()}</td>
                            <td class="right">{r.new}</td>
                            <td class="right">{r.resolved.map(|n| n.to_string()).unwrap_or_else(|| "—".into())}</td>
                            <td class="right">{r.open.map(|n| n.to_string()).unwrap_or_else(|| "—".into())}</td>
                            <td class="right">{format!("{:+}", r.new.saturating_sub(r.previous_new))}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        {document.sections.into_iter().zip(charts.into_iter().chain(std::iter::repeat(String::new()))).map(|(s, svg)| {
            let csv = archive_csv_href(id, s.section);
            view! {
                <section class="card report-section" data-section=s.section.as_str()>
                    <div class="card-header">
                        <h2>{s.title.clone()}</h2>
                        <a class="btn btn-sm" href=csv rel="external" download>{tr(i18n, |l| td_string!(l, reports.archived.csv))}</a>
                    </div>
                    {if s.empty {
                        let says: Label = match s.section {
                            Section::Images => |l| td_string!(l, reports.archived.no_images_admitted),
                            Section::ImageExceptions => |l| td_string!(l, reports.archived.no_exceptions_expiring),
                            _ => |l| td_string!(l, reports.archived.nothing),
                        };
                        view! { <p class="muted">{tr(i18n, says)}</p> }.into_any()
                    } else {
                        view! {
                            <div class="report-chart" inner_html=svg></div>
                            <h3>{s.table.title.clone()}</h3>
                            <div class="table-wrap">
                                <table class="table dense">
                                    <thead><tr>{s.table.columns.iter().map(|c| view! { <th>{c.clone()}</th> }).collect_view()}</tr></thead>
                                    <tbody>
                                        {rows_or_empty(s.table.rows.clone(), s.table.columns.len() as u32, nothing, |row| view! {
                                            <tr>{row.into_iter().map(|cell| view! { <td>{cell}</td> }).collect_view()}</tr>
                                        })}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any()
                    }}
                </section>
            }
        }).collect_view()}
        <section class="card report-footnote" data-testid="counting-notes">
            <h2>{COUNTING_TITLE}</h2>
            {COUNTING_NOTES.iter().map(|note| view! { <p class="muted small">{*note}</p> }).collect_view()}
        </section>
    }
}

/// Every report generated for the account, newest first, also those of deleted reports.
#[component]
pub fn ReportArchivePage() -> impl IntoView {
    let query = use_query_map();
    let page = Memo::new(move |_| query.with(|q| q.get("page").and_then(|p| p.parse::<i64>().ok()).unwrap_or(1)));
    let archive = Resource::new(move || page.get(), list_archive);
    let i18n = use_i18n();
    view! {
        <ReportsHeader
            title=Signal::derive(move || td_string!(i18n.get_locale(), reports.archive.title).to_string())
            subtitle=Signal::derive(move || td_string!(i18n.get_locale(), reports.archive.subtitle).to_string())
        />
        <FeatureGate feature=Feature::SecurityReports>
            <Loaded resource=archive loading=td_string!(i18n.get_locale_untracked(), reports.archive.loading) render=move |a: ArchivePage| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="archive-table">
                        <thead><tr>
                            <th>{tr(i18n, |l| td_string!(l, reports.archive.col_report))}</th>
                            <th>{tr(i18n, |l| td_string!(l, reports.archive.col_period))}</th>
                            <th>{tr(i18n, |l| td_string!(l, reports.archive.col_generated))}</th>
                            <th>{tr(i18n, |l| td_string!(l, reports.archive.col_language))}</th>
                            <th class="right">{tr(i18n, |l| td_string!(l, reports.archive.col_download))}</th>
                        </tr></thead>
                        <tbody>
                            {rows_or_empty(a.entries, 5, td_string!(i18n.get_locale_untracked(), reports.archive.empty), move |e| view! {
                                <tr>
                                    <td><a href=format!("{LIST}/archive/{}", e.id)>{e.report_name.clone()}</a>
                                        {e.report_id.is_none().then(|| view! { <span class="badge">{tr(i18n, |l| td_string!(l, reports.archive.deleted))}</span> })}</td>
                                    <td>{format!("{} – {}", e.period_start, e.period_end)}</td>
                                    <td>{date_time(Some(e.generated_at))}</td>
                                    <td>{language_name(&e.language)}</td>
                                    <td class="right"><a href=archive_pdf_href(e.id) rel="external" download>{tr(i18n, |l| td_string!(l, reports.archive.pdf))}</a></td>
                                </tr>
                            })}
                        </tbody>
                    </table>
                </div>
                <Pagination page=a.page page_count=(a.total + ARCHIVE_PAGE_SIZE - 1) / ARCHIVE_PAGE_SIZE total=a.total href=|p| format!("{LIST}/archive?page={p}")/>
            }/>
        </FeatureGate>
    }
}

