//! The killcam a victim receives at death (`ServerMsg::Killcam`): the last seconds before the kill
//! as the server's lag-compensation history holds them, the killer's view of the killing shot and
//! what the server traced it against, so the client can show the kill as the killer drew it and
//! then as the server saw it.
//!
//! Bounded by construction (`KILLCAM_MAX_TICKS` frames of at most `KILLCAM_MAX_PLAYERS` players,
//! `KILLCAM_MAX_SHOTS` shots), so the encoded message never exceeds `KILLCAM_MAX_BYTES`; a
//! received one is checked with `Killcam::validate` before anything reads it.

use crate::input::ShotView;
use crate::interp::{ALPHA_ONE, alpha_from_fraction, interp_q};
use crate::lagcomp::{HitboxSample, interpolate_hitboxes};
use crate::map::Map;
use crate::player::PlayerId;
use crate::quant::{pos2_to_q, q_to_pos2};
use crate::sim::{Shot, ShotMode};
use crate::tick::Tick;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use thiserror::Error;

/// Most ticks of history a killcam carries: 3 s at 64 Hz (3.2 s at the default 60 Hz is cut to
/// 3 s by the server; at 128 Hz it is 1.5 s).
pub const KILLCAM_MAX_TICKS: usize = 192;
/// Seconds of history the server sends when its tick rate allows.
pub const KILLCAM_SECONDS: f32 = 3.0;
/// Most players a killcam shows: the killer, the victim and those nearest the shot.
pub const KILLCAM_MAX_PLAYERS: usize = 16;
/// Most of the killer's shots a killcam carries (10 shots a second for 3 s is 30).
pub const KILLCAM_MAX_SHOTS: usize = 64;
/// The encoded `ServerMsg::Killcam` never exceeds this many bytes (the worst case of the bounds
/// above is about 33 KiB; `shared/tests/killcam.rs` encodes it). It fits one control frame
/// (`MAX_CONTROL_FRAME`, 64 KiB) and stays under the codec's allocation limit when decoded.
pub const KILLCAM_MAX_BYTES: usize = 40 * 1024;

/// One of the killer's shots inside the killcam window (tracers and sounds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillcamShot {
    /// Server tick the shot was simulated at.
    pub tick: Tick,
    /// Ray origin, quantized.
    pub from: [i32; 2],
    /// Where the ray stopped, quantized.
    pub to: [i32; 2],
    /// Who it hit, if anyone.
    pub hit: Option<PlayerId>,
}

/// The killcam of one death.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Killcam {
    /// Who fired the killing shot.
    pub killer: PlayerId,
    /// Who died (the receiver).
    pub victim: PlayerId,
    /// Server tick of the killing shot.
    pub tick: Tick,
    /// The view the killer sent with it (`None`: traced at the present, no rewind).
    pub view: Option<ShotView>,
    /// How the server positioned the targets.
    pub mode: ShotMode,
    /// Ray origin, quantized.
    pub origin: [i32; 2],
    /// Where the ray stopped, quantized.
    pub end: [i32; 2],
    /// The hitboxes the server traced the shot against, of the players in `players`, in the
    /// order it traced them (empty for a present-time shot).
    pub traced: Vec<(PlayerId, [i32; 2])>,
    /// Tick of `frames[0]`; frame `i` is the end of tick `first_tick + i`, the last is `tick`.
    pub first_tick: Tick,
    /// Who the frames show, killer and victim first.
    pub players: Vec<PlayerId>,
    /// Positions at each tick, index-aligned with `players`; `None`: dead or not in the match.
    /// Coded against each other on the wire (`killcam_frames`).
    #[serde(with = "crate::killcam_frames::serde_frames")]
    pub frames: Vec<Vec<Option<[i32; 2]>>>,
    /// The killer's shots in the window, oldest first (the killing shot last).
    pub shots: Vec<KillcamShot>,
}

