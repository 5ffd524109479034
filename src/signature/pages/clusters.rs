//! The Clusters tab: registered clusters and the validation hook each installs to ask Bulwark.

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
use crate::locale::{t, td_string, tr, use_i18n};
use super::SignatureHeader;
use crate::locale::fill;

#[component]
pub fn SignatureClustersPage() -> impl IntoView {
    let save = Action::new(|(id, input): &(Option<i64>, ClusterInput)| {
        let (id, input) = (*id, input.clone());
        async move {
            match id {
                Some(id) => update_cluster(id, input).await.map(|_| id),
                None => create_cluster(input).await,
            }
        }
    });
    let delete = ServerAction::<DeleteCluster>::new();
    let rotate = ServerAction::<RotateClusterToken>::new();
    let clusters = Resource::new(move || (save.version().get(), delete.version().get(), rotate.version().get()), |_| list_clusters());
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    toast_outcome(move || delete.value().get(), td_string!(locale, signature.clusters.deleted), || ());
    let editing = RwSignal::new(None::<i64>);
    let input = RwSignal::new(ClusterInput::default());
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    watch_form(save, errors, form_error, td_string!(locale, signature.clusters.saved), move |_| {
        editing.set(None);
        input.set(ClusterInput::default());
    });
    // The cluster whose hook configuration is shown.
    let hook_for = RwSignal::new(None::<i64>);
    let hook = Resource::new(move || (hook_for.get(), rotate.version().get()), |(id, _)| async move {
        match id {
            Some(id) => get_hook_instructions(id).await.map(Some),
            None => Ok(None),
        }
    });
    toast_outcome(move || rotate.value().get(), td_string!(locale, signature.clusters.token_rotated), || ());
    let asking: Asking = RwSignal::new(None);
    let admin = use_is_admin();
    view! {
        <SignatureHeader current="/precaution/container-signature/clusters"/>
        <FeatureGate feature=Feature::ContainerSignature>
            <ConfirmDialog asking title=td_string!(locale, signature.clusters.delete_title)
                question=|name| fill(td_string!(use_i18n().get_locale(), signature.clusters.delete_question), &[("name", name)])
                confirm_label=td_string!(locale, signature.action.delete) on_confirm=Callback::new(move |id| { delete.dispatch(DeleteCluster { id }); })/>
            <Show when=move || admin.get()>
                <section class="card" data-testid="cluster-form">
                    <h2>
                        {move || if editing.get().is_some() {
                            td_string!(i18n.get_locale(), signature.clusters.edit)
                        } else {
                            td_string!(i18n.get_locale(), signature.clusters.register_title)
                        }}
                    </h2>
                    <div class="inline-form">
                        <Field label=td_string!(locale, signature.clusters.name) name="cluster-name" error=errors.message("name")>
                            <input id="cluster-name" type="text" maxlength="64" prop:value=move || input.with(|i| i.name.clone())
                                on:input=move |ev| input.update(|i| i.name = event_target_value(&ev))/>
                        </Field>
                        <Field label=td_string!(locale, signature.clusters.region) name="cluster-region" error=errors.message("region")>
                            <input id="cluster-region" type="text" maxlength="64" prop:value=move || input.with(|i| i.region.clone())
                                on:input=move |ev| input.update(|i| i.region = event_target_value(&ev))/>
                        </Field>
                    </div>
                    <Field label=td_string!(locale, signature.clusters.namespaces) name="cluster-namespaces" error=errors.message("namespaces")
                        hint=td_string!(locale, signature.clusters.namespaces_hint)>
                        <textarea id="cluster-namespaces" rows="2" prop:value=move || input.with(|i| i.namespaces.clone())
                            on:input=move |ev| input.update(|i| i.namespaces = event_target_value(&ev))></textarea>
                    </Field>
                    <div class="form-actions">
                        <FormError message=form_error/>
                        <Show when=move || editing.get().is_some()>
                            <button class="btn" type="button" on:click=move |_| { editing.set(None); input.set(ClusterInput::default()); }>{tr(i18n, |l| td_string!(l, signature.action.cancel))}</button>
                        </Show>
                        <button class="btn btn-primary" type="button" disabled=move || save.pending().get()
                            on:click=move |_| { let i = input.get_untracked(); let p = i.validate(i18n.get_locale_untracked()); submit_checked(save, (editing.get_untracked(), i), p, errors, form_error); }>
                            {move || if editing.get().is_some() {
                                td_string!(i18n.get_locale(), signature.clusters.save)
                            } else {
                                td_string!(i18n.get_locale(), signature.clusters.register)
                            }}
                        </button>
                    </div>
                </section>
            </Show>
            <Loaded resource=clusters loading=td_string!(locale, signature.clusters.loading) render=move |clusters| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="clusters-table">
                        <thead>
                            <tr>
                                <th>{tr(i18n, |l| td_string!(l, signature.clusters.col.cluster))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.clusters.col.region))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.clusters.col.namespaces))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.clusters.col.hook))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.clusters.col.policies))}</th>
                                <th></th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows_or_empty(clusters, 6, td_string!(locale, signature.clusters.empty), move |c| {
                                let asked = (c.id, c.name.clone());
                                let id = c.id;
                                let edit_input = ClusterInput { name: c.name.clone(), region: c.region.clone(), namespaces: c.namespaces.join(", ") };
                                view! {
                                    <tr>
                                        <td><strong>{c.name.clone()}</strong></td>
                                        <td>{c.region.clone()}</td>
                                        <td class="small">{c.namespaces.join(", ")}</td>
                                        <td data-testid="hook-state">
                                            {match c.hook_seen_at {
                                                Some(at) => {
                                                    let at = date_time(Some(at));
                                                    view! {
                                                        <span class="pill status-installed">{tr(i18n, |l| td_string!(l, signature.clusters.installed))}</span>
                                                        <div class="muted small">{t!(i18n, signature.clusters.last_call, at = at.clone())}</div>
                                                    }.into_any()
                                                }
                                                None => view! { <span class="pill status-not_installed">{tr(i18n, |l| td_string!(l, signature.clusters.not_installed))}</span> }.into_any(),
                                            }}
                                        </td>
                                        <td class="small">{if c.policies.is_empty() { "—".to_string() } else { c.policies.join(", ") }}</td>
                                        <td class="right row-actions">
                                            {move || admin.get().then(|| {
                                                let edit_input = edit_input.clone();
                                                view! {
                                                    <button class="btn btn-sm btn-primary" type="button" on:click=move |_| hook_for.set(Some(id))>{tr(i18n, |l| td_string!(l, signature.clusters.install_hook))}</button>
                                                    <button class="btn btn-sm" type="button" on:click=move |_| { editing.set(Some(id)); input.set(edit_input.clone()); }>{tr(i18n, |l| td_string!(l, signature.action.edit))}</button>
                                                    <AskButton asking item=asked.clone() label=td_string!(locale, signature.action.delete)/>
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
            <Show when=move || hook_for.with(Option::is_some)>
                <div class="modal-backdrop" on:click=move |_| hook_for.set(None)>
                    <div class="modal modal-wide" role="dialog" aria-modal="true" aria-label=tr(i18n, |l| td_string!(l, signature.clusters.install_hook)) on:click=|ev| ev.stop_propagation()>
                        <div class="modal-header"><h2>{tr(i18n, |l| td_string!(l, signature.clusters.install_hook))}</h2></div>
                        <div class="modal-body">
                            <Loaded resource=hook loading=td_string!(locale, signature.clusters.preparing) render={move |hook: Option<HookInstructions>| hook.map(|h| view! {
                                <p>
                                    {tr(i18n, |l| td_string!(l, signature.clusters.apply_before))}
                                    <code>"kubectl apply -f bulwark-hook.yaml"</code>
                                    {tr(i18n, |l| td_string!(l, signature.clusters.apply_after))}
                                </p>
                                {(!h.url.starts_with("https://")).then(|| view! {
                                    <div class="notice notice-warning">{tr(i18n, |l| td_string!(l, signature.clusters.https_only))}</div>
                                })}
                                {(!h.tls).then(|| view! { <p class="muted small">{tr(i18n, |l| td_string!(l, signature.clusters.no_ca_bundle))}</p> })}
                                <pre class="code-block" data-testid="hook-yaml">{h.yaml}</pre>
                                <p class="muted small">{tr(i18n, |l| td_string!(l, signature.clusters.url_token))}</p>
                            })}/>
                        </div>
                        <div class="modal-footer">
                            <button class="btn" type="button" on:click=move |_| { if let Some(id) = hook_for.get_untracked() { rotate.dispatch(RotateClusterToken { id }); } }>{tr(i18n, |l| td_string!(l, signature.clusters.new_token))}</button>
                            <button class="btn btn-primary" type="button" on:click=move |_| hook_for.set(None)>{tr(i18n, |l| td_string!(l, signature.action.close))}</button>
                        </div>
                    </div>
                </div>
            </Show>
        </FeatureGate>
    }
}
