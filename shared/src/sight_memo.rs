//! Centre-to-centre sight between players, remembered across ticks where it provably still holds.
//!
//! On a big server the fog casts a ray for every pair of players its tile table does not show to
//! each other (18,000 a tick at 256 players, a sixth of the tick), and almost all of them are
//! blocked, by the same wall as a tick before. A blocked line stays blocked while neither end
//! has moved farther than the line runs inside the wall: every point of the moved segment is
//! within that distance of the old one's (a point of a segment is a weighted mean of its ends),
//! so the old segment's point deepest in the wall still has its counterpart in the wall. The memo
//! keeps, per pair, the ends and that depth, and answers without a ray while both ends stay
//! within it. A line that is clear is cast again every time (rare for these pairs, and a clear
//! line has no such guarantee).
//!
//! A remembered line is a fact about two points and the map, not about the two players: so a
//! join or a leave forgets nothing. Each player keeps a slot (its row and column) for as long as
//! it plays; a departed player's slot goes to the next newcomer, whose first rays simply find
//! the old ends too far away. (Forgetting everything at every join made the 256-player join
//! burst, a join every tick or two for seconds, cast every ray every tick.)

use crate::map::{Map, TILE, TileWalk};
use crate::player::PlayerId;
use glam::Vec2;
use std::cell::Cell;

/// Safety margin on the depth, in world units, for the rounding of the walk along the ray.
const ROUNDING: f32 = 0.05;

/// Whether the straight line from `a` to `b` is blocked, and if so how far both ends may move
/// (each at most that far) with it still blocked; `None` when it is clear. It decides exactly as
/// `Map::line_of_sight` (the same walk over the tiles, tested against it).
pub fn blocked_depth(map: &Map, a: Vec2, b: Vec2) -> Option<f32> {
    let d = b - a;
    let len = d.length();
    if len <= f32::EPSILON {
        return None;
    }
    let dir = d / len;
    let mut walk = TileWalk::new(a, dir);
    if map.is_wall(walk.tile.0, walk.tile.1) {
        // Starting in a wall (never a player's centre): blocked, with no depth to reuse.
        return Some(0.0);
    }
    // `Map::raycast`'s walk, step for step; once it meets a wall it goes on to the end
    // of the run of wall tiles and takes the depth of the run's middle: where a line across a
    // wall is deepest, up to a tile for one across a wall two tiles thick. (A line that only
    // clips a corner has a shallow middle and is simply cast again sooner.)
    let mut run: Option<f32> = None;
    loop {
        let t = walk.step();
        let (tx, ty) = walk.tile;
        let end = if t >= len {
            len
        } else if map.is_wall(tx, ty) {
            run.get_or_insert(t.max(0.0));
            continue;
        } else if run.is_none() {
            continue;
        } else {
            t
        };
        let start = run?;
        let mid = a + dir * ((start + end) / 2.0);
        let (mx, my) = ((mid.x / TILE).floor() as i32, (mid.y / TILE).floor() as i32);
        // The middle of a run of wall tiles is in one of them (a rounding at a seam aside).
        return Some(if map.is_wall(mx, my) {
            depth_in_walls(map, mid, mx, my)
        } else {
            0.0
        });
    }
}

/// How far `p`, inside wall tile (`tx`, `ty`), is from the nearest floor: the nearest of the
/// floor tiles around it, or a whole tile (anything beyond the eight neighbours is farther).
fn depth_in_walls(map: &Map, p: Vec2, tx: i32, ty: i32) -> f32 {
    let mut best = TILE;
    for dy in -1..=1 {
        for dx in -1..=1 {
            if (dx, dy) == (0, 0) || map.is_wall(tx + dx, ty + dy) {
                continue;
            }
            let lo = Vec2::new((tx + dx) as f32 * TILE, (ty + dy) as f32 * TILE);
            let hi = lo + Vec2::splat(TILE);
            let gap = (lo - p).max(p - hi).max(Vec2::ZERO);
            best = best.min(gap.length());
        }
    }
    best
}

