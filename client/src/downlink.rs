//! The snapshot stream down from the server: deltas applied to kept baselines, and what was lost.
//!
//! Snapshot datagrams arrive lost, duplicated, late or garbled. This part turns them into entity
//! sets in the `SnapshotStore` and acks in the `AckWindow` (which the server reads to choose the
//! next baselines), and counts what went wrong. What a kept snapshot then means for the game
//! (prediction, clock sync, interpolation) is the session's business.

use crate::interpolation::SnapshotStore;
use rewind_shared::ack::AckWindow;
use rewind_shared::codec::decode_snapshot;
use rewind_shared::protocol::{MAX_DATAGRAM, SnapshotPacket};
use rewind_shared::snapshot::{EntitySet, apply_delta};
use rewind_shared::tick::Seq;
use serde::Serialize;
use std::time::Duration;

/// Snapshot counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SnapshotCounters {
    /// Snapshots decoded and kept.
    pub received: u64,
    /// Sequences skipped (never seen, as of now).
    pub lost: u64,
    /// Copies of snapshots already received.
    pub duplicates: u64,
    /// Snapshots older than the newest (still used for interpolation).
    pub reordered: u64,
    /// Deltas against a baseline we no longer (or never) had.
    pub missing_baseline: u64,
    /// Datagrams that did not decode or whose delta was invalid.
    pub bad_packets: u64,
    /// Longest time without any new snapshot, in milliseconds (stalls of the stream).
    pub max_gap_ms: u64,
}

impl std::ops::AddAssign for SnapshotCounters {
    /// Counters of two streams (before and after a resume) as one: sums, and the longer gap.
    fn add_assign(&mut self, o: SnapshotCounters) {
        self.received += o.received;
        self.lost += o.lost;
        self.duplicates += o.duplicates;
        self.reordered += o.reordered;
        self.missing_baseline += o.missing_baseline;
        self.bad_packets += o.bad_packets;
        self.max_gap_ms = self.max_gap_ms.max(o.max_gap_ms);
    }
}

impl SnapshotCounters {
    /// Fraction of the snapshot sequences sent so far that never arrived (0 before any arrived).
    pub fn loss(&self) -> f32 {
        let expected = self.received + self.lost;
        if expected == 0 {
            0.0
        } else {
            self.lost as f32 / expected as f32
        }
    }
}

/// A snapshot the downlink kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kept {
    /// Its tick is newer than any kept before: it speaks for the present (prediction, clock);
    /// an older one only fills a hole for interpolation.
    pub newest: bool,
    /// Sequences skipped just before it (0 unless it moved the highest sequence on by more than one).
    pub skipped: u32,
}

/// The receiving side of the snapshots.
#[derive(Debug, Default)]
pub struct Downlink {
    /// Entity sets by tick: baselines for the next deltas, and what interpolation draws.
    store: SnapshotStore,
    /// Sequences kept, sent back with every input datagram.
    acks: AckWindow,
    /// Highest sequence kept.
    highest: Option<Seq>,
    /// What went wrong, and how often.
    counters: SnapshotCounters,
    /// When the last snapshot was kept (not windowed: a stall of any length counts).
    last_arrival: Option<Duration>,
}

impl Downlink {
    /// Decodes a datagram with the size limit; garbage is counted and dropped (it comes from the
    /// network and may be anything).
    pub fn decode(&mut self, bytes: &[u8]) -> Option<SnapshotPacket> {
        match decode_snapshot(bytes, MAX_DATAGRAM) {
            Ok(pkt) => Some(pkt),
            Err(e) => {
                self.counters.bad_packets += 1;
                tracing::debug!("bad snapshot datagram: {e}");
                None
            }
        }
    }

