//! The real server core and real client sessions on a simulated clock (see `harness`): long
//! lossy matches in seconds, and every handshake rejection, deterministically.

mod harness;

use harness::{Ended, Pair};
use rewind_client::end::EndReason;
use rewind_client::handshake::HandshakeError;
use rewind_server::ServerConfig;
use rewind_server::core::{CloseReason, ShutdownReason};
use rewind_shared::conditioner::LinkConfig;
use rewind_shared::frame::encode_frame;
use rewind_shared::protocol::{ClientMsg, PROTOCOL_VERSION, RejectReason};
use std::time::{Duration, Instant};

const MS: fn(u64) -> Duration = Duration::from_millis;

/// 100 ms each way (200 ms round trip), ±20 ms each way, 5 % loss: the settings of
/// `scripts/measure-lagcomp.sh`, so the figures compare with real QUIC.
fn bad_link() -> LinkConfig {
    LinkConfig {
        latency: MS(100),
        jitter: MS(20),
        loss: 0.05,
        ..LinkConfig::perfect()
    }
}

fn server(ai: u16) -> ServerConfig {
    ServerConfig {
        ai,
        ..ServerConfig::default()
    }
}

/// 8 bots on `bad_link` and 8 AI after 20,000 ticks of a match seeded with `seed`.
fn eight_bots(seed: u64) -> Pair {
    let mut pair = Pair::new(server(8), seed);
    for i in 0..8 {
        pair.connect_bot(&format!("bot-{i}"), bad_link());
    }
    pair.run_ticks(20_000);
    pair
}

/// The figure the README quotes: 8 bots and 8 AI for 20,000 ticks (5.6 minutes of play) at a
/// 200 ms round trip with jitter and 5 % loss each way.
///
/// Corrections are not asserted to be zero: at 5 % loss an input now and then loses every copy
/// that could arrive in time, and the server then repeats the previous one. Seeds 1 to 8 gave
/// 0 to 5 corrections over these 160,000 inputs, with 3 to 7 inputs missing (this seed, 7, was
/// the one with none). What must hold is that each correction has such a cause, and that the
/// uplink's copies keep missing inputs within their design target (`uplink::copies_for`: one in
/// 10,000).
#[test]
fn eight_bots_agree_with_the_server_at_200ms_and_5pct_loss() {
    let wall = Instant::now();
    let mut pair = eight_bots(7);
    let s = pair.shot_stats();
    let agreement = s.agreed as f64 / s.judged.max(1) as f64;
    let corrections = pair.corrections();
    println!(
        "pair: 20000 ticks in {:.2} s wall; {} shots, {} judged, agreement {agreement:.4}, \
         client hits {}, server hits {}, false {}, missed {}, too old {}, refused {}, corrections {corrections}",
        wall.elapsed().as_secs_f64(),
        s.shots,
        s.judged,
        s.client_hits,
        s.server_hits,
        s.false_hits,
        s.missed_hits,
        s.too_old,
        s.refused,
    );
    for c in &pair.clients {
        assert!(c.ended().is_none(), "{:?} ended: {:?}", c.key, c.ended());
    }
    assert!(s.judged >= 5_000, "too few judged shots to prove anything: {s:?}");
    assert!(s.server_hits >= 500, "too few hits to prove anything: {s:?}");
    assert!(agreement >= 0.999, "agreement {agreement}: {s:?}");
    let server = pair.server.shutdown(ShutdownReason::MatchOver);
    println!(
        "  server: late inputs {}, missing {}",
        server.late_inputs, server.missing_inputs
    );
    assert!(
        corrections <= server.late_inputs + server.missing_inputs,
        "{corrections} corrections, more than the {} late and {} missing inputs explain",
        server.late_inputs,
        server.missing_inputs
    );
    let inputs = 20_000 * 8;
    assert!(
        server.missing_inputs * 10_000 <= inputs,
        "{} of {inputs} inputs missing",
        server.missing_inputs
    );
}

