//! One frame of a match in the window: the player's keys and mouse to the source, the view it
//! gives back drawn with its overlays, the sounds it implies played. Used by the standalone window
//! (`rewind play`, `connect`, `replay`) and by the menu, which adds the pause menu on Esc.

use super::audio::Audio;
use super::link::{self, LinkAction};
use super::render::{Overlays, Renderer};
use super::{ViewSource, WindowOptions, hud, input};
use crate::sound::cues::{Cue, CueTracker};
use crate::sound::settings::SoundKey;
use crate::sound::synth::Effect;
use crate::view::{ControlInput, GameView, KillcamStage, Phase};
use macroquad::input::{
    KeyCode, MouseButton, is_key_down, is_key_pressed, is_mouse_button_pressed, mouse_position, show_mouse,
};
use rewind_shared::Vec2;
use std::time::Duration;

/// How long the conditioner keys stay visible after a press on a perfect link.
const LINK_KEYS_S: f64 = 4.0;
/// How long the sound settings line stays after a change.
const SOUND_LINE_S: f64 = 2.5;

/// Who runs the match screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The window is the match: Esc on the connecting/ended screens (or in a replay) closes it.
    Standalone,
    /// The menu runs it: Esc while playing asks for the pause menu.
    Menu,
    /// The pause menu is open over the match: the match goes on, but no keys or mouse reach it.
    Paused,
}

/// What the frame asks of its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Keep going.
    Go,
    /// Close the match (Esc or Enter on the end screen, Esc in a replay or while connecting).
    Close,
    /// Esc while playing under the menu: open the pause menu.
    Pause,
}

/// The match screen's state across frames.
pub struct MatchUi {
    renderer: Renderer,
    chat: input::ChatBox,
    net_graph: bool,
    debug_view: bool,
    scoreboard: bool,
    link_keys_until: f64,
    local_pos: Option<Vec2>,
    phase_playing: bool,
    cues: CueTracker,
    sound_line_until: f64,
    script: ScriptedFire,
    /// The click that started or resumed the match is not a shot: fire waits for a release.
    hold_fire: bool,
    /// Killcams are shown (`--no-killcam` skips each at once).
    killcam: bool,
    /// The killcam stage of the last frame.
    killcam_stage: Option<KillcamStage>,
}

impl MatchUi {
    /// A match screen with the overlays `opts` asks for.
    pub fn new(opts: &WindowOptions) -> MatchUi {
        MatchUi {
            renderer: Renderer::new(),
            chat: input::ChatBox::default(),
            net_graph: opts.net_graph,
            debug_view: opts.debug_view,
            scoreboard: opts.scoreboard,
            link_keys_until: f64::NEG_INFINITY,
            local_pos: None,
            phase_playing: false,
            cues: CueTracker::default(),
            sound_line_until: f64::NEG_INFINITY,
            script: ScriptedFire::new(&opts.fire_at),
            hold_fire: false,
            killcam: opts.killcam,
            killcam_stage: None,
        }
    }

    /// Ignores the left button until it is released (after a menu click started or resumed
    /// the match, so that click does not fire).
    pub fn hold_fire_until_release(&mut self) {
        self.hold_fire = true;
    }

    /// Turns the killcam on or off (the menu's setting, changeable from the pause menu).
    pub fn set_killcam(&mut self, on: bool) {
        self.killcam = on;
    }

    /// The killcam stage on screen in the last frame, if one shows.
    pub fn killcam_stage(&self) -> Option<KillcamStage> {
        self.killcam_stage
    }

    /// Whether the match is being played (not connecting, reconnecting or ended).
    pub fn playing(&self) -> bool {
        self.phase_playing
    }

