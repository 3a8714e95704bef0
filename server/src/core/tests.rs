//! The core driven directly: bytes and time in, transmits out, no transport at all.

#[cfg(test)] // the whole file is the core's test module (declared under cfg(test))
use super::*;
use rewind_shared::frame::FrameDecoder;
use rewind_shared::protocol::{ClientMsg, MAX_CONTROL_FRAME, PROTOCOL_VERSION};
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

fn hello(name: &str) -> Vec<u8> {
    encode_frame(&ClientMsg::Hello {
        version: PROTOCOL_VERSION,
        name: name.into(),
    })
    .unwrap()
}

/// Drains the core's output, decoding control messages per connection.
#[derive(Default)]
struct Wire {
    frames: HashMap<ClientKey, FrameDecoder>,
    closed: Vec<(ClientKey, CloseReason)>,
}

impl Wire {
    fn drain(&mut self, core: &mut ServerCore) -> Vec<(ClientKey, ServerMsg)> {
        let mut msgs = Vec::new();
        while let Some(t) = core.poll_transmit() {
            match t {
                Transmit::Control { key, bytes } => {
                    let f = self
                        .frames
                        .entry(key)
                        .or_insert_with(|| FrameDecoder::new(MAX_CONTROL_FRAME));
                    f.push(&bytes);
                    while let Some(m) = f.next_msg::<ServerMsg>().unwrap() {
                        msgs.push((key, m));
                    }
                }
                Transmit::Close { key, reason } => self.closed.push((key, reason)),
                Transmit::Datagram { .. } => {}
            }
        }
        msgs
    }
}

fn core(ai: u16) -> ServerCore {
    ServerCore::new(
        ServerConfig {
            ai,
            max_clients: 200,
            ..ServerConfig::default()
        },
        None,
    )
}

/// 70,000 joins and leaves, with a few players staying throughout: no id held by a live player
/// is ever handed out again (ids are u16 and wrap about once a minute at this rate).
#[test]
fn seventy_thousand_joins_never_reuse_a_live_id() {
    let mut core = core(2);
    let mut wire = Wire::default();
    let mut now = Duration::ZERO;
    let mut next_key = 0u64;
    let mut live: BTreeSet<PlayerId> = core.names.keys().copied().collect();
    let mut joins = 0u32;
    let mut connect = |core: &mut ServerCore, now: Duration, name: &str| {
        next_key += 1;
        let key = ClientKey(next_key);
        core.handle_connect(
            key,
            IpAddr::from([10, 0, (next_key >> 8) as u8, next_key as u8]),
            1200,
            now,
        );
        core.handle_control(key, &hello(name), now);
        key
    };
    let stayers: Vec<ClientKey> = (0..3)
        .map(|i| connect(&mut core, now, &format!("stay{i}")))
        .collect();
    let mut wrapped = false;
    while joins < 70_000 {
        let batch: Vec<ClientKey> = (0..20).map(|_| connect(&mut core, now, "guest")).collect();
        for (_, m) in wire.drain(&mut core) {
            if let ServerMsg::Welcome(w) = m {
                assert!(
                    live.insert(w.player_id),
                    "live id {} handed out again",
                    w.player_id
                );
                joins += 1;
                wrapped |= w.player_id.0 < 100 && joins > 65_536;
            }
        }
        // Now and then the batch enters the simulation before it leaves; otherwise it leaves
        // while its joins are still pending (both paths must free the ids).
        if joins.is_multiple_of(400) {
            now += Duration::from_millis(16);
            core.tick(now);
        }
        for key in batch {
            let player = core.conns[&key].client().map(|c| c.player).unwrap();
            core.handle_closed(key, LinkClosed::ClosedByPeer);
            live.remove(&player);
        }
        wire.drain(&mut core);
    }
    assert!(wrapped, "the run must wrap the id space to prove anything");
    assert!(stayers.iter().all(|k| core.conns[k].client().is_some()));
    assert_eq!(core.clients(), 3);
}

#[test]
fn handshake_timeout_rejects_and_forgets() {
    let mut core = core(0);
    let mut wire = Wire::default();
    core.handle_connect(ClientKey(1), IpAddr::from([127, 0, 0, 1]), 1200, Duration::ZERO);
    core.tick(Duration::from_millis(4_999));
    assert!(wire.drain(&mut core).is_empty());
    core.tick(Duration::from_secs(5));
    let msgs = wire.drain(&mut core);
    assert_eq!(
        msgs,
        vec![(
            ClientKey(1),
            ServerMsg::Reject(rewind_shared::protocol::RejectReason::Protocol(
                "handshake timeout".into()
            ))
        )]
    );
    assert_eq!(core.connections(), 0);
    assert!(matches!(
        wire.closed[..],
        [(ClientKey(1), CloseReason::Rejected(_))]
    ));
}
