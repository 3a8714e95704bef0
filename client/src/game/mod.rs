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
pub mod netgraph;
pub mod palette;
pub mod render;
pub mod screens;
pub mod screenshot;
mod session_source;
pub mod text;
pub mod world;

use crate::sound::cues::{Cue, CueTracker};
use crate::sound::settings::{SoundKey, SoundSettings};
use crate::sound::synth::Effect;
use crate::view::{ControlInput, GameView, KillcamStage, Phase};
use link::LinkAction;
use macroquad::camera::Camera2D;
use macroquad::input::{
    KeyCode, MouseButton, is_key_down, is_key_pressed, is_mouse_button_pressed, mouse_position, show_mouse,
};
use macroquad::window::next_frame;
use render::{Overlays, Renderer};
use rewind_shared::Vec2;
use rewind_shared::conditioner::LinkConfig;
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

/// How long the conditioner keys stay visible after a press on a perfect link.
const LINK_KEYS_S: f64 = 4.0;
/// How long the sound settings line stays after a change.
const SOUND_LINE_S: f64 = 2.5;

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
    let display = std::env::var("DISPLAY").unwrap_or_default();
    if cfg!(target_os = "linux") && display.is_empty() {
        return Err(WindowError::NoDisplay);
    }
    // Before macroquad starts its audio thread: a missing device must not print a panic.
    audio_guard::install();
    let outcome: Rc<RefCell<Option<Result<(), WindowError>>>> = Rc::new(RefCell::new(None));
    let out = Rc::clone(&outcome);
    let conf = macroquad::miniquad::conf::Conf {
        window_title: opts.title.clone(),
        window_width: opts.width,
        window_height: opts.height,
        window_resizable: true,
        sample_count: if opts.msaa { 4 } else { 1 },
        ..Default::default()
    };
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        macroquad::Window::from_config(conf, async move {
            let result = game_loop(opts, source).await;
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
    let mut renderer = Renderer::new();
    let mut chat = input::ChatBox::default();
    let mut net_graph = opts.net_graph;
    let mut debug_view = opts.debug_view;
    let mut link_keys_until = f64::NEG_INFINITY;
    let mut local_pos: Option<Vec2> = None;
    let mut phase_playing = false;
    let spectator = source.spectator();
    let start = macroquad::time::get_time();
    let mut audio = audio::Audio::new(opts.sound, start);
    let mut cues = CueTracker::default();
    let mut sound_line_until = f64::NEG_INFINITY;
    let mut script = ScriptedFire::new(&opts.fire_at);
    let mut in_killcam = false;
    loop {
        let now = macroquad::time::get_time();
        audio.poll(now).await;
        let mut control = if spectator {
            ControlInput::default()
        } else {
            input::sample(&mut chat, &renderer.camera(), local_pos, phase_playing)
        };
        if !spectator && script.pull(phase_playing, now) {
            control.fire = true;
        }
        control.skip_killcam =
            !spectator && (!opts.killcam || (!chat.open && is_key_pressed(KeyCode::Space)));
        let view = source.frame(control);
        // A killcam starting or ending swaps the players drawn: start the sound cues over, so
        // the swap itself (our player "respawning" in the killcam) makes no sound.
        if view.killcam.is_some() != in_killcam {
            in_killcam = view.killcam.is_some();
            cues = CueTracker::default();
        }
        phase_playing = view.phase == Phase::Playing;
        local_pos = view.players.iter().find(|p| p.local && p.alive).map(|p| p.pos);

        // Read the clock right after the view is made: the session measured the view's ages
        // moments ago, so births (`clock - age`) stay steady from frame to frame.
        let clock = source.sound_clock().unwrap_or_else(macroquad::time::get_time);
        let mut frame_cues = cues.update(&view, clock);
        if !source.sound_on() {
            frame_cues.clear();
        }
        if !chat.open
            && let Some(key) = sound_key()
        {
            audio.settings.apply(key);
            sound_line_until = now + SOUND_LINE_S;
            frame_cues.push(Cue {
                effect: Effect::Click,
                at: None,
            });
        }
        if spectator && is_mouse_button_pressed(MouseButton::Left) {
            frame_cues.push(Cue {
                effect: Effect::Click,
                at: None,
            });
        }
        audio.play(&frame_cues, listener(&view, source.camera_focus()));

        if !chat.open {
            if is_key_pressed(KeyCode::F3) {
                net_graph = !net_graph;
            }
            if is_key_pressed(KeyCode::F4) {
                debug_view = !debug_view;
            }
            if let Some(action) = link_action() {
                link_keys_until = now + LINK_KEYS_S;
                if let Some(cfg) = source.link() {
                    source.set_link(link::apply(cfg, action));
                }
            }
            if (!phase_playing || spectator) && is_key_pressed(KeyCode::Escape) {
                return Ok(());
            }
            if matches!(view.phase, Phase::Ended { .. }) && is_key_pressed(KeyCode::Enter) {
                return Ok(());
            }
        }
        show_mouse(!phase_playing || spectator);
        let link = source.link();
        let (mx, my) = mouse_position();
        let ui = Overlays {
            net_graph,
            debug_view,
            scoreboard: opts.scoreboard || (is_key_down(KeyCode::Tab) && !chat.open),
            chat_entry: chat.open.then_some(chat.text.as_str()),
            link: link.as_ref(),
            link_keys: now < link_keys_until || link.as_ref().is_some_and(|l| !l.is_perfect()),
            crosshair: (phase_playing && !spectator).then_some(Vec2::new(mx, my)),
            help: !spectator,
            focus: source.camera_focus(),
            zoom: source.camera_zoom(),
        };
        renderer.draw(&view, &ui, macroquad::time::get_frame_time());
        source.overlay(&renderer.camera());
        if source.finished() {
            return Ok(());
        }
        if now < sound_line_until {
            hud::draw_sound_line(
                &audio.status(),
                macroquad::window::screen_width(),
                macroquad::window::screen_height(),
            );
        }

        let due = if opts.screenshot_killcam {
            if opts.screenshot.is_some() && now - start >= opts.screenshot_after.as_secs_f64() {
                return Err(WindowError::NoKillcam(opts.screenshot_after));
            }
            view.killcam
                .as_ref()
                .is_some_and(|k| k.stage == KillcamStage::ServerSaw)
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

/// Where positional sounds are heard from: the spectator camera's focus, else our player (alive
/// or where it fell).
fn listener(view: &GameView, focus: Option<Vec2>) -> Option<Vec2> {
    focus.or_else(|| {
        let id = view.local_id?;
        view.players.iter().find(|p| p.id == id).map(|p| p.pos)
    })
}

/// The sound settings key pressed this frame, if any: M mute, `[` `]` volume, `,` `.` effects.
fn sound_key() -> Option<SoundKey> {
    [
        (KeyCode::M, SoundKey::ToggleMute),
        (KeyCode::LeftBracket, SoundKey::Master(false)),
        (KeyCode::RightBracket, SoundKey::Master(true)),
        (KeyCode::Comma, SoundKey::Effects(false)),
        (KeyCode::Period, SoundKey::Effects(true)),
    ]
    .into_iter()
    .find(|(k, _)| is_key_pressed(*k))
    .map(|(_, s)| s)
}

/// `--fire-at`: trigger pulls at fixed times after the match starts, one frame each.
struct ScriptedFire {
    times: Vec<f64>,
    next: usize,
    since: Option<f64>,
}

impl ScriptedFire {
    fn new(times: &[Duration]) -> ScriptedFire {
        let mut times: Vec<f64> = times.iter().map(Duration::as_secs_f64).collect();
        times.sort_by(f64::total_cmp);
        ScriptedFire {
            times,
            next: 0,
            since: None,
        }
    }

    /// Whether to pull the trigger this frame (`playing`: the match is on screen).
    fn pull(&mut self, playing: bool, now: f64) -> bool {
        if !playing || self.next >= self.times.len() {
            return false;
        }
        let since = *self.since.get_or_insert(now);
        if now - since < self.times[self.next] {
            return false;
        }
        tracing::info!(at_s = self.times[self.next], "scripted trigger pull");
        // Several times already due (a stalled frame) are one pull: the weapon fires once a frame.
        while self.next < self.times.len() && now - since >= self.times[self.next] {
            self.next += 1;
        }
        true
    }
}

/// The conditioner key pressed this frame, if any.
fn link_action() -> Option<LinkAction> {
    [
        (KeyCode::F5, LinkAction::LagDown),
        (KeyCode::F6, LinkAction::LagUp),
        (KeyCode::F7, LinkAction::JitterDown),
        (KeyCode::F8, LinkAction::JitterUp),
        (KeyCode::F9, LinkAction::LossDown),
        (KeyCode::F10, LinkAction::LossUp),
        (KeyCode::F11, LinkAction::Reset),
    ]
    .into_iter()
    .find(|(k, _)| is_key_pressed(*k))
    .map(|(_, a)| a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_fire_counts_from_the_match_start_once_per_time() {
        let mut s = ScriptedFire::new(&[Duration::from_millis(1500), Duration::from_millis(500)]);
        assert!(!s.pull(false, 10.0), "not before the match");
        assert!(!s.pull(true, 20.0), "the match starts now");
        assert!(!s.pull(true, 20.4));
        assert!(s.pull(true, 20.5));
        assert!(!s.pull(true, 20.6), "once");
        assert!(s.pull(true, 21.6));
        assert!(!s.pull(true, 30.0), "all done");
    }
}
