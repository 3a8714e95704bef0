//! Acknowledgement window: the latest sequence received plus a bitfield of the 64 before it.
//!
//! The receiver keeps one and sends it back in every packet; the sender reads it to learn which of
//! its recent packets arrived (for snapshot baselines and for trimming redundant inputs). Because
//! every packet repeats the whole window, losing an ack costs nothing.

use crate::tick::Seq;
use serde::{Deserialize, Serialize};

/// How many sequences before `latest` the bitfield covers.
pub const ACK_BITS: u16 = 64;

/// What a receiver has seen, as sent on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckWindow {
    /// Newest sequence received, `None` before the first.
    pub latest: Option<Seq>,
    /// Bit `i` set means `latest - 1 - i` was received.
    pub bits: u64,
}

impl AckWindow {
    /// Records that `seq` arrived. Sequences older than the window are ignored.
    pub fn record(&mut self, seq: Seq) {
        let Some(latest) = self.latest else {
            self.latest = Some(seq);
            self.bits = 0;
            return;
        };
        let d = seq.diff(latest);
        if d > 0 {
            let shift = d as u32;
            self.bits = if shift > u64::BITS {
                0
            } else {
                // The old `latest` becomes bit `shift - 1`.
                let moved = self.bits.checked_shl(shift).unwrap_or(0);
                moved | 1u64.checked_shl(shift - 1).unwrap_or(0)
            };
            self.latest = Some(seq);
        } else if d < 0 && (-d as u16) <= ACK_BITS {
            self.bits |= 1u64 << ((-d) as u32 - 1);
        }
    }

    /// Whether `seq` is known to have arrived.
    pub fn contains(&self, seq: Seq) -> bool {
        let Some(latest) = self.latest else {
            return false;
        };
        let d = latest.diff(seq);
        match d {
            0 => true,
            1..=64 => self.bits & (1u64 << (d as u32 - 1)) != 0,
            _ => false,
        }
    }

    /// Every sequence the window reports as received, newest first.
    pub fn iter(&self) -> impl Iterator<Item = Seq> + '_ {
        let latest = self.latest;
        latest.into_iter().flat_map(move |l| {
            std::iter::once(l).chain(
                (1..=ACK_BITS)
                    .filter(move |i| self.bits & (1u64 << (i - 1)) != 0)
                    .map(move |i| l.offset(-(i as i16))),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn window_across_wrap() {
        let mut w = AckWindow::default();
        w.record(Seq(65534));
        w.record(Seq(1));
        assert!(w.contains(Seq(65534)));
        assert!(w.contains(Seq(1)));
        assert!(!w.contains(Seq(0)));
        assert!(!w.contains(Seq(65535)));
        assert_eq!(w.iter().collect::<Vec<_>>(), vec![Seq(1), Seq(65534)]);
    }

    proptest! {
        /// Whatever order packets arrive in, the window reports exactly those received within
        /// 64 of the newest.
        #[test]
        fn window_matches_received_set(start in any::<u16>(), offsets in proptest::collection::vec(0u16..200, 1..100)) {
            let mut w = AckWindow::default();
            let mut got = BTreeSet::new();
            for o in &offsets {
                w.record(Seq(start.wrapping_add(*o)));
                got.insert(*o);
            }
            let newest = *got.iter().max().unwrap_or(&0);
            for o in 0u16..200 {
                let expect = got.contains(&o) && newest - o <= ACK_BITS;
                prop_assert_eq!(w.contains(Seq(start.wrapping_add(o))), expect, "offset {}", o);
            }
        }
    }
}
