//! Headless bots: N real QUIC clients in one process, each running the client core, moving,
//! aiming at the nearest enemy they can see (where they draw it, with seeded aim error) and
//! shooting. Each shot's own verdict (from what the bot drew) is compared with the server's; the
//! report is DESIGN §10's `--report` JSON.

use crate::cheat::Cheat;
use crate::net::{
    Brain, ConnectConfig, ConnectError, Redial, Resumed, Slot, client_endpoint, client_endpoint_at, connect,
    drive, lock,
};
use crate::session::{Session, SessionStats};
use crate::tls::Trust;
use crate::view::ControlInput;
use hdrhistogram::Histogram;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rewind_shared::Vec2;
use rewind_shared::conditioner::LinkConfig;
use rewind_shared::sim::PLAYER_RADIUS;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tracing::Instrument;

/// Bots stop pulling the trigger this long before the end so verdicts can still arrive.
const QUIET_END: Duration = Duration::from_millis(1500);

/// What `rewind bots` runs.
#[derive(Clone, Debug)]
pub struct BotsConfig {
    /// Server address, `host:port`.
    pub addr: String,
    /// How the server's certificate is trusted.
    pub trust: Trust,
    /// Number of bots.
    pub count: u16,
    /// How long they play.
    pub duration: Duration,
    /// Seed of movement, aim error and the link conditioner.
    pub seed: u64,
    /// Artificial network conditions on each bot's socket (each direction).
    pub link: LinkConfig,
    /// Aim error: spread of the sideways miss, in hitbox radii. Around 1 about half the shots
    /// hit, many of them grazing, and many misses pass just beside the edge.
    pub aim_error: f32,
    /// Name prefix (`bot-3`).
    pub name_prefix: String,
    /// A total outage of every bot's link: from this long after the start, for this long (to
    /// practise reconnecting; `--outage 10s+15s`).
    pub outage: Option<Outage>,
    /// Every other bot (the even-numbered ones) plays this cheat; the report puts them apart.
    pub cheat: Option<Cheat>,
    /// Spread the bots' starts evenly over this long (`--ramp`). A real server's players arrive
    /// over time; hundreds of bots started in one instant from one process measure that
    /// process's own start burst as well (it ran 20-35 ms behind its timers while 248 joined).
    /// Zero keeps the short default stagger (`start_delay`).
    pub ramp: Duration,
}

pub use crate::net::Outage;

impl BotsConfig {
    /// `count` bots against `addr` for `duration`, pinned to `cert_hash` when given.
    pub fn new(
        addr: impl Into<String>,
        cert_hash: Option<String>,
        count: u16,
        duration: Duration,
    ) -> BotsConfig {
        BotsConfig {
            addr: addr.into(),
            trust: match cert_hash {
                Some(h) => Trust::Pin(h),
                None => Trust::KnownHosts(crate::tls::default_known_hosts()),
            },
            count,
            duration,
            seed: 1,
            link: LinkConfig::perfect(),
            aim_error: 1.0,
            name_prefix: "bot".into(),
            outage: None,
            cheat: None,
            ramp: Duration::ZERO,
        }
    }
}

/// When bot `i` of `count` starts, from the start of the run: evenly over `ramp`, or without a
/// ramp in 10 ms steps of five bots (a few at a time, so the server's handshakes do not all
/// collide).
pub fn start_delay(i: u16, count: u16, ramp: Duration) -> Duration {
    if ramp.is_zero() {
        Duration::from_millis(u64::from(i % 50) * 10)
    } else {
        ramp.mul_f64(f64::from(i) / f64::from(count.max(1)))
    }
}

