//! The killcam in the real game window under Xvfb: `rewind play` against AI players that kill
//! the idle player, `--screenshot-killcam` saves the window when the killcam shows the server's
//! view of the kill. The screenshot must show the killcam (its banner, the rewound hitboxes),
//! and the killcam the client received must be the server's own verdict: the recording of the
//! same match, re-simulated, has that kill at that tick, from the same origin to the same end,
//! traced against the same hitboxes. Skipped (with the reason) without Xvfb.

mod xvfb;

use rewind_shared::replay::Replay;
use rewind_shared::sim::SimEvent;
use rewind_shared::tick::Tick;
use std::path::{Path, PathBuf};
use xvfb::{check_png, home_without_audio, run_under_xvfb_env, skip_reason};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rewind-killcam-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Drops ANSI colour sequences from a log line.
fn plain(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The value of `key=` in a log line (up to the next space, or the bracketed list).
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(&format!(" {key}="))? + key.len() + 2;
    let rest = &line[at..];
    let end = if rest.starts_with('[') {
        let mut depth = 0;
        rest.char_indices()
            .find(|(_, c)| {
                match c {
                    '[' | '(' => depth += 1,
                    ']' | ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map_or(rest.len(), |(i, _)| i + 1)
    } else {
        rest.find(' ').unwrap_or(rest.len())
    };
    Some(&rest[..end])
}

#[test]
fn dying_shows_the_killcam_and_it_is_the_servers_verdict() {
    if let Some(why) = skip_reason() {
        eprintln!("killcam_window skipped: {why}");
        return;
    }
    let dir = scratch("play");
    let png = dir.join("killcam.png");
    let rec = dir.join("match.rwd");
    let home = home_without_audio(&dir);
    let (ok, err) = run_under_xvfb_env(
        &[
            "play",
            "--ai",
            "8",
            "--seed",
            "3",
            "--record",
            &rec.to_string_lossy(),
            "--screenshot",
            &png.to_string_lossy(),
            "--screenshot-killcam",
            "--screenshot-after",
            "75s",
        ],
        &[("HOME", &home), ("NO_COLOR", Path::new("1"))],
    );
    assert!(ok, "rewind play --screenshot-killcam failed:\n{err}");
    let img = check_png(&png);

    // The banner: its first line is drawn in the caption yellow (255, 200, 60) at the top centre.
    let yellow = (104..150)
        .flat_map(|y| (300..980).map(move |x| (x, y)))
        .filter_map(|(x, y)| img.pixel(x, y))
        .filter(|p| p[0] > 200 && p[1] > 160 && p[1] < 230 && p[2] < 110)
        .count();
    assert!(
        yellow > 80,
        "no killcam banner in the screenshot ({yellow} caption pixels)"
    );
    // What the client received, from its log line.
    let line = err
        .lines()
        .map(plain)
        .find(|l| l.contains("killcam") && l.contains(" killer="))
        .unwrap_or_else(|| panic!("no killcam log line:\n{err}"));
    let num = |k: &str| -> u32 {
        field(&line, k)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{k} in {line}"))
    };
    let (killer, victim, tick) = (num("killer"), num("victim"), Tick(num("tick")));

    // The server's verdict, from its recording of the same match.
    let bytes = std::fs::read(&rec).expect("the recording exists");
    let replay = Replay::from_bytes(&bytes).expect("the recording reads");
    let events = replay
        .events_between(tick.offset(-1), tick)
        .expect("the kill's tick is in the recording");
    assert!(
        events.iter().any(|(t, e)| *t == tick
            && *e
                == SimEvent::Kill {
                    killer: rewind_shared::player::PlayerId(killer as u16),
                    victim: rewind_shared::player::PlayerId(victim as u16),
                }),
        "the recording has no kill of {victim} by {killer} at {tick:?}: {events:?}"
    );
    let shot = events
        .iter()
        .find_map(|(_, e)| match e {
            SimEvent::Shot(s)
                if s.shooter.0 == killer as u16 && s.target.map(|t| t.0) == Some(victim as u16) =>
            {
                Some(s)
            }
            _ => None,
        })
        .expect("the killing shot is in the recording");
    let q = rewind_shared::quant::pos2_to_q;
    assert_eq!(
        field(&line, "origin"),
        Some(format!("{:?}", q(shot.origin)).as_str())
    );
    assert_eq!(
        field(&line, "end"),
        Some(format!("{:?}", q(shot.origin + shot.dir * shot.dist)).as_str())
    );
    assert_eq!(
        field(&line, "traced"),
        Some(format!("{:?}", shot.traced).as_str())
    );
    // A lag-compensated kill shows the hitboxes it was traced against as blue rings (80, 170,
    // 255); an AI's shot has no view (it was traced at the present) and so no rings.
    let blue = img
        .rgba
        .chunks_exact(4)
        .filter(|p| (60..100).contains(&p[0]) && (150..190).contains(&p[1]) && p[2] > 230)
        .count();
    if shot.traced.is_empty() {
        assert!(
            line.contains("view_delay_ms=0"),
            "a present-time shot has no view delay: {line}"
        );
    } else {
        assert!(blue > 20, "no rewound hitboxes drawn ({blue} ring pixels)");
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
