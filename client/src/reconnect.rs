//! When to try reconnecting after a dropped connection, without IO: the pump asks `next` for the
//! delay before each attempt and bounds each attempt by `ATTEMPT_TIMEOUT`.
//!
//! The numbers come from what a resume must achieve: back within a few seconds of the network
//! returning, without hammering a server that is busy. QUIC resends a lost Initial packet after
//! about a second (its first probe timeout with no RTT known), so an attempt whose first packets
//! were lost in the outage is still alive a second later; cutting it at 1.5 s and starting afresh
//! bounds the gap between two Initial packets to about 1.5 s plus the backoff. The backoff grows
//! from 250 ms and is capped at 1 s, with a seeded jitter of up to a quarter so that a whole LAN
//! that lost its uplink together does not reconnect in lockstep. Attempts stop when the server's
//! grace period (from its `Welcome`) is over: after that it has removed the player.

use std::time::Duration;

/// Longest a single attempt (QUIC handshake and the resume answer) may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);
/// Delay before the first attempt.
pub const FIRST_DELAY: Duration = Duration::from_millis(250);
/// Longest delay between attempts.
pub const MAX_DELAY: Duration = Duration::from_secs(1);

/// The reconnect schedule of one outage.
#[derive(Clone, Debug)]
pub struct Reconnect {
    lost_at: Duration,
    give_up_at: Duration,
    delay: Duration,
    attempts: u32,
    jitter: u64,
}

impl Reconnect {
    /// An outage noticed at `now`; the server keeps our player for `grace` after it noticed
    /// (which is no earlier than we did, so `grace` from `now` never stops too early by more
    /// than the server's own detection delay). `seed` spreads the jitter between clients.
    pub fn new(now: Duration, grace: Duration, seed: u64) -> Reconnect {
        Reconnect {
            lost_at: now,
            give_up_at: now + grace,
            delay: FIRST_DELAY,
            attempts: 0,
            jitter: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
        }
    }

    /// When the drop was noticed.
    pub fn lost_at(&self) -> Duration {
        self.lost_at
    }

    /// Attempts started so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// How long to wait at `now` before the next attempt, or `None` when the grace period is
    /// over and the player is gone.
    pub fn next(&mut self, now: Duration) -> Option<Duration> {
        if now >= self.give_up_at {
            return None;
        }
        // xorshift: a cheap, seeded spread (not a secret).
        self.jitter ^= self.jitter << 13;
        self.jitter ^= self.jitter >> 7;
        self.jitter ^= self.jitter << 17;
        let spread = self.delay.as_micros() as u64 / 4;
        let wait = self.delay + Duration::from_micros(self.jitter % spread.max(1));
        self.delay = (self.delay * 2).min(MAX_DELAY);
        self.attempts += 1;
        Some(wait.min(self.give_up_at.saturating_sub(now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_to_the_cap_and_stops_at_the_grace_period() {
        let s = Duration::from_secs;
        let mut r = Reconnect::new(s(100), s(10), 7);
        let mut now = s(100);
        let mut waits = Vec::new();
        while let Some(w) = r.next(now) {
            waits.push(w);
            now += w + ATTEMPT_TIMEOUT;
        }
        assert!(waits[0] >= FIRST_DELAY && waits[0] < FIRST_DELAY * 5 / 4);
        // Growing (the last one may be cut short by the end of the grace period).
        let grown = &waits[..waits.len() - 1];
        assert!(
            grown.windows(2).all(|p| p[1] + MAX_DELAY / 4 >= p[0]),
            "{waits:?}"
        );
        assert!(waits.iter().all(|w| *w <= MAX_DELAY * 5 / 4), "{waits:?}");
        // About one attempt per 2.5 s at most for ten seconds.
        assert!((4..=8).contains(&waits.len()), "{waits:?}");
        assert!(now >= s(110));
        assert_eq!(r.attempts() as usize, waits.len());
    }

    #[test]
    fn the_gap_between_attempts_is_bounded_so_a_returning_link_is_used_within_seconds() {
        let mut r = Reconnect::new(Duration::ZERO, Duration::from_secs(30), 1);
        let mut now = Duration::ZERO;
        while let Some(w) = r.next(now) {
            // An attempt spans ATTEMPT_TIMEOUT; the longest time without a fresh attempt.
            assert!(w + ATTEMPT_TIMEOUT <= Duration::from_millis(2750));
            now += w + ATTEMPT_TIMEOUT;
        }
    }

    #[test]
    fn clients_with_other_seeds_spread_out() {
        let first = |seed| Reconnect::new(Duration::ZERO, Duration::from_secs(5), seed).next(Duration::ZERO);
        let waits: std::collections::BTreeSet<_> = (0..16).map(first).collect();
        assert!(waits.len() > 8, "{waits:?}");
    }
}
