//! Drawing in world space (under the follow camera): the map, tracers, muzzle flashes, players,
//! hit markers. Everything takes plain data from the `GameView`, so a replay viewer can reuse it.

use super::effects::Effects;
use super::palette::{self, fade};
use crate::view::{DrawnPlayer, ShotReview, Tracer};
use macroquad::color::Color;
use macroquad::shapes::{draw_circle, draw_circle_lines, draw_line, draw_rectangle};
use rewind_shared::Vec2;
use rewind_shared::map::{Map, TILE};
use rewind_shared::sim::PLAYER_RADIUS;

/// Tracers fade out over this many seconds.
pub const TRACER_S: f32 = 0.3;
/// Muzzle flashes last this long.
pub const MUZZLE_S: f32 = 0.07;
/// Hit markers stay this long (fading during the last third).
pub const MARKER_S: f32 = 1.0;

/// Draws the tiles inside the world rectangle `[min, max]` (the visible part of the map).
pub fn draw_map(map: &Map, min: Vec2, max: Vec2) {
    let x0 = (min.x / TILE).floor() as i32 - 1;
    let y0 = (min.y / TILE).floor() as i32 - 1;
    let x1 = (max.x / TILE).ceil() as i32 + 1;
    let y1 = (max.y / TILE).ceil() as i32 + 1;
    let w = map.width as i32;
    let h = map.height as i32;
    // Floor first, then shadows, then walls, so shadows never cover a wall.
    for ty in y0.max(0)..y1.min(h) {
        for tx in x0.max(0)..x1.min(w) {
            if !map.is_wall(tx, ty) {
                let c = if (tx + ty) % 2 == 0 {
                    palette::FLOOR_A
                } else {
                    palette::FLOOR_B
                };
                draw_rectangle(tx as f32 * TILE, ty as f32 * TILE, TILE, TILE, c);
            }
        }
    }
    for ty in y0.max(0)..y1.min(h) {
        for tx in x0.max(0)..x1.min(w) {
            if map.is_wall(tx, ty) && !map.is_wall(tx, ty + 1) && ty + 1 < h {
                draw_rectangle(
                    tx as f32 * TILE,
                    (ty + 1) as f32 * TILE,
                    TILE,
                    TILE * 0.3,
                    palette::WALL_SHADOW,
                );
            }
        }
    }
    for ty in y0.max(0)..y1.min(h) {
        for tx in x0.max(0)..x1.min(w) {
            if !map.is_wall(tx, ty) {
                continue;
            }
            let (x, y) = (tx as f32 * TILE, ty as f32 * TILE);
            draw_rectangle(x, y, TILE, TILE, palette::WALL);
            // A lighter lip where the wall meets floor above it gives the walls some height.
            if !map.is_wall(tx, ty - 1) {
                draw_rectangle(x, y, TILE, 4.0, palette::WALL_EDGE);
            }
            if !map.is_wall(tx - 1, ty) {
                draw_rectangle(x, y, 2.0, TILE, fade(palette::WALL_EDGE, 0.5));
            }
        }
    }
}

/// Draws tracers (fading lines) and muzzle flashes at their origins.
pub fn draw_tracers(tracers: &[Tracer]) {
    for t in tracers {
        if t.age_s >= TRACER_S {
            continue;
        }
        let life = 1.0 - t.age_s / TRACER_S;
        let core = if t.local {
            Color::new(1.0, 0.95, 0.6, 1.0)
        } else {
            Color::new(1.0, 0.6, 0.3, 1.0)
        };
        draw_line(t.from.x, t.from.y, t.to.x, t.to.y, 5.0, fade(core, 0.18 * life));
        draw_line(t.from.x, t.from.y, t.to.x, t.to.y, 1.8, fade(core, 0.9 * life));
        draw_circle(t.to.x, t.to.y, 3.0, fade(core, 0.8 * life));
        if t.age_s < MUZZLE_S {
            let dir = (t.to - t.from).normalize_or_zero();
            let m = t.from + dir * (PLAYER_RADIUS + 6.0);
            let k = 1.0 - t.age_s / MUZZLE_S;
            draw_circle(m.x, m.y, 9.0 * k + 3.0, Color::new(1.0, 0.75, 0.2, 0.55 * k));
            draw_circle(m.x, m.y, 4.5 * k + 1.5, Color::new(1.0, 1.0, 0.85, 0.95 * k));
        }
    }
}

