//! The Security Policy tab: which witnesses must have signed an image for a cluster's namespaces,
//! and the vulnerabilities its latest scan may show.

use leptos::prelude::*;

use crate::signature::api::*;
use crate::signature::model::*;
use crate::auth::context::use_is_admin;
use crate::editions::Feature;
use crate::components::form::{submit_checked, watch_form, Field, FormError, FormErrors, SetCheckbox};
use crate::format::date_time;
use crate::auth::gate::FeatureGate;
use crate::components::loaded::Loaded;
use crate::components::modal::{AskButton, Asking, ConfirmDialog};
use crate::components::table::rows_or_empty;
use crate::components::toast::toast_outcome;
use crate::components::toggle::Toggle;
use crate::assets::model::Severity;
use crate::error::{AppError, FieldErrors};
use crate::locale::{t, td_string, tr, use_i18n, Label, Locale};
use leptos_i18n::I18nContext;
use super::SignatureHeader;
use crate::locale::fill;

#[component]
pub fn SecurityPolicyPage() -> impl IntoView {
    let save = Action::new(|input: &PolicyInput| save_signature_policy(input.clone()));
    let toggle = ServerAction::<SetSignaturePolicyEnabled>::new();
    let delete = ServerAction::<DeleteSignaturePolicy>::new();
    let policies = Resource::new(move || (save.version().get(), toggle.version().get(), delete.version().get()), |_| list_signature_policies());
    let choices = Resource::new(|| (), |_| async move { Ok::<_, AppError>((list_witnesses().await?, list_clusters().await?)) });
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    toast_outcome(move || toggle.value().get(), td_string!(locale, signature.policies.updated), || ());
    toast_outcome(move || delete.value().get(), td_string!(locale, signature.policies.deleted), || ());
    let input = RwSignal::new(PolicyInput::default());
    let open = RwSignal::new(false);
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    watch_form(save, errors, form_error, td_string!(locale, signature.policies.saved), move |_| {
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
                vuln: VulnRuleInput::from_rule(p.vuln_rule.as_ref()),
            },
            None => PolicyInput::default(),
        };
        witness_ids.set(value.witness_ids.clone());
        namespaces.set(value.namespaces.clone());
        input.set(value);
        open.set(true);
    };
    view! {
        <SignatureHeader current="/precaution/container-signature/policies"/>
        <FeatureGate feature=Feature::ContainerSignature>
            <ConfirmDialog asking title=td_string!(locale, signature.policies.delete_title)
                question=|name| fill(td_string!(use_i18n().get_locale(), signature.policies.delete_question), &[("name", name)])
                confirm_label=td_string!(locale, signature.action.delete) on_confirm=Callback::new(move |id| { delete.dispatch(DeleteSignaturePolicy { id }); })/>
            <Show when=move || admin.get() && !open.get()>
                <div class="toolbar"><button class="btn btn-primary" type="button" on:click=move |_| start(None)>{tr(i18n, |l| td_string!(l, signature.policies.add))}</button></div>
            </Show>
            <Show when=move || open.get()>
                <Loaded resource=choices loading=td_string!(locale, signature.policies.loading_choices) render={move |(witnesses, clusters): (Vec<WitnessView>, Vec<ClusterView>)| {
                    // A plain shared list, not a StoredValue: closing the form disposes this
                    // render's owner while its closures may still run once.
                    let options = clusters.clone();
                    let cluster_namespaces = move || {
                        let chosen = input.try_with(|i| i.cluster_id).flatten();
                        clusters.iter().find(|c| Some(c.id) == chosen).map(|c| c.namespaces.clone()).unwrap_or_default()
                    };
                    view! {
                        <section class="card" data-testid="policy-form">
                            <h2>
                                {move || if input.with(|i| i.id.is_some()) {
                                    td_string!(i18n.get_locale(), signature.policies.edit)
                                } else {
                                    td_string!(i18n.get_locale(), signature.policies.add)
                                }}
                            </h2>
                            <Field label=td_string!(locale, signature.policies.name) name="policy-name" error=errors.message("name")>
                                <input id="policy-name" type="text" maxlength="64" prop:value=move || input.with(|i| i.name.clone())
                                    on:input=move |ev| input.update(|i| i.name = event_target_value(&ev))/>
                            </Field>
                            <div class="field">
                                <label>{tr(i18n, |l| td_string!(l, signature.policies.witness))}</label>
                                <div class="pick-list" role="group" aria-label=tr(i18n, |l| td_string!(l, signature.policies.witnesses))>
                                    {if witnesses.is_empty() {
                                        view! { <p class="muted">{tr(i18n, |l| td_string!(l, signature.policies.no_witnesses))}</p> }.into_any()
                                    } else {
                                        witnesses.iter().map(|w| view! { <SetCheckbox selected=witness_ids value=w.id label=w.name.clone()/> }).collect_view().into_any()
                                    }}
                                </div>
                                {move || errors.message("witnesses").get().map(|m| view! { <div class="field-error" role="alert" data-field="witnesses">{m}</div> })}
                            </div>
                            <div class="field" role="radiogroup" aria-label=tr(i18n, |l| td_string!(l, signature.policies.witnesses_needed))>
                                {[WitnessMatch::AllOf, WitnessMatch::AnyOf].into_iter().map(|m| view! {
                                    <label class="check">
                                        <input type="radio" name="witness-match" prop:checked=move || input.with(|i| i.witness_match == m)
                                            on:change=move |_| input.update(|i| i.witness_match = m)/>
                                        {move || match m {
                                            WitnessMatch::AllOf => td_string!(i18n.get_locale(), signature.policies.all_of),
                                            WitnessMatch::AnyOf => td_string!(i18n.get_locale(), signature.policies.any_of),
                                        }}
                                    </label>
                                }).collect_view()}
                            </div>
                            <Field label=td_string!(locale, signature.policies.cluster) name="policy-cluster" error=errors.message("cluster")
                                hint=td_string!(locale, signature.policies.cluster_hint)>
                                <select id="policy-cluster" on:change=move |ev| {
                                    let id = event_target_value(&ev).parse::<i64>().ok();
                                    input.update(|i| i.cluster_id = id);
                                    namespaces.set(Vec::new());
                                }>
                                    <option value="" selected=move || input.with(|i| i.cluster_id.is_none())>{tr(i18n, |l| td_string!(l, signature.policies.choose_cluster))}</option>
                                    {options.iter().map(|c| {
                                        let id = c.id;
                                        let name = c.name.clone();
                                        view! {
                                            <option value=id.to_string() disabled=!c.hook_installed() selected=move || input.with(|i| i.cluster_id == Some(id))>
                                                {if c.hook_installed() {
                                                    name.into_any()
                                                } else {
                                                    t!(i18n, signature.policies.hook_not_installed, name = name.clone()).into_any()
                                                }}
                                            </option>
                                        }
                                    }).collect_view()}
                                </select>
                            </Field>
                            <div class="field">
                                <label>{tr(i18n, |l| td_string!(l, signature.policies.namespaces))}</label>
                                <div class="pick-list" role="group" aria-label=tr(i18n, |l| td_string!(l, signature.policies.namespaces))>
                                    {move || {
                                        let list = cluster_namespaces();
                                        if list.is_empty() {
                                            view! { <p class="muted">{tr(i18n, |l| td_string!(l, signature.policies.choose_cluster_first))}</p> }.into_any()
                                        } else {
                                            list.into_iter().map(|n| view! { <SetCheckbox selected=namespaces value=n.clone() label=n/> }).collect_view().into_any()
                                        }
                                    }}
                                </div>
                                {move || errors.message("namespaces").get().map(|m| view! { <div class="field-error" role="alert" data-field="namespaces">{m}</div> })}
                            </div>
                            <div class="field" role="radiogroup" aria-label=tr(i18n, |l| td_string!(l, signature.policies.mode))>
                                <label>{tr(i18n, |l| td_string!(l, signature.policies.mode))}</label>
                                {[PolicyMode::Enforce, PolicyMode::Warn].into_iter().map(|m| view! {
                                    <label class="check">
                                        <input type="radio" name="policy-mode" prop:checked=move || input.with(|i| i.mode == m) on:change=move |_| input.update(|i| i.mode = m)/>
                                        {move || match m {
                                            PolicyMode::Enforce => td_string!(i18n.get_locale(), signature.policies.enforce),
                                            PolicyMode::Warn => td_string!(i18n.get_locale(), signature.policies.warn),
                                        }}
                                    </label>
                                }).collect_view()}
                            </div>
                            <div class="field">
                                <label class="check">
                                    <input type="checkbox" prop:checked=move || input.with(|i| i.enabled) on:change=move |ev| input.update(|i| i.enabled = event_target_checked(&ev))/>
                                    {tr(i18n, |l| td_string!(l, signature.policies.enabled))}
                                </label>
                            </div>
                            <Field label=td_string!(locale, signature.policies.remarks) name="policy-remarks" error=errors.message("remarks")>
                                <input id="policy-remarks" type="text" maxlength="256" prop:value=move || input.with(|i| i.remarks.clone())
                                    on:input=move |ev| input.update(|i| i.remarks = event_target_value(&ev))/>
                            </Field>
                            <VulnRuleFields i18n input errors/>
                            <div class="form-actions">
                                <FormError message=form_error/>
                                <button class="btn" type="button" on:click=move |_| open.set(false)>{tr(i18n, |l| td_string!(l, signature.action.cancel))}</button>
                                <button class="btn btn-primary" type="button" disabled=move || save.pending().get()
                                    on:click=move |_| {
                                        let mut value = input.get_untracked();
                                        value.witness_ids = witness_ids.get_untracked();
                                        value.namespaces = namespaces.get_untracked();
                                        // An off rule keeps nothing: fields hidden with it must not hold the form back.
                                        if value.vuln.action == "off" {
                                            value.vuln = VulnRuleInput::default();
                                        }
                                        let problems = value.validate(i18n.get_locale_untracked());
                                        submit_checked(save, value, problems, errors, form_error);
                                    }>{tr(i18n, |l| td_string!(l, signature.policies.save))}</button>
                            </div>
                        </section>
                    }
                }}/>
            </Show>
            <Loaded resource=policies loading=td_string!(locale, signature.policies.loading) render=move |policies| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="policies-table">
                        <thead>
                            <tr>
                                <th>{tr(i18n, |l| td_string!(l, signature.policies.col.name))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.policies.col.witness))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.policies.col.cluster))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.policies.col.mode))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.policies.col.vuln))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.policies.col.enabled))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.policies.col.remarks))}</th>
                                <th></th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows_or_empty(policies, 8, td_string!(locale, signature.policies.empty), move |p| {
                                let asked = (p.id, p.name.clone());
                                let id = p.id;
                                let editable = p.clone();
                                let witnesses = p.witnesses.iter().map(|w| w.1.clone()).collect::<Vec<_>>();
                                let name = p.name.clone();
                                let updated = date_time(Some(p.updated_at));
                                let (rule, mode) = (p.witness_match, p.mode);
                                view! {
                                    <tr>
                                        <td><strong>{p.name.clone()}</strong><div class="muted small">{t!(i18n, signature.policies.updated_at, at = updated.clone())}</div></td>
                                        <td>
                                            {if witnesses.len() > 1 {
                                                let joined = witnesses.join(", ");
                                                t!(i18n, signature.policies.witness_list, rule = move || rule.label_in(i18n.get_locale()), witnesses = joined.clone())
                                                    .into_any()
                                            } else {
                                                witnesses.join(", ").into_any()
                                            }}
                                        </td>
                                        <td>{p.cluster_name.clone()}<div class="small muted">{p.namespaces.join(", ")}</div></td>
                                        <td>{move || mode.label_in(i18n.get_locale())}</td>
                                        <td data-testid="vuln-rule-cell">{vuln_rule_cell(i18n, p.vuln_rule)}</td>
                                        <td>
                                            <Toggle checked=p.enabled label=fill(td_string!(locale, signature.policies.enable), &[("name", &name)]) disabled=Signal::derive(move || !admin.get())
                                                on_change=Callback::new(move |on| { toggle.dispatch(SetSignaturePolicyEnabled { id, enabled: on }); })/>
                                        </td>
                                        <td class="small">{p.remarks.clone()}</td>
                                        <td class="right row-actions">
                                            {move || admin.get().then(|| {
                                                let editable = editable.clone();
                                                view! {
                                                    <button class="btn btn-sm" type="button" on:click=move |_| start(Some(editable.clone()))>{tr(i18n, |l| td_string!(l, signature.action.edit))}</button>
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
        </FeatureGate>
    }
}

/// The allowed-count inputs: each severity with its input's id and its error's key.
const ALLOWED_FIELDS: [(Severity, &str, &str); 4] = [
    (Severity::Critical, "vuln-allowed-critical", "vuln_allowed_critical"),
    (Severity::High, "vuln-allowed-high", "vuln_allowed_high"),
    (Severity::Medium, "vuln-allowed-medium", "vuln_allowed_medium"),
    (Severity::Low, "vuln-allowed-low", "vuln_allowed_low"),
];

fn allowed_of(rule: &VulnRuleInput, severity: Severity) -> &String {
    match severity {
        Severity::Critical => &rule.allowed_critical,
        Severity::High => &rule.allowed_high,
        Severity::Medium => &rule.allowed_medium,
        Severity::Low => &rule.allowed_low,
    }
}

fn allowed_mut(rule: &mut VulnRuleInput, severity: Severity) -> &mut String {
    match severity {
        Severity::Critical => &mut rule.allowed_critical,
        Severity::High => &mut rule.allowed_high,
        Severity::Medium => &mut rule.allowed_medium,
        Severity::Low => &mut rule.allowed_low,
    }
}

/// The policy form's vulnerability rule: what it does, and while it is on, which findings count,
/// how many of each pass, and what happens to an image never scanned.
#[component]
fn VulnRuleFields(i18n: I18nContext<Locale>, input: RwSignal<PolicyInput>, errors: FormErrors) -> impl IntoView {
    let locale = i18n.get_locale_untracked();
    let actions: [(&str, Label); 3] = [
        ("off", |l| td_string!(l, signature.policies.vuln.off)),
        ("warn", |l| td_string!(l, signature.policies.vuln.warn)),
        ("refuse", |l| td_string!(l, signature.policies.vuln.refuse)),
    ];
    // Counts below the minimum severity are ignored by the rule: their inputs are disabled.
    let counted = move |severity: Severity| input.with(|i| Severity::parse(&i.vuln.min_severity).is_none_or(|min| severity <= min));
    view! {
        <fieldset class="checks" data-testid="vuln-rule">
            <legend>{tr(i18n, |l| td_string!(l, signature.policies.vuln.title))}</legend>
            <p class="muted small">{tr(i18n, |l| td_string!(l, signature.policies.vuln.intro))}</p>
            <Field label=td_string!(locale, signature.policies.vuln.action) name="vuln-action" error=errors.message("vuln_action")>
                <select id="vuln-action" on:change=move |ev| input.update(|i| i.vuln.action = event_target_value(&ev))>
                    {actions.into_iter().map(|(value, label)| view! {
                        <option value=value selected=move || input.with(|i| i.vuln.action == value)>{tr(i18n, label)}</option>
                    }).collect_view()}
                </select>
            </Field>
            <Show when=move || input.with(|i| i.vuln.action != "off")>
                <div class="field-row">
                    <Field label=td_string!(locale, signature.policies.vuln.min_severity) name="vuln-min-severity" error=errors.message("vuln_min_severity")
                        hint=td_string!(locale, signature.policies.vuln.min_severity_hint)>
                        <select id="vuln-min-severity" on:change=move |ev| input.update(|i| i.vuln.min_severity = event_target_value(&ev))>
                            {Severity::ALL.iter().map(|s| {
                                let s = *s;
                                view! { <option value=s.as_str() selected=move || input.with(|i| i.vuln.min_severity == s.as_str())>{move || s.label_in(i18n.get_locale())}</option> }
                            }).collect_view()}
                        </select>
                    </Field>
                    <Field label=td_string!(locale, signature.policies.vuln.unscanned) name="vuln-unscanned" error=errors.message("vuln_unscanned")
                        hint=td_string!(locale, signature.policies.vuln.unscanned_hint)>
                        <select id="vuln-unscanned" on:change=move |ev| input.update(|i| i.vuln.unscanned = event_target_value(&ev))>
                            {UnscannedAction::ALL.into_iter().map(|a| view! {
                                <option value=a.as_str() selected=move || input.with(|i| i.vuln.unscanned == a.as_str())>{move || a.label_in(i18n.get_locale())}</option>
                            }).collect_view()}
                        </select>
                    </Field>
                </div>
                <div class="field">
                    <label class="check">
                        <input type="checkbox" prop:checked=move || input.with(|i| i.vuln.fixable_only)
                            on:change=move |ev| input.update(|i| i.vuln.fixable_only = event_target_checked(&ev))/>
                        {tr(i18n, |l| td_string!(l, signature.policies.vuln.fixable_only))}
                    </label>
                </div>
                <div class="field" role="group" aria-label=tr(i18n, |l| td_string!(l, signature.policies.vuln.allowed))>
                    <label>{tr(i18n, |l| td_string!(l, signature.policies.vuln.allowed))}</label>
                    <div class="inline-form allowed-counts">
                        {ALLOWED_FIELDS.into_iter().map(|(severity, name, key)| view! {
                            <Field label=severity.label_in(locale) name error=errors.message(key)>
                                <input id=name type="text" inputmode="numeric" size="6" placeholder="0" disabled=move || !counted(severity)
                                    prop:value=move || input.with(|i| allowed_of(&i.vuln, severity).clone())
                                    on:input=move |ev| input.update(|i| *allowed_mut(&mut i.vuln, severity) = event_target_value(&ev))/>
                            </Field>
                        }).collect_view()}
                    </div>
                    <div class="field-hint">{tr(i18n, |l| td_string!(l, signature.policies.vuln.allowed_hint))}</div>
                </div>
            </Show>
        </fieldset>
    }
}

/// A policy's vulnerability rule in the table: "Refuse ≥ High", then what else it says; "—" without one.
fn vuln_rule_cell(i18n: I18nContext<Locale>, rule: Option<VulnRule>) -> AnyView {
    let Some(rule) = rule else { return "—".into_any() };
    let summary = move || {
        let l = i18n.get_locale();
        fill(td_string!(l, signature.policies.vuln_summary), &[("action", rule.action.label_in(l)), ("severity", rule.min_severity.label_in(l))])
    };
    let details = move || {
        let l = i18n.get_locale();
        let mut parts = Vec::new();
        if rule.fixable_only {
            parts.push(td_string!(l, signature.policies.vuln_fixable_only).to_string());
        }
        let allowed: Vec<String> = Severity::ALL
            .iter()
            .filter(|s| rule.counts(**s) && rule.allowed.get(**s) > 0)
            .map(|s| format!("{} {}", rule.allowed.get(*s), s.label_in(l)))
            .collect();
        if !allowed.is_empty() {
            parts.push(fill(td_string!(l, signature.policies.vuln_allowed), &[("counts", &allowed.join(", "))]));
        }
        if rule.unscanned != UnscannedAction::Admit {
            parts.push(fill(td_string!(l, signature.policies.vuln_unscanned), &[("action", rule.unscanned.label_in(l))]));
        }
        parts.join("; ")
    };
    view! { {summary}<div class="small muted">{details}</div> }.into_any()
}
