//! Charts as SVG: drawn once per section and reused by the console, the email images and the PDF.

use crate::locale::{Locale, td_string};
use std::fmt::Write as _;

use super::common::{esc, fmt_int, has_data, severity_color, truncate_chars, BLUE, BORDER, GRID, INK, MUTED, TRACK};
use crate::reports::document::{Chart, ChartKind, ReportDocument};

/// Width of every chart SVG, in SVG user units (= CSS px).
pub const CHART_WIDTH: u32 = 640;
/// Height of a chart SVG unless a bar chart needs more rows.
pub const CHART_HEIGHT: u32 = 220;
/// Font stack written into every chart SVG.
pub const CHART_FONT_FAMILY: &str = "DejaVu Sans, Liberation Sans, WenQuanYi Micro Hei, Noto Sans CJK SC, Arial, sans-serif";
/// Text drawn inside a chart without data.
pub const EMPTY_CHART_TEXT: &str = "Nothing in this period";

/// Bars drawn at most; further points are summarised as "+N more".
const MAX_BARS: usize = 20;
const BAR_ROW: u32 = 22;
const BAR_TOP: u32 = 46;
const BAR_BOTTOM: u32 = 16;

/// Width and height (SVG px) of the chart's SVG; bar charts grow with their number of bars.
pub fn chart_size(chart: &Chart) -> (u32, u32) {
    match chart.kind {
        ChartKind::Bars if has_data(chart) => {
            let rows = bar_rows(chart) as u32;
            (CHART_WIDTH, (BAR_TOP + rows * BAR_ROW + BAR_BOTTOM).max(CHART_HEIGHT))
        }
        _ => (CHART_WIDTH, CHART_HEIGHT),
    }
}

/// Rows a bar chart uses: its bars plus one "+N more" line when points were left out.
fn bar_rows(chart: &Chart) -> usize {
    let n = chart.points.len();
    if n > MAX_BARS {
        MAX_BARS + 1
    } else {
        n
    }
}

/// One chart as a standalone SVG document (no scripts, no external resources), in English.
pub fn chart_svg(chart: &Chart) -> String {
    chart_svg_in(chart, Locale::en)
}

/// One chart as a standalone SVG document, its own words (the empty-chart line) in `l`.
pub fn chart_svg_in(chart: &Chart, l: Locale) -> String {
    let (w, h) = chart_size(chart);
    let mut s = String::with_capacity(4096);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{title}">"#,
        title = esc(&chart.title)
    );
    let _ = write!(s, "<title>{}</title>", esc(&chart.title));
    let _ = write!(s, r#"<g font-family="{CHART_FONT_FAMILY}">"#);
    let _ = write!(
        s,
        r##"<rect x="0.5" y="0.5" width="{}" height="{}" rx="6" fill="#ffffff" stroke="{BORDER}"/>"##,
        w - 1,
        h - 1
    );
    let _ = write!(
        s,
        r#"<text x="16" y="26" font-size="14" font-weight="bold" fill="{INK}">{}</text>"#,
        esc(&truncate_chars(&chart.title, 80))
    );
    if !has_data(chart) {
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" font-size="14" fill="{MUTED}" text-anchor="middle">{}</text>"#,
            w / 2,
            h / 2 + 10,
            td_string!(l, report.doc.empty_chart)
        );
    } else {
        match chart.kind {
            ChartKind::Bars => bars_svg(&mut s, chart, h),
            ChartKind::Line => line_svg(&mut s, chart, w, h),
        }
    }
    s.push_str("</g></svg>");
    s
}

/// Row height and top of the first row: few bars get taller rows, centred in the chart.
pub(super) fn bar_geometry(chart: &Chart, h: u32) -> (f64, f64) {
    let rows = bar_rows(chart).max(1) as f64;
    let avail = f64::from(h.saturating_sub(BAR_TOP + BAR_BOTTOM));
    let row = (avail / rows).clamp(f64::from(BAR_ROW), 34.0);
    let top = f64::from(BAR_TOP) + ((avail - rows * row) / 2.0).max(0.0);
    (row, top)
}

