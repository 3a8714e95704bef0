//! The server as a state machine without IO, in the manner of the QUIC crate's protocol core: connections, bytes
//! and the time go in, addressed datagrams, control frames and typed closes come out. It names no
//! socket, no async runtime and reads no clock, so the QUIC endpoint is a pump around it and the
//! Pair harness (root `tests/pair.rs`) drives it with simulated time and a seeded conditioner.
//!
//! Call order, for each connection: `handle_connect` once, then any number of `handle_control`
//! (stream bytes, in order) and `handle_datagram`, then `handle_closed` if the transport loses it.
//! `tick` runs one simulation step. After any call, drain `poll_transmit` until `None`. Time
//! (`now`, from any fixed origin) only moves forward.

mod conn;
mod control;
mod fog;
mod match_rules;
mod reason;
mod resume;

pub use conn::{RateLimiter, RateVerdict};
pub use match_rules::{MatchEnd, MatchResult, RecordingFactory, ScoreLine};
pub use reason::{ClientKey, CloseReason, LinkClosed, ShutdownReason, close_code};

use crate::ai::{AI_NAMES, AiBrain};
use crate::config::ServerConfig;
use crate::ecs::SimCore;
use crate::ecs::components::Owner;
use crate::metrics::Metrics;
use crate::recorder::Recorder;
use crate::snapshots::{SnapshotMeta, ViewRules, ViewVerdict};
use crate::stats::{ServerStats, StatsRecorder};
use conn::{Conn, Stage};
use rewind_shared::codec::{CodecError, decode, encode_snapshot};
use rewind_shared::fog::{FogMargins, SightTable};
use rewind_shared::frame::encode_frame;
use rewind_shared::input::Input;
use rewind_shared::killcam::KillcamRing;
use rewind_shared::player::{PlayerId, PlayerState};
use rewind_shared::protocol::{ClientDatagram, GameEvent, MAX_DATAGRAM, ServerMsg, ShotVerdict};
use rewind_shared::quant::pos2_to_q;
use rewind_shared::replay::{Keyframe, SeenRecord, TickRecord, seen_targets};
use rewind_shared::sim::{Shot, ShotMode, SimEvent};
use rewind_shared::snapshot::{DeltaScratch, EntitySet, EntityState};
use rewind_shared::tick::Tick;
use rewind_shared::tile_sight::SeenTiles;
use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Most dropped datagrams fed to the rate limiter per call: enough to tell a flood, and a bound on
/// the work one report can cause.
const MAX_DROPPED_CHECKS: u64 = 10_000;

/// The view a refused shot carries into the simulation (and the recording): backwards, so every
/// simulation of it, live or replayed, traces it as `ShotMode::Refused` (no hit possible).
pub const REFUSED_VIEW: rewind_shared::input::ShotView = rewind_shared::input::ShotView {
    tick_a: Tick(1),
    tick_b: Tick(0),
    alpha: 0,
};

/// Something the core wants the transport to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// Send an unreliable datagram.
    Datagram {
        /// To whom.
        key: ClientKey,
        /// The encoded `SnapshotPacket`.
        bytes: Vec<u8>,
    },
    /// Append to the reliable control stream.
    Control {
        /// To whom.
        key: ClientKey,
        /// One or more whole frames.
        bytes: Vec<u8>,
    },
    /// Close the connection after delivering what was queued before. The core has forgotten the
    /// connection; anything more that arrives for it is ignored.
    Close {
        /// Whom.
        key: ClientKey,
        /// Why.
        reason: CloseReason,
    },
}

/// The authoritative server without IO.
pub struct ServerCore {
    cfg: ServerConfig,
    sim: SimCore,
    conns: BTreeMap<ClientKey, Conn>,
    ai: BTreeMap<PlayerId, AiBrain>,
    names: BTreeMap<PlayerId, String>,
    next_id: u16,
    stats: StatsRecorder,
    metrics: Arc<Metrics>,
    recorder: Option<Recorder>,
    out: VecDeque<Transmit>,
    /// Joins wait for the start of the next tick, after every leave, in the order a replay
    /// applies them (leaves, then joins), so spawn points come out the same.
    pending_joins: Vec<(PlayerId, Owner)>,
    pending_leaves: Vec<PlayerId>,
    /// Shots each player has fired (wrapping), sent in snapshots so others hear and see them.
    shots_fired: BTreeMap<PlayerId, u8>,
    pending_chat: Vec<(PlayerId, String)>,
    connect_rate: conn::ConnectRate,
    /// Chat lines the server still broadcasts (all senders together).
    chat_budget: conn::TokenBucket,
    /// Players whose connection dropped, by the token that resumes them.
    parked: BTreeMap<rewind_shared::protocol::ResumeToken, resume::Parked>,
    tokens: resume::Tokens,
    /// The latest time the core was given (when a connection closes without a time of its own).
    now: Duration,
    stopped: bool,
    /// The last seconds of hitboxes and shots, cut into a victim's killcam at a kill.
    killcams: KillcamRing,
    /// The match cycle (`--score-limit`, `--time-limit`, `--matches`).
    matches: match_rules::Matches,
    /// The map's tile table for the fog once the server is big (`FogCache::fogged_by_tiles`).
    tile_sight: fog::TileTable,
    /// Blocked centre lines between players, kept across ticks (`rewind_shared::sight_memo`).
    sight_memo: rewind_shared::sight_memo::SightMemo,
    /// Working memory for building snapshot deltas, shared by the clients (one at a time).
    delta_scratch: DeltaScratch,
}

