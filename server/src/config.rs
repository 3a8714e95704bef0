//! Server settings, validated once by the CLI and passed in whole.

use rewind_shared::conditioner::LinkConfig;
use rewind_shared::map::Map;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Highest accepted tick rate (DESIGN §2).
pub const MAX_TICK_RATE: u32 = 128;
/// Lowest accepted tick rate: below it a step moves players far enough to matter for collision.
pub const MIN_TICK_RATE: u32 = 10;
/// Longest accepted rewind window (issue 6: up to 1 s).
pub const MAX_REWIND: Duration = Duration::from_secs(1);

/// Everything `start` needs.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on (port 0 picks a free one).
    pub addr: SocketAddr,
    /// Simulation ticks per second.
    pub tick_rate: u32,
    /// A snapshot every this many ticks.
    pub snapshot_interval: u32,
    /// AI players running inside the server.
    pub ai: u16,
    /// Seed for AI behaviour and the link conditioner.
    pub seed: u64,
    /// Lag-compensation window.
    pub max_rewind: Duration,
    /// Rewind shots (false: trace against the present, to measure the difference).
    pub lagcomp: bool,
    /// Believe every view a shot claims within the rewind window (no per-client checks): only to
    /// measure what the checks prevent.
    pub trust_views: bool,
    /// Tell each client where the others are only when it may see them (fog of war).
    pub fog: bool,
    /// The map.
    pub map: Map,
    /// Human clients at most (AI players do not count).
    pub max_clients: u16,
    /// Connections at most from one IP address (a LAN party behind one NAT still fits at 8).
    pub max_per_addr: u16,
    /// Connections at most that have not said hello yet, from everyone together.
    pub max_handshakes: u16,
    /// Where the certificate is kept; `None` makes a fresh one in memory (tests).
    pub data_dir: Option<PathBuf>,
    /// End the match after this long.
    pub duration: Option<Duration>,
    /// Record the match to this file.
    pub record: Option<PathBuf>,
    /// A client that sends nothing for this long is dropped.
    pub idle_timeout: Duration,
    /// A client must finish its hello within this long.
    pub handshake_timeout: Duration,
    /// A player whose connection drops is kept (standing still) this long for its client to
    /// reconnect and resume it; zero removes it at once.
    pub resume_grace: Duration,
    /// Datagrams per second one connection may send before packets are dropped.
    pub max_datagrams_per_s: u32,
    /// Artificial network conditions on the server's socket (each direction).
    pub link: LinkConfig,
    /// Seed of the link conditioner.
    pub link_seed: u64,
    /// Serve Prometheus metrics over HTTP here (`GET /metrics`); port 0 picks a free one.
    pub metrics: Option<SocketAddr>,
    /// Answer LAN discovery queries (`serve --lan`, `play --host`); `None` stays invisible.
    pub lan: Option<crate::lan::LanConfig>,
    /// How a match ends and how many are played (`--score-limit`, `--time-limit`, `--matches`).
    pub rules: MatchRules,
    /// Run the tick thread at real-time priority (`serve --realtime-tick`, see `priority`).
    pub realtime_tick: bool,
    /// Percent of the tick period a tick may run before it postpones the snapshots still due to
    /// the next tick (`ServerCore::tick_within`); `None` never postpones.
    pub tick_budget_percent: Option<u8>,
}

/// `--tick-budget`'s default, in percent of the tick period. On a server with one core the
/// network threads need most of the rest of each period: at 256 players they used 43 % of the
/// core (encrypting and sending the snapshots the tick built, receiving the next inputs) and the
/// tick 38 % on average (README, "256 players"); 40 % leaves the kernel and the machine a little
/// room too. A small server never reaches it.
pub const DEFAULT_TICK_BUDGET_PERCENT: u8 = 40;
/// Least `--tick-budget`: below this a tick would postpone snapshots with time to spare.
pub const MIN_TICK_BUDGET_PERCENT: u8 = 10;

/// The rules that end a match and start the next: without a limit a match lasts until the
/// server stops, as before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatchRules {
    /// A player with this many kills wins and ends the match.
    pub score_limit: Option<u16>,
    /// The match ends this long after it started (simulated time: ticks at the tick rate).
    pub time_limit: Option<Duration>,
    /// Matches to play before the server stops; `None` plays until stopped (`--forever`).
    pub matches: Option<u32>,
    /// The pause between a match's end and the next one's start, with the final scoreboard up.
    pub intermission: Duration,
}

impl Default for MatchRules {
    fn default() -> Self {
        MatchRules {
            score_limit: None,
            time_limit: None,
            matches: Some(1),
            intermission: Duration::from_secs(10),
        }
    }
}

impl MatchRules {
    /// Whether a match can end by its rules at all.
    pub fn limited(&self) -> bool {
        self.score_limit.is_some() || self.time_limit.is_some()
    }

    /// Whether more than one match is played (then each gets its own recording file).
    pub fn several(&self) -> bool {
        self.matches != Some(1)
    }
}

/// Longest `--intermission`, and longest `--time-limit` (the protocol states it in whole seconds
/// as a `u32`; a day is plenty for a match).
pub const MAX_INTERMISSION: Duration = Duration::from_secs(600);
/// Longest `--time-limit`.
pub const MAX_TIME_LIMIT: Duration = Duration::from_secs(24 * 3600);

/// Snapshots per second when none is asked for. Every snapshot costs each client its datagram's
/// QUIC overhead (about 30 bytes) on top of the changes it carries, so 30 a second instead of
/// one every 60 Hz tick takes the downstream of a 16-player match at a 200 ms round trip from
/// about 100 to under 48 kbit/s (README, "Bandwidth"); it costs one tick (17 ms) more
/// interpolation delay. Hit agreement does not depend on it: a shot names the two snapshots it
/// was drawn between, whatever their spacing.
pub const DEFAULT_SNAPSHOT_RATE: u32 = 30;

