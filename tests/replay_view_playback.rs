//! The replay viewer without a window: playing and seeking land on the recorded states, the kill
//! feed and tracers are the ones of that moment, the tracers of lag-compensated hits end on the
//! rewound hitbox, speed and pause behave, and damaged files are refused before any window.

use rewind_client::replay_view::playback::{FEED_WINDOW_S, Playback, SHOT_WINDOW_S, SPEEDS};
use rewind_client::replay_view::{ReplayViewError, load, scene};
use rewind_shared::map::Map;
use rewind_shared::replay::synth::{SynthParams, record_synthetic};
use rewind_shared::replay::{CHUNK_HEADER_LEN, PREAMBLE_LEN, Replay};
use rewind_shared::sim::{PLAYER_RADIUS, ShotMode, SimConfig, SimEvent};
use rewind_shared::tick::Tick;
use std::sync::Arc;

const START: u32 = 500;

fn recording(ticks: u32, players: u16) -> Vec<u8> {
    let params = SynthParams {
        seed: 7,
        ticks,
        players,
        churn: 0.01,
        start_tick: Tick(START),
    };
    let map = Map::builtin("arena").expect("arena");
    record_synthetic(Vec::new(), &map, SimConfig::new(60, true, 250), params)
        .expect("synthetic match")
        .0
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rewind-replay-view-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Players (id, exact position) the playback shows at a whole tick.
fn state(pb: &Playback<'_>) -> Vec<(u16, [f32; 2], u8, u16)> {
    pb.players()
        .into_iter()
        .map(|(p, pos)| (p.id.0, pos.to_array(), p.life.health, p.score.kills))
        .collect()
}

#[test]
fn playing_and_seeking_reach_the_recorded_states_and_events() {
    let bytes = recording(1800, 8);
    let replay = Replay::from_bytes(&bytes).expect("parses");
    let mut played = Playback::new(&replay);
    // Play 20 s at 1x in 1/60 s frames, pausing at whole ticks for exact comparisons.
    for _ in 0..1200 {
        played.advance(1.0 / 60.0);
    }
    let at = played.position_ticks().round();
    played.seek_ticks(at).expect("seek");
    let mut sought = Playback::new(&replay);
    sought.seek_ticks(at).expect("seek");
    assert_eq!(sought.tick(), Tick(START).offset(at as i32));
    assert_eq!(state(&sought), state(&played));
    let world = replay.seek(sought.tick()).expect("replay seek");
    let expect: Vec<_> = world
        .players
        .iter()
        .map(|p| (p.id.0, p.body.pos.to_array(), p.life.health, p.score.kills))
        .collect();
    assert_eq!(state(&sought), expect, "the shown state is the recorded one");

    // The kill feed holds exactly the kills of the last FEED_WINDOW_S, as the replay reports them.
    let from = sought.tick().offset(-((FEED_WINDOW_S * 60.0) as i32));
    let events = replay.events_between(from, sought.tick()).expect("events");
    let kills: Vec<_> = events
        .iter()
        .filter_map(|(t, e)| match e {
            SimEvent::Kill { killer, victim } => Some((*t, *killer, *victim)),
            _ => None,
        })
        .collect();
    let shown: Vec<_> = sought.kills().map(|k| (k.tick, k.killer, k.victim)).collect();
    assert_eq!(shown, kills);
    assert!(!shown.is_empty(), "an 8-player synthetic match has kills in 6 s");
    let shots = events
        .iter()
        .filter(|(t, e)| {
            matches!(e, SimEvent::Shot(_)) && sought.tick().diff(*t) <= (SHOT_WINDOW_S * 60.0) as i32
        })
        .count();
    assert_eq!(sought.shots().count(), shots);
}

#[test]
fn tracers_of_lag_compensated_hits_end_on_the_rewound_hitbox() {
    let bytes = recording(1200, 8);
    let replay = Replay::from_bytes(&bytes).expect("parses");
    let mut pb = Playback::new(&replay);
    let mut rewound_hits = 0;
    let mut moved = 0;
    for step in 1..=12 {
        pb.seek_ticks(f64::from(step * 90)).expect("seek");
        for s in pb.shots() {
            let Some(target) = s.shot.target else { continue };
            if s.shot.mode != ShotMode::Rewound {
                continue;
            }
            rewound_hits += 1;
            let (_, seen) = s
                .traced
                .iter()
                .find(|(id, _)| *id == target)
                .expect("target traced");
            let end = s.shot.origin + s.shot.dir * s.shot.dist;
            if s.shot.origin.distance(*seen) <= PLAYER_RADIUS {
                // Fired from inside the target's (rewound) hitbox: hit at distance zero.
                assert!(s.shot.dist < 1e-3, "point-blank hit at {}", s.shot.dist);
                continue;
            }
            assert!(
                (end.distance(*seen) - PLAYER_RADIUS).abs() < 0.05,
                "the ray stops on the rewound hitbox's edge ({} from its centre)",
                end.distance(*seen)
            );
            if s.target_now.is_some_and(|now| now.distance(*seen) > 0.5) {
                moved += 1;
            }
        }
    }
    assert!(rewound_hits > 5, "only {rewound_hits} rewound hits seen");
    assert!(moved > 0, "some rewound hitboxes differ from the present ones");
}

#[test]
fn interpolation_draws_between_ticks() {
    let bytes = recording(600, 4);
    let replay = Replay::from_bytes(&bytes).expect("parses");
    let mut pb = Playback::new(&replay);
    pb.seek_ticks(300.0).expect("seek");
    let a = state(&pb);
    pb.seek_ticks(301.0).expect("seek");
    let b = state(&pb);
    pb.seek_ticks(300.5).expect("seek");
    assert_eq!(
        pb.tick(),
        Tick(START + 301),
        "between ticks the newer state is simulated"
    );
    let mid = state(&pb);
    let mut checked = 0;
    for ((x, y), m) in a.iter().zip(&b).zip(&mid) {
        assert_eq!(x.0, m.0);
        let d = ((x.1[0] - y.1[0]).powi(2) + (x.1[1] - y.1[1]).powi(2)).sqrt();
        if d > 0.0 && d < 40.0 {
            let want = [(x.1[0] + y.1[0]) / 2.0, (x.1[1] + y.1[1]) / 2.0];
            assert!((m.1[0] - want[0]).abs() < 1e-3 && (m.1[1] - want[1]).abs() < 1e-3);
            checked += 1;
        }
    }
    assert!(checked > 0, "some player moved between the two ticks");
}

#[test]
fn speed_pause_and_end() {
    let bytes = recording(600, 4);
    let replay = Replay::from_bytes(&bytes).expect("parses");
    let mut pb = Playback::new(&replay);
    assert_eq!(pb.speed(), 1.0);
    pb.advance(1.0);
    assert_eq!(pb.position_ticks(), 60.0, "1 s at 1x and 60 Hz");
    pb.change_speed(true);
    pb.change_speed(true);
    assert_eq!(pb.speed(), 4.0);
    pb.advance(0.5);
    assert_eq!(pb.position_ticks(), 180.0);
    for _ in 0..10 {
        pb.change_speed(true);
    }
    assert_eq!(pb.speed(), SPEEDS[SPEEDS.len() - 1]);
    for _ in 0..10 {
        pb.change_speed(false);
    }
    assert_eq!(pb.speed(), 0.25);
    pb.toggle_pause().expect("pause");
    pb.advance(3.0);
    assert_eq!(pb.position_ticks(), 180.0, "paused");
    pb.toggle_pause().expect("resume");
    pb.seek_by(5.0).expect("seek");
    assert_eq!(pb.position_ticks(), 480.0, "+5 s");
    pb.seek_by(-100.0).expect("seek");
    assert_eq!(pb.position_ticks(), 0.0, "clamped at the start");
    pb.seek_fraction(0.5).expect("seek");
    assert_eq!(pb.position_ticks(), 300.0);
    pb.seek_by(100.0).expect("seek");
    assert!(pb.at_end());
    pb.advance(0.1);
    assert!(pb.paused(), "playback stops at the end");
    assert_eq!(pb.tick(), replay.last_tick());
    pb.toggle_pause().expect("restart");
    assert!(!pb.paused());
    assert_eq!(
        pb.position_ticks(),
        0.0,
        "Space at the end plays again from the start"
    );
}

#[test]
fn the_scene_shows_names_feed_and_scores_of_that_moment() {
    let bytes = recording(1200, 6);
    let replay = Replay::from_bytes(&bytes).expect("parses");
    let mut pb = Playback::new(&replay);
    let map = Arc::new(replay.map().clone());
    // Find a moment with a recent kill.
    let (t, killer, victim) = replay
        .events_between(replay.first_tick(), replay.last_tick())
        .expect("events")
        .into_iter()
        .find_map(|(t, e)| match e {
            SimEvent::Kill { killer, victim } => Some((t, killer, victim)),
            _ => None,
        })
        .expect("a kill");
    pb.seek_ticks(f64::from(t.diff(replay.first_tick())) + 30.0)
        .expect("seek");
    let roster = pb.roster();
    let view = scene::build(&pb, &map, roster.first().copied());
    assert_eq!(view.players.len(), roster.len());
    let line = format!("{} killed {}", pb.name(killer), pb.name(victim));
    let feed = view
        .kill_feed
        .iter()
        .find(|l| l.text == line)
        .expect("the kill is in the feed");
    assert!((feed.age_s - 31.0 / 60.0).abs() < 1e-3, "age {}", feed.age_s);
    assert!(
        view.scoreboard.windows(2).all(|w| w[0].kills >= w[1].kills),
        "best first"
    );
    let total: u32 = view.scoreboard.iter().map(|r| u32::from(r.kills)).sum();
    assert!(total >= 1);
    assert!(view.tracers.iter().all(|t| t.age_s >= 0.0));
}

#[test]
fn damaged_files_are_refused_and_truncated_ones_play() {
    let dir = scratch("files");
    let bytes = recording(900, 4);
    let good = dir.join("good.rwd");
    std::fs::write(&good, &bytes).expect("write");
    assert_eq!(load(&good).expect("loads").records().len(), 900);

    let missing = dir.join("missing.rwd");
    assert!(matches!(load(&missing), Err(ReplayViewError::Io { .. })));

    let garbage = dir.join("garbage.rwd");
    std::fs::write(&garbage, b"definitely not a recording").expect("write");
    let err = load(&garbage).expect_err("garbage is refused");
    assert!(matches!(err, ReplayViewError::Replay { .. }), "{err}");
    assert!(err.to_string().contains("garbage.rwd"), "{err}");

    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    let bad = dir.join("flipped.rwd");
    std::fs::write(&bad, &flipped).expect("write");
    assert!(matches!(load(&bad), Err(ReplayViewError::Replay { .. })));

    // Cut in the middle of the last chunks: plays up to the last complete one.
    let cut = dir.join("cut.rwd");
    std::fs::write(&cut, &bytes[..bytes.len() - 700]).expect("write");
    let replay = load(&cut).expect("a truncated file plays");
    assert!(replay.truncation().is_some());
    assert!(replay.records().len() < 900 && !replay.records().is_empty());
    let mut pb = Playback::new(&replay);
    pb.seek_fraction(1.0).expect("seek to the end");
    assert_eq!(pb.tick(), replay.last_tick());

    // Only the header: nothing to play.
    let header_len = PREAMBLE_LEN
        + CHUNK_HEADER_LEN
        + u32::from_le_bytes(bytes[PREAMBLE_LEN + 5..PREAMBLE_LEN + 9].try_into().expect("len")) as usize;
    let empty = dir.join("empty.rwd");
    std::fs::write(&empty, &bytes[..header_len]).expect("write");
    assert!(matches!(load(&empty), Err(ReplayViewError::Empty(_))));
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn the_timeline_scan_marks_every_kill_of_the_match() {
    let bytes = recording(1500, 8);
    let replay = Replay::from_bytes(&bytes).expect("parses");
    let summary = rewind_shared::replay::verify(&bytes).expect("verifies");
    let scan = rewind_client::replay_view::viewer::scan(&replay);
    assert_eq!(scan.kills.len() as u64, summary.kills);
    assert!(scan.kills.windows(2).all(|w| w[0] <= w[1]), "in match order");
    assert!(scan.kills.iter().all(|f| (0.0..=1.0).contains(f)));
    assert_eq!(scan.diverged, None);
}
