//! Drawing the killcam's overlay (`view::KillcamOverlay`): in the world the rewound hitboxes of
//! the killing shot (blue: where the killer drew everyone) and, beside them at the kill, the
//! server's present (orange); on screen a banner with the caption, the figures, the keys and a
//! progress bar.

use super::{palette, text};
use crate::view::KillcamOverlay;
use macroquad::color::Color;
use macroquad::shapes::{draw_circle, draw_circle_lines, draw_line, draw_rectangle};
use rewind_shared::sim::PLAYER_RADIUS;

/// Under the world camera: a ring at each hitbox the server traced the killing shot against.
pub fn draw_world(k: &KillcamOverlay) {
    if let Some((from, to)) = k.shot {
        draw_line(from.x, from.y, to.x, to.y, 2.0, Color::new(1.0, 0.6, 0.3, 0.9));
        draw_circle(to.x, to.y, 3.5, Color::new(1.0, 0.6, 0.3, 0.9));
    }
    // Blue, as in the debug view (F4): where the killer drew everyone when it fired.
    for (_, at) in &k.rewound {
        draw_circle_lines(at.x, at.y, PLAYER_RADIUS + 3.0, 2.0, palette::DEBUG_CLIENT);
    }
    // Beside the killer's view at the kill: where the server had everyone at that instant.
    for (_, at) in &k.present {
        draw_circle_lines(
            at.x,
            at.y,
            PLAYER_RADIUS + 1.0,
            1.5,
            palette::fade(palette::DEBUG_SERVER, 0.8),
        );
    }
}

/// In screen space: the banner at the top centre and a thin progress bar under it.
pub fn draw_hud(k: &KillcamOverlay, w: f32, _h: f32) {
    let size = 22.0;
    let mut lines = k.lines.clone();
    if !k.hint.is_empty() {
        lines.push(k.hint.clone());
    }
    let width = lines.iter().map(|l| text::width(l, size)).fold(0.0_f32, f32::max) + 40.0;
    let height = 16.0 + lines.len() as f32 * (size + 8.0);
    let x = (w - width) / 2.0;
    // Under the title and the link-conditioner panel of the top-left corner.
    let y = 104.0;
    text::panel(x, y, width, height);
    for (i, line) in lines.iter().enumerate() {
        let colour = match i {
            0 => palette::NETSIM,
            _ if i + 1 == lines.len() && !k.hint.is_empty() => palette::TEXT_DIM,
            _ => palette::TEXT,
        };
        text::draw_centered(
            line,
            w / 2.0,
            y + 8.0 + (i as f32 + 1.0) * (size + 8.0) - 8.0,
            size,
            colour,
        );
    }
    draw_rectangle(x, y + height, width, 4.0, Color::new(1.0, 1.0, 1.0, 0.15));
    draw_rectangle(x, y + height, width * k.progress, 4.0, palette::NETSIM);
}
