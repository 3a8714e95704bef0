//! The menu running in the window: the menu screens, the match it starts (with the pause menu
//! over it on Esc), and back to the menu when the match is left or ends. Starting a local server
//! is the binary's business (the client crate does not know the server), so it comes in as a
//! [`Launcher`]; joining a server and opening a replay the client does itself.

use super::draw::{self, layout};
use super::lists::{LanWatcher, scan_recordings};
use super::state::{Action, HostInfo, Input, Menu, Outcome, ReplayEntry};
use crate::game::audio::Audio;
use crate::game::match_ui::{MatchUi, Mode, Step};
use crate::game::{ViewSource, WindowError, WindowOptions, screenshot};
use crate::lan::DiscoverConfig;
use crate::net::{ConnectConfig, spawn_session};
use crate::settings::{KEEP_RECORDINGS, Settings, prune_recordings, recording_name};
use crate::sound::cues::Cue;
use crate::sound::synth::Effect;
use macroquad::input::{
    KeyCode, MouseButton, get_char_pressed, is_key_pressed, is_mouse_button_pressed, mouse_position,
    show_mouse,
};
use macroquad::window::{next_frame, screen_height, screen_width};
use rewind_shared::conditioner::LinkConfig;
use std::path::PathBuf;
use std::sync::mpsc::Receiver;

/// How long the host's address stays on screen when a hosted match starts.
const HOST_BANNER_S: f64 = 15.0;

/// A local match to start: against the AI, or hosted on the LAN.
#[derive(Clone, Debug)]
pub struct LocalRequest {
    /// `Some(name)`: listen on all interfaces and answer LAN searches under this name.
    pub host: Option<String>,
    /// AI players (the fill when hosting).
    pub ai: u16,
    /// Map name.
    pub map: String,
    /// Our player's name.
    pub player: String,
    /// Artificial conditions on our own link (the network preset).
    pub link: LinkConfig,
    /// Record the match to this file.
    pub record: Option<PathBuf>,
}

/// A match the launcher started.
pub struct Started {
    /// What the window shows (dropping it leaves the match and stops a local server).
    pub source: Box<dyn ViewSource>,
    /// Where others can join, when hosting.
    pub host: Option<HostInfo>,
}

/// Starts local servers for the menu (the binary implements it with `rewind-server`).
pub trait Launcher {
    /// Starts a local server as asked and joins it; an error is shown in the menu.
    fn start_local(&mut self, req: LocalRequest) -> Result<Started, String>;
}

/// How to run the menu.
#[derive(Clone, Debug)]
pub struct MenuOptions {
    /// The window (title, size, sound start from the settings instead).
    pub window: WindowOptions,
    /// The settings file.
    pub settings_path: PathBuf,
    /// Where matches are recorded and the Replays screen looks.
    pub recordings: PathBuf,
    /// Where F12 saves screenshots.
    pub screenshots: PathBuf,
    /// How Join searches the LAN.
    pub search: DiscoverConfig,
    /// The maps offered.
    pub maps: Vec<String>,
    /// The name used when there are no settings yet.
    pub default_name: String,
}

/// Opens the window on the menu and runs until the player quits. Blocks; call on the main thread.
pub fn run_menu(opts: MenuOptions, launcher: impl Launcher + 'static) -> Result<(), WindowError> {
    let conf = super::super::conf(&opts.window);
    super::super::open_window(conf, menu_loop(opts, launcher))
}

/// A match in progress under the menu.
struct Running {
    source: Box<dyn ViewSource>,
    ui: MatchUi,
    paused: bool,
    started_at: f64,
}