    /// Applies a decoded snapshot at `now`. `None` when it is dropped: a copy of one already
    /// kept, a delta against a baseline no longer (or never) held, or a delta that does not apply.
    /// A late snapshot is kept (interpolation can use it) and no longer counts as lost.
    pub fn on_snapshot(&mut self, pkt: &SnapshotPacket, now: Duration) -> Option<Kept> {
        if self.acks.contains(pkt.seq) || self.store.get(pkt.tick).is_some() {
            self.counters.duplicates += 1;
            return None;
        }
        let empty = EntitySet::new();
        let base = match pkt.baseline {
            None => &empty,
            Some(t) => match self.store.get(t) {
                Some(b) => b,
                None => {
                    self.counters.missing_baseline += 1;
                    return None;
                }
            },
        };
        let set = match apply_delta(base, &pkt.removed, &pkt.entities) {
            Ok(s) => s,
            Err(e) => {
                self.counters.bad_packets += 1;
                tracing::debug!("bad snapshot delta: {e}");
                return None;
            }
        };
        let newest = self.store.newest().is_none_or(|n| pkt.tick.is_after(n));
        if !self.store.insert(pkt.tick, set) {
            // Older than the whole ring: nothing to draw it with.
            self.counters.duplicates += 1;
            return None;
        }
        self.acks.record(pkt.seq);
        self.counters.received += 1;
        let mut skipped = 0u32;
        match self.highest {
            None => self.highest = Some(pkt.seq),
            Some(h) if pkt.seq.is_after(h) => {
                skipped = (pkt.seq.diff(h) - 1) as u32;
                self.counters.lost += u64::from(skipped);
                self.highest = Some(pkt.seq);
            }
            Some(_) => {
                // A late one we had counted as lost.
                self.counters.lost = self.counters.lost.saturating_sub(1);
                self.counters.reordered += 1;
            }
        }
        if newest && let Some(prev) = self.last_arrival {
            let gap = now.saturating_sub(prev).as_millis() as u64;
            self.counters.max_gap_ms = self.counters.max_gap_ms.max(gap);
        }
        self.last_arrival = Some(now);
        Some(Kept { newest, skipped })
    }

    /// The snapshots kept.
    pub fn store(&self) -> &SnapshotStore {
        &self.store
    }

    /// The snapshots kept, by sequence, as the next input datagram reports them.
    pub fn acks(&self) -> AckWindow {
        self.acks
    }

