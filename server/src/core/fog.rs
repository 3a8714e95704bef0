//! The fog of war on the server's side: each client's snapshot tells it where the others are only
//! when it may see them (`rewind_shared::fog`), so a wallhack has nothing to show, and players
//! behind walls cost no bandwidth once hidden (their fields stop changing).

use crate::snapshots::SnapshotStream;
use rewind_shared::Vec2;
use rewind_shared::fog::{FogMargins, MAX_VIEW_AGE, SightTable, may_see_around, reach, wide_reach};
use rewind_shared::map::Map;
use rewind_shared::player::{PlayerId, PlayerState};
use rewind_shared::sim::MAX_SPEED;
use rewind_shared::snapshot::EntitySet;
use rewind_shared::tick::Tick;
use rewind_shared::tile_sight::{SeenTiles, TileSight};
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

/// Viewer × player pairs the fog judges afresh in one tick before it spreads the work over
/// several: 64 clients × 64 players, where it judges every pair every tick, as before.
pub const PAIRS_PER_TICK: usize = 64 * 64;
/// Most ticks a client's hidden set is reused for.
pub const MAX_REFRESH_TICKS: u32 = 16;

/// Every how many ticks each client's hidden set is judged afresh with `viewers` clients and
/// `players` players: 1 up to `PAIRS_PER_TICK` pairs, then as many as keep each tick's share of
/// the work near it (16 at 248 clients × 256 players).
pub fn refresh_every(viewers: usize, players: usize) -> u32 {
    (viewers * players)
        .div_ceil(PAIRS_PER_TICK)
        .clamp(1, MAX_REFRESH_TICKS as usize) as u32
}

/// A client's hidden set, reused for a few ticks when the server is big (`refresh_every`). It is
/// judged with both margins widened by the distance a player can run in those ticks, so a
/// player hidden at the judgement is still hidden (by the same rule) wherever either of them has
/// run since; a player that moved farther than that (a respawn) is shown until the next one,
/// and a viewer that did is judged afresh at once. The price is the wider margins: a wallhack
/// sees more of what is just out of sight on a big server.
#[derive(Debug, Default)]
pub struct FogCache {
    /// The tick the hidden set must be judged afresh at.
    until: Option<Tick>,
    /// Where the viewer was at the judgement.
    viewer: Vec2,
    /// Who was hidden, and where.
    hidden: Vec<(PlayerId, Vec2)>,
}

/// What the fog needs to know of one snapshot tick.
pub struct FogScene<'a> {
    /// Every player, in id order.
    pub players: &'a [PlayerState],
    /// Centre-to-centre sight between them.
    pub sight: &'a SightTable<'a>,
    /// The map.
    pub map: &'a Map,
    /// This tick.
    pub tick: Tick,
    /// Length of a tick.
    pub tick_len: Duration,
    /// `refresh_every` for this tick.
    pub every: u32,
}

impl FogCache {
    /// The players the player at index `mine` of the scene may not see, at `margins`.
    pub fn hidden(&mut self, scene: &FogScene, mine: usize, margins: FogMargins) -> Vec<PlayerId> {
        let players = scene.players;
        let me = players[mine].body.pos;
        let every = scene.every.max(1);
        let slack = MAX_SPEED * scene.tick_len.as_secs_f32() * (every - 1) as f32;
        let due = match self.until {
            None => true,
            Some(u) => !u.is_after(scene.tick),
        };
        if every == 1 || due || self.viewer.distance(me) > slack + 1.0 {
            let wide = FogMargins {
                viewer: margins.viewer + slack,
                target: margins.target + slack,
            };
            self.hidden = players
                .iter()
                .enumerate()
                .filter(|(j, p)| {
                    *j != mine
                        && !scene.sight.clear(mine, *j)
                        && !may_see_around(scene.map, me, p.body.pos, wide)
                })
                .map(|(_, p)| (p.id, p.body.pos))
                .collect();
            // The first judgement of a client comes due at a tick of its own, so clients that
            // joined together do not all come due together.
            let next = match self.until {
                None => 1 + u32::from(players[mine].id.0) % every,
                Some(_) => every,
            };
            self.until = Some(scene.tick.offset(next as i32));
            self.viewer = me;
        }
        self.hidden
            .iter()
            .filter(|(id, at)| {
                players
                    .binary_search_by_key(id, |p| p.id)
                    .is_ok_and(|k| players[k].body.pos.distance(*at) <= slack + 1.0)
            })
            .map(|(id, _)| *id)
            .collect()
    }
}

