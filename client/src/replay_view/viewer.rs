//! The replay window's `ViewSource`: keyboard and mouse controls, the follow/free camera, and the
//! screen-space extras the live game does not have (timeline, replay status, always-on score
//! table, lag-compensation ghosts). Drawing of the match itself is the game's renderer.

use super::clip::{ClipExport, ClipSpec};
use super::kills::Kills;
use super::playback::{Playback, SEEK_STEP_S};
use super::scene;
use super::timeline::{self, Bar, BarState};
use crate::game::palette::{self, fade};
use crate::game::render::Renderer;
use crate::game::{ViewSource, text};
use crate::view::{ControlInput, GameView, KillcamOverlay};
use macroquad::camera::{Camera2D, set_camera, set_default_camera};
use macroquad::color::Color;
use macroquad::input::{
    KeyCode, MouseButton, is_key_down, is_key_pressed, is_mouse_button_down, is_mouse_button_pressed,
    mouse_position, mouse_wheel,
};
use macroquad::shapes::{draw_circle_lines, draw_line, draw_rectangle};
use macroquad::window::{screen_height, screen_width};
use rewind_shared::Vec2;
use rewind_shared::killcam::{KillMoment, from_replay, kills_in};
use rewind_shared::map::Map;
use rewind_shared::player::PlayerId;
use rewind_shared::replay::Replay;
use rewind_shared::sim::{PLAYER_RADIUS, ShotMode, SimEvent};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::Duration;

/// Free-camera pan speed with WASD, in screen pixels per second.
const PAN_PX_PER_S: f32 = 700.0;
/// Lag-compensation ghosts stay this long (match seconds).
const GHOST_S: f32 = 1.0;
/// A frame longer than this (window dragged, debugger) does not jump the match forward.
const MAX_FRAME_S: f64 = 0.25;
/// Width of the score table column at the left (with its margins).
const SCORES_W: f32 = 270.0;
/// Zoom limits (mouse wheel).
const ZOOM_MIN: f32 = 0.25;
/// Zoom limits (mouse wheel).
const ZOOM_MAX: f32 = 2.5;
/// G exports the current kill at this many frames per second and this width.
const EXPORT_FPS: u32 = 15;
/// See `EXPORT_FPS`.
const EXPORT_WIDTH: u16 = 640;
/// The kill list's top edge: under the killcam banner.
const KILL_LIST_TOP: f32 = 236.0;
/// K puts the playback this many seconds before the kill.
const KILL_LEAD_S: f64 = 2.0;
/// Clicking within this many world units of a player's centre picks it.
const PICK_RADIUS: f32 = PLAYER_RADIUS * 1.8;

/// Where the camera looks.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Camera {
    /// Follows a player (while present).
    Follow(PlayerId),
    /// Looks at a fixed point the viewer pans.
    Free(Vec2),
}

/// What a held mouse button is doing.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Drag {
    None,
    /// Scrubbing along the timeline.
    Timeline,
    /// Panning the free camera; the last mouse position.
    Pan(Vec2),
}

/// Facts about the whole match found by a background pass (the window does not wait for it).
#[derive(Clone, Debug, Default)]
pub struct MatchScan {
    /// Kill moments as fractions of the recording.
    pub kills: Vec<f64>,
    /// First tick whose re-simulated hash differed from the file.
    pub diverged: Option<u32>,
    /// Every kill, in order (the kill list).
    pub list: Vec<KillMoment>,
}

/// Re-simulates the whole recording once, for the timeline's kill marks.
pub fn scan(replay: &Replay) -> MatchScan {
    let len = replay.records().len().max(1) as f64;
    let first = replay.first_tick();
    let mut cursor = replay.cursor_at_start();
    let mut out = MatchScan::default();
    while let Some(step) = cursor.step() {
        let at = f64::from(step.record.tick.diff(first)) / len;
        if !step.hash_ok && out.diverged.is_none() {
            out.diverged = Some(step.record.tick.0);
        }
        for e in &step.events {
            if let SimEvent::Kill { killer, victim } = e {
                out.kills.push(at);
                out.list.push(KillMoment {
                    tick: step.record.tick,
                    killer: *killer,
                    victim: *victim,
                });
            }
        }
    }
    out
}

