//! `rewind lan`: list the games on the LAN; and the LAN flags `serve --lan`, `play --host` and
//! `connect lan:NAME` share.

use crate::cli_util::parse_duration_arg;
use anyhow::Context;
use clap::Args;
use rewind_client::lan::{DiscoverConfig, FoundGame, default_targets, discover, find_by_name};
use rewind_shared::lan::LAN_PORT;
use rewind_shared::protocol::PROTOCOL_VERSION;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Where and how to search (shared by `rewind lan` and `connect lan:NAME`).
#[derive(Debug, Args, Clone)]
pub struct SearchArgs {
    /// How long to wait for answers.
    #[arg(long, default_value = "2s", value_parser = parse_duration_arg)]
    pub timeout: Duration,
    /// Address to send the query to (repeatable; replaces the default list, 255.255.255.255 and
    /// 127.0.0.1). Tests pass 127.0.0.1 so nothing leaves the machine.
    #[arg(long, value_name = "ADDR", alias = "to")]
    pub broadcast: Vec<IpAddr>,
    /// UDP port of the responders.
    #[arg(long, default_value_t = LAN_PORT)]
    pub lan_port: u16,
}

impl SearchArgs {
    /// The library's search settings.
    pub fn config(&self) -> DiscoverConfig {
        DiscoverConfig {
            targets: if self.broadcast.is_empty() {
                default_targets()
            } else {
                self.broadcast.clone()
            },
            port: self.lan_port,
            timeout: self.timeout,
        }
    }
}

/// The address the LAN responder binds for a game listening on `game_ip`: the same, except that
/// a dual-stack game (`[::]`) answers on `0.0.0.0`, where IPv4 broadcasts arrive (IPv6 has no
/// broadcast; a search for `::1` or another IPv6 address needs `--addr` on that address).
pub fn responder_ip(game_ip: IpAddr) -> IpAddr {
    if game_ip.is_unspecified() {
        IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
    } else {
        game_ip
    }
}

/// Flags of `rewind lan`.
#[derive(Debug, Args)]
pub struct LanArgs {
    /// Search settings.
    #[command(flatten)]
    pub search: SearchArgs,
    /// Print a JSON array (fields: name, map, players, max_players, ai, addr, ping_ms, protocol,
    /// compatible, cert_hash) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One found game as `--json` prints it: stable field names (DESIGN §10 style contract).
fn to_json(g: &FoundGame) -> serde_json::Value {
    serde_json::json!({
        "name": g.game.name,
        "map": g.game.map,
        "players": g.game.players,
        "max_players": g.game.max_players,
        "ai": g.game.ai,
        "addr": g.addr.to_string(),
        "ping_ms": (g.ping.as_secs_f64() * 10_000.0).round() / 10.0,
        "protocol": g.game.protocol,
        "compatible": g.game.protocol == PROTOCOL_VERSION,
        "cert_hash": g.game.cert_hash_hex(),
    })
}

/// Runs `rewind lan`.
pub fn run(args: LanArgs) -> anyhow::Result<()> {
    let games = discover(&args.search.config()).context("LAN search failed")?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let list: Vec<serde_json::Value> = games.iter().map(to_json).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
        return Ok(());
    }
    if games.is_empty() {
        writeln!(out, "no games found within {:?}", args.search.timeout)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<20} {:<12} {:>9} {:<22} {:>8}  FINGERPRINT",
        "NAME", "MAP", "PLAYERS", "ADDRESS", "PING"
    )?;
    for g in &games {
        let mut players = format!("{}/{}", g.game.players, g.game.max_players);
        if g.game.ai > 0 {
            players.push_str(&format!("+{}ai", g.game.ai));
        }
        let note = if g.game.protocol == PROTOCOL_VERSION {
            String::new()
        } else {
            format!(
                "  (protocol {}, this build speaks {PROTOCOL_VERSION})",
                g.game.protocol
            )
        };
        writeln!(
            out,
            "{:<20} {:<12} {:>9} {:<22} {:>5.1} ms  {}{note}",
            g.game.name,
            g.game.map,
            players,
            g.addr.to_string(),
            g.ping.as_secs_f64() * 1000.0,
            g.game.cert_hash_hex()
        )?;
    }
    if let Some(g) = games.first() {
        writeln!(
            out,
            "join: rewind connect {} --cert-hash {}  (or rewind connect lan:{})",
            g.addr,
            g.game.cert_hash_hex(),
            g.game.name
        )?;
    }
    Ok(())
}

/// `connect lan:NAME`: the address and pinned fingerprint of the game called NAME.
pub fn resolve(name: &str, search: &SearchArgs) -> anyhow::Result<(SocketAddr, String)> {
    let games = discover(&search.config()).context("LAN search failed")?;
    let Some(g) = find_by_name(&games, name) else {
        let names: Vec<&str> = games.iter().map(|g| g.game.name.as_str()).collect();
        anyhow::bail!(
            "no game called {name:?} answered within {:?} (found: {})",
            search.timeout,
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        );
    };
    if g.game.protocol != PROTOCOL_VERSION {
        anyhow::bail!(
            "{name:?} speaks protocol {}, this build speaks {PROTOCOL_VERSION}",
            g.game.protocol
        );
    }
    Ok((g.addr, g.game.cert_hash_hex()))
}

/// An address of this machine that others on the LAN can probably reach: the source address the
/// OS would use for the default route. Connecting a UDP socket only picks a route; nothing is
/// sent (192.0.2.1 is a documentation address, RFC 5737).
pub fn lan_ip_guess() -> Option<IpAddr> {
    let socket = std::net::UdpSocket::bind(("0.0.0.0", 0)).ok()?;
    socket.connect(("192.0.2.1", 9)).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified() && !ip.is_loopback()).then_some(ip)
}
