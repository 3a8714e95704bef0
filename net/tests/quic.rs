//! End-to-end: real quinn client and server on loopback, the client's socket conditioned.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{localhost, measure_rtt, spawn_echo_server, tls_configs};
use rewind_net::{conditioned_endpoint, plain_endpoint};
use rewind_shared::conditioner::LinkConfig;

const TEST_LIMIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lag_100ms_each_way_gives_200ms_rtt() {
    tokio::time::timeout(TEST_LIMIT, async {
        let (server_cfg, client_cfg) = tls_configs();
        let server = plain_endpoint(localhost(), Some(server_cfg)).expect("server");
        let server_addr = server.local_addr().expect("addr");
        spawn_echo_server(server);

        let link = LinkConfig::parse("lag=100ms").expect("link");
        let (client, control) = conditioned_endpoint(localhost(), None, link, 42).expect("client");
        let start = Instant::now();
        let conn = client
            .connect_with(client_cfg, server_addr, "localhost")
            .expect("connect")
            .await
            .expect("handshake");
        let handshake = start.elapsed();
        let rtt = measure_rtt(&conn, 10).await;
        eprintln!(
            "lag 100ms: handshake {handshake:?}, quinn rtt {rtt:?}, stats {:?}",
            control.stats()
        );
        assert!(
            rtt >= Duration::from_millis(170) && rtt <= Duration::from_millis(300),
            "rtt {rtt:?}"
        );
        assert!(
            handshake >= Duration::from_millis(200),
            "handshake {handshake:?} ignored the lag"
        );
        let stats = control.stats();
        assert!(stats.outgoing.delivered > 10 && stats.incoming.delivered > 10);

        // Live change: drop the lag and the RTT follows.
        control
            .update(|l| l.latency = Duration::from_millis(10))
            .expect("valid");
        let rtt = measure_rtt(&conn, 30).await;
        eprintln!("after live change to 10ms: quinn rtt {rtt:?}");
        assert!(rtt < Duration::from_millis(100), "rtt after live change {rtt:?}");
        assert!(control.update(|l| l.loss = 7.0).is_err());
        conn.close(0u32.into(), b"done");
    })
    .await
    .expect("test took too long");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_survives_20_percent_loss() {
    tokio::time::timeout(TEST_LIMIT, async {
        let (server_cfg, client_cfg) = tls_configs();
        let server = plain_endpoint(localhost(), Some(server_cfg)).expect("server");
        let server_addr = server.local_addr().expect("addr");
        const DATAGRAMS: u32 = 200;
        const MESSAGES: u32 = 100;
        // Server: after the handshake, 200 datagrams ("snapshots") at 5 ms, then 100 reliable
        // messages, each on its own unidirectional stream ("events").
        tokio::spawn(async move {
            let Some(incoming) = server.accept().await else { return };
            let conn = incoming.await.expect("server handshake");
            for i in 0..DATAGRAMS {
                conn.send_datagram(i.to_le_bytes().to_vec().into()).expect("datagram");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            for i in 0..MESSAGES {
                let mut s = conn.open_uni().await.expect("uni");
                s.write_all(&i.to_le_bytes()).await.expect("write");
                s.finish().expect("finish");
            }
            conn.closed().await;
        });

        let link = LinkConfig::parse("lag=10ms loss=20%").expect("link");
        // Seed 6 loses the client's first Initial (each direction draws its first fate from
        // derive_seed(6, 0|1)), so the handshake must recover from loss.
        let (client, control) = conditioned_endpoint(localhost(), None, link, 6).expect("client");
        let start = Instant::now();
        let conn = client.connect_with(client_cfg, server_addr, "localhost").expect("connect").await.expect("handshake under loss");
        let handshake = start.elapsed();

        let dgram_conn = conn.clone();
        let datagrams = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Ok(Ok(d)) = tokio::time::timeout(Duration::from_secs(2), dgram_conn.read_datagram()).await {
                got.push(u32::from_le_bytes(d[..4].try_into().expect("4 bytes")));
            }
            got
        });
        let mut messages = BTreeSet::new();
        while messages.len() < MESSAGES as usize {
            let mut s = conn.accept_uni().await.expect("uni stream");
            let data = s.read_to_end(16).await.expect("message");
            messages.insert(u32::from_le_bytes(data[..4].try_into().expect("4 bytes")));
        }
        let got = datagrams.await.expect("datagram task");
        let stats = control.stats();
        eprintln!(
            "20% loss: handshake {handshake:?}, datagrams {}/{DATAGRAMS}, messages {}/{MESSAGES}, total {:?}, stats {stats:?}",
            got.len(),
            messages.len(),
            start.elapsed()
        );
        assert_eq!(messages, (0..MESSAGES).collect::<BTreeSet<_>>());
        // ~80% of datagrams arrive; they keep arriving across the whole run.
        assert!(got.len() >= 120 && got.len() < DATAGRAMS as usize, "datagrams {}", got.len());
        assert!(got.iter().any(|&i| i < 50) && got.iter().any(|&i| i >= 150));
        assert!(handshake > Duration::from_millis(300), "handshake {handshake:?}: first flight not lost?");
        let all = stats.incoming.merged(stats.outgoing);
        let loss = all.dropped_loss as f64 / all.sent as f64;
        assert!((0.1..0.3).contains(&loss), "loss {loss}");
        conn.close(0u32.into(), b"done");
    })
    .await
    .expect("test took too long");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn perfect_link_passes_through() {
    tokio::time::timeout(TEST_LIMIT, async {
        let (server_cfg, client_cfg) = tls_configs();
        let (server, server_ctl) =
            conditioned_endpoint(localhost(), Some(server_cfg), LinkConfig::perfect(), 1).expect("server");
        let server_addr = server.local_addr().expect("addr");
        spawn_echo_server(server);
        let (client, _ctl) =
            conditioned_endpoint(localhost(), None, LinkConfig::perfect(), 2).expect("client");
        let conn = client
            .connect_with(client_cfg, server_addr, "localhost")
            .expect("connect")
            .await
            .expect("handshake");
        let rtt = measure_rtt(&conn, 5).await;
        assert!(rtt < Duration::from_millis(50), "rtt {rtt:?}");
        let s = server_ctl.stats();
        assert!(s.incoming.sent > 0 && s.incoming.sent == s.incoming.delivered);
        assert_eq!(s.outgoing.dropped_loss, 0);
    })
    .await
    .expect("test took too long");
}

#[test]
fn endpoint_outside_a_runtime_is_an_error() {
    assert!(conditioned_endpoint(localhost(), None, LinkConfig::perfect(), 1).is_err());
    assert!(plain_endpoint(localhost(), None).is_err());
}
