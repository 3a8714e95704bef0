//! Server tick cost and snapshot size with 64 players on the warehouse map (DESIGN §11: tick p99
//! under 1 ms, downstream well under 256 kbit/s per client at 60 Hz).
//!
//! A real tick with 64 connected clients is: drain events, take 64 inputs, run the ECS schedule,
//! then build, delta-encode and encode one snapshot per client. Here the 64 players are AI brains
//! (their `think` costs more than taking a buffered input) and 64 viewers, one per player, stand
//! in for the clients: each has its own `SnapshotStream` acked with a 100 ms round trip, and the
//! snapshot work is the same function the core's `send_snapshots` calls. Handing the bytes to the
//! transport is left out.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rewind_server::ServerConfig;
use rewind_server::core::{ServerCore, entity_set, snapshot_datagram};
use rewind_server::snapshots::{SnapshotMeta, SnapshotStream};
use rewind_shared::ack::AckWindow;
use rewind_shared::codec::decode_snapshot;
use rewind_shared::map::Map;
use rewind_shared::player::PlayerState;
use rewind_shared::protocol::SnapshotPacket;
use rewind_shared::snapshot::DeltaScratch;
use rewind_shared::tick::{Seq, Tick};
use std::collections::VecDeque;
use std::hint::black_box;
use std::time::{Duration, Instant};

const PLAYERS: u16 = 64;
/// Datagram room (quinn's `max_datagram_size` before path MTU discovery raises it).
const MAX_BYTES: usize = 1200;
/// Round trip of the emulated clients, in ticks (100 ms at 60 Hz).
const RTT_TICKS: u32 = 6;
const TICK_RATE: u32 = 60;

/// One emulated client: its snapshot stream and the acks on their way back.
struct Viewer {
    snaps: SnapshotStream,
    ack: AckWindow,
    in_flight: VecDeque<(Tick, Seq)>,
    /// Sequence of the next snapshot (streams number them 0, 1, 2, ...).
    next_seq: Seq,
}

struct Bench {
    lp: ServerCore,
    now: Duration,
    viewers: Vec<Viewer>,
}

impl Bench {
    fn new() -> Bench {
        let cfg = ServerConfig {
            ai: PLAYERS,
            tick_rate: TICK_RATE,
            map: Map::builtin("warehouse").expect("built-in map"),
            ..ServerConfig::default()
        };
        let lp = ServerCore::new(cfg, None);
        let viewers = (0..PLAYERS)
            .map(|_| Viewer {
                snaps: SnapshotStream::default(),
                ack: AckWindow::default(),
                in_flight: VecDeque::new(),
                next_seq: Seq::default(),
            })
            .collect();
        let mut b = Bench {
            lp,
            now: Duration::ZERO,
            viewers,
        };
        // Ten seconds into the match: players spread out, fighting, dying and respawning.
        for _ in 0..600 {
            b.tick();
        }
        b
    }

    /// The core's tick alone (no viewers: the core has no clients, so it builds no snapshots).
    fn step_sim(&mut self) {
        self.now += Duration::from_secs(1) / TICK_RATE;
        self.lp.tick(self.now);
    }

    /// One whole tick; returns the encoded size of every snapshot and whether it was a delta.
    fn tick(&mut self) -> Vec<(usize, bool)> {
        self.run_tick(|v, bytes| {
            let packet: SnapshotPacket = decode_snapshot(bytes, MAX_BYTES).expect("decodes");
            assert_eq!(packet.seq, v.next_seq, "streams number snapshots 0, 1, 2, ...");
            (bytes.len(), packet.baseline.is_some())
        })
    }

    /// The same tick without the checking decode (what is measured).
    fn tick_fast(&mut self) -> usize {
        self.run_tick(|_, bytes| bytes.len()).into_iter().sum()
    }

    /// Simulates a tick, then builds every viewer's snapshot (acking what arrived a round trip
    /// ago) and hands each encoded datagram to `inspect`.
    fn run_tick<T>(&mut self, mut inspect: impl FnMut(&Viewer, &[u8]) -> T) -> Vec<T> {
        self.step_sim();
        let tick = self.lp.current_tick();
        let players: Vec<PlayerState> = self.lp.players();
        let set = std::sync::Arc::new(entity_set(&players));
        let mut out = Vec::with_capacity(self.viewers.len());
        for (v, me) in self.viewers.iter_mut().zip(&players) {
            while v
                .in_flight
                .front()
                .is_some_and(|(t, _)| tick.diff(*t) >= RTT_TICKS as i32)
            {
                if let Some((_, seq)) = v.in_flight.pop_front() {
                    v.ack.record(seq);
                }
            }
            v.snaps.on_ack(&v.ack, std::time::Duration::ZERO);
            let meta = SnapshotMeta {
                tick,
                last_input: Some(Seq(tick.0 as u16)),
                input_lead: 2,
                sent_at: std::time::Duration::ZERO,
            };
            let bytes = snapshot_datagram(
                &mut v.snaps,
                &mut DeltaScratch::default(),
                meta,
                &set,
                Some(me),
                MAX_BYTES,
            )
            .expect("encodes");
            out.push(inspect(v, &bytes));
            v.in_flight.push_back((tick, v.next_seq));
            v.next_seq = v.next_seq.next();
        }
        out
    }
}