/// Why a received killcam is not used.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum KillcamError {
    /// A list is longer than its bound.
    #[error("killcam {what} has {len} entries, the limit is {limit}")]
    TooLong {
        /// Which list.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The bound.
        limit: usize,
    },
    /// The frames do not line up with the players or the shot's tick.
    #[error("killcam is inconsistent: {0}")]
    Inconsistent(&'static str),
}

impl Killcam {
    /// Checks every bound and that the frames end at the shot's tick, one entry per player.
    pub fn validate(&self) -> Result<(), KillcamError> {
        let bound = |what, len, limit| {
            if len > limit {
                Err(KillcamError::TooLong { what, len, limit })
            } else {
                Ok(())
            }
        };
        bound("frames", self.frames.len(), KILLCAM_MAX_TICKS)?;
        bound("players", self.players.len(), KILLCAM_MAX_PLAYERS)?;
        bound("traced", self.traced.len(), KILLCAM_MAX_PLAYERS)?;
        bound("shots", self.shots.len(), KILLCAM_MAX_SHOTS)?;
        if self.frames.is_empty() {
            return Err(KillcamError::Inconsistent("no frames"));
        }
        if self.frames.iter().any(|f| f.len() != self.players.len()) {
            return Err(KillcamError::Inconsistent("a frame does not match the players"));
        }
        if self.first_tick.offset(self.frames.len() as i32 - 1) != self.tick {
            return Err(KillcamError::Inconsistent("the frames do not end at the kill"));
        }
        if self.players.first() != Some(&self.killer) || self.players.get(1) != Some(&self.victim) {
            return Err(KillcamError::Inconsistent("killer and victim must come first"));
        }
        Ok(())
    }

    /// The frame of `tick`, if the killcam has it.
    pub fn frame(&self, tick: Tick) -> Option<&[Option<[i32; 2]>]> {
        let i = tick.diff(self.first_tick);
        usize::try_from(i)
            .ok()
            .and_then(|i| self.frames.get(i))
            .map(Vec::as_slice)
    }

    /// The frame of `tick` as lag-compensation samples (dead and absent players left out).
    pub fn samples(&self, tick: Tick) -> Option<Vec<HitboxSample>> {
        let frame = self.frame(tick)?;
        Some(
            self.players
                .iter()
                .zip(frame)
                .filter_map(|(id, pos)| {
                    pos.map(|pos| HitboxSample {
                        id: *id,
                        pos,
                        alive: true,
                    })
                })
                .collect(),
        )
    }

    /// The killer's view of the killing shot rebuilt from the frames with the same shared
    /// function the server rewinds with (`None` without a view or when the frames miss a tick).
    /// For a rewound shot it equals `traced` bit for bit (the killer itself included).
    pub fn rewound_view(&self) -> Option<Vec<(PlayerId, [i32; 2])>> {
        self.view_samples(self.view?)
    }

    /// How far behind the server's present the killer's view was, in ticks (0 without a view).
    pub fn view_delay_ticks(&self) -> f64 {
        let Some(v) = self.view else { return 0.0 };
        let span = f64::from(v.tick_b.diff(v.tick_a));
        let at = f64::from(v.tick_a.diff(self.tick)) + span * f64::from(v.alpha) / ALPHA_ONE as f64;
        (-at).max(0.0)
    }

    /// Positions the killer drew `t` ticks after `first_tick` (fractional): its own player at the
    /// server's position, everyone else `view_delay_ticks` behind, interpolated with the shared
    /// integer function. At the kill's tick this is exactly the shot's view.
    pub fn killer_eye(&self, t: f64) -> Vec<(PlayerId, [i32; 2])> {
        let last = self.frames.len().saturating_sub(1) as f64;
        let t = t.clamp(0.0, last);
        let own = self.at_fraction(t);
        // At the kill: the shot's exact view, or for a shot without one, the server's present
        // (where the victim is still standing; the kill's own frame has it dead).
        let view = match self.view {
            Some(v) if t >= last => self.view_samples(v),
            None if t >= last => Some(self.server_present()),
            _ => None,
        };
        let others = view.unwrap_or_else(|| self.at_fraction((t - self.view_delay_ticks()).max(0.0)));
        let killer = own.iter().find(|(id, _)| *id == self.killer).copied();
        killer
            .into_iter()
            .chain(others.into_iter().filter(|(id, _)| *id != self.killer))
            .collect()
    }

