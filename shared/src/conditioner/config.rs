//! What a conditioned link looks like: [`LinkConfig`], its validation and the named presets.

use std::fmt;
use std::time::Duration;

/// Longest one-way latency or jitter accepted; beyond this QUIC idle timeouts fire and the
/// setting is almost certainly a typo (e.g. "80s" for "80ms").
pub const MAX_DELAY: Duration = Duration::from_secs(10);

/// Default bandwidth-queue size: roughly a small home router's buffer.
pub const DEFAULT_QUEUE_LIMIT_BYTES: usize = 64 * 1024;

/// Names accepted by [`LinkConfig::preset`], in the order `--help` lists them.
pub const PRESET_NAMES: [&str; 5] = ["lan", "wifi", "dsl", "transatlantic", "mobile-bad"];

/// A rejected link setting. The message names the field so a CLI error is self-explanatory.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A probability outside 0..=100 % (or NaN).
    #[error("{field} must be between 0% and 100%, got {value}")]
    Probability {
        /// Which field.
        field: &'static str,
        /// The rejected value (as a fraction).
        value: f64,
    },
    /// A delay above [`MAX_DELAY`].
    #[error("{field} must be at most {max:?}, got {value:?}")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// The rejected value.
        value: Duration,
        /// The limit.
        max: Duration,
    },
    /// A bandwidth cap of zero would never deliver anything.
    #[error("bandwidth must be at least 1 kbit/s")]
    ZeroBandwidth,
    /// A queue smaller than one datagram would drop everything.
    #[error("queue limit must be at least 1500 bytes, got {0}")]
    QueueTooSmall(usize),
    /// `--net NAME` with an unknown NAME.
    #[error("unknown network preset {0:?} (expected one of: lan, wifi, dsl, transatlantic, mobile-bad)")]
    UnknownPreset(String),
}

/// Gilbert–Elliott burst-loss model: a two-state Markov chain evaluated once per packet.
///
/// Real links lose packets in bursts (a microwave oven, a cell handover); independent loss does
/// not exercise the netcode's recovery the same way. In the good state the link loses with
/// [`LinkConfig::loss`]; in the bad state with `loss_in_bad`. The mean burst (bad-state) length
/// is `1 / p_bad_to_good` packets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GilbertElliott {
    /// Per-packet probability of entering the bad state.
    pub p_good_to_bad: f64,
    /// Per-packet probability of leaving the bad state.
    pub p_bad_to_good: f64,
    /// Loss probability while in the bad state.
    pub loss_in_bad: f64,
}

impl GilbertElliott {
    /// Long-run fraction of packets sent in the bad state.
    pub fn bad_fraction(&self) -> f64 {
        let sum = self.p_good_to_bad + self.p_bad_to_good;
        if sum == 0.0 { 0.0 } else { self.p_good_to_bad / sum }
    }
}

/// Conditions for ONE direction of a link. All probabilities are fractions (0.03 = 3 %).
///
/// The default is the perfect link: no delay, no loss, no cap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkConfig {
    /// Fixed one-way propagation delay.
    pub latency: Duration,
    /// Each packet's delay is `latency` plus a uniform sample in `[-jitter, +jitter]`
    /// (clamped at zero). Jitter alone never reorders: see [`LinkConfig::reorder`].
    pub jitter: Duration,
    /// Independent per-packet loss probability (the good-state loss when `burst` is set).
    pub loss: f64,
    /// Optional burst-loss model.
    pub burst: Option<GilbertElliott>,
    /// Probability that a delivered packet is delivered twice.
    pub duplicate: f64,
    /// Probability that a packet is held back by `max(2 × jitter, 10 ms)` so that later packets
    /// overtake it. Only these packets may arrive out of order.
    pub reorder: f64,
    /// Optional bandwidth cap in kbit/s (1 kbit = 1000 bit), modelled as a serialization queue.
    pub bandwidth_kbit: Option<u32>,
    /// Bytes the bandwidth queue holds before it drops (tail drop). Unused without a cap.
    pub queue_limit_bytes: usize,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self::perfect()
    }
}

impl LinkConfig {
    /// The perfect link: everything delivered immediately, once, in order.
    pub const fn perfect() -> Self {
        Self {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            loss: 0.0,
            burst: None,
            duplicate: 0.0,
            reorder: 0.0,
            bandwidth_kbit: None,
            queue_limit_bytes: DEFAULT_QUEUE_LIMIT_BYTES,
        }
    }