/// The run above over seeds 1 to 8 (`SEEDS=` to choose), with the same checks, printing each:
/// what the README's seed figures come from. Ignored by default (about 2 s a seed in a release
/// build, half a minute in a debug one):
/// `cargo test --release --test pair -- --ignored --nocapture over_seeds`.
#[test]
#[ignore]
fn eight_bots_over_seeds() {
    let seeds: Vec<u64> = std::env::var("SEEDS")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| (1..=8).collect());
    for seed in seeds {
        let mut pair = eight_bots(seed);
        let s = pair.shot_stats();
        let agreement = s.agreed as f64 / s.judged.max(1) as f64;
        let corrections = pair.corrections();
        let server = pair.server.shutdown(ShutdownReason::MatchOver);
        println!(
            "seed {seed}: judged {}, agreement {agreement:.4}, corrections {corrections}, \
             inputs missing {}, late {}",
            s.judged, server.missing_inputs, server.late_inputs
        );
        assert!(agreement >= 0.999, "seed {seed}: agreement {agreement}: {s:?}");
        assert!(
            corrections <= server.late_inputs + server.missing_inputs,
            "seed {seed}"
        );
        assert!(server.missing_inputs * 10_000 <= 20_000 * 8, "seed {seed}");
    }
}

/// Same seed, same match: the harness itself is deterministic, so a failure replays exactly.
#[test]
fn same_seed_same_match() {
    let run = || {
        let mut pair = Pair::new(server(2), 3);
        for i in 0..2 {
            pair.connect_bot(&format!("b{i}"), bad_link());
        }
        pair.run_ticks(1_500);
        (pair.shot_stats(), pair.server.state_hash())
    };
    let (a, b) = (run(), run());
    assert!(a.0.shots > 0, "{:?}", a.0);
    assert_eq!(a, b);
}

fn rejected(pair: &Pair, i: usize) -> Option<RejectReason> {
    match pair.clients[i].ended()? {
        Ended::Handshake(HandshakeError::Rejected(r)) => Some(r),
        other => panic!("client {i} ended otherwise: {other:?}"),
    }
}

#[test]
fn other_protocol_versions_are_told_both_versions() {
    let mut pair = Pair::new(server(0), 1);
    let i = pair.connect_silent(bad_link());
    let hello = ClientMsg::Hello {
        version: PROTOCOL_VERSION + 1,
        name: "future".into(),
    };
    pair.send_control(i, encode_frame(&hello).unwrap());
    pair.run_for(Duration::from_secs(2));
    assert_eq!(
        rejected(&pair, i),
        Some(RejectReason::VersionMismatch {
            server: PROTOCOL_VERSION,
            client: PROTOCOL_VERSION + 1
        })
    );
    assert_eq!(pair.server.connections(), 0);
}

#[test]
fn bad_names_are_refused() {
    let mut pair = Pair::new(server(0), 1);
    let long = "x".repeat(40);
    let names = ["", "   ", "bell\u{7}", long.as_str()];
    for name in names {
        pair.connect(
            name,
            bad_link(),
            Box::new(rewind_client::bots::BotBrain::new(1, 1.0, MS(0))),
        );
    }
    pair.run_for(Duration::from_secs(2));
    for (i, name) in names.iter().enumerate() {
        assert_eq!(rejected(&pair, i), Some(RejectReason::BadName), "{name:?}");
    }
}

#[test]
fn a_full_server_says_so() {
    let mut pair = Pair::new(
        ServerConfig {
            max_clients: 2,
            ..server(3)
        },
        1,
    );
    for i in 0..3 {
        pair.connect_bot(&format!("p{i}"), bad_link());
    }
    pair.run_for(Duration::from_secs(2));
    // The hellos race over a jittery link: whichever arrives third is refused.
    let playing = (0..3).filter(|i| pair.clients[*i].session().is_some()).count();
    let full: Vec<usize> = (0..3).filter(|i| pair.clients[*i].session().is_none()).collect();
    assert_eq!(playing, 2);
    assert_eq!(full.len(), 1);
    assert_eq!(
        rejected(&pair, full[0]),
        Some(RejectReason::ServerFull { max: 2 })
    );
    assert_eq!(pair.server.clients(), 2);
}

