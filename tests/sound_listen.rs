//! The test that listens (issue 19). The real game window runs under Xvfb with ALSA's default
//! device pointed at a FIFO (an `.asoundrc` in a scratch `HOME`: the `file` plugin over the
//! `null` device, raw samples). The test reads the FIFO at exactly the real-time byte rate, so
//! the game's mixer is paced as a sound card would pace it, and keeps every sample. The game
//! fires three scripted shots (`--fire-at`) alone on the map (`--ai 0`: nobody else to shoot,
//! walk or be hit), then the recording is decoded here: there must be exactly three loud moments,
//! spaced as the shots were, each as short and as loud as one shot, and digital silence
//! everywhere else.
//! Skipped (with the reason printed) when Xvfb is not installed; `.ci/run` installs it.
//! Built only with the `sound` feature (the default).

#![cfg(feature = "sound")]

mod xvfb;

use rewind_client::game::audio::base_gain;
use rewind_client::sound::settings::SoundSettings;
use rewind_client::sound::synth::{self, Effect};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use xvfb::{run_under_xvfb_env, skip_reason};

/// What quad-snd asks ALSA for: 44.1 kHz, two channels, 32-bit float little-endian.
const RATE: f64 = 44_100.0;
const BYTES_PER_FRAME: usize = 8;
/// Scripted shot times after the match starts, unevenly spaced so a shifted match cannot fit.
const SHOTS_S: [f64; 3] = [1.0, 2.2, 3.9];
/// Analysis window.
const WINDOW_S: f64 = 0.01;
/// A window this loud (RMS) is a sound.
const LOUD: f64 = 0.02;
/// Outside the shots, every window must be below this (the mixer writes exact zeros when idle).
const SILENT: f64 = 1e-4;
/// Onset spacing may differ from the script by this much: the mixer starts sounds at its
/// 4096-frame (93 ms) buffer boundaries, plus a frame (slow under software GL) and a tick.
const SPACING_TOLERANCE_S: f64 = 0.2;
/// Length of the shot effect (`Effect::Shot`): its quiet tail, below `LOUD`, lasts until then.
const SHOT_SOUND_S: f64 = 0.2;
/// A shot effect is 0.2 s; a loud moment longer than this is something else.
const MAX_SHOT_S: f64 = 0.35;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rewind-sound-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn on_path(bin: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
}

/// The loudest `WINDOW_S` (RMS over both channels, any alignment) of one shot effect as the game
/// plays it: the synthesized samples, the shot's gain, the default volume, centred.
fn expected_shot_peak() -> f64 {
    let gain = f64::from(base_gain(Effect::Shot, true) * SoundSettings::default().effects_gain());
    let frames = synth::pan(&Effect::Shot.samples(), 0.0);
    let energy: Vec<f64> = frames
        .iter()
        .map(|[l, r]| (f64::from(*l) * gain).powi(2) + (f64::from(*r) * gain).powi(2))
        .collect();
    let n = (WINDOW_S * RATE) as usize;
    let mut sum: f64 = energy.iter().take(n).sum();
    let mut best = sum;
    for i in n..energy.len() {
        sum += energy[i] - energy[i - n];
        best = best.max(sum);
    }
    (best / (2 * n) as f64).sqrt()
}

/// Reads the FIFO until every writer has closed it, never faster than real time.
fn paced_reader(fifo: PathBuf) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let Ok(mut f) = std::fs::File::open(&fifo) else {
            return out;
        };
        let start = Instant::now();
        let rate = RATE * BYTES_PER_FRAME as f64;
        let mut buf = [0u8; 4096];
        loop {
            match f.read(&mut buf) {
                Ok(0) | Err(_) => return out,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
            let ahead = out.len() as f64 / rate - start.elapsed().as_secs_f64();
            if ahead > 0.0 {
                std::thread::sleep(Duration::from_secs_f64(ahead));
            }
        }
    })
}

/// RMS of each `WINDOW_S` of interleaved stereo f32 samples.
fn window_rms(raw: &[u8]) -> Vec<f64> {
    let samples: Vec<f64> = raw
        .chunks_exact(4)
        .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        .collect();
    let per_window = (WINDOW_S * RATE) as usize * 2;
    samples
        .chunks(per_window)
        .map(|w| (w.iter().map(|s| s * s).sum::<f64>() / w.len() as f64).sqrt())
        .collect()
}

/// Loud moments as (start, end) window indices; gaps under 0.2 s join one moment.
fn loud_moments(rms: &[f64]) -> Vec<(usize, usize)> {
    let gap = (0.2 / WINDOW_S) as usize;
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (i, _) in rms.iter().enumerate().filter(|(_, r)| **r > LOUD) {
        match out.last_mut() {
            Some((_, end)) if i - *end <= gap => *end = i,
            _ => out.push((i, i)),
        }
    }
    out
}

