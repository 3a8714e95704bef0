//! The effects, synthesized at start from a few oscillators, noise and envelopes, so there are no
//! sound files and no licence question (issue 19). Each effect is a mono signal; `pan` turns it
//! into stereo frames (quad-snd has a volume per playback but no pan, so positional effects are
//! made once per pan step, see `bank`).

use super::wav::RATE;
use std::f32::consts::{FRAC_PI_4, TAU};

/// Every effect the game plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Effect {
    /// Our own shot, played the frame the shot is predicted.
    Shot,
    /// Our shot hit someone as we saw it (the predicted hit marker): a soft tick.
    HitMarker,
    /// The server confirmed one of our hits: a bright two-tone ding, clearly not the tick.
    HitConfirmed,
    /// The server denied a hit we saw: a dull low knock.
    HitDenied,
    /// We took damage.
    Hurt,
    /// We killed someone.
    Kill,
    /// We died.
    Death,
    /// We are back in the match.
    Respawn,
    /// Someone else's shot (positional).
    RemoteShot,
    /// A footstep (positional for others, centred for us).
    Footstep,
    /// A settings change or a click in the viewer's controls.
    Click,
}

impl Effect {
    /// All effects, for building the bank and for tests.
    pub const ALL: [Effect; 11] = [
        Effect::Shot,
        Effect::HitMarker,
        Effect::HitConfirmed,
        Effect::HitDenied,
        Effect::Hurt,
        Effect::Kill,
        Effect::Death,
        Effect::Respawn,
        Effect::RemoteShot,
        Effect::Footstep,
        Effect::Click,
    ];

    /// Whether the effect is placed in the world (panned and attenuated by distance).
    pub fn positional(self) -> bool {
        matches!(self, Effect::RemoteShot | Effect::Footstep)
    }

    /// The effect's mono samples at [`RATE`].
    pub fn samples(self) -> Vec<f32> {
        let mut noise = Noise(0x9E37_79B9 ^ self as u32);
        match self {
            Effect::Shot => render(0.20, |t| {
                let crack = noise.next() * (-t / 0.025).exp();
                let thump = (TAU * sweep(t, 140.0, 60.0, 0.08)).sin() * (-t / 0.06).exp();
                0.45 * crack + 0.5 * thump
            }),
            Effect::RemoteShot => {
                let mut low = OnePole::new(1800.0);
                render(0.22, |t| {
                    let crack = low.run(noise.next()) * (-t / 0.035).exp();
                    let thump = (TAU * sweep(t, 110.0, 50.0, 0.1)).sin() * (-t / 0.07).exp();
                    0.7 * crack + 0.5 * thump
                })
            }
            Effect::HitMarker => render(0.035, |t| 0.35 * (TAU * 2400.0 * t).sin() * (-t / 0.008).exp()),
            Effect::HitConfirmed => render(0.22, |t| {
                let second = if t >= 0.06 {
                    (TAU * 1760.0 * t).sin() * (-(t - 0.06) / 0.06).exp()
                } else {
                    0.0
                };
                let first = (TAU * 1320.0 * t).sin() * (-t / 0.04).exp();
                0.5 * (first + second)
            }),
            Effect::HitDenied => render(0.16, |t| {
                let square = (TAU * 150.0 * t).sin().signum() * 0.3 + (TAU * 75.0 * t).sin() * 0.4;
                square * (-t / 0.05).exp() * 0.8
            }),
            Effect::Hurt => {
                let mut low = OnePole::new(900.0);
                render(0.25, |t| {
                    let body = (TAU * sweep(t, 180.0, 70.0, 0.2)).sin() * (-t / 0.09).exp();
                    0.6 * body + 0.4 * low.run(noise.next()) * (-t / 0.05).exp()
                })
            }
            Effect::Kill => render(0.30, |t| {
                let (note, start) = match t {
                    t if t < 0.08 => (660.0, 0.0),
                    t if t < 0.16 => (880.0, 0.08),
                    _ => (1320.0, 0.16),
                };
                0.45 * (TAU * note * t).sin() * (-(t - start) / 0.07).exp()
            }),
            Effect::Death => render(0.70, |t| {
                let tone = (TAU * sweep(t, 420.0, 70.0, 0.7)).sin();
                0.5 * tone * (1.0 - t / 0.7).max(0.0)
            }),
            Effect::Respawn => render(0.40, |t| {
                let tone = (TAU * sweep(t, 300.0, 900.0, 0.4)).sin();
                0.35 * tone * (t / 0.05).min(1.0) * (1.0 - t / 0.4).max(0.0)
            }),
            Effect::Footstep => {
                let mut low = OnePole::new(600.0);
                render(0.06, |t| 0.9 * low.run(noise.next()) * (-t / 0.015).exp())
            }
            Effect::Click => render(0.02, |t| 0.3 * (TAU * 1000.0 * t).sin() * (1.0 - t / 0.02)),
        }
    }
}