    /// The exact view of the shot from the frames, as (id, position).
    fn view_samples(&self, v: ShotView) -> Option<Vec<(PlayerId, [i32; 2])>> {
        let (a, b) = (self.samples(v.tick_a)?, self.samples(v.tick_b)?);
        Some(
            interpolate_hitboxes(&a, &b, v.alpha)
                .into_iter()
                .map(|(q, id)| (id, q))
                .collect(),
        )
    }

    /// The server's positions `t` ticks after `first_tick` (fractional), interpolated between
    /// the two frames around it; players alive at both.
    pub fn at_fraction(&self, t: f64) -> Vec<(PlayerId, [i32; 2])> {
        let last = self.frames.len().saturating_sub(1);
        let i = (t.max(0.0).floor() as usize).min(last);
        let j = (i + 1).min(last);
        let alpha = alpha_from_fraction((t - i as f64) as f32);
        let (Some(a), Some(b)) = (self.frames.get(i), self.frames.get(j)) else {
            return Vec::new();
        };
        self.players
            .iter()
            .zip(a.iter().zip(b))
            .filter_map(|(id, (pa, pb))| match (pa, pb) {
                (Some(pa), Some(pb)) => Some((*id, interp_q(*pa, *pb, alpha))),
                (Some(pa), None) => Some((*id, *pa)),
                _ => None,
            })
            .collect()
    }

    /// The server's present at the kill: everyone at the kill's tick, the victim where the server
    /// last had it alive (the kill's own frame already has it dead).
    pub fn server_present(&self) -> Vec<(PlayerId, [i32; 2])> {
        let last = self.frames.len().saturating_sub(1);
        let victim_at = self.frames.iter().rev().find_map(|f| f.get(1).copied().flatten());
        let mut out: Vec<(PlayerId, [i32; 2])> = Vec::new();
        for (i, id) in self.players.iter().enumerate() {
            let pos = self.frames.get(last).and_then(|f| f.get(i).copied().flatten());
            let pos = if *id == self.victim {
                pos.or(victim_at)
            } else {
                pos
            };
            if let Some(pos) = pos {
                out.push((*id, pos));
            }
        }
        out
    }

    /// How many ticks before the kill the victim had been out of the killer's line of sight at
    /// the server's present (walls only), counting back from the kill's tick; 0 when the
    /// server had the victim in sight at the kill.
    pub fn behind_wall_ticks(&self, map: &Map) -> u32 {
        let mut ticks = 0;
        let both = |f: &Vec<Option<[i32; 2]>>| Some((f.first().copied()??, f.get(1).copied()??));
        // The kill's own frame has the victim dead already: start at the last frame with both.
        let frames = self.frames.iter().rev().skip_while(|f| both(f).is_none());
        for frame in frames {
            let Some((k, v)) = both(frame) else {
                break;
            };
            if map.line_of_sight(q_to_pos2(k), q_to_pos2(v)) {
                break;
            }
            ticks += 1;
        }
        ticks
    }
}

/// One tick kept for killcams.
#[derive(Clone, Debug)]
struct Kept {
    tick: Tick,
    /// Hitboxes at the end of the tick, in id order (as the history holds them).
    samples: Vec<HitboxSample>,
    /// Shots of the tick, by shooter.
    shots: Vec<(PlayerId, KillcamShot)>,
}

/// The last `KILLCAM_SECONDS` (at most `KILLCAM_MAX_TICKS` ticks) of hitboxes and shots, from
/// which a killcam is cut at a kill: the server keeps one (`core`), and the replay viewer fills
/// one while re-simulating, so both cut the same killcam from the same history.
#[derive(Clone, Debug)]
pub struct KillcamRing {
    capacity: usize,
    ticks: VecDeque<Kept>,
}

