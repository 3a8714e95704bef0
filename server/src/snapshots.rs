//! Per-client snapshot state: what was sent, what was acked, and the next delta.
//!
//! The server remembers, for each of the last `SENT_RING` snapshots it sent a client, the entity
//! set that client will hold once it applies it. An ack window in the client's input datagrams
//! marks them received; the newest received one still remembered is the baseline of the next
//! delta. No ack yet (or all too old) means a full snapshot.

use crate::view_age::{AgeVerdict, ViewAge, tolerance};
use rewind_shared::ack::AckWindow;
use rewind_shared::codec::encode_snapshot;
use rewind_shared::input::ShotView;
use rewind_shared::interp::{ALPHA_ONE, alpha_from_fraction};
use rewind_shared::lagcomp::{HitboxSample, interpolate_hitboxes};
use rewind_shared::player::{PlayerId, PlayerState};
use rewind_shared::protocol::SnapshotPacket;
use rewind_shared::snapshot::{DeltaScratch, EntitySet, build_delta_in};
use rewind_shared::snapshot::{EntityDelta, EntityState};
use rewind_shared::tick::{Seq, Tick};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

/// Snapshots remembered per client for use as baselines.
pub const SENT_RING: usize = 64;

#[derive(Debug)]
struct Sent {
    seq: Seq,
    tick: Tick,
    /// Shared with every other client that received everything this tick.
    set: Arc<EntitySet>,
    acked: bool,
    /// When it was handed to the transport (for round-trip samples).
    at: Duration,
}

/// Round-trip estimate from snapshot acknowledgements (RFC 6298's smoothing), in seconds.
#[derive(Clone, Copy, Debug)]
struct RttEstimate {
    srtt: f64,
    rttvar: f64,
}

/// One client's snapshot stream.
#[derive(Debug, Default)]
pub struct SnapshotStream {
    next_seq: Seq,
    sent: VecDeque<Sent>,
    /// Entities currently left out for lack of room, and since when (staleness for priority).
    /// In id order: built in one pass and read in one walk per snapshot (a map's nodes cost more
    /// than the walks over a big server's deferred players).
    deferred_since: Vec<(PlayerId, Tick)>,
    /// Entities left out of snapshots for lack of room, since the start.
    pub deferred: u64,
    rtt: Option<RttEstimate>,
    lead_hint: i16,
    /// The input lead smoothed over snapshots (the steadiness rule follows it across pauses).
    lead_avg: Option<f64>,
    /// The first snapshot the client acknowledged: until its render time passes it, the client
    /// shows it as it is.
    first_acked: Option<Tick>,
    /// Smoothed fraction of snapshots that left the ring unacknowledged.
    loss: f64,
    /// The running age of this client's shot views (`view_age`).
    steady: ViewAge,
}

/// Weight of a snapshot's input lead in the smoothed lead: the client smooths the lead the server
/// reports the same way before it steers.
const LEAD_SMOOTHING: f64 = 0.1;

/// Loss above which the reference client adds an interval of interpolation delay.
const LOSSY: f64 = 0.01;

/// What a shot's view may be. An honest client draws remote players between two snapshots it
/// received, `interp_delay` behind the newest, and fires `input_lead` ticks ahead of the server,
/// so the view of a shot simulated at tick T is `T − tick_b = lead + RTT + delay` ticks old. The
/// reference client's delay is 2 snapshot intervals, plus 2× its measured arrival jitter, plus
/// one interval when it sees more than 1 % loss (`client::interpolation`). The server allows
/// `lead + (srtt + 4·rttvar) + 2·rttvar + 2·interval (+ interval if more than 1 % of the
/// snapshots it sent this client went unacknowledged) + VIEW_SLACK_TICKS`: 4·rttvar covers the
/// round trip's jitter (as TCP's retransmission timer does), 2·rttvar the client's jitter term
/// (one-way jitter is at most the round trip's), and the slack the tick rounding on both sides
/// and the client's wait before it acknowledges. The less slack, the less a backtracking client
/// can choose: on loopback an honest view is about 5 ticks old and the allowance about 7. Beyond that, a view is clamped to the oldest
/// snapshot the client could have drawn; a view between snapshots more than `MAX_GAP_INTERVALS`
/// apart, or naming a snapshot the server never sent this client or the client never
/// acknowledged, is refused.
#[derive(Clone, Copy, Debug)]
pub struct ViewRules {
    /// Simulation ticks per second.
    pub tick_rate: u32,
    /// Ticks between snapshots.
    pub interval: u32,
}

