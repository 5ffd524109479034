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
use super::{SignatureHeader, BASE};

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
        |((search, page), ..)| list_images(search, Some(page)),
    );
    let witnesses = Resource::new(|| (), |_| list_witnesses());
    let registries = Resource::new(move || (save_registry.version().get(), remove_registry.version().get()), |_| list_registries());
    toast_outcome(move || publish.value().get(), "Signature published to the registry.", || ());
    toast_outcome(move || delete.value().get(), "Signature deleted.", || ());
    toast_outcome(move || remove_registry.value().get(), "Registry removed.", || ());
    let input = RwSignal::new(SignInput::default());
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    let signed = RwSignal::new(None::<SignOutcome>);
    watch_form(sign, errors, form_error, "Image signed.", move |outcome| signed.set(Some(outcome)));
    let registry = RwSignal::new(RegistryInput::default());
    let registry_errors = FormErrors::new();
    let registry_error = RwSignal::new(None::<String>);
    watch_form(save_registry, registry_errors, registry_error, "Registry saved.", move |_| registry.set(RegistryInput::default()));
    let asking: Asking = RwSignal::new(None);
    let admin = use_is_admin();
    view! {
        <SignatureHeader current="/precaution/container-signature/images"/>
        <FeatureGate feature=Feature::ContainerSignature>
            <ConfirmDialog asking title="Delete signature" question=|name| format!("Delete the signature by {name}? The image is no longer trusted through it, at once.")
                confirm_label="Delete" on_confirm=Callback::new(move |id| { delete.dispatch(DeleteSignature { id }); })/>
            <Show when=move || admin.get()>
                <section class="card" data-testid="sign-image">
                    <h2>"Sign an image"</h2>
                    <div class="inline-form">
                        <Field label="Image" name="sign-image-ref" error=errors.message("image") hint="registry/repository@sha256:<64 hex digits>; a tag is optional.">
                            <input id="sign-image-ref" type="text" size="60" prop:value=move || input.with(|i| i.image.clone())
                                on:input=move |ev| input.update(|i| i.image = event_target_value(&ev))/>
                        </Field>
                        <Field label="Witness" name="sign-witness" error=errors.message("witness")>
                            <select id="sign-witness" on:change=move |ev| input.update(|i| i.witness = event_target_value(&ev))>
                                <option value="" selected=move || input.with(|i| i.witness.is_empty())>"Choose a witness"</option>
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
                        "Publish the signature to the image's registry (cosign layout)"
                    </label>
                    <div class="form-actions">
                        <FormError message=form_error/>
                        <button class="btn btn-primary" type="button" disabled=move || sign.pending().get()
                            on:click=move |_| {
                                let value = input.get_untracked();
                                let mut problems = FieldErrors::new();
                                if value.image.trim().is_empty() { problems.insert("image".into(), "Enter the image to sign, by digest.".into()); }
                                if value.witness.is_empty() { problems.insert("witness".into(), "Choose the witness that signs.".into()); }
                                submit_checked(sign, value, problems, errors, form_error);
                            }>
                            {move || if sign.pending().get() { "Signing…" } else { "Sign" }}
                        </button>
                    </div>
                    {move || signed.get().map(|s| view! {
                        <div class="notice notice-info" data-testid="sign-outcome">
                            <p>{format!("Signed {}@{} as {} (key {} v{}).", s.image, s.digest, s.witness, s.key_id, s.key_version)}</p>
                            <p>
                                <a href=format!("{BASE}/signatures/{}/payload.json", s.signature_id) download>"Download payload"</a>
                                " · "
                                <a href=format!("{BASE}/signatures/{}/signature.sig", s.signature_id) download>"Download signature"</a>
                            </p>
                            {s.published_tag.clone().map(|t| view! { <p>{format!("Published as {t}.")}</p> })}
                            {s.publish_error.clone().map(|e| view! { <p class="warning-text">{format!("Signed, but not published: {e}")}</p> })}
                        </div>
                    })}
                </section>
            </Show>
            <form class="toolbar" method="get" action=format!("{BASE}/images") role="search">
                <input type="search" name="q" placeholder="Search repository or digest" aria-label="Search images"
                    prop:value=move || query.with(|q| q.0.clone())/>
                <button class="btn" type="submit">"Search"</button>
            </form>
            <Loaded resource=images loading="Loading images…" render=move |p: ImagePage| {
                let search = query.with_untracked(|q| q.0.clone());
                let images = p.images;
                view! {
                <div class="table-wrap">
                    <table class="table" data-testid="images-table">
                        <thead><tr><th>"Image"</th><th>"Tags"</th><th>"Signatures"</th><th>"Where it ran"</th><th>"Last seen"</th></tr></thead>
                        <tbody>
                            {rows_or_empty(images, 5, if search.is_empty() { "No images yet: sign one, or wait for the admission hook to meet some." } else { "No images match this search." }, move |i| {
                                let trusted = !i.trusted_by.is_empty();
                                view! {
                                    <tr>
                                        <td>
                                            <strong>{i.repository.clone()}</strong>
                                            {trusted.then(|| view! { <span class="badge trusted" title=format!("Trusted by {}", i.trusted_by.join(", "))>"Trusted Image"</span> })}
                                            <div class="digest">{if i.digest.is_empty() { "(by tag only: not pinned)".to_string() } else { i.digest.clone() }}</div>
                                        </td>
                                        <td class="small">{i.tags.join(", ")}</td>
                                        <td>
                                            <ul class="sig-list small">
                                                {if i.signatures.is_empty() {
                                                    view! { <li class="muted">"Unsigned"</li> }.into_any()
                                                } else {
                                                    i.signatures.into_iter().map(|s| {
                                                        let asked = (s.id, s.witness_name.clone());
                                                        let id = s.id;
                                                        view! {
                                                            <li>
                                                                {format!("{} (key {} v{})", s.witness_name, s.key_id, s.key_version)}
                                                                {(!s.key_enabled).then(|| view! { <span class="pill status-disabled">"Key disabled"</span> })}
                                                                <div class="muted">{format!("{} by {}", date_time(Some(s.created_at)), s.signed_by)}</div>
                                                                {s.published_tag.clone().map(|t| view! { <div>{format!("Published: {t}")}</div> })}
                                                                {s.publish_error.clone().map(|e| view! { <div class="warning-text">{format!("Not published: {e}")}</div> })}
                                                                <a href=format!("{BASE}/signatures/{id}/payload.json") download>"Payload"</a>
                                                                " · "
                                                                <a href=format!("{BASE}/signatures/{id}/signature.sig") download>"Signature"</a>
                                                                {move || admin.get().then(|| view! {
                                                                    " "
                                                                    <button class="btn btn-sm" type="button" on:click=move |_| { publish.dispatch(PublishSignature { id }); }>"Publish"</button>
                                                                    " "
                                                                    <AskButton asking item=asked.clone() label="Delete"/>
                                                                })}
                                                            </li>
                                                        }
                                                    }).collect_view().into_any()
                                                }}
                                            </ul>
                                        </td>
                                        <td class="small">{if i.runs.is_empty() { "—".to_string() } else { i.runs.join(", ") }}</td>
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
                <h2>"Registries"</h2>
                <p class="muted">"Credentials for publishing signatures. Passwords are stored encrypted. Without an entry, a registry is reached anonymously over HTTPS."</p>
                <Loaded resource=registries loading="Loading registries…" render=move |list| view! {
                    <table class="table">
                        <thead><tr><th>"Registry"</th><th>"User"</th><th>"Protocol"</th><th></th></tr></thead>
                        <tbody>
                            {rows_or_empty(list, 4, "No registry credentials.", move |r| {
                                let id = r.id;
                                view! {
                                    <tr>
                                        <td class="mono">{r.host.clone()}</td>
                                        <td>{match r.username.as_deref() {
                                            None => "(shown to admins)".to_string(),
                                            Some("") => "(anonymous)".to_string(),
                                            Some(user) => user.to_string(),
                                        }}</td>
                                        <td>{if r.plain_http { "HTTP" } else { "HTTPS" }}</td>
                                        <td class="right">{move || admin.get().then(|| view! {
                                            <button class="btn btn-sm btn-danger" type="button" on:click=move |_| { remove_registry.dispatch(DeleteRegistry { id }); }>"Remove"</button>
                                        })}</td>
                                    </tr>
                                }
                            })}
                        </tbody>
                    </table>
                }/>
                <Show when=move || admin.get()>
                    <div class="inline-form">
                        <Field label="Registry host" name="registry-host" error=registry_errors.message("host")>
                            <input id="registry-host" type="text" prop:value=move || registry.with(|r| r.host.clone()) on:input=move |ev| registry.update(|r| r.host = event_target_value(&ev))/>
                        </Field>
                        <Field label="User" name="registry-user" error=registry_errors.message("username")>
                            <input id="registry-user" type="text" autocomplete="off" prop:value=move || registry.with(|r| r.username.clone()) on:input=move |ev| registry.update(|r| r.username = event_target_value(&ev))/>
                        </Field>
                        <Field label="Password or token" name="registry-password" error=registry_errors.message("password")>
                            <input id="registry-password" type="password" autocomplete="off" prop:value=move || registry.with(|r| r.password.clone()) on:input=move |ev| registry.update(|r| r.password = event_target_value(&ev))/>
                        </Field>
                    </div>
                    <label class="check">
                        <input type="checkbox" prop:checked=move || registry.with(|r| r.plain_http) on:change=move |ev| registry.update(|r| r.plain_http = event_target_checked(&ev))/>
                        "Plain HTTP (a registry without TLS, such as one on this network)"
                    </label>
                    <div class="form-actions">
                        <FormError message=registry_error/>
                        <button class="btn" type="button" on:click=move |_| { let r = registry.get_untracked(); let p = r.validate(); submit_checked(save_registry, r, p, registry_errors, registry_error); }>"Save registry"</button>
                    </div>
                </Show>
            </section>
        </FeatureGate>
    }
}
