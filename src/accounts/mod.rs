//! Multi-account control and the resource directory. Placeholder until its issue lands.

use leptos::prelude::*;

use crate::auth::editions::Feature;
use crate::components::placeholder::ComingSoon;

#[component]
pub fn MultiAccountPage() -> impl IntoView {
    view! {
        <ComingSoon
            feature=Feature::MultiAccountControl
            title="Multi-account control"
            description="One list of the managed accounts' editions, security scores and risks."
        />
    }
}
