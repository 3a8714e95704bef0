//! Sound effects without the window (issue 19): what to play (`cues`, derived from successive
//! `GameView`s), what it sounds like (`synth`, generated at start: no sound files, no licences),
//! where it comes from (`spatial`), how loud (`settings`), and the WAV bytes handed to the mixer
//! (`wav`). `game::audio` plays them through macroquad; everything here is testable without a
//! window or a sound device.

pub mod cues;
pub mod settings;
pub mod spatial;
pub mod synth;
pub mod wav;
