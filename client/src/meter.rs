//! The measurements behind the net graph (F3): bytes and snapshots per second, round trips.
//!
//! Rates are counted over a sliding one-second window of timestamped samples, so the graph shows
//! what the link does now rather than an average since the start; byte totals since the start are
//! kept for the reports. Time comes in as an argument, like everywhere in the session.

use std::collections::VecDeque;
use std::time::Duration;

/// Window of the rate measurements of the net graph.
const RATE_WINDOW: Duration = Duration::from_secs(1);
/// RTT samples kept for the net graph.
const RTT_HISTORY: usize = 120;

/// Byte and snapshot rates, and the round-trip history.
#[derive(Debug)]
pub struct Meter {
    /// When snapshots were kept, in the window.
    arrivals: VecDeque<Duration>,
    /// Bytes received (datagrams and control stream), in the window.
    down: VecDeque<(Duration, usize)>,
    /// Bytes sent, in the window.
    up: VecDeque<(Duration, usize)>,
    /// Bytes received since the start.
    bytes_down: u64,
    /// Bytes sent since the start.
    bytes_up: u64,
    /// The latest round trip.
    rtt: Duration,
    /// The last `RTT_HISTORY` round trips, in milliseconds, oldest first.
    rtt_history: VecDeque<f32>,
}

impl Meter {
    /// A meter starting from the handshake's round trip (not a sample of the history).
    pub fn new(rtt: Duration) -> Meter {
        Meter {
            arrivals: VecDeque::new(),
            down: VecDeque::new(),
            up: VecDeque::new(),
            bytes_down: 0,
            bytes_up: 0,
            rtt,
            rtt_history: VecDeque::new(),
        }
    }

    /// `n` bytes received at `now`.
    pub fn count_down(&mut self, now: Duration, n: usize) {
        self.bytes_down += n as u64;
        self.down.push_back((now, n));
    }

    /// `n` bytes sent at `now`.
    pub fn count_up(&mut self, now: Duration, n: usize) {
        self.bytes_up += n as u64;
        self.up.push_back((now, n));
    }

    /// A snapshot kept at `now`.
    pub fn arrival(&mut self, now: Duration) {
        self.arrivals.push_back(now);
    }

    /// A round trip measured by the transport.
    pub fn set_rtt(&mut self, rtt: Duration) {
        self.rtt = rtt;
        if self.rtt_history.len() >= RTT_HISTORY {
            self.rtt_history.pop_front();
        }
        self.rtt_history.push_back(rtt.as_secs_f32() * 1000.0);
    }

    /// Forgets samples that left the window at `now` (the rates ignore them anyway; this bounds
    /// the memory).
    pub fn expire(&mut self, now: Duration) {
        let cut = now.saturating_sub(RATE_WINDOW);
        while self.arrivals.front().is_some_and(|t| *t < cut) {
            self.arrivals.pop_front();
        }
        while self.down.front().is_some_and(|(t, _)| *t < cut) {
            self.down.pop_front();
        }
        while self.up.front().is_some_and(|(t, _)| *t < cut) {
            self.up.pop_front();
        }
    }

    /// The latest round trip.
    pub fn rtt(&self) -> Duration {
        self.rtt
    }

    /// Bytes received since the start.
    pub fn bytes_down(&self) -> u64 {
        self.bytes_down
    }

    /// Bytes sent since the start.
    pub fn bytes_up(&self) -> u64 {
        self.bytes_up
    }

    /// Bytes per second received over the window ending at `now`.
    pub fn down_per_s(&self, now: Duration) -> f32 {
        per_s(&self.down, now)
    }

    /// Bytes per second sent over the window ending at `now`.
    pub fn up_per_s(&self, now: Duration) -> f32 {
        per_s(&self.up, now)
    }

    /// Snapshots kept per second over the window ending at `now`.
    pub fn snapshot_rate(&self, now: Duration) -> f32 {
        let cut = now.saturating_sub(RATE_WINDOW);
        self.arrivals.iter().filter(|t| **t >= cut).count() as f32 / RATE_WINDOW.as_secs_f32()
    }

    /// Mean absolute deviation of the round trips in the history, in milliseconds (0 when empty).
    pub fn rtt_jitter_ms(&self) -> f32 {
        let n = self.rtt_history.len().max(1) as f32;
        let mean = self.rtt_history.iter().sum::<f32>() / n;
        self.rtt_history.iter().map(|r| (r - mean).abs()).sum::<f32>() / n
    }

    /// The round trips of the history, in milliseconds, oldest first.
    pub fn rtt_history_ms(&self) -> Vec<f32> {
        self.rtt_history.iter().copied().collect()
    }
}

/// Bytes per second of the samples of `q` inside the window ending at `now`.
fn per_s(q: &VecDeque<(Duration, usize)>, now: Duration) -> f32 {
    let cut = now.saturating_sub(RATE_WINDOW);
    q.iter()
        .filter(|(t, _)| *t >= cut)
        .map(|(_, n)| *n)
        .sum::<usize>() as f32
        / RATE_WINDOW.as_secs_f32()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn rates_cover_the_last_second_and_totals_everything() {
        let mut m = Meter::new(MS(50));
        m.count_down(MS(0), 400);
        m.count_down(MS(600), 100);
        m.count_down(MS(1200), 200);
        m.count_up(MS(1100), 30);
        assert_eq!(
            m.down_per_s(MS(1200)),
            300.0,
            "the sample of 0 ms left the window"
        );
        assert_eq!(
            m.down_per_s(MS(1600)),
            300.0,
            "exactly one second old still counts"
        );
        assert_eq!(m.up_per_s(MS(1200)), 30.0);
        m.expire(MS(1200));
        assert_eq!(m.down_per_s(MS(1200)), 300.0, "expiring changes no rate");
        assert_eq!((m.bytes_down(), m.bytes_up()), (700, 30));
    }

    #[test]
    fn snapshot_rate_counts_arrivals_in_the_window() {
        let mut m = Meter::new(MS(50));
        for i in 0..90 {
            m.arrival(MS(i * 1000 / 30));
        }
        // Arrivals every 33 ms for 3 s: the last second holds 30 or 31 of them.
        let r = m.snapshot_rate(MS(2970));
        assert!((30.0..=31.0).contains(&r), "{r}");
        assert_eq!(m.snapshot_rate(MS(10_000)), 0.0);
    }

    #[test]
    fn jitter_is_the_mean_deviation_of_the_kept_round_trips() {
        let mut m = Meter::new(MS(50));
        assert_eq!(m.rtt_jitter_ms(), 0.0);
        assert!(
            m.rtt_history_ms().is_empty(),
            "the handshake's round trip is no sample"
        );
        m.set_rtt(MS(100));
        m.set_rtt(MS(140));
        assert_eq!(m.rtt(), MS(140));
        assert_eq!(m.rtt_jitter_ms(), 20.0);
        for _ in 0..RTT_HISTORY {
            m.set_rtt(MS(80));
        }
        assert_eq!(m.rtt_history_ms(), vec![80.0; RTT_HISTORY]);
        assert_eq!(m.rtt_jitter_ms(), 0.0);
    }
}
