//! The menu as a pure state machine: screens of rows, a cursor, the settings being edited, and the
//! live lists (LAN games, recordings). Keys and clicks go in as [`Input`]s, what the window must
//! do comes out as an [`Outcome`]; nothing here touches a window, a socket or a file, so every
//! path through the menu is unit-tested.

use crate::lan::FoundGame;
use crate::settings::{MAX_NAME_CHARS, Settings};
use rewind_shared::conditioner::PRESET_NAMES;
use std::path::PathBuf;

/// Longest address typed into Join.
pub const MAX_ADDR_CHARS: usize = 64;
/// Most AI players the menu offers.
pub const MAX_AI: u16 = 15;

/// Which screen is showing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    /// Play vs AI, Host, Join, Replays, Settings, Quit.
    Main,
    /// Host a LAN-visible match.
    Host,
    /// LAN games found, or an address typed in.
    Join,
    /// Recordings in the data directory.
    Replays,
    /// Name, network preset, sound, recording.
    Settings,
    /// The controls.
    Keys,
    /// Esc in a match: resume, settings, leave.
    Pause,
}

/// A key or click, already decoded by the window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Cursor up.
    Up,
    /// Cursor down.
    Down,
    /// Previous value of a choice.
    Left,
    /// Next value of a choice.
    Right,
    /// Activate the row under the cursor.
    Enter,
    /// Esc: back (resume in the pause menu).
    Back,
    /// A typed character (goes to the text row under the cursor).
    Char(char),
    /// Deletes the last character of the text row under the cursor.
    Backspace,
    /// The mouse moved onto row `n` (selects it).
    Hover(usize),
    /// Row `n` was clicked (selects and activates it).
    Click(usize),
}

/// What the window must do after an input.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Nothing but redraw.
    None,
    /// Start a match against the AI (`Settings::ai`, `Settings::map`).
    PlayAi,
    /// Host a LAN-visible match called this, with AI fill.
    Host {
        /// Name the LAN list shows.
        name: String,
    },
    /// Join a server; from the LAN list the certificate is pinned.
    Join {
        /// `host:port`.
        addr: String,
        /// The fingerprint the LAN answer carried (`None` for a typed address: trust on first use).
        cert_hash: Option<String>,
    },
    /// Open the replay viewer.
    OpenReplay(PathBuf),
    /// Back to the match (pause menu).
    Resume,
    /// Leave the match for the main menu.
    Leave,
    /// Close the game.
    Quit,
}

/// The result of one input.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// What to do.
    pub action: Action,
    /// The input did something (play the click sound).
    pub click: bool,
    /// The settings changed (save them).
    pub settings_changed: bool,
}

impl Outcome {
    fn idle() -> Outcome {
        Outcome {
            action: Action::None,
            click: false,
            settings_changed: false,
        }
    }
}

/// How a row behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowKind {
    /// Enter or a click activates it.
    Button,
    /// Left/Right (or a click) change its value.
    Choice,
    /// Typing edits its value.
    Text,
    /// Shown, not selectable.
    Info,
}

/// One line of a screen, as the drawing shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Left-hand text.
    pub label: String,
    /// Right-hand text (a choice's value, a text field, a game's details).
    pub value: String,
    /// Behaviour.
    pub kind: RowKind,
}

impl Row {
    fn button(label: impl Into<String>) -> Row {
        Row {
            label: label.into(),
            value: String::new(),
            kind: RowKind::Button,
        }
    }

    fn with(label: impl Into<String>, value: impl Into<String>, kind: RowKind) -> Row {
        Row {
            label: label.into(),
            value: value.into(),
            kind,
        }
    }
}

/// A recording as the Replays screen lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayEntry {
    /// The file.
    pub path: PathBuf,
    /// When it was recorded ("YYYY-mm-dd HH:MM").
    pub date: String,
    /// Length and players once the file was read, or why it could not be.
    pub summary: Result<(f64, usize), String>,
}

/// Where the host's match can be reached, for the pause menu and the banner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostInfo {
    /// The address others type (`IP:PORT`).
    pub address: String,
    /// The certificate fingerprint they pin.
    pub cert_hash: String,
}

