//! Turns the playback state into the `GameView` the game's renderer already knows how to draw:
//! interpolated players, tracers, hit markers on the lag-compensated hitbox, the kill feed and
//! chat as they were, and the scoreboard at that moment.

use super::playback::{Playback, ShotSeen};
use crate::view::{DrawnPlayer, FeedLine, GameView, NetStats, Phase, ScoreRow, ShotReview, Tracer};
use rewind_shared::Vec2;
use rewind_shared::input::aim_dir;
use rewind_shared::map::Map;
use rewind_shared::player::PlayerId;
use rewind_shared::player::score_rank;
use std::sync::Arc;

/// The frame to draw at the playback's display time. `follow` is drawn as the highlighted player.
pub fn build(pb: &Playback<'_>, map: &Arc<Map>, follow: Option<PlayerId>) -> GameView {
    let players = pb
        .players()
        .into_iter()
        .map(|(p, pos)| DrawnPlayer {
            id: p.id,
            name: pb.name(p.id),
            pos,
            aim: aim_dir(p.weapon.aim).unwrap_or(Vec2::X),
            health: if p.life.alive() { p.life.health } else { 0 },
            alive: p.life.alive(),
            local: false,
        })
        .collect();
    let tracers = pb
        .shots()
        .map(|s| Tracer {
            from: s.shot.origin,
            to: s.shot.origin + s.shot.dir * s.shot.dist,
            local: Some(s.shot.shooter) == follow,
            age_s: pb.age_s(s.tick),
        })
        .collect();
    let shots = pb
        .shots()
        .filter(|s| s.shot.target.is_some())
        .map(|s| review(pb, s))
        .collect();
    let kill_feed = pb
        .kills()
        .map(|k| FeedLine {
            text: format!("{} killed {}", pb.name(k.killer), pb.name(k.victim)),
            age_s: pb.age_s(k.tick),
        })
        .collect();
    let chat = pb
        .chat()
        .map(|c| FeedLine {
            text: format!("{}: {}", pb.name(c.who), c.text),
            age_s: pb.age_s(c.tick),
        })
        .collect();
    GameView {
        phase: Phase::Playing,
        map: Some(Arc::clone(map)),
        local_id: follow,
        players,
        tracers,
        shots,
        kill_feed,
        chat,
        scoreboard: scoreboard(pb),
        respawn_in_s: None,
        match_over: None,
        net: NetStats::default(),
        killcam: None,
    }
}

/// A hit as the renderer's marker expects it: both verdicts are the server's (a recording holds
/// only the authoritative one), and the hitboxes are the ones the ray was traced against, so the
/// marker sits where the shooter saw the target.
fn review(pb: &Playback<'_>, s: &ShotSeen) -> ShotReview {
    ShotReview {
        client_target: s.shot.target,
        server_target: s.shot.target,
        confirmed: true,
        client_hitboxes: s.traced.clone(),
        server_hitboxes: s.traced.clone(),
        age_s: pb.age_s(s.tick),
    }
}

/// Kills and deaths of the players present, best first (kills desc, deaths asc, id).
pub fn scoreboard(pb: &Playback<'_>) -> Vec<ScoreRow> {
    let mut rows: Vec<ScoreRow> = pb
        .players()
        .into_iter()
        .map(|(p, _)| ScoreRow {
            id: p.id,
            name: pb.name(p.id),
            kills: p.score.kills,
            deaths: p.score.deaths,
            ping_ms: None,
        })
        .collect();
    rows.sort_by_key(|r| score_rank(r.id, r.kills, r.deaths));
    rows
}
