//! The hand-packed coding of a `SnapshotPacket`: the one datagram every client receives at the
//! snapshot rate, where every byte is paid thirty times a second by every player.
//!
//! Measured against bincode and bitcode (`cargo bench -p rewind-server --bench codec`, figures in
//! the README): a snapshot is a few ticks and counters plus small field differences, and coding
//! those as LEB128 varints without the per-entity length prefix the serializer writes for a
//! `Vec` is the smallest at no cost in speed. Layout (docs/PROTOCOL.md 3.5):
//!
//! ```text
//! u16 LE  seq
//! varint  tick
//! u8      flags: 1 baseline, 2 last input, 4 you, 8 you.respawn_at
//! varint  tick − baseline                                    (if baseline)
//! u16 LE  last input sequence                                (if last input)
//! zigzag  input lead
//! you (if flagged): varint id; zigzag x, y (1/16 unit); zigzag vx, vy (1/16 unit/s); u8 health;
//!         zigzag respawn_at − tick (if flagged); zigzag aim x, y; zigzag next_fire − tick;
//!         varint kills, deaths
//! varint  removed count, then a varint id each
//! varint  entity count, then for each: varint id, varint field mask, one zigzag per set bit
//! ```
//!
//! Everything the decoder reads is bounded: counts are checked against the bytes left, varints
//! against their type, and trailing bytes are an error.

use crate::leb128::{Leb128Error, Reader, put_varint, put_zigzag};
use crate::player::{Body, Life, PlayerId, PlayerState, Score, Weapon};
use crate::protocol::SnapshotPacket;
use crate::quant::{pos_to_q, q_to_pos, q_to_vel, vel_to_q};
use crate::snapshot::{Diffs, EntityDelta, FIELDS};
use crate::tick::{Seq, Tick};
use glam::Vec2;
use thiserror::Error;

const BASELINE: u8 = 1;
const LAST_INPUT: u8 = 1 << 1;
const YOU: u8 = 1 << 2;
const RESPAWN: u8 = 1 << 3;
const KNOWN: u8 = BASELINE | LAST_INPUT | YOU | RESPAWN;

