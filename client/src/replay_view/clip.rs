//! Clips: a stretch of a recording drawn frame by frame by the game's renderer (in the window,
//! which Xvfb provides on a headless machine), read back after each frame and encoded into an
//! animated GIF with the `gif` crate. `rewind replay FILE --clip 10s..16s --out clip.gif
//! [--follow NAME | --kill N]` runs one as the window's only source; the viewer's G key exports
//! the current kill the same way.

use super::playback::Playback;
use super::scene;
use crate::game::ViewSource;
use crate::game::render::Renderer;
use crate::view::{ControlInput, GameView};
use macroquad::camera::Camera2D;
use macroquad::texture::get_screen_data;
use macroquad::window::{screen_height, screen_width};
use rewind_shared::Vec2;
use rewind_shared::killcam::KillMoment;
use rewind_shared::map::Map;
use rewind_shared::player::PlayerId;
use rewind_shared::replay::Replay;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Longest clip, in seconds (a GIF of minutes is not a clip, and the encoder is slow).
pub const MAX_CLIP_S: f64 = 120.0;
/// A kill's clip: this long before the kill, and `KILL_AFTER_S` after it.
pub const KILL_BEFORE_S: f64 = 3.0;
/// See `KILL_BEFORE_S`.
pub const KILL_AFTER_S: f64 = 1.0;
/// NeuQuant speed of the GIF palette (1 best .. 30 fastest; 10 is the crate's suggestion).
const QUANT_SPEED: i32 = 10;

/// Why a clip could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ClipError {
    /// The range is empty, reversed, too long or outside the recording.
    #[error("bad clip range: {0}")]
    Range(String),
    /// `--follow NAME` names nobody in the recording.
    #[error("no player named {0:?} in the recording")]
    NoSuchPlayer(String),
    /// The GIF file could not be written.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// Which file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The recording could not be played at the clip's start.
    #[error("cannot seek: {0}")]
    Seek(String),
    /// The window closed before the last frame.
    #[error("the window closed before the clip's {total} frames were written")]
    Interrupted {
        /// Frames wanted.
        total: u32,
    },
}

/// What to render.
#[derive(Clone, Debug, PartialEq)]
pub struct ClipSpec {
    /// Start, in seconds from the start of the recording.
    pub from_s: f64,
    /// End, in seconds from the start of the recording.
    pub to_s: f64,
    /// Frames per second of the GIF.
    pub fps: u32,
    /// Width of the GIF in pixels (the height follows the window's aspect).
    pub width: u16,
    /// The player the camera follows; `None`: the whole map.
    pub follow: Option<PlayerId>,
}

impl ClipSpec {
    /// The clip of a kill: `KILL_BEFORE_S` before it to `KILL_AFTER_S` after, following the
    /// killer, clamped to the recording.
    pub fn for_kill(replay: &Replay, kill: KillMoment, fps: u32, width: u16) -> ClipSpec {
        let rate = f64::from(replay.header().cfg.tick_rate.max(1));
        let at = f64::from(kill.tick.diff(replay.first_tick()).max(0)) / rate;
        ClipSpec {
            from_s: (at - KILL_BEFORE_S).max(0.0),
            to_s: (at + KILL_AFTER_S).min(replay.duration_s()),
            fps,
            width,
            follow: Some(kill.killer),
        }
    }

    /// Frames the clip has: `ceil((to − from) × fps)`.
    pub fn frames(&self) -> u32 {
        ((self.to_s - self.from_s) * f64::from(self.fps)).ceil().max(0.0) as u32
    }

    /// Checks the range against the recording and the limits.
    pub fn check(&self, replay: &Replay) -> Result<(), ClipError> {
        let len = replay.duration_s();
        if !(self.from_s.is_finite() && self.to_s.is_finite()) || self.from_s < 0.0 {
            return Err(ClipError::Range("times must be finite and not negative".into()));
        }
        if self.to_s <= self.from_s {
            return Err(ClipError::Range(format!(
                "{:.2} s .. {:.2} s is empty",
                self.from_s, self.to_s
            )));
        }
        if self.to_s > len + 1e-6 {
            return Err(ClipError::Range(format!("the recording is only {len:.2} s long")));
        }
        if self.to_s - self.from_s > MAX_CLIP_S {
            return Err(ClipError::Range(format!("longer than {MAX_CLIP_S} s")));
        }
        if !(1..=50).contains(&self.fps) || !(16..=1920).contains(&self.width) {
            return Err(ClipError::Range(
                "fps must be 1 to 50 and width 16 to 1920".into(),
            ));
        }
        Ok(())
    }
}

/// Finds a player by display name in the recording.
pub fn player_named(pb: &Playback<'_>, name: &str) -> Result<PlayerId, ClipError> {
    pb.all_names()
        .find(|(_, n)| n.as_str() == name)
        .map(|(id, _)| id)
        .ok_or_else(|| ClipError::NoSuchPlayer(name.to_string()))
}

