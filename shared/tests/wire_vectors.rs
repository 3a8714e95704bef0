//! Known-answer vectors of the wire format: for every message kind a hand-built value and its exact
//! bytes. Each value must encode to its bytes, the bytes must decode to the value, and the same
//! bytes must stand under the same key in appendix A of `docs/PROTOCOL.md`.
//!
//! The bytes follow Rust declaration order through bincode (variant indexes, field order), so
//! moving an enum variant or a struct field changes them silently for every older peer. Here it
//! fails instead: such a change is a new `PROTOCOL_VERSION`, new vectors and a new spec together.

use rewind_shared::Vec2;
use rewind_shared::ack::AckWindow;
use rewind_shared::codec::{CodecError, decode, decode_snapshot, encode, encode_snapshot};
use rewind_shared::frame::{FrameDecoder, encode_frame};
use rewind_shared::input::{BUTTON_FIRE, Input, ShotView};
use rewind_shared::killcam::{Killcam, KillcamShot};
use rewind_shared::player::{Body, Life, PlayerId, PlayerState, Score, Weapon};
use rewind_shared::protocol::{
    ClientDatagram, ClientMsg, GameEvent, InputCmd, MAX_CONTROL_FRAME, MAX_DATAGRAM, RejectReason,
    ResumeToken, ServerMsg, ShotVerdict, SnapshotPacket, Welcome,
};
use rewind_shared::sim::ShotMode;
use rewind_shared::snapshot::{EntityDelta, EntitySet, EntityState, apply_delta, build_delta};
use rewind_shared::tick::{Seq, Tick};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// The spec whose appendix must carry the same vectors.
const SPEC: &str = include_str!("../../docs/PROTOCOL.md");

/// Bytes as the spec writes them: lowercase hex pairs separated by spaces.
fn to_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Hex pairs (any whitespace between them) back to bytes.
fn from_hex(hex: &str) -> Vec<u8> {
    hex.split_whitespace()
        .map(|p| u8::from_str_radix(p, 16).unwrap_or_else(|_| panic!("bad hex pair {p:?}")))
        .collect()
}

/// Whitespace-insensitive form of a hex string, for comparisons.
fn normalize(hex: &str) -> String {
    hex.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The hex block under the heading "#### `key`" in the spec's appendix.
fn spec_vector(key: &str) -> Option<String> {
    let heading = format!("#### `{key}`");
    let at = SPEC.find(&heading)? + heading.len();
    let rest = &SPEC[at..];
    let start = rest.find("```text\n")? + "```text\n".len();
    let end = rest[start..].find("```")?;
    Some(normalize(&rest[start..start + end]))
}

/// Checks one vector both ways and against the spec; returns what is wrong, if anything.
fn check<T>(key: &str, value: &T, hex: &str, limit: usize) -> Vec<String>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    check_with(key, value, hex, encode, |bytes| decode::<T>(bytes, limit))
}

/// `check` for a message with its own coding (the hand-packed snapshot).
fn check_with<T: PartialEq + Debug>(
    key: &str,
    value: &T,
    hex: &str,
    encode: impl Fn(&T) -> Result<Vec<u8>, CodecError>,
    decode: impl Fn(&[u8]) -> Result<T, CodecError>,
) -> Vec<String> {
    let mut wrong = Vec::new();
    let expected = normalize(hex);
    match encode(value) {
        Ok(bytes) if to_hex(&bytes) == expected => {}
        Ok(bytes) => wrong.push(format!(
            "{key}: encodes to\n    {}\n  expected\n    {expected}",
            to_hex(&bytes)
        )),
        Err(e) => wrong.push(format!("{key}: does not encode: {e}")),
    }
    match decode(&from_hex(hex)) {
        Ok(v) if v == *value => {}
        Ok(v) => wrong.push(format!("{key}: the bytes decode to {v:?}, expected {value:?}")),
        Err(e) => wrong.push(format!("{key}: the bytes do not decode: {e}")),
    }
    match spec_vector(key) {
        Some(doc) if doc == expected => {}
        Some(doc) => wrong.push(format!(
            "{key}: docs/PROTOCOL.md has\n    {doc}\n  expected\n    {expected}"
        )),
        None => wrong.push(format!("{key}: missing from appendix A of docs/PROTOCOL.md")),
    }
    wrong
}

