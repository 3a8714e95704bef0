//! The fixed-step tick loop on its own thread: drain network events, gather inputs (clients'
//! buffers and AI brains), run the ECS schedule, send verdicts, events and snapshots. It paces
//! itself with an accumulator against the wall clock, catching up after a slow tick instead of
//! drifting, and never blocks on the network.

use crate::ai::{AI_NAMES, AiBrain};
use crate::config::ServerConfig;
use crate::ecs::SimCore;
use crate::ecs::components::Owner;
use crate::inputs::InputBuffer;
use crate::link::{ConnKey, NetEvent};
use crate::metrics::Metrics;
use crate::recorder::Recorder;
use crate::snapshots::{SnapshotMeta, SnapshotStream};
use crate::stats::{NetCounters, ServerStats, StatsRecorder};
use rewind_shared::codec::{CodecError, encode};
use rewind_shared::input::Input;
use rewind_shared::player::{PlayerId, PlayerState};
use rewind_shared::protocol::{
    ClientDatagram, GameEvent, MAX_DATAGRAM, PROTOCOL_VERSION, RejectReason, ServerMsg, ShotVerdict, Welcome,
};
use rewind_shared::quant::pos2_to_q;
use rewind_shared::replay::{Keyframe, TickRecord};
use rewind_shared::sim::{ShotMode, SimEvent};
use rewind_shared::snapshot::{EntitySet, EntityState};
use rewind_shared::tick::Tick;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// Ticks behind schedule after which the loop stops trying to catch up.
const MAX_CATCH_UP_TICKS: u32 = 8;

struct Client {
    player: PlayerId,
    conn: quinn::Connection,
    ctrl: UnboundedSender<ServerMsg>,
    inputs: InputBuffer,
    snaps: SnapshotStream,
}

/// Everything the tick thread owns.
pub struct TickLoop {
    cfg: ServerConfig,
    core: SimCore,
    clients: BTreeMap<ConnKey, Client>,
    ai: BTreeMap<PlayerId, AiBrain>,
    names: BTreeMap<PlayerId, String>,
    next_id: u16,
    rx: Receiver<NetEvent>,
    stop: Arc<AtomicBool>,
    stats: StatsRecorder,
    net: Arc<NetCounters>,
    metrics: Arc<Metrics>,
    recorder: Option<Recorder>,
    /// Joins wait for the start of the next tick, after every leave, in the order a replay
    /// applies them (leaves, then joins), so spawn points come out the same.
    pending_joins: Vec<(PlayerId, String, Owner)>,
    pending_leaves: Vec<PlayerId>,
    pending_chat: Vec<(PlayerId, String)>,
}

impl TickLoop {
    /// A loop over a fresh match with the configured AI players.
    pub fn new(
        cfg: ServerConfig,
        rx: Receiver<NetEvent>,
        stop: Arc<AtomicBool>,
        net: Arc<NetCounters>,
        recorder: Option<Recorder>,
    ) -> TickLoop {
        let map = Arc::new(cfg.map.clone());
        let core = SimCore::new(cfg.sim_config(), map, Tick(0));
        let mut lp = TickLoop {
            core,
            clients: BTreeMap::new(),
            ai: BTreeMap::new(),
            names: BTreeMap::new(),
            next_id: 0,
            rx,
            stop,
            stats: StatsRecorder::default(),
            metrics: Arc::new(Metrics::new(net.clone())),
            net,
            recorder,
            pending_joins: Vec::new(),
            pending_leaves: Vec::new(),
            pending_chat: Vec::new(),
            cfg,
        };
        for i in 0..lp.cfg.ai {
            let id = lp.alloc_id();
            let name = format!("AI {}", AI_NAMES[usize::from(i) % AI_NAMES.len()]);
            lp.ai.insert(id, AiBrain::new(lp.cfg.seed, u64::from(i)));
            lp.join(id, name, Owner::Ai);
        }
        lp
    }

    /// The live metrics this loop updates (served by `--metrics`).
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// Last completed tick.
    pub fn current_tick(&self) -> Tick {
        self.core.tick()
    }

