//! Quantization: the precision the network carries, applied to the simulation after every tick.
//!
//! Positions live on a 1/16-unit grid and velocities on a 1/16-unit-per-second grid. Every value
//! on these grids is exactly representable in `f32` inside the map size limit, so converting to
//! integers for the wire and back is lossless: server, predicting client and replay all start
//! each tick from the very same bits.

use glam::Vec2;

/// Grid steps per world unit for positions.
pub const POS_SCALE: f32 = 16.0;
/// Grid steps per world unit per second for velocities.
pub const VEL_SCALE: f32 = 16.0;

/// Quantizes a coordinate to the position grid.
pub fn pos_to_q(v: f32) -> i32 {
    (v * POS_SCALE).round() as i32
}

/// A position-grid integer back to world units (exact).
pub fn q_to_pos(q: i32) -> f32 {
    q as f32 / POS_SCALE
}

/// Quantizes a velocity component.
pub fn vel_to_q(v: f32) -> i32 {
    (v * VEL_SCALE).round() as i32
}

/// A velocity-grid integer back to units per second (exact).
pub fn q_to_vel(q: i32) -> f32 {
    q as f32 / VEL_SCALE
}

/// A position as grid integers.
pub fn pos2_to_q(v: Vec2) -> [i32; 2] {
    [pos_to_q(v.x), pos_to_q(v.y)]
}

/// Grid integers back to a position.
pub fn q_to_pos2(q: [i32; 2]) -> Vec2 {
    Vec2::new(q_to_pos(q[0]), q_to_pos(q[1]))
}

/// Snaps a position onto the grid.
pub fn snap_pos(v: Vec2) -> Vec2 {
    q_to_pos2(pos2_to_q(v))
}

/// Snaps a velocity onto the grid.
pub fn snap_vel(v: Vec2) -> Vec2 {
    Vec2::new(q_to_vel(vel_to_q(v.x)), q_to_vel(vel_to_q(v.y)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn quantized_positions_round_trip_exactly(q in -200_000i32..200_000) {
            prop_assert_eq!(pos_to_q(q_to_pos(q)), q);
            let v = q_to_pos(q);
            prop_assert_eq!(snap_pos(Vec2::new(v, v)), Vec2::new(v, v));
        }
    }
}
