//! The one interpolation function both sides use.
//!
//! The client draws remote players between two snapshot ticks at a fraction `alpha`; the server
//! rewinds to the same view to decide a shot. Working on the quantized integer positions with
//! integer arithmetic makes the result bit-identical on both sides whatever the compiler does
//! with floats, which is what lets "a hit you saw" be "a hit the server gives you".

/// `alpha` for the exact end of an interval would be 65536; the largest value on the wire is
/// 65535, so a view sits at `tick_a + alpha / 65536` of the way to `tick_b`.
pub const ALPHA_ONE: i64 = 1 << 16;

/// Position between `a` and `b` (quantized grid integers) at `alpha / 65536`, rounded toward
/// negative infinity.
pub fn interp_q(a: [i32; 2], b: [i32; 2], alpha: u16) -> [i32; 2] {
    let lerp = |a: i32, b: i32| {
        let d = i64::from(b) - i64::from(a);
        (i64::from(a) + (d * i64::from(alpha)).div_euclid(ALPHA_ONE)) as i32
    };
    [lerp(a[0], b[0]), lerp(a[1], b[1])]
}

/// Converts a fraction in [0, 1] into the wire `alpha`, saturating at both ends.
pub fn alpha_from_fraction(f: f32) -> u16 {
    (f.clamp(0.0, 1.0) * ALPHA_ONE as f32).min(65535.0) as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn endpoints_and_midpoint() {
        assert_eq!(interp_q([0, 0], [100, -100], 0), [0, 0]);
        assert_eq!(interp_q([0, 0], [100, -100], 32768), [50, -50]);
        assert_eq!(alpha_from_fraction(1.5), 65535);
        assert_eq!(alpha_from_fraction(-1.0), 0);
    }

    proptest! {
        #[test]
        fn result_stays_between_endpoints(a in -1_000_000i32..1_000_000, b in -1_000_000i32..1_000_000, alpha in any::<u16>()) {
            let [x, _] = interp_q([a, 0], [b, 0], alpha);
            prop_assert!(x >= a.min(b) && x <= a.max(b));
        }
    }
}
