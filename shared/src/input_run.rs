//! The compact coding of the inputs in one datagram: each input against the one before it.
//!
//! An input datagram repeats recent inputs so that a lost datagram costs nothing, and sixty of
//! them go up every second: upload is the scarce direction on DSL and mobile links. Consecutive
//! inputs are nearly always for consecutive ticks under consecutive sequences, and a player holds
//! the same keys for many ticks, so each input is coded as the fields that changed since the
//! previous one: a run of identical inputs costs one byte each. (Coded field by field with
//! bincode the same inputs cost about 14 bytes each.)
//!
//! Layout (docs/PROTOCOL.md 5.1): a count byte (at most `MAX_INPUTS_PER_PACKET`), then, if any,
//! the first input's sequence and tick as LEB128 varints, then for every input a mask byte and
//! the fields it names, in this order: `SEQ` (zigzag delta from previous + 1), `TICK` (zigzag
//! delta from previous + 1), `MOVE` (two `i8`), `AIM` (two zigzag deltas, wrapping), `BUTTONS`
//! (a byte), `VIEW` (`input tick − tick_b` zigzag, `tick_b − tick_a` varint, `alpha` `u16` LE).
//! The first input's previous is the default input; `VIEW` absent means no view. Unknown mask
//! bits, a count above the limit, truncation, an overlong varint and trailing bytes are errors.

use crate::input::{Input, ShotView};
use crate::leb128::{Leb128Error, Reader, put_varint, put_zigzag};
use crate::protocol::{InputCmd, MAX_INPUTS_PER_PACKET};
use crate::tick::{Seq, Tick};
use thiserror::Error;

const SEQ: u8 = 1;
const TICK: u8 = 1 << 1;
const MOVE: u8 = 1 << 2;
const AIM: u8 = 1 << 3;
const BUTTONS: u8 = 1 << 4;
const VIEW: u8 = 1 << 5;
const KNOWN: u8 = SEQ | TICK | MOVE | AIM | BUTTONS | VIEW;

/// Why a run of inputs did not decode.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RunError {
    /// More inputs than a datagram may carry.
    #[error("{0} inputs in one datagram, the limit is {MAX_INPUTS_PER_PACKET}")]
    TooMany(usize),
    /// The bytes end inside an input.
    #[error("input run truncated")]
    Truncated,
    /// A mask names a field this version does not know.
    #[error("unknown input field bits {0:#04x}")]
    UnknownBits(u8),
    /// A varint longer than its type.
    #[error("overlong varint")]
    Overlong,
    /// Bytes after the last input.
    #[error("{0} trailing bytes after the inputs")]
    Trailing(usize),
}

impl From<Leb128Error> for RunError {
    fn from(e: Leb128Error) -> RunError {
        match e {
            Leb128Error::Truncated => RunError::Truncated,
            Leb128Error::Overlong => RunError::Overlong,
        }
    }
}

/// Codes `inputs` (at most `MAX_INPUTS_PER_PACKET`; more is an error).
pub fn encode_run(inputs: &[InputCmd]) -> Result<Vec<u8>, RunError> {
    if inputs.len() > MAX_INPUTS_PER_PACKET {
        return Err(RunError::TooMany(inputs.len()));
    }
    let mut out = Vec::with_capacity(4 + inputs.len() * 3);
    out.push(inputs.len() as u8);
    let Some(first) = inputs.first() else {
        return Ok(out);
    };
    put_varint(&mut out, u64::from(first.seq.0));
    put_varint(&mut out, u64::from(first.tick.0));
    let mut prev: Option<&InputCmd> = None;
    for cmd in inputs {
        let base = prev.map_or(Input::default(), |p| p.input);
        let seq_step = prev.map(|p| i64::from(cmd.seq.diff(p.seq)) - 1);
        let tick_step = prev.map(|p| i64::from(cmd.tick.diff(p.tick)) - 1);
        let i = &cmd.input;
        let mut mask = 0;
        if seq_step.is_some_and(|d| d != 0) {
            mask |= SEQ;
        }
        if tick_step.is_some_and(|d| d != 0) {
            mask |= TICK;
        }
        if i.mv != base.mv {
            mask |= MOVE;
        }
        if i.aim != base.aim {
            mask |= AIM;
        }
        if i.buttons != base.buttons {
            mask |= BUTTONS;
        }
        if i.view.is_some() {
            mask |= VIEW;
        }
        out.push(mask);
        if mask & SEQ != 0 {
            put_zigzag(&mut out, seq_step.unwrap_or(0));
        }
        if mask & TICK != 0 {
            put_zigzag(&mut out, tick_step.unwrap_or(0));
        }
        if mask & MOVE != 0 {
            out.extend(i.mv.map(|a| a as u8));
        }
        if mask & AIM != 0 {
            for k in 0..2 {
                put_zigzag(&mut out, i64::from(i.aim[k].wrapping_sub(base.aim[k])));
            }
        }
        if mask & BUTTONS != 0 {
            out.push(i.buttons);
        }
        if let Some(v) = i.view {
            put_zigzag(&mut out, i64::from(cmd.tick.diff(v.tick_b)));
            put_varint(&mut out, u64::from(v.tick_b.0.wrapping_sub(v.tick_a.0)));
            out.extend(v.alpha.to_le_bytes());
        }
        prev = Some(cmd);
    }
    Ok(out)
}

