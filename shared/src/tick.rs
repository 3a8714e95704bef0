//! Ticks and sequence numbers: the game's clocks.
//!
//! Both are wrapping counters compared relative to each other (the way `bevy_ecs`'s change ticks
//! and yojimbo's `sequence_greater_than` do), so a long match or a 16-bit wire counter never
//! breaks ordering. They deliberately implement no `Ord`: "is `a` newer than `b`" only has a
//! meaning when the two are within half the counter range of each other, and the methods here
//! make that assumption visible at every call site.

use serde::{Deserialize, Serialize};

/// Largest change of a client's local tick rate while it steers its input lead, as a fraction.
/// Shared because the server leans on it: a client's view age (shot tick − view time) moves with
/// its lead, so the steadiness rule follows a drifting age no faster than this.
pub const MAX_DILATION: f32 = 0.08;
/// Ticks in which a client's steering removes most (1 − 1/e) of a lead error: it changes its rate
/// by 1/`STEERING_TICKS` per tick of error (until `MAX_DILATION`), so the error decays as
/// e^(−t / `STEERING_TICKS`), and so does the drift of its view age.
pub const STEERING_TICKS: f32 = 50.0;

/// One fixed simulation step of the server. At 60 Hz a `u32` lasts two years before it wraps,
/// but comparisons still go through wrapping differences so a wrap is harmless.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tick(pub u32);

/// A per-sender packet or input sequence number, 16 bits on the wire to stay small.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Seq(pub u16);

impl Tick {
    /// Signed distance `self - other`, correct across wrap-around as long as the two ticks are
    /// less than 2^31 apart.
    pub fn diff(self, other: Tick) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// True when `self` comes strictly after `other`.
    pub fn is_after(self, other: Tick) -> bool {
        self.diff(other) > 0
    }

    /// The tick `n` steps later (negative `n` goes back).
    pub fn offset(self, n: i32) -> Tick {
        Tick(self.0.wrapping_add(n as u32))
    }

    /// The next tick.
    pub fn next(self) -> Tick {
        self.offset(1)
    }
}

impl Seq {
    /// Signed distance `self - other`: 0 is one newer than 65535.
    pub fn diff(self, other: Seq) -> i16 {
        self.0.wrapping_sub(other.0) as i16
    }

    /// True when `self` comes strictly after `other` (within half the range).
    pub fn is_after(self, other: Seq) -> bool {
        self.diff(other) > 0
    }

    /// The sequence `n` steps later (negative `n` goes back).
    pub fn offset(self, n: i16) -> Seq {
        Seq(self.0.wrapping_add(n as u16))
    }

    /// The next sequence number.
    pub fn next(self) -> Seq {
        self.offset(1)
    }
}

impl std::fmt::Display for Tick {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tick {}", self.0)
    }
}

impl std::fmt::Display for Seq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "seq {}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn zero_is_newer_than_max_sequence() {
        assert!(Seq(0).is_after(Seq(65535)));
        assert!(!Seq(65535).is_after(Seq(0)));
        assert_eq!(Seq(0).diff(Seq(65535)), 1);
        assert!(Tick(0).is_after(Tick(u32::MAX)));
    }

    proptest! {
        #[test]
        fn seq_offset_round_trips_across_wrap(a in any::<u16>(), n in -32767i16..=32767) {
            let b = Seq(a).offset(n);
            prop_assert_eq!(b.diff(Seq(a)), n);
            prop_assert_eq!(b.is_after(Seq(a)), n > 0);
            prop_assert_eq!(Seq(a).is_after(b), n < 0);
        }

        #[test]
        fn tick_offset_round_trips_across_wrap(a in any::<u32>(), n in -(i32::MAX)..=i32::MAX) {
            let b = Tick(a).offset(n);
            prop_assert_eq!(b.diff(Tick(a)), n);
            prop_assert_eq!(b.is_after(Tick(a)), n > 0);
        }
    }
}
