//! The fog's test scene, one copy for the fog bench and `examples/fog_cost.rs` (each includes this
//! file by path): players placed at the warehouse's spawn points, then walking in slowly turning
//! directions, each its own, so they spread over the map the way a match does.

use rewind_shared::input::Input;
use rewind_shared::map::Map;
use rewind_shared::player::PlayerId;
use rewind_shared::sim::{SimConfig, World};
use std::collections::BTreeMap;

/// `players` players at their spawn points, tick 0.
pub fn spawned(map: &Map, players: u16) -> World {
    let mut world = World::new(SimConfig::new(60, true, 400), rewind_shared::tick::Tick(0));
    for i in 0..players {
        world.add_player(map, PlayerId(i));
    }
    world
}

/// Tick `t` of the walk.
pub fn wander(world: &mut World, map: &Map, t: u32) {
    let inputs: BTreeMap<PlayerId, Input> = world
        .players
        .iter()
        .map(|p| {
            let a = f32::from(p.id.0) * 0.7 + t as f32 * 0.01;
            let mv = [(a.cos() * 127.0) as i8, (a.sin() * 127.0) as i8];
            (
                p.id,
                Input {
                    mv,
                    ..Input::default()
                },
            )
        })
        .collect();
    world.step(map, &inputs);
}
