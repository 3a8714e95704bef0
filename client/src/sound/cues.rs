//! Which sounds a frame calls for, derived by comparing consecutive `GameView`s, the way
//! `game::effects` derives damage flashes: the view carries state, not events, so a new tracer,
//! a shot whose verdict just arrived, a health drop or a step's worth of movement is the event.
//!
//! Items in the view have an age but no id; an item's birth is `clock - age` on the source's
//! clock (the window's clock for the live game, the playback time for a replay), which is the
//! same for an item from frame to frame and differs between two shots of the same weapon by at
//! least its 100 ms cycle. A birth seen in the previous frame is an old item; a new one plays.

use super::synth::Effect;
use crate::view::{GameView, Phase, Tracer};
use rewind_shared::Vec2;
use rewind_shared::player::PlayerId;
use std::collections::BTreeMap;

/// Two births closer than this are the same item (the live clocks differ by a few ms at most).
const SAME_BIRTH_S: f64 = 0.02;
/// An event first seen older than this is not played (a seek, a stalled frame): a late sound
/// would no longer line up with what is on screen.
pub const LATE_S: f32 = 0.15;
/// A jump of the source clock larger than this (a seek, a long stall) starts over silently.
const CLOCK_JUMP_S: f64 = 0.5;
/// Distance walked per footstep (220 units/s top speed: three steps a second).
pub const STEP_DIST: f32 = 72.0;
/// A move longer than this between two frames is a respawn or a seek, not walking.
const TELEPORT_DIST: f32 = 160.0;
/// At most this many kills are announced at once.
const MAX_KILL_CUES: u16 = 3;

/// One sound to play now.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cue {
    /// Which effect.
    pub effect: Effect,
    /// Where in the world it happened, for positional effects of other players; `None` for our
    /// own sounds (played centred).
    pub at: Option<Vec2>,
}

impl Cue {
    fn ours(effect: Effect) -> Cue {
        Cue { effect, at: None }
    }
}

/// What the listener's own player looked like last frame.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Me {
    id: PlayerId,
    alive: bool,
    health: u8,
    kills: Option<u16>,
}

/// Memory of the previous frame.
#[derive(Clone, Debug, Default)]
pub struct CueTracker {
    clock: Option<f64>,
    tracers: Vec<(TracerKey, f64)>,
    shots: Vec<(f64, bool)>,
    me: Option<Me>,
    walkers: BTreeMap<PlayerId, (Vec2, f32)>,
}

/// A tracer's unchanging part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TracerKey([u32; 4], bool);

impl TracerKey {
    fn of(t: &Tracer) -> TracerKey {
        TracerKey(
            [
                t.from.x.to_bits(),
                t.from.y.to_bits(),
                t.to.x.to_bits(),
                t.to.y.to_bits(),
            ],
            t.local,
        )
    }
}

impl CueTracker {
    /// Compares `view` (drawn at `clock_s` on the source's clock) with the previous one and
    /// returns the sounds it calls for, ours first. The first frame, a frame after the clock
    /// jumped, and frames outside `Phase::Playing` only remember.
    pub fn update(&mut self, view: &GameView, clock_s: f64) -> Vec<Cue> {
        let playing = view.phase == Phase::Playing;
        let continuous = self
            .clock
            .is_some_and(|c| (0.0..=CLOCK_JUMP_S).contains(&(clock_s - c)));
        let emit = playing && continuous;
        if !playing {
            *self = CueTracker::default();
            return Vec::new();
        }
        let mut cues = Vec::new();
        self.tracers(view, clock_s, emit, &mut cues);
        self.shots(view, clock_s, emit, &mut cues);
        self.me(view, emit, &mut cues);
        self.steps(view, emit, &mut cues);
        self.clock = Some(clock_s);
        cues
    }

    /// New tracers: ours are shots we just fired (predicted), others' are remote shots.
    fn tracers(&mut self, view: &GameView, clock: f64, emit: bool, cues: &mut Vec<Cue>) {
        let now: Vec<(TracerKey, f64)> = view
            .tracers
            .iter()
            .map(|t| (TracerKey::of(t), clock - f64::from(t.age_s)))
            .collect();
        for (t, (key, birth)) in view.tracers.iter().zip(&now) {
            let known = self
                .tracers
                .iter()
                .any(|(k, b)| k == key && (b - birth).abs() < SAME_BIRTH_S);
            if emit && !known && t.age_s <= LATE_S {
                cues.push(if t.local {
                    Cue::ours(Effect::Shot)
                } else {
                    Cue {
                        effect: Effect::RemoteShot,
                        at: Some(t.from),
                    }
                });
            }
        }
        self.tracers = now;
    }

