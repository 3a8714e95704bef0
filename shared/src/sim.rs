//! The deterministic simulation: a pure function of (state, inputs, tick) to state.
//!
//! Each phase of a tick is a small function over player components, so the server's ECS systems
//! and `World::step` (used by client prediction, replays and tests) run the very same code in the
//! same order:
//!
//! 1. `move_player`     — inputs become velocity and position (walls slide).
//! 2. `try_fire`        — the trigger, rate-limited by the weapon.
//! 3. `resolve_shot`    — the ray against the rewound (or present) hitboxes; walls at present.
//! 4. `apply_hit`       — damage, death and the kill credit.
//! 5. `respawn_if_due`  — dead players come back at the spawn farthest from everyone.
//! 6. `quantize`        — every body snaps to the network grid, so all sides agree bit for bit.
//! 7. `History::record` — hitboxes for lag compensation, exactly as snapshots carry them.
//!
//! Floats are `f32` through `glam`'s scalar build (no SIMD, no fused multiply-add), players are
//! always visited in id order, and nothing iterates a hash map.

use crate::geom::first_hit;
use crate::input::{Input, ShotView, aim_dir};
use crate::lagcomp::{History, HitboxSample, RewindError};
use crate::map::{Map, TILE};
use crate::player::{Body, Life, PlayerId, PlayerState, Score, Weapon};
use crate::quant::{pos2_to_q, q_to_pos2, snap_pos, snap_vel};
use crate::tick::Tick;
use glam::Vec2;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the game rules below. Bump it on any change that alters simulated state (a
/// constant, a phase, their order): recordings carry it, and a replay made under other rules is
/// refused with a clear message instead of diverging at tick 1.
pub const SIM_VERSION: u32 = 3;

/// `World::hash()` at the end of the seeded 10,000-tick match of `shared/tests/golden.rs` (eight
/// players on the arena, random movement, aim and fire with rewound views, one player leaving and
/// rejoining every 1,500 ticks). It pins the rules that `SIM_VERSION` names: any change that
/// alters simulated state changes it, so a change to the rules must bump `SIM_VERSION` and update
/// this hash together, and a change that was meant to keep the rules must leave it alone.
pub const SIM_GOLDEN_HASH: u64 = 0x9526_58a0_6db7_2a98;

/// Top speed, units per second.
pub const MAX_SPEED: f32 = 220.0;
/// Acceleration toward the wished direction, units per second squared.
pub const ACCEL: f32 = 2000.0;
/// Velocity lost per second to friction, as a fraction.
pub const FRICTION: f32 = 8.0;
/// Half the side of the square that collides with walls, and the radius of the hitbox.
pub const PLAYER_RADIUS: f32 = 12.0;
/// Health at spawn.
pub const MAX_HEALTH: u8 = 100;
/// Damage per hit: ten hits kill, long enough for a duel to be a duel (with four hits, 16 players
/// on the arena spent most of their time dead).
pub const DAMAGE: u8 = 10;
/// Seconds between shots (600 rounds per minute: with ten hits to kill, one second of accurate
/// fire).
pub const FIRE_INTERVAL_S: f32 = 0.1;
/// Seconds dead before respawning.
pub const RESPAWN_S: f32 = 2.0;
/// Hitscan range, world units.
pub const WEAPON_RANGE: f32 = 1500.0;

/// Settings every side of a match must share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimConfig {
    /// Ticks per second.
    pub tick_rate: u32,
    /// Rewind shots to the shooter's view (false: trace against the present).
    pub lagcomp: bool,
    /// Ticks of hitbox history kept for rewinding.
    pub max_rewind_ticks: u32,
}

impl SimConfig {
    /// A config for `tick_rate` with lag compensation over `max_rewind_ms`.
    pub fn new(tick_rate: u32, lagcomp: bool, max_rewind_ms: u32) -> SimConfig {
        let tick_rate = tick_rate.max(1);
        let max_rewind_ticks = (max_rewind_ms * tick_rate).div_ceil(1000).max(2);
        SimConfig {
            tick_rate,
            lagcomp,
            max_rewind_ticks,
        }
    }

    /// Seconds per tick.
    pub fn dt(&self) -> f32 {
        1.0 / self.tick_rate as f32
    }

    /// A duration in seconds as a whole number of ticks (rounded up, at least 1).
    pub fn ticks(&self, seconds: f32) -> u32 {
        ((seconds * self.tick_rate as f32).ceil() as u32).max(1)
    }

    /// History capacity: the rewind window plus the two ticks a view interpolates between.
    pub fn history_len(&self) -> usize {
        self.max_rewind_ticks as usize + 2
    }
}

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

/// A shot and its verdict.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shot {
    /// Who fired.
    pub shooter: PlayerId,
    /// Ray origin (the shooter's authoritative position this tick).
    pub origin: Vec2,
    /// Unit direction.
    pub dir: Vec2,
    /// Distance to what stopped the ray (target, wall or range).
    pub dist: f32,
    /// Who was hit, if anyone.
    pub target: Option<PlayerId>,
    /// How the targets were positioned.
    pub mode: ShotMode,
    /// The view the shooter sent, if any.
    pub view: Option<ShotView>,
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