async fn menu_loop(opts: MenuOptions, mut launcher: impl Launcher) -> Result<(), WindowError> {
    let (settings, note) = Settings::load_or_default(&opts.settings_path, &opts.default_name);
    let mut menu = Menu::new(settings, opts.maps.clone());
    menu.status = note;
    let start = macroquad::time::get_time();
    let mut audio = Audio::new(menu.settings.sound(), start);
    let mut running: Option<Running> = None;
    let mut lan: Option<LanWatcher> = None;
    let mut scan: Option<Receiver<Vec<ReplayEntry>>> = None;
    let mut last_mouse = mouse_position();
    let mut shots_taken = 0u32;
    loop {
        let now = macroquad::time::get_time();
        audio.poll(now).await;
        let (w, h) = (screen_width(), screen_height());
        let mut outcome = None;
        match &mut running {
            Some(run) => {
                let was_paused = run.paused;
                let mode = if was_paused { Mode::Paused } else { Mode::Menu };
                run.ui.set_killcam(menu.settings.killcam);
                let step = run.ui.frame(&mut *run.source, &mut audio, mode);
                if audio.settings != menu.settings.sound() {
                    // M or the volume keys in the match: remembered like the menu's settings.
                    menu.settings.set_sound(audio.settings);
                    save(&mut menu, &opts);
                }
                match step {
                    Step::Close => {
                        running = None;
                        menu.back_to_main();
                    }
                    Step::Pause => {
                        run.paused = true;
                        menu.pause();
                        audio.play(&[click()], None);
                    }
                    Step::Go => {}
                }
                if let Some(run) = &running {
                    if was_paused {
                        outcome = Some(menu_input(&mut menu, w, h, &mut last_mouse));
                        draw::draw(&menu, w, h, true, now);
                    } else if let Some(host) = &menu.hosting
                        && now - run.started_at < HOST_BANNER_S
                    {
                        draw::draw_host_info(host, w / 2.0, 64.0);
                    }
                }
            }
            None => {
                show_mouse(true);
                outcome = Some(menu_input(&mut menu, w, h, &mut last_mouse));
                draw::draw(&menu, w, h, false, now);
            }
        }
        if let Some(out) = outcome {
            if out.click {
                audio.play(&[click()], None);
            }
            if out.settings_changed {
                audio.settings = menu.settings.sound();
                save(&mut menu, &opts);
            }
            match out.action {
                Action::None => {}
                Action::Quit => return Ok(()),
                Action::Resume => {
                    if let Some(run) = &mut running {
                        run.paused = false;
                        run.ui.hold_fire_until_release();
                    }
                }
                Action::Leave => {
                    running = None;
                    menu.back_to_main();
                }
                action => {
                    if let Some(started) = start_match(action, &mut menu, &opts, &mut launcher) {
                        menu.status = None;
                        menu.hosting = started.host;
                        let mut ui = MatchUi::new(&opts.window);
                        ui.hold_fire_until_release();
                        running = Some(Running {
                            source: started.source,
                            ui,
                            paused: false,
                            started_at: now,
                        });
                    }
                }
            }
        }

        // The live lists run only while their screen is open.
        if running.is_none() && menu.wants_lan_search() {
            if lan.is_none() {
                lan = LanWatcher::start(&opts.search);
            }
            if let Some(games) = lan.as_ref().and_then(LanWatcher::poll) {
                menu.set_games(games);
            }
        } else {
            lan = None;
        }
        if running.is_none() && menu.wants_replay_scan() {
            if scan.is_none() {
                scan = scan_recordings(opts.recordings.clone());
            }
            if let Some(list) = scan.as_ref().and_then(|rx| rx.try_recv().ok()) {
                menu.set_replays(list);
                scan = None;
            }
        } else {
            scan = None;
        }

        if is_key_pressed(KeyCode::F12) {
            shots_taken += 1;
            let path = opts.screenshots.join(format!("rewind-{shots_taken:03}.png"));
            let saved = std::fs::create_dir_all(&opts.screenshots)
                .map_err(|e| e.to_string())
                .and_then(|()| screenshot::save(&path).map_err(|e| e.to_string()));
            match saved {
                Ok(()) => tracing::info!(path = %path.display(), "screenshot saved"),
                Err(e) => tracing::warn!("screenshot not saved: {e}"),
            }
        }
        if let Some(path) = &opts.window.screenshot
            && now - start >= opts.window.screenshot_after.as_secs_f64()
        {
            screenshot::save(path)?;
            tracing::info!(path = %path.display(), "screenshot saved");
            return Ok(());
        }
        next_frame().await;
    }
}

