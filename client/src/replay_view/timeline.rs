//! The timeline bar along the bottom of the replay window: where it is on screen (pure geometry,
//! so clicks map to match time testably), and its drawing: played part, kill marks, the
//! position handle, and the time labels.

use crate::game::palette::{self, fade};
use crate::game::text;
use macroquad::color::Color;
use macroquad::shapes::{draw_circle, draw_rectangle, draw_rectangle_lines};

/// Height of the bottom panel that holds the status line and the bar.
pub const PANEL_H: f32 = 64.0;
/// Extra pixels above and below the bar that still count as a click on it.
const SLACK: f32 = 8.0;

/// The bar's rectangle on screen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bar {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub w: f32,
    /// Height.
    pub h: f32,
}

impl Bar {
    /// The bar for a `w` x `h` window: full width with margins, near the bottom edge.
    pub fn for_screen(w: f32, h: f32) -> Bar {
        let margin = 24.0;
        Bar {
            x: margin,
            y: h - 26.0,
            w: (w - 2.0 * margin).max(1.0),
            h: 10.0,
        }
    }

    /// Whether a click at `(mx, my)` lands on the bar (with a little vertical slack).
    pub fn contains(&self, mx: f32, my: f32) -> bool {
        mx >= self.x - SLACK
            && mx <= self.x + self.w + SLACK
            && my >= self.y - SLACK
            && my <= self.y + self.h + SLACK
    }

    /// The fraction of the recording at screen x, clamped to `0..=1`.
    pub fn fraction_at(&self, mx: f32) -> f64 {
        f64::from(((mx - self.x) / self.w).clamp(0.0, 1.0))
    }

    /// Screen x of a fraction of the recording.
    pub fn x_of(&self, f: f64) -> f32 {
        self.x + self.w * f.clamp(0.0, 1.0) as f32
    }
}

/// `m:ss.t` (or `h:mm:ss` past an hour), truncated to the tenth.
pub fn clock(seconds: f64) -> String {
    let s = if seconds.is_finite() {
        seconds.max(0.0)
    } else {
        0.0
    };
    // Whole tenths first, so 59.96 s reads 0:59.9 and never 0:60.0.
    let tenths = (s * 10.0).floor() as u64;
    let whole = tenths / 10;
    if whole >= 3600 {
        format!("{}:{:02}:{:02}", whole / 3600, whole / 60 % 60, whole % 60)
    } else {
        format!("{}:{:02}.{}", whole / 60, whole % 60, tenths % 10)
    }
}

/// What the bar shows.
#[derive(Clone, Debug, Default)]
pub struct BarState<'a> {
    /// Played fraction.
    pub fraction: f64,
    /// Kill moments as fractions (red ticks), once known.
    pub kills: &'a [f64],
    /// The recording stops early (truncated file): drawn as a hatched end.
    pub truncated: bool,
    /// The mouse is over the bar (shows the time under it).
    pub hover: Option<(f32, String)>,
}

/// Draws the bottom panel's bar.
pub fn draw(bar: &Bar, s: &BarState<'_>) {
    draw_rectangle(bar.x, bar.y, bar.w, bar.h, Color::new(1.0, 1.0, 1.0, 0.10));
    draw_rectangle(
        bar.x,
        bar.y,
        bar.w * s.fraction as f32,
        bar.h,
        fade(palette::LOCAL, 0.75),
    );
    for k in s.kills {
        let x = bar.x_of(*k);
        draw_rectangle(
            x - 1.0,
            bar.y - 4.0,
            2.0,
            bar.h + 8.0,
            fade(palette::HIT_DENIED, 0.85),
        );
    }
    if s.truncated {
        draw_rectangle(
            bar.x + bar.w - 3.0,
            bar.y - 6.0,
            3.0,
            bar.h + 12.0,
            palette::NETSIM,
        );
    }
    draw_rectangle_lines(bar.x, bar.y, bar.w, bar.h, 1.0, palette::PANEL_EDGE);
    let hx = bar.x_of(s.fraction);
    draw_circle(hx, bar.y + bar.h / 2.0, 8.0, Color::new(0.0, 0.0, 0.0, 0.6));
    draw_circle(hx, bar.y + bar.h / 2.0, 6.5, palette::TEXT);
    if let Some((x, label)) = &s.hover {
        let w = text::width(label, 16.0) + 12.0;
        let lx = (x - w / 2.0).clamp(bar.x, bar.x + bar.w - w);
        text::panel(lx, bar.y - 34.0, w, 22.0);
        text::draw(label, lx + 6.0, bar.y - 18.0, 16.0, palette::TEXT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clicks_map_to_fractions_and_back() {
        let bar = Bar::for_screen(1280.0, 720.0);
        assert_eq!(bar.fraction_at(bar.x), 0.0);
        assert_eq!(bar.fraction_at(bar.x + bar.w), 1.0);
        assert!((bar.fraction_at(bar.x + bar.w / 4.0) - 0.25).abs() < 1e-6);
        assert_eq!(bar.fraction_at(-50.0), 0.0, "left of the bar clamps");
        assert_eq!(bar.fraction_at(5000.0), 1.0, "right of the bar clamps");
        assert!((bar.x_of(0.5) - (bar.x + bar.w / 2.0)).abs() < 1e-3);
        assert!(bar.contains(640.0, bar.y + 2.0));
        assert!(!bar.contains(640.0, 300.0), "the map above is not the bar");
        assert!(bar.y + bar.h < 720.0, "on screen");
    }

    #[test]
    fn clock_format() {
        assert_eq!(clock(0.0), "0:00.0");
        assert_eq!(clock(65.25), "1:05.2");
        assert_eq!(clock(1799.96), "29:59.9", "never rounds up to :60");
        assert_eq!(clock(3725.0), "1:02:05");
        assert_eq!(clock(f64::NAN), "0:00.0");
        assert_eq!(clock(-3.0), "0:00.0");
    }
}
