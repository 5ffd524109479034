//! A page whose feature has not landed yet: it says so plainly, behind the feature's gate.

use leptos::prelude::*;

use super::gate::FeatureGate;
use crate::auth::editions::Feature;

#[component]
pub fn ComingSoon(feature: Feature, title: &'static str, description: &'static str) -> impl IntoView {
    view! {
        <div class="page-header">
            <div>
                <h1>{title}</h1>
                <p class="subtitle">{description}</p>
            </div>
        </div>
        <FeatureGate feature>
            <section class="placeholder" data-testid="placeholder">
                <h2>"Not built yet"</h2>
                <p>{format!("{title} is planned and not yet part of this release of Bulwark. This page is a placeholder.")}</p>
            </section>
        </FeatureGate>
    }
}
