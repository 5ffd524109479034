//! The Witness tab: who signs images, each witness with its key from the key service.

use leptos::prelude::*;

use crate::signature::api::*;
use crate::signature::model::*;
use crate::auth::context::use_is_admin;
use crate::editions::Feature;
use crate::components::form::{submit_checked, watch_form, Field, FormError, FormErrors};
use crate::format::date_time;
use crate::auth::gate::FeatureGate;
use crate::components::loaded::Loaded;
use crate::components::modal::{AskButton, Asking, ConfirmDialog};
use crate::components::table::rows_or_empty;
use crate::components::toast::toast_outcome;
use crate::locale::{td_string, tr, use_i18n};
use super::{state_pill, SignatureHeader};
use crate::locale::fill;

#[component]
pub fn WitnessPage() -> impl IntoView {
    let create = Action::new(|input: &WitnessInput| create_witness(input.clone()));
    let update = ServerAction::<UpdateWitness>::new();
    let delete = ServerAction::<DeleteWitness>::new();
    let witnesses = Resource::new(move || (create.version().get(), update.version().get(), delete.version().get()), |_| list_witnesses());
    let keys = Resource::new(move || create.version().get(), |_| list_keys());
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    toast_outcome(move || update.value().get(), td_string!(locale, signature.witness.description_saved), || ());
    toast_outcome(move || delete.value().get(), td_string!(locale, signature.witness.deleted), || ());
    let input = RwSignal::new(WitnessInput::default());
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    watch_form(create, errors, form_error, td_string!(locale, signature.witness.created), move |_| input.set(WitnessInput::default()));
    let editing = RwSignal::new(None::<(i64, String)>);
    let asking: Asking = RwSignal::new(None);
    let admin = use_is_admin();
    view! {
        <SignatureHeader current="/precaution/container-signature"/>
        <FeatureGate feature=Feature::ContainerSignature>
            <ConfirmDialog asking title=td_string!(locale, signature.witness.delete_title)
                question=|name| fill(td_string!(use_i18n().get_locale(), signature.witness.delete_question), &[("name", name)])
                confirm_label=td_string!(locale, signature.action.delete) on_confirm=Callback::new(move |id| { delete.dispatch(DeleteWitness { id }); })/>
            <Show when=move || admin.get()>
                <section class="card" data-testid="create-witness">
                    <h2>{tr(i18n, |l| td_string!(l, signature.witness.create))}</h2>
                    <div class="inline-form">
                        <Field label=td_string!(locale, signature.witness.name) name="witness-name" error=errors.message("name")>
                            <input id="witness-name" type="text" maxlength="64" prop:value=move || input.with(|i| i.name.clone())
                                on:input=move |ev| input.update(|i| i.name = event_target_value(&ev))/>
                        </Field>
                        <Field label=td_string!(locale, signature.witness.key) name="witness-key" error=errors.message("key_id")
                            hint=td_string!(locale, signature.witness.key_hint)>
                            <select id="witness-key" on:change=move |ev| input.update(|i| i.key_id = event_target_value(&ev))>
                                <option value="" selected=move || input.with(|i| i.key_id.is_empty())>{tr(i18n, |l| td_string!(l, signature.witness.choose_key))}</option>
                                // Awaited in a Transition: read outside one, the list hydrates out of step with the server's HTML.
                                <Transition fallback=|| ()>
                                    {move || Suspend::new(async move {
                                        keys.await.unwrap_or_default().into_iter().filter(KeyView::can_witness).map(|k| {
                                            let value = k.key_id.clone();
                                            let chosen = k.key_id.clone();
                                            view! { <option value=value selected=move || input.with(|i| i.key_id == chosen)>{k.display_name()}</option> }
                                        }).collect_view()
                                    })}
                                </Transition>
                            </select>
                        </Field>
                    </div>
                    <Field label=td_string!(locale, signature.witness.description) name="witness-description" error=errors.message("description")>
                        <input id="witness-description" type="text" maxlength="256" prop:value=move || input.with(|i| i.description.clone())
                            on:input=move |ev| input.update(|i| i.description = event_target_value(&ev))/>
                    </Field>
                    <div class="form-actions">
                        <FormError message=form_error/>
                        <button class="btn btn-primary" type="button" disabled=move || create.pending().get()
                            on:click=move |_| { let i = input.get_untracked(); let p = i.validate(i18n.get_locale_untracked()); submit_checked(create, i, p, errors, form_error); }>{tr(i18n, |l| td_string!(l, signature.witness.create))}</button>
                    </div>
                </section>
            </Show>
            <Loaded resource=witnesses loading=td_string!(locale, signature.witness.loading) render=move |witnesses| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="witnesses-table">
                        <thead>
                            <tr>
                                <th>{tr(i18n, |l| td_string!(l, signature.witness.col.witness))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.witness.col.certificate))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.witness.col.description))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.witness.col.policies))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.witness.col.created))}</th>
                                <th></th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows_or_empty(witnesses, 6, td_string!(locale, signature.witness.empty), move |w| {
                                let asked = (w.id, w.name.clone());
                                let id = w.id;
                                let description = w.description.clone();
                                view! {
                                    <tr>
                                        <td><strong>{w.name.clone()}</strong></td>
                                        <td>
                                            {w.key_alias.clone().unwrap_or_else(|| w.key_id.clone())}
                                            {(w.key_state != KeyState::Enabled).then(|| state_pill(w.key_state))}
                                            <div class="mono small muted">{w.key_id.clone()}</div>
                                        </td>
                                        <td>
                                            {move || match editing.get() {
                                                Some((editing_id, text)) if editing_id == id => view! {
                                                    <input type="text" aria-label=tr(i18n, |l| td_string!(l, signature.witness.description)) maxlength="256" prop:value=text
                                                        on:input=move |ev| editing.set(Some((id, event_target_value(&ev))))/>
                                                    <button class="btn btn-sm btn-primary" type="button"
                                                        on:click=move |_| {
                                                            let text = editing.get_untracked().map(|e| e.1).unwrap_or_default();
                                                            update.dispatch(UpdateWitness { id, description: text });
                                                            editing.set(None);
                                                        }>{tr(i18n, |l| td_string!(l, signature.action.save))}</button>
                                                }.into_any(),
                                                _ => view! { <span>{description.clone()}</span> }.into_any(),
                                            }}
                                        </td>
                                        <td class="small">{if w.policies.is_empty() { "—".to_string() } else { w.policies.join(", ") }}</td>
                                        <td class="nowrap">{date_time(Some(w.created_at))}</td>
                                        <td class="right row-actions">
                                            {
                                                let description = w.description.clone();
                                                move || admin.get().then(|| {
                                                    let description = description.clone();
                                                    view! {
                                                        <button class="btn btn-sm" type="button" on:click=move |_| editing.set(Some((id, description.clone())))>{tr(i18n, |l| td_string!(l, signature.action.edit))}</button>
                                                        <AskButton asking item=asked.clone() label=td_string!(locale, signature.action.delete)/>
                                                    }
                                                })
                                            }
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
