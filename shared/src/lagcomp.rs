//! Lag-compensation history: quantized hitboxes of every player for the last few hundred ms.
//!
//! The server records, at the end of every tick, exactly the positions it puts in snapshots.
//! A shot carries the view the shooter rendered (`ShotView`); `History::view` rebuilds that view
//! with the shared `interp` function, so the server sees the same bits the client drew.

use crate::input::ShotView;
use crate::interp::interp_q;
use crate::player::PlayerId;
use crate::tick::Tick;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use thiserror::Error;

/// One player's hitbox at one tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HitboxSample {
    /// Whose.
    pub id: PlayerId,
    /// Quantized centre.
    pub pos: [i32; 2],
    /// Dead players cannot be hit.
    pub alive: bool,
}

/// Why a view could not be rebuilt exactly.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum RewindError {
    /// The view names a tick the server has not simulated yet.
    #[error("view {0} is in the future")]
    Future(Tick),
    /// `tick_b` is before `tick_a`.
    #[error("view interval is backwards")]
    Backwards,
    /// Nothing recorded yet.
    #[error("no history yet")]
    Empty,
}

/// Hitboxes between two ticks at `alpha`: players alive at both ends, in the order of `a`.
/// The client calls this on its two snapshots when it fires and the server on its history when it
/// judges the shot, so both trace against the same bits.
pub fn interpolate_hitboxes(a: &[HitboxSample], b: &[HitboxSample], alpha: u16) -> Vec<([i32; 2], PlayerId)> {
    let increasing = |s: &[HitboxSample]| s.windows(2).all(|w| w[0].id < w[1].id);
    if !(increasing(a) && increasing(b)) {
        // Not the usual id order (never from the simulation or an entity set).
        return interpolate_by_search(a, b, alpha);
    }
    // Both in id order: one merge walk. The server runs this twice per shot over every player
    // (hundreds on a big server), where the search per player was quadratic.
    let mut out = Vec::with_capacity(a.len());
    let mut rest = b;
    for sa in a {
        while let Some((sb, after)) = rest.split_first()
            && sb.id < sa.id
        {
            rest = after;
        }
        if let Some(sb) = rest.first().filter(|sb| sb.id == sa.id)
            && sa.alive
            && sb.alive
        {
            out.push((interp_q(sa.pos, sb.pos, alpha), sa.id));
        }
    }
    out
}

/// `interpolate_hitboxes` for samples in any order: a search of `b` per player of `a`.
fn interpolate_by_search(a: &[HitboxSample], b: &[HitboxSample], alpha: u16) -> Vec<([i32; 2], PlayerId)> {
    a.iter()
        .filter(|sa| sa.alive)
        .filter_map(|sa| {
            let sb = b.iter().find(|sb| sb.id == sa.id && sb.alive)?;
            Some((interp_q(sa.pos, sb.pos, alpha), sa.id))
        })
        .collect()
}

/// A rebuilt view and whether it had to be clamped to the oldest kept tick.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RewoundView {
    /// Interpolated hitboxes of players alive at both ends, in id order.
    pub targets: Vec<([i32; 2], PlayerId)>,
    /// True when the view was older than the window and was clamped (counted as too old).
    pub clamped: bool,
}

/// Ring of per-tick hitboxes covering `capacity` ticks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    capacity: usize,
    ticks: VecDeque<(Tick, Vec<HitboxSample>)>,
}

impl History {
    /// A history keeping `capacity` ticks (at least 2).
    pub fn new(capacity: usize) -> History {
        History {
            capacity: capacity.max(2),
            ticks: VecDeque::new(),
        }
    }

    /// Records the hitboxes at the end of `tick` (samples in id order).
    pub fn record(&mut self, tick: Tick, samples: Vec<HitboxSample>) {
        while self.ticks.len() >= self.capacity {
            self.ticks.pop_front();
        }
        self.ticks.push_back((tick, samples));
    }

    /// The newest recorded tick.
    pub fn newest(&self) -> Option<Tick> {
        self.ticks.back().map(|(t, _)| *t)
    }

    /// Samples recorded at `tick`, if kept.
    pub fn at(&self, tick: Tick) -> Option<&[HitboxSample]> {
        let (oldest, _) = self.ticks.front()?;
        let idx = tick.diff(*oldest);
        if idx < 0 {
            return None;
        }
        self.ticks
            .get(idx as usize)
            .filter(|(t, _)| *t == tick)
            .map(|(_, s)| s.as_slice())
    }