/// Percentiles in milliseconds (round trips, resume times).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct RttMs {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// The `--report` JSON (DESIGN §10 fields first, then extras).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BotsReport {
    /// Bots that connected.
    pub clients: u32,
    /// Seconds played.
    pub duration_s: f64,
    /// Shots fired (as each bot predicted them).
    pub shots: u64,
    /// Shots (with a server verdict) the shooting bot saw hit.
    pub client_hits: u64,
    /// Shots the server confirmed as hits.
    pub server_hits: u64,
    /// Fraction of judged shots where both verdicts name the same target (or both none).
    pub agreement: f64,
    /// The bot saw a hit, the server said miss.
    pub false_hits: u64,
    /// The bot saw a miss, the server said hit.
    pub missed_hits: u64,
    /// Reconciliations that moved a bot's predicted player.
    pub corrections: u64,
    /// Transport round trip.
    pub rtt_ms: RttMs,
    /// Bytes received per second per client (QUIC wire bytes).
    pub down_bytes_per_s: f64,
    /// Bytes sent per second per client (QUIC wire bytes).
    pub up_bytes_per_s: f64,
    /// Killcam bytes received per second per client (encoded messages, part of the downstream;
    /// they depend on how often the bots died).
    pub killcam_bytes_per_s: f64,
    /// Snapshots received (all bots).
    pub snapshots: u64,
    /// Fraction of snapshot sequences never received.
    pub snapshot_loss: f64,
    /// Shots whose server verdict arrived (the denominator of `agreement`).
    pub judged: u64,
    /// Shots whose verdict never arrived before the end (excluded from `agreement`).
    pub unresolved_shots: u64,
    /// Shots a bot predicted after it had already died on the server (never fired there).
    pub void_shots: u64,
    /// Both saw a hit, on different players.
    pub wrong_target: u64,
    /// Verdicts the server judged with a view older than its rewind window.
    pub too_old: u64,
    /// Verdicts the server refused (view in the future).
    pub refused: u64,
    /// Verdicts traced against present positions (lag compensation off or no view).
    pub present: u64,
    /// State replacements that were not corrections (first state, death, respawn).
    pub resets: u64,
    /// Longest wait for a new snapshot any bot saw, in milliseconds.
    pub max_snapshot_gap_ms: u64,
    /// Outages after which a bot reconnected (or tried to).
    pub reconnects: u64,
    /// Successful resumes of a bot's own player.
    pub resumed: u64,
    /// From noticing the drop to having the player back.
    pub resume_ms: RttMs,
    /// With `--outage`: from the link coming back to having the player back.
    pub recovery_ms: RttMs,
    /// Shots per bot per second of play.
    pub shots_per_s: f64,
    /// Fewest ticks between two shots of one bot that the server judged (its fire rate).
    pub min_shot_gap_ticks: u64,
    /// Server hits per judged shot.
    pub hit_rate: f64,
    /// Fastest any bot's player moved, as the server reported it (units per second).
    pub top_speed: f64,
    /// Remote positions received (counted by wallhack bots only).
    pub positions_received: u64,
    /// Of those, positions of players beyond the line of sight even with the fog's margins.
    pub positions_beyond_sight: u64,
    /// Positions beyond sight received around the bot's own respawn (the fog lifts then).
    pub positions_around_respawn: u64,
    /// With `--cheat`: which, and the cheating bots' own report (this one is the honest bots').
    pub cheat: Option<String>,
    /// The cheating bots' report.
    pub cheaters: Option<Box<BotsReport>>,
    /// Bots that could not connect, with the reason.
    pub failed: Vec<String>,
    /// Sum over bots of why their session ended.
    pub end_reasons: Vec<String>,
}

