//! What can be wrong with a recording, named by byte offset and/or tick so a user can tell a
//! damaged disk from a cheating server from a crash.

use crate::tick::Tick;
use thiserror::Error;

/// Where a file that lacks its end marker stops being readable. A truncated file is still
/// playable up to `after_tick`; it is what a server killed mid-match leaves behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// Byte offset of the first incomplete chunk (the file length when only the end is missing).
    pub offset: u64,
    /// Last tick of the last complete chunk (`None`: no tick was recorded).
    pub after_tick: Option<Tick>,
    /// What was found at `offset`.
    pub reason: String,
}

impl std::fmt::Display for Truncation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.after_tick {
            Some(t) => write!(
                f,
                "truncated after {t} at offset {}: {}",
                self.offset, self.reason
            ),
            None => write!(
                f,
                "truncated before any tick at offset {}: {}",
                self.offset, self.reason
            ),
        }
    }
}

/// Why a recording could not be read or did not verify.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ReplayError {
    /// The file does not start with `MAGIC`.
    #[error("not a Rewind replay (bad magic bytes at offset 0)")]
    BadMagic,
    /// Written by a different (probably newer) version of the format.
    #[error("unknown replay format version {found} (this build reads version {supported})")]
    UnknownVersion {
        /// Version in the file.
        found: u32,
        /// Version this build reads.
        supported: u32,
    },
    /// Recorded under game rules this build does not simulate (`sim::SIM_VERSION`,
    /// `sim::OLDEST_SIM_VERSION`): re-simulating would diverge.
    #[error(
        "recorded with game rules version {found}; this build simulates versions {oldest} to {supported}"
    )]
    SimVersion {
        /// Version in the file.
        found: u32,
        /// Oldest version this build simulates.
        oldest: u32,
        /// Newest version this build simulates (the one it records).
        supported: u32,
    },
    /// A chunk's bytes do not match its checksum, or its content is malformed.
    #[error("corrupt chunk {chunk} at offset {offset}: {reason}")]
    Corrupt {
        /// Chunk index (position in the file).
        chunk: u32,
        /// Byte offset of the chunk's start.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A chunk is intact but does not follow the previous one (removed, reordered or spliced).
    #[error("broken hash chain at chunk {chunk} (offset {offset}): it does not follow the previous chunk")]
    BrokenChain {
        /// Chunk index.
        chunk: u32,
        /// Byte offset of the chunk's start.
        offset: u64,
    },
    /// The file stops early (returned only by strict reads; lenient reads record it instead).
    #[error("{0}")]
    Truncated(Truncation),
    /// Intact chunks that contradict each other (a writer bug or a forged file).
    #[error("inconsistent recording at offset {offset}: {reason}")]
    Inconsistent {
        /// Byte offset of the offending chunk.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A chunk's signature does not verify: the file was edited after the server signed it (and
    /// perhaps re-chained), or signed by a key other than its certificate's. Chunks before
    /// `chunk` are vouched for; nothing from `chunk` on is.
    #[error("bad signature in chunk {chunk} at offset {offset}: {reason}")]
    BadSignature {
        /// First chunk whose signature fails.
        chunk: u32,
        /// Byte offset of that chunk's start.
        offset: u64,
        /// Why.
        reason: String,
    },
    /// Content out of the range any server writes (more players than the match could hold,
    /// oversized names): refused while parsing, before anything is simulated, so a forged file
    /// cannot make `verify` or the viewer do more work than an honest one.
    #[error("refused recording at offset {offset}: {reason}")]
    Implausible {
        /// Byte offset of the offending chunk.
        offset: u64,
        /// What is out of range.
        reason: String,
    },
    /// The map text in the header does not parse.
    #[error("the recorded map does not parse: {0}")]
    BadMap(String),
    /// Re-simulation gave a different state hash than the server recorded.
    #[error("divergence at {tick}: recorded hash {recorded:016x}, re-simulated {simulated:016x}")]
    Divergence {
        /// First tick whose hash differs.
        tick: Tick,
        /// Hash in the file.
        recorded: u64,
        /// Hash of the re-simulated world.
        simulated: u64,
    },
    /// A keyframe differs from the re-simulated state at its tick.
    #[error("keyframe at {tick} differs from the re-simulated state: {what}")]
    KeyframeMismatch {
        /// Tick of the keyframe.
        tick: Tick,
        /// Which part differs.
        what: String,
    },
    /// A seek or query outside the recorded ticks.
    #[error("{tick} is outside the recording ({first} to {last})")]
    OutOfRange {
        /// Requested tick.
        tick: Tick,
        /// First tick available (the start tick).
        first: Tick,
        /// Last recorded tick.
        last: Tick,
    },
}
