//! The replay viewer's clock and state, without a window: where in the match we are (a fractional
//! tick, so drawing can interpolate), how fast and whether paused, and what happened recently
//! (shots with the hitboxes they were traced against, kills, chat) so the kill feed and tracers
//! are shown "as they were" at that moment.
//!
//! Playing forward steps a `ReplayCursor` one tick at a time. Seeking asks the replay for a cursor
//! a few seconds before the target (nearest keyframe + re-simulation, bounded by the keyframe
//! interval) and re-simulates the last seconds to rebuild the recent events, so a seek costs the
//! same anywhere in the match.

use rewind_shared::Vec2;
use rewind_shared::player::{PlayerId, PlayerState};
use rewind_shared::quant::q_to_pos2;
use rewind_shared::replay::{Replay, ReplayCursor, ReplayError};
use rewind_shared::sim::{Shot, ShotMode, SimEvent};
use rewind_shared::tick::Tick;
use std::collections::{BTreeMap, VecDeque};

/// Playback speeds offered (Up/Down, +/-).
pub const SPEEDS: [f32; 6] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0];
/// Index of 1× in `SPEEDS`.
pub const NORMAL_SPEED: usize = 2;
/// Arrow keys seek by this much.
pub const SEEK_STEP_S: f64 = 5.0;
/// Kills this recent (match time) are kept for the feed (the HUD shows 6 s).
pub const FEED_WINDOW_S: f64 = 6.0;
/// Shots this recent are kept for tracers and hit markers.
pub const SHOT_WINDOW_S: f64 = 1.5;
/// Chat this recent is kept.
pub const CHAT_WINDOW_S: f64 = 12.0;
/// A player who moved farther than this between two ticks respawned: do not interpolate.
const TELEPORT: f32 = 48.0;

/// A shot and the hitboxes it was traced against: for a lag-compensated shot, where the shooter
/// saw the other players (rebuilt from the history exactly as the server did); otherwise where
/// they were at the tick.
#[derive(Clone, Debug, PartialEq)]
pub struct ShotSeen {
    /// The tick the shot was fired in.
    pub tick: Tick,
    /// The shot as the simulation resolved it.
    pub shot: Shot,
    /// Hitboxes the ray was traced against (the shooter excluded later by the drawing).
    pub traced: Vec<(PlayerId, Vec2)>,
    /// Where the target really was after the tick, when it was hit.
    pub target_now: Option<Vec2>,
}

/// A kill at a tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KillSeen {
    /// When.
    pub tick: Tick,
    /// Who fired.
    pub killer: PlayerId,
    /// Who died.
    pub victim: PlayerId,
}

/// A chat line at a tick.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatSeen {
    /// When.
    pub tick: Tick,
    /// Who said it.
    pub who: PlayerId,
    /// What.
    pub text: String,
}

/// The viewer's position in a replay and what it shows there.
#[derive(Clone, Debug)]
pub struct Playback<'r> {
    replay: &'r Replay,
    names: BTreeMap<PlayerId, String>,
    /// The world after tick `first + idx` where `idx = ceil(pos)`.
    cursor: ReplayCursor<'r>,
    /// Players after the tick before the cursor's (interpolation start).
    prev: Vec<PlayerState>,
    /// Display time in ticks since the first tick, `0..=len`.
    pos: f64,
    speed: usize,
    paused: bool,
    shots: VecDeque<ShotSeen>,
    kills: VecDeque<KillSeen>,
    chat: VecDeque<ChatSeen>,
    diverged: Option<Tick>,
}

impl<'r> Playback<'r> {
    /// Starts at the beginning of the match, playing at 1×.
    pub fn new(replay: &'r Replay) -> Playback<'r> {
        let mut names = BTreeMap::new();
        for kf in replay.keyframes() {
            names.extend(kf.roster.iter().cloned());
        }
        for r in replay.records() {
            names.extend(r.joins.iter().cloned());
        }
        let cursor = replay.cursor_at_start();
        Playback {
            replay,
            names,
            prev: cursor.world().players.clone(),
            cursor,
            pos: 0.0,
            speed: NORMAL_SPEED,
            paused: false,
            shots: VecDeque::new(),
            kills: VecDeque::new(),
            chat: VecDeque::new(),
            diverged: None,
        }
    }

    /// The replay being shown.
    pub fn replay(&self) -> &'r Replay {
        self.replay
    }

    /// Recorded ticks.
    pub fn len(&self) -> usize {
        self.replay.records().len()
    }

