//! One connection's state inside the core: waiting for its hello, or playing.

use crate::inputs::InputBuffer;
use crate::snapshots::SnapshotStream;
use rewind_shared::frame::FrameDecoder;
use rewind_shared::player::PlayerId;
use rewind_shared::protocol::{MAX_CONTROL_FRAME, ResumeToken};
pub use rewind_shared::rate::TokenBucket;
use std::net::IpAddr;
use std::time::Duration;

/// Datagrams per second above which a whole window counts as a strike.
const FLOOD_FACTOR: u32 = 3;
/// Strikes after which a flooding client is disconnected.
const FLOOD_STRIKES: u32 = 3;
/// Length of a rate window.
const RATE_WINDOW: Duration = Duration::from_secs(1);

/// What the rate limiter says about one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateVerdict {
    /// Within the limit: handle it.
    Accept,
    /// Over the limit: drop it (counted).
    Drop,
    /// Over the limit for too long: disconnect.
    Flood,
}

/// Per-connection datagram rate limit: `max_per_s` in each one-second window; a window with more
/// than three times that is a strike, and three strikes disconnect. A client that bursts now and
/// then loses a few datagrams; one that floods is gone within seconds.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    max_per_s: u32,
    window_start: Duration,
    in_window: u32,
    strikes: u32,
}

impl RateLimiter {
    /// A limiter whose first window starts at `now`.
    pub fn new(max_per_s: u32, now: Duration) -> RateLimiter {
        RateLimiter {
            max_per_s,
            window_start: now,
            in_window: 0,
            strikes: 0,
        }
    }

    /// Counts one datagram arriving at `now`.
    pub fn check(&mut self, now: Duration) -> RateVerdict {
        if now.saturating_sub(self.window_start) >= RATE_WINDOW {
            if self.in_window > self.max_per_s.saturating_mul(FLOOD_FACTOR) {
                self.strikes += 1;
            }
            self.window_start = now;
            self.in_window = 0;
        }
        self.in_window = self.in_window.saturating_add(1);
        if self.in_window <= self.max_per_s {
            RateVerdict::Accept
        } else if self.strikes >= FLOOD_STRIKES {
            RateVerdict::Flood
        } else {
            RateVerdict::Drop
        }
    }
}

/// Chat lines the whole server broadcasts per second on average: every line goes to every
/// player, so without a cap many senders, each within its own limit, would together multiply
/// everyone's downstream.
pub const CHAT_SERVER_PER_S: f64 = 2.0;
/// Chat lines the whole server broadcasts in a burst.
pub const CHAT_SERVER_BURST: f64 = 8.0;

/// Chat lines a player may send in a burst.
pub const CHAT_BURST: f64 = 5.0;
/// Chat lines per second a player may send on average.
pub const CHAT_PER_S: f64 = 1.0;

/// Connection attempts one address may make in a burst.
pub const CONNECT_BURST: f64 = 16.0;
/// Connection attempts per second one address may make on average.
pub const CONNECT_PER_S: f64 = 4.0;
/// Addresses remembered by the connect rate limit; past this, those at full burst are forgotten.
const CONNECT_RATE_ADDRS: usize = 4096;

/// Per-address connection attempt rate (a token bucket per IP address), so one host cannot keep
/// the handshake slots busy by reconnecting in a loop.
#[derive(Debug, Default)]
pub struct ConnectRate {
    buckets: std::collections::BTreeMap<IpAddr, TokenBucket>,
}

impl ConnectRate {
    /// Whether `addr` may connect at `now` (takes a token if so).
    pub fn allow(&mut self, addr: IpAddr, now: Duration) -> bool {
        if self.buckets.len() >= CONNECT_RATE_ADDRS {
            self.buckets.retain(|_, b| !b.full_at(now));
            if self.buckets.len() >= CONNECT_RATE_ADDRS / 2 {
                // Mostly active addresses: forget them all rather than scan on every attempt. An
                // address gains one more burst at worst, and the handshake cap still holds.
                self.buckets.clear();
            }
        }
        self.buckets
            .entry(addr)
            .or_insert_with(|| TokenBucket::new(CONNECT_PER_S, CONNECT_BURST, now))
            .take(now)
    }
}

