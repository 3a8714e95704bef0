//! The simulation systems: start the tick, hand out inputs, then run the shared composition of a
//! tick (`rewind_shared::sim::TICK_PHASES`) over the players' components. The rules and their
//! order live in `rewind_shared::sim` alone, so the server, client prediction and replays
//! compute the same bits by construction (a test still runs them side by side).

use super::components::*;
use bevy_ecs::prelude::*;
use rewind_shared::sim::{self, PlayerMut, TickContext};

/// Starts a tick: the clock moves to the tick being simulated and last tick's events are cleared.
pub fn begin_tick(mut clock: ResMut<SimClock>, mut events: ResMut<FrameEvents>) {
    clock.tick = clock.tick.next();
    events.0.clear();
}

/// Hands each player the input chosen for this tick (none: a neutral input).
pub fn apply_inputs(inputs: Res<FrameInputs>, mut q: Query<(&PlayerTag, &mut CurrentInput)>) {
    for (tag, mut cur) in &mut q {
        cur.0 = inputs.0.get(&tag.0).copied().unwrap_or_default();
    }
}

/// The whole rule set of a tick, through the one composition every runner shares
/// (`sim::step_players`): players are borrowed from their components as rows in id order, so
/// archetype order never matters.
pub fn simulate_tick(
    clock: Res<SimClock>,
    map: Res<MapRes>,
    seen: Res<FrameSeen>,
    mut history: ResMut<HistoryRes>,
    mut events: ResMut<FrameEvents>,
    mut q: Query<(
        &PlayerTag,
        &mut BodyC,
        &mut LifeC,
        &mut WeaponC,
        &mut ScoreC,
        &CurrentInput,
    )>,
) {
    let mut rows: Vec<PlayerMut<'_>> = q
        .iter_mut()
        .map(|(tag, body, life, weapon, score, input)| PlayerMut {
            id: tag.0,
            body: &mut body.into_inner().0,
            life: &mut life.into_inner().0,
            weapon: &mut weapon.into_inner().0,
            score: &mut score.into_inner().0,
            input: input.0,
        })
        .collect();
    rows.sort_by_key(|r| r.id);
    let cfg = clock.cfg;
    let mut ctx = TickContext {
        tick: clock.tick,
        cfg: &cfg,
        map: &map.0,
        history: &mut history.0,
        seen: &seen.0,
    };
    events.0 = sim::step_players(&mut rows, &mut ctx);
}

/// The simulation systems in tick order.
pub fn sim_schedule() -> Schedule {
    let mut schedule = Schedule::default();
    schedule.add_systems((begin_tick, apply_inputs, simulate_tick).chain());
    schedule
}
