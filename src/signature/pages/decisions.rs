//! The Admission log tab: what the admission hook decided, and why.

use leptos::prelude::*;

use crate::signature::api::*;
use crate::signature::model::*;
use crate::editions::Feature;
use crate::format::date_time;
use crate::auth::gate::FeatureGate;
use crate::components::loaded::Loaded;
use crate::components::table::rows_or_empty;
use crate::locale::{td_string, tr, use_i18n};
use super::SignatureHeader;

#[component]
pub fn AdmissionLogPage() -> impl IntoView {
    let outcome = RwSignal::new(String::new());
    let refresh = RwSignal::new(0u32);
    let decisions = Resource::new(move || (outcome.get(), refresh.get()), |(outcome, _)| list_decisions(outcome));
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    view! {
        <SignatureHeader current="/precaution/container-signature/decisions"/>
        <FeatureGate feature=Feature::ContainerSignature>
            <div class="toolbar">
                <div class="field">
                    <label for="decision-outcome">{tr(i18n, |l| td_string!(l, signature.decisions.outcome))}</label>
                    <select id="decision-outcome" on:change=move |ev| outcome.set(event_target_value(&ev))>
                        <option value="">{tr(i18n, |l| td_string!(l, signature.decisions.all))}</option>
                        {[Outcome::Denied, Outcome::Warned, Outcome::Allowed].into_iter().map(|o| view! { <option value=o.as_str()>{move || o.label_in(i18n.get_locale())}</option> }).collect_view()}
                    </select>
                </div>
                <button class="btn btn-sm" type="button" on:click=move |_| refresh.update(|n| *n += 1)>{tr(i18n, |l| td_string!(l, signature.decisions.refresh))}</button>
            </div>
            <Loaded resource=decisions loading=td_string!(locale, signature.decisions.loading) render=move |decisions| view! {
                <div class="table-wrap">
                    <table class="table" data-testid="decisions-table">
                        <thead>
                            <tr>
                                <th>{tr(i18n, |l| td_string!(l, signature.decisions.col.time))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.decisions.col.cluster))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.decisions.col.object))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.decisions.col.images))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.decisions.col.outcome))}</th>
                                <th>{tr(i18n, |l| td_string!(l, signature.decisions.col.reason))}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows_or_empty(decisions, 6, td_string!(locale, signature.decisions.empty), move |d| view! {
                                <tr>
                                    <td class="nowrap">{date_time(Some(d.created_at))}</td>
                                    <td>{d.cluster_name.clone()}<div class="muted small">{d.namespace.clone()}</div></td>
                                    <td>{format!("{} {}", d.kind, d.name)}<div class="muted small">{d.operation.clone()}</div></td>
                                    <td class="small digest">{d.images.join("\n")}</td>
                                    <td><span class=format!("pill status-{}", d.outcome.as_str())>{move || d.outcome.label_in(i18n.get_locale())}</span></td>
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