/// The menu's state.
#[derive(Clone, Debug)]
pub struct Menu {
    screen: Screen,
    cursor: usize,
    /// Where Settings and Keys go back to.
    settings_from: Screen,
    /// The player's settings, edited here and saved by the window.
    pub settings: Settings,
    maps: Vec<String>,
    games: Vec<FoundGame>,
    searched: bool,
    replays: Option<Vec<ReplayEntry>>,
    address: String,
    host_name: String,
    /// A message for the player (a failed start, a reset settings file).
    pub status: Option<String>,
    /// Set while hosting: shown in the pause menu.
    pub hosting: Option<HostInfo>,
}

/// The choices of the network preset row: the perfect link, then the conditioner's presets.
fn preset_choices() -> Vec<Option<String>> {
    std::iter::once(None)
        .chain(PRESET_NAMES.iter().map(|p| Some((*p).to_string())))
        .collect()
}

/// Steps `v` (0..=1) by a tenth, rounded to whole tenths.
fn step_volume(v: f32, up: bool) -> f32 {
    let n = (v * 10.0).round() + if up { 1.0 } else { -1.0 };
    (n / 10.0).clamp(0.0, 1.0)
}

/// A ping for the Join list: "<1 ms" on the same machine rather than a misleading 0.
fn ping_text(ping: std::time::Duration) -> String {
    match ping.as_millis() {
        0 => "<1 ms".to_string(),
        ms => format!("{ms} ms"),
    }
}

