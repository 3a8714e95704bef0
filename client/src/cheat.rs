//! Red-team behaviours for `rewind bots --cheat`: what a modified client would do, so the
//! server's checks are measured against real attempts, not assumed. Nothing here is reachable
//! from the game window.

use crate::interpolation::SnapshotStore;
use rewind_shared::Vec2;
use rewind_shared::fog::{FogMargins, may_see};
use rewind_shared::input::ShotView;
use rewind_shared::map::Map;
use rewind_shared::player::PlayerId;
use rewind_shared::sim::resolve_shot;
use rewind_shared::tick::Tick;
use serde::Serialize;
use std::time::Duration;

/// A cheat a bot can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cheat {
    /// For every shot, search every view its snapshots allow (every pair of received snapshots
    /// in the rewind window, at several fractions) for one in which the aim ray hits, and claim
    /// that view.
    Backtrack,
    /// Count enemy positions received while they were beyond the fog's line of sight.
    Wallhack,
    /// Press fire every tick.
    RapidFire,
    /// Send oversized move vectors, and every input twice for its tick under two sequences.
    Speed,
}

impl Cheat {
    /// Every cheat, by the name `--cheat` takes.
    pub const ALL: [(&'static str, Cheat); 4] = [
        ("backtrack", Cheat::Backtrack),
        ("wallhack", Cheat::Wallhack),
        ("rapid-fire", Cheat::RapidFire),
        ("speed", Cheat::Speed),
    ];

    /// The name `--cheat` takes.
    pub fn name(self) -> &'static str {
        Cheat::ALL
            .iter()
            .find(|(_, c)| *c == self)
            .map_or("?", |(n, _)| n)
    }
}

impl std::str::FromStr for Cheat {
    type Err = String;

    fn from_str(s: &str) -> Result<Cheat, String> {
        Cheat::ALL
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, c)| *c)
            .ok_or_else(|| format!("unknown cheat {s:?} (backtrack, wallhack, rapid-fire or speed)"))
    }
}

/// Fractions of the way between two snapshots the backtrack search tries (eighths).
const ALPHAS: [u16; 9] = [0, 8_192, 16_384, 24_576, 32_768, 40_960, 49_152, 57_344, 65_535];

/// The view, among all those `store` allows for a shot at `tick`, in which the ray from `origin`
/// along `aim` hits someone (the honest `view` first), with the hitboxes it shows. Every pair of
/// held snapshots in the rewind window is tried, not only neighbours: a view between two
/// far-apart snapshots puts a target on a chord it never stood on, which a server that trusts
/// views would accept.
#[allow(clippy::too_many_arguments)] // a search over the whole client state; one caller
pub fn backtrack(
    store: &SnapshotStore,
    map: &Map,
    me: PlayerId,
    origin: Vec2,
    aim: [i16; 2],
    tick: Tick,
    max_rewind_ticks: u32,
    honest: Option<ShotView>,
) -> Option<(ShotView, Vec<(PlayerId, Vec2)>)> {
    let hits = |v: ShotView| {
        let boxes = store.hitboxes_at(v)?;
        let (_, _, target) = resolve_shot(map, me, origin, aim, &boxes);
        target.map(|_| (v, boxes))
    };
    if let Some(found) = honest.and_then(hits) {
        return Some(found);
    }
    let oldest = tick.offset(-(max_rewind_ticks as i32) + 1);
    let ticks: Vec<Tick> = store
        .ticks()
        .filter(|t| !oldest.is_after(*t) && !t.is_after(tick))
        .collect();
    // Newest first, neighbours before chords: the least suspicious view that hits.
    let mut pairs: Vec<(Tick, Tick)> = (0..ticks.len())
        .flat_map(|b| (0..=b).map(move |a| (a, b)))
        .map(|(a, b)| (ticks[a], ticks[b]))
        .collect();
    pairs.sort_by_key(|(a, b)| (tick.diff(*b), b.diff(*a)));
    pairs.into_iter().find_map(|(tick_a, tick_b)| {
        ALPHAS.iter().find_map(|&alpha| {
            hits(ShotView {
                tick_a,
                tick_b,
                alpha: if tick_a == tick_b { 0 } else { alpha },
            })
        })
    })
}

/// What the wallhack saw: positions received, and those of players it could not have seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WallhackCount {
    /// Remote positions received (one per visible remote player per snapshot).
    pub positions: u64,
    /// Of those, positions of players beyond the line of sight even with the fog's margins.
    pub beyond_sight: u64,
    /// Positions beyond sight received around our own respawn, when the fog lifts on purpose
    /// (counted apart from `beyond_sight`).
    pub around_respawn: u64,
}

impl WallhackCount {
    /// Counts the remote players of one snapshot, seen from `me` (`respawning`: within the
    /// window around our respawn in which the server lifts the fog).
    pub fn count(
        &mut self,
        map: &Map,
        me: Vec2,
        others: impl Iterator<Item = Vec2>,
        view_age: Duration,
        interval: Duration,
        respawning: bool,
    ) {
        let margins = FogMargins::new(view_age, interval);
        for p in others {
            self.positions += 1;
            if !may_see(map, me, p, margins) {
                if respawning {
                    self.around_respawn += 1;
                } else {
                    self.beyond_sight += 1;
                }
            }
        }
    }
}
