//! LAN discovery (issue 17) over real UDP on loopback only: every query goes to 127.0.0.1, and
//! every responder binds 127.0.0.1 (the IP of its game address), so nothing leaves the machine.

mod common;
mod serve_proc;

use rewind_client::lan::{DiscoverConfig, FoundGame, discover};
use rewind_server::lan::LanConfig;
use rewind_server::{ServerConfig, ServerHandle, start};
use rewind_shared::lan::{LanAnswer, LanQuery, MAX_AMPLIFICATION, PER_ADDR_BURST, QUERY_LEN};
use rewind_shared::protocol::PROTOCOL_VERSION;
use serve_proc::{scratch, spawn_serve};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn lan_server(name: &str) -> ServerHandle {
    start(ServerConfig {
        ai: 2,
        max_clients: 5,
        lan: Some(LanConfig {
            addr: SocketAddr::new(LOOPBACK, 0),
            name: name.into(),
        }),
        ..ServerConfig::default()
    })
    .expect("server starts")
}

fn search(srv: &ServerHandle, timeout: Duration) -> Vec<FoundGame> {
    discover(&DiscoverConfig {
        targets: vec![LOOPBACK],
        port: srv.lan_addr().expect("responder runs").port(),
        timeout,
    })
    .expect("search runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_search_finds_the_server_with_its_address_fingerprint_and_live_players() {
    let srv = lan_server("Friday");
    let t0 = Instant::now();
    let games = tokio::task::block_in_place(|| search(&srv, Duration::from_millis(600)));
    assert!(t0.elapsed() < Duration::from_secs(2));
    assert_eq!(games.len(), 1, "{games:?}");
    let g = &games[0];
    assert_eq!(g.addr, srv.local_addr());
    assert_eq!(g.game.cert_hash_hex(), srv.cert_hash());
    assert_eq!(g.game.name, "Friday");
    assert_eq!(g.game.map, "arena");
    assert_eq!((g.game.players, g.game.max_players, g.game.ai), (0, 5, 2));
    assert_eq!(g.game.protocol, PROTOCOL_VERSION);
    assert!(g.ping < Duration::from_millis(500), "{:?}", g.ping);

    // A player joins: the next answer counts it (read live from the tick loop's metrics).
    let mut c = common::connect(srv.local_addr(), srv.cert_der()).await;
    let _ = c.hello(PROTOCOL_VERSION, "alice").await;
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let games = tokio::task::block_in_place(|| search(&srv, Duration::from_millis(200)));
        if games.first().map(|g| g.game.players) == Some(1) {
            break;
        }
        assert!(Instant::now() < deadline, "the player never showed: {games:?}");
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    assert_eq!(srv.clients(), 1);
}

/// Sends `n` queries (or `payload` datagrams) from one socket and collects what comes back.
fn flood(srv: &ServerHandle, payloads: &[Vec<u8>], wait: Duration) -> Vec<Vec<u8>> {
    let to = srv.lan_addr().expect("responder runs");
    let socket = UdpSocket::bind((LOOPBACK, 0)).expect("bind");
    for p in payloads {
        socket.send_to(p, to).expect("send on loopback");
    }
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    let end = Instant::now() + wait;
    while Instant::now() < end {
        if let Ok((n, _)) = socket.recv_from(&mut buf) {
            got.push(buf[..n].to_vec());
        }
    }
    got
}

#[test]
fn a_flood_from_one_address_is_rate_limited_and_answers_stay_within_the_amplification_bound() {
    let srv = lan_server("flooded");
    let queries: Vec<Vec<u8>> = (0..200u64).map(|n| LanQuery { nonce: n }.encode()).collect();
    let answers = flood(&srv, &queries, Duration::from_millis(500));
    // The burst, plus at most one token earned while the flood lasted.
    assert!(
        (1..=PER_ADDR_BURST as usize + 1).contains(&answers.len()),
        "{} answers to 200 queries",
        answers.len()
    );
    let sent: usize = queries.iter().map(Vec::len).sum();
    let received: usize = answers.iter().map(Vec::len).sum();
    for a in &answers {
        assert!(a.len() <= MAX_AMPLIFICATION * QUERY_LEN, "{} bytes", a.len());
        assert!(LanAnswer::decode(a).is_ok());
    }
    assert!(received * 20 < sent, "{received} bytes back for {sent} sent");
    let c = srv.lan_counters();
    let deadline = Instant::now() + Duration::from_secs(2);
    while c.answered.load(Ordering::Relaxed) + c.rate_limited.load(Ordering::Relaxed) < 200 {
        assert!(Instant::now() < deadline, "not every query was seen: {c:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(c.rate_limited.load(Ordering::Relaxed) >= 195, "{c:?}");
    eprintln!(
        "flood: 200 queries ({sent} B), {} answers ({received} B)",
        answers.len()
    );
}

#[test]
fn short_long_and_foreign_datagrams_get_no_answer() {
    let srv = lan_server("quiet");
    let good = LanQuery { nonce: 1 }.encode();
    let mut long = good.clone();
    long.push(0);
    let mut foreign = good.clone();
    foreign[..4].copy_from_slice(b"HTTP");
    let probes = vec![
        vec![],
        b"RWLQ".to_vec(),
        good[..QUERY_LEN - 1].to_vec(),
        long,
        foreign,
        vec![0xff; 1200],
    ];
    let answers = flood(&srv, &probes, Duration::from_millis(300));
    assert!(answers.is_empty(), "{answers:?}");
    let deadline = Instant::now() + Duration::from_secs(2);
    while srv.lan_counters().malformed.load(Ordering::Relaxed) < probes.len() as u64 {
        assert!(Instant::now() < deadline, "{:?}", srv.lan_counters());
        std::thread::sleep(Duration::from_millis(20));
    }
    // And a proper query still gets its answer (the garbage did not use up the bucket).
    assert_eq!(flood(&srv, &[good], Duration::from_millis(300)).len(), 1);
}

#[test]
fn rewind_lan_json_lists_a_serve_lan_server_and_connect_lan_reports_a_missing_name() {
    let dir = scratch("lan-cli");
    let (mut child, mut lines) = spawn_serve(
        &[
            "--addr",
            "127.0.0.1:0",
            "--lan",
            "--name",
            "Friday",
            "--lan-port",
            "0",
            "--ai",
            "1",
            "--duration",
            "30s",
        ],
        &dir,
    );
    let mut listening = None;
    let mut hash = None;
    let mut lan = None;
    for line in lines.by_ref().map_while(Result::ok) {
        if let Some(a) = line.strip_prefix("listening ") {
            listening = Some(a.to_string());
        } else if let Some(h) = line.strip_prefix("cert-hash ") {
            hash = Some(h.to_string());
        } else if let Some(l) = line.strip_prefix("lan ") {
            lan = Some(l.parse::<SocketAddr>().expect("lan ADDR"));
            break;
        }
    }
    let (listening, hash, lan) = (
        listening.expect("listening line"),
        hash.expect("cert-hash line"),
        lan.expect("lan line"),
    );
    assert_eq!(lan.ip(), LOOPBACK, "the responder binds the game's IP");
    let port = lan.port().to_string();
    let rewind = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rewind"))
            .args(args)
            .env("RUST_BACKTRACE", "1")
            .output()
            .expect("rewind runs")
    };
    let t0 = Instant::now();
    let out = rewind(&[
        "lan",
        "--json",
        "--timeout",
        "1s",
        "--broadcast",
        "127.0.0.1",
        "--lan-port",
        &port,
    ]);
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let list = json.as_array().expect("an array");
    assert_eq!(list.len(), 1, "{json}");
    let g = &list[0];
    assert_eq!(g["name"], "Friday");
    assert_eq!(g["map"], "arena");
    assert_eq!(g["addr"], listening.as_str());
    assert_eq!(g["cert_hash"], hash.as_str());
    assert_eq!(g["players"], 0);
    assert_eq!(g["max_players"], 64);
    assert_eq!(g["ai"], 1);
    assert_eq!(g["protocol"], PROTOCOL_VERSION);
    assert_eq!(g["compatible"], true);
    assert!(g["ping_ms"].as_f64().is_some_and(|p| p < 1000.0), "{g}");

    // What it printed is enough to join with the certificate pinned (headless bots here; the
    // window's `connect` takes the same two values), and the list then counts the player.
    let (addr, pin) = (
        g["addr"].as_str().expect("addr").to_string(),
        g["cert_hash"].as_str().expect("cert_hash").to_string(),
    );
    let report = dir.join("bots.json");
    let mut bots = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["bots", "--connect", &addr, "--cert-hash", &pin, "--count", "1"])
        .args(["--duration", "3s", "--report"])
        .arg(&report)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("bots start");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let out = rewind(&[
            "lan",
            "--json",
            "--timeout",
            "0.3s",
            "--to",
            "127.0.0.1",
            "--lan-port",
            &port,
        ]);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        if json[0]["players"] == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the bot never showed: {json}");
    }
    assert!(bots.wait().expect("bots end").success());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("JSON");
    assert_eq!(report["clients"], 1);
    let wrong = "0".repeat(64);
    let out = rewind(&[
        "bots",
        "--connect",
        &addr,
        "--cert-hash",
        &wrong,
        "--count",
        "1",
        "--duration",
        "1s",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("mismatch"));

    // The table names the command to join with.
    let out = rewind(&[
        "lan",
        "--timeout",
        "0.5s",
        "--to",
        "127.0.0.1",
        "--lan-port",
        &port,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("rewind connect {listening} --cert-hash {hash}")),
        "{text}"
    );

    // `connect lan:NAME` with a name nobody answers to is a clear error, before any window opens.
    let out = rewind(&[
        "connect",
        "lan:Saturday",
        "--timeout",
        "0.5s",
        "--broadcast",
        "127.0.0.1",
        "--lan-port",
        &port,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("no game called \"Saturday\"") && err.contains("Friday"),
        "{err}"
    );
    assert!(!err.contains("stack backtrace"), "{err}");

    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_search_with_nobody_answering_is_an_empty_list_not_an_error() {
    // A port nothing listens on (bound, then released).
    let port = UdpSocket::bind((LOOPBACK, 0))
        .and_then(|s| s.local_addr())
        .expect("free port")
        .port();
    let games = discover(&DiscoverConfig {
        targets: vec![LOOPBACK],
        port,
        timeout: Duration::from_millis(200),
    })
    .expect("search runs");
    assert!(games.is_empty());
}

#[test]
fn a_server_on_ipv6_loopback_is_found_alongside_ipv4_targets() {
    let six = IpAddr::V6(std::net::Ipv6Addr::LOCALHOST);
    let srv = match start(ServerConfig {
        addr: SocketAddr::new(six, 0),
        lan: Some(LanConfig {
            addr: SocketAddr::new(six, 0),
            name: "six".into(),
        }),
        ..ServerConfig::default()
    }) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("skipped: no IPv6 loopback here ({e})");
            return;
        }
    };
    let games = discover(&DiscoverConfig {
        targets: vec![LOOPBACK, six],
        port: srv.lan_addr().expect("responder runs").port(),
        timeout: Duration::from_millis(400),
    })
    .expect("search runs");
    assert_eq!(games.len(), 1, "{games:?}");
    assert_eq!(games[0].addr, srv.local_addr());
    assert_eq!(games[0].game.cert_hash_hex(), srv.cert_hash());
}