    /// Runs one frame: input, source, sound, drawing.
    pub fn frame(&mut self, source: &mut dyn ViewSource, audio: &mut Audio, mode: Mode) -> Step {
        let now = macroquad::time::get_time();
        let spectator = source.spectator();
        let live_keys = mode != Mode::Paused;
        let chat_was_open = self.chat.open;
        let mut control = if spectator || !live_keys {
            ControlInput::default()
        } else {
            input::sample(
                &mut self.chat,
                &self.renderer.camera(),
                self.local_pos,
                self.phase_playing,
            )
        };
        if self.hold_fire {
            if macroquad::input::is_mouse_button_down(MouseButton::Left) {
                control.fire = false;
            } else {
                self.hold_fire = false;
            }
        }
        if !spectator && live_keys && self.script.pull(self.phase_playing, now) {
            control.fire = true;
        }
        control.debug_view = self.debug_view;
        control.skip_killcam =
            !spectator && (!self.killcam || (live_keys && !self.chat.open && is_key_pressed(KeyCode::Space)));
        let view = source.frame(control);
        // A killcam starting or ending swaps the players drawn: start the sound cues over, so
        // the swap itself (our player "respawning" in the killcam) makes no sound.
        let stage = view.killcam.as_ref().map(|k| k.stage);
        if stage.is_some() != self.killcam_stage.is_some() {
            self.cues = CueTracker::default();
        }
        self.killcam_stage = stage;
        self.phase_playing = view.phase == Phase::Playing;
        self.local_pos = view.players.iter().find(|p| p.local && p.alive).map(|p| p.pos);

        // Read the clock right after the view is made: the session measured the view's ages
        // moments ago, so births (`clock - age`) stay steady from frame to frame.
        let clock = source.sound_clock().unwrap_or_else(macroquad::time::get_time);
        let mut frame_cues = self.cues.update(&view, clock);
        if !source.sound_on() {
            frame_cues.clear();
        }
        let keys = live_keys && !self.chat.open && !chat_was_open;
        if keys && let Some(key) = sound_key() {
            audio.settings.apply(key);
            self.sound_line_until = now + SOUND_LINE_S;
            frame_cues.push(click());
        }
        if live_keys && spectator && is_mouse_button_pressed(MouseButton::Left) {
            frame_cues.push(click());
        }
        audio.play(&frame_cues, listener(&view, source.camera_focus()));

        let mut step = Step::Go;
        if keys {
            if is_key_pressed(KeyCode::F3) {
                self.net_graph = !self.net_graph;
            }
            if is_key_pressed(KeyCode::F4) {
                self.debug_view = !self.debug_view;
            }
            if let Some(action) = link_action() {
                self.link_keys_until = now + LINK_KEYS_S;
                if let Some(cfg) = source.link() {
                    source.set_link(link::apply(cfg, action));
                }
            }
            if is_key_pressed(KeyCode::Escape) {
                step = if !self.phase_playing || spectator {
                    Step::Close
                } else if mode == Mode::Menu {
                    Step::Pause
                } else {
                    Step::Go
                };
            }
            if matches!(view.phase, Phase::Ended { .. }) && is_key_pressed(KeyCode::Enter) {
                step = Step::Close;
            }
        }
        show_mouse(!self.phase_playing || spectator || mode == Mode::Paused);
        let link = source.link();
        let (mx, my) = mouse_position();
        let ui = Overlays {
            net_graph: self.net_graph,
            debug_view: self.debug_view,
            scoreboard: self.scoreboard || (keys && is_key_down(KeyCode::Tab)),
            chat_entry: self.chat.open.then_some(self.chat.text.as_str()),
            link: link.as_ref(),
            link_keys: now < self.link_keys_until || link.as_ref().is_some_and(|l| !l.is_perfect()),
            crosshair: (self.phase_playing && !spectator && live_keys).then_some(Vec2::new(mx, my)),
            help: !spectator && live_keys,
            focus: source.camera_focus(),
            zoom: source.camera_zoom(),
        };
        self.renderer.draw(&view, &ui, macroquad::time::get_frame_time());
        source.overlay(&self.renderer.camera());
        if now < self.sound_line_until {
            hud::draw_sound_line(
                &audio.status(),
                macroquad::window::screen_width(),
                macroquad::window::screen_height(),
            );
        }
        step
    }
}

fn click() -> Cue {
    Cue {
        effect: Effect::Click,
        at: None,
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
