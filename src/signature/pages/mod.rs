//! Container signature pages (Precaution › Container Signature): Witness, Security Policy,
//! Images, Keys, Clusters and the Admission log, each a tab of one area.

mod clusters;
mod decisions;
mod images;
mod keys;
mod policies;
mod witness;

use leptos::prelude::*;

use crate::components::tabs::PageTabs;
use crate::signature::model::KeyState;

pub use clusters::SignatureClustersPage;
pub use decisions::AdmissionLogPage;
pub use images::SignatureImagesPage;
pub use keys::SignatureKeysPage;
pub use policies::SecurityPolicyPage;
pub use witness::WitnessPage;

const BASE: &str = "/precaution/container-signature";

/// The area's tabs; the Witness tab is the area's landing page.
const SIGNATURE_TABS: &[(&str, &str)] = &[
    ("/precaution/container-signature", "Witness"),
    ("/precaution/container-signature/policies", "Security Policy"),
    ("/precaution/container-signature/images", "Images"),
    ("/precaution/container-signature/keys", "Keys"),
    ("/precaution/container-signature/clusters", "Clusters"),
    ("/precaution/container-signature/decisions", "Admission log"),
];

/// The area's heading and tabs; `current` is the href of the page shown.
#[component]
fn SignatureHeader(current: &'static str) -> impl IntoView {
    view! {
        <div class="page-header">
            <div>
                <h1>"Container Signature"</h1>
                <p class="subtitle">"Sign images with witnesses' keys; the admission hook admits only what your policies trust."</p>
            </div>
        </div>
        <PageTabs tabs=SIGNATURE_TABS current/>
    }
}

fn state_pill(state: KeyState) -> impl IntoView {
    view! { <span class=format!("pill status-{}", state.as_str())>{state.label()}</span> }
}