/// Why a snapshot could not be coded or decoded.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum WireError {
    /// A varint was truncated or too long.
    #[error("{0}")]
    Varint(#[from] Leb128Error),
    /// Flag bits this version does not know.
    #[error("unknown snapshot flags {0:#04x}")]
    UnknownFlags(u8),
    /// A field mask names a field this version does not know.
    #[error("entity {0}: unknown fields in mask")]
    UnknownFields(u16),
    /// A count larger than the bytes left could hold.
    #[error("{what} count {count} does not fit the {left} bytes left")]
    Count {
        /// Which list.
        what: &'static str,
        /// Count announced.
        count: u64,
        /// Bytes left in the buffer.
        left: usize,
    },
    /// A decoded value does not fit its field.
    #[error("{0} out of range")]
    OutOfRange(&'static str),
    /// The own player's position or velocity is not on the network grid (the simulation snaps
    /// them every tick, so this is a server bug, refused rather than sent rounded).
    #[error("own player's {0} is not on the network grid")]
    OffGrid(&'static str),
    /// A mask and its differences disagree (only when encoding a malformed delta).
    #[error("entity {0}: mask and differences disagree")]
    FieldCount(u16),
    /// Bytes after the snapshot.
    #[error("{0} trailing bytes after the snapshot")]
    Trailing(usize),
}

/// Codes `p` (see the module documentation for the layout).
pub fn encode(p: &SnapshotPacket) -> Result<Vec<u8>, WireError> {
    // Room for the worst usual case up front (a zigzag diff rarely takes more than 3 bytes):
    // grown by doubling, this was a realloc per snapshot on a big server.
    let entity_bytes: usize = p.entities.iter().map(|e| 6 + 3 * e.diffs.len()).sum();
    let mut out = Vec::with_capacity(96 + 3 * p.removed.len() + entity_bytes);
    out.extend(p.seq.0.to_le_bytes());
    put_varint(&mut out, p.tick.0.into());
    let respawn = p.you.as_ref().and_then(|y| y.life.respawn_at);
    let flags = flag(p.baseline.is_some(), BASELINE)
        | flag(p.last_input.is_some(), LAST_INPUT)
        | flag(p.you.is_some(), YOU)
        | flag(respawn.is_some(), RESPAWN);
    out.push(flags);
    if let Some(b) = p.baseline {
        put_varint(&mut out, p.tick.0.wrapping_sub(b.0).into());
    }
    if let Some(s) = p.last_input {
        out.extend(s.0.to_le_bytes());
    }
    put_zigzag(&mut out, p.input_lead.into());
    if let Some(y) = &p.you {
        put_varint(&mut out, y.id.0.into());
        for (v, what) in [(y.body.pos.x, "x"), (y.body.pos.y, "y")] {
            put_zigzag(&mut out, on_grid(v, pos_to_q, q_to_pos, what)?.into());
        }
        for (v, what) in [(y.body.vel.x, "vx"), (y.body.vel.y, "vy")] {
            put_zigzag(&mut out, on_grid(v, vel_to_q, q_to_vel, what)?.into());
        }
        out.push(y.life.health);
        if let Some(r) = respawn {
            put_zigzag(&mut out, tick_offset(r, p.tick));
        }
        for a in y.weapon.aim {
            put_zigzag(&mut out, a.into());
        }
        put_zigzag(&mut out, tick_offset(y.weapon.next_fire, p.tick));
        put_varint(&mut out, y.score.kills.into());
        put_varint(&mut out, y.score.deaths.into());
    }
    put_varint(&mut out, p.removed.len() as u64);
    for id in &p.removed {
        put_varint(&mut out, id.0.into());
    }
    put_varint(&mut out, p.entities.len() as u64);
    for e in &p.entities {
        if e.mask.count_ones() as usize != e.diffs.len() {
            return Err(WireError::FieldCount(e.id.0));
        }
        put_varint(&mut out, e.id.0.into());
        put_varint(&mut out, e.mask.into());
        for d in e.diffs.iter() {
            put_zigzag(&mut out, *d);
        }
    }
    Ok(out)
}

/// Decodes exactly one snapshot from `bytes` (the caller bounds the length).
pub fn decode(bytes: &[u8]) -> Result<SnapshotPacket, WireError> {
    let mut r = Reader::new(bytes);
    let seq = Seq(r.u16_le()?);
    let tick = Tick(r.varint(32)? as u32);
    let flags = r.byte()?;
    if flags & !KNOWN != 0 {
        return Err(WireError::UnknownFlags(flags & !KNOWN));
    }
    if flags & RESPAWN != 0 && flags & YOU == 0 {
        return Err(WireError::UnknownFlags(RESPAWN));
    }
    let baseline = if flags & BASELINE != 0 {
        Some(Tick(tick.0.wrapping_sub(r.varint(32)? as u32)))
    } else {
        None
    };
    let last_input = if flags & LAST_INPUT != 0 {
        Some(Seq(r.u16_le()?))
    } else {
        None
    };
    let input_lead = r.zigzag(16)? as i16;
    let you = if flags & YOU != 0 {
        Some(read_you(&mut r, tick, flags & RESPAWN != 0)?)
    } else {
        None
    };
    let removed = read_list(&mut r, "removed", 1)?
        .map(|_| Ok(PlayerId(r.varint(16)? as u16)))
        .collect::<Result<Vec<_>, WireError>>()?;
    let count = read_list(&mut r, "entity", 2)?;
    let mut entities = Vec::with_capacity(count.len());
    for _ in count {
        let id = r.varint(16)? as u16;
        let mask = r.varint(16)? as u16;
        if mask >> FIELDS != 0 {
            return Err(WireError::UnknownFields(id));
        }
        let mut diffs = Diffs::new();
        for _ in 0..mask.count_ones() {
            // The mask was checked above: at most FIELDS bits.
            diffs
                .push(r.zigzag(64)?)
                .map_err(|_| WireError::UnknownFields(id))?;
        }
        entities.push(EntityDelta {
            id: PlayerId(id),
            mask,
            diffs,
        });
    }
    match r.remaining() {
        0 => Ok(SnapshotPacket {
            seq,
            tick,
            baseline,
            last_input,
            input_lead,
            you,
            removed,
            entities,
        }),
        extra => Err(WireError::Trailing(extra)),
    }
}

fn flag(on: bool, bit: u8) -> u8 {
    if on { bit } else { 0 }
}

/// `t − now` as a signed tick count (both may wrap).
fn tick_offset(t: Tick, now: Tick) -> i64 {
    i64::from(t.0.wrapping_sub(now.0) as i32)
}

fn tick_at(now: Tick, offset: i64) -> Tick {
    Tick(now.0.wrapping_add(offset as i32 as u32))
}

/// The grid integer of `v`, if converting back gives the very same bits.
fn on_grid(
    v: f32,
    to_q: fn(f32) -> i32,
    from_q: fn(i32) -> f32,
    what: &'static str,
) -> Result<i32, WireError> {
    let q = to_q(v);
    if from_q(q).to_bits() == v.to_bits() {
        Ok(q)
    } else {
        Err(WireError::OffGrid(what))
    }
}

/// A count followed by items of at least `min_bytes` each: refused when the rest of the buffer
/// could not hold them, so a hostile count allocates nothing.
fn read_list(
    r: &mut Reader,
    what: &'static str,
    min_bytes: usize,
) -> Result<std::ops::Range<usize>, WireError> {
    let count = r.varint(16)?;
    let left = r.remaining();
    if count as usize > left / min_bytes {
        return Err(WireError::Count { what, count, left });
    }
    Ok(0..count as usize)
}

fn read_you(r: &mut Reader, tick: Tick, respawn: bool) -> Result<PlayerState, WireError> {
    let id = PlayerId(r.varint(16)? as u16);
    let mut q = [0i32; 4];
    for v in &mut q {
        *v = r.zigzag(32)? as i32;
    }
    let health = r.byte()?;
    let respawn_at = if respawn {
        Some(tick_at(tick, r.zigzag(32)?))
    } else {
        None
    };
    let aim = [r.zigzag(16)? as i16, r.zigzag(16)? as i16];
    let next_fire = tick_at(tick, r.zigzag(32)?);
    let kills = r.varint(16)? as u16;
    let deaths = r.varint(16)? as u16;
    Ok(PlayerState {
        id,
        body: Body {
            pos: Vec2::new(q_to_pos(q[0]), q_to_pos(q[1])),
            vel: Vec2::new(q_to_vel(q[2]), q_to_vel(q[3])),
        },
        life: Life { health, respawn_at },
        weapon: Weapon { aim, next_fire },
        score: Score { kills, deaths },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{EntitySet, EntityState, build_delta};
    use proptest::prelude::*;

    fn you(x: i32, y: i32, respawn: Option<u32>) -> PlayerState {
        PlayerState {
            id: PlayerId(3),
            body: Body {
                pos: Vec2::new(q_to_pos(x), q_to_pos(y)),
                vel: Vec2::new(q_to_vel(-200), 0.0),
            },
            life: Life {
                health: 70,
                respawn_at: respawn.map(Tick),
            },
            weapon: Weapon {
                aim: [-22627, 22627],
                next_fire: Tick(1005),
            },
            score: Score { kills: 1, deaths: 0 },
        }
    }

    fn entity(id: u16, pos: [i32; 2], shots: u8) -> EntityState {
        EntityState {
            id: PlayerId(id),
            pos,
            aim: [60, 0],
            health: 100,
            alive: true,
            kills: 0,
            deaths: 0,
            hidden: false,
            shots,
        }
    }

    fn packet(base: &EntitySet, cur: &EntitySet, you: Option<PlayerState>) -> SnapshotPacket {
        let built = build_delta(base, cur, |_| Vec::new(), usize::MAX, EntityDelta::encoded_len);
        SnapshotPacket {
            seq: Seq(65_535),
            tick: Tick(4_000_000_000),
            baseline: (!base.is_empty()).then_some(Tick(3_999_999_990)),
            last_input: Some(Seq(7)),
            input_lead: -3,
            you,
            removed: built.removed,
            entities: built.entities,
        }
    }

    #[test]
    fn a_moving_player_costs_a_few_bytes() {
        let base: EntitySet = [(PlayerId(1), entity(1, [1000, 1000], 0))].into();
        let cur: EntitySet = [(PlayerId(1), entity(1, [1040, 990], 1))].into();
        let p = packet(&base, &cur, None);
        let bytes = encode(&p).unwrap();
        // Header 2 + 5 + 1 + 1 + 2 + 1, lists 1 + 1, the entity: id, mask, 40, −10 and one shot.
        assert_eq!(bytes.len(), 12 + 2 + 5, "{bytes:?}");
        assert_eq!(decode(&bytes).unwrap(), p);
        // Each delta's own size, as the byte budget counts it, is what it costs here.
        assert_eq!(p.entities[0].encoded_len(), 5);
    }

    #[test]
    fn off_grid_own_player_is_refused() {
        let mut y = you(16, 16, None);
        y.body.pos.x += 0.01;
        let p = packet(&EntitySet::new(), &EntitySet::new(), Some(y));
        assert_eq!(encode(&p), Err(WireError::OffGrid("x")));
    }

    #[test]
    fn hostile_counts_and_flags_are_refused() {
        // seq, tick 0, flags 0, lead 0, removed count 100 with nothing after.
        assert!(matches!(
            decode(&[0, 0, 0, 0, 0, 100]),
            Err(WireError::Count { .. })
        ));
        assert_eq!(decode(&[0, 0, 0, 0x40]), Err(WireError::UnknownFlags(0x40)));
        assert_eq!(decode(&[0, 0, 0, RESPAWN]), Err(WireError::UnknownFlags(RESPAWN)));
        assert_eq!(decode(&[0, 0, 0, 0, 0, 0, 0, 9]), Err(WireError::Trailing(1)));
        assert_eq!(
            decode(&[0, 0, 0, 0, 0, 0, 1, 1, 0xff, 0x7f]),
            Err(WireError::UnknownFields(1))
        );
    }

    proptest! {
        #[test]
        fn any_bytes_decode_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&bytes);
        }
    }
}
