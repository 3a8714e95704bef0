//! The core driven directly: bytes and time in, transmits out, no transport at all.

#[cfg(test)] // the whole file is the core's test module (declared under cfg(test))
use super::*;
use rewind_shared::codec::encode;
use rewind_shared::frame::FrameDecoder;
use rewind_shared::protocol::{ClientMsg, MAX_CONTROL_FRAME, PROTOCOL_VERSION};
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

pub(super) fn hello(name: &str) -> Vec<u8> {
    encode_frame(&ClientMsg::Hello {
        version: PROTOCOL_VERSION,
        name: name.into(),
    })
    .unwrap()
}

/// Drains the core's output, decoding control messages per connection.
#[derive(Default)]
pub(super) struct Wire {
    frames: HashMap<ClientKey, FrameDecoder>,
    closed: Vec<(ClientKey, CloseReason)>,
}

impl Wire {
    pub(super) fn drain(&mut self, core: &mut ServerCore) -> Vec<(ClientKey, ServerMsg)> {
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

mod resume {
    use super::*;
    use rewind_shared::ack::AckWindow;
    use rewind_shared::protocol::{ClientDatagram, InputCmd, RejectReason, ResumeToken};
    use rewind_shared::tick::Seq;

    const ALICE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const BOB: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    fn resume(token: ResumeToken) -> Vec<u8> {
        encode_frame(&ClientMsg::Resume {
            version: PROTOCOL_VERSION,
            token,
        })
        .unwrap()
    }

    /// One input moving right for `tick`.
    fn walk(seq: u16, tick: Tick) -> Vec<u8> {
        encode(&ClientDatagram::Inputs {
            ack: AckWindow::default(),
            inputs: vec![InputCmd {
                seq: Seq(seq),
                tick,
                input: Input {
                    mv: [127, 0],
                    aim: [0, 100],
                    ..Input::default()
                },
            }],
        })
        .unwrap()
    }

    /// Connects `key` from `addr` with `first` as its first frame; returns what it was answered.
    fn open(
        core: &mut ServerCore,
        wire: &mut Wire,
        key: u64,
        addr: IpAddr,
        first: &[u8],
        now: Duration,
    ) -> ServerMsg {
        core.handle_connect(ClientKey(key), addr, 1200, now);
        core.handle_control(ClientKey(key), first, now);
        let msgs = wire.drain(core);
        msgs.into_iter()
            .find(|(k, _)| *k == ClientKey(key))
            .map(|(_, m)| m)
            .expect("an answer")
    }

    fn welcome(m: ServerMsg) -> rewind_shared::protocol::Welcome {
        match m {
            ServerMsg::Welcome(w) => w,
            other => panic!("expected a welcome, got {other:?}"),
        }
    }

    fn pos(core: &mut ServerCore, id: PlayerId) -> rewind_shared::Vec2 {
        core.players()
            .into_iter()
            .find(|p| p.id == id)
            .expect("in the match")
            .body
            .pos
    }

    /// Plays `ticks` ticks from `*now`, the connections `walkers` walking right.
    fn play(
        core: &mut ServerCore,
        wire: &mut Wire,
        now: &mut Duration,
        ticks: u32,
        walkers: &[u64],
    ) -> Vec<ServerMsg> {
        let mut msgs = Vec::new();
        for _ in 0..ticks {
            *now += Duration::from_micros(16_667);
            for key in walkers {
                let next = core.current_tick().next();
                core.handle_datagram(ClientKey(*key), &walk(next.0 as u16, next), *now);
            }
            core.tick(*now);
            msgs.extend(wire.drain(core).into_iter().map(|(_, m)| m));
        }
        msgs
    }

    #[test]
    fn a_dropped_player_stands_still_and_comes_back_whole() {
        let mut core = core(0);
        let mut wire = Wire::default();
        let mut now = Duration::ZERO;
        let w1 = welcome(open(&mut core, &mut wire, 1, ALICE, &hello("alice"), now));
        assert_eq!(w1.resume_grace_ms, 30_000);
        welcome(open(&mut core, &mut wire, 2, BOB, &hello("bob"), now));
        play(&mut core, &mut wire, &mut now, 60, &[1, 2]);
        let before = core.players().into_iter().find(|p| p.id == w1.player_id).unwrap();

        core.handle_closed(ClientKey(1), LinkClosed::TimedOut);
        assert_eq!((core.clients(), core.parked()), (1, 1));
        // It glides to a stop (movement has momentum), then stays there.
        let mut gap = play(&mut core, &mut wire, &mut now, 60, &[2]);
        let stood = pos(&mut core, w1.player_id);
        assert!(
            stood.distance(before.body.pos) < 40.0,
            "no ghost walk: {stood} vs {}",
            before.body.pos
        );
        gap.extend(play(&mut core, &mut wire, &mut now, 540, &[2]));
        assert_eq!(pos(&mut core, w1.player_id), stood, "stands still");
        assert!(
            !gap.iter()
                .any(|m| matches!(m, ServerMsg::Event(GameEvent::Leave { .. }))),
            "nobody is told of a leave during the grace period: {gap:?}"
        );

        let w2 = welcome(open(
            &mut core,
            &mut wire,
            3,
            ALICE,
            &resume(w1.resume_token),
            now,
        ));
        assert_eq!(w2.player_id, w1.player_id);
        assert_ne!(w2.resume_token, w1.resume_token, "a new token at every welcome");
        assert_eq!((core.clients(), core.parked()), (2, 0));
        let after = core.players().into_iter().find(|p| p.id == w1.player_id).unwrap();
        assert_eq!(after.score, before.score);
        assert_eq!(after.life.health, before.life.health);
        // It walks again under the new connection.
        play(&mut core, &mut wire, &mut now, 30, &[2, 3]);
        assert!(pos(&mut core, w1.player_id).x > stood.x);

        // The old token is spent.
        let again = open(&mut core, &mut wire, 4, ALICE, &resume(w1.resume_token), now);
        assert_eq!(again, ServerMsg::Reject(RejectReason::ResumeUnknown));
        assert_eq!(core.metrics.guard.resumed.get(), 1);
        assert_eq!(core.metrics.guard.refused_resume.get(), 1);
    }

    #[test]
    fn after_the_grace_period_the_player_leaves_and_the_token_is_refused() {
        let mut core = core(0);
        let mut wire = Wire::default();
        let mut now = Duration::ZERO;
        let w1 = welcome(open(&mut core, &mut wire, 1, ALICE, &hello("alice"), now));
        welcome(open(&mut core, &mut wire, 2, BOB, &hello("bob"), now));
        play(&mut core, &mut wire, &mut now, 10, &[1]);
        core.handle_closed(ClientKey(1), LinkClosed::Lost("reset".into()));
        // Bob keeps sending so that he is not dropped for silence himself.
        let mut left = Vec::new();
        for _ in 0..(31 * 60) {
            now += Duration::from_micros(16_667);
            let next = core.current_tick().next();
            core.handle_datagram(ClientKey(2), &walk(next.0 as u16, next), now);
            core.tick(now);
            left.extend(wire.drain(&mut core).into_iter().filter_map(|(_, m)| match m {
                ServerMsg::Event(GameEvent::Leave { id, reason }) => Some((id, reason)),
                _ => None,
            }));
        }
        assert_eq!(left, vec![(w1.player_id, "reset".to_string())]);
        assert_eq!(core.parked(), 0);
        assert_eq!(core.metrics.guard.resume_expired.get(), 1);
        let late = open(&mut core, &mut wire, 3, ALICE, &resume(w1.resume_token), now);
        assert_eq!(late, ServerMsg::Reject(RejectReason::ResumeUnknown));
    }

    #[test]
    fn a_squatter_that_never_sent_a_datagram_is_not_kept() {
        let mut core = core(0);
        let mut wire = Wire::default();
        let mut now = Duration::ZERO;
        welcome(open(&mut core, &mut wire, 1, ALICE, &hello("squatter"), now));
        play(&mut core, &mut wire, &mut now, 4 * 60, &[]);
        assert!(matches!(
            wire.closed[..],
            [(ClientKey(1), CloseReason::Silent(_))]
        ));
        assert_eq!((core.clients(), core.parked(), core.players().len()), (0, 0, 0));
    }

    #[test]
    fn a_live_connection_is_taken_over_by_its_token() {
        let mut core = core(0);
        let mut wire = Wire::default();
        let mut now = Duration::ZERO;
        let w1 = welcome(open(&mut core, &mut wire, 1, ALICE, &hello("alice"), now));
        play(&mut core, &mut wire, &mut now, 10, &[1]);
        // A new network: the server has not noticed the old connection is gone.
        let w2 = welcome(open(&mut core, &mut wire, 2, BOB, &resume(w1.resume_token), now));
        assert_eq!(w2.player_id, w1.player_id);
        assert!(wire.closed.contains(&(ClientKey(1), CloseReason::Replaced)));
        assert_eq!((core.clients(), core.parked(), core.players().len()), (1, 0, 1));
    }

    #[test]
    fn kept_seats_count_against_the_address_limit_but_resumes_pass() {
        let mut core = ServerCore::new(
            ServerConfig {
                max_per_addr: 2,
                ..ServerConfig::default()
            },
            None,
        );
        let mut wire = Wire::default();
        let mut now = Duration::ZERO;
        let a = welcome(open(&mut core, &mut wire, 1, ALICE, &hello("a"), now));
        welcome(open(&mut core, &mut wire, 2, ALICE, &hello("b"), now));
        for key in [1, 2] {
            core.handle_datagram(ClientKey(key), &walk(1, core.current_tick().next()), now);
        }
        play(&mut core, &mut wire, &mut now, 2, &[]);
        core.handle_closed(ClientKey(1), LinkClosed::TimedOut);
        core.handle_closed(ClientKey(2), LinkClosed::TimedOut);
        assert_eq!(core.parked(), 2);
        let third = open(&mut core, &mut wire, 3, ALICE, &hello("c"), now);
        assert_eq!(
            third,
            ServerMsg::Reject(RejectReason::TooManyFromAddress { max: 2 })
        );
        let back = welcome(open(&mut core, &mut wire, 4, ALICE, &resume(a.resume_token), now));
        assert_eq!(back.player_id, a.player_id);
    }

    #[test]
    fn abuse_and_leaving_are_final() {
        let mut core = core(0);
        let mut wire = Wire::default();
        let now = Duration::ZERO;
        welcome(open(&mut core, &mut wire, 1, ALICE, &hello("a"), now));
        core.handle_datagram(ClientKey(1), &walk(1, core.current_tick().next()), now);
        core.handle_control(ClientKey(1), &encode_frame(&ClientMsg::Leave).unwrap(), now);
        assert_eq!(core.parked(), 0);
        welcome(open(&mut core, &mut wire, 2, ALICE, &hello("b"), now));
        core.handle_datagram(ClientKey(2), &walk(1, core.current_tick().next()), now);
        core.handle_control(ClientKey(2), &hello("again"), now);
        assert_eq!(core.parked(), 0);
        // A peer that closes its connection itself has left, Leave frame or not.
        welcome(open(&mut core, &mut wire, 3, ALICE, &hello("c"), now));
        core.handle_datagram(ClientKey(3), &walk(1, core.current_tick().next()), now);
        core.handle_closed(ClientKey(3), LinkClosed::ClosedByPeer);
        assert_eq!(core.parked(), 0);
        assert!(!CloseReason::Flood.resumable());
    }
}

/// Snapshots sent per connection in one tick's output.
fn snapshots_out(core: &mut ServerCore) -> Vec<ClientKey> {
    let mut keys = Vec::new();
    while let Some(t) = core.poll_transmit() {
        if let Transmit::Datagram { key, .. } = t {
            keys.push(key);
        }
    }
    keys
}

/// A tick that has used its time postpones the snapshots still due to the next tick, where they
/// go first: under a sustained overload (room for two snapshots a tick, three due) every client
/// is still served in turn, none waits much longer than the others, and the postponements are
/// counted. Without a budget every due client is served on its own tick.
#[test]
fn snapshots_past_the_tick_budget_wait_one_tick_and_go_first() {
    const CLIENTS: u64 = 6;
    let mut runs = Vec::new();
    for room in [None, Some(2usize)] {
        let mut core = core(0);
        let mut now = Duration::ZERO;
        for k in 1..=CLIENTS {
            core.handle_connect(ClientKey(k), IpAddr::from([10, 0, 0, k as u8]), 1200, now);
            core.handle_control(ClientKey(k), &hello(&format!("p{k}")), now);
        }
        let _ = snapshots_out(&mut core);
        let mut last: HashMap<ClientKey, u32> = HashMap::new();
        let (mut longest_wait, mut sent) = (0u32, HashMap::<ClientKey, u32>::new());
        // Under a second: every client still counts as acknowledging (no probe spacing).
        for t in 1..=50u32 {
            now += Duration::from_micros(16_667);
            let mut served = 0usize;
            core.tick_within(now, &mut || {
                served += 1;
                room.is_some_and(|r| served >= r)
            });
            let out = snapshots_out(&mut core);
            assert!(!out.is_empty(), "at least one snapshot every tick");
            if let Some(r) = room {
                assert!(
                    out.len() <= r,
                    "tick {t}: {} snapshots past the budget",
                    out.len()
                );
            }
            for key in out {
                if let Some(prev) = last.insert(key, t) {
                    longest_wait = longest_wait.max(t - prev);
                }
                *sent.entry(key).or_default() += 1;
            }
        }
        assert_eq!(sent.len(), CLIENTS as usize, "every client served: {sent:?}");
        runs.push((longest_wait, sent, core.metrics.postponed_snapshots.get()));
    }
    let (free, tight) = (&runs[0], &runs[1]);
    // Unbudgeted: one snapshot every interval (2 ticks), nothing postponed.
    assert_eq!((free.0, free.2), (2, 0), "{free:?}");
    assert!(free.1.values().all(|&n| n == 25), "{free:?}");
    // Budgeted at 2 of the 3 due: 100 snapshots shared fairly, each wait bounded.
    let (least, most) = (
        tight.1.values().min().copied().unwrap_or(0),
        tight.1.values().max().copied().unwrap_or(0),
    );
    assert!(tight.2 > 0, "postponements are counted");
    assert!(most - least <= 2, "shared fairly: {tight:?}");
    assert!(tight.0 <= 4, "no client starves: {tight:?}");
}