fn bars_svg(s: &mut String, chart: &Chart, h: u32) {
    const LABEL_X: f64 = 16.0;
    const BAR_X: f64 = 216.0;
    const BAR_MAX: f64 = CHART_WIDTH as f64 - BAR_X - 72.0;
    let (row, first) = bar_geometry(chart, h);
    let max = chart.points.iter().map(|p| p.value).max().unwrap_or(0).max(1) as f64;
    for (i, p) in chart.points.iter().take(MAX_BARS).enumerate() {
        let mid = first + i as f64 * row + row / 2.0;
        let v = p.value.max(0);
        let len = if v > 0 { (v as f64 / max * BAR_MAX).max(2.0) } else { 0.0 };
        let color = severity_color(&p.label).unwrap_or(BLUE);
        let _ = write!(
            s,
            r#"<text x="{LABEL_X}" y="{:.1}" font-size="12" fill="{INK}">{}</text>"#,
            mid + 4.0,
            esc(&truncate_chars(&p.label, 28))
        );
        let _ = write!(
            s,
            r#"<rect x="{BAR_X}" y="{:.1}" width="{BAR_MAX:.1}" height="14" rx="2" fill="{TRACK}"/>"#,
            mid - 7.0
        );
        if len > 0.0 {
            let _ = write!(
                s,
                r#"<rect x="{BAR_X}" y="{:.1}" width="{len:.1}" height="14" rx="2" fill="{color}"/>"#,
                mid - 7.0
            );
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="12" font-weight="bold" fill="{INK}">{}</text>"#,
            BAR_X + len + 6.0,
            mid + 4.0,
            fmt_int(p.value)
        );
    }
    if chart.points.len() > MAX_BARS {
        let mid = first + MAX_BARS as f64 * row + row / 2.0;
        let _ = write!(
            s,
            r#"<text x="{LABEL_X}" y="{:.1}" font-size="12" fill="{MUTED}">+{} more not shown</text>"#,
            mid + 4.0,
            fmt_int(i64::try_from(chart.points.len() - MAX_BARS).unwrap_or(i64::MAX))
        );
    }
}

/// Which date labels a line chart shows: at most five, evenly stepped, first and last always.
fn date_label_indices(n: usize) -> Vec<usize> {
    if n <= 5 {
        return (0..n).collect();
    }
    let step = (n - 1).div_ceil(4);
    let mut idx: Vec<usize> = (0..n - 1).step_by(step).collect();
    if let Some(&prev) = idx.last() {
        if prev > 0 && n - 1 - prev < step {
            idx.pop();
        }
    }
    idx.push(n - 1);
    idx
}

/// The smallest "nice" number (1, 2, 2.5, 5 × 10^k) at or above `v`, and at least 100.
fn nice_max(v: i64) -> f64 {
    let v = v.max(100) as f64;
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * mag >= v {
            return m * mag;
        }
    }
    v
}

fn line_svg(s: &mut String, chart: &Chart, w: u32, h: u32) {
    let (left, right, top, bottom) = (56.0, w as f64 - 28.0, 48.0, h as f64 - 40.0);
    let n = chart.points.len();
    let ymax = nice_max(chart.points.iter().map(|p| p.value).max().unwrap_or(0));
    for k in 0..=4 {
        let v = ymax * k as f64 / 4.0;
        let y = bottom - (bottom - top) * k as f64 / 4.0;
        let _ = write!(
            s,
            r#"<line x1="{left}" y1="{y:.1}" x2="{right}" y2="{y:.1}" stroke="{}" stroke-width="1"/>"#,
            if k == 0 { BORDER } else { GRID }
        );
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="11" fill="{MUTED}" text-anchor="end">{}</text>"#,
            left - 8.0,
            y + 4.0,
            fmt_int(v.round() as i64)
        );
    }
    let x_of = |i: usize| -> f64 {
        if n <= 1 {
            (left + right) / 2.0
        } else {
            left + (right - left) * i as f64 / (n - 1) as f64
        }
    };
    let y_of = |v: i64| -> f64 { bottom - (bottom - top) * (v.max(0) as f64 / ymax).min(1.0) };
    let mut line = String::new();
    for (i, p) in chart.points.iter().enumerate() {
        let _ = write!(line, "{}{:.1},{:.1} ", if i == 0 { "M" } else { "L" }, x_of(i), y_of(p.value));
    }
    let _ = write!(
        s,
        r#"<path d="{line}L{:.1},{bottom:.1} L{:.1},{bottom:.1} Z" fill="{BLUE}" fill-opacity="0.12"/>"#,
        x_of(n.saturating_sub(1)),
        x_of(0)
    );
    let _ = write!(
        s,
        r#"<path d="{}" fill="none" stroke="{BLUE}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>"#,
        line.trim_end()
    );
    if n <= 31 {
        for (i, p) in chart.points.iter().enumerate() {
            let _ = write!(
                s,
                r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="#ffffff" stroke="{BLUE}" stroke-width="2"/>"##,
                x_of(i),
                y_of(p.value)
            );
        }
    }
    if let Some(last) = chart.points.last() {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="12" font-weight="bold" fill="{INK}" text-anchor="{}">{}</text>"#,
            x_of(n - 1),
            y_of(last.value) - 9.0,
            if n > 1 { "end" } else { "middle" },
            fmt_int(last.value)
        );
    }
    // A few date labels: all when there are at most five points, else five spread evenly.
    for i in date_label_indices(n) {
        let anchor = if n > 1 && i == 0 {
            "start"
        } else if n > 1 && i == n - 1 {
            "end"
        } else {
            "middle"
        };
        let label = chart.points.get(i).map(|p| p.label.as_str()).unwrap_or("");
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="11" fill="{MUTED}" text-anchor="{anchor}">{}</text>"#,
            x_of(i),
            bottom + 20.0,
            esc(&truncate_chars(label, 16))
        );
    }
}

