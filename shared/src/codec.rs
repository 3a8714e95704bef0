//! The only module that names the serializer (bincode 2 over serde), so it can be swapped after
//! measuring. Every decode is bounded twice: the input length is checked against the caller's
//! limit, and bincode itself refuses to allocate beyond `DECODE_LIMIT` whatever a length prefix
//! claims. Trailing bytes are an error, so one message is exactly one buffer.

use crate::protocol::SnapshotPacket;
use crate::snapshot_wire;
use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

/// Largest allocation bincode may make while decoding one message.
pub const DECODE_LIMIT: usize = 1 << 16;

/// Why bytes did not decode.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CodecError {
    /// The buffer is longer than the message kind allows.
    #[error("message is {len} bytes, the limit is {limit}")]
    TooLarge {
        /// Bytes received.
        len: usize,
        /// Bytes allowed.
        limit: usize,
    },
    /// The bytes are not a valid message.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A valid message followed by extra bytes.
    #[error("{extra} unexpected trailing bytes after the message")]
    Trailing {
        /// How many bytes were left over.
        extra: usize,
    },
    /// The message could not be encoded (a value the format cannot represent).
    #[error("cannot encode message: {0}")]
    Encode(String),
}

/// Largest allocation while decoding one big, already size-checked payload: a replay chunk or
/// keyframe (a 64-player keyframe or an 80 kB map text outgrows `DECODE_LIMIT`).
pub const LARGE_DECODE_LIMIT: usize = 1 << 24;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<DECODE_LIMIT>()
}

fn large_config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<LARGE_DECODE_LIMIT>()
}

/// Encodes a message.
pub fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, CodecError> {
    bincode::serde::encode_to_vec(msg, config()).map_err(|e| CodecError::Encode(e.to_string()))
}

/// Decodes exactly one message from `bytes`, refusing buffers over `limit`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], limit: usize) -> Result<T, CodecError> {
    if bytes.len() > limit {
        return Err(CodecError::TooLarge {
            len: bytes.len(),
            limit,
        });
    }
    let (msg, used) = bincode::serde::decode_from_slice(bytes, config())
        .map_err(|e| CodecError::Malformed(e.to_string()))?;
    finish(msg, used, bytes.len())
}

/// Like `decode`, for files rather than datagrams: bincode may allocate up to
/// `LARGE_DECODE_LIMIT` (the same wire format, so `encode` is its inverse).
pub fn decode_large<T: DeserializeOwned>(bytes: &[u8], limit: usize) -> Result<T, CodecError> {
    if bytes.len() > limit {
        return Err(CodecError::TooLarge {
            len: bytes.len(),
            limit,
        });
    }
    let (msg, used) = bincode::serde::decode_from_slice(bytes, large_config())
        .map_err(|e| CodecError::Malformed(e.to_string()))?;
    finish(msg, used, bytes.len())
}

fn finish<T>(msg: T, used: usize, len: usize) -> Result<T, CodecError> {
    if used != len {
        return Err(CodecError::Trailing { extra: len - used });
    }
    Ok(msg)
}

/// Encodes a snapshot datagram: hand-packed (`snapshot_wire`), the one message where the
/// serializer's own integer coding was measured to cost a third more (README, "Bandwidth").
pub fn encode_snapshot(p: &SnapshotPacket) -> Result<Vec<u8>, CodecError> {
    snapshot_wire::encode(p).map_err(|e| CodecError::Encode(e.to_string()))
}

/// Decodes exactly one snapshot datagram, refusing buffers over `limit`.
pub fn decode_snapshot(bytes: &[u8], limit: usize) -> Result<SnapshotPacket, CodecError> {
    if bytes.len() > limit {
        return Err(CodecError::TooLarge {
            len: bytes.len(),
            limit,
        });
    }
    snapshot_wire::decode(bytes).map_err(|e| match e {
        snapshot_wire::WireError::Trailing(extra) => CodecError::Trailing { extra },
        e => CodecError::Malformed(e.to_string()),
    })
}