/// A playing client.
#[derive(Debug)]
pub struct Client {
    /// Its player.
    pub player: PlayerId,
    /// The secret its `Welcome` carried; a reconnecting client presents it to resume `player`.
    pub token: ResumeToken,
    /// Buffered inputs.
    pub inputs: InputBuffer,
    /// Snapshot stream (sent ring, acks, baselines).
    pub snaps: SnapshotStream,
    /// When it was welcomed.
    pub welcomed_at: Duration,
    /// When its last datagram was accepted (None: none yet).
    pub last_heard: Option<Duration>,
    /// When it last acknowledged a snapshot it had not acknowledged before (welcome time at
    /// first): a client that acknowledges nothing gets snapshots only now and then.
    pub last_ack_news: Duration,
    /// When the last snapshot was sent to it.
    pub last_snapshot: Option<Duration>,
    /// The tick whose snapshot for it was postponed because that tick had used its time; it is
    /// served first on the next tick (oldest first).
    pub owed_since: Option<rewind_shared::tick::Tick>,
    /// Chat lines it may send (`CHAT_PER_S`, bursts of `CHAT_BURST`).
    chat: TokenBucket,
    /// When its player last respawned or is due to (the fog lifts around it).
    pub respawn_at: Option<rewind_shared::tick::Tick>,
    /// Its debug view is open: verdicts carry the traced hitboxes (`ClientMsg::DebugView`).
    pub debug_hitboxes: bool,
    /// Its hidden set, reused for a few ticks on a big server.
    pub fog: super::fog::FogCache,
}

impl Client {
    /// A client welcomed at `now` as `player` by a server at `tick_rate`, given `token` to
    /// resume it with.
    pub fn new(player: PlayerId, token: ResumeToken, now: Duration, tick_rate: u32) -> Client {
        Client {
            player,
            token,
            inputs: InputBuffer::new(tick_rate),
            snaps: SnapshotStream::default(),
            welcomed_at: now,
            last_heard: None,
            last_ack_news: now,
            last_snapshot: None,
            owed_since: None,
            chat: TokenBucket::new(CHAT_PER_S, CHAT_BURST, now),
            respawn_at: None,
            debug_hitboxes: false,
            fog: super::fog::FogCache::default(),
        }
    }

    /// Whether a chat line at `now` is within the rate (and takes a token if so).
    pub fn chat_allowed(&mut self, now: Duration) -> bool {
        self.chat.take(now)
    }

    /// How long it has been silent at `now`, if longer than its limit: `SILENT_AFTER_WELCOME`
    /// before its first datagram, `SILENT_LATER` after.
    pub fn silent(&self, now: Duration) -> Option<Duration> {
        let (since, limit) = match self.last_heard {
            None => (self.welcomed_at, SILENT_AFTER_WELCOME),
            Some(t) => (t, SILENT_LATER),
        };
        let quiet = now.saturating_sub(since);
        (quiet >= limit).then_some(quiet)
    }

    /// Whether a snapshot is due at `now`: always while it acknowledges, and every
    /// `PROBE_INTERVAL` once it has acknowledged nothing new for `ACK_STALL`.
    pub fn snapshot_due(&self, now: Duration) -> bool {
        now.saturating_sub(self.last_ack_news) < ACK_STALL
            || self
                .last_snapshot
                .is_none_or(|t| now.saturating_sub(t) >= PROBE_INTERVAL)
    }
}

