//! A token bucket: the one rate limit the server's chat and connection limits and the LAN
//! responder all use. Time comes in as `now` (since any fixed start), so it runs the same under
//! a real clock and a simulated one.

use std::time::Duration;

/// `rate` tokens a second on average, `burst` at once; a bucket starts full.
#[derive(Clone, Copy, Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Duration,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn new(rate: f64, burst: f64, now: Duration) -> TokenBucket {
        TokenBucket {
            rate,
            burst,
            tokens: burst,
            at: now,
        }
    }

    /// The tokens there are at `now` (time never runs backwards for the bucket).
    fn refill(&mut self, now: Duration) {
        let dt = now.saturating_sub(self.at).as_secs_f64();
        self.tokens = (self.tokens + dt * self.rate).min(self.burst);
        self.at = self.at.max(now);
    }

    /// Whether there is a token at `now` (without taking it).
    pub fn ready(&mut self, now: Duration) -> bool {
        self.refill(now);
        self.tokens >= 1.0
    }

    /// Takes a token at `now` if there is one.
    pub fn take(&mut self, now: Duration) -> bool {
        let ok = self.ready(now);
        if ok {
            self.tokens -= 1.0;
        }
        ok
    }

    /// Whether the bucket is full again at `now`: forgetting it then loses nothing.
    pub fn full_at(&self, now: Duration) -> bool {
        let dt = now.saturating_sub(self.at).as_secs_f64();
        self.tokens + dt * self.rate >= self.burst
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_the_rate() {
        let ms = Duration::from_millis;
        let mut b = TokenBucket::new(2.0, 4.0, ms(0));
        assert_eq!((0..10).filter(|_| b.take(ms(0))).count(), 4);
        assert!(!b.full_at(ms(1000)));
        assert_eq!((0..10).filter(|_| b.take(ms(1000))).count(), 2);
        assert!(b.full_at(ms(3000)));
        // An earlier `now` than seen before refills nothing.
        assert!(!b.take(ms(500)));
    }
}
