//! `rewind map`: validate a map file or list the built-in maps.

use anyhow::Context;
use clap::Subcommand;
use rewind_shared::map::{BUILTIN_MAPS, Map};
use std::path::PathBuf;

/// Map subcommands.
#[derive(Debug, Subcommand)]
pub enum MapCmd {
    /// Parse a map file and report its size and spawn points, or the first error with its line.
    Check {
        /// Map text file (`#` wall, `.` floor, `S` spawn).
        file: PathBuf,
    },
    /// List the built-in maps.
    List,
}

/// Runs a map subcommand.
pub fn run(cmd: MapCmd) -> anyhow::Result<()> {
    match cmd {
        MapCmd::Check { file } => {
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let name = file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let map =
                Map::parse(&name, &text).with_context(|| format!("{} is not a valid map", file.display()))?;
            println!(
                "{}: {}x{} tiles, {} spawn points",
                map.name,
                map.width,
                map.height,
                map.spawns.len()
            );
        }
        MapCmd::List => {
            for (name, text) in BUILTIN_MAPS {
                if let Ok(map) = Map::parse(name, text) {
                    println!(
                        "{name}\t{}x{} tiles\t{} spawns",
                        map.width,
                        map.height,
                        map.spawns.len()
                    );
                }
            }
        }
    }
    Ok(())
}
