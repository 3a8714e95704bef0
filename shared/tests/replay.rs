//! Recording files: round trip, verification, seeking, and every kind of damage giving its own
//! clear error (never a panic).

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rewind_shared::codec::{CodecError, DECODE_LIMIT, decode, encode};
use rewind_shared::map::{MAX_MAP_BYTES, Map};
use rewind_shared::player::PlayerId;
use rewind_shared::replay::synth::{SynthParams, record_synthetic};
use rewind_shared::replay::{
    CHUNK_HEADER_LEN, PREAMBLE_LEN, Replay, ReplayError, ReplayHeader, ReplayWriter, TickRecord, WriterError,
    verify,
};
use rewind_shared::sim::{SimConfig, SimEvent, World};
use rewind_shared::tick::Tick;

fn cfg() -> SimConfig {
    SimConfig::new(60, true, 250)
}

fn arena() -> Map {
    Map::builtin("arena").expect("test setup")
}

fn record(seed: u64, ticks: u32, players: u16, churn: f64) -> (Vec<u8>, World) {
    let params = SynthParams {
        seed,
        ticks,
        players,
        churn,
        start_tick: Tick(1000),
    };
    record_synthetic(Vec::new(), &arena(), cfg(), params).expect("test setup")
}

/// (offset, total length) of every chunk, read straight from the layout.
fn chunks(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = PREAMBLE_LEN;
    while pos + CHUNK_HEADER_LEN <= bytes.len() {
        let len = u32::from_le_bytes(bytes[pos + 5..pos + 9].try_into().expect("test setup")) as usize;
        out.push((pos, CHUNK_HEADER_LEN + len));
        pos += CHUNK_HEADER_LEN + len;
    }
    out
}

fn kind(bytes: &[u8], offset: usize) -> u8 {
    bytes[offset + 4]
}

#[test]
fn a_recorded_match_verifies_and_ends_in_the_recorded_state() {
    let (bytes, world) = record(1, 4000, 8, 0.01);
    let s = verify(&bytes).unwrap();
    assert_eq!(s.ticks, 4000);
    assert!(!s.truncated && s.truncation.is_none());
    assert_eq!(s.first_tick, Tick(1000));
    assert_eq!(s.last_tick, world.tick);
    assert_eq!(s.final_hash, world.hash());
    assert!(s.kills > 10, "kills {}", s.kills);
    assert!(s.players > 8, "late joiners expected, got {}", s.players);
    assert!(s.keyframes >= 4000 / 300, "keyframes {}", s.keyframes);
    assert!((s.duration_s - 4000.0 / 60.0).abs() < 1e-9);

    let replay = Replay::from_bytes(&bytes).unwrap();
    let churned = replay.records().iter().any(|r| !r.leaves.is_empty())
        && replay.records().iter().skip(1).any(|r| !r.joins.is_empty());
    assert!(churned, "the match must exercise joins and leaves");
    let end = replay.seek(world.tick).unwrap();
    assert_eq!(end.players, world.players);
    assert_eq!(end.history, world.history);
}

#[test]
fn seeking_equals_straight_re_simulation() {
    let (bytes, _) = record(2, 2500, 6, 0.01);
    let replay = Replay::from_bytes(&bytes).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut targets: Vec<u32> = (0..25).map(|_| rng.random_range(0..=2500)).collect();
    targets.extend([0, 1, 299, 300, 301, 2500]);
    targets.sort_unstable();
    let mut straight = replay.cursor_at_start();
    for off in targets {
        let tick = Tick(1000 + off);
        while straight.tick() != tick {
            straight.step().unwrap();
        }
        let seeked = replay.cursor_at(tick).unwrap();
        assert_eq!(seeked.world().players, straight.world().players, "at {tick}");
        assert_eq!(seeked.world().history, straight.world().history, "at {tick}");
        assert_eq!(seeked.roster(), straight.roster(), "at {tick}");
    }
    assert!(matches!(
        replay.seek(Tick(999)),
        Err(ReplayError::OutOfRange { .. })
    ));
    assert!(matches!(
        replay.seek(Tick(3501)),
        Err(ReplayError::OutOfRange { .. })
    ));
}

