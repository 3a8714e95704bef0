//! The lag-compensation debug view (F4): for our recent shots, the hitboxes we traced against
//! when firing and the ones the server rewound to, side by side in two colours. When lag
//! compensation works they overlap exactly.

use super::palette::{self, fade};
use super::text;
use crate::view::{ShotReview, Tracer};
use macroquad::shapes::{draw_circle, draw_circle_lines, draw_line};
use rewind_shared::Vec2;
use rewind_shared::player::PlayerId;
use rewind_shared::sim::PLAYER_RADIUS;

/// Shots older than this are not shown.
pub const DEBUG_SHOT_S: f32 = 3.0;
/// At most this many shots are shown (newest).
pub const DEBUG_SHOTS: usize = 6;

/// The shots the debug view shows, newest first.
pub fn recent(shots: &[ShotReview]) -> Vec<&ShotReview> {
    let mut v: Vec<&ShotReview> = shots.iter().filter(|s| s.age_s < DEBUG_SHOT_S).collect();
    v.sort_by(|a, b| a.age_s.total_cmp(&b.age_s));
    v.truncate(DEBUG_SHOTS);
    v
}

/// Largest distance between our hitbox and the server's for the same player in one shot.
pub fn max_offset(shot: &ShotReview) -> Option<f32> {
    shot.client_hitboxes
        .iter()
        .filter_map(|(id, c)| {
            shot.server_hitboxes
                .iter()
                .find(|(sid, _)| sid == id)
                .map(|(_, s)| c.distance(*s))
        })
        .reduce(f32::max)
}

/// The local tracer fired at the same moment as `shot` (ages within a frame), to draw its ray.
fn tracer_for<'a>(shot: &ShotReview, tracers: &'a [Tracer]) -> Option<&'a Tracer> {
    tracers
        .iter()
        .filter(|t| t.local && (t.age_s - shot.age_s).abs() < 0.034)
        .min_by(|a, b| {
            (a.age_s - shot.age_s)
                .abs()
                .total_cmp(&(b.age_s - shot.age_s).abs())
        })
}

/// World-space part: rays, both sets of hitboxes, and a line between the two positions of each
/// player when they differ.
pub fn draw_world(shots: &[ShotReview], tracers: &[Tracer]) {
    for s in recent(shots) {
        let a = 1.0 - 0.6 * (s.age_s / DEBUG_SHOT_S);
        if let Some(t) = tracer_for(s, tracers) {
            draw_line(
                t.from.x,
                t.from.y,
                t.to.x,
                t.to.y,
                1.0,
                fade(palette::TEXT, 0.5 * a),
            );
        }
        let target_fill = |list: &[(PlayerId, Vec2)], id: Option<PlayerId>, c| {
            if let Some(p) = id.and_then(|id| list.iter().find(|(pid, _)| *pid == id)) {
                draw_circle(p.1.x, p.1.y, PLAYER_RADIUS, fade(c, 0.25 * a));
            }
        };
        target_fill(&s.client_hitboxes, s.client_target, palette::DEBUG_CLIENT);
        target_fill(&s.server_hitboxes, s.server_target, palette::DEBUG_SERVER);
        for (_, p) in &s.client_hitboxes {
            draw_circle_lines(p.x, p.y, PLAYER_RADIUS, 1.5, fade(palette::DEBUG_CLIENT, a));
        }
        for (id, p) in &s.server_hitboxes {
            draw_circle_lines(p.x, p.y, PLAYER_RADIUS + 1.5, 1.5, fade(palette::DEBUG_SERVER, a));
            if let Some((_, c)) = s.client_hitboxes.iter().find(|(cid, _)| cid == id)
                && c.distance(*p) > 0.5
            {
                draw_line(c.x, c.y, p.x, p.y, 1.0, fade(palette::HIT_DENIED, a));
            }
        }
    }
}

/// Screen-space legend listing the recent shots and both verdicts.
pub fn draw_legend(shots: &[ShotReview], x: f32, y: f32) {
    let list = recent(shots);
    let line_h = 18.0;
    let w = 430.0;
    let h = 80.0 + line_h * list.len().max(1) as f32;
    text::panel(x, y, w, h);
    text::draw("LAG-COMP DEBUG (F4)", x + 10.0, y + 20.0, 18.0, palette::TEXT);
    draw_circle_lines(x + 18.0, y + 36.0, 6.0, 1.5, palette::DEBUG_CLIENT);
    text::draw(
        "ours when firing",
        x + 30.0,
        y + 41.0,
        16.0,
        palette::DEBUG_CLIENT,
    );
    draw_circle_lines(x + 188.0, y + 36.0, 6.0, 1.5, palette::DEBUG_SERVER);
    text::draw(
        "server's rewind",
        x + 200.0,
        y + 41.0,
        16.0,
        palette::DEBUG_SERVER,
    );
    let y = y + 22.0;
    text::draw(
        "age   we saw    server     offset",
        x + 10.0,
        y + 40.0,
        16.0,
        palette::TEXT_DIM,
    );
    if list.is_empty() {
        text::draw(
            "no recent shots - click to fire",
            x + 10.0,
            y + 58.0,
            16.0,
            palette::TEXT_DIM,
        );
    }
    for (i, s) in list.iter().enumerate() {
        let who = |t: Option<PlayerId>| t.map_or("miss".to_string(), |id| id.to_string());
        let server = if s.confirmed {
            who(s.server_target)
        } else {
            "...".to_string()
        };
        let offset = if s.confirmed {
            max_offset(s).map_or("-".to_string(), |d| format!("{d:.2} u"))
        } else {
            "-".to_string()
        };
        let line = format!(
            "{:>3.1}s  {:<9} {:<10} {}",
            s.age_s,
            who(s.client_target),
            server,
            offset
        );
        let c = if !s.confirmed {
            palette::TEXT
        } else if s.server_target == s.client_target {
            palette::HIT_CONFIRMED
        } else {
            palette::HIT_DENIED
        };
        text::draw(&line, x + 10.0, y + 58.0 + line_h * i as f32, 16.0, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shot(age: f32) -> ShotReview {
        ShotReview {
            client_target: None,
            server_target: None,
            confirmed: true,
            client_hitboxes: vec![
                (PlayerId(1), Vec2::new(0.0, 0.0)),
                (PlayerId(2), Vec2::new(10.0, 0.0)),
            ],
            server_hitboxes: vec![
                (PlayerId(1), Vec2::new(3.0, 4.0)),
                (PlayerId(2), Vec2::new(10.0, 0.0)),
            ],
            age_s: age,
        }
    }

    #[test]
    fn recent_is_newest_first_and_bounded() {
        let shots: Vec<ShotReview> = (0..10).map(|i| shot(i as f32 * 0.2)).chain([shot(5.0)]).collect();
        let r = recent(&shots);
        assert_eq!(r.len(), DEBUG_SHOTS);
        assert_eq!(r[0].age_s, 0.0);
        assert!(r.iter().all(|s| s.age_s < DEBUG_SHOT_S));
    }

    #[test]
    fn offset_is_the_largest_disagreement() {
        assert_eq!(max_offset(&shot(0.0)), Some(5.0));
        let mut s = shot(0.0);
        s.server_hitboxes.clear();
        assert_eq!(max_offset(&s), None);
    }
}
