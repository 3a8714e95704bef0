//! Chunk framing: checksums, the hash chain, and telling truncation from corruption.

use super::error::ReplayError;
use sha2::{Digest, Sha256};

/// First bytes of every recording.
pub const MAGIC: [u8; 8] = *b"RWREPLAY";
/// Version of the layout and payload encodings; readers refuse any other.
pub const FORMAT_VERSION: u32 = 1;
/// Bytes before the first chunk: magic and version.
pub const PREAMBLE_LEN: usize = 12;
/// Bytes of a chunk header: index 4, kind 1, len 4, prev 32, digest 32, head check 4.
pub const CHUNK_HEADER_LEN: usize = 77;
/// Largest payload a reader accepts, so a damaged length never makes it allocate wildly.
pub const MAX_CHUNK_PAYLOAD: usize = 1 << 24;

/// What a chunk's payload holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkKind {
    /// The `ReplayHeader` (always chunk 0).
    Header,
    /// A `Keyframe`.
    Keyframe,
    /// Consecutive tick records.
    Ticks,
    /// The end marker: the file is complete.
    End,
}

impl ChunkKind {
    fn to_byte(self) -> u8 {
        match self {
            ChunkKind::Header => 1,
            ChunkKind::Keyframe => 2,
            ChunkKind::Ticks => 3,
            ChunkKind::End => 4,
        }
    }

    fn from_byte(b: u8) -> Option<ChunkKind> {
        match b {
            1 => Some(ChunkKind::Header),
            2 => Some(ChunkKind::Keyframe),
            3 => Some(ChunkKind::Ticks),
            4 => Some(ChunkKind::End),
            _ => None,
        }
    }
}

/// The preamble bytes of this format version.
pub(crate) fn preamble() -> [u8; PREAMBLE_LEN] {
    let mut p = [0u8; PREAMBLE_LEN];
    p[..8].copy_from_slice(&MAGIC);
    p[8..].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    p
}

/// The `prev` of chunk 0: binds the version into the chain.
pub(crate) fn preamble_digest() -> [u8; 32] {
    Sha256::digest(preamble()).into()
}

fn digest(index: u32, kind: u8, len: u32, prev: &[u8; 32], payload: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(index.to_le_bytes());
    h.update([kind]);
    h.update(len.to_le_bytes());
    h.update(prev);
    h.update(payload);
    h.finalize().into()
}

fn head_check(head: &[u8]) -> [u8; 4] {
    let d = Sha256::digest(head);
    [d[0], d[1], d[2], d[3]]
}

/// Appends one chunk to `out` and returns its digest (the next chunk's `prev`). The payload must
/// be at most `MAX_CHUNK_PAYLOAD` bytes (the writer checks).
pub(crate) fn encode_chunk(
    out: &mut Vec<u8>,
    index: u32,
    kind: ChunkKind,
    prev: &[u8; 32],
    payload: &[u8],
) -> [u8; 32] {
    let len = payload.len() as u32;
    let d = digest(index, kind.to_byte(), len, prev, payload);
    let start = out.len();
    out.extend_from_slice(&index.to_le_bytes());
    out.push(kind.to_byte());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(prev);
    out.extend_from_slice(&d);
    let check = head_check(&out[start..]);
    out.extend_from_slice(&check);
    out.extend_from_slice(payload);
    d
}

/// One intact chunk.
#[derive(Debug)]
pub(crate) struct RawChunk<'a> {
    pub index: u32,
    pub kind: ChunkKind,
    pub offset: u64,
    pub payload: &'a [u8],
}

/// What comes next in the file.
#[derive(Debug)]
pub(crate) enum Next<'a> {
    Chunk(RawChunk<'a>),
    /// Clean end of the bytes at a chunk boundary.
    Eof,
    /// The bytes stop inside a chunk.
    Cut {
        offset: u64,
        reason: String,
    },
}

