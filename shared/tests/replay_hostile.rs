//! Hostile recordings: content no server writes (more players than the match could hold, names
//! and chat longer than the protocol allows, unordered inputs) is refused while parsing, before
//! anything is simulated, and a version-1 file is held to the fixed ceiling. Speed is not timed
//! here: refusing is structural (`Replay::from_bytes` never simulates); the figure is in the
//! README (`cargo bench -p rewind-shared --bench replay_hostile`).

use rewind_shared::input::Input;
use rewind_shared::map::Map;
use rewind_shared::player::PlayerId;
use rewind_shared::replay::synth::{SynthParams, record_synthetic};
use rewind_shared::replay::{
    CHUNK_HEADER_LEN, FORMAT_VERSION_V1, MAGIC, MAX_PLAYERS_CEILING, PREAMBLE_LEN, Replay, ReplayError,
    ReplayHeader, ReplayWriter, Signer, TickRecord, verify,
};
use rewind_shared::sim::{SimConfig, World};
use rewind_shared::tick::Tick;
use sha2::{Digest, Sha256};

fn cfg() -> SimConfig {
    SimConfig::new(60, true, 250)
}

fn arena() -> Map {
    Map::builtin("arena").expect("arena")
}

/// A file whose first tick holds `joins` joins (hashes are whatever: it must be refused before
/// any of them is compared).
fn joins_in_one_tick(joins: u16, max_players: u16) -> Vec<u8> {
    let map = arena();
    let mut header = ReplayHeader::new("arena", &map.source, cfg(), 1, Tick(0));
    header.max_players = max_players;
    let mut w = ReplayWriter::new(Vec::new(), header).expect("writer");
    let record = TickRecord {
        tick: Tick(1),
        joins: (0..joins).map(|i| (PlayerId(i), format!("p{i}"))).collect(),
        ..TickRecord::default()
    };
    w.push_tick(record).expect("push");
    w.finish().expect("finish")
}

