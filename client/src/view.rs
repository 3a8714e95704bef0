//! The contract between the client core and whatever shows it (the macroquad window, tests):
//! the core publishes a `GameView` of plain data every frame and takes `ControlInput` from the
//! player. The window never touches the network or the simulation directly.

use rewind_shared::Vec2;
use rewind_shared::player::PlayerId;
use rewind_shared::tick::Tick;

/// One player as it should be drawn now.
#[derive(Clone, Debug, PartialEq)]
pub struct DrawnPlayer {
    /// Whose.
    pub id: PlayerId,
    /// Display name.
    pub name: String,
    /// Where to draw it (interpolated for remote players, predicted and smoothed for the local one).
    pub pos: Vec2,
    /// Unit aim direction.
    pub aim: Vec2,
    /// Health, 0..=100.
    pub health: u8,
    /// Alive or waiting to respawn.
    pub alive: bool,
    /// This client's own player.
    pub local: bool,
}

/// A tracer to draw for a short while.
#[derive(Clone, Debug, PartialEq)]
pub struct Tracer {
    /// Ray start.
    pub from: Vec2,
    /// Ray end (target, wall or range).
    pub to: Vec2,
    /// Fired by this client.
    pub local: bool,
    /// Seconds since it was fired.
    pub age_s: f32,
}

/// What the client and the server decided about one of our shots (debug view, hit markers).
#[derive(Clone, Debug, PartialEq)]
pub struct ShotReview {
    /// Who we saw hit when firing (our own verdict), if anyone.
    pub client_target: Option<PlayerId>,
    /// Who the server says was hit; `None` until the verdict arrives or when it was a miss.
    pub server_target: Option<PlayerId>,
    /// Whether the server's verdict has arrived.
    pub confirmed: bool,
    /// The hitboxes we traced against when firing.
    pub client_hitboxes: Vec<(PlayerId, Vec2)>,
    /// The hitboxes the server rewound to (empty until the verdict arrives).
    pub server_hitboxes: Vec<(PlayerId, Vec2)>,
    /// Seconds since firing.
    pub age_s: f32,
}

/// A line of the kill feed or chat.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedLine {
    /// Text to show.
    pub text: String,
    /// Seconds since it happened.
    pub age_s: f32,
}

/// One row of the scoreboard.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreRow {
    /// Whose.
    pub id: PlayerId,
    /// Name.
    pub name: String,
    /// Kills.
    pub kills: u16,
    /// Deaths.
    pub deaths: u16,
    /// Round-trip time if known (only our own).
    pub ping_ms: Option<f32>,
}

/// The final scoreboard of a match that ended by its rules (`GameEvent::MatchOver`), shown over
/// the game until the next match starts (and on the end screen after the last one).
#[derive(Clone, Debug, PartialEq)]
pub struct MatchOverView {
    /// Why it ended ("score limit 5 reached").
    pub reason: String,
    /// Every player at the end, best first (names as they were then).
    pub rows: Vec<ScoreRow>,
    /// Seconds until the next match, `None` after the last one.
    pub next_in_s: Option<f32>,
}

/// Numbers for the net graph (F3).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NetStats {
    /// Smoothed round-trip time.
    pub rtt_ms: f32,
    /// Variation of the round-trip time.
    pub jitter_ms: f32,
    /// Fraction of snapshots lost (0..1) over the last seconds.
    pub loss: f32,
    /// Snapshots received per second.
    pub snapshot_rate: f32,
    /// Bytes per second received.
    pub down_bytes_per_s: f32,
    /// Bytes per second sent.
    pub up_bytes_per_s: f32,
    /// Current interpolation delay.
    pub interp_delay_ms: f32,
    /// Reconciliations that moved the local player, since the start.
    pub corrections: u64,
    /// Estimated server tick.
    pub server_tick: Tick,
    /// Recent RTT samples for the graph, oldest first.
    pub rtt_history_ms: Vec<f32>,
}

/// Where the session stands, for the screens around the game.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// Connecting / handshaking.
    Connecting,
    /// In the match.
    Playing,
    /// The connection dropped; the client is reconnecting to resume its player. The match stays
    /// on screen, frozen as last seen.
    Reconnecting {
        /// Seconds since the drop was noticed.
        for_s: f32,
    },
    /// The connection ended or never started: show the reason, do not crash.
    Ended {
        /// Human-readable reason (unreachable, rejected with reason, server went away, match over).
        reason: String,
    },
}

/// Everything a renderer needs for one frame.
#[derive(Clone, Debug)]
pub struct GameView {
    /// Session phase.
    pub phase: Phase,
    /// The map (None until welcomed).
    pub map: Option<std::sync::Arc<rewind_shared::map::Map>>,
    /// Our player id (None until welcomed).
    pub local_id: Option<PlayerId>,
    /// Players to draw.
    pub players: Vec<DrawnPlayer>,
    /// Recent tracers.
    pub tracers: Vec<Tracer>,
    /// Recent shots of ours with both verdicts.
    pub shots: Vec<ShotReview>,
    /// Kill feed, newest last.
    pub kill_feed: Vec<FeedLine>,
    /// Chat, newest last.
    pub chat: Vec<FeedLine>,
    /// Scoreboard rows, best first.
    pub scoreboard: Vec<ScoreRow>,
    /// Seconds until our respawn, when dead.
    pub respawn_in_s: Option<f32>,
    /// The final scoreboard, between the end of a match and the start of the next.
    pub match_over: Option<MatchOverView>,
    /// Net graph numbers.
    pub net: NetStats,
    /// While a killcam plays (then `players` and `tracers` are the killcam's).
    pub killcam: Option<KillcamOverlay>,
}

/// Which part of the killcam is showing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillcamStage {
    /// The seconds before the kill as the killer drew them.
    KillerEye,
    /// The kill's instant at the server's present.
    ServerSaw,
}

/// What the renderer draws over a killcam scene.
#[derive(Clone, Debug, PartialEq)]
pub struct KillcamOverlay {
    /// Which part.
    pub stage: KillcamStage,
    /// Caption and figures, one per line.
    pub lines: Vec<String>,
    /// The hitboxes the server traced the killing shot against (shown at the kill).
    pub rewound: Vec<(PlayerId, Vec2)>,
    /// Where the camera looks (the killer, then the victim).
    pub focus: Vec2,
    /// How much of the killcam has played, 0..=1.
    pub progress: f32,
    /// The server's positions at the kill, drawn as rings beside the killer's view at the kill.
    pub present: Vec<(PlayerId, Vec2)>,
    /// The keys that apply (the live game skips, the replay viewer goes back).
    pub hint: String,
    /// The killing shot (origin, end), drawn from the kill on.
    pub shot: Option<(Vec2, Vec2)>,
}

/// What the player is doing this frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ControlInput {
    /// Movement wish, each axis -1..=1 (WASD).
    pub mv: Vec2,
    /// Aim direction in world space (mouse relative to our player); zero keeps the old aim.
    pub aim: Vec2,
    /// Trigger held.
    pub fire: bool,
    /// A chat line to send, if the player just pressed Enter on one.
    pub chat: Option<String>,
    /// The lag-compensation debug view is open (the server then sends its traced hitboxes).
    pub debug_view: bool,
    /// Stop the killcam now (its key, or `--no-killcam` on every frame).
    pub skip_killcam: bool,
}
