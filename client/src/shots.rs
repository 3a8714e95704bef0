//! Our shots and the two verdicts on each: the one we computed when firing (from what we drew)
//! and the server's. Comparing them is how lag compensation is measured (DESIGN §5, §10).

use crate::view::ShotReview;
use rewind_shared::Vec2;
use rewind_shared::input::ShotView;
use rewind_shared::player::PlayerId;
use rewind_shared::protocol::ShotVerdict;
use rewind_shared::quant::q_to_pos2;
use rewind_shared::sim::ShotMode;
use rewind_shared::tick::{Seq, Tick};
use serde::Serialize;
use std::collections::VecDeque;
use std::time::Duration;

/// Shots awaiting a verdict beyond this many are given up (counted as unresolved).
const MAX_AWAITING: usize = 4096;
/// Recent shots kept for the window's debug view.
const RECENT: usize = 32;

/// One shot of ours.
#[derive(Clone, Debug)]
pub struct ShotRecord {
    /// Input sequence that fired (the verdict's key).
    pub seq: Seq,
    /// Tick the input was for.
    pub tick: Tick,
    /// When we fired.
    pub fired_at: Duration,
    /// Ray origin as predicted.
    pub origin: Vec2,
    /// Where our ray stopped.
    pub end: Vec2,
    /// Our verdict.
    pub client_target: Option<PlayerId>,
    /// What we traced against.
    pub client_hitboxes: Vec<(PlayerId, Vec2)>,
    /// The view the shot carried (what `client_hitboxes` were drawn at). The server may clamp a
    /// view that strays from this client's steady view age; it then traces elsewhere, which is
    /// why a verdict can disagree with an honest shot.
    pub view: Option<ShotView>,
    /// The server's verdict once it arrived.
    pub server: Option<ShotVerdict>,
}

/// Counters over all shots (the bots' report sums them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ShotStats {
    /// Shots fired (as predicted).
    pub shots: u64,
    /// Shots whose server verdict arrived.
    pub judged: u64,
    /// Judged shots we saw hit someone.
    pub client_hits: u64,
    /// Judged shots the server confirmed as hits.
    pub server_hits: u64,
    /// Judged shots where both verdicts name the same target (or both none).
    pub agreed: u64,
    /// We saw a hit, the server says miss.
    pub false_hits: u64,
    /// We saw a miss, the server says hit.
    pub missed_hits: u64,
    /// Both saw a hit, on different players.
    pub wrong_target: u64,
    /// Server verdicts judged with the view clamped to the rewind window.
    pub too_old: u64,
    /// Server verdicts refusing the view.
    pub refused: u64,
    /// Server verdicts traced against present positions.
    pub present: u64,
    /// Verdicts for shots we did not know (mispredicted fire).
    pub unexpected_verdicts: u64,
    /// Shots given up before their verdict came.
    pub abandoned: u64,
    /// Shots predicted after our death on the server (it never fired them: no verdict comes).
    pub void: u64,
    /// Fewest ticks between two shots the server judged (0 before two): the fire rate the
    /// server actually allowed, whatever the client pressed.
    pub min_gap_ticks: u64,
}

impl std::ops::AddAssign for ShotStats {
    /// Field-wise sum, to total several sessions.
    fn add_assign(&mut self, o: ShotStats) {
        self.shots += o.shots;
        self.judged += o.judged;
        self.client_hits += o.client_hits;
        self.server_hits += o.server_hits;
        self.agreed += o.agreed;
        self.false_hits += o.false_hits;
        self.missed_hits += o.missed_hits;
        self.wrong_target += o.wrong_target;
        self.too_old += o.too_old;
        self.refused += o.refused;
        self.present += o.present;
        self.unexpected_verdicts += o.unexpected_verdicts;
        self.abandoned += o.abandoned;
        self.void += o.void;
        self.min_gap_ticks = match (self.min_gap_ticks, o.min_gap_ticks) {
            (0, b) => b,
            (a, 0) => a,
            (a, b) => a.min(b),
        };
    }
}

/// Our shots, awaiting and recent.
#[derive(Clone, Debug, Default)]
pub struct ShotLedger {
    awaiting: VecDeque<ShotRecord>,
    recent: VecDeque<ShotRecord>,
    stats: ShotStats,
    last_judged_tick: Option<rewind_shared::tick::Tick>,
}

impl ShotLedger {
    /// Records a shot we just fired with our own verdict.
    pub fn fired(&mut self, rec: ShotRecord) {
        self.stats.shots += 1;
        if self.awaiting.len() >= MAX_AWAITING {
            self.awaiting.pop_front();
            self.stats.abandoned += 1;
        }
        self.awaiting.push_back(rec.clone());
        self.push_recent(rec);
    }

    fn push_recent(&mut self, rec: ShotRecord) {
        if self.recent.len() >= RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(rec);
    }

