//! A match played in process and recorded: a server with AI players and headless bots over real
//! QUIC on loopback, then the recording checked against the server's own end state (the recording
//! tests at 60 and 128 Hz share it).

use rewind_client::bots::{BotsConfig, BotsReport, run_bots};
use rewind_server::{ServerConfig, ServerStats, start};
use rewind_shared::replay::{Replay, VerifySummary, verify};
use std::path::Path;
use std::time::Duration;

/// What a recorded match left: the bots' report, the server's stats, its certificate hash and the
/// recording's bytes.
pub struct RecordedMatch {
    pub report: BotsReport,
    pub stats: ServerStats,
    pub cert_hash: String,
    pub bytes: Vec<u8>,
}

/// Runs a server with `cfg` recording to `file` and `bots` bots (seed `seed`) for `secs` seconds.
pub fn play_recorded(mut cfg: ServerConfig, file: &Path, bots: u16, secs: u64, seed: u64) -> RecordedMatch {
    cfg.record = Some(file.to_path_buf());
    let srv = start(cfg).expect("server");
    let mut b = BotsConfig::new(
        srv.local_addr().to_string(),
        Some(srv.cert_hash().to_string()),
        bots,
        Duration::from_secs(secs),
    );
    b.seed = seed;
    let report = run_bots(b).expect("bots run");
    let cert_hash = srv.cert_hash().to_string();
    srv.stop();
    let stats = srv.wait();
    let bytes = std::fs::read(file).expect("recording written");
    RecordedMatch {
        report,
        stats,
        cert_hash,
        bytes,
    }
}

impl RecordedMatch {
    /// Checks that the recording verifies whole, holds every simulated tick, re-simulates exactly
    /// the server's shots and final state, and seeks to its end onto that state.
    pub fn verify_against_server(&self) -> (VerifySummary, Replay) {
        let summary = verify(&self.bytes).expect("the recording verifies");
        assert!(!summary.truncated);
        assert_eq!(
            summary.ticks, self.stats.ticks,
            "every simulated tick is in the file"
        );
        assert_eq!(
            summary.shots, self.stats.shots,
            "re-simulation fires exactly the server's shots"
        );
        assert_eq!(
            summary.final_hash, self.stats.final_hash,
            "re-simulated final state equals the server's"
        );
        let replay = Replay::from_bytes(&self.bytes).expect("parses");
        let end = replay.seek(replay.last_tick()).expect("seek to the end");
        assert_eq!(end.hash(), self.stats.final_hash);
        (summary, replay)
    }
}