#[test]
fn events_between_rebuild_the_kill_feed() {
    let (bytes, world) = record(3, 3000, 8, 0.0);
    let replay = Replay::from_bytes(&bytes).unwrap();
    let summary = replay.verify().unwrap();
    let events = replay.events_between(Tick(1000), world.tick).unwrap();
    let kills = events
        .iter()
        .filter(|(_, e)| matches!(e, SimEvent::Kill { .. }))
        .count() as u64;
    assert_eq!(kills, summary.kills);
    // A window in the middle sees exactly the kills whose tick lies in it.
    let (from, to) = (Tick(1900), Tick(2200));
    let window = replay.events_between(from, to).unwrap();
    let expected: Vec<_> = events
        .iter()
        .filter(|(t, _)| t.is_after(from) && !t.is_after(to))
        .cloned()
        .collect();
    assert_eq!(window, expected);
    let info = replay.info().unwrap();
    let total: u64 = info.final_scores.iter().map(|s| u64::from(s.kills)).sum();
    let in_world: u64 = world.players.iter().map(|p| u64::from(p.score.kills)).sum();
    assert_eq!(total, in_world);
    assert_eq!(info.players.len(), 8);
    assert_eq!(info.final_scores.len(), 8);
    assert!(info.final_scores.windows(2).all(|w| w[0].kills >= w[1].kills));
    assert_eq!(info.file_size, bytes.len() as u64);
}

#[test]
fn a_flipped_payload_byte_names_the_corrupt_chunk_and_offset() {
    let (bytes, _) = record(4, 600, 4, 0.0);
    let list = chunks(&bytes);
    let (off, len) = list[5];
    let mut bad = bytes.clone();
    bad[off + CHUNK_HEADER_LEN + (len - CHUNK_HEADER_LEN) / 2] ^= 0x20;
    match verify(&bad) {
        Err(ReplayError::Corrupt {
            chunk,
            offset,
            reason,
        }) => {
            assert_eq!((chunk, offset), (5, off as u64));
            assert!(reason.contains("payload checksum"), "{reason}");
        }
        other => panic!("expected a corrupt chunk, got {other:?}"),
    }
    let mut bad = bytes.clone();
    bad[off + 6] ^= 0x01; // the length field
    match verify(&bad) {
        Err(ReplayError::Corrupt {
            chunk,
            offset,
            reason,
        }) => {
            assert_eq!((chunk, offset), (5, off as u64));
            assert!(reason.contains("header checksum"), "{reason}");
        }
        other => panic!("expected a corrupt header, got {other:?}"),
    }
    let msg = verify(&bad).unwrap_err().to_string();
    assert!(msg.contains(&format!("offset {off}")), "{msg}");
}

#[test]
fn every_single_byte_flip_is_an_error() {
    let params = SynthParams {
        seed: 5,
        ticks: 40,
        players: 2,
        churn: 0.05,
        start_tick: Tick(0),
    };
    let mut header = ReplayHeader::new("tiny", "S.S\n", cfg(), 5, Tick(0));
    header.chunk_ticks = 10;
    header.keyframe_interval = 20;
    let map = Map::parse("tiny", "S.S\n").unwrap();
    let (bytes, _) = small_match(&map, header, params);
    assert!(verify(&bytes).is_ok());
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x80] {
            let mut bad = bytes.clone();
            bad[i] ^= mask;
            assert!(
                verify(&bad).is_err(),
                "flipping byte {i} with {mask:#x} went unnoticed"
            );
        }
    }
}

/// Like `record_synthetic`, with a custom header (small chunks, a tiny map).
fn small_match(map: &Map, header: ReplayHeader, p: SynthParams) -> (Vec<u8>, World) {
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let mut w = ReplayWriter::new(Vec::new(), header).expect("test setup");
    let mut world = World::new(cfg(), p.start_tick);
    for t in 0..p.ticks {
        let mut r = TickRecord {
            tick: world.tick.next(),
            ..TickRecord::default()
        };
        if t == 0 {
            r.joins = (0..p.players).map(|i| (PlayerId(i), format!("p{i}"))).collect();
        }
        for pl in &world.players {
            let input = rewind_shared::input::Input {
                mv: [rng.random(), rng.random()],
                aim: [rng.random(), rng.random()],
                buttons: rng.random_range(0..2),
                view: None,
            };
            r.inputs.push((pl.id, input));
        }
        if t == 0 {
            for (id, _) in &r.joins {
                world.add_player(map, *id);
            }
            r.inputs = r.joins.iter().map(|(id, _)| (*id, Default::default())).collect();
        }
        r.chat = vec![(PlayerId(0), format!("t{t}"))];
        world.step(map, &r.inputs.iter().copied().collect());
        r.hash = world.hash();
        w.push_tick(r).expect("test setup");
        if w.keyframe_due() {
            let roster: Vec<_> = (0..p.players).map(|i| (PlayerId(i), format!("p{i}"))).collect();
            w.push_keyframe(&world, &roster).expect("test setup");
        }
    }
    (w.finish().expect("test setup"), world)
}

