//! Small SVG charts drawn on the server and hydrated unchanged: a line chart for trends and
//! horizontal bars for breakdowns.

use leptos::prelude::*;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 180.0;
const PAD_LEFT: f64 = 32.0;
const PAD_BOTTOM: f64 = 22.0;
const PAD_TOP: f64 = 8.0;

/// A line chart of `(label, value)` points on a fixed 0–`max` scale.
#[component]
pub fn LineChart(points: Vec<(String, i64)>, max: i64, #[prop(into)] title: String) -> impl IntoView {
    let plot_w = WIDTH - PAD_LEFT - 8.0;
    let plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP;
    let n = points.len();
    let x = move |i: usize| PAD_LEFT + if n > 1 { plot_w * i as f64 / (n - 1) as f64 } else { plot_w / 2.0 };
    let y = move |v: i64| PAD_TOP + plot_h * (1.0 - v.clamp(0, max) as f64 / max.max(1) as f64);
    let line: String = points
        .iter()
        .enumerate()
        .map(|(i, (_, v))| format!("{}{:.1},{:.1}", if i == 0 { "M" } else { " L" }, x(i), y(*v)))
        .collect();
    let area = if n > 0 {
        format!("{line} L{:.1},{:.1} L{:.1},{:.1} Z", x(n - 1), y(0), x(0), y(0))
    } else {
        String::new()
    };
    let grid: Vec<i64> = (0..=4).map(|k| max * k / 4).collect();
    let label_every = (n / 6).max(1);
    let labels: Vec<(f64, String)> = points
        .iter()
        .enumerate()
        .filter(|(i, _)| i % label_every == 0 || *i == n - 1)
        .map(|(i, (label, _))| (x(i), label.clone()))
        .collect();
    let description = format!(
        "{title}: {}",
        points.iter().map(|(l, v)| format!("{l} {v}")).collect::<Vec<_>>().join(", ")
    );
    view! {
        <svg class="chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=description>
            <title>{title}</title>
            {grid
                .into_iter()
                .map(|g| {
                    view! {
                        <line class="chart-grid" x1=PAD_LEFT x2=WIDTH - 8.0 y1=y(g) y2=y(g)></line>
                        <text class="chart-label" x=PAD_LEFT - 6.0 y=y(g) + 4.0 text-anchor="end">{g}</text>
                    }
                })
                .collect_view()}
            <path class="chart-area" d=area></path>
            <path class="chart-line" d=line></path>
            {labels
                .into_iter()
                .map(|(lx, label)| {
                    view! { <text class="chart-label" x=lx y=HEIGHT - 6.0 text-anchor="middle">{label}</text> }
                })
                .collect_view()}
        </svg>
    }
}

/// One horizontal bar per row, scaled to the largest value.
#[component]
pub fn Bars(rows: Vec<(String, i64, &'static str)>) -> impl IntoView {
    let max = rows.iter().map(|(_, v, _)| *v).max().unwrap_or(0).max(1);
    view! {
        <div class="bars">
            {rows
                .into_iter()
                .map(|(label, value, class)| {
                    let width = format!("width: {:.1}%", value as f64 * 100.0 / max as f64);
                    view! {
                        <div class="bar-row">
                            <span>{label}</span>
                            <div class="bar-track">
                                <div class=format!("bar-fill {class}") style=width></div>
                            </div>
                            <span class="right">{value}</span>
                        </div>
                    }
                })
                .collect_view()}
        </div>
    }
}