fn assert_all(wrong: Vec<String>) {
    assert!(
        wrong.is_empty(),
        "wire vectors disagree (a reordered variant or field is a protocol change: bump \
         PROTOCOL_VERSION and update the spec and these vectors together):\n{}",
        wrong.join("\n")
    );
}

// ---- ClientMsg (control stream, client to server) ----

const CLIENT_HELLO: &str = "00 01 04 5a 6f c3 ab";
const CLIENT_CHAT: &str = "01 02 67 67";
const CLIENT_LEAVE: &str = "02";
const CLIENT_RESUME: &str = "03 03 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f";
const CLIENT_DEBUG_VIEW: &str = "04 01";

/// The token of the vectors: bytes 0 to 15.
fn token() -> ResumeToken {
    ResumeToken(std::array::from_fn(|i| i as u8))
}

#[test]
fn client_messages_match_their_vectors() {
    let mut wrong = Vec::new();
    let hello = ClientMsg::Hello {
        version: 1,
        name: "Zoë".into(),
    };
    wrong.extend(check("client-hello", &hello, CLIENT_HELLO, MAX_CONTROL_FRAME));
    let chat = ClientMsg::Chat { text: "gg".into() };
    wrong.extend(check("client-chat", &chat, CLIENT_CHAT, MAX_CONTROL_FRAME));
    wrong.extend(check(
        "client-leave",
        &ClientMsg::Leave,
        CLIENT_LEAVE,
        MAX_CONTROL_FRAME,
    ));
    let resume = ClientMsg::Resume {
        version: 3,
        token: token(),
    };
    wrong.extend(check("client-resume", &resume, CLIENT_RESUME, MAX_CONTROL_FRAME));
    let debug = ClientMsg::DebugView { hitboxes: true };
    wrong.extend(check(
        "client-debug-view",
        &debug,
        CLIENT_DEBUG_VIEW,
        MAX_CONTROL_FRAME,
    ));
    assert_all(wrong);
}

// ---- ServerMsg (control stream, server to client) ----

const SERVER_WELCOME: &str = "\
    00 01 03 3c 02 04 64 75 65 6c 12 23 23 23 23 23 \
    0a 23 53 2e 53 23 0a 23 23 23 23 23 0a fb e8 03 \
    01 0f 02 00 06 41 49 20 41 64 61 03 04 5a 6f c3 \
    ab 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e \
    0f fb 30 75";
const SERVER_REJECT_VERSION: &str = "01 00 01 02";
const SERVER_REJECT_FULL: &str = "01 01 40";
const SERVER_REJECT_BAD_NAME: &str = "01 02";
const SERVER_REJECT_SHUTTING_DOWN: &str = "01 03";
const SERVER_REJECT_PROTOCOL: &str = "\
    01 04 0e 65 78 70 65 63 74 65 64 20 68 65 6c 6c \
    6f";
const SERVER_REJECT_PER_ADDR: &str = "01 05 08";
const SERVER_REJECT_BUSY: &str = "01 06";
const SERVER_REJECT_RESUME_UNKNOWN: &str = "01 07";
const SERVER_EVENT_JOIN: &str = "02 00 04 02 42 6f";
const SERVER_EVENT_LEAVE: &str = "02 01 04 09 74 69 6d 65 64 20 6f 75 74";
const SERVER_EVENT_KILL: &str = "02 02 03 00";
const SERVER_EVENT_CHAT: &str = "02 03 03 02 67 67";
const SERVER_EVENT_NOTICE: &str = "02 04 02 68 69";
const SERVER_EVENT_MATCH_OVER: &str = "02 05 04 74 69 6d 65 02 03 05 01 00 02 04 01 fb 10 27";
const SERVER_EVENT_MATCH_START: &str = "02 06 02 01 05 01 fb 58 02";
const SERVER_VERDICT_HIT: &str = "\
    03 fb 2c 01 fb eb 03 01 00 00 fb 80 0c fb 80 07 \
    fb b0 12 fb 50 0a 02 00 fb c0 12 fb 60 0a 04 0f \
    fc e0 22 02 00";
