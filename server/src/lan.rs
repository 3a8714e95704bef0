//! The LAN discovery responder (`serve --lan`, `play --host`): a tokio task on the network
//! runtime that answers `rewind_shared::lan` queries on a UDP port with what the match is now.
//! It only reads the metrics the tick loop already publishes, so the tick loop never waits on it.

use crate::metrics::Metrics;
use rewind_shared::lan::{LanAnswer, LanGame, LanQuery, QUERY_LEN, RateLimiter};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// How a server advertises itself on the LAN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LanConfig {
    /// The UDP address the responder binds, normally `0.0.0.0:LAN_PORT` (port 0 in tests).
    pub addr: SocketAddr,
    /// The name players see in the list.
    pub name: String,
}

/// Counters of the responder, shared with the handle so tests and logs can see them.
#[derive(Debug, Default)]
pub struct LanCounters {
    /// Queries answered.
    pub answered: AtomicU64,
    /// Queries refused by the rate limit.
    pub rate_limited: AtomicU64,
    /// Datagrams that were not valid queries.
    pub malformed: AtomicU64,
}

/// Binds the responder's socket with `SO_REUSEADDR` (so a host and a dedicated server on one
/// machine can both listen: a broadcast reaches every socket bound to the port) and
/// `SO_BROADCAST`. Called before the server's threads start so a bad address fails `start`.
pub fn bind(addr: SocketAddr) -> std::io::Result<std::net::UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    socket.set_broadcast(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// The unchanging part of the answer; players come from the metrics at each query.
#[derive(Clone, Debug)]
pub struct Advert {
    /// Everything but `players`.
    pub game: LanGame,
    /// The tick loop's live counts.
    pub metrics: Arc<Metrics>,
}

impl Advert {
    /// The answer to a query right now.
    fn answer(&self, query: LanQuery) -> LanAnswer {
        let clients = self.metrics.clients.get().clamp(0, i64::from(u16::MAX));
        let mut game = self.game.clone();
        game.players = u16::try_from(clients).unwrap_or(u16::MAX);
        LanAnswer {
            nonce: query.nonce,
            game,
        }
    }
}

/// Answers queries until the task is dropped. Invalid datagrams and rate-limited queries get
/// no reply at all (silence gives a reflector's victim nothing).
pub async fn serve(socket: tokio::net::UdpSocket, advert: Advert, counters: Arc<LanCounters>) {
    let start = Instant::now();
    let mut limiter = RateLimiter::new();
    // One byte more than a query, so an oversized datagram is seen as such, not cut to fit.
    let mut buf = [0u8; QUERY_LEN + 1];
    loop {
        let (len, from) = match socket.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(e) => {
                // ICMP errors surface here on some systems; the socket itself is still fine.
                tracing::debug!(error = %e, "LAN responder receive error");
                continue;
            }
        };
        let Some(datagram) = buf.get(..len) else {
            continue;
        };
        let query = match LanQuery::decode(datagram) {
            Ok(q) => q,
            Err(e) => {
                counters.malformed.fetch_add(1, Ordering::Relaxed);
                tracing::trace!(%from, error = %e, "not a LAN query");
                continue;
            }
        };
        if !limiter.allow(from.ip(), start.elapsed()) {
            counters.rate_limited.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        match advert.answer(query).encode() {
            Ok(bytes) => {
                if let Err(e) = socket.send_to(&bytes, from).await {
                    tracing::debug!(%from, error = %e, "cannot answer a LAN query");
                } else {
                    counters.answered.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot encode the LAN answer"),
        }
    }
}
