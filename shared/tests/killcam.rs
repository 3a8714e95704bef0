//! The killcam message: its stated size bound holds for the worst case the bounds allow, a
//! received one is checked before use, and the killer's view rebuilt from its frames is the
//! shared rewind of the same positions.

use rewind_shared::codec::{decode, encode};
use rewind_shared::input::ShotView;
use rewind_shared::interp::interp_q;
use rewind_shared::killcam::{
    KILLCAM_MAX_BYTES, KILLCAM_MAX_PLAYERS, KILLCAM_MAX_SHOTS, KILLCAM_MAX_TICKS, Killcam, KillcamError,
    KillcamShot,
};
use rewind_shared::map::Map;
use rewind_shared::player::PlayerId;
use rewind_shared::protocol::{MAX_CONTROL_FRAME, ServerMsg};
use rewind_shared::sim::ShotMode;
use rewind_shared::tick::Tick;

/// The largest killcam the bounds allow, every number at its longest encoding.
fn worst() -> Killcam {
    let far = [i32::MIN, i32::MAX];
    let players: Vec<PlayerId> = (0..KILLCAM_MAX_PLAYERS as u16)
        .map(|i| PlayerId(u16::MAX - i))
        .collect();
    let tick = Tick(u32::MAX);
    let first_tick = tick.offset(-(KILLCAM_MAX_TICKS as i32 - 1));
    Killcam {
        killer: players[0],
        victim: players[1],
        tick,
        view: Some(ShotView {
            tick_a: Tick(u32::MAX - 3),
            tick_b: Tick(u32::MAX - 1),
            alpha: u16::MAX,
        }),
        mode: ShotMode::Refused,
        origin: far,
        end: far,
        traced: players.iter().map(|id| (*id, far)).collect(),
        first_tick,
        // Frames are coded against the previous one: jumping across the whole range every tick
        // makes every difference as long as it gets.
        frames: (0..KILLCAM_MAX_TICKS)
            .map(|t| vec![Some(if t % 2 == 0 { far } else { [i32::MAX, i32::MIN] }); KILLCAM_MAX_PLAYERS])
            .collect(),
        players: players.clone(),
        shots: (0..KILLCAM_MAX_SHOTS)
            .map(|i| KillcamShot {
                tick: tick.offset(-(i as i32)),
                from: far,
                to: far,
                hit: Some(players[1]),
            })
            .collect(),
    }
}

#[test]
fn the_worst_case_fits_the_stated_bound_and_decodes() {
    let cam = worst();
    cam.validate().expect("the worst case is within the bounds");
    let bytes = encode(&ServerMsg::Killcam(cam.clone())).expect("encodes");
    assert!(
        bytes.len() <= KILLCAM_MAX_BYTES,
        "worst-case killcam is {} bytes, the bound is {KILLCAM_MAX_BYTES}",
        bytes.len()
    );
    assert!(
        bytes.len() > KILLCAM_MAX_BYTES * 3 / 4,
        "the bound is not far from the worst case: {}",
        bytes.len()
    );
    let back: ServerMsg = decode(&bytes, MAX_CONTROL_FRAME).expect("decodes within the codec's limits");
    assert_eq!(back, ServerMsg::Killcam(cam));
}

#[test]
fn out_of_bounds_killcams_are_refused() {
    let mut long = worst();
    long.frames.push(long.frames[0].clone());
    long.first_tick = long.first_tick.offset(-1);
    assert!(matches!(
        long.validate(),
        Err(KillcamError::TooLong { what: "frames", .. })
    ));

    let mut crowd = worst();
    crowd.players.push(PlayerId(1));
    assert!(matches!(
        crowd.validate(),
        Err(KillcamError::TooLong { what: "players", .. })
    ));

    let mut ragged = worst();
    ragged.frames[7].pop();
    assert!(matches!(ragged.validate(), Err(KillcamError::Inconsistent(_))));

    let mut late = worst();
    late.tick = late.tick.offset(-1);
    assert!(matches!(late.validate(), Err(KillcamError::Inconsistent(_))));

    let mut swapped = worst();
    swapped.players.swap(0, 1);
    assert!(matches!(swapped.validate(), Err(KillcamError::Inconsistent(_))));

    let mut empty = worst();
    empty.frames.clear();
    assert!(empty.validate().is_err());
}

