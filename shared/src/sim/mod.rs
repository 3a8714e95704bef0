//! The deterministic simulation: a pure function of (state, inputs, tick) to state.
//!
//! `rules` holds the rules of a tick as small functions over player components; `step` holds
//! their one composition (`TICK_PHASES`, `run_phases`), which the server's ECS, `World::step`
//! (replays, tests) and the client's predictor all run:
//!
//! 1. `Move`     — inputs become velocity and position (walls slide).
//! 2. `Fire`     — the trigger, rate-limited; the ray against the rewound (or present) hitboxes,
//!    walls at present.
//! 3. `Hits`     — damage, death and the kill credit.
//! 4. `Respawn`  — dead players come back at the spawn farthest from everyone.
//! 5. `Quantize` — every body snaps to the network grid, so all sides agree bit for bit.
//! 6. `Record`   — hitboxes for lag compensation, exactly as snapshots carry them.
//!
//! Floats are `f32` through `glam`'s scalar build (no SIMD, no fused multiply-add), players are
//! always visited in id order, and nothing iterates a hash map.

mod rules;
mod step;

pub use rules::*;
pub use step::*;

use crate::input::Input;
use crate::lagcomp::History;
use crate::map::Map;
use crate::player::{PlayerId, PlayerState};
use crate::tick::Tick;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the game rules below. Bump it on any change that alters simulated state (a
/// constant, a phase, their order): recordings carry it, and a replay made under rules this
/// build cannot play (older than `OLDEST_SIM_VERSION`, or newer) is refused with a clear message
/// instead of diverging at tick 1.
///
/// 4: a crowd that joins at once is spread over the spawns (`rules::choose_spawn`).
pub const SIM_VERSION: u32 = 4;
/// The oldest rules this build still simulates exactly, so that recordings made under them stay
/// verifiable evidence (`SimConfig::rules` selects them; the differences are small and named
/// where they apply).
pub const OLDEST_SIM_VERSION: u32 = 3;

/// `World::hash()` at the end of the seeded 10,000-tick match of `shared/tests/golden.rs` (eight
/// players on the arena, random movement, aim and fire with rewound views, one player leaving and
/// rejoining every 1,500 ticks). It pins the rules that `SIM_VERSION` names: any change that
/// alters simulated state changes it, so a change to the rules must bump `SIM_VERSION` and update
/// this hash together, and a change that was meant to keep the rules must leave it alone.
pub const SIM_GOLDEN_HASH: u64 = 0x24d2_2a21_b485_feec;

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
    /// The `SIM_VERSION` whose rules to simulate: the current ones, except when a replay made
    /// under older rules is re-simulated (its reader sets them from the recording's header). Not
    /// written anywhere: the header says it once, as `sim_version`.
    #[serde(skip, default = "current_rules")]
    pub rules: u32,
}

fn current_rules() -> u32 {
    SIM_VERSION
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
            rules: SIM_VERSION,
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

    /// Adds a player at the best spawn point (replaces one with the same id).
    pub fn add_player(&mut self, map: &Map, id: PlayerId) {
        self.remove_player(id);
        let alive: Vec<_> = self
            .players
            .iter()
            .filter(|p| p.life.alive())
            .map(|p| p.body.pos)
            .collect();
        let at = self.players.partition_point(|p| p.id < id);
        self.players
            .insert(at, spawn_player(map, id, &alive, self.cfg.rules));
    }

    /// Removes a player.
    pub fn remove_player(&mut self, id: PlayerId) {
        self.players.retain(|p| p.id != id);
    }

    /// Simulates the next tick with one input per player (missing players get no input).
    pub fn step(&mut self, map: &Map, inputs: &BTreeMap<PlayerId, Input>) -> Vec<SimEvent> {
        self.step_seen(map, inputs, &NO_SEEN)
    }

    /// `step`, with the targets some shooters had in view (see `TickContext::seen`).
    pub fn step_seen(
        &mut self,
        map: &Map,
        inputs: &BTreeMap<PlayerId, Input>,
        seen: &SeenTargets,
    ) -> Vec<SimEvent> {
        let tick = self.tick.next();
        let mut rows: Vec<PlayerMut<'_>> = self
            .players
            .iter_mut()
            .map(|p| {
                let input = inputs.get(&p.id).copied().unwrap_or_default();
                PlayerMut::of(p, input)
            })
            .collect();
        let mut ctx = TickContext {
            tick,
            cfg: &self.cfg,
            map,
            history: &mut self.history,
            seen,
        };
        let events = step_players(&mut rows, &mut ctx);
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
