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
//! `fonts-dejavu-core`, `fonts-liberation`), and for Chinese a CJK font (`fonts-wqy-microhei` or
//! `fonts-noto-cjk`), which PDF text falls back to glyph by glyph. `BULWARK_FONT_DIR` may name one
//! more directory of fonts to load.

mod chart;
mod common;
mod csv;
mod fonts;
mod html;
mod pdf;
mod png;
mod text;

pub use chart::{chart_size, chart_svg, chart_svg_in, chart_svgs, CHART_FONT_FAMILY, CHART_HEIGHT, CHART_WIDTH, EMPTY_CHART_TEXT};
pub use common::{EMAIL_MAX_ROWS, EMPTY_SECTION_TEXT};
pub use csv::section_csv;
pub use fonts::has_cjk_font;
pub use html::{chart_content_id, email_html};
pub use pdf::pdf;
pub use png::{chart_png, chart_png_in, svg_to_png, PNG_SCALE};
pub use text::{email_text, email_text_with_link};

#[cfg(test)]
mod tests;

/// The language a report can be drawn in: the one asked for, or English (said in the log) when
/// it is Chinese and no CJK font is installed, rather than a report of empty boxes.
pub fn usable_language(asked: crate::locale::Locale) -> crate::locale::Locale {
    if asked == crate::locale::Locale::zh_CN && !has_cjk_font() {
        tracing::warn!("no CJK font installed (fonts-wqy-microhei or fonts-noto-cjk, or BULWARK_FONT_DIR): the report is sent in English");
        return crate::locale::Locale::en;
    }
    asked
}