/// A client that sends no datagram this long after its welcome is dropped.
pub const SILENT_AFTER_WELCOME: Duration = Duration::from_secs(3);
/// A client that has sent datagrams and then stops for this long is dropped.
pub const SILENT_LATER: Duration = Duration::from_secs(5);
/// A client that acknowledges nothing new for this long gets probe snapshots only.
pub const ACK_STALL: Duration = Duration::from_secs(1);
/// Time between probe snapshots to a client that acknowledges nothing.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(250);

/// Where a connection is in its session.
#[derive(Debug)]
pub enum Stage {
    /// Connected, no hello yet: must send one before the handshake timeout.
    AwaitingHello {
        /// When the connection was handed to the core.
        since: Duration,
    },
    /// Welcomed and playing.
    Playing(Box<Client>),
}

/// One connection.
#[derive(Debug)]
pub struct Conn {
    /// Session stage.
    pub stage: Stage,
    /// Control-stream bytes not yet a whole frame.
    pub frames: FrameDecoder,
    /// Datagram rate limit.
    pub limiter: RateLimiter,
    /// Largest datagram the transport can send to this client now.
    pub max_datagram: usize,
    /// The peer's IP address (for the per-address limit).
    pub addr: IpAddr,
}

impl Conn {
    /// A connection that just arrived at `now`.
    pub fn new(addr: IpAddr, now: Duration, max_datagrams_per_s: u32, max_datagram: usize) -> Conn {
        Conn {
            addr,
            stage: Stage::AwaitingHello { since: now },
            frames: FrameDecoder::new(MAX_CONTROL_FRAME),
            limiter: RateLimiter::new(max_datagrams_per_s, now),
            max_datagram,
        }
    }

    /// The playing client, if welcomed.
    pub fn client(&self) -> Option<&Client> {
        match &self.stage {
            Stage::Playing(c) => Some(c),
            Stage::AwaitingHello { .. } => None,
        }
    }

    /// The playing client, if welcomed.
    pub fn client_mut(&mut self) -> Option<&mut Client> {
        match &mut self.stage {
            Stage::Playing(c) => Some(c),
            Stage::AwaitingHello { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_reconnecting_in_a_loop_is_slowed_to_the_rate() {
        let mut r = ConnectRate::default();
        let a: IpAddr = [127, 0, 0, 2].into();
        let b: IpAddr = [127, 0, 0, 3].into();
        let ms = Duration::from_millis;
        let burst = (0..40).filter(|_| r.allow(a, ms(0))).count();
        assert_eq!(burst, CONNECT_BURST as usize);
        assert!(r.allow(b, ms(0)), "other addresses are not affected");
        // A second later, the rate's worth again.
        let later = (0..40).filter(|_| r.allow(a, ms(1000))).count();
        assert_eq!(later, CONNECT_PER_S as usize);
    }

    #[test]
    fn the_address_table_stays_bounded() {
        let mut r = ConnectRate::default();
        for i in 0..100_000u32 {
            assert!(r.allow(IpAddr::from(i.to_be_bytes()), Duration::ZERO));
            assert!(r.buckets.len() <= CONNECT_RATE_ADDRS);
        }
    }

    #[test]
    fn bursts_are_dropped_and_floods_disconnect() {
        let mut l = RateLimiter::new(10, Duration::ZERO);
        let ms = Duration::from_millis;
        for i in 0..10 {
            assert_eq!(l.check(ms(i)), RateVerdict::Accept);
        }
        assert_eq!(l.check(ms(20)), RateVerdict::Drop);
        // A new window forgives a small burst.
        assert_eq!(l.check(ms(1000)), RateVerdict::Accept);
        // Three windows of more than 3x the limit, then the next excess disconnects.
        let mut verdicts = Vec::new();
        for w in 2..6u64 {
            for i in 0..40 {
                verdicts.push(l.check(ms(w * 1000 + i)));
            }
        }
        assert!(verdicts.contains(&RateVerdict::Flood));
        assert_eq!(
            verdicts.iter().position(|v| *v == RateVerdict::Flood),
            Some(3 * 40 + 10)
        );
    }
}