/// Decodes what `encode_run` wrote; never allocates more than `MAX_INPUTS_PER_PACKET` inputs.
pub fn decode_run(bytes: &[u8]) -> Result<Vec<InputCmd>, RunError> {
    let mut r = Reader::new(bytes);
    let count = usize::from(r.byte()?);
    if count > MAX_INPUTS_PER_PACKET {
        return Err(RunError::TooMany(count));
    }
    let mut out: Vec<InputCmd> = Vec::with_capacity(count);
    if count > 0 {
        let seq = Seq(r.varint(16)? as u16);
        let tick = Tick(r.varint(32)? as u32);
        for _ in 0..count {
            let mask = r.byte()?;
            if mask & !KNOWN != 0 {
                return Err(RunError::UnknownBits(mask & !KNOWN));
            }
            let (mut cmd, first) = match out.last() {
                Some(p) => (*p, false),
                None => (
                    InputCmd {
                        seq,
                        tick,
                        input: Input::default(),
                    },
                    true,
                ),
            };
            if !first {
                let seq_step = if mask & SEQ != 0 { r.zigzag(16)? } else { 0 };
                let tick_step = if mask & TICK != 0 { r.zigzag(32)? } else { 0 };
                cmd.seq = cmd.seq.offset((seq_step + 1) as i16);
                cmd.tick = cmd.tick.offset((tick_step + 1) as i32);
            } else if mask & (SEQ | TICK) != 0 {
                // The first input's sequence and tick are given in full.
                return Err(RunError::UnknownBits(mask & (SEQ | TICK)));
            }
            if mask & MOVE != 0 {
                cmd.input.mv = [r.byte()? as i8, r.byte()? as i8];
            }
            if mask & AIM != 0 {
                for k in 0..2 {
                    cmd.input.aim[k] = cmd.input.aim[k].wrapping_add(r.zigzag(16)? as i16);
                }
            }
            if mask & BUTTONS != 0 {
                cmd.input.buttons = r.byte()?;
            }
            cmd.input.view = if mask & VIEW != 0 {
                let age = r.zigzag(32)? as i32;
                let span = r.varint(32)? as u32;
                let tick_b = cmd.tick.offset(age.wrapping_neg());
                let alpha = u16::from_le_bytes([r.byte()?, r.byte()?]);
                Some(ShotView {
                    tick_a: Tick(tick_b.0.wrapping_sub(span)),
                    tick_b,
                    alpha,
                })
            } else {
                None
            };
            out.push(cmd);
        }
    }
    match r.remaining() {
        0 => Ok(out),
        extra => Err(RunError::Trailing(extra)),
    }
}

/// `#[serde(with = "input_run::serde_run")]`: the inputs of a datagram as one byte string in the
/// compact coding, through whatever serializer the codec module uses.
pub mod serde_run {
    use super::{decode_run, encode_run};
    use crate::protocol::InputCmd;
    use serde::de::{Error as _, Visitor};
    use serde::ser::Error as _;
    use serde::{Deserializer, Serializer};

