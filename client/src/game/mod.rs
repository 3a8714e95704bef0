//! The macroquad game window. It owns no game logic: each frame it turns keyboard and mouse into a
//! `ControlInput`, hands it to a [`ViewSource`] (the client core's session, a replay, a demo) and
//! draws the `GameView` it gets back. See `render` for the drawing, `input` for the controls,
//! `audio` for the sound effects (derived from the same views by `crate::sound::cues`).
//!
//! `run_window` must be called on the main thread and blocks until the window closes (or the
//! screenshot is saved). On Linux, miniquad's event loop returns once the game loop ends, so the
//! function returns normally and the caller can close its session; no `process::exit` is needed.

pub mod audio;
mod audio_guard;
pub mod debug;
pub mod effects;
pub mod hud;
pub mod input;
pub mod killcam;
pub mod link;
pub mod match_ui;
pub mod menu;
pub mod netgraph;
pub mod palette;
pub mod render;
pub mod screens;
pub mod screenshot;
mod session_source;
pub mod text;
pub mod world;

use crate::sound::settings::SoundSettings;
use crate::view::{ControlInput, GameView, KillcamStage};
use macroquad::camera::Camera2D;
use macroquad::window::next_frame;
use rewind_shared::Vec2;
use rewind_shared::conditioner::LinkConfig;
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

/// How to open the window.
#[derive(Clone, Debug)]
pub struct WindowOptions {
    /// Window title.
    pub title: String,
    /// Initial size in pixels (the window is resizable).
    pub width: i32,
    /// Initial size in pixels.
    pub height: i32,
    /// Save what the window shows to this PNG, then close (`--screenshot`).
    pub screenshot: Option<PathBuf>,
    /// When to take the screenshot, from the first frame (`--screenshot-after`).
    pub screenshot_after: Duration,
    /// Start with the net graph (F3) open.
    pub net_graph: bool,
    /// Start with the lag-compensation debug view (F4) open.
    pub debug_view: bool,
    /// Start with the scoreboard shown as if Tab were held (screenshots of it).
    pub scoreboard: bool,
    /// Multisampling (smooth circles); off for software GL if it misbehaves.
    pub msaa: bool,
    /// Sound settings to start with (`--volume`, `--effects-volume`, `--mute`).
    pub sound: SoundSettings,
    /// Pull the trigger for one frame at each of these times after the match starts
    /// (`--fire-at`): scripted shots at known times for the listening test and for demos.
    pub fire_at: Vec<Duration>,
    /// Show the killcam after a death (`--no-killcam` turns it off; Space skips one).
    pub killcam: bool,
    /// Take the screenshot when a killcam shows the server's view of the kill (not on a timer).
    pub screenshot_killcam: bool,
}

impl Default for WindowOptions {
    fn default() -> Self {
        WindowOptions {
            title: "Rewind".to_string(),
            width: 1280,
            height: 720,
            screenshot: None,
            screenshot_after: Duration::from_secs(3),
            net_graph: false,
            debug_view: false,
            scoreboard: false,
            msaa: true,
            sound: SoundSettings::default(),
            fire_at: Vec::new(),
            killcam: true,
            screenshot_killcam: false,
        }
    }
}

/// Whatever the window shows: the client core's session, a replay, or a demo.
pub trait ViewSource {
    /// Called once per rendered frame with what the player is doing; returns what to draw.
    fn frame(&mut self, input: ControlInput) -> GameView;

    /// Current link-conditioner settings (one-way, applied to each direction), if this source
    /// can change its link live; `None` hides the live controls.
    fn link(&self) -> Option<LinkConfig> {
        None
    }

    /// Applies new link settings (only called when `link` returned `Some`). Settings come from
    /// `link::apply`, so they are always valid.
    fn set_link(&mut self, _cfg: LinkConfig) {}

    /// A spectator source (the replay viewer) reads its own keys and mouse: the window then
    /// samples no player controls (no movement, chat, aim, crosshair or key-help line), shows
    /// the mouse, and Esc closes it. The live game keeps the default `false`.
    fn spectator(&self) -> bool {
        false
    }

    /// Where the camera should look instead of at the local player (a free or follow camera
    /// that is not "us"); `None` follows the local player as the live game does.
    fn camera_focus(&self) -> Option<Vec2> {
        None
    }

    /// Zoom on top of the standard scale (a spectator's overview); `None` keeps the standard.
    fn camera_zoom(&self) -> Option<f32> {
        None
    }

    /// Called after the frame is drawn (before any screenshot), with the camera the world was
    /// drawn with: a spectator draws its own screen-space UI here and maps clicks to the world.
    fn overlay(&mut self, _camera: &Camera2D) {}

