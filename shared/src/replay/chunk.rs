//! Chunk framing: checksums, the hash chain, and telling truncation from corruption.
//!
//! Two layouts are read. Version 1 (before signatures): `index | kind | len | prev | digest |
//! head_check | payload`, where `prev` is the previous chunk's digest. Version 2 (written now)
//! adds `sig_len u16` after `len` and the chunk's signature after the payload, and links the
//! chain through the signature: `prev` is SHA-256 of the previous chunk's digest followed by its
//! signature. A chunk's signature is therefore covered by the next chunk's digest, so one valid
//! signature vouches for every byte before it (see `signature`).

use super::error::ReplayError;
use sha2::{Digest, Sha256};

/// First bytes of every recording.
pub const MAGIC: [u8; 8] = *b"RWREPLAY";
/// Version of the layout and payload encodings this build writes.
pub const FORMAT_VERSION: u32 = 2;
/// The unsigned layout, still read so recordings made before signatures keep verifying.
pub const FORMAT_VERSION_V1: u32 = 1;
/// Bytes before the first chunk: magic and version.
pub const PREAMBLE_LEN: usize = 12;
/// Bytes of a version-2 chunk header: index 4, kind 1, len 4, sig_len 2, prev 32, digest 32,
/// head check 4.
pub const CHUNK_HEADER_LEN: usize = 79;
/// Bytes of a version-1 chunk header (no `sig_len`).
pub const CHUNK_HEADER_LEN_V1: usize = 77;
/// Largest payload a reader accepts, so a damaged length never makes it allocate wildly.
pub const MAX_CHUNK_PAYLOAD: usize = 1 << 24;
/// Largest signature a reader accepts (an ECDSA P-256 signature is at most 72 bytes; this leaves
/// room for RSA-4096 without letting a damaged length matter).
pub const MAX_SIGNATURE_LEN: usize = 1024;

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

/// The preamble bytes of a format version.
pub(crate) fn preamble(version: u32) -> [u8; PREAMBLE_LEN] {
    let mut p = [0u8; PREAMBLE_LEN];
    p[..8].copy_from_slice(&MAGIC);
    p[8..].copy_from_slice(&version.to_le_bytes());
    p
}

/// The `prev` of chunk 0: binds the version into the chain.
pub(crate) fn preamble_digest(version: u32) -> [u8; 32] {
    Sha256::digest(preamble(version)).into()
}

/// The `prev` of the chunk after one with `digest` and `signature` (version 2): the chain runs
/// through the signature, so the next digest covers it.
pub(crate) fn link(digest: &[u8; 32], signature: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(digest);
    h.update(signature);
    h.finalize().into()
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

/// The digest a version-2 chunk will carry (what its signature signs, after `signed_message`).
pub(crate) fn chunk_digest(index: u32, kind: ChunkKind, prev: &[u8; 32], payload: &[u8]) -> [u8; 32] {
    digest(index, kind.to_byte(), payload.len() as u32, prev, payload)
}

/// Appends one version-2 chunk with its `digest` (from `chunk_digest`) and `signature` (empty
/// when unsigned) to `out`. Payload and signature sizes must be within `MAX_CHUNK_PAYLOAD` and
/// `MAX_SIGNATURE_LEN` (the writer checks).
pub(crate) fn encode_chunk(
    out: &mut Vec<u8>,
    index: u32,
    kind: ChunkKind,
    prev: &[u8; 32],
    digest: &[u8; 32],
    payload: &[u8],
    signature: &[u8],
) {
    let len = payload.len() as u32;
    let start = out.len();
    out.extend_from_slice(&index.to_le_bytes());
    out.push(kind.to_byte());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(signature.len() as u16).to_le_bytes());
    out.extend_from_slice(prev);
    out.extend_from_slice(digest);
    let check = head_check(&out[start..]);
    out.extend_from_slice(&check);
    out.extend_from_slice(payload);
    out.extend_from_slice(signature);
}

/// One intact chunk.
#[derive(Debug)]
pub(crate) struct RawChunk<'a> {
    pub index: u32,
    pub kind: ChunkKind,
    pub offset: u64,
    pub payload: &'a [u8],
    /// The chain digest the chunk carries (checked against its bytes).
    pub digest: [u8; 32],
    /// Its signature (empty in unsigned and version-1 files).
    pub signature: &'a [u8],
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
    version: u32,
}

impl<'a> ChunkStream<'a> {
    /// Checks the preamble. A file shorter than the preamble whose bytes match it is truncated.
    pub fn new(bytes: &'a [u8]) -> Result<ChunkStream<'a>, ReplayError> {
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
        if found != FORMAT_VERSION && found != FORMAT_VERSION_V1 {
            return Err(ReplayError::UnknownVersion {
                found,
                supported: FORMAT_VERSION,
            });
        }
        Ok(ChunkStream {
            bytes,
            pos: PREAMBLE_LEN,
            index: 0,
            prev: preamble_digest(found),
            version: found,
        })
    }

    /// The format version in the preamble.
    pub fn version(&self) -> u32 {
        self.version
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
        let v2 = self.version != FORMAT_VERSION_V1;
        let head_len = if v2 { CHUNK_HEADER_LEN } else { CHUNK_HEADER_LEN_V1 };
        let Some(head) = rest.get(..head_len) else {
            return Ok(Next::Cut {
                offset,
                reason: format!("incomplete chunk header ({} of {head_len} bytes)", rest.len()),
            });
        };
        let chunk = self.index;
        let corrupt = |reason: &str| ReplayError::Corrupt {
            chunk,
            offset,
            reason: reason.to_string(),
        };
        let checked = head_len - 4;
        if head_check(&head[..checked]) != head[checked..] {
            return Err(corrupt("chunk header checksum mismatch"));
        }
        let index = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let kind_byte = head[4];
        let len = u32::from_le_bytes([head[5], head[6], head[7], head[8]]);
        let (sig_len, at) = if v2 {
            (usize::from(u16::from_le_bytes([head[9], head[10]])), 11)
        } else {
            (0, 9)
        };
        let mut prev = [0u8; 32];
        prev.copy_from_slice(&head[at..at + 32]);
        let mut stored = [0u8; 32];
        stored.copy_from_slice(&head[at + 32..at + 64]);
        if len as usize > MAX_CHUNK_PAYLOAD {
            return Err(corrupt(&format!(
                "payload length {len} over the limit {MAX_CHUNK_PAYLOAD}"
            )));
        }
        if sig_len > MAX_SIGNATURE_LEN {
            return Err(corrupt(&format!(
                "signature length {sig_len} over the limit {MAX_SIGNATURE_LEN}"
            )));
        }
        let body = &rest[head_len..];
        let Some(payload) = body.get(..len as usize) else {
            return Ok(Next::Cut {
                offset,
                reason: format!("chunk payload is {len} bytes, only {} present", body.len()),
            });
        };
        let Some(signature) = body.get(len as usize..len as usize + sig_len) else {
            return Ok(Next::Cut {
                offset,
                reason: format!(
                    "chunk signature is {sig_len} bytes, only {} present",
                    body.len() - len as usize
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
        self.prev = if v2 { link(&stored, signature) } else { stored };
        self.index = self.index.wrapping_add(1);
        self.pos += head_len + len as usize + sig_len;
        Ok(Next::Chunk(RawChunk {
            index,
            kind,
            offset,
            payload,
            digest: stored,
            signature,
        }))
    }
}