impl ServerCore {
    /// A fresh match with the configured AI players. `cfg` is assumed validated.
    pub fn new(cfg: ServerConfig, recorder: Option<Recorder>) -> ServerCore {
        let map = Arc::new(cfg.map.clone());
        let sim = SimCore::new(cfg.sim_config(), map, Tick(0));
        let mut core = ServerCore {
            sim,
            conns: BTreeMap::new(),
            ai: BTreeMap::new(),
            names: BTreeMap::new(),
            next_id: 0,
            stats: StatsRecorder::default(),
            metrics: Arc::new(Metrics::new()),
            recorder,
            out: VecDeque::new(), // bounded: the pump drains it after every call into the core
            pending_joins: Vec::new(),
            pending_leaves: Vec::new(),
            shots_fired: BTreeMap::new(),
            pending_chat: Vec::new(),
            connect_rate: conn::ConnectRate::default(),
            chat_budget: conn::TokenBucket::new(
                conn::CHAT_SERVER_PER_S,
                conn::CHAT_SERVER_BURST,
                Duration::ZERO,
            ),
            parked: BTreeMap::new(),
            tokens: resume::Tokens::from_os(),
            now: Duration::ZERO,
            stopped: false,
            killcams: KillcamRing::new(cfg.tick_rate),
            matches: match_rules::Matches::new(),
            tile_sight: fog::TileTable::default(),
            sight_memo: Default::default(),
            delta_scratch: DeltaScratch::default(),
            cfg,
        };
        if core.cfg.fog && usize::from(core.cfg.max_clients) > 64 {
            // Seated for a big server: build the fog's tile table before the players come.
            let map = core.sim.map();
            core.tile_sight.build_now(&map);
        }
        for i in 0..core.cfg.ai {
            let id = core.alloc_id();
            let name = format!("AI {}", AI_NAMES[usize::from(i) % AI_NAMES.len()]);
            core.ai.insert(id, AiBrain::new(core.cfg.seed, u64::from(i)));
            core.join(id, name, Owner::Ai);
        }
        core
    }

    /// The configuration the core runs with.
    pub fn config(&self) -> &ServerConfig {
        &self.cfg
    }

    /// The live metrics (served by `--metrics`, read by `--stats`).
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// Last completed tick.
    pub fn current_tick(&self) -> Tick {
        self.sim.tick()
    }

    /// Ticks simulated so far.
    pub fn ticks(&self) -> u64 {
        self.metrics.ticks.get()
    }

    /// Every player, in id order.
    pub fn players(&mut self) -> Vec<PlayerState> {
        self.sim.players()
    }

    /// Whether the fog judges by the map's tile table (a big server, once the table is built).
    pub fn fog_table_ready(&self) -> bool {
        self.tile_sight.ready()
    }

    /// Welcomed clients.
    pub fn clients(&self) -> usize {
        self.conns.values().filter(|c| c.client().is_some()).count()
    }

    /// The human players, in id order: welcomed clients and players held for a resume (both
    /// hold a seat).
    pub fn client_roster(&self) -> Vec<(PlayerId, String)> {
        let mut ids: Vec<PlayerId> = self
            .conns
            .values()
            .filter_map(|c| c.client().map(|c| c.player))
            .chain(self.parked.values().map(|p| p.player))
            .collect();
        ids.sort();
        ids.dedup();
        ids.into_iter()
            .map(|id| (id, self.names.get(&id).cloned().unwrap_or_default()))
            .collect()
    }

    /// Players whose connection dropped and who wait for their client to resume them.
    pub fn parked(&self) -> usize {
        self.parked.len()
    }

