//! `--tick-rate 128` end to end over real QUIC on loopback (issue 14, part 4): a server at 128 Hz
//! with AI players, recording, and headless bots that learn the rate from the welcome. The bots'
//! prediction must never be corrected but where an input came late, every verdict must match
//! what the shooter saw, the fire rate must be the same in time as at 60 Hz, and the 128 Hz
//! recording must verify (in process and with `rewind replay verify`) to the server's final state
//! and play back to its end.

mod serve_proc;

use rewind_server::ServerConfig;
use rewind_server::config::{DEFAULT_SNAPSHOT_RATE, snapshot_interval_for};
use rewind_shared::sim::{FIRE_INTERVAL_S, SimConfig};
use serve_proc::recorded::play_recorded;
use serve_proc::scratch;
use std::process::Command;

#[test]
fn bots_at_128hz_agree_and_the_recording_verifies() {
    let dir = scratch("hz128");
    let file = dir.join("hz128.rwd");
    let cfg = ServerConfig {
        tick_rate: 128,
        // What `serve --tick-rate 128` sends by default: a snapshot every 4 ticks.
        snapshot_interval: snapshot_interval_for(128, DEFAULT_SNAPSHOT_RATE),
        ai: 4,
        ..ServerConfig::default()
    };
    let m = play_recorded(cfg, &file, 2, 6, 5);
    let (r, stats) = (&m.report, &m.stats);
    println!("{}", r.summary());
    println!("server: {stats:?}");
    assert_eq!(r.clients, 2, "{:?}", r.failed);
    assert!(r.shots >= 20, "{}", r.summary());
    // A correction is allowed only where the server had to go without an input of the bot's (it
    // came late or never): the machine's scheduling, not the netcode. CI on a busy 2-core machine
    // once had 1 correction with 12 late and 2 missing inputs (14 server ticks started late); a
    // quiet machine has none of either.
    assert!(
        r.corrections <= stats.late_inputs + stats.missing_inputs,
        "{} corrections, more than the {} late and {} missing inputs explain: {}",
        r.corrections,
        stats.late_inputs,
        stats.missing_inputs,
        r.summary()
    );
    // At most one verdict of the ~50 may differ: with a snapshot every 4 ticks one run in 14 here
    // had a single false hit (no view clamped; not explained yet, see the README's 128 Hz notes),
    // and 50 shots cannot resolve the 0.999 target, which the load runs measure.
    assert!(
        r.judged >= 20 && r.judged - (r.agreement * r.judged as f64).round() as u64 <= 1,
        "{}",
        r.summary()
    );
    assert_eq!((r.too_old, r.refused), (0, 0), "{}", r.summary());
    // A snapshot every 4 ticks: 32 a second per bot (a few seconds of 6).
    assert!(r.snapshots as f64 >= 2.0 * 25.0 * 5.0, "{}", r.summary());
    // The weapon's cooldown is a time (0.1 s): 13 ticks at 128 Hz, not the 6 of 60 Hz.
    let cooldown = u64::from(SimConfig::new(128, true, 400).ticks(FIRE_INTERVAL_S));
    assert_eq!(cooldown, 13);
    assert_eq!(r.min_shot_gap_ticks, cooldown, "{}", r.summary());
    // About 128 ticks a second of wall time (the loop paces itself).
    assert!(stats.ticks >= 128 * 5, "{} ticks", stats.ticks);

    let (_, replay) = m.verify_against_server();
    assert_eq!(replay.header().cfg.tick_rate, 128);
    let window = replay.header().cfg.max_rewind_ticks;
    assert_eq!(window, 52, "400 ms of history at 128 Hz");
    let secs = replay.duration_s();
    assert!(
        (secs - stats.ticks as f64 / 128.0).abs() < 0.1,
        "{secs} s of match"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["replay", "verify"])
        .arg(&file)
        .output()
        .expect("verify runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("OK"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
