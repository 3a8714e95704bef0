use rewind_shared::Vec2;
use rewind_shared::fog::{FogMargins, may_see};
use rewind_shared::input::Input;
use rewind_shared::map::Map;
use rewind_shared::player::PlayerId;
use rewind_shared::sight_grid::{SightGrid, TileBox};
use rewind_shared::sim::{SimConfig, World};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
include!("/tmp/pos.rs");
fn main() {
    let map = Map::builtin("warehouse").unwrap();
    let pos = positions(&map, 256);
    let mut grid = SightGrid::new(&map);
    for ms in [100, 100, 300] {
        let margins = FogMargins::new(Duration::from_millis(ms), Duration::from_micros(16667));
        let (mut centre, mut proven, mut rest_hidden, mut rest_vis) = (0, 0, 0, 0);
        let t0 = Instant::now();
        for (i, v) in pos.iter().enumerate() { for (j, t) in pos.iter().enumerate() { if i != j { let _ = grid.line_of_sight(&map, *v, *t); } } }
        let t1 = Instant::now();
        for (i, v) in pos.iter().enumerate() {
            for (j, t) in pos.iter().enumerate() {
                if i == j { continue; }
                if map.line_of_sight(*v, *t) { centre += 1; continue; }
                if grid.boxes_walled(TileBox::around(*v, margins.viewer), TileBox::around(*t, margins.target)) { proven += 1; continue; }
                if may_see(&map, *v, *t, margins) { rest_vis += 1 } else { rest_hidden += 1 }
            }
        }
        let t2 = Instant::now();
        let mut x = 0;
        for (i, v) in pos.iter().enumerate() { for (j, t) in pos.iter().enumerate() { if i != j && grid.boxes_walled(TileBox::around(*v, margins.viewer), TileBox::around(*t, margins.target)) { x += 1; } } }
        let t3 = Instant::now();
        println!("{ms}ms: centre-clear {centre}, boxes walled {proven}, rest visible {rest_vis}, rest hidden {rest_hidden}; centre table {:?}, boxes_walled all pairs {:?} ({x})", t1 - t0, t3 - t2);
    }
}
