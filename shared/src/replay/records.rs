//! The compact on-disk form of tick records. Most of a file is inputs, so they are squeezed:
//! ticks are implied by position, a shot view is stored relative to its tick (small varints),
//! and an input identical to the same player's previous one in the chunk is a 1-3 byte repeat.
//! The repeat state resets every chunk, so each chunk decodes on its own.

use super::TickRecord;
use crate::codec::{self, CodecError};
use crate::input::{Input, ShotView};
use crate::player::PlayerId;
use crate::tick::Tick;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One record's shooters' own targets: (shooter, [(target, hitbox on the 1/16 grid)]).
type WireSeen = Vec<(u16, Vec<(u16, [i32; 2])>)>;

#[derive(Serialize, Deserialize)]
struct WireTicks {
    first_tick: u32,
    records: Vec<WireRecord>,
    /// Format 2 on, last so that format 1's payload is the same bytes without it: per record
    /// (by its index in the chunk) that has any, the shooters' own targets (`TickRecord::seen`).
    seen: Vec<(u32, WireSeen)>,
}

#[derive(Serialize, Deserialize)]
struct WireRecord {
    leaves: Vec<u16>,
    joins: Vec<(u16, String)>,
    inputs: Vec<WireInput>,
    chat: Vec<(u16, String)>,
    hash: [u8; 8],
}

/// Format 1's tick records (no `seen`).
#[derive(Serialize, Deserialize)]
struct WireTicksV1 {
    first_tick: u32,
    records: Vec<WireRecord>,
}

#[derive(Serialize, Deserialize)]
enum WireInput {
    /// The same as this player's previous input in the chunk.
    Same(u16),
    New(u16, Packed),
}

/// An input with its view relative to the record's tick: (tick_a - tick, tick_b - tick_a, alpha).
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Packed {
    mv: [i8; 2],
    aim: [i16; 2],
    buttons: u8,
    view: Option<(i32, i32, u16)>,
}

impl Packed {
    fn pack(input: &Input, tick: Tick) -> Packed {
        Packed {
            mv: input.mv,
            aim: input.aim,
            buttons: input.buttons,
            view: input
                .view
                .map(|v| (v.tick_a.diff(tick), v.tick_b.diff(v.tick_a), v.alpha)),
        }
    }

    fn unpack(self, tick: Tick) -> Input {
        Input {
            mv: self.mv,
            aim: self.aim,
            buttons: self.buttons,
            view: self.view.map(|(a, b, alpha)| {
                let tick_a = tick.offset(a);
                ShotView {
                    tick_a,
                    tick_b: tick_a.offset(b),
                    alpha,
                }
            }),
        }
    }
}

/// Encodes consecutive records (the caller guarantees `records[i].tick == first + i`).
pub(crate) fn encode_ticks(records: &[TickRecord]) -> Result<Vec<u8>, CodecError> {
    let first_tick = records.first().map_or(0, |r| r.tick.0);
    let mut last: BTreeMap<u16, Packed> = BTreeMap::new();
    let wire = records
        .iter()
        .map(|r| WireRecord {
            leaves: r.leaves.iter().map(|p| p.0).collect(),
            joins: r.joins.iter().map(|(p, n)| (p.0, n.clone())).collect(),
            inputs: r
                .inputs
                .iter()
                .map(|(p, input)| {
                    let packed = Packed::pack(input, r.tick);
                    if last.insert(p.0, packed) == Some(packed) {
                        WireInput::Same(p.0)
                    } else {
                        WireInput::New(p.0, packed)
                    }
                })
                .collect(),
            chat: r.chat.iter().map(|(p, n)| (p.0, n.clone())).collect(),
            hash: r.hash.to_le_bytes(),
        })
        .collect();
    let seen = records_seen(records);
    codec::encode(&WireTicks {
        first_tick,
        records: wire,
        seen,
    })
}

/// The `seen` lists of the records that have any, by index in the chunk.
fn records_seen(records: &[TickRecord]) -> Vec<(u32, WireSeen)> {
    records
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.seen.is_empty())
        .map(|(i, r)| {
            let seen = r
                .seen
                .iter()
                .map(|(s, boxes)| (s.0, boxes.iter().map(|(id, q)| (id.0, *q)).collect()))
                .collect();
            (i as u32, seen)
        })
        .collect()
}

/// Decodes a `Ticks` payload of a file of format `version`; the error says what is malformed.
pub(crate) fn decode_ticks(payload: &[u8], version: u32) -> Result<Vec<TickRecord>, String> {
    let wire: WireTicks = if version == super::FORMAT_VERSION_V1 {
        let v1: WireTicksV1 =
            codec::decode_large(payload, super::MAX_CHUNK_PAYLOAD).map_err(|e| e.to_string())?;
        WireTicks {
            first_tick: v1.first_tick,
            records: v1.records,
            seen: Vec::new(),
        }
    } else {
        codec::decode_large(payload, super::MAX_CHUNK_PAYLOAD).map_err(|e| e.to_string())?
    };
    let first = Tick(wire.first_tick);
    let mut last: BTreeMap<u16, Packed> = BTreeMap::new();
    let n = wire.records.len();
    let mut seen: BTreeMap<u32, super::SeenRecord> = BTreeMap::new();
    for (i, s) in wire.seen {
        if i as usize >= n || seen.contains_key(&i) {
            return Err(format!("shooters' targets for record {i} of {n}, or twice"));
        }
        let s = s
            .into_iter()
            .map(|(p, boxes)| {
                (
                    PlayerId(p),
                    boxes.into_iter().map(|(id, q)| (PlayerId(id), q)).collect(),
                )
            })
            .collect();
        seen.insert(i, s);
    }
    let mut out = Vec::with_capacity(n);
    for (i, w) in wire.records.into_iter().enumerate() {
        let tick = first.offset(i as i32);
        let mut inputs = Vec::with_capacity(w.inputs.len());
        for wi in w.inputs {
            let (id, packed) = match wi {
                WireInput::New(id, p) => {
                    last.insert(id, p);
                    (id, p)
                }
                WireInput::Same(id) => match last.get(&id) {
                    Some(p) => (id, *p),
                    None => return Err(format!("{tick}: player #{id} repeats an input it never sent")),
                },
            };
            inputs.push((PlayerId(id), packed.unpack(tick)));
        }
        out.push(TickRecord {
            tick,
            leaves: w.leaves.into_iter().map(PlayerId).collect(),
            joins: w.joins.into_iter().map(|(p, n)| (PlayerId(p), n)).collect(),
            inputs,
            chat: w.chat.into_iter().map(|(p, n)| (PlayerId(p), n)).collect(),
            seen: seen.remove(&(i as u32)).unwrap_or_default(),
            hash: u64::from_le_bytes(w.hash),
        });
    }
    Ok(out)
}
