//! The Security score tab: the weight of each risk type and severity in the score.

use leptos::prelude::*;

use crate::settings::api::*;
use crate::auth::context::use_me;
use crate::components::errors::ErrorList;
use crate::components::form::{FormError, FormErrors};
use crate::components::toast::use_toaster;
use crate::error::AppError;
use crate::locale::{Label, td_string, tr, use_i18n};
use crate::overview::score::{ScoreWeights, RISK_TYPES, SEVERITY_ORDER};
use crate::locale::fill;
use crate::components::tabs::SettingsTabs;

fn weights_field(kind: &str, severity_index: usize) -> String {
    format!("{kind}.{}", SEVERITY_ORDER[severity_index].as_str())
}

#[component]
pub fn ScoreSettingsPage() -> impl IntoView {
    let save = ServerAction::<SetScoreWeights>::new();
    // Loaded once: the form keeps what was saved, and re-creating it would replay the last result.
    let weights = Resource::new(|| (), |_| get_score_weights());
    let me = use_me();
    let i18n = use_i18n();
    view! {
        <SettingsTabs current="/settings/score"/>
        <section class="card">
            <h2>{tr(i18n, |l| td_string!(l, settings.score.title))}</h2>
            <p class="muted">{tr(i18n, |l| td_string!(l, settings.score.note))}</p>
            <Transition fallback=move || view! { <p class="loading">{tr(i18n, |l| td_string!(l, settings.loading))}</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorList errors/> }>
                    {move || Suspend::new(async move {
                        let admin = me.await.map(|m| m.is_admin()).unwrap_or(false);
                        weights.await.map(|w| view! { <WeightsForm initial=w save admin/> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn WeightsForm(initial: ScoreWeights, save: ServerAction<SetScoreWeights>, admin: bool) -> impl IntoView {
    let cells: Vec<[RwSignal<String>; 4]> = initial
        .rows()
        .iter()
        .map(|(_, row)| row.map(|w| RwSignal::new(w.to_string())))
        .collect();
    let cells = StoredValue::new(cells);
    let errors = FormErrors::new();
    let form_error = RwSignal::new(None::<String>);
    let toaster = use_toaster();
    let i18n = use_i18n();
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            form_error.set(errors.absorb(&result));
            if result.is_ok() {
                toaster.success(td_string!(i18n.get_locale_untracked(), settings.score.saved));
            }
        }
    });
    let parse = move || -> Result<ScoreWeights, AppError> {
        let mut bad = crate::error::FieldErrors::new();
        let rows: Vec<[i64; 4]> = cells.with_value(|cells| {
            cells
                .iter()
                .enumerate()
                .map(|(k, row)| {
                    let mut out = [0i64; 4];
                    for (i, cell) in row.iter().enumerate() {
                        match cell.get_untracked().trim().parse::<i64>() {
                            Ok(v) => out[i] = v,
                            Err(_) => {
                                bad.insert(weights_field(RISK_TYPES[k], i), td_string!(i18n.get_locale_untracked(), settings.score.whole_number).into());
                            }
                        }
                    }
                    out
                })
                .collect()
        });
        AppError::check(bad)?;
        let weights = ScoreWeights { alerts: rows[0], vulnerabilities: rows[1], baseline: rows[2] };
        weights.validate(i18n.get_locale_untracked())?;
        Ok(weights)
    };
    let total = move || {
        cells.with_value(|cells| {
            cells.iter().flat_map(|row| row.iter()).map(|c| c.get().trim().parse::<i64>().unwrap_or(0)).sum::<i64>()
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match parse() {
            Ok(weights) => {
                save.dispatch(SetScoreWeights { weights });
            }
            Err(e) => form_error.set(errors.absorb::<()>(&Err(e))),
        }
    };
    let labels: [Label; 3] = [
        |l| td_string!(l, settings.score.alerts),
        |l| td_string!(l, settings.score.vulnerabilities),
        |l| td_string!(l, settings.score.baseline),
    ];
    view! {
        <form class="form" on:submit=submit novalidate>
            <div class="weights-grid">
                <span></span>
                {SEVERITY_ORDER.iter().map(|s| {
                    let s = *s;
                    view! { <strong>{move || s.label_in(i18n.get_locale())}</strong> }
                }).collect_view()}
                {labels
                    .iter()
                    .enumerate()
                    .map(|(k, label)| {
                        let row = cells.with_value(|c| c[k]);
                        let label = *label;
                        view! {
                            <span>{move || label(i18n.get_locale())}</span>
                            {row
                                .into_iter()
                                .enumerate()
                                .map(|(i, cell)| {
                                    let field = weights_field(RISK_TYPES[k], i);
                                    let name = field.clone();
                                    let error = Signal::derive(move || errors.0.with(|e| e.get(&field).cloned()));
                                    view! {
                                        <div class="field" class:invalid=move || error.get().is_some()>
                                            <input
                                                type="number"
                                                min="0"
                                                max="100"
                                                name=name.clone()
                                                aria-label=name
                                                disabled=!admin
                                                value=cell.get_untracked()
                                                bind:value=cell
                                            />
                                            {move || error.get().map(|m| view! { <div class="field-error">{m}</div> })}
                                        </div>
                                    }
                                })
                                .collect_view()}
                        }
                    })
                    .collect_view()}
            </div>
            <p data-testid="weights-total">{move || fill(td_string!(i18n.get_locale(), settings.score.total), &[("total", &total().to_string())])}</p>
            {move || errors.message("total").get().map(|m| view! { <div class="field-error" role="alert">{m}</div> })}
            <FormError message=form_error/>
            <div class="form-actions">
                <button class="btn btn-primary" type="submit" disabled=!admin>{tr(i18n, |l| td_string!(l, settings.score.save))}</button>
            </div>
        </form>
    }
}
