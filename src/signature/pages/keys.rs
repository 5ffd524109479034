//! The Keys tab: the signing keys of the key management service, their versions and states.

use leptos::prelude::*;

use crate::signature::api::*;
use crate::signature::model::*;
use crate::auth::context::use_is_admin;
use crate::editions::Feature;
use crate::components::form::{submit_checked, watch_form, Field, FormError, FormErrors};
use crate::format::{date, date_time, url_encode};
use crate::auth::gate::FeatureGate;
use crate::components::loaded::Loaded;
use crate::components::table::rows_or_empty;
use crate::components::toast::toast_outcome;
use crate::components::toggle::Toggle;
use crate::error::FieldErrors;
use crate::locale::{t, td_string, tr, use_i18n};
use super::{state_pill, SignatureHeader, BASE};
use crate::locale::fill;

#[component]
pub fn SignatureKeysPage() -> impl IntoView {
    let create = Action::new(|input: &KeyInput| create_key(input.clone()));
    let toggle = ServerAction::<SetKeyEnabled>::new();
    let rotate = ServerAction::<RotateKey>::new();
    let cancel = ServerAction::<CancelKeyDeletion>::new();
    let schedule = Action::new(|(key_id, days): &(String, String)| schedule_key_deletion(key_id.clone(), days.clone()));
    let keys = Resource::new(
        move || (create.version().get(), toggle.version().get(), rotate.version().get(), cancel.version().get(), schedule.version().get()),
        |_| list_keys(),
    );
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    toast_outcome(move || toggle.value().get(), td_string!(locale, signature.keys.updated), || ());
    toast_outcome(move || rotate.value().get(), td_string!(locale, signature.keys.rotated), || ());
    toast_outcome(move || cancel.value().get(), td_string!(locale, signature.keys.deletion_cancelled), || ());
    let input = RwSignal::new(KeyInput { spec: "RSA_2048".into(), usage: "SIGN/VERIFY".into(), ..KeyInput::default() });
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    watch_form(create, errors, form_error, td_string!(locale, signature.keys.created), move |_| {
        input.set(KeyInput { spec: "RSA_2048".into(), usage: "SIGN/VERIFY".into(), ..KeyInput::default() })
    });
    // The key being scheduled for deletion, and the window typed for it.
    let deleting = RwSignal::new(None::<String>);
    let days = RwSignal::new("30".to_string());
    let delete_errors = FormErrors::new();
    let delete_error = RwSignal::new(None::<String>);
    watch_form(schedule, delete_errors, delete_error, td_string!(locale, signature.keys.deletion_scheduled), move |_| deleting.set(None));
    let admin = use_is_admin();
    view! {
        <SignatureHeader current="/precaution/container-signature/keys"/>
        <FeatureGate feature=Feature::ContainerSignature>
            <Show when=move || admin.get()>
                <section class="card" data-testid="create-key">
                    <h2>{tr(i18n, |l| td_string!(l, signature.keys.create))}</h2>
                    <p class="muted">{tr(i18n, |l| td_string!(l, signature.keys.intro))}</p>
                    <div class="inline-form">
                        <Field label=td_string!(locale, signature.keys.alias) name="key-alias" error=errors.message("alias")>
                            <input id="key-alias" type="text" maxlength="64" prop:value=move || input.with(|i| i.alias.clone())
                                on:input=move |ev| input.update(|i| i.alias = event_target_value(&ev))/>
                        </Field>
                        <Field label=td_string!(locale, signature.keys.spec) name="key-spec" error=errors.message("spec")>
                            <select id="key-spec" on:change=move |ev| input.update(|i| i.spec = event_target_value(&ev))>
                                {KeySpec::ALL.iter().map(|s| view! { <option value=s.as_str() selected=move || input.with(|i| i.spec == s.as_str())>{s.as_str()}</option> }).collect_view()}
                            </select>
                        </Field>
                        <Field label=td_string!(locale, signature.keys.purpose) name="key-usage" error=errors.message("usage")>
                            <select id="key-usage" on:change=move |ev| input.update(|i| i.usage = event_target_value(&ev))>
                                {KeyUsage::ALL.iter().map(|u| view! { <option value=u.as_str() selected=move || input.with(|i| i.usage == u.as_str())>{u.as_str()}</option> }).collect_view()}
                            </select>
                        </Field>
                    </div>
                    <Field label=td_string!(locale, signature.keys.description) name="key-description" error=errors.message("description")>
                        <input id="key-description" type="text" maxlength="256" prop:value=move || input.with(|i| i.description.clone())
                            on:input=move |ev| input.update(|i| i.description = event_target_value(&ev))/>
                    </Field>
                    <div class="form-actions">
                        <FormError message=form_error/>
                        <button class="btn btn-primary" type="button" disabled=move || create.pending().get()
                            on:click=move |_| { let i = input.get_untracked(); let p = i.validate(i18n.get_locale_untracked()); submit_checked(create, i, p, errors, form_error); }>
                            {move || if create.pending().get() {
                                td_string!(i18n.get_locale(), signature.keys.generating)
                            } else {
                                td_string!(i18n.get_locale(), signature.keys.create)
                            }}
                        </button>
                    </div>
                </section>
            </Show>
            <Loaded resource=keys loading=td_string!(locale, signature.keys.loading) render=move |keys| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="keys-table">
                        <thead>
                            <tr>
                                <th>{tr(i18n, |l| td_string!(l, signature.keys.col.key))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.keys.col.spec))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.keys.col.purpose))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.keys.col.status))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.keys.col.versions))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.keys.col.created))}</th>
                                <th></th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows_or_empty(keys, 7, td_string!(locale, signature.keys.empty), move |k| {
                                let key_id = k.key_id.clone();
                                let (toggle_id, rotate_id, cancel_id, delete_id) = (key_id.clone(), key_id.clone(), key_id.clone(), key_id.clone());
                                let enabled = k.state == KeyState::Enabled;
                                let pending = k.state == KeyState::PendingDeletion;
                                let label = k.display_name();
                                view! {
                                    <tr>
                                        <td>
                                            <strong>{match k.alias.clone() { Some(alias) => alias.into_any(), None => tr(i18n, |l| td_string!(l, signature.keys.no_alias)).into_any() }}</strong>
                                            <div class="mono small">{k.key_id.clone()}</div>
                                            <div class="muted small">{k.description.clone()}</div>
                                            {(!k.witnesses.is_empty()).then(|| {
                                                let witnesses = k.witnesses.join(", ");
                                                view! { <div class="small">{t!(i18n, signature.keys.witnesses, witnesses = witnesses.clone())}</div> }
                                            })}
                                        </td>
                                        <td>{k.spec.as_str()}</td>
                                        <td>{k.usage.as_str()}</td>
                                        <td>
                                            {state_pill(k.state)}
                                            {k.deletion_at.map(|at| {
                                                let on = date(at);
                                                view! { <div class="small warning-text">{t!(i18n, signature.keys.deleted_on, date = on.clone())}</div> }
                                            })}
                                        </td>
                                        <td>
                                            <ul class="sig-list small">
                                                {k.versions.iter().map(|v| {
                                                    let href = format!("{BASE}/keys/{}/public-key.pem?version={}", url_encode(&k.key_id), v.version);
                                                    let primary = v.version == k.primary_version;
                                                    let version = v.version;
                                                    view! {
                                                        <li>
                                                            {if primary { t!(i18n, signature.keys.primary_version, version = version).into_any() } else { format!("v{version}").into_any() }}
                                                            " " <span class="mono muted">{v.fingerprint.chars().take(19).collect::<String>()}</span>
                                                            " " <a href=href download>{tr(i18n, |l| td_string!(l, signature.keys.public_key))}</a>
                                                        </li>
                                                    }
                                                }).collect_view()}
                                            </ul>
                                        </td>
                                        <td class="nowrap">{date_time(Some(k.created_at))}</td>
                                        <td class="right row-actions">
                                            {move || admin.get().then(|| {
                                                let (toggle_id, rotate_id, cancel_id, delete_id) = (toggle_id.clone(), rotate_id.clone(), cancel_id.clone(), delete_id.clone());
                                                if pending {
                                                    view! {
                                                        <button class="btn btn-sm" type="button"
                                                            on:click=move |_| { cancel.dispatch(CancelKeyDeletion { key_id: cancel_id.clone() }); }>{tr(i18n, |l| td_string!(l, signature.keys.cancel_deletion))}</button>
                                                    }.into_any()
                                                } else {
                                                    view! {
                                                        <Toggle checked=enabled label=fill(td_string!(locale, signature.keys.enable), &[("name", &label)])
                                                            on_change=Callback::new(move |on| { toggle.dispatch(SetKeyEnabled { key_id: toggle_id.clone(), enabled: on }); })/>
                                                        <button class="btn btn-sm" type="button" disabled=!enabled
                                                            on:click=move |_| { rotate.dispatch(RotateKey { key_id: rotate_id.clone() }); }>{tr(i18n, |l| td_string!(l, signature.keys.new_version))}</button>
                                                        <button class="btn btn-sm btn-danger" type="button"
                                                            on:click=move |_| { delete_errors.0.set(FieldErrors::new()); delete_error.set(None); deleting.set(Some(delete_id.clone())); }>
                                                            {tr(i18n, |l| td_string!(l, signature.keys.schedule_deletion))}
                                                        </button>
                                                    }.into_any()
                                                }
                                            })}
                                        </td>
                                    </tr>
                                }
                            })}
                        </tbody>
                    </table>
                </div>
            }/>
            <Show when=move || deleting.with(Option::is_some)>
                <div class="modal-backdrop" on:click=move |_| deleting.set(None)>
                    <div class="modal" role="dialog" aria-modal="true" aria-label=tr(i18n, |l| td_string!(l, signature.keys.schedule_title)) on:click=|ev| ev.stop_propagation()>
                        <div class="modal-header"><h2>{tr(i18n, |l| td_string!(l, signature.keys.schedule_title))}</h2></div>
                        <div class="modal-body">
                            <p>{t!(i18n, signature.keys.schedule_body, key = move || deleting.get().unwrap_or_default())}</p>
                            <Field label=td_string!(locale, signature.keys.pending_window) name="deletion-days" error=delete_errors.message("days")
                                hint=td_string!(locale, signature.keys.pending_window_hint)>
                                <input id="deletion-days" type="text" inputmode="numeric" size="5" bind:value=days/>
                            </Field>
                            <FormError message=delete_error/>
                        </div>
                        <div class="modal-footer">
                            <button class="btn" type="button" on:click=move |_| deleting.set(None)>{tr(i18n, |l| td_string!(l, signature.action.cancel))}</button>
                            <button class="btn btn-danger" type="button" disabled=move || schedule.pending().get()
                                on:click=move |_| { if let Some(key) = deleting.get_untracked() { schedule.dispatch((key, days.get_untracked())); } }>
                                {tr(i18n, |l| td_string!(l, signature.keys.schedule_deletion))}
                            </button>
                        </div>
                    </div>
                </div>
            </Show>
        </FeatureGate>
    }
}