/// Ticks between snapshots for `snapshot_rate` per second at `tick_rate` (rounded, at least 1).
pub fn snapshot_interval_for(tick_rate: u32, snapshot_rate: u32) -> u32 {
    ((f64::from(tick_rate) / f64::from(snapshot_rate.max(1))).round() as u32).max(1)
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            tick_rate: 60,
            snapshot_interval: snapshot_interval_for(60, DEFAULT_SNAPSHOT_RATE),
            ai: 0,
            seed: 1,
            max_rewind: Duration::from_millis(400),
            lagcomp: true,
            trust_views: false,
            fog: true,
            map: Map::builtin("arena").expect("built-in arena parses"), // ok: compiled-in asset, pinned by a shared test
            max_clients: 64,
            max_per_addr: 8,
            max_handshakes: 128,
            data_dir: None,
            duration: None,
            record: None,
            idle_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(5),
            resume_grace: Duration::from_secs(30),
            max_datagrams_per_s: 600,
            link: LinkConfig::perfect(),
            link_seed: 1,
            metrics: None,
            lan: None,
            rules: MatchRules::default(),
            realtime_tick: false,
            tick_budget_percent: Some(DEFAULT_TICK_BUDGET_PERCENT),
        }
    }
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// Tick rate out of range.
    #[error("tick rate {0} Hz is out of range ({MIN_TICK_RATE}..={MAX_TICK_RATE})")]
    TickRate(u32),
    /// Snapshot interval zero or absurd.
    #[error("snapshot interval {0} is out of range (1..=tick rate)")]
    SnapshotInterval(u32),
    /// Rewind window too long.
    #[error("max rewind {0:?} is longer than {MAX_REWIND:?}")]
    Rewind(Duration),
    /// Too many players for the id space and the snapshot budget.
    #[error("{0} players is too many (AI + clients at most 256)")]
    TooManyPlayers(u32),
    /// A connection limit of zero would refuse everyone.
    #[error("--max-per-addr and the handshake cap must be at least 1")]
    ZeroLimit,
    /// Grace period longer than the protocol can state.
    #[error("--resume-grace {0:?} is longer than {MAX_RESUME_GRACE:?}")]
    ResumeGrace(Duration),
    /// Match rules that cannot work.
    #[error("{0}")]
    Rules(&'static str),
    /// A tick budget that would postpone snapshots with time to spare, or never.
    #[error("--tick-budget {0}% is out of range ({MIN_TICK_BUDGET_PERCENT}..=100, or off)")]
    TickBudget(u8),
}

/// Longest `--resume-grace`: a seat held longer than this is a seat lost to the others.
pub const MAX_RESUME_GRACE: Duration = Duration::from_secs(600);

impl ServerConfig {
    /// The time a tick may run before it postpones snapshots (`tick_budget_percent` of the
    /// period).
    pub fn tick_budget(&self) -> Option<Duration> {
        let period = 1.0 / f64::from(self.tick_rate.max(1));
        self.tick_budget_percent
            .map(|p| Duration::from_secs_f64(period * f64::from(p) / 100.0))
    }

    /// Checks the ranges the rest of the server relies on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(MIN_TICK_RATE..=MAX_TICK_RATE).contains(&self.tick_rate) {
            return Err(ConfigError::TickRate(self.tick_rate));
        }
        if self.snapshot_interval == 0 || self.snapshot_interval > self.tick_rate {
            return Err(ConfigError::SnapshotInterval(self.snapshot_interval));
        }
        if self.max_rewind > MAX_REWIND {
            return Err(ConfigError::Rewind(self.max_rewind));
        }
        if self.max_per_addr == 0 || self.max_handshakes == 0 {
            return Err(ConfigError::ZeroLimit);
        }
        if self.resume_grace > MAX_RESUME_GRACE {
            return Err(ConfigError::ResumeGrace(self.resume_grace));
        }
        if let Some(p) = self.tick_budget_percent
            && !(MIN_TICK_BUDGET_PERCENT..=100).contains(&p)
        {
            return Err(ConfigError::TickBudget(p));
        }
        let r = &self.rules;
        if r.score_limit == Some(0) {
            return Err(ConfigError::Rules("--score-limit must be at least 1"));
        }
        if r.time_limit.is_some_and(|t| t.is_zero() || t > MAX_TIME_LIMIT) {
            return Err(ConfigError::Rules("--time-limit must be between 1s and 24h"));
        }
        if r.matches == Some(0) {
            return Err(ConfigError::Rules("--matches must be at least 1"));
        }
        if r.several() && !r.limited() {
            return Err(ConfigError::Rules(
                "--matches and --forever need --score-limit or --time-limit (a match must be able to end)",
            ));
        }
        if r.intermission > MAX_INTERMISSION {
            return Err(ConfigError::Rules("--intermission is longer than 10m"));
        }
        let players = u32::from(self.ai) + u32::from(self.max_clients);
        if players > u32::from(rewind_shared::replay::MAX_PLAYERS_CEILING) {
            return Err(ConfigError::TooManyPlayers(players));
        }
        Ok(())
    }

    /// The shared simulation settings this config implies.
    pub fn sim_config(&self) -> rewind_shared::sim::SimConfig {
        rewind_shared::sim::SimConfig::new(self.tick_rate, self.lagcomp, self.max_rewind.as_millis() as u32)
    }
}
