//! Build time of the fog's tile table (`rewind_shared::tile_sight`) for a built-in map, and how
//! it judges against the exact ray rule: `cargo run --release -p rewind-shared --example
//! tile_sight_cost [MAP] [THREADS]`. Players at the warehouse's spawn points, then wandering (the
//! fog bench's scene); for each viewer × player pair, whether each rule shows it.

#[path = "../benches/support/wander.rs"]
mod wander;

use rewind_shared::fog::{FogMargins, may_see, reach, wide_reach};
use rewind_shared::map::Map;
use rewind_shared::tile_sight::{SeenTiles, TileSight};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map_or("warehouse", String::as_str);
    let threads = args.get(2).and_then(|t| t.parse().ok()).unwrap_or(1);
    let Some(map) = Map::builtin(name) else {
        eprintln!("no built-in map {name}");
        std::process::exit(2);
    };
    let started = Instant::now();
    let Some(table) = TileSight::new(&map, threads) else {
        eprintln!("{name} has too many floor tiles for the table");
        std::process::exit(2);
    };
    println!(
        "{name}: table built in {:.3} s with {threads} thread(s)",
        started.elapsed().as_secs_f64()
    );
    let mut world = wander::spawned(&map, 256);
    let (mut both, mut rays_only, mut tiles_only, mut neither) = (0u64, 0u64, 0u64, 0u64);
    let mut seen = SeenTiles::default();
    for t in 0..1200u32 {
        wander::wander(&mut world, &map, t);
        if t % 100 != 99 {
            continue;
        }
        let pos: Vec<_> = world.players.iter().map(|p| p.body.pos).collect();
        for ms in [100u64, 300] {
            let m = FogMargins::new(Duration::from_millis(ms), Duration::from_micros(33_333));
            for (i, v) in pos.iter().enumerate() {
                table.seen_from(&wide_reach(*v, m.viewer), &mut seen);
                for (j, p) in pos.iter().enumerate() {
                    if i == j {
                        continue;
                    }
                    let by_rays = may_see(&map, *v, *p, m);
                    let by_tiles = map.line_of_sight(*v, *p) || table.any_seen(&seen, &reach(*p, m.target));
                    match (by_rays, by_tiles) {
                        (true, true) => both += 1,
                        (true, false) => rays_only += 1,
                        (false, true) => tiles_only += 1,
                        (false, false) => neither += 1,
                    }
                }
            }
        }
    }
    let total = (both + rays_only + tiles_only + neither) as f64;
    println!(
        "pairs {total}: shown by both {:.2} %, hidden by both {:.2} %, shown by the rays only {:.4} % ({rays_only}), by the tiles only {:.2} %",
        100.0 * both as f64 / total,
        100.0 * neither as f64 / total,
        100.0 * rays_only as f64 / total,
        100.0 * tiles_only as f64 / total
    );
}