#[test]
fn truncated_files_play_up_to_the_last_complete_chunk() {
    let (bytes, _) = record(6, 900, 4, 0.0);
    let full = Replay::from_bytes(&bytes).unwrap();
    let list = chunks(&bytes);
    assert_eq!(
        kind(&bytes, list[list.len() - 1].0),
        4,
        "the last chunk is the end marker"
    );
    // Expected last tick after each complete chunk.
    let mut ticks_after = Vec::new();
    let mut n = 0u32;
    for &(off, _) in &list {
        if kind(&bytes, off) == 3 {
            n += 60;
        }
        ticks_after.push(n);
    }
    for (i, &(off, len)) in list.iter().enumerate().skip(1) {
        let complete = ticks_after[i - 1];
        for cut in [
            off,
            off + 1,
            off + CHUNK_HEADER_LEN - 1,
            off + CHUNK_HEADER_LEN + 1,
            off + len - 1,
        ] {
            let s = verify(&bytes[..cut]).unwrap();
            assert!(s.truncated, "cut at {cut}");
            let t = s.truncation.clone().unwrap();
            assert_eq!(t.offset, off as u64, "cut at {cut}");
            assert_eq!(s.ticks, u64::from(complete), "cut at {cut}");
            assert_eq!(t.after_tick, (complete > 0).then_some(Tick(1000 + complete)));
            if cut == off {
                assert!(t.reason.contains("no end marker"), "{}", t.reason);
            } else {
                assert!(
                    t.reason.contains("incomplete") || t.reason.contains("only"),
                    "{}",
                    t.reason
                );
            }
            // What remains is the same match.
            if complete > 0 {
                let tick = Tick(1000 + complete);
                let cut_replay = Replay::from_bytes(&bytes[..cut]).unwrap();
                assert_eq!(
                    cut_replay.seek(tick).unwrap().players,
                    full.seek(tick).unwrap().players
                );
            }
            match Replay::from_bytes_strict(&bytes[..cut]) {
                Err(ReplayError::Truncated(t2)) => assert_eq!(t2, t),
                other => panic!("strict read of a cut file: {other:?}"),
            }
        }
    }
    let msg =
        ReplayError::Truncated(verify(&bytes[..list[3].0 + 5]).unwrap().truncation.unwrap()).to_string();
    assert!(
        msg.contains("truncated after tick") && msg.contains("offset"),
        "{msg}"
    );
    // Cut inside the header chunk: nothing to play.
    assert!(matches!(
        verify(&bytes[..list[0].0 + 10]),
        Err(ReplayError::Truncated(_))
    ));
    assert!(matches!(verify(&bytes[..5]), Err(ReplayError::Truncated(_))));
    assert!(matches!(verify(&[]), Err(ReplayError::Truncated(_))));
}

#[test]
fn a_removed_or_swapped_chunk_breaks_the_chain() {
    let (bytes, _) = record(7, 600, 4, 0.0);
    let list = chunks(&bytes);
    let (off, len) = list[4];
    let mut spliced = bytes[..off].to_vec();
    spliced.extend_from_slice(&bytes[off + len..]);
    assert_eq!(
        verify(&spliced),
        Err(ReplayError::BrokenChain {
            chunk: 4,
            offset: off as u64
        })
    );
    let (off2, len2) = list[5];
    let mut swapped = bytes[..off].to_vec();
    swapped.extend_from_slice(&bytes[off2..off2 + len2]);
    swapped.extend_from_slice(&bytes[off..off + len]);
    swapped.extend_from_slice(&bytes[off2 + len2..]);
    assert!(matches!(
        verify(&swapped),
        Err(ReplayError::BrokenChain { chunk: 4, .. })
    ));
    let mut extra = bytes.clone();
    extra.extend_from_slice(&bytes[off..off + len]);
    assert!(matches!(verify(&extra), Err(ReplayError::Inconsistent { .. })));
}