fn kbit_per_s(bytes: f64) -> f64 {
    bytes * 8.0 * f64::from(TICK_RATE) / 1000.0
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

/// Figures criterion does not give: the tick time distribution over a minute of match, and the
/// snapshot sizes a client receives.
fn report() {
    let mut b = Bench::new();
    let mut delta = Vec::new();
    for _ in 0..600 {
        for (len, is_delta) in b.tick() {
            assert!(
                is_delta,
                "every viewer acks, so steady-state snapshots are deltas"
            );
            delta.push(len);
        }
    }
    let mut times = Vec::with_capacity(3600);
    for _ in 0..3600 {
        let t = Instant::now();
        black_box(b.tick_fast());
        times.push(t.elapsed());
    }
    times.sort();
    let players = b.lp.players();
    let set = std::sync::Arc::new(entity_set(&players));
    let meta = SnapshotMeta {
        tick: b.lp.current_tick(),
        last_input: None,
        input_lead: 0,
        sent_at: std::time::Duration::ZERO,
    };
    let mut fresh = SnapshotStream::default();
    let full = snapshot_datagram(
        &mut fresh,
        &mut DeltaScratch::default(),
        meta,
        &set,
        players.first(),
        MAX_BYTES,
    )
    .expect("encodes");
    let full_packet: SnapshotPacket = decode_snapshot(&full, MAX_BYTES).expect("decodes");
    let mut roomy = SnapshotStream::default();
    let unbounded = snapshot_datagram(
        &mut roomy,
        &mut DeltaScratch::default(),
        meta,
        &set,
        players.first(),
        1 << 16,
    )
    .expect("encodes");
    delta.sort_unstable();
    let mean = delta.iter().sum::<usize>() as f64 / delta.len() as f64;
    println!(
        "tick ({PLAYERS} players, {PLAYERS} snapshot streams, warehouse, 3600 ticks): \
         mean {:.0} µs, p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        times.iter().sum::<Duration>().as_secs_f64() * 1e6 / times.len() as f64,
        percentile(&times, 0.5).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
        percentile(&times, 1.0).as_secs_f64() * 1e6,
    );
    println!(
        "snapshot, delta ({PLAYERS} players, {RTT_TICKS}-tick ack delay): mean {mean:.0} B, p50 {} B, \
         p99 {} B -> {:.1} kbit/s per client at {TICK_RATE} Hz (payload, before QUIC/UDP/IP headers)",
        delta[delta.len() / 2],
        delta[delta.len() * 99 / 100],
        kbit_per_s(mean),
    );
    println!(
        "snapshot, full ({PLAYERS} players): {} B with {} of {PLAYERS} entities (datagram cap {MAX_BYTES} B; \
         {} B uncapped) -> {:.1} kbit/s if every snapshot were full",
        full.len(),
        full_packet.entities.len(),
        unbounded.len(),
        kbit_per_s(full.len() as f64),
    );
}

fn bench(c: &mut Criterion) {
    report();
    let mut b = Bench::new();
    c.bench_function("server_tick_64_players_64_snapshots", |bn| {
        bn.iter(|| black_box(b.tick_fast()))
    });
    let mut b = Bench::new();
    c.bench_function("server_tick_64_players_sim_only", |bn| bn.iter(|| b.step_sim()));
    let mut b = Bench::new();
    c.bench_function("snapshot_64_entities_one_client_delta", |bn| {
        bn.iter_batched(
            || {
                b.now += Duration::from_secs(1) / TICK_RATE;
                b.lp.tick(b.now);
                let players = b.lp.players();
                (b.lp.current_tick(), players)
            },
            |(tick, players)| {
                let set = std::sync::Arc::new(entity_set(&players));
                let v = &mut b.viewers[0];
                v.snaps.on_ack(&v.ack, std::time::Duration::ZERO);
                let meta = SnapshotMeta {
                    tick,
                    last_input: None,
                    input_lead: 0,
                    sent_at: std::time::Duration::ZERO,
                };
                let bytes = snapshot_datagram(
                    &mut v.snaps,
                    &mut DeltaScratch::default(),
                    meta,
                    &set,
                    players.first(),
                    MAX_BYTES,
                )
                .expect("encodes");
                v.ack.record(v.next_seq);
                v.next_seq = v.next_seq.next();
                bytes.len()
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
