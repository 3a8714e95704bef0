//! The server over real QUIC on loopback, driven by a raw protocol client.

mod common;

use common::connect;
use rewind_server::{ServerConfig, start};
use rewind_shared::input::Input;
use rewind_shared::protocol::*;
use rewind_shared::tick::Seq;
use std::time::Duration;

fn server(cfg: ServerConfig) -> rewind_server::ServerHandle {
    start(cfg).expect("server starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_inputs_move_the_player_and_deltas_match_full_snapshots() {
    // Without the fog, so both clients are sent the same world (with it, each is told only what
    // it may see; `fog_pair.rs` tests that), and a snapshot every tick, so both clients are sent
    // one on the same ticks (at a longer interval each client has its own phase).
    let srv = server(ServerConfig {
        ai: 2,
        fog: false,
        snapshot_interval: 1,
        ..ServerConfig::default()
    });
    let mut a = connect(srv.local_addr(), srv.cert_der()).await;
    let ServerMsg::Welcome(w) = a.hello(PROTOCOL_VERSION, "alice").await else {
        panic!("expected welcome")
    };
    assert_eq!(w.tick_rate, 60);
    assert!(rewind_shared::map::Map::parse(&w.map_name, &w.map_text).is_ok());
    // A second client that never acks: it gets full snapshots.
    let mut b = connect(srv.local_addr(), srv.cert_der()).await;
    let ServerMsg::Welcome(_) = b.hello(PROTOCOL_VERSION, "bob").await else {
        panic!("expected welcome")
    };

    let (first, _) = a.next_snapshot(true).await;
    let start_pos = first.you.expect("own state").body.pos;
    let mut seq = Seq(0);
    let mut moved = None;
    let mut deltas_checked = 0;
    let mut delta_ticks = Vec::new();
    for i in 0..240 {
        let (snap, set) = a.next_snapshot(true).await;
        // Steer: inputs for the next few ticks, moving right, with redundancy.
        let inputs: Vec<InputCmd> = (1..=3)
            .map(|k| InputCmd {
                seq: seq.offset(k),
                tick: snap.tick.offset(i32::from(k) + 1),
                input: Input {
                    mv: [127, 0],
                    aim: [1, 0],
                    ..Input::default()
                },
            })
            .collect();
        seq = seq.next();
        a.send_inputs(inputs);
        if let Some(you) = snap.you
            && you.body.pos.x > start_pos.x + 20.0
        {
            moved = Some(snap.last_input);
        }
        if snap.baseline.is_some() {
            delta_ticks.push((snap.tick.0, set));
        }
        // b keeps its session alive (a silent client is dropped) but acknowledges nothing, so
        // it gets full snapshots, every tick for its first second and then only as probes.
        b.send_inputs(Vec::new());
        if i < 50 {
            let (bs, _) = b.next_snapshot(false).await;
            assert_eq!(bs.baseline, None, "a client that never acks gets full snapshots");
        }
    }
    // Compare with the full-snapshot client at the same ticks.
    for (tick, set) in &delta_ticks {
        if let Some(full) = b.sets.get(tick) {
            assert_eq!(
                set, full,
                "delta-decoded state differs from the full snapshot at tick {tick}"
            );
            deltas_checked += 1;
        }
    }
    assert!(moved.is_some(), "the player moved right after inputs");
    assert!(
        moved.flatten().is_some(),
        "snapshots report the last applied input"
    );
    assert!(
        deltas_checked > 10,
        "only {deltas_checked} delta snapshots compared"
    );
    // Stopping the server tells connected clients why, on the reliable stream.
    srv.stop();
    let reason = loop {
        match b.next_msg().await {
            Some(ServerMsg::Shutdown { reason }) => break reason,
            Some(_) => continue,
            None => panic!("no shutdown message before the stream ended"),
        }
    };
    assert!(reason.contains("stopped"), "{reason}");
    // Leaving after the shutdown is harmless either way (the server may have closed us already).
    a.try_send_msg(&ClientMsg::Leave).await;
    let stats = srv.wait();
    assert_eq!(stats.clients_total, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_protocol_version_is_rejected_naming_both_versions() {
    let srv = server(ServerConfig::default());
    let mut c = connect(srv.local_addr(), srv.cert_der()).await;
    let answer = c.hello(PROTOCOL_VERSION + 41, "old").await;
    let ServerMsg::Reject(reason) = answer else {
        panic!("expected a reject, got {answer:?}")
    };
    let text = reason.to_string();
    assert!(text.contains(&format!("version {PROTOCOL_VERSION}")), "{text}");
    assert!(
        text.contains(&format!("version {}", PROTOCOL_VERSION + 41)),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_server_rejects_and_bad_names_are_refused() {
    let srv = server(ServerConfig {
        max_clients: 1,
        ..ServerConfig::default()
    });
    let mut a = connect(srv.local_addr(), srv.cert_der()).await;
    assert!(matches!(
        a.hello(PROTOCOL_VERSION, "first").await,
        ServerMsg::Welcome(_)
    ));
    let mut b = connect(srv.local_addr(), srv.cert_der()).await;
    let answer = b.hello(PROTOCOL_VERSION, "second").await;
    assert_eq!(answer, ServerMsg::Reject(RejectReason::ServerFull { max: 1 }));
    let mut c = connect(srv.local_addr(), srv.cert_der()).await;
    assert_eq!(
        c.hello(PROTOCOL_VERSION, "\u{7}").await,
        ServerMsg::Reject(RejectReason::BadName)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_from_one_client_never_stops_the_tick_loop() {
    let srv = server(ServerConfig {
        ai: 2,
        ..ServerConfig::default()
    });
    let mut good = connect(srv.local_addr(), srv.cert_der()).await;
    assert!(matches!(
        good.hello(PROTOCOL_VERSION, "good").await,
        ServerMsg::Welcome(_)
    ));
    let mut evil = connect(srv.local_addr(), srv.cert_der()).await;
    assert!(matches!(
        evil.hello(PROTOCOL_VERSION, "evil").await,
        ServerMsg::Welcome(_)
    ));
    // Garbage datagrams of every size, hostile inputs, then a garbage control frame.
    for i in 0..500u32 {
        let len = (i as usize * 7) % 1100 + 1;
        let junk: Vec<u8> = (0..len).map(|k| (k as u32 * 31 + i) as u8).collect();
        let _ = evil.conn.send_datagram(junk.into());
    }
    // A burst beyond the connection's inbox is dropped (and counted) before decoding; let the
    // tick drain it so the hostile inputs below are looked at.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let hostile = InputCmd {
        seq: Seq(1),
        tick: rewind_shared::tick::Tick(u32::MAX / 2),
        input: Input {
            mv: [-128, -128],
            aim: [i16::MIN, 0],
            buttons: 255,
            view: None,
        },
    };
    evil.send_inputs(vec![hostile; 16]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    evil.send_raw(&[0xff, 0xff, 0xff, 0x7f, 1, 2, 3]).await;
    // The good client keeps getting snapshots with advancing ticks.
    let (s1, _) = good.next_snapshot(true).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut last = s1.tick;
    for _ in 0..30 {
        let (s, _) = good.next_snapshot(true).await;
        last = s.tick;
    }
    assert!(
        last.diff(s1.tick) >= 30,
        "ticks advanced from {} to {}",
        s1.tick,
        last
    );
    // The evil client was disconnected for the bad frame.
    let closed = tokio::time::timeout(Duration::from_secs(5), evil.conn.closed()).await;
    assert!(closed.is_ok(), "a protocol violation closes the connection");
    srv.stop();
    let stats = srv.wait();
    assert!(stats.bad_datagrams > 0, "bad datagrams are counted");
    assert!(
        stats.rate_limited > 0,
        "a burst past the inbox is dropped and counted"
    );
    assert!(stats.future_inputs > 0, "inputs far in the future are counted");
}

/// QUIC connection migration: the client's address changes mid-match (a NAT rebinding, a new
/// port) and the session goes on, same player, no reconnect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_whose_address_changes_keeps_its_session() {
    let srv = server(ServerConfig::default());
    let mut c = connect(srv.local_addr(), srv.cert_der()).await;
    let ServerMsg::Welcome(w) = c.hello(PROTOCOL_VERSION, "mover").await else {
        panic!("expected welcome")
    };
    let before = c.endpoint.local_addr().unwrap();
    let mut seq = Seq(0);
    let mut step = |c: &mut common::RawClient, snap: &SnapshotPacket| {
        let cmd = InputCmd {
            seq,
            tick: snap.tick.offset(2),
            input: Input::default(),
        };
        seq = seq.next();
        c.send_inputs(vec![cmd]);
    };
    for _ in 0..30 {
        let (snap, _) = c.next_snapshot(true).await;
        step(&mut c, &snap);
    }
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    c.endpoint.rebind(socket).expect("rebind");
    assert_ne!(c.endpoint.local_addr().unwrap(), before);
    let mut last = None;
    for _ in 0..60 {
        let (snap, _) = c.next_snapshot(true).await;
        step(&mut c, &snap);
        assert_eq!(snap.you.map(|y| y.id), Some(w.player_id), "still our player");
        last = Some(snap.last_input);
    }
    assert!(
        last.flatten().is_some(),
        "inputs sent from the new address are applied"
    );
    srv.stop();
    let stats = srv.wait();
    assert_eq!(stats.clients_total, 1, "no second handshake");
}
