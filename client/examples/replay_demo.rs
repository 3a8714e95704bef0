//! Dev tool: opens the replay viewer on a recording without the `rewind` CLI (which wires the same
//! function as `rewind replay FILE`).
//!
//! cargo run -p rewind-client --example replay_demo -- FILE.rwd [--screenshot OUT.png]
//!     [--screenshot-after 2s] [--scoreboard] [--seek SECONDS] [--follow N] [--pause] [--speed-up N]
//!     [--synth MINUTES]   (first writes a seeded synthetic 8-player match with lag-compensated shots to FILE)
//!     [--measure-seeks N] (no window: N seeks spread over the match through the viewer's playback,
//!                          printing mean and max milliseconds; run with --release for real figures)

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
    let (mut seek, mut follow, mut pause, mut speed_up) = (None, None, false, 0);
    let (mut synth, mut measure) = (None, None);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seek" => seek = Some(args.next().context("--seek SECONDS")?.parse::<f64>()?),
            "--follow" => follow = Some(args.next().context("--follow N")?.parse::<usize>()?),
            "--pause" => pause = true,
            "--speed-up" => speed_up = args.next().context("--speed-up N")?.parse::<usize>()?,
            "--synth" => synth = Some(args.next().context("--synth MINUTES")?.parse::<u32>()?),
            "--measure-seeks" => measure = Some(args.next().context("--measure-seeks N")?.parse::<u32>()?),
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
    if let Some(minutes) = synth {
        let map = Map::builtin("arena").context("arena")?;
        let params = SynthParams {
            seed: 5,
            ticks: minutes * 60 * 60,
            players: 8,
            churn: 0.0,
            start_tick: Tick(0),
        };
        let (bytes, _) = record_synthetic(Vec::new(), &map, SimConfig::new(60, true, 250), params)?;
        std::fs::write(&file, bytes)?;
    }
    if let Some(n) = measure {
        return measure_seeks(&file, n);
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

/// Seeks through the viewer's playback at `n` points spread over the match and prints timings.
fn measure_seeks(file: &std::path::Path, n: u32) -> anyhow::Result<()> {
    let replay = replay_view::load(file)?;
    let mut pb = replay_view::playback::Playback::new(&replay);
    let mut times = Vec::new();
    for i in 0..n {
        // A stride coprime with the keyframe interval lands at every distance from a keyframe.
        let f = (f64::from(i) * 0.618_034).fract();
        let t = std::time::Instant::now();
        pb.seek_fraction(f)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    let max = times.iter().copied().fold(0.0, f64::max);
    println!(
        "{}: {:.1} min, {} players at the end; {n} seeks: mean {mean:.2} ms, max {max:.2} ms",
        file.display(),
        replay.duration_s() / 60.0,
        pb.roster().len()
    );
    Ok(())
}
