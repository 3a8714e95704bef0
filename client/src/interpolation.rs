//! Interpolation of remote players: the received snapshots and the render time between them.
//!
//! Remote players are drawn a little in the past, between the two received snapshots around the
//! render time, so they move smoothly although snapshots arrive in bursts, late or not at all.
//! The delay starts at two snapshot intervals and grows with the measured arrival jitter and
//! loss. The positions come from `shared::interp` on the quantized snapshot positions, and the
//! exact view (two ticks and a `u16` fraction) is what a shot carries, so the server can rebuild
//! the very same picture.

use rewind_shared::Vec2;
use rewind_shared::input::ShotView;
use rewind_shared::interp::{alpha_from_fraction, interp_q};
use rewind_shared::lagcomp::{HitboxSample, interpolate_hitboxes};
use rewind_shared::player::PlayerId;
use rewind_shared::quant::q_to_pos2;
use rewind_shared::snapshot::{EntitySet, EntityState};
use rewind_shared::tick::Tick;
use std::collections::VecDeque;
use std::time::Duration;

/// Snapshots kept (by tick) for delta baselines and interpolation; the server keeps as many.
pub const SNAPSHOT_RING: usize = 64;

/// The entity sets of the snapshots received, oldest first, by tick.
#[derive(Clone, Debug, Default)]
pub struct SnapshotStore {
    sets: VecDeque<(Tick, EntitySet)>,
}

impl SnapshotStore {
    /// Inserts a decoded snapshot in tick order (late arrivals go in their place; a duplicate
    /// tick replaces nothing). Returns false for a duplicate or one older than the whole ring.
    pub fn insert(&mut self, tick: Tick, set: EntitySet) -> bool {
        if self.sets.iter().any(|(t, _)| *t == tick) {
            return false;
        }
        if self.sets.len() >= SNAPSHOT_RING
            && self.sets.front().is_some_and(|(oldest, _)| oldest.is_after(tick))
        {
            return false;
        }
        let at = self.sets.partition_point(|(t, _)| tick.is_after(*t));
        self.sets.insert(at, (tick, set));
        while self.sets.len() > SNAPSHOT_RING {
            self.sets.pop_front();
        }
        true
    }

    /// The set received for `tick`.
    pub fn get(&self, tick: Tick) -> Option<&EntitySet> {
        self.sets.iter().rev().find(|(t, _)| *t == tick).map(|(_, s)| s)
    }

    /// The ticks held, oldest first.
    pub fn ticks(&self) -> impl Iterator<Item = Tick> + '_ {
        self.sets.iter().map(|(t, _)| *t)
    }

    /// The newest tick received.
    pub fn newest(&self) -> Option<Tick> {
        self.sets.back().map(|(t, _)| *t)
    }

    /// The newest set received.
    pub fn newest_set(&self) -> Option<&EntitySet> {
        self.sets.back().map(|(_, s)| s)
    }

    /// Number of sets held.
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    /// Whether nothing was received yet.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// The view at `render` ticks after `base`: the two received ticks around it and the
    /// fraction. Before the oldest or after the newest it holds the end (never extrapolates).
    pub fn view_at(&self, base: Tick, render: f64) -> Option<ShotView> {
        let (first, _) = self.sets.front()?;
        let (last, _) = self.sets.back()?;
        let rel = |t: Tick| f64::from(t.diff(base));
        if render >= rel(*last) {
            return Some(ShotView {
                tick_a: *last,
                tick_b: *last,
                alpha: 0,
            });
        }
        if render <= rel(*first) {
            return Some(ShotView {
                tick_a: *first,
                tick_b: *first,
                alpha: 0,
            });
        }
        let idx = self.sets.partition_point(|(t, _)| rel(*t) <= render);
        let (a, _) = self.sets.get(idx.checked_sub(1)?)?;
        let (b, _) = self.sets.get(idx)?;
        let span = rel(*b) - rel(*a);
        let frac = if span > 0.0 {
            (render - rel(*a)) / span
        } else {
            0.0
        };
        Some(ShotView {
            tick_a: *a,
            tick_b: *b,
            alpha: alpha_from_fraction(frac as f32),
        })
    }

    /// Every player of the view, interpolated with the shared integer function: players present
    /// in both sets move between them, players only in the newer set are shown where it has them.
    pub fn entities_at(&self, view: ShotView) -> impl Iterator<Item = (EntityState, [i32; 2])> + '_ {
        // Both sets in id order: one walk (a bot process runs this for hundreds of sessions
        // every tick, where a search per player was a tenth of its core). An iterator, not a
        // list: the caller keeps what it needs without a second copy of every player.
        let sets = self.get(view.tick_a).zip(self.get(view.tick_b));
        sets.into_iter().flat_map(move |(a, b)| {
            let mut older = a.values().peekable();
            // Players hidden by the fog of war at the newer end are not drawn at all.
            b.values().filter(|eb| !eb.hidden).map(move |eb| {
                while older.next_if(|ea| ea.id < eb.id).is_some() {}
                match older.next_if(|ea| ea.id == eb.id) {
                    Some(ea) if ea.alive && eb.alive => (*eb, interp_q(ea.pos, eb.pos, view.alpha)),
                    _ => (*eb, eb.pos),
                }
            })
        })
    }

    /// The hitboxes a shot with this view is traced against, exactly as the server rebuilds
    /// them (`lagcomp::interpolate_hitboxes` over the two sets in id order), in world units.
    pub fn hitboxes_at(&self, view: ShotView) -> Option<Vec<(PlayerId, Vec2)>> {
        let a: Vec<HitboxSample> = self.get(view.tick_a)?.values().map(EntityState::hitbox).collect();
        let b: Vec<HitboxSample> = self.get(view.tick_b)?.values().map(EntityState::hitbox).collect();
        Some(
            interpolate_hitboxes(&a, &b, view.alpha)
                .into_iter()
                .map(|(q, id)| (id, q_to_pos2(q)))
                .collect(),
        )
    }
}

