//! The match rules driven through the core on simulated time: limits, the final scoreboard every
//! client gets, the intermission, the fresh next match, and a recording per match that verifies.

#[cfg(test)] // the whole file is a test module of the core (declared under cfg(test))
use super::tests::{Wire, hello};
use super::*;
use crate::config::MatchRules;
use rewind_shared::codec::encode;
use rewind_shared::replay::{ReplayHeader, verify};
use std::net::IpAddr;

const DT: Duration = Duration::from_micros(16_667);

fn rules_core(ai: u16, rules: MatchRules) -> ServerCore {
    ServerCore::new(
        ServerConfig {
            ai,
            rules,
            ..ServerConfig::default()
        },
        None,
    )
}

/// Connects and welcomes one client; returns its key.
fn join(core: &mut ServerCore, wire: &mut Wire, key: u64, now: Duration) -> ClientKey {
    core.handle_connect(ClientKey(key), IpAddr::from([10, 0, 0, key as u8]), 1200, now);
    let key = ClientKey(key);
    core.handle_control(key, &hello("watcher"), now);
    wire.drain(core);
    key
}

/// Keeps a client alive without playing: an empty input datagram now and then.
fn keep_alive(core: &mut ServerCore, key: ClientKey, now: Duration) {
    let d = ClientDatagram::Inputs {
        ack: rewind_shared::ack::AckWindow::default(),
        inputs: Vec::new(),
    };
    core.handle_datagram(key, &encode(&d).unwrap(), now);
}

/// Ticks until `stop` says so or `max` ticks pass; returns every control message and the tick
/// count.
fn run_until(
    core: &mut ServerCore,
    wire: &mut Wire,
    key: ClientKey,
    now: &mut Duration,
    max: u32,
    mut stop: impl FnMut(&ServerCore, &[(ClientKey, ServerMsg)]) -> bool,
) -> Vec<ServerMsg> {
    let mut seen = Vec::new();
    for _ in 0..max {
        *now += DT;
        keep_alive(core, key, *now);
        core.tick(*now);
        let msgs = wire.drain(core);
        let done = stop(core, &msgs);
        seen.extend(msgs.into_iter().filter(|(k, _)| *k == key).map(|(_, m)| m));
        if done {
            break;
        }
    }
    seen
}

/// A `MatchOver`'s reason, scores and time to the next match.
type Over = (String, Vec<(PlayerId, u16, u16)>, Option<u32>);

fn match_over(msgs: &[ServerMsg]) -> Option<Over> {
    msgs.iter().find_map(|m| match m {
        ServerMsg::Event(GameEvent::MatchOver {
            reason,
            scores,
            next_in_ms,
        }) => Some((reason.clone(), scores.clone(), *next_in_ms)),
        _ => None,
    })
}

#[test]
fn the_time_limit_ends_the_match_on_its_tick_and_the_last_match_stops_the_server() {
    let rules = MatchRules {
        time_limit: Some(Duration::from_secs(2)),
        ..MatchRules::default()
    };
    let mut core = rules_core(2, rules);
    let mut wire = Wire::default();
    let mut now = Duration::ZERO;
    let key = ClientKey(1);
    core.handle_connect(key, IpAddr::from([10, 0, 0, 1]), 1200, now);
    core.handle_control(key, &hello("watcher"), now);
    let first = wire.drain(&mut core);
    assert!(
        first.iter().any(|(_, m)| matches!(
            m,
            ServerMsg::Event(GameEvent::MatchStart {
                number: 1,
                score_limit: None,
                time_limit_s: Some(2)
            })
        )),
        "a client learns the rules right after its welcome: {first:?}"
    );
    let msgs = run_until(&mut core, &mut wire, key, &mut now, 400, |c, m| {
        match_over(&m.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>()).is_some() || c.matches_done()
    });
    let (reason, scores, next) = match_over(&msgs).expect("the match ended");
    assert_eq!(core.current_tick(), Tick(120), "2 s at 60 Hz");
    assert_eq!(reason, "time limit reached");
    assert_eq!(next, None, "the only match");
    assert_eq!(scores.len(), 3, "two AI players and the client");
    assert!(core.matches_done());
    let stats = core.shutdown(ShutdownReason::MatchOver);
    assert_eq!(stats.matches.len(), 1);
    assert_eq!(stats.matches[0].end, MatchEnd::TimeLimit);
    assert_eq!(stats.matches[0].ticks, 120);
}

