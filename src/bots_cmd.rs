//! `rewind bots`: N headless QUIC clients that play, and a JSON report of what they measured.

use crate::cli_util::{parse_duration_arg, parse_outage};
use anyhow::Context;
use clap::Args;
use rewind_client::bots::{BotsConfig, Outage, run_bots};
use rewind_client::cheat::Cheat;
use rewind_net::NetArgs;
use std::path::PathBuf;
use std::time::Duration;

/// Flags of `rewind bots`.
#[derive(Debug, Args)]
pub struct BotsArgs {
    /// Server address, host:port.
    #[arg(long, value_name = "ADDR")]
    pub connect: String,
    /// Pin the server's certificate (SHA-256 hex printed by `rewind serve`).
    #[arg(long, value_name = "HEX")]
    pub cert_hash: Option<String>,
    /// Number of bots (1..=1000).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub count: u16,
    /// How long they play.
    #[arg(long, default_value = "30s", value_parser = parse_duration_arg)]
    pub duration: Duration,
    /// Seed of movement and aim error.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Aim error in hitbox radii (about 1: half the shots hit, many graze).
    #[arg(long, default_value_t = 1.0)]
    pub aim_error: f32,
    /// Cut every bot's link completely for a while, to practise reconnecting: START+LENGTH from
    /// the beginning of the run, e.g. 10s+15s.
    #[arg(long, value_name = "START+LENGTH", value_parser = parse_outage)]
    pub outage: Option<Outage>,
    /// Red-team: every other bot cheats (backtrack, wallhack, rapid-fire or speed); the report
    /// gives the cheaters' figures apart from the honest bots'.
    #[arg(long, value_name = "CHEAT")]
    pub cheat: Option<Cheat>,
    /// Start the bots evenly over this long instead of all at once (as players arrive at a
    /// real server), e.g. 2s; each plays --duration from its own start.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub ramp: Option<Duration>,
    /// Write the JSON report here.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
    /// Artificial network conditions on every bot's socket.
    #[command(flatten)]
    pub net: NetArgs,
}

/// Runs `rewind bots`.
pub fn run(args: BotsArgs) -> anyhow::Result<()> {
    if !(0.0..=20.0).contains(&args.aim_error) {
        anyhow::bail!("--aim-error must be between 0 and 20 hitbox radii");
    }
    let mut cfg = BotsConfig::new(args.connect, args.cert_hash, args.count, args.duration);
    cfg.seed = args.seed;
    cfg.aim_error = args.aim_error;
    cfg.link = args.net.link_config().context("bad network conditions")?;
    cfg.outage = args.outage;
    cfg.cheat = args.cheat;
    cfg.ramp = args.ramp.unwrap_or_default();
    let report = run_bots(cfg)?;
    println!("{}", report.summary());
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    }
    if report.clients == 0 {
        anyhow::bail!("no bot could connect");
    }
    Ok(())
}
