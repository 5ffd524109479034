//! The Images tab: signing images, the signatures made, the registries they are published to,
//! and the inventory of images: their latest scan, where they ran and what admission decided.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;

use crate::signature::api::*;
use crate::signature::model::*;
use crate::auth::context::use_is_admin;
use crate::editions::Feature;
use crate::components::form::{submit_checked, watch_form, Field, FormError, FormErrors};
use crate::format::{date_time, list_href, thousands};
use crate::auth::gate::FeatureGate;
use crate::components::loaded::Loaded;
use crate::components::modal::{AskButton, Asking, ConfirmDialog};
use crate::components::table::{rows_or_empty, Pagination};
use crate::components::toast::toast_outcome;
use crate::assets::model::Severity;
use crate::error::FieldErrors;
use crate::locale::{t, td_string, tr, use_i18n, Locale};
use leptos_i18n::I18nContext;
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
    let query = Memo::new(move |_| query_map.with(filter_from_query));
    let images = Resource::new(
        move || (query.get(), sign.version().get(), publish.version().get(), delete.version().get()),
        |((f, page), ..)| list_images(f.search, Some(page), f.cluster_id, f.namespace, f.unsigned, f.vulnerable, f.never_scanned),
    );
    let clusters = Resource::new(|| (), |_| list_clusters());
    // The cluster chosen in the filter form, before it is applied: its namespaces are offered.
    let chosen_cluster = RwSignal::new(query.with_untracked(|q| q.0.cluster_id));
    // The image whose vulnerabilities are shown: (id, reference).
    let showing = RwSignal::new(None::<(i64, String)>);
    let vulnerabilities = Resource::new(
        move || showing.with(|s| s.as_ref().map(|s| s.0)),
        |id| async move {
            match id {
                Some(id) => list_image_vulnerabilities(id).await,
                None => Ok(Vec::new()),
            }
        },
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
            <form class="toolbar" method="get" action=format!("{BASE}/images") role="search" data-testid="image-filters">
                <input type="search" name="q" placeholder=tr(i18n, |l| td_string!(l, signature.images.search_placeholder))
                    aria-label=tr(i18n, |l| td_string!(l, signature.images.search_label))
                    value=move || query.with(|q| q.0.search.clone())/>
                <select name="cluster" aria-label=tr(i18n, |l| td_string!(l, signature.images.filter.cluster))
                    on:change=move |ev| chosen_cluster.set(event_target_value(&ev).parse::<i64>().ok())>
                    <option value="">{tr(i18n, |l| td_string!(l, signature.images.filter.all_clusters))}</option>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            clusters.await.unwrap_or_default().into_iter().map(|c| {
                                let id = c.id;
                                view! { <option value=id.to_string() selected=move || chosen_cluster.get() == Some(id)>{c.name.clone()}</option> }
                            }).collect_view()
                        })}
                    </Transition>
                </select>
                <select name="ns" aria-label=tr(i18n, |l| td_string!(l, signature.images.filter.namespace)) disabled=move || chosen_cluster.get().is_none()>
                    <option value="">{tr(i18n, |l| td_string!(l, signature.images.filter.all_namespaces))}</option>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let list = clusters.await.unwrap_or_default();
                            move || {
                                let chosen = chosen_cluster.get();
                                let applied = query.with(|q| (q.0.cluster_id, q.0.namespace.clone()));
                                let namespaces = list.iter().find(|c| Some(c.id) == chosen).map(|c| c.namespaces.clone()).unwrap_or_default();
                                namespaces.into_iter().map(|n| {
                                    let selected = applied.0 == chosen && applied.1 == n;
                                    view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
                                }).collect_view()
                            }
                        })}
                    </Transition>
                </select>
                <label class="check">
                    <input type="checkbox" name="unsigned" value="1" checked=move || query.with(|q| q.0.unsigned)/>
                    {tr(i18n, |l| td_string!(l, signature.images.filter.unsigned))}
                </label>
                <label class="check">
                    <input type="checkbox" name="vulnerable" value="1" checked=move || query.with(|q| q.0.vulnerable)/>
                    {tr(i18n, |l| td_string!(l, signature.images.filter.vulnerable))}
                </label>
                <label class="check">
                    <input type="checkbox" name="never_scanned" value="1" checked=move || query.with(|q| q.0.never_scanned)/>
                    {tr(i18n, |l| td_string!(l, signature.images.filter.never_scanned))}
                </label>
                <button class="btn" type="submit">{tr(i18n, |l| td_string!(l, signature.images.filter.apply))}</button>
                {move || (query.with(|q| q.0 != ImageFilter::default())).then(|| view! {
                    <a class="btn btn-link" href=format!("{BASE}/images")>{tr(i18n, |l| td_string!(l, signature.images.filter.clear))}</a>
                })}
            </form>
            <Loaded resource=images loading=td_string!(locale, signature.images.loading) render=move |p: ImagePage| {
                let filter = query.with_untracked(|q| q.0.clone());
                let filtered = filter != ImageFilter::default();
                let images = p.images;
                view! {
                <div class="table-wrap">
                    <table class="table" data-testid="images-table">
                        <thead>
                            <tr>
                                <th>{tr(i18n, |l| td_string!(l, signature.images.col.image))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.images.col.signatures))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.images.col.last_scan))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.images.col.last_decision))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.images.col.runs))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.images.col.last_seen))}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows_or_empty(images, 6, if filtered { td_string!(locale, signature.images.no_match) } else { td_string!(locale, signature.images.empty) }, move |i| {
                                let trusted = !i.trusted_by.is_empty();
                                let reference = i.reference();
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
                                            {(!i.tags.is_empty()).then(|| {
                                                let tags = i.tags.join(", ");
                                                view! { <div class="muted small">{move || fill(td_string!(i18n.get_locale(), signature.images.tags), &[("tags", &tags)])}</div> }
                                            })}
                                        </td>
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
                                        <td data-testid="image-scan">{scan_cell(i18n, i.id, reference, i.scan.clone(), showing)}</td>
                                        <td data-testid="image-decision">
                                            {match i.last_outcome {
                                                Some(o) => view! { <span class=format!("pill status-{}", o.as_str())>{move || o.label_in(i18n.get_locale())}</span> }.into_any(),
                                                None => view! { <span class="muted small">{tr(i18n, |l| td_string!(l, signature.images.no_decision))}</span> }.into_any(),
                                            }}
                                        </td>
                                        <td class="runs-cell" data-testid="image-runs">{runs_cell(i18n, i.runs.clone(), i.runs_total)}</td>
                                        <td class="nowrap">{date_time(Some(i.last_seen_at))}</td>
                                    </tr>
                                }
                            })}
                        </tbody>
                    </table>
                </div>
                <Pagination page=p.page page_count=p.page_count total=p.total href=move |page| images_href(&filter, page)/>
            }}/>
            <Show when=move || showing.with(Option::is_some)>
                <div class="modal-backdrop" on:click=move |_| showing.set(None)>
                    <div class="modal modal-wide" role="dialog" aria-modal="true" aria-label=tr(i18n, |l| td_string!(l, signature.images.vulns.title))
                        on:click=|ev| ev.stop_propagation()
                        on:keydown=move |ev| { if ev.key() == "Escape" { showing.set(None); } }>
                        <div class="modal-header"><h2>{tr(i18n, |l| td_string!(l, signature.images.vulns.title))}</h2></div>
                        <div class="modal-body">
                            <p class="digest">{move || showing.with(|s| s.as_ref().map(|s| s.1.clone()).unwrap_or_default())}</p>
                            <Loaded resource=vulnerabilities loading=td_string!(locale, signature.images.vulns.loading) render=move |list| view! {
                                {vulnerability_table(i18n, list)}
                            }/>
                        </div>
                        <div class="modal-footer">
                            <button class="btn btn-primary" type="button" on:click=move |_| showing.set(None)>{tr(i18n, |l| td_string!(l, signature.action.close))}</button>
                        </div>
                    </div>
                </div>
            </Show>
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
                        <button class="btn" type="button" on:click=move |_| { let r = registry.get_untracked(); let p = r.validate(i18n.get_locale_untracked()); submit_checked(save_registry, r, p, registry_errors, registry_error); }>{tr(i18n, |l| td_string!(l, signature.images.registries.save))}</button>
                    </div>
                </Show>
            </section>
        </FeatureGate>
    }
}

