//! `rewind serve`: run a dedicated server until the match ends or Ctrl-C.

use crate::cli_util::{load_map, on_stop_signal, parse_duration_arg};
use anyhow::Context;
use clap::Args;
use rewind_server::ServerConfig;
use rewind_server::config::{DEFAULT_SNAPSHOT_RATE, snapshot_interval_for};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Flags of `rewind serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; the default `[::]` takes IPv6 and IPv4 (IPv4 only where the OS has
    /// no IPv6).
    #[arg(long, default_value = "[::]:4433")]
    pub addr: SocketAddr,
    /// Simulation ticks per second (10..=128).
    #[arg(long, default_value_t = 60)]
    pub tick_rate: u32,
    /// Snapshots per second sent to each client (at most the tick rate; a snapshot goes out every
    /// round(tick-rate / snapshot-rate) ticks) [default: 30].
    #[arg(long)]
    pub snapshot_rate: Option<u32>,
    /// AI players running inside the server.
    #[arg(long, default_value_t = 0)]
    pub ai: u16,
    /// Seed for AI behaviour.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Lag-compensation window (up to 1s). 400 ms covers a 200 ms round trip plus interpolation
    /// delay, input buffer and jitter (see docs/ARCHITECTURE.md).
    #[arg(long, default_value = "400ms", value_parser = parse_duration_arg)]
    pub max_rewind: Duration,
    /// Trace shots against present positions instead of the shooter's view (to measure the difference).
    #[arg(long)]
    pub no_lagcomp: bool,
    /// Believe every shot's claimed view within the rewind window, as before the view checks (only
    /// to measure what the checks prevent, e.g. against `rewind bots --cheat backtrack`).
    #[arg(long)]
    pub trust_views: bool,
    /// Send every player's position to every client, even behind walls (no fog of war; for
    /// comparison).
    #[arg(long)]
    pub no_fog: bool,
    /// Run the tick thread at real-time priority (SCHED_FIFO 10), so that a tick is never
    /// preempted by the network threads or other programs: for a big server on few cores. Needs
    /// CAP_SYS_NICE (root) or `ulimit -r 10`; without it the server warns and runs as usual. A
    /// tick loop that falls 8 ticks behind goes back to normal priority.
    #[arg(long)]
    pub realtime_tick: bool,
    /// Share of each tick period a tick may run before the snapshots still due wait for the next
    /// tick (where they go first): a tick that would run long leaves the core to the network
    /// threads instead. A percentage, or "off". Only a big server reaches it.
    #[arg(long, default_value = "40%", value_parser = parse_tick_budget)]
    pub tick_budget: TickBudgetArg,
    /// Built-in map name (`rewind map list`) or a map file.
    #[arg(long, default_value = "arena")]
    pub map: String,
    /// Human players at most.
    #[arg(long, default_value_t = 64)]
    pub max_clients: u16,
    /// Connections at most from one IP address (players behind one NAT share an address).
    #[arg(long, default_value_t = 8)]
    pub max_per_addr: u16,
    /// How long a player whose connection dropped is kept for its client to come back (it stands
    /// still meanwhile and can be shot); 0s removes it at once. At most 10m.
    #[arg(long, default_value = "30s", value_parser = parse_duration_arg)]
    pub resume_grace: Duration,
    /// End the match after this long (e.g. 30s, 5m).
    #[arg(long, value_parser = parse_duration_arg)]
    pub duration: Option<Duration>,
    /// Write statistics as JSON here at exit.
    #[arg(long)]
    pub stats: Option<PathBuf>,
    /// Serve Prometheus metrics over HTTP on this address (`GET /metrics`), e.g. 127.0.0.1:9100.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
    /// Record the match to this file (see `rewind replay`).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Artificial network conditions on the server's socket.
    #[command(flatten)]
    pub net: rewind_net::NetArgs,
    /// Answer LAN discovery queries (`rewind lan` lists this server) on UDP `--lan-port`, on the
    /// IP of `--addr`.
    #[arg(long)]
    pub lan: bool,
    /// The name `rewind lan` shows (at most 32 bytes; default: "USER's server").
    #[arg(long, requires = "lan")]
    pub name: Option<String>,
    /// UDP port of the LAN responder (0: any free port, printed as `lan ADDR`).
    #[arg(long, default_value_t = rewind_shared::lan::LAN_PORT, requires = "lan")]
    pub lan_port: u16,
    /// Where the certificate is kept (default: $XDG_DATA_HOME/rewind or ~/.local/share/rewind).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Match rules: how a match ends and how many are played.
    #[command(flatten)]
    pub rules: MatchArgs,
    /// Run as an Agones game server: Ready once listening, health pings while the tick loop
    /// runs, players as the SDK list `players`, Shutdown after the last match (needs a build with
    /// `--features agones`; the SDK sidecar's port comes from AGONES_SDK_GRPC_PORT).
    #[arg(long)]
    pub agones: bool,
}

/// `--score-limit`, `--time-limit`, `--matches`, `--forever`, `--intermission` (serve and play).
#[derive(Debug, Args)]
pub struct MatchArgs {
    /// End the match when a player reaches this many kills (the final scoreboard goes to every
    /// client).
    #[arg(long, value_name = "N")]
    pub score_limit: Option<u16>,
    /// End the match after this long (e.g. 10m, 90s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub time_limit: Option<Duration>,
    /// Play this many matches, a fresh one after each intermission, then stop (with --record FILE,
    /// match N is recorded to FILE-N.ext).
    #[arg(long, value_name = "N", conflicts_with = "forever")]
    pub matches: Option<u32>,
    /// Play matches until stopped.
    #[arg(long)]
    pub forever: bool,
    /// Pause between matches, with the final scoreboard shown.
    #[arg(long, default_value = "10s", value_parser = parse_duration_arg)]
    pub intermission: Duration,
}

impl MatchArgs {
    /// The rules these flags ask for.
    pub fn rules(&self) -> rewind_server::config::MatchRules {
        rewind_server::config::MatchRules {
            score_limit: self.score_limit,
            time_limit: self.time_limit,
            matches: if self.forever {
                None
            } else {
                Some(self.matches.unwrap_or(1))
            },
            intermission: self.intermission,
        }
    }
}

impl ServeArgs {
    /// The validated server configuration.
    pub fn config(&self) -> anyhow::Result<ServerConfig> {
        let snapshot_interval = match self.snapshot_rate {
            None => snapshot_interval_for(self.tick_rate, DEFAULT_SNAPSHOT_RATE),
            Some(0) => anyhow::bail!("--snapshot-rate must be at least 1"),
            Some(hz) if hz > self.tick_rate => {
                anyhow::bail!(
                    "--snapshot-rate {hz} is higher than --tick-rate {}",
                    self.tick_rate
                )
            }
            Some(hz) => snapshot_interval_for(self.tick_rate, hz),
        };
        let cfg = ServerConfig {
            addr: self.addr,
            tick_rate: self.tick_rate,
            snapshot_interval,
            ai: self.ai,
            seed: self.seed,
            max_rewind: self.max_rewind,
            lagcomp: !self.no_lagcomp,
            trust_views: self.trust_views,
            fog: !self.no_fog,
            map: load_map(&self.map)?,
            max_clients: self.max_clients,
            max_per_addr: self.max_per_addr,
            resume_grace: self.resume_grace,
            data_dir: Some(
                self.data_dir
                    .clone()
                    .unwrap_or_else(rewind_server::cert::default_data_dir),
            ),
            duration: self.duration,
            record: self.record.clone(),
            link: self.net.link_config().context("bad network conditions")?,
            link_seed: self.net.seed(),
            metrics: self.metrics,
            lan: self.lan.then(|| rewind_server::lan::LanConfig {
                addr: SocketAddr::new(crate::lan_cmd::responder_ip(self.addr.ip()), self.lan_port),
                name: self
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("{}'s server", crate::cli_util::default_name())),
            }),
            rules: self.rules.rules(),
            realtime_tick: self.realtime_tick,
            tick_budget_percent: self.tick_budget.0,
            ..ServerConfig::default()
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

/// Runs `rewind serve`.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    if args.agones && !cfg!(feature = "agones") {
        anyhow::bail!(
            "--agones: this rewind was built without Agones support; build it with \
             `cargo build --release --features agones` (needs protoc: apt-get install protobuf-compiler)"
        );
    }
    let cfg = args.config()?;
    #[cfg(feature = "agones")]
    let (map_name, max_clients) = (cfg.map.name.clone(), cfg.max_clients);
    let handle = rewind_server::start(cfg).context("cannot start the server")?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening {}", handle.local_addr())?;
        writeln!(out, "cert-hash {}", handle.cert_hash())?;
        if let Some(addr) = handle.metrics_addr() {
            writeln!(out, "metrics http://{addr}/metrics")?;
        }
        if let Some(addr) = handle.lan_addr() {
            writeln!(out, "lan {addr}")?;
        }
        out.flush()?;
    }
    let (stopper, terminator) = (handle.stopper(), handle.stopper());
    on_stop_signal(move || stopper.stop(), move || terminator.terminate());
    #[cfg(feature = "agones")]
    let agones = if args.agones {
        let opts = rewind_server::agones::AgonesOptions::new(
            &map_name,
            env!("CARGO_PKG_VERSION"),
            handle.cert_hash(),
            max_clients,
        );
        match rewind_server::agones::Agones::start(opts, handle.metrics(), handle.roster()) {
            Ok(a) => Some(a),
            Err(e) => {
                handle.stop();
                let _ = handle.wait();
                return Err(e).context("cannot run as an Agones game server");
            }
        }
    } else {
        None
    };
    let stats = handle.wait();
    tracing::info!(
        ticks = stats.ticks,
        p99_us = stats.tick_us.p99,
        shots = stats.shots,
        "server stopped"
    );
    if let Some(path) = &args.stats {
        let json = serde_json::to_string_pretty(&stats)?;
        std::fs::write(path, json + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    }
    #[cfg(feature = "agones")]
    if let Some(a) = agones {
        a.shutdown();
    }
    Ok(())
}

/// `--tick-budget`: a percentage of the tick period, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TickBudgetArg(pub Option<u8>);

fn parse_tick_budget(s: &str) -> Result<TickBudgetArg, String> {
    if s.eq_ignore_ascii_case("off") {
        return Ok(TickBudgetArg(None));
    }
    let digits = s.strip_suffix('%').unwrap_or(s).trim();
    // The range is `ServerConfig::validate`'s to check, as for every other setting.
    let p: u8 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a percentage of the tick period (e.g. 40%) or \"off\""))?;
    Ok(TickBudgetArg(Some(p)))
}