/// Scales an RGBA frame in OpenGL row order (bottom row first) to `dw × dh`, top row first,
/// averaging the source pixels each destination pixel covers; alpha is made opaque.
pub fn downscale(src: &[u8], sw: usize, sh: usize, dw: usize, dh: usize) -> Vec<u8> {
    let mut out = vec![0u8; dw * dh * 4];
    if sw == 0 || sh == 0 || src.len() < sw * sh * 4 {
        return out;
    }
    for y in 0..dh {
        let (y0, y1) = (y * sh / dh, ((y + 1) * sh / dh).max(y * sh / dh + 1).min(sh));
        for x in 0..dw {
            let (x0, x1) = (x * sw / dw, ((x + 1) * sw / dw).max(x * sw / dw + 1).min(sw));
            let mut sum = [0u32; 3];
            let mut n = 0u32;
            for sy in y0..y1 {
                // Bottom-up source: screen row `sy` is memory row `sh - 1 - sy`.
                let row = (sh - 1 - sy) * sw;
                for sx in x0..x1 {
                    let p = &src[(row + sx) * 4..(row + sx) * 4 + 3];
                    for (s, v) in sum.iter_mut().zip(p) {
                        *s += u32::from(*v);
                    }
                    n += 1;
                }
            }
            let o = (y * dw + x) * 4;
            for (d, s) in out[o..o + 3].iter_mut().zip(sum) {
                *d = (s / n.max(1)) as u8;
            }
            out[o + 3] = 255;
        }
    }
    out
}

/// An animated GIF being written.
struct GifSink {
    encoder: gif::Encoder<BufWriter<File>>,
    path: PathBuf,
    width: u16,
    height: u16,
    delay_cs: u16,
}

