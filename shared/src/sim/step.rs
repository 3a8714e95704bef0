//! The one composition of a tick. `TICK_PHASES` is the order of the rules; `run_phases` is the
//! only code that applies them, over borrowed player rows, so every runner executes the same
//! glue: the server's ECS system (rows borrowed from its components), `World::step` (rows
//! borrowed from a `Vec<PlayerState>`, for replays and tests) and the client's predictor (its own
//! player only, the phases `Phase::predicted` names).
//!
//! Rows are in id order; every decision that depends on order (who fires first, who respawns
//! where) follows it, so no runner's storage order can change a result.

use super::SimConfig;
use super::rules::{
    ShotMode, apply_hit, choose_spawn, hitbox, move_player, quantize, resolve_shot, respawn_if_due,
    shot_targets, try_fire,
};
use crate::input::{Input, ShotView};
use crate::lagcomp::History;
use crate::map::Map;
use crate::player::{Body, Life, PlayerId, PlayerState, Score, Weapon};
use crate::quant::pos2_to_q;
use crate::tick::Tick;
use glam::Vec2;
use serde::{Deserialize, Serialize};

/// A phase of a tick. The order is `TICK_PHASES`; nothing else orders them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Inputs become velocity and position (walls slide).
    Move,
    /// Triggers, after all movement so every shot sees the same present; each shot is traced
    /// against the shooter's rewound view (or the present) at once.
    Fire,
    /// Damage, deaths and kill credit, in the order the shots were fired.
    Hits,
    /// Dead players whose time has come respawn, in id order, each at the spawn farthest from
    /// everyone alive at that moment (players respawned just before included).
    Respawn,
    /// Every body snaps to the network grid, so all sides start the next tick from the same bits.
    Quantize,
    /// This tick's hitboxes (exactly what snapshots carry) go into the rewind history.
    Record,
}

/// The phases of a tick, in order.
pub const TICK_PHASES: [Phase; 6] = [
    Phase::Move,
    Phase::Fire,
    Phase::Hits,
    Phase::Respawn,
    Phase::Quantize,
    Phase::Record,
];

impl Phase {
    /// Whether a client predicts this phase for its own player: those that depend only on its
    /// own input and state. Hits and respawns are the server's (they need everyone), and the
    /// history is the server's too.
    pub const fn predicted(self) -> bool {
        matches!(self, Phase::Move | Phase::Fire | Phase::Quantize)
    }
}

/// One player's components, borrowed from wherever the runner keeps them.
#[derive(Debug)]
pub struct PlayerMut<'a> {
    /// Whose.
    pub id: PlayerId,
    /// Position and velocity.
    pub body: &'a mut Body,
    /// Health and respawn.
    pub life: &'a mut Life,
    /// Aim and fire timing.
    pub weapon: &'a mut Weapon,
    /// Kills and deaths.
    pub score: &'a mut Score,
    /// The input this player acts on this tick.
    pub input: Input,
}

impl<'a> PlayerMut<'a> {
    /// Borrows a whole player.
    pub fn of(p: &'a mut PlayerState, input: Input) -> PlayerMut<'a> {
        PlayerMut {
            id: p.id,
            body: &mut p.body,
            life: &mut p.life,
            weapon: &mut p.weapon,
            score: &mut p.score,
            input,
        }
    }
}

/// A shot and its verdict, with exactly the hitboxes it was traced against.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shot {
    /// Who fired.
    pub shooter: PlayerId,
    /// Ray origin (the shooter's authoritative position this tick, before the grid snap).
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
    /// The rewound hitboxes the ray was traced against (quantized, the shooter included), for
    /// rewound and clamped shots; empty for present-time and refused shots. The verdict and the
    /// replay viewer show exactly these, so a debug view never recomputes from a history that
    /// has moved on.
    pub traced: Vec<(PlayerId, [i32; 2])>,
}

/// Something that happened during a tick.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

/// What the phases of one tick share besides the rows.
#[derive(Debug)]
pub struct TickContext<'a> {
    /// The tick being simulated.
    pub tick: Tick,
    /// Shared settings.
    pub cfg: &'a SimConfig,
    /// The map.
    pub map: &'a Map,
    /// The rewind history (read by `Fire`, appended by `Record`).
    pub history: &'a mut History,
    /// Targets as given shooters had them, instead of the view rebuilt from the history: the
    /// client's predictor judging its own shot (it has snapshots, not a history), and the server
    /// when what it sent that client differs from the history (a player hidden by the fog or
    /// deferred by the byte budget); the recording keeps those so replays trace the same.
    pub seen: &'a SeenTargets,
}

/// Per shooter, the hitboxes it had in view when it fired (see `TickContext::seen`).
pub type SeenTargets = std::collections::BTreeMap<PlayerId, Vec<(PlayerId, Vec2)>>;

/// No shooter with targets of its own: every view is rebuilt from the history.
pub static NO_SEEN: SeenTargets = SeenTargets::new();

