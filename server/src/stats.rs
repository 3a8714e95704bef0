//! Server counters and the `--stats` JSON (DESIGN §10). Tick durations go into an HDR histogram
//! so percentiles are exact to three significant digits without keeping every sample.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

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
    /// Shots whose view was impossible (future or backwards).
    pub refused_views: u64,
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
    /// Ticks run late by more than eight steps (the loop stopped catching up).
    pub overruns: u64,
    /// `World::hash` of the final state (what a replay of the match must end on).
    pub final_hash: u64,
}

/// Counters the network tasks bump from any thread.
#[derive(Debug, Default)]
pub struct NetCounters {
    /// Bytes received.
    pub bytes_in: AtomicU64,
    /// Bytes sent on control streams.
    pub stream_bytes_out: AtomicU64,
    /// Bad datagrams.
    pub bad_datagrams: AtomicU64,
    /// Rate-limited datagrams.
    pub rate_limited: AtomicU64,
    /// Handshakes completed.
    pub clients_total: AtomicU64,
}

/// Accumulates tick-loop statistics.
#[derive(Debug)]
pub struct StatsRecorder {
    /// Running totals.
    pub stats: ServerStats,
    tick_us: Histogram<u64>,
    snapshot_bytes: Histogram<u64>,
}

impl Default for StatsRecorder {
    fn default() -> Self {
        StatsRecorder {
            stats: ServerStats::default(),
            tick_us: histogram(60_000_000),
            snapshot_bytes: histogram(1 << 20),
        }
    }
}

/// A histogram of 1..=`max` with three significant digits.
fn histogram(max: u64) -> Histogram<u64> {
    Histogram::new_with_bounds(1, max, 3).expect("constant, valid bounds") // ok: not input-dependent
}

impl StatsRecorder {
    /// Records one tick's duration.
    pub fn tick(&mut self, us: u64) {
        self.stats.ticks += 1;
        let _ = self.tick_us.record(us.max(1));
    }

    /// Records one snapshot's size.
    pub fn snapshot(&mut self, bytes: usize) {
        self.stats.snapshots += 1;
        self.stats.bytes_out += bytes as u64;
        let _ = self.snapshot_bytes.record((bytes as u64).max(1));
    }

    /// The final figures, merged with the network counters.
    pub fn finish(&self, net: &NetCounters) -> ServerStats {
        let mut s = self.stats.clone();
        s.tick_us = Percentiles::of(&self.tick_us);
        s.snapshot_bytes = Percentiles::of(&self.snapshot_bytes);
        s.bytes_in = net.bytes_in.load(Ordering::Relaxed);
        s.bytes_out += net.stream_bytes_out.load(Ordering::Relaxed);
        s.bad_datagrams = net.bad_datagrams.load(Ordering::Relaxed);
        s.rate_limited = net.rate_limited.load(Ordering::Relaxed);
        s.clients_total = net.clients_total.load(Ordering::Relaxed);
        s
    }
}