fn click() -> Cue {
    Cue {
        effect: Effect::Click,
        at: None,
    }
}

/// Writes the settings; a failure is shown, never fatal.
fn save(menu: &mut Menu, opts: &MenuOptions) {
    if let Err(e) = menu.settings.write(&opts.settings_path) {
        tracing::warn!("settings not saved: {e}");
        menu.status = Some(format!("settings not saved: {e}"));
    }
}

/// This frame's keys and mouse, fed to the menu; the combined outcome.
fn menu_input(menu: &mut Menu, w: f32, h: f32, last_mouse: &mut (f32, f32)) -> Outcome {
    let mut inputs = Vec::new();
    let keys = [
        (KeyCode::Up, Input::Up),
        (KeyCode::Down, Input::Down),
        (KeyCode::Left, Input::Left),
        (KeyCode::Right, Input::Right),
        (KeyCode::Enter, Input::Enter),
        (KeyCode::KpEnter, Input::Enter),
        (KeyCode::Escape, Input::Back),
        (KeyCode::Backspace, Input::Backspace),
    ];
    for (k, i) in keys {
        if is_key_pressed(k) {
            inputs.push(i);
        }
    }
    while let Some(c) = get_char_pressed() {
        if !c.is_control() {
            inputs.push(Input::Char(c));
        }
    }
    let (mx, my) = mouse_position();
    let lay = layout(w, h, menu.rows().len(), menu.cursor());
    if (mx, my) != *last_mouse
        && let Some(i) = lay.row_at(mx, my)
    {
        inputs.push(Input::Hover(i));
    }
    *last_mouse = (mx, my);
    if is_mouse_button_pressed(MouseButton::Left)
        && let Some(i) = lay.row_at(mx, my)
    {
        inputs.push(Input::Click(i));
    }
    let mut total = Outcome {
        action: Action::None,
        click: false,
        settings_changed: false,
    };
    for i in inputs {
        let out = menu.handle(i);
        total.click |= out.click;
        total.settings_changed |= out.settings_changed;
        if out.action != Action::None {
            total.action = out.action;
            break;
        }
    }
    total
}

/// Starts what `action` asks for; a failure goes to the status line.
fn start_match(
    action: Action,
    menu: &mut Menu,
    opts: &MenuOptions,
    launcher: &mut impl Launcher,
) -> Option<Started> {
    let s = menu.settings.clone();
    let link = match &s.net_preset {
        Some(p) => LinkConfig::preset(p).unwrap_or_else(|_| LinkConfig::perfect()),
        None => LinkConfig::perfect(),
    };
    let result: Result<Started, String> = match action {
        Action::PlayAi | Action::Host { .. } => {
            let host = match action {
                Action::Host { name } => Some(name),
                _ => None,
            };
            let record = s.record_matches.then(|| {
                let deleted = prune_recordings(&opts.recordings, KEEP_RECORDINGS);
                if deleted > 0 {
                    tracing::info!(deleted, "old recordings deleted (the newest {KEEP_RECORDINGS} are kept)");
                }
                if let Err(e) = std::fs::create_dir_all(&opts.recordings) {
                    tracing::warn!(dir = %opts.recordings.display(), "cannot create the recordings directory: {e}");
                }
                opts.recordings.join(recording_name(std::time::SystemTime::now()))
            });
            launcher.start_local(LocalRequest {
                host,
                ai: s.ai,
                map: s.map.clone(),
                player: s.name.clone(),
                link,
                record,
            })
        }
        Action::Join { addr, cert_hash } => {
            let mut cfg = ConnectConfig::new(addr, s.name.clone(), cert_hash);
            cfg.link = link;
            Ok(Started {
                source: Box::new(spawn_session(cfg)),
                host: None,
            })
        }
        Action::OpenReplay(path) => crate::replay_view::open(&path)
            .map(|v| Started {
                source: Box::new(v),
                host: None,
            })
            .map_err(|e| e.to_string()),
        Action::None | Action::Resume | Action::Leave | Action::Quit => return None,
    };
    match result {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!("cannot start: {e}");
            menu.status = Some(format!("cannot start: {e}"));
            None
        }
    }
}
