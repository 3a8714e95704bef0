//! End-to-end: headless bots (real QUIC clients running the client core) against an in-process
//! server on loopback. With a clean network the prediction must never be corrected and every
//! shot's verdict must match what the shooter saw; with the link conditioner at a 200 ms round
//! trip, jitter and loss, lag compensation must still agree on at least 99% of shots (issue 6).

use rewind_client::bots::{BotsConfig, BotsReport, run_bots};
use rewind_server::{ServerConfig, start};
use rewind_shared::conditioner::LinkConfig;
use std::time::Duration;

fn run(cfg: impl FnOnce(&mut ServerConfig), bots: impl FnOnce(&mut BotsConfig)) -> BotsReport {
    // With RUST_LOG set, a failed run shows why (which views were clamped, which verdicts differ).
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .with_ansi(false)
            .try_init();
    }
    let mut sc = ServerConfig::default();
    cfg(&mut sc);
    let server = start(sc).expect("server starts");
    let mut bc = BotsConfig::new(
        server.local_addr().to_string(),
        Some(server.cert_hash().to_string()),
        4,
        Duration::from_secs(5),
    );
    bots(&mut bc);
    let report = run_bots(bc).expect("bots ran");
    server.stop();
    let stats = server.wait();
    println!("{}", report.summary());
    println!(
        "{}",
        serde_json::to_string_pretty(&report).expect("report serializes")
    );
    println!("server: {stats:?}");
    report
}

#[test]
fn clean_loopback_has_no_corrections_and_full_agreement() {
    let r = run(
        |s| s.ai = 4,
        |b| {
            b.seed = 7;
            b.duration = Duration::from_secs(8);
        },
    );
    assert_eq!(r.clients, 4, "{:?}", r.failed);
    assert_eq!(r.corrections, 0, "{}", r.summary());
    assert!(r.shots >= 60, "{}", r.summary());
    assert!(
        r.judged + r.void_shots + 4 >= r.shots,
        "verdicts arrive: {}",
        r.summary()
    );
    assert_eq!(r.agreement, 1.0, "{}", r.summary());
    assert!(
        r.client_hits > 0 && r.client_hits < r.judged,
        "aim error makes some misses: {}",
        r.summary()
    );
    // 30 snapshots a second (the default rate) for 8 s to each of 4 bots is 960.
    assert!(r.snapshots > 4 * 200, "{}", r.summary());
    assert!(r.rtt_ms.p50 > 0.0 && r.down_bytes_per_s > 0.0 && r.up_bytes_per_s > 0.0);
    let json = serde_json::to_value(&r).expect("json");
    for f in [
        "clients",
        "duration_s",
        "shots",
        "client_hits",
        "server_hits",
        "agreement",
        "false_hits",
        "missed_hits",
        "corrections",
        "rtt_ms",
        "down_bytes_per_s",
        "up_bytes_per_s",
        "snapshots",
        "snapshot_loss",
    ] {
        assert!(json.get(f).is_some(), "report lacks {f}");
    }
    assert!(json["rtt_ms"].get("p50").is_some() && json["rtt_ms"].get("p99").is_some());
}

#[test]
fn lag_compensation_agrees_over_a_bad_link() {
    let link = LinkConfig {
        latency: Duration::from_millis(100),
        jitter: Duration::from_millis(20),
        loss: 0.05,
        ..LinkConfig::perfect()
    };
    // The default rewind window (400 ms) covers the round trip, the input lead and the arrival
    // jitter (docs/ARCHITECTURE.md, "Time and the rewind window").
    let r = run(
        |s| {
            s.ai = 8;
        },
        |b| {
            b.seed = 11;
            b.count = 8;
            b.link = link;
            b.duration = Duration::from_secs(14);
        },
    );
    assert_eq!(r.clients, 8, "{:?}", r.failed);
    assert!(r.judged >= 200, "{}", r.summary());
    assert!(r.agreement >= 0.99, "{}", r.summary());
    assert!(
        r.rtt_ms.p50 >= 190.0,
        "the conditioner adds 100 ms each way: {}",
        r.summary()
    );
    assert!(r.snapshot_loss > 0.01, "{}", r.summary());
}
