//! `rewind`: the one binary users run. It parses flags and wires the library crates together;
//! everything with behaviour lives in `rewind-shared`, `rewind-server` and `rewind-client`.

mod map_cmd;

use clap::{Parser, Subcommand};

/// Rewind: an authoritative, tick-based multiplayer top-down shooter with lag compensation.
#[derive(Debug, Parser)]
#[command(name = "rewind", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check or list maps.
    #[command(subcommand)]
    Map(map_cmd::MapCmd),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,quinn=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Map(cmd) => map_cmd::run(cmd),
    }
}
