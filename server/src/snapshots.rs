//! Per-client snapshot state: what was sent, what was acked, and the next delta.
//!
//! The server remembers, for each of the last `SENT_RING` snapshots it sent a client, the entity
//! set that client will hold once it applies it. An ack window in the client's input datagrams
//! marks them received; the newest received one still remembered is the baseline of the next
//! delta. No ack yet (or all too old) means a full snapshot.

use rewind_shared::ack::AckWindow;
use rewind_shared::codec::encode;
use rewind_shared::player::{PlayerId, PlayerState};
use rewind_shared::protocol::SnapshotPacket;
use rewind_shared::snapshot::{EntitySet, build_delta};
use rewind_shared::tick::{Seq, Tick};
use std::collections::VecDeque;
use std::sync::Arc;

/// Snapshots remembered per client for use as baselines.
pub const SENT_RING: usize = 64;

#[derive(Debug)]
struct Sent {
    seq: Seq,
    tick: Tick,
    /// Shared with every other client that received everything this tick.
    set: Arc<EntitySet>,
    acked: bool,
}

/// One client's snapshot stream.
#[derive(Debug, Default)]
pub struct SnapshotStream {
    next_seq: Seq,
    sent: VecDeque<Sent>,
    /// Entities currently left out for lack of room, and since when (staleness for priority).
    deferred_since: std::collections::BTreeMap<PlayerId, Tick>,
    /// Entities left out of snapshots for lack of room, since the start.
    pub deferred: u64,
}

/// What to put in one snapshot besides the entities.
#[derive(Clone, Copy, Debug)]
pub struct SnapshotMeta {
    /// Tick just simulated.
    pub tick: Tick,
    /// Newest input applied for this client.
    pub last_input: Option<Seq>,
    /// Input lead (see `InputBuffer::lead`).
    pub input_lead: i16,
}

impl SnapshotStream {
    /// Marks the snapshots the client reports as received; true if any was news.
    pub fn on_ack(&mut self, ack: &AckWindow) -> bool {
        let mut news = false;
        for s in &mut self.sent {
            if !s.acked && ack.contains(s.seq) {
                s.acked = true;
                news = true;
            }
        }
        news
    }

    /// Builds the next snapshot for a client whose own player is `you`, fitting `max_bytes`.
    pub fn build(
        &mut self,
        meta: SnapshotMeta,
        current: &Arc<EntitySet>,
        you: Option<&PlayerState>,
        max_bytes: usize,
    ) -> SnapshotPacket {
        let empty = EntitySet::new();
        let base = self.sent.iter().rev().find(|s| s.acked);
        let (baseline, base_set) = base.map_or((None, &empty), |s| (Some(s.tick), s.set.as_ref()));
        let mut packet = SnapshotPacket {
            seq: self.next_seq,
            tick: meta.tick,
            baseline,
            last_input: meta.last_input,
            input_lead: meta.input_lead,
            you: you.copied(),
            removed: Vec::new(),
            entities: Vec::new(),
        };
        let overhead = encode(&packet).map(|b| b.len()).unwrap_or(max_bytes);
        let built = build_delta(
            base_set,
            current,
            || self.priority(current, you, meta.tick),
            max_bytes.saturating_sub(overhead + 8),
            rewind_shared::snapshot::EntityDelta::encoded_len,
        );
        let set = match built.result {
            None => {
                self.deferred_since.clear();
                Arc::clone(current)
            }
            Some(held) => {
                // Whatever differs from the current state now was deferred: remember since when.
                self.deferred_since
                    .retain(|id, _| held.get(id) != current.get(id));
                for (id, e) in current.iter() {
                    if held.get(id) != Some(e) {
                        self.deferred_since.entry(*id).or_insert(meta.tick);
                    }
                }
                Arc::new(held)
            }
        };
        self.deferred += built.deferred as u64;
        packet.removed = built.removed;
        packet.entities = built.entities;
        if self.sent.len() >= SENT_RING {
            self.sent.pop_front();
        }
        self.sent.push_back(Sent {
            seq: self.next_seq,
            tick: meta.tick,
            set,
            acked: false,
        });
        self.next_seq = self.next_seq.next();
        packet
    }

    /// Own player first, then by distance discounted by how long the entity has been waiting
    /// (nearest and most stale first). Only asked when a snapshot does not fit.
    fn priority(&self, current: &EntitySet, you: Option<&PlayerState>, tick: Tick) -> Vec<PlayerId> {
        let Some(me) = you else {
            return current.keys().copied().collect();
        };
        let origin = rewind_shared::quant::pos2_to_q(me.body.pos);
        let mut scored: Vec<(i64, PlayerId)> = current
            .values()
            .map(|e| {
                if e.id == me.id {
                    return (i64::MIN, e.id);
                }
                let dx = i64::from(e.pos[0]) - i64::from(origin[0]);
                let dy = i64::from(e.pos[1]) - i64::from(origin[1]);
                let dist = ((dx * dx + dy * dy) as f64).sqrt() as i64;
                let stale = self
                    .deferred_since
                    .get(&e.id)
                    .map_or(0, |t| i64::from(tick.diff(*t)));
                (dist - stale * 256, e.id)
            })
            .collect();
        scored.sort();
        scored.into_iter().map(|(_, id)| id).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rewind_shared::snapshot::{EntityState, apply_delta};

    fn set(n: u16, x: i32) -> Arc<EntitySet> {
        (0..n)
            .map(|i| {
                (
                    PlayerId(i),
                    EntityState {
                        id: PlayerId(i),
                        pos: [x, i32::from(i)],
                        ..Default::default()
                    },
                )
            })
            .collect::<EntitySet>()
            .into()
    }

    fn meta(t: u32) -> SnapshotMeta {
        SnapshotMeta {
            tick: Tick(t),
            last_input: None,
            input_lead: 0,
        }
    }

    #[test]
    fn first_snapshot_is_full_then_deltas_follow_acks() {
        let mut s = SnapshotStream::default();
        let p1 = s.build(meta(1), &set(4, 10), None, 1200);
        assert_eq!(p1.baseline, None);
        let client1 = apply_delta(&EntitySet::new(), &p1.removed, &p1.entities).unwrap();
        assert_eq!(client1, *set(4, 10));
        // Not acked yet: still full.
        let p2 = s.build(meta(2), &set(4, 11), None, 1200);
        assert_eq!(p2.baseline, None);
        let mut ack = AckWindow::default();
        ack.record(p1.seq);
        s.on_ack(&ack);
        let p3 = s.build(meta(3), &set(3, 12), None, 1200);
        assert_eq!(p3.baseline, Some(Tick(1)));
        assert_eq!(p3.removed, vec![PlayerId(3)]);
        let client3 = apply_delta(&client1, &p3.removed, &p3.entities).unwrap();
        assert_eq!(client3, *set(3, 12));
        let full = rewind_shared::codec::encode(&p2).unwrap().len();
        let delta = rewind_shared::codec::encode(&p3).unwrap().len();
        assert!(delta < full, "delta {delta} should be smaller than full {full}");
    }

    #[test]
    fn oversized_sets_are_spread_over_snapshots() {
        let mut s = SnapshotStream::default();
        let big = set(200, 5000);
        let p = s.build(meta(1), &big, None, 600);
        assert!(rewind_shared::codec::encode(&p).unwrap().len() <= 600);
        assert!(s.deferred > 0);
    }
}