/// The Images tab's filters and page, as the address holds them
/// (`?q=…&cluster=3&ns=shop&unsigned=1&vulnerable=1&never_scanned=1&page=2`).
fn filter_from_query(query: &ParamsMap) -> (ImageFilter, i64) {
    let on = |name: &str| query.get(name).is_some_and(|v| !v.is_empty() && v != "0");
    let cluster_id = query.get("cluster").and_then(|c| c.parse::<i64>().ok());
    let filter = ImageFilter {
        search: query.get("q").unwrap_or_default(),
        cluster_id,
        // A namespace narrows a cluster: alone it means nothing.
        namespace: if cluster_id.is_some() { query.get("ns").unwrap_or_default() } else { String::new() },
        unsigned: on("unsigned"),
        vulnerable: on("vulnerable"),
        never_scanned: on("never_scanned"),
    };
    (filter, query.get("page").and_then(|p| p.parse::<i64>().ok()).unwrap_or(1))
}

/// The address of a page of the Images tab with these filters.
fn images_href(filter: &ImageFilter, page: i64) -> String {
    let mut extra = Vec::new();
    if let Some(id) = filter.cluster_id {
        extra.push(("cluster", id.to_string()));
        if !filter.namespace.is_empty() {
            extra.push(("ns", filter.namespace.clone()));
        }
    }
    for (name, on) in [("unsigned", filter.unsigned), ("vulnerable", filter.vulnerable), ("never_scanned", filter.never_scanned)] {
        if on {
            extra.push((name, "1".to_string()));
        }
    }
    list_href(&format!("{BASE}/images"), &filter.search, &extra, page)
}

