//! The Overview page.

use leptos::prelude::*;

use super::api::get_overview;
use super::model::Overview;
use super::score::{ScoreBand, SEVERITY_ORDER};
use crate::components::chart::{Bars, LineChart};
use crate::components::loaded::Loaded;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_overview());
    view! {
        <div class="page-header">
            <div>
                <h1>"Overview"</h1>
                <p class="subtitle">"The security of this account at a glance."</p>
            </div>
        </div>
        <Loaded resource=overview loading="Loading the overview…" render=|o| view! { <OverviewBody overview=o/> }/>
    }
}

#[component]
fn OverviewBody(overview: Overview) -> impl IntoView {
    let band = ScoreBand::of(overview.score);
    let change = overview.score_week_ago.map(|before| overview.score - before);
    let risks = overview.risks;
    let risk_rows = [
        ("Unhandled alerts", risks.alerts),
        ("Unfixed vulnerabilities", risks.vulnerabilities),
        ("Baseline risks", risks.baseline),
    ];
    let history: Vec<(String, i64)> =
        overview.history.iter().map(|p| (p.day.get(5..).unwrap_or(&p.day).to_string(), p.score)).collect();
    let categories: Vec<(String, i64, &'static str)> =
        overview.vulnerabilities_by_category.iter().map(|(c, n)| (c.label().to_string(), *n, "sev-high")).collect();
    let attacks: Vec<(String, i64, &'static str)> =
        overview.attacks_by_type.iter().map(|(t, n)| (t.clone(), *n, "sev-medium")).collect();
    view! {
        <div class="cards">
            <section class="card" data-testid="score-card">
                <h2>"Security score"</h2>
                <div class=format!("score-ring {}", band.class())>
                    <span class="score-value" data-testid="score">{overview.score}</span>
                </div>
                <p class="score-caption">
                    {band.label()}
                    {change.map(|c| format!(" · {}{c} in 7 days", if c > 0 { "+" } else { "" }))}
                </p>
            </section>
            <section class="card">
                <h2>"Assets"</h2>
                <div class="stat">
                    <div class="stat-value">{overview.assets_total}</div>
                    <div class="stat-label">{format!("{} with the agent online", overview.assets_online)}</div>
                </div>
            </section>
            <section class="card">
                <h2>"Open risks"</h2>
                <div class="stat">
                    <div class="stat-value" data-testid="open-risks">
                        {risks.alerts.total() + risks.vulnerabilities.total() + risks.baseline.total()}
                    </div>
                    <div class="stat-label">"alerts, vulnerabilities and baseline risks"</div>
                </div>
            </section>
            <section class="card">
                <h2>"Attacks blocked"</h2>
                <div class="stat">
                    <div class="stat-value">{overview.attacks_last_7_days}</div>
                    <div class="stat-label">"in the last 7 days"</div>
                </div>
            </section>
        </div>
        <section class="card">
            <h2>"Score trend, last 30 days"</h2>
            {if history.is_empty() {
                view! { <p class="muted">"No history yet: the score is recorded once a day."</p> }.into_any()
            } else {
                view! { <LineChart points=history max=100 title="Security score by day"/> }.into_any()
            }}
        </section>
        <section class="card">
                <h2>"Risks by kind and severity"</h2>
                <div class="table-wrap">
                    <table class="table" data-testid="risk-table">
                        <thead>
                            <tr>
                                <th>"Risk"</th>
                                {SEVERITY_ORDER.iter().map(|s| view! { <th class="right">{s.label()}</th> }).collect_view()}
                                <th class="right">"Total"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {risk_rows
                                .into_iter()
                                .map(|(label, counts)| {
                                    view! {
                                        <tr>
                                            <td>{label}</td>
                                            {SEVERITY_ORDER
                                                .iter()
                                                .map(|s| view! { <td class="right">{counts.get(*s)}</td> })
                                                .collect_view()}
                                            <td class="right">
                                                <strong>{counts.total()}</strong>
                                            </td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
        </section>
        <div class="cards cards-2">
            <section class="card">
                <h2>"Unfixed vulnerabilities by category"</h2>
                <Bars rows=categories/>
            </section>
            <section class="card">
                <h2>"Attacks by type, last 7 days"</h2>
                {if attacks.is_empty() {
                    view! { <p class="muted">"No attacks in the last 7 days."</p> }.into_any()
                } else {
                    view! { <Bars rows=attacks/> }.into_any()
                }}
            </section>
        </div>
    }
}
