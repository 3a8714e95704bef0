//! Why a client session ended, as an enum: the pump (`net`) and the session decide with it, and
//! the window shows its text.

use rewind_shared::protocol::RejectReason;

/// Why a session ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// The player left (window closed, Esc, `SessionHandle::close`).
    Left,
    /// A headless run reached its planned duration.
    Finished,
    /// The server refused the handshake.
    Rejected(RejectReason),
    /// The server stopped the match and said why.
    ServerClosed(String),
    /// The transport lost the connection (timeout, close, error), with the transport's words.
    ConnectionLost(String),
    /// The connection dropped in a way the player can come back from (the transport timed out
    /// or was reset, or the server dropped us for silence and kept our player): reconnect and
    /// resume.
    Dropped(String),
    /// The server sent a control frame that does not decode.
    BadControl(String),
    /// The server's welcome was unusable (its map does not parse).
    BadWelcome(String),
    /// Our own message could not be encoded.
    Encode(String),
}

impl EndReason {
    /// Whether we chose to end (then we say goodbye on the control stream).
    pub fn is_ours(&self) -> bool {
        matches!(self, EndReason::Left | EndReason::Finished)
    }

    /// Whether reconnecting may get our player back.
    pub fn resumable(&self) -> bool {
        matches!(self, EndReason::Dropped(_))
    }
}

impl std::fmt::Display for EndReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EndReason::Left => f.write_str("left"),
            EndReason::Finished => f.write_str("finished"),
            EndReason::Rejected(r) => write!(f, "the server refused: {r}"),
            EndReason::ServerClosed(why) => write!(f, "server closed: {why}"),
            EndReason::ConnectionLost(why) | EndReason::Dropped(why) => f.write_str(why),
            EndReason::BadControl(why) => write!(f, "bad control frame from the server: {why}"),
            EndReason::BadWelcome(why) => why.fmt(f),
            EndReason::Encode(why) => write!(f, "cannot encode: {why}"),
        }
    }
}
