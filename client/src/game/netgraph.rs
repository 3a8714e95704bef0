//! The net graph (F3): the numbers that explain how the game feels over this link, and a small
//! RTT graph so spikes are visible at a glance.

use super::palette::{self, fade};
use super::text;
use crate::view::NetStats;
use macroquad::shapes::{draw_line, draw_rectangle};

/// Panel width in pixels.
pub const WIDTH: f32 = 330.0;
/// Panel height in pixels.
pub const HEIGHT: f32 = 214.0;

/// Human form of a byte rate.
pub fn rate(bytes_per_s: f32) -> String {
    if bytes_per_s >= 1024.0 * 1024.0 {
        format!("{:.1} MB/s", bytes_per_s / (1024.0 * 1024.0))
    } else if bytes_per_s >= 1024.0 {
        format!("{:.1} kB/s", bytes_per_s / 1024.0)
    } else {
        format!("{bytes_per_s:.0} B/s")
    }
}

/// Top of the graph's scale: a round number above the largest sample (at least 50 ms).
pub fn graph_scale(samples: &[f32]) -> f32 {
    let max = samples
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0f32, f32::max);
    let mut top = 50.0;
    while top < max * 1.25 {
        top *= 2.0;
    }
    top
}

/// Draws the panel with its top-left corner at (x, y).
pub fn draw(net: &NetStats, x: f32, y: f32) {
    text::panel(x, y, WIDTH, HEIGHT);
    let size = 17.0;
    let col2 = x + 170.0;
    let rows = [
        (
            "NET GRAPH (F3)".to_string(),
            format!("tick {}", net.server_tick.0),
        ),
        (
            format!("rtt     {:6.1} ms", net.rtt_ms),
            format!("jitter {:5.1} ms", net.jitter_ms),
        ),
        (
            format!("loss    {:6.1} %", net.loss * 100.0),
            format!("snaps  {:5.1} /s", net.snapshot_rate),
        ),
        (
            format!("down {:>12}", rate(net.down_bytes_per_s)),
            format!("up {:>12}", rate(net.up_bytes_per_s)),
        ),
        (
            format!("interp  {:6.1} ms", net.interp_delay_ms),
            format!("corrections {}", net.corrections),
        ),
    ];
    for (i, (a, b)) in rows.iter().enumerate() {
        let ty = y + 22.0 + i as f32 * 20.0;
        let c = if i == 0 { palette::TEXT } else { palette::TEXT_DIM };
        text::draw(a, x + 10.0, ty, size, c);
        text::draw(b, col2, ty, size, c);
    }
    let loss_colour = if net.loss > 0.02 {
        palette::HIT_DENIED
    } else {
        palette::HIT_CONFIRMED
    };
    draw_rectangle(x + 10.0, y + 66.0, 3.0, 6.0, loss_colour);

    let (gx, gy, gw, gh) = (x + 10.0, y + 126.0, WIDTH - 20.0, 76.0);
    draw_rectangle(gx, gy, gw, gh, fade(palette::BACKGROUND, 0.8));
    let top = graph_scale(&net.rtt_history_ms);
    for frac in [0.25f32, 0.5, 0.75] {
        let ly = gy + gh * frac;
        draw_line(gx, ly, gx + gw, ly, 1.0, fade(palette::TEXT_DIM, 0.15));
    }
    text::draw(
        &format!("{top:.0} ms"),
        gx + 4.0,
        gy + 14.0,
        14.0,
        palette::TEXT_DIM,
    );
    text::draw("rtt", gx + gw - 26.0, gy + 14.0, 14.0, palette::LOCAL);
    let n = net.rtt_history_ms.len();
    if n >= 2 {
        let step = gw / (n - 1) as f32;
        let y_of = |v: f32| gy + gh - (v / top).clamp(0.0, 1.0) * gh;
        for (i, w) in net.rtt_history_ms.windows(2).enumerate() {
            let x0 = gx + i as f32 * step;
            draw_line(x0, y_of(w[0]), x0 + step, y_of(w[1]), 1.5, palette::LOCAL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_pick_a_unit() {
        assert_eq!(rate(512.0), "512 B/s");
        assert_eq!(rate(2048.0), "2.0 kB/s");
        assert_eq!(rate(3.0 * 1024.0 * 1024.0), "3.0 MB/s");
    }

    #[test]
    fn graph_scale_doubles_above_the_peak() {
        assert_eq!(graph_scale(&[]), 50.0);
        assert_eq!(graph_scale(&[10.0, 40.0]), 50.0);
        assert_eq!(graph_scale(&[82.9]), 200.0);
        assert_eq!(graph_scale(&[210.0]), 400.0);
        assert_eq!(graph_scale(&[f32::NAN, 60.0]), 100.0);
    }
}