/// Decides the render time from snapshot arrival times.
#[derive(Clone, Debug)]
pub struct Interpolator {
    tick_rate: f64,
    interval: f64,
    base: Option<Tick>,
    /// Estimated (newest snapshot tick - local ticks), learned from early arrivals.
    offset: f64,
    /// Smoothed lateness of arrivals behind the earliest, in ticks.
    jitter: f64,
    /// Smoothed fraction of snapshots lost.
    loss: f64,
    delay: f64,
    last_render: f64,
    min_render: f64,
}

impl Interpolator {
    /// For a server at `tick_rate` sending a snapshot every `snapshot_interval` ticks.
    pub fn new(tick_rate: u32, snapshot_interval: u32) -> Interpolator {
        let interval = f64::from(snapshot_interval.max(1));
        Interpolator {
            tick_rate: f64::from(tick_rate.max(1)),
            interval,
            base: None,
            offset: 0.0,
            jitter: 0.0,
            loss: 0.0,
            delay: 2.0 * interval,
            last_render: f64::MIN,
            min_render: f64::MIN,
        }
    }

    /// The tick render times are relative to (the first snapshot's).
    pub fn base(&self) -> Option<Tick> {
        self.base
    }

    fn local_ticks(&self, now: Duration) -> f64 {
        now.as_secs_f64() * self.tick_rate
    }

    /// A snapshot of `tick` arrived at `now`; `lost` snapshots were skipped just before it.
    pub fn on_snapshot(&mut self, tick: Tick, now: Duration, lost: u32) {
        let first = self.base.is_none();
        let base = *self.base.get_or_insert(tick);
        let sample = f64::from(tick.diff(base)) - self.local_ticks(now);
        if first {
            self.offset = sample;
        }
        let late = self.offset - sample;
        if late < 0.0 {
            // Earlier than ever expected: our estimate of the server clock was behind.
            self.offset += -late * 0.5;
        } else {
            // Drift slowly toward later arrivals so a one-off early packet does not stick.
            self.offset -= late * 0.01;
        }
        self.jitter += (late.max(0.0) - self.jitter) * 0.05;
        let l = f64::from(lost) / f64::from(lost + 1);
        self.loss += (l - self.loss) * 0.05;
        let want =
            2.0 * self.interval + 2.0 * self.jitter + if self.loss > 0.01 { self.interval } else { 0.0 };
        self.delay += (want - self.delay) * 0.05;
    }

    /// Lower bound of the render time (ticks after `base`): views older than the server's rewind
    /// window would be clamped there and disagree with what we drew.
    pub fn set_min_render(&mut self, min: f64) {
        self.min_render = min;
    }

    /// Current interpolation delay.
    pub fn delay(&self) -> Duration {
        Duration::from_secs_f64(self.delay / self.tick_rate)
    }

    /// Smoothed arrival jitter.
    pub fn jitter(&self) -> Duration {
        Duration::from_secs_f64(self.jitter / self.tick_rate)
    }

    /// Estimated newest server tick at `now`, ticks after `base`.
    pub fn server_now(&self, now: Duration) -> f64 {
        self.local_ticks(now) + self.offset
    }

