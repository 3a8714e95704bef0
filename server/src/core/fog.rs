//! The fog of war on the server's side: each client's snapshot tells it where the others are only
//! when it may see them (`rewind_shared::fog`), so a wallhack has nothing to show, and players
//! behind walls cost no bandwidth once hidden (their fields stop changing).

use crate::snapshots::SnapshotStream;
use rewind_shared::fog::{FogMargins, MAX_VIEW_AGE, may_see};
use rewind_shared::map::Map;
use rewind_shared::player::PlayerState;
use rewind_shared::snapshot::EntitySet;
use std::sync::Arc;
use std::time::Duration;

/// How old the remote players a client draws are, as the server can tell: its input lead, the
/// measured round trip and three snapshot intervals of interpolation delay (the most the
/// reference client uses without jitter); before any round trip is measured, the longest.
pub fn view_age(snaps: &SnapshotStream, lead_ticks: i16, tick: Duration, interval: Duration) -> Duration {
    match snaps.rtt() {
        Some((srtt, rttvar)) => {
            let lead = tick * u32::from(lead_ticks.max(0).unsigned_abs());
            (srtt + rttvar * 2 + lead + interval * 3).min(MAX_VIEW_AGE)
        }
        None => MAX_VIEW_AGE,
    }
}

/// `set` as the player `me` may know it: everyone it may not see replaced by their score only.
/// Shares `set` when nobody is hidden.
pub fn fogged(
    set: &Arc<EntitySet>,
    players: &[PlayerState],
    me: &PlayerState,
    margins: FogMargins,
    map: &Map,
) -> Arc<EntitySet> {
    let hidden: Vec<_> = players
        .iter()
        .filter(|p| p.id != me.id && !may_see(map, me.body.pos, p.body.pos, margins))
        .map(|p| p.id)
        .collect();
    if hidden.is_empty() {
        return Arc::clone(set);
    }
    let mut mine = EntitySet::clone(set);
    for id in hidden {
        if let Some(e) = mine.get_mut(&id) {
            *e = e.fogged();
        }
    }
    Arc::new(mine)
}
