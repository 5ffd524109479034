//! Renders a [`ReportDocument`] for every channel: a chart as SVG (drawn once, reused
//! everywhere), the same chart as PNG for email, an HTML and a plain-text email body, an A4 PDF
//! and one CSV per section table.
//!
//! Everything here is server-side only. Nothing panics on user data: labels and cells are
//! escaped (XML/HTML), stripped of control characters, truncated where space is fixed, and
//! arithmetic on counts saturates.
//!
//! Fonts: charts name "DejaVu Sans, Liberation Sans, Arial, sans-serif"; PNG and PDF output use
//! the system fonts (loaded once) and need DejaVu Sans or Liberation Sans installed (Debian:
//! `fonts-dejavu-core`, `fonts-liberation`). `BULWARK_FONT_DIR` may name one more directory of
//! fonts to load.

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use krilla::color::rgb;
use krilla::destination::XyzDestination;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use krilla::Document;
use krilla_svg::{SurfaceExt, SvgSettings};
use resvg::tiny_skia;
use resvg::usvg;
use resvg::usvg::fontdb;

use super::document::{Chart, ChartKind, ReportDocument, SectionData, Summary, Table};

// ---------------------------------------------------------------------------------------------
// Shared constants and helpers
// ---------------------------------------------------------------------------------------------

/// Width of every chart SVG, in SVG user units (= CSS px).
pub const CHART_WIDTH: u32 = 640;
/// Height of a chart SVG unless a bar chart needs more rows.
pub const CHART_HEIGHT: u32 = 220;
/// Font stack written into every chart SVG.
pub const CHART_FONT_FAMILY: &str = "DejaVu Sans, Liberation Sans, Arial, sans-serif";
/// Pixel density of [`chart_png`] (2x for crisp images on high-DPI mail clients).
pub const PNG_SCALE: f32 = 2.0;
/// Sentence shown for an empty section (HTML, text and PDF).
pub const EMPTY_SECTION_TEXT: &str = "Nothing in this period.";
/// Text drawn inside a chart without data.
pub const EMPTY_CHART_TEXT: &str = "Nothing in this period";
/// Section tables in the email bodies stop after this many rows (the PDF and the CSV have all).
pub const EMAIL_MAX_ROWS: usize = 50;

/// Bars drawn at most; further points are summarised as "+N more".
const MAX_BARS: usize = 20;
const BAR_ROW: u32 = 22;
const BAR_TOP: u32 = 46;
const BAR_BOTTOM: u32 = 16;

const BLUE: &str = "#1f6feb";
const INK: &str = "#1f2328";
const MUTED: &str = "#57606a";
const BORDER: &str = "#d0d7de";
const GRID: &str = "#eaeef2";
const TRACK: &str = "#f1f3f5";
const GOOD: &str = "#2f9e44";
const BAD: &str = "#b42318";

/// Severity colour when a label names a severity.
fn severity_color(label: &str) -> Option<&'static str> {
    match label.trim().to_ascii_lowercase().as_str() {
        "critical" => Some("#b42318"),
        "high" => Some("#e8590c"),
        "medium" => Some("#f0b400"),
        "low" => Some("#2f9e44"),
        "info" | "informational" => Some("#6e7781"),
        _ => None,
    }
}

/// Replaces control characters (including tab, CR, LF) and the XML-forbidden noncharacters with
/// a space, so that a value stays on one line and is valid in XML 1.0.
fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' { ' ' } else { c }).collect()
}

