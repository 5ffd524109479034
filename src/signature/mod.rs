//! Container signature (Precaution › Container Signature). Placeholder until its issue lands.

use leptos::prelude::*;

use crate::auth::editions::Feature;
use crate::components::placeholder::ComingSoon;

#[component]
pub fn ContainerSignaturePage() -> impl IntoView {
    view! {
        <ComingSoon
            feature=Feature::ContainerSignature
            title="Container signature"
            description="Keys, witnesses, security policies per cluster namespace, image signing and an admission webhook that admits only trusted images."
        />
    }
}