impl BotsReport {
    /// A few lines for the terminal.
    pub fn summary(&self) -> String {
        format!(
            "{} bots, {:.1} s: {} shots, agreement {:.4} ({} judged, {} unresolved), client hits {}, server hits {}, \
             false hits {}, missed hits {}, corrections {}\nrtt p50 {:.1} ms p99 {:.1} ms, down {:.0} B/s up {:.0} B/s \
             per client, {} snapshots, snapshot loss {:.2}%{}{}{}",
            self.clients,
            self.duration_s,
            self.shots,
            self.agreement,
            self.judged,
            self.unresolved_shots,
            self.client_hits,
            self.server_hits,
            self.false_hits,
            self.missed_hits,
            self.corrections,
            self.rtt_ms.p50,
            self.rtt_ms.p99,
            self.down_bytes_per_s,
            self.up_bytes_per_s,
            self.snapshots,
            self.snapshot_loss * 100.0,
            match &self.cheaters {
                Some(c) => format!(
                    "\nhonest: {:.2} shots/s (min gap {} ticks), hit rate {:.3}, top speed {:.0}; cheating ({}): {:.2} shots/s \
                     (min gap {} ticks), hit rate {:.3} ({} judged, {} refused), top speed {:.0}, positions beyond sight {} of {} (+{} around respawns)",
                    self.shots_per_s,
                    self.min_shot_gap_ticks,
                    self.hit_rate,
                    self.top_speed,
                    self.cheat.as_deref().unwrap_or("?"),
                    c.shots_per_s,
                    c.min_shot_gap_ticks,
                    c.hit_rate,
                    c.judged,
                    c.refused,
                    c.top_speed,
                    c.positions_beyond_sight,
                    c.positions_received,
                    c.positions_around_respawn
                ),
                None => String::new(),
            },
            if self.reconnects == 0 {
                String::new()
            } else {
                format!(
                    "\n{} reconnects, {} resumed, resume p50 {:.0} ms p99 {:.0} ms",
                    self.reconnects, self.resumed, self.resume_ms.p50, self.resume_ms.p99
                )
            },
            if self.failed.is_empty() {
                String::new()
            } else {
                format!(
                    "\n{} bots failed to connect: {}",
                    self.failed.len(),
                    self.failed.join("; ")
                )
            }
        )
    }
}

/// Why a bots run could not start at all.
#[derive(Debug, thiserror::Error)]
pub enum BotsError {
    /// The runtime could not be built.
    #[error("cannot start the runtime: {0}")]
    Runtime(#[from] std::io::Error),
    /// No bot connected.
    #[error("no bot could connect: {0}")]
    NoneConnected(String),
}

/// One bot's decisions, seeded: wander, strafe, aim at the nearest visible player with a
/// spread, fire. Public so the Pair harness drives the very bots `rewind bots` runs.
pub struct BotBrain {
    rng: ChaCha8Rng,
    wander: Vec2,
    wander_until: Duration,
    strafe: f32,
    aim_error: f32,
    stop_firing_at: Duration,
    last_pos: Vec2,
}

impl BotBrain {
    /// A bot seeded with `seed`, aiming with `aim_error` (1 = the default spread), that stops
    /// firing at session time `stop_firing_at` (so its last shots are judged before the end).
    pub fn new(seed: u64, aim_error: f32, stop_firing_at: Duration) -> BotBrain {
        BotBrain {
            rng: ChaCha8Rng::seed_from_u64(seed),
            wander: Vec2::X,
            wander_until: Duration::ZERO,
            strafe: 1.0,
            aim_error,
            stop_firing_at,
            last_pos: Vec2::ZERO,
        }
    }

    fn new_direction(&mut self, now: Duration) {
        let a = self.rng.random_range(0.0..std::f32::consts::TAU);
        self.wander = Vec2::new(a.cos(), a.sin());
        self.wander_until = now + Duration::from_millis(self.rng.random_range(400..1500));
    }

