//! `rewind replay verify|info FILE`: thin wrappers over `rewind_shared::replay` that read the
//! file (size-capped), print a summary and turn every problem into a non-zero exit that names
//! the first bad offset or tick.

use anyhow::{Context, bail};
use rewind_shared::replay::{Replay, ReplayInfo, VerifySummary};
use std::io::Read;
use std::path::Path;

/// Largest recording we load into memory (a 30-minute, 64-player match is far below this).
const MAX_FILE_BYTES: u64 = 1 << 30;

fn read_capped(path: &Path) -> anyhow::Result<Vec<u8>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        bail!("{} is larger than {MAX_FILE_BYTES} bytes", path.display());
    }
    Ok(bytes)
}

fn load(path: &Path) -> anyhow::Result<Replay> {
    let bytes = read_capped(path)?;
    Replay::from_bytes(&bytes).with_context(|| format!("{} is not a valid replay", path.display()))
}

fn print_summary(path: &Path, s: &VerifySummary) {
    println!(
        "file      {} ({} bytes, {} chunks)",
        path.display(),
        s.file_size,
        s.chunks
    );
    println!(
        "ticks     {} ({} to {}), {:.1} s",
        s.ticks, s.first_tick.0, s.last_tick.0, s.duration_s
    );
    println!("players   {}", s.players);
    println!("kills     {} ({} shots)", s.kills, s.shots);
    println!("keyframes {} checked", s.keyframes);
    println!("hash      {:016x} (final)", s.final_hash);
}

/// Re-simulates the recording and checks every hash, keyframe and chunk. A truncated file (a
/// crashed recorder) is verified up to its last complete chunk, then reported as an error so
/// scripts notice it.
pub fn verify(path: &Path) -> anyhow::Result<()> {
    let replay = load(path)?;
    let summary = replay
        .verify()
        .with_context(|| format!("{} failed verification", path.display()))?;
    print_summary(path, &summary);
    if let Some(t) = &summary.truncation {
        bail!(
            "{}: {t}; the {} ticks before it verified",
            path.display(),
            summary.ticks
        );
    }
    println!("OK");
    Ok(())
}

fn print_info(path: &Path, info: &ReplayInfo) {
    let h = &info.header;
    println!("file      {} ({} bytes)", path.display(), info.file_size);
    println!(
        "map       {} ({} bytes of map text)",
        h.map_name,
        h.map_text.len()
    );
    println!(
        "sim       {} Hz, lag compensation {}, rewind window {} ticks",
        h.cfg.tick_rate,
        if h.cfg.lagcomp { "on" } else { "off" },
        h.cfg.max_rewind_ticks
    );
    println!(
        "recording seed {}, start {}, keyframe every {} ticks, {} ticks per chunk",
        h.seed, h.start_tick, h.keyframe_interval, h.chunk_ticks
    );
    if !h.config.is_empty() {
        println!("config    {}", h.config);
    }
    println!(
        "duration  {:.1} s ({} ticks, {} chunks, {} keyframes)",
        info.duration_s, info.ticks, info.chunks, info.keyframes
    );
    if let Some(t) = &info.truncation {
        println!("WARNING   {t}");
    }
    println!("players   {}", info.players.len());
    for (id, name) in &info.players {
        println!("  {id} {name}");
    }
    println!("final score (players present at the end):");
    for s in &info.final_scores {
        println!("  {:<20} {:>4} kills {:>4} deaths", s.name, s.kills, s.deaths);
    }
}

/// Prints the header, duration, players, final scoreboard and file size.
pub fn info(path: &Path) -> anyhow::Result<()> {
    let replay = load(path)?;
    let info = replay
        .info()
        .with_context(|| format!("cannot summarize {}", path.display()))?;
    print_info(path, &info);
    Ok(())
}