    /// Our shots' verdicts: the predicted hit marker when we fire and see a hit, then the
    /// server's answer when it arrives (confirmed or denied). A shot that appears already judged
    /// (a replay's, whose only verdict is the server's) plays nothing here.
    fn shots(&mut self, view: &GameView, clock: f64, emit: bool, cues: &mut Vec<Cue>) {
        let mut now = Vec::with_capacity(view.shots.len());
        for s in &view.shots {
            let birth = clock - f64::from(s.age_s);
            let before = self
                .shots
                .iter()
                .find(|(b, _)| (b - birth).abs() < SAME_BIRTH_S)
                .map(|&(_, confirmed)| confirmed);
            if emit {
                match before {
                    None if !s.confirmed && s.client_target.is_some() && s.age_s <= LATE_S => {
                        cues.push(Cue::ours(Effect::HitMarker));
                    }
                    Some(false) if s.confirmed && s.server_target.is_some() => {
                        cues.push(Cue::ours(Effect::HitConfirmed));
                    }
                    Some(false) if s.confirmed && s.client_target.is_some() => {
                        cues.push(Cue::ours(Effect::HitDenied));
                    }
                    _ => {}
                }
            }
            now.push((birth, s.confirmed));
        }
        self.shots = now;
    }

    /// Our own player: hurt, death, respawn, kills. A change of who "we" are (the replay viewer
    /// following someone else) starts over without a sound.
    fn me(&mut self, view: &GameView, emit: bool, cues: &mut Vec<Cue>) {
        let me = view.local_id.and_then(|id| {
            let p = view.players.iter().find(|p| p.id == id)?;
            Some(Me {
                id,
                alive: p.alive,
                health: if p.alive { p.health } else { 0 },
                kills: view.scoreboard.iter().find(|r| r.id == id).map(|r| r.kills),
            })
        });
        if let (true, Some(before), Some(now)) = (emit, self.me, me)
            && before.id == now.id
        {
            match (before.alive, now.alive) {
                (true, false) => cues.push(Cue::ours(Effect::Death)),
                (false, true) => cues.push(Cue::ours(Effect::Respawn)),
                (true, true) if now.health < before.health => cues.push(Cue::ours(Effect::Hurt)),
                _ => {}
            }
            if let (Some(a), Some(b)) = (before.kills, now.kills)
                && b > a
            {
                for _ in 0..(b - a).min(MAX_KILL_CUES) {
                    cues.push(Cue::ours(Effect::Kill));
                }
            }
        }
        self.me = me;
    }