    /// A sideways error around the target with a normal-ish spread (sum of uniforms).
    fn aim_offset(&mut self) -> f32 {
        let u: f32 = (0..3).map(|_| self.rng.random_range(-1.0f32..1.0)).sum::<f32>() / 3.0_f32.sqrt();
        u * self.aim_error * PLAYER_RADIUS * 1.7
    }
}

impl Brain for BotBrain {
    fn control(&mut self, s: &Session, now: Duration) -> ControlInput {
        let me = s.predicted();
        if !s.synced() || !me.life.alive() {
            return ControlInput::default();
        }
        let pos = me.body.pos;
        let stuck = pos.distance(self.last_pos) < 0.5;
        self.last_pos = pos;
        if now >= self.wander_until || stuck {
            self.new_direction(now);
        }
        let map = s.map();
        // Nearest first (the first of equals, as `min_by` did), so only the players nearer than
        // the nearest one in sight cost a ray: with hundreds of bots in one process, a ray to
        // everyone drawn was most of their work. A heap of words (a distance's bits, which order
        // as the distance does, above the place), not a sort: the nearest in sight is usually
        // among the first few, and this runs for every bot on every tick.
        let remotes = s.drawn_remotes();
        let mut by_distance: BinaryHeap<Reverse<u64>> = remotes
            .iter()
            .enumerate()
            .filter(|(_, r)| r.2)
            .map(|(k, r)| Reverse(u64::from(pos.distance_squared(r.1).to_bits()) << 32 | k as u64))
            .collect();
        let at = |w: u64| remotes.get((w & 0xffff_ffff) as usize).copied();
        let nearest_any = by_distance.peek().and_then(|Reverse(w)| at(*w));
        let target = std::iter::from_fn(|| by_distance.pop())
            .filter_map(|Reverse(w)| at(w))
            .find(|(_, p, _)| map.line_of_sight(pos, *p));
        let mut c = ControlInput {
            mv: self.wander,
            ..ControlInput::default()
        };
        if let Some((_, tp, _)) = target {
            let to = tp - pos;
            let dir = to.normalize_or_zero();
            if self.rng.random_bool(0.02) {
                self.strafe = -self.strafe;
            }
            c.mv = (dir.perp() * self.strafe + self.wander * 0.3).normalize_or_zero();
            let side = self.aim_offset();
            c.aim = to + dir.perp() * side;
            c.fire = now < self.stop_firing_at;
        } else {
            // Nobody in sight: drift toward the nearest enemy (wandering around walls).
            if let Some((_, tp, _)) = nearest_any {
                c.mv = ((tp - pos).normalize_or_zero() * 0.7 + self.wander).normalize_or_zero();
            }
            c.aim = c.mv;
        }
        c
    }
}

/// One bot's results.
struct BotResult {
    stats: SessionStats,
    cheater: bool,
    reconnects: u32,
    resumes: Vec<Resumed>,
    /// When its outage ended, in session time.
    outage_end: Option<Duration>,
    awaiting: u64,
    rtt_us: Vec<u64>,
    udp: (u64, u64),
    played: Duration,
    reason: String,
}

async fn run_bot(i: u16, cfg: Arc<BotsConfig>, started_ago: Duration) -> Result<BotResult, ConnectError> {
    let seed = cfg
        .seed
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(u64::from(i));
    let (endpoint, control) = match own_loopback(&cfg.addr, i) {
        Some(bind) => client_endpoint_at(bind, cfg.link, seed)?,
        None => client_endpoint(cfg.link, seed)?,
    };
    let cc = ConnectConfig {
        addr: cfg.addr.clone(),
        name: format!("{}-{i}", cfg.name_prefix),
        trust: cfg.trust.clone(),
        link: cfg.link,
        seed,
        // Scheduled here, from the start of the whole run rather than of this bot.
        outage: None,
    };
    let start = Instant::now();
    let run_start = start - started_ago;
    let outage = cfg.outage.map(|o| o.schedule(control, cfg.link, run_start));
    let connected = connect(&cc, &endpoint).await?;
    let slot = Arc::new(Mutex::new(Slot::default()));
    let until = cfg.duration.saturating_sub(start.elapsed());
    let mut brain = BotBrain::new(seed, cfg.aim_error, until.saturating_sub(QUIET_END));
    let cheater = cfg.cheat.is_some() && i.is_multiple_of(2);
    {
        let mut g = lock(&slot);
        g.cheat = cfg.cheat.filter(|_| cheater);
        g.headless = true;
    }
    let session_start = Instant::now();
    let redial = Redial {
        cfg: &cc,
        endpoint: &endpoint,
        seed,
    };
    let reason = drive(
        connected,
        slot.clone(),
        &mut brain,
        session_start,
        Arc::new(Notify::new()),
        None,
        Some(until),
        Some(redial),
    )
    .await;
    let played = start.elapsed();
    if let Some(t) = outage {
        t.abort();
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), endpoint.wait_idle()).await;
    let mut g = lock(&slot);
    let (stats, awaiting) = g
        .session
        .as_ref()
        .map(|s| (s.stats(), s.shots_awaiting() as u64))
        .unwrap_or_default();
    Ok(BotResult {
        stats,
        cheater,
        reconnects: g.reconnects,
        resumes: std::mem::take(&mut g.resumes),
        // Session time counts from `drive`'s start, just after connecting.
        outage_end: cfg
            .outage
            .map(|o| (run_start + o.at + o.lasts).saturating_duration_since(session_start)),
        awaiting,
        rtt_us: std::mem::take(&mut g.rtt_us),
        udp: g.udp_bytes,
        played,
        reason: reason.to_string(),
    })
}