    /// Whether the recording has no ticks at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn rate(&self) -> f64 {
        f64::from(self.replay.header().cfg.tick_rate.max(1))
    }

    fn idx(&self) -> usize {
        self.cursor.tick().diff(self.replay.first_tick()).max(0) as usize
    }

    /// Display time in ticks since the start (fractional between ticks).
    pub fn position_ticks(&self) -> f64 {
        self.pos
    }

    /// Display time in seconds since the start.
    pub fn time_s(&self) -> f64 {
        self.pos / self.rate()
    }

    /// Recorded length in seconds.
    pub fn duration_s(&self) -> f64 {
        self.replay.duration_s()
    }

    /// The tick whose state is shown (the one being interpolated towards).
    pub fn tick(&self) -> Tick {
        self.cursor.tick()
    }

    /// Current speed factor.
    pub fn speed(&self) -> f32 {
        SPEEDS[self.speed]
    }

    /// Paused (also set when the end is reached).
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Whether the display time is at the end of the recording.
    pub fn at_end(&self) -> bool {
        self.pos >= self.len() as f64
    }

    /// The first tick whose re-simulated hash differed from the recording, if any was played.
    pub fn diverged(&self) -> Option<Tick> {
        self.diverged
    }

    /// Space: pause, or resume (from the start again when at the end).
    pub fn toggle_pause(&mut self) -> Result<(), ReplayError> {
        if self.paused && self.at_end() {
            self.seek_ticks(0.0)?;
            self.paused = false;
        } else {
            self.paused = !self.paused;
        }
        Ok(())
    }

    /// Sets paused or playing.
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    /// One step faster (`up`) or slower along `SPEEDS`, clamped.
    pub fn change_speed(&mut self, up: bool) {
        self.speed = if up {
            (self.speed + 1).min(SPEEDS.len() - 1)
        } else {
            self.speed.saturating_sub(1)
        };
    }

    /// Advances the display time by `dt_s` wall-clock seconds times the speed, stepping the
    /// simulation as needed; stops (paused) at the end.
    pub fn advance(&mut self, dt_s: f64) {
        if self.paused || !dt_s.is_finite() || dt_s <= 0.0 {
            return;
        }
        let end = self.len() as f64;
        self.pos = (self.pos + dt_s * f64::from(self.speed()) * self.rate()).min(end);
        while (self.idx() as f64) < self.pos.ceil() {
            if !self.step_one() {
                break;
            }
        }
        if self.at_end() {
            self.paused = true;
        }
    }

    /// Seeks by `delta_s` seconds of match time (arrow keys).
    pub fn seek_by(&mut self, delta_s: f64) -> Result<(), ReplayError> {
        self.seek_ticks(self.pos + delta_s * self.rate())
    }

    /// Seeks to a fraction `0..=1` of the recording (the timeline).
    pub fn seek_fraction(&mut self, f: f64) -> Result<(), ReplayError> {
        self.seek_ticks(f.clamp(0.0, 1.0) * self.len() as f64)
    }

    /// Seeks to a display time in ticks since the start (clamped to the recording): a cursor from
    /// the nearest keyframe a few seconds earlier, re-simulated to the target so the recent
    /// shots and kills are known.
    pub fn seek_ticks(&mut self, target: f64) -> Result<(), ReplayError> {
        let len = self.len();
        let target = if target.is_finite() {
            target.clamp(0.0, len as f64)
        } else {
            0.0
        };
        let idx = (target.ceil() as usize).min(len);
        let lead = (FEED_WINDOW_S.max(SHOT_WINDOW_S) * self.rate()).ceil() as usize;
        let start = idx.saturating_sub(lead);
        let first = self.replay.first_tick();
        self.cursor = self.replay.cursor_at(first.offset(start as i32))?;
        self.prev = self.cursor.world().players.clone();
        self.shots.clear();
        self.kills.clear();
        self.pos = start as f64;
        while self.idx() < idx {
            if !self.step_one() {
                break;
            }
        }
        self.pos = target;
        self.chat.clear();
        let chat_from = idx.saturating_sub((CHAT_WINDOW_S * self.rate()).ceil() as usize);
        for r in self.replay.records().get(chat_from..idx).unwrap_or_default() {
            self.push_chat(r.tick, &r.chat);
        }
        self.prune();
        Ok(())
    }

    fn push_chat(&mut self, tick: Tick, lines: &[(PlayerId, String)]) {
        for (who, text) in lines {
            self.chat.push_back(ChatSeen {
                tick,
                who: *who,
                text: text.clone(),
            });
        }
    }

    /// Applies the next record, collecting its events. False at the end of the recording.
    fn step_one(&mut self) -> bool {
        let prev = self.cursor.world().players.clone();
        let Some(out) = self.cursor.step() else {
            return false;
        };
        self.prev = prev;
        let tick = out.record.tick;
        if !out.hash_ok && self.diverged.is_none() {
            tracing::warn!(%tick, "replay diverges from its recorded hash");
            self.diverged = Some(tick);
        }
        self.push_chat(tick, &out.record.chat);
        let players = &self.cursor.world().players;
        let present = |id: PlayerId| players.iter().find(|p| p.id == id).map(|p| p.body.pos);
        for e in out.events {
            match e {
                SimEvent::Shot(shot) => {
                    // The step hands over exactly the hitboxes it traced.
                    let traced = match shot.mode {
                        ShotMode::Rewound | ShotMode::TooOld => {
                            shot.traced.iter().map(|(id, q)| (*id, q_to_pos2(*q))).collect()
                        }
                        ShotMode::Present | ShotMode::Refused => players
                            .iter()
                            .filter(|p| p.life.alive() || Some(p.id) == shot.target)
                            .map(|p| (p.id, p.body.pos))
                            .collect(),
                    };
                    self.shots.push_back(ShotSeen {
                        tick,
                        traced,
                        target_now: shot.target.and_then(present),
                        shot,
                    });
                }
                SimEvent::Kill { killer, victim } => self.kills.push_back(KillSeen { tick, killer, victim }),
                SimEvent::Respawn(_) => {}
            }
        }
        self.prune();
        true
    }

    /// Drops events too old to be shown.
    fn prune(&mut self) {
        let now = self.cursor.tick();
        let rate = self.rate();
        let older = |t: Tick, window_s: f64| f64::from(now.diff(t)) > window_s * rate;
        while self.shots.front().is_some_and(|s| older(s.tick, SHOT_WINDOW_S)) {
            self.shots.pop_front();
        }
        while self.kills.front().is_some_and(|k| older(k.tick, FEED_WINDOW_S)) {
            self.kills.pop_front();
        }
        while self.chat.front().is_some_and(|c| older(c.tick, CHAT_WINDOW_S)) {
            self.chat.pop_front();
        }
    }

    /// Match seconds between the display time and an event at `tick` (an event happens over
    /// the step into its tick, so it is age 0 from the tick before).
    pub fn age_s(&self, tick: Tick) -> f32 {
        let at = f64::from(tick.diff(self.replay.first_tick())) - 1.0;
        ((self.pos - at).max(0.0) / self.rate()) as f32
    }

    /// Players present now, with positions interpolated between the last two ticks.
    pub fn players(&self) -> Vec<(PlayerState, Vec2)> {
        let alpha = (self.pos - (self.idx() as f64 - 1.0)).clamp(0.0, 1.0) as f32;
        self.cursor
            .world()
            .players
            .iter()
            .map(|p| {
                let from = self.prev.iter().find(|q| q.id == p.id);
                let pos = match from {
                    Some(q)
                        if q.life.alive() == p.life.alive() && q.body.pos.distance(p.body.pos) < TELEPORT =>
                    {
                        q.body.pos.lerp(p.body.pos, alpha)
                    }
                    _ => p.body.pos,
                };
                (*p, pos)
            })
            .collect()
    }

    /// Present players in roster (id) order: what the number keys pick from.
    pub fn roster(&self) -> Vec<PlayerId> {
        self.cursor.roster().keys().copied().collect()
    }

    /// Every player the recording names, by id.
    pub fn all_names(&self) -> impl Iterator<Item = (PlayerId, &String)> {
        self.names.iter().map(|(id, n)| (*id, n))
    }

    /// A player's name (anyone who was ever in the match), or its id.
    pub fn name(&self, id: PlayerId) -> String {
        self.names.get(&id).cloned().unwrap_or_else(|| id.to_string())
    }

    /// Recent shots, oldest first.
    pub fn shots(&self) -> impl Iterator<Item = &ShotSeen> {
        self.shots.iter()
    }

    /// Recent kills, oldest first.
    pub fn kills(&self) -> impl Iterator<Item = &KillSeen> {
        self.kills.iter()
    }

    /// Recent chat, oldest first.
    pub fn chat(&self) -> impl Iterator<Item = &ChatSeen> {
        self.chat.iter()
    }
}