#[derive(Clone, Copy, Debug, Default)]
struct Blocked {
    a: Vec2,
    b: Vec2,
    /// How far each end may move from `a` and `b`; 0 = nothing remembered.
    depth: f32,
    /// The tick (`SightMemo::now`) of the last cast, and whether that line was clear: a clear
    /// line is good for its own tick only (the other player of the pair asks too).
    cast: u32,
    clear: bool,
}

/// The blocked lines of the last ticks, per pair of players' slots.
#[derive(Debug, Default)]
pub struct SightMemo {
    /// This tick's players, in the order of their places.
    ids: Vec<PlayerId>,
    /// The slot of the player at each place.
    slots: Vec<usize>,
    /// Slots handed out and given back, for the next newcomers.
    free: Vec<usize>,
    /// Slots ever handed out (free ones included).
    handed: usize,
    /// Slots per row of `pairs`: a power of two, grown (keeping every cell) when a newcomer
    /// needs one more; bounded by the most players ever in the match at once.
    stride: usize,
    pairs: Vec<Cell<Blocked>>,
    /// Counts `prepare` calls (ticks), from 1.
    now: u32,
    /// Rays cast so far (the rest were answered from memory).
    casts: Cell<u64>,
}

impl SightMemo {
    /// Readies the memo for this tick's players (`ids`, in the order the positions come in):
    /// players keep their slots, newcomers take free ones.
    pub fn prepare(&mut self, ids: &[PlayerId]) {
        self.now = self.now.wrapping_add(1).max(1);
        if self.ids == ids {
            return;
        }
        let mut before: Vec<(PlayerId, usize)> =
            self.ids.iter().copied().zip(self.slots.iter().copied()).collect();
        before.sort_unstable();
        let mut now: Vec<PlayerId> = ids.to_vec();
        now.sort_unstable();
        now.dedup();
        self.free.extend(
            before
                .iter()
                .filter(|(id, _)| now.binary_search(id).is_err())
                .map(|(_, slot)| *slot),
        );
        // Newest free slot first: the one whose lines are the most recent (and so the likeliest
        // to be reused by whoever spawns where its last holder was).
        let mut taken: Vec<(PlayerId, usize)> = Vec::with_capacity(now.len());
        let mut slots = Vec::with_capacity(ids.len());
        for id in ids {
            let kept = before
                .binary_search_by_key(id, |(b, _)| *b)
                .ok()
                .map(|k| before[k].1)
                .or_else(|| taken.iter().find(|(t, _)| t == id).map(|(_, s)| *s));
            let slot = match kept {
                Some(slot) => slot,
                None => {
                    let slot = self.free.pop().unwrap_or_else(|| {
                        self.handed += 1;
                        self.handed - 1
                    });
                    taken.push((*id, slot));
                    slot
                }
            };
            slots.push(slot);
        }
        self.grow_to(self.handed);
        self.ids = ids.to_vec();
        self.slots = slots;
    }

    /// Rays cast so far: what the memo did not answer from memory.
    pub fn rays_cast(&self) -> u64 {
        self.casts.get()
    }

    /// Makes room for `slots` slots, keeping every remembered line in its slot pair.
    fn grow_to(&mut self, slots: usize) {
        if slots <= self.stride {
            return;
        }
        let stride = slots.next_power_of_two().max(8);
        let mut pairs = vec![Cell::new(Blocked::default()); stride * stride];
        for (row, cells) in self.pairs.chunks(self.stride.max(1)).enumerate() {
            let start = row * stride;
            pairs[start..start + cells.len()].clone_from_slice(cells);
        }
        self.pairs = pairs;
        self.stride = stride;
    }

