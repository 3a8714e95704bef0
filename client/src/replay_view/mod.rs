//! `rewind replay FILE`: the replay viewer. It loads and checks a recording before any window
//! opens (a damaged file is a clear error, a truncated one plays up to its last complete chunk
//! with a visible note), then shows it in the game window through the same renderer as the live
//! game: play/pause, seek (arrows, clickable timeline), speed 0.25x-8x, follow a player or a free
//! camera, the kill feed and scoreboard as they were, tracers and lag-compensated hits.
//!
//! `playback` is the window-free clock and state (seek = nearest keyframe + re-simulation),
//! `scene` turns it into a `GameView`, `timeline` is the bar's geometry and drawing, `viewer` the
//! window source with the controls.

pub mod clip;
pub mod kills;
pub mod playback;
pub mod scene;
pub mod timeline;
pub mod viewer;

use crate::game::{WindowError, WindowOptions, run_window};
use rewind_shared::replay::{Replay, ReplayError};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest recording the viewer loads into memory (a 30-minute 64-player match is far smaller).
pub const MAX_REPLAY_BYTES: u64 = 1 << 30;

/// Why a recording cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum ReplayViewError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// Which file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The file is larger than `MAX_REPLAY_BYTES`.
    #[error("{path} is {size} bytes, more than the viewer's limit of {limit}")]
    TooLarge {
        /// Which file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The file is not a readable recording (bad magic or version, corrupt chunk, broken chain).
    #[error("{path} is not a playable recording: {source}")]
    Replay {
        /// Which file.
        path: PathBuf,
        /// What the parser found.
        source: ReplayError,
    },
    /// The recording holds no ticks at all.
    #[error("{0} holds no recorded ticks (the recorder stopped before the first chunk)")]
    Empty(PathBuf),
    /// `--kill N` names no kill of the recording, or its shot cannot be rebuilt.
    #[error("{0}")]
    Kill(String),
    /// The window failed.
    #[error(transparent)]
    Window(#[from] WindowError),
}

/// Reads and parses a recording for viewing: damaged files are errors, a truncated one is
/// accepted (see `Replay::truncation`), an empty one is an error.
pub fn load(path: &Path) -> Result<Replay, ReplayViewError> {
    let io = |source| ReplayViewError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size > MAX_REPLAY_BYTES {
        return Err(ReplayViewError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit: MAX_REPLAY_BYTES,
        });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // `take` keeps a file that grows while being read within the limit.
    file.take(MAX_REPLAY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_REPLAY_BYTES {
        return Err(ReplayViewError::TooLarge {
            path: path.to_path_buf(),
            size: bytes.len() as u64,
            limit: MAX_REPLAY_BYTES,
        });
    }
    let replay = Replay::from_bytes(&bytes).map_err(|source| ReplayViewError::Replay {
        path: path.to_path_buf(),
        source,
    })?;
    if replay.records().is_empty() {
        return Err(ReplayViewError::Empty(path.to_path_buf()));
    }
    if let Some(t) = replay.truncation() {
        tracing::warn!(file = %path.display(), "recording is truncated, playing up to its last complete chunk: {t}");
    }
    Ok(replay)
}

/// Opens the replay window on `path` and blocks until it closes (or the screenshot is saved).
/// Call on the main thread. The file is fully checked before the window opens.
pub fn run_replay_viewer(
    path: &Path,
    mut opts: WindowOptions,
    kill: Option<(usize, bool)>,
) -> Result<(), ReplayViewError> {
    let mut source = open(path)?;
    if let Some((n, eye)) = kill {
        source.start_at_kill(n, eye).map_err(ReplayViewError::Kill)?;
    }
    if opts.title == WindowOptions::default().title {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        opts.title = format!("Rewind replay: {name}");
    }
    run_window(opts, source)?;
    Ok(())
}

/// Loads `path` (see `load`) into a viewer at the start of the match, for callers that want to
/// position it (seek, follow) before handing it to `game::run_window`.
pub fn open(path: &Path) -> Result<viewer::Viewer, ReplayViewError> {
    let replay = load(path)?;
    // The window's source must be 'static and the replay is needed until the process ends, so
    // it is leaked on purpose: one allocation per viewer, freed by the OS at exit.
    let replay: &'static Replay = Box::leak(Box::new(replay));
    let (tx, rx) = std::sync::mpsc::channel();
    // Kill marks for the timeline need the whole match re-simulated; do it off the window thread.
    let spawned = std::thread::Builder::new()
        .name("replay-scan".into())
        .spawn(move || {
            let _ = tx.send(viewer::scan(replay));
        });
    if let Err(e) = &spawned {
        tracing::warn!("no timeline kill marks: cannot start the scan thread: {e}");
    }
    Ok(viewer::Viewer::new(replay, spawned.is_ok().then_some(rx)))
}
