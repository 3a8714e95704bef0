//! Replay figures: file size per player-minute and seek time on a generated 30-minute, 16-player
//! match at 60 Hz (target: any seek under 100 ms), plus parse, verify and writer cost.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rewind_shared::map::Map;
use rewind_shared::replay::synth::{SynthParams, record_synthetic};
use rewind_shared::replay::{Replay, ReplayHeader, ReplayWriter};
use rewind_shared::sim::SimConfig;
use rewind_shared::tick::Tick;
use std::hint::black_box;
use std::time::Instant;

const PLAYERS: u16 = 16;
const MINUTES: u32 = 30;

fn generate() -> (Vec<u8>, Map, SimConfig) {
    let map = Map::builtin("arena").expect("built-in map");
    let cfg = SimConfig::new(60, true, 250);
    let params = SynthParams {
        seed: 2026,
        ticks: MINUTES * 60 * cfg.tick_rate,
        players: PLAYERS,
        churn: 0.0,
        start_tick: Tick(0),
    };
    let t = Instant::now();
    let (bytes, _) = record_synthetic(Vec::new(), &map, cfg, params).expect("recording");
    let player_minutes = f64::from(PLAYERS) * f64::from(MINUTES);
    println!(
        "replay: {MINUTES} min, {PLAYERS} players, 60 Hz: {} bytes ({:.1} MB), {:.1} KB per player-minute \
         ({:.2} kbit/s per player); generated in {:.1} s",
        bytes.len(),
        bytes.len() as f64 / 1e6,
        bytes.len() as f64 / player_minutes / 1e3,
        bytes.len() as f64 * 8.0 / (player_minutes * 60.0) / 1e3,
        t.elapsed().as_secs_f64()
    );
    (bytes, map, cfg)
}

fn bench(c: &mut Criterion) {
    let (bytes, map, cfg) = generate();
    let t = Instant::now();
    let replay = Replay::from_bytes(&bytes).expect("valid recording");
    println!("replay: parse {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    let summary = replay.verify().expect("verifies");
    println!(
        "replay: full verify {:.0} ms ({} ticks, {} kills)",
        t.elapsed().as_secs_f64() * 1e3,
        summary.ticks,
        summary.kills
    );
    let last = replay.last_tick().0;
    let mut worst = 0.0f64;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for _ in 0..200 {
        let tick = Tick(rng.random_range(0..=last));
        let t = Instant::now();
        black_box(replay.seek(tick).expect("in range"));
        worst = worst.max(t.elapsed().as_secs_f64());
    }
    // The worst case is just before a keyframe: a whole interval to re-simulate.
    let interval = replay.header().keyframe_interval;
    let t = Instant::now();
    black_box(replay.seek(Tick(interval * 100 - 1)).expect("in range"));
    worst = worst.max(t.elapsed().as_secs_f64());
    println!("replay: worst of 201 seeks {:.2} ms", worst * 1e3);

    let mut g = c.benchmark_group("replay");
    g.sample_size(20);
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    g.bench_function("seek_random_30min_16p", |b| {
        b.iter_batched(
            || Tick(rng.random_range(0..=last)),
            |tick| replay.seek(tick).expect("in range"),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("seek_worst_case_30min_16p", |b| {
        b.iter(|| replay.seek(Tick(interval * 100 - 1)).expect("in range"))
    });
    // Writer cost per second of match: 60 records (one chunk) with 16 players.
    let records: Vec<_> = replay.records()[..60].to_vec();
    g.bench_function("write_one_second_16p", |b| {
        b.iter_batched(
            || {
                let header = ReplayHeader::new("arena", &map.source, cfg, 0, Tick(0));
                ReplayWriter::new(Vec::with_capacity(1 << 16), header).expect("writer")
            },
            |mut w| {
                for r in &records {
                    w.push_tick(r.clone()).expect("in order");
                }
                w.finish().expect("finish")
            },
            BatchSize::SmallInput,
        )
    });
    g.sample_size(10);
    g.bench_function("parse_30min_16p", |b| {
        b.iter(|| Replay::from_bytes(&bytes).expect("valid"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
