//! Container signature pages (Precaution › Container Signature): Witness, Security Policy,
//! Images, Keys, Clusters and the Admission log, each a tab of one area.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::api::*;
use super::model::*;
use crate::app::use_is_admin;
use crate::auth::editions::Feature;
use crate::components::form::{submit_checked, watch_form, Field, FormError, FormErrors, SetCheckbox};
use crate::components::format::{date, date_time, list_href, url_encode};
use crate::components::gate::FeatureGate;
use crate::components::loaded::Loaded;
use crate::components::modal::{AskButton, Asking, ConfirmDialog};
use crate::components::table::{rows_or_empty, Pagination};
use crate::components::toast::toast_outcome;
use crate::components::toggle::Toggle;
use crate::error::{AppError, FieldErrors};

const BASE: &str = "/precaution/container-signature";

#[component]
fn SignatureHeader(current: &'static str) -> impl IntoView {
    let tabs = [
        (BASE.to_string(), "Witness"),
        (format!("{BASE}/policies"), "Security Policy"),
        (format!("{BASE}/images"), "Images"),
        (format!("{BASE}/keys"), "Keys"),
        (format!("{BASE}/clusters"), "Clusters"),
        (format!("{BASE}/decisions"), "Admission log"),
    ];
    view! {
        <div class="page-header">
            <div>
                <h1>"Container Signature"</h1>
                <p class="subtitle">"Sign images with witnesses' keys; the admission hook admits only what your policies trust."</p>
            </div>
        </div>
        <nav class="tabs">
            {tabs
                .into_iter()
                .map(|(href, label)| {
                    let here = label == current;
                    view! { <a class="tab" href=href aria-current=if here { "page" } else { "false" }>{label}</a> }
                })
                .collect_view()}
        </nav>
    }
}

fn state_pill(state: KeyState) -> impl IntoView {
    view! { <span class=format!("pill status-{}", state.as_str())>{state.label()}</span> }
}

