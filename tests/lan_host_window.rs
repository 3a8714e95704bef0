//! `rewind play --host` (issue 17) under Xvfb: the window plays while the match is open to others
//! and listed by `rewind lan`. Queries go to 127.0.0.1 only; the host listens on [::] (that is
//! what hosting means) on ports the OS picks, and nothing is sent anywhere else.

mod xvfb;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use xvfb::{check_png, home_without_audio, skip_reason};

#[test]
fn play_host_prints_what_others_need_and_rewind_lan_lists_the_match() {
    if let Some(why) = skip_reason() {
        eprintln!("lan_host_window skipped: {why}");
        return;
    }
    let dir = std::env::temp_dir().join(format!("rewind-lan-host-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let png = dir.join("host.png");
    let home = home_without_audio(&dir);
    let mut child = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x720x24", env!("CARGO_BIN_EXE_rewind")])
        .args(["play", "--host", "--port", "0", "--lan-port", "0", "--ai", "1"])
        .args(["--name", "hoster", "--screenshot"])
        .arg(&png)
        .args(["--screenshot-after", "4s"])
        .env("HOME", &home)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("xvfb-run starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut hosting = None;
    let mut hash = None;
    let mut lan = None;
    let mut others = None;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(h) = line.strip_prefix("hosting on ") {
            hosting = Some(h.to_string());
        } else if let Some(h) = line.strip_prefix("cert-hash ") {
            hash = Some(h.to_string());
        } else if let Some(l) = line.strip_prefix("lan ") {
            lan = Some(l.parse::<SocketAddr>().expect("lan ADDR"));
        } else if line.starts_with("others:") {
            others = Some(line);
            break;
        }
    }
    let hosting = hosting.expect("a `hosting on` line");
    let hash = hash.expect("a cert-hash line");
    let lan = lan.expect("a lan line");
    let others = others.expect("an `others:` line");
    // Listening on every interface, and the line to give the others carries the pin.
    // Dual-stack `[::]` (or `0.0.0.0` on a machine without IPv6).
    assert!(
        hosting.starts_with("[::]:") || hosting.starts_with("0.0.0.0:"),
        "{hosting}"
    );
    let port: u16 = hosting
        .trim_start_matches("[::]:")
        .trim_start_matches("0.0.0.0:")
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port");
    assert!(lan.ip().is_unspecified(), "{lan}");
    assert!(
        others.contains(&format!(":{port} --cert-hash {hash}")),
        "{others}"
    );

    let lan_json = |timeout: &str| -> serde_json::Value {
        let out = Command::new(env!("CARGO_BIN_EXE_rewind"))
            .args(["lan", "--json", "--timeout", timeout, "--broadcast", "127.0.0.1"])
            .args(["--lan-port", &lan.port().to_string()])
            .output()
            .expect("rewind lan runs");
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    let t0 = Instant::now();
    let json = lan_json("1s");
    assert!(t0.elapsed() < Duration::from_secs(2));
    assert_eq!(json.as_array().map(Vec::len), Some(1), "{json}");
    let g = &json[0];
    assert_eq!(g["name"], "hoster's game");
    assert_eq!(g["addr"], format!("127.0.0.1:{port}"));
    assert_eq!(g["cert_hash"], hash.as_str());
    assert_eq!(g["ai"], 1);
    // The host's own window becomes the one human player once it has joined.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let json = lan_json("0.3s");
        if json[0]["players"] == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the host's window never joined: {json}"
        );
    }

    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            start.elapsed() < xvfb::RUN_LIMIT,
            "rewind play --host did not exit"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success());
    check_png(&png);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn connect_lan_name_finds_a_serve_lan_server_and_joins_it_with_the_pin() {
    if let Some(why) = skip_reason() {
        eprintln!("lan_host_window skipped: {why}");
        return;
    }
    let dir = std::env::temp_dir().join(format!("rewind-lan-join-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let mut server = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["serve", "--addr", "127.0.0.1:0", "--lan", "--name", "Friday"])
        .args(["--lan-port", "0", "--duration", "60s", "--data-dir"])
        .arg(dir.join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let stdout = server.stdout.take().expect("stdout");
    let mut listening = None;
    let mut lan = None;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(a) = line.strip_prefix("listening ") {
            listening = Some(a.to_string());
        } else if let Some(l) = line.strip_prefix("lan ") {
            lan = Some(l.parse::<SocketAddr>().expect("lan ADDR"));
            break;
        }
    }
    let listening = listening.expect("listening line");
    let lan_port = lan.expect("lan line").port().to_string();
    let png = dir.join("join.png");
    let home = home_without_audio(&dir);
    let mut window = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x720x24", env!("CARGO_BIN_EXE_rewind")])
        .args(["connect", "lan:friday", "--broadcast", "127.0.0.1"])
        .args(["--lan-port", &lan_port, "--timeout", "0.5s", "--screenshot"])
        .arg(&png)
        .args(["--screenshot-after", "4s"])
        .env("HOME", &home)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xvfb-run starts");
    // Joined for real: the server's own answer counts one player (a window that could not
    // connect would also save a screenshot and exit 0).
    xvfb::wait_for_lan_players(
        &["--to", "127.0.0.1"],
        &lan_port,
        1,
        Duration::from_secs(4),
        "the window never joined",
    );
    let start = Instant::now();
    let status = loop {
        if let Some(s) = window.try_wait().expect("wait") {
            break s;
        }
        assert!(start.elapsed() < xvfb::RUN_LIMIT, "rewind connect did not exit");
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut err = String::new();
    if let Some(mut e) = window.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    assert!(status.success(), "{err}");
    assert!(
        err.contains(&format!("joining \"friday\" at {listening}")),
        "{err}"
    );
    check_png(&png);
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