    /// Every player, in id order (benchmarks and tests build snapshots from it).
    pub fn players(&mut self) -> Vec<PlayerState> {
        self.core.players()
    }

    fn alloc_id(&mut self) -> PlayerId {
        let id = PlayerId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    fn join(&mut self, id: PlayerId, name: String, owner: Owner) {
        self.names.insert(id, name.clone());
        self.pending_joins.push((id, name, owner));
    }

    /// Runs until stopped or the match duration is over; returns the final statistics.
    pub fn run(mut self) -> ServerStats {
        let dt = Duration::from_secs_f64(1.0 / f64::from(self.cfg.tick_rate));
        let max_ticks = self
            .cfg
            .duration
            .map(|d| (d.as_secs_f64() * f64::from(self.cfg.tick_rate)).round() as u64);
        let mut next = Instant::now();
        let reason = loop {
            if self.stop.load(Ordering::Relaxed) {
                break "server stopped by the operator";
            }
            if max_ticks.is_some_and(|m| self.stats.stats.ticks >= m) {
                break "match over";
            }
            let now = Instant::now();
            if now < next {
                std::thread::sleep((next - now).min(Duration::from_millis(5)));
                continue;
            }
            let started = Instant::now();
            self.tick();
            let elapsed = started.elapsed();
            self.stats.tick(elapsed.as_micros() as u64);
            self.metrics.tick(elapsed);
            next += dt;
            if Instant::now() > next + dt * MAX_CATCH_UP_TICKS {
                self.stats.stats.overruns += 1;
                self.metrics.overruns.inc();
                next = Instant::now();
            }
        };
        self.shutdown(reason);
        self.stats.stats.final_hash = self.core.hash();
        self.stats.finish(&self.net)
    }

    /// One tick: events in, inputs gathered, schedule run, messages out.
    pub fn tick(&mut self) {
        self.drain_events();
        let joins: Vec<(PlayerId, String)> = std::mem::take(&mut self.pending_joins)
            .into_iter()
            .map(|(id, name, owner)| {
                self.core.add_player(id, owner);
                (id, name)
            })
            .collect();
        let tick = self.core.tick().next();
        let players = self.core.players();
        let mut inputs: BTreeMap<PlayerId, Input> = BTreeMap::new();
        for c in self.clients.values_mut() {
            self.metrics.input_depth.observe(c.inputs.depth() as f64);
            let missing = c.inputs.counters.missing;
            inputs.insert(c.player, c.inputs.take(tick));
            self.metrics
                .missing_inputs
                .inc_by(c.inputs.counters.missing - missing);
        }
        let map = self.core.map();
        for (id, brain) in &mut self.ai {
            if let Some(me) = players.iter().find(|p| p.id == *id) {
                inputs.insert(*id, brain.think(me, &players, &map, tick, self.cfg.tick_rate));
            }
        }
        let events = self.core.step(inputs.clone());
        self.stats.stats.players_max = self.stats.stats.players_max.max(players.len() as u64);
        self.metrics.players.set(players.len() as i64);
        self.metrics.clients.set(self.clients.len() as i64);
        self.handle_sim_events(&events);
        let leaves = std::mem::take(&mut self.pending_leaves);
        let chat = std::mem::take(&mut self.pending_chat);
        if let Some(rec) = &self.recorder {
            let hash = self.core.hash();
            rec.tick(TickRecord {
                tick,
                leaves,
                joins,
                inputs: inputs.into_iter().collect(),
                chat,
                hash,
            });
            if rec.header().keyframe_due(tick) {
                let world = self.core.to_sim_world();
                let roster = self.names.iter().map(|(id, n)| (*id, n.clone())).collect();
                rec.keyframe(Keyframe {
                    tick,
                    players: world.players,
                    history: world.history,
                    roster,
                });
            }
        }
        if tick.0.is_multiple_of(self.cfg.snapshot_interval) {
            self.send_snapshots(tick);
        }
    }

    fn drain_events(&mut self) {
        while let Ok(ev) = self.rx.try_recv() {
            match ev {
                NetEvent::Join {
                    key,
                    name,
                    conn,
                    ctrl,
                    reply,
                } => self.on_join(key, name, conn, ctrl, reply),
                NetEvent::Datagram { key, msg } => {
                    let next_tick = self.core.tick().next();
                    if let Some(c) = self.clients.get_mut(&key) {
                        let ClientDatagram::Inputs { ack, inputs } = msg;
                        c.snaps.on_ack(&ack);
                        let before = c.inputs.counters;
                        for cmd in inputs {
                            c.inputs.receive(cmd, next_tick);
                        }
                        let after = c.inputs.counters;
                        self.metrics.late_inputs.inc_by(after.late - before.late);
                        self.metrics
                            .future_inputs
                            .inc_by(after.too_far_ahead - before.too_far_ahead);
                    }
                }
                NetEvent::Chat { key, text } => {
                    if let Some(c) = self.clients.get(&key) {
                        let from = c.player;
                        self.pending_chat.push((from, text.clone()));
                        self.broadcast(ServerMsg::Event(GameEvent::Chat { from, text }));
                    }
                }
                NetEvent::Left { key, reason } => {
                    if let Some(c) = self.clients.remove(&key) {
                        self.fold_counters(&c);
                        self.names.remove(&c.player);
                        let before = self.pending_joins.len();
                        self.pending_joins.retain(|(id, _, _)| *id != c.player);
                        if self.pending_joins.len() == before {
                            self.core.remove_player(c.player);
                            self.pending_leaves.push(c.player);
                        }
                        tracing::info!(player = %c.player, %reason, "client left");
                        self.broadcast(ServerMsg::Event(GameEvent::Leave { id: c.player, reason }));
                    }
                }
            }
        }
    }

    fn on_join(
        &mut self,
        key: ConnKey,
        name: String,
        conn: quinn::Connection,
        ctrl: UnboundedSender<ServerMsg>,
        reply: tokio::sync::oneshot::Sender<Result<Welcome, RejectReason>>,
    ) {
        if self.clients.len() >= usize::from(self.cfg.max_clients) {
            let _ = reply.send(Err(RejectReason::ServerFull {
                max: self.cfg.max_clients,
            }));
            return;
        }
        let id = self.alloc_id();
        self.join(id, name.clone(), Owner::Client(key));
        let welcome = Welcome {
            version: PROTOCOL_VERSION,
            player_id: id,
            tick_rate: self.cfg.tick_rate,
            snapshot_interval: self.cfg.snapshot_interval,
            map_name: self.cfg.map.name.clone(),
            map_text: self.cfg.map.source.clone(),
            server_tick: self.core.tick(),
            lagcomp: self.cfg.lagcomp,
            max_rewind_ticks: self.core.cfg().max_rewind_ticks,
            roster: self.names.iter().map(|(id, n)| (*id, n.clone())).collect(),
        };
        if reply.send(Ok(welcome)).is_err() {
            // The connection died while we decided; undo.
            self.names.remove(&id);
            self.pending_joins.retain(|(j, _, _)| *j != id);
            return;
        }
        tracing::info!(player = %id, %name, "client joined");
        self.broadcast(ServerMsg::Event(GameEvent::Join { id, name }));
        self.clients.insert(
            key,
            Client {
                player: id,
                conn,
                ctrl,
                inputs: InputBuffer::default(),
                snaps: SnapshotStream::default(),
            },
        );
    }

    fn broadcast(&self, msg: ServerMsg) {
        for c in self.clients.values() {
            let _ = c.ctrl.send(msg.clone());
        }
    }

    fn handle_sim_events(&mut self, events: &[SimEvent]) {
        let tick = self.core.tick();
        for e in events {
            match e {
                SimEvent::Shot(shot) => {
                    let s = &mut self.stats.stats;
                    s.shots += 1;
                    s.hits += u64::from(shot.target.is_some());
                    s.rejected_too_old += u64::from(shot.mode == ShotMode::TooOld);
                    s.refused_views += u64::from(shot.mode == ShotMode::Refused);
                    self.count_shot(tick, shot);
                    let Some(c) = self.clients.values().find(|c| c.player == shot.shooter) else {
                        continue;
                    };
                    let Some(seq) = c.inputs.last_applied() else {
                        continue;
                    };
                    let hitboxes = match shot.view {
                        Some(v) if self.cfg.lagcomp => self
                            .core
                            .history()
                            .view(v)
                            .map(|rv| rv.targets)
                            .unwrap_or_default(),
                        _ => Vec::new(),
                    };
                    let verdict = ShotVerdict {
                        seq,
                        tick,
                        target: shot.target,
                        mode: shot.mode,
                        origin: pos2_to_q(shot.origin),
                        end: pos2_to_q(shot.origin + shot.dir * shot.dist),
                        hitboxes: hitboxes.into_iter().map(|(p, id)| (id, p)).collect(),
                    };
                    let _ = c.ctrl.send(ServerMsg::Verdict(verdict));
                }
                SimEvent::Kill { killer, victim } => {
                    self.broadcast(ServerMsg::Event(GameEvent::Kill {
                        killer: *killer,
                        victim: *victim,
                    }));
                }
                SimEvent::Respawn(_) => {}
            }
        }
    }

    /// Live counterparts of the shot statistics, plus how far back the shot was rewound.
    fn count_shot(&self, tick: Tick, shot: &rewind_shared::sim::Shot) {
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

    fn send_snapshots(&mut self, tick: Tick) {
        if self.clients.is_empty() {
            return;
        }
        let players: Vec<PlayerState> = self.core.players();
        let set = Arc::new(Self::entity_set(&players));
        for c in self.clients.values_mut() {
            let you = players.iter().find(|p| p.id == c.player);
            let meta = SnapshotMeta {
                tick,
                last_input: c.inputs.last_applied(),
                input_lead: c.inputs.lead(tick),
            };
            let max = c.conn.max_datagram_size().unwrap_or(1200).min(MAX_DATAGRAM);
            let deferred = c.snaps.deferred;
            let datagram = snapshot_datagram(&mut c.snaps, meta, &set, you, max);
            self.metrics.deferred_entities.inc_by(c.snaps.deferred - deferred);
            match datagram {
                Ok(bytes) => {
                    let len = bytes.len();
                    if c.conn.send_datagram(bytes.into()).is_ok() {
                        self.stats.snapshot(len);
                        self.metrics.snapshot(len);
                    }
                }
                Err(e) => tracing::error!("cannot encode snapshot: {e}"),
            }
        }
    }

    /// Everyone's state as snapshots carry it (what `send_snapshots` builds from).
    pub fn entity_set(players: &[PlayerState]) -> EntitySet {
        players
            .iter()
            .map(|p| (p.id, EntityState::from_player(p)))
            .collect()
    }

    fn fold_counters(&mut self, c: &Client) {
        let s = &mut self.stats.stats;
        s.missing_inputs += c.inputs.counters.missing;
        s.late_inputs += c.inputs.counters.late;
        s.future_inputs += c.inputs.counters.too_far_ahead;
        s.deferred_entities += c.snaps.deferred;
    }

    fn shutdown(&mut self, reason: &str) {
        tracing::info!(reason, ticks = self.stats.stats.ticks, "tick loop stopping");
        self.broadcast(ServerMsg::Shutdown {
            reason: reason.to_string(),
        });
        let clients: Vec<Client> = std::mem::take(&mut self.clients).into_values().collect();
        for c in &clients {
            self.fold_counters(c);
        }
        if let Some(rec) = self.recorder.take() {
            rec.finish();
        }
    }
}

/// Builds one client's next snapshot, fitting `max` bytes, and encodes it: the per-client work of
/// a tick (public so the tick benchmark measures exactly this).
pub fn snapshot_datagram(
    snaps: &mut SnapshotStream,
    meta: SnapshotMeta,
    set: &Arc<EntitySet>,
    you: Option<&PlayerState>,
    max: usize,
) -> Result<Vec<u8>, CodecError> {
    encode(&snaps.build(meta, set, you, max))
}
