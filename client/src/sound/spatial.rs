//! Where a sound comes from, as a pan and a gain: left/right from the horizontal offset to the
//! listener, quieter with distance, silent beyond hearing range. There is no occlusion: a player
//! behind a wall is heard by distance alone, which is what lets you hear someone round a corner.

use rewind_shared::Vec2;

/// Pan positions the positional effects are rendered at (quad-snd cannot pan a playback, so
/// each positional effect exists once per step: -1, -0.75, ... 1).
pub const PAN_STEPS: usize = 9;
/// Horizontal offset (world units) at which a sound is fully on one side.
pub const PAN_SPAN: f32 = 700.0;

/// How far a kind of sound carries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Falloff {
    /// Full volume up to this distance.
    pub near: f32,
    /// Silent from this distance on.
    pub far: f32,
}

/// Shots carry as far as the weapon reaches (1500 units) and a little more.
pub const SHOT_FALLOFF: Falloff = Falloff {
    near: 150.0,
    far: 1800.0,
};
/// Footsteps carry about a screen's width.
pub const STEP_FALLOFF: Falloff = Falloff {
    near: 80.0,
    far: 900.0,
};

/// A positional sound's pan step (index into the `PAN_STEPS` renderings) and gain 0..=1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Placement {
    /// Index of the pan rendering, 0 = hard left, `PAN_STEPS / 2` = centre.
    pub pan_step: usize,
    /// Volume factor from distance.
    pub gain: f32,
}

/// The pan value of a step.
pub fn step_pan(step: usize) -> f32 {
    step as f32 / (PAN_STEPS - 1) as f32 * 2.0 - 1.0
}

/// Places a sound at `source` for a listener at `listener`; `None` when it is out of earshot.
/// Without a listener (no local player, free camera unknown) the sound is centred at full gain.
pub fn place(source: Vec2, listener: Option<Vec2>, falloff: Falloff) -> Option<Placement> {
    let Some(listener) = listener else {
        return Some(Placement {
            pan_step: PAN_STEPS / 2,
            gain: 1.0,
        });
    };
    let offset = source - listener;
    let dist = offset.length();
    if !dist.is_finite() || dist >= falloff.far {
        return None;
    }
    let t = ((dist - falloff.near) / (falloff.far - falloff.near)).clamp(0.0, 1.0);
    let gain = (1.0 - t) * (1.0 - t);
    let pan = (offset.x / PAN_SPAN).clamp(-1.0, 1.0);
    let pan_step = ((pan + 1.0) / 2.0 * (PAN_STEPS - 1) as f32).round() as usize;
    Some(Placement {
        pan_step: pan_step.min(PAN_STEPS - 1),
        gain,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn left_right_near_far() {
        let me = Some(Vec2::new(1000.0, 1000.0));
        let left = place(Vec2::new(300.0, 1000.0), me, SHOT_FALLOFF).expect("in earshot");
        assert_eq!(left.pan_step, 0);
        let right = place(Vec2::new(1400.0, 1000.0), me, SHOT_FALLOFF).expect("in earshot");
        assert!(right.pan_step > PAN_STEPS / 2);
        let above = place(Vec2::new(1000.0, 900.0), me, SHOT_FALLOFF).expect("in earshot");
        assert_eq!(above.pan_step, PAN_STEPS / 2);
        assert_eq!(above.gain, 1.0, "within the near distance");
        assert!(left.gain < above.gain && left.gain > 0.0);
        assert_eq!(place(Vec2::new(1000.0, 2900.0), me, SHOT_FALLOFF), None);
        assert_eq!(
            place(Vec2::new(1000.0, 1950.0), me, STEP_FALLOFF),
            None,
            "steps carry less"
        );
        assert_eq!(step_pan(0), -1.0);
        assert_eq!(step_pan(PAN_STEPS / 2), 0.0);
        assert_eq!(step_pan(PAN_STEPS - 1), 1.0);
        let unplaced = place(Vec2::ZERO, None, SHOT_FALLOFF).expect("centred");
        assert_eq!((unplaced.pan_step, unplaced.gain), (PAN_STEPS / 2, 1.0));
    }
}
