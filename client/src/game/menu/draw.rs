//! Drawing the menu, and the layout both the drawing and the mouse use (pure, so where a click
//! lands is tested without a window).

use super::state::{Menu, Row, RowKind, Screen};
use crate::game::palette::{self, fade};
use crate::game::text;
use macroquad::shapes::{draw_rectangle, draw_rectangle_lines, draw_triangle};
use rewind_shared::Vec2;

/// Height of one row in pixels.
pub const ROW_H: f32 = 40.0;
/// Gap between rows.
const ROW_GAP: f32 = 6.0;

/// Where the rows are on a screen of a given size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Layout {
    /// Left edge of the rows.
    pub x: f32,
    /// Top of the first visible row.
    pub y: f32,
    /// Width of a row.
    pub w: f32,
    /// First row shown (long lists scroll to keep the cursor visible).
    pub first: usize,
    /// Rows shown.
    pub shown: usize,
}

/// Lays out `rows` rows on a `w` x `h` screen with the cursor on `cursor`.
pub fn layout(w: f32, h: f32, rows: usize, cursor: usize) -> Layout {
    let top = (h * 0.26).max(120.0);
    let room = (h - top - 90.0).max(ROW_H);
    let capacity = ((room + ROW_GAP) / (ROW_H + ROW_GAP)).floor().max(1.0) as usize;
    let shown = rows.min(capacity);
    // Keep the cursor in view, as low as possible without scrolling past the end.
    let first = if cursor < capacity {
        0
    } else {
        (cursor + 1 - capacity).min(rows.saturating_sub(capacity))
    };
    let rw = (w - 80.0).clamp(200.0, 820.0);
    Layout {
        x: (w - rw) / 2.0,
        y: top,
        w: rw,
        first,
        shown,
    }
}

impl Layout {
    /// The top-left corner of row `i`, if it is shown.
    pub fn row_top(&self, i: usize) -> Option<Vec2> {
        (i >= self.first && i < self.first + self.shown)
            .then(|| Vec2::new(self.x, self.y + (i - self.first) as f32 * (ROW_H + ROW_GAP)))
    }

    /// The row under the mouse, if any.
    pub fn row_at(&self, mx: f32, my: f32) -> Option<usize> {
        if mx < self.x || mx > self.x + self.w || my < self.y {
            return None;
        }
        let k = ((my - self.y) / (ROW_H + ROW_GAP)) as usize;
        let within = (my - self.y) - k as f32 * (ROW_H + ROW_GAP) <= ROW_H;
        (within && k < self.shown).then_some(self.first + k)
    }
}

/// Draws the menu on a `w` x `h` screen; `over_match`: the pause menu is drawn over the frozen
/// match instead of the backdrop. `time` animates the caret.
pub fn draw(menu: &Menu, w: f32, h: f32, over_match: bool, time: f64) {
    if over_match {
        draw_rectangle(0.0, 0.0, w, h, fade(palette::BACKGROUND, 0.72));
    } else {
        crate::game::screens::floor_grid(w, h);
    }
    let rows = menu.rows();
    let lay = layout(w, h, rows.len(), menu.cursor());
    let title_y = lay.y - 40.0;
    if menu.screen() == Screen::Main {
        text::draw_centered("REWIND", w / 2.0, title_y - 34.0, 84.0, palette::LOCAL);
        text::draw_centered(
            "top-down shooter with server-side rewind",
            w / 2.0,
            title_y + 4.0,
            20.0,
            palette::TEXT_DIM,
        );
    } else {
        text::draw_centered(menu.title(), w / 2.0, title_y, 48.0, palette::TEXT);
    }
    text::panel(
        lay.x - 14.0,
        lay.y - 12.0,
        lay.w + 28.0,
        lay.shown as f32 * (ROW_H + ROW_GAP) - ROW_GAP + 24.0,
    );
    for (i, row) in rows.iter().enumerate() {
        if let Some(top) = lay.row_top(i) {
            draw_row(row, top, lay.w, i == menu.cursor(), time);
        }
    }
    if lay.first > 0 {
        text::draw_right("more above", lay.x + lay.w, lay.y - 16.0, 16.0, palette::TEXT_DIM);
    }
    let bottom = lay.y + lay.shown as f32 * (ROW_H + ROW_GAP) + 12.0;
    if lay.first + lay.shown < rows.len() {
        text::draw_right("more below", lay.x + lay.w, bottom + 4.0, 16.0, palette::TEXT_DIM);
    }
    if let Some(host) = &menu.hosting
        && menu.screen() == Screen::Pause
    {
        draw_host_info(host, w / 2.0, bottom + 16.0);
    }
    if let Some(status) = &menu.status {
        let max = (w - 80.0).min(1000.0);
        for (i, line) in text::wrap(status, max, |s| text::width(s, 20.0))
            .iter()
            .enumerate()
        {
            text::draw_centered(
                line,
                w / 2.0,
                h - 64.0 + 22.0 * i as f32,
                20.0,
                palette::HIT_DENIED,
            );
        }
    }
    draw_rectangle(0.0, h - 40.0, w, 40.0, fade(palette::BACKGROUND, 0.85));
    text::draw_centered(
        "Up/Down select   Left/Right change   Enter or click choose   Esc back",
        w / 2.0,
        h - 18.0,
        18.0,
        palette::TEXT_DIM,
    );
}

