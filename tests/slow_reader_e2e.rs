//! Memory and fairness under a control-stream attack over real QUIC (issue 12): one client that
//! never reads what the server sends (and advertises a small receive window, so the server's
//! writes to it block early) and four that flood chat, for 60 s, against `rewind serve` in its own
//! process. The server's resident memory must stay flat (every per-client queue is bounded, and a
//! write blocked for `CONTROL_STALL` drops the slow reader), and honest bots' downstream must grow
//! by less than 10 % over a baseline without the attackers (chat is rate-limited per player
//! before it is broadcast).

mod common;
mod serve_proc;

use common::{connect, connect_tuned};
use rewind_client::bots::{BotsConfig, run_bots};
use rewind_shared::protocol::{ClientDatagram, ClientMsg, PROTOCOL_VERSION, ServerMsg};
use serve_proc::{scratch, spawn_serve};
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

const FLOOD: Duration = Duration::from_secs(60);
const FLOODERS: usize = 4;

/// Kills the server if the test fails before it stops it (a panicking test must not leave a
/// server running).
struct Reap(std::process::Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Resident set size of a process in KiB (from /proc).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn honest_bots(addr: SocketAddr, hash: &str, secs: u64, seed: u64) -> f64 {
    let mut cfg = BotsConfig::new(
        addr.to_string(),
        Some(hash.to_string()),
        2,
        Duration::from_secs(secs),
    );
    cfg.seed = seed;
    cfg.name_prefix = "honest".into();
    let r = run_bots(cfg).expect("honest bots play");
    assert_eq!(r.clients, 2, "{:?}", r.failed);
    println!(
        "honest bots: {} (killcams {:.0} B/s of it)",
        r.summary(),
        r.killcam_bytes_per_s
    );
    // Killcams are downstream only deaths cost, and the two runs die at different rates: left out.
    r.down_bytes_per_s - r.killcam_bytes_per_s
}

#[test]
fn a_reader_that_never_reads_and_chat_flooders_cost_no_memory_and_little_downstream() {
    let dir = scratch("slow-reader");
    let stats_path = dir.join("stats.json");
    let (child, mut lines) = spawn_serve(
        &[
            "--addr".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--ai".as_ref(),
            "8".as_ref(),
            "--stats".as_ref(),
            stats_path.as_os_str(),
        ],
        &dir,
    );
    let mut child = Reap(child);
    let mut line = || lines.next().and_then(Result::ok).unwrap_or_default();
    let addr: SocketAddr = line()
        .strip_prefix("listening ")
        .and_then(|a| a.parse().ok())
        .expect("listening ADDR");
    let hash = line()
        .strip_prefix("cert-hash ")
        .expect("cert-hash HEX")
        .to_string();
    let cert =
        std::fs::read(dir.join("data").join("server-cert.der")).expect("the server kept its certificate");
    let pid = child.0.id();

    let baseline = honest_bots(addr, &hash, 12, 1);
    let rss_before = rss_kib(pid);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let until = Instant::now() + FLOOD;
    // The slow reader: says hello, keeps sending (so it is not silent), never reads a byte.
    let slow_cert = cert.clone();
    let slow = rt.spawn(async move {
        let local: SocketAddr = "127.0.0.1:0".parse().expect("address");
        let mut c = connect_tuned(local, addr, &slow_cert, |t| {
            t.stream_receive_window(8_192u32.into());
        })
        .await
        .expect("the slow reader connects");
        c.send_msg(&ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            name: "sloth".into(),
        })
        .await;
        let empty = rewind_shared::codec::encode(&ClientDatagram::Inputs {
            ack: Default::default(),
            inputs: Vec::new(),
        })
        .expect("encodes");
        while Instant::now() < until {
            if c.conn.send_datagram(empty.clone().into()).is_err() {
                return c.conn.close_reason().map(|r| r.to_string());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        c.conn.close_reason().map(|r| r.to_string())
    });
    // The flooders: 100 lines of 200 characters a second each, reading (and dropping) the answers.
    let mut flooders = Vec::new();
    for i in 0..FLOODERS {
        let cert = cert.clone();
        flooders.push(rt.spawn(async move {
            let mut c = connect(addr, &cert).await;
            let ServerMsg::Welcome(_) = c.hello(PROTOCOL_VERSION, &format!("flood{i}")).await else {
                panic!("flooder refused");
            };
            let mut recv = c.recv;
            let drain = tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(Some(_)) = recv.read(&mut buf).await {}
            });
            let conn = c.conn.clone();
            let keep_alive = tokio::spawn(async move {
                let empty = rewind_shared::codec::encode(&ClientDatagram::Inputs {
                    ack: Default::default(),
                    inputs: Vec::new(),
                })
                .expect("encodes");
                loop {
                    let _ = conn.send_datagram(empty.clone().into());
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
            let line = ClientMsg::Chat {
                text: "x".repeat(200),
            };
            let frame = rewind_shared::frame::encode_frame(&line).expect("encodes");
            let mut sent = 0u64;
            while Instant::now() < until {
                if c.send.write_all(&frame).await.is_err() {
                    break;
                }
                sent += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            drain.abort();
            keep_alive.abort();
            sent
        }));
    }
    // Memory, sampled every second while the honest bots play through the flood.
    let sampler = std::thread::spawn(move || {
        let mut samples = Vec::new();
        while Instant::now() < until {
            samples.push(rss_kib(pid));
            std::thread::sleep(Duration::from_secs(1));
        }
        samples
    });
    std::thread::sleep(Duration::from_secs(5));
    let flooded = honest_bots(addr, &hash, 50, 2);
    let samples = sampler.join().expect("sampler");
    let slow_end = rt.block_on(slow).expect("slow reader task");
    let lines_sent: u64 = flooders
        .into_iter()
        .map(|f| rt.block_on(f).expect("flooder task"))
        .sum();
    rt.shutdown_timeout(Duration::from_secs(1));

    Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill runs");
    let _ = child.0.wait();
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&stats_path).expect("stats written")).expect("stats parse");
    let guard = &stats["guard"];
    let max = samples.iter().copied().max().unwrap_or(0);
    let late: Vec<u64> = samples.iter().rev().take(30).copied().collect();
    let (late_min, late_max) = (
        late.iter().copied().min().unwrap_or(0),
        late.iter().copied().max().unwrap_or(0),
    );
    println!(
        "server RSS: {rss_before} KiB before the flood, max {max} KiB during it, last 30 s {late_min}..{late_max} KiB; \
         {lines_sent} chat lines sent, {} dropped, slow readers {}, slow reader ended: {slow_end:?}",
        guard["chat_dropped"], guard["slow_readers"]
    );
    println!(
        "honest downstream (without killcams): {baseline:.0} B/s alone, {flooded:.0} B/s during the flood ({:+.1} %)",
        (flooded / baseline - 1.0) * 100.0
    );
    let _ = std::fs::remove_dir_all(&dir);

    assert!(
        guard["chat_dropped"].as_u64().unwrap_or(0) > lines_sent / 2,
        "the rate limit held: {guard}"
    );
    assert!(
        guard["slow_readers"].as_u64().unwrap_or(0) >= 1,
        "the slow reader was dropped: {guard}"
    );
    assert!(slow_end.is_some(), "the slow reader's connection was closed");
    assert!(
        max < rss_before + 32 * 1024,
        "memory stays within 32 MiB of where it was: {rss_before} -> {max} KiB"
    );
    assert!(
        late_max < late_min + 8 * 1024,
        "memory is flat over the last 30 s: {late_min}..{late_max} KiB"
    );
    assert!(
        flooded < baseline * 1.10,
        "honest downstream grows by less than 10 %: {baseline:.0} -> {flooded:.0} B/s"
    );
}