    /// Serializes `inputs` as one byte string.
    pub fn serialize<S: Serializer>(inputs: &[InputCmd], s: S) -> Result<S::Ok, S::Error> {
        let bytes = encode_run(inputs).map_err(S::Error::custom)?;
        s.serialize_bytes(&bytes)
    }

    /// Deserializes a byte string written by `serialize`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<InputCmd>, D::Error> {
        struct Run;
        impl<'de> Visitor<'de> for Run {
            type Value = Vec<InputCmd>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a run of inputs")
            }

            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                decode_run(v).map_err(E::custom)
            }
        }
        d.deserialize_bytes(Run).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cmd(seq: u16, tick: u32, mv: [i8; 2], aim: [i16; 2], buttons: u8) -> InputCmd {
        InputCmd {
            seq: Seq(seq),
            tick: Tick(tick),
            input: Input {
                mv,
                aim,
                buttons,
                view: None,
            },
        }
    }

    /// Found by `cargo fuzz run client_datagram`: a view age of `i32::MIN` overflowed when negated.
    #[test]
    fn the_most_negative_view_age_is_no_panic() {
        // One input: seq 0, tick 0, mask VIEW, age zigzag 0xffff_ffff (i32::MIN), span 0, alpha.
        let bytes = [1, 0, 0, VIEW, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0];
        let run = decode_run(&bytes).unwrap();
        assert_eq!(run[0].input.view.map(|v| v.tick_b), Some(Tick(1 << 31)));
    }

    #[test]
    fn a_run_of_identical_inputs_costs_a_byte_each() {
        let run: Vec<InputCmd> = (0..16)
            .map(|i| cmd(100 + i, 5000 + u32::from(i), [127, 0], [300, -20], 0))
            .collect();
        let bytes = encode_run(&run).unwrap();
        // count, seq (1), tick (2), first mask + move + aim, then one byte per input.
        assert_eq!(bytes.len(), 1 + 1 + 2 + 1 + 2 + 3 + 15, "{bytes:?}");
        assert_eq!(decode_run(&bytes).unwrap(), run);
    }

    #[test]
    fn hostile_runs_are_refused() {
        assert_eq!(decode_run(&[17]), Err(RunError::TooMany(17)));
        assert_eq!(decode_run(&[1, 0]), Err(RunError::Truncated));
        assert_eq!(decode_run(&[1, 0, 0, 0x80]), Err(RunError::UnknownBits(0x80)));
        assert_eq!(decode_run(&[1, 0, 0, SEQ]), Err(RunError::UnknownBits(SEQ)));
        assert_eq!(decode_run(&[1, 0xff, 0xff, 0xff, 0x7f]), Err(RunError::Overlong));
        assert_eq!(decode_run(&[0, 9]), Err(RunError::Trailing(1)));
        let too_many = vec![cmd(0, 0, [0, 0], [0, 0], 0); 17];
        assert_eq!(encode_run(&too_many), Err(RunError::TooMany(17)));
    }

    fn arb_cmd() -> impl Strategy<Value = InputCmd> {
        (
            any::<u16>(),
            any::<u32>(),
            any::<[i8; 2]>(),
            any::<[i16; 2]>(),
            any::<u8>(),
            proptest::option::of((any::<u32>(), any::<u32>(), any::<u16>())),
        )
            .prop_map(|(seq, tick, mv, aim, buttons, view)| InputCmd {
                seq: Seq(seq),
                tick: Tick(tick),
                input: Input {
                    mv,
                    aim,
                    buttons,
                    view: view.map(|(a, b, alpha)| ShotView {
                        tick_a: Tick(a),
                        tick_b: Tick(b),
                        alpha,
                    }),
                },
            })
    }

    proptest! {
        #[test]
        fn any_run_round_trips(run in proptest::collection::vec(arb_cmd(), 0..=MAX_INPUTS_PER_PACKET)) {
            let bytes = encode_run(&run).unwrap();
            prop_assert_eq!(decode_run(&bytes).unwrap(), run);
        }

        #[test]
        fn any_bytes_decode_or_fail_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_run(&bytes);
        }
    }
}