/// One SVG per section, in `doc.sections` order.
pub fn chart_svgs(doc: &ReportDocument) -> Vec<String> {
    doc.sections.iter().map(|s| chart_svg_in(&s.chart, doc.locale())).collect()
}

#[cfg(test)]
mod tests {
    use super::super::fonts::svg_options;
    use super::super::tests::{pts, sample_document};
    use super::*;
    use crate::reports::document::ChartPoint;
    use resvg::usvg;

    #[test]
    fn svg_is_valid_escaped_and_parses() {
        let doc = sample_document();
        let svgs = chart_svgs(&doc);
        assert_eq!(svgs.len(), doc.sections.len());
        for svg in &svgs {
            assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\""));
            assert!(svg.contains("viewBox=\"0 0 640 "));
            assert!(svg.contains(CHART_FONT_FAMILY));
            assert!(!svg.to_lowercase().contains("<script"));
            let tree = usvg::Tree::from_str(svg, &svg_options()).expect("usvg parses the chart");
            assert_eq!(tree.size().width(), 640.0);
        }
        assert!(svgs[0].contains("Zürich-db &lt;01&gt; &amp; &quot;x&quot;"));
        assert!(!svgs[0].contains("<01>"));
        // Severity colours on severity bars, blue elsewhere.
        assert!(svgs[1].contains("#b42318") && svgs[1].contains("#e8590c") && svgs[1].contains("#f0b400"));
        assert!(svgs[0].contains(BLUE));
        // The empty chart says so.
        assert!(svgs[3].contains(EMPTY_CHART_TEXT));
        // The line chart shows its first and last dates and a 0..100 axis.
        assert!(svgs[7].contains("2026-11-16") && svgs[7].contains("2026-11-22") && svgs[7].contains(">100<"));
    }

    #[test]
    fn svg_handles_odd_charts() {
        let charts = [
            Chart { kind: ChartKind::Line, title: "".into(), points: vec![] },
            Chart { kind: ChartKind::Line, title: "zeros".into(), points: pts(&[("a", 0), ("b", 0)]) },
            Chart { kind: ChartKind::Line, title: "one".into(), points: pts(&[("2026-01-01", 50)]) },
            Chart { kind: ChartKind::Line, title: "big".into(), points: pts(&[("a", 7), ("b", 1234), ("c", -5)]) },
            Chart { kind: ChartKind::Line, title: "extremes".into(), points: pts(&[("a", i64::MAX), ("b", i64::MIN)]) },
            Chart { kind: ChartKind::Bars, title: "neg".into(), points: pts(&[("a", -3), ("b", 5), ("c", i64::MAX)]) },
            Chart {
                kind: ChartKind::Bars,
                title: "ctrl \u{0} \u{1b}[31m \u{FFFF} ".repeat(50),
                points: (0..100).map(|i| ChartPoint { label: format!("asset\u{7}-{i}\n"), value: i }).collect(),
            },
            Chart {
                kind: ChartKind::Line,
                title: "many".into(),
                points: (0..400).map(|i| ChartPoint { label: format!("d{i}"), value: i % 97 }).collect(),
            },
        ];
        for chart in &charts {
            let svg = chart_svg(chart);
            usvg::Tree::from_str(&svg, &svg_options()).unwrap_or_else(|e| panic!("{}: {e}", chart.title));
            let (_, h) = chart_size(chart);
            assert!(svg.contains(&format!("height=\"{h}\"")));
        }
        assert!(chart_svg(&charts[0]).contains(EMPTY_CHART_TEXT));
        assert!(chart_svg(&charts[1]).contains(EMPTY_CHART_TEXT));
        assert!(chart_svg(&charts[3]).contains(">2,000<"), "axis grows past 100 to a nice number");
        assert!(chart_svg(&charts[6]).contains("+80 more not shown"));
        assert_eq!(chart_size(&charts[6]).1, BAR_TOP + 21 * BAR_ROW + BAR_BOTTOM);
    }

    #[test]
    fn axis_helpers() {
        assert_eq!(nice_max(2400), 2500.0);
        assert_eq!(date_label_indices(3), vec![0, 1, 2]);
        assert_eq!(date_label_indices(7), vec![0, 2, 4, 6]);
        assert_eq!(date_label_indices(6), vec![0, 2, 5]);
        assert_eq!(date_label_indices(30), vec![0, 8, 16, 29]);
        assert_eq!(date_label_indices(365), vec![0, 91, 182, 273, 364]);
    }
}