/// Draws one player: shadow, body, outline, aim barrel and a damage flash. Dead players are a
/// faint cross where they fell.
pub fn draw_player(p: &DrawnPlayer, effects: &Effects) {
    let c = palette::player_colour(p.id.0, p.local);
    let (x, y) = (p.pos.x, p.pos.y);
    let r = PLAYER_RADIUS;
    if !p.alive {
        let k = r * 0.7;
        draw_line(x - k, y - k, x + k, y + k, 3.0, fade(c, 0.35));
        draw_line(x - k, y + k, x + k, y - k, 3.0, fade(c, 0.35));
        return;
    }
    draw_circle(x + 2.0, y + 3.0, r, Color::new(0.0, 0.0, 0.0, 0.35));
    let aim = p.aim.normalize_or_zero();
    let tip = p.pos + aim * (r + 9.0);
    let base = p.pos + aim * (r * 0.4);
    draw_line(
        base.x,
        base.y,
        tip.x,
        tip.y,
        5.0,
        Color::new(0.12, 0.12, 0.14, 1.0),
    );
    draw_line(
        base.x,
        base.y,
        tip.x,
        tip.y,
        2.5,
        Color::new(0.85, 0.87, 0.9, 1.0),
    );
    draw_circle(x, y, r, c);
    draw_circle(
        x - r * 0.3,
        y - r * 0.3,
        r * 0.45,
        Color::new(1.0, 1.0, 1.0, 0.18),
    );
    let outline = if p.local {
        Color::new(1.0, 1.0, 1.0, 0.95)
    } else {
        Color::new(0.0, 0.0, 0.0, 0.6)
    };
    draw_circle_lines(x, y, r, 2.0, outline);
    let flash = effects.flash(p.id);
    if flash > 0.0 {
        draw_circle(x, y, r + 1.0, Color::new(1.0, 1.0, 1.0, 0.8 * flash));
    }
}

/// Colour of a hit marker: white while only our verdict is known, green when the server agreed,
/// red when it did not.
pub fn marker_colour(shot: &ShotReview) -> Color {
    if !shot.confirmed {
        palette::HIT_PENDING
    } else if shot.server_target == shot.client_target {
        palette::HIT_CONFIRMED
    } else {
        palette::HIT_DENIED
    }
}

/// Where a shot's marker goes: the target we saw hit, or (if only the server saw a hit) the one
/// the server hit. `None` for a miss both sides agree on.
pub fn marker_pos(shot: &ShotReview) -> Option<Vec2> {
    let find = |list: &[(rewind_shared::player::PlayerId, Vec2)], id| {
        list.iter().find(|(pid, _)| *pid == id).map(|(_, p)| *p)
    };
    if let Some(id) = shot.client_target {
        return find(&shot.client_hitboxes, id).or_else(|| find(&shot.server_hitboxes, id));
    }
    let id = shot.server_target?;
    find(&shot.server_hitboxes, id).or_else(|| find(&shot.client_hitboxes, id))
}

/// Draws an X-shaped hit marker per recent shot that hit something on either side.
pub fn draw_hit_markers(shots: &[ShotReview]) {
    for s in shots {
        if s.age_s >= MARKER_S {
            continue;
        }
        let Some(p) = marker_pos(s) else { continue };
        let a = ((MARKER_S - s.age_s) / (MARKER_S / 3.0)).min(1.0);
        let grow = 1.0 + (s.age_s * 6.0).min(1.0) * 0.4;
        let (i, o) = (PLAYER_RADIUS * 0.55 * grow, PLAYER_RADIUS * 1.25 * grow);
        let c = fade(marker_colour(s), a);
        for (dx, dy) in [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)] {
            draw_line(
                p.x + dx * i,
                p.y + dy * i,
                p.x + dx * o,
                p.y + dy * o,
                4.0,
                fade(palette::BACKGROUND, a * 0.6),
            );
            draw_line(p.x + dx * i, p.y + dy * i, p.x + dx * o, p.y + dy * o, 2.2, c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rewind_shared::player::PlayerId;

    fn shot(client: Option<u16>, server: Option<u16>, confirmed: bool) -> ShotReview {
        ShotReview {
            client_target: client.map(PlayerId),
            server_target: server.map(PlayerId),
            confirmed,
            client_hitboxes: vec![
                (PlayerId(2), Vec2::new(1.0, 1.0)),
                (PlayerId(3), Vec2::new(5.0, 5.0)),
            ],
            server_hitboxes: vec![
                (PlayerId(2), Vec2::new(1.5, 1.0)),
                (PlayerId(3), Vec2::new(6.0, 5.0)),
            ],
            age_s: 0.1,
        }
    }

    #[test]
    fn marker_colour_follows_the_verdicts() {
        assert_eq!(marker_colour(&shot(Some(2), None, false)), palette::HIT_PENDING);
        assert_eq!(
            marker_colour(&shot(Some(2), Some(2), true)),
            palette::HIT_CONFIRMED
        );
        assert_eq!(marker_colour(&shot(Some(2), None, true)), palette::HIT_DENIED);
        assert_eq!(marker_colour(&shot(None, Some(3), true)), palette::HIT_DENIED);
    }

    #[test]
    fn marker_sits_on_the_target_we_saw_or_the_servers() {
        assert_eq!(marker_pos(&shot(Some(2), None, false)), Some(Vec2::new(1.0, 1.0)));
        assert_eq!(marker_pos(&shot(None, Some(3), true)), Some(Vec2::new(6.0, 5.0)));
        assert_eq!(marker_pos(&shot(None, None, true)), None);
    }
}
