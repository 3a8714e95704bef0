//! Match rules (`--score-limit`, `--time-limit`, `--matches`, `--forever`): when a match ends,
//! what every client is told, the intermission, and the fresh start of the next match.
//!
//! Time here is the tick count, never a clock, so the rules play out the same under the Pair
//! harness's simulated time as on the wall clock. A new match is a new simulation at the current
//! tick (the tick numbers clients and snapshots use keep counting), with every player re-added
//! at a spawn point with zero scores; its recording (a file per match) starts from that empty
//! world, so it verifies on its own.

use super::ServerCore;
use crate::ecs::SimCore;
use crate::ecs::components::Owner;
use crate::recorder::Recorder;
use rewind_shared::player::{PlayerId, PlayerState, score_rank};
use rewind_shared::protocol::{GameEvent, ServerMsg};
use rewind_shared::tick::Tick;
use serde::Serialize;
use std::sync::Arc;

/// Makes the recording of match `number` (2, 3, ...), starting after tick `start`: the server
/// knows the file names and the signing key, the core only asks.
pub type RecordingFactory = Box<dyn FnMut(u32, Tick) -> Option<Recorder> + Send>;

/// Where the match cycle stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Playing since the tick after `started`.
    Playing {
        /// The last tick before the match's first.
        started: Tick,
    },
    /// Between matches: the final scoreboard is up and nobody moves; the next match starts at
    /// the first tick after `until`.
    Intermission {
        /// The last tick of the pause.
        until: Tick,
    },
    /// The last match is over: the server should stop.
    Done,
}

/// Why a match ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchEnd {
    /// A player reached `--score-limit`.
    ScoreLimit,
    /// `--time-limit` elapsed.
    TimeLimit,
}

/// One finished match, for `--stats` (`matches`) and the log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MatchResult {
    /// 1 for the server's first match.
    pub number: u32,
    /// Why it ended.
    pub end: MatchEnd,
    /// Ticks it lasted.
    pub ticks: u32,
    /// Every player at the end, best first.
    pub scores: Vec<ScoreLine>,
}

/// One player's line of a final scoreboard.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoreLine {
    /// Player id.
    pub id: u16,
    /// Name.
    pub name: String,
    /// Kills.
    pub kills: u16,
    /// Deaths.
    pub deaths: u16,
}

/// The match cycle's state inside the core.
pub(super) struct Matches {
    pub(super) number: u32,
    pub(super) phase: Phase,
    pub(super) results: Vec<MatchResult>,
    pub(super) recordings: Option<RecordingFactory>,
}

impl Matches {
    pub(super) fn new() -> Matches {
        Matches {
            number: 1,
            phase: Phase::Playing { started: Tick(0) },
            results: Vec::new(),
            recordings: None,
        }
    }
}

/// Ticks in `d` at `tick_rate`, rounded, at least 1.
fn ticks_in(d: std::time::Duration, tick_rate: u32) -> i32 {
    let t = (d.as_secs_f64() * f64::from(tick_rate)).round();
    (t.min(f64::from(i32::MAX)) as i32).max(1)
}

impl ServerCore {
    /// Whether the last match is over (the pump then stops the server with `MatchOver`).
    pub fn matches_done(&self) -> bool {
        self.matches.phase == Phase::Done
    }

    /// Whether the server is between matches (inputs are ignored, nothing is recorded).
    pub fn in_intermission(&self) -> bool {
        matches!(self.matches.phase, Phase::Intermission { .. })
    }

    /// The number of the match being played (or the last one, between matches).
    pub fn match_number(&self) -> u32 {
        self.matches.number
    }

    /// Every finished match so far.
    pub fn match_results(&self) -> &[MatchResult] {
        &self.matches.results
    }

    /// Where the recordings of the matches after the first come from (`serve --record` with
    /// `--matches`/`--forever`); without one, only the first match is recorded.
    pub fn set_recordings(&mut self, factory: RecordingFactory) {
        self.matches.recordings = Some(factory);
    }

    /// The `MatchStart` event describing the current match.
    pub(super) fn match_start_event(&self) -> ServerMsg {
        let r = self.cfg.rules;
        ServerMsg::Event(GameEvent::MatchStart {
            number: self.matches.number,
            score_limit: r.score_limit,
            time_limit_s: r
                .time_limit
                .map(|t| u32::try_from(t.as_secs()).unwrap_or(u32::MAX)),
        })
    }