    /// Whether the players at places `i` and `j`, now at `pi` and `pj`, see each other's centres,
    /// from memory where it holds and by a ray otherwise (cast from the lower place, so the
    /// answer does not depend on who asks). Each pair is kept twice, once in each player's row,
    /// so a viewer asking about everyone reads only its own row.
    pub fn clear(&self, map: &Map, i: usize, j: usize, pi: Vec2, pj: Vec2) -> bool {
        let (Some(&si), Some(&sj)) = (self.slots.get(i), self.slots.get(j)) else {
            return map.line_of_sight(pi, pj);
        };
        let n = self.stride;
        let known = self.pairs[si * n + sj].get();
        if known.cast == self.now && known.a == pi && known.b == pj {
            return known.clear;
        }
        // Squared distances, no roots: this is asked for most pairs of a big server's players.
        let reach = known.depth * known.depth;
        if known.depth > 0.0 && known.a.distance_squared(pi) < reach && known.b.distance_squared(pj) < reach {
            return false;
        }
        let depth = if i < j {
            blocked_depth(map, pi, pj)
        } else {
            blocked_depth(map, pj, pi)
        };
        self.casts.set(self.casts.get() + 1);
        let clear = depth.is_none();
        let depth = depth.map_or(0.0, |d| (d - ROUNDING).max(0.0));
        let cast = self.now;
        self.pairs[si * n + sj].set(Blocked {
            a: pi,
            b: pj,
            depth,
            cast,
            clear,
        });
        self.pairs[sj * n + si].set(Blocked {
            a: pj,
            b: pi,
            depth,
            cast,
            clear,
        });
        clear
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn warehouse() -> Map {
        Map::builtin("warehouse").expect("built-in map")
    }

    fn point(map: &Map) -> impl Strategy<Value = Vec2> {
        let size = map.size();
        (0.0..size.x, 0.0..size.y).prop_map(|(x, y)| Vec2::new(x, y))
    }

    proptest! {
        // A third of the random points fall in walls (the border and the blocks) and are skipped.
        #![proptest_config(ProptestConfig {
            cases: 2_000,
            max_global_rejects: 1_000_000,
            ..ProptestConfig::default()
        })]

        /// The same decision as the ray the simulation casts, everywhere on the map.
        #[test]
        fn decides_as_line_of_sight(a in point(&warehouse()), b in point(&warehouse())) {
            let map = warehouse();
            prop_assert_eq!(blocked_depth(&map, a, b).is_none(), map.line_of_sight(a, b));
        }

        /// Moving both ends by less than the depth never unblocks the line.
        #[test]
        fn a_blocked_line_stays_blocked_within_its_depth(
            a in point(&warehouse()),
            b in point(&warehouse()),
            da in (0.0f32..1.0, 0.0f32..std::f32::consts::TAU),
            db in (0.0f32..1.0, 0.0f32..std::f32::consts::TAU),
        ) {
            let map = warehouse();
            let floor = |p: Vec2| !map.is_wall((p.x / TILE).floor() as i32, (p.y / TILE).floor() as i32);
            prop_assume!(floor(a) && floor(b));
            if let Some(depth) = blocked_depth(&map, a, b) {
                let depth = (depth - ROUNDING).max(0.0);
                let a2 = a + Vec2::from_angle(da.1) * da.0 * depth;
                let b2 = b + Vec2::from_angle(db.1) * db.0 * depth;
                prop_assume!(floor(a2) && floor(b2));
                prop_assert!(!map.line_of_sight(a2, b2), "{a} {b} depth {depth} -> {a2} {b2}");
            }
        }

        /// The memo gives the ray's answer through any walk of both players.
        #[test]
        fn the_memo_answers_as_the_ray(
            start in (point(&warehouse()), point(&warehouse())),
            steps in prop::collection::vec((-4.0f32..4.0, -4.0f32..4.0, -4.0f32..4.0, -4.0f32..4.0), 1..40),
        ) {
            let map = warehouse();
            let mut memo = SightMemo::default();
            memo.prepare(&[PlayerId(1), PlayerId(2)]);
            let (mut a, mut b) = start;
            for (ax, ay, bx, by) in steps {
                a += Vec2::new(ax, ay);
                b += Vec2::new(bx, by);
                prop_assert_eq!(memo.clear(&map, 0, 1, a, b), map.line_of_sight(a, b));
            }
        }

        /// The memo gives the ray's answer while players come and go: whoever takes a slot, and
        /// whatever its last holder left in it.
        #[test]
        fn the_memo_answers_as_the_ray_through_joins_and_leaves(
            steps in prop::collection::vec(
                prop::collection::vec((0u16..12, point(&warehouse())), 2..10),
                1..30,
            ),
        ) {
            let map = warehouse();
            let mut memo = SightMemo::default();
            for players in steps {
                let mut players = players;
                players.sort_by_key(|(id, _)| *id);
                players.dedup_by_key(|(id, _)| *id);
                let ids: Vec<PlayerId> = players.iter().map(|(id, _)| PlayerId(*id)).collect();
                memo.prepare(&ids);
                for (i, (_, pi)) in players.iter().enumerate() {
                    for (j, (_, pj)) in players.iter().enumerate() {
                        if i != j {
                            // The memo casts from the lower place, whoever asks (a ray grazing a
                            // tile corner can decide differently in the two directions).
                            let (a, b) = if i < j { (pi, pj) } else { (pj, pi) };
                            prop_assert_eq!(memo.clear(&map, i, j, *pi, *pj), map.line_of_sight(*a, *b));
                        }
                    }
                }
                prop_assert!(memo.stride <= 16, "slots reused: at most 12 players at once");
            }
        }
    }

    #[test]
    fn a_line_through_a_wall_block_is_deep_and_an_open_one_clear() {
        let map = warehouse();
        // Row 6-7 holds a 7-tile block at columns 6-12; cross it vertically through its middle.
        let a = Vec2::new(9.5 * TILE, 4.5 * TILE);
        let b = Vec2::new(9.5 * TILE, 9.5 * TILE);
        let depth = blocked_depth(&map, a, b).expect("blocked by the block");
        assert!(depth >= TILE * 0.9, "deep inside a 2-tile-thick block: {depth}");
        // Along row 1, open floor.
        assert_eq!(
            blocked_depth(&map, Vec2::new(40.0, 40.0), Vec2::new(1000.0, 40.0)),
            None
        );
    }

    #[test]
    fn joins_and_leaves_keep_what_the_others_remember() {
        let map = warehouse();
        let mut memo = SightMemo::default();
        memo.prepare(&[PlayerId(1), PlayerId(2)]);
        // Across the 2-tile-thick block: blocked, and deep.
        let (a, b) = (
            Vec2::new(9.5 * TILE, 4.5 * TILE),
            Vec2::new(9.5 * TILE, 9.5 * TILE),
        );
        assert!(!memo.clear(&map, 0, 1, a, b));
        assert_eq!(memo.rays_cast(), 1);
        // Player 0 joins before them (their places move up by one); they step a little.
        memo.prepare(&[PlayerId(0), PlayerId(1), PlayerId(2)]);
        let step = Vec2::new(3.0, 0.0);
        assert!(!memo.clear(&map, 1, 2, a + step, b - step));
        assert_eq!(memo.rays_cast(), 1, "answered from memory across the join");
        // Player 2 leaves and 3 takes its slot, in the open next to player 1: cast afresh.
        memo.prepare(&[PlayerId(0), PlayerId(1), PlayerId(3)]);
        assert!(memo.clear(&map, 1, 2, a, a + Vec2::new(TILE, 0.0)));
        assert_eq!(memo.rays_cast(), 2);
        assert_eq!(memo.stride, 8, "two slots in use, none handed out twice");
        assert_eq!(memo.handed, 3);
    }
}
