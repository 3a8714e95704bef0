//! Match rules end to end (`--time-limit`, `--score-limit`, `--matches`): over real QUIC a client
//! is told each match's start and its final scoreboard, the server stops by itself after the last
//! match, and every match's recording verifies on its own; the same from the command line, with
//! the `--stats` file and `rewind replay verify`.

mod common;
mod serve_proc;

use rewind_server::config::MatchRules;
use rewind_server::{ServerConfig, start};
use rewind_shared::codec::encode;
use rewind_shared::protocol::{ClientDatagram, GameEvent, PROTOCOL_VERSION, ServerMsg};
use serve_proc::{scratch, spawn_serve};
use std::process::Command;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sees_two_timed_matches_and_the_server_stops_after_the_last() {
    let dir = scratch("match-e2e");
    let file = dir.join("m.rwd");
    let srv = start(ServerConfig {
        ai: 4,
        record: Some(file.clone()),
        rules: MatchRules {
            time_limit: Some(Duration::from_secs(2)),
            matches: Some(2),
            intermission: Duration::from_secs(1),
            ..MatchRules::default()
        },
        ..ServerConfig::default()
    })
    .expect("server");
    let mut c = common::connect(srv.local_addr(), srv.cert_der()).await;
    let welcome = c.hello(PROTOCOL_VERSION, "watcher").await;
    assert!(matches!(welcome, ServerMsg::Welcome(_)), "{welcome:?}");
    // Stay alive (a client that sends nothing is dropped after 3 s).
    let conn = c.conn.clone();
    let keep_alive = tokio::spawn(async move {
        let empty = ClientDatagram::Inputs {
            ack: Default::default(),
            inputs: Vec::new(),
        };
        let bytes = encode(&empty).expect("encodes");
        loop {
            if conn.send_datagram(bytes.clone().into()).is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let started = Instant::now();
    let mut story = Vec::new();
    while let Some(m) = c.next_msg().await {
        match m {
            ServerMsg::Event(GameEvent::MatchStart { number, .. }) => story.push(format!("start {number}")),
            ServerMsg::Event(GameEvent::MatchOver {
                scores, next_in_ms, ..
            }) => {
                assert_eq!(scores.len(), 5, "4 AI and the watcher");
                story.push(format!("over next={next_in_ms:?}"));
            }
            ServerMsg::Shutdown { reason } => {
                story.push(format!("shutdown {reason}"));
                break;
            }
            _ => {}
        }
    }
    keep_alive.abort();
    assert_eq!(
        story,
        [
            "start 1",
            "over next=Some(1000)",
            "start 2",
            "over next=None",
            "shutdown match over"
        ]
    );
    let took = started.elapsed();
    assert!(took < Duration::from_secs(15), "two 2 s matches took {took:?}");
    let stats = srv.wait();
    assert_eq!(stats.matches.len(), 2);
    assert!(
        stats.matches.iter().all(|m| m.ticks == 120),
        "{:?}",
        stats.matches
    );
    for n in 1..=2 {
        let path = dir.join(format!("m-{n}.rwd"));
        let bytes = std::fs::read(&path).expect("a recording per match");
        let summary = rewind_shared::replay::verify(&bytes).expect("verifies");
        assert!(!summary.truncated, "match {n} finished its file");
        assert_eq!(summary.players, 5, "match {n}");
        assert_eq!(summary.ticks, 120, "match {n}: its own ticks only");
    }
    assert!(
        !file.exists(),
        "with several matches only numbered files are written"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_plays_its_matches_writes_stats_and_a_verifiable_file_per_match() {
    let dir = scratch("match-cli");
    let stats = dir.join("stats.json");
    let rec = dir.join("cup.rwd");
    let (mut child, _lines) = spawn_serve(
        &[
            "--addr".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--ai".as_ref(),
            "6".as_ref(),
            "--time-limit".as_ref(),
            "2s".as_ref(),
            "--matches".as_ref(),
            "2".as_ref(),
            "--intermission".as_ref(),
            "1s".as_ref(),
            "--record".as_ref(),
            rec.as_os_str(),
            "--stats".as_ref(),
            stats.as_os_str(),
        ],
        &dir,
    );
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("serve did not stop after its last match");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).expect("stats written")).expect("JSON");
    let matches = json["matches"].as_array().expect("matches");
    assert_eq!(matches.len(), 2, "{json}");
    assert_eq!(matches[0]["end"], "time_limit");
    assert_eq!(matches[1]["number"], 2);
    assert_eq!(matches[0]["scores"].as_array().map(Vec::len), Some(6));
    for n in 1..=2 {
        let out = Command::new(env!("CARGO_BIN_EXE_rewind"))
            .args(["replay", "verify"])
            .arg(dir.join(format!("cup-{n}.rwd")))
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "match {n}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn match_flags_that_cannot_work_are_clear_errors() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_rewind"))
            .args(args)
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, err) = run(&["serve", "--matches", "3"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("need --score-limit or --time-limit"), "{err}");
    let (code, err) = run(&["serve", "--score-limit", "0"]);
    assert!(
        code == Some(1) && err.contains("--score-limit must be at least 1"),
        "{err}"
    );
    let (code, err) = run(&["serve", "--matches", "2", "--forever", "--time-limit", "1m"]);
    assert!(code == Some(2) && err.contains("cannot be used with"), "{err}");
    if !cfg!(feature = "agones") {
        let (code, err) = run(&["serve", "--agones", "--duration", "1s"]);
        assert_eq!(code, Some(1));
        assert!(
            err.contains("built without Agones support") && err.contains("--features agones"),
            "{err}"
        );
    }
}
