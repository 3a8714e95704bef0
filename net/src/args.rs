//! The `--lag/--jitter/--loss/... --net PRESET` flags shared by `serve`, `connect`, `play`,
//! `bots` and `netsim`, so every command spells network conditions the same way.

use std::time::Duration;

use clap::builder::PossibleValuesParser;
use rewind_shared::conditioner::{
    ConfigError, GilbertElliott, LinkConfig, PRESET_NAMES, parse_bandwidth_kbit, parse_burst, parse_bytes,
    parse_duration, parse_percent, presets_help,
};

/// Artificial network conditions, applied to each direction of the link. Explicit flags
/// override the `--net` preset's values.
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
pub struct NetArgs {
    /// Start from a preset
    #[arg(long = "net", value_name = "PRESET", help = presets_help(),
          value_parser = PossibleValuesParser::new(PRESET_NAMES))]
    pub preset: Option<String>,
    /// One-way latency added to each direction (e.g. 80ms, 0.1s; a bare number means ms)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub lag: Option<Duration>,
    /// Random delay variation, uniform in ±JITTER (never reorders by itself)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub jitter: Option<Duration>,
    /// Independent packet loss (e.g. 3%)
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub loss: Option<f64>,
    /// Gilbert–Elliott burst loss: chance to enter a burst, chance to leave it, loss inside it
    /// (default 100%), e.g. 2%,30%,60%
    #[arg(long, value_name = "ENTER%,EXIT%[,LOSS%]", value_parser = parse_burst)]
    pub burst_loss: Option<GilbertElliott>,
    /// Packet duplication (e.g. 1%)
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub dup: Option<f64>,
    /// Packets held back so later ones overtake them (e.g. 2%)
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub reorder: Option<f64>,
    /// Bandwidth cap per direction (e.g. 1000kbit, 2mbit)
    #[arg(long, value_name = "RATE", value_parser = parse_bandwidth_kbit)]
    pub bandwidth: Option<u32>,
    /// Bytes queued behind the bandwidth cap before tail drop (e.g. 64KB; default 64KB)
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub queue: Option<usize>,
    /// Seed of the conditioner's random choices (same seed, same traffic: same fate)
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub net_seed: u64,
}

impl NetArgs {
    /// The resulting per-direction link: the preset (or the perfect link) with explicit flags
    /// applied on top, validated.
    pub fn link_config(&self) -> Result<LinkConfig, ConfigError> {
        let mut cfg = match &self.preset {
            Some(name) => LinkConfig::preset(name)?,
            None => LinkConfig::perfect(),
        };
        if let Some(v) = self.lag {
            cfg.latency = v;
        }
        if let Some(v) = self.jitter {
            cfg.jitter = v;
        }
        if let Some(v) = self.loss {
            cfg.loss = v;
        }
        if let Some(v) = self.burst_loss {
            cfg.burst = Some(v);
        }
        if let Some(v) = self.dup {
            cfg.duplicate = v;
        }
        if let Some(v) = self.reorder {
            cfg.reorder = v;
        }
        if let Some(v) = self.bandwidth {
            cfg.bandwidth_kbit = Some(v);
        }
        if let Some(v) = self.queue {
            cfg.queue_limit_bytes = v;
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// The seed to pass to [`crate::conditioned_endpoint`] / [`crate::run_netsim`].
    pub fn seed(&self) -> u64 {
        self.net_seed
    }
}
