//! Charts as PNG, for the inline images of the HTML email.

use resvg::tiny_skia;


use super::fonts::{font_db, parse_svg};
use crate::reports::document::Chart;

/// Pixel density of [`chart_png`] (2x for crisp images on high-DPI mail clients).
pub const PNG_SCALE: f32 = 2.0;

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
    chart_png_in(chart, crate::locale::Locale::en)
}

/// [`chart_png`] with the chart's own words in `l`.
pub fn chart_png_in(chart: &Chart, l: crate::locale::Locale) -> Result<Vec<u8>, String> {
    svg_to_png(&super::chart::chart_svg_in(chart, l))
}

#[cfg(test)]
mod tests {
    use super::super::chart::{bar_geometry, chart_size};
    use super::super::tests::sample_document;
    use super::*;

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
}