/// How old, in fractional ticks, the view of a shot fired at `tick` is.
pub fn view_age(view: ShotView, tick: Tick) -> f64 {
    let frac = f64::from(view.alpha) / ALPHA_ONE as f64;
    let at = f64::from(view.tick_a.diff(tick)) + frac * f64::from(view.tick_b.diff(view.tick_a));
    -at
}

/// Ticks of slack in the age rule.
pub const VIEW_SLACK_TICKS: i32 = 2;
/// Widest interval a view may interpolate across, in snapshot intervals (three snapshots lost
/// in a row; the reference client then still interpolates between what it has).
pub const MAX_GAP_INTERVALS: i32 = 4;

impl ViewRules {
    /// At least `MAX_GAP_INTERVALS` ticks of 60 Hz (67 ms) whatever the tick rate: at 128 Hz the
    /// link's jitter reorders snapshots across more ticks, and a client whose next snapshots are
    /// still on the way draws between the last it has and a newer one that overtook them
    /// (measured: a gap of 5 ticks at ±20 ms jitter, refused as 4 intervals).
    fn max_gap(&self) -> i32 {
        let at_60 = (f64::from(MAX_GAP_INTERVALS) * f64::from(self.tick_rate) / 60.0).round() as i32;
        (MAX_GAP_INTERVALS * self.interval.max(1) as i32).max(at_60)
    }

    fn max_age(&self, rtt: RttEstimate, lead: i16, lossy: bool) -> i32 {
        let secs = rtt.srtt + 6.0 * rtt.rttvar;
        let rtt_ticks = (secs * f64::from(self.tick_rate)).ceil() as i32;
        let interval = self.interval.max(1) as i32;
        let delay = 2 * interval + if lossy { interval } else { 0 };
        i32::from(lead.max(0)) + rtt_ticks + delay + VIEW_SLACK_TICKS
    }

    /// The newest view an honest client could claim: it draws at least one interval behind the
    /// newest snapshot it has (its delay is two intervals and `tick_b` rounds up by at most one),
    /// and that snapshot left the server at least a round trip, less its jitter, before the shot.
    fn min_age(&self, rtt: RttEstimate, lead: i16) -> i32 {
        let secs = (rtt.srtt - 4.0 * rtt.rttvar).max(0.0);
        let rtt_ticks = (secs * f64::from(self.tick_rate)).floor() as i32;
        (i32::from(lead.max(0)) - 1).max(0) + rtt_ticks + self.interval.max(1) as i32 - VIEW_SLACK_TICKS
    }
}

/// The server's judgement of a shot's view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewVerdict {
    /// As claimed.
    Valid,
    /// Outside what this client could have drawn, or away from its steady view age: replaced by
    /// the nearest view it could have drawn, and the rule that did it.
    Clamped(ShotView, ClampRule),
    /// Not a view this client could have drawn at all: no hit possible.
    Refused(ViewFault),
}

/// Which rule replaced a shot's view. An honest client pulled back by the steadiness rule and a
/// searching one pulled back by the latency band give the same verdict; the logs tell them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClampRule {
    /// Newer than the client's round trip lets it have drawn.
    TooNew,
    /// Away from the client's running view age (`view_age`).
    Unsteady,
    /// Older than the client's latency allows.
    TooOld,
}

