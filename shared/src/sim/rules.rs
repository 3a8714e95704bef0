//! The rules of one tick as small functions over player components: each phase of
//! `step::TICK_PHASES` calls these. Keep them free of ordering decisions: the order lives in
//! `step` alone.

use super::{
    ACCEL, DAMAGE, FIRE_INTERVAL_S, FRICTION, MAX_SPEED, PLAYER_RADIUS, RESPAWN_S, SimConfig, WEAPON_RANGE,
};
use crate::geom::first_hit;
use crate::input::{Input, ShotView, aim_dir};
use crate::lagcomp::{History, HitboxSample, RewindError};
use crate::map::{Map, TILE};
use crate::player::{Body, Life, PlayerId, Score, Weapon};
use crate::quant::{pos2_to_q, q_to_pos2, snap_pos, snap_vel};
use crate::tick::Tick;
use glam::Vec2;
use serde::{Deserialize, Serialize};

/// Moves an alive player one tick: accelerate toward the wish, apply friction, cap the speed,
/// then move one axis at a time so walls are slid along rather than sticking.
pub fn move_player(body: &mut Body, life: &Life, weapon: &mut Weapon, input: &Input, map: &Map, dt: f32) {
    if !life.alive() {
        body.vel = Vec2::ZERO;
        return;
    }
    if input.aim != [0, 0] {
        weapon.aim = input.aim;
    }
    let mut vel = body.vel + input.wish() * (ACCEL * dt);
    vel -= vel * (FRICTION * dt).min(1.0);
    let speed = vel.length();
    if speed > MAX_SPEED {
        vel *= MAX_SPEED / speed;
    }
    let mut pos = body.pos;
    pos.x += vel.x * dt;
    if let Some(x) = collide_axis(map, pos, 0, vel.x) {
        pos.x = x;
        vel.x = 0.0;
    }
    pos.y += vel.y * dt;
    if let Some(y) = collide_axis(map, pos, 1, vel.y) {
        pos.y = y;
        vel.y = 0.0;
    }
    body.pos = pos;
    body.vel = vel;
}

/// If the player's square overlaps a wall after moving along `axis`, the corrected coordinate
/// that puts it flush against the wall it moved into.
fn collide_axis(map: &Map, pos: Vec2, axis: usize, v: f32) -> Option<f32> {
    let r = PLAYER_RADIUS;
    let tile = |c: f32| (c / TILE).floor() as i32;
    let (x0, x1, y0, y1) = (
        tile(pos.x - r),
        tile(pos.x + r - 0.001),
        tile(pos.y - r),
        tile(pos.y + r - 0.001),
    );
    let mut hit: Option<f32> = None;
    for ty in y0..=y1 {
        for tx in x0..=x1 {
            if !map.is_wall(tx, ty) {
                continue;
            }
            let (t, c) = if axis == 0 { (tx, pos.x) } else { (ty, pos.y) };
            let fixed = if v > 0.0 {
                t as f32 * TILE - r
            } else if v < 0.0 {
                (t + 1) as f32 * TILE + r
            } else {
                c
            };
            hit = Some(match hit {
                None => fixed,
                Some(h) if v > 0.0 => h.min(fixed),
                Some(h) => h.max(fixed),
            });
        }
    }
    hit
}

/// Whether the trigger fires this tick; if so the weapon cools down.
pub fn try_fire(weapon: &mut Weapon, life: &Life, input: &Input, tick: Tick, cfg: &SimConfig) -> bool {
    if !life.alive() || !input.fire() || weapon.next_fire.is_after(tick) {
        return false;
    }
    weapon.next_fire = tick.offset(cfg.ticks(FIRE_INTERVAL_S) as i32);
    true
}

/// How a shot was judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShotMode {
    /// Traced against the shooter's view, rebuilt from history.
    Rewound,
    /// The view was older than the window; traced against the oldest kept tick.
    TooOld,
    /// No view (or lag compensation off): traced against present positions.
    Present,
    /// The view was impossible (in the future or backwards): no hit possible.
    Refused,
}

