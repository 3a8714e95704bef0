//! Where joining players appear: spread over the map's spawns, never stacked on one of them.

use rewind_shared::map::Map;
use rewind_shared::player::PlayerId;
use rewind_shared::sim::{SimConfig, World};
use rewind_shared::tick::Tick;
use std::collections::BTreeMap;

/// Players standing on each spawn point, by the point's bits.
fn crowd_per_spawn(map: &Map, joining: u16) -> BTreeMap<(u32, u32), usize> {
    let mut w = World::new(SimConfig::new(60, true, 250), Tick(0));
    // All in one tick, as a big server's join burst: every spawn is soon occupied at distance 0.
    for id in 0..joining {
        w.add_player(map, PlayerId(id));
    }
    let mut per = BTreeMap::new();
    for p in &w.players {
        assert!(
            map.spawns.contains(&p.body.pos),
            "player {:?} at {:?}",
            p.id,
            p.body.pos
        );
        *per.entry((p.body.pos.x.to_bits(), p.body.pos.y.to_bits()))
            .or_default() += 1;
    }
    per
}

#[test]
fn a_crowd_joining_at_once_is_spread_over_every_spawn() {
    for name in ["arena", "warehouse"] {
        let map = Map::builtin(name).expect("a built-in map parses");
        let spawns = map.spawns.len();
        let joining = u16::try_from(3 * spawns + 1).expect("few spawns");
        let per = crowd_per_spawn(&map, joining);
        assert_eq!(per.len(), spawns, "{name}: every spawn used");
        let most = per.values().copied().max().unwrap_or(0);
        // Three rounds of joiners and one more: at most four on a spawn (the first-in-the-map
        // rule put all but the first round on one spawn).
        assert!(most <= 4, "{name}: {most} players stacked on one spawn");
    }
}

#[test]
fn fewer_players_than_spawns_each_get_their_own() {
    let map = Map::builtin("warehouse").expect("the warehouse parses");
    let per = crowd_per_spawn(&map, u16::try_from(map.spawns.len()).expect("few spawns"));
    assert!(per.values().all(|&n| n == 1), "{per:?}");
}