/// An image's latest scan: when, the counts by severity, and a button that lists its
/// vulnerabilities; "Never scanned" without one.
fn scan_cell(i18n: I18nContext<Locale>, image_id: i64, reference: String, scan: Option<ScanSummary>, showing: RwSignal<Option<(i64, String)>>) -> AnyView {
    let Some(scan) = scan else {
        return view! { <span class="muted">{tr(i18n, |l| td_string!(l, signature.images.never_scanned))}</span> }.into_any();
    };
    let counts = scan.counts;
    let detail = {
        let (scanner, packages) = (scan.scanner.clone(), scan.packages);
        // A report without its package list (`--list-all-pkgs=false`) says nothing of packages.
        move || match packages {
            0 => scanner.clone(),
            n => fill(td_string!(i18n.get_locale(), signature.images.scan_detail), &[("scanner", &scanner), ("packages", &thousands(n))]),
        }
    };
    view! {
        <div class="nowrap">{date_time(Some(scan.scanned_at))}</div>
        <div class="sev-counts">
            {if counts.total() == 0 {
                view! { <span class="muted small">{tr(i18n, |l| td_string!(l, signature.images.no_findings))}</span> }.into_any()
            } else {
                Severity::ALL.iter().map(|s| {
                    let s = *s;
                    let n = counts.get(s);
                    view! { <span class=format!("sev-mini sev-{}", s.as_str()) class:zero=n == 0 title=move || s.label_in(i18n.get_locale())>{n}</span> }
                }).collect_view().into_any()
            }}
        </div>
        <div class="muted small">{detail}</div>
        {(counts.total() > 0).then(|| view! {
            <button class="btn btn-sm" type="button" on:click=move |_| showing.set(Some((image_id, reference.clone())))>
                {tr(i18n, |l| td_string!(l, signature.images.show_vulnerabilities))}
            </button>
        })}
    }
    .into_any()
}