    /// The server's verdict arrived.
    pub fn verdict(&mut self, v: ShotVerdict) {
        if let Some(last) = self.last_judged_tick.replace(v.tick) {
            let gap = u64::try_from(v.tick.diff(last)).unwrap_or(0);
            if gap > 0 && (self.stats.min_gap_ticks == 0 || gap < self.stats.min_gap_ticks) {
                self.stats.min_gap_ticks = gap;
            }
        }
        let Some(idx) = self.awaiting.iter().position(|r| r.seq == v.seq) else {
            self.stats.unexpected_verdicts += 1;
            return;
        };
        let Some(mut rec) = self.awaiting.remove(idx) else {
            return;
        };
        let s = &mut self.stats;
        s.judged += 1;
        s.client_hits += u64::from(rec.client_target.is_some());
        s.server_hits += u64::from(v.target.is_some());
        match (rec.client_target, v.target) {
            (a, b) if a == b => s.agreed += 1,
            (Some(_), None) => s.false_hits += 1,
            (None, Some(_)) => s.missed_hits += 1,
            _ => s.wrong_target += 1,
        }
        match v.mode {
            ShotMode::TooOld => s.too_old += 1,
            ShotMode::Refused => s.refused += 1,
            ShotMode::Present => s.present += 1,
            ShotMode::Rewound => {}
        }
        if rec.client_target != v.target {
            // Where it went wrong: a shot simulated at another tick, or from another place (a
            // late input), or against another view (clamped) than the one we drew.
            let origin_off = rec.origin.distance(q_to_pos2(v.origin));
            tracing::debug!(
                seq = v.seq.0,
                client = ?rec.client_target,
                server = ?v.target,
                mode = ?v.mode,
                tick = rec.tick.0,
                server_tick = v.tick.0,
                origin_off,
                view = ?rec.view,
                "verdicts differ"
            );
        }
        if let Some(r) = self.recent.iter_mut().find(|r| r.seq == v.seq) {
            r.server = Some(v.clone());
        }
        rec.server = Some(v);
    }

    /// We learned we died at `death_tick`: shots predicted for later ticks never happened on
    /// the server, so they are not awaited.
    pub fn void_after(&mut self, death_tick: Tick) {
        let before = self.awaiting.len();
        self.awaiting.retain(|r| !r.tick.is_after(death_tick));
        self.stats.void += (before - self.awaiting.len()) as u64;
    }

    /// The connection that would have carried their verdicts is gone: every shot still
    /// awaited is given up (counted as abandoned).
    pub fn abandon_awaited(&mut self) {
        self.stats.abandoned += self.awaiting.len() as u64;
        self.awaiting.clear();
    }

    /// Counters so far.
    pub fn stats(&self) -> ShotStats {
        self.stats
    }

    /// Shots still waiting for their verdict.
    pub fn awaiting(&self) -> usize {
        self.awaiting.len()
    }

    /// Recent shots, oldest first.
    pub fn recent(&self) -> impl Iterator<Item = &ShotRecord> {
        self.recent.iter()
    }

    /// The recent shots as the window shows them.
    pub fn reviews(&self, now: Duration) -> Vec<ShotReview> {
        self.recent
            .iter()
            .map(|r| ShotReview {
                client_target: r.client_target,
                server_target: r.server.as_ref().and_then(|v| v.target),
                confirmed: r.server.is_some(),
                client_hitboxes: r.client_hitboxes.clone(),
                server_hitboxes: r
                    .server
                    .as_ref()
                    .map(|v| v.hitboxes.iter().map(|(id, q)| (*id, q_to_pos2(*q))).collect())
                    .unwrap_or_default(),
                age_s: now.saturating_sub(r.fired_at).as_secs_f32(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: u16, target: Option<u16>) -> ShotRecord {
        ShotRecord {
            seq: Seq(seq),
            tick: Tick(0),
            fired_at: Duration::ZERO,
            origin: Vec2::ZERO,
            end: Vec2::ZERO,
            client_target: target.map(PlayerId),
            client_hitboxes: Vec::new(),
            view: None,
            server: None,
        }
    }

    fn verdict(seq: u16, target: Option<u16>) -> ShotVerdict {
        ShotVerdict {
            seq: Seq(seq),
            tick: Tick(0),
            target: target.map(PlayerId),
            mode: ShotMode::Rewound,
            origin: [0, 0],
            end: [0, 0],
            hitboxes: Vec::new(),
        }
    }

    #[test]
    fn verdicts_are_compared_by_seq() {
        let mut l = ShotLedger::default();
        l.fired(rec(1, Some(2)));
        l.fired(rec(2, None));
        l.fired(rec(3, Some(2)));
        l.fired(rec(4, None));
        l.fired(rec(5, Some(2)));
        l.verdict(verdict(2, None));
        l.verdict(verdict(1, Some(2)));
        l.verdict(verdict(3, None));
        l.verdict(verdict(4, Some(7)));
        l.verdict(verdict(9, None));
        let s = l.stats();
        assert_eq!((s.shots, s.judged, s.agreed), (5, 4, 2));
        assert_eq!((s.client_hits, s.server_hits), (2, 2));
        assert_eq!((s.false_hits, s.missed_hits, s.unexpected_verdicts), (1, 1, 1));
        assert_eq!(l.awaiting(), 1);
        l.fired(ShotRecord {
            tick: Tick(9),
            ..rec(6, None)
        });
        l.void_after(Tick(8));
        assert_eq!((l.awaiting(), l.stats().void), (1, 1));
        let rv = l.reviews(Duration::from_secs(1));
        assert!(rv[0].confirmed && rv[0].server_target == Some(PlayerId(2)));
        assert!(!rv[4].confirmed);
    }
}
