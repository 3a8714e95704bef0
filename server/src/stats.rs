//! Server counters and the `--stats` JSON (DESIGN §10). Tick durations go into an HDR histogram
//! so percentiles are exact to three significant digits without keeping every sample.

use crate::metrics::{GuardCounters, Metrics};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::time::Duration;

/// Percentiles of a distribution.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Percentiles {
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest.
    pub max: u64,
}

impl Percentiles {
    fn of(h: &Histogram<u64>) -> Percentiles {
        Percentiles {
            p50: h.value_at_quantile(0.5),
            p99: h.value_at_quantile(0.99),
            max: h.max(),
        }
    }
}

/// What `--stats FILE` writes at exit.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ServerStats {
    /// Ticks simulated.
    pub ticks: u64,
    /// Tick duration in microseconds (simulation + snapshots).
    pub tick_us: Percentiles,
    /// CPU time the tick thread spent in each tick, in microseconds: `tick_us` less the time it
    /// waited (preempted by other threads on its core, or blocked on a lock). Absent where the
    /// platform has no per-thread clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tick_cpu_us: Option<Percentiles>,
    /// Most players at once (AI included).
    pub players_max: u64,
    /// Clients that completed the handshake.
    pub clients_total: u64,
    /// Datagram and stream bytes sent.
    pub bytes_out: u64,
    /// Datagram and stream bytes received.
    pub bytes_in: u64,
    /// Ticks simulated with a repeated input.
    pub missing_inputs: u64,
    /// Inputs that arrived after their tick.
    pub late_inputs: u64,
    /// Inputs too far in the future.
    pub future_inputs: u64,
    /// Shots fired (AI included).
    pub shots: u64,
    /// Shots that hit.
    pub hits: u64,
    /// Shots whose view was older than the rewind window (clamped).
    pub rejected_too_old: u64,
    /// Shots whose view this client could not have drawn (refused: no hit possible).
    pub refused_views: u64,
    /// Shots whose view was older than that client's latency allows (clamped to what it could have drawn).
    pub clamped_views: u64,
    /// Datagrams that failed to decode.
    pub bad_datagrams: u64,
    /// Datagrams dropped by the per-connection rate limit.
    pub rate_limited: u64,
    /// Snapshot datagram size in bytes.
    pub snapshot_bytes: Percentiles,
    /// Snapshots sent.
    pub snapshots: u64,
    /// Entities left out of snapshots to fit a datagram.
    pub deferred_entities: u64,
    /// Snapshots postponed by one tick because the tick had used its time (`--tick-budget`).
    pub postponed_snapshots: u64,
    /// Ticks run late by more than eight steps (the loop stopped catching up).
    pub overruns: u64,
    /// Ticks that started more than one tick period after their scheduled time (their
    /// snapshots went out late); `1 - late_ticks / ticks` is the share of ticks on time.
    pub late_ticks: u64,
    /// Whether the tick thread ran at real-time priority from the first tick to the last
    /// (`serve --realtime-tick` where the OS allowed it, and never dropped for falling behind).
    pub tick_realtime: bool,
    /// Refusals and drops by cause.
    pub guard: GuardStats,
    /// `World::hash` of the final state (what a replay of the match must end on).
    pub final_hash: u64,
    /// Matches that ended by their rules (`--score-limit`, `--time-limit`), in order, each with
    /// its final scoreboard; empty when no rule ended one.
    pub matches: Vec<crate::core::MatchResult>,
}

/// Refusals and drops by cause (`--stats`'s `guard` object).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct GuardStats {
    /// Handshakes refused: other protocol version.
    pub refused_version: u64,
    /// Handshakes refused: bad name.
    pub refused_bad_name: u64,
    /// Handshakes refused: server full.
    pub refused_full: u64,
    /// Handshakes refused: protocol error or no hello in time.
    pub refused_protocol: u64,
    /// Handshakes refused: server stopping.
    pub refused_shutting_down: u64,
    /// Connections refused: too many from one address.
    pub refused_per_addr: u64,
    /// Connections refused: too many handshakes at once, or too frequent from one address.
    pub refused_busy: u64,
    /// Connection attempts asked to validate their address (QUIC Retry).
    pub retries: u64,
    /// Clients dropped for sending no datagram for too long.
    pub dropped_silent: u64,
    /// Chat lines dropped by the rate limit.
    pub chat_dropped: u64,
    /// Clients dropped for not reading their control stream.
    pub slow_readers: u64,
    /// Players given back to a reconnecting client.
    pub resumed: u64,
    /// Resumes refused: unknown or expired token.
    pub refused_resume: u64,
    /// Dropped players removed when their grace period ran out.
    pub resume_expired: u64,
}

