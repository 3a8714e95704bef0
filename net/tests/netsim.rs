//! The netsim proxy in front of a plain quinn server.

mod common;

use std::time::Duration;

use common::{localhost, measure_rtt, spawn_echo_server, tls_configs};
use rewind_net::{Netsim, plain_endpoint};
use rewind_shared::conditioner::LinkConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netsim_lag_50ms_each_way_gives_100ms_rtt() {
    tokio::time::timeout(Duration::from_secs(20), async {
        let (server_cfg, client_cfg) = tls_configs();
        let server = plain_endpoint(localhost(), Some(server_cfg)).expect("server");
        let server_addr = server.local_addr().expect("addr");
        spawn_echo_server(server);

        let link = LinkConfig::parse("lag=50ms").expect("link");
        let netsim = Netsim::bind(localhost(), server_addr, link, 3)
            .await
            .expect("netsim");
        let proxy_addr = netsim.local_addr().expect("addr");
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let proxy = tokio::spawn(netsim.run(async {
            let _ = stop_rx.await;
        }));

        let client = plain_endpoint(localhost(), None).expect("client");
        let conn = client
            .connect_with(client_cfg, proxy_addr, "localhost")
            .expect("connect")
            .await
            .expect("handshake");
        let rtt = measure_rtt(&conn, 15).await;
        eprintln!("netsim lag 50ms each way: quinn rtt {rtt:?}");
        assert!(
            rtt >= Duration::from_millis(85) && rtt <= Duration::from_millis(160),
            "rtt {rtt:?}"
        );
        conn.close(0u32.into(), b"done");

        stop_tx.send(()).expect("proxy running");
        let stats = proxy.await.expect("proxy task").expect("proxy ok");
        eprintln!("netsim stats: {stats}");
        assert_eq!(stats.sessions, 1);
        assert!(stats.upstream.delivered >= 15 && stats.downstream.delivered >= 15);
        assert_eq!(stats.upstream.dropped_loss + stats.downstream.dropped_loss, 0);
    })
    .await
    .expect("test took too long");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netsim_keys_sessions_by_client_address() {
    tokio::time::timeout(Duration::from_secs(20), async {
        let (server_cfg, client_cfg) = tls_configs();
        let server = plain_endpoint(localhost(), Some(server_cfg)).expect("server");
        let server_addr = server.local_addr().expect("addr");
        spawn_echo_server(server);
        let link = LinkConfig::parse("lag=5ms").expect("link");
        let netsim = Netsim::bind(localhost(), server_addr, link, 4)
            .await
            .expect("netsim");
        let proxy_addr = netsim.local_addr().expect("addr");
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let proxy = tokio::spawn(netsim.run(async {
            let _ = stop_rx.await;
        }));
        let mut conns = Vec::new();
        for _ in 0..3 {
            let client = plain_endpoint(localhost(), None).expect("client");
            let conn = client
                .connect_with(client_cfg.clone(), proxy_addr, "localhost")
                .expect("connect")
                .await
                .expect("handshake");
            measure_rtt(&conn, 2).await;
            conns.push((client, conn));
        }
        stop_tx.send(()).expect("proxy running");
        let stats = proxy.await.expect("proxy task").expect("proxy ok");
        assert_eq!(stats.sessions, 3);
    })
    .await
    .expect("test took too long");
}

#[tokio::test]
async fn netsim_rejects_invalid_link() {
    let bad = LinkConfig {
        loss: 3.0,
        ..LinkConfig::perfect()
    };
    assert!(Netsim::bind(localhost(), localhost(), bad, 1).await.is_err());
}
