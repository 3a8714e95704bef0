//! The messages of a session. See `docs/PROTOCOL.md` for sizes, order and the state machine.
//!
//! Two channels: a reliable, ordered control stream (length-prefixed frames, see `frame`) for
//! the handshake and everything that must not be lost, and unreliable datagrams for inputs and
//! snapshots, where a lost packet is repaired by the next one (redundant inputs, acked baselines).

use crate::ack::AckWindow;
use crate::input::Input;
use crate::player::{PlayerId, PlayerState};
use crate::sim::ShotMode;
use crate::snapshot::EntityDelta;
use crate::tick::{Seq, Tick};
use serde::{Deserialize, Serialize};

/// Bumped on any incompatible change. `ClientMsg::Hello` stays variant 0 with `version` as its
/// first field forever, so any two versions can at least tell each other they differ.
pub const PROTOCOL_VERSION: u32 = 5;
/// ALPN of the QUIC connection.
pub const ALPN: &[u8] = b"rewind/1";
/// Largest control frame body.
pub const MAX_CONTROL_FRAME: usize = 64 * 1024;
/// Largest datagram either side accepts.
pub const MAX_DATAGRAM: usize = 1452;
/// Longest player name in characters.
pub const MAX_NAME_CHARS: usize = 24;
/// Longest chat line in characters.
pub const MAX_CHAT_CHARS: usize = 200;
/// Most inputs one datagram carries (the newest and the unacknowledged ones before it).
pub const MAX_INPUTS_PER_PACKET: usize = 16;

/// QUIC application close code of a connection the server dropped (silence, a control backlog)
/// while keeping its player: the client should reconnect and send `ClientMsg::Resume`.
pub const CLOSE_RESUMABLE: u32 = 3;

/// Client to server, on the control stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ClientMsg {
    /// First message: who I am and which protocol I speak.
    Hello {
        /// The client's `PROTOCOL_VERSION`.
        version: u32,
        /// Display name.
        name: String,
    },
    /// A chat line.
    Chat {
        /// Text, at most `MAX_CHAT_CHARS`.
        text: String,
    },
    /// Leaving on purpose.
    Leave,
    /// First message of a reconnecting client instead of `Hello`: give me back the player this
    /// token was issued for (in its `Welcome`).
    Resume {
        /// The client's `PROTOCOL_VERSION`.
        version: u32,
        /// The token from the last `Welcome`.
        token: ResumeToken,
    },
    /// Whether the lag-compensation debug view (F4) is open: only then do verdicts carry the
    /// hitboxes the server traced (about 7 bytes per player per shot, for a view that is
    /// usually closed). Off at the start of every connection.
    DebugView {
        /// Open.
        hitboxes: bool,
    },
}

/// A secret the server hands each player in its `Welcome`: presenting it on a new connection
/// within the grace period gets that player back. Random, 128 bits, and replaced at every
/// welcome, so a token that leaked with an old connection is worth nothing after a resume.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResumeToken(pub [u8; 16]);

impl std::fmt::Debug for ResumeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A secret: never printed whole in logs.
        write!(f, "ResumeToken({:02x}{:02x}..)", self.0[0], self.0[1])
    }
}

/// Why the server refused a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RejectReason {
    /// Different protocol versions.
    VersionMismatch {
        /// The server's version.
        server: u32,
        /// The version the client sent.
        client: u32,
    },
    /// `--max-clients` reached.
    ServerFull {
        /// The limit.
        max: u16,
    },
    /// The name is empty, too long or has control characters.
    BadName,
    /// The server is stopping.
    ShuttingDown,
    /// The client broke the protocol.
    Protocol(String),
    /// Too many connections from the client's address (`--max-per-addr`).
    TooManyFromAddress {
        /// The limit.
        max: u16,
    },
    /// Too many connections are in their handshake right now; try again shortly.
    Busy,
    /// The resume token names no player the server still holds (the grace period is over, the
    /// player resumed elsewhere, or the server restarted).
    ResumeUnknown,
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RejectReason::VersionMismatch { server, client } => write!(
                f,
                "protocol version mismatch: server speaks version {server}, client speaks version {client}"
            ),
            RejectReason::ServerFull { max } => write!(f, "server full ({max} players)"),
            RejectReason::BadName => {
                write!(f, "bad name (1 to {MAX_NAME_CHARS} printable characters)")
            }
            RejectReason::ShuttingDown => write!(f, "server is shutting down"),
            RejectReason::Protocol(why) => write!(f, "protocol error: {why}"),
            RejectReason::TooManyFromAddress { max } => {
                write!(f, "too many connections from your address (at most {max})")
            }
            RejectReason::Busy => write!(f, "server busy with other handshakes, try again"),
            RejectReason::ResumeUnknown => {
                write!(f, "the server no longer holds your player (grace period over)")
            }
        }
    }
}

/// The server's answer to a good `Hello`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    /// The server's `PROTOCOL_VERSION`.
    pub version: u32,
    /// The id of this client's player.
    pub player_id: PlayerId,
    /// Simulation ticks per second.
    pub tick_rate: u32,
    /// A snapshot every this many ticks.
    pub snapshot_interval: u32,
    /// Map name.
    pub map_name: String,
    /// Map text (see `map`), so the client needs no files.
    pub map_text: String,
    /// The server's current tick.
    pub server_tick: Tick,
    /// Whether shots are rewound.
    pub lagcomp: bool,
    /// Rewind window in ticks.
    pub max_rewind_ticks: u32,
    /// Everyone already playing.
    pub roster: Vec<(PlayerId, String)>,
    /// Presented in `ClientMsg::Resume` after a dropped connection.
    pub resume_token: ResumeToken,
    /// How long the server keeps a dropped player for a resume, in milliseconds (the client
    /// stops trying after this).
    pub resume_grace_ms: u32,
}

