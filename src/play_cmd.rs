//! `rewind play` (also `rewind` alone): a local server with AI players and the window, playable
//! at once; and `rewind connect ADDR`: the window against a remote server.

use crate::cli_util::{default_name, load_map, parse_duration_arg, parse_outage};
use crate::window_args::WindowArgs;
use anyhow::Context;
use clap::Args;
use rewind_client::game::run_window;
use rewind_client::net::{ConnectConfig, Outage, spawn_session};
use rewind_client::tls::Trust;
use rewind_net::NetArgs;
use rewind_server::ServerConfig;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Flags of `rewind play`.
#[derive(Debug, Args)]
pub struct PlayArgs {
    /// AI players in the local match.
    #[arg(long, default_value_t = 7)]
    pub ai: u16,
    /// Built-in map name or a map file.
    #[arg(long, default_value = "arena")]
    pub map: String,
    /// Your name.
    #[arg(long)]
    pub name: Option<String>,
    /// Seed for AI behaviour.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Simulation ticks per second.
    #[arg(long, default_value_t = 60)]
    pub tick_rate: u32,
    /// Lag-compensation window.
    #[arg(long, default_value = "400ms", value_parser = parse_duration_arg)]
    pub max_rewind: Duration,
    /// Trace shots against present positions instead of the shooter's view.
    #[arg(long)]
    pub no_lagcomp: bool,
    /// Record the match to this file (see `rewind replay`).
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Artificial network conditions between you and the local server.
    #[command(flatten)]
    pub net: NetArgs,
    /// Cut your link completely for a while to see a reconnect: START+LENGTH, e.g. 5s+15s.
    #[arg(long, value_name = "START+LENGTH", value_parser = parse_outage)]
    pub outage: Option<Outage>,
    /// Let others join: listen on all interfaces (`[::]`, IPv6 and IPv4) instead of 127.0.0.1
    /// only, and answer
    /// LAN discovery so `rewind lan` lists the match.
    #[arg(long)]
    pub host: bool,
    /// The game's UDP port when hosting.
    #[arg(long, default_value_t = 4433, requires = "host")]
    pub port: u16,
    /// UDP port of the LAN responder when hosting.
    #[arg(long, default_value_t = rewind_shared::lan::LAN_PORT, requires = "host")]
    pub lan_port: u16,
    /// Match rules of the local match (as `rewind serve`'s).
    #[command(flatten)]
    pub rules: crate::serve_cmd::MatchArgs,
    /// Window flags.
    #[command(flatten)]
    pub window: WindowArgs,
}

/// Runs `rewind play`.
pub fn play(args: PlayArgs) -> anyhow::Result<()> {
    let link = args.net.link_config().context("bad network conditions")?;
    let name = args.name.unwrap_or_else(default_name);
    let (addr, lan) = if args.host {
        // Dual-stack: IPv6 and IPv4 players (IPv4 only where the OS has no IPv6).
        let all = IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED);
        (
            SocketAddr::new(all, args.port),
            Some(rewind_server::lan::LanConfig {
                addr: SocketAddr::new(crate::lan_cmd::responder_ip(all), args.lan_port),
                name: format!("{name}'s game"),
            }),
        )
    } else {
        (SocketAddr::from(([127, 0, 0, 1], 0)), None)
    };
    let server = rewind_server::start(ServerConfig {
        addr,
        lan,
        tick_rate: args.tick_rate,
        snapshot_interval: rewind_server::config::snapshot_interval_for(
            args.tick_rate,
            rewind_server::config::DEFAULT_SNAPSHOT_RATE,
        ),
        ai: args.ai,
        seed: args.seed,
        max_rewind: args.max_rewind,
        lagcomp: !args.no_lagcomp,
        map: load_map(&args.map)?,
        record: args.record.clone(),
        rules: args.rules.rules(),
        ..ServerConfig::default()
    })
    .context("cannot start the local server")?;
    if args.host {
        print_host_banner(&server);
    }
    // The window joins over loopback whatever the server listens on.
    let local = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), server.local_addr().port());
    let mut cfg = ConnectConfig::new(local.to_string(), name, Some(server.cert_hash().to_string()));
    cfg.link = link;
    cfg.seed = args.net.seed();
    cfg.outage = args.outage;
    let session = spawn_session(cfg);
    let result = run_window(args.window.options("Rewind"), session);
    server.stop();
    let _ = server.wait();
    result.context("the game window failed")
}

/// Tells the host what to give the others: the address and fingerprint, and the command.
/// Returns the address others use (`ip:port`, the IP a guess at this machine's LAN address).
pub(crate) fn print_host_banner(server: &rewind_server::ServerHandle) -> String {
    let port = server.local_addr().port();
    let ip = crate::lan_cmd::lan_ip_guess()
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "THIS-MACHINE'S-IP".to_string());
    println!("hosting on {} (others join {ip}:{port})", server.local_addr());
    println!("cert-hash {}", server.cert_hash());
    if let Some(lan) = server.lan_addr() {
        println!("lan {lan}");
    }
    println!(
        "others: rewind lan   or   rewind connect {ip}:{port} --cert-hash {}",
        server.cert_hash()
    );
    format!("{ip}:{port}")
}

/// Flags of `rewind connect`.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Server address, host:port; or lan:NAME to join the LAN game called NAME (found with a
    /// search like `rewind lan`, certificate pinned from its answer).
    pub addr: String,
    /// How `lan:NAME` searches.
    #[command(flatten)]
    pub search: crate::lan_cmd::SearchArgs,
    /// Pin the server's certificate (SHA-256 hex printed by `rewind serve`); without it the
    /// certificate is trusted on first use and remembered in the known-hosts file.
    #[arg(long, value_name = "HEX")]
    pub cert_hash: Option<String>,
    /// Known-hosts file for trust on first use (default: $XDG_DATA_HOME/rewind/known_hosts).
    #[arg(long)]
    pub known_hosts: Option<PathBuf>,
    /// Your name.
    #[arg(long)]
    pub name: Option<String>,
    /// Artificial network conditions on your side.
    #[command(flatten)]
    pub net: NetArgs,
    /// Cut your link completely for a while to see a reconnect: START+LENGTH, e.g. 5s+15s.
    #[arg(long, value_name = "START+LENGTH", value_parser = parse_outage)]
    pub outage: Option<Outage>,
    /// Window flags.
    #[command(flatten)]
    pub window: WindowArgs,
}

/// Runs `rewind connect`.
pub fn connect(args: ConnectArgs) -> anyhow::Result<()> {
    let (addr, cert_hash) = match args.addr.strip_prefix("lan:") {
        Some(name) => {
            let (addr, found_hash) = crate::lan_cmd::resolve(name, &args.search)?;
            if let Some(given) = &args.cert_hash
                && !given.eq_ignore_ascii_case(&found_hash)
            {
                anyhow::bail!(
                    "the LAN game {name:?} has certificate {found_hash}, not the --cert-hash given"
                );
            }
            eprintln!("joining {name:?} at {addr} (certificate {found_hash})");
            (addr.to_string(), Some(found_hash))
        }
        None => (args.addr, args.cert_hash),
    };
    let mut cfg = ConnectConfig::new(addr, args.name.unwrap_or_else(default_name), cert_hash);
    if let (Trust::KnownHosts(_), Some(path)) = (&cfg.trust, args.known_hosts) {
        cfg.trust = Trust::KnownHosts(path);
    }
    cfg.link = args.net.link_config().context("bad network conditions")?;
    cfg.seed = args.net.seed();
    cfg.outage = args.outage;
    run_window(args.window.options("Rewind"), spawn_session(cfg)).context("the game window failed")
}