/// Runs listed in a row before "and N more".
const RUNS_SHOWN: usize = 3;

/// Where an image ran: cluster / namespace, the workload, and when it was first and last seen there.
fn runs_cell(i18n: I18nContext<Locale>, runs: Vec<ImageRun>, total: i64) -> AnyView {
    if runs.is_empty() {
        return "—".into_any();
    }
    let more = (total.max(runs.len() as i64) as usize).saturating_sub(RUNS_SHOWN);
    view! {
        <ul class="sig-list small">
            {runs.into_iter().take(RUNS_SHOWN).map(|r| {
                let (first, last) = (date_time(Some(r.first_seen_at)), date_time(Some(r.last_seen_at)));
                let workload = if r.workload_kind.is_empty() { r.workload_name.clone() } else { format!("{} {}", r.workload_kind, r.workload_name) };
                view! {
                    <li>
                        <strong>{format!("{} / {}", r.cluster_name, r.namespace)}</strong>
                        {(!workload.trim().is_empty()).then(|| view! { <div>{workload.clone()}</div> })}
                        <div class="muted">{move || fill(td_string!(i18n.get_locale(), signature.images.run_seen), &[("first", &first), ("last", &last)])}</div>
                    </li>
                }
            }).collect_view()}
            {(more > 0).then(|| {
                let count = more.to_string();
                view! { <li class="muted">{move || fill(td_string!(i18n.get_locale(), signature.images.more_runs), &[("count", &count)])}</li> }
            })}
        </ul>
    }
    .into_any()
}

/// The vulnerabilities of an image's latest scan, most severe first, each with the exception
/// that lets it pass.
fn vulnerability_table(i18n: I18nContext<Locale>, list: Vec<ImageVulnerabilityView>) -> impl IntoView {
    let locale = i18n.get_locale_untracked();
    view! {
        <div class="table-wrap">
            <table class="table" data-testid="image-vulnerabilities">
                <thead>
                    <tr>
                        <th>{tr(i18n, |l| td_string!(l, signature.images.vulns.col.severity))}</th>
                        <th>{tr(i18n, |l| td_string!(l, signature.images.vulns.col.id))}</th>
                        <th>{tr(i18n, |l| td_string!(l, signature.images.vulns.col.package))}</th>
                        <th>{tr(i18n, |l| td_string!(l, signature.images.vulns.col.installed))}</th>
                        <th>{tr(i18n, |l| td_string!(l, signature.images.vulns.col.fixed))}</th>
                        <th>{tr(i18n, |l| td_string!(l, signature.images.vulns.col.exception))}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows_or_empty(list, 6, td_string!(locale, signature.images.vulns.empty), move |v| {
                        let severity = v.severity;
                        let until = v.excepted_until.map(|at| date_time(Some(at)));
                        view! {
                            <tr>
                                <td><span class=format!("sev sev-{}", severity.as_str())>{move || severity.label_in(i18n.get_locale())}</span></td>
                                <td class="mono" title=v.title.clone()>{v.vulnerability_id.clone()}</td>
                                <td>
                                    {v.package.clone()}
                                    {(v.source == "osv").then(|| view! { <div class="muted small">{tr(i18n, |l| td_string!(l, signature.images.vulns.from_osv))}</div> })}
                                </td>
                                <td class="mono small">{v.installed_version.clone()}</td>
                                <td class="mono small">
                                    {if v.fixed_version.is_empty() {
                                        view! { <span class="muted">{tr(i18n, |l| td_string!(l, signature.images.vulns.no_fix))}</span> }.into_any()
                                    } else {
                                        v.fixed_version.clone().into_any()
                                    }}
                                </td>
                                <td class="small">
                                    {match until {
                                        Some(at) => view! { <span class="pill status-active">{move || fill(td_string!(i18n.get_locale(), signature.images.vulns.excepted_until), &[("date", &at)])}</span> }.into_any(),
                                        None => "—".into_any(),
                                    }}
                                </td>
                            </tr>
                        }
                    })}
                </tbody>
            </table>
        </div>
    }
}
