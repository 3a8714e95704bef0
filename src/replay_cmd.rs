//! `rewind replay verify|info FILE`: thin wrappers over `rewind_shared::replay` that read the
//! file (size-capped), print a summary and turn every problem into a non-zero exit that names
//! the first bad offset, tick or signature. Both say who signed the file and whether that
//! server is one the user already trusts (`--cert-hash`, or the known-hosts file `connect`
//! keeps).

use anyhow::{Context, bail};
use rewind_client::tls::{KnownHosts, default_known_hosts, parse_pin};
use rewind_shared::replay::{Replay, ReplayInfo, Signer, VerifySummary};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Where to look up a recording's signer.
#[derive(Debug, clap::Args)]
pub struct TrustArgs {
    /// Known-hosts file to look the signer up in (default: the one `connect` uses,
    /// $XDG_DATA_HOME/rewind/known_hosts).
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
}

/// The `signer` line: who signed, and what the user's own trust says about it.
fn signer_line(
    signer: &Signer,
    format_version: u32,
    truncated: bool,
    trust: &TrustArgs,
    pin: Option<&str>,
) -> String {
    let fp = match signer {
        Signer::Unsigned if format_version == rewind_shared::replay::FORMAT_VERSION_V1 => {
            return "unsigned (format version 1, recorded before signatures)".to_string();
        }
        Signer::Unsigned => return "unsigned (anyone could have written it)".to_string(),
        Signer::Signed { fingerprint, .. } => fingerprint,
    };
    let mut line = format!("signed by {fp}");
    if let Signer::Signed { chunks, .. } = signer
        && truncated
    {
        line.push_str(&format!(" (up to the cut: {chunks} complete chunks)"));
    }
    if pin.is_some_and(|p| p == fp) {
        line.push_str(", matches --cert-hash");
    }
    let path = trust.known_hosts.clone().unwrap_or_else(default_known_hosts);
    match KnownHosts::load(&path) {
        Ok(kh) => match kh.hosts_for(fp).as_slice() {
            [] => line.push_str(&format!(", not in {}", path.display())),
            hosts => line.push_str(&format!(", known host {} in {}", hosts.join(" "), path.display())),
        },
        Err(e) => line.push_str(&format!(", known hosts unreadable: {e}")),
    }
    line
}

/// Fails unless the file is signed by `pin` (a normalized fingerprint).
fn check_pin(path: &Path, signer: &Signer, pin: &str) -> anyhow::Result<()> {
    match signer.fingerprint() {
        Some(fp) if fp == pin => Ok(()),
        Some(fp) => bail!(
            "{}: signed by {fp}, not by the server with --cert-hash {pin}",
            path.display()
        ),
        None => bail!(
            "{}: unsigned, so it cannot be shown to come from the server with --cert-hash {pin}",
            path.display()
        ),
    }
}

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

