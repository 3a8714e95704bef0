//! Text and panel helpers for the HUD (screen space, default macroquad font).

use super::palette;
use macroquad::color::Color;
use macroquad::shapes::{draw_rectangle, draw_rectangle_lines};
use macroquad::text::{TextParams, draw_text_ex, measure_text};

/// Width of `s` at `size` pixels.
pub fn width(s: &str, size: f32) -> f32 {
    measure_text(s, None, size as u16, 1.0).width
}

/// Draws `s` with its baseline at `y` and a one-pixel drop shadow so it reads on any background.
pub fn draw(s: &str, x: f32, y: f32, size: f32, color: Color) {
    let shadow = Color::new(0.0, 0.0, 0.0, 0.8 * color.a);
    let params = |c| TextParams {
        font_size: size as u16,
        color: c,
        ..Default::default()
    };
    draw_text_ex(s, x + 1.0, y + 1.0, params(shadow));
    draw_text_ex(s, x, y, params(color));
}

/// Draws `s` centred on `cx`.
pub fn draw_centered(s: &str, cx: f32, y: f32, size: f32, color: Color) {
    draw(s, cx - width(s, size) / 2.0, y, size, color);
}

/// Draws `s` ending at `right`.
pub fn draw_right(s: &str, right: f32, y: f32, size: f32, color: Color) {
    draw(s, right - width(s, size), y, size, color);
}

/// A translucent panel with a thin border.
pub fn panel(x: f32, y: f32, w: f32, h: f32) {
    draw_rectangle(x, y, w, h, palette::PANEL);
    draw_rectangle_lines(x, y, w, h, 1.0, palette::PANEL_EDGE);
}

/// Splits `s` into lines no wider than `max` according to `measure` (words are kept whole unless
/// a single word is wider than `max`). Pure, so the wrapping rule is tested without a window.
pub fn wrap(s: &str, max: f32, measure: impl Fn(&str) -> f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in s.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if measure(&candidate) <= max || line.is_empty() {
                line = candidate;
            } else {
                lines.push(std::mem::take(&mut line));
                line = word.to_string();
            }
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_on_words_and_keeps_paragraphs() {
        let measure = |s: &str| s.len() as f32;
        assert_eq!(
            wrap("connection refused by server", 12.0, measure),
            vec!["connection", "refused by", "server"]
        );
        assert_eq!(wrap("a\nb c", 10.0, measure), vec!["a", "b c"]);
        assert_eq!(
            wrap("unbreakableword x", 4.0, measure),
            vec!["unbreakableword", "x"]
        );
    }
}