/// The replay viewer as a window source.
pub struct Viewer {
    pb: Playback<'static>,
    map: Arc<Map>,
    camera: Camera,
    /// Where the camera looked last frame (start of a free camera).
    focus: Vec2,
    drag: Drag,
    /// Zoom on top of the game's standard scale.
    zoom: f32,
    truncated: Option<String>,
    scan: MatchScan,
    scan_rx: Option<Receiver<MatchScan>>,
    /// A message shown for a few seconds (a failed seek).
    notice: Option<(String, f64)>,
    last_view: Option<GameView>,
    /// The first frame has not set the overview zoom yet (the window size is known only then).
    fresh: bool,
    /// Chat lines, drawn by the overlay above the bottom panel (the HUD's spot is under it).
    chat: Vec<crate::view::FeedLine>,
    /// The kill list and the shooter's eye.
    kills: Kills,
    /// Open the shooter's eye on the first frame (`--shooters-eye`).
    eye_on_start: bool,
    /// The current kill being exported as a GIF (G).
    export: Option<ClipExport>,
}

impl Viewer {
    /// A viewer at the start of `replay`, free camera on the map centre. `scan_rx` delivers the
    /// background `scan` when it finishes.
    pub fn new(replay: &'static Replay, scan_rx: Option<Receiver<MatchScan>>) -> Viewer {
        let map = Arc::new(replay.map().clone());
        let centre = map.size() / 2.0;
        let truncated = replay.truncation().map(|t| {
            let at = t.after_tick.map_or(0, |k| k.diff(replay.first_tick()).max(0));
            let secs = f64::from(at) / f64::from(replay.header().cfg.tick_rate.max(1));
            format!(
                "TRUNCATED recording: plays to {} ({})",
                timeline::clock(secs),
                t.reason
            )
        });
        Viewer {
            pb: Playback::new(replay),
            map,
            camera: Camera::Free(centre),
            focus: centre,
            drag: Drag::None,
            zoom: 1.0,
            truncated,
            scan: MatchScan::default(),
            scan_rx,
            notice: None,
            last_view: None,
            fresh: true,
            chat: Vec::new(),
            kills: Kills::default(),
            eye_on_start: false,
            export: None,
        }
    }

    /// Starts at kill `n` (1-based, in match order): the seconds before it, following the
    /// killer; with `eye`, in the shooter's eye. Re-simulates the match once to find the kills.
    pub fn start_at_kill(&mut self, n: usize, eye: bool) -> Result<(), String> {
        if self.kills.list().is_empty() {
            self.kills.set_list(kills_in(self.pb.replay()));
        }
        let count = self.kills.list().len();
        if n == 0 || n > count {
            return Err(format!("no kill {n}: the recording has {count}"));
        }
        self.go_to_kill(n - 1)
            .map_err(|e| format!("cannot seek to kill {n}: {e}"))?;
        self.fresh = false;
        if eye {
            // Checked now (the error goes to the command line); opened on the first frame,
            // when the window's clock runs.
            let kill = self.kills.current().map(|(_, k)| k).ok_or("no kill selected")?;
            from_replay(self.pb.replay(), kill)
                .map_err(|e| format!("cannot rebuild kill {n}: {e}"))?
                .ok_or(format!("the recording has no shot for kill {n}"))?;
            self.eye_on_start = true;
        }
        Ok(())
    }

    /// Selects kill `i`: seeks to a moment before it and follows the killer.
    fn go_to_kill(&mut self, i: usize) -> Result<(), rewind_shared::replay::ReplayError> {
        let Some(k) = self.kills.select(i) else {
            return Ok(());
        };
        let rate = f64::from(self.pb.replay().header().cfg.tick_rate.max(1));
        let at = f64::from(k.tick.diff(self.pb.replay().first_tick())) - KILL_LEAD_S * rate;
        self.follow(k.killer);
        self.pb.seek_ticks(at.max(0.0))
    }