    /// Moves the core's clock to `now` (it never goes back).
    fn advance(&mut self, now: Duration) {
        self.now = self.now.max(now);
    }

    /// Connections the core knows (welcomed or waiting for their hello).
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// Hash of the simulated state (what a replay of the match must end on).
    pub fn state_hash(&mut self) -> u64 {
        self.sim.hash()
    }

    /// The next thing to send, oldest first.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    /// A new connection from `addr`, able to carry datagrams of `max_datagram` bytes. Refused at
    /// once when the server is stopping, when `addr` already has `max_per_addr` connections, when
    /// `max_handshakes` connections are still waiting to say hello, or when `addr` connects more
    /// often than its rate: so one address cannot take every slot, and a handshake flood cannot
    /// hold the others' slots either.
    pub fn handle_connect(&mut self, key: ClientKey, addr: IpAddr, max_datagram: usize, now: Duration) {
        use rewind_shared::protocol::RejectReason;
        self.advance(now);
        let from_addr = self.conns.values().filter(|c| c.addr == addr).count();
        let handshaking = self.conns.len() - self.clients();
        let refusal = if self.stopped {
            Some(RejectReason::ShuttingDown)
        } else if from_addr >= usize::from(self.cfg.max_per_addr) {
            Some(RejectReason::TooManyFromAddress {
                max: self.cfg.max_per_addr,
            })
        } else if handshaking >= usize::from(self.cfg.max_handshakes) || !self.connect_rate.allow(addr, now) {
            Some(RejectReason::Busy)
        } else {
            None
        };
        match refusal {
            Some(reason) => self.reject(key, reason),
            None => {
                let conn = Conn::new(addr, now, self.cfg.max_datagrams_per_s, max_datagram);
                self.conns.insert(key, conn);
            }
        }
    }

    /// The transport's datagram size limit for a connection changed (path MTU).
    pub fn set_max_datagram(&mut self, key: ClientKey, max_datagram: usize) {
        if let Some(c) = self.conns.get_mut(&key) {
            c.max_datagram = max_datagram;
        }
    }

    /// The transport lost a connection (timeout, peer closed, error). Its player is kept for a
    /// resume (see `resume`) unless the peer closed on purpose: a client that closes its
    /// connection has left, even if its `Leave` frame did not make it first.
    pub fn handle_closed(&mut self, key: ClientKey, why: LinkClosed) {
        if let Some(conn) = self.conns.remove(&key) {
            let resumable = why != LinkClosed::ClosedByPeer;
            self.end_session(conn, why.to_string(), resumable);
        }
    }

    /// The transport cannot queue more control bytes for this connection: its client is not
    /// reading. It is closed so that its backlog costs nobody else memory.
    pub fn handle_backlogged(&mut self, key: ClientKey) {
        if self.conns.contains_key(&key) {
            self.metrics.guard.slow_readers.inc();
            self.close(key, CloseReason::Backlogged);
        }
    }

    /// Datagrams the transport had to drop for this connection before the core saw them (its
    /// inbox was full); they still count against the rate limit.
    pub fn handle_dropped(&mut self, key: ClientKey, n: u64, now: Duration) {
        self.advance(now);
        self.metrics.rate_limited.inc_by(n);
        let Some(conn) = self.conns.get_mut(&key) else {
            return;
        };
        let flood = (0..n.min(MAX_DROPPED_CHECKS)).any(|_| conn.limiter.check(now) == RateVerdict::Flood);
        if flood {
            self.close(key, CloseReason::Flood);
        }
    }

    /// One datagram from a connection: rate-limited, decoded with the size limit; garbage is
    /// counted and dropped, never fatal.
    pub fn handle_datagram(&mut self, key: ClientKey, bytes: &[u8], now: Duration) {
        self.advance(now);
        self.metrics.bytes_in.inc_by(bytes.len() as u64);
        if !self.rate_check(key, now) {
            return;
        }
        let next_tick = self.sim.tick().next();
        let Some(client) = self.conns.get_mut(&key).and_then(Conn::client_mut) else {
            return;
        };
        let ClientDatagram::Inputs { ack, inputs } = match decode::<ClientDatagram>(bytes, MAX_DATAGRAM) {
            Ok(m) => m,
            Err(e) => {
                self.metrics.bad_datagrams.inc();
                tracing::debug!(%key, "bad datagram: {e}");
                return;
            }
        };
        client.last_heard = Some(now);
        if client.snaps.on_ack(&ack, now) {
            client.last_ack_news = now;
        }
        let before = client.inputs.counters;
        for cmd in inputs {
            client.inputs.receive(cmd, next_tick);
        }
        let after = client.inputs.counters;
        self.metrics.late_inputs.inc_by(after.late - before.late);
        self.metrics
            .future_inputs
            .inc_by(after.too_far_ahead - before.too_far_ahead);
    }

