//! Security reports (Operation › Reports). Placeholder until the reports issue lands.

use leptos::prelude::*;

use crate::auth::editions::Feature;
use crate::components::placeholder::ComingSoon;

#[component]
pub fn ReportListPage() -> impl IntoView {
    view! {
        <ComingSoon
            feature=Feature::SecurityReports
            title="Security reports"
            description="Daily, weekly, monthly and custom reports of assets, alerts, vulnerabilities, baseline checks and attacks, by email."
        />
    }
}
