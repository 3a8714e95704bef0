//! A shot the server traced against the hitboxes its shooter had (not the history) is recorded
//! with those hitboxes, and a replay traces it the same way: same hit, same final hash. Without
//! them the replay would diverge, which `verify` names.

use rewind_shared::input::{BUTTON_FIRE, Input, ShotView, aim_from_dir};
use rewind_shared::map::Map;
use rewind_shared::player::PlayerId;
use rewind_shared::quant::pos2_to_q;
use rewind_shared::replay::{ReplayHeader, ReplayWriter, TickRecord, seen_targets, verify};
use rewind_shared::sim::{SimConfig, SimEvent, World};
use rewind_shared::tick::Tick;
use std::collections::BTreeMap;

fn cfg() -> SimConfig {
    SimConfig::new(60, true, 400)
}

/// Records 40 ticks of two players; at tick 30 player 0 fires at a spot where, in the targets
/// it had, player 1 stands (and where the history has nobody). Returns the file and whether the
/// live simulation hit.
fn record(with_seen: bool) -> (Vec<u8>, bool, u64) {
    let map = Map::builtin("arena").expect("built-in map");
    let header = ReplayHeader::new(&map.name, &map.source, cfg(), 1, Tick(0));
    let mut w = ReplayWriter::new(Vec::new(), header).expect("writer");
    let mut world = World::new(cfg(), Tick(0));
    let mut hit = false;
    for t in 1..=40u32 {
        let tick = Tick(t);
        let mut rec = TickRecord {
            tick,
            ..TickRecord::default()
        };
        if t == 1 {
            rec.joins = vec![(PlayerId(0), "a".into()), (PlayerId(1), "b".into())];
            for (id, _) in &rec.joins {
                world.add_player(&map, *id);
            }
        }
        let mut inputs = BTreeMap::new();
        if t == 30 {
            let me = world.players[0].body.pos;
            let aim = rewind_shared::Vec2::new(1.0, 0.0);
            let spot = me + aim * 60.0;
            inputs.insert(
                PlayerId(0),
                Input {
                    aim: aim_from_dir(aim),
                    buttons: BUTTON_FIRE,
                    view: Some(ShotView {
                        tick_a: Tick(25),
                        tick_b: Tick(26),
                        alpha: 0,
                    }),
                    ..Input::default()
                },
            );
            if with_seen {
                rec.seen = vec![(PlayerId(0), vec![(PlayerId(1), pos2_to_q(spot))])];
            }
        }
        rec.inputs = inputs.iter().map(|(k, v)| (*k, *v)).collect();
        let seen = if with_seen {
            seen_targets(&rec.seen)
        } else {
            Default::default()
        };
        let events = world.step_seen(&map, &inputs, &seen);
        hit |= events
            .iter()
            .any(|e| matches!(e, SimEvent::Shot(s) if s.target == Some(PlayerId(1))));
        rec.hash = world.hash();
        w.push_tick(rec).expect("tick");
    }
    (w.finish().expect("finish"), hit, world.hash())
}

#[test]
fn a_shot_traced_against_what_its_shooter_had_replays_the_same() {
    let (file, hit, hash) = record(true);
    assert!(hit, "the shooter's own targets put player 1 in the line of fire");
    let summary = verify(&file).expect("the recording verifies");
    assert_eq!(summary.final_hash, hash);
    assert_eq!(summary.shots, 1);
    // The history alone puts nobody there: the same shot without the record misses.
    let (_, hit, other) = record(false);
    assert!(!hit);
    assert_ne!(other, hash);
}