impl KillcamRing {
    /// A ring covering `KILLCAM_SECONDS` at `tick_rate`, within the message's bound.
    pub fn new(tick_rate: u32) -> KillcamRing {
        let wanted = (KILLCAM_SECONDS * tick_rate as f32).ceil() as usize;
        KillcamRing {
            capacity: wanted.clamp(2, KILLCAM_MAX_TICKS),
            ticks: VecDeque::new(),
        }
    }

    /// Keeps the end of `tick`: its hitboxes (id order) and the shots fired in it.
    pub fn record(&mut self, tick: Tick, samples: Vec<HitboxSample>, shots: &[Shot]) {
        while self.ticks.len() >= self.capacity {
            self.ticks.pop_front();
        }
        let shots = shots
            .iter()
            .map(|s| {
                (
                    s.shooter,
                    KillcamShot {
                        tick,
                        from: pos2_to_q(s.origin),
                        to: pos2_to_q(s.origin + s.dir * s.dist),
                        hit: s.target,
                    },
                )
            })
            .collect();
        self.ticks.push_back(Kept { tick, samples, shots });
    }

    /// The killcam of `victim`, killed by `shot` at `tick` (the newest recorded tick). It shows
    /// the killer, the victim and the others the shot was traced against (the players the killer
    /// had in view), the nearest to the shot first, at most `KILLCAM_MAX_PLAYERS`.
    pub fn build(&self, tick: Tick, shot: &Shot, victim: PlayerId) -> Option<Killcam> {
        if self.ticks.back()?.tick != tick {
            return None;
        }
        let killer = shot.shooter;
        let origin = pos2_to_q(shot.origin);
        let dist2 = |q: [i32; 2]| {
            let d = [i64::from(q[0] - origin[0]), i64::from(q[1] - origin[1])];
            d[0] * d[0] + d[1] * d[1]
        };
        let mut others: Vec<(PlayerId, [i32; 2])> = shot
            .traced
            .iter()
            .filter(|(id, _)| *id != killer && *id != victim)
            .copied()
            .collect();
        others.sort_by_key(|(id, q)| (dist2(*q), *id));
        let mut players = vec![killer, victim];
        players.extend(others.iter().map(|(id, _)| *id).take(KILLCAM_MAX_PLAYERS - 2));
        let traced = shot
            .traced
            .iter()
            .filter(|(id, _)| players.contains(id))
            .copied()
            .collect();
        // A player's place in a tick's samples rarely changes from one tick to the next (only
        // when someone joins or leaves), so the last place is tried before a search: a big
        // server builds several killcams a tick, each over seconds of ticks.
        let mut places = vec![0usize; players.len()];
        let frames: Vec<Vec<Option<[i32; 2]>>> = self
            .ticks
            .iter()
            .map(|k| {
                players
                    .iter()
                    .zip(&mut places)
                    .map(|(id, place)| {
                        if k.samples.get(*place).is_none_or(|s| s.id != *id) {
                            *place = k.samples.binary_search_by_key(id, |s| s.id).ok()?;
                        }
                        let s = k.samples[*place];
                        s.alive.then_some(s.pos)
                    })
                    .collect()
            })
            .collect();
        let mut shots: Vec<KillcamShot> = self
            .ticks
            .iter()
            .flat_map(|k| k.shots.iter())
            .filter(|(by, _)| *by == killer)
            .map(|(_, s)| *s)
            .collect();
        let extra = shots.len().saturating_sub(KILLCAM_MAX_SHOTS);
        shots.drain(..extra);
        Some(Killcam {
            killer,
            victim,
            tick,
            view: shot.view,
            mode: shot.mode,
            origin,
            end: pos2_to_q(shot.origin + shot.dir * shot.dist),
            traced,
            first_tick: self.ticks.front()?.tick,
            players,
            frames,
            shots,
        })
    }
}

/// One kill of a recording, for the replay viewer's kill list and `--kill N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KillMoment {
    /// The tick of the kill (and of the killing shot).
    pub tick: Tick,
    /// Who fired.
    pub killer: PlayerId,
    /// Who died.
    pub victim: PlayerId,
}

