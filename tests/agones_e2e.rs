//! `rewind serve --agones` against an Agones SDK server built from Agones' own `sdk.proto` and
//! `beta.proto` (`tests/agones-sdk`): the real binary, the real `agones` crate client, real gRPC
//! on loopback. The real sidecar (and Kubernetes) cannot run here; what the sidecar would see is
//! what the fake records. Needs `--features agones` (and so protoc).

mod common;

use rewind_agones_sdk::{Call, FakeSdk, Recorded};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rewind-agones-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// `rewind serve --agones ARGS` with the fake sidecar's port; returns the child, the address, the
/// certificate hash and when the `listening` line came. Its log goes to `DIR/serve.log`.
fn serve(sdk: &FakeSdk, dir: &Path, args: &[&str]) -> (Child, String, String, Instant) {
    let log = std::fs::File::create(dir.join("serve.log")).expect("log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["serve", "--agones", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.join("data"))
        .args(args)
        .env("AGONES_SDK_GRPC_PORT", sdk.port().to_string())
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("rewind serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut addr = String::new();
    let mut listening_at = Instant::now();
    let mut hash = String::new();
    for line in lines.by_ref().map_while(Result::ok) {
        if let Some(a) = line.strip_prefix("listening ") {
            addr = a.to_string();
            listening_at = Instant::now();
        } else if let Some(h) = line.strip_prefix("cert-hash ") {
            hash = h.to_string();
            break;
        }
    }
    assert!(
        !addr.is_empty() && !hash.is_empty(),
        "serve printed its address and hash"
    );
    (child, addr, hash, listening_at)
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return Some(s);
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn first(calls: &[Recorded], call: &Call) -> Option<Instant> {
    calls.iter().find(|c| c.call == *call).map(|c| c.at)
}

fn healths(calls: &[Recorded]) -> Vec<Instant> {
    calls
        .iter()
        .filter(|c| c.call == Call::Health)
        .map(|c| c.at)
        .collect()
}

/// The longest time between two health pings (and before the first, from `from`).
fn longest_gap(from: Instant, pings: &[Instant]) -> Duration {
    let mut prev = from;
    let mut gap = Duration::ZERO;
    for &p in pings {
        gap = gap.max(p.saturating_duration_since(prev));
        prev = p;
    }
    gap
}

/// The issue's run: `serve --agones --score-limit 5 --ai 8`, with three bots joining for a while
/// and a matchmaker allocating the server.
#[test]
fn a_match_to_five_goes_ready_pings_tracks_players_and_shuts_down() {
    let dir = scratch("match");
    let sdk = FakeSdk::start(&[("players", 64)]).expect("fake SDK server");
    let stats = dir.join("stats.json");
    let rec = dir.join("match.rwd");
    let (mut child, addr, hash, listening) = serve(
        &sdk,
        &dir,
        &[
            "--score-limit",
            "5",
            "--ai",
            "8",
            "--stats",
            stats.to_str().expect("utf-8 path"),
            "--record",
            rec.to_str().expect("utf-8 path"),
        ],
    );

    // Three bots play for 4 s.
    let report = dir.join("bots.json");
    let bots = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["bots", "--connect", &addr, "--cert-hash", &hash])
        .args(["--count", "3", "--duration", "4s", "--report"])
        .arg(&report)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("bots run");
    assert!(bots.success());
    // The list follows within a second or so.
    let deadline = Instant::now() + Duration::from_secs(3);
    while !sdk.sidecar.list("players").is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    sdk.sidecar.allocate();

    let status = wait_exit(&mut child, Duration::from_secs(240)).unwrap_or_else(|| {
        let _ = child.kill();
        panic!("no player reached 5 kills within 4 minutes")
    });
    assert!(status.success());
    let calls = sdk.sidecar.calls();
    let log = std::fs::read_to_string(dir.join("serve.log")).expect("log");

    let ready = first(&calls, &Call::Ready).expect("Ready");
    let ready_after = ready.saturating_duration_since(listening);
    assert!(
        ready_after < Duration::from_secs(1),
        "Ready {ready_after:?} after listening"
    );
    let labels = sdk.sidecar.labels();
    assert_eq!(labels.get("map").map(String::as_str), Some("arena"));
    assert_eq!(
        labels.get("version").map(String::as_str),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(sdk.sidecar.annotations().get("cert-hash"), Some(&hash));

    let shutdown = first(&calls, &Call::Shutdown).expect("Shutdown after the last match");
    let pings: Vec<Instant> = healths(&calls).into_iter().filter(|&p| p < shutdown).collect();
    let gap = longest_gap(ready, &pings);
    assert!(pings.len() >= 3, "{} pings", pings.len());
    assert!(gap <= Duration::from_secs(2), "health gap {gap:?}");

    let added: Vec<&Call> = calls
        .iter()
        .map(|c| &c.call)
        .filter(|c| matches!(c, Call::ListAdd(..)))
        .collect();
    let removed: Vec<&Call> = calls
        .iter()
        .map(|c| &c.call)
        .filter(|c| matches!(c, Call::ListRemove(..)))
        .collect();
    assert_eq!(added.len(), 3, "three bots joined: {added:?}");
    assert_eq!(removed.len(), 3, "and left: {removed:?}");
    assert!(sdk.sidecar.list("players").is_empty());
    assert!(
        calls
            .iter()
            .any(|c| c.call == Call::SetListCapacity("players".into(), 64)),
        "capacity = --max-clients"
    );
    assert!(log.contains("Agones: allocated"), "allocation noticed:\n{log}");
    assert!(log.contains("match over"), "{log}");

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).expect("stats")).expect("JSON");
    assert_eq!(json["matches"][0]["end"], "score_limit");
    assert_eq!(json["matches"][0]["scores"][0]["kills"], 5);
    let verify = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["replay", "verify"])
        .arg(&rec)
        .output()
        .expect("verify runs");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    eprintln!(
        "agones: Ready {ready_after:?} after listening, {} health pings, longest gap {gap:?}, match of {} ticks",
        pings.len(),
        json["matches"][0]["ticks"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGTERM: the clients are told why, the recording is finished and verifies, the stats are
/// written and Agones hears Shutdown, all within 5 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_within_five_seconds() {
    let dir = scratch("sigterm");
    let sdk = FakeSdk::start(&[("players", 64)]).expect("fake SDK server");
    let stats = dir.join("stats.json");
    let rec = dir.join("drain.rwd");
    let (mut child, addr, _hash, _) = serve(
        &sdk,
        &dir,
        &[
            "--ai",
            "4",
            "--stats",
            stats.to_str().expect("utf-8 path"),
            "--record",
            rec.to_str().expect("utf-8 path"),
        ],
    );
    let der = std::fs::read(dir.join("data").join("server-cert.der")).expect("certificate");
    let mut client = common::connect(addr.parse().expect("address"), &der).await;
    let welcome = client
        .hello(rewind_shared::protocol::PROTOCOL_VERSION, "drained")
        .await;
    assert!(matches!(welcome, rewind_shared::protocol::ServerMsg::Welcome(_)));
    let keep = client.conn.clone();
    let alive = tokio::spawn(async move {
        let empty = rewind_shared::protocol::ClientDatagram::Inputs {
            ack: Default::default(),
            inputs: Vec::new(),
        };
        let bytes = rewind_shared::codec::encode(&empty).expect("encodes");
        while keep.send_datagram(bytes.clone().into()).is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let term = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let mut reason = None;
    while let Some(m) = client.next_msg().await {
        if let rewind_shared::protocol::ServerMsg::Shutdown { reason: r } = m {
            reason = Some(r);
            break;
        }
    }
    alive.abort();
    assert_eq!(reason.as_deref(), Some("server is shutting down (terminated)"));
    let status = wait_exit(&mut child, Duration::from_secs(5)).unwrap_or_else(|| {
        let _ = child.kill();
        panic!("not drained within 5 s of SIGTERM")
    });
    let took = term.elapsed();
    assert!(status.success(), "a drain is a clean exit");
    assert!(stats.exists(), "stats written");
    assert!(
        first(&sdk.sidecar.calls(), &Call::Shutdown).is_some(),
        "Agones told"
    );
    let verify = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["replay", "verify"])
        .arg(&rec)
        .output()
        .expect("verify runs");
    let out = String::from_utf8_lossy(&verify.stdout).to_string();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(!out.contains("truncated"), "finished, not cut: {out}");
    eprintln!("agones: SIGTERM drained in {took:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The tick thread of the real binary stopped with ptrace (PTRACE_SEIZE + PTRACE_INTERRUPT on
/// that one thread, from a small python3 helper): the process and its other threads live on, but
/// the health pings stop within the 2 s stall limit plus one interval.
#[test]
fn health_pings_stop_when_the_tick_loop_stalls() {
    let python = Command::new("python3").arg("--version").output();
    if python.map(|o| !o.status.success()).unwrap_or(true) {
        eprintln!("agones stall test skipped: python3 is not installed (it drives ptrace)");
        return;
    }
    let dir = scratch("stall");
    let sdk = FakeSdk::start(&[("players", 64)]).expect("fake SDK server");
    let (mut child, _addr, _hash, _) = serve(&sdk, &dir, &["--ai", "2"]);
    std::thread::sleep(Duration::from_secs(3));
    let tid = tick_thread(child.id()).expect("the rewind-tick thread");
    let mut tracer = Command::new("python3")
        .arg("-c")
        .arg(PTRACE_STOP)
        .arg(tid.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut said = String::new();
    let _ = BufReader::new(tracer.stdout.take().expect("stdout")).read_line(&mut said);
    if said.trim() != "stopped" {
        let _ = tracer.kill();
        let _ = tracer.wait();
        let _ = child.kill();
        let _ = child.wait();
        eprintln!(
            "agones stall test skipped: ptrace is not permitted here ({})",
            said.trim()
        );
        return;
    }
    let stalled = Instant::now();
    std::thread::sleep(Duration::from_secs(6));
    let calls = sdk.sidecar.calls();
    let pings = healths(&calls);
    let _ = tracer.kill();
    let _ = tracer.wait();
    let _ = child.kill();
    let _ = child.wait();
    let before = pings.iter().filter(|&&p| p < stalled).count();
    let late: Vec<Duration> = pings
        .iter()
        .filter(|&&p| p > stalled + Duration::from_millis(3100))
        .map(|p| p.duration_since(stalled))
        .collect();
    assert!(before >= 2, "pinged while ticking ({before})");
    assert!(late.is_empty(), "health pings after the stall: {late:?}");
    let log = std::fs::read_to_string(dir.join("serve.log")).expect("log");
    assert!(log.contains("tick loop has stalled"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Stops one thread (argv[1]) with ptrace and holds it until killed.
const PTRACE_STOP: &str = r#"
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
tid = int(sys.argv[1])
if libc.ptrace(0x4206, tid, None, None) != 0 or libc.ptrace(0x4207, tid, None, None) != 0:
    print("errno", ctypes.get_errno(), flush=True)
    sys.exit(1)
print("stopped", flush=True)
while True:
    time.sleep(1)
"#;

/// The id of the server's `rewind-tick` thread.
fn tick_thread(pid: u32) -> Option<u32> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    tasks.filter_map(Result::ok).find_map(|t| {
        let comm = std::fs::read_to_string(t.path().join("comm")).ok()?;
        (comm.trim() == "rewind-tick")
            .then(|| t.file_name().to_str()?.parse().ok())
            .flatten()
    })
}