/// Why a view was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewFault {
    /// Backwards, or newer than the shot.
    Impossible,
    /// Names a snapshot never sent to this client (or no longer remembered).
    NotSent,
    /// Names a snapshot the client has not acknowledged.
    NotReceived,
    /// Interpolates across more than `MAX_GAP_INTERVALS`.
    Gap,
    /// Older than allowed, and no snapshot the client received is recent enough.
    TooOld,
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
    /// When the snapshot goes out (core time).
    pub sent_at: Duration,
}

impl SnapshotStream {
    /// Marks the snapshots the client reports as received at `now`; true if any was news. The
    /// newest newly acknowledged one gives a round-trip sample (it includes the client's wait
    /// for its next input datagram, at most a client tick, which the view rules allow for).
    pub fn on_ack(&mut self, ack: &AckWindow, now: Duration) -> bool {
        let mut newest = None;
        let mut oldest = None;
        // Newest first, and no further back than the window reaches (the sequences in the ring
        // are consecutive): a big server takes an ack from every client 60 times a second.
        let Some(latest) = ack.latest else {
            return false;
        };
        for s in self.sent.iter_mut().rev() {
            let back = latest.diff(s.seq);
            if i32::from(back) > i32::from(ack.span()) {
                break;
            }
            if !s.acked && ack.contains(s.seq) {
                s.acked = true;
                newest = newest.or(Some(s.at));
                oldest = Some(s.tick);
            }
        }
        if self.first_acked.is_none() {
            self.first_acked = oldest;
        }
        if let Some(at) = newest {
            let r = now.saturating_sub(at).as_secs_f64();
            self.rtt = Some(match self.rtt {
                None => RttEstimate {
                    srtt: r,
                    rttvar: r / 2.0,
                },
                Some(e) => RttEstimate {
                    rttvar: 0.75 * e.rttvar + 0.25 * (e.srtt - r).abs(),
                    srtt: 0.875 * e.srtt + 0.125 * r,
                },
            });
        }
        newest.is_some()
    }

    /// The smoothed round trip and its mean deviation, once measured.
    pub fn rtt(&self) -> Option<(Duration, Duration)> {
        self.rtt
            .map(|e| (Duration::from_secs_f64(e.srtt), Duration::from_secs_f64(e.rttvar)))
    }

    /// Judges the view a shot of `tick` claims (see `ViewRules`, then `view_age`).
    pub fn judge_view(&mut self, view: ShotView, tick: Tick, rules: &ViewRules) -> ViewVerdict {
        if view.tick_b.is_after(tick) || view.tick_a.is_after(view.tick_b) {
            return ViewVerdict::Refused(ViewFault::Impossible);
        }
        let received = |t: Tick| self.sent.iter().find(|s| s.tick == t).map(|s| s.acked);
        match (received(view.tick_a), received(view.tick_b)) {
            (Some(true), Some(true)) => {}
            (Some(_), Some(_)) => return ViewVerdict::Refused(ViewFault::NotReceived),
            _ => return ViewVerdict::Refused(ViewFault::NotSent),
        }
        if view.tick_b.diff(view.tick_a) > rules.max_gap() {
            return ViewVerdict::Refused(ViewFault::Gap);
        }
        let lossy = self.loss > LOSSY;
        let Some(rtt) = self.rtt else {
            return ViewVerdict::Valid;
        };
        let (min_age, max_age) = (
            rules.min_age(rtt, self.lead_hint),
            rules.max_age(rtt, self.lead_hint, lossy),
        );
        let age = tick.diff(view.tick_b);
        if age < min_age {
            // Newer than this client could have drawn (a search ahead of its own render time):
            // the newest view it could have.
            return match self
                .sent
                .iter()
                .rev()
                .find(|s| s.acked && tick.diff(s.tick) >= min_age && tick.diff(s.tick) <= max_age)
            {
                Some(s) => ViewVerdict::Clamped(
                    ShotView {
                        tick_a: s.tick,
                        tick_b: s.tick,
                        alpha: 0,
                    },
                    ClampRule::TooNew,
                ),
                None => ViewVerdict::Refused(ViewFault::TooOld),
            };
        }
        if age <= max_age {
            if view.tick_a == view.tick_b && Some(view.tick_b) == self.first_acked {
                // Drawn before the client had anything to interpolate: its render time has not
                // reached its first snapshot yet (a joining bot's first shots were 3 ticks older
                // than its next, and used up its spare deviations). Nothing to learn from.
                return ViewVerdict::Valid;
            }
            let claimed = view_age(view, tick);
            return match self.steady.judge(
                tick,
                claimed,
                self.lead_avg.unwrap_or(f64::from(self.lead_hint)),
                tolerance(rtt.rttvar, rules.tick_rate),
                rules.tick_rate,
            ) {
                AgeVerdict::Steady => ViewVerdict::Valid,
                AgeVerdict::Clamp(age) => match self.view_of_age(tick, age, rules) {
                    Some(v) if v != view => ViewVerdict::Clamped(v, ClampRule::Unsteady),
                    _ => ViewVerdict::Valid,
                },
            };
        }
        // Too old for this client's latency: the oldest view it could honestly have drawn.
        match self
            .sent
            .iter()
            .find(|s| s.acked && !s.tick.is_after(tick) && tick.diff(s.tick) <= max_age)
        {
            Some(s) => ViewVerdict::Clamped(
                ShotView {
                    tick_a: s.tick,
                    tick_b: s.tick,
                    alpha: 0,
                },
                ClampRule::TooOld,
            ),
            None => ViewVerdict::Refused(ViewFault::TooOld),
        }
    }

