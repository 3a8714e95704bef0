//! What one server tick costs with hundreds of clients (issue 14, part 3), measured on the real
//! `ServerCore` without the network: the Pair harness runs `PLAYERS - 8` bot clients (real client
//! sessions, 50 ms each way with 5 ms of jitter) and 8 AI players on the warehouse map with the
//! fog on, and times every `ServerCore::tick` (simulation, fog, snapshot building and encoding).
//! The clients run on the same thread but outside the timed call, so the figures are the
//! server's alone: what a core pinned to one CPU pays per tick, before QUIC's share.
//!
//! `cargo bench --bench core_256` (`PLAYERS=`, `SECONDS=` of measured play after 3 s of warm-up).
//! It prints the tick percentiles, the share of ticks within 8 ms, and the clients' hit agreement
//! and prediction corrections over the measured part.

#[path = "../tests/harness/mod.rs"]
mod harness;

use harness::Pair;
use rewind_server::ServerConfig;
use rewind_shared::conditioner::LinkConfig;
use rewind_shared::map::Map;
use std::time::Duration;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; a plain `cargo test --benches` run passes nothing and
    // should not spend a minute here.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let players = env_or("PLAYERS", 256).clamp(9, 256) as u16;
    let seconds = env_or("SECONDS", 5);
    let mut pair = Pair::new(
        ServerConfig {
            ai: 8,
            max_clients: players - 8,
            map: Map::builtin("warehouse").expect("built-in map"),
            ..ServerConfig::default()
        },
        14,
    );
    let link = LinkConfig {
        latency: Duration::from_millis(50),
        jitter: Duration::from_millis(5),
        ..LinkConfig::perfect()
    };
    for i in 0..players - 8 {
        // Each bot from its own address, as `rewind bots` does (per-address limits).
        pair.from = std::net::IpAddr::from([127, 0, (i / 250) as u8, (i % 250 + 1) as u8]);
        pair.connect_bot(&format!("bot{i}"), link);
        // In waves: the server refuses handshakes beyond `max_handshakes` waiting at once (and
        // a bench that connected everyone in one instant measured only the first 128).
        if (i + 1) % 64 == 0 {
            pair.run_for(Duration::from_millis(500));
        }
    }
    pair.run_for(Duration::from_secs(3));
    let seated = pair.server.clients();
    assert_eq!(seated, usize::from(players - 8), "every bot seated");
    // The fog's tile table is built on a thread of its own once the server is big; measure the
    // steady state, with it.
    let waited = std::time::Instant::now();
    while !pair.server.fog_table_ready() && waited.elapsed() < Duration::from_secs(60) {
        pair.run_for(Duration::from_millis(100));
    }
    let metrics = pair.server.metrics();
    let (snaps0, bytes0, deferred0) = (
        metrics.snapshots.get(),
        metrics.bytes_out.get(),
        metrics.deferred_entities.get(),
    );
    let before = pair.shot_stats();
    let corrections_before = pair.corrections();
    pair.tick_times = Some(Vec::new());
    pair.run_for(Duration::from_secs(seconds));
    let mut times = pair.tick_times.take().unwrap_or_default();
    times.sort();
    let pct = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let within = times.iter().filter(|t| **t <= Duration::from_millis(8)).count();
    let total: Duration = times.iter().sum();
    let after = pair.shot_stats();
    println!(
        "core_256: {players} players ({} bots + 8 AI), warehouse, fog on, {} ticks: tick p50 {:?} p99 {:?} max {:?}, mean {:?}, {:.1} % within 8 ms",
        players - 8,
        times.len(),
        pct(0.5),
        pct(0.99),
        pct(1.0),
        total / times.len().max(1) as u32,
        100.0 * within as f64 / times.len().max(1) as f64,
    );
    let snaps = (metrics.snapshots.get() - snaps0).max(1);
    println!(
        "core_256: {snaps} snapshots, {:.0} bytes and {:.1} deferred players each",
        (metrics.bytes_out.get() - bytes0) as f64 / snaps as f64,
        (metrics.deferred_entities.get() - deferred0) as f64 / snaps as f64,
    );
    let judged = after.judged - before.judged;
    let agreed = after.agreed - before.agreed;
    println!(
        "core_256: clients: agreement {:.4} over {judged} judged shots, {} corrections",
        agreed as f64 / judged.max(1) as f64,
        pair.corrections() - corrections_before
    );
}
