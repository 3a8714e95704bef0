//! The server's rewind reproduces, bit for bit, the hitboxes the client drew for a view.

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rewind_client::interpolation::SnapshotStore;
use rewind_shared::input::{BUTTON_FIRE, Input, ShotView};
use rewind_shared::map::Map;
use rewind_shared::player::PlayerId;
use rewind_shared::sim::{ShotMode, SimConfig, World, shot_targets};
use rewind_shared::snapshot::{EntitySet, EntityState};
use rewind_shared::tick::Tick;
use std::collections::BTreeMap;

#[test]
fn server_rewind_equals_client_interpolation_bit_for_bit() {
    let map = Map::builtin("arena").expect("arena");
    let cfg = SimConfig::new(60, true, 400);
    let mut world = World::new(cfg, Tick(0));
    for i in 0..8 {
        world.add_player(&map, PlayerId(i));
    }
    let mut store = SnapshotStore::default();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut compared = 0;
    for _ in 0..2_000 {
        let inputs: BTreeMap<PlayerId, Input> = world
            .players
            .iter()
            .map(|p| {
                let input = Input {
                    mv: [rng.random(), rng.random()],
                    aim: [rng.random(), rng.random()],
                    buttons: if rng.random_bool(0.3) { BUTTON_FIRE } else { 0 },
                    view: None,
                };
                (p.id, input)
            })
            .collect();
        world.step(&map, &inputs);
        // What the client receives: the quantized entity set of this tick.
        let set: EntitySet = world
            .players
            .iter()
            .map(|p| (p.id, EntityState::from_player(p)))
            .collect();
        store.insert(world.tick, set);
        // A view a few ticks back, as a client at some latency would draw it.
        let back = rng.random_range(2..20);
        let view = ShotView {
            tick_a: world.tick.offset(-back),
            tick_b: world.tick.offset(-back + 1),
            alpha: rng.random(),
        };
        let Some(client) = store.hitboxes_at(view) else {
            continue;
        };
        let (server, mode) = shot_targets(&world.history, &[], Some(view), &cfg);
        assert_eq!(mode, ShotMode::Rewound);
        assert_eq!(client.len(), server.len());
        for ((cid, cp), (sid, sp)) in client.iter().zip(&server) {
            assert_eq!(cid, sid);
            assert_eq!(cp.x.to_bits(), sp.x.to_bits(), "x of {cid} at {view:?}");
            assert_eq!(cp.y.to_bits(), sp.y.to_bits(), "y of {cid} at {view:?}");
        }
        compared += 1;
    }
    assert!(compared > 1_900, "{compared} views compared");
}