const SERVER_VERDICT_REFUSED: &str = "\
    03 fb 2d 01 fb ec 03 00 03 fb 80 0c fb 80 07 fb \
    80 0c fb 80 07 00";
const SERVER_SHUTDOWN: &str = "04 0a 6d 61 74 63 68 20 6f 76 65 72";

#[test]
fn server_messages_match_their_vectors() {
    let welcome = ServerMsg::Welcome(Welcome {
        version: 1,
        player_id: PlayerId(3),
        tick_rate: 60,
        snapshot_interval: 2,
        map_name: "duel".into(),
        map_text: "#####\n#S.S#\n#####\n".into(),
        server_tick: Tick(1000),
        lagcomp: true,
        max_rewind_ticks: 15,
        roster: vec![(PlayerId(0), "AI Ada".into()), (PlayerId(3), "Zoë".into())],
        resume_token: token(),
        resume_grace_ms: 30_000,
    });
    let reject = ServerMsg::Reject;
    let event = ServerMsg::Event;
    let vectors: Vec<(&str, ServerMsg, &str)> = vec![
        ("server-welcome", welcome, SERVER_WELCOME),
        (
            "server-reject-version",
            reject(RejectReason::VersionMismatch { server: 1, client: 2 }),
            SERVER_REJECT_VERSION,
        ),
        (
            "server-reject-full",
            reject(RejectReason::ServerFull { max: 64 }),
            SERVER_REJECT_FULL,
        ),
        (
            "server-reject-bad-name",
            reject(RejectReason::BadName),
            SERVER_REJECT_BAD_NAME,
        ),
        (
            "server-reject-shutting-down",
            reject(RejectReason::ShuttingDown),
            SERVER_REJECT_SHUTTING_DOWN,
        ),
        (
            "server-reject-protocol",
            reject(RejectReason::Protocol("expected hello".into())),
            SERVER_REJECT_PROTOCOL,
        ),
        (
            "server-reject-per-addr",
            reject(RejectReason::TooManyFromAddress { max: 8 }),
            SERVER_REJECT_PER_ADDR,
        ),
        (
            "server-reject-busy",
            reject(RejectReason::Busy),
            SERVER_REJECT_BUSY,
        ),
        (
            "server-reject-resume-unknown",
            reject(RejectReason::ResumeUnknown),
            SERVER_REJECT_RESUME_UNKNOWN,
        ),
        (
            "server-event-join",
            event(GameEvent::Join {
                id: PlayerId(4),
                name: "Bo".into(),
            }),
            SERVER_EVENT_JOIN,
        ),
        (
            "server-event-leave",
            event(GameEvent::Leave {
                id: PlayerId(4),
                reason: "timed out".into(),
            }),
            SERVER_EVENT_LEAVE,
        ),
        (
            "server-event-kill",
            event(GameEvent::Kill {
                killer: PlayerId(3),
                victim: PlayerId(0),
            }),
            SERVER_EVENT_KILL,
        ),
        (
            "server-event-chat",
            event(GameEvent::Chat {
                from: PlayerId(3),
                text: "gg".into(),
            }),
            SERVER_EVENT_CHAT,
        ),
        (
            "server-event-notice",
            event(GameEvent::Notice { text: "hi".into() }),
            SERVER_EVENT_NOTICE,
        ),
        (
            "server-event-match-over",
            event(GameEvent::MatchOver {
                reason: "time".into(),
                scores: vec![(PlayerId(3), 5, 1), (PlayerId(0), 2, 4)],
                next_in_ms: Some(10_000),
            }),
            SERVER_EVENT_MATCH_OVER,
        ),
        (
            "server-event-match-start",
            event(GameEvent::MatchStart {
                number: 2,
                score_limit: Some(5),
                time_limit_s: Some(600),
            }),
            SERVER_EVENT_MATCH_START,
        ),
        (
            "server-verdict-hit",
            ServerMsg::Verdict(ShotVerdict {
                seq: Seq(300),
                tick: Tick(1003),
                target: Some(PlayerId(0)),
                mode: ShotMode::Rewound,
                origin: [1600, 960],
                end: [2392, 1320],
                hitboxes: vec![(PlayerId(0), [2400, 1328]), (PlayerId(4), [-8, 70_000])],
            }),
            SERVER_VERDICT_HIT,
        ),
        (
            "server-verdict-refused",
            ServerMsg::Verdict(ShotVerdict {
                seq: Seq(301),
                tick: Tick(1004),
                target: None,
                mode: ShotMode::Refused,
                origin: [1600, 960],
                end: [1600, 960],
                hitboxes: Vec::new(),
            }),
            SERVER_VERDICT_REFUSED,
        ),
        (
            "server-shutdown",
            ServerMsg::Shutdown {
                reason: "match over".into(),
            },
            SERVER_SHUTDOWN,
        ),
        ("server-killcam", ServerMsg::Killcam(killcam()), SERVER_KILLCAM),
    ];
    let mut wrong = Vec::new();
    for (key, value, hex) in &vectors {
        wrong.extend(check(key, value, hex, MAX_CONTROL_FRAME));
    }
    assert_all(wrong);
}

