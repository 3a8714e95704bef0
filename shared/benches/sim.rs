//! `World::step` with 64 players on the warehouse map: the shared simulation a server tick, a
//! client's prediction and a replay all run. Players wander, aim and fire often, every shot with
//! a lag-compensated view a few ticks back, so the measured step includes rewinds and hits.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rewind_shared::Vec2;
use rewind_shared::input::{BUTTON_FIRE, Input, ShotView, aim_from_dir};
use rewind_shared::map::Map;
use rewind_shared::player::PlayerId;
use rewind_shared::sim::{SimConfig, SimEvent, World};
use std::collections::BTreeMap;
use std::hint::black_box;

const PLAYERS: u16 = 64;

/// Inputs for the next tick: each player keeps a heading for a while, aims somewhere, fires
/// about a third of the time, and sees the world 4-8 ticks back (a 50-100 ms round trip).
fn inputs(world: &World, rng: &mut ChaCha8Rng, heading: &mut [Vec2]) -> BTreeMap<PlayerId, Input> {
    let tick = world.tick.next();
    world
        .players
        .iter()
        .map(|p| {
            let h = &mut heading[usize::from(p.id.0)];
            if rng.random_bool(0.02) || p.body.vel.length_squared() < 100.0 {
                *h = Vec2::from_angle(rng.random_range(0.0..std::f32::consts::TAU));
            }
            let back = rng.random_range(4..9);
            let input = Input {
                mv: [(h.x * 127.0) as i8, (h.y * 127.0) as i8],
                aim: aim_from_dir(Vec2::from_angle(rng.random_range(0.0..std::f32::consts::TAU))),
                buttons: if rng.random_bool(0.35) { BUTTON_FIRE } else { 0 },
                view: Some(ShotView {
                    tick_a: tick.offset(-back - 1),
                    tick_b: tick.offset(-back),
                    alpha: rng.random(),
                }),
            };
            (p.id, input)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let map = Map::builtin("warehouse").expect("built-in map");
    let cfg = SimConfig::new(60, true, 400);
    let mut world = World::new(cfg, rewind_shared::tick::Tick(0));
    for i in 0..PLAYERS {
        world.add_player(&map, PlayerId(i));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(64);
    let mut heading = vec![Vec2::X; usize::from(PLAYERS)];
    // Ten seconds in: spread out, fighting, with a full rewind history.
    let (mut shots, mut kills) = (0usize, 0usize);
    for _ in 0..600 {
        let inp = inputs(&world, &mut rng, &mut heading);
        for e in world.step(&map, &inp) {
            shots += usize::from(matches!(e, SimEvent::Shot(_)));
            kills += usize::from(matches!(e, SimEvent::Kill { .. }));
        }
    }
    println!("sim warm-up, 600 ticks with {PLAYERS} players: {shots} shots, {kills} kills");
    // Setup (making inputs) and the measured step both need the world; they never overlap.
    let world = std::cell::RefCell::new(world);
    c.bench_function("world_step_64_players_warehouse", |b| {
        b.iter_batched(
            || inputs(&world.borrow(), &mut rng, &mut heading),
            |inp| black_box(world.borrow_mut().step(&map, &inp)),
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
