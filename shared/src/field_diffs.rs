//! The field differences of one entity delta, stored inline.
//!
//! A big server builds a delta for every player of every client's snapshot (256 × 256 thirty
//! times a second) and every client decodes one per player it is told about; with a `Vec` per
//! delta, the allocator was the largest single cost on both sides (`perf`, 256 players). An
//! entity has `FIELDS` fields, so the differences fit a fixed array next to their count.

use crate::snapshot::FIELDS;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::Deref;
use thiserror::Error;

/// Up to `FIELDS` differences, in field order (one per set bit of the delta's mask).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Diffs {
    len: u8,
    /// Unused slots stay zero, so the derived equality compares only the differences.
    vals: [i64; FIELDS],
}

/// More differences than an entity has fields.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
#[error("{0} field differences, an entity has {FIELDS} fields")]
pub struct TooManyDiffs(pub usize);

impl Diffs {
    /// No differences.
    pub const fn new() -> Diffs {
        Diffs {
            len: 0,
            vals: [0; FIELDS],
        }
    }

    /// The first `len` of `vals` (the rest must be zero; `len` is capped at `FIELDS`).
    pub(crate) fn from_parts(vals: [i64; FIELDS], len: usize) -> Diffs {
        let len = len.min(FIELDS);
        debug_assert!(vals[len..].iter().all(|v| *v == 0), "unused slots must be zero");
        Diffs { len: len as u8, vals }
    }

    /// Appends one difference.
    pub fn push(&mut self, v: i64) -> Result<(), TooManyDiffs> {
        let slot = self
            .vals
            .get_mut(usize::from(self.len))
            .ok_or(TooManyDiffs(usize::from(self.len) + 1))?;
        *slot = v;
        self.len += 1;
        Ok(())
    }
}

impl Deref for Diffs {
    type Target = [i64];

    fn deref(&self) -> &[i64] {
        &self.vals[..usize::from(self.len)]
    }
}

impl fmt::Debug for Diffs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl TryFrom<&[i64]> for Diffs {
    type Error = TooManyDiffs;

    fn try_from(s: &[i64]) -> Result<Diffs, TooManyDiffs> {
        let mut d = Diffs::new();
        d.vals
            .get_mut(..s.len())
            .ok_or(TooManyDiffs(s.len()))?
            .copy_from_slice(s);
        d.len = s.len() as u8;
        Ok(d)
    }
}

impl<const N: usize> From<[i64; N]> for Diffs {
    /// A literal list of differences (checked at compile time to fit).
    fn from(a: [i64; N]) -> Diffs {
        const { assert!(N <= FIELDS) };
        let mut d = Diffs::new();
        d.vals[..N].copy_from_slice(&a);
        d.len = N as u8;
        d
    }
}

/// Serialized as a sequence, like the `Vec` it replaced (the codec bench compares serializers on
/// the same shape).
impl Serialize for Diffs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.deref().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Diffs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Diffs, D::Error> {
        let v = Vec::<i64>::deserialize(d)?;
        Diffs::try_from(v.as_slice()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_up_to_one_difference_per_field() {
        let mut d = Diffs::new();
        for v in 0..FIELDS as i64 {
            assert_eq!(d.push(v - 5), Ok(()));
        }
        assert_eq!(d.push(1), Err(TooManyDiffs(FIELDS + 1)));
        assert_eq!(d.len(), FIELDS);
        assert_eq!(d[0], -5);
        assert_eq!(Diffs::try_from(&[0i64; FIELDS + 1][..]), Err(TooManyDiffs(11)));
    }

    #[test]
    fn equality_and_debug_see_only_the_differences() {
        assert_eq!(Diffs::from([1, 2]), Diffs::try_from(&[1i64, 2][..]).unwrap());
        assert_ne!(Diffs::from([1, 2]), Diffs::from([1, 2, 0]));
        assert_eq!(format!("{:?}", Diffs::from([3, -4])), "[3, -4]");
    }
}