const SERVER_KILLCAM: &str = "\
    05 03 00 fb eb 03 01 fb e9 03 fb ea 03 fb 00 80 \
    00 fb 80 0c fb 80 07 fb b0 12 fb 50 0a 02 00 fb \
    a8 12 fb 58 0a 03 fb 50 0c fb 80 07 fb e9 03 02 \
    03 00 13 03 02 03 c0 18 80 0f a0 25 d0 14 03 20 \
    00 10 10 01 20 00 01 fb eb 03 fb 80 0c fb 80 07 \
    fb b0 12 fb 50 0a 01 00";

/// A killcam of three ticks, two players, one shot (section 8.1).
fn killcam() -> Killcam {
    Killcam {
        killer: PlayerId(3),
        victim: PlayerId(0),
        tick: Tick(1003),
        view: Some(ShotView {
            tick_a: Tick(1001),
            tick_b: Tick(1002),
            alpha: 32768,
        }),
        mode: ShotMode::Rewound,
        origin: [1600, 960],
        end: [2392, 1320],
        traced: vec![(PlayerId(0), [2388, 1324]), (PlayerId(3), [1576, 960])],
        first_tick: Tick(1001),
        players: vec![PlayerId(3), PlayerId(0)],
        frames: vec![
            vec![Some([1568, 960]), Some([2384, 1320])],
            vec![Some([1584, 960]), Some([2392, 1328])],
            vec![Some([1600, 960]), None],
        ],
        shots: vec![KillcamShot {
            tick: Tick(1003),
            from: [1600, 960],
            to: [2392, 1320],
            hit: Some(PlayerId(0)),
        }],
    }
}

// ---- ClientDatagram (datagram, client to server) ----

const DATAGRAM_INPUTS: &str = "\
    00 01 29 00 fd ff 1d 02 07 ea 07 3c 7f 81 80 f4 \
    03 09 01 0e 01 00 80 2c 00 ff ba aa 01 d0 e1 02 \
    0e 01 00 00";

#[test]
fn input_datagram_matches_its_vector() {
    let fire = |seq: u16, tick: u32, mv: [i8; 2], aim: [i16; 2], alpha: u16| InputCmd {
        seq: Seq(seq),
        tick: Tick(tick),
        input: Input {
            mv,
            aim,
            buttons: BUTTON_FIRE,
            view: Some(ShotView {
                tick_a: Tick(tick - 8),
                tick_b: Tick(tick - 7),
                alpha,
            }),
        },
    };
    let datagram = ClientDatagram::Inputs {
        // Snapshot 41 is the newest received; of the 64 before it only 39 is missing (bit 1).
        ack: AckWindow {
            latest: Some(Seq(41)),
            bits: 0xfffd,
        },
        inputs: vec![
            fire(7, 1002, [127, -127], [32000, -5], 32768),
            fire(8, 1003, [0, -1], [-22627, 22627], 0),
        ],
    };
    assert_all(check("datagram-inputs", &datagram, DATAGRAM_INPUTS, MAX_DATAGRAM));
}

