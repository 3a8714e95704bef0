//! Kills in recordings: the replay viewer's shooter's eye under Xvfb (the killcam banner and the
//! rewound hitboxes on screen, the kill list), and clips: `rewind replay m.rwd --kill 1 --out
//! k.gif` and `--clip A..B --out c.gif` write animated GIFs that decode to the expected frame
//! count and size. Skipped (with the reason) without Xvfb.

mod xvfb;

use rewind_client::bots::{BotsConfig, run_bots};
use rewind_client::replay_view::clip::ClipSpec;
use rewind_server::{ServerConfig, start};
use rewind_shared::conditioner::LinkConfig;
use rewind_shared::killcam::{from_replay, kills_in};
use rewind_shared::replay::Replay;
use std::path::{Path, PathBuf};
use std::time::Duration;
use xvfb::{check_png, run_under_xvfb, skip_reason};

/// A real match recorded by the server library: AI players and bots over QUIC on loopback at
/// 60 ms each way (so the bots' kills are lag-compensated), long enough for kills.
fn record(dir: &Path) -> PathBuf {
    let file = dir.join("match.rwd");
    let srv = start(ServerConfig {
        ai: 3,
        record: Some(file.clone()),
        seed: 5,
        ..ServerConfig::default()
    })
    .expect("server starts");
    let mut bots = BotsConfig::new(
        srv.local_addr().to_string(),
        Some(srv.cert_hash().to_string()),
        4,
        Duration::from_secs(12),
    );
    bots.seed = 5;
    bots.link = LinkConfig {
        latency: Duration::from_millis(60),
        ..LinkConfig::perfect()
    };
    let report = run_bots(bots).expect("bots run");
    assert!(report.shots > 100, "{}", report.summary());
    srv.stop();
    let stats = srv.wait();
    assert!(stats.ticks > 500, "the match ran ({} ticks)", stats.ticks);
    file
}

/// (frames, width, height) of an animated GIF, every frame decoded.
fn gif_shape(path: &Path) -> (usize, u16, u16) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::RGBA);
    let mut d = opts.read_info(file).expect("a GIF");
    let (w, h) = (d.width(), d.height());
    let mut frames = 0;
    while let Some(f) = d.read_next_frame().expect("frame decodes") {
        assert_eq!((f.width, f.height), (w, h), "full-size frames");
        frames += 1;
    }
    (frames, w, h)
}

#[test]
fn kills_become_clips_and_the_shooters_eye_shows_them() {
    if let Some(why) = skip_reason() {
        eprintln!("killcam_replay skipped: {why}");
        return;
    }
    let dir = std::env::temp_dir().join(format!("rewind-killcam-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let file = record(&dir);
    let replay = Replay::from_bytes(&std::fs::read(&file).expect("read")).expect("the recording reads");
    let kills = kills_in(&replay);
    assert!(!kills.is_empty(), "no kill in 12 s of 3 AI and 4 bots");
    let f = file.as_os_str();

    // `--kill 1 --out k.gif`: 3 s before the kill to 1 s after at 15 fps, 640 wide.
    let gif = dir.join("k.gif");
    let (ok, err) = run_under_xvfb(&[
        "replay".as_ref(),
        f,
        "--kill".as_ref(),
        "1".as_ref(),
        "--out".as_ref(),
        gif.as_os_str(),
    ]);
    assert!(ok, "rewind replay --kill 1 --out failed:\n{err}");
    let want = ClipSpec::for_kill(&replay, kills[0], 15, 640).frames() as usize;
    assert!(want >= 15, "a kill's clip has at least a second ({want} frames)");
    assert_eq!(gif_shape(&gif), (want, 640, 360));

    // `--clip 1s..3s --fps 10 --clip-width 320`: 20 frames of 320x180.
    let gif = dir.join("c.gif");
    let (ok, err) = run_under_xvfb(&[
        "replay".as_ref(),
        f,
        "--clip".as_ref(),
        "1s..3s".as_ref(),
        "--fps".as_ref(),
        "10".as_ref(),
        "--clip-width".as_ref(),
        "320".as_ref(),
        "--out".as_ref(),
        gif.as_os_str(),
    ]);
    assert!(ok, "rewind replay --clip --out failed:\n{err}");
    assert_eq!(gif_shape(&gif), (20, 320, 180));

    // The shooter's eye of the first lag-compensated kill (a bot's), screenshot while the kill
    // is held (after the killer's part).
    let (n, cam) = kills
        .iter()
        .enumerate()
        .find_map(|(i, k)| {
            let cam = from_replay(&replay, *k)
                .expect("re-simulates")
                .expect("the killing shot");
            (!cam.traced.is_empty()).then_some((i + 1, cam))
        })
        .expect("a bot's kill, traced against its view");
    let n = n.to_string();
    let rate = replay.header().cfg.tick_rate as f32;
    let killer_s = (cam.frames.len() - 1) as f32 / rate / rewind_client::killcam::SPEED;
    let after = format!("{:.2}s", killer_s + rewind_client::killcam::HOLD_S / 2.0);
    let png = dir.join("eye.png");
    let (ok, err) = run_under_xvfb(&[
        "replay".as_ref(),
        f,
        "--kill".as_ref(),
        n.as_ref(),
        "--shooters-eye".as_ref(),
        "--screenshot".as_ref(),
        png.as_os_str(),
        "--screenshot-after".as_ref(),
        after.as_ref(),
    ]);
    assert!(ok, "rewind replay --shooters-eye failed:\n{err}");
    let img = check_png(&png);
    let count = |pick: &dyn Fn(&[u8]) -> bool| img.rgba.chunks_exact(4).filter(|p| pick(p)).count();
    let yellow = count(&|p| p[0] > 200 && (160..230).contains(&p[1]) && p[2] < 110);
    assert!(yellow > 150, "no killcam banner ({yellow} yellow pixels)");
    let blue = count(&|p| (60..100).contains(&p[0]) && (150..190).contains(&p[1]) && p[2] > 230);
    assert!(blue > 20, "no rewound hitboxes at the kill ({blue} ring pixels)");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