fn refusal(bytes: &[u8]) -> String {
    match Replay::from_bytes(bytes) {
        Err(ReplayError::Implausible { reason, .. }) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn sixty_thousand_joins_in_one_tick_are_refused_while_parsing() {
    let bytes = joins_in_one_tick(60_000, 64);
    assert!(
        bytes.len() > 400_000,
        "the file really holds them: {} bytes",
        bytes.len()
    );
    let reason = refusal(&bytes);
    assert!(
        reason.contains("60000 joins at tick 1") && reason.contains("64 players"),
        "{reason}"
    );
    let msg = verify(&bytes).expect_err("refused").to_string();
    assert!(msg.starts_with("refused recording at offset"), "{msg}");
}

#[test]
fn one_player_more_than_the_header_allows_is_refused_at_its_tick() {
    let map = arena();
    let mut header = ReplayHeader::new("arena", &map.source, cfg(), 1, Tick(0));
    header.max_players = 3;
    let mut w = ReplayWriter::new(Vec::new(), header).expect("writer");
    let mut world = World::new(cfg(), Tick(0));
    for t in 1..=10u32 {
        let mut r = TickRecord {
            tick: Tick(t),
            ..TickRecord::default()
        };
        // Three players join at ticks 1-3; one leaves at 5; two join at 7 and 9.
        match t {
            1..=3 | 7 | 9 => r.joins.push((PlayerId(t as u16), format!("p{t}"))),
            5 => r.leaves.push(PlayerId(2)),
            _ => {}
        }
        for id in &r.leaves {
            world.remove_player(*id);
        }
        for (id, _) in &r.joins {
            world.add_player(&map, *id);
        }
        world.step(&map, &Default::default());
        r.hash = world.hash();
        w.push_tick(r).expect("push");
    }
    let bytes = w.finish().expect("finish");
    let reason = refusal(&bytes);
    assert!(reason.contains("4 players present at tick 9"), "{reason}");
}

#[test]
fn a_header_claiming_room_for_more_than_any_server_is_refused() {
    let bytes = joins_in_one_tick(1, MAX_PLAYERS_CEILING + 1);
    let reason = refusal(&bytes);
    assert!(reason.contains("room for 257 players"), "{reason}");
    assert!(Replay::from_bytes(&joins_in_one_tick(1, MAX_PLAYERS_CEILING)).is_ok());
}

fn one_record(r: TickRecord) -> Vec<u8> {
    let map = arena();
    let header = ReplayHeader::new("arena", &map.source, cfg(), 1, Tick(0));
    let mut w = ReplayWriter::new(Vec::new(), header).expect("writer");
    w.push_tick(r).expect("push");
    w.finish().expect("finish")
}

#[test]
fn long_names_long_chat_and_unordered_inputs_are_refused() {
    let r = TickRecord {
        tick: Tick(1),
        joins: vec![(PlayerId(1), "x".repeat(25))],
        ..TickRecord::default()
    };
    assert!(refusal(&one_record(r)).contains("longer than 24 characters"));
    let r = TickRecord {
        tick: Tick(1),
        chat: vec![(PlayerId(1), "y".repeat(201))],
        ..TickRecord::default()
    };
    assert!(refusal(&one_record(r)).contains("longer than 200 characters"));
    let r = TickRecord {
        tick: Tick(1),
        joins: vec![(PlayerId(1), "a".into()), (PlayerId(2), "b".into())],
        inputs: vec![(PlayerId(2), Input::default()), (PlayerId(1), Input::default())],
        ..TickRecord::default()
    };
    assert!(refusal(&one_record(r)).contains("strictly increasing"));
    let r = TickRecord {
        tick: Tick(1),
        inputs: (0..300).map(|i| (PlayerId(i), Input::default())).collect(),
        ..TickRecord::default()
    };
    assert!(refusal(&one_record(r)).contains("300 inputs"));
}

#[test]
fn a_keyframe_with_more_players_than_the_match_could_hold_is_refused() {
    let map = arena();
    let mut header = ReplayHeader::new("arena", &map.source, cfg(), 1, Tick(0));
    header.max_players = 2;
    let mut w = ReplayWriter::new(Vec::new(), header).expect("writer");
    let mut world = World::new(cfg(), Tick(0));
    for i in 0..3 {
        world.add_player(&map, PlayerId(i));
    }
    w.push_keyframe(&world, &[]).expect("keyframe");
    let bytes = w.finish().expect("finish");
    assert!(refusal(&bytes).contains("3 players, more than the 2"));
}

/// Rewrites an unsigned version-2 file in the version-1 layout, as a build from before
/// signatures wrote it: the header payload loses its last bytes (`max_players`, the ceiling, as a
/// varint, and the absent signer's byte), tick payloads their last (the empty list of
/// shooters' own targets), chunks lose `sig_len`, `prev` is the bare digest.
fn to_v1(v2: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&FORMAT_VERSION_V1.to_le_bytes());
    let mut prev: [u8; 32] = Sha256::digest(&out).into();
    let mut pos = PREAMBLE_LEN;
    while pos + CHUNK_HEADER_LEN <= v2.len() {
        let index = &v2[pos..pos + 4];
        let kind = v2[pos + 4];
        let len = u32::from_le_bytes(v2[pos + 5..pos + 9].try_into().expect("4 bytes")) as usize;
        assert_eq!(&v2[pos + 9..pos + 11], &[0, 0], "unsigned");
        let mut payload = v2[pos + CHUNK_HEADER_LEN..pos + CHUNK_HEADER_LEN + len].to_vec();
        if kind == 1 {
            // `max_players` (the ceiling, as bincode's varint writes it) and no signer.
            let b = MAX_PLAYERS_CEILING.to_le_bytes();
            let tail: Vec<u8> = match u8::try_from(MAX_PLAYERS_CEILING) {
                Ok(n) if n < 251 => vec![n, 0],
                _ => vec![251, b[0], b[1], 0],
            };
            assert_eq!(
                payload[payload.len() - tail.len()..],
                tail,
                "max_players, no signer"
            );
            payload.truncate(payload.len() - tail.len());
        }
        if kind == 3 {
            // Tick records end with the (here empty) list of shooters' own targets.
            assert_eq!(payload.last(), Some(&0), "no shooters' targets");
            payload.truncate(payload.len() - 1);
        }
        let plen = (payload.len() as u32).to_le_bytes();
        let mut h = Sha256::new();
        h.update(index);
        h.update([kind]);
        h.update(plen);
        h.update(prev);
        h.update(&payload);
        let digest: [u8; 32] = h.finalize().into();
        let start = out.len();
        out.extend_from_slice(index);
        out.push(kind);
        out.extend_from_slice(&plen);
        out.extend_from_slice(&prev);
        out.extend_from_slice(&digest);
        let check = Sha256::digest(&out[start..]);
        out.extend_from_slice(&check[..4]);
        out.extend_from_slice(&payload);
        prev = digest;
        pos += CHUNK_HEADER_LEN + len;
    }
    out
}

#[test]
fn version_one_files_still_verify_as_unsigned_and_are_held_to_the_fixed_ceiling() {
    let params = SynthParams {
        seed: 4,
        ticks: 700,
        players: 5,
        churn: 0.01,
        start_tick: Tick(0),
    };
    let (v2, world) = record_synthetic(Vec::new(), &arena(), cfg(), params).expect("recording");
    let v1 = to_v1(&v2);
    let s = verify(&v1).expect("a version-1 file verifies");
    assert_eq!((s.format_version, s.final_hash), (1, world.hash()));
    assert_eq!(s.signer, Signer::Unsigned);
    let replay = Replay::from_bytes(&v1).expect("parses");
    assert_eq!(replay.header().max_players, MAX_PLAYERS_CEILING);
    // The 60,000-join file in the old layout: refused by the fixed ceiling.
    let hostile = to_v1(&joins_in_one_tick(60_000, MAX_PLAYERS_CEILING));
    assert!(refusal(&hostile).contains("more than the 256 players"));
}