/// The map's tile table (`rewind_shared::tile_sight`). A server seated for more than 64 clients
/// builds it at its start (`build_now`); one that gets big anyway (64 clients and AI players)
/// builds it on a thread of its own the first time it is big, since it takes seconds (about 4
/// on the warehouse map), which no tick can wait for; until it is ready the fog reuses
/// judgements (`FogCache`). A server that never gets big never pays for it.
#[derive(Debug, Default)]
pub enum TileTable {
    /// Not asked for yet.
    #[default]
    Idle,
    /// Being built.
    Building(std::sync::mpsc::Receiver<Option<TileSight>>),
    /// Built.
    Ready(Arc<TileSight>),
    /// The map is too big for a table, or the thread could not run: rays it is.
    Unavailable,
}

impl TileTable {
    /// Builds the table for `map` now, on every core, before the server takes players (a server
    /// seated for more than 64 clients does so at its start: about 4 s on one core for the
    /// warehouse map, and its players then never see the fallback).
    pub fn build_now(&mut self, map: &Map) {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let started = std::time::Instant::now();
        let table = TileSight::new(map, threads);
        log_built(map, table.is_some(), started, threads);
        *self = table.map_or(TileTable::Unavailable, |t| TileTable::Ready(Arc::new(t)));
    }

    /// Starts building the table for `map` on a thread of its own, paced to half a core, if it
    /// has not been started.
    fn start(&mut self, map: &Arc<Map>) {
        if !matches!(self, TileTable::Idle) {
            return;
        }
        // bounded: it carries one message, the table (or that there is none).
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let map = Arc::clone(map);
        let spawned = std::thread::Builder::new()
            .name("rewind-fog-table".into())
            .spawn(move || {
                let started = std::time::Instant::now();
                let table = TileSight::new_paced(&map, &Pacer::default().hook());
                log_built(&map, table.is_some(), started, 1);
                // The core may be gone by now; nothing to do then.
                let _ = tx.send(table);
            });
        *self = match spawned {
            Ok(_) => TileTable::Building(rx),
            Err(e) => {
                tracing::warn!("cannot start the fog tile table's thread: {e}");
                TileTable::Unavailable
            }
        };
    }

    /// The table for `map`, if it is ready; starts building it on the first call.
    pub fn get(&mut self, map: &Arc<Map>) -> Option<&TileSight> {
        self.start(map);
        if let TileTable::Building(rx) = self {
            match rx.try_recv() {
                Ok(Some(table)) => *self = TileTable::Ready(Arc::new(table)),
                Ok(None) | Err(std::sync::mpsc::TryRecvError::Disconnected) => *self = TileTable::Unavailable,
                Err(std::sync::mpsc::TryRecvError::Empty) => {}
            }
        }
        match self {
            TileTable::Ready(t) => Some(t),
            _ => None,
        }
    }

    /// Whether the table is in use (the core-tick bench waits for it).
    pub fn ready(&self) -> bool {
        matches!(self, TileTable::Ready(_))
    }
}

/// Logs how the table's build for `map` went (it takes seconds: an operator should see why).
fn log_built(map: &Map, built: bool, started: std::time::Instant, threads: usize) {
    tracing::info!(
        "fog tile table for map {}: {} in {:.1} s on {threads} thread(s)",
        map.name,
        if built {
            "built"
        } else {
            "too many tiles, rays instead"
        },
        started.elapsed().as_secs_f64()
    );
}

