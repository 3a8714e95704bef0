//! The internet is IPv6 too (issue 17 item 4): servers on `[::1]`, `127.0.0.1` and the default
//! dual-stack `[::]`, reached by bots (real QUIC clients) through `[::1]`, `127.0.0.1` and
//! `localhost` (which resolves to both: every address is tried, the first to answer wins).
//! Loopback only.

use rewind_client::bots::{BotsConfig, BotsReport, run_bots};
use rewind_server::{ServerConfig, ServerHandle, start};
use std::net::{Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// Whether this machine has IPv6 loopback at all (some CI containers do not).
fn has_ipv6() -> bool {
    UdpSocket::bind((Ipv6Addr::LOCALHOST, 0)).is_ok()
}

/// Whether `localhost` resolves to an IPv6 address on this machine.
fn localhost_has_v6(port: u16) -> bool {
    use std::net::ToSocketAddrs;
    ("localhost", port)
        .to_socket_addrs()
        .is_ok_and(|mut a| a.any(|a| a.is_ipv6()))
}

fn server(addr: &str) -> ServerHandle {
    start(ServerConfig {
        addr: addr.parse().expect("addr"),
        ai: 1,
        ..ServerConfig::default()
    })
    .expect("server starts")
}

fn bots(target: String, server: &ServerHandle) -> BotsReport {
    let cfg = BotsConfig::new(
        target.clone(),
        Some(server.cert_hash().to_string()),
        1,
        Duration::from_millis(1500),
    );
    let report = run_bots(cfg).unwrap_or_else(|e| panic!("bots to {target}: {e}"));
    assert!(
        report.snapshots > 30,
        "bots to {target} got {} snapshots",
        report.snapshots
    );
    report
}

#[test]
fn bots_reach_an_ipv6_only_server_by_literal_and_by_localhost() {
    if !has_ipv6() {
        eprintln!("ipv6_e2e skipped: no IPv6 loopback here");
        return;
    }
    let s = server("[::1]:0");
    let port = s.local_addr().port();
    assert!(s.local_addr().is_ipv6());
    bots(format!("[::1]:{port}"), &s);
    // `localhost` may resolve to 127.0.0.1 first: nothing answers there, ::1 does. Where the
    // resolver gives no ::1 for localhost (an /etc/hosts without it), there is nothing to try.
    if localhost_has_v6(port) {
        let t0 = Instant::now();
        bots(format!("localhost:{port}"), &s);
        println!(
            "localhost to an IPv6-only server: {:?} (1.5 s of play)",
            t0.elapsed()
        );
    } else {
        eprintln!("localhost does not resolve to ::1 here: that part is skipped");
    }
}

#[test]
fn bots_reach_an_ipv4_only_server_by_literal_and_by_localhost() {
    let s = server("127.0.0.1:0");
    let port = s.local_addr().port();
    bots(format!("127.0.0.1:{port}"), &s);
    bots(format!("localhost:{port}"), &s);
}

#[test]
fn the_default_dual_stack_server_takes_both_families() {
    let s = server("[::]:0");
    let local: SocketAddr = s.local_addr();
    let port = local.port();
    bots(format!("127.0.0.1:{port}"), &s);
    if has_ipv6() {
        assert!(local.is_ipv6(), "[::] is an IPv6 socket when IPv6 exists");
        bots(format!("[::1]:{port}"), &s);
    }
    bots(format!("localhost:{port}"), &s);
}
