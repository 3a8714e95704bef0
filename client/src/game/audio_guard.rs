//! Knowing whether sound works. With its `audio` feature, macroquad starts quad-snd's ALSA thread
//! when the window opens, and that thread `panic!`s when there is no device ("Can't open PCM
//! device." on a headless machine or in CI). The panic stays in that thread, but it would print a
//! panic message and later calls would talk to a dead mixer. So before the window opens we chain a
//! panic hook that recognises panics raised in quad-snd's code on a thread other than ours,
//! records the reason instead of printing it, and leaves every other panic to the previous hook.
//! The window then plays nothing and logs one line (see `audio`).
//!
//! This needs no unsafe code (the workspace forbids it) and no second ALSA binding (quad-snd's
//! `quad-alsa-sys` owns the `links = "alsa"` key, so the `alsa` crate cannot be added).

use std::sync::{Once, OnceLock};

static HOOK: Once = Once::new();
static FAILURE: OnceLock<String> = OnceLock::new();

/// Source path fragment of the crate whose panics mean "no sound".
const AUDIO_CRATE: &str = "quad-snd";

/// Installs the hook (once per process; later calls do nothing). Call before the window opens.
pub fn install() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_audio = info.location().is_some_and(|l| is_audio_source(l.file()));
            if in_audio && std::thread::current().name() != Some("main") {
                let _ = FAILURE.set(reason(info.payload()));
                return;
            }
            previous(info);
        }));
    });
}

/// Why the audio thread died, once it has.
pub fn failure() -> Option<&'static str> {
    FAILURE.get().map(String::as_str)
}

/// Whether a panic location is in the audio backend's sources.
fn is_audio_source(file: &str) -> bool {
    file.contains(AUDIO_CRATE)
}

/// A panic payload as text.
fn reason(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the audio thread stopped".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_backend_and_reads_payloads() {
        assert!(is_audio_source(
            "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/quad-snd-0.2.8/src/alsa_snd.rs"
        ));
        assert!(!is_audio_source("client/src/game/mod.rs"));
        let s: Box<dyn std::any::Any + Send> = Box::new("Can't open PCM device.");
        assert_eq!(reason(s.as_ref()), "Can't open PCM device.");
        let s: Box<dyn std::any::Any + Send> = Box::new(String::from("cannot set start mode"));
        assert_eq!(reason(s.as_ref()), "cannot set start mode");
        let s: Box<dyn std::any::Any + Send> = Box::new(7u8);
        assert_eq!(reason(s.as_ref()), "the audio thread stopped");
    }
}
