//! Which coding of the snapshot datagram (issue 14): bincode, as protocol 4 sent it, against
//! `bitcode` (a bit-level serde format) and against the hand-packed coding of
//! `rewind_shared::snapshot_wire` that protocol 5 sends. Bytes per snapshot and encode/decode
//! time, 16 and 64 players.
//!
//! The snapshots are the server's own: AI players on the warehouse map, one `SnapshotStream` per
//! player standing in for its client, a snapshot every second tick (the default 30 a second)
//! acknowledged after a 100 ms round trip, then 20 s of match. Sizes are printed first (payload
//! only: QUIC adds about 25 bytes per datagram), then criterion times each coding over 1000 of
//! them.

use criterion::{Criterion, criterion_group, criterion_main};
use rewind_server::ServerConfig;
use rewind_server::core::{ServerCore, entity_set};
use rewind_server::snapshots::{SnapshotMeta, SnapshotStream};
use rewind_shared::ack::AckWindow;
use rewind_shared::codec::{decode, decode_snapshot, encode, encode_snapshot};
use rewind_shared::map::Map;
use rewind_shared::player::{PlayerId, PlayerState};
use rewind_shared::protocol::{MAX_DATAGRAM, SnapshotPacket};
use rewind_shared::snapshot::EntityDelta;
use rewind_shared::tick::{Seq, Tick};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

const TICK_RATE: u32 = 60;
const INTERVAL: u32 = 2;
/// Ticks between sending a snapshot and its acknowledgement reaching the server (100 ms).
const RTT_TICKS: i32 = 6;

/// Protocol 4's `SnapshotPacket`, field for field, for the serde codings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct SerdePacket {
    seq: Seq,
    tick: Tick,
    baseline: Option<Tick>,
    last_input: Option<Seq>,
    input_lead: i16,
    you: Option<PlayerState>,
    removed: Vec<PlayerId>,
    entities: Vec<EntityDelta>,
}

impl From<&SnapshotPacket> for SerdePacket {
    fn from(p: &SnapshotPacket) -> SerdePacket {
        SerdePacket {
            seq: p.seq,
            tick: p.tick,
            baseline: p.baseline,
            last_input: p.last_input,
            input_lead: p.input_lead,
            you: p.you,
            removed: p.removed.clone(),
            entities: p.entities.clone(),
        }
    }
}

/// A client as the server sees it: its stream, what it acknowledged, and the acknowledgements on
/// their way back (tick sent, sequence).
type Client = (SnapshotStream, AckWindow, VecDeque<(Tick, Seq)>);

/// Every snapshot the `players` clients of a 20 s match receive.
fn snapshots(players: u16) -> Vec<SnapshotPacket> {
    let cfg = ServerConfig {
        ai: players,
        tick_rate: TICK_RATE,
        map: Map::builtin("warehouse").expect("built-in map"),
        ..ServerConfig::default()
    };
    let mut core = ServerCore::new(cfg, None);
    let mut streams: Vec<Client> = (0..players)
        .map(|_| (SnapshotStream::default(), AckWindow::default(), VecDeque::new()))
        .collect();
    let mut now = Duration::ZERO;
    let mut out = Vec::new();
    for n in 0..(30 * TICK_RATE) {
        now += Duration::from_secs(1) / TICK_RATE;
        core.tick(now);
        if n % INTERVAL != 0 {
            continue;
        }
        let tick = core.current_tick();
        let all = core.players();
        let set = Arc::new(entity_set(&all));
        for ((snaps, ack, in_flight), me) in streams.iter_mut().zip(&all) {
            while let Some(&(t, seq)) = in_flight.front() {
                if tick.diff(t) < RTT_TICKS {
                    break;
                }
                ack.record(seq);
                in_flight.pop_front();
            }
            snaps.on_ack(ack, now);
            let meta = SnapshotMeta {
                tick,
                last_input: Some(Seq(tick.0 as u16)),
                input_lead: 2,
                sent_at: now,
            };
            let packet = snaps.build(meta, &set, Some(me), 1200);
            in_flight.push_back((tick, packet.seq));
            // The first 10 s bring the players out of their spawns into the fight.
            if n >= 10 * TICK_RATE {
                out.push(packet);
            }
        }
    }
    out
}

