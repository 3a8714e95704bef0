//! Prediction of the local player and reconciliation with the server.
//!
//! The local player moves at once, with exactly the simulation the server runs (the phases of
//! `sim::TICK_PHASES` that depend only on its own input, through the same `run_phases`), so in a
//! clean network the server's state always equals the prediction and nothing is corrected. Each
//! snapshot carries the server's state of our player at the snapshot tick; we compare it with
//! what we predicted for that tick, and if it differs we start again from the server's state and
//! replay the inputs the server has not simulated yet. The jump between the old and the new
//! prediction is not shown at once: it becomes a visual offset decaying over ~100 ms.

use rewind_shared::Vec2;
use rewind_shared::input::{Input, ShotView};
use rewind_shared::lagcomp::History;
use rewind_shared::map::Map;
use rewind_shared::player::PlayerId;
use rewind_shared::player::PlayerState;
use rewind_shared::sim::{
    PlayerMut, SeenTargets, Shot, SimConfig, SimEvent, TICK_PHASES, TickContext, run_phases,
};
use rewind_shared::tick::Tick;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

/// Time constant of the visual error decay.
pub const SMOOTH_TAU: Duration = Duration::from_millis(100);
/// Corrections larger than this (world units) are teleports: shown at once, not smoothed.
pub const SNAP_DISTANCE: f32 = 96.0;
/// Most inputs kept for replay (2 s at 128 Hz); older ones can no longer be reconciled anyway.
const MAX_PENDING: usize = 256;

/// One predicted tick, kept until the server has simulated that tick.
#[derive(Clone, Copy, Debug)]
struct Pending {
    tick: Tick,
    input: Input,
    after: PlayerState,
}

/// What one predicted tick produced.
#[derive(Clone, Debug, PartialEq)]
pub struct StepResult {
    /// The input as it must be sent (with the shot view when the weapon fired).
    pub input: Input,
    /// The shot, when the weapon fired: traced by the shared `Fire` phase from where the server
    /// traces (after this tick's move, before the grid snap) against the targets as drawn.
    pub shot: Option<Shot>,
}

/// What reconciling one snapshot did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reconciled {
    /// The snapshot was older than one already reconciled: ignored.
    Stale,
    /// The server agreed with the prediction.
    Agreed,
    /// The server disagreed on where we are: prediction moved (a correction).
    Corrected,
    /// Death, respawn or no prediction for that tick: state replaced, not a correction.
    Reset,
}

/// The local player's predicted state and the inputs not yet confirmed.
#[derive(Clone, Debug)]
pub struct Predictor {
    cfg: SimConfig,
    map: Arc<Map>,
    state: PlayerState,
    prev_pos: Vec2,
    pending: VecDeque<Pending>,
    last_server_tick: Option<Tick>,
    /// False until the first server state arrives: what we predicted from before it was a guess.
    synced: bool,
    offset: Vec2,
    offset_at: Duration,
    corrections: u64,
    resets: u64,
}

impl Predictor {
    /// Starts from a known state (the player as the server first describes it).
    pub fn new(cfg: SimConfig, map: Arc<Map>, state: PlayerState) -> Predictor {
        Predictor {
            cfg,
            map,
            prev_pos: state.body.pos,
            state,
            pending: VecDeque::new(),
            last_server_tick: None,
            synced: false,
            offset: Vec2::ZERO,
            offset_at: Duration::ZERO,
            corrections: 0,
            resets: 0,
        }
    }

    /// The predicted state after the newest input.
    pub fn state(&self) -> &PlayerState {
        &self.state
    }

    /// Whether the first server state arrived (before it, the prediction is a guess).
    pub fn synced(&self) -> bool {
        self.synced
    }

    /// Reconciliations that moved the local player.
    pub fn corrections(&self) -> u64 {
        self.corrections
    }

    /// State replacements that were not corrections (death, respawn, first state).
    pub fn resets(&self) -> u64 {
        self.resets
    }

