//! The report as an A4 PDF: laid out as drawing operations per page, then drawn with krilla.

use std::sync::Arc;

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
use resvg::usvg;

use super::chart::{chart_size, chart_svgs, CHART_HEIGHT, CHART_WIDTH};
use super::common::{
    cell, clean, column_count, fit_widths, fmt_int, fmt_utc, numeric_columns, score_change, score_change_text,
    summary_cells, summary_header, wrap, empty_section_text, BLUE, BORDER, GRID, INK, MUTED,
};
use super::fonts::{parse_svg, pdf_fonts, Metrics};
use crate::locale::{Locale, td_string};
use crate::reports::document::{counting_notes, counting_title, ReportDocument};

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

struct Layout<'a> {
    m: &'a Metrics<'a>,
    /// The report's language, for the words the layout adds ("(continued)").
    language: Locale,
    pages: Vec<Vec<Op>>,
    /// Top of the free space on the current page.
    y: f32,
    /// (title, page index, y) for the PDF outline.
    bookmarks: Vec<(String, usize, f32)>,
}

impl<'a> Layout<'a> {
    fn new(m: &'a Metrics<'a>, language: Locale) -> Self {
        let mut l = Layout { m, language, pages: Vec::new(), y: 0.0, bookmarks: Vec::new() };
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
                l.text(&format!("{caption} {}", td_string!(l.language, report.doc.continued)), 9.0, false, MUTED, 16.0);
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
    let lang = doc.locale();
    let mut l = Layout::new(m, lang);
    // "Account: value" (English), "账号：value" (Chinese).
    let colon = if lang == Locale::en { ": " } else { "：" };
    // Header.
    l.text(td_string!(lang, report.doc.heading), 8.0, true, MUTED, 14.0);
    l.text(&doc.report_name, 20.0, true, INK, 28.0);
    l.text(&format!("{}{colon}{} ({})", td_string!(lang, report.doc.account), doc.account_name, doc.account_no), 10.0, false, INK, 15.0);
    l.text(&format!("{}{colon}{} ({})", td_string!(lang, report.doc.period), doc.period_label(), doc.time_zone), 10.0, false, INK, 15.0);
    l.text(&format!("{}{colon}{}", td_string!(lang, report.doc.generated), fmt_utc(doc.generated_at, lang)), 10.0, false, INK, 15.0);
    l.y += 8.0;
    l.rule();
    l.y += 12.0;

    // Summary.
    let summary = td_string!(lang, report.doc.summary);
    l.bookmarks.push((summary.to_string(), l.pages.len() - 1, l.y));
    l.text(summary, 14.0, true, INK, 22.0);
    l.ensure(24.0);
    let score = format!("{}{colon}{}", td_string!(lang, report.doc.security_score), fmt_int(doc.summary.score));
    let score_w = m.width(&score, 14.0, true);
    l.push(Op::Text { x: MARGIN, y: l.y + 17.0, size: 14.0, bold: true, color: hex(INK), text: score });
    let (change, color) = match score_change(&doc.summary) {
        Some((_, _, color)) => (score_change_text(&doc.summary, lang), color),
        None => (td_string!(lang, report.doc.no_previous_score).to_string(), MUTED),
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
        let header: Vec<String> = summary_header(lang).iter().map(|h| h.to_string()).collect();
        l.table(summary, &header, &summary_cells(&doc.summary), &[false, true, true, true, true]);
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
            l.text(empty_section_text(section.section, lang), 10.0, false, MUTED, 16.0);
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

    // How the numbers are counted.
    l.ensure(20.0 + 4.0 * 12.0);
    l.bookmarks.push((counting_title(lang).to_string(), l.pages.len() - 1, l.y));
    l.text(counting_title(lang), 12.0, true, INK, 20.0);
    for note in counting_notes(lang) {
        for line in wrap(note, |line| m.width(line, 8.5, false) <= CONTENT_W) {
            l.text(&line, 8.5, false, MUTED, 12.0);
        }
        l.y += 4.0;
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
/// [`chart_svg`](super::chart_svg)) and table (paginated, header repeated, over-long cells cut with "…").
/// Text is real, extractable text in DejaVu Sans (or Liberation Sans).
pub fn pdf(doc: &ReportDocument) -> Result<Vec<u8>, String> {
    let fonts = pdf_fonts()?;
    fn face(font: &(Arc<Vec<u8>>, u32)) -> Result<ttf_parser::Face<'_>, String> {
        ttf_parser::Face::parse(font.0.as_slice(), font.1).map_err(|e| format!("font does not parse: {e}"))
    }
    let cjk_face = match &fonts.cjk {
        Some(cjk) => Some(face(cjk)?),
        None => None,
    };
    let metrics = Metrics { regular: face(&fonts.regular)?, bold: face(&fonts.bold)?, cjk: cjk_face };
    let font = |(data, index): &(Arc<Vec<u8>>, u32)| {
        Font::new(data.clone().into(), *index).ok_or_else(|| "font not usable for PDF".to_string())
    };
    let regular = font(&fonts.regular)?;
    let bold = font(&fonts.bold)?;
    let cjk = match &fonts.cjk {
        Some(data) => Some(font(data)?),
        None => None,
    };
    let lang = doc.locale();

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
        let footer_right = td_string!(lang, report.doc.page_of, page = p + 1, total);
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
                    // Run by run: Latin text in DejaVu/Liberation, what they lack (Chinese) in the CJK font.
                    let mut run_x = *x;
                    for (in_cjk, run) in metrics.runs(text, *is_bold) {
                        let f = match &cjk {
                            Some(cjk) if in_cjk => cjk.clone(),
                            _ if *is_bold => bold.clone(),
                            _ => regular.clone(),
                        };
                        surface.draw_text(Point::from_xy(run_x, *y), f, *size, &run, false, TextDirection::Auto);
                        run_x += metrics.width(&run, *size, *is_bold);
                    }
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
            .language(crate::locale::tag(lang).to_string()),
    );
    document.finish().map_err(|e| format!("PDF generation failed: {e:?}"))
}

#[cfg(test)]
mod tests {
    use crate::reports::render::EMPTY_SECTION_TEXT;
    use super::super::tests::{long_document, sample_document};
    use super::*;

    fn pdf_pages(bytes: &[u8]) -> Vec<String> {
        pdf_extract::extract_text_from_mem_by_pages(bytes).expect("text extraction")
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
}
