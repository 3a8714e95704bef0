//! The simulation systems, one per phase of a tick, each a thin call into `rewind_shared::sim`.
//! Their order (see `sim_schedule`) is the story of a tick and matches `World::step` exactly, so
//! the server, client prediction and replays compute the same bits (a test holds them together).
//! Systems whose outcome depends on order visit players sorted by id, never in archetype order.

use super::components::*;
use bevy_ecs::prelude::*;
use rewind_shared::Vec2;
use rewind_shared::player::PlayerId;
use rewind_shared::sim::{self, Shot, SimEvent};

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

/// Movement: independent per player, so any visiting order gives the same result.
pub fn simulate_movement(
    clock: Res<SimClock>,
    map: Res<MapRes>,
    mut q: Query<(&mut BodyC, &LifeC, &mut WeaponC, &CurrentInput)>,
) {
    let dt = clock.cfg.dt();
    for (mut body, life, mut weapon, input) in &mut q {
        sim::move_player(&mut body.0, &life.0, &mut weapon.0, &input.0, &map.0, dt);
    }
}

/// Triggers and ray traces, after all movement so every shot sees the same present; targets come
/// from the history (the shooter's view) when lag compensation is on.
pub fn fire_weapons(
    clock: Res<SimClock>,
    map: Res<MapRes>,
    history: Res<HistoryRes>,
    mut events: ResMut<FrameEvents>,
    mut q: Query<(&PlayerTag, &BodyC, &LifeC, &mut WeaponC, &CurrentInput)>,
) {
    let mut rows: Vec<_> = q.iter_mut().collect();
    rows.sort_by_key(|r| r.0.0);
    let present: Vec<(PlayerId, Vec2)> = rows
        .iter()
        .filter(|r| r.2.0.alive())
        .map(|r| (r.0.0, r.1.0.pos))
        .collect();
    for (tag, body, life, weapon, input) in &mut rows {
        if sim::try_fire(&mut weapon.0, &life.0, &input.0, clock.tick, &clock.cfg) {
            let (targets, mode) = sim::shot_targets(&history.0, &present, input.0.view, &clock.cfg);
            let (dir, dist, target) = sim::resolve_shot(&map.0, tag.0, body.0.pos, weapon.0.aim, &targets);
            events.0.push(SimEvent::Shot(Shot {
                shooter: tag.0,
                origin: body.0.pos,
                dir,
                dist,
                target,
                mode,
                view: input.0.view,
            }));
        }
    }
}

/// Damage, deaths and kill credit, in the order the shots were fired; each kill event follows
/// the shot that caused it, as in `World::step`.
pub fn apply_hits(
    clock: Res<SimClock>,
    mut events: ResMut<FrameEvents>,
    mut q: Query<(&PlayerTag, &mut LifeC, &mut ScoreC)>,
) {
    let fired = std::mem::take(&mut events.0);
    for e in fired {
        events.0.push(e);
        let SimEvent::Shot(shot) = e else { continue };
        let Some(victim) = shot.target else { continue };
        let killed = q
            .iter_mut()
            .find(|(t, _, _)| t.0 == victim)
            .is_some_and(|(_, mut life, mut score)| {
                sim::apply_hit(&mut life.0, &mut score.0, clock.tick, &clock.cfg)
            });
        if killed {
            if let Some((_, _, mut score)) = q.iter_mut().find(|(t, _, _)| t.0 == shot.shooter) {
                score.0.kills = score.0.kills.saturating_add(1);
            }
            events.0.push(SimEvent::Kill {
                killer: shot.shooter,
                victim,
            });
        }
    }
}

/// Dead players whose time has come respawn, in id order, each at the spawn point farthest from
/// everyone alive at that moment (including players respawned just before).
pub fn respawn_players(
    clock: Res<SimClock>,
    map: Res<MapRes>,
    mut events: ResMut<FrameEvents>,
    mut q: Query<(&PlayerTag, &mut BodyC, &mut LifeC)>,
) {
    let mut ids: Vec<PlayerId> = q
        .iter()
        .filter(|(_, _, l)| l.0.respawn_at.is_some_and(|at| !at.is_after(clock.tick)))
        .map(|(t, _, _)| t.0)
        .collect();
    ids.sort();
    for id in ids {
        let mut alive: Vec<(PlayerId, Vec2)> = q
            .iter()
            .filter(|(_, _, l)| l.0.alive())
            .map(|(t, b, _)| (t.0, b.0.pos))
            .collect();
        alive.sort_by_key(|a| a.0);
        let alive: Vec<Vec2> = alive.into_iter().map(|a| a.1).collect();
        let spawn = sim::choose_spawn(&map.0, &alive);
        if let Some((_, mut body, mut life)) = q.iter_mut().find(|(t, _, _)| t.0 == id)
            && sim::respawn_if_due(&mut body.0, &mut life.0, clock.tick, spawn)
        {
            events.0.push(SimEvent::Respawn(id));
        }
    }
}

/// Snaps every body onto the network grid so all sides start the next tick from the same bits.
pub fn quantize_bodies(mut q: Query<&mut BodyC>) {
    for mut body in &mut q {
        sim::quantize(&mut body.0);
    }
}

/// Records this tick's hitboxes (exactly what snapshots will carry) for lag compensation.
pub fn record_history(
    clock: Res<SimClock>,
    mut history: ResMut<HistoryRes>,
    q: Query<(&PlayerTag, &BodyC, &LifeC)>,
) {
    let mut samples: Vec<_> = q.iter().map(|(t, b, l)| sim::hitbox(t.0, &b.0, &l.0)).collect();
    samples.sort_by_key(|s| s.id);
    history.0.record(clock.tick, samples);
}

/// The simulation systems in tick order.
pub fn sim_schedule() -> Schedule {
    let mut schedule = Schedule::default();
    schedule.add_systems(
        (
            begin_tick,
            apply_inputs,
            simulate_movement,
            fire_weapons,
            apply_hits,
            respawn_players,
            quantize_bodies,
            record_history,
        )
            .chain(),
    );
    schedule
}
