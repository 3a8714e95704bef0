//! Messages between the network tasks (tokio) and the tick loop (its own thread). The tick loop
//! never awaits: it drains this channel without blocking at the start of every tick.

use rewind_shared::protocol::{ClientDatagram, RejectReason, ServerMsg, Welcome};
use tokio::sync::{mpsc, oneshot};

/// A connection's key, unique for the life of the server.
pub type ConnKey = u64;

/// From a connection task to the tick loop.
#[derive(Debug)]
pub enum NetEvent {
    /// A client finished its hello and wants to play.
    Join {
        /// Connection key.
        key: ConnKey,
        /// Validated name.
        name: String,
        /// To send datagrams from the tick loop.
        conn: quinn::Connection,
        /// To send control messages (written by the connection's writer task).
        ctrl: mpsc::UnboundedSender<ServerMsg>,
        /// The answer: a welcome or a reject.
        reply: oneshot::Sender<Result<Welcome, RejectReason>>,
    },
    /// A decoded datagram.
    Datagram {
        /// From whom.
        key: ConnKey,
        /// What.
        msg: ClientDatagram,
    },
    /// A chat line.
    Chat {
        /// From whom.
        key: ConnKey,
        /// Text (already length-checked).
        text: String,
    },
    /// The connection is gone.
    Left {
        /// Who.
        key: ConnKey,
        /// Why, for the kill feed.
        reason: String,
    },
}