    /// The view `age` ticks before `tick` between the two acknowledged snapshots around it (as
    /// the client would have drawn it), if they are close enough to interpolate.
    fn view_of_age(&self, tick: Tick, age: f64, rules: &ViewRules) -> Option<ShotView> {
        let at = -age;
        let rel = |t: Tick| f64::from(t.diff(tick));
        let acked = || self.sent.iter().filter(|s| s.acked && !s.tick.is_after(tick));
        let a = acked().rfind(|s| rel(s.tick) <= at)?.tick;
        let b = acked().find(|s| rel(s.tick) >= at)?.tick;
        if b.diff(a) > rules.max_gap() {
            return None;
        }
        let span = f64::from(b.diff(a));
        let frac = if span > 0.0 { (at - rel(a)) / span } else { 0.0 };
        Some(ShotView {
            tick_a: a,
            tick_b: b,
            alpha: alpha_from_fraction(frac as f32),
        })
    }

    /// The client's input lead in ticks, as the last snapshot reported it.
    pub fn set_lead_hint(&mut self, lead: i16) {
        self.lead_hint = lead;
        let lead = f64::from(lead);
        self.lead_avg = Some(
            self.lead_avg
                .map_or(lead, |avg| avg + (lead - avg) * LEAD_SMOOTHING),
        );
    }

    /// The hitboxes of `view` as this client had them (interpolated over the two entity sets it
    /// received, with the same function the client uses), or `None` if it lacks either set.
    pub fn hitboxes(&self, view: ShotView) -> Option<Vec<([i32; 2], PlayerId)>> {
        let samples = |t: Tick| -> Option<Vec<HitboxSample>> {
            Some(self.received_set(t)?.values().map(EntityState::hitbox).collect())
        };
        Some(interpolate_hitboxes(
            &samples(view.tick_a)?,
            &samples(view.tick_b)?,
            view.alpha,
        ))
    }

    /// The entity set this client holds for the snapshot of `tick`, if it received it.
    pub fn received_set(&self, tick: Tick) -> Option<&Arc<EntitySet>> {
        self.sent
            .iter()
            .find(|s| s.tick == tick && s.acked)
            .map(|s| &s.set)
    }

