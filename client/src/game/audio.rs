//! Playing the effects in the window: the bank of synthesized sounds loaded into macroquad, the
//! cues of each frame turned into playbacks at the right volume and pan, and the device check.
//!
//! The device: quad-snd's thread opens ALSA when the window opens; if it fails it panics (caught
//! by `audio_guard`). We wait `PROBE_S` after the window opens before loading anything: a failure
//! to open a device shows up within milliseconds, and until then nothing is sent to a mixer that
//! may be dead (which would print "Audio thread died" on every call). Without a device the game
//! plays silently and logs exactly one line. The first sounds of a match come seconds later, so
//! the wait is never heard.

use super::audio_guard;
use crate::sound::cues::Cue;
use crate::sound::settings::SoundSettings;
use crate::sound::spatial::{self, PAN_STEPS, Placement};
use crate::sound::synth::{self, Effect};
use crate::sound::wav;
use macroquad::audio::{PlaySoundParams, Sound, load_sound_from_bytes, play_sound};
use rewind_shared::Vec2;
use std::collections::BTreeMap;

/// How long after the window opens the device is judged (see the module doc).
pub const PROBE_S: f64 = 0.5;

/// Loudness of each effect before the settings (our shot is loud, our footsteps quiet); public
/// so the listening test knows how loud one shot must be.
pub fn base_gain(effect: Effect, ours: bool) -> f32 {
    match effect {
        Effect::Shot => 0.7,
        Effect::HitMarker => 0.6,
        Effect::HitConfirmed | Effect::Hurt | Effect::Kill | Effect::Death => 0.8,
        Effect::HitDenied => 0.7,
        Effect::Respawn => 0.6,
        Effect::RemoteShot => 0.6,
        Effect::Footstep if ours => 0.25,
        Effect::Footstep => 0.5,
        Effect::Click => 0.5,
    }
}

/// The loaded sounds: one per effect, one per pan step for the positional ones.
struct Bank {
    sounds: BTreeMap<Effect, Vec<Sound>>,
}

impl Bank {
    /// Synthesizes every effect and hands it to the mixer as WAV bytes.
    async fn load() -> Result<Bank, macroquad::Error> {
        let mut sounds = BTreeMap::new();
        for effect in Effect::ALL {
            let mono = effect.samples();
            let pans: Vec<f32> = if effect.positional() {
                (0..PAN_STEPS).map(spatial::step_pan).collect()
            } else {
                vec![0.0]
            };
            let mut variants = Vec::with_capacity(pans.len());
            for p in pans {
                let bytes = wav::encode_stereo(&synth::pan(&mono, p));
                variants.push(load_sound_from_bytes(&bytes).await?);
            }
            sounds.insert(effect, variants);
        }
        Ok(Bank { sounds })
    }

    /// The rendering of `effect` for a pan step (the centre for non-positional effects).
    fn get(&self, effect: Effect, pan_step: usize) -> Option<&Sound> {
        let v = self.sounds.get(&effect)?;
        v.get(pan_step).or_else(|| v.get(v.len() / 2))
    }
}

enum State {
    /// Waiting to see whether the audio thread survives opening the device.
    Probing,
    /// Sounds loaded; playing.
    Ready(Bank),
    /// No device (or it died): nothing is ever sent to the mixer.
    Silent,
}

/// The window's sound: settings, device state and the loaded bank.
pub struct Audio {
    state: State,
    opened_at: f64,
    /// The player's settings (changed by keys in the window).
    pub settings: SoundSettings,
}

impl Audio {
    /// Sound for a window opened at `now` (seconds on macroquad's clock).
    pub fn new(settings: SoundSettings, now: f64) -> Audio {
        Audio {
            state: State::Probing,
            opened_at: now,
            settings: settings.clamped(),
        }
    }

    /// Advances the device check; call once per frame.
    pub async fn poll(&mut self, now: f64) {
        if !cfg!(feature = "sound") {
            if matches!(self.state, State::Probing) {
                tracing::warn!("no audio device: this build has no sound (the `sound` feature is off)");
                self.state = State::Silent;
            }
            return;
        }
        if let Some(why) = audio_guard::failure() {
            match std::mem::replace(&mut self.state, State::Silent) {
                State::Probing => {
                    tracing::warn!("no audio device ({why}): the game runs without sound");
                }
                State::Ready(bank) => {
                    tracing::warn!("the audio device failed ({why}): the game continues without sound");
                    // Dropping a sound messages the dead mixer, which prints a line each time.
                    std::mem::forget(bank);
                }
                State::Silent => {}
            }
            return;
        }
        if matches!(self.state, State::Probing) && now - self.opened_at >= PROBE_S {
            self.state = match Bank::load().await {
                Ok(bank) => {
                    tracing::debug!("sound on: {} effects loaded", bank.sounds.len());
                    State::Ready(bank)
                }
                Err(e) => {
                    tracing::warn!("no sound: the effects could not be loaded: {e}");
                    State::Silent
                }
            };
        }
    }

    /// Whether sounds are being played (false while probing and without a device).
    pub fn ready(&self) -> bool {
        matches!(self.state, State::Ready(_))
    }

    /// A line for the HUD after a settings change.
    pub fn status(&self) -> String {
        match self.state {
            State::Silent => format!("{}  (no audio device)", self.settings.describe()),
            _ => self.settings.describe(),
        }
    }

    /// Plays this frame's cues; `listener` is where positional sounds are heard from.
    pub fn play(&self, cues: &[Cue], listener: Option<Vec2>) {
        let State::Ready(bank) = &self.state else {
            return;
        };
        let gain = self.settings.effects_gain();
        if gain <= 0.0 {
            return;
        }
        for cue in cues {
            let placement = match cue.at {
                None => Some(Placement {
                    pan_step: PAN_STEPS / 2,
                    gain: 1.0,
                }),
                Some(at) => {
                    let falloff = if cue.effect == Effect::Footstep {
                        spatial::STEP_FALLOFF
                    } else {
                        spatial::SHOT_FALLOFF
                    };
                    spatial::place(at, listener, falloff)
                }
            };
            let Some(place) = placement else { continue };
            let volume = gain * place.gain * base_gain(cue.effect, cue.at.is_none());
            if volume < 0.005 {
                continue;
            }
            if let Some(sound) = bank.get(cue.effect, place.pan_step) {
                play_sound(
                    sound,
                    PlaySoundParams {
                        looped: false,
                        volume,
                    },
                );
            }
        }
    }
}