    /// Inputs predicted but not yet simulated by the server (as far as we know).
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Predicts one tick. `view` is attached to the input only if the weapon fires; a shot is
    /// judged against `drawn`, the targets as that view showed them.
    pub fn step(
        &mut self,
        tick: Tick,
        mut input: Input,
        view: Option<ShotView>,
        drawn: &[(PlayerId, Vec2)],
    ) -> StepResult {
        self.prev_pos = self.state.body.pos;
        let shot = simulate(&mut self.state, &input, tick, &self.map, &self.cfg, Some(drawn));
        input.view = if shot.is_some() { view } else { None };
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
        }
        self.pending.push_back(Pending {
            tick,
            input,
            after: self.state,
        });
        StepResult { input, shot }
    }

    /// Reconciles with the server's state of our player at the end of `server_tick`.
    pub fn reconcile(&mut self, server_tick: Tick, server: &PlayerState, now: Duration) -> Reconciled {
        if let Some(last) = self.last_server_tick
            && !server_tick.is_after(last)
        {
            return Reconciled::Stale;
        }
        self.last_server_tick = Some(server_tick);
        while self.pending.front().is_some_and(|p| server_tick.is_after(p.tick)) {
            self.pending.pop_front();
        }
        let predicted = match self.pending.front() {
            Some(p) if p.tick == server_tick => self.pending.pop_front().map(|p| p.after),
            _ => None,
        };
        let first = !std::mem::replace(&mut self.synced, true);
        let outcome = match predicted {
            _ if first => Reconciled::Reset,
            Some(p) if p.life.alive() != server.life.alive() => Reconciled::Reset,
            Some(p) if p.body == server.body && p.weapon == server.weapon => {
                // Health, score and respawn time are the server's business: take them.
                self.adopt_non_body(server);
                return Reconciled::Agreed;
            }
            Some(p) if p.body == server.body => Reconciled::Agreed,
            Some(_) => Reconciled::Corrected,
            None => Reconciled::Reset,
        };
        let shown_before = self.state.body.pos;
        self.state = *server;
        for p in self.pending.iter_mut() {
            simulate(&mut self.state, &p.input, p.tick, &self.map, &self.cfg, None);
            p.after = self.state;
        }
        let shift = shown_before - self.state.body.pos;
        self.prev_pos += -shift;
        match outcome {
            Reconciled::Corrected => {
                self.corrections += 1;
                let current = self.offset_now(now);
                let total = current + shift;
                self.offset = if total.length() > SNAP_DISTANCE {
                    Vec2::ZERO
                } else {
                    total
                };
                self.offset_at = now;
            }
            Reconciled::Reset => {
                self.resets += 1;
                self.offset = Vec2::ZERO;
            }
            Reconciled::Agreed | Reconciled::Stale => {}
        }
        outcome
    }

    fn adopt_non_body(&mut self, server: &PlayerState) {
        self.state.life = server.life;
        self.state.score = server.score;
    }

    /// The visual error still to hide at `now`.
    pub fn offset_now(&self, now: Duration) -> Vec2 {
        let age = now.saturating_sub(self.offset_at).as_secs_f32();
        self.offset * (-age / SMOOTH_TAU.as_secs_f32()).exp()
    }

    /// Where to draw the local player: between the last two predicted ticks at `frac` of the
    /// current tick, plus the decaying correction offset.
    pub fn render_pos(&self, frac: f32, now: Duration) -> Vec2 {
        self.prev_pos.lerp(self.state.body.pos, frac.clamp(0.0, 1.0)) + self.offset_now(now)
    }
}

/// One tick of the local player: the phases of the shared composition a client predicts
/// (`Phase::predicted`), run by the same `run_phases` the server and replays use. Returns the
/// shot if the weapon fired, traced against `drawn` (none: nothing to hit).
fn simulate(
    state: &mut PlayerState,
    input: &Input,
    tick: Tick,
    map: &Map,
    cfg: &SimConfig,
    drawn: Option<&[(PlayerId, Vec2)]>,
) -> Option<Shot> {
    // The predictor keeps no history: a shot is traced against what was drawn.
    let mut history = History::new(2);
    let seen = SeenTargets::from([(state.id, drawn.unwrap_or_default().to_vec())]);
    let mut ctx = TickContext {
        tick,
        cfg,
        map,
        history: &mut history,
        seen: &seen,
    };
    let mut rows = [PlayerMut::of(state, *input)];
    let predicted = TICK_PHASES.into_iter().filter(|p| p.predicted());
    run_phases(predicted, &mut rows, &mut ctx)
        .into_iter()
        .find_map(|e| match e {
            SimEvent::Shot(shot) => Some(shot),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn predictor() -> Predictor {
        let map = Arc::new(Map::builtin("arena").expect("built-in map"));
        let mut me = PlayerState {
            id: PlayerId(1),
            ..PlayerState::default()
        };
        me.body.pos = Vec2::new(80.0, 56.0);
        Predictor::new(SimConfig::new(60, true, 400), map, me)
    }

    /// The server moves our player (as a knock-back would): one correction, and the drawn
    /// position glides from where it was instead of snapping.
    #[test]
    fn server_side_teleport_is_one_smoothed_correction() {
        let mut p = predictor();
        let idle = Input::default();
        let mut server = *p.state();
        let ms = Duration::from_millis;
        for t in 1..=10u32 {
            p.step(Tick(t), idle, None, &[]);
        }
        assert_eq!(
            p.reconcile(Tick(5), &server, ms(100)),
            Reconciled::Reset,
            "first state"
        );
        server.body.pos += Vec2::new(8.0, 0.0);
        let before = p.render_pos(1.0, ms(200));
        assert_eq!(p.reconcile(Tick(6), &server, ms(200)), Reconciled::Corrected);
        assert_eq!(p.corrections(), 1);
        assert_eq!(p.state().body.pos, server.body.pos, "idle inputs replayed on top");
        let shown = p.render_pos(1.0, ms(200));
        assert!((shown - before).length() < 0.01, "no snap: {shown} vs {before}");
        let later = p.render_pos(1.0, ms(200) + SMOOTH_TAU * 5);
        assert!(
            (later - server.body.pos).length() < 0.1,
            "glides to the server's: {later}"
        );
        assert_eq!(p.reconcile(Tick(7), &server, ms(220)), Reconciled::Agreed);
    }
}
