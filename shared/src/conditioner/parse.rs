//! Human strings for link settings ("80ms", "3%", "1000kbit"), shared by every CLI flag and the
//! game's overlay so the accepted syntax is the same everywhere and unit-tested in one place.

use std::time::Duration;

use super::config::{GilbertElliott, LinkConfig, MAX_DELAY};

/// A link setting that could not be parsed. Messages show the expected syntax.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    /// Not a duration.
    #[error("invalid duration {0:?}: expected e.g. 80ms, 0.1s, 1500us (a bare number means ms)")]
    Duration(String),
    /// A duration above the accepted maximum.
    #[error("duration {0:?} is too long (max {max:?})", max = MAX_DELAY)]
    DurationTooLong(String),
    /// Not a percentage, or outside 0..=100 %.
    #[error("invalid percentage {0:?}: expected a value from 0% to 100%, e.g. 3% or 0.5%")]
    Percent(String),
    /// Not a bandwidth.
    #[error("invalid bandwidth {0:?}: expected e.g. 1000kbit, 2mbit (a bare number means kbit), > 0")]
    Bandwidth(String),
    /// Not a byte size.
    #[error("invalid size {0:?}: expected e.g. 64KB, 1500, 1MB")]
    Bytes(String),
    /// Not a Gilbert–Elliott triple.
    #[error(
        "invalid burst loss {0:?}: expected ENTER%,EXIT%[,LOSS%] e.g. 2%,30%,60% (LOSS defaults to 100%)"
    )]
    Burst(String),
}

fn split_number(s: &str) -> Option<(f64, &str)> {
    let s = s.trim();
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(end);
    let value: f64 = num.parse().ok()?;
    value.is_finite().then_some((value, unit.trim()))
}

/// Parses "80ms", "0.1s", "1500us" or a bare number of milliseconds.
pub fn parse_duration(s: &str) -> Result<Duration, ParseError> {
    let err = || ParseError::Duration(s.to_owned());
    let (value, unit) = split_number(s).ok_or_else(err)?;
    let secs = match unit.to_ascii_lowercase().as_str() {
        "" | "ms" => value / 1e3,
        "s" => value,
        "us" | "µs" => value / 1e6,
        _ => return Err(err()),
    };
    if secs > MAX_DELAY.as_secs_f64() {
        return Err(ParseError::DurationTooLong(s.to_owned()));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses "3%", "0.5%" or a bare number of percent into a fraction (0.03, 0.005).
pub fn parse_percent(s: &str) -> Result<f64, ParseError> {
    let err = || ParseError::Percent(s.to_owned());
    let (value, unit) = split_number(s).ok_or_else(err)?;
    if !(unit.is_empty() || unit == "%") || value > 100.0 {
        return Err(err());
    }
    Ok(value / 100.0)
}

/// Parses "1000kbit", "2mbit", "1gbit" or a bare number of kbit/s into kbit/s.
pub fn parse_bandwidth_kbit(s: &str) -> Result<u32, ParseError> {
    let err = || ParseError::Bandwidth(s.to_owned());
    let (value, unit) = split_number(s).ok_or_else(err)?;
    let kbit = match unit.to_ascii_lowercase().as_str() {
        "" | "kbit" | "kbps" | "kbit/s" => value,
        "mbit" | "mbps" | "mbit/s" => value * 1e3,
        "gbit" | "gbps" | "gbit/s" => value * 1e6,
        _ => return Err(err()),
    };
    let kbit = kbit.round();
    if !(1.0..=f64::from(u32::MAX)).contains(&kbit) {
        return Err(err());
    }
    Ok(kbit as u32)
}

/// Parses "64KB", "1MB", "1500" (bytes; K/M are binary, 1024).
pub fn parse_bytes(s: &str) -> Result<usize, ParseError> {
    let err = || ParseError::Bytes(s.to_owned());
    let (value, unit) = split_number(s).ok_or_else(err)?;
    let mult = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        _ => return Err(err()),
    };
    let bytes = (value * mult).round();
    if bytes > 1e12 {
        return Err(err());
    }
    Ok(bytes as usize)
}

/// Parses a Gilbert–Elliott triple "ENTER%,EXIT%[,LOSS%]" (LOSS defaults to 100 %).
pub fn parse_burst(s: &str) -> Result<GilbertElliott, ParseError> {
    let err = || ParseError::Burst(s.to_owned());
    let parts: Vec<&str> = s.split(',').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(err());
    }
    let p = |i: usize| parse_percent(parts[i]).map_err(|_| err());
    let ge = GilbertElliott {
        p_good_to_bad: p(0)?,
        p_bad_to_good: p(1)?,
        loss_in_bad: if parts.len() == 3 { p(2)? } else { 1.0 },
    };
    Ok(ge)
}

impl LinkConfig {
    /// Parses a whole link description, e.g. `"lag=80ms jitter=15ms loss=3% bw=1000kbit"`
    /// or a preset name (`"wifi"`), optionally followed by overrides (`"wifi loss=5%"`).
    /// Keys: lag|latency, jitter, loss, burst, dup, reorder, bw|bandwidth, queue.
    pub fn parse(s: &str) -> Result<LinkConfig, LinkParseError> {
        let mut cfg = LinkConfig::perfect();
        for (i, word) in s.split_whitespace().enumerate() {
            let Some((key, value)) = word.split_once('=') else {
                if i == 0 && word != "perfect" {
                    cfg = LinkConfig::preset(word)?;
                    continue;
                } else if i == 0 {
                    continue;
                }
                return Err(LinkParseError::Syntax(word.to_owned()));
            };
            match key {
                "lag" | "latency" => cfg.latency = parse_duration(value)?,
                "jitter" => cfg.jitter = parse_duration(value)?,
                "loss" => cfg.loss = parse_percent(value)?,
                "burst" => cfg.burst = Some(parse_burst(value)?),
                "dup" | "duplicate" => cfg.duplicate = parse_percent(value)?,
                "reorder" => cfg.reorder = parse_percent(value)?,
                "bw" | "bandwidth" => cfg.bandwidth_kbit = Some(parse_bandwidth_kbit(value)?),
                "queue" => cfg.queue_limit_bytes = parse_bytes(value)?,
                _ => return Err(LinkParseError::Syntax(word.to_owned())),
            }
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

/// Why [`LinkConfig::parse`] rejected a description.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LinkParseError {
    /// A value did not parse.
    #[error(transparent)]
    Value(#[from] ParseError),
    /// The parsed config is invalid (or the preset is unknown).
    #[error(transparent)]
    Config(#[from] super::config::ConfigError),
    /// A word that is neither `key=value` nor a leading preset name.
    #[error(
        "unexpected {0:?}: expected key=value with key one of lag, jitter, loss, burst, dup, reorder, bw, queue"
    )]
    Syntax(String),
}