/// Walks the chunks of a recording, validating framing, checksums and the chain.
pub(crate) struct ChunkStream<'a> {
    bytes: &'a [u8],
    pos: usize,
    index: u32,
    prev: [u8; 32],
}

impl<'a> ChunkStream<'a> {
    /// Checks the preamble. A file shorter than the preamble whose bytes match it is truncated.
    pub fn new(bytes: &'a [u8]) -> Result<ChunkStream<'a>, ReplayError> {
        let want = preamble();
        let n = bytes.len().min(MAGIC.len());
        if bytes[..n] != MAGIC[..n] {
            return Err(ReplayError::BadMagic);
        }
        if bytes.len() < PREAMBLE_LEN {
            return Err(ReplayError::Truncated(super::Truncation {
                offset: 0,
                after_tick: None,
                reason: format!("only {} bytes, shorter than the preamble", bytes.len()),
            }));
        }
        let mut v = [0u8; 4];
        v.copy_from_slice(&bytes[8..PREAMBLE_LEN]);
        let found = u32::from_le_bytes(v);
        if bytes[..PREAMBLE_LEN] != want {
            return Err(ReplayError::UnknownVersion {
                found,
                supported: FORMAT_VERSION,
            });
        }
        Ok(ChunkStream {
            bytes,
            pos: PREAMBLE_LEN,
            index: 0,
            prev: preamble_digest(),
        })
    }

    /// Byte offset of the next chunk.
    pub fn offset(&self) -> u64 {
        self.pos as u64
    }

    /// The next chunk, a clean end, or where the bytes were cut.
    pub fn next_chunk(&mut self) -> Result<Next<'a>, ReplayError> {
        let rest = &self.bytes[self.pos..];
        let offset = self.pos as u64;
        if rest.is_empty() {
            return Ok(Next::Eof);
        }
        let Some(head) = rest.get(..CHUNK_HEADER_LEN) else {
            return Ok(Next::Cut {
                offset,
                reason: format!(
                    "incomplete chunk header ({} of {CHUNK_HEADER_LEN} bytes)",
                    rest.len()
                ),
            });
        };
        let chunk = self.index;
        let corrupt = |reason: &str| ReplayError::Corrupt {
            chunk,
            offset,
            reason: reason.to_string(),
        };
        if head_check(&head[..73]) != head[73..77] {
            return Err(corrupt("chunk header checksum mismatch"));
        }
        let index = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let kind_byte = head[4];
        let len = u32::from_le_bytes([head[5], head[6], head[7], head[8]]);
        let mut prev = [0u8; 32];
        prev.copy_from_slice(&head[9..41]);
        let mut stored = [0u8; 32];
        stored.copy_from_slice(&head[41..73]);
        if len as usize > MAX_CHUNK_PAYLOAD {
            return Err(corrupt(&format!(
                "payload length {len} over the limit {MAX_CHUNK_PAYLOAD}"
            )));
        }
        let Some(payload) = rest[CHUNK_HEADER_LEN..].get(..len as usize) else {
            return Ok(Next::Cut {
                offset,
                reason: format!(
                    "chunk payload is {len} bytes, only {} present",
                    rest.len() - CHUNK_HEADER_LEN
                ),
            });
        };
        if digest(index, kind_byte, len, &prev, payload) != stored {
            return Err(corrupt("payload checksum mismatch"));
        }
        if prev != self.prev {
            return Err(ReplayError::BrokenChain { chunk, offset });
        }
        if index != chunk {
            return Err(ReplayError::Inconsistent {
                offset,
                reason: format!("chunk index {index} where {chunk} was expected"),
            });
        }
        let kind = ChunkKind::from_byte(kind_byte)
            .ok_or_else(|| corrupt(&format!("unknown chunk kind {kind_byte}")))?;
        self.prev = stored;
        self.index = self.index.wrapping_add(1);
        self.pos += CHUNK_HEADER_LEN + len as usize;
        Ok(Next::Chunk(RawChunk {
            index,
            kind,
            offset,
            payload,
        }))
    }
}