    /// The render time at `now` (ticks after `base`), never going backwards, never past
    /// `newest`. `commit` records it as the new floor (the tick loop commits; frame draws only
    /// peek so drawing never changes what a shot will carry).
    pub fn render_time(&mut self, now: Duration, newest: f64, commit: bool) -> f64 {
        let mut t = self.server_now(now) - self.delay;
        t = t
            .max(self.min_render)
            .min(newest)
            .max(self.last_render.min(newest));
        if commit {
            self.last_render = t;
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_move_between_both_sets_and_appear_where_the_newer_has_them() {
        // Every player of a set at `x`, each as (id, alive, hidden).
        let players_at = |x: i32, players: &[(u16, bool, bool)]| -> EntitySet {
            players
                .iter()
                .map(|&(id, alive, hidden)| {
                    let state = EntityState {
                        id: PlayerId(id),
                        pos: [x, 7],
                        alive,
                        hidden,
                        ..EntityState::default()
                    };
                    (PlayerId(id), state)
                })
                .collect()
        };
        let mut st = SnapshotStore::default();
        st.insert(
            Tick(10),
            players_at(
                0,
                &[
                    (1, true, false),
                    (2, true, false),
                    (5, true, false),
                    (6, false, false),
                ],
            ),
        );
        st.insert(
            Tick(12),
            players_at(
                100,
                &[
                    (2, true, false),
                    (3, true, false),
                    (5, true, true),
                    (6, true, false),
                ],
            ),
        );
        let v = ShotView {
            tick_a: Tick(10),
            tick_b: Tick(12),
            alpha: (rewind_shared::interp::ALPHA_ONE / 4) as u16,
        };
        let got: Vec<(u16, [i32; 2])> = st.entities_at(v).map(|(s, q)| (s.id.0, q)).collect();
        // 1 left, 5 is hidden at the newer end, 3 is new, 6 respawned (dead at the older end).
        assert_eq!(got, vec![(2, [25, 7]), (3, [100, 7]), (6, [100, 7])]);
    }

    fn set(x: i32) -> EntitySet {
        let mut s = EntitySet::new();
        s.insert(
            PlayerId(1),
            EntityState {
                id: PlayerId(1),
                pos: [x, 0],
                alive: true,
                ..EntityState::default()
            },
        );
        s
    }

    #[test]
    fn view_picks_the_ticks_around_render_time() {
        let mut st = SnapshotStore::default();
        for t in [10u32, 12, 16] {
            assert!(st.insert(Tick(t), set(t as i32 * 16)));
        }
        assert!(
            st.insert(Tick(14), set(14 * 16)),
            "late arrival goes in its place"
        );
        assert!(!st.insert(Tick(12), set(0)), "duplicate refused");
        let v = st.view_at(Tick(10), 3.0).unwrap();
        assert_eq!((v.tick_a, v.tick_b, v.alpha), (Tick(12), Tick(14), 32768));
        let e: Vec<_> = st.entities_at(v).collect();
        assert_eq!(e[0].1, [13 * 16, 0]);
        let v = st.view_at(Tick(10), 99.0).unwrap();
        assert_eq!((v.tick_a, v.tick_b), (Tick(16), Tick(16)));
        let v = st.view_at(Tick(10), -5.0).unwrap();
        assert_eq!((v.tick_a, v.tick_b), (Tick(10), Tick(10)));
        let hb = st
            .hitboxes_at(ShotView {
                tick_a: Tick(12),
                tick_b: Tick(14),
                alpha: 16384,
            })
            .unwrap();
        assert_eq!(hb, vec![(PlayerId(1), q_to_pos2([12 * 16 + 8, 0]))]);
    }

    #[test]
    fn ring_drops_oldest() {
        let mut st = SnapshotStore::default();
        for t in 0..(SNAPSHOT_RING as u32 + 5) {
            st.insert(Tick(t), set(0));
        }
        assert_eq!(st.len(), SNAPSHOT_RING);
        assert!(st.get(Tick(4)).is_none());
        assert!(!st.insert(Tick(1), set(0)));
    }

    #[test]
    fn render_time_trails_newest_by_about_two_intervals_and_grows_with_jitter() {
        let mut it = Interpolator::new(60, 2);
        let tick = Duration::from_secs_f64(1.0 / 60.0);
        for i in 0..200u32 {
            it.on_snapshot(Tick(100 + 2 * i), tick * (2 * i), 0);
        }
        let now = tick * 398;
        let r = it.render_time(now, 398.0, true);
        assert!((r - (398.0 - 4.0)).abs() < 0.5, "{r}");
        let calm = it.delay();
        let mut it2 = Interpolator::new(60, 2);
        for i in 0..200u32 {
            let wobble = if i % 3 == 0 { tick * 3 } else { Duration::ZERO };
            it2.on_snapshot(Tick(100 + 2 * i), tick * (2 * i) + wobble, 0);
        }
        assert!(it2.delay() > calm + tick / 2, "{:?} vs {:?}", it2.delay(), calm);
    }

    #[test]
    fn render_time_never_goes_back_nor_past_newest() {
        let mut it = Interpolator::new(60, 1);
        it.on_snapshot(Tick(0), Duration::ZERO, 0);
        let a = it.render_time(Duration::from_millis(500), 10.0, true);
        assert!(a <= 10.0);
        it.on_snapshot(Tick(40), Duration::from_millis(400), 0);
        let b = it.render_time(Duration::from_millis(300), 40.0, true);
        assert!(b >= a);
    }
}
