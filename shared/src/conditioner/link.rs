//! The [`Conditioner`] itself: one direction of a simulated link, driven by a caller-supplied
//! clock.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::time::Duration;

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

use super::config::{ConfigError, LinkConfig};

/// Minimum extra hold of a reordered packet (see [`LinkConfig::reorder`]).
const MIN_REORDER_HOLD: Duration = Duration::from_millis(10);

/// Anything the conditioner can carry. Generic so the socket layer can keep the destination
/// address and ECN bits next to the bytes; plain `Vec<u8>` is the default.
pub trait Packet: Clone {
    /// Bytes on the wire, for the bandwidth cap.
    fn wire_len(&self) -> usize;
}

impl Packet for Vec<u8> {
    fn wire_len(&self) -> usize {
        self.len()
    }
}

/// What happened to the packets so far; shown by `netsim` and the game overlay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConditionerStats {
    /// Packets pushed.
    pub sent: u64,
    /// Packets handed out by `poll` (duplicates count twice).
    pub delivered: u64,
    /// Dropped by random or burst loss.
    pub dropped_loss: u64,
    /// Dropped because the bandwidth queue was full.
    pub dropped_queue: u64,
    /// Extra copies created.
    pub duplicated: u64,
    /// Packets chosen to be held back and overtaken.
    pub reordered: u64,
}

impl ConditionerStats {
    /// Field-wise sum, to aggregate sessions or directions.
    pub fn merged(self, o: Self) -> Self {
        Self {
            sent: self.sent + o.sent,
            delivered: self.delivered + o.delivered,
            dropped_loss: self.dropped_loss + o.dropped_loss,
            dropped_queue: self.dropped_queue + o.dropped_queue,
            duplicated: self.duplicated + o.duplicated,
            reordered: self.reordered + o.reordered,
        }
    }
}

impl fmt::Display for ConditionerStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sent {} delivered {} lost {} queue-drop {} dup {} reorder {}",
            self.sent, self.delivered, self.dropped_loss, self.dropped_queue, self.duplicated, self.reordered
        )
    }
}

/// Derives independent seeds from one user seed (splitmix64), so e.g. the two directions of a
/// link or the sessions of a proxy never share a random stream.
pub fn derive_seed(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct Queued<P> {
    at: Duration,
    order: u64,
    packet: P,
}

impl<P> PartialEq for Queued<P> {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.order) == (o.at, o.order)
    }
}
impl<P> Eq for Queued<P> {}
impl<P> PartialOrd for Queued<P> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<P> Ord for Queued<P> {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.order).cmp(&(o.at, o.order))
    }
}

/// One direction of a simulated link.
///
/// `push` decides a packet's fate (loss, queue drop, duplication) and delivery time; `poll`
/// hands out packets whose time has come, in delivery-time order. `now` is any monotonic
/// `Duration` the caller likes (time since its own epoch); it must never go backwards.
///
/// Every push draws the same number of random values whatever the settings, so for a fixed seed
/// changing e.g. the loss rate does not reshuffle the jitter of unrelated packets.
pub struct Conditioner<P: Packet = Vec<u8>> {
    cfg: LinkConfig,
    rng: ChaCha8Rng,
    queue: BinaryHeap<Reverse<Queued<P>>>,
    order: u64,
    in_bad_state: bool,
    /// Latest delivery time of an in-order packet: jitter may not deliver earlier than this.
    last_delivery: Duration,
    /// When the bandwidth-limited link finishes serializing what it already accepted.
    link_free_at: Duration,
    stats: ConditionerStats,
}

