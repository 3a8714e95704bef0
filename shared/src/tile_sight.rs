//! Which floor tiles of a map may see which, computed once per map for the fog of war on big
//! servers. The exact fog rule (`fog::may_see_around`) casts up to 45 rays for every viewer ×
//! player pair a wall separates: at 256 players that is tens of thousands of rays per viewer and
//! several milliseconds a tick even when each client's judgement is reused for 16 ticks. The map
//! does not change, so whether two tiles can see each other does not either: with this table a
//! viewer's judgement is a few masked words per player, cheap enough to judge every pair on every
//! snapshot without the widened margins of reuse.
//!
//! Two tiles "see" each other when a straight line joins their centres, or one of their corners
//! (each 1 px inside the tile) to one of the other's: 25 rays at most. A sample point of the fog
//! rule that sees another is, all but always, in a tile that sees the other's tile; the table is
//! coarser by up to a tile at each end, which shows a little more around corners (the fog's
//! margins are wider than a tile anyway).

use crate::map::{Map, TILE};
use glam::Vec2;

/// Floor tiles beyond which the table is not built (its cost grows with their square: the
/// warehouse map's 2,950 take about a second): bigger maps keep the ray rule.
pub const MAX_FLOOR_TILES: usize = 6_000;

/// How far inside its tile a corner sample sits, in pixels.
const INSET: f32 = 1.0;

/// The table: one row of bits per floor tile, bit j set when it sees floor tile j.
#[derive(Clone, Debug)]
pub struct TileSight {
    width: usize,
    height: usize,
    /// Floor index of each tile (row-major), `u32::MAX` for walls.
    index: Vec<u32>,
    /// Words per row.
    words: usize,
    rows: Vec<u64>,
}

/// One viewer's seen tiles: the union of the rows of the tiles its sample points are in.
#[derive(Clone, Debug, Default)]
pub struct SeenTiles {
    bits: Vec<u64>,
}

impl TileSight {
    /// The table for `map`, using up to `threads` threads; `None` for maps with more than
    /// `MAX_FLOOR_TILES` floor tiles.
    pub fn new(map: &Map, threads: usize) -> Option<TileSight> {
        TileSight::build(map, threads, &|| {})
    }

    /// The table for `map` on this thread alone, calling `pace` after each tile's row (a server
    /// builds it while it plays, and paces the build so that it leaves the core to the ticks).
    pub fn new_paced(map: &Map, pace: &(dyn Fn() + Sync)) -> Option<TileSight> {
        TileSight::build(map, 1, pace)
    }

