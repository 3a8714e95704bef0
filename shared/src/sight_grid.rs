//! What a static map lets see what, settled once per pair of tiles instead of once per pair of
//! players per tick: the fog of war (`fog`) asks whether hundreds of players see each other 60
//! times a second, and the walls never move.
//!
//! Two proofs, both about every point of a region, so they never contradict a ray cast between
//! two of its points (`Map::line_of_sight`):
//! - **clear**: no wall tile touches the convex hull of where a player's centre can be in two
//!   tiles (`centre_box`), so every line between two centres there is free (the grid walk only
//!   visits tiles the line touches);
//! - **walled**: some whole column (or row) of tiles strictly between two boxes is wall across
//!   every height (width) a line from one box to the other can cross it at, so every such line
//!   enters a wall.
//!
//! Tile pairs that are neither are *mixed*: the caller casts the ray. The answer per tile pair
//! is kept (a byte per ordered pair, filled on first use), so after the first few ticks the
//! centre-to-centre table costs a lookup per pair of players. Maps of more than
//! `MAX_CACHED_TILES` tiles keep nothing (a byte per pair would be too much memory) and every
//! pair is cast as before.

use crate::map::{Map, TILE};
use crate::sim::PLAYER_RADIUS;
use glam::Vec2;

/// Largest map (in tiles) whose tile pairs are cached: 4096² bytes = 16 MiB at most, touched
/// only where players stand (the warehouse, 72 × 48, needs at most 12 MB).
pub const MAX_CACHED_TILES: usize = 4096;

/// Widening of every region, in tiles, so rounding never makes a proof claim too much.
const EPS: f64 = 1e-3;

const UNKNOWN: u8 = 0;
const CLEAR: u8 = 1;
const WALLED: u8 = 2;
const MIXED: u8 = 3;

/// What is known about the lines between two tiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TileSight {
    /// Every line from one to the other is free of walls.
    Clear,
    /// Every line from one to the other enters a wall.
    Walled,
    /// Some lines are free and some are not, or neither could be proven: cast the ray.
    Mixed,
}

/// An axis-aligned box in tile units (`min` ≤ `max`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TileBox {
    /// Lower corner (x, y).
    pub min: [f64; 2],
    /// Upper corner.
    pub max: [f64; 2],
}

impl TileBox {
    /// The square of half-size `half` (world units) around `p` (world units).
    pub fn around(p: Vec2, half: f32) -> TileBox {
        let t = f64::from(TILE);
        let (x, y, h) = (
            f64::from(p.x) / t,
            f64::from(p.y) / t,
            f64::from(half.max(0.0)) / t,
        );
        TileBox {
            min: [x - h - EPS, y - h - EPS],
            max: [x + h + EPS, y + h + EPS],
        }
    }

    fn tile(x: i32, y: i32) -> TileBox {
        TileBox {
            min: [f64::from(x) - EPS, f64::from(y) - EPS],
            max: [f64::from(x) + 1.0 + EPS, f64::from(y) + 1.0 + EPS],
        }
    }

    fn swap_axes(self) -> TileBox {
        TileBox {
            min: [self.min[1], self.min[0]],
            max: [self.max[1], self.max[0]],
        }
    }
}

/// The walls of a map as prefix counts per column and per row, and the tile-pair cache.
#[derive(Clone, Debug)]
pub struct SightGrid {
    w: i32,
    h: i32,
    /// `cols[x * (h + 1) + y]`: wall tiles in column x above row y.
    cols: Vec<u32>,
    /// `rows[y * (w + 1) + x]`: wall tiles in row y left of column x.
    rows: Vec<u32>,
    /// One byte per ordered tile pair (`UNKNOWN` until asked); empty for maps too large.
    pairs: Vec<u8>,
    /// Tile pairs that may still be settled before the next `new_tick`.
    budget: u32,
}

/// Tile pairs settled per tick at most (about 1.5 µs each): when hundreds of players arrive at
/// once, the cache fills over a few ticks instead of stalling one; pairs past the budget are
/// answered by casting the ray, as without the cache.
pub const SETTLE_PER_TICK: u32 = 2000;