/// Runs `phases` (a subsequence of `TICK_PHASES`) over `rows`, which must be sorted by id, and
/// returns what happened. Kill events follow the shot that caused them.
pub fn run_phases(
    phases: impl IntoIterator<Item = Phase>,
    rows: &mut [PlayerMut<'_>],
    ctx: &mut TickContext<'_>,
) -> Vec<SimEvent> {
    debug_assert!(
        rows.windows(2).all(|w| w[0].id < w[1].id),
        "rows must be in id order"
    );
    let mut shots: Vec<Shot> = Vec::new();
    let mut events = Vec::new();
    for phase in phases {
        match phase {
            Phase::Move => {
                let dt = ctx.cfg.dt();
                for r in rows.iter_mut() {
                    move_player(r.body, r.life, r.weapon, &r.input, ctx.map, dt);
                }
            }
            Phase::Fire => shots = fire(rows, ctx),
            Phase::Hits => {
                for shot in std::mem::take(&mut shots) {
                    let kill = hit(rows, &shot, ctx);
                    events.push(SimEvent::Shot(shot));
                    events.extend(kill);
                }
            }
            Phase::Respawn => respawn(rows, ctx, &mut events),
            Phase::Quantize => {
                for r in rows.iter_mut() {
                    quantize(r.body);
                }
            }
            Phase::Record => {
                let samples = rows.iter().map(|r| hitbox(r.id, r.body, r.life)).collect();
                ctx.history.record(ctx.tick, samples);
            }
        }
    }
    // A subsequence without `Hits` (the predictor) still reports its shots.
    events.extend(shots.into_iter().map(SimEvent::Shot));
    events
}

/// A whole tick: every phase, in order.
pub fn step_players(rows: &mut [PlayerMut<'_>], ctx: &mut TickContext<'_>) -> Vec<SimEvent> {
    run_phases(TICK_PHASES, rows, ctx)
}

fn fire(rows: &mut [PlayerMut<'_>], ctx: &TickContext<'_>) -> Vec<Shot> {
    let present: Vec<(PlayerId, Vec2)> = rows
        .iter()
        .filter(|r| r.life.alive())
        .map(|r| (r.id, r.body.pos))
        .collect();
    let mut shots = Vec::new();
    for r in rows.iter_mut() {
        if !try_fire(r.weapon, r.life, &r.input, ctx.tick, ctx.cfg) {
            continue;
        }
        let (targets, mode) = match ctx.seen.get(&r.id) {
            Some(seen) => (seen.clone(), ShotMode::Rewound),
            None => shot_targets(ctx.history, &present, r.input.view, ctx.cfg),
        };
        let (dir, dist, target) = resolve_shot(ctx.map, r.id, r.body.pos, r.weapon.aim, &targets);
        let traced = match mode {
            ShotMode::Rewound | ShotMode::TooOld => {
                targets.iter().map(|(id, p)| (*id, pos2_to_q(*p))).collect()
            }
            ShotMode::Present | ShotMode::Refused => Vec::new(),
        };
        shots.push(Shot {
            shooter: r.id,
            origin: r.body.pos,
            dir,
            dist,
            target,
            mode,
            view: r.input.view,
            traced,
        });
    }
    shots
}

/// Applies one shot's hit; the kill event, if it killed.
fn hit(rows: &mut [PlayerMut<'_>], shot: &Shot, ctx: &TickContext<'_>) -> Option<SimEvent> {
    let victim = shot.target?;
    let v = row(rows, victim)?;
    if !apply_hit(v.life, v.score, ctx.tick, ctx.cfg) {
        return None;
    }
    if let Some(k) = row(rows, shot.shooter) {
        k.score.kills = k.score.kills.saturating_add(1);
    }
    Some(SimEvent::Kill {
        killer: shot.shooter,
        victim,
    })
}

fn respawn(rows: &mut [PlayerMut<'_>], ctx: &TickContext<'_>, events: &mut Vec<SimEvent>) {
    for i in 0..rows.len() {
        if rows[i].life.respawn_at.is_none_or(|at| at.is_after(ctx.tick)) {
            continue;
        }
        let spawn = choose_spawn(ctx.map, &alive_positions(rows), rows[i].id, ctx.cfg.rules);
        let r = &mut rows[i];
        if respawn_if_due(r.body, r.life, ctx.tick, spawn) {
            events.push(SimEvent::Respawn(r.id));
        }
    }
}

fn row<'r, 'a>(rows: &'r mut [PlayerMut<'a>], id: PlayerId) -> Option<&'r mut PlayerMut<'a>> {
    let at = rows.binary_search_by_key(&id, |r| r.id).ok()?;
    rows.get_mut(at)
}

fn alive_positions(rows: &[PlayerMut<'_>]) -> Vec<Vec2> {
    rows.iter()
        .filter(|r| r.life.alive())
        .map(|r| r.body.pos)
        .collect()
}

/// A new player at the spawn farthest from everyone alive (`alive` in id order): the one rule
/// for joins, used by the server and by `World::add_player` (replays).
pub fn spawn_player(map: &Map, id: PlayerId, alive: &[Vec2], rules: u32) -> PlayerState {
    PlayerState {
        id,
        body: Body {
            pos: choose_spawn(map, alive, id, rules),
            vel: Vec2::ZERO,
        },
        ..PlayerState::default()
    }
}