    /// Builds the next snapshot for a client whose own player is `you`, fitting `max_bytes`.
    pub fn build(
        &mut self,
        meta: SnapshotMeta,
        current: &Arc<EntitySet>,
        you: Option<&PlayerState>,
        max_bytes: usize,
    ) -> SnapshotPacket {
        self.build_in(&mut DeltaScratch::default(), meta, current, you, max_bytes)
    }

    /// `build` with working memory kept by the caller (the server's, shared by its clients).
    pub fn build_in(
        &mut self,
        scratch: &mut DeltaScratch,
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
        let overhead = encode_snapshot(&packet).map(|b| b.len()).unwrap_or(max_bytes);
        let built = build_delta_in(
            scratch,
            base_set,
            current,
            |changed| self.priority(current, changed, you, meta.tick),
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
                // One walk over both sets in id order (`held` has no id `current` lacks), not a
                // lookup per player: with hundreds of players per client this was a hot spot.
                let mut held_iter = held.iter().peekable();
                let since = std::mem::take(&mut self.deferred_since);
                let mut old = since.iter().peekable();
                let mut deferred_now = Vec::with_capacity(built.deferred + since.len());
                for (id, e) in current.iter() {
                    while held_iter.next_if(|(h, _)| *h < id).is_some() {}
                    let same = held_iter.next_if(|(h, _)| *h == id).is_some_and(|(_, h)| h == e);
                    if !same {
                        while old.next_if(|(o, _)| o < id).is_some() {}
                        let t = old.next_if(|(o, _)| o == id).map_or(meta.tick, |(_, t)| *t);
                        deferred_now.push((*id, t));
                    }
                }
                self.deferred_since = deferred_now;
                Arc::new(held)
            }
        };
        self.deferred += built.deferred as u64;
        packet.removed = built.removed;
        packet.entities = built.entities;
        if self.sent.len() >= SENT_RING
            && let Some(old) = self.sent.pop_front()
        {
            let lost = if old.acked { 0.0 } else { 1.0 };
            self.loss += (lost - self.loss) * 0.02;
        }
        self.sent.push_back(Sent {
            seq: self.next_seq,
            tick: meta.tick,
            set,
            acked: false,
            at: meta.sent_at,
        });
        self.set_lead_hint(meta.input_lead);
        self.next_seq = self.next_seq.next();
        packet
    }

    /// Positions in the changed players (`changed`, in id order): own player first, then by distance
    /// discounted by how long the entity has been waiting (nearest and most stale first). Only
    /// asked when a snapshot does not fit; the unchanged players need no rank.
    fn priority(
        &self,
        current: &EntitySet,
        changed: &[EntityDelta],
        you: Option<&PlayerState>,
        tick: Tick,
    ) -> Vec<usize> {
        let Some(me) = you else {
            return (0..changed.len()).collect();
        };
        let origin = rewind_shared::quant::pos2_to_q(me.body.pos);
        // All three in id order: one walk, not a lookup per player.
        let mut since = self.deferred_since.iter().peekable();
        let mut states = current.values().peekable();
        // Each rank and position packed in one word (rank, offset to be unsigned, above the
        // position): sorting words is cheaper than pairs, and this sort runs for nearly every
        // client of a big server on every snapshot.
        let mut scored: Vec<u64> = Vec::with_capacity(changed.len());
        scored.extend(changed.iter().enumerate().filter_map(|(k, d)| {
            while states.next_if(|e| e.id < d.id).is_some() {}
            let e = states.next_if(|e| e.id == d.id)?;
            while since.next_if(|(id, _)| *id < e.id).is_some() {}
            let waiting = since.next_if(|(id, _)| *id == e.id).map(|(_, t)| *t);
            let rank = if e.id == me.id {
                i64::from(i32::MIN)
            } else {
                let dx = i64::from(e.pos[0]) - i64::from(origin[0]);
                let dy = i64::from(e.pos[1]) - i64::from(origin[1]);
                let dist = ((dx * dx + dy * dy) as f64).sqrt() as i64;
                let stale = waiting.map_or(0, |t| i64::from(tick.diff(t)));
                // Above every other rank's floor: only the own player sits at the very bottom.
                (dist - stale * 256).clamp(i64::from(i32::MIN) + 1, i64::from(i32::MAX))
            };
            let rank = (rank - i64::from(i32::MIN)) as u64;
            Some(rank << 32 | k as u64)
        }));
        // Positions are in id order, so ties still go to the lower id.
        scored.sort_unstable();
        scored.into_iter().map(|w| (w & 0xffff_ffff) as usize).collect()
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
            sent_at: Duration::from_millis(u64::from(t) * 16),
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
        s.on_ack(&ack, Duration::from_millis(40));
        let p3 = s.build(meta(3), &set(3, 12), None, 1200);
        assert_eq!(p3.baseline, Some(Tick(1)));
        assert_eq!(p3.removed, vec![PlayerId(3)]);
        let client3 = apply_delta(&client1, &p3.removed, &p3.entities).unwrap();
        assert_eq!(client3, *set(3, 12));
        let full = encode_snapshot(&p2).unwrap().len();
        let delta = encode_snapshot(&p3).unwrap().len();
        assert!(delta < full, "delta {delta} should be smaller than full {full}");
    }

    #[test]
    fn oversized_sets_are_spread_over_snapshots() {
        let mut s = SnapshotStream::default();
        let big = set(200, 5000);
        let p = s.build(meta(1), &big, None, 600);
        assert!(encode_snapshot(&p).unwrap().len() <= 600);
        assert!(s.deferred > 0);
    }

    /// A stream that sent ticks 1..=n, all acknowledged 3 ticks (50 ms) later.
    fn played(n: u32) -> SnapshotStream {
        let mut s = SnapshotStream::default();
        for t in 1..=n {
            let p = s.build(meta(t), &set(2, t as i32), None, 1200);
            let mut ack = AckWindow::default();
            ack.record(p.seq);
            s.on_ack(&ack, Duration::from_millis(u64::from(t) * 16 + 50));
        }
        s
    }

    fn view(a: u32, b: u32) -> ShotView {
        ShotView {
            tick_a: Tick(a),
            tick_b: Tick(b),
            alpha: 30_000,
        }
    }

    const RULES: ViewRules = ViewRules {
        tick_rate: 60,
        interval: 1,
    };

    /// The widest gap is 4 intervals, and at least 67 ms (4 ticks of 60 Hz) at any tick rate.
    #[test]
    fn the_widest_gap_is_four_intervals_and_at_least_67_ms() {
        let gap = |tick_rate, interval| ViewRules { tick_rate, interval }.max_gap();
        assert_eq!((gap(60, 1), gap(60, 2), gap(30, 1)), (4, 8, 4));
        assert_eq!((gap(128, 1), gap(128, 2), gap(128, 4)), (9, 9, 16));
    }

    #[test]
    fn a_view_must_be_two_snapshots_this_client_received() {
        let mut s = played(40);
        let (srtt, _) = s.rtt().unwrap();
        assert!((45..=55).contains(&srtt.as_millis()), "{srtt:?}");
        // An honest view: a few ticks behind the newest.
        assert_eq!(s.judge_view(view(36, 37), Tick(41), &RULES), ViewVerdict::Valid);
        assert_eq!(
            s.judge_view(view(37, 36), Tick(41), &RULES),
            ViewVerdict::Refused(ViewFault::Impossible)
        );
        assert_eq!(
            s.judge_view(view(36, 45), Tick(46), &RULES),
            ViewVerdict::Refused(ViewFault::NotSent)
        );
        assert_eq!(
            s.judge_view(view(30, 36), Tick(41), &RULES),
            ViewVerdict::Refused(ViewFault::Gap)
        );
        // Sent but never acknowledged.
        s.build(meta(41), &set(2, 41), None, 1200);
        assert_eq!(
            s.judge_view(view(40, 41), Tick(42), &RULES),
            ViewVerdict::Refused(ViewFault::NotReceived)
        );
    }

    #[test]
    fn a_view_newer_than_the_client_could_have_drawn_is_clamped() {
        let mut s = played(40);
        let min = RULES.min_age(s.rtt.unwrap(), 0);
        assert!(min >= 1, "{min}");
        // The newest snapshot itself, at the shot's tick: a search ahead of the render time.
        match s.judge_view(view(39, 40), Tick(40), &RULES) {
            ViewVerdict::Clamped(v, ClampRule::TooNew) => assert_eq!(Tick(40).diff(v.tick_b), min),
            other => panic!("expected a clamp, got {other:?}"),
        }
    }

    #[test]
    fn a_view_older_than_the_latency_allows_is_clamped_to_what_it_could_have_drawn() {
        let mut s = played(40);
        // 50 ms round trip, no jitter yet settled: the allowance is a handful of ticks.
        let max = RULES.max_age(s.rtt.unwrap(), 0, false);
        assert!((6..=12).contains(&max), "{max}");
        let old = view(20, 21);
        match s.judge_view(old, Tick(41), &RULES) {
            ViewVerdict::Clamped(v, ClampRule::TooOld) => {
                assert_eq!(v.tick_a, v.tick_b);
                assert_eq!(Tick(41).diff(v.tick_b), max);
            }
            other => panic!("expected a clamp, got {other:?}"),
        }
    }

    #[test]
    fn views_of_the_first_snapshot_alone_teach_the_steadiness_rule_nothing() {
        // A joining client fires before its render time reaches its first snapshot, so it shows
        // that snapshot as it is (an age that grows a tick a tick), then interpolates at its
        // habit. Without spare deviations, a mean taken from the first shot clamps the habit.
        let mut s = SnapshotStream {
            steady: ViewAge::without_spares(),
            ..SnapshotStream::default()
        };
        for t in 1..=40u32 {
            let p = s.build(meta(t), &set(2, t as i32), None, 1200);
            let mut ack = AckWindow::default();
            ack.record(p.seq);
            s.on_ack(&ack, Duration::from_millis(u64::from(t) * 16 + 50));
            let shot = match t {
                4 | 7 => ShotView {
                    tick_a: Tick(1),
                    tick_b: Tick(1),
                    alpha: 0,
                },
                _ if t >= 10 && t % 3 == 1 => view(t - 7, t - 6),
                _ => continue,
            };
            assert_eq!(
                s.judge_view(shot, Tick(t), &RULES),
                ViewVerdict::Valid,
                "tick {t}"
            );
        }
    }

    #[test]
    fn a_view_that_strays_from_the_clients_steady_age_is_pulled_back() {
        let mut s = played(60);
        // An honest client: the same age shot after shot.
        for t in [41, 47, 53] {
            let honest = view(t - 5, t - 4);
            assert_eq!(s.judge_view(honest, Tick(t), &RULES), ViewVerdict::Valid);
        }
        // Two ticks older than its habit, then one newer, and so on (all within the latency
        // band): once the spare deviations are used up, pulled back to the edge.
        let clamped = (0..8u32).find_map(|k| {
            let t = 59 + k;
            let stray = if k % 2 == 0 {
                view(t - 7, t - 6)
            } else {
                view(t - 4, t - 3)
            };
            match s.judge_view(stray, Tick(t), &RULES) {
                ViewVerdict::Clamped(v, ClampRule::Unsteady) => Some((v, view_age(stray, Tick(t)), Tick(t))),
                _ => None,
            }
        });
        let Some((v, age, t)) = clamped else {
            panic!("never clamped")
        };
        let got = view_age(v, t);
        assert!((got - age).abs() > 0.2, "{got} vs {age}");
        assert!((got - 4.54).abs() < 1.0, "{got}: near the habit");
        assert!(v.tick_b.diff(v.tick_a) <= 1);
    }
}