impl SightGrid {
    /// The grid of `map` (an empty cache: pairs are settled when first asked).
    pub fn new(map: &Map) -> SightGrid {
        let (w, h) = (map.width as i32, map.height as i32);
        let mut cols = Vec::with_capacity(((h + 1) * w) as usize);
        for x in 0..w {
            let mut n = 0;
            cols.push(0);
            for y in 0..h {
                n += u32::from(map.is_wall(x, y));
                cols.push(n);
            }
        }
        let mut rows = Vec::with_capacity(((w + 1) * h) as usize);
        for y in 0..h {
            let mut n = 0;
            rows.push(0);
            for x in 0..w {
                n += u32::from(map.is_wall(x, y));
                rows.push(n);
            }
        }
        let tiles = (w * h) as usize;
        let pairs = if tiles <= MAX_CACHED_TILES {
            // Zeroed memory: the pages of pairs nobody asks about are never touched.
            vec![UNKNOWN; tiles * tiles]
        } else {
            Vec::new()
        };
        SightGrid {
            w,
            h,
            cols,
            rows,
            pairs,
            budget: SETTLE_PER_TICK,
        }
    }

    /// Renews the settling budget (`SETTLE_PER_TICK`); the server calls it once per tick.
    pub fn new_tick(&mut self) {
        self.budget = SETTLE_PER_TICK;
    }

    /// Whether the line between two players' centres is free of walls: the tile pair's cached
    /// answer, or the ray when the pair is mixed (the same answer as `map.line_of_sight` for
    /// points a player's centre can be at, see `centre_box`).
    pub fn line_of_sight(&mut self, map: &Map, a: Vec2, b: Vec2) -> bool {
        match self.tiles(a, b) {
            Some(TileSight::Clear) => true,
            Some(TileSight::Walled) => false,
            Some(TileSight::Mixed) | None => map.line_of_sight(a, b),
        }
    }

    /// What is known about the tiles of world points `a` and `b`; `None` when either is off the
    /// map or the map is too large to cache.
    pub fn tiles(&mut self, a: Vec2, b: Vec2) -> Option<TileSight> {
        if self.pairs.is_empty() {
            return None;
        }
        let (ta, tb) = (self.tile_of(a)?, self.tile_of(b)?);
        Some(self.pair(ta, tb))
    }

    /// The cached answer for tiles `ta` and `tb` (indexes), settled on first use.
    fn pair(&mut self, ta: usize, tb: usize) -> TileSight {
        let n = (self.w * self.h) as usize;
        let i = ta * n + tb;
        let code = match self.pairs.get(i).copied() {
            Some(UNKNOWN) if self.budget == 0 => MIXED,
            Some(UNKNOWN) => {
                self.budget -= 1;
                let w = self.w as usize;
                let s = self.settle(
                    [(ta % w) as i32, (ta / w) as i32],
                    [(tb % w) as i32, (tb / w) as i32],
                );
                let code = match s {
                    TileSight::Clear => CLEAR,
                    TileSight::Walled => WALLED,
                    TileSight::Mixed => MIXED,
                };
                self.pairs[i] = code;
                self.pairs[tb * n + ta] = code;
                code
            }
            Some(c) => c,
            None => MIXED,
        };
        match code {
            CLEAR => TileSight::Clear,
            WALLED => TileSight::Walled,
            _ => TileSight::Mixed,
        }
    }

    /// Whether the tiles of `a` and `b` are proven walled off from each other (cached): the ray
    /// between them is blocked without casting it.
    pub fn points_walled(&mut self, a: Vec2, b: Vec2) -> bool {
        if self.pairs.is_empty() {
            return false;
        }
        match (self.tile_of(a), self.tile_of(b)) {
            (Some(ta), Some(tb)) => self.pair(ta, tb) == TileSight::Walled,
            _ => false,
        }
    }

    fn tile_of(&self, p: Vec2) -> Option<usize> {
        let (x, y) = ((p.x / TILE).floor(), (p.y / TILE).floor());
        if !(x >= 0.0 && y >= 0.0 && x < self.w as f32 && y < self.h as f32) {
            return None;
        }
        Some(y as usize * self.w as usize + x as usize)
    }

    /// Settles one tile pair (uncached).
    pub fn settle(&self, a: [i32; 2], b: [i32; 2]) -> TileSight {
        if self.hull_free(self.centre_box(a[0], a[1]), self.centre_box(b[0], b[1])) {
            TileSight::Clear
        } else if self.walled(TileBox::tile(a[0], a[1]), TileBox::tile(b[0], b[1])) {
            TileSight::Walled
        } else {
            TileSight::Mixed
        }
    }

    /// Walls in column `x` from row `y0` to row `y1` (inclusive), counting the outside as wall.
    fn walls_in_column(&self, x: i32, y0: i32, y1: i32) -> i64 {
        if y1 < y0 {
            return 0;
        }
        if x < 0 || x >= self.w {
            return i64::from(y1 - y0 + 1);
        }
        let outside = i64::from((-y0).max(0)) + i64::from((y1 - (self.h - 1)).max(0));
        let (lo, hi) = (y0.clamp(0, self.h), (y1 + 1).clamp(0, self.h));
        let base = (x * (self.h + 1)) as usize;
        outside + i64::from(self.cols[base + hi as usize] - self.cols[base + lo as usize])
    }

