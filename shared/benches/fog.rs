//! The fog of war's cost per snapshot tick: every viewer against every other player, 64 and 256
//! players spread over the warehouse map (its spawn points, then 300 ticks of wandering), at the
//! margins of a 100 ms and of a 300 ms view age: the shared centre-to-centre table, then each
//! viewer's walled-off pairs. The server runs this for every client every tick up to 64 × 64
//! pairs, and spreads it over several ticks beyond (`server/src/core/fog.rs`, `FogCache`), so at
//! 256 players a tick pays about a sixteenth of the 256-player figure.

use criterion::{Criterion, criterion_group, criterion_main};
use rewind_shared::Vec2;
use rewind_shared::fog::{FogMargins, SightTable, may_see, may_see_around};
use rewind_shared::map::Map;
use std::hint::black_box;
use std::time::Duration;

#[path = "support/wander.rs"]
mod wander;

fn positions(map: &Map, players: u16) -> Vec<Vec2> {
    let mut world = wander::spawned(map, players);
    for t in 0..300u32 {
        wander::wander(&mut world, map, t);
    }
    world.players.iter().map(|p| p.body.pos).collect()
}

fn bench(c: &mut Criterion) {
    let map = Map::builtin("warehouse").expect("built-in map");
    let interval = Duration::from_micros(16_667);
    let mut group = c.benchmark_group("fog");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for players in [64u16, 256] {
        let pos = positions(&map, players);
        for ms in [100u64, 300] {
            let margins = FogMargins::new(Duration::from_millis(ms), interval);
            let visible = pos
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    pos.iter()
                        .enumerate()
                        .filter(|(j, t)| i != *j && may_see(&map, *v, **t, margins))
                        .count()
                })
                .sum::<usize>();
            println!(
                "{players} players, {ms} ms view age: {visible} of {} pairs may see each other",
                pos.len() * (pos.len() - 1)
            );
            group.bench_function(format!("all_viewers_{players}_players_{ms}ms"), |b| {
                b.iter(|| {
                    let sight = SightTable::new(black_box(&map), &pos);
                    let mut n = 0usize;
                    for (i, v) in pos.iter().enumerate() {
                        for (j, t) in pos.iter().enumerate() {
                            if i != j && (sight.clear(i, j) || may_see_around(&map, *v, *t, margins)) {
                                n += 1;
                            }
                        }
                    }
                    black_box(n)
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