    /// G: the current kill (or the next) as `kill-N.gif` in the working directory.
    fn export_kill(&mut self) {
        if self.kills.current().is_none()
            && let Some(i) = self.kills.next_after(self.pb.tick())
        {
            let r = self.go_to_kill(i);
            self.seek_result(r);
        }
        let Some((i, kill)) = self.kills.current() else {
            self.note("no kill to export yet".to_string());
            return;
        };
        let replay = self.pb.replay();
        let spec = ClipSpec::for_kill(replay, kill, EXPORT_FPS, EXPORT_WIDTH);
        match ClipExport::new(
            replay,
            spec,
            std::path::PathBuf::from(format!("kill-{}.gif", i + 1)),
        ) {
            Ok(e) => self.export = Some(e),
            Err(e) => self.note(format!("cannot export: {e}")),
        }
    }

    fn open_eye(&mut self) -> Result<(), String> {
        let now = Duration::from_secs_f64(macroquad::time::get_time());
        let pb = &self.pb;
        self.kills.open_eye(pb.replay(), |id| pb.name(id), now)?;
        self.pb.set_paused(true);
        Ok(())
    }

    /// The playback, to position it before the window opens (seek, pause, speed).
    pub fn playback_mut(&mut self) -> &mut Playback<'static> {
        &mut self.pb
    }

    /// Follows the `n`th present player in roster order (0-based, what key `n + 1` does);
    /// false when there is no such player.
    pub fn follow_nth(&mut self, n: usize) -> bool {
        match self.pb.roster().get(n) {
            Some(&id) => {
                self.follow(id);
                true
            }
            None => false,
        }
    }

    /// The zoom that shows the whole map between the top HUD and the bottom panel (at most 1).
    fn fit_zoom(&self) -> f32 {
        // Leave the score table's column free on both sides, and the panel's height top and bottom.
        let (w, h) = (
            screen_width() - 2.0 * SCORES_W,
            screen_height() - 2.0 * timeline::PANEL_H,
        );
        let size = self.map.size() * Renderer::ppu();
        (w / size.x.max(1.0))
            .min(h.max(1.0) / size.y.max(1.0))
            .clamp(ZOOM_MIN, 1.0)
    }

    /// Switches to the free camera where the view is now; `overview` also zooms out to the map.
    fn free_camera(&mut self, overview: bool) {
        self.camera = Camera::Free(self.focus);
        if overview {
            self.camera = Camera::Free(self.map.size() / 2.0);
            self.zoom = self.fit_zoom();
        }
    }

    fn follow(&mut self, id: PlayerId) {
        self.camera = Camera::Follow(id);
        self.zoom = self.zoom.max(1.0);
    }

    fn note(&mut self, text: String) {
        tracing::warn!("{text}");
        self.notice = Some((text, macroquad::time::get_time() + 4.0));
    }

    fn seek_result(&mut self, r: Result<(), rewind_shared::replay::ReplayError>) {
        if let Err(e) = r {
            self.note(format!("seek failed: {e}"));
        }
    }

    /// Keyboard: pause, seek, speed, follow, free-camera pan.
    fn keys(&mut self, dt: f32) {
        if is_key_pressed(KeyCode::Space) {
            let r = self.pb.toggle_pause();
            self.seek_result(r);
        }
        if is_key_pressed(KeyCode::Left) {
            let r = self.pb.seek_by(-SEEK_STEP_S);
            self.seek_result(r);
        }
        if is_key_pressed(KeyCode::Right) {
            let r = self.pb.seek_by(SEEK_STEP_S);
            self.seek_result(r);
        }
        if is_key_pressed(KeyCode::Home) {
            let r = self.pb.seek_ticks(0.0);
            self.seek_result(r);
        }
        let faster = [KeyCode::Up, KeyCode::Equal, KeyCode::KpAdd];
        let slower = [KeyCode::Down, KeyCode::Minus, KeyCode::KpSubtract];
        if faster.into_iter().any(is_key_pressed) {
            self.pb.change_speed(true);
        }
        if slower.into_iter().any(is_key_pressed) {
            self.pb.change_speed(false);
        }
        let digits = [
            KeyCode::Key1,
            KeyCode::Key2,
            KeyCode::Key3,
            KeyCode::Key4,
            KeyCode::Key5,
            KeyCode::Key6,
            KeyCode::Key7,
            KeyCode::Key8,
            KeyCode::Key9,
        ];
        if let Some(n) = digits.iter().position(|k| is_key_pressed(*k))
            && let Some(id) = self.pb.roster().get(n).copied()
        {
            self.follow(id);
        }
        if is_key_pressed(KeyCode::Key0) || is_key_pressed(KeyCode::F) {
            self.free_camera(true);
        }
        if is_key_pressed(KeyCode::K)
            && let Some(i) = self
                .kills
                .next_after(self.kills.current().map_or(self.pb.tick(), |(_, k)| k.tick))
        {
            let r = self.go_to_kill(i);
            self.seek_result(r);
        }
        if is_key_pressed(KeyCode::G) && self.export.is_none() {
            self.export_kill();
        }
        if is_key_pressed(KeyCode::E) {
            if self.kills.eye_open() {
                self.kills.close_eye();
            } else {
                if self.kills.current().is_none()
                    && let Some(i) = self.kills.next_after(self.pb.tick())
                {
                    let r = self.go_to_kill(i);
                    self.seek_result(r);
                }
                if let Err(e) = self.open_eye() {
                    self.note(e);
                }
            }
        }
        let wish = crate::game::input::wish(
            is_key_down(KeyCode::W),
            is_key_down(KeyCode::S),
            is_key_down(KeyCode::A),
            is_key_down(KeyCode::D),
        );
        if wish != Vec2::ZERO {
            let at = match self.camera {
                Camera::Free(p) => p,
                Camera::Follow(_) => self.focus,
            };
            self.camera = Camera::Free(self.clamp(at + wish * PAN_PX_PER_S * dt / self.scale()));
        }
    }

    /// Pixels per world unit at the current zoom.
    fn scale(&self) -> f32 {
        Renderer::ppu() * self.zoom
    }

    fn clamp(&self, p: Vec2) -> Vec2 {
        p.clamp(Vec2::ZERO, self.map.size())
    }

    /// Mouse: timeline click/scrub, click a player to follow, drag to pan.
    fn mouse(&mut self, camera: &Camera2D, bar: &Bar) {
        let (mx, my) = mouse_position();
        let m = Vec2::new(mx, my);
        let left = is_mouse_button_down(MouseButton::Left);
        let right = is_mouse_button_down(MouseButton::Right);
        if is_mouse_button_pressed(MouseButton::Left) {
            if bar.contains(mx, my) {
                self.drag = Drag::Timeline;
            } else {
                let world = camera.screen_to_world(m);
                let picked = self
                    .pb
                    .players()
                    .into_iter()
                    .map(|(p, pos)| (p.id, pos.distance(world)))
                    .filter(|(_, d)| *d <= PICK_RADIUS)
                    .min_by(|a, b| a.1.total_cmp(&b.1));
                match picked {
                    Some((id, _)) => self.follow(id),
                    None => self.drag = Drag::Pan(m),
                }
            }
        } else if is_mouse_button_pressed(MouseButton::Right) {
            self.drag = Drag::Pan(m);
        }
        let (_, wheel) = mouse_wheel();
        if wheel != 0.0 && !bar.contains(mx, my) {
            let step = if wheel > 0.0 { 1.15 } else { 1.0 / 1.15 };
            self.zoom = (self.zoom * step).clamp(ZOOM_MIN, ZOOM_MAX);
        }
        match self.drag {
            Drag::Timeline if left => {
                let f = bar.fraction_at(mx);
                let current = self.pb.position_ticks() / self.pb.len().max(1) as f64;
                if (f - current).abs() * f64::from(bar.w) >= 0.5 {
                    let r = self.pb.seek_fraction(f);
                    self.seek_result(r);
                }
            }
            Drag::Pan(last) if left || right => {
                if last != m {
                    let at = match self.camera {
                        Camera::Free(p) => p,
                        Camera::Follow(_) => self.focus,
                    };
                    self.camera = Camera::Free(self.clamp(at - (m - last) / self.scale()));
                }
                self.drag = Drag::Pan(m);
            }
            _ => self.drag = Drag::None,
        }
    }

    /// Where the camera should look this frame.
    fn target(&mut self, view: &GameView) -> Vec2 {
        match self.camera {
            Camera::Free(p) => p,
            Camera::Follow(id) => match view.players.iter().find(|p| p.id == id) {
                Some(p) => p.pos,
                None => {
                    // The player left the match: stay where they were.
                    self.camera = Camera::Free(self.focus);
                    self.focus
                }
            },
        }
    }

    fn followed(&self) -> Option<PlayerId> {
        match self.camera {
            Camera::Follow(id) => Some(id),
            Camera::Free(_) => None,
        }
    }

    /// World-space extras: a ring on the followed player, and for recent lag-compensated hits a
    /// ghost where the shooter saw the target and a line to where it really was.
    /// Returns how many ghosts were drawn (the legend explains them when there are any).
    fn draw_world(&self, camera: &Camera2D, view: &GameView) -> usize {
        set_camera(camera);
        let mut ghosts = 0;
        for s in self.pb.shots() {
            let age = self.pb.age_s(s.tick);
            if age >= GHOST_S || !matches!(s.shot.mode, ShotMode::Rewound | ShotMode::TooOld) {
                continue;
            }
            let Some(target) = s.shot.target else { continue };
            let Some((_, seen)) = s.traced.iter().find(|(id, _)| *id == target) else {
                continue;
            };
            ghosts += 1;
            let a = 1.0 - age / GHOST_S;
            let c = fade(palette::DEBUG_SERVER, a);
            draw_circle_lines(seen.x, seen.y, PLAYER_RADIUS + 1.0, 2.0, c);
            if let Some(now) = s.target_now
                && now.distance(*seen) > 0.5
            {
                draw_line(seen.x, seen.y, now.x, now.y, 1.5, fade(c, 0.7));
            }
        }
        if let Some(p) = self
            .followed()
            .and_then(|id| view.players.iter().find(|p| p.id == id))
        {
            let t = macroquad::time::get_time() as f32;
            let r = PLAYER_RADIUS + 6.0 + (t * 5.0).sin();
            draw_circle_lines(p.pos.x, p.pos.y, r, 2.5, fade(palette::LOCAL, 0.9));
        }
        set_default_camera();
        ghosts
    }

    /// Explains the orange rings, above the bottom panel on the right.
    fn draw_legend(w: f32, h: f32) {
        let line = "rewound hitbox: where the shooter saw the target it hit (lag compensation)";
        let tw = text::width(line, 15.0) + 40.0;
        let (x, y) = (w - tw - 10.0, h - timeline::PANEL_H - 34.0);
        text::panel(x, y, tw, 24.0);
        draw_circle_lines(x + 16.0, y + 12.0, 7.0, 2.0, palette::DEBUG_SERVER);
        text::draw(line, x + 30.0, y + 17.0, 15.0, palette::TEXT);
    }

    /// The compact score table under the title (the full one is on Tab).
    fn draw_scores(&self, view: &GameView) {
        let rows = &view.scoreboard;
        if rows.is_empty() {
            return;
        }
        let roster = self.pb.roster();
        let (x, y, row_h) = (10.0, 50.0, 20.0);
        let shown = rows.len().min(12);
        text::panel(x, y, 250.0, 30.0 + row_h * shown as f32);
        text::draw("key  player", x + 10.0, y + 19.0, 15.0, palette::TEXT_DIM);
        text::draw_right("K   D", x + 240.0, y + 19.0, 15.0, palette::TEXT_DIM);
        for (i, r) in rows.iter().take(shown).enumerate() {
            let ry = y + 24.0 + row_h * i as f32;
            let followed = self.followed() == Some(r.id);
            if followed {
                draw_rectangle(x + 4.0, ry, 242.0, row_h, fade(palette::LOCAL, 0.2));
            }
            let key = roster
                .iter()
                .position(|id| *id == r.id)
                .filter(|n| *n < 9)
                .map_or(" ".to_string(), |n| (n + 1).to_string());
            let c = palette::player_colour(r.id.0, false);
            text::draw(&key, x + 12.0, ry + 15.0, 16.0, palette::TEXT_DIM);
            draw_rectangle(x + 32.0, ry + 6.0, 8.0, 8.0, c);
            let name_c = if followed { palette::LOCAL } else { palette::TEXT };
            text::draw(&r.name, x + 46.0, ry + 15.0, 16.0, name_c);
            text::draw_right(
                &format!("{:>2}  {:>2}", r.kills, r.deaths),
                x + 240.0,
                ry + 15.0,
                16.0,
                palette::TEXT,
            );
        }
    }

    /// The bottom panel: status line, timeline, key help, and warnings above it.
    fn draw_panel(&self, bar: &Bar, w: f32, h: f32) {
        let top = h - timeline::PANEL_H;
        draw_rectangle(0.0, top, w, timeline::PANEL_H, palette::PANEL);
        draw_line(0.0, top, w, top, 1.0, palette::PANEL_EDGE);
        let state = if self.pb.at_end() {
            "END"
        } else if self.pb.paused() {
            "PAUSED"
        } else {
            "PLAYING"
        };
        let state_c = if self.pb.paused() {
            palette::NETSIM
        } else {
            palette::HEALTH
        };
        let base = top + 22.0;
        text::draw(state, bar.x, base, 18.0, state_c);
        let time = format!(
            "{} / {}",
            timeline::clock(self.pb.time_s()),
            timeline::clock(self.pb.duration_s())
        );
        text::draw(&time, bar.x + 90.0, base, 18.0, palette::TEXT);
        let speed = format!("speed {}x", fmt_speed(self.pb.speed()));
        text::draw(&speed, bar.x + 260.0, base, 18.0, palette::TEXT);
        let cam = match self.camera {
            Camera::Follow(id) => format!("following {}", self.pb.name(id)),
            Camera::Free(_) => "free camera".to_string(),
        };
        text::draw(&cam, bar.x + 390.0, base, 18.0, palette::LOCAL);
        let help = "Space pause  <- -> 5 s  Up/Down speed  1-9 follow  0/F overview (WASD, drag, wheel)  K kill  E eye  G gif  Tab  Esc";
        text::draw_right(help, bar.x + bar.w, base, 15.0, palette::TEXT_DIM);
        let (mx, my) = mouse_position();
        let hover = bar
            .contains(mx, my)
            .then(|| (mx, timeline::clock(bar.fraction_at(mx) * self.pb.duration_s())));
        let fraction = if self.pb.is_empty() {
            1.0
        } else {
            self.pb.position_ticks() / self.pb.len() as f64
        };
        timeline::draw(
            bar,
            &BarState {
                fraction,
                kills: &self.scan.kills,
                truncated: self.truncated.is_some(),
                hover,
            },
        );
        let mut warnings: Vec<(String, Color)> = Vec::new();
        if let Some(t) = &self.truncated {
            warnings.push((t.clone(), palette::NETSIM));
        }
        if let Some(t) = self.scan.diverged.or(self.pb.diverged().map(|t| t.0)) {
            warnings.push((
                format!(
                    "re-simulation diverges from the recording at tick {t} (recorded by another version?)"
                ),
                palette::HIT_DENIED,
            ));
        }
        if let Some((n, _)) = &self.notice {
            warnings.push((n.clone(), palette::HIT_DENIED));
        }
        for (i, (line, c)) in warnings.iter().enumerate() {
            let y = top - 12.0 - 28.0 * i as f32;
            let tw = text::width(line, 18.0) + 20.0;
            text::panel(w / 2.0 - tw / 2.0, y - 20.0, tw, 26.0);
            text::draw_centered(line, w / 2.0, y - 2.0, 18.0, *c);
        }
    }
}