    /// Rebuilds the view a shooter saw. Views older than the window are clamped to the oldest
    /// kept tick (and reported as clamped); views in the future are refused.
    pub fn view(&self, view: ShotView) -> Result<RewoundView, RewindError> {
        let (Some((oldest, _)), Some(newest)) = (self.ticks.front(), self.newest()) else {
            return Err(RewindError::Empty);
        };
        if view.tick_b.is_after(newest) {
            return Err(RewindError::Future(view.tick_b));
        }
        if view.tick_a.is_after(view.tick_b) {
            return Err(RewindError::Backwards);
        }
        let oldest = *oldest;
        let mut clamped = false;
        let (ta, tb, alpha) = if view.tick_a.is_after(oldest) || view.tick_a == oldest {
            (view.tick_a, view.tick_b, view.alpha)
        } else {
            clamped = true;
            (oldest, oldest, 0)
        };
        let (Some(a), Some(b)) = (self.at(ta), self.at(tb)) else {
            return Err(RewindError::Empty);
        };
        Ok(RewoundView {
            targets: interpolate_hitboxes(a, b, alpha),
            clamped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(id: u16, x: i32) -> HitboxSample {
        HitboxSample {
            id: PlayerId(id),
            pos: [x, 0],
            alive: true,
        }
    }

    fn history() -> History {
        let mut h = History::new(4);
        for t in 10..16u32 {
            h.record(Tick(t), vec![sample(1, t as i32 * 100), sample(2, -(t as i32))]);
        }
        h
    }

    #[test]
    fn view_rebuilds_interpolated_positions() {
        let h = history();
        let v = h
            .view(ShotView {
                tick_a: Tick(13),
                tick_b: Tick(14),
                alpha: 16384,
            })
            .unwrap();
        assert!(!v.clamped);
        assert_eq!(v.targets[0], (interp_q([1300, 0], [1400, 0], 16384), PlayerId(1)));
        assert_eq!(v.targets[0].0, [1325, 0]);
    }

    #[test]
    fn old_views_are_clamped_and_future_views_refused() {
        let h = history();
        let v = h
            .view(ShotView {
                tick_a: Tick(5),
                tick_b: Tick(6),
                alpha: 100,
            })
            .unwrap();
        assert!(v.clamped);
        assert_eq!(v.targets[0].0, [1200, 0]);
        assert_eq!(
            h.view(ShotView {
                tick_a: Tick(15),
                tick_b: Tick(16),
                alpha: 0
            }),
            Err(RewindError::Future(Tick(16)))
        );
        assert_eq!(
            h.view(ShotView {
                tick_a: Tick(15),
                tick_b: Tick(14),
                alpha: 0
            }),
            Err(RewindError::Backwards)
        );
    }

    #[test]
    fn dead_players_are_not_targets() {
        let mut h = History::new(4);
        h.record(
            Tick(1),
            vec![
                sample(1, 0),
                HitboxSample {
                    alive: false,
                    ..sample(2, 5)
                },
            ],
        );
        h.record(Tick(2), vec![sample(1, 0), sample(2, 5)]);
        let v = h
            .view(ShotView {
                tick_a: Tick(1),
                tick_b: Tick(2),
                alpha: 0,
            })
            .unwrap();
        assert_eq!(v.targets.len(), 1);
    }

    proptest::proptest! {
        /// On samples in id order (players missing from either side, some dead), the merge
        /// walk gives exactly what the search per player gives.
        #[test]
        fn interpolation_matches_a_search_per_player(
            a in proptest::collection::vec((0u16..40, any_pos(), proptest::bool::weighted(0.8)), 0..30),
            b in proptest::collection::vec((0u16..40, any_pos(), proptest::bool::weighted(0.8)), 0..30),
            alpha in proptest::num::u16::ANY,
        ) {
            let samples = |v: &[(u16, [i32; 2], bool)]| {
                let mut s: Vec<HitboxSample> =
                    v.iter().map(|&(id, pos, alive)| HitboxSample { id: PlayerId(id), pos, alive }).collect();
                s.sort_by_key(|h| h.id);
                s.dedup_by_key(|h| h.id);
                s
            };
            let (a, b) = (samples(&a), samples(&b));
            proptest::prop_assert_eq!(interpolate_hitboxes(&a, &b, alpha), interpolate_by_search(&a, &b, alpha));
        }
    }

    fn any_pos() -> impl proptest::strategy::Strategy<Value = [i32; 2]> {
        proptest::array::uniform2(-100_000i32..100_000)
    }
}
