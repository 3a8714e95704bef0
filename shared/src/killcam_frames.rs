//! The compact coding of a killcam's frames: each player's position against its own previous one.
//!
//! A killcam carries up to 3 s of positions of up to 16 players, and a victim receives one at
//! every death: in a busy 16-player match that was 8 kbit/s of each client's downstream, with
//! every position written whole (about 7 bytes). Between two ticks a player moves at most a few
//! grid steps, so a difference is one byte per axis. Layout (docs/PROTOCOL.md 8.1): LEB128 frame
//! count, LEB128 player count (at most `KILLCAM_MAX_PLAYERS`), then per frame a LEB128 mask of
//! the players with a position (bit i = player i), then for each of them, in player order, the
//! zigzag LEB128 differences of x and y from that player's previous position in the frames
//! (from `[0, 0]` the first time).

use crate::killcam::{KILLCAM_MAX_PLAYERS, KILLCAM_MAX_TICKS};
use crate::leb128::{Leb128Error, Reader, put_varint, put_zigzag};
use thiserror::Error;

/// Frames as `Killcam` holds them: per tick, per player, a position or none.
pub type Frames = Vec<Vec<Option<[i32; 2]>>>;

/// Why frames could not be coded or decoded.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum FramesError {
    /// A varint was truncated or too long.
    #[error("{0}")]
    Varint(#[from] Leb128Error),
    /// More frames or players than a killcam may have.
    #[error("{what} count {count} is over the limit of {limit}")]
    TooMany {
        /// Frames or players.
        what: &'static str,
        /// Count given.
        count: u64,
        /// Bound.
        limit: usize,
    },
    /// Frames of different lengths (only when encoding).
    #[error("frames of different lengths")]
    Ragged,
    /// A mask names a player beyond the count.
    #[error("presence mask names a player beyond the {0} given")]
    UnknownPlayer(usize),
    /// A position difference leaves the `i32` range.
    #[error("position out of range")]
    OutOfRange,
    /// Bytes after the frames.
    #[error("{0} trailing bytes after the frames")]
    Trailing(usize),
}

/// Codes `frames` (every frame as long as the first).
pub fn encode(frames: &Frames) -> Result<Vec<u8>, FramesError> {
    let width = frames.first().map_or(0, Vec::len);
    bound("frame", frames.len() as u64, KILLCAM_MAX_TICKS)?;
    bound("player", width as u64, KILLCAM_MAX_PLAYERS)?;
    let mut out = Vec::with_capacity(4 + frames.len() * (2 + width * 2));
    put_varint(&mut out, frames.len() as u64);
    put_varint(&mut out, width as u64);
    let mut last = vec![[0i32; 2]; width];
    for frame in frames {
        if frame.len() != width {
            return Err(FramesError::Ragged);
        }
        let mask = frame
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_some())
            .fold(0u64, |m, (i, _)| m | (1 << i));
        put_varint(&mut out, mask);
        for (pos, prev) in frame.iter().zip(&mut last) {
            if let Some(p) = pos {
                for k in 0..2 {
                    put_zigzag(&mut out, i64::from(p[k]) - i64::from(prev[k]));
                }
                *prev = *p;
            }
        }
    }
    Ok(out)
}

/// Decodes what `encode` wrote; allocates no more than the bounds allow.
pub fn decode(bytes: &[u8]) -> Result<Frames, FramesError> {
    let mut r = Reader::new(bytes);
    let count = r.varint(16)?;
    bound("frame", count, KILLCAM_MAX_TICKS)?;
    let width = r.varint(16)?;
    bound("player", width, KILLCAM_MAX_PLAYERS)?;
    let width = width as usize;
    let mut last = vec![[0i32; 2]; width];
    let mut frames = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let mask = r.varint(KILLCAM_MAX_PLAYERS as u32)?;
        if mask >> width != 0 {
            return Err(FramesError::UnknownPlayer(width));
        }
        let mut frame = vec![None; width];
        for (i, (slot, prev)) in frame.iter_mut().zip(&mut last).enumerate() {
            if mask & (1 << i) != 0 {
                for v in prev.iter_mut() {
                    let d = r.zigzag(33)?;
                    *v = i32::try_from(i64::from(*v) + d).map_err(|_| FramesError::OutOfRange)?;
                }
                *slot = Some(*prev);
            }
        }
        frames.push(frame);
    }
    match r.remaining() {
        0 => Ok(frames),
        extra => Err(FramesError::Trailing(extra)),
    }
}

fn bound(what: &'static str, count: u64, limit: usize) -> Result<(), FramesError> {
    if count > limit as u64 {
        return Err(FramesError::TooMany { what, count, limit });
    }
    Ok(())
}

/// `#[serde(with = "killcam_frames::serde_frames")]`: the frames as one byte string in the compact
/// coding, through whatever serializer the codec module uses.
pub mod serde_frames {
    use super::{Frames, decode, encode};
    use serde::de::{Error as _, Visitor};
    use serde::ser::Error as _;
    use serde::{Deserializer, Serializer};

    /// Serializes `frames` as one byte string.
    pub fn serialize<S: Serializer>(frames: &Frames, s: S) -> Result<S::Ok, S::Error> {
        let bytes = encode(frames).map_err(S::Error::custom)?;
        s.serialize_bytes(&bytes)
    }

    /// Deserializes a byte string written by `serialize`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Frames, D::Error> {
        struct Coded;
        impl<'de> Visitor<'de> for Coded {
            type Value = Frames;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("killcam frames")
            }

            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                decode(v).map_err(E::custom)
            }
        }
        d.deserialize_bytes(Coded).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_walking_player_costs_two_bytes_a_tick() {
        let frames: Frames = (0..100)
            .map(|t| vec![Some([30_000 + t * 40, 20_000 - t * 3]), None])
            .collect();
        let bytes = encode(&frames).unwrap();
        // Counts, then the first frame (mask, two 3-byte positions), then mask + 2 per tick.
        assert_eq!(bytes.len(), 2 + 1 + 6 + 99 * 3, "{}", bytes.len());
        assert_eq!(decode(&bytes).unwrap(), frames);
    }

    #[test]
    fn hostile_frames_are_refused() {
        assert!(matches!(
            decode(&[0xff, 0x7f, 0]),
            Err(FramesError::TooMany { .. })
        ));
        assert!(matches!(decode(&[1, 17]), Err(FramesError::TooMany { .. })));
        assert_eq!(decode(&[1, 2, 4]), Err(FramesError::UnknownPlayer(2)));
        assert_eq!(
            decode(&[1, 1, 1, 2]),
            Err(FramesError::Varint(Leb128Error::Truncated))
        );
        assert_eq!(decode(&[0, 0, 0]), Err(FramesError::Trailing(1)));
        assert_eq!(encode(&vec![vec![None], vec![]]), Err(FramesError::Ragged));
    }

    proptest! {
        #[test]
        fn frames_round_trip(width in 0usize..=16, frames in proptest::collection::vec(proptest::collection::vec(proptest::option::of(any::<[i32; 2]>()), 16), 0..40)) {
            let frames: Frames = frames.into_iter().map(|mut f| { f.truncate(width); f }).collect();
            let bytes = encode(&frames).unwrap();
            prop_assert_eq!(decode(&bytes).unwrap(), frames);
        }

        #[test]
        fn any_bytes_decode_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = decode(&bytes);
        }
    }
}