    /// Whether a datagram arriving now may be handled; closes a flooding connection.
    fn rate_check(&mut self, key: ClientKey, now: Duration) -> bool {
        let Some(conn) = self.conns.get_mut(&key) else {
            return false;
        };
        match conn.limiter.check(now) {
            RateVerdict::Accept => true,
            RateVerdict::Drop => {
                self.metrics.rate_limited.inc();
                false
            }
            RateVerdict::Flood => {
                self.close(key, CloseReason::Flood);
                false
            }
        }
    }

    /// Stops the match: every client is told why and closed, the recording is finished, and the
    /// statistics are returned. Later calls return the same figures without sending again.
    pub fn shutdown(&mut self, reason: ShutdownReason) -> ServerStats {
        if !self.stopped {
            self.stopped = true;
            tracing::info!(%reason, ticks = self.ticks(), "match ending");
            self.broadcast(&ServerMsg::Shutdown {
                reason: reason.to_string(),
            });
            let keys: Vec<ClientKey> = self.conns.keys().copied().collect();
            for key in keys {
                if self.conns.get(&key).is_some_and(|c| c.client().is_some()) {
                    self.close(key, CloseReason::Shutdown(reason));
                } else {
                    self.reject(key, rewind_shared::protocol::RejectReason::ShuttingDown);
                }
            }
            self.parked.clear();
            if let Some(rec) = self.recorder.take() {
                rec.finish();
            }
        }
        let hash = self.sim.hash();
        let mut stats = self.stats.finish(&self.metrics, hash);
        stats.matches = self.matches.results.clone();
        stats
    }

    /// Records how long the last `tick` took on the wall clock and, where the platform can say,
    /// in its thread's CPU time (both measured by the pump).
    pub fn record_tick_time(&mut self, elapsed: Duration, cpu: Option<Duration>) {
        self.stats.tick(elapsed, cpu);
        self.metrics.tick_seconds.observe(elapsed.as_secs_f64());
    }

    /// Records that a tick started more than a tick period after its scheduled time.
    pub fn record_late_tick(&mut self) {
        self.stats.late_tick();
    }

    /// Records that the pump fell so far behind that it stopped catching up.
    pub fn record_overrun(&mut self) {
        self.metrics.overruns.inc();
    }

    /// The next id not held by a live player (or one about to join). Ids count up and wrap, so a
    /// departed player's id is reused as late as possible; a match holds at most a few hundred
    /// players, so a free one is always found within that many steps.
    fn alloc_id(&mut self) -> PlayerId {
        loop {
            let id = PlayerId(self.next_id);
            self.next_id = self.next_id.wrapping_add(1);
            if !self.names.contains_key(&id) {
                return id;
            }
        }
    }

    fn join(&mut self, id: PlayerId, name: String, owner: Owner) {
        self.names.insert(id, name);
        self.pending_joins.push((id, owner));
    }

    /// Closes a connection from the server's side (its player is kept for a resume when the
    /// reason is one a client can come back from).
    fn close(&mut self, key: ClientKey, reason: CloseReason) {
        if let Some(conn) = self.conns.remove(&key) {
            self.end_session(conn, reason.to_string(), reason.resumable());
        }
        self.out.push_back(Transmit::Close { key, reason });
    }

    /// Sends a control message to one connection.
    fn send(&mut self, key: ClientKey, msg: &ServerMsg) {
        match encode_frame(msg) {
            Ok(bytes) => self.send_frame(key, bytes),
            Err(e) => tracing::error!("cannot encode control message: {e}"),
        }
    }

    /// Queues a control message already framed (`encode_frame`).
    fn send_frame(&mut self, key: ClientKey, bytes: Vec<u8>) {
        self.metrics.bytes_out.inc_by(bytes.len() as u64);
        self.out.push_back(Transmit::Control { key, bytes });
    }

