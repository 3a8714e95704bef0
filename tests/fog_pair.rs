//! Fog of war without pop-in (issue 13), on the Pair harness: 6 bots and 6 AI on the warehouse
//! map, the bots at a 200 ms round trip with jitter and loss. Every tick, for every bot:
//! - every player in its true line of sight at the tick of its latest snapshot (from where the
//!   server had it then) is in that snapshot, not hidden: none may be missing;
//! - every player its *predicted* position has a clear line of sight to, where that player truly
//!   was at the tick the bot is drawing, is among the players it draws. The fog's margins allow
//!   for the bot's prediction running ahead; what they miss (a reveal in a lost snapshot, jitter
//!   beyond the allowance) is measured and held under 1 %;
//! - and the fog actually hides players, or the test proves nothing.

mod harness;

use harness::Pair;
use rewind_server::ServerConfig;
use rewind_shared::conditioner::LinkConfig;
use rewind_shared::map::Map;
use rewind_shared::player::{PlayerId, PlayerState};
use rewind_shared::tick::Tick;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const MS: fn(u64) -> Duration = Duration::from_millis;

#[test]
fn every_player_in_a_bots_line_of_sight_is_drawn_and_the_rest_is_hidden() {
    let mut pair = Pair::new(
        ServerConfig {
            ai: 6,
            map: Map::builtin("warehouse").expect("built-in map"),
            ..ServerConfig::default()
        },
        3,
    );
    let link = LinkConfig {
        latency: MS(100),
        jitter: MS(20),
        loss: 0.05,
        ..LinkConfig::perfect()
    };
    for i in 0..6 {
        pair.connect_bot(&format!("bot{i}"), link);
    }
    pair.run_for(Duration::from_secs(3));
    let mut truth: BTreeMap<u32, Vec<PlayerState>> = BTreeMap::new();
    let (mut in_sight, mut missing, mut hidden) = (0u64, Vec::new(), 0u64);
    let (mut in_snapshot_sight, mut not_in_snapshot) = (0u64, Vec::new());
    for _ in 0..3_000 {
        pair.run_ticks(1);
        let now = pair.server.current_tick();
        truth.insert(now.0, pair.server.players());
        truth.retain(|t, _| now.diff(Tick(*t)) < 120);
        for c in &pair.clients {
            let Some(s) = c.session() else { continue };
            if !s.synced() || !s.predicted().life.alive() {
                continue;
            }
            hidden += s
                .snapshots()
                .newest_set()
                .map_or(0, |set| set.values().filter(|e| e.hidden).count() as u64);
            if let (Some(n), Some(set)) = (s.snapshots().newest(), s.snapshots().newest_set())
                && let Some(at_n) = truth.get(&n.0)
                && let Some(me_then) = at_n.iter().find(|p| p.id == s.local_id())
                && me_then.life.alive()
            {
                for q in at_n.iter().filter(|q| q.id != me_then.id) {
                    if s.map().line_of_sight(me_then.body.pos, q.body.pos) {
                        in_snapshot_sight += 1;
                        if set.get(&q.id).is_none_or(|e| e.hidden) {
                            not_in_snapshot.push((n, me_then.id, q.id));
                        }
                    }
                }
            }
            let (Some(view), me) = (s.last_view(), s.predicted().body.pos) else {
                continue;
            };
            let Some(then) = truth.get(&view.tick_b.0) else {
                continue;
            };
            let drawn: BTreeSet<PlayerId> = s.drawn_remotes().iter().map(|(id, _, _)| *id).collect();
            for q in then.iter().filter(|q| q.id != s.local_id() && q.life.alive()) {
                if s.map().line_of_sight(me, q.body.pos) {
                    in_sight += 1;
                    if !drawn.contains(&q.id) {
                        missing.push((now, s.local_id(), q.id));
                    }
                }
            }
        }
    }
    println!(
        "in a snapshot's own line of sight: {in_snapshot_sight} checked, {} hidden; in the drawn view's: \
         {in_sight} checked, {} missing ({:.2} %); {hidden} hidden entity-ticks",
        not_in_snapshot.len(),
        missing.len(),
        missing.len() as f64 * 100.0 / in_sight.max(1) as f64
    );
    assert!(
        in_sight > 1_000 && in_snapshot_sight > 1_000,
        "the bots saw each other"
    );
    assert!(hidden > 1_000, "the fog hid players ({hidden})");
    assert!(
        not_in_snapshot.is_empty(),
        "hidden though in sight at the snapshot's tick (tick, viewer, target): {not_in_snapshot:?}"
    );
    assert!(
        (missing.len() as f64) < in_sight as f64 * 0.01,
        "players in sight but not drawn (tick, viewer, target): {missing:?}"
    );
}