#[test]
fn a_second_hello_is_a_protocol_error_and_the_others_hear_why() {
    let mut pair = Pair::new(server(0), 1);
    let a = pair.connect_bot("a", bad_link());
    let b = pair.connect_bot("b", bad_link());
    pair.run_for(Duration::from_secs(2));
    let hello = ClientMsg::Hello {
        version: PROTOCOL_VERSION,
        name: "again".into(),
    };
    pair.send_control(a, encode_frame(&hello).unwrap());
    pair.run_for(Duration::from_secs(2));
    let why = CloseReason::Protocol("second hello".into()).to_string();
    assert_eq!(
        pair.clients[a].ended(),
        Some(Ended::Session(EndReason::ConnectionLost(why.clone())))
    );
    let now = pair.now;
    let other = pair.clients[b].session_mut().expect("b plays on");
    assert!(other.ended().is_none());
    let feed: Vec<String> = other.view(now).kill_feed.into_iter().map(|l| l.text).collect();
    assert!(feed.iter().any(|l| l.contains(&why)), "{feed:?}");
}

#[test]
fn no_hello_in_time_is_refused() {
    let mut pair = Pair::new(server(0), 1);
    let i = pair.connect_silent(bad_link());
    pair.run_for(Duration::from_secs(4));
    assert_eq!(
        pair.clients[i].ended(),
        None,
        "still within the 5 s handshake timeout"
    );
    pair.run_for(Duration::from_secs(3));
    assert_eq!(
        rejected(&pair, i),
        Some(RejectReason::Protocol("handshake timeout".into()))
    );
    assert_eq!(pair.server.connections(), 0);
}

#[test]
fn garbage_before_the_hello_is_refused_not_fatal() {
    let mut pair = Pair::new(server(1), 1);
    let good = pair.connect_bot("good", bad_link());
    let i = pair.connect_silent(bad_link());
    pair.send_control(i, vec![0xff; 64]);
    pair.send_datagram(i, vec![0xff; 64]);
    pair.run_for(Duration::from_secs(2));
    assert!(matches!(rejected(&pair, i), Some(RejectReason::Protocol(_))));
    assert!(pair.clients[good].session().is_some_and(|s| s.ended().is_none()));
}

#[test]
fn a_client_that_goes_silent_is_dropped_and_its_slot_freed() {
    let mut pair = Pair::new(server(0), 1);
    let quiet = pair.connect_bot("quiet", bad_link());
    let other = pair.connect_bot("other", bad_link());
    pair.run_for(Duration::from_secs(2));
    assert_eq!(pair.server.clients(), 2);
    pair.clients[quiet].mute = true;
    pair.run_for(Duration::from_secs(2));
    // Acknowledging nothing for a second: snapshots only as probes, four a second.
    let sent = |p: &Pair| p.clients[quiet].path.down.stats().sent;
    let before = sent(&pair);
    pair.run_for(Duration::from_secs(2));
    let probes = sent(&pair) - before;
    assert!(
        (7..=9).contains(&probes),
        "{probes} snapshots in 2 s to a client that acks nothing"
    );
    assert_eq!(pair.server.clients(), 2, "not before 5 s of silence");
    pair.run_for(Duration::from_secs(2));
    assert_eq!(pair.server.clients(), 1);
    let why = CloseReason::Silent(Duration::from_secs(5)).to_string();
    assert_eq!(
        pair.clients[quiet].ended(),
        Some(Ended::Session(EndReason::ConnectionLost(why)))
    );
    assert!(pair.clients[other].ended().is_none());
}

#[test]
fn a_client_silent_from_its_welcome_is_dropped_after_3s() {
    let mut pair = Pair::new(server(0), 1);
    let i = pair.connect_bot("mute", LinkConfig::perfect());
    pair.clients[i].mute = true;
    pair.run_for(Duration::from_millis(2_900));
    assert_eq!(pair.server.clients(), 1);
    pair.run_for(Duration::from_millis(200));
    assert_eq!(pair.server.clients(), 0);
}