    /// Whether the game's sounds should play now: the replay viewer plays them only at normal
    /// speed (a fast-forward would be noise, a slow motion would be out of step).
    fn sound_on(&self) -> bool {
        true
    }

    /// Whether the source is done and the window should close (a clip's last frame is written).
    fn finished(&self) -> bool {
        false
    }

    /// The clock the view's ages are measured on, in seconds, when it is not the window's
    /// (a replay's playback time, which stops when paused); `None` uses the window's clock.
    fn sound_clock(&self) -> Option<f64> {
        None
    }
}

/// Any `FnMut(ControlInput) -> GameView` is a source without live link controls.
impl<F: FnMut(ControlInput) -> GameView> ViewSource for F {
    fn frame(&mut self, input: ControlInput) -> GameView {
        self(input)
    }
}

/// Why the window could not run.
#[derive(Debug, thiserror::Error)]
pub enum WindowError {
    /// No display to open a window on.
    #[error("no display: DISPLAY is not set (run under a desktop session, or `xvfb-run -a` for headless)")]
    NoDisplay,
    /// The windowing backend failed to start (no X server at DISPLAY, no OpenGL).
    #[error("could not open the window (X11/OpenGL unavailable at DISPLAY={0:?})")]
    Backend(String),
    /// The screenshot could not be saved.
    #[error(transparent)]
    Screenshot(#[from] screenshot::ScreenshotError),
    /// `--screenshot-killcam`: no killcam showed the server's view before the deadline.
    #[error("no killcam to take a screenshot of within {0:?} (--screenshot-after)")]
    NoKillcam(Duration),
    /// The window closed before the game loop reported anything.
    #[error("the window closed unexpectedly")]
    Aborted,
}

/// Opens the window and runs the game until the player closes it, presses Esc on the
/// connecting/ended screens, or the screenshot is saved. Blocks; call on the main thread.
pub fn run_window(opts: WindowOptions, source: impl ViewSource + 'static) -> Result<(), WindowError> {
    let conf = conf(&opts);
    open_window(conf, game_loop(opts, source))
}

/// The window configuration `opts` asks for.
fn conf(opts: &WindowOptions) -> macroquad::miniquad::conf::Conf {
    macroquad::miniquad::conf::Conf {
        window_title: opts.title.clone(),
        window_width: opts.width,
        window_height: opts.height,
        window_resizable: true,
        sample_count: if opts.msaa { 4 } else { 1 },
        ..Default::default()
    }
}

/// Opens a window and runs `main` in it (the game loop or the menu); blocks until it ends.
fn open_window(
    conf: macroquad::miniquad::conf::Conf,
    main: impl std::future::Future<Output = Result<(), WindowError>> + 'static,
) -> Result<(), WindowError> {
    let display = std::env::var("DISPLAY").unwrap_or_default();
    if cfg!(target_os = "linux") && display.is_empty() {
        return Err(WindowError::NoDisplay);
    }
    // Before macroquad starts its audio thread: a missing device must not print a panic.
    audio_guard::install();
    let outcome: Rc<RefCell<Option<Result<(), WindowError>>>> = Rc::new(RefCell::new(None));
    let out = Rc::clone(&outcome);
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        macroquad::Window::from_config(conf, async move {
            let result = main.await;
            *out.borrow_mut() = Some(result);
        });
    }));
    if run.is_err() {
        return Err(WindowError::Backend(display));
    }
    // A closed window (title-bar button) ends the event loop without finishing the game loop.
    outcome.borrow_mut().take().unwrap_or(Ok(()))
}

/// The per-frame loop: input, source, draw, overlays, screenshot.
async fn game_loop(opts: WindowOptions, mut source: impl ViewSource) -> Result<(), WindowError> {
    let start = macroquad::time::get_time();
    let mut audio = audio::Audio::new(opts.sound, start);
    let mut ui = match_ui::MatchUi::new(&opts);
    loop {
        let now = macroquad::time::get_time();
        audio.poll(now).await;
        if ui.frame(&mut source, &mut audio, match_ui::Mode::Standalone) != match_ui::Step::Go {
            return Ok(());
        }
        if source.finished() {
            return Ok(());
        }
        let due = if opts.screenshot_killcam {
            if opts.screenshot.is_some() && now - start >= opts.screenshot_after.as_secs_f64() {
                return Err(WindowError::NoKillcam(opts.screenshot_after));
            }
            ui.killcam_stage() == Some(KillcamStage::ServerSaw)
        } else {
            now - start >= opts.screenshot_after.as_secs_f64()
        };
        if let Some(path) = &opts.screenshot
            && due
        {
            screenshot::save(path)?;
            tracing::info!(path = %path.display(), "screenshot saved");
            return Ok(());
        }
        next_frame().await;
    }
}
