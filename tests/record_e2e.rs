//! Recording end to end: a match with AI players and real QUIC bots is recorded, verifies, and a
//! server killed with SIGKILL leaves a file that verifies up to its last complete chunk.

mod serve_proc;

use rewind_server::{ServerConfig, start};
use rewind_shared::replay::{Replay, verify};
use serve_proc::recorded::play_recorded;
use serve_proc::{scratch, spawn_serve};
use std::process::Command;
use std::time::Duration;

fn temp(name: &str) -> std::path::PathBuf {
    scratch(&format!("record-{name}"))
}

#[test]
fn recorded_match_with_ai_and_bots_verifies_to_the_servers_final_state() {
    let dir = temp("match");
    let file = dir.join("match.rwd");
    let cfg = ServerConfig {
        ai: 4,
        ..ServerConfig::default()
    };
    let m = play_recorded(cfg, &file, 3, 4, 3);
    let report = &m.report;
    assert_eq!(report.clients, 3);
    assert!(report.shots > 10, "{}", report.summary());
    let (summary, _) = m.verify_against_server();
    assert_eq!(
        summary.signer.fingerprint(),
        Some(m.cert_hash.as_str()),
        "signed by this server"
    );
    assert_eq!(summary.players, 7, "4 AI + 3 bots");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigkilled_server_leaves_a_file_that_verifies_up_to_the_last_chunk() {
    let dir = temp("kill");
    let file = dir.join("killed.rwd");
    let (mut child, mut lines) = spawn_serve(
        &[
            "--addr".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--ai".as_ref(),
            "6".as_ref(),
            "--record".as_ref(),
            file.as_os_str(),
        ],
        &dir,
    );
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(first.starts_with("listening "), "{first}");
    let second = lines.next().and_then(Result::ok).unwrap_or_default();
    let hash = second.strip_prefix("cert-hash ").unwrap_or_default().to_string();
    assert_eq!(hash.len(), 64, "{second}");
    std::thread::sleep(Duration::from_millis(3500));
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let bytes = std::fs::read(&file).expect("file exists");
    let summary = verify(&bytes).expect("a killed recording still verifies up to its last chunk");
    assert!(summary.truncated, "verify says the file was truncated");
    assert_eq!(
        summary.signer.fingerprint(),
        Some(hash.as_str()),
        "what the crash left is signed by the server that printed this cert-hash"
    );
    assert!(
        summary.ticks >= 120,
        "at least two seconds survived: {} ticks",
        summary.ticks
    );
    let out = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["replay", "verify"])
        .arg(&file)
        .output()
        .expect("verify runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("truncated"), "{text}");
    let replay = Replay::from_bytes(&bytes).expect("plays up to the cut");
    assert!(replay.seek(replay.last_tick()).is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn corrupted_recording_is_a_clear_error_from_the_cli() {
    let dir = temp("corrupt");
    let file = dir.join("c.rwd");
    let srv = start(ServerConfig {
        ai: 2,
        record: Some(file.clone()),
        duration: Some(Duration::from_secs(2)),
        ..ServerConfig::default()
    })
    .expect("server");
    let _ = srv.wait();
    let mut bytes = std::fs::read(&file).expect("file");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5a;
    std::fs::write(&file, &bytes).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["replay", "verify"])
        .arg(&file)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("offset"), "names the offset: {text}");
    assert!(!text.contains("panicked"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