    fn build(map: &Map, threads: usize, pace: &(dyn Fn() + Sync)) -> Option<TileSight> {
        let (width, height) = (map.width, map.height);
        let mut index = vec![u32::MAX; width * height];
        let mut floor = Vec::new();
        for y in 0..height {
            for x in 0..width {
                if !map.is_wall(x as i32, y as i32) {
                    index[y * width + x] = floor.len() as u32;
                    floor.push((x as i32, y as i32));
                }
            }
        }
        if floor.len() > MAX_FLOOR_TILES {
            return None;
        }
        let n = floor.len();
        let words = n.div_ceil(64).max(1);
        let threads = threads.clamp(1, 16);
        // Each thread fills the upper triangle of every `threads`-th row; the lower one is
        // mirrored after (seeing goes both ways).
        let row = |i: usize| {
            let mut row = vec![0u64; words];
            row[i / 64] |= 1 << (i % 64);
            for j in i + 1..n {
                if tiles_see(map, floor[i], floor[j]) {
                    row[j / 64] |= 1 << (j % 64);
                }
            }
            pace();
            (i, row)
        };
        let parts: Vec<Vec<(usize, Vec<u64>)>> = if threads == 1 {
            vec![(0..n).map(row).collect()]
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| s.spawn(move || (t..n).step_by(threads).map(row).collect::<Vec<_>>()))
                    .collect();
                handles.into_iter().filter_map(|h| h.join().ok()).collect()
            })
        };
        let mut rows = vec![0u64; n * words];
        for (i, row) in parts.into_iter().flatten() {
            rows[i * words..(i + 1) * words].copy_from_slice(&row);
        }
        for i in 0..n {
            for j in i + 1..n {
                if rows[i * words + j / 64] & (1 << (j % 64)) != 0 {
                    rows[j * words + i / 64] |= 1 << (i % 64);
                }
            }
        }
        Some(TileSight {
            width,
            height,
            index,
            words,
            rows,
        })
    }

    /// Floor index of the tile holding `p`, if it is a floor tile of the map.
    fn floor_at(&self, p: Vec2) -> Option<usize> {
        let (x, y) = (p.x / TILE, p.y / TILE);
        // Not below zero (nor NaN), so truncating is `floor` (without the libm call `f32::floor`
        // is on baseline x86-64, in a loop run for every player of every snapshot).
        if !(x >= 0.0 && y >= 0.0) {
            return None;
        }
        let (x, y) = (x as usize, y as usize);
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = self.index[y * self.width + x];
        (i != u32::MAX).then_some(i as usize)
    }

    /// Sets `seen` to every tile seen from a tile holding one of `points` (points in walls or
    /// off the map see nothing, as a ray cast from there would).
    pub fn seen_from(&self, points: &[Vec2], seen: &mut SeenTiles) {
        seen.bits.clear();
        seen.bits.resize(self.words, 0);
        let mut done: [usize; 16] = [usize::MAX; 16];
        for (k, p) in points.iter().enumerate() {
            let Some(i) = self.floor_at(*p) else { continue };
            if done.contains(&i) {
                continue;
            }
            if let Some(slot) = done.get_mut(k) {
                *slot = i;
            }
            let row = &self.rows[i * self.words..(i + 1) * self.words];
            for (s, r) in seen.bits.iter_mut().zip(row) {
                *s |= r;
            }
        }
    }

    /// Whether one of `points` is in a tile of `seen`.
    pub fn any_seen(&self, seen: &SeenTiles, points: &[Vec2]) -> bool {
        self.any_tile_seen(seen, &self.tiles_of(points))
    }

    /// The floor tiles holding `points` (`None` for walls and off the map): worked out once per
    /// player and snapshot tick, then asked of every viewer with `any_tile_seen`.
    pub fn tiles_of(&self, points: &[Vec2]) -> [Option<u32>; 5] {
        let mut out = [None; 5];
        for (o, p) in out.iter_mut().zip(points) {
            *o = self.floor_at(*p).map(|i| i as u32);
        }
        out
    }

    /// Whether one of `tiles` (from `tiles_of`) is in `seen`.
    pub fn any_tile_seen(&self, seen: &SeenTiles, tiles: &[Option<u32>; 5]) -> bool {
        tiles.iter().flatten().any(|i| {
            let i = *i as usize;
            seen.bits.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
        })
    }
}

/// The centre and the four corners (inset) of tile `t`.
fn samples(t: (i32, i32)) -> [Vec2; 5] {
    let (x0, y0) = (t.0 as f32 * TILE, t.1 as f32 * TILE);
    let (lo, hi) = (INSET, TILE - INSET);
    [
        Vec2::new(x0 + TILE / 2.0, y0 + TILE / 2.0),
        Vec2::new(x0 + lo, y0 + lo),
        Vec2::new(x0 + hi, y0 + lo),
        Vec2::new(x0 + lo, y0 + hi),
        Vec2::new(x0 + hi, y0 + hi),
    ]
}

/// Whether tiles `a` and `b` see each other (see the module).
fn tiles_see(map: &Map, a: (i32, i32), b: (i32, i32)) -> bool {
    let (sa, sb) = (samples(a), samples(b));
    map.line_of_sight(sa[0], sb[0]) || sa.iter().any(|p| sb.iter().any(|q| map.line_of_sight(*p, *q)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wall_splits_what_the_tiles_see() {
        let map = Map::parse(
            "rooms",
            "\
#########
#S..#...#
#...#...#
#.......#
#########
",
        )
        .expect("test map parses");
        let t = TileSight::new(&map, 2).expect("small map");
        let at = |x: f32, y: f32| Vec2::new((x + 0.5) * TILE, (y + 0.5) * TILE);
        let mut seen = SeenTiles::default();
        t.seen_from(&[at(1.0, 1.0)], &mut seen);
        assert!(t.any_seen(&seen, &[at(3.0, 2.0)]), "same room");
        assert!(!t.any_seen(&seen, &[at(7.0, 1.0)]), "behind the wall");
        assert!(
            !t.any_seen(&seen, &[at(7.0, 3.0)]),
            "no line through the gap from there"
        );
        t.seen_from(&[at(2.0, 2.0)], &mut seen);
        assert!(
            t.any_seen(&seen, &[at(7.0, 3.0)]),
            "through the gap at the bottom"
        );
        t.seen_from(&[at(1.0, 1.0)], &mut seen);
        assert!(!t.any_seen(&seen, &[at(4.0, 1.0)]), "a wall tile is never seen");
        t.seen_from(&[at(1.0, 1.0), at(5.0, 1.0)], &mut seen);
        assert!(t.any_seen(&seen, &[at(7.0, 1.0)]), "from the other room too");
    }
}
