//! The rules of the game, pinned: a seeded 10,000-tick match must end in `SIM_GOLDEN_HASH`.
//!
//! Replays, client prediction and the server all assume that the same `SIM_VERSION` means the
//! same rules. A change to a constant, a phase or their order changes the outcome of this match,
//! so it fails here until `SIM_VERSION` is bumped and the hash updated in the same change.
//!
//! Only the `World` API that every runner shares is used (`new`, `add_player`, `remove_player`,
//! `step`, `hash`, `players`, `tick`), so the test outlives refactors of how a step is composed.

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rewind_shared::input::{BUTTON_FIRE, Input, ShotView};
use rewind_shared::map::Map;
use rewind_shared::player::PlayerId;
use rewind_shared::sim::{
    OLDEST_SIM_VERSION, SIM_GOLDEN_HASH, SIM_VERSION, ShotMode, SimConfig, SimEvent, World,
};
use rewind_shared::tick::Tick;
use std::collections::BTreeMap;

/// Ticks of the match.
const TICKS: u32 = 10_000;
/// Players present from the start.
const PLAYERS: u16 = 8;
/// Every this many ticks one player leaves and later comes back.
const CHURN_EVERY: u32 = 1_500;
/// Ticks a churned player stays away (longer than a respawn, shorter than the churn period).
const AWAY_TICKS: u32 = 300;

/// What the match did, besides its final state.
#[derive(Debug, Default)]
struct Coverage {
    shots: usize,
    hits: usize,
    rewound: usize,
    too_old: usize,
    kills: usize,
    respawns: usize,
    leaves: usize,
    rejoins: usize,
}

/// Plays the seeded match and returns the final hash with what happened.
fn play(rules: u32) -> (u64, Tick, Coverage) {
    let map = Map::builtin("arena").expect("the built-in arena parses");
    let cfg = SimConfig {
        rules,
        ..SimConfig::new(60, true, 250)
    };
    let mut world = World::new(cfg, Tick(0));
    let mut rng = ChaCha8Rng::seed_from_u64(0x005E_ED11);
    let mut cov = Coverage::default();
    for id in 0..PLAYERS {
        world.add_player(&map, PlayerId(id));
    }
    for step in 1..=TICKS {
        // Ticks 1,500, 3,000, ...: the next player in turn leaves; AWAY_TICKS later it rejoins
        // under the same id (a fresh player at the best spawn point, score reset).
        let churned = PlayerId((step / CHURN_EVERY % u32::from(PLAYERS)) as u16);
        if step % CHURN_EVERY == 0 {
            world.remove_player(churned);
            cov.leaves += 1;
        }
        if step % CHURN_EVERY == AWAY_TICKS && step > CHURN_EVERY {
            world.add_player(&map, churned);
            cov.rejoins += 1;
        }
        let tick = world.tick;
        let positions: Vec<_> = world.players.iter().map(|p| p.body.pos).collect();
        let inputs: BTreeMap<PlayerId, Input> = world
            .players
            .iter()
            .map(|p| {
                // Half the time aim roughly at someone (random aim alone almost never hits, and
                // a match without kills would not pin the damage and respawn rules).
                let aim = if rng.random_bool(0.5) {
                    let to = positions[rng.random_range(0..positions.len())] - p.body.pos;
                    [
                        (to.x as i16).saturating_add(rng.random_range(-24..=24)),
                        (to.y as i16).saturating_add(rng.random_range(-24..=24)),
                    ]
                } else {
                    [rng.random(), rng.random()]
                };
                // The view a client a few ticks behind would draw: two consecutive ticks of
                // history, so most shots are rewound and some fall out of the window.
                let back = rng.random_range(1..20);
                let input = Input {
                    mv: [rng.random(), rng.random()],
                    aim,
                    buttons: if rng.random_bool(0.5) { BUTTON_FIRE } else { 0 },
                    view: Some(ShotView {
                        tick_a: tick.offset(-back),
                        tick_b: tick.offset(1 - back),
                        alpha: rng.random(),
                    }),
                };
                (p.id, input)
            })
            .collect();
        for event in world.step(&map, &inputs) {
            match event {
                SimEvent::Shot(s) => {
                    cov.shots += 1;
                    cov.hits += usize::from(s.target.is_some());
                    cov.rewound += usize::from(s.mode == ShotMode::Rewound);
                    cov.too_old += usize::from(s.mode == ShotMode::TooOld);
                }
                SimEvent::Kill { .. } => cov.kills += 1,
                SimEvent::Respawn(_) => cov.respawns += 1,
            }
        }
    }
    (world.hash(), world.tick, cov)
}

#[test]
fn seeded_match_hashes_to_the_golden_constant() {
    let (hash, tick, cov) = play(SIM_VERSION);
    assert_eq!(tick, Tick(TICKS), "the match must run every tick");
    // Coverage guard: a hash over a match where nobody died would not pin the weapon, damage and
    // respawn rules.
    assert!(
        cov.kills >= 40 && cov.respawns >= 40 && cov.hits >= 400,
        "the match must exercise hits, deaths and respawns: {cov:?}"
    );
    assert!(
        cov.rewound >= 1_000 && cov.too_old >= 100,
        "the match must exercise rewound and too-old views: {cov:?}"
    );
    assert!(
        cov.leaves >= 6 && cov.rejoins >= 5,
        "the match must exercise leaves and rejoins: {cov:?}"
    );
    assert_eq!(
        hash, SIM_GOLDEN_HASH,
        "the seeded 10,000-tick match now ends in {hash:#018x}, not SIM_GOLDEN_HASH \
         ({SIM_GOLDEN_HASH:#018x}) of SIM_VERSION {SIM_VERSION}: the game rules changed. If that is \
         intended, bump SIM_VERSION, keep the old rules behind `SimConfig::rules` (recordings made \
         under them must still verify) and set SIM_GOLDEN_HASH to the new value in the same change; if not, find what altered the \
         simulation. Coverage: {cov:?}"
    );
}

/// The match's hash under the rules of `SIM_VERSION` 3 (first spawn of the map on ties): older
/// recordings are re-simulated under them, so they must stay exactly what they were.
const SIM_V3_GOLDEN_HASH: u64 = 0x9526_58a0_6db7_2a98;

#[test]
fn the_oldest_rules_still_played_give_their_golden_hash() {
    assert_eq!(OLDEST_SIM_VERSION, 3, "a golden hash per version still played");
    let (hash, _, _) = play(3);
    assert_eq!(
        hash, SIM_V3_GOLDEN_HASH,
        "{hash:#018x}: the rules of version 3 changed"
    );
}
