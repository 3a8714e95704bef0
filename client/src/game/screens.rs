//! The screens around the match: connecting, and ended (unreachable, rejected, server gone, match
//! over). A failure is a readable message on screen, never a crash.

use super::palette::{self, fade};
use super::text;
use macroquad::shapes::{draw_circle, draw_rectangle};
use macroquad::window::clear_background;

/// Title and background shared by both screens.
fn backdrop(w: f32, h: f32) {
    floor_grid(w, h);
    text::draw_centered("REWIND", w / 2.0, h * 0.3, 72.0, palette::LOCAL);
}

/// The background of every screen around the match (and of the menu): a faint floor grid, so
/// the screen does not look empty or broken and belongs to the game.
pub fn floor_grid(w: f32, h: f32) {
    clear_background(palette::BACKGROUND);
    let step = 48.0;
    let mut x = 0.0;
    while x < w {
        draw_rectangle(x, 0.0, 1.0, h, fade(palette::FLOOR_B, 0.35));
        x += step;
    }
    let mut y = 0.0;
    while y < h {
        draw_rectangle(0.0, y, w, 1.0, fade(palette::FLOOR_B, 0.35));
        y += step;
    }
}

/// "Connecting" with a spinner; `time` in seconds drives the animation.
pub fn draw_connecting(time: f64, w: f32, h: f32) {
    backdrop(w, h);
    let dots = ".".repeat((time * 2.0) as usize % 4);
    text::draw_centered(
        &format!("connecting{dots:<3}"),
        w / 2.0,
        h * 0.5,
        30.0,
        palette::TEXT,
    );
    for i in 0..8 {
        let a = i as f32 / 8.0 * std::f32::consts::TAU + time as f32 * 3.0;
        let (cx, cy) = (w / 2.0 + a.cos() * 22.0, h * 0.62 + a.sin() * 22.0);
        draw_circle(cx, cy, 4.0, fade(palette::LOCAL, (i as f32 + 1.0) / 8.0));
    }
    text::draw_centered("Esc to quit", w / 2.0, h - 30.0, 18.0, palette::TEXT_DIM);
}

/// Over the frozen match: "Reconnecting… n s", dimming the world so it is clearly not live.
pub fn draw_reconnecting(for_s: f32, time: f64, w: f32, h: f32) {
    draw_rectangle(0.0, 0.0, w, h, fade(palette::BACKGROUND, 0.55));
    let text = format!("Reconnecting... {} s", for_s.floor() as u32);
    let pw = text::width(&text, 34.0) + 80.0;
    text::panel(w / 2.0 - pw / 2.0, h * 0.4, pw, 96.0);
    text::draw_centered(&text, w / 2.0, h * 0.4 + 44.0, 34.0, palette::TEXT);
    text::draw_centered(
        "your player waits for you on the server",
        w / 2.0,
        h * 0.4 + 78.0,
        18.0,
        palette::TEXT_DIM,
    );
    let a = time as f32 * 4.0;
    draw_circle(
        w / 2.0 + a.cos() * 18.0,
        h * 0.4 - 24.0 + a.sin() * 6.0,
        5.0,
        palette::LOCAL,
    );
}

/// The end screen with the reason, wrapped to the window.
pub fn draw_ended(reason: &str, w: f32, h: f32) {
    backdrop(w, h);
    text::draw_centered("session ended", w / 2.0, h * 0.42, 34.0, palette::HIT_DENIED);
    let max = (w - 160.0).min(900.0);
    let lines = text::wrap(reason, max, |s| text::width(s, 24.0));
    let pw = max + 60.0;
    let ph = 30.0 * lines.len() as f32 + 30.0;
    text::panel(w / 2.0 - pw / 2.0, h * 0.47, pw, ph);
    for (i, l) in lines.iter().enumerate() {
        text::draw_centered(l, w / 2.0, h * 0.47 + 34.0 + 30.0 * i as f32, 24.0, palette::TEXT);
    }
    text::draw_centered("Esc or Enter to quit", w / 2.0, h - 30.0, 18.0, palette::TEXT_DIM);
}
