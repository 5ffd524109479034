//! The Overview page.

use leptos::prelude::*;

use super::api::get_overview;
use super::model::Overview;
use super::score::{ScoreBand, SEVERITY_ORDER};
use crate::components::chart::{Bars, LineChart};
use crate::components::loaded::Loaded;
use crate::locale::{Label, t, td_string, tr, use_i18n};

#[component]
pub fn OverviewPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_overview());
    let i18n = use_i18n();
    view! {
        <div class="page-header">
            <div>
                <h1>{tr(i18n, |l| td_string!(l, overview.title))}</h1>
                <p class="subtitle">{tr(i18n, |l| td_string!(l, overview.subtitle))}</p>
            </div>
        </div>
        <Loaded resource=overview loading=td_string!(i18n.get_locale_untracked(), overview.loading) render=|o| view! { <OverviewBody overview=o/> }/>
    }
}

#[component]
fn OverviewBody(overview: Overview) -> impl IntoView {
    let i18n = use_i18n();
    let band = ScoreBand::of(overview.score);
    let change = overview.score_week_ago.map(|before| overview.score - before);
    let risks = overview.risks;
    let risk_rows: [(Label, _); 3] = [
        (|l| td_string!(l, overview.unhandled_alerts), risks.alerts),
        (|l| td_string!(l, overview.unfixed_vulnerabilities), risks.vulnerabilities),
        (|l| td_string!(l, overview.baseline_risks), risks.baseline),
    ];
    let history: Vec<(String, i64)> =
        overview.history.iter().map(|p| (p.day.get(5..).unwrap_or(&p.day).to_string(), p.score)).collect();
    let locale = i18n.get_locale_untracked();
    let categories: Vec<(String, i64, &'static str)> =
        overview.vulnerabilities_by_category.iter().map(|(c, n)| (c.label_in(locale).to_string(), *n, "sev-high")).collect();
    let attacks: Vec<(String, i64, &'static str)> =
        overview.attacks_by_type.iter().map(|(t, n)| (t.clone(), *n, "sev-medium")).collect();
    view! {
        <div class="cards">
            <section class="card" data-testid="score-card">
                <h2>{tr(i18n, |l| td_string!(l, overview.score))}</h2>
                <div class=format!("score-ring {}", band.class())>
                    <span class="score-value" data-testid="score">{overview.score}</span>
                </div>
                <p class="score-caption">
                    {move || band.label_in(i18n.get_locale())}
                    {change.map(|c| {
                        let change = format!("{}{c}", if c > 0 { "+" } else { "" });
                        t!(i18n, overview.change_7_days, change = change.clone())
                    })}
                </p>
            </section>
            <section class="card">
                <h2>{tr(i18n, |l| td_string!(l, overview.assets))}</h2>
                <div class="stat">
                    <div class="stat-value">{overview.assets_total}</div>
                    <div class="stat-label">{t!(i18n, overview.agents_online, count = overview.assets_online)}</div>
                </div>
            </section>
            <section class="card">
                <h2>{tr(i18n, |l| td_string!(l, overview.open_risks))}</h2>
                <div class="stat">
                    <div class="stat-value" data-testid="open-risks">
                        {risks.alerts.total() + risks.vulnerabilities.total() + risks.baseline.total()}
                    </div>
                    <div class="stat-label">{tr(i18n, |l| td_string!(l, overview.open_risks_caption))}</div>
                </div>
            </section>
            <section class="card">
                <h2>{tr(i18n, |l| td_string!(l, overview.attacks_blocked))}</h2>
                <div class="stat">
                    <div class="stat-value">{overview.attacks_last_7_days}</div>
                    <div class="stat-label">{tr(i18n, |l| td_string!(l, overview.last_7_days))}</div>
                </div>
            </section>
        </div>
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, overview.trend))}</h2>
            {if history.is_empty() {
                view! { <p class="muted">{tr(i18n, |l| td_string!(l, overview.trend_empty))}</p> }.into_any()
            } else {
                view! { <LineChart points=history max=100 title=td_string!(locale, overview.trend_title)/> }.into_any()
            }}
        </section>
        <section class="card">
                <h2>{tr(i18n, |l| td_string!(l, overview.risks_by_kind))}</h2>
                <div class="table-wrap">
                    <table class="table" data-testid="risk-table">
                        <thead>
                            <tr>
                                <th>{tr(i18n, |l| td_string!(l, overview.risk))}</th>
                                {SEVERITY_ORDER
                                    .iter()
                                    .map(|s| {
                                        let s = *s;
                                        view! { <th class="right">{move || s.label_in(i18n.get_locale())}</th> }
                                    })
                                    .collect_view()}
                                <th class="right">{tr(i18n, |l| td_string!(l, overview.total))}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {risk_rows
                                .into_iter()
                                .map(|(label, counts)| {
                                    view! {
                                        <tr>
                                            <td>{move || label(i18n.get_locale())}</td>
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
                <h2>{tr(i18n, |l| td_string!(l, overview.by_category))}</h2>
                <Bars rows=categories/>
            </section>
            <section class="card">
                <h2>{tr(i18n, |l| td_string!(l, overview.attacks_by_type))}</h2>
                {if attacks.is_empty() {
                    view! { <p class="muted">{tr(i18n, |l| td_string!(l, overview.attacks_empty))}</p> }.into_any()
                } else {
                    view! { <Bars rows=attacks/> }.into_any()
                }}
            </section>
        </div>
    }
}