/// Every kill of a recording, in order (one re-simulation of the whole file).
pub fn kills_in(replay: &crate::replay::Replay) -> Vec<KillMoment> {
    let mut cursor = replay.cursor_at_start();
    let mut out = Vec::new();
    while let Some(step) = cursor.step() {
        let tick = step.record.tick;
        out.extend(step.events.iter().filter_map(|e| match e {
            crate::sim::SimEvent::Kill { killer, victim } => Some(KillMoment {
                tick,
                killer: *killer,
                victim: *victim,
            }),
            _ => None,
        }));
    }
    out
}

/// The killcam of `kill` cut from a recording exactly as the server cuts it live: the same ring
/// filled by re-simulating the seconds before the kill (`None` when the kill is not there).
pub fn from_replay(
    replay: &crate::replay::Replay,
    kill: KillMoment,
) -> Result<Option<Killcam>, crate::replay::ReplayError> {
    let mut ring = KillcamRing::new(replay.header().cfg.tick_rate);
    let from = kill.tick.offset(-(ring.capacity as i32));
    let from = if from.is_after(replay.first_tick()) {
        from
    } else {
        replay.first_tick()
    };
    let mut cursor = replay.cursor_at(from)?;
    while !cursor.world().tick.is_after(kill.tick) {
        let Some(step) = cursor.step() else {
            return Ok(None);
        };
        let tick = step.record.tick;
        let shots: Vec<Shot> = step
            .events
            .iter()
            .filter_map(|e| match e {
                crate::sim::SimEvent::Shot(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        let killing = shots
            .iter()
            .rev()
            .find(|s| s.shooter == kill.killer && s.target == Some(kill.victim))
            .cloned();
        let samples = cursor
            .world()
            .history
            .at(tick)
            .map(<[_]>::to_vec)
            .unwrap_or_default();
        ring.record(tick, samples, &shots);
        if tick == kill.tick {
            return Ok(killing.and_then(|shot| ring.build(tick, &shot, kill.victim)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Players joining and leaving inside the ring move everyone's place in the samples; each
    /// frame must still show each player where that tick had it (or nothing).
    #[test]
    fn frames_follow_each_player_through_joins_and_leaves() {
        let sample = |id: u16, t: u32| HitboxSample {
            id: PlayerId(id),
            pos: [i32::from(id) * 1000 + t as i32, 0],
            alive: id != 4 || t < 3,
        };
        let rosters: [&[u16]; 6] = [
            &[1, 5, 9],
            &[1, 5, 9],
            &[1, 3, 4, 5, 9],
            &[1, 3, 4, 5, 9],
            &[3, 4, 5],
            &[0, 3, 4, 5, 9],
        ];
        let mut ring = KillcamRing::new(60);
        for (t, roster) in rosters.iter().enumerate() {
            let t = t as u32;
            ring.record(Tick(t), roster.iter().map(|&id| sample(id, t)).collect(), &[]);
        }
        let shot = Shot {
            shooter: PlayerId(5),
            origin: glam::Vec2::ZERO,
            dir: glam::Vec2::X,
            dist: 10.0,
            target: Some(PlayerId(3)),
            mode: ShotMode::Present,
            view: None,
            traced: vec![
                (PlayerId(9), [9000, 0]),
                (PlayerId(4), [4000, 0]),
                (PlayerId(1), [1000, 0]),
            ],
        };
        let cam = ring.build(Tick(5), &shot, PlayerId(3)).expect("newest tick");
        assert_eq!(
            cam.players,
            vec![PlayerId(5), PlayerId(3), PlayerId(1), PlayerId(4), PlayerId(9)]
        );
        for (t, (frame, roster)) in cam.frames.iter().zip(rosters).enumerate() {
            let expected: Vec<Option<[i32; 2]>> = cam
                .players
                .iter()
                .map(|id| {
                    let s = sample(id.0, t as u32);
                    (roster.contains(&id.0) && s.alive).then_some(s.pos)
                })
                .collect();
            assert_eq!(frame, &expected, "tick {t}");
        }
    }
}
