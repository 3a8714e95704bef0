//! `rewind`: the one binary users run. It parses flags and wires the library crates together;
//! everything with behaviour lives in `rewind-shared`, `rewind-net`, `rewind-server` and
//! `rewind-client`.

mod bots_cmd;
mod cli_util;
mod lan_cmd;
mod map_cmd;
mod menu_cmd;
mod play_cmd;
mod replay_cmd;
mod serve_cmd;
mod window_args;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Rewind: an authoritative, tick-based multiplayer top-down shooter with lag compensation.
/// Without arguments it opens the menu (Play vs AI preselected: Enter plays); flags without a
/// subcommand go to `rewind play`.
#[derive(Debug, Parser)]
#[command(name = "rewind", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Local server with AI players and the game window, playable at once (bare flags go here).
    Play(play_cmd::PlayArgs),
    /// The menu in the window: play vs AI, host, join, replays, settings (`rewind` alone).
    Menu(menu_cmd::MenuArgs),
    /// Run a dedicated server (prints `listening ADDR` and `cert-hash HEX` on stdout).
    Serve(serve_cmd::ServeArgs),
    /// Join a server in the game window.
    Connect(play_cmd::ConnectArgs),
    /// Headless network clients that play and report agreement, RTT and bandwidth as JSON.
    Bots(bots_cmd::BotsArgs),
    /// A UDP proxy that applies artificial latency, jitter and loss in both directions.
    Netsim(rewind_net::NetsimArgs),
    /// Watch a recorded match (`rewind replay FILE`), or verify or inspect it.
    Replay(ReplayArgs),
    /// List the games on the LAN (servers run with `serve --lan` or `play --host`).
    Lan(lan_cmd::LanArgs),
    /// Check or list maps.
    #[command(subcommand)]
    Map(map_cmd::MapCmd),
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct ReplayArgs {
    #[command(subcommand)]
    cmd: Option<ReplayCmd>,
    /// Recording to watch: Space pause, arrows seek/speed, 1-9 follow, 0 free camera.
    #[arg(required = true)]
    file: Option<PathBuf>,
    /// Start at this kill (1 = the first of the match), following the killer (K: next kill).
    #[arg(long, value_name = "N")]
    kill: Option<usize>,
    /// Open that kill in the shooter's eye: the shot as the shooter drew it, beside the server's
    /// present (E toggles it in the viewer).
    #[arg(long, requires = "kill")]
    shooters_eye: bool,
    /// Clip range for `--out`, e.g. `10s..16s` (default with `--kill`: 3 s before to 1 s after).
    #[arg(long, value_name = "A..B", value_parser = replay_cmd::parse_clip_range, requires = "out")]
    clip: Option<(std::time::Duration, std::time::Duration)>,
    /// Render the clip (`--clip` or `--kill`) into this animated GIF instead of opening the viewer.
    #[arg(long, value_name = "FILE.gif", conflicts_with = "shooters_eye")]
    out: Option<PathBuf>,
    /// The player the clip's camera follows (default: the killer with `--kill`, else the map).
    #[arg(long, value_name = "NAME", requires = "out")]
    follow: Option<String>,
    /// Frames per second of the clip.
    #[arg(long, default_value_t = 15, requires = "out", value_parser = clap::value_parser!(u32).range(1..=50))]
    fps: u32,
    /// Width of the clip in pixels (the height follows the window).
    #[arg(long, default_value_t = 640, requires = "out", value_parser = clap::value_parser!(u16).range(16..=1920))]
    clip_width: u16,
    #[command(flatten)]
    window: window_args::WindowArgs,
}

#[derive(Debug, Subcommand)]
enum ReplayCmd {
    /// Re-simulate the whole match and check every per-tick hash, the chunk chain and the
    /// server's signatures; says who signed it (and whether you know that server).
    Verify {
        /// Recording made with `--record`.
        file: PathBuf,
        /// Require the recording to be signed by the server with this certificate fingerprint
        /// (SHA-256 hex, as `serve` prints it and `connect --cert-hash` takes it).
        #[arg(long, value_name = "HEX")]
        cert_hash: Option<String>,
        #[command(flatten)]
        trust: replay_cmd::TrustArgs,
    },
    /// Header, signer, duration, players, final score, file size.
    Info {
        /// Recording made with `--record`.
        file: PathBuf,
        #[command(flatten)]
        trust: replay_cmd::TrustArgs,
    },
}

/// `rewind --ai 3` means `rewind play --ai 3`: flags without a subcommand go to `play` (the
/// top-level `--help` and `--version` stay the top level's).
fn with_default_command(args: impl Iterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = args.collect();
    let first_is_flag = args
        .get(1)
        .and_then(|a| a.to_str())
        .is_some_and(|a| a.starts_with('-') && !matches!(a, "-h" | "--help" | "-V" | "--version"));
    if first_is_flag {
        args.insert(1, "play".into());
    }
    args
}

/// mimalloc instead of glibc's allocator: the bots spent 12 % of their core in glibc's malloc and
/// free (`_int_malloc` alone 7 %, two threads' arenas fragmented by snapshot-sized buffers);
/// measured in the README's 256-player section.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs the command; a failure prints its message and its causes on stderr, one per line, and
/// exits with status 1: a user error is never a backtrace, even with `RUST_BACKTRACE` set.
fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,quinn=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let command = match Cli::parse_from(with_default_command(std::env::args_os())).command {
        Some(c) => c,
        None => match Cli::parse_from(["rewind", "menu"]).command {
            Some(c) => c,
            None => anyhow::bail!("cannot build the default `menu` command"),
        },
    };
    match command {
        Command::Play(args) => play_cmd::play(args),
        Command::Menu(args) => menu_cmd::run(args),
        Command::Serve(args) => serve_cmd::run(args),
        Command::Connect(args) => play_cmd::connect(args),
        Command::Bots(args) => bots_cmd::run(args),
        Command::Netsim(args) => rewind_net::netsim_main(args),
        Command::Replay(ReplayArgs {
            cmd:
                Some(ReplayCmd::Verify {
                    file,
                    cert_hash,
                    trust,
                }),
            ..
        }) => replay_cmd::verify(&file, cert_hash.as_deref(), &trust),
        Command::Replay(ReplayArgs {
            cmd: Some(ReplayCmd::Info { file, trust }),
            ..
        }) => replay_cmd::info(&file, &trust),
        Command::Replay(ReplayArgs {
            cmd: None,
            file: Some(file),
            out: Some(out),
            clip,
            kill,
            follow,
            fps,
            clip_width,
            window,
            ..
        }) => replay_cmd::clip(
            &file,
            replay_cmd::ClipArgs {
                range: clip,
                kill,
                follow,
                fps,
                width: clip_width,
                out,
            },
            window.options("Rewind clip"),
        ),
        Command::Replay(ReplayArgs {
            cmd: None,
            file: Some(file),
            kill,
            shooters_eye,
            window,
            ..
        }) => {
            let start = kill.map(|n| (n, shooters_eye));
            rewind_client::replay_view::run_replay_viewer(&file, window.options("Rewind replay"), start)?;
            Ok(())
        }
        Command::Replay(ReplayArgs {
            cmd: None,
            file: None,
            ..
        }) => {
            anyhow::bail!("rewind replay needs a FILE (or `verify FILE` / `info FILE`)")
        }
        Command::Lan(args) => lan_cmd::run(args),
        Command::Map(cmd) => map_cmd::run(cmd),
    }
}