    /// `walls_in_column` with the axes swapped.
    fn walls_in_row(&self, y: i32, x0: i32, x1: i32) -> i64 {
        if x1 < x0 {
            return 0;
        }
        if y < 0 || y >= self.h {
            return i64::from(x1 - x0 + 1);
        }
        let outside = i64::from((-x0).max(0)) + i64::from((x1 - (self.w - 1)).max(0));
        let (lo, hi) = (x0.clamp(0, self.w), (x1 + 1).clamp(0, self.w));
        let base = (y * (self.w + 1)) as usize;
        outside + i64::from(self.rows[base + hi as usize] - self.rows[base + lo as usize])
    }

    /// Where a player's centre can be in tile (x, y): the tile less `PLAYER_RADIUS` (but a unit)
    /// on each side that is a wall face, since the simulation keeps players' squares out of
    /// walls. Lets players along a wall see along it without a ray.
    pub fn centre_box(&self, x: i32, y: i32) -> TileBox {
        let r = f64::from((PLAYER_RADIUS - 1.0) / TILE);
        let mut b = TileBox::tile(x, y);
        if self.walls_in_column(x - 1, y, y) > 0 {
            b.min[0] += r;
        }
        if self.walls_in_column(x + 1, y, y) > 0 {
            b.max[0] -= r;
        }
        if self.walls_in_column(x, y - 1, y - 1) > 0 {
            b.min[1] += r;
        }
        if self.walls_in_column(x, y + 1, y + 1) > 0 {
            b.max[1] -= r;
        }
        b
    }

    /// Whether no wall tile touches (closed: an edge or a corner counts) the convex hull of
    /// boxes `v` and `t`, so no line between them can enter a wall.
    pub fn hull_free(&self, v: TileBox, t: TileBox) -> bool {
        let first = v.min[0].min(t.min[0]).floor() as i32;
        let last = v.max[0].max(t.max[0]).floor() as i32;
        for x in first..=last {
            let xf = f64::from(x);
            let Some((lo, hi)) = strip_span(v, t, xf, xf + 1.0) else {
                continue;
            };
            if self.walls_in_column(x, lo.ceil() as i32 - 1, hi.floor() as i32) > 0 {
                return false;
            }
        }
        true
    }

    /// Whether every line from a point of `v` to a point of `t` enters a wall: some column
    /// strictly between them (or row, for boxes one above the other) is wall across the whole
    /// height where the boxes' hull crosses it.
    pub fn walled(&self, v: TileBox, t: TileBox) -> bool {
        self.walled_along_x(v, t, false) || self.walled_along_x(v.swap_axes(), t.swap_axes(), true)
    }

    /// Columns between `v` and `t` (rows, with `swapped` axes).
    fn walled_along_x(&self, v: TileBox, t: TileBox, swapped: bool) -> bool {
        let (v, t) = if v.max[0] <= t.min[0] {
            (v, t)
        } else if t.max[0] <= v.min[0] {
            (t, v)
        } else {
            return false;
        };
        let first = v.max[0].ceil() as i32;
        let last = t.min[0].floor() as i32 - 1;
        for x in first..=last {
            let xf = f64::from(x);
            let Some((lo, hi)) = strip_span(v, t, xf, xf + 1.0) else {
                continue;
            };
            // Rows the lines may be in while crossing the strip (a line on a tile edge may be
            // walked on either side of it).
            let (y0, y1) = ((lo - EPS).ceil() as i32 - 1, (hi + EPS).floor() as i32);
            let walls = if swapped {
                self.walls_in_row(x, y0, y1)
            } else {
                self.walls_in_column(x, y0, y1)
            };
            if walls == i64::from(y1 - y0 + 1) {
                return true;
            }
        }
        false
    }
}