/// Where the targets of a shot are: the shooter's rewound view, or the present.
pub fn shot_targets(
    history: &History,
    present: &[(PlayerId, Vec2)],
    view: Option<ShotView>,
    cfg: &SimConfig,
) -> (Vec<(PlayerId, Vec2)>, ShotMode) {
    match view {
        Some(v) if cfg.lagcomp => match history.view(v) {
            Ok(rv) => {
                let mode = if rv.clamped {
                    ShotMode::TooOld
                } else {
                    ShotMode::Rewound
                };
                (
                    rv.targets.into_iter().map(|(p, id)| (id, q_to_pos2(p))).collect(),
                    mode,
                )
            }
            Err(RewindError::Empty) => (present.to_vec(), ShotMode::Present),
            Err(_) => (Vec::new(), ShotMode::Refused),
        },
        _ => (present.to_vec(), ShotMode::Present),
    }
}

/// Traces a shot from `origin` along `aim` against `targets` (the shooter excluded), stopped by
/// walls at present and by the weapon's range.
pub fn resolve_shot(
    map: &Map,
    shooter: PlayerId,
    origin: Vec2,
    aim: [i16; 2],
    targets: &[(PlayerId, Vec2)],
) -> (Vec2, f32, Option<PlayerId>) {
    let dir = aim_dir(aim).unwrap_or(Vec2::X);
    let wall = map.raycast(origin, dir, WEAPON_RANGE);
    let others = targets.iter().filter(|(id, _)| *id != shooter).copied();
    match first_hit(origin, dir, wall, PLAYER_RADIUS, others) {
        Some((id, d)) => (dir, d, Some(id)),
        None => (dir, wall, None),
    }
}

/// Applies one hit; returns true when it killed (the caller credits the kill).
pub fn apply_hit(life: &mut Life, score: &mut Score, tick: Tick, cfg: &SimConfig) -> bool {
    if !life.alive() {
        return false;
    }
    life.health = life.health.saturating_sub(DAMAGE);
    if life.health > 0 {
        return false;
    }
    life.respawn_at = Some(tick.offset(cfg.ticks(RESPAWN_S) as i32));
    score.deaths = score.deaths.saturating_add(1);
    true
}

/// The spawn point farthest from every alive player. Among spawns equally far, the first from
/// `id`'s place in the map's list on (cyclically): when more players join at once than the map
/// has spawns, every spawn is occupied at distance 0, and "the first in the map" (the rule before
/// `SIM_VERSION` 4, still applied for older `rules`) stacked all the rest on one point (at 256
/// players, some 180 on the warehouse's first spawn).
pub fn choose_spawn(map: &Map, alive: &[Vec2], id: PlayerId, rules: u32) -> Vec2 {
    let n = map.spawns.len();
    let start = if rules >= 4 {
        usize::from(id.0) % n.max(1)
    } else {
        0
    };
    let mut best = map.spawns[start];
    let mut best_d = -1.0f32;
    for k in 0..n {
        let s = map.spawns[(start + k) % n];
        let d = alive
            .iter()
            .map(|p| p.distance_squared(s))
            .fold(f32::INFINITY, f32::min);
        if d > best_d {
            best = s;
            best_d = d;
        }
    }
    best
}

/// Brings a dead player back when its time has come. Returns true if it respawned.
pub fn respawn_if_due(body: &mut Body, life: &mut Life, tick: Tick, spawn: Vec2) -> bool {
    match life.respawn_at {
        Some(at) if !at.is_after(tick) => {
            *life = Life::default();
            *body = Body {
                pos: spawn,
                vel: Vec2::ZERO,
            };
            true
        }
        _ => false,
    }
}

/// Snaps a body onto the network grid.
pub fn quantize(body: &mut Body) {
    body.pos = snap_pos(body.pos);
    body.vel = snap_vel(body.vel);
}

/// The hitbox that history and snapshots carry.
pub fn hitbox(id: PlayerId, body: &Body, life: &Life) -> HitboxSample {
    HitboxSample {
        id,
        pos: pos2_to_q(body.pos),
        alive: life.alive(),
    }
}
