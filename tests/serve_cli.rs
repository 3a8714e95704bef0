//! `rewind serve` as users run it: the stdout contract of DESIGN §10 and the `--stats` JSON.

mod serve_proc;

use serve_proc::{scratch, spawn_serve};
use std::process::Command;

#[test]
fn serve_prints_its_address_and_cert_hash_and_writes_plausible_stats() {
    let dir = scratch("serve-cli");
    let stats = dir.join("s.json");
    let (mut child, lines) = spawn_serve(
        &[
            "--addr".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--ai".as_ref(),
            "8".as_ref(),
            "--duration".as_ref(),
            "2s".as_ref(),
            "--stats".as_ref(),
            stats.as_os_str(),
        ],
        &dir,
    );
    let lines: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(child.wait().expect("exits").success());
    let addr = lines[0]
        .strip_prefix("listening ")
        .expect("first line: listening ADDR");
    assert!(addr.parse::<std::net::SocketAddr>().is_ok(), "{addr}");
    let hash = lines[1]
        .strip_prefix("cert-hash ")
        .expect("second line: cert-hash HEX");
    assert_eq!(hash.len(), 64);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).expect("stats written")).expect("JSON");
    let ticks = json["ticks"].as_u64().expect("ticks");
    assert!(
        (110..=130).contains(&ticks),
        "about 120 ticks in 2 s at 60 Hz, got {ticks}"
    );
    for f in [
        "tick_us",
        "players_max",
        "bytes_out",
        "bytes_in",
        "missing_inputs",
        "shots",
        "hits",
        "rejected_too_old",
    ] {
        assert!(json.get(f).is_some(), "stats lack {f}");
    }
    for p in ["p50", "p99", "max"] {
        assert!(json["tick_us"][p].as_u64().is_some(), "tick_us lacks {p}");
        // Linux has a per-thread CPU clock; a tick cannot use more CPU than wall time (give or
        // take the histograms' three significant digits).
        let cpu = json["tick_cpu_us"][p].as_u64().expect("tick_cpu_us on Linux");
        let wall = json["tick_us"][p].as_u64().unwrap_or(0);
        assert!(
            cpu <= wall + wall / 100 + 2,
            "tick_cpu_us {p} {cpu} over tick_us {wall}"
        );
    }
    assert_eq!(json["players_max"], 8);
    assert_eq!(json["tick_realtime"], false, "not asked for");
    assert_eq!(
        json["postponed_snapshots"], 0,
        "a small server never uses its tick budget"
    );
    // The certificate is kept: a second run prints the same hash. It asks for a real-time tick,
    // which it gets where the OS allows (root in CI) and otherwise says why and runs as usual.
    let stats2 = dir.join("s2.json");
    let again = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--duration",
            "0.1s",
            "--realtime-tick",
            "--tick-budget",
            "off",
            "--stats",
        ])
        .arg(&stats2)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .output()
        .expect("second run");
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains(hash));
    let refused = String::from_utf8_lossy(&again.stderr).contains("--realtime-tick: ");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats2).expect("stats written")).expect("JSON");
    assert_eq!(
        json["tick_realtime"],
        !refused,
        "stderr: {}",
        String::from_utf8_lossy(&again.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_flags_are_clear_errors() {
    let run = |args: &[&str]| {
        // Users often have RUST_BACKTRACE set: a user error is still just its message.
        let out = Command::new(env!("CARGO_BIN_EXE_rewind"))
            .args(args)
            .env("RUST_BACKTRACE", "1")
            .output()
            .expect("runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, err) = run(&["serve", "--tick-rate", "500", "--duration", "1s"]);
    assert!(!ok && err.contains("tick rate 500"), "{err}");
    let (ok, err) = run(&["serve", "--lag", "fast"]);
    assert!(!ok && err.contains("--lag"), "{err}");
    let (ok, err) = run(&["serve", "--duration", "5 parsecs"]);
    assert!(!ok && err.contains("duration"), "{err}");
    let (ok, err) = run(&["serve", "--map", "/nonexistent/map.txt"]);
    assert!(!ok && err.contains("no built-in map or file"), "{err}");
    // Flags without a subcommand go to `play` (which checks its map before opening a window).
    let (ok, err) = run(&["--map", "/nonexistent/map.txt"]);
    assert!(!ok && err.contains("no built-in map or file"), "{err}");
    let (ok, err) = run(&["serve", "--tick-budget", "5%"]);
    assert!(!ok && err.contains("5% is out of range"), "{err}");
    let (ok, err) = run(&["serve", "--tick-budget", "soon"]);
    assert!(
        !ok && err.contains("not a percentage of the tick period"),
        "{err}"
    );
    let (ok, err) = run(&["serve", "--max-per-addr", "0"]);
    assert!(!ok && err.starts_with("error: --max-per-addr"), "{err}");
    assert!(
        !err.contains("backtrace") && !err.contains("at /"),
        "no backtrace: {err}"
    );
}

#[test]
fn ctrl_c_stops_the_server_cleanly_and_still_writes_stats() {
    let dir = scratch("serve-sigint");
    let stats = dir.join("s.json");
    let (mut child, mut lines) = spawn_serve(
        &[
            "--addr".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--ai".as_ref(),
            "2".as_ref(),
            "--stats".as_ref(),
            stats.as_os_str(),
        ],
        &dir,
    );
    assert!(
        lines
            .next()
            .and_then(Result::ok)
            .unwrap_or_default()
            .starts_with("listening ")
    );
    std::thread::sleep(std::time::Duration::from_millis(700));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let status = child.wait().expect("exits");
    assert!(status.success(), "Ctrl-C is a clean stop: {status}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).expect("stats written")).expect("JSON");
    assert!(json["ticks"].as_u64().unwrap_or(0) > 20);
    let _ = std::fs::remove_dir_all(&dir);
}
