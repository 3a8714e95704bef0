//! The authoritative simulation as a `bevy_ecs` world: players are entities, the phases of a tick
//! are systems (see `systems`), and `SimCore` is the small API the tick loop drives.

pub mod components;
pub mod systems;

use bevy_ecs::prelude::*;
use components::*;
use rewind_shared::input::Input;
use rewind_shared::lagcomp::History;
use rewind_shared::map::Map;
use rewind_shared::player::{PlayerId, PlayerState};
use rewind_shared::sim::{self, SeenTargets, SimConfig, SimEvent, World as SimWorld};
use rewind_shared::tick::Tick;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The ECS world plus its schedule.
pub struct SimCore {
    /// The ECS world (public so the server's network systems can add resources and queries).
    pub world: World,
    schedule: Schedule,
}

impl SimCore {
    /// An empty match whose first step simulates `start.next()`.
    pub fn new(cfg: SimConfig, map: Arc<Map>, start: Tick) -> SimCore {
        let mut world = World::new();
        world.insert_resource(SimClock { tick: start, cfg });
        world.insert_resource(MapRes(map));
        world.insert_resource(HistoryRes(History::new(cfg.history_len())));
        world.insert_resource(FrameInputs::default());
        world.insert_resource(FrameSeen::default());
        world.insert_resource(FrameEvents::default());
        SimCore {
            world,
            schedule: systems::sim_schedule(),
        }
    }

    /// Last completed tick.
    pub fn tick(&self) -> Tick {
        self.world.resource::<SimClock>().tick
    }

    /// Shared settings.
    pub fn cfg(&self) -> SimConfig {
        self.world.resource::<SimClock>().cfg
    }

    /// The map.
    pub fn map(&self) -> Arc<Map> {
        self.world.resource::<MapRes>().0.clone()
    }

    /// Adds a player at the spawn farthest from everyone alive (the shared join rule).
    pub fn add_player(&mut self, id: PlayerId, owner: Owner) -> Entity {
        self.remove_player(id);
        let alive: Vec<_> = self
            .players()
            .into_iter()
            .filter(|p| p.life.alive())
            .map(|p| p.body.pos)
            .collect();
        let state = sim::spawn_player(&self.map(), id, &alive, self.cfg().rules);
        self.world
            .spawn((
                PlayerTag(id),
                BodyC(state.body),
                LifeC(state.life),
                WeaponC(state.weapon),
                ScoreC(state.score),
                CurrentInput::default(),
                owner,
            ))
            .id()
    }

    /// Removes a player (no-op if absent).
    pub fn remove_player(&mut self, id: PlayerId) {
        let found: Vec<Entity> = self
            .world
            .query::<(Entity, &PlayerTag)>()
            .iter(&self.world)
            .filter(|(_, t)| t.0 == id)
            .map(|(e, _)| e)
            .collect();
        for e in found {
            self.world.despawn(e);
        }
    }

    /// Simulates the next tick with these inputs and returns what happened.
    pub fn step(&mut self, inputs: BTreeMap<PlayerId, Input>) -> Vec<SimEvent> {
        self.step_seen(inputs, SeenTargets::new())
    }

    /// `step`, with the targets some shooters had in view (see `TickContext::seen`).
    pub fn step_seen(&mut self, inputs: BTreeMap<PlayerId, Input>, seen: SeenTargets) -> Vec<SimEvent> {
        self.world.resource_mut::<FrameSeen>().0 = seen;
        self.world.resource_mut::<FrameInputs>().0 = inputs;
        self.schedule.run(&mut self.world);
        self.world.resource::<FrameEvents>().0.clone()
    }

    /// Every player, in id order.
    pub fn players(&mut self) -> Vec<PlayerState> {
        let mut out: Vec<PlayerState> = self
            .world
            .query::<(&PlayerTag, &BodyC, &LifeC, &WeaponC, &ScoreC)>()
            .iter(&self.world)
            .map(|(t, b, l, w, s)| PlayerState {
                id: t.0,
                body: b.0,
                life: l.0,
                weapon: w.0,
                score: s.0,
            })
            .collect();
        out.sort_by_key(|p| p.id);
        out
    }

    /// Every player's owner, in id order (to carry the players into a new match).
    pub fn owners(&mut self) -> Vec<(PlayerId, Owner)> {
        let mut out: Vec<(PlayerId, Owner)> = self
            .world
            .query::<(&PlayerTag, &Owner)>()
            .iter(&self.world)
            .map(|(t, o)| (t.0, *o))
            .collect();
        out.sort_by_key(|(id, _)| *id);
        out
    }

    /// Lag-compensation history.
    pub fn history(&self) -> &History {
        &self.world.resource::<HistoryRes>().0
    }

    /// The state as a shared `World` (replay keyframes, tests).
    pub fn to_sim_world(&mut self) -> SimWorld {
        SimWorld {
            tick: self.tick(),
            players: self.players(),
            history: self.history().clone(),
            cfg: self.cfg(),
        }
    }

    /// Same hash as `World::hash` for the same state.
    pub fn hash(&mut self) -> u64 {
        let tick = self.tick();
        sim::state_hash(tick, &self.players())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::ChaCha8Rng;
    use rand::{RngExt, SeedableRng};
    use rewind_shared::input::{BUTTON_FIRE, ShotView};

    /// The ECS server and the shared `World::step` (client prediction, replays) must agree bit
    /// for bit, with joins, leaves, shots, kills and respawns.
    #[test]
    fn ecs_schedule_matches_shared_world_step() {
        let map = Arc::new(Map::builtin("arena").unwrap());
        let cfg = SimConfig::new(60, true, 250);
        let mut ecs = SimCore::new(cfg, map.clone(), Tick(100));
        let mut reference = SimWorld::new(cfg, Tick(100));
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut kills = 0;
        for step in 0..6000u32 {
            if step < 8 || step % 500 == 0 {
                let id = PlayerId(if step < 8 {
                    step as u16
                } else {
                    8 + (step / 500) as u16 % 4
                });
                ecs.add_player(id, Owner::Ai);
                reference.add_player(&map, id);
            }
            if step % 1300 == 1299 {
                ecs.remove_player(PlayerId(1));
                reference.remove_player(PlayerId(1));
            }
            let tick = reference.tick;
            let inputs: BTreeMap<PlayerId, Input> = reference
                .players
                .iter()
                .map(|p| {
                    let back = rng.random_range(1..20);
                    let input = Input {
                        mv: [rng.random(), rng.random()],
                        aim: [rng.random(), rng.random()],
                        buttons: if rng.random_bool(0.5) { BUTTON_FIRE } else { 0 },
                        view: Some(ShotView {
                            tick_a: tick.offset(-back),
                            tick_b: tick.offset(1 - back),
                            alpha: rng.random(),
                        }),
                    };
                    (p.id, input)
                })
                .collect();
            let a = ecs.step(inputs.clone());
            let b = reference.step(&map, &inputs);
            assert_eq!(a, b, "events differ at step {step}");
            assert_eq!(ecs.hash(), reference.hash(), "state differs at step {step}");
            kills += b.iter().filter(|e| matches!(e, SimEvent::Kill { .. })).count();
        }
        assert!(
            kills > 10,
            "the run must exercise deaths and respawns ({kills} kills)"
        );
        assert_eq!(ecs.history(), &reference.history);
    }
}