/// Half the time at most for the table's build: after each slice of `SLICE` of work it sleeps as
/// long, so that on a server pinned to one core the ticks and the network keep their share.
#[derive(Debug)]
struct Pacer {
    slice_start: std::sync::Mutex<std::time::Instant>,
}

/// Work between two pauses of the table's build.
const SLICE: Duration = Duration::from_millis(2);

impl Default for Pacer {
    fn default() -> Pacer {
        Pacer {
            slice_start: std::sync::Mutex::new(std::time::Instant::now()),
        }
    }
}

impl Pacer {
    fn hook(self) -> impl Fn() + Sync {
        move || {
            // A poisoned lock only means another row panicked; pacing is best effort.
            let Ok(mut start) = self.slice_start.lock() else {
                return;
            };
            let worked = start.elapsed();
            if worked >= SLICE {
                std::thread::sleep(worked);
                *start = std::time::Instant::now();
            }
        }
    }
}

/// The players the player at index `mine` of `players` may not see, judged by the map's tile
/// table (`rewind_shared::tile_sight`) instead of rays: on a big server every client is judged
/// this way on every other snapshot (`TILE_REUSE_SNAPSHOTS`), at its own margins. A player in a tile seen from a tile of one of
/// the viewer's samples (`fog::wide_reach`), at one of its own samples (`fog::reach`), is shown,
/// and so is one whose centre the viewer's centre sees. (The server fogs in one pass with
/// `FogCache::fogged_by_tiles`, through `TileJudge`; this list is what the tests compare.)
#[cfg(test)]
pub fn hidden_by_tiles(
    table: &TileSight,
    seen: &mut SeenTiles,
    sight: &SightTable,
    players: &[PlayerState],
    targets: &[[Option<u32>; 5]],
    mine: usize,
    margins: FogMargins,
) -> Vec<PlayerId> {
    let hidden = TileJudge::new(table, seen, sight, targets, players, mine, margins);
    players
        .iter()
        .enumerate()
        .filter(|(j, _)| hidden.hides(*j))
        .map(|(_, p)| p.id)
        .collect()
}

/// Snapshots a client's judgement by the tile table serves on a big server: the one it is made
/// for and the next. Judging every client on every snapshot was a quarter of a 256-player
/// tick; the price is margins wider by the distance a player runs in one snapshot interval
/// (7 px at 30 Hz), as `FogCache` pays for its reuse.
pub const TILE_REUSE_SNAPSHOTS: u32 = 2;

/// What the tile fog needs to know of one snapshot tick (`FogCache::fogged_by_tiles`).
pub struct TileScene<'a> {
    /// The map's tile table.
    pub table: &'a TileSight,
    /// Centre-to-centre sight between the players.
    pub sight: &'a SightTable<'a>,
    /// Every player, in id order (the places of the entity set).
    pub players: &'a [PlayerState],
    /// Each player's sample tiles at the target margin widened by `slack`.
    pub targets: &'a [[Option<u32>; 5]],
    /// This tick.
    pub tick: Tick,
    /// Ticks between a client's snapshots.
    pub interval: u32,
    /// How far a player runs while a judgement is reused (see `TILE_REUSE_SNAPSHOTS`).
    pub slack: f32,
}

impl TileScene<'_> {
    /// The distance a player runs while a judgement is reused, for snapshots `interval` apart.
    pub fn slack_for(interval: Duration) -> f32 {
        MAX_SPEED * interval.as_secs_f32() * (TILE_REUSE_SNAPSHOTS - 1) as f32
    }
}

