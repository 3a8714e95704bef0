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

#[derive(Serialize, Deserialize)]
struct WireTicks {
    first_tick: u32,
    records: Vec<WireRecord>,
}

#[derive(Serialize, Deserialize)]
struct WireRecord {
    leaves: Vec<u16>,
    joins: Vec<(u16, String)>,
    inputs: Vec<WireInput>,
    chat: Vec<(u16, String)>,
    hash: [u8; 8],
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
    let records = records
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
    codec::encode(&WireTicks { first_tick, records })
}

/// Decodes a `Ticks` payload; the error says what is malformed.
pub(crate) fn decode_ticks(payload: &[u8]) -> Result<Vec<TickRecord>, String> {
    let wire: WireTicks =
        codec::decode_large(payload, super::MAX_CHUNK_PAYLOAD).map_err(|e| e.to_string())?;
    let first = Tick(wire.first_tick);
    let mut last: BTreeMap<u16, Packed> = BTreeMap::new();
    let mut out = Vec::with_capacity(wire.records.len());
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
            hash: u64::from_le_bytes(w.hash),
        });
    }
    Ok(out)
}
