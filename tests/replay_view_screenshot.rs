//! `rewind replay FILE --screenshot OUT --screenshot-after 1s` under Xvfb: a match recorded by the
//! server library opens in the viewer, which draws the map, the players, and its timeline panel
//! (a non-blank, upright PNG with the played part of the bar in the bottom rows). Skipped, with
//! the reason printed, when Xvfb is not installed.

mod xvfb;

use rewind_client::game::screenshot::Pixels;
use rewind_server::{ServerConfig, start};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use xvfb::{check_png, run_under_xvfb, skip_reason};

/// Pixels in rows `ys`, columns `xs` that `pick` accepts.
fn count(
    img: &Pixels,
    xs: std::ops::Range<usize>,
    ys: std::ops::Range<usize>,
    pick: impl Fn([u8; 4]) -> bool,
) -> usize {
    ys.flat_map(|y| xs.clone().map(move |x| (x, y)))
        .filter_map(|(x, y)| img.pixel(x, y))
        .filter(|p| pick(*p))
        .count()
}

/// The viewer's look: many colours, opaque, the timeline's played part (cyan) in the bottom rows
/// and not at the top (upright), the HUD title (light text) at the top-left.
fn check_replay_png(png: &Path) {
    let img = check_png(png);
    let cyan = |p: [u8; 4]| p[0] < 110 && p[1] > 120 && p[2] > 160;
    let bar_rows = count(&img, 26..60, 690..708, cyan);
    let top_rows = count(&img, 26..60, 12..30, cyan);
    assert!(
        bar_rows > 40 && top_rows < bar_rows,
        "no played timeline at the bottom ({bar_rows} vs {top_rows} at the top)"
    );
    let light = |p: [u8; 4]| p[0] > 110 && p[1] > 110 && p[2] > 110;
    let title = count(&img, 12..200, 14..38, light);
    assert!(
        title > 30,
        "no HUD title in the top-left corner ({title} light pixels)"
    );
}

#[test]
fn replay_viewer_screenshot_shows_the_match_and_timeline() {
    if let Some(why) = skip_reason() {
        eprintln!("replay_view_screenshot skipped: {why}");
        return;
    }
    let dir = std::env::temp_dir().join(format!("rewind-replay-view-shot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let file = dir.join("match.rwd");
    let srv = start(ServerConfig {
        ai: 4,
        duration: Some(Duration::from_secs(3)),
        record: Some(file.clone()),
        ..ServerConfig::default()
    })
    .expect("server starts");
    let stats = srv.wait();
    assert!(stats.ticks > 100, "the match ran ({} ticks)", stats.ticks);

    let png = dir.join("replay.png");
    let (ok, err) = run_under_xvfb(&[
        "replay".as_ref(),
        file.as_os_str(),
        "--screenshot".as_ref(),
        png.as_os_str(),
        "--screenshot-after".as_ref(),
        "1s".as_ref(),
    ]);
    assert!(ok, "rewind replay --screenshot failed:\n{err}");
    check_replay_png(&png);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

/// A damaged file is refused with a clear message before any window opens (no Xvfb needed: the
/// error comes first).
#[test]
fn replay_viewer_refuses_a_damaged_file_without_a_window() {
    let dir = std::env::temp_dir().join(format!("rewind-replay-view-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let file = dir.join("bad.rwd");
    std::fs::write(&file, b"RWDREPLAY but not really").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .arg("replay")
        .arg(&file)
        .env_remove("DISPLAY")
        .output()
        .expect("rewind runs");
    assert!(!out.status.success(), "a damaged file must fail");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.rwd") && err.contains("not a playable recording") && !err.contains("panicked"),
        "unclear error:\n{err}"
    );
    assert!(
        !err.contains("DISPLAY"),
        "the file must be checked before the window:\n{err}"
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
