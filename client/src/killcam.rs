//! Playing a killcam (`rewind_shared::killcam::Killcam`) during the respawn wait, without the
//! window: the kill as the killer drew it (remote players at the killer's view delay, the killer
//! at its own position, its shots as tracers, the killing shot against the rewound hitboxes),
//! then the same instant as the server saw it, with the figures. The session swaps the players
//! and tracers of its `GameView` for a `KillcamScene` while it plays; the renderer draws the
//! overlay, and the sound cues come from the swapped view like any other (shots, hurt, death).

use crate::view::{DrawnPlayer, KillcamOverlay, KillcamStage, Tracer};
use rewind_shared::Vec2;
use rewind_shared::killcam::Killcam;
use rewind_shared::map::Map;
use rewind_shared::player::PlayerId;
use rewind_shared::quant::q_to_pos2;
use rewind_shared::sim::{DAMAGE, MAX_HEALTH};
use std::time::Duration;

/// How long the kill instant is held as the killer drew it (tracer and rewound hitboxes).
pub const HOLD_S: f32 = 0.45;
/// How long the server's view of the instant is shown, with the figures.
pub const SERVER_S: f32 = 0.65;
/// The killer's part plays at this speed: the respawn wait is short, so only its last part is
/// shown, faster than live (the message keeps the last 3 s; `Killcam` users may show more).
pub const SPEED: f32 = 1.5;
/// A tracer stays this long (playback seconds), like a live one.
const TRACER_S: f32 = 0.3;

/// Everything the window needs to draw one moment of the killcam.
#[derive(Clone, Debug, PartialEq)]
pub struct KillcamScene {
    /// Players as the killcam shows them (the victim is ours, `local`).
    pub players: Vec<DrawnPlayer>,
    /// The killer's tracers.
    pub tracers: Vec<Tracer>,
    /// Caption, figures, rewound hitboxes, camera.
    pub overlay: KillcamOverlay,
}

/// A killcam being played.
#[derive(Clone, Debug)]
pub struct KillcamPlayback {
    cam: Killcam,
    names: Vec<(PlayerId, String)>,
    tick_rate: f32,
    started: Duration,
    /// Ticks of the killcam the killer's part shows (its last ones).
    shown_ticks: f64,
    /// Wall seconds of the killer's part.
    killer_s: f32,
    /// Ticks the victim had been behind a wall at the kill (server's present).
    behind_ticks: u32,
}

impl KillcamPlayback {
    /// Starts `cam` (already validated) at `now`, to end within `available_s` (what is left of
    /// the respawn wait); `names` for the labels.
    pub fn new(
        cam: Killcam,
        map: &Map,
        names: Vec<(PlayerId, String)>,
        tick_rate: u32,
        now: Duration,
        available_s: f32,
    ) -> KillcamPlayback {
        let tick_rate = tick_rate.max(1) as f32;
        let killer_s = (available_s - HOLD_S - SERVER_S).max(0.3);
        let window = cam.frames.len().saturating_sub(1) as f64;
        let shown_ticks = (f64::from(killer_s * SPEED * tick_rate)).min(window);
        let killer_s = (shown_ticks as f32 / tick_rate / SPEED).max(0.0);
        let behind_ticks = cam.behind_wall_ticks(map);
        KillcamPlayback {
            cam,
            names,
            tick_rate,
            started: now,
            shown_ticks,
            killer_s,
            behind_ticks,
        }
    }

    /// Plays it again from the start at `now` (the replay viewer loops it).
    pub fn restart(&mut self, now: Duration) {
        self.started = now;
    }

    /// The killcam being played.
    pub fn killcam(&self) -> &Killcam {
        &self.cam
    }

    /// How long the whole playback lasts.
    pub fn duration_s(&self) -> f32 {
        self.killer_s + HOLD_S + SERVER_S
    }

    /// How far behind the server the killer's view was, in milliseconds.
    pub fn view_delay_ms(&self) -> f32 {
        self.cam.view_delay_ticks() as f32 * 1000.0 / self.tick_rate
    }

    /// How long the victim had been behind a wall at the kill, in milliseconds.
    pub fn behind_wall_ms(&self) -> f32 {
        self.behind_ticks as f32 * 1000.0 / self.tick_rate
    }

    /// "their view was N ms behind the server", or why there was no view to rewind to.
    fn delay_text(&self) -> String {
        match self.cam.view {
            Some(_) => format!("their view was {:.0} ms behind the server", self.view_delay_ms()),
            None => "no view to rewind: an AI or --no-lagcomp shot, traced at the present".to_string(),
        }
    }