// ---- Keys ----------------------------------------------------------------------------------

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
    toast_outcome(move || toggle.value().get(), "Key updated.", || ());
    toast_outcome(move || rotate.value().get(), "New key version created: it signs from now on.", || ());
    toast_outcome(move || cancel.value().get(), "Deletion cancelled; the key is disabled until you enable it.", || ());
    let input = RwSignal::new(KeyInput { spec: "RSA_2048".into(), usage: "SIGN/VERIFY".into(), ..KeyInput::default() });
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    watch_form(create, errors, form_error, "Key created.", move |_| {
        input.set(KeyInput { spec: "RSA_2048".into(), usage: "SIGN/VERIFY".into(), ..KeyInput::default() })
    });
    // The key being scheduled for deletion, and the window typed for it.
    let deleting = RwSignal::new(None::<String>);
    let days = RwSignal::new("30".to_string());
    let delete_errors = FormErrors::new();
    let delete_error = RwSignal::new(None::<String>);
    watch_form(schedule, delete_errors, delete_error, "Deletion scheduled.", move |_| deleting.set(None));
    let admin = use_is_admin();
    view! {
        <SignatureHeader current="Keys"/>
        <FeatureGate feature=Feature::ContainerSignature>
            <Show when=move || admin.get()>
                <section class="card" data-testid="create-key">
                    <h2>"Create key"</h2>
                    <p class="muted">"Keys are generated here and never leave the console; their private halves are stored encrypted."</p>
                    <div class="inline-form">
                        <Field label="Alias" name="key-alias" error=errors.message("alias")>
                            <input id="key-alias" type="text" maxlength="64" prop:value=move || input.with(|i| i.alias.clone())
                                on:input=move |ev| input.update(|i| i.alias = event_target_value(&ev))/>
                        </Field>
                        <Field label="Key Spec" name="key-spec" error=errors.message("spec")>
                            <select id="key-spec" on:change=move |ev| input.update(|i| i.spec = event_target_value(&ev))>
                                {KeySpec::ALL.iter().map(|s| view! { <option value=s.as_str() selected=move || input.with(|i| i.spec == s.as_str())>{s.as_str()}</option> }).collect_view()}
                            </select>
                        </Field>
                        <Field label="Purpose" name="key-usage" error=errors.message("usage")>
                            <select id="key-usage" on:change=move |ev| input.update(|i| i.usage = event_target_value(&ev))>
                                {KeyUsage::ALL.iter().map(|u| view! { <option value=u.as_str() selected=move || input.with(|i| i.usage == u.as_str())>{u.as_str()}</option> }).collect_view()}
                            </select>
                        </Field>
                    </div>
                    <Field label="Description" name="key-description" error=errors.message("description")>
                        <input id="key-description" type="text" maxlength="256" prop:value=move || input.with(|i| i.description.clone())
                            on:input=move |ev| input.update(|i| i.description = event_target_value(&ev))/>
                    </Field>
                    <div class="form-actions">
                        <FormError message=form_error/>
                        <button class="btn btn-primary" type="button" disabled=move || create.pending().get()
                            on:click=move |_| { let i = input.get_untracked(); let p = i.validate(); submit_checked(create, i, p, errors, form_error); }>
                            {move || if create.pending().get() { "Generating…" } else { "Create key" }}
                        </button>
                    </div>
                </section>
            </Show>
            <Loaded resource=keys loading="Loading keys…" render=move |keys| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="keys-table">
                        <thead><tr><th>"Key"</th><th>"Key Spec"</th><th>"Purpose"</th><th>"Status"</th><th>"Versions"</th><th>"Created"</th><th></th></tr></thead>
                        <tbody>
                            {rows_or_empty(keys, 7, "No keys yet: create one to sign with.", move |k| {
                                let key_id = k.key_id.clone();
                                let (toggle_id, rotate_id, cancel_id, delete_id) = (key_id.clone(), key_id.clone(), key_id.clone(), key_id.clone());
                                let enabled = k.state == KeyState::Enabled;
                                let pending = k.state == KeyState::PendingDeletion;
                                let label = k.display_name();
                                view! {
                                    <tr>
                                        <td>
                                            <strong>{k.alias.clone().unwrap_or_else(|| "(no alias)".into())}</strong>
                                            <div class="mono small">{k.key_id.clone()}</div>
                                            <div class="muted small">{k.description.clone()}</div>
                                            {(!k.witnesses.is_empty()).then(|| view! { <div class="small">{format!("Witnesses: {}", k.witnesses.join(", "))}</div> })}
                                        </td>
                                        <td>{k.spec.as_str()}</td>
                                        <td>{k.usage.as_str()}</td>
                                        <td>
                                            {state_pill(k.state)}
                                            {k.deletion_at.map(|at| view! { <div class="small warning-text">{format!("Deleted on {}", date(at))}</div> })}
                                        </td>
                                        <td>
                                            <ul class="sig-list small">
                                                {k.versions.iter().map(|v| {
                                                    let href = format!("{BASE}/keys/{}/public-key.pem?version={}", url_encode(&k.key_id), v.version);
                                                    let primary = v.version == k.primary_version;
                                                    view! {
                                                        <li>
                                                            {format!("v{}{}", v.version, if primary { " (primary)" } else { "" })}
                                                            " " <span class="mono muted">{v.fingerprint.chars().take(19).collect::<String>()}</span>
                                                            " " <a href=href download>"Public key"</a>
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
                                                            on:click=move |_| { cancel.dispatch(CancelKeyDeletion { key_id: cancel_id.clone() }); }>"Cancel deletion"</button>
                                                    }.into_any()
                                                } else {
                                                    view! {
                                                        <Toggle checked=enabled label=format!("Enable {label}")
                                                            on_change=Callback::new(move |on| { toggle.dispatch(SetKeyEnabled { key_id: toggle_id.clone(), enabled: on }); })/>
                                                        <button class="btn btn-sm" type="button" disabled=!enabled
                                                            on:click=move |_| { rotate.dispatch(RotateKey { key_id: rotate_id.clone() }); }>"New version"</button>
                                                        <button class="btn btn-sm btn-danger" type="button"
                                                            on:click=move |_| { delete_errors.0.set(FieldErrors::new()); delete_error.set(None); deleting.set(Some(delete_id.clone())); }>
                                                            "Schedule deletion"
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
                    <div class="modal" role="dialog" aria-modal="true" aria-label="Schedule key deletion" on:click=|ev| ev.stop_propagation()>
                        <div class="modal-header"><h2>"Schedule key deletion"</h2></div>
                        <div class="modal-body">
                            <p>{move || format!("{} will be disabled now and deleted, with every signature it made, after the pending window. You can cancel until then.", deleting.get().unwrap_or_default())}</p>
                            <Field label="Pending window (days)" name="deletion-days" error=delete_errors.message("days") hint="7 to 366 days.">
                                <input id="deletion-days" type="text" inputmode="numeric" size="5" bind:value=days/>
                            </Field>
                            <FormError message=delete_error/>
                        </div>
                        <div class="modal-footer">
                            <button class="btn" type="button" on:click=move |_| deleting.set(None)>"Cancel"</button>
                            <button class="btn btn-danger" type="button" disabled=move || schedule.pending().get()
                                on:click=move |_| { if let Some(key) = deleting.get_untracked() { schedule.dispatch((key, days.get_untracked())); } }>
                                "Schedule deletion"
                            </button>
                        </div>
                    </div>
                </div>
            </Show>
        </FeatureGate>
    }
}

// ---- Clusters ------------------------------------------------------------------------------

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
    toast_outcome(move || delete.value().get(), "Cluster deleted.", || ());
    let editing = RwSignal::new(None::<i64>);
    let input = RwSignal::new(ClusterInput::default());
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    watch_form(save, errors, form_error, "Cluster saved.", move |_| {
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
    toast_outcome(move || rotate.value().get(), "New token: apply the configuration again in the cluster.", || ());
    let asking: Asking = RwSignal::new(None);
    let admin = use_is_admin();
    view! {
        <SignatureHeader current="Clusters"/>
        <FeatureGate feature=Feature::ContainerSignature>
            <ConfirmDialog asking title="Delete cluster" question=|name| format!("Delete the cluster \"{name}\" and its admission log?")
                confirm_label="Delete" on_confirm=Callback::new(move |id| { delete.dispatch(DeleteCluster { id }); })/>
            <Show when=move || admin.get()>
                <section class="card" data-testid="cluster-form">
                    <h2>{move || if editing.get().is_some() { "Edit cluster" } else { "Register a cluster" }}</h2>
                    <div class="inline-form">
                        <Field label="Cluster name" name="cluster-name" error=errors.message("name")>
                            <input id="cluster-name" type="text" maxlength="64" prop:value=move || input.with(|i| i.name.clone())
                                on:input=move |ev| input.update(|i| i.name = event_target_value(&ev))/>
                        </Field>
                        <Field label="Region" name="cluster-region" error=errors.message("region")>
                            <input id="cluster-region" type="text" maxlength="64" prop:value=move || input.with(|i| i.region.clone())
                                on:input=move |ev| input.update(|i| i.region = event_target_value(&ev))/>
                        </Field>
                    </div>
                    <Field label="Namespaces" name="cluster-namespaces" error=errors.message("namespaces") hint="Separated by commas or new lines.">
                        <textarea id="cluster-namespaces" rows="2" prop:value=move || input.with(|i| i.namespaces.clone())
                            on:input=move |ev| input.update(|i| i.namespaces = event_target_value(&ev))></textarea>
                    </Field>
                    <div class="form-actions">
                        <FormError message=form_error/>
                        <Show when=move || editing.get().is_some()>
                            <button class="btn" type="button" on:click=move |_| { editing.set(None); input.set(ClusterInput::default()); }>"Cancel"</button>
                        </Show>
                        <button class="btn btn-primary" type="button" disabled=move || save.pending().get()
                            on:click=move |_| { let i = input.get_untracked(); let p = i.validate(); submit_checked(save, (editing.get_untracked(), i), p, errors, form_error); }>
                            {move || if editing.get().is_some() { "Save cluster" } else { "Register cluster" }}
                        </button>
                    </div>
                </section>
            </Show>
            <Loaded resource=clusters loading="Loading clusters…" render=move |clusters| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="clusters-table">
                        <thead><tr><th>"Cluster"</th><th>"Region"</th><th>"Namespaces"</th><th>"Validation hook"</th><th>"Policies"</th><th></th></tr></thead>
                        <tbody>
                            {rows_or_empty(clusters, 6, "No clusters yet: register one, then install its validation hook.", move |c| {
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
                                                Some(at) => view! { <span class="pill status-installed">"Installed"</span><div class="muted small">{format!("Last call {}", date_time(Some(at)))}</div> }.into_any(),
                                                None => view! { <span class="pill status-not_installed">"Not installed"</span> }.into_any(),
                                            }}
                                        </td>
                                        <td class="small">{if c.policies.is_empty() { "—".to_string() } else { c.policies.join(", ") }}</td>
                                        <td class="right row-actions">
                                            {move || admin.get().then(|| {
                                                let edit_input = edit_input.clone();
                                                view! {
                                                    <button class="btn btn-sm btn-primary" type="button" on:click=move |_| hook_for.set(Some(id))>"Install validation hook"</button>
                                                    <button class="btn btn-sm" type="button" on:click=move |_| { editing.set(Some(id)); input.set(edit_input.clone()); }>"Edit"</button>
                                                    <AskButton asking item=asked.clone() label="Delete"/>
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
                    <div class="modal modal-wide" role="dialog" aria-modal="true" aria-label="Install validation hook" on:click=|ev| ev.stop_propagation()>
                        <div class="modal-header"><h2>"Install validation hook"</h2></div>
                        <div class="modal-body">
                            <Loaded resource=hook loading="Preparing the configuration…" render={move |hook: Option<HookInstructions>| hook.map(|h| view! {
                                <p>"Apply this ValidatingWebhookConfiguration in the cluster (" <code>"kubectl apply -f bulwark-hook.yaml"</code> "). The hook shows Installed once the API server has called in."</p>
                                {(!h.url.starts_with("https://")).then(|| view! {
                                    <div class="notice notice-warning">"Kubernetes calls webhooks over HTTPS only: serve the console with TLS (BULWARK_TLS_CERT and BULWARK_TLS_KEY) or behind an HTTPS proxy, and set BULWARK_PUBLIC_URL to its https address."</div>
                                })}
                                {(!h.tls).then(|| view! { <p class="muted small">"The console does not serve TLS itself, so there is no caBundle: the API server must trust the proxy's certificate."</p> })}
                                <pre class="code-block" data-testid="hook-yaml">{h.yaml}</pre>
                                <p class="muted small">"The URL carries the cluster's secret token. Apply the configuration again after changing the namespaces or the token."</p>
                            })}/>
                        </div>
                        <div class="modal-footer">
                            <button class="btn" type="button" on:click=move |_| { if let Some(id) = hook_for.get_untracked() { rotate.dispatch(RotateClusterToken { id }); } }>"New token"</button>
                            <button class="btn btn-primary" type="button" on:click=move |_| hook_for.set(None)>"Close"</button>
                        </div>
                    </div>
                </div>
            </Show>
        </FeatureGate>
    }
}

// ---- Witnesses -----------------------------------------------------------------------------

#[component]
pub fn WitnessPage() -> impl IntoView {
    let create = Action::new(|input: &WitnessInput| create_witness(input.clone()));
    let update = ServerAction::<UpdateWitness>::new();
    let delete = ServerAction::<DeleteWitness>::new();
    let witnesses = Resource::new(move || (create.version().get(), update.version().get(), delete.version().get()), |_| list_witnesses());
    let keys = Resource::new(move || create.version().get(), |_| list_keys());
    toast_outcome(move || update.value().get(), "Description saved.", || ());
    toast_outcome(move || delete.value().get(), "Witness deleted.", || ());
    let input = RwSignal::new(WitnessInput::default());
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    watch_form(create, errors, form_error, "Witness created.", move |_| input.set(WitnessInput::default()));
    let editing = RwSignal::new(None::<(i64, String)>);
    let asking: Asking = RwSignal::new(None);
    let admin = use_is_admin();
    view! {
        <SignatureHeader current="Witness"/>
        <FeatureGate feature=Feature::ContainerSignature>
            <ConfirmDialog asking title="Delete witness" question=|name| format!("Delete the witness \"{name}\"? Its signatures stay, but no policy can use it.")
                confirm_label="Delete" on_confirm=Callback::new(move |id| { delete.dispatch(DeleteWitness { id }); })/>
            <Show when=move || admin.get()>
                <section class="card" data-testid="create-witness">
                    <h2>"Create witness"</h2>
                    <div class="inline-form">
                        <Field label="Witness" name="witness-name" error=errors.message("name")>
                            <input id="witness-name" type="text" maxlength="64" prop:value=move || input.with(|i| i.name.clone())
                                on:input=move |ev| input.update(|i| i.name = event_target_value(&ev))/>
                        </Field>
                        <Field label="Select a certificate" name="witness-key" error=errors.message("key_id") hint="Enabled RSA_2048 SIGN/VERIFY keys.">
                            <select id="witness-key" on:change=move |ev| input.update(|i| i.key_id = event_target_value(&ev))>
                                <option value="" selected=move || input.with(|i| i.key_id.is_empty())>"Choose a key"</option>
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
                    <Field label="Description" name="witness-description" error=errors.message("description")>
                        <input id="witness-description" type="text" maxlength="256" prop:value=move || input.with(|i| i.description.clone())
                            on:input=move |ev| input.update(|i| i.description = event_target_value(&ev))/>
                    </Field>
                    <div class="form-actions">
                        <FormError message=form_error/>
                        <button class="btn btn-primary" type="button" disabled=move || create.pending().get()
                            on:click=move |_| { let i = input.get_untracked(); let p = i.validate(); submit_checked(create, i, p, errors, form_error); }>"Create witness"</button>
                    </div>
                </section>
            </Show>
            <Loaded resource=witnesses loading="Loading witnesses…" render=move |witnesses| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="witnesses-table">
                        <thead><tr><th>"Witness"</th><th>"Certificate"</th><th>"Description"</th><th>"Policies"</th><th>"Created"</th><th></th></tr></thead>
                        <tbody>
                            {rows_or_empty(witnesses, 6, "No witnesses yet.", move |w| {
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
                                                    <input type="text" aria-label="Description" maxlength="256" prop:value=text
                                                        on:input=move |ev| editing.set(Some((id, event_target_value(&ev))))/>
                                                    <button class="btn btn-sm btn-primary" type="button"
                                                        on:click=move |_| {
                                                            let text = editing.get_untracked().map(|e| e.1).unwrap_or_default();
                                                            update.dispatch(UpdateWitness { id, description: text });
                                                            editing.set(None);
                                                        }>"Save"</button>
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
                                                        <button class="btn btn-sm" type="button" on:click=move |_| editing.set(Some((id, description.clone())))>"Edit"</button>
                                                        <AskButton asking item=asked.clone() label="Delete"/>
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

// ---- Security policies ---------------------------------------------------------------------

#[component]
pub fn SecurityPolicyPage() -> impl IntoView {
    let save = Action::new(|input: &PolicyInput| save_signature_policy(input.clone()));
    let toggle = ServerAction::<SetSignaturePolicyEnabled>::new();
    let delete = ServerAction::<DeleteSignaturePolicy>::new();
    let policies = Resource::new(move || (save.version().get(), toggle.version().get(), delete.version().get()), |_| list_signature_policies());
    let choices = Resource::new(|| (), |_| async move { Ok::<_, AppError>((list_witnesses().await?, list_clusters().await?)) });
    toast_outcome(move || toggle.value().get(), "Policy updated.", || ());
    toast_outcome(move || delete.value().get(), "Policy deleted.", || ());
    let input = RwSignal::new(PolicyInput::default());
    let open = RwSignal::new(false);
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    watch_form(save, errors, form_error, "Policy saved.", move |_| {
        open.set(false);
        input.set(PolicyInput::default());
    });
    let witness_ids = RwSignal::new(Vec::<i64>::new());
    let namespaces = RwSignal::new(Vec::<String>::new());
    let asking: Asking = RwSignal::new(None);
    let admin = use_is_admin();
    let start = move |policy: Option<PolicyView>| {
        errors.0.set(FieldErrors::new());
        form_error.set(None);
        let value = match policy {
            Some(p) => PolicyInput {
                id: Some(p.id),
                name: p.name,
                witness_ids: p.witnesses.iter().map(|w| w.0).collect(),
                witness_match: p.witness_match,
                cluster_id: Some(p.cluster_id),
                namespaces: p.namespaces,
                enabled: p.enabled,
                mode: p.mode,
                remarks: p.remarks,
            },
            None => PolicyInput::default(),
        };
        witness_ids.set(value.witness_ids.clone());
        namespaces.set(value.namespaces.clone());
        input.set(value);
        open.set(true);
    };
    view! {
        <SignatureHeader current="Security Policy"/>
        <FeatureGate feature=Feature::ContainerSignature>
            <ConfirmDialog asking title="Delete policy" question=|name| format!("Delete the policy \"{name}\"? Its namespaces admit every image from then on.")
                confirm_label="Delete" on_confirm=Callback::new(move |id| { delete.dispatch(DeleteSignaturePolicy { id }); })/>
            <Show when=move || admin.get() && !open.get()>
                <div class="toolbar"><button class="btn btn-primary" type="button" on:click=move |_| start(None)>"Add Policy"</button></div>
            </Show>
            <Show when=move || open.get()>
                <Loaded resource=choices loading="Loading witnesses and clusters…" render={move |(witnesses, clusters): (Vec<WitnessView>, Vec<ClusterView>)| {
                    // A plain shared list, not a StoredValue: closing the form disposes this
                    // render's owner while its closures may still run once.
                    let options = clusters.clone();
                    let cluster_namespaces = move || {
                        let chosen = input.try_with(|i| i.cluster_id).flatten();
                        clusters.iter().find(|c| Some(c.id) == chosen).map(|c| c.namespaces.clone()).unwrap_or_default()
                    };
                    view! {
                        <section class="card" data-testid="policy-form">
                            <h2>{move || if input.with(|i| i.id.is_some()) { "Edit policy" } else { "Add Policy" }}</h2>
                            <Field label="Policy Name" name="policy-name" error=errors.message("name")>
                                <input id="policy-name" type="text" maxlength="64" prop:value=move || input.with(|i| i.name.clone())
                                    on:input=move |ev| input.update(|i| i.name = event_target_value(&ev))/>
                            </Field>
                            <div class="field">
                                <label>"Witness"</label>
                                <div class="pick-list" role="group" aria-label="Witnesses">
                                    {if witnesses.is_empty() {
                                        view! { <p class="muted">"No witnesses yet: create one on the Witness tab."</p> }.into_any()
                                    } else {
                                        witnesses.iter().map(|w| view! { <SetCheckbox selected=witness_ids value=w.id label=w.name.clone()/> }).collect_view().into_any()
                                    }}
                                </div>
                                {move || errors.message("witnesses").get().map(|m| view! { <div class="field-error" role="alert" data-field="witnesses">{m}</div> })}
                            </div>
                            <div class="field" role="radiogroup" aria-label="Witnesses needed">
                                {[WitnessMatch::AllOf, WitnessMatch::AnyOf].into_iter().map(|m| view! {
                                    <label class="check">
                                        <input type="radio" name="witness-match" prop:checked=move || input.with(|i| i.witness_match == m)
                                            on:change=move |_| input.update(|i| i.witness_match = m)/>
                                        {match m { WitnessMatch::AllOf => "All of the witnesses must sign", WitnessMatch::AnyOf => "Any one of the witnesses is enough" }}
                                    </label>
                                }).collect_view()}
                            </div>
                            <Field label="Application Cluster" name="policy-cluster" error=errors.message("cluster") hint="Only clusters whose validation hook is installed.">
                                <select id="policy-cluster" on:change=move |ev| {
                                    let id = event_target_value(&ev).parse::<i64>().ok();
                                    input.update(|i| i.cluster_id = id);
                                    namespaces.set(Vec::new());
                                }>
                                    <option value="" selected=move || input.with(|i| i.cluster_id.is_none())>"Choose a cluster"</option>
                                    {options.iter().map(|c| {
                                        let id = c.id;
                                        view! {
                                            <option value=id.to_string() disabled=!c.hook_installed() selected=move || input.with(|i| i.cluster_id == Some(id))>
                                                {if c.hook_installed() { c.name.clone() } else { format!("{} (hook not installed)", c.name) }}
                                            </option>
                                        }
                                    }).collect_view()}
                                </select>
                            </Field>
                            <div class="field">
                                <label>"Cluster Namespaces"</label>
                                <div class="pick-list" role="group" aria-label="Cluster Namespaces">
                                    {move || {
                                        let list = cluster_namespaces();
                                        if list.is_empty() {
                                            view! { <p class="muted">"Choose a cluster first."</p> }.into_any()
                                        } else {
                                            list.into_iter().map(|n| view! { <SetCheckbox selected=namespaces value=n.clone() label=n/> }).collect_view().into_any()
                                        }
                                    }}
                                </div>
                                {move || errors.message("namespaces").get().map(|m| view! { <div class="field-error" role="alert" data-field="namespaces">{m}</div> })}
                            </div>
                            <div class="field" role="radiogroup" aria-label="Mode">
                                <label>"Mode"</label>
                                {[PolicyMode::Enforce, PolicyMode::Warn].into_iter().map(|m| view! {
                                    <label class="check">
                                        <input type="radio" name="policy-mode" prop:checked=move || input.with(|i| i.mode == m) on:change=move |_| input.update(|i| i.mode = m)/>
                                        {match m { PolicyMode::Enforce => "Enforce: reject untrusted images", PolicyMode::Warn => "Warn: admit, but warn and record" }}
                                    </label>
                                }).collect_view()}
                            </div>
                            <div class="field">
                                <label class="check">
                                    <input type="checkbox" prop:checked=move || input.with(|i| i.enabled) on:change=move |ev| input.update(|i| i.enabled = event_target_checked(&ev))/>
                                    "Policy Enabled"
                                </label>
                            </div>
                            <Field label="Remarks" name="policy-remarks" error=errors.message("remarks")>
                                <input id="policy-remarks" type="text" maxlength="256" prop:value=move || input.with(|i| i.remarks.clone())
                                    on:input=move |ev| input.update(|i| i.remarks = event_target_value(&ev))/>
                            </Field>
                            <div class="form-actions">
                                <FormError message=form_error/>
                                <button class="btn" type="button" on:click=move |_| open.set(false)>"Cancel"</button>
                                <button class="btn btn-primary" type="button" disabled=move || save.pending().get()
                                    on:click=move |_| {
                                        let mut value = input.get_untracked();
                                        value.witness_ids = witness_ids.get_untracked();
                                        value.namespaces = namespaces.get_untracked();
                                        let problems = value.validate();
                                        submit_checked(save, value, problems, errors, form_error);
                                    }>"Save policy"</button>
                            </div>
                        </section>
                    }
                }}/>
            </Show>
            <Loaded resource=policies loading="Loading policies…" render=move |policies| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="policies-table">
                        <thead><tr><th>"Policy Name"</th><th>"Witness"</th><th>"Cluster / Namespaces"</th><th>"Mode"</th><th>"Enabled"</th><th>"Remarks"</th><th></th></tr></thead>
                        <tbody>
                            {rows_or_empty(policies, 7, "No security policies yet.", move |p| {
                                let asked = (p.id, p.name.clone());
                                let id = p.id;
                                let editable = p.clone();
                                let witnesses = p.witnesses.iter().map(|w| w.1.clone()).collect::<Vec<_>>();
                                let name = p.name.clone();
                                view! {
                                    <tr>
                                        <td><strong>{p.name.clone()}</strong><div class="muted small">{format!("Updated {}", date_time(Some(p.updated_at)))}</div></td>
                                        <td>{if witnesses.len() > 1 { format!("{}: {}", p.witness_match.label(), witnesses.join(", ")) } else { witnesses.join(", ") }}</td>
                                        <td>{p.cluster_name.clone()}<div class="small muted">{p.namespaces.join(", ")}</div></td>
                                        <td>{p.mode.label()}</td>
                                        <td>
                                            <Toggle checked=p.enabled label=format!("Enable {name}") disabled=Signal::derive(move || !admin.get())
                                                on_change=Callback::new(move |on| { toggle.dispatch(SetSignaturePolicyEnabled { id, enabled: on }); })/>
                                        </td>
                                        <td class="small">{p.remarks.clone()}</td>
                                        <td class="right row-actions">
                                            {move || admin.get().then(|| {
                                                let editable = editable.clone();
                                                view! {
                                                    <button class="btn btn-sm" type="button" on:click=move |_| start(Some(editable.clone()))>"Edit"</button>
                                                    <AskButton asking item=asked.clone() label="Delete"/>
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
        </FeatureGate>
    }
}

// ---- Images --------------------------------------------------------------------------------

#[component]
pub fn SignatureImagesPage() -> impl IntoView {
    let sign = Action::new(|input: &SignInput| sign_image(input.clone()));
    let publish = ServerAction::<PublishSignature>::new();
    let delete = ServerAction::<DeleteSignature>::new();
    let save_registry = Action::new(|input: &RegistryInput| super::api::save_registry(input.clone()));
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
        <SignatureHeader current="Images"/>
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
                                        <td>{if r.username.is_empty() { "(anonymous)".to_string() } else { r.username.clone() }}</td>
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

// ---- Admission log -------------------------------------------------------------------------

#[component]
pub fn AdmissionLogPage() -> impl IntoView {
    let outcome = RwSignal::new(String::new());
    let refresh = RwSignal::new(0u32);
    let decisions = Resource::new(move || (outcome.get(), refresh.get()), |(outcome, _)| list_decisions(outcome));
    view! {
        <SignatureHeader current="Admission log"/>
        <FeatureGate feature=Feature::ContainerSignature>
            <div class="toolbar">
                <div class="field">
                    <label for="decision-outcome">"Outcome"</label>
                    <select id="decision-outcome" on:change=move |ev| outcome.set(event_target_value(&ev))>
                        <option value="">"All"</option>
                        {[Outcome::Denied, Outcome::Warned, Outcome::Allowed].into_iter().map(|o| view! { <option value=o.as_str()>{o.label()}</option> }).collect_view()}
                    </select>
                </div>
                <button class="btn btn-sm" type="button" on:click=move |_| refresh.update(|n| *n += 1)>"Refresh"</button>
            </div>
            <Loaded resource=decisions loading="Loading decisions…" render=move |decisions| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="decisions-table">
                        <thead><tr><th>"Time"</th><th>"Cluster"</th><th>"Object"</th><th>"Images"</th><th>"Outcome"</th><th>"Reason"</th></tr></thead>
                        <tbody>
                            {rows_or_empty(decisions, 6, "No admission requests yet.", |d| view! {
                                <tr>
                                    <td class="nowrap">{date_time(Some(d.created_at))}</td>
                                    <td>{d.cluster_name.clone()}<div class="muted small">{d.namespace.clone()}</div></td>
                                    <td>{format!("{} {}", d.kind, d.name)}<div class="muted small">{d.operation.clone()}</div></td>
                                    <td class="small digest">{d.images.join("\n")}</td>
                                    <td><span class=format!("pill status-{}", d.outcome.as_str())>{d.outcome.label()}</span></td>
                                    <td class="small">{d.reason.clone()}</td>
                                </tr>
                            })}
                        </tbody>
                    </table>
                </div>
            }/>
        </FeatureGate>
    }
}