#[test]
fn unknown_version_and_bad_magic_are_named() {
    let (bytes, _) = record(8, 100, 2, 0.0);
    let mut v3 = bytes.clone();
    v3[8] = 3;
    assert_eq!(
        verify(&v3),
        Err(ReplayError::UnknownVersion {
            found: 3,
            supported: 2
        })
    );
    let mut bad = bytes.clone();
    bad[0] = b'X';
    assert_eq!(verify(&bad), Err(ReplayError::BadMagic));
    assert_eq!(verify(b"hello world, not a replay"), Err(ReplayError::BadMagic));
}

#[test]
fn a_wrong_hash_is_a_divergence_at_its_tick() {
    let map = arena();
    let mut header = ReplayHeader::new("arena", &map.source, cfg(), 1, Tick(0));
    header.config = "{}".into();
    let mut w = ReplayWriter::new(Vec::new(), header).unwrap();
    let mut world = World::new(cfg(), Tick(0));
    for t in 1..=200u32 {
        let mut r = TickRecord {
            tick: Tick(t),
            ..TickRecord::default()
        };
        if t == 1 {
            r.joins = vec![(PlayerId(1), "a".into()), (PlayerId(2), "b".into())];
            world.add_player(&map, PlayerId(1));
            world.add_player(&map, PlayerId(2));
        }
        world.step(&map, &Default::default());
        r.hash = world.hash() ^ u64::from(t == 150);
        w.push_tick(r).unwrap();
    }
    let bytes = w.finish().unwrap();
    match verify(&bytes) {
        Err(ReplayError::Divergence {
            tick,
            recorded,
            simulated,
        }) => {
            assert_eq!(tick, Tick(150));
            assert_eq!(recorded ^ 1, simulated);
        }
        other => panic!("expected a divergence, got {other:?}"),
    }
}

#[test]
fn a_keyframe_that_differs_from_the_simulation_is_reported() {
    let map = arena();
    let header = ReplayHeader::new("arena", &map.source, cfg(), 1, Tick(0));
    let mut w = ReplayWriter::new(Vec::new(), header).unwrap();
    let mut world = World::new(cfg(), Tick(0));
    for t in 1..=100u32 {
        let mut r = TickRecord {
            tick: Tick(t),
            ..TickRecord::default()
        };
        if t == 1 {
            r.joins = vec![(PlayerId(1), "a".into())];
            world.add_player(&map, PlayerId(1));
        }
        world.step(&map, &Default::default());
        r.hash = world.hash();
        w.push_tick(r).unwrap();
    }
    let mut forged = world.clone();
    forged.players[0].score.kills = 99;
    w.push_keyframe(&forged, &[(PlayerId(1), "a".into())]).unwrap();
    let bytes = w.finish().unwrap();
    assert_eq!(
        verify(&bytes),
        Err(ReplayError::KeyframeMismatch {
            tick: Tick(100),
            what: "player states".into()
        })
    );
}

#[test]
fn the_writer_refuses_out_of_order_records() {
    let map = arena();
    let header = ReplayHeader::new("arena", &map.source, cfg(), 1, Tick(10));
    assert!(header.keyframe_due(Tick(310)) && header.keyframe_due(Tick(610)));
    assert!(
        !header.keyframe_due(Tick(10)) && !header.keyframe_due(Tick(309)) && !header.keyframe_due(Tick(5))
    );
    let mut w = ReplayWriter::new(Vec::new(), header).unwrap();
    let r = TickRecord {
        tick: Tick(12),
        ..TickRecord::default()
    };
    assert!(matches!(
        w.push_tick(r),
        Err(WriterError::OutOfOrder {
            expected: Tick(11),
            got: Tick(12)
        })
    ));
    let stale = World::new(cfg(), Tick(3));
    assert!(matches!(
        w.push_keyframe(&stale, &[]),
        Err(WriterError::OutOfOrder { .. })
    ));
}