    fn name(&self, id: PlayerId) -> String {
        self.names
            .iter()
            .find(|(i, _)| *i == id)
            .map_or_else(|| id.to_string(), |(_, n)| n.clone())
    }

    /// The scene at `now`, or `None` once the playback is over.
    pub fn scene(&self, now: Duration) -> Option<KillcamScene> {
        let s = now.saturating_sub(self.started).as_secs_f32();
        let last = self.cam.frames.len().saturating_sub(1) as f64;
        let (stage, t) = if s < self.killer_s {
            let t = last - self.shown_ticks + f64::from(s * SPEED * self.tick_rate);
            (KillcamStage::KillerEye, t.min(last))
        } else if s < self.killer_s + HOLD_S {
            (KillcamStage::KillerEye, last)
        } else if s < self.duration_s() {
            (KillcamStage::ServerSaw, last)
        } else {
            return None;
        };
        let positions = match stage {
            KillcamStage::KillerEye => self.cam.killer_eye(t),
            KillcamStage::ServerSaw => self.cam.server_present(),
        };
        let at_kill = t >= last;
        let now_tick = self.cam.first_tick.offset(t.floor() as i32);
        // The victim's health as the killer's remaining hits leave it: exact at the kill (the
        // last hit takes the last of it), and each hit before is heard as ours (hurt).
        let hits_to_come = self
            .cam
            .shots
            .iter()
            .filter(|sh| sh.hit == Some(self.cam.victim) && sh.tick.is_after(now_tick))
            .count();
        let health = DAMAGE.saturating_mul(hits_to_come.min(255) as u8).min(MAX_HEALTH);
        let killer_pos = positions
            .iter()
            .find(|(id, _)| *id == self.cam.killer)
            .map(|(_, q)| q_to_pos2(*q));
        let victim_pos = positions
            .iter()
            .find(|(id, _)| *id == self.cam.victim)
            .map(|(_, q)| q_to_pos2(*q));
        let players = positions
            .iter()
            .map(|(id, q)| {
                let pos = q_to_pos2(*q);
                let towards = if *id == self.cam.killer {
                    victim_pos
                } else {
                    killer_pos
                };
                let victim = *id == self.cam.victim;
                DrawnPlayer {
                    id: *id,
                    name: self.name(*id),
                    pos,
                    aim: towards
                        .map(|t| (t - pos).normalize_or_zero())
                        .filter(|a| *a != Vec2::ZERO)
                        .unwrap_or(Vec2::X),
                    health: if victim { health.max(1) } else { MAX_HEALTH },
                    alive: !(victim && (at_kill || stage == KillcamStage::ServerSaw)),
                    local: victim,
                }
            })
            .collect();
        // A shot's tracer is born when the playback reaches its tick, on the wall clock, so the
        // sound cues (which key items by their birth) hear each shot once, as it is fired.
        let start_tick = last - self.shown_ticks;
        let tracers = self
            .cam
            .shots
            .iter()
            .filter_map(|sh| {
                let x = f64::from(sh.tick.diff(self.cam.first_tick));
                let born = ((x - start_tick) / f64::from(SPEED * self.tick_rate)) as f32;
                let age = s - born;
                (x >= start_tick && (0.0..TRACER_S).contains(&age)).then(|| Tracer {
                    from: q_to_pos2(sh.from),
                    to: q_to_pos2(sh.to),
                    local: false,
                    age_s: age,
                })
            })
            .collect();
        let rewound = if at_kill {
            self.cam
                .traced
                .iter()
                .map(|(id, q)| (*id, q_to_pos2(*q)))
                .collect()
        } else {
            Vec::new()
        };
        let killer = self.name(self.cam.killer);
        let wall = self.behind_wall_ms();
        let mut lines = Vec::new();
        match stage {
            KillcamStage::KillerEye => {
                lines.push(format!("KILLCAM: as {killer} drew it"));
                lines.push(self.delay_text());
            }
            KillcamStage::ServerSaw => {
                lines.push(format!(
                    "KILLCAM: the same instant as the server saw it (killed by {killer})"
                ));
                let sight = if self.behind_ticks > 0 {
                    format!("you had been behind the wall for {wall:.0} ms")
                } else {
                    "you were in their line of sight".to_string()
                };
                lines.push(format!("{}; {sight}", self.delay_text()));
            }
        }
        let focus = match stage {
            KillcamStage::KillerEye => killer_pos,
            KillcamStage::ServerSaw => victim_pos.or(killer_pos),
        };
        Some(KillcamScene {
            players,
            tracers,
            overlay: KillcamOverlay {
                stage,
                lines,
                rewound,
                focus: focus.unwrap_or(q_to_pos2(self.cam.origin)),
                progress: (s / self.duration_s()).clamp(0.0, 1.0),
                present: if at_kill && stage == KillcamStage::KillerEye {
                    self.cam
                        .server_present()
                        .into_iter()
                        .map(|(id, q)| (id, q_to_pos2(q)))
                        .collect()
                } else {
                    Vec::new()
                },
                hint: String::new(),
                shot: at_kill.then(|| (q_to_pos2(self.cam.origin), q_to_pos2(self.cam.end))),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sound::cues::CueTracker;
    use crate::sound::synth::Effect;
    use crate::view::{GameView, NetStats, Phase};
    use rewind_shared::killcam::KillcamShot;
    use rewind_shared::sim::ShotMode;
    use rewind_shared::tick::Tick;

    const KILLER: PlayerId = PlayerId(1);
    const VICTIM: PlayerId = PlayerId(2);

    /// 121 ticks (2 s at 60 Hz): the killer stands at x=100, the victim walks right from x=400;
    /// the killer fires every 6 ticks from tick 60 on, hitting from tick 84, the tenth hit kills.
    fn cam() -> Killcam {
        let first = Tick(1000);
        let frames: Vec<Vec<Option<[i32; 2]>>> = (0..=120)
            .map(|i| vec![Some([1600, 1600]), (i < 120).then_some([6400 + i * 8, 1600])])
            .collect();
        let shots = (0..=10)
            .map(|k| {
                let tick = first.offset(60 + k * 6);
                KillcamShot {
                    tick,
                    from: [1600, 1600],
                    to: [6400, 1600],
                    hit: (k >= 1).then_some(VICTIM),
                }
            })
            .collect();
        Killcam {
            killer: KILLER,
            victim: VICTIM,
            tick: first.offset(120),
            view: Some(rewind_shared::input::ShotView {
                tick_a: first.offset(114),
                tick_b: first.offset(116),
                alpha: 0,
            }),
            mode: ShotMode::Rewound,
            origin: [1600, 1600],
            end: [7336, 1600],
            traced: vec![(KILLER, [1600, 1600]), (VICTIM, [7312, 1600])],
            first_tick: first,
            players: vec![KILLER, VICTIM],
            frames,
            shots,
        }
    }

    fn view(scene: KillcamScene) -> GameView {
        GameView {
            phase: Phase::Playing,
            map: None,
            local_id: Some(VICTIM),
            players: scene.players,
            tracers: scene.tracers,
            shots: Vec::new(),
            kill_feed: Vec::new(),
            chat: Vec::new(),
            scoreboard: Vec::new(),
            respawn_in_s: None,
            match_over: None,
            net: NetStats::default(),
            killcam: Some(scene.overlay),
        }
    }

    #[test]
    fn the_killcam_is_heard_shot_by_shot_and_ends_on_our_death() {
        let map = Map::parse("open", "##########\n#S.......#\n##########\n").expect("map");
        let cam = cam();
        cam.validate().expect("valid");
        // Enough time to show the whole window at `SPEED`.
        let available = 2.0 / SPEED + HOLD_S + SERVER_S;
        let pb = KillcamPlayback::new(cam, &map, Vec::new(), 60, Duration::ZERO, available);
        assert!(
            (pb.view_delay_ms() - 100.0).abs() < 0.01,
            "6 ticks behind: {}",
            pb.view_delay_ms()
        );
        let mut cues = CueTracker::default();
        let (mut shots, mut hurt, mut deaths, mut frames) = (0, 0, 0, 0);
        let mut stages = Vec::new();
        let mut t = Duration::ZERO;
        while let Some(scene) = pb.scene(t) {
            if stages.last() != Some(&scene.overlay.stage) {
                stages.push(scene.overlay.stage);
            }
            for c in cues.update(&view(scene), t.as_secs_f64()) {
                match c.effect {
                    Effect::RemoteShot => shots += 1,
                    Effect::Hurt => hurt += 1,
                    Effect::Death => deaths += 1,
                    _ => {}
                }
            }
            frames += 1;
            t += Duration::from_micros(16_667);
        }
        assert!(frames > 60, "it played ({frames} frames)");
        assert_eq!(stages, vec![KillcamStage::KillerEye, KillcamStage::ServerSaw]);
        assert_eq!(shots, 11, "each of the killer's shots once");
        assert_eq!(hurt, 9, "the hits before the last one");
        assert_eq!(deaths, 1, "the kill");
        assert!(pb.scene(t).is_none(), "and then it is over");
    }
}
