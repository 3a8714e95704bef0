//! `rewind`: the one binary users run. It parses flags and wires the library crates together;
//! everything with behaviour lives in `rewind-shared`, `rewind-server` and `rewind-client`.

mod cli_util;
mod map_cmd;
mod replay_cmd;
mod serve_cmd;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Rewind: an authoritative, tick-based multiplayer top-down shooter with lag compensation.
#[derive(Debug, Parser)]
#[command(name = "rewind", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a dedicated server (prints `listening ADDR` and `cert-hash HEX` on stdout).
    Serve(serve_cmd::ServeArgs),
    /// Verify or inspect a recorded match.
    #[command(subcommand)]
    Replay(ReplayCmd),
    /// Check or list maps.
    #[command(subcommand)]
    Map(map_cmd::MapCmd),
}

#[derive(Debug, Subcommand)]
enum ReplayCmd {
    /// Re-simulate the whole match and check every per-tick hash and the chunk chain.
    Verify {
        /// Recording made with `--record`.
        file: PathBuf,
    },
    /// Header, duration, players, final score, file size.
    Info {
        /// Recording made with `--record`.
        file: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,quinn=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve_cmd::run(args),
        Command::Replay(ReplayCmd::Verify { file }) => replay_cmd::verify(&file),
        Command::Replay(ReplayCmd::Info { file }) => replay_cmd::info(&file),
        Command::Map(cmd) => map_cmd::run(cmd),
    }
}