impl FogCache {
    /// `set` (whose places are the scene's players) as the viewer at place `mine` may see it, at
    /// `margins`: judged by the tile table with both margins widened by the scene's slack, on
    /// every `TILE_REUSE_SNAPSHOTS`th snapshot of this client (and at once when it moved farther
    /// than the slack); in between, a player hidden at the judgement stays hidden unless it
    /// moved farther than the slack (a respawn), so the rule holds wherever either has run.
    pub fn fogged_by_tiles(
        &mut self,
        scene: &TileScene,
        seen: &mut SeenTiles,
        mine: usize,
        margins: FogMargins,
        set: &Arc<EntitySet>,
    ) -> Arc<EntitySet> {
        let players = scene.players;
        let me = players[mine].body.pos;
        let due = self.until.is_none_or(|u| !u.is_after(scene.tick));
        if due || self.viewer.distance(me) > scene.slack + 1.0 {
            let wide = FogMargins {
                viewer: margins.viewer + scene.slack,
                target: margins.target + scene.slack,
            };
            let judge = TileJudge::new(scene.table, seen, scene.sight, scene.targets, players, mine, wide);
            self.hidden.clear();
            self.hidden.extend(
                players
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| judge.hides(*j))
                    .map(|(_, p)| (p.id, p.body.pos)),
            );
            let interval = scene.interval.max(1);
            // A client's first judgement is made again after one or two of its snapshots, by
            // its id, so the clients of one snapshot tick do not all come due together.
            let snapshots = match self.until {
                None => 1 + (u32::from(players[mine].id.0) / interval) % TILE_REUSE_SNAPSHOTS,
                Some(_) => TILE_REUSE_SNAPSHOTS,
            };
            self.until = Some(scene.tick.offset((snapshots * interval) as i32));
            self.viewer = me;
        }
        // Both lists in id order: one walk.
        let mut hidden = self.hidden.iter().peekable();
        let reach = scene.slack + 1.0;
        let mut any = false;
        let fogged = set.map_states(|j, e| {
            let Some(p) = players.get(j) else { return *e };
            while hidden.next_if(|(id, _)| *id < p.id).is_some() {}
            match hidden.next_if(|(id, _)| *id == p.id) {
                Some((_, at)) if p.body.pos.distance(*at) <= reach => {
                    any = true;
                    e.fogged()
                }
                _ => *e,
            }
        });
        if any { Arc::new(fogged) } else { Arc::clone(set) }
    }
}

/// One viewer's judgement by the tile table (`hidden_by_tiles`), asked player by player.
pub struct TileJudge<'a> {
    table: &'a TileSight,
    seen: &'a SeenTiles,
    sight: &'a SightTable<'a>,
    targets: &'a [[Option<u32>; 5]],
    mine: usize,
}

impl<'a> TileJudge<'a> {
    /// Fills `seen` with what the viewer at index `mine` of `players` may see from, at `margins`.
    pub fn new(
        table: &'a TileSight,
        seen: &'a mut SeenTiles,
        sight: &'a SightTable<'a>,
        targets: &'a [[Option<u32>; 5]],
        players: &[PlayerState],
        mine: usize,
        margins: FogMargins,
    ) -> TileJudge<'a> {
        table.seen_from(&wide_reach(players[mine].body.pos, margins.viewer), seen);
        TileJudge {
            table,
            seen,
            sight,
            targets,
            mine,
        }
    }

    /// Whether the player at index `j` is hidden from the viewer.
    pub fn hides(&self, j: usize) -> bool {
        j != self.mine
            && self
                .targets
                .get(j)
                .is_some_and(|tiles| !self.table.any_tile_seen(self.seen, tiles))
            && !self.sight.clear(self.mine, j)
    }
}

/// `set` (whose places are those of the judged players) with the players `judge` hides replaced
/// by their score only, built in one pass; shares `set` when nobody is hidden. (The server's
/// own fogging also reuses judgements: `FogCache::fogged_by_tiles`.)
#[cfg(test)]
pub fn fogged_by(set: &Arc<EntitySet>, judge: &TileJudge) -> Arc<EntitySet> {
    let mut any = false;
    let fogged = set.map_states(|j, e| {
        if judge.hides(j) {
            any = true;
            e.fogged()
        } else {
            *e
        }
    });
    if any { Arc::new(fogged) } else { Arc::clone(set) }
}

