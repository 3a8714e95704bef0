//! A recording made by an older build still verifies: `tests/data/pre-upgrade.rwd` was recorded
//! before the dependency upgrade of issue 18 (`rewind serve --ai 4 --duration 12s --record ...`,
//! seed 1, SIM_VERSION 3). `replay verify` re-simulates it with today's code and checks every
//! per-tick hash, every keyframe and the chunk chain, so any change to what the simulation
//! computes (a dependency, a rule, float code) fails here. If the change is deliberate, bump
//! `SIM_VERSION` and record a new file with the reason in the commit.

use std::process::Command;

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/pre-upgrade.rwd");

#[test]
fn recording_from_before_the_dependency_upgrade_still_verifies() {
    let out = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["replay", "verify", FILE])
        .output()
        .expect("rewind replay verify runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "verify failed:\n{stdout}\n{stderr}");
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(name).map(str::trim))
            .unwrap_or_default()
            .to_string()
    };
    // The figures the recording server printed when it made the file: the whole match was
    // re-simulated, not a prefix, and it ended in the same state.
    assert_eq!(field("ticks"), "720 (0 to 720), 12.0 s", "{stdout}");
    assert_eq!(field("kills"), "2 (225 shots)", "{stdout}");
    assert_eq!(field("keyframes"), "3 checked", "{stdout}");
    assert_eq!(field("hash"), "ae9805596e2885de (final)", "{stdout}");
    // Recorded before signatures (format version 1): read, and said to be unsigned.
    assert_eq!(
        field("signer"),
        "unsigned (format version 1, recorded before signatures)",
        "{stdout}"
    );
    assert_eq!(stdout.lines().last(), Some("OK"), "{stdout}");
}
