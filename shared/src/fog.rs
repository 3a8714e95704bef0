//! Fog of war: whether one player may be told where another is.
//!
//! A client draws remote players as they were `view age` ago (its interpolation delay behind the
//! snapshots it has, which are half a round trip old) from where its own player is *now*
//! (predicted ahead of the server). So the server, deciding what to put in the snapshot of tick
//! T, must allow for the viewer having moved up to `MAX_SPEED × view age` from where the server
//! has it, and for the target's hitbox edge and its movement over one snapshot interval. A target
//! is sent when a straight line joins some point of the viewer's reach to some point of the
//! target's (the centre and the four corners of each square, 25 tests at most, stopping at the
//! first clear line): nobody pops into view late, and a wall hides the rest. The same rule is used
//! by the red-team wallhack bot to count what it was told beyond it.

use crate::map::Map;
use crate::sight_memo::SightMemo;
use crate::sim::{MAX_SPEED, PLAYER_RADIUS};
use crate::tick::Tick;
use glam::Vec2;
use std::cell::Cell;
use std::time::Duration;

/// Longest view age the fog allows for (a 400 ms rewind window is the most any client draws).
pub const MAX_VIEW_AGE: Duration = Duration::from_millis(400);

/// How far each side may be from where the server has it when the client draws the frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FogMargins {
    /// Reach of the viewer (its prediction runs ahead of the server by the view age).
    pub viewer: f32,
    /// Reach of the target (hitbox radius and one snapshot interval of movement).
    pub target: f32,
}

impl FogMargins {
    /// Margins for a client whose frames show remote players `view_age` old, with snapshots
    /// `interval` apart.
    pub fn new(view_age: Duration, interval: Duration) -> FogMargins {
        let age = view_age.min(MAX_VIEW_AGE).as_secs_f32();
        FogMargins {
            viewer: MAX_SPEED * age + PLAYER_RADIUS,
            target: PLAYER_RADIUS * 2.0 + MAX_SPEED * interval.as_secs_f32(),
        }
    }
}

/// The centre and the corners of the square of half-size `m` around `p`: the target's samples.
pub fn reach(p: Vec2, m: f32) -> [Vec2; 5] {
    [
        p,
        p + Vec2::new(-m, -m),
        p + Vec2::new(m, -m),
        p + Vec2::new(-m, m),
        p + Vec2::new(m, m),
    ]
}

/// `reach` and the middles of the square's sides: a viewer walking straight along an axis ends
/// near one of them, where no corner may see what it sees. The viewer's samples.
pub fn wide_reach(p: Vec2, m: f32) -> [Vec2; 9] {
    let [c, a, b, d, e] = reach(p, m);
    [
        c,
        a,
        b,
        d,
        e,
        p + Vec2::new(m, 0.0),
        p + Vec2::new(-m, 0.0),
        p + Vec2::new(0.0, m),
        p + Vec2::new(0.0, -m),
    ]
}

/// Whether `target` may be seen from `viewer` within the margins (see the module).
pub fn may_see(map: &Map, viewer: Vec2, target: Vec2, margins: FogMargins) -> bool {
    map.line_of_sight(viewer, target) || may_see_around(map, viewer, target, margins)
}

/// `may_see` for a pair whose centres do not see each other: whether some point of the viewer's
/// reach (centre, corners and side middles of its square) sees some point of the target's
/// (centre and corners). 45 rays at most, each stopping at its first wall. Fewer samples (the
/// viewer's square widened by the target's margin to the target's centre only, 15 rays) cost a
/// third as much but let 1.7 % of sightings pop in late in the Pair test instead of 0.5 %.
pub fn may_see_around(map: &Map, viewer: Vec2, target: Vec2, margins: FogMargins) -> bool {
    let targets = reach(target, margins.target);
    wide_reach(viewer, margins.viewer)
        .iter()
        .any(|v| targets.iter().any(|t| map.line_of_sight(*v, *t)))
}

/// Whether a player respawning at `respawn_at` is within a view age of it at `tick`: its
/// client will draw old snapshots from a spawn point the server did not know when it built them
/// (the point is chosen at the respawn), so around a respawn nobody is hidden from it. The cost
/// is a glimpse of everyone for about two view ages, to a player who cannot act for most of it.
/// (Lifting it only before the respawn halves the glimpse but lets 0.86 % of sightings pop in
/// late in the pop-in test instead of 0.49 %.)
pub fn near_respawn(respawn_at: Option<Tick>, tick: Tick, view_age: Duration, tick_len: Duration) -> bool {
    let window = (view_age.as_secs_f64() / tick_len.as_secs_f64().max(1e-6)).ceil() as i32 + 1;
    respawn_at.is_some_and(|r| r.diff(tick).abs() <= window)
}

