//! `--metrics`: a server with AI players and one real QUIC client, scraped over plain TCP the way
//! Prometheus does; bad requests get an error answer and never stop the endpoint or the match.

mod common;

use common::connect;
use rewind_server::{ServerConfig, start};
use rewind_shared::protocol::{PROTOCOL_VERSION, ServerMsg};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends `request` as is and returns everything the server answers before closing.
async fn raw(addr: SocketAddr, request: &[u8]) -> std::io::Result<String> {
    let io = async {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(request).await?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).await?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    };
    tokio::time::timeout(Duration::from_secs(10), io)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer"))?
}

async fn scrape(addr: SocketAddr) -> String {
    let resp = raw(
        addr,
        b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n",
    )
    .await
    .expect("scrape");
    let (head, body) = resp.split_once("\r\n\r\n").expect("HTTP head and body");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("Content-Type: application/openmetrics-text"),
        "{head}"
    );
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .expect("content length")
        .parse()
        .expect("number");
    assert_eq!(len, body.len());
    body.to_string()
}

/// The value of a sample line `name value`.
fn value(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no sample {name} in\n{text}"))
        .parse()
        .expect("a number")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_and_survive_bad_requests() {
    let srv = start(ServerConfig {
        ai: 6,
        metrics: Some("127.0.0.1:0".parse().expect("addr")),
        ..ServerConfig::default()
    })
    .expect("server starts");
    let addr = srv.metrics_addr().expect("metrics enabled");
    assert_ne!(addr.port(), 0);

    // One real client, so snapshot and byte counters move too.
    let mut client = connect(srv.local_addr(), srv.cert_der()).await;
    let ServerMsg::Welcome(_) = client.hello(PROTOCOL_VERSION, "scraper").await else {
        panic!("expected welcome")
    };
    for _ in 0..10 {
        client.next_snapshot(true).await;
    }

    let first = scrape(addr).await;
    for name in [
        "# TYPE rewind_tick_duration_seconds histogram",
        "rewind_tick_duration_seconds_bucket{le=\"0.001\"}",
        "# TYPE rewind_snapshot_size_bytes histogram",
        "# TYPE rewind_input_buffer_depth histogram",
        "# TYPE rewind_rewind_depth_ticks histogram",
        "rewind_missing_inputs_total",
        "rewind_late_inputs_total",
        "rewind_future_inputs_total",
        "rewind_rejected_too_old_total",
        "rewind_bad_datagrams_total",
    ] {
        assert!(first.contains(name), "missing {name:?} in\n{first}");
    }
    assert!(first.ends_with("# EOF\n"));
    assert_eq!(value(&first, "rewind_players"), 7.0);
    assert_eq!(value(&first, "rewind_clients"), 1.0);
    assert!(value(&first, "rewind_snapshot_size_bytes_count") >= 10.0);
    assert!(value(&first, "rewind_bytes_out_total") > 0.0);
    assert!(value(&first, "rewind_bytes_in_total") > 0.0);
    assert!(value(&first, "rewind_handshakes_total") >= 1.0);
    let ticks = value(&first, "rewind_ticks_total");
    assert!(ticks > 0.0);
    // The tick thread may finish a tick between the two samples.
    assert!((value(&first, "rewind_tick_duration_seconds_count") - ticks).abs() <= 1.0);

    // Wrong path, wrong method, garbage, an oversized head and a silent connection.
    let not_found = raw(addr, b"GET / HTTP/1.1\r\n\r\n").await.expect("answer");
    assert!(not_found.starts_with("HTTP/1.1 404 "), "{not_found}");
    let post = raw(addr, b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        .await
        .expect("answer");
    assert!(post.starts_with("HTTP/1.1 405 "), "{post}");
    let garbage = raw(addr, b"\x00\xff\x13garbage \xc3\x28\r\n\r\n")
        .await
        .expect("answer");
    assert!(garbage.starts_with("HTTP/1.1 400 "), "{garbage}");
    let silent = TcpStream::connect(addr).await.expect("connect");
    let mut huge = b"GET /metrics HTTP/1.1\r\nX-Pad: ".to_vec();
    huge.resize(64 * 1024, b'a');
    // The server answers after 8 KiB and closes with the rest unread, which may reset the
    // connection before the answer is read: either outcome is fine, surviving it is the point.
    if let Ok(answer) = raw(addr, &huge).await {
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 431 "),
            "{answer}"
        );
    }

    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = scrape(addr).await;
    let later = value(&second, "rewind_ticks_total");
    assert!(later > ticks, "tick counter must increase: {ticks} then {later}");
    assert!(value(&second, "rewind_shots_total") >= value(&first, "rewind_shots_total"));
    drop(silent);
    drop(client);
    srv.stop();
    let stats = srv.wait();
    assert!(stats.ticks as f64 >= later);
}

#[test]
fn metrics_off_by_default_and_bad_address_fails_start() {
    let srv = start(ServerConfig::default()).expect("server starts");
    assert_eq!(srv.metrics_addr(), None);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let busy = taken.local_addr().expect("addr");
    let err = start(ServerConfig {
        metrics: Some(busy),
        ..ServerConfig::default()
    })
    .err()
    .expect("an address in use must fail start");
    assert!(err.to_string().contains(&busy.to_string()), "{err}");
}
