//! The boundary between the tick thread and the transport. The tick thread sees each connection
//! as a `Link`: it drains what arrived once per tick and hands it to the core, and passes the
//! core's output back. The endpoint implements `Link` over QUIC; nothing on the tick thread names
//! the transport, and the tick loop never waits on it.

use crate::core::{ClientKey, CloseReason, LinkClosed};

/// What arrived on one connection since the last drain.
#[derive(Debug, Default)]
pub struct Arrivals {
    /// Control-stream bytes, in order.
    pub control: Vec<u8>,
    /// Whole datagrams, in arrival order.
    pub datagrams: Vec<Vec<u8>>,
    /// Datagrams the transport dropped because its bounded inbox was full.
    pub dropped: u64,
    /// Set once the transport has lost the connection.
    pub closed: Option<LinkClosed>,
}

impl Arrivals {
    /// Empties it for reuse (keeps the allocations).
    pub fn clear(&mut self) {
        self.control.clear();
        self.datagrams.clear();
        self.dropped = 0;
        self.closed = None;
    }
}

/// One connection as the tick thread drives it. Every method returns at once.
pub trait Link: Send {
    /// Moves what arrived since the last call into `into` (which the caller cleared).
    fn drain(&self, into: &mut Arrivals);
    /// Largest datagram the transport can send on this connection now.
    fn max_datagram_size(&self) -> usize;
    /// The peer's IP address (its port may change: QUIC migration).
    fn peer_ip(&self) -> std::net::IpAddr;
    /// Sends an unreliable datagram (dropped if the transport's buffer is full: the next
    /// snapshot repairs it).
    fn send_datagram(&self, bytes: Vec<u8>);
    /// Queues control-stream bytes; false when the connection's bounded backlog is full (the
    /// client is not reading).
    fn send_control(&self, bytes: Vec<u8>) -> bool;
    /// Closes the connection after what was queued before, with this reason.
    fn close(&self, reason: &CloseReason);
}

/// A connection handed to the tick thread.
pub type NewLink = (ClientKey, Box<dyn Link>);

/// New connections waiting for the tick thread; beyond this, connections are refused as busy.
pub const NEW_LINK_QUEUE: usize = 256;
