//! The Images tab: signing images, the signatures made, and the registries they are published to.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::signature::api::*;
use crate::signature::model::*;
use crate::auth::context::use_is_admin;
use crate::editions::Feature;
use crate::components::form::{submit_checked, watch_form, Field, FormError, FormErrors};
use crate::format::{date_time, list_href};
use crate::auth::gate::FeatureGate;
use crate::components::loaded::Loaded;
use crate::components::modal::{AskButton, Asking, ConfirmDialog};
use crate::components::table::{rows_or_empty, Pagination};
use crate::components::toast::toast_outcome;
use crate::error::FieldErrors;
use crate::locale::{t, td_string, tr, use_i18n};
use super::{SignatureHeader, BASE};
use crate::locale::fill;

#[component]
pub fn SignatureImagesPage() -> impl IntoView {
    let sign = Action::new(|input: &SignInput| sign_image(input.clone()));
    let publish = ServerAction::<PublishSignature>::new();
    let delete = ServerAction::<DeleteSignature>::new();
    let save_registry = Action::new(|input: &RegistryInput| crate::signature::api::save_registry(input.clone()));
    let remove_registry = ServerAction::<DeleteRegistry>::new();
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        query_map.with(|q| (q.get("q").unwrap_or_default(), q.get("page").and_then(|p| p.parse::<i64>().ok()).unwrap_or(1)))
    });
    let images = Resource::new(
        move || (query.get(), sign.version().get(), publish.version().get(), delete.version().get()),
        |((search, page), ..)| list_images(search, Some(page), None, String::new(), false, false, false),
    );
    let witnesses = Resource::new(|| (), |_| list_witnesses());
    let registries = Resource::new(move || (save_registry.version().get(), remove_registry.version().get()), |_| list_registries());
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    toast_outcome(move || publish.value().get(), td_string!(locale, signature.images.published), || ());
    toast_outcome(move || delete.value().get(), td_string!(locale, signature.images.signature_deleted), || ());
    toast_outcome(move || remove_registry.value().get(), td_string!(locale, signature.images.registry_removed), || ());
    let input = RwSignal::new(SignInput::default());
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    let signed = RwSignal::new(None::<SignOutcome>);
    watch_form(sign, errors, form_error, td_string!(locale, signature.images.signed), move |outcome| signed.set(Some(outcome)));
    let registry = RwSignal::new(RegistryInput::default());
    let registry_errors = FormErrors::new();
    let registry_error = RwSignal::new(None::<String>);
    watch_form(save_registry, registry_errors, registry_error, td_string!(locale, signature.images.registry_saved), move |_| registry.set(RegistryInput::default()));
    let asking: Asking = RwSignal::new(None);
    let admin = use_is_admin();
    view! {
        <SignatureHeader current="/precaution/container-signature/images"/>
        <FeatureGate feature=Feature::ContainerSignature>
            <ConfirmDialog asking title=td_string!(locale, signature.images.delete_title)
                question=|name| fill(td_string!(use_i18n().get_locale(), signature.images.delete_question), &[("name", name)])
                confirm_label=td_string!(locale, signature.action.delete) on_confirm=Callback::new(move |id| { delete.dispatch(DeleteSignature { id }); })/>
            <Show when=move || admin.get()>
                <section class="card" data-testid="sign-image">
                    <h2>{tr(i18n, |l| td_string!(l, signature.images.sign_title))}</h2>
                    <div class="inline-form">
                        <Field label=td_string!(locale, signature.images.image) name="sign-image-ref" error=errors.message("image")
                            hint=td_string!(locale, signature.images.image_hint)>
                            <input id="sign-image-ref" type="text" size="60" prop:value=move || input.with(|i| i.image.clone())
                                on:input=move |ev| input.update(|i| i.image = event_target_value(&ev))/>
                        </Field>
                        <Field label=td_string!(locale, signature.images.witness) name="sign-witness" error=errors.message("witness")>
                            <select id="sign-witness" on:change=move |ev| input.update(|i| i.witness = event_target_value(&ev))>
                                <option value="" selected=move || input.with(|i| i.witness.is_empty())>{tr(i18n, |l| td_string!(l, signature.images.choose_witness))}</option>
                                <Transition fallback=|| ()>
                                    {move || Suspend::new(async move {
                                        witnesses.await.unwrap_or_default().into_iter().map(|w| {
                                            let chosen = w.name.clone();
                                            view! { <option value=w.name.clone() selected=move || input.with(|i| i.witness == chosen)>{w.name.clone()}</option> }
                                        }).collect_view()
                                    })}
                                </Transition>
                            </select>
                        </Field>
                    </div>
                    <label class="check">
                        <input type="checkbox" prop:checked=move || input.with(|i| i.publish) on:change=move |ev| input.update(|i| i.publish = event_target_checked(&ev))/>
                        {tr(i18n, |l| td_string!(l, signature.images.publish_to_registry))}
                    </label>
                    <div class="form-actions">
                        <FormError message=form_error/>
                        <button class="btn btn-primary" type="button" disabled=move || sign.pending().get()
                            on:click=move |_| {
                                let value = input.get_untracked();
                                let mut problems = FieldErrors::new();
                                if value.image.trim().is_empty() { problems.insert("image".into(), td_string!(i18n.get_locale_untracked(), signature.images.image_required).into()); }
                                if value.witness.is_empty() { problems.insert("witness".into(), td_string!(i18n.get_locale_untracked(), signature.images.witness_required).into()); }
                                submit_checked(sign, value, problems, errors, form_error);
                            }>
                            {move || if sign.pending().get() {
                                td_string!(i18n.get_locale(), signature.images.signing)
                            } else {
                                td_string!(i18n.get_locale(), signature.images.sign)
                            }}
                        </button>
                    </div>
                    {move || signed.get().map(|s| view! {
                        <div class="notice notice-info" data-testid="sign-outcome">
                            <p>
                                {t!(i18n, signature.images.signed_as, image = s.image.clone(), digest = s.digest.clone(),
                                    witness = s.witness.clone(), key = s.key_id.clone(), version = s.key_version)}
                            </p>
                            <p>
                                <a href=format!("{BASE}/signatures/{}/payload.json", s.signature_id) download>{tr(i18n, |l| td_string!(l, signature.images.download_payload))}</a>
                                " · "
                                <a href=format!("{BASE}/signatures/{}/signature.sig", s.signature_id) download>{tr(i18n, |l| td_string!(l, signature.images.download_signature))}</a>
                            </p>
                            {s.published_tag.clone().map(|tag| view! { <p>{t!(i18n, signature.images.published_as, tag = tag.clone())}</p> })}
                            {s.publish_error.clone().map(|e| view! { <p class="warning-text">{t!(i18n, signature.images.signed_not_published, error = e.clone())}</p> })}
                        </div>
                    })}
                </section>
            </Show>
            <form class="toolbar" method="get" action=format!("{BASE}/images") role="search">
                <input type="search" name="q" placeholder=tr(i18n, |l| td_string!(l, signature.images.search_placeholder))
                    aria-label=tr(i18n, |l| td_string!(l, signature.images.search_label))
                    prop:value=move || query.with(|q| q.0.clone())/>
                <button class="btn" type="submit">{tr(i18n, |l| td_string!(l, signature.images.search))}</button>
            </form>
            <Loaded resource=images loading=td_string!(locale, signature.images.loading) render=move |p: ImagePage| {
                let search = query.with_untracked(|q| q.0.clone());
                let images = p.images;
                view! {
                <div class="table-wrap">
                    <table class="table" data-testid="images-table">
                        <thead>
                            <tr>
                                <th>{tr(i18n, |l| td_string!(l, signature.images.col.image))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.images.col.tags))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.images.col.signatures))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.images.col.runs))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.images.col.last_seen))}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows_or_empty(images, 5, if search.is_empty() { td_string!(locale, signature.images.empty) } else { td_string!(locale, signature.images.no_match) }, move |i| {
                                let trusted = !i.trusted_by.is_empty();
                                view! {
                                    <tr>
                                        <td>
                                            <strong>{i.repository.clone()}</strong>
                                            {trusted.then(|| {
                                                let names = i.trusted_by.join(", ");
                                                view! {
                                                    <span class="badge trusted" title=move || fill(td_string!(i18n.get_locale(), signature.images.trusted_by), &[("names", &names)])>
                                                        {tr(i18n, |l| td_string!(l, signature.images.trusted))}
                                                    </span>
                                                }
                                            })}
                                            <div class="digest">
                                                {if i.digest.is_empty() { tr(i18n, |l| td_string!(l, signature.images.not_pinned)).into_any() } else { i.digest.clone().into_any() }}
                                            </div>
                                        </td>
                                        <td class="small">{i.tags.join(", ")}</td>
                                        <td>
                                            <ul class="sig-list small">
                                                {if i.signatures.is_empty() {
                                                    view! { <li class="muted">{tr(i18n, |l| td_string!(l, signature.images.unsigned))}</li> }.into_any()
                                                } else {
                                                    i.signatures.into_iter().map(|s| {
                                                        let asked = (s.id, s.witness_name.clone());
                                                        let id = s.id;
                                                        let signed_at = date_time(Some(s.created_at));
                                                        view! {
                                                            <li>
                                                                {t!(i18n, signature.images.signature_key, witness = s.witness_name.clone(), key = s.key_id.clone(), version = s.key_version)}
                                                                {(!s.key_enabled).then(|| view! { <span class="pill status-disabled">{tr(i18n, |l| td_string!(l, signature.images.key_disabled))}</span> })}
                                                                <div class="muted">{t!(i18n, signature.images.signed_by, at = signed_at.clone(), user = s.signed_by.clone())}</div>
                                                                {s.published_tag.clone().map(|tag| view! { <div>{t!(i18n, signature.images.published_tag, tag = tag.clone())}</div> })}
                                                                {s.publish_error.clone().map(|e| view! { <div class="warning-text">{t!(i18n, signature.images.not_published, error = e.clone())}</div> })}
                                                                <a href=format!("{BASE}/signatures/{id}/payload.json") download>{tr(i18n, |l| td_string!(l, signature.images.payload))}</a>
                                                                " · "
                                                                <a href=format!("{BASE}/signatures/{id}/signature.sig") download>{tr(i18n, |l| td_string!(l, signature.images.signature))}</a>
                                                                {move || admin.get().then(|| view! {
                                                                    " "
                                                                    <button class="btn btn-sm" type="button" on:click=move |_| { publish.dispatch(PublishSignature { id }); }>{tr(i18n, |l| td_string!(l, signature.images.publish))}</button>
                                                                    " "
                                                                    <AskButton asking item=asked.clone() label=td_string!(locale, signature.action.delete)/>
                                                                })}
                                                            </li>
                                                        }
                                                    }).collect_view().into_any()
                                                }}
                                            </ul>
                                        </td>
                                        <td class="small">{if i.runs.is_empty() { "—".to_string() } else { i.runs.iter().map(|r| format!("{} / {}", r.cluster_name, r.namespace)).collect::<Vec<_>>().join(", ") }}</td>
                                        <td class="nowrap">{date_time(Some(i.last_seen_at))}</td>
                                    </tr>
                                }
                            })}
                        </tbody>
                    </table>
                </div>
                <Pagination page=p.page page_count=p.page_count total=p.total href=move |page| list_href(&format!("{BASE}/images"), &search, &[], page)/>
            }}/>
            <section class="card" data-testid="registries">
                <h2>{tr(i18n, |l| td_string!(l, signature.images.registries.title))}</h2>
                <p class="muted">{tr(i18n, |l| td_string!(l, signature.images.registries.intro))}</p>
                <Loaded resource=registries loading=td_string!(locale, signature.images.registries.loading) render=move |list| view! {
                    <table class="table">
                        <thead>
                            <tr>
                                <th>{tr(i18n, |l| td_string!(l, signature.images.registries.col.registry))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.images.registries.col.user))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.images.registries.col.protocol))}</th>
                                <th></th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows_or_empty(list, 4, td_string!(locale, signature.images.registries.empty), move |r| {
                                let id = r.id;
                                view! {
                                    <tr>
                                        <td class="mono">{r.host.clone()}</td>
                                        <td>{match r.username.as_deref() {
                                            None => tr(i18n, |l| td_string!(l, signature.images.registries.shown_to_admins)).into_any(),
                                            Some("") => tr(i18n, |l| td_string!(l, signature.images.registries.anonymous)).into_any(),
                                            Some(user) => user.to_string().into_any(),
                                        }}</td>
                                        <td>{if r.plain_http { "HTTP" } else { "HTTPS" }}</td>
                                        <td class="right">{move || admin.get().then(|| view! {
                                            <button class="btn btn-sm btn-danger" type="button" on:click=move |_| { remove_registry.dispatch(DeleteRegistry { id }); }>{tr(i18n, |l| td_string!(l, signature.images.registries.remove))}</button>
                                        })}</td>
                                    </tr>
                                }
                            })}
                        </tbody>
                    </table>
                }/>
                <Show when=move || admin.get()>
                    <div class="inline-form">
                        <Field label=td_string!(locale, signature.images.registries.host) name="registry-host" error=registry_errors.message("host")>
                            <input id="registry-host" type="text" prop:value=move || registry.with(|r| r.host.clone()) on:input=move |ev| registry.update(|r| r.host = event_target_value(&ev))/>
                        </Field>
                        <Field label=td_string!(locale, signature.images.registries.user) name="registry-user" error=registry_errors.message("username")>
                            <input id="registry-user" type="text" autocomplete="off" prop:value=move || registry.with(|r| r.username.clone()) on:input=move |ev| registry.update(|r| r.username = event_target_value(&ev))/>
                        </Field>
                        <Field label=td_string!(locale, signature.images.registries.password) name="registry-password" error=registry_errors.message("password")>
                            <input id="registry-password" type="password" autocomplete="off" prop:value=move || registry.with(|r| r.password.clone()) on:input=move |ev| registry.update(|r| r.password = event_target_value(&ev))/>
                        </Field>
                    </div>
                    <label class="check">
                        <input type="checkbox" prop:checked=move || registry.with(|r| r.plain_http) on:change=move |ev| registry.update(|r| r.plain_http = event_target_checked(&ev))/>
                        {tr(i18n, |l| td_string!(l, signature.images.registries.plain_http))}
                    </label>
                    <div class="form-actions">
                        <FormError message=registry_error/>
                        <button class="btn" type="button" on:click=move |_| { let r = registry.get_untracked(); let p = r.validate(); submit_checked(save_registry, r, p, registry_errors, registry_error); }>{tr(i18n, |l| td_string!(l, signature.images.registries.save))}</button>
                    </div>
                </Show>
            </section>
        </FeatureGate>
    }
}
