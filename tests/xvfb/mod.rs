//! Running the real `rewind` binary in a window under a virtual X server, for the window tests.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use rewind_client::game::screenshot;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a window run may take before the test kills it.
pub const RUN_LIMIT: Duration = Duration::from_secs(90);

fn on_path(bin: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
}

/// Why the window tests cannot run here, if they cannot.
pub fn skip_reason() -> Option<&'static str> {
    if !on_path("xvfb-run") {
        return Some("xvfb-run is not on PATH (install the xvfb package)");
    }
    if !on_path("Xvfb") {
        return Some("Xvfb is not on PATH (install the xvfb package)");
    }
    None
}

/// Runs `rewind ARGS` under a fresh 1280x720 Xvfb and returns (success, stderr).
pub fn run_under_xvfb<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (bool, String) {
    run_under_xvfb_env(args, &[])
}

/// `run_under_xvfb` with extra environment variables (e.g. `HOME` holding an `.asoundrc`).
pub fn run_under_xvfb_env<S: AsRef<std::ffi::OsStr>>(args: &[S], env: &[(&str, &Path)]) -> (bool, String) {
    let mut child = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x720x24", env!("CARGO_BIN_EXE_rewind")])
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, *v)))
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
            panic!("rewind did not exit within {RUN_LIMIT:?}");
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

/// A scratch `HOME` whose `.asoundrc` points ALSA's default device (and the `pipewire` device
/// quad-snd tries next) at a sound card that does not exist: "no audio device", on any machine.
pub fn home_without_audio(dir: &Path) -> std::path::PathBuf {
    let home = dir.join("home-no-audio");
    std::fs::create_dir_all(&home).expect("scratch home");
    std::fs::write(
        home.join(".asoundrc"),
        "pcm.!default { type hw card 31 }\npcm.!pipewire { type hw card 31 }\n",
    )
    .expect("write .asoundrc");
    home
}

/// Checks the game said "no audio device" exactly once and did not panic (the audio thread's
/// failure is caught, not printed).
pub fn check_silent_run(stderr: &str) {
    let lines = stderr.lines().filter(|l| l.contains("no audio device")).count();
    assert_eq!(lines, 1, "one 'no audio device' line expected:\n{stderr}");
    assert!(!stderr.contains("panicked"), "a panic was printed:\n{stderr}");
    assert!(
        !stderr.contains("Audio thread died"),
        "audio calls reached a dead mixer:\n{stderr}"
    );
}

/// Loads a screenshot and checks it is a full-size (1280x720), opaque, drawn frame (many colours).
pub fn check_png(png: &Path) -> screenshot::Pixels {
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

/// Waits until the LAN answer of the game whose responder is on `lan_port` (searched with `ask`,
/// e.g. `["--to", "127.0.0.1"]`) counts `players`, and fails with `what` after `within`: the
/// proof that a window really joined (one that could not connect would also save a screenshot
/// and exit 0).
pub fn wait_for_lan_players(ask: &[&str], lan_port: &str, players: u64, within: Duration, what: &str) {
    let deadline = Instant::now() + within;
    loop {
        let out = Command::new(env!("CARGO_BIN_EXE_rewind"))
            .args(["lan", "--json", "--timeout", "0.3s"])
            .args(ask)
            .args(["--lan-port", lan_port])
            .output()
            .expect("rewind lan runs");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        if json[0]["players"] == players {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {json}");
    }
}