    /// Whether this config changes nothing, so callers can skip the conditioner entirely.
    pub fn is_perfect(&self) -> bool {
        self.latency.is_zero()
            && self.jitter.is_zero()
            && self.loss == 0.0
            && self
                .burst
                .is_none_or(|b| b.p_good_to_bad == 0.0 || b.loss_in_bad == 0.0)
            && self.duplicate == 0.0
            && self.reorder == 0.0
            && self.bandwidth_kbit.is_none()
    }

    /// A named preset (one-way numbers; the round trip is twice the latency). See
    /// [`presets_help`] for the table shown in `--help`.
    pub fn preset(name: &str) -> Result<Self, ConfigError> {
        let ms = Duration::from_millis;
        let base = Self::perfect();
        let cfg = match name {
            "lan" => Self {
                latency: ms(1),
                ..base
            },
            "wifi" => Self {
                latency: ms(4),
                jitter: ms(3),
                loss: 0.002,
                ..base
            },
            "dsl" => Self {
                latency: ms(20),
                jitter: ms(4),
                loss: 0.005,
                bandwidth_kbit: Some(2000),
                queue_limit_bytes: 32 * 1024,
                ..base
            },
            "transatlantic" => Self {
                latency: ms(45),
                jitter: ms(5),
                loss: 0.005,
                ..base
            },
            "mobile-bad" => Self {
                latency: ms(90),
                jitter: ms(40),
                loss: 0.02,
                burst: Some(GilbertElliott {
                    p_good_to_bad: 0.02,
                    p_bad_to_good: 0.3,
                    loss_in_bad: 0.6,
                }),
                duplicate: 0.01,
                reorder: 0.01,
                bandwidth_kbit: Some(500),
                queue_limit_bytes: 16 * 1024,
            },
            other => return Err(ConfigError::UnknownPreset(other.to_owned())),
        };
        Ok(cfg)
    }

    /// Checks every field; a conditioner only ever runs validated settings.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_delay("latency", self.latency)?;
        check_delay("jitter", self.jitter)?;
        check_prob("loss", self.loss)?;
        check_prob("duplicate", self.duplicate)?;
        check_prob("reorder", self.reorder)?;
        if let Some(b) = &self.burst {
            check_prob("burst p_good_to_bad", b.p_good_to_bad)?;
            check_prob("burst p_bad_to_good", b.p_bad_to_good)?;
            check_prob("burst loss_in_bad", b.loss_in_bad)?;
        }
        if self.bandwidth_kbit == Some(0) {
            return Err(ConfigError::ZeroBandwidth);
        }
        if self.bandwidth_kbit.is_some() && self.queue_limit_bytes < 1500 {
            return Err(ConfigError::QueueTooSmall(self.queue_limit_bytes));
        }
        Ok(())
    }
}

fn check_prob(field: &'static str, value: f64) -> Result<(), ConfigError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::Probability { field, value })
    }
}

fn check_delay(field: &'static str, value: Duration) -> Result<(), ConfigError> {
    if value <= MAX_DELAY {
        Ok(())
    } else {
        Err(ConfigError::TooLong {
            field,
            value,
            max: MAX_DELAY,
        })
    }
}

impl fmt::Display for LinkConfig {
    /// Compact human form, e.g. `lag 45ms ±5ms, loss 0.5%`, used in help text and overlays.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_perfect() {
            return f.write_str("perfect");
        }
        write!(f, "lag {}ms", self.latency.as_millis())?;
        if !self.jitter.is_zero() {
            write!(f, " ±{}ms", self.jitter.as_millis())?;
        }
        write!(f, ", loss {}%", pct(self.loss))?;
        if let Some(b) = &self.burst {
            write!(
                f,
                ", burst {}%/{}%/{}%",
                pct(b.p_good_to_bad),
                pct(b.p_bad_to_good),
                pct(b.loss_in_bad)
            )?;
        }
        if self.duplicate > 0.0 {
            write!(f, ", dup {}%", pct(self.duplicate))?;
        }
        if self.reorder > 0.0 {
            write!(f, ", reorder {}%", pct(self.reorder))?;
        }
        if let Some(kbit) = self.bandwidth_kbit {
            write!(f, ", {kbit}kbit (queue {}KiB)", self.queue_limit_bytes / 1024)?;
        }
        Ok(())
    }
}

fn pct(p: f64) -> f64 {
    (p * 1000.0).round() / 10.0
}

/// One line per preset with its numbers, for `--net` help. Generated from the presets themselves
/// so the help can never drift from what runs.
pub fn presets_help() -> String {
    let mut out = String::from("Network preset (one-way values, applied to each direction):");
    for name in PRESET_NAMES {
        if let Ok(cfg) = LinkConfig::preset(name) {
            out.push_str(&format!("\n  {name:<14} {cfg}"));
        }
    }
    out
}
