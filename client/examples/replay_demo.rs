//! Dev tool: opens the replay viewer on a recording without the `rewind` CLI (which wires the same
//! function as `rewind replay FILE`).
//!
//! cargo run -p rewind-client --example replay_demo -- FILE.rwd [--screenshot OUT.png]
//!     [--screenshot-after 2s] [--scoreboard] [--seek SECONDS] [--follow N] [--pause] [--speed-up N]
//!     [--synth]   (first writes a seeded synthetic 8-player match with lag-compensated shots to FILE)

use anyhow::Context;
use rewind_client::game::WindowOptions;
use rewind_client::game::run_window;
use rewind_client::replay_view;
use rewind_shared::map::Map;
use rewind_shared::replay::synth::{SynthParams, record_synthetic};
use rewind_shared::sim::SimConfig;
use rewind_shared::tick::Tick;
use std::path::PathBuf;
use std::time::Duration;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let file = PathBuf::from(
        args.next()
            .context("usage: replay_demo FILE.rwd [--screenshot OUT.png]")?,
    );
    let mut opts = WindowOptions::default();
    let (mut seek, mut follow, mut pause, mut speed_up, mut synth) = (None, None, false, 0, false);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seek" => seek = Some(args.next().context("--seek SECONDS")?.parse::<f64>()?),
            "--follow" => follow = Some(args.next().context("--follow N")?.parse::<usize>()?),
            "--pause" => pause = true,
            "--speed-up" => speed_up = args.next().context("--speed-up N")?.parse::<usize>()?,
            "--synth" => synth = true,
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
    if synth {
        let map = Map::builtin("arena").context("arena")?;
        let params = SynthParams {
            seed: 5,
            ticks: 60 * 60,
            players: 8,
            churn: 0.002,
            start_tick: Tick(0),
        };
        let (bytes, _) = record_synthetic(Vec::new(), &map, SimConfig::new(60, true, 250), params)?;
        std::fs::write(&file, bytes)?;
    }
    let mut viewer = replay_view::open(&file)?;
    if let Some(s) = seek {
        viewer.playback_mut().seek_by(s)?;
    }
    for _ in 0..speed_up {
        viewer.playback_mut().change_speed(true);
    }
    viewer.playback_mut().set_paused(pause);
    if let Some(n) = follow
        && !viewer.follow_nth(n)
    {
        anyhow::bail!("no player number {n} at that moment");
    }
    run_window(opts, viewer)?;
    Ok(())
}
