//! Slot squatting over real QUIC: 80 sessions from another host (127.0.0.2) say hello and never
//! send an input. The per-address limit admits 8 of them, the silence rule frees those slots, and
//! honest bots (each from its own 127.0.0.x) join at once and play with no snapshot loss to speak of. Eighty
//! attempts within a second also make the server ask for address validation (QUIC Retry).

mod common;

use common::connect_from;
use rewind_client::bots::{BotsConfig, run_bots};
use rewind_server::{ServerConfig, start};
use rewind_shared::protocol::{ClientMsg, PROTOCOL_VERSION};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const SQUATTERS: usize = 80;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn squatters_from_one_address_cannot_lock_honest_players_out() {
    let srv = start(ServerConfig {
        ai: 2,
        ..ServerConfig::default()
    })
    .expect("server starts");
    let addr = srv.local_addr();
    let cert = srv.cert_der().to_vec();
    let other_host: SocketAddr = "127.0.0.2:0".parse().unwrap();
    let mut tasks = Vec::new();
    for i in 0..SQUATTERS {
        let cert = cert.clone();
        tasks.push(tokio::spawn(async move {
            let Ok(mut c) = connect_from(other_host, addr, &cert).await else {
                return None;
            };
            c.send_msg(&ClientMsg::Hello {
                version: PROTOCOL_VERSION,
                name: format!("squat{i}"),
            })
            .await;
            // Hold the connection without ever sending an input.
            Some(c)
        }));
    }
    let mut held = Vec::new();
    for t in tasks {
        if let Some(c) = t.await.unwrap() {
            held.push(c);
        }
    }
    // Honest bots (from 127.0.0.3 up), while the squatters still hold their connections.
    let started = Instant::now();
    let hash = srv.cert_hash().to_string();
    let report = tokio::task::spawn_blocking(move || {
        run_bots(BotsConfig::new(
            addr.to_string(),
            Some(hash),
            4,
            Duration::from_secs(5),
        ))
    })
    .await
    .unwrap()
    .expect("bots run");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(report.clients, 4, "{}", report.summary());
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert!(report.snapshot_loss <= 0.01, "{}", report.summary());
    drop(held);
    srv.stop();
    let stats = srv.wait();
    let g = &stats.guard;
    assert!(
        g.refused_per_addr >= (SQUATTERS - 8) as u64,
        "per-address refusals: {g:?}"
    );
    assert!(
        g.dropped_silent >= 8,
        "the admitted squatters go silent and are dropped: {g:?}"
    );
    assert!(
        g.retries > 0,
        "80 attempts within a second trigger address validation: {g:?}"
    );
}