/// Re-simulates the recording and checks every hash, keyframe, chunk and signature. A truncated
/// file (a crashed recorder) is verified up to its last complete chunk, then reported as an
/// error so scripts notice it. With `cert_hash`, a file not signed by that server fails.
pub fn verify(path: &Path, cert_hash: Option<&str>, trust: &TrustArgs) -> anyhow::Result<()> {
    let pin = cert_hash
        .map(parse_pin)
        .transpose()
        .context("--cert-hash must be 64 hex digits (SHA-256)")?;
    let replay = load(path)?;
    let summary = replay
        .verify()
        .with_context(|| format!("{} failed verification", path.display()))?;
    print_summary(path, &summary);
    println!(
        "signer    {}",
        signer_line(
            &summary.signer,
            summary.format_version,
            summary.truncated,
            trust,
            pin.as_deref()
        )
    );
    if let Some(pin) = &pin {
        check_pin(path, &summary.signer, pin)?;
    }
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

fn print_info(path: &Path, info: &ReplayInfo, trust: &TrustArgs) {
    let h = &info.header;
    println!("file      {} ({} bytes)", path.display(), info.file_size);
    println!(
        "signer    {}",
        signer_line(
            &info.signer,
            info.format_version,
            info.truncation.is_some(),
            trust,
            None
        )
    );
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
        "recording seed {}, start {}, keyframe every {} ticks, {} ticks per chunk, room for {} players",
        h.seed, h.start_tick, h.keyframe_interval, h.chunk_ticks, h.max_players
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

/// Prints the header, signer, duration, players, final scoreboard and file size.
pub fn info(path: &Path, trust: &TrustArgs) -> anyhow::Result<()> {
    let replay = load(path)?;
    let info = replay
        .info()
        .with_context(|| format!("cannot summarize {}", path.display()))?;
    print_info(path, &info, trust);
    Ok(())
}

/// `--clip A..B`: two durations (`10s..16s`, `1m..1m20s`).
pub fn parse_clip_range(s: &str) -> Result<(std::time::Duration, std::time::Duration), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("{s:?} is not a range like 10s..16s"))?;
    let (a, b) = (
        crate::cli_util::parse_duration_arg(a.trim())?,
        crate::cli_util::parse_duration_arg(b.trim())?,
    );
    if b <= a {
        return Err(format!("{s:?} is empty: the end must be after the start"));
    }
    Ok((a, b))
}

/// What `rewind replay FILE --out F.gif` renders.
#[derive(Debug)]
pub struct ClipArgs {
    /// `--clip`.
    pub range: Option<(std::time::Duration, std::time::Duration)>,
    /// `--kill N` (1-based).
    pub kill: Option<usize>,
    /// `--follow NAME`.
    pub follow: Option<String>,
    /// `--fps`.
    pub fps: u32,
    /// `--clip-width`.
    pub width: u16,
    /// `--out`.
    pub out: PathBuf,
}

/// `rewind replay FILE (--clip A..B | --kill N) --out F.gif`: renders the frames with the game's
/// renderer in a window (Xvfb on a headless machine) into an animated GIF.
pub fn clip(file: &Path, args: ClipArgs, opts: rewind_client::game::WindowOptions) -> anyhow::Result<()> {
    use rewind_client::replay_view::clip::{ClipError, ClipExport, ClipSource, ClipSpec, player_named};
    use rewind_client::replay_view::playback::Playback;
    if args.range.is_none() && args.kill.is_none() {
        bail!("--out needs --clip A..B or --kill N");
    }
    let replay = rewind_client::replay_view::load(file)?;
    let replay: &'static Replay = Box::leak(Box::new(replay));
    let kill = match args.kill {
        Some(n) => {
            let kills = rewind_shared::killcam::kills_in(replay);
            let count = kills.len();
            let k = n
                .checked_sub(1)
                .and_then(|i| kills.get(i).copied())
                .with_context(|| format!("no kill {n}: {} has {count}", file.display()))?;
            Some(k)
        }
        None => None,
    };
    let mut spec = match (kill, args.range) {
        (Some(k), None) => ClipSpec::for_kill(replay, k, args.fps, args.width),
        (_, Some((a, b))) => ClipSpec {
            from_s: a.as_secs_f64(),
            to_s: b.as_secs_f64(),
            fps: args.fps,
            width: args.width,
            follow: kill.map(|k| k.killer),
        },
        (None, None) => bail!("--out needs --clip A..B or --kill N"),
    };
    if let Some(name) = &args.follow {
        spec.follow = Some(player_named(&Playback::new(replay), name)?);
    }
    let frames = spec.frames();
    let export = ClipExport::new(replay, spec, args.out.clone())?;
    let (source, outcome) = ClipSource::new(export);
    rewind_client::game::run_window(opts, source)?;
    let result = outcome
        .lock()
        .map_err(|_| anyhow::anyhow!("the clip's state was poisoned"))?
        .take()
        .unwrap_or(Err(ClipError::Interrupted { total: frames }));
    result?;
    println!("wrote {} ({frames} frames)", args.out.display());
    Ok(())
}