/// The span of the other coordinate over the points of the convex hull of `v` and `t` whose
/// first coordinate is in [x0, x1] (a little more, never less), or `None` if there are none. A
/// point of the hull is (1 − s)·p + s·q with p in `v` and q in `t`; for one s those points make
/// a box whose edges move linearly with s, so the s that reach the strip form an interval and
/// the span is widest at its ends.
fn strip_span(v: TileBox, t: TileBox, x0: f64, x1: f64) -> Option<(f64, f64)> {
    let (mut s0, mut s1) = (0.0f64, 1.0f64);
    // The box's right edge reaches x0, its left edge stays before x1.
    let mut need = |a: f64, b: f64, c: f64, at_least: bool| {
        if b.abs() < 1e-12 {
            if (at_least && a < c) || (!at_least && a > c) {
                s0 = 1.0;
                s1 = 0.0;
            }
            return;
        }
        let r = (c - a) / b;
        if at_least == (b > 0.0) {
            s0 = s0.max(r);
        } else {
            s1 = s1.min(r);
        }
    };
    need(v.max[0], t.max[0] - v.max[0], x0, true);
    need(v.min[0], t.min[0] - v.min[0], x1, false);
    if s0 > s1 {
        return None;
    }
    let lo = |s: f64| v.min[1] + s * (t.min[1] - v.min[1]);
    let hi = |s: f64| v.max[1] + s * (t.max[1] - v.max[1]);
    Some((lo(s0).min(lo(s1)) - EPS, hi(s0).max(hi(s1)) + EPS))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The proofs against the rays: random points in random tile pairs of the built-in maps.
    #[test]
    fn proofs_agree_with_every_ray() {
        for (name, _) in crate::map::BUILTIN_MAPS {
            let map = Map::builtin(name).expect("built-in map");
            let mut grid = SightGrid::new(&map);
            let mut seed = 0x2545_f491_4f6c_dd1du64;
            let mut rnd = move || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 11) as f64 / (1u64 << 53) as f64
            };
            let (w, h) = (map.width as f64, map.height as f64);
            let (mut clear, mut walled) = (0, 0);
            for _ in 0..20_000 {
                let a = [(rnd() * w) as i32, (rnd() * h) as i32];
                let b = [(rnd() * w) as i32, (rnd() * h) as i32];
                if map.is_wall(a[0], a[1]) || map.is_wall(b[0], b[1]) {
                    continue;
                }
                grid.new_tick();
                let s = grid.settle(a, b);
                clear += usize::from(s == TileSight::Clear);
                walled += usize::from(s == TileSight::Walled);
                // Clear is claimed for players' centres only, walled for any points.
                let (ba, bb) = if s == TileSight::Walled {
                    (TileBox::tile(a[0], a[1]), TileBox::tile(b[0], b[1]))
                } else {
                    (grid.centre_box(a[0], a[1]), grid.centre_box(b[0], b[1]))
                };
                for _ in 0..8 {
                    // Corners and edges too, where the walk may go either way.
                    let pick = |b: &TileBox, axis: usize, r: f64| {
                        let r = if r < 0.1 {
                            0.0
                        } else if r > 0.9 {
                            1.0
                        } else {
                            r
                        };
                        let (lo, hi) = (b.min[axis] + EPS, b.max[axis] - 2.0 * EPS);
                        (lo + r * (hi - lo)) * f64::from(TILE)
                    };
                    let p = Vec2::new(pick(&ba, 0, rnd()) as f32, pick(&ba, 1, rnd()) as f32);
                    let q = Vec2::new(pick(&bb, 0, rnd()) as f32, pick(&bb, 1, rnd()) as f32);
                    let ray = map.line_of_sight(p, q);
                    match s {
                        TileSight::Clear => assert!(ray, "{name}: {a:?}-{b:?} clear but {p} to {q} hits"),
                        TileSight::Walled => assert!(!ray, "{name}: {a:?}-{b:?} walled but {p} sees {q}"),
                        TileSight::Mixed => {}
                    }
                    assert_eq!(grid.points_walled(p, q), s == TileSight::Walled);
                    if s != TileSight::Walled {
                        assert_eq!(grid.line_of_sight(&map, p, q), ray);
                    }
                }
            }
            assert!(
                clear > 200 && walled > 100,
                "{name}: {clear} clear, {walled} walled"
            );
        }
    }

    #[test]
    fn boxes_behind_a_wall_are_walled_and_boxes_around_it_are_not() {
        let map = Map::parse(
            "wall",
            "\
###########
#S...#...S#
#....#....#
#....#....#
#.........#
###########
",
        )
        .expect("test map parses");
        let grid = SightGrid::new(&map);
        let at = |x: f32, y: f32| Vec2::new(x * TILE, y * TILE);
        assert!(grid.walled(
            TileBox::around(at(2.5, 1.5), 10.0),
            TileBox::around(at(8.5, 1.5), 10.0)
        ));
        // The gap under the wall: a line from the lower corners passes.
        assert!(!grid.walled(
            TileBox::around(at(2.5, 3.5), 20.0),
            TileBox::around(at(8.5, 3.5), 20.0)
        ));
        assert!(!grid.walled(
            TileBox::around(at(2.5, 1.5), 10.0),
            TileBox::around(at(3.5, 2.5), 10.0)
        ));
    }
}