/// The spawn point farthest from every alive player (ties: the first in the map).
pub fn choose_spawn(map: &Map, alive: &[Vec2]) -> Vec2 {
    let mut best = map.spawns[0];
    let mut best_d = -1.0f32;
    for &s in &map.spawns {
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

/// Something that happened during a tick.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum SimEvent {
    /// A shot was fired (hit or miss).
    Shot(Shot),
    /// `victim` died to `killer`.
    Kill {
        /// Who fired the last hit.
        killer: PlayerId,
        /// Who died.
        victim: PlayerId,
    },
    /// A player came back.
    Respawn(PlayerId),
}

/// A complete match state: what client prediction, replays and the tests step.
#[derive(Clone, Debug)]
pub struct World {
    /// Last completed tick.
    pub tick: Tick,
    /// Players in id order.
    pub players: Vec<PlayerState>,
    /// Lag-compensation history.
    pub history: History,
    /// Shared settings.
    pub cfg: SimConfig,
}

impl World {
    /// An empty world whose next step simulates `tick + 1`.
    pub fn new(cfg: SimConfig, tick: Tick) -> World {
        World {
            tick,
            players: Vec::new(),
            history: History::new(cfg.history_len()),
            cfg,
        }
    }

    /// The spawn point farthest from every player alive right now.
    fn best_spawn(&self, map: &Map) -> Vec2 {
        let alive: Vec<Vec2> = self
            .players
            .iter()
            .filter(|p| p.life.alive())
            .map(|p| p.body.pos)
            .collect();
        choose_spawn(map, &alive)
    }

    /// Adds a player at the best spawn point (replaces one with the same id).
    pub fn add_player(&mut self, map: &Map, id: PlayerId) {
        self.remove_player(id);
        let pos = self.best_spawn(map);
        let state = PlayerState {
            id,
            body: Body { pos, vel: Vec2::ZERO },
            ..PlayerState::default()
        };
        let at = self.players.partition_point(|p| p.id < id);
        self.players.insert(at, state);
    }

    /// Removes a player.
    pub fn remove_player(&mut self, id: PlayerId) {
        self.players.retain(|p| p.id != id);
    }

    /// Simulates the next tick with one input per player (missing players get no input).
    pub fn step(&mut self, map: &Map, inputs: &BTreeMap<PlayerId, Input>) -> Vec<SimEvent> {
        let tick = self.tick.next();
        let cfg = self.cfg;
        let dt = cfg.dt();
        let none = Input::default();
        let mut events = Vec::new();
        for p in &mut self.players {
            let input = inputs.get(&p.id).unwrap_or(&none);
            move_player(&mut p.body, &p.life, &mut p.weapon, input, map, dt);
        }
        let present: Vec<(PlayerId, Vec2)> = self
            .players
            .iter()
            .filter(|p| p.life.alive())
            .map(|p| (p.id, p.body.pos))
            .collect();
        let mut shots = Vec::new();
        for p in &mut self.players {
            let input = inputs.get(&p.id).unwrap_or(&none);
            if try_fire(&mut p.weapon, &p.life, input, tick, &cfg) {
                let (targets, mode) = shot_targets(&self.history, &present, input.view, &cfg);
                let (dir, dist, target) = resolve_shot(map, p.id, p.body.pos, p.weapon.aim, &targets);
                shots.push(Shot {
                    shooter: p.id,
                    origin: p.body.pos,
                    dir,
                    dist,
                    target,
                    mode,
                    view: input.view,
                });
            }
        }
        for shot in shots {
            events.push(SimEvent::Shot(shot));
            let Some(victim) = shot.target else { continue };
            let killed = match self.players.iter_mut().find(|p| p.id == victim) {
                Some(v) => apply_hit(&mut v.life, &mut v.score, tick, &cfg),
                None => false,
            };
            if killed {
                if let Some(k) = self.players.iter_mut().find(|p| p.id == shot.shooter) {
                    k.score.kills = k.score.kills.saturating_add(1);
                }
                events.push(SimEvent::Kill {
                    killer: shot.shooter,
                    victim,
                });
            }
        }
        for i in 0..self.players.len() {
            if self.players[i]
                .life
                .respawn_at
                .is_some_and(|at| !at.is_after(tick))
            {
                let spawn = self.best_spawn(map);
                let p = &mut self.players[i];
                if respawn_if_due(&mut p.body, &mut p.life, tick, spawn) {
                    events.push(SimEvent::Respawn(p.id));
                }
            }
        }
        for p in &mut self.players {
            quantize(&mut p.body);
        }
        self.history.record(
            tick,
            self.players
                .iter()
                .map(|p| hitbox(p.id, &p.body, &p.life))
                .collect(),
        );
        self.tick = tick;
        events
    }

    /// Hash of the whole simulated state, for replay verification and determinism checks.
    pub fn hash(&self) -> u64 {
        state_hash(self.tick, &self.players)
    }
}

/// FNV-1a over the tick and every player's fields, in id order. Stable across builds and
/// platforms (unlike `std`'s hasher), which is what a replay file needs.
pub fn state_hash(tick: Tick, players: &[PlayerState]) -> u64 {
    let mut h = Fnv::default();
    h.write(&tick.0.to_le_bytes());
    for p in players {
        h.write(&p.id.0.to_le_bytes());
        for v in [p.body.pos.x, p.body.pos.y, p.body.vel.x, p.body.vel.y] {
            h.write(&v.to_bits().to_le_bytes());
        }
        h.write(&[p.life.health]);
        h.write(
            &p.life
                .respawn_at
                .map_or(u64::MAX, |t| u64::from(t.0))
                .to_le_bytes(),
        );
        h.write(&p.weapon.aim[0].to_le_bytes());
        h.write(&p.weapon.aim[1].to_le_bytes());
        h.write(&p.weapon.next_fire.0.to_le_bytes());
        h.write(&p.score.kills.to_le_bytes());
        h.write(&p.score.deaths.to_le_bytes());
    }
    h.0
}

/// 64-bit FNV-1a.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}
