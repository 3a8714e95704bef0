//! The fog of war on the server's side: each client's snapshot tells it where the others are only
//! when it may see them (`rewind_shared::fog`), so a wallhack has nothing to show, and players
//! behind walls cost no bandwidth once hidden (their fields stop changing).

use crate::snapshots::SnapshotStream;
use rewind_shared::fog::{FogMargins, MAX_VIEW_AGE, SightTable, may_see_around_in};
use rewind_shared::map::Map;
use rewind_shared::player::PlayerState;
use rewind_shared::sight_grid::SightGrid;
use rewind_shared::snapshot::EntitySet;
use std::sync::Arc;
use std::time::Duration;

/// How old the remote players a client draws are, as the server can tell: its input lead, the
/// measured round trip with four mean deviations (the client's interpolation delay grows with
/// jitter too), and four snapshot intervals (the reference client's delay under loss is three,
/// and a reveal can land in a lost snapshot); before any round trip is measured, the longest.
pub fn view_age(snaps: &SnapshotStream, lead_ticks: i16, tick: Duration, interval: Duration) -> Duration {
    match snaps.rtt() {
        Some((srtt, rttvar)) => {
            let lead = tick * u32::from(lead_ticks.max(0).unsigned_abs());
            (srtt + rttvar * 4 + lead + interval * 4).min(MAX_VIEW_AGE)
        }
        None => MAX_VIEW_AGE,
    }
}

/// `set` as the player `me` (at index `mine` of `players`) may know it: everyone it may not see
/// replaced by their score only. Shares `set` when nobody is hidden.
pub fn fogged(
    set: &Arc<EntitySet>,
    players: &[PlayerState],
    mine: usize,
    sight: &SightTable,
    margins: FogMargins,
    map: &Map,
    grid: &mut SightGrid,
) -> Arc<EntitySet> {
    let me = &players[mine];
    let hidden: Vec<_> = players
        .iter()
        .enumerate()
        .filter(|(j, p)| {
            *j != mine
                && !sight.clear(mine, *j)
                && !may_see_around_in(grid, map, me.body.pos, p.body.pos, margins)
        })
        .map(|(_, p)| p.id)
        .collect();
    if hidden.is_empty() {
        return Arc::clone(set);
    }
    let mut fogged = EntitySet::clone(set);
    for id in hidden {
        if let Some(e) = fogged.get_mut(&id) {
            *e = e.fogged();
        }
    }
    Arc::new(fogged)
}