#[test]
fn chat_floods_are_cut_and_the_sender_told() {
    let mut pair = Pair::new(server(0), 1);
    let loud = pair.connect_bot("loud", bad_link());
    let ear = pair.connect_bot("ear", bad_link());
    pair.run_for(Duration::from_secs(2));
    for n in 0..20 {
        let line = ClientMsg::Chat {
            text: format!("spam {n}"),
        };
        pair.send_control(loud, encode_frame(&line).unwrap());
    }
    pair.run_for(Duration::from_secs(2));
    let now = pair.now;
    let heard = pair.clients[ear].session_mut().unwrap().view(now).chat;
    let spam = heard.iter().filter(|l| l.text.contains("spam")).count();
    assert_eq!(spam, 5, "{heard:?}");
    let told = pair.clients[loud].session_mut().unwrap().view(now).chat;
    assert!(
        told.iter().any(|l| l.text.starts_with("server: chat limit")),
        "{told:?}"
    );
    assert!(
        pair.clients[loud].ended().is_none(),
        "a chatty player is not kicked"
    );
}

/// Many senders, each within its own limit, cannot together multiply everyone's downstream: the
/// server broadcasts at most `CHAT_SERVER_BURST` lines at once and 2 per second.
#[test]
fn chat_from_many_senders_is_capped_for_the_whole_server() {
    let mut pair = Pair::new(server(0), 1);
    let loud: Vec<usize> = (0..4)
        .map(|i| pair.connect_bot(&format!("loud{i}"), LinkConfig::perfect()))
        .collect();
    let ear = pair.connect_bot("ear", LinkConfig::perfect());
    pair.run_for(Duration::from_secs(5));
    for &c in &loud {
        for n in 0..5 {
            let line = ClientMsg::Chat {
                text: format!("spam {c}.{n}"),
            };
            pair.send_control(c, encode_frame(&line).unwrap());
        }
    }
    pair.run_for(Duration::from_millis(500));
    let now = pair.now;
    let heard = pair.clients[ear].session_mut().unwrap().view(now).chat;
    let spam = heard.iter().filter(|l| l.text.contains("spam")).count();
    assert_eq!(spam, 8, "{heard:?}");
    let told: usize = loud
        .iter()
        .map(|&c| {
            let chat = pair.clients[c].session_mut().unwrap().view(now).chat;
            chat.iter()
                .filter(|l| l.text.starts_with("server: chat busy"))
                .count()
        })
        .sum();
    assert_eq!(told, 12, "every line beyond the cap is answered");
}

#[test]
fn a_clean_network_means_no_corrections_and_full_agreement() {
    let mut pair = Pair::new(server(2), 5);
    for i in 0..2 {
        pair.connect_bot(&format!("b{i}"), LinkConfig::perfect());
    }
    pair.run_ticks(3_000);
    let s = pair.shot_stats();
    assert!(s.judged >= 100, "{s:?}");
    assert_eq!(s.agreed, s.judged, "{s:?}");
    assert_eq!(pair.corrections(), 0);
}

/// Loss, duplicates and reordering in both directions, on datagrams and (as delay) on the
/// control stream: prediction stays exact and verdicts agree. (A few views come out clamped as
/// too old when reordering holds packets back on top of a 200 ms round trip; noted in the
/// README.)
#[test]
fn duplication_and_reordering_keep_prediction_exact() {
    let link = LinkConfig {
        duplicate: 0.05,
        reorder: 0.05,
        ..bad_link()
    };
    let mut pair = Pair::new(server(2), 9);
    for i in 0..3 {
        pair.connect_bot(&format!("b{i}"), link);
    }
    pair.run_ticks(4_000);
    let s = pair.shot_stats();
    assert!(s.judged >= 200, "{s:?}");
    // One client's welcome was delayed by a retransmission and it started late: its clock
    // jumps once and the first snapshot after corrects it once; nothing else is corrected.
    let jumps: u64 = pair
        .clients
        .iter()
        .filter_map(|c| c.session())
        .map(|s| s.stats().clock_jumps)
        .sum();
    assert!(
        pair.corrections() <= jumps,
        "{} corrections, {jumps} clock jumps",
        pair.corrections()
    );
    let agreement = s.agreed as f64 / s.judged as f64;
    assert!(agreement >= 0.99, "agreement {agreement}: {s:?}");
    let snaps = pair.clients[0].session().unwrap().stats().snapshots;
    assert!(snaps.duplicates > 0 && snaps.reordered > 0, "{snaps:?}");
}

