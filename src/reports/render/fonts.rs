//! The system fonts, loaded once: for rasterising SVG (PNG, PDF charts), for PDF text, and the
//! advance widths that lay PDF text out.

use std::sync::{Arc, OnceLock};

use resvg::usvg;
use resvg::usvg::fontdb;

use super::common::clean;

const FONT_DIRS: [&str; 2] = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation"];
const SANS_FAMILIES: [&str; 2] = ["DejaVu Sans", "Liberation Sans"];
/// Fonts with Chinese glyphs, for text the Latin fonts lack (Debian: `fonts-wqy-microhei`,
/// `fonts-noto-cjk`).
const CJK_FAMILIES: [&str; 4] = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC"];
const CJK_FONT_DIRS: [&str; 2] = ["/usr/share/fonts/truetype/wqy", "/usr/share/fonts/opentype/noto"];

fn has_family(db: &fontdb::Database, family: &str) -> bool {
    db.faces().any(|f| f.families.iter().any(|(name, _)| name == family))
}

/// The system fonts, loaded once per process.
pub(super) fn font_db() -> Arc<fontdb::Database> {
    static DB: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = fontdb::Database::new();
        db.load_system_fonts();
        for dir in FONT_DIRS {
            if !SANS_FAMILIES.iter().any(|f| has_family(&db, f)) {
                db.load_fonts_dir(dir);
            }
        }
        for dir in CJK_FONT_DIRS {
            if !CJK_FAMILIES.iter().any(|f| has_family(&db, f)) {
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

pub(super) fn svg_options() -> usvg::Options<'static> {
    let db = font_db();
    let family = SANS_FAMILIES
        .iter()
        .find(|f| has_family(&db, f))
        .map(|f| f.to_string())
        .unwrap_or_else(|| "sans-serif".to_string());
    usvg::Options { fontdb: db, font_family: family, ..usvg::Options::default() }
}

pub(super) fn parse_svg(svg: &str) -> Result<usvg::Tree, String> {
    usvg::Tree::from_str(svg, &svg_options()).map_err(|e| format!("chart SVG does not parse: {e}"))
}

/// Font data for PDF text, loaded once.
pub(super) struct PdfFontData {
    pub(super) regular: (Arc<Vec<u8>>, u32),
    pub(super) bold: (Arc<Vec<u8>>, u32),
    /// For characters the regular font lacks (Chinese), when a CJK font is installed.
    pub(super) cjk: Option<(Arc<Vec<u8>>, u32)>,
}

/// Whether a font with Chinese glyphs is installed (or in `BULWARK_FONT_DIR`).
pub fn has_cjk_font() -> bool {
    let db = font_db();
    CJK_FAMILIES.iter().any(|f| has_family(&db, f))
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

pub(super) fn pdf_fonts() -> Result<&'static PdfFontData, String> {
    static FONTS: OnceLock<Option<PdfFontData>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let db = font_db();
            SANS_FAMILIES.iter().find_map(|family| {
                let regular = load_face(&db, family, fontdb::Weight::NORMAL)?;
                let bold = load_face(&db, family, fontdb::Weight::BOLD).unwrap_or_else(|| regular.clone());
                let cjk = CJK_FAMILIES.iter().find_map(|f| load_face(&db, f, fontdb::Weight::NORMAL));
                Some(PdfFontData { regular, bold, cjk })
            })
        })
        .as_ref()
        .ok_or_else(|| "no PDF font: install fonts-dejavu-core or fonts-liberation".to_string())
}

/// Advance widths for layout (no kerning; good enough to fit cells).
pub(super) struct Metrics<'a> {
    pub(super) regular: ttf_parser::Face<'a>,
    pub(super) bold: ttf_parser::Face<'a>,
    pub(super) cjk: Option<ttf_parser::Face<'a>>,
}

impl Metrics<'_> {
    /// Whether `c` is drawn with the CJK font: the Latin face lacks it and the CJK face has it.
    pub(super) fn falls_back(&self, c: char, bold: bool) -> bool {
        let face = if bold { &self.bold } else { &self.regular };
        face.glyph_index(c).is_none() && self.cjk.as_ref().is_some_and(|f| f.glyph_index(c).is_some())
    }

    /// `text` cut into runs drawn with one font each: `(true, run)` for the CJK font.
    pub(super) fn runs(&self, text: &str, bold: bool) -> Vec<(bool, String)> {
        let mut runs: Vec<(bool, String)> = Vec::new();
        for c in text.chars() {
            let cjk = self.falls_back(c, bold);
            match runs.last_mut() {
                Some((last, run)) if *last == cjk => run.push(c),
                _ => runs.push((cjk, c.to_string())),
            }
        }
        runs
    }

    fn char_width(&self, c: char, size: f32, bold: bool) -> f32 {
        let face = match &self.cjk {
            Some(cjk) if self.falls_back(c, bold) => cjk,
            _ if bold => &self.bold,
            _ => &self.regular,
        };
        let upem = f32::from(face.units_per_em().max(1));
        let gid = face.glyph_index(c).unwrap_or(ttf_parser::GlyphId(0));
        f32::from(face.glyph_hor_advance(gid).unwrap_or(0)) / upem * size
    }

    pub(super) fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        text.chars().map(|c| self.char_width(c, size, bold)).sum()
    }

    /// Width of `text`, stopping once it exceeds `cap`.
    pub(super) fn width_capped(&self, text: &str, size: f32, bold: bool, cap: f32) -> f32 {
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
    pub(super) fn fit(&self, text: &str, size: f32, bold: bool, max: f32) -> String {
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
