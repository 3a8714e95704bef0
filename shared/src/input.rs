//! Player input for one tick: what a client sends and what the simulation consumes.

use crate::tick::Tick;
use glam::Vec2;
use serde::{Deserialize, Serialize};

/// Button bit: the trigger is held.
pub const BUTTON_FIRE: u8 = 1;

/// The shooter's view of remote players when it fired: it was drawing them between snapshot
/// ticks `tick_a` and `tick_b` at `alpha / 65536` (see `interp`). The server rewinds to exactly
/// this view.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ShotView {
    /// Older snapshot tick being interpolated from.
    pub tick_a: Tick,
    /// Newer snapshot tick being interpolated to.
    pub tick_b: Tick,
    /// Fraction of the way from `tick_a` to `tick_b`, in 1/65536.
    pub alpha: u16,
}

/// One tick of input. Movement and aim are integers so they cross the wire exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Input {
    /// Desired movement, each axis in -127..=127; longer than 127 is clamped to unit length.
    pub mv: [i8; 2],
    /// Aim direction (any length; normalized by the simulation, zero keeps the old aim).
    pub aim: [i16; 2],
    /// Button bits (`BUTTON_FIRE`).
    pub buttons: u8,
    /// What the shooter saw, when it fired with remote players on screen.
    pub view: Option<ShotView>,
}

impl Input {
    /// Whether the trigger is held.
    pub fn fire(&self) -> bool {
        self.buttons & BUTTON_FIRE != 0
    }

    /// Movement as a vector of length at most 1. `i8::MIN` counts as -127 so the range is
    /// symmetric; anything longer than one unit (a hostile or diagonal input) is scaled down.
    pub fn wish(&self) -> Vec2 {
        let axis = |v: i8| f32::from(v.max(-127)) / 127.0;
        let w = Vec2::new(axis(self.mv[0]), axis(self.mv[1]));
        let len2 = w.length_squared();
        if len2 > 1.0 { w / len2.sqrt() } else { w }
    }

    /// Unit aim direction, or `None` for a zero vector.
    pub fn aim_dir(&self) -> Option<Vec2> {
        aim_dir(self.aim)
    }
}

/// Unit direction of an integer aim vector; `None` for zero. Shared by every caller that turns an
/// aim into a ray so the same bits come out everywhere.
pub fn aim_dir(aim: [i16; 2]) -> Option<Vec2> {
    let v = Vec2::new(f32::from(aim[0]), f32::from(aim[1]));
    let len = v.length();
    if len == 0.0 { None } else { Some(v / len) }
}

/// Encodes a direction as an integer aim vector (length about 32000).
pub fn aim_from_dir(dir: Vec2) -> [i16; 2] {
    let d = dir.normalize_or_zero() * 32000.0;
    [d.x.round() as i16, d.y.round() as i16]
}
