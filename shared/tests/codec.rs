//! Decoders face hostile bytes: they return errors, never panic, never over-allocate.

use proptest::prelude::*;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rewind_shared::ack::AckWindow;
use rewind_shared::codec::{CodecError, decode, decode_snapshot, encode};
use rewind_shared::frame::{FrameDecoder, FrameError, encode_frame};
use rewind_shared::input::{Input, ShotView};
use rewind_shared::protocol::*;
use rewind_shared::tick::{Seq, Tick};

fn arb_input() -> impl Strategy<Value = Input> {
    (
        any::<[i8; 2]>(),
        any::<[i16; 2]>(),
        any::<u8>(),
        any::<Option<(u32, u32, u16)>>(),
    )
        .prop_map(|(mv, aim, buttons, view)| Input {
            mv,
            aim,
            buttons,
            view: view.map(|(a, b, alpha)| ShotView {
                tick_a: Tick(a),
                tick_b: Tick(b),
                alpha,
            }),
        })
}

fn arb_client_msg() -> impl Strategy<Value = ClientMsg> {
    prop_oneof![
        (any::<u32>(), ".{0,30}").prop_map(|(version, name)| ClientMsg::Hello { version, name }),
        ".{0,100}".prop_map(|text| ClientMsg::Chat { text }),
        Just(ClientMsg::Leave),
    ]
}

proptest! {
    #[test]
    fn inputs_round_trip(ack in any::<(Option<u16>, u64)>(), cmds in proptest::collection::vec((any::<u16>(), any::<u32>(), arb_input()), 0..16)) {
        let msg = ClientDatagram::Inputs {
            // The wire carries the newest 16 bits of a window, and none without a latest.
            ack: AckWindow { latest: ack.0.map(Seq), bits: if ack.0.is_some() { ack.1 & 0xffff } else { 0 } },
            inputs: cmds.into_iter().map(|(s, t, input)| InputCmd { seq: Seq(s), tick: Tick(t), input }).collect(),
        };
        let bytes = encode(&msg).unwrap();
        prop_assert!(bytes.len() <= MAX_DATAGRAM);
        prop_assert_eq!(decode::<ClientDatagram>(&bytes, MAX_DATAGRAM).unwrap(), msg);
    }

    #[test]
    fn control_messages_round_trip_through_frames(msgs in proptest::collection::vec(arb_client_msg(), 1..8), split in 1usize..50) {
        let bytes: Vec<u8> = msgs.iter().flat_map(|m| encode_frame(m).unwrap()).collect();
        let mut dec = FrameDecoder::new(MAX_CONTROL_FRAME);
        let mut out = Vec::new();
        for chunk in bytes.chunks(split) {
            dec.push(chunk);
            while let Some(m) = dec.next_msg::<ClientMsg>().unwrap() {
                out.push(m);
            }
        }
        prop_assert_eq!(out, msgs);
    }

    #[test]
    fn random_bytes_never_panic_any_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode::<ClientMsg>(&bytes, MAX_CONTROL_FRAME);
        let _ = decode::<ServerMsg>(&bytes, MAX_CONTROL_FRAME);
        let _ = decode::<ClientDatagram>(&bytes, MAX_DATAGRAM);
        let _ = decode_snapshot(&bytes, MAX_DATAGRAM);
    }
}

#[test]
fn hundred_thousand_random_byte_strings_return_errors_not_panics() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut ok = 0;
    for _ in 0..100_000 {
        let len = rng.random_range(0..200);
        let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        for r in [
            decode::<ClientDatagram>(&bytes, MAX_DATAGRAM).map(|_| ()),
            decode_snapshot(&bytes, MAX_DATAGRAM).map(|_| ()),
            decode::<ClientMsg>(&bytes, MAX_CONTROL_FRAME).map(|_| ()),
            decode::<ServerMsg>(&bytes, MAX_CONTROL_FRAME).map(|_| ()),
        ] {
            ok += usize::from(r.is_ok());
        }
        let mut dec = FrameDecoder::new(MAX_CONTROL_FRAME);
        dec.push(&bytes);
        while let Ok(Some(_)) = dec.next_msg::<ServerMsg>() {}
    }
    // Almost all random strings must be refused; a few short ones may happen to be valid.
    assert!(ok < 40_000, "{ok} random strings decoded");
}

#[test]
fn oversized_and_trailing_input_is_refused() {
    let big = vec![0u8; MAX_DATAGRAM + 1];
    assert!(matches!(
        decode::<ClientDatagram>(&big, MAX_DATAGRAM),
        Err(CodecError::TooLarge { .. })
    ));
    let mut bytes = encode(&ClientMsg::Leave).unwrap();
    bytes.push(0);
    assert!(matches!(
        decode::<ClientMsg>(&bytes, MAX_CONTROL_FRAME),
        Err(CodecError::Trailing { extra: 1 })
    ));
    // A length prefix claiming 4 GiB must fail at once, without buffering.
    let mut dec = FrameDecoder::new(MAX_CONTROL_FRAME);
    dec.push(&u32::MAX.to_le_bytes());
    assert!(matches!(
        dec.next_msg::<ClientMsg>(),
        Err(FrameError::TooLarge { .. })
    ));
    // A string whose length prefix is huge must not allocate it.
    let mut evil = vec![0u8, 0]; // Hello, version 0
    evil.extend_from_slice(&[253, 255, 255, 255, 255, 255, 255, 255, 127]);
    assert!(decode::<ClientMsg>(&evil, MAX_CONTROL_FRAME).is_err());
}

#[test]
fn version_mismatch_reason_names_both_versions() {
    // The server can read a hello of any version: `Hello` is variant 0 and `version` its first
    // field, so the version is the varint right after the first byte (9 and 300 here).
    for (version, head) in [(9u32, vec![0u8, 9]), (300, vec![0, 251, 0x2c, 0x01])] {
        let hello = ClientMsg::Hello {
            version,
            name: "Ann".into(),
        };
        let bytes = encode(&hello).unwrap();
        assert_eq!(
            bytes[..head.len()],
            head[..],
            "hello of version {version}: {bytes:02x?}"
        );
        assert_eq!(decode::<ClientMsg>(&bytes, MAX_CONTROL_FRAME).unwrap(), hello);
    }
    // ... and its answer carries both numbers to the client, in the message and in the text.
    let r = RejectReason::VersionMismatch { server: 1, client: 9 };
    let reject = encode(&ServerMsg::Reject(r.clone())).unwrap();
    assert_eq!(
        reject,
        [1, 0, 1, 9],
        "Reject is variant 1, VersionMismatch variant 0"
    );
    assert_eq!(
        decode::<ServerMsg>(&reject, MAX_CONTROL_FRAME).unwrap(),
        ServerMsg::Reject(r.clone())
    );
    let text = r.to_string();
    assert!(text.contains("version 1") && text.contains("version 9"), "{text}");
    assert!(valid_name("Ann") && !valid_name("") && !valid_name("a\u{7}") && !valid_name(&"x".repeat(25)));
}
