//! The Exceptions tab: vulnerabilities allowed past the policies' vulnerability rule, each with
//! its reason, its repository (or all), and the last day it applies.

use leptos::prelude::*;

use crate::auth::context::use_is_admin;
use crate::auth::gate::FeatureGate;
use crate::components::form::{submit_checked, watch_form, Field, FormError, FormErrors};
use crate::components::loaded::Loaded;
use crate::components::modal::{AskButton, Asking, ConfirmDialog};
use crate::components::table::rows_or_empty;
use crate::components::toast::toast_outcome;
use crate::editions::Feature;
use crate::error::FieldErrors;
use crate::format::{date, date_time};
use crate::locale::{fill, td_string, tr, use_i18n};
use crate::signature::api::*;
use crate::signature::model::*;
use super::SignatureHeader;

#[component]
pub fn VulnExceptionsPage() -> impl IntoView {
    let create = Action::new(|input: &ExceptionInput| create_vuln_exception(input.clone()));
    let delete = ServerAction::<DeleteVulnException>::new();
    let exceptions = Resource::new(move || (create.version().get(), delete.version().get()), |_| list_vuln_exceptions());
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    toast_outcome(move || delete.value().get(), td_string!(locale, signature.exceptions.deleted), || ());
    let input = RwSignal::new(ExceptionInput::default());
    let open = RwSignal::new(false);
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    watch_form(create, errors, form_error, td_string!(locale, signature.exceptions.created), move |_| {
        open.set(false);
        input.set(ExceptionInput::default());
    });
    let start = move || {
        errors.0.set(FieldErrors::new());
        form_error.set(None);
        input.set(ExceptionInput::default());
        open.set(true);
    };
    let asking: Asking = RwSignal::new(None);
    let admin = use_is_admin();
    view! {
        <SignatureHeader current="/precaution/container-signature/exceptions"/>
        <FeatureGate feature=Feature::ContainerSignature>
            <ConfirmDialog asking title=td_string!(locale, signature.exceptions.delete_title)
                question=|name| fill(td_string!(use_i18n().get_locale(), signature.exceptions.delete_question), &[("name", name)])
                confirm_label=td_string!(locale, signature.exceptions.remove) on_confirm=Callback::new(move |id| { delete.dispatch(DeleteVulnException { id }); })/>
            <div class="toolbar toolbar-ends">
                <p class="muted">{tr(i18n, |l| td_string!(l, signature.exceptions.intro))}</p>
                <Show when=move || admin.get()>
                    <button class="btn btn-primary" type="button" on:click=move |_| start()>{tr(i18n, |l| td_string!(l, signature.exceptions.add))}</button>
                </Show>
            </div>
            <Loaded resource=exceptions loading=td_string!(locale, signature.exceptions.loading) render=move |list| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="exceptions-table">
                        <thead>
                            <tr>
                                <th>{tr(i18n, |l| td_string!(l, signature.exceptions.col.vulnerability))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.exceptions.col.repository))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.exceptions.col.reason))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.exceptions.col.added_by))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.exceptions.col.added_at))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.exceptions.col.expires))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.exceptions.col.status))}</th>
                                <th></th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows_or_empty(list, 8, td_string!(locale, signature.exceptions.empty), move |e: ExceptionView| {
                                let scope = if e.repository.is_empty() { td_string!(locale, signature.exceptions.all_repositories).to_string() } else { e.repository.clone() };
                                let asked = (e.id, format!("{} ({scope})", e.vulnerability_id));
                                // Stored as the end of the last day: the day shown is the one before.
                                let last_day = date(e.expires_at - 1);
                                let expires_at = date_time(Some(e.expires_at));
                                let expired = e.expired;
                                view! {
                                    <tr class:muted=expired>
                                        <td class="mono"><strong>{e.vulnerability_id.clone()}</strong></td>
                                        <td>
                                            {if e.repository.is_empty() {
                                                view! { <span class="muted">{tr(i18n, |l| td_string!(l, signature.exceptions.all_repositories))}</span> }.into_any()
                                            } else {
                                                view! { <span class="mono">{e.repository.clone()}</span> }.into_any()
                                            }}
                                        </td>
                                        <td class="small">{e.reason.clone()}</td>
                                        <td>{e.created_by.clone()}</td>
                                        <td class="nowrap">{date_time(Some(e.created_at))}</td>
                                        <td class="nowrap" title=move || fill(td_string!(i18n.get_locale(), signature.exceptions.expires_at), &[("at", &expires_at)])>{last_day}</td>
                                        <td>
                                            {if expired {
                                                view! { <span class="pill status-expired">{tr(i18n, |l| td_string!(l, signature.exceptions.expired))}</span> }.into_any()
                                            } else {
                                                view! { <span class="pill status-active">{tr(i18n, |l| td_string!(l, signature.exceptions.active))}</span> }.into_any()
                                            }}
                                        </td>
                                        <td class="right row-actions">
                                            {move || admin.get().then(|| view! { <AskButton asking item=asked.clone() label=td_string!(locale, signature.exceptions.remove)/> })}
                                        </td>
                                    </tr>
                                }
                            })}
                        </tbody>
                    </table>
                </div>
            }/>
            <Show when=move || open.get()>
                <div class="modal-backdrop" on:click=move |_| open.set(false)>
                    <div class="modal" role="dialog" aria-modal="true" aria-label=tr(i18n, |l| td_string!(l, signature.exceptions.add_title))
                        on:click=|ev| ev.stop_propagation()
                        on:keydown=move |ev| { if ev.key() == "Escape" { open.set(false); } }>
                        <div class="modal-header"><h2>{tr(i18n, |l| td_string!(l, signature.exceptions.add_title))}</h2></div>
                        <div class="modal-body" data-testid="exception-form">
                            <Field label=td_string!(locale, signature.exceptions.vulnerability) name="exception-vulnerability" error=errors.message("vulnerability_id")
                                hint=td_string!(locale, signature.exceptions.vulnerability_hint)>
                                <input id="exception-vulnerability" type="text" maxlength="64" autocomplete="off" prop:value=move || input.with(|i| i.vulnerability_id.clone())
                                    on:input=move |ev| input.update(|i| i.vulnerability_id = event_target_value(&ev))/>
                            </Field>
                            <Field label=td_string!(locale, signature.exceptions.repository) name="exception-repository" error=errors.message("repository")
                                hint=td_string!(locale, signature.exceptions.repository_hint)>
                                <input id="exception-repository" type="text" maxlength="255" autocomplete="off" prop:value=move || input.with(|i| i.repository.clone())
                                    on:input=move |ev| input.update(|i| i.repository = event_target_value(&ev))/>
                            </Field>
                            <Field label=td_string!(locale, signature.exceptions.reason) name="exception-reason" error=errors.message("reason")>
                                <textarea id="exception-reason" rows="3" maxlength="500" prop:value=move || input.with(|i| i.reason.clone())
                                    on:input=move |ev| input.update(|i| i.reason = event_target_value(&ev))></textarea>
                            </Field>
                            <Field label=td_string!(locale, signature.exceptions.expires_on) name="exception-expires" error=errors.message("expires_on")
                                hint=td_string!(locale, signature.exceptions.expires_on_hint)>
                                <input id="exception-expires" type="date" prop:value=move || input.with(|i| i.expires_on.clone())
                                    on:input=move |ev| input.update(|i| i.expires_on = event_target_value(&ev))/>
                            </Field>
                            <FormError message=form_error/>
                        </div>
                        <div class="modal-footer">
                            <button class="btn" type="button" on:click=move |_| open.set(false)>{tr(i18n, |l| td_string!(l, signature.action.cancel))}</button>
                            <button class="btn btn-primary" type="button" disabled=move || create.pending().get()
                                on:click=move |_| {
                                    let value = input.get_untracked();
                                    let problems = value.validate(browser_now(), i18n.get_locale_untracked()).err().unwrap_or_default();
                                    submit_checked(create, value, problems, errors, form_error);
                                }>{tr(i18n, |l| td_string!(l, signature.exceptions.save))}</button>
                        </div>
                    </div>
                </div>
            </Show>
        </FeatureGate>
    }
}

/// The browser's clock, in Unix seconds, for checking the expiry before it is sent (the server
/// checks it again against its own clock).
fn browser_now() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        (web_sys::js_sys::Date::now() / 1000.0) as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        chrono::Utc::now().timestamp()
    }
}
