//! The real game window under Xvfb: `rewind play --screenshot FILE --screenshot-after 2s` must
//! open the window, draw the game, save a non-blank, upright PNG and exit cleanly; and a client
//! that cannot reach its server must show a screen, not crash. Skipped (with the reason printed)
//! when Xvfb is not installed; `.ci/run` installs it.

use rewind_client::game::screenshot;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a window run may take before the test kills it.
const RUN_LIMIT: Duration = Duration::from_secs(90);

fn on_path(bin: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
}

/// Why the window tests cannot run here, if they cannot.
fn skip_reason() -> Option<&'static str> {
    if !on_path("xvfb-run") {
        return Some("xvfb-run is not on PATH (install the xvfb package)");
    }
    if !on_path("Xvfb") {
        return Some("Xvfb is not on PATH (install the xvfb package)");
    }
    None
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rewind-window-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Runs `rewind ARGS` under a fresh 1280x720 Xvfb and returns (success, stderr).
fn run_under_xvfb(args: &[&str]) -> (bool, String) {
    let mut child = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x720x24", env!("CARGO_BIN_EXE_rewind")])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xvfb-run starts");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("rewind {args:?} did not exit within {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    (status.success(), err)
}

/// Loads the PNG and checks it is a full-size, drawn (many colours) frame.
fn check_png(png: &Path) -> screenshot::Pixels {
    let img = screenshot::load(png).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((img.width, img.height), (1280, 720), "screenshot size");
    let colours = screenshot::distinct_colours(&img);
    assert!(
        colours >= 50,
        "the screenshot looks blank: only {colours} distinct colours"
    );
    assert!(
        img.rgba.chunks_exact(4).all(|p| p[3] == 255),
        "screenshot must be opaque"
    );
    img
}

#[test]
fn play_window_screenshot_is_drawn_and_upright() {
    if let Some(why) = skip_reason() {
        eprintln!("window_screenshot skipped: {why}");
        return;
    }
    let dir = scratch("play");
    let png = dir.join("play.png");
    let png_arg = png.to_string_lossy().into_owned();
    let (ok, err) = run_under_xvfb(&["play", "--screenshot", &png_arg, "--screenshot-after", "2s"]);
    assert!(ok, "rewind play --screenshot failed:\n{err}");
    let img = check_png(&png);
    // The HUD title ("REWIND  map  N players", light text) is in the top-left corner; a
    // vertically flipped save would put it at the bottom.
    let light = |ys: std::ops::Range<usize>| {
        ys.flat_map(|y| (12..200).map(move |x| (x, y)))
            .filter_map(|(x, y)| img.pixel(x, y))
            .filter(|p| p[0] > 110 && p[1] > 110 && p[2] > 110)
            .count()
    };
    let (top, bottom) = (light(14..38), light(682..706));
    assert!(
        top > 30 && top > bottom,
        "no HUD title in the top-left corner ({top} vs {bottom}): upside down?"
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn unreachable_server_shows_a_screen_instead_of_crashing() {
    if let Some(why) = skip_reason() {
        eprintln!("window_screenshot skipped: {why}");
        return;
    }
    let dir = scratch("unreachable");
    let png = dir.join("unreachable.png");
    let png_arg = png.to_string_lossy().into_owned();
    // Port 9 on loopback: nothing answers QUIC there.
    let (ok, err) = run_under_xvfb(&[
        "connect",
        "127.0.0.1:9",
        "--screenshot",
        &png_arg,
        "--screenshot-after",
        "2s",
    ]);
    assert!(
        ok,
        "rewind connect to an unreachable server must not crash:\n{err}"
    );
    check_png(&png);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
