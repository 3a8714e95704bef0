//! Dev tool: opens the replay viewer on a recording without the `rewind` CLI (which wires the same
//! function as `rewind replay FILE`).
//!
//! cargo run -p rewind-client --example replay_demo -- FILE.rwd [--screenshot OUT.png]
//!     [--screenshot-after 2s] [--scoreboard]

use anyhow::Context;
use rewind_client::game::WindowOptions;
use rewind_client::replay_view::run_replay_viewer;
use std::path::PathBuf;
use std::time::Duration;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let file = PathBuf::from(
        args.next()
            .context("usage: replay_demo FILE.rwd [--screenshot OUT.png]")?,
    );
    let mut opts = WindowOptions::default();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--screenshot" => {
                opts.screenshot = Some(PathBuf::from(args.next().context("--screenshot FILE")?))
            }
            "--screenshot-after" => {
                let v = args.next().context("--screenshot-after 2s")?;
                let secs: f64 = v.trim_end_matches('s').parse().context("seconds")?;
                opts.screenshot_after = Duration::from_secs_f64(secs);
            }
            "--scoreboard" => opts.scoreboard = true,
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    run_replay_viewer(&file, opts)?;
    Ok(())
}