#[test]
fn a_map_larger_than_a_datagram_limit_round_trips() {
    let mut text = String::new();
    for i in 0..3000 {
        text.push_str(&format!("; comment line {i} to make the map text large\n"));
    }
    text.push_str(&arena().source);
    // Keep a tail just under the map size limit, cut at a line boundary. The generated text must
    // be longer than that tail, or the map would be smaller than this test claims.
    let keep = MAX_MAP_BYTES - 1_000;
    assert!(
        text.len() > keep,
        "generated {} bytes, need more than {keep}",
        text.len()
    );
    let text = text[text.len() - keep..].to_string();
    let text = text[text.find('\n').unwrap() + 1..].to_string();
    let map = Map::parse("big", &text).unwrap();
    // The point of the test: a map text the ordinary decoder refuses (it is over its allocation
    // limit), so the header can only come back through the large-payload path.
    assert!(
        map.source.len() > DECODE_LIMIT,
        "map text of {} bytes",
        map.source.len()
    );
    assert!(
        matches!(
            decode::<String>(&encode(&map.source).unwrap(), usize::MAX),
            Err(CodecError::Malformed(_))
        ),
        "the ordinary decoder must refuse this map text, or the test does not exercise decode_large"
    );
    let (bytes, world) = record_synthetic(
        Vec::new(),
        &map,
        cfg(),
        SynthParams {
            seed: 1,
            ticks: 300,
            players: 4,
            churn: 0.0,
            start_tick: Tick(0),
        },
    )
    .unwrap();
    let s = verify(&bytes).unwrap();
    assert_eq!(s.final_hash, world.hash());
    assert_eq!(Replay::from_bytes(&bytes).unwrap().header().map_text, text);
}

#[test]
fn random_mutations_never_panic() {
    let (bytes, _) = record(10, 400, 4, 0.02);
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let mut errors = 0;
    for _ in 0..1500 {
        let mut bad = bytes.clone();
        match rng.random_range(0..4) {
            0 => {
                for _ in 0..rng.random_range(1..8) {
                    let i = rng.random_range(0..bad.len());
                    bad[i] = rng.random();
                }
            }
            1 => bad.truncate(rng.random_range(0..bytes.len())),
            2 => {
                let i = rng.random_range(0..bad.len());
                let junk: Vec<u8> = (0..rng.random_range(1..200)).map(|_| rng.random()).collect();
                bad.splice(i..i, junk);
            }
            _ => {
                let i = rng.random_range(0..bad.len());
                let j = rng.random_range(i..bad.len());
                bad.drain(i..j);
            }
        }
        match Replay::from_bytes(&bad) {
            Ok(r) => {
                let _ = r.verify();
                let _ = r.info();
                let _ = r.seek(r.last_tick());
            }
            Err(_) => errors += 1,
        }
    }
    assert!(errors > 500, "most mutations must be detected, got {errors}");
}

#[test]
fn a_forged_keyframe_with_impossible_state_is_refused() {
    let map = arena();
    let header = ReplayHeader::new("arena", &map.source, cfg(), 1, Tick(0));
    let mut w = ReplayWriter::new(Vec::new(), header).expect("writer");
    let mut world = World::new(cfg(), Tick(0));
    world.add_player(&map, PlayerId(1));
    world.players[0].body.pos.x = 1e30;
    w.push_keyframe(&world, &[(PlayerId(1), "a".into())])
        .expect("keyframe");
    let bytes = w.finish().expect("finish");
    match Replay::from_bytes(&bytes) {
        Err(ReplayError::Inconsistent { reason, .. }) => {
            assert!(reason.contains("outside the map"), "{reason}")
        }
        other => panic!("expected a refused keyframe, got {other:?}"),
    }
}

#[test]
fn recording_made_under_other_game_rules_is_refused_clearly() {
    use rewind_shared::replay::{ReplayError, ReplayHeader, ReplayWriter};
    let map = rewind_shared::map::Map::builtin("arena").expect("arena");
    let cfg = rewind_shared::sim::SimConfig::new(60, true, 400);
    let mut header = ReplayHeader::new(&map.name, &map.source, cfg, 1, rewind_shared::tick::Tick(0));
    header.sim_version = rewind_shared::sim::SIM_VERSION + 1;
    let bytes = ReplayWriter::new(Vec::new(), header)
        .expect("writer")
        .finish()
        .expect("finish");
    let err = rewind_shared::replay::Replay::from_bytes(&bytes).expect_err("other rules");
    assert!(matches!(err, ReplayError::SimVersion { .. }), "{err}");
    assert!(err.to_string().contains("game rules version"), "{err}");
}
