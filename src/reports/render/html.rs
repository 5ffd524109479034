//! The HTML email body: table layout and inline styles, charts as inline images (`cid:`).

use std::fmt::Write as _;

use super::chart::chart_size;
use super::common::{
    cell, clean, column_count, esc, fmt_int, fmt_opt, fmt_utc, numeric_columns, score_change, summary_cells,
    summary_header, truncate_chars, empty_section_text, BLUE, BORDER, EMAIL_MAX_ROWS, GRID, INK, MUTED,
};
use crate::locale::{Locale, td_string};
use crate::reports::document::{counting_notes, counting_title, ReportDocument, SectionData};

const EMAIL_WIDTH: u32 = 680;
const EMAIL_PAD: u32 = 24;
const HTML_FONT: &str = "font-family:'Segoe UI',Helvetica,Arial,sans-serif;";
const HTML_CELL_MAX: usize = 200;

/// Content id of section `i`'s chart image in [`email_html`] ("chart-{i}", without `cid:`).
pub fn chart_content_id(i: usize) -> String {
    format!("chart-{i}")
}

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

fn html_section(s: &mut String, i: usize, section: &SectionData, l: Locale) {
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
        let _ = write!(s, r#"<p style="{HTML_FONT}margin:0;font-size:14px;color:{MUTED};">{}</p>"#, empty_section_text(section.section, l));
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
            let shown = fmt_int(shown.len() as i64);
            let total = fmt_int(i64::try_from(t.rows.len()).unwrap_or(i64::MAX));
            let _ = write!(
                s,
                r#"<p style="{HTML_FONT}margin:6px 0 0 0;font-size:12px;color:{MUTED};">{}</p>"#,
                esc(&td_string!(l, report.doc.html_showing, shown, total))
            );
        }
    }
    s.push_str("</td></tr>");
}

/// The HTML email body: table layout, inline styles only, no scripts, no external resources.
///
/// Section `i`'s chart is referenced as `cid:chart-{i}` (every section, also empty ones: attach
/// [`chart_png`](super::chart_png) of `doc.sections[i].chart` with content id [`chart_content_id`]`(i)`).
/// `console_url` is linked only when it is an http(s) URL.
pub fn email_html(doc: &ReportDocument, console_url: &str) -> String {
    let l = doc.locale();
    let lang = crate::locale::tag(l);
    let mut s = String::with_capacity(32 * 1024);
    let title = esc(&doc.report_name);
    let _ = write!(
        s,
        r#"<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="x-apple-disable-message-reformatting"><title>{title}</title></head>"#
    );
    s.push_str(r#"<body style="margin:0;padding:0;background-color:#f3f4f6;">"#);
    // Preheader: the line mail clients show next to the subject.
    let _ = write!(
        s,
        r#"<div style="display:none;max-height:0;overflow:hidden;opacity:0;mso-hide:all;">{} {} · {} · {}</div>"#,
        td_string!(l, report.doc.security_score),
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
        r#"<tr><td style="background-color:#0b2545;padding:20px {EMAIL_PAD}px;"><p style="{HTML_FONT}margin:0 0 4px 0;font-size:11px;letter-spacing:1px;text-transform:uppercase;color:#9fb3c8;">{heading}</p><h1 style="{HTML_FONT}margin:0 0 10px 0;font-size:22px;line-height:28px;color:#ffffff;">{title}</h1>"#,
        heading = td_string!(l, report.doc.html_heading)
    );
    let meta = [
        (td_string!(l, report.doc.account), format!("{} ({})", clean(&doc.account_name), clean(&doc.account_no))),
        (td_string!(l, report.doc.period), format!("{} ({})", doc.period_label(), clean(&doc.time_zone))),
        (td_string!(l, report.doc.generated), fmt_utc(doc.generated_at, l)),
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
        r#"<h2 style="{HTML_FONT}margin:0 0 10px 0;font-size:17px;line-height:22px;color:{INK};">{}</h2>"#,
        td_string!(l, report.doc.summary)
    );
    let change = match score_change(&doc.summary) {
        Some((arrow, diff, color)) => format!(
            r#"<span style="color:{color};font-weight:bold;">{arrow} {diff}</span> {} ({})"#,
            td_string!(l, report.doc.vs_previous),
            fmt_opt(doc.summary.previous_score)
        ),
        None => td_string!(l, report.doc.no_previous_score).to_string(),
    };
    let _ = write!(
        s,
        r#"<p style="{HTML_FONT}margin:0 0 14px 0;font-size:14px;color:{MUTED};">{} <span style="font-size:28px;line-height:32px;font-weight:bold;color:{INK};">{}</span>&nbsp;&nbsp;{change}</p>"#,
        td_string!(l, report.doc.security_score),
        fmt_int(doc.summary.score)
    );
    if !doc.summary.rows.is_empty() {
        let header: Vec<String> = summary_header(l).iter().map(|h| h.to_string()).collect();
        html_table(&mut s, &header, &summary_cells(&doc.summary), &[false, true, true, true, true]);
    }
    s.push_str("</td></tr>");

    for (i, section) in doc.sections.iter().enumerate() {
        html_section(&mut s, i, section, l);
    }

    // How the numbers are counted.
    let _ = write!(
        s,
        r#"<tr><td style="padding:12px {EMAIL_PAD}px 8px {EMAIL_PAD}px;border-top:1px solid {GRID};"><h2 style="{HTML_FONT}margin:0 0 6px 0;font-size:14px;line-height:20px;color:{INK};">{}</h2>"#,
        counting_title(l)
    );
    for note in counting_notes(l) {
        let _ = write!(s, r#"<p style="{HTML_FONT}margin:0 0 6px 0;font-size:12px;line-height:17px;color:{MUTED};">{}</p>"#, esc(note));
    }
    s.push_str("</td></tr>");

    // Footer.
    let link = if console_url.starts_with("https://") || console_url.starts_with("http://") {
        format!(
            r#"<a href="{}" style="{HTML_FONT}display:inline-block;background-color:{BLUE};color:#ffffff;text-decoration:none;font-weight:bold;font-size:14px;padding:10px 18px;border-radius:6px;">{}</a>"#,
            esc(console_url),
            td_string!(l, report.doc.open_console)
        )
    } else {
        td_string!(l, report.doc.open_console).to_string()
    };
    let _ = write!(
        s,
        r#"<tr><td style="padding:16px {EMAIL_PAD}px 24px {EMAIL_PAD}px;border-top:1px solid {GRID};">{link}<p style="{HTML_FONT}margin:14px 0 0 0;font-size:12px;line-height:18px;color:{MUTED};">{}</p></td></tr>"#,
        esc(&td_string!(l, report.doc.html_footer, account = doc.account_name.clone(), account_no = doc.account_no.clone()))
    );
    s.push_str("</table></td></tr></table></body></html>");
    s
}

#[cfg(test)]
mod tests {
    use crate::reports::render::EMPTY_SECTION_TEXT;
    use super::super::tests::{long_document, sample_document};
    use super::*;
    use crate::reports::model::Section;

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
}
