//! What every output shares: the colours, the empty-section sentence, escaping and cutting of
//! text, number and date formats, and the facts about a table (columns, numeric columns, widths).

use crate::locale::{Locale, td_string};
use crate::reports::document::{Chart, Summary, Table};
use crate::reports::model::Section;

/// Sentence shown for an empty section (HTML, text and PDF).
pub const EMPTY_SECTION_TEXT: &str = "Nothing in this period.";
/// Section tables in the email bodies stop after this many rows (the PDF and the CSV have all).
pub const EMAIL_MAX_ROWS: usize = 50;

pub(super) const BLUE: &str = "#1f6feb";
pub(super) const INK: &str = "#1f2328";
pub(super) const MUTED: &str = "#57606a";
pub(super) const BORDER: &str = "#d0d7de";
pub(super) const GRID: &str = "#eaeef2";
pub(super) const TRACK: &str = "#f1f3f5";
pub(super) const GOOD: &str = "#2f9e44";
pub(super) const BAD: &str = "#b42318";

/// Severity colour when a label names a severity.
pub(super) fn severity_color(label: &str) -> Option<&'static str> {
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
pub(super) fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' { ' ' } else { c }).collect()
}

/// Escapes text for XML/HTML element content and attribute values (after [`clean`]).
pub(super) fn esc(s: &str) -> String {
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
pub(super) fn truncate_chars(s: &str, max: usize) -> String {
    let s = clean(s);
    if s.chars().count() <= max {
        return s;
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// 1234567 -> "1,234,567" (the console's own grouping).
pub(super) use crate::format::thousands as fmt_int;

/// A difference with its sign: "+3", "-2", "±0".
pub(super) fn fmt_signed(v: i64) -> String {
    match v {
        0 => "±0".to_string(),
        v if v > 0 => format!("+{}", fmt_int(v)),
        v => fmt_int(v),
    }
}

pub(super) fn fmt_opt(v: Option<i64>) -> String {
    v.map(fmt_int).unwrap_or_else(|| "—".to_string())
}

/// Unix seconds as "YYYY-MM-DD HH:MM UTC" (the same in both languages).
pub(super) fn fmt_utc(secs: i64, l: Locale) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| td_string!(l, report.doc.unknown_time).to_string())
}

/// Score change against the previous period: (arrow, signed difference, colour).
pub(super) fn score_change(summary: &Summary) -> Option<(&'static str, String, &'static str)> {
    let prev = summary.previous_score?;
    let d = summary.score.saturating_sub(prev);
    Some(match d {
        d if d > 0 => ("▲", fmt_signed(d), GOOD),
        d if d < 0 => ("▼", fmt_signed(d), BAD),
        _ => ("→", fmt_signed(0), MUTED),
    })
}

pub(super) fn score_change_text(summary: &Summary, l: Locale) -> String {
    match (score_change(summary), summary.previous_score) {
        (Some((arrow, diff, _)), Some(prev)) => {
            format!("{arrow} {diff} {} ({})", td_string!(l, report.doc.vs_previous), fmt_int(prev))
        }
        _ => td_string!(l, report.doc.no_previous_score).to_string(),
    }
}

pub(super) fn summary_header(l: Locale) -> [&'static str; 5] {
    [
        td_string!(l, report.doc.kind),
        td_string!(l, report.doc.new_count),
        td_string!(l, report.doc.resolved),
        td_string!(l, report.doc.still_open),
        td_string!(l, report.doc.vs_previous),
    ]
}

/// What an empty section says, in the report's language: "Nothing in this period.", or for the
/// image sections that no vulnerable image was admitted, or that no exception expires soon.
pub(super) fn empty_section_text(section: Section, l: Locale) -> &'static str {
    match section {
        Section::Images => td_string!(l, report.images.empty),
        Section::ImageExceptions => td_string!(l, report.image_exceptions.empty),
        _ => td_string!(l, report.doc.empty_section),
    }
}

/// The summary rows as display strings, in [`summary_header`] order.
pub(super) fn summary_cells(summary: &Summary) -> Vec<Vec<String>> {
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

pub(super) fn has_data(chart: &Chart) -> bool {
    chart.points.iter().any(|p| p.value > 0)
}

/// The number of columns of a table: its header, or its widest row when it has no header.
pub(super) fn column_count(table: &Table) -> usize {
    if table.columns.is_empty() {
        table.rows.iter().map(Vec::len).max().unwrap_or(0)
    } else {
        table.columns.len()
    }
}

pub(super) fn cell(row: &[String], i: usize) -> &str {
    row.get(i).map(String::as_str).unwrap_or("")
}

/// A column is numeric (right-aligned) when every non-empty cell looks like a number.
pub(super) fn numeric_columns(rows: &[Vec<String>], n: usize) -> Vec<bool> {
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
pub(super) fn fit_widths(natural: &[f32], avail: f32) -> Vec<f32> {
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

/// Whether a line may break before `c` without a space: Chinese, Japanese and Korean text.
fn breaks_anywhere(c: char) -> bool {
    matches!(c, '\u{2E80}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7AF}' | '\u{F900}'..='\u{FAFF}' | '\u{FF00}'..='\u{FFEF}')
}

/// Splits text into lines that `fits` accepts, at spaces, and between the characters of
/// Chinese text, which has none (a word too long for any line stands alone on its own).
pub(super) fn wrap(text: &str, fits: impl Fn(&str) -> bool) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    // Each piece, and whether a space goes before it.
    let pieces = text.split_whitespace().flat_map(|word| {
        let mut pieces: Vec<(String, bool)> = Vec::new();
        for c in word.chars() {
            let alone = breaks_anywhere(c);
            match pieces.last_mut() {
                Some((piece, _)) if !alone && !piece.chars().last().is_some_and(breaks_anywhere) => piece.push(c),
                _ => pieces.push((c.to_string(), pieces.is_empty())),
            }
        }
        pieces
    });
    for (word, spaced) in pieces {
        let candidate = match (line.is_empty(), spaced) {
            (true, _) => word.clone(),
            (false, true) => format!("{line} {word}"),
            (false, false) => format!("{line}{word}"),
        };
        if line.is_empty() || fits(&candidate) {
            line = candidate;
        } else {
            lines.push(std::mem::replace(&mut line, word));
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(fmt_int(0), "0");
        assert_eq!(fmt_int(999), "999");
        assert_eq!(fmt_int(1000), "1,000");
        assert_eq!(fmt_int(-1234567), "-1,234,567");
        assert_eq!(fmt_int(i64::MIN), "-9,223,372,036,854,775,808");
        assert_eq!(fmt_signed(3), "+3");
        assert_eq!(fmt_signed(-3), "-3");
        assert_eq!(fit_widths(&[10.0, 100.0, 100.0], 110.0), vec![10.0, 50.0, 50.0]);
        assert_eq!(truncate_chars("abcdef", 4), "abc…");
        assert_eq!(esc("<a href='x'>&\u{1}"), "&lt;a href=&#39;x&#39;&gt;&amp; ");
    }

    #[test]
    fn wrap_breaks_at_spaces_and_keeps_long_words_whole() {
        let fits = |l: &str| l.chars().count() <= 10;
        assert_eq!(wrap("one two three four", fits), ["one two", "three four"]);
        assert_eq!(wrap("a verylongwordindeed b", fits), ["a", "verylongwordindeed", "b"]);
        assert!(wrap("   ", fits).is_empty());
    }
}