/// Centre-to-centre lines of sight between every two players in one snapshot tick, shared by
/// every viewer (a line of sight goes both ways), so each viewer pays only for the pairs a wall
/// separates. Each pair is cast when first asked: on a big server only the viewers whose hidden
/// set is judged afresh this tick ask, and the other rows would be wasted rays.
#[derive(Debug)]
pub struct SightTable<'a> {
    map: &'a Map,
    positions: &'a [Vec2],
    /// Per pair: 0 not cast yet, 1 clear, 2 walled.
    clear: Vec<Cell<u8>>,
    /// Blocked lines remembered from earlier ticks (`sight_memo`), if the caller keeps them.
    memo: Option<&'a SightMemo>,
}

impl<'a> SightTable<'a> {
    /// The table for players at `positions`.
    pub fn new(map: &'a Map, positions: &'a [Vec2]) -> SightTable<'a> {
        let n = positions.len();
        SightTable {
            map,
            positions,
            clear: vec![Cell::new(0); n * n],
            memo: None,
        }
    }

    /// The table for players at `positions`, casting only the lines `memo` (prepared for these
    /// players) cannot vouch for.
    pub fn with_memo(map: &'a Map, positions: &'a [Vec2], memo: &'a SightMemo) -> SightTable<'a> {
        // The memo keeps both directions of a pair itself: no table of this tick's own.
        SightTable {
            map,
            positions,
            clear: Vec::new(),
            memo: Some(memo),
        }
    }

    /// Whether players `i` and `j` (indexes into the positions) see each other's centres.
    pub fn clear(&self, i: usize, j: usize) -> bool {
        let n = self.positions.len();
        if i >= n || j >= n {
            return false;
        }
        if let Some(memo) = self.memo {
            return memo.clear(self.map, i, j, self.positions[i], self.positions[j]);
        }
        let known = self.clear[i * n + j].get();
        if known != 0 {
            return known == 1;
        }
        // Always cast from the lower index, so the answer does not depend on who asked first.
        let (a, b) = (i.min(j), i.max(j));
        let c = self.map.line_of_sight(self.positions[a], self.positions[b]);
        let v = if c { 1 } else { 2 };
        self.clear[i * n + j].set(v);
        self.clear[j * n + i].set(v);
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> Map {
        // A long wall between two rooms, open at the far right.
        Map::parse(
            "fog",
            "\
##########################
#S.........#............S#
#..........#.............#
#..........#.............#
#..........#.............#
#........................#
##########################
",
        )
        .expect("test map parses")
    }

    #[test]
    fn a_wall_hides_and_the_margin_reveals_what_is_about_to_appear() {
        let m = map();
        let cell = crate::map::TILE;
        let left = Vec2::new(2.5 * cell, 2.5 * cell);
        let right = Vec2::new(20.5 * cell, 2.5 * cell);
        let none = FogMargins {
            viewer: 0.0,
            target: 0.0,
        };
        assert!(!may_see(&m, left, right, none), "the wall hides");
        // Near the end of the wall, a few steps from seeing around it.
        let corner = Vec2::new(10.5 * cell, 4.5 * cell);
        let behind = Vec2::new(12.5 * cell, 1.5 * cell);
        assert!(!may_see(&m, corner, behind, none));
        let wide = FogMargins::new(Duration::from_millis(300), Duration::from_millis(17));
        assert!(may_see(&m, corner, behind, wide), "within reach of the corner");
        assert!(
            !may_see(&m, left, right, wide),
            "far behind the wall stays hidden"
        );
        assert!(
            may_see(&m, left, left + Vec2::new(cell * 3.0, 0.0), none),
            "in the open"
        );
    }

    #[test]
    fn the_fog_lifts_within_a_view_age_of_a_respawn() {
        let tick = Duration::from_millis(10);
        let age = Duration::from_millis(50);
        let r = Some(Tick(100));
        assert!(!near_respawn(r, Tick(93), age, tick));
        assert!(near_respawn(r, Tick(94), age, tick));
        assert!(near_respawn(r, Tick(106), age, tick));
        assert!(!near_respawn(r, Tick(107), age, tick));
        assert!(!near_respawn(None, Tick(100), age, tick));
    }
}
