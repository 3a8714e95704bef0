//! The final scoreboard in the real window under Xvfb: a timed match ends while `rewind connect`
//! plays it, and the screenshot taken in the intermission shows the "MATCH OVER" board.

mod serve_proc;
mod xvfb;

use serve_proc::{scratch, spawn_serve};
use xvfb::{check_png, home_without_audio, run_under_xvfb_env, skip_reason};

/// Brightness of a pixel (sum of its channels).
fn lum(img: &rewind_client::game::screenshot::Pixels, x: usize, y: usize) -> u32 {
    img.pixel(x, y)
        .map_or(0, |p| u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2]))
}

#[test]
fn the_window_shows_the_final_scoreboard_between_matches() {
    if let Some(why) = skip_reason() {
        eprintln!("match_window skipped: {why}");
        return;
    }
    let dir = scratch("match-window");
    let (mut server, mut lines) = spawn_serve(
        &[
            "--addr",
            "127.0.0.1:0",
            "--ai",
            "6",
            "--score-limit",
            "1",
            "--time-limit",
            "5s",
            "--matches",
            "2",
            "--intermission",
            "60s",
            "--duration",
            "80s",
        ],
        &dir,
    );
    let mut addr = None;
    let mut hash = None;
    for line in lines.by_ref().map_while(Result::ok) {
        if let Some(a) = line.strip_prefix("listening ") {
            addr = Some(a.to_string());
        } else if let Some(h) = line.strip_prefix("cert-hash ") {
            hash = Some(h.to_string());
            break;
        }
    }
    let (addr, hash) = (addr.expect("listening"), hash.expect("cert-hash"));
    let png = dir.join("match-over.png");
    let home = home_without_audio(&dir);
    let (ok, err) = run_under_xvfb_env(
        &[
            "connect".as_ref(),
            addr.as_ref(),
            "--cert-hash".as_ref(),
            hash.as_ref(),
            "--name".as_ref(),
            "watcher".as_ref(),
            "--screenshot".as_ref(),
            png.as_os_str(),
            "--screenshot-after".as_ref(),
            "8s".as_ref(),
        ],
        &[("HOME", &home)],
    );
    let _ = server.kill();
    let _ = server.wait();
    assert!(ok, "{err}");
    let img = check_png(&png);
    if std::env::var_os("REWIND_KEEP_SCREENSHOT").is_some() {
        let _ = std::fs::copy(&png, std::env::temp_dir().join("rewind-match-over.png"));
    }
    // The board is a 560-pixel panel centred on the 1280x720 window (7 rows and a footer):
    // its 1-pixel light edge runs down x = 360 over the darkened game, brighter than the
    // panel just inside it, on most rows of its height.
    let edged = (230..490)
        .filter(|&y| {
            let edge = (358..=362).map(|x| lum(&img, x, y)).max().unwrap_or(0);
            edge > lum(&img, 366, y) + 12
        })
        .count();
    assert!(
        edged > 240,
        "no scoreboard panel edge at x = 360 ({edged} of 260 rows)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