/// A stall of the downstream longer than the net graph's window is measured as such.
#[test]
fn a_snapshot_stall_longer_than_a_second_is_measured() {
    let mut pair = Pair::new(server(1), 2);
    let link = LinkConfig {
        latency: MS(40),
        ..LinkConfig::perfect()
    };
    let i = pair.connect_bot("b", link);
    pair.run_for(Duration::from_secs(1));
    let dead = LinkConfig { loss: 1.0, ..link };
    pair.clients[i].path.down.set_config(dead).unwrap();
    pair.run_for(MS(2_500));
    pair.clients[i].path.down.set_config(link).unwrap();
    pair.run_for(MS(500));
    let gap = pair.clients[i].session().unwrap().stats().snapshots.max_gap_ms;
    assert!(
        (2_400..2_700).contains(&gap),
        "max gap {gap} ms after a 2.5 s stall"
    );
}

/// One address cannot take every slot: beyond `--max-per-addr` its connections are refused at
/// once, while another address still gets in.
#[test]
fn one_address_gets_at_most_max_per_addr_connections() {
    let mut pair = Pair::new(
        ServerConfig {
            max_per_addr: 3,
            ..server(0)
        },
        1,
    );
    pair.from = "127.0.0.2".parse().unwrap();
    let squatters: Vec<usize> = (0..6).map(|_| pair.connect_silent(bad_link())).collect();
    pair.from = "127.0.0.1".parse().unwrap();
    let honest = pair.connect_bot("honest", bad_link());
    pair.run_for(Duration::from_secs(1));
    let refused: Vec<usize> = squatters
        .iter()
        .copied()
        .filter(|i| pair.clients[*i].ended().is_some())
        .collect();
    assert_eq!(refused, vec![squatters[3], squatters[4], squatters[5]]);
    for i in refused {
        assert_eq!(
            rejected(&pair, i),
            Some(RejectReason::TooManyFromAddress { max: 3 })
        );
    }
    assert!(
        pair.clients[honest]
            .session()
            .is_some_and(|s| s.ended().is_none())
    );
}

/// A flood of connections that never say hello cannot hold more than the handshake cap.
#[test]
fn handshakes_beyond_the_cap_are_told_to_retry() {
    let mut pair = Pair::new(
        ServerConfig {
            max_handshakes: 4,
            max_per_addr: 100,
            ..server(0)
        },
        1,
    );
    for _ in 0..6 {
        pair.connect_silent(bad_link());
    }
    pair.run_for(Duration::from_secs(1));
    let busy = (0..6)
        .filter(|i| pair.clients[*i].ended().is_some())
        .inspect(|i| assert_eq!(rejected(&pair, *i), Some(RejectReason::Busy)))
        .count();
    assert_eq!(busy, 2);
    assert_eq!(pair.server.connections(), 4);
}

/// Other players' shots reach a client that sees them (`EntityState::shots`): it draws their
/// tracers, and the sound cues play a remote shot for each (`sound::cues`).
#[test]
fn other_players_shots_are_drawn_and_heard() {
    let mut pair = Pair::new(server(4), 5);
    let watcher = pair.connect_bot("watcher", LinkConfig::default());
    pair.connect_bot("other", LinkConfig::default());
    let mut remote = 0;
    for _ in 0..1_200 {
        pair.run_ticks(1);
        let now = pair.now;
        let view = pair.clients[watcher].session_mut().expect("playing").view(now);
        remote += view
            .tracers
            .iter()
            .filter(|t| !t.local && t.age_s < 1.0 / 60.0)
            .count();
    }
    assert!(
        remote >= 10,
        "only {remote} remote shots seen in 20 s with 5 others firing"
    );
}
