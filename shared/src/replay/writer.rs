//! The recording side: cheap, append-only, one `write_all` per chunk so a crash loses at most the
//! chunk being built. Meant to run on a dedicated thread that receives records over a channel:
//! the tick loop only sends, the writer encodes, hashes, signs and writes.

use super::chunk::{
    ChunkKind, FORMAT_VERSION, MAX_CHUNK_PAYLOAD, MAX_SIGNATURE_LEN, chunk_digest, encode_chunk, link,
    preamble, preamble_digest,
};
use super::records::encode_ticks;
use super::signature::{ChainSigner, SignError, StoredSigner, signed_message};
use super::{Keyframe, ReplayHeader, TickRecord};
use crate::codec::{self, CodecError};
use crate::player::PlayerId;
use crate::sim::World;
use crate::tick::Tick;
use std::io::Write;
use thiserror::Error;

/// Why a recording could not be written.
#[derive(Debug, Error)]
pub enum WriterError {
    /// The underlying writer failed (disk full, closed pipe).
    #[error("cannot write the replay: {0}")]
    Io(#[from] std::io::Error),
    /// A value could not be encoded.
    #[error("cannot encode the replay: {0}")]
    Encode(#[from] CodecError),
    /// Records must arrive for consecutive ticks, keyframes for the last recorded tick.
    #[error("expected {expected}, got {got}")]
    OutOfOrder {
        /// The tick the writer needed.
        expected: Tick,
        /// The tick it was given.
        got: Tick,
    },
    /// The signer failed, or gave a signature longer than readers accept.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// One chunk would exceed what readers accept.
    #[error("a chunk of {len} bytes exceeds the {MAX_CHUNK_PAYLOAD}-byte limit")]
    TooLarge {
        /// Encoded payload size.
        len: usize,
    },
}

/// Writes a recording chunk by chunk to any `Write` (a `File`, a `Vec<u8>` in tests).
pub struct ReplayWriter<W: Write> {
    out: W,
    header: ReplayHeader,
    index: u32,
    prev: [u8; 32],
    pending: Vec<TickRecord>,
    last_tick: Tick,
    last_keyframe: Tick,
    records: u64,
    bytes_written: u64,
    buf: Vec<u8>,
    signer: Option<Box<dyn ChainSigner>>,
}

impl<W: Write> ReplayWriter<W> {
    /// Starts an unsigned recording: writes the preamble, the header and the keyframe of the empty
    /// world at `header.start_tick`. Intervals of 0 are raised to 1.
    pub fn new(out: W, header: ReplayHeader) -> Result<ReplayWriter<W>, WriterError> {
        ReplayWriter::start(out, header, None)
    }

    /// Like `new`, but every chunk's chain digest is signed by `signer` as it is written and its
    /// certificate is stored in the header chunk, so the file (or what a crash leaves of it) can
    /// be attributed to the server that recorded it.
    pub fn signed(
        out: W,
        header: ReplayHeader,
        signer: Box<dyn ChainSigner>,
    ) -> Result<ReplayWriter<W>, WriterError> {
        ReplayWriter::start(out, header, Some(signer))
    }

    fn start(
        out: W,
        mut header: ReplayHeader,
        signer: Option<Box<dyn ChainSigner>>,
    ) -> Result<ReplayWriter<W>, WriterError> {
        header.keyframe_interval = header.keyframe_interval.max(1);
        header.chunk_ticks = header.chunk_ticks.max(1);
        let start = header.start_tick;
        let mut w = ReplayWriter {
            out,
            header,
            index: 0,
            prev: preamble_digest(FORMAT_VERSION),
            pending: Vec::new(),
            last_tick: start,
            last_keyframe: start,
            records: 0,
            bytes_written: 0,
            buf: Vec::new(),
            signer,
        };
        let pre = preamble(FORMAT_VERSION);
        w.out.write_all(&pre)?;
        w.bytes_written += pre.len() as u64;
        let stored = w.signer.as_ref().map(|s| StoredSigner {
            alg: s.algorithm().to_byte(),
            cert: s.certificate().to_vec(),
        });
        let payload = codec::encode(&(&w.header, stored))?;
        w.write_chunk(ChunkKind::Header, &payload)?;
        let empty = World::new(w.header.cfg, start);
        w.push_keyframe(&empty, &[])?;
        Ok(w)
    }

    /// The header being recorded (with intervals normalized).
    pub fn header(&self) -> &ReplayHeader {
        &self.header
    }

    /// The last tick recorded (the start tick before any record).
    pub fn last_tick(&self) -> Tick {
        self.last_tick
    }

    /// Bytes handed to the underlying writer so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// Adds the record of the next tick; writes a chunk every `chunk_ticks` records.
    pub fn push_tick(&mut self, record: TickRecord) -> Result<(), WriterError> {
        let expected = self.last_tick.next();
        if record.tick != expected {
            return Err(WriterError::OutOfOrder {
                expected,
                got: record.tick,
            });
        }
        self.last_tick = record.tick;
        self.records += 1;
        self.pending.push(record);
        if self.pending.len() >= self.header.chunk_ticks as usize {
            self.flush_ticks()?;
        }
        Ok(())
    }

    /// Whether the caller should send a keyframe now (after recording `last_tick`).
    pub fn keyframe_due(&self) -> bool {
        self.last_tick.diff(self.last_keyframe) >= self.header.keyframe_interval as i32
    }

    /// Writes the full state after the last recorded tick (`world.tick` must be that tick), with
    /// the names of the players in it. Pending records are written first to keep tick order.
    pub fn push_keyframe(&mut self, world: &World, roster: &[(PlayerId, String)]) -> Result<(), WriterError> {
        self.push_keyframe_state(Keyframe {
            tick: world.tick,
            players: world.players.clone(),
            history: world.history.clone(),
            roster: roster.to_vec(),
        })
    }

    /// Like `push_keyframe`, for a caller that holds its state in another shape (the server's
    /// ECS builds the `Keyframe` on the tick thread and sends it over the writer's channel).
    pub fn push_keyframe_state(&mut self, mut kf: Keyframe) -> Result<(), WriterError> {
        if kf.tick != self.last_tick {
            return Err(WriterError::OutOfOrder {
                expected: self.last_tick,
                got: kf.tick,
            });
        }
        self.flush_ticks()?;
        kf.roster.sort_by_key(|(id, _)| *id);
        let payload = codec::encode(&kf)?;
        self.write_chunk(ChunkKind::Keyframe, &payload)?;
        self.last_keyframe = kf.tick;
        Ok(())
    }

    /// Writes the pending records as a chunk now (e.g. before a planned shutdown).
    pub fn flush_ticks(&mut self) -> Result<(), WriterError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let payload = encode_ticks(&self.pending)?;
        self.pending.clear();
        self.write_chunk(ChunkKind::Ticks, &payload)
    }

    /// Writes the pending records and the end marker, flushes, and returns the writer.
    pub fn finish(mut self) -> Result<W, WriterError> {
        self.flush_ticks()?;
        let payload = codec::encode(&(self.last_tick.0, self.records))?;
        self.write_chunk(ChunkKind::End, &payload)?;
        Ok(self.out)
    }

    fn write_chunk(&mut self, kind: ChunkKind, payload: &[u8]) -> Result<(), WriterError> {
        if payload.len() > MAX_CHUNK_PAYLOAD {
            return Err(WriterError::TooLarge { len: payload.len() });
        }
        let digest = chunk_digest(self.index, kind, &self.prev, payload);
        let signature = match &self.signer {
            Some(s) => s.sign(&signed_message(&digest))?,
            None => Vec::new(),
        };
        if signature.len() > MAX_SIGNATURE_LEN {
            return Err(SignError(format!(
                "a signature of {} bytes exceeds the {MAX_SIGNATURE_LEN}-byte limit",
                signature.len()
            ))
            .into());
        }
        self.buf.clear();
        encode_chunk(
            &mut self.buf,
            self.index,
            kind,
            &self.prev,
            &digest,
            payload,
            &signature,
        );
        self.prev = link(&digest, &signature);
        self.index += 1;
        self.out.write_all(&self.buf)?;
        self.out.flush()?;
        self.bytes_written += self.buf.len() as u64;
        Ok(())
    }
}
