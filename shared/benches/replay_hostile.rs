//! What a hostile file costs `verify`, next to an honest one of about the same size (issue 16):
//! the hand-made file with 60,000 joins in one tick (7.9 s to refuse before the reader checked
//! player counts) and an honest 16-player match trimmed to a similar size. Prints the figures
//! and writes the hostile file to the temp directory so the CLI can be timed on it too.

use rewind_shared::map::Map;
use rewind_shared::player::PlayerId;
use rewind_shared::replay::synth::{SynthParams, record_synthetic};
use rewind_shared::replay::{Replay, ReplayHeader, ReplayWriter, TickRecord};
use rewind_shared::sim::SimConfig;
use rewind_shared::tick::Tick;
use std::time::Instant;

fn hostile(joins: u16) -> Vec<u8> {
    let map = Map::builtin("arena").expect("built-in map");
    let header = ReplayHeader::new("arena", &map.source, SimConfig::new(60, true, 250), 1, Tick(0));
    let mut w = ReplayWriter::new(Vec::new(), header).expect("writer");
    w.push_tick(TickRecord {
        tick: Tick(1),
        joins: (0..joins).map(|i| (PlayerId(i), format!("p{i}"))).collect(),
        ..TickRecord::default()
    })
    .expect("record");
    w.finish().expect("finish")
}

/// Best of `n` runs of `f`, in milliseconds.
fn best_ms(n: usize, mut f: impl FnMut()) -> f64 {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let bad = hostile(60_000);
    let path = std::env::temp_dir().join("rewind-60k-joins.rwd");
    if let Err(e) = std::fs::write(&path, &bad) {
        println!("cannot write {}: {e}", path.display());
    }
    let refuse = best_ms(5, || {
        let r = Replay::from_bytes(&bad);
        assert!(r.is_err(), "the hostile file must be refused");
    });
    println!(
        "hostile: 60,000 joins in one tick, {} bytes ({}): refused in {refuse:.2} ms",
        bad.len(),
        path.display()
    );
    // An honest 16-player match grown until it is at least as large as the hostile file.
    let map = Map::builtin("arena").expect("built-in map");
    let cfg = SimConfig::new(60, true, 250);
    let mut ticks = 600;
    let honest = loop {
        let params = SynthParams {
            seed: 16,
            ticks,
            players: 16,
            churn: 0.0,
            start_tick: Tick(0),
        };
        let (bytes, _) = record_synthetic(Vec::new(), &map, cfg, params).expect("recording");
        if bytes.len() >= bad.len() {
            break bytes;
        }
        ticks = ticks * 3 / 2;
    };
    let verify = best_ms(3, || {
        let r = Replay::from_bytes(&honest).expect("honest file parses");
        r.verify().expect("honest file verifies");
    });
    println!(
        "honest: 16 players, {ticks} ticks, {} bytes: parse + verify {verify:.1} ms",
        honest.len()
    );
    println!(
        "per MB: hostile {:.1} ms, honest {:.1} ms",
        refuse / (bad.len() as f64 / 1e6),
        verify / (honest.len() as f64 / 1e6)
    );
    // The most a file can make `verify` simulate: as many players as any server holds, all
    // wandering and firing, with every hash right (what a forger who re-simulates produces).
    let params = SynthParams {
        seed: 250,
        ticks: 600,
        players: rewind_shared::replay::MAX_PLAYERS_CEILING,
        churn: 0.0,
        start_tick: Tick(0),
    };
    let (full, _) = record_synthetic(Vec::new(), &map, cfg, params).expect("recording");
    let full_ms = best_ms(1, || {
        let r = Replay::from_bytes(&full).expect("parses");
        r.verify().expect("verifies");
    });
    println!(
        "ceiling: 256 players, 600 ticks, {} bytes: parse + verify {full_ms:.0} ms ({:.1} ms per MB)",
        full.len(),
        full_ms / (full.len() as f64 / 1e6)
    );
}
