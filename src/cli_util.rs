//! Small helpers shared by the subcommands.

use anyhow::Context;
use rewind_shared::map::Map;
use std::path::Path;
use std::time::Duration;

/// Parses "250ms", "30s", "2m" for clap.
pub fn parse_duration_arg(s: &str) -> Result<Duration, String> {
    rewind_shared::conditioner::parse_duration(s).map_err(|e| e.to_string())
}

/// A built-in map by name, or a map file.
pub fn load_map(name_or_path: &str) -> anyhow::Result<Map> {
    if let Some(map) = Map::builtin(name_or_path) {
        return Ok(map);
    }
    let path = Path::new(name_or_path);
    if !path.exists() {
        anyhow::bail!("no built-in map or file named {name_or_path:?} (built-in: arena, warehouse)");
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Map::parse(&name, &text).with_context(|| format!("{} is not a valid map", path.display()))
}

/// Calls `f` once when the process receives Ctrl-C (SIGINT).
pub fn on_ctrl_c(f: impl FnOnce() + Send + 'static) {
    let spawned = std::thread::Builder::new().name("ctrl-c".into()).spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_io().build() else {
            return;
        };
        if rt.block_on(tokio::signal::ctrl_c()).is_ok() {
            eprintln!("stopping (Ctrl-C)...");
            f();
        }
    });
    if let Err(e) = spawned {
        tracing::warn!("cannot watch for Ctrl-C: {e}");
    }
}
