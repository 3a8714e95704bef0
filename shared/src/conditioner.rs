//! Seeded, sans-IO link conditioner: the "bad network" the whole team tests against.
//!
//! Users need to feel how the game plays at 50, 150 or 300 ms with jitter and loss without a second
//! machine (DESIGN.md §6). The conditioner is the pure core of that: packets go in with a
//! timestamp and come out at their delivery time. It holds no clock and no socket, so the same
//! code runs under quinn's socket (rewind-net), in the `netsim` proxy and in deterministic tests.
//!
//! One [`Conditioner`] models ONE direction of a link; a socket wrapper uses two.

mod config;
mod link;
mod parse;

pub use config::{ConfigError, GilbertElliott, LinkConfig, PRESET_NAMES, presets_help};
pub use link::{Conditioner, ConditionerStats, Packet, derive_seed};
pub use parse::{
    LinkParseError, ParseError, parse_bandwidth_kbit, parse_burst, parse_bytes, parse_duration, parse_percent,
};
