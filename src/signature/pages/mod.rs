//! Container signature pages (Precaution › Container Signature): Witness, Security Policy,
//! Exceptions, Images, Keys, Clusters and the Admission log, each a tab of one area.

mod clusters;
mod decisions;
mod exceptions;
mod images;
mod keys;
mod policies;
mod witness;

use leptos::prelude::*;

use crate::components::tabs::PageTabs;
use crate::locale::{Label, td_string, tr, use_i18n};
use crate::signature::model::KeyState;

pub use clusters::SignatureClustersPage;
pub use decisions::AdmissionLogPage;
pub use exceptions::VulnExceptionsPage;
pub use images::SignatureImagesPage;
pub use keys::SignatureKeysPage;
pub use policies::SecurityPolicyPage;
pub use witness::WitnessPage;

const BASE: &str = "/precaution/container-signature";

/// The area's tabs; the Witness tab is the area's landing page.
const SIGNATURE_TABS: &[(&str, Label)] = &[
    ("/precaution/container-signature", |l| td_string!(l, signature.header.tabs.witness)),
    ("/precaution/container-signature/policies", |l| td_string!(l, signature.header.tabs.policies)),
    ("/precaution/container-signature/exceptions", |l| td_string!(l, signature.header.tabs.exceptions)),
    ("/precaution/container-signature/images", |l| td_string!(l, signature.header.tabs.images)),
    ("/precaution/container-signature/keys", |l| td_string!(l, signature.header.tabs.keys)),
    ("/precaution/container-signature/clusters", |l| td_string!(l, signature.header.tabs.clusters)),
    ("/precaution/container-signature/decisions", |l| td_string!(l, signature.header.tabs.decisions)),
];

/// The area's heading and tabs; `current` is the href of the page shown.
#[component]
fn SignatureHeader(current: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="page-header">
            <div>
                <h1>{tr(i18n, |l| td_string!(l, signature.header.title))}</h1>
                <p class="subtitle">{tr(i18n, |l| td_string!(l, signature.header.subtitle))}</p>
            </div>
        </div>
        <PageTabs tabs=SIGNATURE_TABS current/>
    }
}

fn state_pill(state: KeyState) -> impl IntoView {
    let i18n = use_i18n();
    view! { <span class=format!("pill status-{}", state.as_str())>{move || state.label_in(i18n.get_locale())}</span> }
}