/// For a server on IPv4 loopback, bot `i`'s own source address (127.0.x.y, never 127.0.0.1):
/// hundreds of bots from one address would meet the server's per-address limits (seats and
/// connection rate), which exist for real players behind real addresses.
fn own_loopback(addr: &str, i: u16) -> Option<std::net::SocketAddr> {
    let server: std::net::SocketAddr = addr.parse().ok()?;
    if !server.ip().is_loopback() || !server.is_ipv4() {
        return None;
    }
    let n = u32::from(i) + 2;
    let ip = std::net::Ipv4Addr::new(127, 0, (n / 250) as u8, (n % 250) as u8 + 1);
    Some(std::net::SocketAddr::from((ip, 0)))
}

/// Runs the bots to the end and reports (blocking; builds its own runtime).
pub fn run_bots(cfg: BotsConfig) -> Result<BotsReport, BotsError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("rewind-bots")
        .enable_all()
        .build()?;
    let cfg = Arc::new(cfg);
    let results = rt.block_on(async {
        let mut tasks = Vec::new();
        let run_start = Instant::now();
        for i in 0..cfg.count {
            let cfg = cfg.clone();
            // Each bot's log lines name it, so a diagnostic (a differing verdict, a correction)
            // can be followed through one bot's session.
            let span = tracing::info_span!("bot", i);
            tasks.push(tokio::spawn(
                async move {
                    tokio::time::sleep(start_delay(i, cfg.count, cfg.ramp)).await;
                    run_bot(i, cfg, run_start.elapsed()).await
                }
                .instrument(span),
            ));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(match t.await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(e) => Err(format!("bot task failed: {e}")),
            });
        }
        out
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    let (cheaters, honest): (Vec<_>, Vec<_>) = results
        .into_iter()
        .partition(|r| r.as_ref().is_ok_and(|b| b.cheater));
    let mut report = aggregate(&honest);
    if let Some(c) = cfg.cheat {
        let mut theirs = aggregate(&cheaters);
        theirs.cheat = Some(c.name().to_string());
        report.clients += theirs.clients;
        report.cheat = theirs.cheat.clone();
        report.cheaters = Some(Box::new(theirs));
    }
    if report.clients == 0 {
        return Err(BotsError::NoneConnected(
            report.failed.first().cloned().unwrap_or_default(),
        ));
    }
    Ok(report)
}

