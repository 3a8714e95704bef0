//! The fog of war on the server's side: each client's snapshot tells it where the others are only
//! when it may see them (`rewind_shared::fog`), so a wallhack has nothing to show, and players
//! behind walls cost no bandwidth once hidden (their fields stop changing).

use crate::snapshots::SnapshotStream;
use rewind_shared::fog::{FogMargins, MAX_VIEW_AGE, SightTable, may_see, may_see_around};
use rewind_shared::map::Map;
use rewind_shared::player::{PlayerId, PlayerState};
use rewind_shared::sim::MAX_SPEED;
use rewind_shared::snapshot::EntitySet;
use rewind_shared::tick::Tick;
use std::collections::BTreeMap;
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

/// Whether a player respawning at `respawn_at` is within a view age of it at `tick`: its client
/// will draw old snapshots from a spawn point the server did not know when it built them (the
/// point is chosen at the respawn), so around a respawn nobody is hidden from it. The cost is a
/// glimpse of everyone for about two view ages, to a player who cannot act for most of it.
pub fn near_respawn(respawn_at: Option<Tick>, tick: Tick, view_age: Duration, tick_len: Duration) -> bool {
    let window = (view_age.as_secs_f64() / tick_len.as_secs_f64().max(1e-6)).ceil() as i32 + 1;
    respawn_at.is_some_and(|r| tick.diff(r).abs() <= window)
}

/// Snapshot ticks between two recomputations of one client's hidden set. Between them the set
/// is reused, with margins widened by this many ticks of movement of both players, so nobody
/// who walks into view meanwhile is hidden; a player who teleports (joins or respawns) is
/// judged afresh every tick until the next recomputation, and a client's set is recomputed after
/// its own respawn. Clients refresh on staggered ticks, so a tick pays for about a quarter.
pub const REFRESH_TICKS: u32 = 4;

/// One client's hidden set and when it was computed.
#[derive(Clone, Debug)]
pub struct FogCache {
    at: Tick,
    hidden: Vec<PlayerId>,
}

/// Whether client `slot`'s hidden set is due at `tick`: none yet, too old, computed before its
/// own latest respawn, or its staggered turn.
pub fn refresh_due(cache: Option<&FogCache>, tick: Tick, slot: u64, respawn_at: Option<Tick>) -> bool {
    cache.is_none_or(|c| {
        tick.diff(c.at) >= REFRESH_TICKS as i32
            || respawn_at.is_some_and(|r| r.is_after(c.at) && !r.is_after(tick))
            || (u64::from(tick.0) + slot).is_multiple_of(u64::from(REFRESH_TICKS))
    })
}

/// The players `me` (at index `mine` of `players`) may not see over the next `REFRESH_TICKS`.
pub fn hidden(
    players: &[PlayerState],
    mine: usize,
    sight: &SightTable,
    margins: FogMargins,
    tick_len: Duration,
    map: &Map,
    tick: Tick,
) -> FogCache {
    let me = &players[mine];
    let drift = MAX_SPEED * (tick_len * REFRESH_TICKS).as_secs_f32();
    let wide = FogMargins {
        viewer: margins.viewer + drift,
        target: margins.target + drift,
    };
    let hidden = players
        .iter()
        .enumerate()
        .filter(|(j, p)| {
            *j != mine && !sight.clear(mine, *j) && !may_see_around(map, me.body.pos, p.body.pos, wide)
        })
        .map(|(_, p)| p.id)
        .collect();
    FogCache { at: tick, hidden }
}

/// `set` as `me` may know it: the cached hidden players, except those that teleported since
/// (judged now), replaced by their score only. Shares `set` when nobody is hidden.
pub fn fogged(
    set: &Arc<EntitySet>,
    cache: &FogCache,
    teleported: &BTreeMap<PlayerId, Tick>,
    players: &[PlayerState],
    me: &PlayerState,
    margins: FogMargins,
    map: &Map,
) -> Arc<EntitySet> {
    let moved = |id: &PlayerId| teleported.get(id).is_some_and(|t| !cache.at.is_after(*t));
    let pos = |id: &PlayerId| {
        players
            .binary_search_by_key(id, |p| p.id)
            .ok()
            .map(|i| players[i].body.pos)
    };
    // A cached hidden player in plain sight now (one ray each) is shown: the samples of the
    // widened margins can miss a line the centres have.
    let mut hidden: Vec<PlayerId> = cache
        .hidden
        .iter()
        .filter(|id| !moved(id) && pos(id).is_some_and(|p| !map.line_of_sight(me.body.pos, p)))
        .copied()
        .collect();
    hidden.extend(
        players
            .iter()
            .filter(|p| p.id != me.id && moved(&p.id) && !may_see(map, me.body.pos, p.body.pos, margins))
            .map(|p| p.id),
    );
    if hidden.is_empty() {
        return Arc::clone(set);
    }
    let mut fogged = EntitySet::clone(set);
    for id in &hidden {
        if let Some(e) = fogged.get_mut(id) {
            *e = e.fogged();
        }
    }
    Arc::new(fogged)
}
