//! The menu (issue 17) driven like a player would: a real window under Xvfb, real key presses and
//! mouse clicks through xdotool (XTEST), a real `serve --lan` on loopback to find and join. Clicks
//! land where the menu's own layout function says the rows are. LAN queries go to 127.0.0.1 only.
//! Screenshots are taken with the game's F12 key and checked; the ones in docs/ come from here.

mod xvfb;

use rewind_client::game::menu::draw::{ROW_H, layout};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use xvfb::{check_png, home_without_audio};

const W: f32 = 1280.0;
const H: f32 = 720.0;

fn on_path(bin: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
}

fn skip() -> bool {
    if let Some(why) = xvfb::skip_reason() {
        eprintln!("menu_window skipped: {why}");
        return true;
    }
    if !on_path("xdotool") {
        eprintln!("menu_window skipped: xdotool is not on PATH (apt-get install xdotool)");
        return true;
    }
    false
}

/// A virtual X server of our own (xdotool needs to know the display, which `xvfb-run -a` hides).
struct Display {
    child: Child,
    name: String,
}

impl Display {
    fn start() -> Display {
        let base = 200 + std::process::id() % 500;
        for n in base..base + 50 {
            if Path::new(&format!("/tmp/.X{n}-lock")).exists()
                || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            {
                continue;
            }
            let child = Command::new("Xvfb")
                .args([
                    &format!(":{n}"),
                    "-screen",
                    "0",
                    "1280x720x24",
                    "-nolisten",
                    "tcp",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb starts");
            let mut d = Display {
                child,
                name: format!(":{n}"),
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                // Ready when a client can talk to it, not when the socket file appears.
                if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && Command::new("xdotool")
                        .arg("getdisplaygeometry")
                        .env("DISPLAY", &d.name)
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()
                        .is_ok_and(|s| s.success())
                {
                    return d;
                }
                if d.child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = d.child.kill();
        }
        panic!("no free X display for Xvfb");
    }

    fn xdo(&self, args: &[&str]) -> String {
        let out = Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.name)
            .output()
            .expect("xdotool runs");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Starts the game with `spawn` and returns it with its window's id (a window other than
    /// `other`), once mapped. A fresh Xvfb now and then refuses the very first client's
    /// XOpenDisplay on this shared machine; that start (and only that failure) is tried again.
    fn launch(&self, mut spawn: impl FnMut() -> Child, log: &Path, other: Option<&str>) -> (Child, String) {
        for _attempt in 0..3 {
            let mut game = spawn();
            let deadline = Instant::now() + Duration::from_secs(40);
            loop {
                if let Ok(Some(status)) = game.try_wait() {
                    let err = std::fs::read_to_string(log).unwrap_or_default();
                    assert!(
                        err.contains("could not open the window"),
                        "rewind exited ({status}) before its window appeared on {}:\n{err}",
                        self.name
                    );
                    eprintln!("the window could not open on {} yet; starting again", self.name);
                    std::thread::sleep(Duration::from_millis(1000));
                    break;
                }
                let ids = self.xdo(&["search", "--onlyvisible", "--name", "^Rewind$"]);
                if let Some(id) = ids.lines().find(|id| Some(*id) != other) {
                    let id = id.to_string();
                    self.xdo(&["mousemove", "--window", &id, "640", "700"]);
                    self.xdo(&["windowfocus", &id]);
                    return (game, id);
                }
                assert!(Instant::now() < deadline, "the window never appeared");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        panic!("the window could not open on {} three times", self.name);
    }

    /// Clicks row `row` of a menu screen of `rows` rows, where the menu's layout puts it.
    fn click_row(&self, win: &str, rows: usize, row: usize) {
        let top = layout(W, H, rows, 0).row_top(row).expect("row shown");
        let (x, y) = ((top.x + 60.0) as i32, (top.y + ROW_H / 2.0) as i32);
        self.xdo(&["mousemove", "--window", win, &x.to_string(), &y.to_string()]);
        std::thread::sleep(Duration::from_millis(150));
        self.xdo(&["click", "1"]);
        std::thread::sleep(Duration::from_millis(300));
    }

    fn key(&self, key: &str) {
        self.xdo(&["key", key]);
        std::thread::sleep(Duration::from_millis(300));
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Presses F12 and waits for the game to save screenshot number `n` in `dir`; checks it.
fn f12(d: &Display, dir: &Path, n: u32, keep_as: &Path) -> PathBuf {
    d.key("F12");
    let path = dir.join(format!("rewind-{n:03}.png"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while rewind_client::game::screenshot::load(&path).is_err() {
        assert!(
            Instant::now() < deadline,
            "screenshot {} not saved",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    check_png(&path);
    std::fs::copy(&path, keep_as).expect("keep the screenshot");
    path
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s;
        }
        if start.elapsed() > within {
            let _ = child.kill();
            let _ = child.wait();
            panic!("rewind did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Players the server counts, from its LAN answer.
fn players(lan_port: u16) -> Option<u64> {
    let out = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["lan", "--json", "--timeout", "0.3s", "--broadcast", "127.0.0.1"])
        .args(["--lan-port", &lan_port.to_string()])
        .output()
        .expect("rewind lan runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    json[0]["players"].as_u64()
}

/// The game's stderr, kept in the scratch dir for a failure's message.
fn log(dir: &Path) -> Stdio {
    Stdio::from(std::fs::File::create(dir.join("rewind.log")).expect("log file"))
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rewind-menu-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Where the screenshots are kept for a look (and for docs/): the test's scratch dir.
fn keep(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

#[test]
fn join_lists_a_lan_game_joins_it_in_two_clicks_and_esc_pauses() {
    if skip() {
        return;
    }
    let dir = scratch("join");
    let mut server = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--lan",
            "--name",
            "Friday",
            "--ai",
            "2",
        ])
        .args(["--lan-port", "0", "--duration", "90s", "--data-dir"])
        .arg(dir.join("server-data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let stdout = server.stdout.take().expect("stdout");
    let mut lan = None;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(l) = line.strip_prefix("lan ") {
            lan = Some(l.parse::<SocketAddr>().expect("lan ADDR"));
            break;
        }
    }
    let lan_port = lan.expect("lan line").port();

    let d = Display::start();
    let home = home_without_audio(&dir);
    let shots = dir.join("shots");
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_rewind"))
            .args([
                "menu",
                "--broadcast",
                "127.0.0.1",
                "--lan-port",
                &lan_port.to_string(),
            ])
            .arg("--screenshot-dir")
            .arg(&shots)
            .env("DISPLAY", &d.name)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("USER", "tester")
            .stdout(Stdio::null())
            .stderr(log(&dir))
            .spawn()
            .expect("rewind menu starts")
    };
    let (mut game, win) = d.launch(spawn, &dir.join("rewind.log"), None);
    std::thread::sleep(Duration::from_millis(1500));
    f12(&d, &shots, 1, &keep(&dir, "menu.png"));

    // Click 1: Join (row 4 of the main menu's 8).
    d.click_row(&win, 8, 4);
    std::thread::sleep(Duration::from_millis(2500));
    f12(&d, &shots, 2, &keep(&dir, "menu-join.png"));
    assert_eq!(players(lan_port), Some(0), "not joined yet");
    // Click 2: the game found (row 0 of: Friday, Address, Join address, Back).
    d.click_row(&win, 4, 0);
    let deadline = Instant::now() + Duration::from_secs(6);
    while players(lan_port) != Some(1) {
        assert!(Instant::now() < deadline, "the window never joined Friday");
    }
    std::thread::sleep(Duration::from_millis(2000));
    d.key("Escape");
    f12(&d, &shots, 3, &keep(&dir, "menu-pause.png"));
    // Leave (row 2 of Resume, Settings, Leave match): the server sees us go.
    d.click_row(&win, 3, 2);
    let deadline = Instant::now() + Duration::from_secs(6);
    while players(lan_port) != Some(0) {
        assert!(Instant::now() < deadline, "leaving did not leave the server");
    }
    // Back on the main menu: Quit (row 7).
    d.click_row(&win, 8, 7);
    assert!(wait_exit(&mut game, Duration::from_secs(15)).success());
    let _ = server.kill();
    let _ = server.wait();
    eprintln!("screenshots in {}", dir.display());
}

#[test]
fn enter_plays_at_once_the_match_is_recorded_and_replays_lists_and_opens_it() {
    if skip() {
        return;
    }
    let dir = scratch("play");
    let config = dir.join("config");
    std::fs::create_dir_all(config.join("rewind")).expect("config dir");
    // One AI, to keep the run light; everything else default (recording on).
    std::fs::write(config.join("rewind/settings.json"), r#"{"name": "Ada", "ai": 1}"#).expect("settings");
    let data = dir.join("data");
    let shots = data.join("rewind/screenshots");
    let recordings = data.join("rewind/recordings");
    let d = Display::start();
    let home = home_without_audio(&dir);
    // `rewind` with no arguments at all: the menu.
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_rewind"))
            .env("DISPLAY", &d.name)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", &config)
            .env("XDG_DATA_HOME", &data)
            .stdout(Stdio::null())
            .stderr(log(&dir))
            .spawn()
            .expect("rewind starts")
    };
    let (mut game, win) = d.launch(spawn, &dir.join("rewind.log"), None);
    std::thread::sleep(Duration::from_millis(1000));
    d.key("Return");
    std::thread::sleep(Duration::from_millis(4000));
    f12(&d, &shots, 1, &keep(&dir, "menu-match.png"));
    d.key("Escape");
    d.click_row(&win, 3, 2);
    // Replays (row 5): the match just left is there.
    d.click_row(&win, 8, 5);
    std::thread::sleep(Duration::from_millis(2000));
    f12(&d, &shots, 2, &keep(&dir, "menu-replays.png"));
    let files: Vec<_> = std::fs::read_dir(&recordings)
        .expect("recordings dir")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(files.len(), 1, "one recording");
    let info = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["replay", "info"])
        .arg(files[0].path())
        .output()
        .expect("replay info");
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(info.status.success(), "{text}");
    assert!(text.contains("Ada"), "{text}");
    // Enter opens it in the viewer; Esc comes back to the menu.
    d.key("Return");
    std::thread::sleep(Duration::from_millis(2500));
    f12(&d, &shots, 3, &keep(&dir, "menu-replay-viewer.png"));
    d.key("Escape");
    d.key("Escape");
    // Main menu: Quit.
    d.click_row(&win, 8, 7);
    assert!(wait_exit(&mut game, Duration::from_secs(15)).success());
    eprintln!("screenshots in {}", dir.display());
}

#[test]
fn a_corrupt_settings_file_is_reported_and_replaced() {
    if xvfb::skip_reason().is_some() {
        return;
    }
    let dir = scratch("corrupt");
    let settings = dir.join("settings.json");
    std::fs::write(&settings, b"{\"name\": \"Ada\", \"ai\": ").expect("write");
    let home = home_without_audio(&dir);
    let png = dir.join("menu.png");
    let (ok, err) = xvfb::run_under_xvfb_env(
        &[
            "menu".as_ref(),
            "--settings".as_ref(),
            settings.as_os_str(),
            "--screenshot".as_ref(),
            png.as_os_str(),
            "--screenshot-after".as_ref(),
            "1.5s".as_ref(),
        ],
        &[("HOME", &home)],
    );
    assert!(ok, "{err}");
    assert!(err.contains("settings reset to the defaults"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let back: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&settings).expect("read")).expect("valid JSON now");
    assert_eq!(back["record_matches"], true);
    check_png(&png);
}

/// Issue 17's "done when": a second `rewind` opened while one hosts shows that game in Join and
/// joins it in two clicks. Both windows are on one virtual display, driven by clicks only.
#[test]
fn a_second_rewind_finds_the_hosted_game_and_joins_it_in_two_clicks() {
    if skip() {
        return;
    }
    let dir = scratch("host");
    let d = Display::start();
    let home = home_without_audio(&dir);
    let spawn = |name: &str, args: &[&str], stdout: Stdio| {
        let sub = dir.join(name);
        std::fs::create_dir_all(&sub).expect("dir");
        Command::new(env!("CARGO_BIN_EXE_rewind"))
            .arg("menu")
            .args(args)
            .env("DISPLAY", &d.name)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", sub.join("config"))
            .env("XDG_DATA_HOME", sub.join("data"))
            .env("USER", name)
            .stdout(stdout)
            .stderr(log(&sub))
            .spawn()
            .expect("rewind menu starts")
    };
    let (mut host, win_a) = d.launch(
        || spawn("hosty", &["--port", "0", "--lan-port", "0"], Stdio::piped()),
        &dir.join("hosty/rewind.log"),
        None,
    );
    std::thread::sleep(Duration::from_millis(1000));
    // Host a LAN game (row 3), then Start hosting (row 0 of 5).
    d.click_row(&win_a, 8, 3);
    d.click_row(&win_a, 5, 0);
    let stdout = host.stdout.take().expect("stdout");
    let mut lan = None;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(l) = line.strip_prefix("lan ") {
            lan = Some(l.parse::<SocketAddr>().expect("lan ADDR"));
            break;
        }
    }
    let lan_port = lan.expect("the host prints its lan line").port();
    let deadline = Instant::now() + Duration::from_secs(6);
    while players(lan_port) != Some(1) {
        assert!(Instant::now() < deadline, "the host never joined its own game");
    }

    let (mut guest, win_b) = d.launch(
        || {
            spawn(
                "guest",
                &["--broadcast", "127.0.0.1", "--lan-port", &lan_port.to_string()],
                Stdio::null(),
            )
        },
        &dir.join("guest/rewind.log"),
        Some(&win_a),
    );
    std::thread::sleep(Duration::from_millis(1000));
    // Click 1: Join. Click 2: the hosted game, "hosty's game".
    d.click_row(&win_b, 8, 4);
    std::thread::sleep(Duration::from_millis(2000));
    d.click_row(&win_b, 4, 0);
    let deadline = Instant::now() + Duration::from_secs(8);
    while players(lan_port) != Some(2) {
        assert!(
            Instant::now() < deadline,
            "the guest never joined the hosted game"
        );
    }
    let _ = guest.kill();
    let _ = guest.wait();
    let _ = host.kill();
    let _ = host.wait();
}
