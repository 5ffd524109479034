//! The plain-text email body: the same content as the HTML one, tables fitted to 96 columns.

use std::fmt::Write as _;

use super::common::{
    cell, clean, column_count, fit_widths, fmt_int, fmt_utc, numeric_columns, score_change_text, summary_cells,
    summary_header, truncate_chars, wrap, empty_section_text, EMAIL_MAX_ROWS,
};
use crate::locale::{Locale, td_string};
use crate::reports::document::{counting_notes, counting_title, ReportDocument};

/// Widest line of the text body (tables are fitted to this).
const TEXT_WIDTH: usize = 96;

/// Columns shown at most in the text body (each needs 2 characters and a 2-space gap).
const TEXT_MAX_COLUMNS: usize = (TEXT_WIDTH + 2) / 4;

fn text_table(out: &mut String, header: &[String], rows: &[Vec<String>], l: Locale) {
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
        let _ = writeln!(out, "{}", td_string!(l, report.doc.more_columns, count = header.len() - n));
    }
}

/// The plain-text alternative of [`email_html`](super::email_html): same content, charts as "label: value" lines.
pub fn email_text(doc: &ReportDocument) -> String {
    let l = doc.locale();
    // "Account:   value", the values aligned (English); "账号：value" (Chinese).
    let field = |name: &str| if l == Locale::en { format!("{:<11}", format!("{name}:")) } else { format!("{name}：") };
    let mut s = String::with_capacity(8 * 1024);
    let _ = writeln!(s, "{}", td_string!(l, report.doc.heading));
    let _ = writeln!(s, "{}", truncate_chars(&doc.report_name, TEXT_WIDTH));
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{}{}",
        field(td_string!(l, report.doc.account)),
        truncate_chars(&format!("{} ({})", doc.account_name, doc.account_no), TEXT_WIDTH - 11)
    );
    let _ = writeln!(
        s,
        "{}{}",
        field(td_string!(l, report.doc.period)),
        truncate_chars(&format!("{} ({})", doc.period_label(), doc.time_zone), TEXT_WIDTH - 11)
    );
    let _ = writeln!(s, "{}{}", field(td_string!(l, report.doc.generated)), fmt_utc(doc.generated_at, l));
    let _ = writeln!(s);
    let summary = td_string!(l, report.doc.summary).to_uppercase();
    let _ = writeln!(s, "{summary}");
    let _ = writeln!(s, "{}", "=".repeat(summary.chars().count()));
    let score = format!(
        "{}: {}  ({})",
        td_string!(l, report.doc.security_score),
        fmt_int(doc.summary.score),
        score_change_text(&doc.summary, l)
    );
    let _ = writeln!(s, "{}", truncate_chars(&score, TEXT_WIDTH));
    if !doc.summary.rows.is_empty() {
        let _ = writeln!(s);
        let header: Vec<String> = summary_header(l).iter().map(|h| h.to_string()).collect();
        text_table(&mut s, &header, &summary_cells(&doc.summary), l);
    }
    for (i, section) in doc.sections.iter().enumerate() {
        let _ = writeln!(s);
        let heading = truncate_chars(&format!("{}. {}", i + 1, section.title), TEXT_WIDTH);
        let _ = writeln!(s, "{}", heading.to_uppercase());
        let _ = writeln!(s, "{}", "=".repeat(heading.chars().count().min(TEXT_WIDTH)));
        if section.empty {
            let _ = writeln!(s, "{}", empty_section_text(section.section, l));
            continue;
        }
        let chart = &section.chart;
        if !chart.title.trim().is_empty() {
            let _ = writeln!(s, "{}:", truncate_chars(&chart.title, TEXT_WIDTH - 1));
        }
        if chart.points.is_empty() {
            let _ = writeln!(s, "  {}", td_string!(l, report.doc.empty_chart));
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
            text_table(&mut s, &header, shown, l);
            if t.rows.len() > shown.len() {
                let shown = fmt_int(shown.len() as i64);
                let total = fmt_int(i64::try_from(t.rows.len()).unwrap_or(i64::MAX));
                let _ = writeln!(s, "{}", td_string!(l, report.doc.showing, shown, total));
            }
        }
    }
    let _ = writeln!(s);
    let title = counting_title(l);
    let _ = writeln!(s, "{}", title.to_uppercase());
    let _ = writeln!(s, "{}", "=".repeat(title.chars().count()));
    for note in counting_notes(l) {
        for (i, line) in wrap(note, |l| l.chars().count() <= TEXT_WIDTH - 2).into_iter().enumerate() {
            let _ = writeln!(s, "{}{line}", if i == 0 { "- " } else { "  " });
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "--");
    let _ = writeln!(
        s,
        "{}",
        truncate_chars(
            &td_string!(l, report.doc.generated_by, account = doc.account_name.clone(), account_no = doc.account_no.clone()),
            TEXT_WIDTH
        )
    );
    s
}

/// The text body with a link to the console appended ("Open Bulwark: URL").
pub fn email_text_with_link(doc: &ReportDocument, console_url: &str) -> String {
    let mut s = email_text(doc);
    let _ = writeln!(s, "{}: {}", td_string!(doc.locale(), report.doc.open_console), clean(console_url));
    s
}

#[cfg(test)]
mod tests {
    use crate::reports::render::EMPTY_SECTION_TEXT;
    use super::super::tests::{long_document, sample_document, NASTY};
    use super::*;

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
}
