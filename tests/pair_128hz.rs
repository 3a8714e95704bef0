//! `--tick-rate 128` on the Pair harness (issue 14, part 4): the real server core and real bot
//! sessions on a simulated clock at 128 ticks a second, over a 200 ms round trip with jitter and
//! loss. Every rule that is a duration (rewind window, input lead, interpolation delay, view age,
//! repeat of a missing input) must follow the tick rate, or this match shows it: views refused
//! or clamped, late inputs, corrections.

mod harness;

use harness::Pair;
use rewind_server::ServerConfig;
use rewind_server::core::ShutdownReason;
use rewind_shared::conditioner::LinkConfig;
use std::time::Duration;

const MS: fn(u64) -> Duration = Duration::from_millis;

/// 100 ms each way, ±20 ms, 5 % loss: the settings of the 60 Hz figures (`tests/pair.rs`).
fn bad_link() -> LinkConfig {
    LinkConfig {
        latency: MS(100),
        jitter: MS(20),
        loss: 0.05,
        ..LinkConfig::perfect()
    }
}

/// Plays 8 bots and 8 AI at 128 Hz for `ticks` with a snapshot every `interval` ticks and checks
/// the verdicts and the prediction.
fn eight_bots_at_128hz(interval: u32, ticks: u64, seed: u64) {
    let cfg = ServerConfig {
        tick_rate: 128,
        snapshot_interval: interval,
        ai: 8,
        ..ServerConfig::default()
    };
    let mut pair = Pair::new(cfg, seed);
    for i in 0..8 {
        pair.connect_bot(&format!("bot-{i}"), bad_link());
    }
    pair.run_ticks(ticks);
    let s = pair.shot_stats();
    let agreement = s.agreed as f64 / s.judged.max(1) as f64;
    let corrections = pair.corrections();
    let jumps: u64 = pair
        .clients
        .iter()
        .filter_map(|c| c.session())
        .map(|s| s.stats().clock_jumps)
        .sum();
    println!(
        "pair 128 Hz, snapshot every {interval} ticks: {ticks} ticks; {} shots, {} judged, \
         agreement {agreement:.4}, client hits {}, server hits {}, false {}, missed {}, too old {}, \
         refused {}, corrections {corrections}, clock jumps {jumps}",
        s.shots, s.judged, s.client_hits, s.server_hits, s.false_hits, s.missed_hits, s.too_old, s.refused,
    );
    let server = pair.server.shutdown(ShutdownReason::MatchOver);
    println!(
        "  server: late inputs {}, missing {}, clamped views {}, refused {}, too old {}",
        server.late_inputs,
        server.missing_inputs,
        server.clamped_views,
        server.refused_views,
        server.rejected_too_old
    );
    for c in &pair.clients {
        assert!(c.ended().is_none(), "{:?} ended: {:?}", c.key, c.ended());
    }
    let seconds = ticks / 128;
    assert!(
        s.judged >= 20 * seconds,
        "too few judged shots to prove anything: {s:?}"
    );
    assert!(s.server_hits >= seconds, "too few hits to prove anything: {s:?}");
    assert!(agreement >= 0.999, "agreement {agreement}: {s:?}");
    assert_eq!(s.too_old, 0, "no honest view is older than the window: {s:?}");
    assert_eq!(corrections, 0);
}

/// A snapshot every tick (128 a second). Seeds 1 to 7 and 11 all give agreement 1.0000 and no
/// correction with a snapshot every tick, and all but seed 11 with one every 4 ticks (one
/// correction there, from 2 late inputs); see the README, "128 Hz".
#[test]
fn eight_bots_agree_at_128hz_200ms_and_5pct_loss() {
    eight_bots_at_128hz(1, 128 * 90, 7);
}

/// A snapshot every 4 ticks (`--snapshot-rate 32`): interpolation delay and view rules are in
/// snapshot intervals, which are not ticks.
#[test]
fn eight_bots_agree_at_128hz_with_32_snapshots_a_second() {
    eight_bots_at_128hz(4, 128 * 60, 5);
}