    /// The counters so far.
    pub fn counters(&self) -> SnapshotCounters {
        self.counters
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rewind_shared::codec::encode_snapshot;
    use rewind_shared::player::PlayerId;
    use rewind_shared::snapshot::{EntityDelta, EntityState, delta};
    use rewind_shared::tick::Tick;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn entity(id: u16, x: i32) -> EntityState {
        EntityState {
            id: PlayerId(id),
            pos: [x, 0],
            health: 100,
            alive: true,
            ..EntityState::default()
        }
    }

    /// Snapshot `seq` of tick `tick`: `entities` as a delta against `baseline` (holding `base`).
    fn pkt(
        seq: u16,
        tick: u32,
        baseline: Option<(u32, &[EntityState])>,
        entities: &[EntityState],
    ) -> SnapshotPacket {
        let base: EntitySet = baseline
            .map(|(_, b)| b.iter().map(|e| (e.id, *e)).collect())
            .unwrap_or_default();
        SnapshotPacket {
            seq: Seq(seq),
            tick: Tick(tick),
            baseline: baseline.map(|(t, _)| Tick(t)),
            last_input: None,
            input_lead: 0,
            you: None,
            removed: Vec::new(),
            entities: entities
                .iter()
                .filter_map(|e| delta(base.get(&e.id), e))
                .collect(),
        }
    }

    fn full(seq: u16, tick: u32) -> SnapshotPacket {
        pkt(seq, tick, None, &[entity(1, tick as i32)])
    }

    #[test]
    fn a_copy_of_a_kept_snapshot_is_a_duplicate() {
        let mut d = Downlink::default();
        assert!(d.on_snapshot(&full(0, 10), MS(0)).is_some());
        assert_eq!(d.on_snapshot(&full(0, 10), MS(5)), None, "same sequence");
        assert_eq!(
            d.on_snapshot(&full(1, 10), MS(6)),
            None,
            "same tick, new sequence"
        );
        let c = d.counters();
        assert_eq!((c.received, c.duplicates, c.lost), (1, 2, 0));
        assert!(!d.acks().contains(Seq(1)));
    }

    #[test]
    fn a_delta_against_a_baseline_never_held_is_dropped_unacked() {
        let mut d = Downlink::default();
        let was = [entity(1, 0)];
        assert_eq!(
            d.on_snapshot(&pkt(5, 12, Some((10, &was)), &[entity(1, 4)]), MS(0)),
            None
        );
        assert_eq!(d.counters().missing_baseline, 1);
        assert_eq!(d.counters().received, 0);
        assert!(
            !d.acks().contains(Seq(5)),
            "not acked, so the server stops using that baseline"
        );
        assert!(d.store().is_empty());
    }

    #[test]
    fn a_delta_applies_to_its_baseline() {
        let mut d = Downlink::default();
        let base = [entity(1, 0), entity(2, 50)];
        d.on_snapshot(&pkt(0, 10, None, &base), MS(0));
        let mut next = pkt(1, 12, Some((10, &base)), &[entity(1, 4), entity(2, 50)]);
        assert_eq!(next.entities.len(), 1, "only the mover is sent");
        next.removed = vec![PlayerId(2)];
        assert!(d.on_snapshot(&next, MS(33)).is_some());
        let set = d.store().get(Tick(12)).expect("kept");
        assert_eq!(set.values().copied().collect::<Vec<_>>(), vec![entity(1, 4)]);
    }

    #[test]
    fn skipped_sequences_are_lost_until_they_arrive_late() {
        let mut d = Downlink::default();
        assert_eq!(
            d.on_snapshot(&full(0, 10), MS(0)),
            Some(Kept {
                newest: true,
                skipped: 0
            })
        );
        assert_eq!(
            d.on_snapshot(&full(3, 16), MS(100)),
            Some(Kept {
                newest: true,
                skipped: 2
            })
        );
        assert_eq!(d.counters().lost, 2);
        assert_eq!(
            d.on_snapshot(&full(2, 14), MS(110)),
            Some(Kept {
                newest: false,
                skipped: 0
            })
        );
        let c = d.counters();
        assert_eq!((c.received, c.lost, c.reordered), (3, 1, 1));
        assert!((c.loss() - 0.25).abs() < 1e-6, "{}", c.loss());
    }

    #[test]
    fn lost_counts_across_the_sequence_wrap() {
        let mut d = Downlink::default();
        d.on_snapshot(&full(u16::MAX, 10), MS(0));
        let kept = d.on_snapshot(&full(1, 14), MS(60)).expect("kept");
        assert_eq!(kept.skipped, 1, "only 0 is missing between 65535 and 1");
        assert_eq!(d.counters().lost, 1);
    }

    #[test]
    fn garbage_and_bad_deltas_are_counted_and_dropped() {
        let mut d = Downlink::default();
        assert_eq!(d.decode(&[0xff, 0x13, 0x37]), None);
        let ok = encode_snapshot(&full(0, 10)).expect("encode");
        assert_eq!(d.decode(&ok), Some(full(0, 10)));
        let mut bad = full(1, 12);
        bad.entities = vec![EntityDelta {
            id: PlayerId(1),
            mask: 0b11,
            diffs: [1].into(),
        }];
        assert_eq!(d.on_snapshot(&bad, MS(0)), None);
        assert_eq!(d.counters().bad_packets, 2);
        assert!(d.store().is_empty());
    }

    #[test]
    fn the_longest_stall_is_measured_between_new_snapshots() {
        let mut d = Downlink::default();
        d.on_snapshot(&full(0, 10), MS(0));
        d.on_snapshot(&full(1, 12), MS(30));
        // Much longer than the net graph's one-second window.
        d.on_snapshot(&full(3, 16), MS(2530));
        d.on_snapshot(&full(4, 18), MS(2560));
        assert_eq!(d.counters().max_gap_ms, 2500);
        // A late one is not a new snapshot: it measures no gap (but restarts the wait).
        d.on_snapshot(&full(2, 14), MS(5000));
        assert_eq!(d.counters().max_gap_ms, 2500);
    }
}
