//! Why connections and players end, as enums: the core decides, the endpoint only maps them to
//! QUIC close codes and the wire text, and nobody compares strings.

use rewind_shared::protocol::RejectReason;

/// A connection, as the core names it: unique for the life of the server, never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientKey(pub u64);

impl std::fmt::Display for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "conn-{}", self.0)
    }
}

/// QUIC application close codes (the wire side of `CloseReason::code`).
pub mod close_code {
    /// Normal end (leave, match over).
    pub const DONE: u32 = 0;
    /// Handshake refused (the reason was sent first on the control stream).
    pub const REJECTED: u32 = 1;
    /// Protocol violation or abuse.
    pub const PROTOCOL: u32 = 2;
    /// Dropped for silence or a backlog; the player is kept and the client may resume it.
    pub const RESUMABLE: u32 = rewind_shared::protocol::CLOSE_RESUMABLE;
}

/// Why the server is stopping the whole match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShutdownReason {
    /// Ctrl-C, `ServerHandle::stop`.
    Operator,
    /// `--duration` elapsed, or the last match ended by its rules.
    MatchOver,
    /// The process was asked to terminate (SIGTERM: `docker stop`, a Kubernetes pod being
    /// deleted): the match is drained like an operator stop.
    Terminated,
}

impl std::fmt::Display for ShutdownReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ShutdownReason::Operator => "server stopped by the operator",
            ShutdownReason::MatchOver => "match over",
            ShutdownReason::Terminated => "server is shutting down (terminated)",
        })
    }
}

/// Why the server closes a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// The client said it leaves.
    Left,
    /// The handshake was refused; the reason went out on the control stream first.
    Rejected(RejectReason),
    /// The client broke the protocol (bad frame, second hello, message out of place).
    Protocol(String),
    /// The client sent datagrams far above the rate limit, again and again.
    Flood,
    /// The client does not read its control stream and its backlog is full.
    Backlogged,
    /// The client sent no datagram (no input, no ack) for this long.
    Silent(std::time::Duration),
    /// The match is over for everyone.
    Shutdown(ShutdownReason),
    /// The client resumed its player on a new connection; this one is stale.
    Replaced,
}

impl CloseReason {
    /// The QUIC application close code.
    pub fn code(&self) -> u32 {
        match self {
            CloseReason::Left | CloseReason::Shutdown(_) | CloseReason::Replaced => close_code::DONE,
            CloseReason::Rejected(_) => close_code::REJECTED,
            CloseReason::Protocol(_) | CloseReason::Flood => close_code::PROTOCOL,
            CloseReason::Backlogged | CloseReason::Silent(_) => close_code::RESUMABLE,
        }
    }

    /// Whether the player is kept for a resume: the client may simply be on a bad network.
    /// Abuse (floods, protocol violations) and endings on purpose are final.
    pub fn resumable(&self) -> bool {
        matches!(self, CloseReason::Backlogged | CloseReason::Silent(_))
    }
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CloseReason::Left => f.write_str("left"),
            CloseReason::Rejected(r) => write!(f, "rejected: {r}"),
            CloseReason::Protocol(why) => write!(f, "protocol: {why}"),
            CloseReason::Flood => f.write_str("protocol: datagram flood"),
            CloseReason::Backlogged => f.write_str("not reading its control stream"),
            CloseReason::Silent(d) => write!(f, "silent for {} s", d.as_secs()),
            CloseReason::Shutdown(s) => s.fmt(f),
            CloseReason::Replaced => f.write_str("resumed on another connection"),
        }
    }
}

/// How the transport saw a connection end (the endpoint maps QUIC's errors to these).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkClosed {
    /// No packets for the idle timeout.
    TimedOut,
    /// The peer closed the connection.
    ClosedByPeer,
    /// Anything else the transport reports.
    Lost(String),
}

impl std::fmt::Display for LinkClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkClosed::TimedOut => f.write_str("timed out"),
            LinkClosed::ClosedByPeer => f.write_str("disconnected"),
            LinkClosed::Lost(why) => f.write_str(why),
        }
    }
}
