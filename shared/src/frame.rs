//! Length-prefixed frames for the reliable control stream, sans-IO: bytes in, messages out.
//!
//! A frame is a little-endian `u32` body length followed by the body. A length over the limit is
//! an error at once, before any body byte is buffered, so a hostile peer cannot make us allocate.

use crate::codec::{CodecError, decode, encode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

/// Why the control stream is broken.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FrameError {
    /// The length prefix announces more than the limit.
    #[error("frame of {len} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// Announced length.
        len: usize,
        /// Limit.
        limit: usize,
    },
    /// The body is not a valid message.
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// Bytes before a frame's body: its length.
pub const FRAME_HEADER: usize = 4;

/// Encodes one message as a frame.
pub fn encode_frame<T: Serialize>(msg: &T) -> Result<Vec<u8>, CodecError> {
    let body = encode(msg)?;
    let mut out = Vec::with_capacity(body.len() + FRAME_HEADER);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Buffers stream bytes and yields whole messages.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    limit: usize,
}

impl FrameDecoder {
    /// A decoder refusing frames over `limit` bytes.
    pub fn new(limit: usize) -> FrameDecoder {
        FrameDecoder {
            buf: Vec::new(),
            limit,
        }
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete message, `Ok(None)` if more bytes are needed.
    pub fn next_msg<T: DeserializeOwned>(&mut self) -> Result<Option<T>, FrameError> {
        let Some(prefix) = self.buf.get(..FRAME_HEADER) else {
            return Ok(None);
        };
        let len = u32::from_le_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
        if len > self.limit {
            return Err(FrameError::TooLarge {
                len,
                limit: self.limit,
            });
        }
        if self.buf.len() < FRAME_HEADER + len {
            return Ok(None);
        }
        let msg = decode(&self.buf[FRAME_HEADER..FRAME_HEADER + len], self.limit)?;
        self.buf.drain(..FRAME_HEADER + len);
        Ok(Some(msg))
    }
}