impl GuardStats {
    fn of(g: &GuardCounters) -> GuardStats {
        GuardStats {
            refused_version: g.refused_version.get(),
            refused_bad_name: g.refused_bad_name.get(),
            refused_full: g.refused_full.get(),
            refused_protocol: g.refused_protocol.get(),
            refused_shutting_down: g.refused_shutting_down.get(),
            refused_per_addr: g.refused_per_addr.get(),
            refused_busy: g.refused_busy.get(),
            retries: g.retries.get(),
            dropped_silent: g.dropped_silent.get(),
            chat_dropped: g.chat_dropped.get(),
            slow_readers: g.slow_readers.get(),
            resumed: g.resumed.get(),
            refused_resume: g.refused_resume.get(),
            resume_expired: g.resume_expired.get(),
        }
    }
}

/// The distributions `--stats` reports as exact percentiles (the counters live in `Metrics`).
#[derive(Debug)]
pub struct StatsRecorder {
    tick_us: Histogram<u64>,
    tick_cpu_us: Histogram<u64>,
    snapshot_bytes: Histogram<u64>,
    players_max: u64,
    late_ticks: u64,
}

impl Default for StatsRecorder {
    fn default() -> Self {
        StatsRecorder {
            tick_us: histogram(60_000_000),
            tick_cpu_us: histogram(60_000_000),
            snapshot_bytes: histogram(1 << 20),
            players_max: 0,
            late_ticks: 0,
        }
    }
}

/// A histogram of 1..=`max` with three significant digits.
fn histogram(max: u64) -> Histogram<u64> {
    Histogram::new_with_bounds(1, max, 3).expect("constant, valid bounds") // ok: not input-dependent
}

impl StatsRecorder {
    /// Records one tick's wall time and, where known, the CPU time its thread spent in it.
    pub fn tick(&mut self, elapsed: Duration, cpu: Option<Duration>) {
        let us = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
        let _ = self.tick_us.record(us(elapsed));
        if let Some(cpu) = cpu {
            let _ = self.tick_cpu_us.record(us(cpu));
        }
    }

    /// Records a tick that started more than a tick period behind its schedule.
    pub fn late_tick(&mut self) {
        self.late_ticks += 1;
    }

    /// Records one snapshot's size.
    pub fn snapshot(&mut self, bytes: usize) {
        let _ = self.snapshot_bytes.record((bytes as u64).max(1));
    }

    /// Records how many players are in the match.
    pub fn players(&mut self, n: usize) {
        self.players_max = self.players_max.max(n as u64);
    }

    /// The final figures: these distributions plus the counters, read from the one registry.
    pub fn finish(&self, m: &Metrics, final_hash: u64) -> ServerStats {
        ServerStats {
            ticks: m.ticks.get(),
            tick_us: Percentiles::of(&self.tick_us),
            tick_cpu_us: (!self.tick_cpu_us.is_empty()).then(|| Percentiles::of(&self.tick_cpu_us)),
            players_max: self.players_max,
            clients_total: m.handshakes.get(),
            bytes_out: m.bytes_out.get(),
            bytes_in: m.bytes_in.get(),
            missing_inputs: m.missing_inputs.get(),
            late_inputs: m.late_inputs.get(),
            future_inputs: m.future_inputs.get(),
            shots: m.shots.get(),
            hits: m.hits.get(),
            rejected_too_old: m.rejected_too_old.get(),
            refused_views: m.refused_views.get(),
            clamped_views: m.clamped_views.get(),
            bad_datagrams: m.bad_datagrams.get(),
            rate_limited: m.rate_limited.get(),
            snapshot_bytes: Percentiles::of(&self.snapshot_bytes),
            snapshots: m.snapshots.get(),
            deferred_entities: m.deferred_entities.get(),
            postponed_snapshots: m.postponed_snapshots.get(),
            overruns: m.overruns.get(),
            late_ticks: self.late_ticks,
            tick_realtime: false,
            guard: GuardStats::of(&m.guard),
            final_hash,
            matches: Vec::new(),
        }
    }
}
