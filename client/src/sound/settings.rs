//! Master volume, effects volume and mute (key M). There is no settings store in the client yet,
//! so these live in the window's state for the session and start from the command line
//! (`--volume`, `--effects-volume`, `--mute`); a store would persist this struct as it is.

/// One step of the volume keys.
pub const VOLUME_STEP: f32 = 0.1;

/// The player's sound settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SoundSettings {
    /// Everything the game plays, 0..=1.
    pub master: f32,
    /// Sound effects (today all sounds are effects; music would have its own), 0..=1.
    pub effects: f32,
    /// Silenced without losing the volumes.
    pub muted: bool,
}

impl Default for SoundSettings {
    fn default() -> Self {
        SoundSettings {
            master: 0.8,
            effects: 1.0,
            muted: false,
        }
    }
}

/// A settings key the window saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SoundKey {
    /// M.
    ToggleMute,
    /// `]` / `[`.
    Master(bool),
    /// `.` / `,`.
    Effects(bool),
}

impl SoundSettings {
    /// Settings with both volumes clamped to 0..=1 (NaN counts as 0).
    pub fn clamped(self) -> SoundSettings {
        let c = |v: f32| if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
        SoundSettings {
            master: c(self.master),
            effects: c(self.effects),
            muted: self.muted,
        }
    }

    /// The factor an effect's own gain is multiplied by.
    pub fn effects_gain(&self) -> f32 {
        if self.muted {
            0.0
        } else {
            self.master * self.effects
        }
    }

    /// Applies a key (volume steps are rounded to whole steps so ten presses reach 0 exactly).
    pub fn apply(&mut self, key: SoundKey) {
        let step = |v: &mut f32, up: bool| {
            let n = (*v / VOLUME_STEP).round() + if up { 1.0 } else { -1.0 };
            *v = (n * VOLUME_STEP).clamp(0.0, 1.0);
        };
        match key {
            SoundKey::ToggleMute => self.muted = !self.muted,
            SoundKey::Master(up) => step(&mut self.master, up),
            SoundKey::Effects(up) => step(&mut self.effects, up),
        }
    }

    /// One line for the HUD after a change.
    pub fn describe(&self) -> String {
        if self.muted {
            "sound muted (M to unmute)".to_string()
        } else {
            format!(
                "volume {:.0}%  effects {:.0}%   (M mute, [ ] volume, , . effects)",
                self.master * 100.0,
                self.effects * 100.0
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_mute_and_step_volumes() {
        let mut s = SoundSettings::default();
        assert!((s.effects_gain() - 0.8).abs() < 1e-6);
        s.apply(SoundKey::ToggleMute);
        assert_eq!(s.effects_gain(), 0.0);
        assert!(s.describe().contains("muted"));
        s.apply(SoundKey::ToggleMute);
        for _ in 0..20 {
            s.apply(SoundKey::Master(false));
        }
        assert_eq!(s.master, 0.0);
        s.apply(SoundKey::Master(true));
        s.apply(SoundKey::Effects(false));
        assert!((s.master - 0.1).abs() < 1e-6 && (s.effects - 0.9).abs() < 1e-6);
        assert!((s.effects_gain() - 0.09).abs() < 1e-6);
        let wild = SoundSettings {
            master: f32::NAN,
            effects: 7.0,
            muted: false,
        };
        assert_eq!(wild.clamped().master, 0.0);
        assert_eq!(wild.clamped().effects, 1.0);
    }
}