    /// Before a tick: at the end of an intermission, the next match begins.
    pub(super) fn match_before_tick(&mut self) {
        let tick = self.sim.tick();
        if let Phase::Intermission { until } = self.matches.phase
            && tick.diff(until) >= 0
        {
            self.start_next_match(tick);
        }
    }

    /// After a tick has been simulated and recorded: ends the match when a rule says so.
    pub(super) fn match_after_tick(&mut self, tick: Tick, players: &[PlayerState]) {
        let Phase::Playing { started } = self.matches.phase else {
            return;
        };
        let rules = self.cfg.rules;
        let best = players.iter().map(|p| p.score.kills).max().unwrap_or(0);
        let end = if rules.score_limit.is_some_and(|limit| best >= limit) {
            Some(MatchEnd::ScoreLimit)
        } else if rules
            .time_limit
            .is_some_and(|t| tick.diff(started) >= ticks_in(t, self.cfg.tick_rate))
        {
            Some(MatchEnd::TimeLimit)
        } else {
            None
        };
        if let Some(end) = end {
            self.end_match(tick, started, end, players);
        }
    }

    fn end_match(&mut self, tick: Tick, started: Tick, end: MatchEnd, players: &[PlayerState]) {
        let rules = self.cfg.rules;
        let mut ranked: Vec<&PlayerState> = players.iter().collect();
        ranked.sort_by_key(|p| score_rank(p.id, p.score.kills, p.score.deaths));
        let reason = match end {
            MatchEnd::ScoreLimit => format!("score limit {} reached", rules.score_limit.unwrap_or_default()),
            MatchEnd::TimeLimit => "time limit reached".to_string(),
        };
        let last = rules.matches.is_some_and(|n| self.matches.number >= n);
        let pause = ticks_in(rules.intermission, self.cfg.tick_rate);
        let next_in_ms = (!last).then(|| u32::try_from(rules.intermission.as_millis()).unwrap_or(u32::MAX));
        let scores: Vec<(PlayerId, u16, u16)> = ranked
            .iter()
            .map(|p| (p.id, p.score.kills, p.score.deaths))
            .collect();
        self.broadcast(&ServerMsg::Event(GameEvent::MatchOver {
            reason: reason.clone(),
            scores,
            next_in_ms,
        }));
        let result = MatchResult {
            number: self.matches.number,
            end,
            ticks: u32::try_from(tick.diff(started)).unwrap_or(0),
            scores: ranked
                .iter()
                .map(|p| ScoreLine {
                    id: p.id.0,
                    name: self.names.get(&p.id).cloned().unwrap_or_default(),
                    kills: p.score.kills,
                    deaths: p.score.deaths,
                })
                .collect(),
        };
        tracing::info!(
            number = result.number,
            %reason,
            ticks = result.ticks,
            winner = result.scores.first().map(|s| s.name.as_str()).unwrap_or("-"),
            "match over"
        );
        self.matches.results.push(result);
        if let Some(rec) = self.recorder.take() {
            rec.finish();
        }
        self.matches.phase = if last {
            Phase::Done
        } else {
            Phase::Intermission {
                until: tick.offset(pause),
            }
        };
    }

    /// A fresh simulation at the current tick; everyone (AI, clients, players parked for a
    /// resume) joins it again in id order, and the next recording starts.
    fn start_next_match(&mut self, tick: Tick) {
        let owners = self.sim.owners();
        let map = Arc::new(self.cfg.map.clone());
        self.sim = SimCore::new(self.cfg.sim_config(), map, tick);
        // Players already waiting to join stay after the returning ones.
        let waiting = std::mem::take(&mut self.pending_joins);
        self.pending_joins = owners
            .into_iter()
            .filter(|(id, _)| !waiting.iter().any(|(w, _)| w == id))
            .collect::<Vec<(PlayerId, Owner)>>();
        self.pending_joins.extend(waiting);
        // Leaves from the intermission belong to no recording: the new one starts empty.
        self.pending_leaves.clear();
        self.matches.number += 1;
        self.matches.phase = Phase::Playing { started: tick };
        let number = self.matches.number;
        if let Some(factory) = self.matches.recordings.as_mut() {
            self.recorder = factory(number, tick);
        }
        tracing::info!(number, "match starting");
        let msg = self.match_start_event();
        self.broadcast(&msg);
    }
}