impl GifSink {
    fn create(path: &Path, width: u16, height: u16, fps: u32) -> Result<GifSink, ClipError> {
        let err = |e: &dyn std::fmt::Display| ClipError::Write {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let file = File::create(path).map_err(|e| err(&e))?;
        let mut encoder = gif::Encoder::new(BufWriter::new(file), width, height, &[]).map_err(|e| err(&e))?;
        encoder.set_repeat(gif::Repeat::Infinite).map_err(|e| err(&e))?;
        Ok(GifSink {
            encoder,
            path: path.to_path_buf(),
            width,
            height,
            // GIF delays are in 1/100 s.
            delay_cs: (100 / fps.max(1)).max(1) as u16,
        })
    }

    /// Reads the window's frame back, scales it and appends it.
    fn push_screen(&mut self) -> Result<(), ClipError> {
        let screen = get_screen_data();
        let mut rgba = downscale(
            &screen.bytes,
            usize::from(screen.width),
            usize::from(screen.height),
            usize::from(self.width),
            usize::from(self.height),
        );
        let mut frame = gif::Frame::from_rgba_speed(self.width, self.height, &mut rgba, QUANT_SPEED);
        frame.delay = self.delay_cs;
        self.encoder.write_frame(&frame).map_err(|e| ClipError::Write {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }

    fn finish(self) -> Result<(), ClipError> {
        let path = self.path.clone();
        let mut w = self.encoder.into_inner().map_err(|e| ClipError::Write {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        w.flush().map_err(|e| ClipError::Write {
            path,
            reason: e.to_string(),
        })
    }
}

/// A clip in the making: its own playback, stepped exactly one GIF frame per window frame.
pub struct ClipExport {
    pb: Playback<'static>,
    map: Arc<Map>,
    spec: ClipSpec,
    out: PathBuf,
    total: u32,
    done: u32,
    sink: Option<GifSink>,
    /// Set once the last frame is written (or writing failed).
    result: Option<Result<(), String>>,
    focus: Vec2,
}

impl ClipExport {
    /// A clip of `replay` per `spec` into `out` (checked here; the file is created on the first
    /// frame, when the window's size is known).
    pub fn new(replay: &'static Replay, spec: ClipSpec, out: PathBuf) -> Result<ClipExport, ClipError> {
        spec.check(replay)?;
        let mut pb = Playback::new(replay);
        let rate = f64::from(replay.header().cfg.tick_rate.max(1));
        pb.seek_ticks(spec.from_s * rate)
            .map_err(|e| ClipError::Seek(e.to_string()))?;
        pb.set_paused(false);
        let map = Arc::new(replay.map().clone());
        let focus = map.size() / 2.0;
        Ok(ClipExport {
            pb,
            map,
            total: spec.frames(),
            spec,
            out,
            done: 0,
            sink: None,
            result: None,
            focus,
        })
    }

    /// What to draw for the next frame.
    pub fn scene(&mut self) -> GameView {
        let view = scene::build(&self.pb, &self.map, self.spec.follow);
        if let Some(p) = self
            .spec
            .follow
            .and_then(|id| view.players.iter().find(|p| p.id == id))
        {
            self.focus = p.pos;
        }
        view
    }

    /// Where the camera looks: the followed player, else the map's centre.
    pub fn focus(&self) -> Vec2 {
        self.focus
    }

    /// The zoom: 1 when following, else the whole map.
    pub fn zoom(&self) -> f32 {
        if self.spec.follow.is_some() {
            return 1.0;
        }
        let size = self.map.size() * Renderer::ppu();
        (screen_width() / size.x.max(1.0))
            .min(screen_height() / size.y.max(1.0))
            .clamp(0.1, 1.0)
    }

    /// Frames written and wanted.
    pub fn progress(&self) -> (u32, u32) {
        (self.done, self.total)
    }

    /// Call after the frame is drawn: appends it and steps the playback one GIF frame. Returns
    /// true once the clip is complete (or failed: see `result`).
    pub fn capture(&mut self) -> bool {
        if self.result.is_some() {
            return true;
        }
        if let Err(e) = self.capture_frame() {
            self.result = Some(Err(e.to_string()));
            return true;
        }
        self.done += 1;
        eprint!("\rclip: frame {}/{} ", self.done, self.total);
        if self.done >= self.total {
            eprintln!();
            self.result = Some(
                self.sink
                    .take()
                    .map_or(Ok(()), GifSink::finish)
                    .map_err(|e| e.to_string()),
            );
            return true;
        }
        self.pb.advance(1.0 / f64::from(self.spec.fps));
        false
    }

    fn capture_frame(&mut self) -> Result<(), ClipError> {
        if self.sink.is_none() {
            let (w, h) = (screen_width().max(1.0), screen_height().max(1.0));
            let width = self.spec.width;
            let height = ((f32::from(width) * h / w).round() as u16).max(1);
            self.sink = Some(GifSink::create(&self.out, width, height, self.spec.fps)?);
        }
        match self.sink.as_mut() {
            Some(s) => s.push_screen(),
            None => Ok(()),
        }
    }

    /// How it ended, once it has.
    pub fn result(&self) -> Option<&Result<(), String>> {
        self.result.as_ref()
    }

    /// The file being written.
    pub fn out(&self) -> &Path {
        &self.out
    }
}

/// Where a `ClipSource` leaves its outcome for the caller (set once the clip ends).
pub type ClipOutcome = Arc<Mutex<Option<Result<(), ClipError>>>>;

/// A clip as the window's only source (`rewind replay FILE --clip A..B --out F.gif`): the
/// outcome is left in `outcome` for the caller once the window closes.
pub struct ClipSource {
    export: ClipExport,
    outcome: ClipOutcome,
}

impl ClipSource {
    /// The source, and where its outcome will be.
    pub fn new(export: ClipExport) -> (ClipSource, ClipOutcome) {
        let outcome = Arc::new(Mutex::new(None));
        (
            ClipSource {
                export,
                outcome: Arc::clone(&outcome),
            },
            outcome,
        )
    }
}

impl ViewSource for ClipSource {
    fn frame(&mut self, _input: ControlInput) -> GameView {
        self.export.scene()
    }

    fn spectator(&self) -> bool {
        true
    }

    fn sound_on(&self) -> bool {
        false
    }

    fn camera_focus(&self) -> Option<Vec2> {
        Some(self.export.focus())
    }

    fn camera_zoom(&self) -> Option<f32> {
        Some(self.export.zoom())
    }

    fn overlay(&mut self, _camera: &Camera2D) {
        if self.export.capture() {
            let r = match self.export.result() {
                Some(Ok(())) => Ok(()),
                Some(Err(e)) => Err(ClipError::Write {
                    path: self.export.out().to_path_buf(),
                    reason: e.clone(),
                }),
                None => Ok(()),
            };
            if let Ok(mut o) = self.outcome.lock() {
                *o = Some(r);
            }
        }
    }

    fn finished(&self) -> bool {
        self.export.result().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downscale_averages_and_turns_rows_upright() {
        // 4x2, bottom-up: the bottom row red, the top row blue.
        let mut src = Vec::new();
        for _ in 0..4 {
            src.extend_from_slice(&[200, 0, 0, 7]);
        }
        for _ in 0..4 {
            src.extend_from_slice(&[0, 0, 100, 7]);
        }
        let out = downscale(&src, 4, 2, 2, 2);
        assert_eq!(&out[0..4], &[0, 0, 100, 255], "top row first");
        assert_eq!(&out[8..12], &[200, 0, 0, 255]);
        let one = downscale(&src, 4, 2, 1, 1);
        assert_eq!(&one, &[100, 0, 50, 255]);
    }
}