/// A killcam of three players walking right, one unit (16 grid steps) a tick, the killer firing
/// at tick 110 with a view of ticks 104..106 at a quarter.
fn walking() -> Killcam {
    let players = vec![PlayerId(2), PlayerId(5), PlayerId(9)];
    let frames: Vec<Vec<Option<[i32; 2]>>> = (100..=110)
        .map(|t: i32| {
            vec![
                Some([t * 16, 800]),
                (t < 110).then_some([t * 16 + 3200, 1600]),
                Some([-t * 16, 48]),
            ]
        })
        .collect();
    Killcam {
        killer: PlayerId(2),
        victim: PlayerId(5),
        tick: Tick(110),
        view: Some(ShotView {
            tick_a: Tick(104),
            tick_b: Tick(106),
            alpha: 16384,
        }),
        mode: ShotMode::Rewound,
        origin: [1760, 800],
        end: [4896, 1600],
        traced: Vec::new(),
        first_tick: Tick(100),
        players,
        frames,
        shots: Vec::new(),
    }
}

#[test]
fn the_killers_view_is_the_shared_rewind_of_the_frames() {
    let cam = walking();
    cam.validate().expect("valid");
    let view = cam.rewound_view().expect("both view ticks are in the frames");
    let want = |id: u16, a: [i32; 2], b: [i32; 2]| (PlayerId(id), interp_q(a, b, 16384));
    assert_eq!(
        view,
        vec![
            want(2, [1664, 800], [1696, 800]),
            want(5, [4864, 1600], [4896, 1600]),
            want(9, [-1664, 48], [-1696, 48]),
        ]
    );
    assert_eq!(
        view[1].1,
        [4872, 1600],
        "a quarter of the way from tick 104 to 106"
    );
    // 110 − (104 + 2 × 0.25) = 5.5 ticks behind the server.
    assert_eq!(cam.view_delay_ticks(), 5.5);
    // At the kill the killer's eye is that view exactly, the killer at its own position.
    let eye = cam.killer_eye(10.0);
    assert_eq!(eye[0], (PlayerId(2), [1760, 800]));
    assert_eq!(&eye[1..], &view[1..]);
    // The server's present has the victim where it was last alive (it is dead at the kill).
    let present = cam.server_present();
    assert_eq!(present[1], (PlayerId(5), [109 * 16 + 3200, 1600]));
}

#[test]
fn time_behind_a_wall_is_counted_back_from_the_kill() {
    // 32-unit tiles; a wall block at x 96..128, y 64..160.
    let map = Map::parse(
        "wall",
        "##########\n#S.......#\n#..#.....#\n#..#.....#\n#..#.....#\n#........#\n##########\n",
    )
    .expect("map parses");
    let unit = |x: f32, y: f32| Some([(x * 16.0) as i32, (y * 16.0) as i32]);
    let mut cam = walking();
    cam.players.truncate(2);
    // Killer at (40, 40); the victim in the open for 6 ticks, then behind the wall for 4.
    cam.frames = (0..=10)
        .map(|i| {
            let victim = if i == 10 {
                None
            } else if i >= 6 {
                unit(140.0, 100.0)
            } else {
                unit(140.0, 40.0)
            };
            vec![unit(40.0, 40.0), victim]
        })
        .collect();
    cam.validate().expect("valid");
    let at = rewind_shared::Vec2::new;
    assert!(!map.line_of_sight(at(40.0, 40.0), at(140.0, 100.0)));
    assert!(map.line_of_sight(at(40.0, 40.0), at(140.0, 40.0)));
    assert_eq!(cam.behind_wall_ticks(&map), 4);
}