    /// Sends a control message to every welcomed client (encoded once).
    fn broadcast(&mut self, msg: &ServerMsg) {
        let bytes = match encode_frame(msg) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("cannot encode control message: {e}");
                return;
            }
        };
        let welcomed: Vec<ClientKey> = self
            .conns
            .iter()
            .filter(|(_, c)| c.client().is_some())
            .map(|(k, _)| *k)
            .collect();
        for key in welcomed {
            self.send_frame(key, bytes.clone());
        }
    }

    /// One tick at `now`: timers, joins, inputs gathered, the simulation step, verdicts, events,
    /// the recording and snapshots.
    pub fn tick(&mut self, now: Duration) {
        self.tick_within(now, &mut || false);
    }

    /// `tick`, where `spent()` says whether the tick has used its time (the tick loop asks the
    /// wall clock against `--tick-budget`). Once it has, the snapshots still due are postponed
    /// to the next tick, where they go first, oldest first: a tick that would run long (a burst
    /// of old baselines, a stolen core) spreads its work over the next instead of holding the
    /// core the network threads need. At least one snapshot goes out per tick, so every client
    /// is served in turn however long the overload lasts. The simulation is never postponed.
    pub fn tick_within(&mut self, now: Duration, spent: &mut dyn FnMut() -> bool) {
        self.advance(now);
        self.expire_handshakes(now);
        self.drop_silent(now);
        self.expire_parked(now);
        self.match_before_tick();
        let joins: Vec<(PlayerId, String)> = std::mem::take(&mut self.pending_joins)
            .into_iter()
            .map(|(id, owner)| {
                self.sim.add_player(id, owner);
                (id, self.names.get(&id).cloned().unwrap_or_default())
            })
            .collect();
        let tick = self.sim.tick().next();
        let players = self.sim.players();
        let (mut inputs, mut seen) = self.gather_inputs(tick, &players);
        if self.in_intermission() {
            // Between matches nobody moves or fires (and nothing is recorded).
            for input in inputs.values_mut() {
                *input = rewind_shared::input::Input {
                    aim: input.aim,
                    ..Default::default()
                };
            }
            seen.clear();
        }
        seen.sort_by_key(|(shooter, _)| *shooter);
        self.metrics.seen_overrides.inc_by(seen.len() as u64);
        let events = self.sim.step_seen(inputs.clone(), seen_targets(&seen));
        self.metrics.ticks.inc();
        self.stats.players(players.len());
        self.metrics.players.set(players.len() as i64);
        self.metrics.clients.set(self.clients() as i64);
        self.keep_for_killcams(tick, &events);
        self.handle_sim_events(tick, events);
        self.record(tick, joins, inputs, seen);
        if self.cfg.rules.limited() {
            let after = self.sim.players();
            self.match_after_tick(tick, &after);
        }
        self.send_snapshots(tick, now, spent);
    }

    fn expire_handshakes(&mut self, now: Duration) {
        let timeout = self.cfg.handshake_timeout;
        let late: Vec<ClientKey> = self
            .conns
            .iter()
            .filter(|(_, c)| matches!(c.stage, Stage::AwaitingHello { since } if now.saturating_sub(since) >= timeout))
            .map(|(k, _)| *k)
            .collect();
        for key in late {
            self.reject(
                key,
                rewind_shared::protocol::RejectReason::Protocol("handshake timeout".into()),
            );
        }
    }

    /// Frees the slots of clients that stopped sending (their connection may look alive to QUIC,
    /// which keeps it open with its own keep-alives).
    fn drop_silent(&mut self, now: Duration) {
        let silent: Vec<(ClientKey, Duration)> = self
            .conns
            .iter()
            .filter_map(|(k, c)| Some((*k, c.client()?.silent(now)?)))
            .collect();
        for (key, quiet) in silent {
            self.metrics.guard.dropped_silent.inc();
            self.close(key, CloseReason::Silent(quiet));
        }
    }

    /// Every player's input for `tick`, and the targets shooters had in view where they differ
    /// from the history.
    fn gather_inputs(
        &mut self,
        tick: Tick,
        players: &[PlayerState],
    ) -> (BTreeMap<PlayerId, Input>, SeenRecord) {
        let mut inputs: BTreeMap<PlayerId, Input> = BTreeMap::new();
        let mut seen = SeenRecord::new();
        let rules = ViewRules {
            tick_rate: self.cfg.tick_rate,
            interval: self.cfg.snapshot_interval,
        };
        let judge = self.cfg.lagcomp && !self.cfg.trust_views;
        for client in self.conns.values_mut().filter_map(Conn::client_mut) {
            self.metrics.input_depth.observe(client.inputs.depth() as f64);
            let missing = client.inputs.counters.missing;
            let mut input = client.inputs.take(tick);
            if let Some(view) = input.view.filter(|_| judge && input.fire()) {
                input.view = match client.snaps.judge_view(view, tick, &rules) {
                    ViewVerdict::Valid => Some(view),
                    ViewVerdict::Clamped(v, rule) => {
                        self.metrics.clamped_views.inc();
                        tracing::debug!(player = %client.player, %tick, ?rule, ?view, to = ?v, "view clamped");
                        Some(v)
                    }
                    ViewVerdict::Refused(why) => {
                        tracing::debug!(player = %client.player, ?why, ?view, "view refused");
                        Some(REFUSED_VIEW)
                    }
                };
            }
            if let Some(view) = input
                .view
                .filter(|v| input.fire() && *v != REFUSED_VIEW && self.cfg.lagcomp)
            {
                // Trace what this client had: it differs from the history when the fog hid a
                // player from it or the byte budget deferred one.
                let had = client.snaps.hitboxes(view);
                let history = self.sim.history().view(view).ok().map(|v| v.targets);
                if let Some(had) = had.filter(|h| Some(h) != history.as_ref()) {
                    seen.push((client.player, had.into_iter().map(|(q, id)| (id, q)).collect()));
                }
            }
            inputs.insert(client.player, input);
            self.metrics
                .missing_inputs
                .inc_by(client.inputs.counters.missing - missing);
        }
        self.parked_inputs(&mut inputs);
        let map = self.sim.map();
        for (id, brain) in &mut self.ai {
            if let Ok(at) = players.binary_search_by_key(id, |p| p.id) {
                inputs.insert(
                    *id,
                    brain.think(&players[at], players, &map, tick, self.cfg.tick_rate),
                );
            }
        }
        (inputs, seen)
    }

    fn record(
        &mut self,
        tick: Tick,
        joins: Vec<(PlayerId, String)>,
        inputs: BTreeMap<PlayerId, Input>,
        seen: SeenRecord,
    ) {
        let leaves = std::mem::take(&mut self.pending_leaves);
        let chat = std::mem::take(&mut self.pending_chat);
        let Some(rec) = &self.recorder else {
            return;
        };
        let hash = self.sim.hash();
        rec.tick(TickRecord {
            tick,
            leaves,
            joins,
            inputs: inputs.into_iter().collect(),
            chat,
            seen,
            hash,
        });
        if rec.header().keyframe_due(tick) {
            let world = self.sim.to_sim_world();
            let roster = self.names.iter().map(|(id, n)| (*id, n.clone())).collect();
            rec.keyframe(Keyframe {
                tick,
                players: world.players,
                history: world.history,
                roster,
            });
        }
    }

    /// Copies the tick's hitboxes and shots into the killcam ring.
    fn keep_for_killcams(&mut self, tick: Tick, events: &[SimEvent]) {
        let samples = self.sim.history().at(tick).map(<[_]>::to_vec).unwrap_or_default();
        let shots: Vec<Shot> = events
            .iter()
            .filter_map(|e| match e {
                SimEvent::Shot(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        self.killcams.record(tick, samples, &shots);
    }

    /// Sends the victim its killcam, if it is a connected client (an AI needs none; nobody
    /// alive is sent anything). Only on the reliable control stream, within its stated bound.
    fn send_killcam(&mut self, tick: Tick, shot: &Shot, victim: PlayerId) {
        let Some(key) = self
            .conns
            .iter()
            .find_map(|(k, c)| (c.client()?.player == victim).then_some(*k))
        else {
            return;
        };
        let Some(cam) = self.killcams.build(tick, shot, victim) else {
            return;
        };
        // Encoded once (a killcam is seconds of frames, and a big server cuts several a tick).
        match encode_frame(&ServerMsg::Killcam(cam)) {
            Ok(frame) => {
                let body = frame.len().saturating_sub(rewind_shared::frame::FRAME_HEADER);
                if body <= rewind_shared::killcam::KILLCAM_MAX_BYTES {
                    self.metrics.killcams.inc();
                    self.metrics.killcam_bytes.inc_by(body as u64);
                    self.send_frame(key, frame);
                } else {
                    tracing::error!(bytes = body, "killcam over its bound, not sent");
                }
            }
            Err(e) => tracing::error!("cannot encode killcam: {e}"),
        }
    }

    fn handle_sim_events(&mut self, tick: Tick, events: Vec<SimEvent>) {
        let mut fired: Vec<Shot> = Vec::new();
        for e in events {
            match e {
                SimEvent::Shot(shot) => {
                    self.count_shot(tick, &shot);
                    let n = self.shots_fired.entry(shot.shooter).or_insert(0);
                    *n = n.wrapping_add(1);
                    if shot.target.is_some() {
                        fired.push(shot.clone());
                    }
                    self.send_verdict(tick, shot);
                }
                SimEvent::Kill { killer, victim } => {
                    self.broadcast(&ServerMsg::Event(GameEvent::Kill { killer, victim }));
                    if let Some(shot) = fired
                        .iter()
                        .rev()
                        .find(|s| s.shooter == killer && s.target == Some(victim))
                    {
                        let shot = shot.clone();
                        self.send_killcam(tick, &shot, victim);
                    }
                }
                SimEvent::Respawn(_) => {}
            }
        }
    }

    /// The verdict on a client's shot, with exactly the hitboxes the step traced.
    fn send_verdict(&mut self, tick: Tick, shot: Shot) {
        let Some((key, seq)) = self.conns.iter().find_map(|(k, c)| {
            let client = c.client()?;
            (client.player == shot.shooter).then(|| client.inputs.last_applied().map(|s| (*k, s)))?
        }) else {
            return;
        };
        let debug = self
            .conns
            .get(&key)
            .and_then(|c| c.client())
            .is_some_and(|c| c.debug_hitboxes);
        // Only the targets the shooter had in view: the verdict must not reveal the others.
        let seen = shot.view.and_then(|v| {
            let c = self.conns.get(&key)?.client()?;
            c.snaps.received_set(v.tick_b).cloned()
        });
        let mut hitboxes = if debug { shot.traced } else { Vec::new() };
        if let Some(seen) = seen {
            hitboxes.retain(|(id, _)| seen.get(id).is_some_and(|e| e.in_view()));
        }
        let verdict = ShotVerdict {
            seq,
            tick,
            target: shot.target,
            mode: shot.mode,
            origin: pos2_to_q(shot.origin),
            end: pos2_to_q(shot.origin + shot.dir * shot.dist),
            hitboxes,
        };
        self.send(key, &ServerMsg::Verdict(verdict));
    }

    /// Shot counters, and how far back the shot was rewound.
    fn count_shot(&self, tick: Tick, shot: &Shot) {
        let m = &self.metrics;
        m.shots.inc();
        m.hits.inc_by(u64::from(shot.target.is_some()));
        match shot.mode {
            ShotMode::Rewound | ShotMode::TooOld => {
                m.rejected_too_old
                    .inc_by(u64::from(shot.mode == ShotMode::TooOld));
                if let Some(v) = shot.view {
                    m.rewind_ticks.observe(f64::from(tick.diff(v.tick_b).max(0)));
                }
            }
            ShotMode::Refused => {
                m.refused_views.inc();
            }
            ShotMode::Present => {}
        }
    }

    /// Snapshots to the clients whose turn this tick is (`snapshot_phase`): each client gets one
    /// every `snapshot_interval` ticks, and the clients are spread over the interval's ticks so
    /// that no tick builds them all (at 256 players the snapshot ticks were what missed the
    /// budget, ~12 ms against ~1.5 ms for the ticks between). Past the tick's time (`spent`),
    /// the rest are owed to the next tick (`tick_within`).
    fn send_snapshots(&mut self, tick: Tick, now: Duration, spent: &mut dyn FnMut() -> bool) {
        let phases = self.cfg.snapshot_interval;
        let due = |c: &conn::Client| {
            c.owed_since.is_some() || snapshot_phase(c.player, phases) == tick.0 % phases.max(1)
        };
        // Postponed ones first, the longest waiting first; then the rest in key order.
        let mut order: Vec<(i32, ClientKey)> = self
            .conns
            .iter()
            .filter_map(|(key, conn)| {
                let c = conn.client().filter(|c| due(c))?;
                Some((c.owed_since.map_or(-1, |t| tick.diff(t)), *key))
            })
            .collect();
        if order.is_empty() {
            return;
        }
        order.sort_by_key(|(waited, _)| std::cmp::Reverse(*waited));
        let players: Vec<PlayerState> = self.sim.players();
        let mut set = entity_set(&players);
        for (id, e) in set.iter_mut() {
            e.shots = self.shots_fired.get(id).copied().unwrap_or(0);
        }
        let set = Arc::new(set);
        let map = self.cfg.fog.then(|| self.sim.map());
        let positions: Vec<_> = players.iter().map(|p| p.body.pos).collect();
        if map.is_some() {
            let ids: Vec<PlayerId> = players.iter().map(|p| p.id).collect();
            self.sight_memo.prepare(&ids);
        }
        let sight = map
            .as_ref()
            .map(|m| SightTable::with_memo(m, &positions, &self.sight_memo));
        let every = fog::refresh_every(self.clients(), players.len());
        let tick_len = Duration::from_secs_f64(1.0 / f64::from(self.cfg.tick_rate.max(1)));
        let interval = tick_len * self.cfg.snapshot_interval;
        // On a big server, the tile table and each player's sample tiles (the target margin does
        // not depend on the viewer, only the viewer's margin does).
        let tiles = match (&map, every > 1) {
            (Some(m), true) => self.tile_sight.get(m),
            _ => None,
        }
        .map(|t| {
            let slack = fog::TileScene::slack_for(interval);
            let target = FogMargins::new(Duration::ZERO, interval).target + slack;
            (
                t,
                fog::target_tiles(t, &players, FogMargins { viewer: 0.0, target }),
                slack,
            )
        });
        let mut seen = SeenTiles::default();
        let (mut out_of_time, mut postponed) = (false, 0u64);
        for (_, key) in &order {
            let Some(conn) = self.conns.get_mut(key) else {
                continue;
            };
            let max = conn.max_datagram.min(MAX_DATAGRAM);
            let Some(c) = conn.client_mut() else { continue };
            if out_of_time {
                c.owed_since.get_or_insert(tick);
                postponed += 1;
                continue;
            }
            c.owed_since = None;
            if !c.snapshot_due(now) {
                continue;
            }
            c.last_snapshot = Some(now);
            let mine = players.binary_search_by_key(&c.player, |p| p.id).ok();
            let you = mine.map(|i| &players[i]);
            let meta = SnapshotMeta {
                tick,
                last_input: c.inputs.last_applied(),
                input_lead: c.inputs.lead(tick),
                sent_at: now,
            };
            let fogged = match (&map, &sight, mine, you) {
                (Some(map), Some(sight), Some(mine), Some(me)) => {
                    let age = fog::view_age(&c.snaps, meta.input_lead, tick_len, interval);
                    if let Some(r) = me.life.respawn_at {
                        c.respawn_at = Some(r);
                    }
                    if rewind_shared::fog::near_respawn(c.respawn_at, tick, age, tick_len) {
                        Arc::clone(&set)
                    } else {
                        let scene = fog::FogScene {
                            players: &players,
                            sight,
                            map,
                            tick,
                            tick_len,
                            every,
                        };
                        let margins = FogMargins::new(age, interval);
                        match &tiles {
                            Some((table, targets, slack)) => {
                                let tile_scene = fog::TileScene {
                                    table,
                                    sight,
                                    players: &players,
                                    targets,
                                    tick,
                                    interval: self.cfg.snapshot_interval,
                                    slack: *slack,
                                };
                                c.fog.fogged_by_tiles(&tile_scene, &mut seen, mine, margins, &set)
                            }
                            None => fog::fogged(&set, &c.fog.hidden(&scene, mine, margins)),
                        }
                    }
                }
                _ => Arc::clone(&set),
            };
            let deferred = c.snaps.deferred;
            let datagram = snapshot_datagram(&mut c.snaps, &mut self.delta_scratch, meta, &fogged, you, max);
            self.metrics.deferred_entities.inc_by(c.snaps.deferred - deferred);
            match datagram {
                Ok(bytes) => {
                    self.stats.snapshot(bytes.len());
                    self.metrics.snapshot(bytes.len());
                    self.out.push_back(Transmit::Datagram { key: *key, bytes });
                }
                Err(e) => tracing::error!("cannot encode snapshot: {e}"),
            }
            out_of_time = spent();
        }
        self.metrics.postponed_snapshots.inc_by(postponed);
    }
}

/// The tick, modulo the snapshot interval, on which `player`'s client gets its snapshots: clients
/// take turns by player id, so each tick of the interval serves about as many of them.
pub fn snapshot_phase(player: PlayerId, interval: u32) -> u32 {
    u32::from(player.0) % interval.max(1)
}

/// Everyone's state as snapshots carry it.
pub fn entity_set(players: &[PlayerState]) -> EntitySet {
    players
        .iter()
        .map(|p| (p.id, EntityState::from_player(p)))
        .collect()
}

/// Builds one client's next snapshot, fitting `max` bytes, and encodes it: the per-client work of
/// a tick (public so the tick benchmark measures exactly this). `scratch` is working memory the
/// caller keeps from one client to the next.
pub fn snapshot_datagram(
    snaps: &mut crate::snapshots::SnapshotStream,
    scratch: &mut DeltaScratch,
    meta: SnapshotMeta,
    set: &Arc<EntitySet>,
    you: Option<&PlayerState>,
    max: usize,
) -> Result<Vec<u8>, CodecError> {
    let packet = snaps.build_in(scratch, meta, set, you, max);
    let bytes = encode_snapshot(&packet);
    scratch.recycle(packet.entities);
    bytes
}

#[cfg(test)]
mod match_tests;
#[cfg(test)]
mod tests;
