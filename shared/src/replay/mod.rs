//! Match recordings: an event-sourced, chunked, hash-chained file.
//!
//! The server stores "the transactions, not the balance": for every tick the leaves, joins and
//! inputs it applied (plus chat and the resulting state hash), and every few seconds a keyframe
//! of the full `World`. Replaying is re-simulating with `World::step`; seeking is the nearest
//! keyframe plus re-simulation; verifying is re-simulating everything and comparing every hash.
//!
//! Layout of format version 2 (all integers little-endian; version 1, read but no longer
//! written, lacks `sig_len` and `sig` and links `prev` to the bare digest):
//!
//! ```text
//! preamble  MAGIC (8 bytes) | FORMAT_VERSION u32
//! chunk*    index u32 | kind u8 | len u32 | sig_len u16 | prev [32] | digest [32] | head_check [4]
//!           | payload [len] | sig [sig_len]
//! ```
//!
//! `digest` is SHA-256 over index, kind, len, prev and the payload; `prev` is SHA-256 of the
//! previous chunk's digest and signature (for chunk 0, SHA-256 of the preamble), so chunks form a
//! hash chain and a removed, reordered or spliced chunk breaks it. `head_check` (the first 4 bytes
//! of SHA-256 of the header bytes before it) tells a damaged length field from a file cut short.
//! `sig` is the server's signature of the digest (see `signature`); empty in an unsigned file.
//! Chunks are written whole, so a crash leaves a file readable up to its last complete chunk.
//! Chunk kinds: one `Header` first, then `Keyframe`s and `Ticks` in tick order, then `End`.

mod chunk;
mod error;
mod reader;
mod records;
mod sanity;
mod signature;
pub mod synth;
mod verify;
mod writer;

pub use chunk::{
    CHUNK_HEADER_LEN, CHUNK_HEADER_LEN_V1, ChunkKind, FORMAT_VERSION, FORMAT_VERSION_V1, MAGIC,
    MAX_CHUNK_PAYLOAD, MAX_SIGNATURE_LEN, PREAMBLE_LEN,
};
pub use error::{ReplayError, Truncation};
pub use reader::{Replay, ReplayCursor, TickOutput};
pub use signature::{
    ChainSigner, SIGNATURE_CONTEXT, SigAlg, SignError, Signer, check_signature, fingerprint, signed_message,
};
pub use verify::{PlayerScore, ReplayInfo, VerifySummary, verify};
pub use writer::{ReplayWriter, WriterError};

use crate::input::Input;
use crate::lagcomp::History;
use crate::player::{PlayerId, PlayerState};
use crate::sim::SimConfig;
use crate::tick::Tick;
use serde::{Deserialize, Serialize};

/// Everything needed to rebuild the match from nothing, written once at the start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayHeader {
    /// `sim::SIM_VERSION` of the server that recorded the match.
    pub sim_version: u32,
    /// Map name, for display.
    pub map_name: String,
    /// The full map text, so a replay does not depend on files that may change.
    pub map_text: String,
    /// Simulation settings of the match.
    pub cfg: SimConfig,
    /// Seed of the match (AI players, bots), for reproducing it.
    pub seed: u64,
    /// The world before the first record is `World::new(cfg, start_tick)`.
    pub start_tick: Tick,
    /// A keyframe is written at least every this many ticks (bounds seek time).
    pub keyframe_interval: u32,
    /// Tick records per `Ticks` chunk (bounds what a crash can lose).
    pub chunk_ticks: u32,
    /// Free-form server configuration (JSON by convention), shown by `replay info`.
    pub config: String,
    /// The most players the match could hold at once (the server's `--max-clients` plus its AI
    /// players): a reader refuses a file claiming more before simulating anything. At most
    /// `MAX_PLAYERS_CEILING`; version-1 files, which lack it, are held to that ceiling.
    pub max_players: u16,
}

/// The most players any server accepts (`ServerConfig::validate` refuses more), and so the most a
/// recording may hold.
pub const MAX_PLAYERS_CEILING: u16 = 256;

impl ReplayHeader {
    /// A header with the default intervals: a keyframe every 5 s, a chunk every second.
    pub fn new(map_name: &str, map_text: &str, cfg: SimConfig, seed: u64, start_tick: Tick) -> ReplayHeader {
        ReplayHeader {
            sim_version: crate::sim::SIM_VERSION,
            map_name: map_name.to_string(),
            map_text: map_text.to_string(),
            cfg,
            seed,
            start_tick,
            keyframe_interval: cfg.tick_rate.saturating_mul(5).max(1),
            chunk_ticks: cfg.tick_rate.max(1),
            config: String::new(),
            max_players: MAX_PLAYERS_CEILING,
        }
    }

    /// Whether the state after `tick` is due for a keyframe. The tick loop can ask this itself
    /// (no round trip to the writer thread); the writer's `keyframe_due` agrees with it when
    /// every due keyframe is sent.
    pub fn keyframe_due(&self, tick: Tick) -> bool {
        let since = tick.diff(self.start_tick);
        since > 0 && i64::from(since) % i64::from(self.keyframe_interval.max(1)) == 0
    }
}

/// What the server applied at one tick, in order: leaves, then joins, then `World::step` with
/// `inputs`; afterwards `World::hash` equals `hash`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TickRecord {
    /// The tick this record simulates (the world's tick after the step).
    pub tick: Tick,
    /// Players removed before the step.
    pub leaves: Vec<PlayerId>,
    /// Players added (with their names), in order, after the leaves.
    pub joins: Vec<(PlayerId, String)>,
    /// Inputs applied by the step, ordered by id.
    pub inputs: Vec<(PlayerId, Input)>,
    /// Chat lines said during this tick (not simulated, kept for the viewer).
    pub chat: Vec<(PlayerId, String)>,
    /// Shots traced against the hitboxes their shooter had rather than the history (the fog had
    /// hidden a player from it, or the byte budget had deferred one): per shooter, the hitboxes
    /// on the 1/16 grid. Rare, so usually empty. (Format 2; version-1 files have none.)
    pub seen: SeenRecord,
    /// `World::hash` after the step.
    pub hash: u64,
}

/// Per shooter, hitboxes on the 1/16 grid (how `TickRecord::seen` stores them).
pub type SeenRecord = Vec<(PlayerId, Vec<(PlayerId, [i32; 2])>)>;

impl TickRecord {
    /// `seen` as the simulation takes it.
    pub fn seen_targets(&self) -> crate::sim::SeenTargets {
        seen_targets(&self.seen)
    }
}

/// Recorded per-shooter hitboxes as the simulation takes them (exact: the grid values are
/// multiples of 1/16, which `f32` holds exactly).
pub fn seen_targets(seen: &SeenRecord) -> crate::sim::SeenTargets {
    seen.iter()
        .map(|(shooter, boxes)| {
            let boxes = boxes
                .iter()
                .map(|(id, q)| (*id, crate::quant::q_to_pos2(*q)))
                .collect();
            (*shooter, boxes)
        })
        .collect()
}

/// The full simulated state after a tick, plus the names of the players in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Keyframe {
    /// Tick the state is after.
    pub tick: Tick,
    /// Players in id order.
    pub players: Vec<PlayerState>,
    /// Lag-compensation history (shots after the keyframe rewind into it).
    pub history: History,
    /// Display names of the players present, in id order.
    pub roster: Vec<(PlayerId, String)>,
}