/// Each player's sample tiles for `hidden_by_tiles` at `margins` (the target's margin is the
/// same for every viewer: its hitbox and a snapshot interval of movement).
pub fn target_tiles(
    table: &TileSight,
    players: &[PlayerState],
    margins: FogMargins,
) -> Vec<[Option<u32>; 5]> {
    players
        .iter()
        .map(|p| table.tiles_of(&reach(p.body.pos, margins.target)))
        .collect()
}

/// `set` with the players in `hidden` replaced by their score only. Shares `set` when nobody
/// is hidden.
pub fn fogged(set: &Arc<EntitySet>, hidden: &[PlayerId]) -> Arc<EntitySet> {
    if hidden.is_empty() {
        return Arc::clone(set);
    }
    let mut fogged = EntitySet::clone(set);
    if hidden.is_sorted() {
        // The usual case (both judgements list players in id order): one walk, not a search
        // per hidden player, which on a big server is a hundred per client per snapshot.
        let mut next = hidden.iter().peekable();
        for (id, e) in fogged.iter_mut() {
            while next.next_if(|h| *h < id).is_some() {}
            if next.next_if(|h| *h == id).is_some() {
                *e = e.fogged();
            }
        }
    } else {
        for id in hidden {
            if let Some(e) = fogged.get_mut(id) {
                *e = e.fogged();
            }
        }
    }
    Arc::new(fogged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rewind_shared::map::TILE;
    use rewind_shared::sim::{SimConfig, World};

    #[test]
    fn fogging_hides_exactly_the_listed_players_in_any_order() {
        let state = |id: u16| rewind_shared::snapshot::EntityState {
            id: PlayerId(id),
            pos: [i32::from(id) * 10, 5],
            alive: true,
            health: 100,
            kills: id,
            ..Default::default()
        };
        let set: Arc<EntitySet> = Arc::new(
            [1, 2, 4, 7, 9]
                .map(|id| (PlayerId(id), state(id)))
                .into_iter()
                .collect(),
        );
        let want = |hidden: &[u16]| -> EntitySet {
            set.iter()
                .map(|(id, e)| (*id, if hidden.contains(&id.0) { e.fogged() } else { *e }))
                .collect()
        };
        let ids = |v: &[u16]| v.iter().map(|&i| PlayerId(i)).collect::<Vec<_>>();
        // Sorted (the walk), unsorted (the search), and ids the set lacks.
        assert_eq!(*fogged(&set, &ids(&[2, 3, 9])), want(&[2, 9]));
        assert_eq!(*fogged(&set, &ids(&[9, 1, 3, 2])), want(&[1, 2, 9]));
        assert_eq!(*fogged(&set, &ids(&[0, 10])), want(&[]));
        assert!(Arc::ptr_eq(&fogged(&set, &[]), &set));
    }

    #[test]
    fn small_servers_judge_every_tick_and_big_ones_spread_the_work() {
        assert_eq!(refresh_every(64, 64), 1);
        assert_eq!(refresh_every(0, 0), 1);
        assert_eq!(refresh_every(100, 100), 3);
        assert_eq!(refresh_every(248, 256), 16);
        assert_eq!(refresh_every(1000, 1000), MAX_REFRESH_TICKS);
    }

    /// Two rooms split by a wall with a door at the bottom: players 0 and 1 on either side of
    /// the wall, far from the door.
    fn scene() -> (Map, Vec<PlayerState>) {
        let map = Map::parse(
            "rooms",
            "\
##########################
#S.........#............S#
#..........#.............#
#..........#.............#
#..........#.............#
#........................#
##########################
",
        )
        .expect("test map parses");
        let mut world = World::new(SimConfig::new(60, true, 400), Tick(0));
        world.add_player(&map, PlayerId(0));
        world.add_player(&map, PlayerId(1));
        let mut players = world.players.clone();
        players[0].body.pos = Vec2::new(2.5 * TILE, 1.5 * TILE);
        players[1].body.pos = Vec2::new(20.5 * TILE, 1.5 * TILE);
        (map, players)
    }

    fn hidden(
        cache: &mut FogCache,
        map: &Map,
        players: &[PlayerState],
        tick: u32,
        every: u32,
    ) -> Vec<PlayerId> {
        let positions: Vec<_> = players.iter().map(|p| p.body.pos).collect();
        let sight = SightTable::new(map, &positions);
        let scene = FogScene {
            players,
            sight: &sight,
            map,
            tick: Tick(tick),
            tick_len: Duration::from_micros(16_667),
            every,
        };
        let margins = FogMargins::new(Duration::from_millis(100), Duration::from_micros(16_667));
        cache.hidden(&scene, 0, margins)
    }

    #[test]
    fn a_reused_hidden_set_shows_whoever_jumped_and_rejudges_a_viewer_that_did() {
        let (map, mut players) = scene();
        let mut cache = FogCache::default();
        assert_eq!(hidden(&mut cache, &map, &players, 100, 8), vec![PlayerId(1)]);
        // Judged again (the first judgement comes due early, to stagger clients), then reused.
        assert_eq!(hidden(&mut cache, &map, &players, 101, 8), vec![PlayerId(1)]);
        // Into the viewer's room (a respawn, say): shown at once, without a new judgement.
        players[1].body.pos = Vec2::new(5.5 * TILE, 2.5 * TILE);
        assert!(hidden(&mut cache, &map, &players, 102, 8).is_empty());
        // Back where it was judged hidden: hidden again.
        players[1].body.pos = Vec2::new(20.5 * TILE, 1.5 * TILE);
        assert_eq!(hidden(&mut cache, &map, &players, 103, 8), vec![PlayerId(1)]);
        // The viewer jumps into the other room: judged afresh at once, and it sees.
        players[0].body.pos = Vec2::new(14.5 * TILE, 1.5 * TILE);
        assert!(hidden(&mut cache, &map, &players, 104, 8).is_empty());
    }

    #[test]
    fn the_tile_table_hides_behind_walls_and_shows_in_the_open() {
        let (map, mut players) = scene();
        let table = TileSight::new(&map, 1).expect("small map");
        let mut seen = SeenTiles::default();
        let margins = FogMargins::new(Duration::from_millis(100), Duration::from_micros(33_333));
        let judge = |players: &[PlayerState], seen: &mut SeenTiles| {
            let positions: Vec<_> = players.iter().map(|p| p.body.pos).collect();
            let sight = SightTable::new(&map, &positions);
            let targets = target_tiles(&table, players, margins);
            hidden_by_tiles(&table, seen, &sight, players, &targets, 0, margins)
        };
        assert_eq!(judge(&players, &mut seen), vec![PlayerId(1)], "behind the wall");
        // The one-pass fogging hides exactly those.
        let set = Arc::new(crate::core::entity_set(&players));
        let positions: Vec<_> = players.iter().map(|p| p.body.pos).collect();
        let sight = SightTable::new(&map, &positions);
        let targets = target_tiles(&table, &players, margins);
        let one_pass = fogged_by(
            &set,
            &TileJudge::new(&table, &mut seen, &sight, &targets, &players, 0, margins),
        );
        assert_eq!(one_pass, fogged(&set, &[PlayerId(1)]));
        // The same answer as the ray rule there.
        assert!(!rewind_shared::fog::may_see(
            &map,
            players[0].body.pos,
            players[1].body.pos,
            margins
        ));
        players[1].body.pos = Vec2::new(5.5 * TILE, 2.5 * TILE);
        assert!(judge(&players, &mut seen).is_empty(), "same room");
        // Near the door, within the margins of seeing around the end of the wall.
        players[0].body.pos = Vec2::new(10.5 * TILE, 4.5 * TILE);
        players[1].body.pos = Vec2::new(12.5 * TILE, 2.5 * TILE);
        assert!(rewind_shared::fog::may_see(
            &map,
            players[0].body.pos,
            players[1].body.pos,
            margins
        ));
        assert!(
            judge(&players, &mut seen).is_empty(),
            "shown where the rays show it"
        );
    }

    #[test]
    fn a_tile_judgement_serves_two_snapshots_and_shows_whoever_jumped() {
        let (map, mut players) = scene();
        let table = TileSight::new(&map, 1).expect("small map");
        let interval = Duration::from_micros(33_333);
        let slack = TileScene::slack_for(interval);
        let margins = FogMargins::new(Duration::from_millis(100), interval);
        let target = FogMargins::new(Duration::ZERO, interval).target + slack;
        let mut seen = SeenTiles::default();
        let mut fog = |cache: &mut FogCache, players: &[PlayerState], tick: u32| -> Vec<PlayerId> {
            let positions: Vec<_> = players.iter().map(|p| p.body.pos).collect();
            let sight = SightTable::new(&map, &positions);
            let targets = target_tiles(&table, players, FogMargins { viewer: 0.0, target });
            let scene = TileScene {
                table: &table,
                sight: &sight,
                players,
                targets: &targets,
                tick: Tick(tick),
                interval: 2,
                slack,
            };
            let set = Arc::new(crate::core::entity_set(players));
            let out = cache.fogged_by_tiles(&scene, &mut seen, 0, margins, &set);
            out.iter().filter(|(_, e)| e.hidden).map(|(id, _)| *id).collect()
        };
        let mut cache = FogCache::default();
        assert_eq!(
            fog(&mut cache, &players, 100),
            vec![PlayerId(1)],
            "behind the wall"
        );
        assert_eq!(
            cache.until,
            Some(Tick(102)),
            "player 0's first judgement is due after one snapshot"
        );
        // Running within the slack between judgements: still hidden, and nothing judged anew.
        players[1].body.pos.y += slack * 0.5;
        assert_eq!(fog(&mut cache, &players, 101), vec![PlayerId(1)]);
        assert_eq!(cache.until, Some(Tick(102)));
        // A jump (a respawn) into the viewer's room: shown at once, without a new judgement.
        players[1].body.pos = Vec2::new(5.5 * TILE, 2.5 * TILE);
        assert!(
            fog(&mut cache, &players, 101).is_empty(),
            "whoever jumped is shown"
        );
        assert_eq!(cache.until, Some(Tick(102)));
        // The next judgement is due: the same room, and then two snapshots until the next.
        assert!(fog(&mut cache, &players, 102).is_empty());
        assert_eq!(cache.until, Some(Tick(106)));
        // The viewer jumps behind the wall: judged afresh at once.
        players[0].body.pos = Vec2::new(20.5 * TILE, 4.5 * TILE);
        players[1].body.pos = Vec2::new(2.5 * TILE, 1.5 * TILE);
        assert_eq!(
            fog(&mut cache, &players, 103),
            vec![PlayerId(1)],
            "judged where it is now"
        );
        assert_eq!(cache.until, Some(Tick(107)));
    }

    #[test]
    fn a_table_asked_for_is_built_on_its_own_thread_and_then_served() {
        let (map, _) = scene();
        let map = Arc::new(map);
        let mut table = TileTable::default();
        let started = std::time::Instant::now();
        while table.get(&map).is_none() {
            assert!(matches!(table, TileTable::Building(_)), "building, not given up");
            assert!(started.elapsed() < Duration::from_secs(60), "built in time");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(table.ready());
        let mut now = TileTable::default();
        now.build_now(&map);
        assert!(now.ready(), "built at once when asked to");
    }

    #[test]
    fn judged_every_tick_the_set_follows_the_players_at_once() {
        let (map, mut players) = scene();
        let mut cache = FogCache::default();
        assert_eq!(hidden(&mut cache, &map, &players, 1, 1), vec![PlayerId(1)]);
        players[1].body.pos = Vec2::new(5.5 * TILE, 2.5 * TILE);
        assert!(hidden(&mut cache, &map, &players, 2, 1).is_empty());
        players[1].body.pos = Vec2::new(20.5 * TILE, 1.5 * TILE);
        assert_eq!(hidden(&mut cache, &map, &players, 3, 1), vec![PlayerId(1)]);
    }
}