// ---- SnapshotPacket (datagram, server to client) ----

const SNAPSHOT_FULL: &str = "\
    05 00 e8 07 06 06 00 04 03 80 19 80 0f 8f 03 00 \
    46 c5 e1 02 c6 e1 02 0a 01 00 00 03 00 e7 03 c0 \
    25 e0 14 78 c8 01 02 04 02 03 ef 01 80 19 80 0f \
    53 54 8c 01 02 02 05 8b 02 80 08 80 08 77 06";
const SNAPSHOT_DELTA: &str = "\
    07 00 ea 07 07 02 08 00 01 03 80 19 80 0f 8f 03 \
    00 46 c5 e1 02 c6 e1 02 06 01 00 01 05 02 00 23 \
    20 0f 13 07 63 a0 04 e0 19 c8 01 02";

fn check_snapshot(key: &str, p: &SnapshotPacket, hex: &str) -> Vec<String> {
    check_with(key, p, hex, encode_snapshot, |b| decode_snapshot(b, MAX_DATAGRAM))
}

/// The receiving client's own player, as `SnapshotPacket.you` carries it.
fn you() -> PlayerState {
    PlayerState {
        id: PlayerId(3),
        body: Body {
            pos: Vec2::new(100.0, 60.0),
            vel: Vec2::new(-12.5, 0.0),
        },
        life: Life {
            health: 70,
            respawn_at: None,
        },
        weapon: Weapon {
            aim: [-22627, 22627],
            next_fire: Tick(1005),
        },
        score: Score { kills: 1, deaths: 0 },
    }
}

fn entity(id: u16, pos: [i32; 2], aim: [i16; 2], health: u8, kills: u16, deaths: u16) -> EntityState {
    EntityState {
        id: PlayerId(id),
        pos,
        aim,
        health,
        alive: health > 0,
        kills,
        deaths,
        hidden: false,
        shots: 0,
    }
}

fn set(entities: &[EntityState]) -> EntitySet {
    entities.iter().map(|e| (e.id, *e)).collect()
}

/// What the client holds after the full snapshot of tick 1000: players 0, 3 (itself) and 5.
fn state_1000() -> EntitySet {
    set(&[
        entity(0, [2400, 1328], [60, 0], 100, 2, 1),
        EntityState::from_player(&you()),
        entity(5, [512, 512], [0, -60], 0, 0, 3),
    ])
}

/// Tick 1002: player 0 moved and was hit, 3 did not change, 5 left, 7 joined.
fn state_1002() -> EntitySet {
    set(&[
        entity(0, [2416, 1320], [60, 0], 90, 2, 1),
        EntityState::from_player(&you()),
        entity(7, [272, 1648], [0, 0], 100, 0, 0),
    ])
}

/// A snapshot built the way the server builds one: `build_delta` from `base` to `cur`.
fn snapshot(seq: u16, tick: u32, baseline: Option<(u32, &EntitySet)>, cur: &EntitySet) -> SnapshotPacket {
    let empty = EntitySet::new();
    let base = baseline.map_or(&empty, |(_, set)| set);
    let built = build_delta(base, cur, |_| Vec::new(), usize::MAX, EntityDelta::encoded_len);
    assert_eq!(built.deferred, 0, "test setup: everything fits");
    SnapshotPacket {
        seq: Seq(seq),
        tick: Tick(tick),
        baseline: baseline.map(|(t, _)| Tick(t)),
        last_input: Some(Seq(6)),
        input_lead: 2,
        you: Some(you()),
        removed: built.removed,
        entities: built.entities,
    }
}

