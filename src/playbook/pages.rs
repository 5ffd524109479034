//! Playbook pages: Policy Center, My Policy, Task Management.

use leptos::prelude::*;

use super::api::list_policy_templates;
use super::model::PolicyTemplate;
use crate::error::AppError;
use crate::auth::editions::Feature;
use crate::components::loaded::Loaded;
use crate::components::gate::FeatureGate;
use crate::components::placeholder::ComingSoon;

#[component]
fn PlaybookTabs(current: &'static str) -> impl IntoView {
    let tabs = [
        ("/playbook/policy-center", "Policy Center"),
        ("/playbook/my-policy", "My Policy"),
        ("/playbook/tasks", "Task Management"),
    ];
    view! {
        <nav class="tabs">
            {tabs
                .into_iter()
                .map(|(href, label)| {
                    view! { <a class="tab" href=href aria-current=if href == current { "page" } else { "false" }>{label}</a> }
                })
                .collect_view()}
        </nav>
    }
}

#[component]
pub fn PolicyCenterPage() -> impl IntoView {
    // Created here, not inside the gate, so the server and the browser create it in the same
    // order; for accounts without the feature the server refuses it and the gate shows why.
    let templates = Resource::new(|| (), |_| list_policy_templates());
    view! {
        <div class="page-header">
            <div>
                <h1>"Playbook"</h1>
                <p class="subtitle">"Orchestrate fixes across many hosts."</p>
            </div>
        </div>
        <PlaybookTabs current="/playbook/policy-center"/>
        <FeatureGate feature=Feature::Playbooks>
            <PolicyTemplates templates/>
        </FeatureGate>
    }
}

#[component]
fn PolicyTemplates(templates: Resource<Result<Vec<PolicyTemplate>, AppError>>) -> impl IntoView {
    view! {
        <Loaded resource=templates loading="Loading templates…" render=|templates| view! {
                        <div class="table-wrap">
                            <table class="table" data-testid="policy-templates">
                                <thead><tr><th>"Policy Name"</th><th>"Policy Type"</th><th>"Mode"</th></tr></thead>
                                <tbody>
                                    {templates.into_iter().map(|t| view! {
                                        <tr>
                                            <td><strong>{t.name}</strong><div class="muted">{t.description}</div></td>
                                            <td>{t.policy_type}</td>
                                            <td>{t.mode}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
        }/>
    }
}

#[component]
pub fn MyPolicyPage() -> impl IntoView {
    view! {
        <PlaybookTabs current="/playbook/my-policy"/>
        <ComingSoon feature=Feature::Playbooks title="My Policy" description="Policies cloned from the Policy Center."/>
    }
}

#[component]
pub fn TaskManagementPage() -> impl IntoView {
    view! {
        <PlaybookTabs current="/playbook/tasks"/>
        <ComingSoon feature=Feature::Playbooks title="Task Management" description="Fix tasks and their results per host."/>
    }
}
