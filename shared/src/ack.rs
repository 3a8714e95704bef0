//! Acknowledgement window: the latest sequence received plus a bitfield of the 64 before it.
//!
//! The receiver keeps one and sends it back in every packet; the sender reads it to learn which of
//! its recent packets arrived (for snapshot baselines and for trimming redundant inputs). Because
//! every packet repeats the whole window, losing an ack costs nothing.

use crate::tick::Seq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How many sequences before `latest` the bitfield covers.
pub const ACK_BITS: u16 = 64;

/// How many sequences before `latest` a datagram reports (the low bits of `bits`). Every input
/// datagram carries the window, so a snapshot's arrival is reported in every datagram sent while
/// it is among the 16 newest: half a second of datagrams at 30 snapshots a second. The whole 64
/// cost 8 bytes more on each of 60 datagrams a second (`bits` is nearly all ones, which the
/// serializer's varint writes as 9 bytes).
pub const ACK_WIRE_BITS: u32 = 16;

/// What a receiver has seen. On the wire (PROTOCOL.md 7.2): `None` as one byte `00`, else `01`,
/// `latest` as `u16` LE and the first `ACK_WIRE_BITS` of `bits` as `u16` LE.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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

    /// How many sequences back from `latest` the oldest one reported is (0 when only `latest`
    /// is): nothing older can be in the window, so a sender looking for news in its sent ring
    /// stops there (on the wire that is at most `ACK_WIRE_BITS`, a quarter of the ring).
    pub fn span(&self) -> u16 {
        (u64::BITS - self.bits.leading_zeros()) as u16
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

impl Serialize for AckWindow {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.latest
            .map(|l| {
                let [a, b] = l.0.to_le_bytes();
                let [c, d] = (self.bits as u16).to_le_bytes();
                [a, b, c, d]
            })
            .serialize(s)
    }
}

impl<'de> Deserialize<'de> for AckWindow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<AckWindow, D::Error> {
        Ok(match Option::<[u8; 4]>::deserialize(d)? {
            None => AckWindow::default(),
            Some([a, b, c, d]) => AckWindow {
                latest: Some(Seq(u16::from_le_bytes([a, b]))),
                bits: u64::from(u16::from_le_bytes([c, d])),
            },
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

    #[test]
    fn the_wire_carries_the_newest_sixteen() {
        let mut w = AckWindow::default();
        assert_eq!(crate::codec::encode(&w).unwrap(), [0]);
        for s in 0..40 {
            w.record(Seq(s));
        }
        let bytes = crate::codec::encode(&w).unwrap();
        assert_eq!(bytes, [1, 39, 0, 0xff, 0xff]);
        let back: AckWindow = crate::codec::decode(&bytes, 5).unwrap();
        assert_eq!(back.iter().count(), 17);
        assert!(back.contains(Seq(23)) && !back.contains(Seq(22)));
        assert_eq!(back.span(), 16, "nothing older than 16 back");
        assert_eq!(w.span(), 39, "0 to 38 behind 39");
        assert_eq!(AckWindow::default().span(), 0);
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
                // Nothing reported lies beyond the span.
                if expect {
                    prop_assert!(newest - o <= w.span());
                }
            }
        }
    }
}