fn write_asoundrc(home: &Path, fifo: &Path) {
    let conf = format!(
        "pcm.!default {{\n  type file\n  slave.pcm \"null\"\n  file \"{}\"\n  format \"raw\"\n}}\n",
        fifo.display()
    );
    std::fs::write(home.join(".asoundrc"), conf).expect("write .asoundrc");
}

#[test]
fn shots_are_heard_when_fired_and_silence_elsewhere() {
    if let Some(why) = skip_reason() {
        eprintln!("sound_listen skipped: {why}");
        return;
    }
    if !on_path("mkfifo") {
        eprintln!("sound_listen skipped: mkfifo is not on PATH");
        return;
    }
    let dir = scratch("listen");
    let fifo = dir.join("audio.raw");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success(), "mkfifo failed");
    write_asoundrc(&dir, &fifo);
    let reader = paced_reader(fifo.clone());

    let png = dir.join("listen.png");
    let png_arg = png.to_string_lossy().into_owned();
    let fire_at = SHOTS_S.map(|s| format!("{s}s")).join(",");
    let (ok, err) = run_under_xvfb_env(
        &[
            "play",
            "--ai",
            "0",
            "--fire-at",
            &fire_at,
            "--screenshot",
            &png_arg,
            "--screenshot-after",
            "6.5s",
        ],
        &[("HOME", &dir)],
    );
    // If the game never opened the device, the reader still waits in open(): a read-write open
    // of the FIFO never blocks and, closed at once, lets the reader see the end.
    drop(std::fs::OpenOptions::new().read(true).write(true).open(&fifo));
    let raw = reader.join().expect("reader thread");
    assert!(ok, "rewind play with the file-backed device failed:\n{err}");
    assert!(!err.contains("panicked"), "a panic was printed:\n{err}");
    assert!(
        !err.contains("no audio device"),
        "the FIFO device was not used:\n{err}"
    );

    let secs = raw.len() as f64 / (RATE * BYTES_PER_FRAME as f64);
    let rms = window_rms(&raw);
    let moments = loud_moments(&rms);
    let at = |i: usize| i as f64 * WINDOW_S;
    let described: Vec<String> = moments
        .iter()
        .map(|(a, b)| {
            format!(
                "{:.2}-{:.2} s (peak rms {:.3})",
                at(*a),
                at(*b + 1),
                rms[*a..=*b].iter().cloned().fold(0.0, f64::max)
            )
        })
        .collect();
    eprintln!("recorded {secs:.2} s of audio; loud moments: {described:?}");
    assert!(secs > SHOTS_S[2] + 1.0, "only {secs:.2} s of audio were written");
    assert_eq!(
        moments.len(),
        SHOTS_S.len(),
        "one loud moment per scripted shot expected: {described:?}"
    );
    let one_shot = expected_shot_peak();
    eprintln!("one shot at the default volume peaks at rms {one_shot:.3}");
    for (i, (a, b)) in moments.iter().enumerate() {
        let len = at(*b + 1) - at(*a);
        assert!(len <= MAX_SHOT_S, "moment {i} lasts {len:.2} s: {described:?}");
        // As loud as one shot at the default volume: not silent-ish, and not two shots at once.
        let peak = rms[*a..=*b].iter().cloned().fold(0.0, f64::max);
        assert!(
            (0.6 * one_shot..=1.25 * one_shot).contains(&peak),
            "moment {i} peaks at rms {peak:.3}; one shot is {one_shot:.3}"
        );
    }
    let onsets: Vec<f64> = moments.iter().map(|(a, _)| at(*a)).collect();
    for i in 1..onsets.len() {
        let heard = onsets[i] - onsets[i - 1];
        let fired = SHOTS_S[i] - SHOTS_S[i - 1];
        eprintln!(
            "shots {} -> {}: fired {fired:.2} s apart, heard {heard:.2} s apart",
            i - 1,
            i
        );
        assert!(
            (heard - fired).abs() <= SPACING_TOLERANCE_S,
            "shots {} and {i} were fired {fired:.2} s apart but heard {heard:.2} s apart",
            i - 1
        );
    }
    // Before the first shot the window opened and the match started: that must be silent.
    assert!(
        onsets[0] >= 0.5,
        "the first sound comes {:.2} s into the recording",
        onsets[0]
    );
    // From a window before each onset to a window after the effect's end may sound.
    let shot_windows = (SHOT_SOUND_S / WINDOW_S).ceil() as usize + 1;
    let noisy: Vec<f64> = rms
        .iter()
        .enumerate()
        .filter(|(i, r)| {
            **r >= SILENT
                && !moments
                    .iter()
                    .any(|(a, _)| (a.saturating_sub(1)..=a + shot_windows).contains(i))
        })
        .map(|(i, _)| at(i))
        .collect();
    assert!(noisy.is_empty(), "sound outside the shots at {noisy:?} s");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