#[test]
fn full_snapshot_matches_its_vector() {
    let full = snapshot(5, 1000, None, &state_1000());
    // A full snapshot is a delta against nothing: every entity, each field that is not zero.
    assert_eq!(
        full.entities,
        vec![
            EntityDelta {
                id: PlayerId(0),
                mask: 0b1_1110_0111,
                diffs: [2400, 1328, 60, 100, 1, 2, 1].into(),
            },
            EntityDelta {
                id: PlayerId(3),
                mask: 0b1110_1111,
                diffs: [1600, 960, -42, 42, 70, 1, 1].into(),
            },
            EntityDelta {
                id: PlayerId(5),
                mask: 0b1_0000_1011,
                diffs: [512, 512, -60, 3].into(),
            },
        ]
    );
    assert_eq!(
        apply_delta(&EntitySet::new(), &full.removed, &full.entities),
        Ok(state_1000())
    );
    assert_all(check_snapshot("snapshot-full", &full, SNAPSHOT_FULL));
}

#[test]
fn delta_snapshot_matches_its_vector() {
    let base = state_1000();
    let mut delta = snapshot(7, 1002, Some((1000, &base)), &state_1002());
    delta.last_input = Some(Seq(8));
    delta.input_lead = -1;
    // Only what changed: player 0's position and health, player 7 against zero; 3 is unchanged
    // and absent, 5 is listed as removed.
    assert_eq!(delta.removed, vec![PlayerId(5)]);
    assert_eq!(
        delta.entities,
        vec![
            EntityDelta {
                id: PlayerId(0),
                mask: 0b0010_0011,
                diffs: [16, -8, -10].into(),
            },
            EntityDelta {
                id: PlayerId(7),
                mask: 0b0110_0011,
                diffs: [272, 1648, 100, 1].into(),
            },
        ]
    );
    assert_eq!(
        apply_delta(&base, &delta.removed, &delta.entities),
        Ok(state_1002())
    );
    assert_all(check_snapshot("snapshot-delta", &delta, SNAPSHOT_DELTA));
}

// ---- Control-stream framing ----

const FRAME_HELLO: &str = "07 00 00 00 00 01 04 5a 6f c3 ab";

#[test]
fn a_control_frame_is_a_length_prefix_and_the_message() {
    let hello = ClientMsg::Hello {
        version: 1,
        name: "Zoë".into(),
    };
    let frame = encode_frame(&hello).expect("encodes");
    assert_eq!(to_hex(&frame), normalize(FRAME_HELLO), "frame bytes");
    assert_eq!(frame[4..], from_hex(CLIENT_HELLO)[..], "the body is the message");
    assert_eq!(
        spec_vector("frame-hello"),
        Some(normalize(FRAME_HELLO)),
        "docs/PROTOCOL.md"
    );
    // Delivered one byte at a time, as a stream may, it still yields exactly that message.
    let mut frames = FrameDecoder::new(MAX_CONTROL_FRAME);
    let mut out = Vec::new();
    for b in from_hex(FRAME_HELLO) {
        frames.push(&[b]);
        while let Some(m) = frames.next_msg::<ClientMsg>().expect("valid frame") {
            out.push(m);
        }
    }
    assert_eq!(out, vec![hello]);
}

/// The appendix lists exactly the vectors this file checks, so the spec cannot keep a stale one.
#[test]
fn the_spec_appendix_has_no_other_vectors() {
    let keys = [
        "client-hello",
        "client-chat",
        "client-leave",
        "client-resume",
        "client-debug-view",
        "server-welcome",
        "server-reject-version",
        "server-reject-full",
        "server-reject-bad-name",
        "server-reject-shutting-down",
        "server-reject-protocol",
        "server-reject-per-addr",
        "server-reject-busy",
        "server-reject-resume-unknown",
        "server-event-join",
        "server-event-leave",
        "server-event-kill",
        "server-event-chat",
        "server-event-notice",
        "server-event-match-over",
        "server-event-match-start",
        "server-verdict-hit",
        "server-verdict-refused",
        "server-shutdown",
        "server-killcam",
        "datagram-inputs",
        "snapshot-full",
        "snapshot-delta",
        "frame-hello",
    ];
    let in_spec: Vec<&str> = SPEC
        .lines()
        .filter_map(|l| l.strip_prefix("#### `")?.split('`').next())
        .collect();
    assert_eq!(in_spec, keys, "headings of appendix A, in order");
}