fn draw_row(row: &Row, top: Vec2, w: f32, selected: bool, time: f64) {
    let (x, y) = (top.x, top.y);
    let base = y + ROW_H / 2.0 + 8.0;
    if selected {
        draw_rectangle(x, y, w, ROW_H, fade(palette::LOCAL, 0.16));
        draw_rectangle(x, y, 4.0, ROW_H, palette::LOCAL);
    }
    let label_colour = match (row.kind, selected) {
        (RowKind::Info, _) => palette::TEXT_DIM,
        (_, true) => palette::LOCAL,
        _ => palette::TEXT,
    };
    text::draw(&row.label, x + 18.0, base, 26.0, label_colour);
    let right = x + w - 16.0;
    match row.kind {
        RowKind::Choice => {
            let vw = text::width(&row.value, 24.0).max(60.0);
            let cx = right - 18.0 - vw / 2.0;
            text::draw_centered(&row.value, cx, base, 24.0, palette::TEXT);
            let c = if selected {
                palette::LOCAL
            } else {
                palette::TEXT_DIM
            };
            arrow(cx - vw / 2.0 - 14.0, y + ROW_H / 2.0, -1.0, c);
            arrow(right - 4.0, y + ROW_H / 2.0, 1.0, c);
        }
        RowKind::Text => {
            let fw = (w * 0.5).min(380.0);
            let fx = right - fw;
            draw_rectangle(fx, y + 6.0, fw, ROW_H - 12.0, fade(palette::BACKGROUND, 0.8));
            draw_rectangle_lines(
                fx,
                y + 6.0,
                fw,
                ROW_H - 12.0,
                1.0,
                if selected {
                    palette::LOCAL
                } else {
                    palette::PANEL_EDGE
                },
            );
            let caret = if selected && (time * 2.0) as i64 % 2 == 0 {
                "_"
            } else {
                ""
            };
            text::draw(
                &format!("{}{caret}", row.value),
                fx + 10.0,
                base,
                22.0,
                palette::TEXT,
            );
        }
        RowKind::Button | RowKind::Info => {
            if !row.value.is_empty() {
                let c = if row.kind == RowKind::Info {
                    palette::TEXT
                } else {
                    palette::TEXT_DIM
                };
                text::draw_right(&row.value, right, base, 22.0, c);
            }
        }
    }
}

/// A small filled triangle pointing left (`dir` -1) or right (+1), its tip at `x`.
fn arrow(x: f32, cy: f32, dir: f32, c: macroquad::color::Color) {
    draw_triangle(
        Vec2::new(x, cy),
        Vec2::new(x - 9.0 * dir, cy - 7.0),
        Vec2::new(x - 9.0 * dir, cy + 7.0),
        c,
    );
}

/// The address and fingerprint others need, under the pause menu (and as the banner in a match).
pub fn draw_host_info(host: &super::state::HostInfo, cx: f32, top: f32) {
    let lines = [
        format!("others join: {}", host.address),
        format!("certificate {}", host.cert_hash),
        "(or find it in Join, on the same LAN)".to_string(),
    ];
    let pw = lines.iter().map(|l| text::width(l, 18.0)).fold(0.0, f32::max) + 40.0;
    text::panel(cx - pw / 2.0, top, pw, 84.0);
    for (i, l) in lines.iter().enumerate() {
        let c = if i == 0 { palette::NETSIM } else { palette::TEXT };
        text::draw_centered(l, cx, top + 24.0 + 24.0 * i as f32, 18.0, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clicks_land_on_the_row_drawn_there() {
        let lay = layout(1280.0, 720.0, 8, 0);
        assert_eq!(lay.first, 0);
        assert_eq!(lay.shown, 8);
        for i in 0..8 {
            let top = lay.row_top(i).unwrap();
            assert_eq!(lay.row_at(top.x + 10.0, top.y + ROW_H / 2.0), Some(i));
            assert_eq!(lay.row_at(top.x + 10.0, top.y + ROW_H + 3.0), None, "the gap");
        }
        assert_eq!(lay.row_at(lay.x - 5.0, lay.y + 5.0), None);
        assert_eq!(lay.row_at(lay.x + 5.0, lay.y - 5.0), None);
    }

    #[test]
    fn long_lists_scroll_to_keep_the_cursor_visible() {
        let lay = layout(1280.0, 720.0, 21, 0);
        assert!(lay.shown < 21);
        assert_eq!(lay.first, 0);
        let lay = layout(1280.0, 720.0, 21, 20);
        assert_eq!(lay.first + lay.shown, 21, "the last row is shown");
        assert!(lay.row_top(20).is_some());
        assert!(lay.row_top(0).is_none());
        let top = lay.row_top(20).unwrap();
        assert_eq!(lay.row_at(top.x + 1.0, top.y + 1.0), Some(20));
    }
}
