//! The sound cues against ground truth (issue 19): a synthetic recorded match is played at 1x,
//! frame by frame, through the viewer's scene and the window's `CueTracker`, following one
//! player. Every shot, death, respawn and kill of that player in the recording must be heard
//! exactly once, every other player's shot once as a placed remote shot, and footsteps must come
//! at walking pace; a seek plays nothing. The viewer itself plays sound only at 1x and not
//! while paused. No window and no sound device are needed.

use rewind_client::replay_view::playback::Playback;
use rewind_client::replay_view::scene;
use rewind_client::sound::cues::{Cue, CueTracker, STEP_DIST};
use rewind_client::sound::synth::Effect;
use rewind_shared::map::Map;
use rewind_shared::replay::Replay;
use rewind_shared::replay::synth::{SynthParams, record_synthetic};
use rewind_shared::sim::{SimConfig, SimEvent};
use rewind_shared::tick::Tick;
use std::collections::BTreeMap;
use std::sync::Arc;

const TICKS: u32 = 3600;
const FRAME_S: f64 = 1.0 / 60.0;

fn recording() -> Vec<u8> {
    let params = SynthParams {
        seed: 11,
        ticks: TICKS,
        players: 6,
        churn: 0.0,
        start_tick: Tick(100),
    };
    let map = Map::builtin("arena").expect("arena");
    record_synthetic(Vec::new(), &map, SimConfig::new(60, true, 250), params)
        .expect("synthetic match")
        .0
}

fn count(cues: &[Cue], effect: Effect, placed: bool) -> usize {
    cues.iter()
        .filter(|c| c.effect == effect && c.at.is_some() == placed)
        .count()
}

#[test]
fn a_followed_player_is_heard_event_for_event() {
    let bytes = recording();
    let replay = Replay::from_bytes(&bytes).expect("parses");
    let map = Arc::new(replay.map().clone());
    let mut pb = Playback::new(&replay);
    pb.set_paused(false);
    // Players join in the first ticks; follow the first one present after a second.
    pb.advance(1.0);
    let me = *pb.roster().first().expect("players");

    let mut tracker = CueTracker::default();
    let mut heard = Vec::new();
    let mut first_heard_tick = None;
    while !pb.at_end() {
        pb.advance(FRAME_S);
        let view = scene::build(&pb, &map, Some(me));
        let cues = tracker.update(&view, pb.time_s());
        if first_heard_tick.is_none() {
            // The first frame only primes the tracker: count events from the next one.
            first_heard_tick = Some(pb.tick());
        }
        heard.extend(cues);
    }
    let from = first_heard_tick.expect("frames");
    let mut truth: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, e) in replay.events_between(from, replay.last_tick()).expect("events") {
        let key = match e {
            SimEvent::Shot(s) if s.shooter == me => "own shots",
            SimEvent::Shot(_) => "other shots",
            SimEvent::Kill { victim, .. } if victim == me => "deaths",
            SimEvent::Kill { killer, .. } if killer == me => "kills",
            SimEvent::Respawn(p) if p == me => "respawns",
            _ => continue,
        };
        *truth.entry(key).or_default() += 1;
    }
    let got = |k: &str| truth.get(k).copied().unwrap_or(0);
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for c in &heard {
        let placed = if c.at.is_some() { " (placed)" } else { "" };
        *by_kind.entry(format!("{:?}{placed}", c.effect)).or_default() += 1;
    }
    eprintln!("recording: {truth:?}\nheard: {by_kind:?}");
    assert!(
        got("own shots") >= 20 && got("other shots") >= 50,
        "a match with shooting"
    );
    assert!(got("deaths") >= 1, "the followed player dies at least once");
    // A shot in the last frame's tick may not be drawn before the end: allow one.
    let own = count(&heard, Effect::Shot, false);
    assert!(
        own.abs_diff(got("own shots")) <= 1,
        "own shots heard {own}, fired {}",
        got("own shots")
    );
    let remote = count(&heard, Effect::RemoteShot, true);
    assert!(
        remote.abs_diff(got("other shots")) <= 5,
        "remote shots heard {remote}, fired {}",
        got("other shots")
    );
    assert_eq!(count(&heard, Effect::Death, false), got("deaths"));
    assert_eq!(count(&heard, Effect::Kill, false), got("kills"));
    let respawns = count(&heard, Effect::Respawn, false);
    assert!(
        respawns.abs_diff(got("respawns")) <= 1,
        "respawns {respawns} vs {}",
        got("respawns")
    );
    assert!(
        count(&heard, Effect::Hurt, false) >= got("deaths"),
        "hurt before dying"
    );
    // Footsteps: at most one per STEP_DIST at top speed (220 units/s), and some of each kind.
    let seconds = f64::from(TICKS) / 60.0;
    let max_steps = (seconds * 220.0 / f64::from(STEP_DIST)).ceil() as usize;
    let own_steps = count(&heard, Effect::Footstep, false);
    assert!(
        (1..=max_steps).contains(&own_steps),
        "own steps {own_steps}, at most {max_steps}"
    );
    assert!(
        count(&heard, Effect::Footstep, true) > own_steps,
        "five others walk too"
    );
    // Hit sounds come only from our own verdicts, which a recording does not hold.
    assert_eq!(count(&heard, Effect::HitConfirmed, false), 0);

    // A seek lands among recent shots and deaths: nothing of that plays.
    pb.seek_ticks(f64::from(TICKS) / 2.0).expect("seek");
    let view = scene::build(&pb, &map, Some(me));
    assert!(tracker.update(&view, pb.time_s()).is_empty(), "a seek is silent");
}

#[test]
fn the_viewer_plays_sound_at_normal_speed_only() {
    use rewind_client::game::ViewSource;
    use rewind_client::replay_view::viewer::Viewer;
    // The window's source needs a 'static recording, as `replay_view::open` gives it.
    let replay: &'static Replay = Box::leak(Box::new(Replay::from_bytes(&recording()).expect("parses")));
    let mut viewer = Viewer::new(replay, None);
    viewer.playback_mut().set_paused(false);
    viewer.playback_mut().advance(2.0);
    assert!(viewer.sound_on(), "1x, playing");
    assert_eq!(viewer.sound_clock(), Some(viewer.playback_mut().time_s()));
    viewer.playback_mut().change_speed(true);
    assert!(!viewer.sound_on(), "2x is silent");
    viewer.playback_mut().change_speed(false);
    viewer.playback_mut().change_speed(false);
    assert!(!viewer.sound_on(), "0.5x is silent");
    viewer.playback_mut().change_speed(true);
    assert!(viewer.sound_on(), "back at 1x");
    viewer.playback_mut().set_paused(true);
    assert!(!viewer.sound_on(), "paused is silent");
}