/// `0.25`, `0.5`, `1`, `8`.
fn fmt_speed(s: f32) -> String {
    let t = format!("{s:.2}");
    t.trim_end_matches('0').trim_end_matches('.').to_string()
}

impl ViewSource for Viewer {
    fn frame(&mut self, _input: ControlInput) -> GameView {
        let dt = macroquad::time::get_frame_time();
        if let Some(rx) = &self.scan_rx {
            match rx.try_recv() {
                Ok(scan) => {
                    if self.kills.list().is_empty() {
                        self.kills.set_list(scan.list.clone());
                    }
                    self.scan = scan;
                    self.scan_rx = None;
                }
                Err(TryRecvError::Disconnected) => self.scan_rx = None,
                Err(TryRecvError::Empty) => {}
            }
        }
        if self
            .notice
            .as_ref()
            .is_some_and(|(_, until)| macroquad::time::get_time() > *until)
        {
            self.notice = None;
        }
        if self.fresh {
            self.fresh = false;
            if matches!(self.camera, Camera::Free(_)) {
                self.free_camera(true);
            }
        }
        if let Some(export) = self.export.as_mut() {
            let view = export.scene();
            self.focus = export.focus();
            return view;
        }
        if std::mem::take(&mut self.eye_on_start)
            && let Err(e) = self.open_eye()
        {
            self.note(e);
        }
        self.keys(dt);
        self.pb.advance(f64::from(dt).min(MAX_FRAME_S));
        let mut view = scene::build(&self.pb, &self.map, self.followed());
        self.chat = std::mem::take(&mut view.chat);
        self.focus = self.target(&view);
        if let Some(eye) = self
            .kills
            .eye_scene(Duration::from_secs_f64(macroquad::time::get_time()))
        {
            // The shooter's eye: the killcam's players and tracers, the victim as "us".
            view.local_id = eye.players.iter().find(|p| p.local).map(|p| p.id);
            view.players = eye.players;
            view.tracers = eye.tracers;
            view.shots.clear();
            self.focus = eye.overlay.focus;
            view.killcam = Some(KillcamOverlay {
                hint: "E: back to the match   K: next kill".to_string(),
                ..eye.overlay
            });
        }
        self.last_view = Some(view.clone());
        view
    }