/// Things that happened in the match, sent reliably.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum GameEvent {
    /// A player joined.
    Join {
        /// Who.
        id: PlayerId,
        /// Their name.
        name: String,
    },
    /// A player left.
    Leave {
        /// Who.
        id: PlayerId,
        /// Why, for the kill feed.
        reason: String,
    },
    /// A kill.
    Kill {
        /// Who fired.
        killer: PlayerId,
        /// Who died.
        victim: PlayerId,
    },
    /// A chat line.
    Chat {
        /// Who said it.
        from: PlayerId,
        /// What.
        text: String,
    },
    /// A message from the server to this player alone (a dropped chat line, a warning).
    Notice {
        /// What, shown as is.
        text: String,
    },
    /// The match ended by its rules (`--score-limit`, `--time-limit`): the final scoreboard, so
    /// every client shows the same result. Another match follows after `next_in_ms`, or the
    /// server stops (`ServerMsg::Shutdown` follows).
    MatchOver {
        /// Why it ended, shown as is (e.g. "score limit 5 reached").
        reason: String,
        /// Every player's `(id, kills, deaths)`, best first (`player::score_rank`).
        scores: Vec<(PlayerId, u16, u16)>,
        /// Milliseconds until the next match starts; `None`: this was the last one.
        next_in_ms: Option<u32>,
    },
    /// A match began: scores are zero and everyone is at a spawn point. Also sent after a
    /// `Welcome`, so a client knows the rules of the match it joins.
    MatchStart {
        /// The server's match count, 1 for its first.
        number: u32,
        /// Kills that win the match (`None`: no score limit).
        score_limit: Option<u16>,
        /// Seconds the match lasts at most (`None`: no time limit).
        time_limit_s: Option<u32>,
    },
}

/// The server's verdict on one of this client's shots, so the client can compare it with what it
/// saw (and draw the rewound hitboxes in the debug view).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShotVerdict {
    /// Sequence of the input that fired.
    pub seq: Seq,
    /// Server tick the shot was simulated at.
    pub tick: Tick,
    /// Who the server says was hit.
    pub target: Option<PlayerId>,
    /// How targets were positioned.
    pub mode: ShotMode,
    /// Ray origin, quantized.
    pub origin: [i32; 2],
    /// Where the ray stopped, quantized.
    pub end: [i32; 2],
    /// The hitboxes the server traced against (quantized), for the debug view.
    pub hitboxes: Vec<(PlayerId, [i32; 2])>,
}

/// Server to client, on the control stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ServerMsg {
    /// Handshake accepted.
    Welcome(Welcome),
    /// Handshake refused; the connection closes after this.
    Reject(RejectReason),
    /// A match event.
    Event(GameEvent),
    /// The verdict on one of your shots.
    Verdict(ShotVerdict),
    /// The server is stopping (match over or operator); the connection closes after this.
    Shutdown {
        /// Why, shown to the player.
        reason: String,
    },
    /// To the victim alone, at death: the kill as the killer drew it and as the server saw it
    /// (at most `killcam::KILLCAM_MAX_BYTES` encoded).
    Killcam(crate::killcam::Killcam),
}

/// One tick of input as sent: which tick it is for and its own sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputCmd {
    /// Per-client input sequence.
    pub seq: Seq,
    /// Server tick this input is for.
    pub tick: Tick,
    /// The input.
    pub input: Input,
}

/// Client to server, as a datagram.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ClientDatagram {
    /// Inputs, newest last, plus which snapshots arrived.
    Inputs {
        /// Snapshot sequences received (for delta baselines).
        ack: AckWindow,
        /// The newest input and the ones before it the server may still need, oldest first
        /// (coded against each other: `input_run`).
        #[serde(with = "crate::input_run::serde_run")]
        inputs: Vec<InputCmd>,
    },
}

/// Server to client, as a datagram: one snapshot, hand-packed (`snapshot_wire`; encode and decode
/// it with `codec::encode_snapshot` and `codec::decode_snapshot`).
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotPacket {
    /// Per-client snapshot sequence (what the client acks).
    pub seq: Seq,
    /// Server tick of the state.
    pub tick: Tick,
    /// Tick of the snapshot this one is a delta against, `None` for a full snapshot.
    pub baseline: Option<Tick>,
    /// Last input sequence the server applied for this client.
    pub last_input: Option<Seq>,
    /// Ticks by which this client's newest input was ahead of the server when this snapshot was
    /// built (negative: late). The client's clock sync steers this toward a small lead.
    pub input_lead: i16,
    /// This client's own player in full (what prediction reconciles from).
    pub you: Option<PlayerState>,
    /// Players gone since the baseline.
    pub removed: Vec<PlayerId>,
    /// Changed players (deltas against the baseline, or against zero when new).
    pub entities: Vec<EntityDelta>,
}

/// Checks a display name: 1 to `MAX_NAME_CHARS` characters, no control characters.
pub fn valid_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=MAX_NAME_CHARS).contains(&n) && !name.chars().any(char::is_control) && !name.trim().is_empty()
}