fn aggregate(results: &[Result<BotResult, String>]) -> BotsReport {
    let mut r = BotsReport::default();
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).ok();
    let mut resume_hist = Histogram::<u64>::new_with_bounds(1, 3_600_000, 3).ok();
    let mut recovery_hist = Histogram::<u64>::new_with_bounds(1, 3_600_000, 3).ok();
    let (mut lost, mut down, mut up, mut secs) = (0u64, 0u64, 0u64, 0f64);
    let mut killcam_bytes = 0u64;
    for res in results {
        let b = match res {
            Ok(b) => b,
            Err(e) => {
                r.failed.push(e.clone());
                continue;
            }
        };
        r.clients += 1;
        let s = &b.stats;
        r.shots += s.shots.shots;
        r.judged += s.shots.judged;
        r.client_hits += s.shots.client_hits;
        r.server_hits += s.shots.server_hits;
        r.false_hits += s.shots.false_hits;
        r.missed_hits += s.shots.missed_hits;
        r.wrong_target += s.shots.wrong_target;
        r.void_shots += s.shots.void;
        r.too_old += s.shots.too_old;
        r.refused += s.shots.refused;
        r.present += s.shots.present;
        r.unresolved_shots += b.awaiting + s.shots.abandoned;
        r.agreement += s.shots.agreed as f64;
        r.corrections += s.corrections;
        r.resets += s.resets;
        r.snapshots += s.snapshots.received;
        r.max_snapshot_gap_ms = r.max_snapshot_gap_ms.max(s.snapshots.max_gap_ms);
        lost += s.snapshots.lost;
        down += b.udp.0;
        up += b.udp.1;
        secs = secs.max(b.played.as_secs_f64());
        if let Some(h) = hist.as_mut() {
            for v in &b.rtt_us {
                let _ = h.record((*v).max(1));
            }
        }
        r.top_speed = r.top_speed.max(f64::from(s.top_speed));
        if s.shots.min_gap_ticks > 0
            && (r.min_shot_gap_ticks == 0 || s.shots.min_gap_ticks < r.min_shot_gap_ticks)
        {
            r.min_shot_gap_ticks = s.shots.min_gap_ticks;
        }
        killcam_bytes += s.killcam_bytes;
        r.positions_received += s.wallhack.positions;
        r.positions_beyond_sight += s.wallhack.beyond_sight;
        r.positions_around_respawn += s.wallhack.around_respawn;
        r.reconnects += u64::from(b.reconnects);
        r.resumed += b.resumes.len() as u64;
        for x in &b.resumes {
            let ms = |d: Duration| (d.as_millis() as u64).max(1);
            if let Some(h) = resume_hist.as_mut() {
                let _ = h.record(ms(x.resumed_at.saturating_sub(x.lost_at)));
            }
            if let (Some(h), Some(end)) = (recovery_hist.as_mut(), b.outage_end) {
                let _ = h.record(ms(x.resumed_at.saturating_sub(end)));
            }
        }
        if !r.end_reasons.contains(&b.reason) {
            r.end_reasons.push(b.reason.clone());
        }
    }
    r.agreement = if r.judged == 0 {
        0.0
    } else {
        r.agreement / r.judged as f64
    };
    r.duration_s = secs;
    if r.clients > 0 && secs > 0.0 {
        r.shots_per_s = r.shots as f64 / secs / f64::from(r.clients);
    }
    r.hit_rate = if r.judged == 0 {
        0.0
    } else {
        r.server_hits as f64 / r.judged as f64
    };
    let expected = r.snapshots + lost;
    r.snapshot_loss = if expected == 0 {
        0.0
    } else {
        lost as f64 / expected as f64
    };
    if r.clients > 0 && secs > 0.0 {
        r.down_bytes_per_s = down as f64 / secs / f64::from(r.clients);
        r.up_bytes_per_s = up as f64 / secs / f64::from(r.clients);
        r.killcam_bytes_per_s = killcam_bytes as f64 / secs / f64::from(r.clients);
    }
    let percentiles = |h: Option<Histogram<u64>>| {
        h.filter(|h| !h.is_empty())
            .map(|h| RttMs {
                p50: h.value_at_quantile(0.5) as f64,
                p99: h.value_at_quantile(0.99) as f64,
            })
            .unwrap_or_default()
    };
    r.resume_ms = percentiles(resume_hist);
    r.recovery_ms = percentiles(recovery_hist);
    if let Some(h) = hist.filter(|h| !h.is_empty()) {
        r.rtt_ms = RttMs {
            p50: h.value_at_quantile(0.5) as f64 / 1000.0,
            p99: h.value_at_quantile(0.99) as f64 / 1000.0,
        };
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ramp_spreads_the_starts_evenly_and_none_is_the_short_stagger() {
        let ramp = Duration::from_secs(2);
        assert_eq!(start_delay(0, 248, ramp), Duration::ZERO);
        assert_eq!(start_delay(124, 248, ramp), Duration::from_secs(1));
        assert!(start_delay(247, 248, ramp) < ramp);
        let gaps: Vec<Duration> = (1..248)
            .map(|i| start_delay(i, 248, ramp) - start_delay(i - 1, 248, ramp))
            .collect();
        assert!(
            gaps.iter()
                .all(|g| g.abs_diff(ramp / 248) < Duration::from_micros(1))
        );
        assert_eq!(start_delay(51, 248, Duration::ZERO), Duration::from_millis(10));
        assert!((0..1000).all(|i| start_delay(i, 1000, Duration::ZERO) < Duration::from_millis(500)));
    }
}