/// Escapes text for XML/HTML element content and attribute values (after [`clean`]).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in clean(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Cleans and cuts `s` to at most `max` characters, ending in "…" when cut.
fn truncate_chars(s: &str, max: usize) -> String {
    let s = clean(s);
    if s.chars().count() <= max {
        return s;
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// 1234567 -> "1,234,567".
fn fmt_int(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if v < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A difference with its sign: "+3", "-2", "±0".
fn fmt_signed(v: i64) -> String {
    match v {
        0 => "±0".to_string(),
        v if v > 0 => format!("+{}", fmt_int(v)),
        v => fmt_int(v),
    }
}

fn fmt_opt(v: Option<i64>) -> String {
    v.map(fmt_int).unwrap_or_else(|| "—".to_string())
}

/// Unix seconds as "YYYY-MM-DD HH:MM UTC".
fn fmt_utc(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "unknown time".to_string())
}

/// Score change against the previous period: (arrow, signed difference, colour).
fn score_change(summary: &Summary) -> Option<(&'static str, String, &'static str)> {
    let prev = summary.previous_score?;
    let d = summary.score.saturating_sub(prev);
    Some(match d {
        d if d > 0 => ("▲", fmt_signed(d), GOOD),
        d if d < 0 => ("▼", fmt_signed(d), BAD),
        _ => ("→", fmt_signed(0), MUTED),
    })
}

fn score_change_text(summary: &Summary) -> String {
    match (score_change(summary), summary.previous_score) {
        (Some((arrow, diff, _)), Some(prev)) => {
            format!("{arrow} {diff} vs previous period ({})", fmt_int(prev))
        }
        _ => "no previous score".to_string(),
    }
}

fn summary_header() -> [&'static str; 5] {
    ["Kind", "New", "Resolved", "Still open", "vs previous period"]
}

/// The summary rows as display strings, in [`summary_header`] order.
fn summary_cells(summary: &Summary) -> Vec<Vec<String>> {
    summary
        .rows
        .iter()
        .map(|r| {
            vec![
                clean(&r.label),
                fmt_int(r.new),
                fmt_opt(r.resolved),
                fmt_opt(r.open),
                fmt_signed(r.new.saturating_sub(r.previous_new)),
            ]
        })
        .collect()
}

fn has_data(chart: &Chart) -> bool {
    chart.points.iter().any(|p| p.value > 0)
}

/// The number of columns of a table: its header, or its widest row when it has no header.
fn column_count(table: &Table) -> usize {
    if table.columns.is_empty() {
        table.rows.iter().map(Vec::len).max().unwrap_or(0)
    } else {
        table.columns.len()
    }
}

fn cell(row: &[String], i: usize) -> &str {
    row.get(i).map(String::as_str).unwrap_or("")
}

/// A column is numeric (right-aligned) when every non-empty cell looks like a number.
fn numeric_columns(rows: &[Vec<String>], n: usize) -> Vec<bool> {
    (0..n)
        .map(|i| {
            let mut any = false;
            let all = rows.iter().all(|r| {
                let v = cell(r, i).trim();
                if v.is_empty() || v == "—" {
                    return true;
                }
                any = true;
                let v = v.trim_start_matches(['+', '-', '±']).trim_end_matches('%');
                !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '.')
            });
            any && all
        })
        .collect()
}

/// Max-min fair column widths: columns narrower than their fair share keep their natural width,
/// the rest share what is left equally.
fn fit_widths(natural: &[f32], avail: f32) -> Vec<f32> {
    let total: f32 = natural.iter().sum();
    if total <= avail || natural.is_empty() {
        return natural.to_vec();
    }
    let n = natural.len();
    let mut out = vec![0.0f32; n];
    let mut fixed = vec![false; n];
    let mut remaining = avail;
    let mut left = n;
    loop {
        let share = remaining / left as f32;
        let mut changed = false;
        for i in 0..n {
            if !fixed[i] && natural[i] <= share {
                out[i] = natural[i];
                fixed[i] = true;
                remaining -= natural[i];
                left -= 1;
                changed = true;
            }
        }
        if !changed || left == 0 {
            break;
        }
    }
    if left > 0 {
        let share = (remaining / left as f32).max(0.0);
        for i in 0..n {
            if !fixed[i] {
                out[i] = share;
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Charts: SVG
// ---------------------------------------------------------------------------------------------

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

/// One chart as a standalone SVG document (no scripts, no external resources).
pub fn chart_svg(chart: &Chart) -> String {
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
            r#"<text x="{}" y="{}" font-size="14" fill="{MUTED}" text-anchor="middle">{EMPTY_CHART_TEXT}</text>"#,
            w / 2,
            h / 2 + 10
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
fn bar_geometry(chart: &Chart, h: u32) -> (f64, f64) {
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
    doc.sections.iter().map(|s| chart_svg(&s.chart)).collect()
}

// ---------------------------------------------------------------------------------------------
// Fonts and PNG
// ---------------------------------------------------------------------------------------------

const FONT_DIRS: [&str; 2] = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation"];
const SANS_FAMILIES: [&str; 2] = ["DejaVu Sans", "Liberation Sans"];

fn has_family(db: &fontdb::Database, family: &str) -> bool {
    db.faces().any(|f| f.families.iter().any(|(name, _)| name == family))
}

/// The system fonts, loaded once per process.
fn font_db() -> Arc<fontdb::Database> {
    static DB: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = fontdb::Database::new();
        db.load_system_fonts();
        for dir in FONT_DIRS {
            if !SANS_FAMILIES.iter().any(|f| has_family(&db, f)) {
                db.load_fonts_dir(dir);
            }
        }
        if let Some(dir) = std::env::var_os("BULWARK_FONT_DIR") {
            db.load_fonts_dir(dir);
        }
        if let Some(family) = SANS_FAMILIES.iter().find(|f| has_family(&db, f)) {
            db.set_sans_serif_family(*family);
        }
        Arc::new(db)
    })
    .clone()
}

fn svg_options() -> usvg::Options<'static> {
    let db = font_db();
    let family = SANS_FAMILIES
        .iter()
        .find(|f| has_family(&db, f))
        .map(|f| f.to_string())
        .unwrap_or_else(|| "sans-serif".to_string());
    usvg::Options { fontdb: db, font_family: family, ..usvg::Options::default() }
}

fn parse_svg(svg: &str) -> Result<usvg::Tree, String> {
    usvg::Tree::from_str(svg, &svg_options()).map_err(|e| format!("chart SVG does not parse: {e}"))
}

/// Rasterises an SVG (as made by [`chart_svg`]) to a PNG at [`PNG_SCALE`] on white.
pub fn svg_to_png(svg: &str) -> Result<Vec<u8>, String> {
    if font_db().is_empty() {
        return Err("no fonts found: install fonts-dejavu-core (or set BULWARK_FONT_DIR)".to_string());
    }
    let tree = parse_svg(svg)?;
    let size = tree.size();
    let w = (size.width() * PNG_SCALE).ceil();
    let h = (size.height() * PNG_SCALE).ceil();
    if !(1.0..=8192.0).contains(&w) || !(1.0..=8192.0).contains(&h) {
        return Err(format!("chart size {w}x{h} out of range"));
    }
    let mut pixmap = tiny_skia::Pixmap::new(w as u32, h as u32).ok_or_else(|| "cannot allocate pixmap".to_string())?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::from_scale(PNG_SCALE, PNG_SCALE), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| format!("PNG encoding failed: {e}"))
}

/// The chart as a PNG (its [`chart_svg`] rasterised at 2x), for inline email images.
pub fn chart_png(chart: &Chart) -> Result<Vec<u8>, String> {
    svg_to_png(&chart_svg(chart))
}

/// Content id of section `i`'s chart image in [`email_html`] ("chart-{i}", without `cid:`).
pub fn chart_content_id(i: usize) -> String {
    format!("chart-{i}")
}

// ---------------------------------------------------------------------------------------------
// HTML email
// ---------------------------------------------------------------------------------------------

const EMAIL_WIDTH: u32 = 680;
const EMAIL_PAD: u32 = 24;
const HTML_FONT: &str = "font-family:'Segoe UI',Helvetica,Arial,sans-serif;";
const HTML_CELL_MAX: usize = 200;

fn html_table(s: &mut String, header: &[String], rows: &[Vec<String>], numeric: &[bool]) {
    let _ = write!(
        s,
        r#"<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;width:100%;border:1px solid {BORDER};">"#
    );
    s.push_str("<tr>");
    for (i, h) in header.iter().enumerate() {
        let align = if numeric.get(i).copied().unwrap_or(false) { "right" } else { "left" };
        let _ = write!(
            s,
            r#"<th align="{align}" style="{HTML_FONT}font-size:12px;font-weight:bold;color:{MUTED};background-color:#f6f8fa;padding:6px 8px;border-bottom:1px solid {BORDER};text-align:{align};">{}</th>"#,
            esc(&truncate_chars(h, HTML_CELL_MAX))
        );
    }
    s.push_str("</tr>");
    for (r, row) in rows.iter().enumerate() {
        let bg = if r % 2 == 1 { "#fbfcfd" } else { "#ffffff" };
        s.push_str("<tr>");
        for (i, _) in header.iter().enumerate() {
            let align = if numeric.get(i).copied().unwrap_or(false) { "right" } else { "left" };
            let _ = write!(
                s,
                r#"<td align="{align}" style="{HTML_FONT}font-size:13px;color:{INK};background-color:{bg};padding:6px 8px;border-bottom:1px solid {GRID};text-align:{align};word-break:break-word;">{}</td>"#,
                esc(&truncate_chars(cell(row, i), HTML_CELL_MAX))
            );
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
}

fn html_section(s: &mut String, i: usize, section: &SectionData) {
    let inner = EMAIL_WIDTH - 2 * EMAIL_PAD;
    let (cw, ch) = chart_size(&section.chart);
    let img_h = (f64::from(inner) * f64::from(ch) / f64::from(cw.max(1))).round() as u32;
    let _ = write!(s, r#"<tr><td style="padding:8px {EMAIL_PAD}px 20px {EMAIL_PAD}px;">"#);
    let _ = write!(
        s,
        r#"<h2 style="{HTML_FONT}margin:0 0 10px 0;font-size:17px;line-height:22px;color:{INK};border-top:1px solid {GRID};padding-top:16px;">{}</h2>"#,
        esc(&section.title)
    );
    let _ = write!(
        s,
        r#"<img src="cid:{}" width="{inner}" height="{img_h}" alt="{}" style="display:block;width:100%;max-width:{inner}px;height:auto;border:0;outline:none;text-decoration:none;margin:0 0 12px 0;">"#,
        chart_content_id(i),
        esc(&section.chart.title)
    );
    let n = column_count(&section.table);
    if section.empty {
        let _ = write!(s, r#"<p style="{HTML_FONT}margin:0;font-size:14px;color:{MUTED};">{EMPTY_SECTION_TEXT}</p>"#);
    } else if n > 0 && !section.table.rows.is_empty() {
        let t = &section.table;
        if !t.title.trim().is_empty() && t.title != section.title {
            let _ = write!(
                s,
                r#"<p style="{HTML_FONT}margin:0 0 6px 0;font-size:13px;font-weight:bold;color:{MUTED};">{}</p>"#,
                esc(&t.title)
            );
        }
        let header: Vec<String> = (0..n).map(|i| t.columns.get(i).cloned().unwrap_or_default()).collect();
        let shown = &t.rows[..t.rows.len().min(EMAIL_MAX_ROWS)];
        html_table(s, &header, shown, &numeric_columns(&t.rows, n));
        if t.rows.len() > shown.len() {
            let _ = write!(
                s,
                r#"<p style="{HTML_FONT}margin:6px 0 0 0;font-size:12px;color:{MUTED};">Showing {} of {} rows. The PDF report and Bulwark have them all.</p>"#,
                fmt_int(shown.len() as i64),
                fmt_int(i64::try_from(t.rows.len()).unwrap_or(i64::MAX))
            );
        }
    }
    s.push_str("</td></tr>");
}

/// The HTML email body: table layout, inline styles only, no scripts, no external resources.
///
/// Section `i`'s chart is referenced as `cid:chart-{i}` (every section, also empty ones: attach
/// [`chart_png`] of `doc.sections[i].chart` with content id [`chart_content_id`]`(i)`).
/// `console_url` is linked only when it is an http(s) URL.
pub fn email_html(doc: &ReportDocument, console_url: &str) -> String {
    let mut s = String::with_capacity(32 * 1024);
    let title = esc(&doc.report_name);
    let _ = write!(
        s,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="x-apple-disable-message-reformatting"><title>{title}</title></head>"#
    );
    s.push_str(r#"<body style="margin:0;padding:0;background-color:#f3f4f6;">"#);
    // Preheader: the line mail clients show next to the subject.
    let _ = write!(
        s,
        r#"<div style="display:none;max-height:0;overflow:hidden;opacity:0;mso-hide:all;">Security score {} · {} · {}</div>"#,
        fmt_int(doc.summary.score),
        esc(&doc.account_name),
        esc(&doc.period_label())
    );
    s.push_str(r#"<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f3f4f6;"><tr><td align="center" style="padding:24px 12px;">"#);
    let _ = write!(
        s,
        r#"<table role="presentation" width="{EMAIL_WIDTH}" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:{EMAIL_WIDTH}px;background-color:#ffffff;border:1px solid {BORDER};border-collapse:separate;">"#
    );

    // Header.
    let _ = write!(
        s,
        r#"<tr><td style="background-color:#0b2545;padding:20px {EMAIL_PAD}px;"><p style="{HTML_FONT}margin:0 0 4px 0;font-size:11px;letter-spacing:1px;text-transform:uppercase;color:#9fb3c8;">Bulwark security report</p><h1 style="{HTML_FONT}margin:0 0 10px 0;font-size:22px;line-height:28px;color:#ffffff;">{title}</h1>"#
    );
    let meta = [
        ("Account", format!("{} ({})", clean(&doc.account_name), clean(&doc.account_no))),
        ("Period", format!("{} ({})", doc.period_label(), clean(&doc.time_zone))),
        ("Generated", fmt_utc(doc.generated_at)),
    ];
    for (k, v) in meta {
        let _ = write!(
            s,
            r#"<p style="{HTML_FONT}margin:0;font-size:13px;line-height:20px;color:#d9e2ec;"><span style="color:#9fb3c8;">{k}:</span> {}</p>"#,
            esc(&v)
        );
    }
    s.push_str("</td></tr>");

    // Summary.
    let _ = write!(s, r#"<tr><td style="padding:20px {EMAIL_PAD}px 12px {EMAIL_PAD}px;">"#);
    let _ = write!(
        s,
        r#"<h2 style="{HTML_FONT}margin:0 0 10px 0;font-size:17px;line-height:22px;color:{INK};">Summary</h2>"#
    );
    let change = match score_change(&doc.summary) {
        Some((arrow, diff, color)) => format!(
            r#"<span style="color:{color};font-weight:bold;">{arrow} {diff}</span> vs previous period ({})"#,
            fmt_opt(doc.summary.previous_score)
        ),
        None => "no previous score".to_string(),
    };
    let _ = write!(
        s,
        r#"<p style="{HTML_FONT}margin:0 0 14px 0;font-size:14px;color:{MUTED};">Security score <span style="font-size:28px;line-height:32px;font-weight:bold;color:{INK};">{}</span>&nbsp;&nbsp;{change}</p>"#,
        fmt_int(doc.summary.score)
    );
    if !doc.summary.rows.is_empty() {
        let header: Vec<String> = summary_header().iter().map(|h| h.to_string()).collect();
        html_table(&mut s, &header, &summary_cells(&doc.summary), &[false, true, true, true, true]);
    }
    s.push_str("</td></tr>");

    for (i, section) in doc.sections.iter().enumerate() {
        html_section(&mut s, i, section);
    }

    // Footer.
    let link = if console_url.starts_with("https://") || console_url.starts_with("http://") {
        format!(
            r#"<a href="{}" style="{HTML_FONT}display:inline-block;background-color:{BLUE};color:#ffffff;text-decoration:none;font-weight:bold;font-size:14px;padding:10px 18px;border-radius:6px;">Open Bulwark</a>"#,
            esc(console_url)
        )
    } else {
        "Open Bulwark".to_string()
    };
    let _ = write!(
        s,
        r#"<tr><td style="padding:16px {EMAIL_PAD}px 24px {EMAIL_PAD}px;border-top:1px solid {GRID};">{link}<p style="{HTML_FONT}margin:14px 0 0 0;font-size:12px;line-height:18px;color:{MUTED};">This report was generated by Bulwark for {} ({}). You receive it because you are listed as a recipient of this report.</p></td></tr>"#,
        esc(&doc.account_name),
        esc(&doc.account_no)
    );
    s.push_str("</table></td></tr></table></body></html>");
    s
}

// ---------------------------------------------------------------------------------------------
// Plain-text email
// ---------------------------------------------------------------------------------------------

/// Widest line of the text body (tables are fitted to this).
const TEXT_WIDTH: usize = 96;

/// Columns shown at most in the text body (each needs 2 characters and a 2-space gap).
const TEXT_MAX_COLUMNS: usize = (TEXT_WIDTH + 2) / 4;

fn text_table(out: &mut String, header: &[String], rows: &[Vec<String>]) {
    let n = header.len().min(TEXT_MAX_COLUMNS);
    if n == 0 {
        return;
    }
    let numeric = numeric_columns(rows, n);
    let natural: Vec<f32> = (0..n)
        .map(|i| {
            let w = rows
                .iter()
                .map(|r| clean(cell(r, i)).chars().count())
                .chain(std::iter::once(clean(&header[i]).chars().count()))
                .max()
                .unwrap_or(0);
            w.clamp(1, TEXT_WIDTH) as f32
        })
        .collect();
    let avail = TEXT_WIDTH.saturating_sub(2 * (n - 1)).max(n) as f32;
    let widths: Vec<usize> = fit_widths(&natural, avail).iter().map(|w| (w.floor() as usize).max(1)).collect();
    let line = |out: &mut String, cells: &dyn Fn(usize) -> String| {
        let mut l = String::new();
        for i in 0..n {
            let w = widths[i];
            let v = truncate_chars(&cells(i), w);
            let pad = w.saturating_sub(v.chars().count());
            if i > 0 {
                l.push_str("  ");
            }
            if numeric[i] {
                l.extend(std::iter::repeat_n(' ', pad));
                l.push_str(&v);
            } else {
                l.push_str(&v);
                l.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(out, &|i| header[i].clone());
    let rule: usize = widths.iter().sum::<usize>() + 2 * (n - 1);
    out.push_str(&"-".repeat(rule.min(TEXT_WIDTH)));
    out.push('\n');
    for row in rows {
        line(out, &|i| cell(row, i).to_string());
    }
    if header.len() > n {
        let _ = writeln!(out, "({} more columns in the PDF and CSV)", header.len() - n);
    }
}

/// The plain-text alternative of [`email_html`]: same content, charts as "label: value" lines.
pub fn email_text(doc: &ReportDocument) -> String {
    let mut s = String::with_capacity(8 * 1024);
    let _ = writeln!(s, "BULWARK SECURITY REPORT");
    let _ = writeln!(s, "{}", truncate_chars(&doc.report_name, TEXT_WIDTH));
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Account:   {}",
        truncate_chars(&format!("{} ({})", doc.account_name, doc.account_no), TEXT_WIDTH - 11)
    );
    let _ = writeln!(
        s,
        "Period:    {}",
        truncate_chars(&format!("{} ({})", doc.period_label(), doc.time_zone), TEXT_WIDTH - 11)
    );
    let _ = writeln!(s, "Generated: {}", fmt_utc(doc.generated_at));
    let _ = writeln!(s);
    let _ = writeln!(s, "SUMMARY");
    let _ = writeln!(s, "=======");
    let score = format!("Security score: {}  ({})", fmt_int(doc.summary.score), score_change_text(&doc.summary));
    let _ = writeln!(s, "{}", truncate_chars(&score, TEXT_WIDTH));
    if !doc.summary.rows.is_empty() {
        let _ = writeln!(s);
        let header: Vec<String> = summary_header().iter().map(|h| h.to_string()).collect();
        text_table(&mut s, &header, &summary_cells(&doc.summary));
    }
    for (i, section) in doc.sections.iter().enumerate() {
        let _ = writeln!(s);
        let heading = truncate_chars(&format!("{}. {}", i + 1, section.title), TEXT_WIDTH);
        let _ = writeln!(s, "{}", heading.to_uppercase());
        let _ = writeln!(s, "{}", "=".repeat(heading.chars().count().min(TEXT_WIDTH)));
        if section.empty {
            let _ = writeln!(s, "{EMPTY_SECTION_TEXT}");
            continue;
        }
        let chart = &section.chart;
        if !chart.title.trim().is_empty() {
            let _ = writeln!(s, "{}:", truncate_chars(&chart.title, TEXT_WIDTH - 1));
        }
        if chart.points.is_empty() {
            let _ = writeln!(s, "  {EMPTY_CHART_TEXT}");
        }
        for p in &chart.points {
            let value = fmt_int(p.value);
            let label = truncate_chars(&p.label, TEXT_WIDTH - 4 - value.chars().count());
            let _ = writeln!(s, "  {label}: {value}");
        }
        let t = &section.table;
        let n = column_count(t);
        if n > 0 && !t.rows.is_empty() {
            let _ = writeln!(s);
            if !t.title.trim().is_empty() && t.title != section.title {
                let _ = writeln!(s, "{}", truncate_chars(&t.title, TEXT_WIDTH));
            }
            let header: Vec<String> = (0..n).map(|i| t.columns.get(i).cloned().unwrap_or_default()).collect();
            let shown = &t.rows[..t.rows.len().min(EMAIL_MAX_ROWS)];
            text_table(&mut s, &header, shown);
            if t.rows.len() > shown.len() {
                let _ = writeln!(
                    s,
                    "(showing {} of {} rows; the PDF report and Bulwark have them all)",
                    fmt_int(shown.len() as i64),
                    fmt_int(i64::try_from(t.rows.len()).unwrap_or(i64::MAX))
                );
            }
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "--");
    let _ = writeln!(
        s,
        "{}",
        truncate_chars(&format!("Generated by Bulwark for {} ({}).", doc.account_name, doc.account_no), TEXT_WIDTH)
    );
    s
}

/// The text body with a link to the console appended ("Open Bulwark: URL").
pub fn email_text_with_link(doc: &ReportDocument, console_url: &str) -> String {
    let mut s = email_text(doc);
    let _ = writeln!(s, "Open Bulwark: {}", clean(console_url));
    s
}

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

fn csv_field(out: &mut String, v: &str) {
    let guarded;
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        guarded = format!("'{v}");
        guarded.as_str()
    } else {
        v
    };
    if v.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&v.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(v);
    }
}

/// The table as RFC 4180 CSV (header row, CRLF line ends, quoted where needed), with cells that
/// a spreadsheet would read as a formula (leading `=`, `+`, `-`, `@`, tab, CR) prefixed by `'`.
/// Rows shorter than the header are padded with empty cells.
pub fn section_csv(table: &Table) -> String {
    let n = column_count(table).max(table.rows.iter().map(Vec::len).max().unwrap_or(0));
    let mut out = String::with_capacity(64 * (table.rows.len() + 1));
    let mut line = |cells: &[String]| {
        for i in 0..n {
            if i > 0 {
                out.push(',');
            }
            csv_field(&mut out, cell(cells, i));
        }
        out.push_str("\r\n");
    };
    if n > 0 {
        line(&table.columns);
    }
    for row in &table.rows {
        line(row);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// PDF
// ---------------------------------------------------------------------------------------------

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 42.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
/// Lowest baseline for body content; the footer sits below.
const BODY_BOTTOM: f32 = PAGE_H - 50.0;
const ROW_H: f32 = 15.0;
const TABLE_SIZE: f32 = 8.5;
const CELL_PAD: f32 = 5.0;
/// Columns shown at most in a PDF table (about 32pt each).
const PDF_MAX_COLUMNS: usize = 16;

type Rgb = (u8, u8, u8);

fn hex(c: &str) -> Rgb {
    let p = |i: usize| c.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).unwrap_or(0);
    (p(1), p(3), p(5))
}

enum Op {
    Text { x: f32, y: f32, size: f32, bold: bool, color: Rgb, text: String },
    Rect { x: f32, y: f32, w: f32, h: f32, color: Rgb },
    Line { x1: f32, x2: f32, y: f32, color: Rgb },
    Chart { x: f32, y: f32, w: f32, h: f32, index: usize },
}

/// Font data for PDF text, loaded once.
struct PdfFontData {
    regular: (Arc<Vec<u8>>, u32),
    bold: (Arc<Vec<u8>>, u32),
}

fn load_face(db: &fontdb::Database, family: &str, weight: fontdb::Weight) -> Option<(Arc<Vec<u8>>, u32)> {
    let query = fontdb::Query {
        families: &[fontdb::Family::Name(family)],
        weight,
        stretch: fontdb::Stretch::Normal,
        style: fontdb::Style::Normal,
    };
    let id = db.query(&query)?;
    db.with_face_data(id, |data, index| (Arc::new(data.to_vec()), index))
}

fn pdf_fonts() -> Result<&'static PdfFontData, String> {
    static FONTS: OnceLock<Option<PdfFontData>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let db = font_db();
            SANS_FAMILIES.iter().find_map(|family| {
                let regular = load_face(&db, family, fontdb::Weight::NORMAL)?;
                let bold = load_face(&db, family, fontdb::Weight::BOLD).unwrap_or_else(|| regular.clone());
                Some(PdfFontData { regular, bold })
            })
        })
        .as_ref()
        .ok_or_else(|| "no PDF font: install fonts-dejavu-core or fonts-liberation".to_string())
}

/// Advance widths for layout (no kerning; good enough to fit cells).
struct Metrics<'a> {
    regular: ttf_parser::Face<'a>,
    bold: ttf_parser::Face<'a>,
}

impl Metrics<'_> {
    fn char_width(&self, c: char, size: f32, bold: bool) -> f32 {
        let face = if bold { &self.bold } else { &self.regular };
        let upem = f32::from(face.units_per_em().max(1));
        let gid = face.glyph_index(c).unwrap_or(ttf_parser::GlyphId(0));
        f32::from(face.glyph_hor_advance(gid).unwrap_or(0)) / upem * size
    }

    fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        text.chars().map(|c| self.char_width(c, size, bold)).sum()
    }

    /// Width of `text`, stopping once it exceeds `cap`.
    fn width_capped(&self, text: &str, size: f32, bold: bool, cap: f32) -> f32 {
        let mut w = 0.0;
        for c in text.chars() {
            w += self.char_width(c, size, bold);
            if w > cap {
                break;
            }
        }
        w
    }

    /// `text` cleaned and cut to fit `max` points, ending in "…" when cut.
    fn fit(&self, text: &str, size: f32, bold: bool, max: f32) -> String {
        let text = clean(text);
        if self.width_capped(&text, size, bold, max) <= max {
            return text;
        }
        let budget = max - self.char_width('…', size, bold);
        let mut w = 0.0;
        let mut out = String::new();
        for c in text.chars() {
            w += self.char_width(c, size, bold);
            if w > budget {
                break;
            }
            out.push(c);
        }
        let mut out = out.trim_end().to_string();
        out.push('…');
        out
    }
}

struct Layout<'a> {
    m: &'a Metrics<'a>,
    pages: Vec<Vec<Op>>,
    /// Top of the free space on the current page.
    y: f32,
    /// (title, page index, y) for the PDF outline.
    bookmarks: Vec<(String, usize, f32)>,
}

impl<'a> Layout<'a> {
    fn new(m: &'a Metrics<'a>) -> Self {
        let mut l = Layout { m, pages: Vec::new(), y: 0.0, bookmarks: Vec::new() };
        l.new_page();
        l
    }

    fn new_page(&mut self) {
        self.pages.push(vec![Op::Rect { x: 0.0, y: 0.0, w: PAGE_W, h: 5.0, color: hex(BLUE) }]);
        self.y = MARGIN;
    }

    /// Starts a new page unless `h` points fit below the cursor.
    fn ensure(&mut self, h: f32) {
        if self.y + h > BODY_BOTTOM {
            self.new_page();
        }
    }

    fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    /// One line of text at the cursor; advances by `line_h`.
    fn text(&mut self, text: &str, size: f32, bold: bool, color: &str, line_h: f32) {
        self.ensure(line_h);
        let text = self.m.fit(text, size, bold, CONTENT_W);
        let baseline = self.y + line_h * 0.75;
        self.push(Op::Text { x: MARGIN, y: baseline, size, bold, color: hex(color), text });
        self.y += line_h;
    }

    fn rule(&mut self) {
        self.push(Op::Line { x1: MARGIN, x2: PAGE_W - MARGIN, y: self.y, color: hex(BORDER) });
    }

    fn table(&mut self, caption: &str, header: &[String], rows: &[Vec<String>], numeric: &[bool]) {
        // Columns beyond what fits at a legible width are left to the CSV.
        let n = header.len().min(PDF_MAX_COLUMNS);
        let header = &header[..n];
        if n == 0 {
            return;
        }
        let cap = CONTENT_W;
        let natural: Vec<f32> = (0..n)
            .map(|i| {
                let head = self.m.width_capped(&clean(&header[i]), TABLE_SIZE, true, cap);
                rows.iter()
                    .map(|r| self.m.width_capped(&clean(cell(r, i)), TABLE_SIZE, false, cap))
                    .fold(head, f32::max)
                    .min(cap)
                    + 2.0 * CELL_PAD
            })
            .collect();
        let mut widths = fit_widths(&natural, CONTENT_W);
        let used: f32 = widths.iter().sum();
        if used > 0.0 && used < CONTENT_W {
            // Spread the spare width so every table spans the page.
            let extra = (CONTENT_W - used) / n as f32;
            widths.iter_mut().for_each(|w| *w += extra);
        }
        let draw_row = |l: &mut Layout, cells: &dyn Fn(usize) -> String, bold: bool, bg: Option<&str>| {
            let top = l.y;
            if let Some(bg) = bg {
                l.push(Op::Rect { x: MARGIN, y: top, w: CONTENT_W, h: ROW_H, color: hex(bg) });
            }
            let mut x = MARGIN;
            for (i, w) in widths.iter().enumerate() {
                let inner = (w - 2.0 * CELL_PAD).max(1.0);
                let text = l.m.fit(&cells(i), TABLE_SIZE, bold, inner);
                if !text.is_empty() {
                    let tw = l.m.width(&text, TABLE_SIZE, bold);
                    let tx =
                        if numeric.get(i).copied().unwrap_or(false) { x + w - CELL_PAD - tw } else { x + CELL_PAD };
                    let color = hex(if bold { MUTED } else { INK });
                    l.push(Op::Text { x: tx, y: top + 10.5, size: TABLE_SIZE, bold, color, text });
                }
                x += w;
            }
            l.y += ROW_H;
            l.push(Op::Line { x1: MARGIN, x2: PAGE_W - MARGIN, y: l.y, color: hex(GRID) });
        };
        let header_row = |l: &mut Layout, continued: bool| {
            if continued {
                l.text(&format!("{caption} (continued)"), 9.0, false, MUTED, 16.0);
            }
            draw_row(l, &|i| header[i].clone(), true, Some("#f6f8fa"));
        };
        self.ensure(ROW_H * 2.0);
        header_row(self, false);
        for (r, row) in rows.iter().enumerate() {
            if self.y + ROW_H > BODY_BOTTOM {
                self.new_page();
                header_row(self, true);
            }
            let bg = if r % 2 == 1 { Some("#fbfcfd") } else { None };
            draw_row(self, &|i| cell(row, i).to_string(), false, bg);
        }
    }
}

fn layout_pdf<'a>(doc: &ReportDocument, m: &'a Metrics<'a>, svg_sizes: &[(u32, u32)]) -> Layout<'a> {
    let mut l = Layout::new(m);
    // Header.
    l.text("BULWARK SECURITY REPORT", 8.0, true, MUTED, 14.0);
    l.text(&doc.report_name, 20.0, true, INK, 28.0);
    l.text(&format!("Account: {} ({})", doc.account_name, doc.account_no), 10.0, false, INK, 15.0);
    l.text(&format!("Period: {} ({})", doc.period_label(), doc.time_zone), 10.0, false, INK, 15.0);
    l.text(&format!("Generated: {}", fmt_utc(doc.generated_at)), 10.0, false, INK, 15.0);
    l.y += 8.0;
    l.rule();
    l.y += 12.0;

    // Summary.
    l.bookmarks.push(("Summary".to_string(), l.pages.len() - 1, l.y));
    l.text("Summary", 14.0, true, INK, 22.0);
    l.ensure(24.0);
    let score = format!("Security score: {}", fmt_int(doc.summary.score));
    let score_w = m.width(&score, 14.0, true);
    l.push(Op::Text { x: MARGIN, y: l.y + 17.0, size: 14.0, bold: true, color: hex(INK), text: score });
    let (change, color) = match score_change(&doc.summary) {
        Some((_, _, color)) => (score_change_text(&doc.summary), color),
        None => ("no previous score".to_string(), MUTED),
    };
    let change = m.fit(&change, 10.0, false, (CONTENT_W - score_w - 12.0).max(20.0));
    l.push(Op::Text {
        x: MARGIN + score_w + 12.0,
        y: l.y + 17.0,
        size: 10.0,
        bold: false,
        color: hex(color),
        text: change,
    });
    l.y += 30.0;
    if !doc.summary.rows.is_empty() {
        let header: Vec<String> = summary_header().iter().map(|h| h.to_string()).collect();
        l.table("Summary", &header, &summary_cells(&doc.summary), &[false, true, true, true, true]);
    }
    l.y += 18.0;

    // Sections.
    for (i, section) in doc.sections.iter().enumerate() {
        let (cw, ch) = svg_sizes.get(i).copied().unwrap_or((CHART_WIDTH, CHART_HEIGHT));
        let chart_h = CONTENT_W * ch as f32 / cw.max(1) as f32;
        let title = format!("{}. {}", i + 1, clean(&section.title));
        if section.empty {
            l.ensure(24.0 + 18.0);
        } else {
            l.ensure(24.0 + chart_h.min(BODY_BOTTOM - MARGIN - 24.0) + 10.0 + 2.0 * ROW_H);
        }
        l.bookmarks.push((title.clone(), l.pages.len() - 1, l.y));
        l.text(&title, 14.0, true, INK, 24.0);
        if section.empty {
            l.text(EMPTY_SECTION_TEXT, 10.0, false, MUTED, 16.0);
            l.y += 18.0;
            continue;
        }
        l.ensure(chart_h);
        l.push(Op::Chart { x: MARGIN, y: l.y, w: CONTENT_W, h: chart_h, index: i });
        l.y += chart_h + 10.0;
        let t = &section.table;
        let n = column_count(t);
        if n > 0 && !t.rows.is_empty() {
            let caption = if t.title.trim().is_empty() { clean(&section.title) } else { clean(&t.title) };
            if !t.title.trim().is_empty() && t.title != section.title {
                l.text(&t.title, 10.0, true, MUTED, 16.0);
            }
            let header: Vec<String> = (0..n).map(|i| t.columns.get(i).cloned().unwrap_or_default()).collect();
            l.table(&caption, &header, &t.rows, &numeric_columns(&t.rows, n));
        }
        l.y += 18.0;
    }
    l
}

fn fill(color: Rgb) -> Fill {
    Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

/// The report as an A4 PDF: header, summary, and per section its title, chart (from
/// [`chart_svg`]) and table (paginated, header repeated, over-long cells cut with "…").
/// Text is real, extractable text in DejaVu Sans (or Liberation Sans).
pub fn pdf(doc: &ReportDocument) -> Result<Vec<u8>, String> {
    let fonts = pdf_fonts()?;
    fn face(font: &(Arc<Vec<u8>>, u32)) -> Result<ttf_parser::Face<'_>, String> {
        ttf_parser::Face::parse(font.0.as_slice(), font.1).map_err(|e| format!("font does not parse: {e}"))
    }
    let metrics = Metrics { regular: face(&fonts.regular)?, bold: face(&fonts.bold)? };
    let font = |(data, index): &(Arc<Vec<u8>>, u32)| {
        Font::new(data.clone().into(), *index).ok_or_else(|| "font not usable for PDF".to_string())
    };
    let regular = font(&fonts.regular)?;
    let bold = font(&fonts.bold)?;

    let svgs = chart_svgs(doc);
    // A chart that does not parse (it always should) is left out rather than failing the report.
    let trees: Vec<Option<usvg::Tree>> = svgs.iter().map(|s| parse_svg(s).ok()).collect();
    let sizes: Vec<(u32, u32)> = doc.sections.iter().map(|s| chart_size(&s.chart)).collect();
    let layout = layout_pdf(doc, &metrics, &sizes);
    let total = layout.pages.len();

    let mut document = Document::new();
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| "bad page size".to_string())?;
    for (p, ops) in layout.pages.iter().enumerate() {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        let footer_y = PAGE_H - 24.0;
        let footer_left =
            metrics.fit(&format!("Bulwark · {} · {}", doc.report_name, doc.account_name), 8.0, false, CONTENT_W - 80.0);
        let footer_right = format!("Page {} of {}", p + 1, total);
        let right_x = PAGE_W - MARGIN - metrics.width(&footer_right, 8.0, false);
        let footer = [
            Op::Line { x1: MARGIN, x2: PAGE_W - MARGIN, y: footer_y - 12.0, color: hex(GRID) },
            Op::Text { x: MARGIN, y: footer_y, size: 8.0, bold: false, color: hex(MUTED), text: footer_left },
            Op::Text { x: right_x, y: footer_y, size: 8.0, bold: false, color: hex(MUTED), text: footer_right },
        ];
        for op in ops.iter().chain(footer.iter()) {
            match op {
                Op::Text { x, y, size, bold: is_bold, color, text } => {
                    if text.trim().is_empty() {
                        continue;
                    }
                    surface.set_stroke(None);
                    surface.set_fill(Some(fill(*color)));
                    let f = if *is_bold { bold.clone() } else { regular.clone() };
                    surface.draw_text(Point::from_xy(*x, *y), f, *size, text, false, TextDirection::Auto);
                }
                Op::Rect { x, y, w, h, color } => {
                    let mut pb = PathBuilder::new();
                    if let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) {
                        pb.push_rect(rect);
                    }
                    if let Some(path) = pb.finish() {
                        surface.set_stroke(None);
                        surface.set_fill(Some(fill(*color)));
                        surface.draw_path(&path);
                    }
                }
                Op::Line { x1, x2, y, color } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(*x1, *y);
                    pb.line_to(*x2, *y);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            paint: rgb::Color::new(color.0, color.1, color.2).into(),
                            width: 0.6,
                            ..Stroke::default()
                        }));
                        surface.draw_path(&path);
                    }
                }
                Op::Chart { x, y, w, h, index } => {
                    if let (Some(Some(tree)), Some(size)) = (trees.get(*index), Size::from_wh(*w, *h)) {
                        surface.push_transform(&Transform::from_translate(*x, *y));
                        let _ = surface.draw_svg(tree, size, SvgSettings::default());
                        surface.pop();
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }

    let mut outline = Outline::new();
    for (title, page, y) in &layout.bookmarks {
        outline.push_child(OutlineNode::new(clean(title), XyzDestination::new(*page, Point::from_xy(0.0, *y))));
    }
    document.set_outline(outline);
    document.set_metadata(
        Metadata::new()
            .title(clean(&doc.report_name))
            .description(format!("{} – {}", clean(&doc.account_name), doc.period_label()))
            .creator("Bulwark".to_string())
            .language("en".to_string()),
    );
    document.finish().map_err(|e| format!("PDF generation failed: {e:?}"))
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use super::super::document::{ChartPoint, SummaryRow};
    use super::super::model::Section;

    const NASTY: &str = "Zürich-db <01> & \"x\"";

    fn pts(items: &[(&str, i64)]) -> Vec<ChartPoint> {
        items.iter().map(|(l, v)| ChartPoint { label: l.to_string(), value: *v }).collect()
    }

    fn strs(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn section(
        section: Section,
        kind: ChartKind,
        chart_title: &str,
        points: Vec<ChartPoint>,
        columns: &[&str],
        rows: Vec<Vec<String>>,
    ) -> SectionData {
        SectionData {
            section,
            title: section.label().to_string(),
            empty: false,
            chart: Chart { kind, title: chart_title.to_string(), points },
            table: Table { title: section.label().to_string(), columns: strs(columns), rows },
        }
    }

    fn sample_document() -> ReportDocument {
        let sev = |c, h, m, l| pts(&[("Critical", c), ("High", h), ("Medium", m), ("Low", l)]);
        let sections = vec![
            section(
                Section::Assets,
                ChartKind::Bars,
                "Assets by risk",
                pts(&[(NASTY, 14), ("web-01", 9), ("mail.example.com", 4), ("東京-node", 2)]),
                &["Asset", "Type", "Open findings", "Last seen"],
                vec![
                    strs(&[NASTY, "Linux server", "14", "2026-11-22"]),
                    strs(&["web-01", "Linux server", "9", "2026-11-22"]),
                    strs(&["mail.example.com", "Windows server", "4", "2026-11-21"]),
                    strs(&["東京-node", "Linux server", "2", "2026-11-20"]),
                ],
            ),
            section(
                Section::Alerts,
                ChartKind::Bars,
                "Alerts by severity",
                sev(1, 3, 2, 1),
                &["Alert", "Severity", "Asset", "Raised"],
                vec![
                    strs(&["Brute force on SSH", "High", NASTY, "2026-11-17 08:12"]),
                    strs(&["New admin user", "Critical", "web-01", "2026-11-19 22:40"]),
                ],
            ),
            section(
                Section::VulnLinux,
                ChartKind::Bars,
                "Linux vulnerabilities by severity",
                sev(2, 5, 9, 3),
                &["CVE", "Package", "Severity", "Assets"],
                vec![
                    strs(&["CVE-2026-1234", "openssl 3.0.11", "Critical", "3"]),
                    strs(&["CVE-2026-2345", "=HYPERLINK(\"http://evil\")", "High", "1"]),
                ],
            ),
            SectionData {
                section: Section::VulnWindows,
                title: Section::VulnWindows.label().to_string(),
                empty: true,
                chart: Chart {
                    kind: ChartKind::Bars,
                    title: "Windows vulnerabilities by severity".into(),
                    points: vec![],
                },
                table: Table {
                    title: "Windows vulnerabilities".into(),
                    columns: strs(&["CVE", "KB", "Severity"]),
                    rows: vec![],
                },
            },
            section(
                Section::VulnWebCms,
                ChartKind::Bars,
                "Web-CMS vulnerabilities by severity",
                sev(0, 1, 2, 0),
                &["Site", "CMS", "Issue"],
                vec![strs(&["https://shop.example.com", "WordPress 6.1", "Outdated plugin, \"contact-form\""])],
            ),
            section(
                Section::Baseline,
                ChartKind::Bars,
                "Baseline checks",
                pts(&[("Passed", 118), ("Failed", 22)]),
                &["Check", "Asset", "Result"],
                vec![strs(&["SSH root login disabled", NASTY, "Failed"])],
            ),
            section(
                Section::Attacks,
                ChartKind::Bars,
                "Attacks by type",
                pts(&[("SQL injection", 80), ("XSS", 41), ("Path traversal", 32)]),
                &["Type", "Source", "Count"],
                vec![strs(&["SQL injection", "203.0.113.7", "80"]), strs(&["XSS", "198.51.100.2", "41"])],
            ),
            section(
                Section::ScoreTrend,
                ChartKind::Line,
                "Security score",
                pts(&[
                    ("2026-11-16", 68),
                    ("2026-11-17", 69),
                    ("2026-11-18", 69),
                    ("2026-11-19", 66),
                    ("2026-11-20", 70),
                    ("2026-11-21", 71),
                    ("2026-11-22", 72),
                ]),
                &["Date", "Score"],
                vec![strs(&["2026-11-16", "68"]), strs(&["2026-11-22", "72"])],
            ),
        ];
        ReportDocument {
            report_name: "Weekly security report".into(),
            account_name: "Acme <Schweiz> AG & Co".into(),
            account_no: "ACC-000042".into(),
            time_zone: "Europe/Zurich".into(),
            period_start: "2026-11-16".into(),
            period_end: "2026-11-22".into(),
            generated_at: 1_795_413_600, // 2026-11-23 06:00 UTC
            summary: Summary {
                score: 72,
                previous_score: Some(68),
                rows: vec![
                    SummaryRow {
                        label: "Findings".into(),
                        new: 19,
                        resolved: Some(7),
                        open: Some(41),
                        previous_new: 12,
                    },
                    SummaryRow { label: "Alerts".into(), new: 7, resolved: Some(9), open: Some(3), previous_new: 10 },
                    SummaryRow {
                        label: "Baseline risks".into(),
                        new: 4,
                        resolved: Some(1),
                        open: Some(22),
                        previous_new: 4,
                    },
                    SummaryRow { label: "Attacks".into(), new: 1532, resolved: None, open: None, previous_new: 1200 },
                ],
            },
            sections,
        }
    }

    fn long_document(rows: usize) -> ReportDocument {
        let mut doc = sample_document();
        doc.sections[2].table.rows = (1..=rows)
            .map(|i| {
                vec![
                    format!("CVE-2026-{i:05}"),
                    format!("package-{i} {}", "with-a-very-long-name-".repeat(6)),
                    "High".to_string(),
                    format!("row-{i}"),
                ]
            })
            .collect();
        doc
    }

    fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().expect("png header");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("png frame");
        assert_eq!(info.color_type, png::ColorType::Rgba);
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    /// Dark pixels (text, not pale fills) inside a rectangle of the image.
    fn dark_pixels(w: u32, rgba: &[u8], x0: u32, y0: u32, x1: u32, y1: u32) -> usize {
        let mut n = 0;
        for y in y0..y1 {
            for x in x0..x1 {
                let i = ((y * w + x) * 4) as usize;
                if let Some(px) = rgba.get(i..i + 3) {
                    if px.iter().all(|&c| c < 120) {
                        n += 1;
                    }
                }
            }
        }
        n
    }

    fn pdf_pages(bytes: &[u8]) -> Vec<String> {
        pdf_extract::extract_text_from_mem_by_pages(bytes).expect("text extraction")
    }

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
    fn png_decodes_at_2x_with_text_and_bars() {
        let doc = sample_document();
        let chart = &doc.sections[1].chart; // 4 severity bars
        let bytes = chart_png(chart).expect("png");
        let (w, h, rgba) = decode_png(&bytes);
        let (cw, ch) = chart_size(chart);
        assert_eq!((w, h), (cw * 2, ch * 2));
        // Labels: dark text in the label column of the first bar row.
        let (row, first) = bar_geometry(chart, ch);
        let row_top = (first * 2.0) as u32;
        let row_bottom = ((first + row) * 2.0) as u32;
        assert!(dark_pixels(w, &rgba, 32, row_top, 400, row_bottom) > 50, "label text is drawn");
        // Title text.
        assert!(dark_pixels(w, &rgba, 32, 20, 600, 64) > 100, "title text is drawn");
        // The critical bar in #b42318.
        let bar_px = rgba.chunks_exact(4).filter(|p| p[0] == 0xb4 && p[1] == 0x23 && p[2] == 0x18).count();
        assert!(bar_px > 500, "critical bar drawn ({bar_px} px)");

        // An empty chart is only text: its centre must still have dark pixels.
        let empty = chart_png(&doc.sections[3].chart).expect("png");
        let (w, h, rgba) = decode_png(&empty);
        assert!(dark_pixels(w, &rgba, w / 4, h / 2 - 30, w * 3 / 4, h / 2 + 40) > 100, "empty text drawn");

        // The line chart renders too.
        let line = chart_png(&doc.sections[7].chart).expect("png");
        let (w, _, rgba) = decode_png(&line);
        let blue_px = rgba.chunks_exact(4).filter(|p| p[0] == 0x1f && p[1] == 0x6f && p[2] == 0xeb).count();
        assert!(blue_px > 300 && w == 1280);
    }

    #[test]
    fn html_email() {
        let doc = sample_document();
        let html = email_html(&doc, "https://bulwark.example.com/?a=1&b=2");
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.to_lowercase().contains("<script"));
        assert!(!html.contains("<style"));
        assert!(html.contains("Zürich-db &lt;01&gt; &amp; &quot;x&quot;"));
        assert!(!html.contains("<01>") && !html.contains("<Schweiz>"));
        assert!(html.contains("Acme &lt;Schweiz&gt; AG &amp; Co (ACC-000042)"));
        for i in 0..doc.sections.len() {
            assert!(html.contains(&format!("src=\"cid:chart-{i}\"")), "chart {i}");
        }
        assert!(html.contains("alt=\"Assets by risk\""));
        assert_eq!(html.matches(EMPTY_SECTION_TEXT).count(), 1);
        assert!(html.contains(Section::VulnWindows.label()));
        assert!(html.contains("2026-11-16 – 2026-11-22 (Europe/Zurich)"));
        assert!(html.contains("2026-11-23 06:00 UTC"));
        assert!(html.contains("▲ +4"));
        assert!(html.contains(">+7<") && html.contains(">-3<") && html.contains(">±0<") && html.contains(">+332<"));
        assert!(html.contains(">1,532<") && html.contains(">—<"));
        assert!(html.contains("href=\"https://bulwark.example.com/?a=1&amp;b=2\""));
        assert!(html.contains(">Open Bulwark</a>"));
        // No external resources: every src is a cid.
        assert_eq!(html.matches("src=").count(), html.matches("src=\"cid:").count());
        // Formula-looking cells are just text in HTML, escaped.
        assert!(html.contains("=HYPERLINK(&quot;http://evil&quot;)"));
        // A non-http URL is not linked.
        assert!(!email_html(&doc, "javascript:alert(1)").contains("javascript:"));
        // Long tables are capped.
        let long = email_html(&long_document(200), "https://x");
        assert!(long.contains("Showing 50 of 200 rows"));
        assert!(long.contains("row-50<") && !long.contains("row-51<"));
    }

    #[test]
    fn text_email() {
        let doc = sample_document();
        let text = email_text(&doc);
        for line in text.lines() {
            assert!(line.chars().count() <= 100, "line too long: {line:?}");
        }
        assert!(text.contains("Weekly security report"));
        assert!(text.contains("Account:   Acme <Schweiz> AG & Co (ACC-000042)"));
        assert!(text.contains("Generated: 2026-11-23 06:00 UTC"));
        assert!(text.contains("Security score: 72  (▲ +4 vs previous period (68))"));
        let findings = text.lines().find(|l| l.starts_with("Findings")).expect("summary row");
        let cells: Vec<&str> = findings.split_whitespace().collect();
        assert_eq!(cells, ["Findings", "19", "7", "41", "+7"]);
        let attacks = text.lines().find(|l| l.starts_with("Attacks ")).expect("attacks row");
        assert_eq!(attacks.split_whitespace().collect::<Vec<_>>(), ["Attacks", "1,532", "—", "—", "+332"]);
        assert!(text.contains(&format!("  {NASTY}: 14")));
        assert!(text.contains("  Critical: 2"));
        assert!(text.contains("  2026-11-22: 72"));
        assert!(text.contains(EMPTY_SECTION_TEXT));
        assert!(text.contains("4. VULNERABILITIES: WINDOWS"));
        let long = email_text(&long_document(200));
        assert!(long.lines().all(|l| l.chars().count() <= 100));
        assert!(long.contains("(showing 50 of 200 rows"));
        assert!(long.contains("…"));
        assert!(email_text_with_link(&doc, "https://b.example").ends_with("Open Bulwark: https://b.example\n"));
    }

    #[test]
    fn pdf_has_text_pages_and_charts() {
        let doc = sample_document();
        let bytes = pdf(&doc).expect("pdf");
        assert!(bytes.starts_with(b"%PDF-"));
        let pages = pdf_pages(&bytes);
        let all = pages.join("\n");
        for needle in [
            "Weekly security report",
            "ACC-000042",
            "Acme <Schweiz> AG & Co",
            "Europe/Zurich",
            "2026-11-23 06:00 UTC",
            "Security score: 72",
            "1,532",
            "Still open",
            "vs previous period",
            "Zürich-db <01> & \"x\"",
            "Vulnerabilities: Windows",
            EMPTY_SECTION_TEXT,
            "Security score trend",
            "CVE-2026-1234",
        ] {
            assert!(all.contains(needle), "PDF text lacks {needle:?}:\n{all}");
        }
        // Chart text comes through the SVG as real text too (glyph by glyph, so extractors may
        // space it out).
        let squeezed: String = all.chars().filter(|c| !c.is_whitespace()).collect();
        for needle in ["Assetsbyrisk", "Zürich-db<01>&\"x\"14", "Critical2", "2026-11-22"] {
            assert!(squeezed.contains(needle), "PDF chart text lacks {needle:?}");
        }
        let n = pages.len();
        assert!(pages[n - 1].contains(&format!("Page {n} of {n}")));

        let long = pdf(&long_document(200)).expect("pdf");
        let long_pages = pdf_pages(&long);
        assert!(long_pages.len() >= n + 3, "200 rows need more pages: {} vs {}", long_pages.len(), n);
        let all = long_pages.join("\n");
        assert!(all.contains("row-1\n") || all.contains("row-1 "), "first row");
        assert!(all.contains("row-200"), "last row");
        assert!(all.contains("(continued)"));
        assert!(all.contains("…"), "over-long cells are cut");
        let continued = long_pages.iter().filter(|p| p.contains("CVE") && p.contains("Package")).count();
        assert!(continued >= 3, "table header repeats on every page");
    }

    #[test]
    fn nothing_panics_on_odd_documents() {
        let mut doc = sample_document();
        doc.report_name = "x".repeat(10_000);
        doc.account_name = "\u{0}\u{8}\r\n\t<>&".into();
        doc.generated_at = i64::MAX;
        doc.summary.score = i64::MIN;
        doc.summary.previous_score = Some(i64::MAX);
        doc.summary.rows.push(SummaryRow {
            label: String::new(),
            new: i64::MIN,
            resolved: None,
            open: Some(i64::MAX),
            previous_new: i64::MAX,
        });
        doc.sections[0].table.columns.clear();
        doc.sections[0].table.rows.push(vec!["only one cell".into()]);
        doc.sections[0].table.rows.push((0..30).map(|i| format!("extra {i}")).collect());
        doc.sections[1].table.rows.push(vec![]);
        doc.sections[2].table.columns = (0..40).map(|i| format!("c{i}")).collect();
        doc.sections[4].table.rows[0][2] = "ÿ".repeat(5000);
        doc.sections[5].chart.points = vec![];
        doc.sections[5].empty = false;
        doc.sections[6].title = "مرحبا بالعالم".into();
        let mut empty = doc.clone();
        empty.sections.clear();
        empty.summary.rows.clear();
        for d in [&doc, &empty] {
            let html = email_html(d, "");
            assert!(!html.contains('\u{0}'));
            let text = email_text(d);
            assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
            let bytes = pdf(d).expect("pdf");
            assert!(bytes.starts_with(b"%PDF-"));
            for s in &d.sections {
                chart_png(&s.chart).expect("png");
                let _ = section_csv(&s.table);
            }
        }
        assert!(email_text(&doc).contains("unknown time"));
    }

    #[test]
    fn csv_quoting_and_injection() {
        let table = Table {
            title: "t".into(),
            columns: strs(&["Asset", "Note", "Count"]),
            rows: vec![
                strs(&[NASTY, "a,b", "3"]),
                strs(&["multi\nline", "cr\rhere", "-5"]),
                strs(&["=1+2", "+SUM(A1)", "@cmd"]),
                strs(&["\tTabbed", "\rCR", "plain"]),
                strs(&["=HYPERLINK(\"http://evil\",\"x\")", "", "a-b"]),
                strs(&["short"]),
            ],
        };
        let csv = section_csv(&table);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], "Asset,Note,Count");
        assert_eq!(lines[1], "\"Zürich-db <01> & \"\"x\"\"\",\"a,b\",3");
        assert_eq!(lines[2], "\"multi\nline\",\"cr\rhere\",'-5");
        assert_eq!(lines[3], "'=1+2,'+SUM(A1),'@cmd");
        assert_eq!(lines[4], "'\tTabbed,\"'\rCR\",plain");
        assert_eq!(lines[5], "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",,a-b");
        assert_eq!(lines[6], "short,,");
        assert_eq!(lines[7], "");
        assert!(csv.ends_with("\r\n"));
        assert_eq!(lines.len(), 8);
        assert_eq!(section_csv(&Table { title: String::new(), columns: vec![], rows: vec![] }), "");
    }

    #[test]
    fn helpers() {
        assert_eq!(fmt_int(0), "0");
        assert_eq!(fmt_int(999), "999");
        assert_eq!(fmt_int(1000), "1,000");
        assert_eq!(fmt_int(-1234567), "-1,234,567");
        assert_eq!(fmt_int(i64::MIN), "-9,223,372,036,854,775,808");
        assert_eq!(fmt_signed(3), "+3");
        assert_eq!(fmt_signed(-3), "-3");
        assert_eq!(fmt_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(nice_max(0), 100.0);
        assert_eq!(nice_max(101), 200.0);
        assert_eq!(nice_max(2400), 2500.0);
        assert_eq!(date_label_indices(3), vec![0, 1, 2]);
        assert_eq!(date_label_indices(7), vec![0, 2, 4, 6]);
        assert_eq!(date_label_indices(6), vec![0, 2, 5]);
        assert_eq!(date_label_indices(30), vec![0, 8, 16, 29]);
        assert_eq!(date_label_indices(365), vec![0, 91, 182, 273, 364]);
        assert_eq!(fit_widths(&[10.0, 100.0, 100.0], 110.0), vec![10.0, 50.0, 50.0]);
        assert_eq!(truncate_chars("abcdef", 4), "abc…");
        assert_eq!(esc("<a href='x'>&\u{1}"), "&lt;a href=&#39;x&#39;&gt;&amp; ");
    }
}
