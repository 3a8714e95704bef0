//! LEB128 varints and zigzag for the hand-packed wire formats (input runs, snapshots).
//!
//! The hot datagrams are coded by hand rather than through the serializer because their numbers
//! are small differences: LEB128 spends one byte up to 127 and two up to 16,383, where the
//! serializer's varint jumps from one byte to three at 251. The reader refuses truncation and
//! overlong encodings, so a hostile datagram is an error, never a panic or a huge value.

use thiserror::Error;

/// Why bytes did not read as a varint.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum Leb128Error {
    /// The bytes end inside a value.
    #[error("truncated")]
    Truncated,
    /// A varint longer than its type.
    #[error("overlong varint")]
    Overlong,
}

/// Appends `v` as an unsigned LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` zigzag-coded (small magnitudes of either sign stay small), as a varint.
pub fn put_zigzag(out: &mut Vec<u8>, v: i64) {
    put_varint(out, zigzag(v));
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Bytes `put_varint` spends on `v` (the snapshot budget asks this without encoding).
pub fn varint_len(v: u64) -> usize {
    // By table on the leading zeros: the budget asks this for every difference of every delta,
    // and the division it replaces was a few percent of a big server's tick.
    usize::from(VARINT_LEN[(v | 1).leading_zeros() as usize])
}

/// `varint_len` by leading zeros (0..=63; `v | 1` has at most 63).
const VARINT_LEN: [u8; 64] = {
    let mut t = [0u8; 64];
    let mut z = 0;
    while z < 64 {
        t[z] = (64 - z).div_ceil(7) as u8;
        z += 1;
    }
    t
};

/// Bytes `put_zigzag` spends on `v`.
pub fn zigzag_len(v: i64) -> usize {
    varint_len(zigzag(v))
}

/// A cursor over a received buffer.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// Reads `bytes` from the start.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    /// One byte.
    pub fn byte(&mut self) -> Result<u8, Leb128Error> {
        let b = *self.bytes.get(self.at).ok_or(Leb128Error::Truncated)?;
        self.at += 1;
        Ok(b)
    }

    /// A little-endian `u16`.
    pub fn u16_le(&mut self) -> Result<u16, Leb128Error> {
        Ok(u16::from_le_bytes([self.byte()?, self.byte()?]))
    }

    /// A varint of at most `bits` bits.
    pub fn varint(&mut self, bits: u32) -> Result<u64, Leb128Error> {
        let mut v: u64 = 0;
        let mut shift = 0;
        loop {
            let b = self.byte()?;
            if shift == 63 && b & 0x7e != 0 {
                return Err(Leb128Error::Overlong);
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift >= bits + 7 || shift >= 64 {
                return Err(Leb128Error::Overlong);
            }
        }
        if bits < 64 && v >> bits != 0 {
            return Err(Leb128Error::Overlong);
        }
        Ok(v)
    }

    /// A zigzag varint of a signed value of at most `bits` bits.
    pub fn zigzag(&mut self, bits: u32) -> Result<i64, Leb128Error> {
        let u = self.varint((bits + 1).min(64))?;
        Ok((u >> 1) as i64 ^ -((u & 1) as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lengths_match_what_is_written() {
        for v in [0u64, 1, 127, 128, 16_383, 16_384, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v), "{v}");
        }
        assert_eq!(zigzag_len(-64), 1);
        assert_eq!(zigzag_len(64), 2);
    }

    #[test]
    fn overlong_and_truncated_are_errors() {
        assert_eq!(Reader::new(&[0x80]).varint(32), Err(Leb128Error::Truncated));
        assert_eq!(
            Reader::new(&[0xff, 0xff, 0x04]).varint(16),
            Err(Leb128Error::Overlong)
        );
        assert_eq!(Reader::new(&[0xff; 11]).varint(64), Err(Leb128Error::Overlong));
        assert_eq!(Reader::new(&[0x80, 0x00]).varint(64), Ok(0));
    }

    proptest! {
        #[test]
        fn signed_values_round_trip(v in any::<i64>()) {
            let mut out = Vec::new();
            put_zigzag(&mut out, v);
            prop_assert_eq!(out.len(), zigzag_len(v));
            let mut r = Reader::new(&out);
            prop_assert_eq!(r.zigzag(64), Ok(v));
            prop_assert_eq!(r.remaining(), 0);
        }

        #[test]
        fn any_bytes_read_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..16)) {
            let mut r = Reader::new(&bytes);
            while r.varint(64).is_ok() && r.remaining() > 0 {}
        }
    }
}
