//! Small helpers shared by the subcommands.

use anyhow::Context;
use rewind_shared::map::Map;
use std::path::Path;
use std::time::Duration;

/// `--outage START+LENGTH`: two durations, e.g. `10s+15s`.
pub fn parse_outage(s: &str) -> Result<rewind_client::net::Outage, String> {
    let (at, lasts) = s
        .split_once('+')
        .ok_or_else(|| format!("{s:?} is not START+LENGTH (e.g. 10s+15s)"))?;
    Ok(rewind_client::net::Outage {
        at: parse_duration_arg(at)?,
        lasts: parse_duration_arg(lasts)?,
    })
}

/// Parses a duration with a unit: "250ms", "30s", "2.5m", "1h" (a bare number is seconds).
pub fn parse_duration_arg(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (e.g. 250ms, 30s, 5m)"))?;
    let secs = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("unknown unit {other:?} in {s:?} (use ms, s, m or h)")),
    };
    if !secs.is_finite() || secs > 366.0 * 86_400.0 {
        return Err(format!("{s:?} is too long"));
    }
    Ok(Duration::from_secs_f64(secs))
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
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Map::parse(&name, &text).with_context(|| format!("{} is not a valid map", path.display()))
}

/// Calls `on_int` on Ctrl-C (SIGINT) or `on_term` on SIGTERM (`docker stop`, a pod being
/// deleted), whichever comes first, from a small thread of its own.
pub fn on_stop_signal(on_int: impl FnOnce() + Send + 'static, on_term: impl FnOnce() + Send + 'static) {
    let spawned = std::thread::Builder::new().name("signals".into()).spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_io().build() else {
            return;
        };
        rt.block_on(async move {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("cannot watch for SIGTERM: {e}");
                    if tokio::signal::ctrl_c().await.is_ok() {
                        eprintln!("stopping (Ctrl-C)...");
                        on_int();
                    }
                    return;
                }
            };
            tokio::select! {
                r = tokio::signal::ctrl_c() => if r.is_ok() {
                    eprintln!("stopping (Ctrl-C)...");
                    on_int();
                },
                _ = term.recv() => {
                    eprintln!("stopping (SIGTERM)...");
                    on_term();
                }
            }
        });
    });
    if let Err(e) = spawned {
        tracing::warn!("cannot watch for stop signals: {e}");
    }
}

/// The player's default name: the login name, or "player".
pub fn default_name() -> String {
    std::env::var("USER")
        .ok()
        .filter(|n| rewind_shared::protocol::valid_name(n))
        .unwrap_or_else(|| "player".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_parse() {
        let o = parse_outage("10s+1.5s").unwrap();
        assert_eq!(
            (o.at, o.lasts),
            (Duration::from_secs(10), Duration::from_millis(1500))
        );
        assert!(parse_outage("10s").unwrap_err().contains("START+LENGTH"));
        assert!(parse_outage("x+1s").is_err());
    }

    #[test]
    fn durations_parse_with_units_and_refuse_garbage() {
        assert_eq!(parse_duration_arg("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration_arg("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration_arg("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration_arg("10"), Ok(Duration::from_secs(10)));
        assert!(parse_duration_arg("abc").is_err());
        assert!(parse_duration_arg("5 parsecs").is_err());
        assert!(parse_duration_arg("-3s").is_err());
    }
}
