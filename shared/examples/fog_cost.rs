//! The fog's work for snapshot ticks with every player a viewer (what the fog bench measures) as
//! a plain program, for instruction counts that do not depend on the machine's load:
//! `valgrind --tool=callgrind target/release/examples/fog_cost 256 6` (players, ticks judged,
//! after 300 ticks of wandering from the warehouse's spawn points).

use rewind_shared::Vec2;
use rewind_shared::fog::{FogMargins, SightTable, may_see_around};
use rewind_shared::map::Map;
use std::time::Duration;

#[path = "../benches/support/wander.rs"]
mod wander;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, d: u16| args.get(i).and_then(|a| a.parse::<u16>().ok()).unwrap_or(d);
    let (players, ticks) = (num(0, 256).max(2), num(1, 3).max(1));
    let Some(map) = Map::builtin("warehouse") else {
        std::process::exit(2);
    };
    let mut world = wander::spawned(&map, players);
    let margins = FogMargins::new(Duration::from_millis(100), Duration::from_micros(16_667));
    let mut visible = 0usize;
    for t in 0..300u32 + u32::from(ticks) {
        wander::wander(&mut world, &map, t);
        if t < 300 {
            continue;
        }
        let pos: Vec<Vec2> = world.players.iter().map(|p| p.body.pos).collect();
        let sight = SightTable::new(&map, &pos);
        for (i, v) in pos.iter().enumerate() {
            for (j, t) in pos.iter().enumerate() {
                if i != j && (sight.clear(i, j) || may_see_around(&map, *v, *t, margins)) {
                    visible += 1;
                }
            }
        }
    }
    println!("{players} players, {ticks} ticks: {visible} visible pairs");
}
