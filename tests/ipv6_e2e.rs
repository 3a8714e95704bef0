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

mod xvfb;

/// The window (`rewind connect`) joins a server listening on `[::1]` only; the server's own LAN
/// answer (asked on ::1) counts the player.
#[test]
fn the_window_joins_an_ipv6_only_server() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    if !has_ipv6() || xvfb::skip_reason().is_some() {
        eprintln!("ipv6 window test skipped (no IPv6 loopback or no Xvfb)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("rewind-ipv6-window-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let mut server = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["serve", "--addr", "[::1]:0", "--lan", "--lan-port", "0"])
        .args(["--duration", "60s", "--data-dir"])
        .arg(dir.join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let stdout = server.stdout.take().expect("stdout");
    let (mut listening, mut hash, mut lan) = (None, None, None);
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(a) = line.strip_prefix("listening ") {
            listening = Some(a.parse::<SocketAddr>().expect("listening ADDR"));
        } else if let Some(h) = line.strip_prefix("cert-hash ") {
            hash = Some(h.to_string());
        } else if let Some(l) = line.strip_prefix("lan ") {
            lan = Some(l.parse::<SocketAddr>().expect("lan ADDR"));
            break;
        }
    }
    let listening = listening.expect("listening line");
    assert!(listening.is_ipv6(), "{listening}");
    let lan_port = lan.expect("lan line").port().to_string();
    let home = xvfb::home_without_audio(&dir);
    let png = dir.join("v6.png");
    let mut window = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x720x24", env!("CARGO_BIN_EXE_rewind")])
        .args(["connect", &listening.to_string(), "--cert-hash"])
        .arg(hash.expect("cert-hash line"))
        .arg("--screenshot")
        .arg(&png)
        .args(["--screenshot-after", "4s"])
        .env("HOME", &home)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("xvfb-run starts");
    xvfb::wait_for_lan_players(
        &["--broadcast", "::1"],
        &lan_port,
        1,
        Duration::from_secs(8),
        "the window never joined [::1]",
    );
    let start = Instant::now();
    while window.try_wait().expect("wait").is_none() {
        assert!(start.elapsed() < xvfb::RUN_LIMIT, "the window did not exit");
        std::thread::sleep(Duration::from_millis(100));
    }
    xvfb::check_png(&png);
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