/// Two matches to a score limit of 2 among 6 AI players: the scoreboard is ranked and its winner
/// reached the limit; nobody moves in the intermission; the second match starts from zero with
/// everyone; each match's recording verifies on its own and ends where its match ended.
#[test]
fn score_limit_matches_restart_fresh_with_a_recording_each() {
    let rules = MatchRules {
        score_limit: Some(2),
        matches: Some(2),
        intermission: Duration::from_secs(1),
        ..MatchRules::default()
    };
    let dir = std::env::temp_dir().join(format!("rewind-match-rules-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = ServerConfig {
        ai: 6,
        rules,
        ..ServerConfig::default()
    };
    let header = |start: Tick| {
        let mut h = ReplayHeader::new(&cfg.map.name, &cfg.map.source, cfg.sim_config(), cfg.seed, start);
        h.max_players = 80;
        h
    };
    let path = |n: u32| crate::recorder::match_path(&dir.join("m.rwd"), n, true);
    let first = Recorder::start(&path(1), header(Tick(0)), None).unwrap();
    let mut core = ServerCore::new(cfg.clone(), Some(first));
    let dir2 = dir.clone();
    core.set_recordings(Box::new(move |n, start| {
        let p = crate::recorder::match_path(&dir2.join("m.rwd"), n, true);
        let mut h = ReplayHeader::new(&cfg.map.name, &cfg.map.source, cfg.sim_config(), cfg.seed, start);
        h.max_players = 80;
        Recorder::start(&p, h, None).ok()
    }));
    let mut wire = Wire::default();
    let mut now = Duration::ZERO;
    let key = join(&mut core, &mut wire, 1, now);

    // Match 1, up to its end.
    let msgs = run_until(&mut core, &mut wire, key, &mut now, 60 * 600, |_, m| {
        m.iter()
            .any(|(_, m)| matches!(m, ServerMsg::Event(GameEvent::MatchOver { .. })))
    });
    let (reason, scores, next) = match_over(&msgs).expect("a score limit of 2 is reached within 10 min");
    let end1 = core.current_tick();
    assert_eq!(reason, "score limit 2 reached");
    assert_eq!(next, Some(1000));
    assert_eq!(scores.len(), 7);
    assert!(scores[0].1 >= 2, "the winner reached the limit: {scores:?}");
    assert!(scores.iter().skip(1).all(|s| s.1 < 2), "one winner: {scores:?}");
    let ranked = scores.windows(2).all(|w| {
        rewind_shared::player::score_rank(w[0].0, w[0].1, w[0].2)
            < rewind_shared::player::score_rank(w[1].0, w[1].1, w[1].2)
    });
    assert!(ranked, "best first: {scores:?}");
    assert!(core.in_intermission() && !core.matches_done());

    // The intermission, 60 ticks: nobody fires, and after coasting for 30 ticks (friction) nobody
    // moves more than a few units in the next 30 (walking would be 110); the dead may respawn.
    let frozen = |core: &mut ServerCore| -> Vec<_> {
        core.players()
            .iter()
            .map(|p| (p.id, p.life.alive().then_some(p.body.pos), p.score))
            .collect()
    };
    let scores = |core: &mut ServerCore| -> Vec<_> { core.players().iter().map(|p| p.score).collect() };
    let at_end = scores(&mut core);
    let mut msgs = run_until(&mut core, &mut wire, key, &mut now, 30, |_, _| false);
    let before = frozen(&mut core);
    msgs.extend(run_until(&mut core, &mut wire, key, &mut now, 30, |_, _| false));
    let during = frozen(&mut core);
    for (b, d) in before.iter().zip(&during) {
        if let (Some(p), Some(q)) = (b.1, d.1) {
            assert!(p.distance(q) < 5.0, "standing between matches: {b:?} then {d:?}");
        }
    }
    assert_eq!(scores(&mut core), at_end, "no kill between matches");
    assert!(
        !msgs
            .iter()
            .any(|m| matches!(m, ServerMsg::Event(GameEvent::Kill { .. })))
    );
    assert!(core.in_intermission());

    // The next tick starts match 2: everyone back, scores zero.
    let msgs = run_until(&mut core, &mut wire, key, &mut now, 1, |_, _| false);
    assert!(
        msgs.iter().any(|m| matches!(
            m,
            ServerMsg::Event(GameEvent::MatchStart {
                number: 2,
                score_limit: Some(2),
                time_limit_s: None
            })
        )),
        "{msgs:?}"
    );
    let players = core.players();
    assert_eq!(players.len(), 7);
    assert!(
        players
            .iter()
            .all(|p| p.score.kills == 0 && p.score.deaths == 0 && p.life.alive())
    );
    assert_eq!(core.match_number(), 2);
    let start2 = end1.offset(60);

    // Match 2, the last.
    let msgs = run_until(&mut core, &mut wire, key, &mut now, 60 * 600, |c, _| {
        c.matches_done()
    });
    let (_, scores, next) = match_over(&msgs).expect("match 2 ends");
    assert_eq!(next, None, "the last match");
    assert!(scores[0].1 >= 2);
    let end2 = core.current_tick();
    let stats = core.shutdown(ShutdownReason::MatchOver);
    assert_eq!(
        stats.matches.iter().map(|m| m.number).collect::<Vec<_>>(),
        vec![1, 2]
    );

    for (n, first, last) in [(1, Tick(0), end1), (2, start2, end2)] {
        let bytes = std::fs::read(path(n)).unwrap();
        let summary = verify(&bytes).unwrap_or_else(|e| panic!("match {n}: {e}"));
        assert!(summary.truncation.is_none(), "match {n} finished cleanly");
        assert_eq!(
            (summary.first_tick, summary.last_tick),
            (first, last),
            "match {n}"
        );
        assert_eq!(summary.players, 7, "match {n}");
        assert!(summary.kills >= 2, "match {n}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
