//! Finding games on the LAN (`rewind lan`, `connect lan:NAME`): send one discovery query to each
//! target address and collect the answers for a while. Blocking on purpose: the CLI waits
//! anyway, and a window would run it on a thread of its own.

use rewind_shared::lan::{LAN_PORT, LanAnswer, LanGame, LanQuery, MAX_ANSWER_LEN};
use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// Why a search could not run (no answers is not an error: it is an empty list).
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// The local socket could not be created or configured.
    #[error("cannot open a UDP socket for LAN discovery: {0}")]
    Socket(std::io::Error),
    /// No target address accepted the query (all sends failed).
    #[error("cannot send the LAN query to any address: {0}")]
    Send(std::io::Error),
}

/// Where to ask and for how long.
#[derive(Clone, Debug)]
pub struct DiscoverConfig {
    /// Addresses the query is sent to (broadcast or unicast).
    pub targets: Vec<IpAddr>,
    /// The responders' UDP port.
    pub port: u16,
    /// How long to collect answers.
    pub timeout: Duration,
}

impl DiscoverConfig {
    /// The limited broadcast (the local network) and this machine's loopback, on `LAN_PORT`.
    pub fn new(timeout: Duration) -> DiscoverConfig {
        DiscoverConfig {
            targets: default_targets(),
            port: LAN_PORT,
            timeout,
        }
    }
}

/// The limited broadcast 255.255.255.255 (every host on the local network) and 127.0.0.1 (a
/// server on this machine, which the broadcast may not reach everywhere).
pub fn default_targets() -> Vec<IpAddr> {
    vec![IpAddr::V4(Ipv4Addr::BROADCAST), IpAddr::V4(Ipv4Addr::LOCALHOST)]
}

/// One game that answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundGame {
    /// The address to connect to: the answer's source IP with the game's port.
    pub addr: SocketAddr,
    /// From sending the query to receiving this answer.
    pub ping: Duration,
    /// What the server said about itself.
    pub game: LanGame,
}

/// A nonce nobody else can predict well enough to pose as an answer to this search (it is not a
/// secret: the certificate pin is what makes joining safe).
fn nonce() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    h.finish()
}

/// Sends the query to every target and returns the games that answered within the timeout,
/// fastest first, each server once (the same certificate and port seen through several
/// addresses, e.g. the broadcast and loopback, is one game). IPv4 and IPv6 targets are asked
/// from a socket of their own family each, at the same time.
pub fn discover(cfg: &DiscoverConfig) -> Result<Vec<FoundGame>, DiscoverError> {
    let query = LanQuery { nonce: nonce() };
    let (v4, v6): (Vec<IpAddr>, Vec<IpAddr>) = cfg.targets.iter().partition(|ip| ip.is_ipv4());
    let results: Vec<Result<Vec<FoundGame>, DiscoverError>> = std::thread::scope(|scope| {
        let searches: Vec<_> = [
            (v4, IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            (v6, IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
        ]
        .into_iter()
        .filter(|(targets, _)| !targets.is_empty())
        .map(|(targets, any)| scope.spawn(move || search_family(any, &targets, cfg.port, cfg.timeout, query)))
        .collect();
        searches
            .into_iter()
            .map(|s| {
                s.join().unwrap_or_else(|_| {
                    Err(DiscoverError::Send(std::io::Error::other(
                        "search thread panicked",
                    )))
                })
            })
            .collect()
    });
    let mut found: Vec<FoundGame> = Vec::new();
    let mut first_err = None;
    let mut any_ok = false;
    for r in results {
        match r {
            Ok(games) => {
                any_ok = true;
                found.extend(games);
            }
            Err(e) => {
                tracing::debug!(error = %e, "a LAN search failed");
                first_err.get_or_insert(e);
            }
        }
    }
    if !any_ok {
        return Err(
            first_err.unwrap_or_else(|| DiscoverError::Send(std::io::Error::other("no target addresses")))
        );
    }
    found.sort_by_key(|f| f.ping);
    let mut unique: Vec<FoundGame> = Vec::new();
    for f in found {
        if !unique.iter().any(|u| same_game(&u.game, &f.game)) {
            unique.push(f);
        }
    }
    Ok(unique)
}

fn same_game(a: &LanGame, b: &LanGame) -> bool {
    a.cert_sha256 == b.cert_sha256 && a.port == b.port
}

/// One socket bound to `any` (0.0.0.0 or ::): query every target, collect answers until the
/// timeout.
fn search_family(
    any: IpAddr,
    targets: &[IpAddr],
    port: u16,
    timeout: Duration,
    query: LanQuery,
) -> Result<Vec<FoundGame>, DiscoverError> {
    let socket = UdpSocket::bind((any, 0)).map_err(DiscoverError::Socket)?;
    if any.is_ipv4() {
        socket.set_broadcast(true).map_err(DiscoverError::Socket)?;
    }
    let bytes = query.encode();
    let sent_at = Instant::now();
    let mut sent = 0;
    let mut last_err = None;
    for ip in targets {
        match socket.send_to(&bytes, SocketAddr::new(*ip, port)) {
            Ok(_) => sent += 1,
            Err(e) => {
                tracing::debug!(%ip, error = %e, "LAN query not sent");
                last_err = Some(e);
            }
        }
    }
    if sent == 0 {
        return Err(DiscoverError::Send(
            last_err.unwrap_or_else(|| std::io::Error::other("no target addresses")),
        ));
    }
    let deadline = sent_at + timeout;
    let mut found: Vec<FoundGame> = Vec::new();
    // One byte more than an answer may be, so an oversized one is refused rather than cut.
    let mut buf = [0u8; MAX_ANSWER_LEN + 1];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        socket
            .set_read_timeout(Some(left))
            .map_err(DiscoverError::Socket)?;
        let (len, from) = match socket.recv_from(&mut buf) {
            Ok(x) => x,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break;
            }
            // ICMP "port unreachable" from a target with no responder: keep listening.
            Err(e) => {
                tracing::debug!(error = %e, "LAN receive error");
                continue;
            }
        };
        let ping = sent_at.elapsed();
        let Some(datagram) = buf.get(..len) else {
            continue;
        };
        let answer = match LanAnswer::decode(datagram) {
            Ok(a) if a.nonce == query.nonce => a,
            Ok(_) => continue,
            Err(e) => {
                tracing::debug!(%from, error = %e, "not a LAN answer");
                continue;
            }
        };
        if !found.iter().any(|f| same_game(&f.game, &answer.game)) {
            found.push(FoundGame {
                addr: SocketAddr::new(from.ip(), answer.game.port),
                ping,
                game: answer.game,
            });
        }
    }
    Ok(found)
}

/// The game called `name` (exactly, else ignoring case), for `connect lan:NAME`.
pub fn find_by_name<'a>(games: &'a [FoundGame], name: &str) -> Option<&'a FoundGame> {
    games
        .iter()
        .find(|g| g.game.name == name)
        .or_else(|| games.iter().find(|g| g.game.name.eq_ignore_ascii_case(name)))
}