fn percent(v: f32) -> String {
    format!("{:.0}%", v * 100.0)
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

/// The keys, for the Keys screen.
pub const KEY_HELP: &[(&str, &str)] = &[
    ("W A S D", "move"),
    ("mouse", "aim; left button fires"),
    ("Enter", "chat"),
    ("Tab", "scoreboard"),
    ("Space", "skip the killcam"),
    ("Esc", "pause menu (resume, settings, leave)"),
    ("M  [ ]  , .", "mute, master volume, effects volume"),
    ("F3 / F4", "net graph / lag-compensation debug view"),
    ("F5-F10, F11", "add or remove lag, jitter, loss; reset"),
    ("F12", "save a screenshot"),
];

impl Menu {
    /// The main menu with Play vs AI under the cursor (so Enter plays), for `maps` (built-in
    /// names; the settings' map is added if it is not one of them).
    pub fn new(settings: Settings, maps: Vec<String>) -> Menu {
        let mut maps = maps;
        if !maps.contains(&settings.map) {
            maps.push(settings.map.clone());
        }
        let host_name = format!("{}'s game", settings.name);
        Menu {
            screen: Screen::Main,
            cursor: 0,
            settings_from: Screen::Main,
            settings,
            maps,
            games: Vec::new(),
            searched: false,
            replays: None,
            address: String::new(),
            host_name,
            status: None,
            hosting: None,
        }
    }

    /// The screen showing.
    pub fn screen(&self) -> Screen {
        self.screen
    }

    /// The row under the cursor.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// A screen's title.
    pub fn title(&self) -> &'static str {
        match self.screen {
            Screen::Main => "REWIND",
            Screen::Host => "Host a LAN game",
            Screen::Join => "Join a game",
            Screen::Replays => "Replays",
            Screen::Settings => "Settings",
            Screen::Keys => "Keys",
            Screen::Pause => "Paused",
        }
    }

    /// Whether the window should keep a LAN search running (the Join screen is open).
    pub fn wants_lan_search(&self) -> bool {
        self.screen == Screen::Join
    }

    /// Whether the recordings must be (re)listed: the Replays screen is open with no list yet.
    pub fn wants_replay_scan(&self) -> bool {
        self.screen == Screen::Replays && self.replays.is_none()
    }

    /// The latest LAN search result.
    pub fn set_games(&mut self, games: Vec<FoundGame>) {
        // The cursor stays on the same row: a game by position in the list, else the same row
        // among Address / Join address / Back. When the first games appear while the cursor
        // waits on an empty Address field, it moves to the first game (Enter joins it).
        let old_list = self.games.len().max(1);
        let first_games = self.games.is_empty() && !games.is_empty();
        let new_list = games.len().max(1);
        if self.screen == Screen::Join && self.cursor >= old_list {
            self.cursor = new_list + (self.cursor - old_list);
        }
        self.games = games;
        self.searched = true;
        if self.screen == Screen::Join && first_games && self.cursor == new_list && self.address.is_empty() {
            self.cursor = 0;
        }
        self.clamp_cursor();
    }

    /// The recordings, as read: the cursor goes to the newest.
    pub fn set_replays(&mut self, entries: Vec<ReplayEntry>) {
        let first = self.replays.is_none();
        self.replays = Some(entries);
        if first && self.screen == Screen::Replays {
            self.cursor = 0;
        }
        self.clamp_cursor();
    }

    /// The match ended or was left: back to the main menu (the recordings are listed afresh).
    pub fn back_to_main(&mut self) {
        self.go(Screen::Main);
        self.hosting = None;
        self.replays = None;
    }

    /// Esc in a match: the pause menu on Resume.
    pub fn pause(&mut self) {
        self.go(Screen::Pause);
    }

    fn go(&mut self, screen: Screen) {
        if matches!(screen, Screen::Settings | Screen::Keys)
            && !matches!(self.screen, Screen::Settings | Screen::Keys)
        {
            self.settings_from = self.screen;
        }
        if screen == Screen::Join {
            self.searched = false;
            self.games.clear();
        }
        if screen == Screen::Replays {
            self.replays = None;
        }
        self.screen = screen;
        self.cursor = 0;
        self.clamp_cursor();
    }

    /// The rows of the screen showing.
    pub fn rows(&self) -> Vec<Row> {
        let s = &self.settings;
        match self.screen {
            Screen::Main => vec![
                Row::button("Play vs AI"),
                Row::with("  AI players", s.ai.to_string(), RowKind::Choice),
                Row::with("  Map", s.map.clone(), RowKind::Choice),
                Row::button("Host a LAN game"),
                Row::button("Join a game"),
                Row::button("Replays"),
                Row::button("Settings"),
                Row::button("Quit"),
            ],
            Screen::Host => vec![
                Row::button("Start hosting"),
                Row::with("Game name", self.host_name.clone(), RowKind::Text),
                Row::with("AI fill", s.ai.to_string(), RowKind::Choice),
                Row::with("Map", s.map.clone(), RowKind::Choice),
                Row::button("Back"),
            ],
            Screen::Join => {
                let mut rows: Vec<Row> = self
                    .games
                    .iter()
                    .map(|g| {
                        Row::with(
                            g.game.name.clone(),
                            format!(
                                "{}   {}/{} players{}   {}",
                                g.game.map,
                                g.game.players,
                                g.game.max_players,
                                if g.game.ai > 0 {
                                    format!(" +{} AI", g.game.ai)
                                } else {
                                    String::new()
                                },
                                ping_text(g.ping)
                            ),
                            RowKind::Button,
                        )
                    })
                    .collect();
                if rows.is_empty() {
                    let what = if self.searched {
                        "no games found on the LAN (still looking)"
                    } else {
                        "searching the LAN..."
                    };
                    rows.push(Row::with(what, "", RowKind::Info));
                }
                rows.push(Row::with("Address", self.address.clone(), RowKind::Text));
                rows.push(Row::button("Join address"));
                rows.push(Row::button("Back"));
                rows
            }
            Screen::Replays => {
                let mut rows: Vec<Row> = match &self.replays {
                    None => vec![Row::with("reading the recordings...", "", RowKind::Info)],
                    Some(list) if list.is_empty() => vec![Row::with(
                        "no recordings yet: play a match (Settings: record matches)",
                        "",
                        RowKind::Info,
                    )],
                    Some(list) => list
                        .iter()
                        .map(|e| {
                            let value = match &e.summary {
                                Ok((len, players)) => {
                                    let len = *len as u64;
                                    format!("{}:{:02}   {players} players", len / 60, len % 60)
                                }
                                Err(why) => format!("unreadable: {why}"),
                            };
                            Row::with(e.date.clone(), value, RowKind::Button)
                        })
                        .collect(),
                };
                rows.push(Row::button("Back"));
                rows
            }
            Screen::Settings => vec![
                Row::with("Name", s.name.clone(), RowKind::Text),
                Row::with(
                    "Network (practise lag)",
                    s.net_preset.clone().unwrap_or_else(|| "perfect".into()),
                    RowKind::Choice,
                ),
                Row::with("Master volume", percent(s.master_volume), RowKind::Choice),
                Row::with("Effects volume", percent(s.effects_volume), RowKind::Choice),
                Row::with("Mute", on_off(s.muted), RowKind::Choice),
                Row::with("Record every match", on_off(s.record_matches), RowKind::Choice),
                Row::with("Killcam after a death", on_off(s.killcam), RowKind::Choice),
                Row::button("Keys"),
                Row::button("Back"),
            ],
            Screen::Keys => {
                let mut rows: Vec<Row> = KEY_HELP
                    .iter()
                    .map(|(k, what)| Row::with(*k, *what, RowKind::Info))
                    .collect();
                rows.push(Row::button("Back"));
                rows
            }
            Screen::Pause => vec![
                Row::button("Resume"),
                Row::button("Settings"),
                Row::button("Leave match"),
            ],
        }
    }

    fn selectable(rows: &[Row], i: usize) -> bool {
        rows.get(i).is_some_and(|r| r.kind != RowKind::Info)
    }

    fn clamp_cursor(&mut self) {
        let rows = self.rows();
        if rows.is_empty() {
            self.cursor = 0;
            return;
        }
        self.cursor = self.cursor.min(rows.len() - 1);
        if !Self::selectable(&rows, self.cursor) {
            self.cursor = (self.cursor..rows.len())
                .chain((0..self.cursor).rev())
                .find(|&i| Self::selectable(&rows, i))
                .unwrap_or(0);
        }
    }

    fn move_cursor(&mut self, down: bool) -> bool {
        let rows = self.rows();
        let n = rows.len();
        let mut i = self.cursor;
        for _ in 0..n {
            i = if down { (i + 1) % n } else { (i + n - 1) % n };
            if Self::selectable(&rows, i) {
                let moved = i != self.cursor;
                self.cursor = i;
                return moved;
            }
        }
        false
    }

    /// Handles one input.
    pub fn handle(&mut self, input: Input) -> Outcome {
        let mut out = Outcome::idle();
        match input {
            Input::Up | Input::Down => out.click = self.move_cursor(input == Input::Down),
            Input::Hover(i) => {
                if Self::selectable(&self.rows(), i) {
                    self.cursor = i;
                }
            }
            Input::Click(i) => {
                if Self::selectable(&self.rows(), i) {
                    self.cursor = i;
                    out = self.activate(true);
                }
            }
            Input::Enter => out = self.activate(false),
            Input::Left | Input::Right => {
                out.settings_changed = self.change(input == Input::Right);
                out.click = out.settings_changed;
            }
            Input::Back => {
                out.click = true;
                match self.screen {
                    Screen::Main => out.click = false,
                    Screen::Pause => out.action = Action::Resume,
                    Screen::Keys => self.go(Screen::Settings),
                    Screen::Settings => self.go(self.settings_from),
                    Screen::Host | Screen::Join | Screen::Replays => self.go(Screen::Main),
                }
            }
            Input::Char(c) => {
                out.settings_changed = self.edit(|t, max| {
                    if !c.is_control() && t.chars().count() < max {
                        t.push(c);
                    }
                })
            }
            Input::Backspace => {
                out.settings_changed = self.edit(|t, _| {
                    t.pop();
                })
            }
        }
        out
    }

    /// Applies `f` to the text row under the cursor; true when that was the player's name.
    fn edit(&mut self, f: impl FnOnce(&mut String, usize)) -> bool {
        let Some(row) = self.rows().into_iter().nth(self.cursor) else {
            return false;
        };
        if row.kind != RowKind::Text {
            return false;
        }
        match self.screen {
            Screen::Host => f(&mut self.host_name, 32),
            Screen::Join => f(&mut self.address, MAX_ADDR_CHARS),
            Screen::Settings => {
                f(&mut self.settings.name, MAX_NAME_CHARS);
                return true;
            }
            _ => {}
        }
        false
    }

    /// Changes the choice under the cursor; true when a setting changed.
    fn change(&mut self, up: bool) -> bool {
        let s = &mut self.settings;
        let cycle = |i: usize, n: usize| if up { (i + 1) % n } else { (i + n - 1) % n };
        match (self.screen, self.cursor) {
            (Screen::Main, 1) | (Screen::Host, 2) => {
                s.ai = if up {
                    if s.ai >= MAX_AI { 0 } else { s.ai + 1 }
                } else if s.ai == 0 {
                    MAX_AI
                } else {
                    s.ai - 1
                };
            }
            (Screen::Main, 2) | (Screen::Host, 3) => {
                let i = self.maps.iter().position(|m| *m == s.map).unwrap_or(0);
                if let Some(m) = self.maps.get(cycle(i, self.maps.len().max(1))) {
                    s.map = m.clone();
                }
            }
            (Screen::Settings, 1) => {
                let choices = preset_choices();
                let i = choices.iter().position(|p| *p == s.net_preset).unwrap_or(0);
                s.net_preset = choices[cycle(i, choices.len())].clone();
            }
            (Screen::Settings, 2) => s.master_volume = step_volume(s.master_volume, up),
            (Screen::Settings, 3) => s.effects_volume = step_volume(s.effects_volume, up),
            (Screen::Settings, 4) => s.muted = !s.muted,
            (Screen::Settings, 5) => s.record_matches = !s.record_matches,
            (Screen::Settings, 6) => s.killcam = !s.killcam,
            _ => return false,
        }
        true
    }

    fn activate(&mut self, clicked: bool) -> Outcome {
        let mut out = Outcome::idle();
        let rows = self.rows();
        let Some(row) = rows.get(self.cursor) else {
            return out;
        };
        out.click = true;
        match row.kind {
            RowKind::Info => {
                out.click = false;
                return out;
            }
            RowKind::Choice => {
                out.settings_changed = self.change(true);
                return out;
            }
            RowKind::Text if !clicked => {
                // Enter in a text field: the Join address joins, the others move on.
                if self.screen == Screen::Join {
                    return self.join_typed();
                }
                self.move_cursor(true);
                return out;
            }
            RowKind::Text => return out,
            RowKind::Button => {}
        }
        // List rows first, by position: a game's name comes from the network and may be "Back".
        if self.screen == Screen::Join && self.cursor < self.games.len() {
            let g = &self.games[self.cursor];
            out.action = Action::Join {
                addr: g.addr.to_string(),
                cert_hash: Some(g.game.cert_hash_hex()),
            };
            return out;
        }
        if let (Screen::Replays, Some(list)) = (self.screen, &self.replays)
            && let Some(e) = list.get(self.cursor)
        {
            out.action = Action::OpenReplay(e.path.clone());
            return out;
        }
        let label = row.label.as_str();
        match (self.screen, label) {
            (Screen::Main, "Play vs AI") => out.action = Action::PlayAi,
            (Screen::Main, "Host a LAN game") => self.go(Screen::Host),
            (Screen::Main, "Join a game") => self.go(Screen::Join),
            (Screen::Main, "Replays") => self.go(Screen::Replays),
            (Screen::Main | Screen::Pause, "Settings") => self.go(Screen::Settings),
            (Screen::Main, "Quit") => out.action = Action::Quit,
            (Screen::Host, "Start hosting") => {
                let name = self.host_name.trim();
                out.action = Action::Host {
                    name: if name.is_empty() {
                        format!("{}'s game", self.settings.name)
                    } else {
                        name.to_string()
                    },
                };
            }
            (Screen::Join, "Join address") => return self.join_typed(),
            (Screen::Settings, "Keys") => self.go(Screen::Keys),
            (Screen::Pause, "Resume") => out.action = Action::Resume,
            (Screen::Pause, "Leave match") => out.action = Action::Leave,
            (_, "Back") => return self.handle(Input::Back),
            _ => out.click = false,
        }
        out
    }

    fn join_typed(&mut self) -> Outcome {
        let addr = self.address.trim().to_string();
        let mut out = Outcome::idle();
        out.click = true;
        if addr.is_empty() {
            self.status = Some("type an address first, e.g. 192.168.1.20:4433".into());
        } else {
            out.action = Action::Join {
                addr,
                cert_hash: None,
            };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rewind_shared::lan::LanGame;
    use std::time::Duration;

    fn menu() -> Menu {
        Menu::new(Settings::default(), vec!["arena".into(), "warehouse".into()])
    }

    fn game(name: &str) -> FoundGame {
        FoundGame {
            addr: "127.0.0.1:4999".parse().unwrap(),
            ping: Duration::from_millis(3),
            game: LanGame {
                name: name.into(),
                map: "arena".into(),
                players: 2,
                max_players: 16,
                ai: 1,
                port: 4999,
                protocol: rewind_shared::protocol::PROTOCOL_VERSION,
                cert_sha256: [0xab; 32],
            },
        }
    }

    #[test]
    fn one_enter_plays_against_the_ai() {
        let mut m = menu();
        assert_eq!(m.screen(), Screen::Main);
        let out = m.handle(Input::Enter);
        assert_eq!(out.action, Action::PlayAi);
        assert!(out.click);
    }

    #[test]
    fn ai_count_and_map_are_choices_that_change_the_settings() {
        let mut m = menu();
        m.handle(Input::Down);
        let out = m.handle(Input::Right);
        assert!(out.settings_changed);
        assert_eq!(m.settings.ai, 8);
        for _ in 0..8 {
            m.handle(Input::Right);
        }
        assert_eq!(m.settings.ai, 0, "wraps after {MAX_AI}");
        m.handle(Input::Left);
        assert_eq!(m.settings.ai, MAX_AI);
        m.handle(Input::Down);
        m.handle(Input::Right);
        assert_eq!(m.settings.map, "warehouse");
        m.handle(Input::Click(2));
        assert_eq!(m.settings.map, "arena", "a click cycles too");
    }

    #[test]
    fn join_lists_games_and_one_click_joins_with_the_pin() {
        let mut m = menu();
        let out = m.handle(Input::Click(4));
        assert_eq!(out.action, Action::None);
        assert_eq!(m.screen(), Screen::Join);
        assert!(m.wants_lan_search());
        assert_eq!(m.rows()[0].kind, RowKind::Info, "searching...");
        assert_eq!(m.cursor(), 1, "the cursor skips the info line");
        m.set_games(vec![game("Friday")]);
        assert_eq!(m.cursor(), 0, "the first game found is under the cursor");
        m.handle(Input::Down);
        m.set_games(vec![game("Friday"), game("Back")]);
        assert_eq!(
            m.rows()[m.cursor()].label,
            "Address",
            "the cursor stays on its row"
        );
        assert_eq!(
            m.handle(Input::Click(1)).action,
            Action::Join {
                addr: "127.0.0.1:4999".into(),
                cert_hash: Some("ab".repeat(32)),
            },
            "a game called Back is a game"
        );
        m.set_games(vec![game("Friday")]);
        let rows = m.rows();
        assert_eq!(rows[0].label, "Friday");
        assert_eq!(rows[0].value, "arena   2/16 players +1 AI   3 ms");
        let out = m.handle(Input::Click(0));
        assert_eq!(
            out.action,
            Action::Join {
                addr: "127.0.0.1:4999".into(),
                cert_hash: Some("ab".repeat(32)),
            }
        );
    }

    #[test]
    fn a_typed_address_joins_on_enter_and_an_empty_one_says_why() {
        let mut m = menu();
        m.handle(Input::Click(4));
        let addr_row = m.rows().iter().position(|r| r.label == "Address").unwrap();
        m.handle(Input::Hover(addr_row));
        assert_eq!(m.handle(Input::Enter).action, Action::None);
        assert!(m.status.is_some());
        for c in "[::1]:4433".chars() {
            m.handle(Input::Char(c));
        }
        m.handle(Input::Char('x'));
        m.handle(Input::Backspace);
        assert_eq!(
            m.handle(Input::Enter).action,
            Action::Join {
                addr: "[::1]:4433".into(),
                cert_hash: None
            }
        );
        assert_eq!(m.handle(Input::Back).action, Action::None);
        assert_eq!(m.screen(), Screen::Main);
    }

    #[test]
    fn host_uses_the_typed_name() {
        let mut m = Menu::new(
            Settings {
                name: "Ada".into(),
                ..Settings::default()
            },
            vec!["arena".into()],
        );
        m.handle(Input::Click(3));
        assert_eq!(m.screen(), Screen::Host);
        assert_eq!(m.rows()[1].value, "Ada's game");
        m.handle(Input::Down);
        for _ in 0.."Ada's game".len() {
            m.handle(Input::Backspace);
        }
        for c in "Friday".chars() {
            m.handle(Input::Char(c));
        }
        assert_eq!(
            m.handle(Input::Click(0)).action,
            Action::Host {
                name: "Friday".into()
            }
        );
    }

    #[test]
    fn settings_edit_name_preset_sound_and_recording() {
        let mut m = menu();
        m.handle(Input::Click(6));
        assert_eq!(m.screen(), Screen::Settings);
        m.handle(Input::Backspace);
        assert!(m.handle(Input::Char('Z')).settings_changed);
        assert_eq!(m.settings.name, "playeZ");
        m.handle(Input::Down);
        m.handle(Input::Right);
        assert_eq!(m.settings.net_preset.as_deref(), Some("lan"));
        m.handle(Input::Left);
        m.handle(Input::Left);
        assert_eq!(m.settings.net_preset.as_deref(), Some("mobile-bad"));
        m.handle(Input::Down);
        m.handle(Input::Left);
        assert!((m.settings.master_volume - 0.7).abs() < 1e-6);
        m.handle(Input::Down);
        m.handle(Input::Right);
        assert_eq!(m.settings.effects_volume, 1.0, "already at the top");
        m.handle(Input::Click(4));
        assert!(m.settings.muted);
        assert!(m.settings.record_matches);
        m.handle(Input::Click(5));
        assert!(!m.settings.record_matches);
        assert!(m.settings.killcam);
        m.handle(Input::Click(6));
        assert!(!m.settings.killcam);
        m.handle(Input::Click(7));
        assert_eq!(m.screen(), Screen::Keys);
        m.handle(Input::Back);
        assert_eq!(m.screen(), Screen::Settings);
        m.handle(Input::Back);
        assert_eq!(m.screen(), Screen::Main, "back where Settings was opened");
    }

    #[test]
    fn the_pause_menu_resumes_opens_settings_and_leaves() {
        let mut m = menu();
        m.pause();
        assert_eq!(m.title(), "Paused");
        assert_eq!(m.handle(Input::Back).action, Action::Resume);
        assert_eq!(m.handle(Input::Enter).action, Action::Resume);
        m.handle(Input::Click(1));
        assert_eq!(m.screen(), Screen::Settings);
        m.handle(Input::Back);
        assert_eq!(m.screen(), Screen::Pause, "settings go back to the pause menu");
        assert_eq!(m.handle(Input::Click(2)).action, Action::Leave);
        m.back_to_main();
        assert_eq!(m.screen(), Screen::Main);
        assert_eq!(m.cursor(), 0);
    }

    #[test]
    fn replays_list_opens_a_recording() {
        let mut m = menu();
        m.handle(Input::Click(5));
        assert!(m.wants_replay_scan());
        m.set_replays(vec![
            ReplayEntry {
                path: "/r/a.rwd".into(),
                date: "2026-11-26 01:02".into(),
                summary: Ok((125.4, 8)),
            },
            ReplayEntry {
                path: "/r/b.rwd".into(),
                date: "2026-11-25 10:00".into(),
                summary: Err("truncated".into()),
            },
        ]);
        assert!(!m.wants_replay_scan());
        let rows = m.rows();
        assert_eq!(rows[0].value, "2:05   8 players");
        assert!(rows[1].value.contains("truncated"));
        m.handle(Input::Down);
        assert_eq!(
            m.handle(Input::Enter).action,
            Action::OpenReplay("/r/b.rwd".into())
        );
    }

    #[test]
    fn the_cursor_wraps_and_skips_info_rows() {
        let mut m = menu();
        m.handle(Input::Up);
        assert_eq!(m.rows()[m.cursor()].label, "Quit");
        assert_eq!(m.handle(Input::Enter).action, Action::Quit);
        m.handle(Input::Down);
        assert_eq!(m.cursor(), 0);
        // Info rows are never selected, by keys or clicks.
        m.handle(Input::Click(4));
        m.handle(Input::Click(0));
        assert_eq!(m.cursor(), 1);
        assert!(m.handle(Input::Back).click);
        assert!(!m.handle(Input::Back).click, "Esc on the main menu does nothing");
    }
}