    fn spectator(&self) -> bool {
        true
    }

    /// Sound at normal speed only, and not while paused or stopped at the end.
    fn sound_on(&self) -> bool {
        self.pb.speed() == 1.0 && !self.pb.paused() && !self.pb.at_end()
    }

    /// Ages in the scene are playback time, so births are measured on it.
    fn sound_clock(&self) -> Option<f64> {
        Some(self.pb.time_s())
    }

    fn camera_focus(&self) -> Option<Vec2> {
        Some(self.focus)
    }

    fn camera_zoom(&self) -> Option<f32> {
        Some(if self.export.is_some() { 1.0 } else { self.zoom })
    }

    fn overlay(&mut self, camera: &Camera2D) {
        let (w, h) = (screen_width(), screen_height());
        if let Some(export) = self.export.as_mut() {
            // The frame is read back before anything of the viewer's own is drawn on it.
            if export.capture() {
                let text = match export.result() {
                    Some(Err(e)) => format!("export failed: {e}"),
                    _ => format!("wrote {}", export.out().display()),
                };
                tracing::info!("{text}");
                self.export = None;
                self.notice = Some((text, macroquad::time::get_time() + 4.0));
            } else {
                let (done, total) = export.progress();
                let line = format!("exporting {}: frame {done}/{total}", export.out().display());
                let tw = text::width(&line, 18.0) + 20.0;
                text::panel(w / 2.0 - tw / 2.0, h / 2.0 - 20.0, tw, 28.0);
                text::draw_centered(&line, w / 2.0, h / 2.0, 18.0, palette::NETSIM);
            }
            return;
        }
        let bar = Bar::for_screen(w, h);
        if let Some(view) = self.last_view.take() {
            // Under the full scoreboard (Tab) the world extras would draw over it.
            // The shooter's eye draws its own rings; the playback's would be of another moment.
            let eye = self.kills.eye_open();
            if !is_key_down(KeyCode::Tab) && !eye && self.draw_world(camera, &view) > 0 {
                Viewer::draw_legend(w, h);
            }
            self.draw_scores(&view);
        }
        crate::game::hud::draw_chat(&self.chat, None, 14.0, h - timeline::PANEL_H - 4.0);
        if !self.kills.eye_open() {
            let (pb, rate) = (&self.pb, self.pb.replay().header().cfg.tick_rate);
            self.kills.draw_list(
                |id| pb.name(id),
                pb.replay().first_tick(),
                rate,
                w - 10.0,
                KILL_LIST_TOP,
            );
        }
        self.draw_panel(&bar, w, h);
        self.mouse(camera, &bar);
    }
}

#[cfg(test)]
mod tests {
    use super::fmt_speed;

    #[test]
    fn speeds_read_naturally() {
        assert_eq!(fmt_speed(0.25), "0.25");
        assert_eq!(fmt_speed(0.5), "0.5");
        assert_eq!(fmt_speed(1.0), "1");
        assert_eq!(fmt_speed(8.0), "8");
    }
}