    /// Footsteps: one per `STEP_DIST` walked by a living player.
    fn steps(&mut self, view: &GameView, emit: bool, cues: &mut Vec<Cue>) {
        let mut now = BTreeMap::new();
        for p in view.players.iter().filter(|p| p.alive) {
            let mut odometer = 0.0;
            if let Some(&(last, walked)) = self.walkers.get(&p.id) {
                let d = p.pos.distance(last);
                if d.is_finite() && d < TELEPORT_DIST {
                    odometer = walked + d;
                }
            }
            if odometer >= STEP_DIST {
                odometer %= STEP_DIST;
                if emit {
                    let ours = view.local_id == Some(p.id);
                    cues.push(Cue {
                        effect: Effect::Footstep,
                        at: (!ours).then_some(p.pos),
                    });
                }
            }
            now.insert(p.id, (p.pos, odometer));
        }
        self.walkers = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{DrawnPlayer, NetStats, ScoreRow, ShotReview};

    fn player(id: u16, x: f32, health: u8, alive: bool) -> DrawnPlayer {
        DrawnPlayer {
            id: PlayerId(id),
            name: format!("p{id}"),
            pos: Vec2::new(x, 100.0),
            aim: Vec2::X,
            health,
            alive,
            local: id == 1,
        }
    }

    fn view(players: Vec<DrawnPlayer>) -> GameView {
        GameView {
            phase: Phase::Playing,
            map: None,
            local_id: Some(PlayerId(1)),
            scoreboard: players
                .iter()
                .map(|p| ScoreRow {
                    id: p.id,
                    name: p.name.clone(),
                    kills: 0,
                    deaths: 0,
                    ping_ms: None,
                })
                .collect(),
            players,
            tracers: vec![],
            shots: vec![],
            kill_feed: vec![],
            chat: vec![],
            respawn_in_s: None,
            match_over: None,
            net: NetStats::default(),
            killcam: None,
        }
    }

    fn tracer(local: bool, age_s: f32) -> Tracer {
        Tracer {
            from: Vec2::new(50.0, 60.0),
            to: Vec2::new(500.0, 60.0),
            local,
            age_s,
        }
    }

    fn review(client: Option<u16>, server: Option<u16>, confirmed: bool, age_s: f32) -> ShotReview {
        ShotReview {
            client_target: client.map(PlayerId),
            server_target: server.map(PlayerId),
            confirmed,
            client_hitboxes: vec![],
            server_hitboxes: vec![],
            age_s,
        }
    }

    fn effects(c: &[Cue]) -> Vec<Effect> {
        c.iter().map(|c| c.effect).collect()
    }

    #[test]
    fn a_new_tracer_of_ours_is_a_shot_once_and_others_are_placed() {
        let mut t = CueTracker::default();
        let base = view(vec![player(1, 0.0, 100, true)]);
        assert!(t.update(&base, 10.0).is_empty(), "first frame only remembers");
        let mut v = base.clone();
        v.tracers = vec![tracer(true, 0.004)];
        assert_eq!(effects(&t.update(&v, 10.016)), [Effect::Shot]);
        v.tracers = vec![tracer(true, 0.020)];
        assert!(t.update(&v, 10.032).is_empty(), "the same tracer a frame later");
        // The next shot from the same spot at the same wall (same key, 100 ms later) plays.
        v.tracers = vec![tracer(true, 0.120), tracer(true, 0.003)];
        assert_eq!(effects(&t.update(&v, 10.132)), [Effect::Shot]);
        v.tracers = vec![tracer(false, 0.01)];
        let c = t.update(&v, 10.148);
        assert_eq!(effects(&c), [Effect::RemoteShot]);
        assert_eq!(c[0].at, Some(Vec2::new(50.0, 60.0)));
    }

    #[test]
    fn predicted_marker_then_confirmed_or_denied_when_the_verdict_arrives() {
        let mut t = CueTracker::default();
        let mut v = view(vec![player(1, 0.0, 100, true)]);
        t.update(&v, 1.0);
        v.shots = vec![
            review(Some(2), None, false, 0.005),
            review(Some(3), None, false, 0.205),
        ];
        // Only the fresh one: the other was first seen already 205 ms old (late).
        assert_eq!(effects(&t.update(&v, 1.016)), [Effect::HitMarker]);
        v.shots = vec![
            review(Some(2), Some(2), true, 0.205),
            review(Some(3), None, true, 0.405),
        ];
        assert_eq!(
            effects(&t.update(&v, 1.216)),
            [Effect::HitConfirmed, Effect::HitDenied]
        );
        assert!(t.update(&v, 1.216).is_empty(), "verdicts play once");
        // A miss we predicted as a miss makes no verdict sound either way.
        v.shots = vec![review(None, None, false, 0.001)];
        assert!(t.update(&v, 1.232).is_empty());
        v.shots = vec![review(None, None, true, 0.2)];
        assert!(t.update(&v, 1.431).is_empty());
        // A shot first seen already judged (a replay) plays nothing.
        v.shots = vec![review(Some(2), Some(2), true, 0.0)];
        assert!(t.update(&v, 1.447).is_empty());
    }

    #[test]
    fn hurt_death_respawn_and_kills_of_our_player() {
        let mut t = CueTracker::default();
        let v = |h: u8, alive: bool, kills: u16| {
            let mut v = view(vec![player(1, 0.0, h, alive)]);
            v.scoreboard[0].kills = kills;
            v
        };
        t.update(&v(100, true, 0), 0.0);
        assert_eq!(effects(&t.update(&v(90, true, 0), 0.1)), [Effect::Hurt]);
        assert_eq!(effects(&t.update(&v(90, true, 1), 0.2)), [Effect::Kill]);
        assert_eq!(effects(&t.update(&v(0, false, 1), 0.3)), [Effect::Death]);
        assert!(t.update(&v(0, false, 1), 0.4).is_empty());
        assert_eq!(effects(&t.update(&v(100, true, 1), 0.5)), [Effect::Respawn]);
        // Following someone else (replay) is not their death or respawn.
        let mut other = v(0, false, 1);
        other.local_id = Some(PlayerId(2));
        other.players.push(player(2, 10.0, 100, true));
        assert!(t.update(&other, 0.6).is_empty());
    }

    #[test]
    fn footsteps_by_distance_placed_for_others_and_not_on_teleport() {
        let mut t = CueTracker::default();
        let mut steps = (0, 0);
        let mut clock = 0.0;
        for i in 0..=60 {
            // One second: we walk 220 units, player 2 walks 110, player 3 stands.
            let x = i as f32 * 220.0 / 60.0;
            let v = view(vec![
                player(1, x, 100, true),
                player(2, 1000.0 + x / 2.0, 100, true),
                player(3, 2000.0, 100, true),
            ]);
            for c in t.update(&v, clock) {
                assert_eq!(c.effect, Effect::Footstep);
                match c.at {
                    None => steps.0 += 1,
                    Some(p) => {
                        assert!(p.x > 900.0 && p.x < 1200.0, "placed at player 2");
                        steps.1 += 1;
                    }
                }
            }
            clock += 1.0 / 60.0;
        }
        assert_eq!(steps, (3, 1), "220/72 and 110/72 steps");
        let far = view(vec![player(1, 900.0, 100, true)]);
        assert!(t.update(&far, clock).is_empty(), "a jump is not a step");
    }

    #[test]
    fn a_seek_or_a_pause_screen_plays_nothing() {
        let mut t = CueTracker::default();
        let mut v = view(vec![player(1, 0.0, 100, true)]);
        t.update(&v, 5.0);
        v.tracers = vec![tracer(true, 0.01)];
        v.players[0].alive = false;
        assert!(t.update(&v, 60.0).is_empty(), "clock jumped: remember only");
        v.tracers = vec![tracer(true, 0.026), tracer(false, 0.001)];
        assert_eq!(effects(&t.update(&v, 60.016)), [Effect::RemoteShot]);
        let mut ended = v.clone();
        ended.phase = Phase::Reconnecting { for_s: 1.0 };
        ended.tracers.push(tracer(true, 0.0));
        assert!(t.update(&ended, 60.032).is_empty());
    }
}