fn sizes(name: &str, players: u16, lens: impl Iterator<Item = usize>) {
    let mut lens: Vec<usize> = lens.collect();
    lens.sort_unstable();
    let mean = lens.iter().sum::<usize>() as f64 / lens.len() as f64;
    println!(
        "{players:>2} players, {name:<8}: mean {mean:6.1} B, p50 {:4} B, p99 {:4} B ({:.1} kbit/s at 30/s)",
        lens[lens.len() / 2],
        lens[lens.len() * 99 / 100],
        mean * 8.0 * 30.0 / 1000.0
    );
}

fn bench(c: &mut Criterion) {
    for players in [16u16, 64] {
        let packets = snapshots(players);
        let serde: Vec<SerdePacket> = packets.iter().map(SerdePacket::from).collect();
        let hand: Vec<Vec<u8>> = packets
            .iter()
            .map(|p| encode_snapshot(p).expect("encodes"))
            .collect();
        let bin: Vec<Vec<u8>> = serde.iter().map(|p| encode(p).expect("encodes")).collect();
        let bit: Vec<Vec<u8>> = serde
            .iter()
            .map(|p| bitcode::serialize(p).expect("encodes"))
            .collect();
        for (i, p) in packets.iter().enumerate() {
            assert_eq!(decode_snapshot(&hand[i], MAX_DATAGRAM).as_ref(), Ok(p));
            assert_eq!(
                decode::<SerdePacket>(&bin[i], MAX_DATAGRAM).ok().as_ref(),
                Some(&serde[i])
            );
            assert_eq!(
                bitcode::deserialize::<SerdePacket>(&bit[i]).ok().as_ref(),
                Some(&serde[i])
            );
        }
        sizes("bincode", players, bin.iter().map(Vec::len));
        sizes("bitcode", players, bit.iter().map(Vec::len));
        sizes("hand", players, hand.iter().map(Vec::len));
        // Times are for 1000 of them, spread over the match.
        let step = packets.len() / 1000;
        let pick = |i: &usize| i.is_multiple_of(step);
        let take = |v: &[Vec<u8>]| -> Vec<Vec<u8>> {
            v.iter()
                .enumerate()
                .filter(|(i, _)| pick(i))
                .map(|(_, b)| b.clone())
                .take(1000)
                .collect()
        };
        let (bin, bit, hand) = (take(&bin), take(&bit), take(&hand));
        let packets: Vec<SnapshotPacket> = packets
            .into_iter()
            .enumerate()
            .filter(|(i, _)| pick(i))
            .map(|(_, p)| p)
            .take(1000)
            .collect();
        let serde: Vec<SerdePacket> = packets.iter().map(SerdePacket::from).collect();
        let mut g = c.benchmark_group(format!("snapshot_codec_{players}_players_1000_snapshots"));
        g.sample_size(10);
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(1));
        g.bench_function("encode_bincode", |b| {
            b.iter(|| {
                serde
                    .iter()
                    .map(|p| encode(p).map_or(0, |v| v.len()))
                    .sum::<usize>()
            })
        });
        g.bench_function("encode_bitcode", |b| {
            b.iter(|| {
                serde
                    .iter()
                    .map(|p| bitcode::serialize(p).map_or(0, |v| v.len()))
                    .sum::<usize>()
            })
        });
        g.bench_function("encode_hand", |b| {
            b.iter(|| {
                packets
                    .iter()
                    .map(|p| encode_snapshot(p).map_or(0, |v| v.len()))
                    .sum::<usize>()
            })
        });
        g.bench_function("decode_bincode", |b| {
            b.iter(|| {
                bin.iter()
                    .filter(|v| decode::<SerdePacket>(v, MAX_DATAGRAM).is_ok())
                    .count()
            })
        });
        g.bench_function("decode_bitcode", |b| {
            b.iter(|| {
                bit.iter()
                    .filter(|v| bitcode::deserialize::<SerdePacket>(v).is_ok())
                    .count()
            })
        });
        g.bench_function("decode_hand", |b| {
            b.iter(|| {
                hand.iter()
                    .filter(|v| black_box(decode_snapshot(v, MAX_DATAGRAM)).is_ok())
                    .count()
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