impl<P: Packet> fmt::Debug for Conditioner<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conditioner")
            .field("cfg", &self.cfg)
            .field("in_flight", &self.queue.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<P: Packet> Conditioner<P> {
    /// A conditioner with validated settings and its own ChaCha8 stream from `seed`.
    pub fn new(cfg: LinkConfig, seed: u64) -> Result<Self, ConfigError> {
        cfg.validate()?;
        Ok(Self {
            cfg,
            rng: ChaCha8Rng::seed_from_u64(seed),
            queue: BinaryHeap::new(),
            order: 0,
            in_bad_state: false,
            last_delivery: Duration::ZERO,
            link_free_at: Duration::ZERO,
            stats: ConditionerStats::default(),
        })
    }

    /// Current settings.
    pub fn config(&self) -> &LinkConfig {
        &self.cfg
    }

    /// Changes the settings live (the game window's lag keys). Packets already in flight keep
    /// the delivery time they were given; ordering guarantees still hold across the change.
    pub fn set_config(&mut self, cfg: LinkConfig) -> Result<(), ConfigError> {
        cfg.validate()?;
        self.cfg = cfg;
        Ok(())
    }

    /// Counters so far.
    pub fn stats(&self) -> ConditionerStats {
        self.stats
    }

    /// Packets waiting for their delivery time.
    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }

    /// Offers a packet to the link at time `now`.
    pub fn push(&mut self, now: Duration, packet: P) {
        self.stats.sent += 1;
        // Fixed number of draws per packet (see the type docs).
        let u_loss: f64 = self.rng.random();
        let u_state: f64 = self.rng.random();
        let u_jitter: f64 = self.rng.random();
        let u_reorder: f64 = self.rng.random();
        let u_dup: f64 = self.rng.random();

        if self.lost(u_loss, u_state) {
            self.stats.dropped_loss += 1;
            return;
        }
        let Some(departure) = self.serialize(now, packet.wire_len()) else {
            self.stats.dropped_queue += 1;
            return;
        };
        let jitter = self.cfg.jitter.as_secs_f64() * (2.0 * u_jitter - 1.0);
        let delay = (self.cfg.latency.as_secs_f64() + jitter).max(0.0);
        let base = departure + Duration::from_secs_f64(delay);
        let at = if u_reorder < self.cfg.reorder {
            self.stats.reordered += 1;
            base + (self.cfg.jitter * 2).max(MIN_REORDER_HOLD)
        } else {
            let at = base.max(self.last_delivery);
            self.last_delivery = at;
            at
        };
        if u_dup < self.cfg.duplicate {
            self.stats.duplicated += 1;
            self.enqueue(at, packet.clone());
        }
        self.enqueue(at, packet);
    }

    /// The next packet whose delivery time is `<= now`, if any.
    pub fn poll(&mut self, now: Duration) -> Option<P> {
        if self.queue.peek()?.0.at > now {
            return None;
        }
        let Reverse(q) = self.queue.pop()?;
        self.stats.delivered += 1;
        Some(q.packet)
    }

    /// When the next packet becomes deliverable, for the caller's timer.
    pub fn next_deadline(&self) -> Option<Duration> {
        self.queue.peek().map(|q| q.0.at)
    }

    fn enqueue(&mut self, at: Duration, packet: P) {
        self.order += 1;
        self.queue.push(Reverse(Queued {
            at,
            order: self.order,
            packet,
        }));
    }

    /// Advances the burst-loss chain and decides whether this packet is lost.
    fn lost(&mut self, u_loss: f64, u_state: f64) -> bool {
        let p = match &self.cfg.burst {
            Some(ge) => {
                let flip = if self.in_bad_state {
                    ge.p_bad_to_good
                } else {
                    ge.p_good_to_bad
                };
                if u_state < flip {
                    self.in_bad_state = !self.in_bad_state;
                }
                if self.in_bad_state {
                    ge.loss_in_bad
                } else {
                    self.cfg.loss
                }
            }
            None => {
                self.in_bad_state = false;
                self.cfg.loss
            }
        };
        u_loss < p
    }

    /// Bandwidth cap: returns when the packet has been fully serialized onto the link, or
    /// `None` when the bytes already waiting plus this packet exceed the queue limit.
    fn serialize(&mut self, now: Duration, len: usize) -> Option<Duration> {
        let Some(kbit) = self.cfg.bandwidth_kbit else {
            return Some(now);
        };
        let bytes_per_sec = f64::from(kbit) * 1000.0 / 8.0;
        let start = self.link_free_at.max(now);
        let backlog = (start - now).as_secs_f64() * bytes_per_sec;
        if backlog + len as f64 > self.cfg.queue_limit_bytes as f64 {
            return None;
        }
        self.link_free_at = start + Duration::from_secs_f64(len as f64 / bytes_per_sec);
        Some(self.link_free_at)
    }
}