/// Stereo frames of `mono` with constant-power panning, `pan` -1 (left) ..= 1 (right).
pub fn pan(mono: &[f32], pan: f32) -> Vec<[f32; 2]> {
    let angle = (pan.clamp(-1.0, 1.0) + 1.0) * FRAC_PI_4;
    let (l, r) = (angle.cos(), angle.sin());
    mono.iter().map(|s| [s * l, s * r]).collect()
}

/// `seconds` of samples from `f(t)`, with a 2 ms fade at the end so no effect ends in a click.
fn render(seconds: f32, mut f: impl FnMut(f32) -> f32) -> Vec<f32> {
    let n = (seconds * RATE as f32) as usize;
    let fade = (0.002 * RATE as f32) as usize;
    (0..n)
        .map(|i| {
            let tail = ((n - i) as f32 / fade as f32).min(1.0);
            f(i as f32 / RATE as f32) * tail
        })
        .collect()
}

/// Phase (in cycles) at time `t` of an exponential sweep from `f0` to `f1` Hz over `len` seconds.
fn sweep(t: f32, f0: f32, f1: f32, len: f32) -> f32 {
    let k = (f1 / f0).ln() / len;
    let t = t.min(len);
    f0 * ((k * t).exp() - 1.0) / k
}

/// White noise -1..1 from a xorshift generator (deterministic: the same bank every run).
struct Noise(u32);

impl Noise {
    fn next(&mut self) -> f32 {
        let mut x = self.0.max(1);
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        (x as f32 / u32::MAX as f32) * 2.0 - 1.0
    }
}

/// A one-pole low-pass filter (softens noise into thuds and distant shots).
struct OnePole {
    a: f32,
    y: f32,
}

impl OnePole {
    fn new(cutoff_hz: f32) -> OnePole {
        OnePole {
            a: 1.0 - (-TAU * cutoff_hz / RATE as f32).exp(),
            y: 0.0,
        }
    }

    fn run(&mut self, x: f32) -> f32 {
        self.y += self.a * (x - self.y);
        self.y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rms(s: &[f32]) -> f32 {
        (s.iter().map(|x| x * x).sum::<f32>() / s.len().max(1) as f32).sqrt()
    }

    #[test]
    fn every_effect_is_short_audible_and_within_range() {
        for e in Effect::ALL {
            let s = e.samples();
            let secs = s.len() as f32 / RATE as f32;
            assert!((0.015..=0.8).contains(&secs), "{e:?} lasts {secs} s");
            assert!(rms(&s) > 0.01, "{e:?} is silent");
            assert!(s.iter().all(|x| x.abs() <= 1.0), "{e:?} clips");
            assert!(s.last().is_some_and(|x| x.abs() < 0.05), "{e:?} ends abruptly");
            assert_eq!(s, e.samples(), "{e:?} is deterministic");
        }
    }

    #[test]
    fn confirmed_hit_differs_from_the_predicted_marker_and_the_denial() {
        let marker = Effect::HitMarker.samples();
        let confirmed = Effect::HitConfirmed.samples();
        let denied = Effect::HitDenied.samples();
        assert!(
            confirmed.len() > 4 * marker.len(),
            "the ding is much longer than the tick"
        );
        // Zero crossings per second: the ding is high, the denial low.
        let zc = |s: &[f32]| {
            s.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count() as f32
                / (s.len() as f32 / RATE as f32)
        };
        assert!(zc(&confirmed) > 2000.0, "ding pitch {}", zc(&confirmed));
        assert!(zc(&denied) < 600.0, "denial pitch {}", zc(&denied));
    }

    #[test]
    fn panning_keeps_power_and_moves_the_sound() {
        let mono = Effect::Footstep.samples();
        let energy = |f: &[[f32; 2]], ch: usize| f.iter().map(|x| x[ch] * x[ch]).sum::<f32>();
        let left = pan(&mono, -1.0);
        assert!(energy(&left, 1) < 1e-6 && energy(&left, 0) > 0.0);
        let right = pan(&mono, 1.0);
        assert!(energy(&right, 0) < 1e-6 && energy(&right, 1) > 0.0);
        let centre = pan(&mono, 0.0);
        let total = energy(&centre, 0) + energy(&centre, 1);
        assert!((total - energy(&left, 0)).abs() / total < 1e-3, "constant power");
    }
}
