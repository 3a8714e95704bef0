//! The sans-IO session: decoded messages and the time go in, datagrams and a `GameView` come out.
//!
//! It owns everything a connected client knows (welcome, map, received snapshots, prediction,
//! clock sync, shots) and nothing about sockets or clocks, so it runs the same under the real
//! QUIC connection, the bots, and the in-memory tests with scripted loss and reordering.

use crate::clock::ClockSync;
use crate::end::EndReason;
use crate::handshake::Welcomed;
use crate::interpolation::{Interpolator, SnapshotStore};
use crate::prediction::{Predictor, Reconciled};
use crate::shots::{ShotLedger, ShotRecord, ShotStats};
use crate::view::{ControlInput, DrawnPlayer, FeedLine, GameView, NetStats, Phase, ScoreRow, Tracer};
use rewind_shared::Vec2;
use rewind_shared::ack::AckWindow;
use rewind_shared::codec::{CodecError, decode, encode};
use rewind_shared::frame::{FrameDecoder, encode_frame};
use rewind_shared::input::{BUTTON_FIRE, Input, ShotView, aim_dir, aim_from_dir};
use rewind_shared::map::{Map, MapError};
use rewind_shared::player::score_rank;
use rewind_shared::player::{PlayerId, PlayerState};
use rewind_shared::protocol::{
    ClientDatagram, ClientMsg, GameEvent, InputCmd, MAX_CONTROL_FRAME, MAX_DATAGRAM, MAX_INPUTS_PER_PACKET,
    ServerMsg, SnapshotPacket, Welcome,
};
use rewind_shared::quant::q_to_pos2;
use rewind_shared::sim::{RESPAWN_S, SimConfig, resolve_shot};
use rewind_shared::snapshot::{EntitySet, apply_delta};
use rewind_shared::tick::{Seq, Tick};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// Lines kept in the kill feed and chat.
const FEED_LINES: usize = 8;
/// How long tracers stay.
const TRACER_LIFE: Duration = Duration::from_millis(250);
/// Window of the rate measurements of the net graph.
const RATE_WINDOW: Duration = Duration::from_secs(1);
/// RTT samples kept for the net graph.
const RTT_HISTORY: usize = 120;

/// Why the session cannot go on.
#[derive(Debug, Error)]
pub enum SessionError {
    /// The map in the welcome does not parse.
    #[error("the server sent a map that does not parse: {0}")]
    BadMap(#[from] MapError),
    /// An outgoing message could not be encoded.
    #[error("cannot encode: {0}")]
    Encode(#[from] CodecError),
}

/// Snapshot counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SnapshotCounters {
    /// Snapshots decoded and kept.
    pub received: u64,
    /// Sequences skipped (never seen, as of now).
    pub lost: u64,
    /// Copies of snapshots already received.
    pub duplicates: u64,
    /// Snapshots older than the newest (still used for interpolation).
    pub reordered: u64,
    /// Deltas against a baseline we no longer (or never) had.
    pub missing_baseline: u64,
    /// Datagrams that did not decode or whose delta was invalid.
    pub bad_packets: u64,
    /// Longest time without any new snapshot, in milliseconds (stalls of the stream).
    pub max_gap_ms: u64,
}

/// Everything the session counted, for reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct SessionStats {
    /// Snapshot counters.
    pub snapshots: SnapshotCounters,
    /// Shot counters.
    pub shots: ShotStats,
    /// Reconciliations that moved the local player.
    pub corrections: u64,
    /// State replacements that were not corrections (first state, death, respawn).
    pub resets: u64,
    /// Inputs sent (one per local tick).
    pub inputs: u64,
    /// Clock jumps.
    pub clock_jumps: u64,
    /// Datagram bytes received.
    pub bytes_down: u64,
    /// Datagram bytes sent.
    pub bytes_up: u64,
}

/// The connected client's state.
#[derive(Debug)]
pub struct Session {
    welcome: Welcome,
    control: FrameDecoder,
    ended: Option<EndReason>,
    map: Arc<Map>,
    cfg: SimConfig,
    names: BTreeMap<PlayerId, String>,
    store: SnapshotStore,
    acks: AckWindow,
    interp: Interpolator,
    clock: ClockSync,
    pred: Predictor,
    next_seq: Seq,
    unacked: VecDeque<InputCmd>,
    last_applied: Option<Seq>,
    highest_snap: Option<Seq>,
    ledger: ShotLedger,
    counters: SnapshotCounters,
    stats_bytes: (u64, u64),
    inputs: u64,
    feed: VecDeque<(String, Duration)>,
    chat: VecDeque<(String, Duration)>,
    tracers: VecDeque<(Vec2, Vec2, bool, Duration)>,
    phase: Phase,
    last_tick_at: Duration,
    last_render: Option<ShotView>,
    arrivals: VecDeque<Duration>,
    /// When the last snapshot was kept (not windowed: a stall longer than the window counts).
    last_arrival: Option<Duration>,
    down: VecDeque<(Duration, usize)>,
    up: VecDeque<(Duration, usize)>,
    rtt: Duration,
    rtt_history: VecDeque<f32>,
}

impl Session {
    /// A session for an accepted handshake. `rtt` is the handshake's round trip (seeds the clock).
    pub fn new(welcome: Welcome, now: Duration, rtt: Duration) -> Result<Session, SessionError> {
        Session::start(
            Welcomed {
                welcome,
                frames: FrameDecoder::new(MAX_CONTROL_FRAME),
            },
            now,
            rtt,
        )
    }

    /// A session for a completed handshake: the control stream's decoder comes along, so
    /// messages that arrived with the welcome are handled at once.
    pub fn start(welcomed: Welcomed, now: Duration, rtt: Duration) -> Result<Session, SessionError> {
        let Welcomed { welcome, frames } = welcomed;
        let map = Arc::new(Map::parse(&welcome.map_name, &welcome.map_text)?);
        let tick_rate = welcome.tick_rate.max(1);
        let cfg = SimConfig {
            tick_rate,
            lagcomp: welcome.lagcomp,
            max_rewind_ticks: welcome.max_rewind_ticks,
        };
        let rtt_ticks = rtt.as_secs_f32() * tick_rate as f32;
        let local = PlayerState {
            id: welcome.player_id,
            ..PlayerState::default()
        };
        let mut names: BTreeMap<PlayerId, String> = welcome.roster.iter().cloned().collect();
        names.entry(welcome.player_id).or_insert_with(|| "me".to_string());
        let mut session = Session {
            control: frames,
            ended: None,
            interp: Interpolator::new(tick_rate, welcome.snapshot_interval),
            clock: ClockSync::new(welcome.server_tick, rtt_ticks),
            pred: Predictor::new(cfg, map.clone(), local),
            map,
            cfg,
            names,
            welcome,
            store: SnapshotStore::default(),
            acks: AckWindow::default(),
            next_seq: Seq(0),
            unacked: VecDeque::new(),
            last_applied: None,
            highest_snap: None,
            ledger: ShotLedger::default(),
            counters: SnapshotCounters::default(),
            stats_bytes: (0, 0),
            inputs: 0,
            feed: VecDeque::new(),
            chat: VecDeque::new(),
            tracers: VecDeque::new(),
            phase: Phase::Playing,
            last_tick_at: now,
            last_render: None,
            arrivals: VecDeque::new(),
            last_arrival: None,
            down: VecDeque::new(),
            up: VecDeque::new(),
            rtt,
            rtt_history: VecDeque::new(),
        };
        session.on_control_bytes(&[], now);
        Ok(session)
    }

    /// The welcome the server sent.
    pub fn welcome(&self) -> &Welcome {
        &self.welcome
    }

    /// The map of the match.
    pub fn map(&self) -> &Arc<Map> {
        &self.map
    }

    /// Our player id.
    pub fn local_id(&self) -> PlayerId {
        self.welcome.player_id
    }

    /// The predicted state of our player.
    pub fn predicted(&self) -> &PlayerState {
        self.pred.state()
    }

    /// Whether the server has described our player yet.
    pub fn synced(&self) -> bool {
        self.pred.synced()
    }

    /// The received snapshots.
    pub fn snapshots(&self) -> &SnapshotStore {
        &self.store
    }

    /// The view the last tick rendered (what a shot fired then carried).
    pub fn last_view(&self) -> Option<ShotView> {
        self.last_render
    }

    /// Remote and local players as the last tick saw them: (entity, drawn position), the
    /// positions bots aim at.
    pub fn drawn_remotes(&self) -> Vec<(PlayerId, Vec2, bool)> {
        let Some(view) = self.last_render else {
            return Vec::new();
        };
        self.store
            .entities_at(view)
            .into_iter()
            .filter(|(e, _)| e.id != self.welcome.player_id)
            .map(|(e, q)| (e.id, q_to_pos2(q), e.alive))
            .collect()
    }

    /// Local time between two ticks, dilated by clock sync.
    pub fn tick_period(&self) -> Duration {
        Duration::from_secs_f64(1.0 / (f64::from(self.cfg.tick_rate) * f64::from(self.clock.rate())))
    }

    /// The smoothed input lead the server reports.
    pub fn input_lead(&self) -> f32 {
        self.clock.lead()
    }

    /// The session phase.
    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// Ends the session (the first reason stands).
    pub fn end(&mut self, reason: EndReason) {
        if self.ended.is_none() {
            self.phase = Phase::Ended {
                reason: reason.to_string(),
            };
            self.ended = Some(reason);
        }
    }

    /// Why the session ended, once it has.
    pub fn ended(&self) -> Option<&EndReason> {
        self.ended.as_ref()
    }

    /// Bytes read from the control stream: whole frames are handled at once; a frame that does
    /// not decode ends the session.
    pub fn on_control_bytes(&mut self, bytes: &[u8], now: Duration) {
        if !bytes.is_empty() {
            self.count_down(now, bytes.len());
            self.control.push(bytes);
        }
        loop {
            match self.control.next_msg::<ServerMsg>() {
                Ok(Some(m)) => self.on_server_msg(m, now),
                Ok(None) => return,
                Err(e) => return self.end(EndReason::BadControl(e.to_string())),
            }
        }
    }

    /// The control frame carrying a chat line (counted as sent).
    pub fn chat_frame(&mut self, text: String, now: Duration) -> Result<Vec<u8>, SessionError> {
        let bytes = encode_frame(&ClientMsg::Chat { text })?;
        self.count_up(now, bytes.len());
        Ok(bytes)
    }

    /// The control frame saying we leave on purpose.
    pub fn leave_frame(&mut self, now: Duration) -> Result<Vec<u8>, SessionError> {
        let bytes = encode_frame(&ClientMsg::Leave)?;
        self.count_up(now, bytes.len());
        Ok(bytes)
    }

    /// The measured round trip (from the transport).
    pub fn set_rtt(&mut self, rtt: Duration) {
        self.rtt = rtt;
        if self.rtt_history.len() >= RTT_HISTORY {
            self.rtt_history.pop_front();
        }
        self.rtt_history.push_back(rtt.as_secs_f32() * 1000.0);
    }

    /// Counts control-stream bytes received (datagrams are counted by `on_datagram`).
    fn count_down(&mut self, now: Duration, n: usize) {
        self.stats_bytes.0 += n as u64;
        self.down.push_back((now, n));
    }

    /// Counts control-stream bytes sent.
    fn count_up(&mut self, now: Duration, n: usize) {
        self.stats_bytes.1 += n as u64;
        self.up.push_back((now, n));
    }

    /// All counters.
    pub fn stats(&self) -> SessionStats {
        SessionStats {
            snapshots: self.counters,
            shots: self.ledger.stats(),
            corrections: self.pred.corrections(),
            resets: self.pred.resets(),
            inputs: self.inputs,
            clock_jumps: self.clock.jumps(),
            bytes_down: self.stats_bytes.0,
            bytes_up: self.stats_bytes.1,
        }
    }

    /// Shots still waiting for the server's verdict.
    pub fn shots_awaiting(&self) -> usize {
        self.ledger.awaiting()
    }

    /// A message from the control stream.
    pub fn on_server_msg(&mut self, msg: ServerMsg, now: Duration) {
        match msg {
            ServerMsg::Welcome(_) => {}
            ServerMsg::Reject(reason) => self.end(EndReason::Rejected(reason)),
            ServerMsg::Shutdown { reason } => self.end(EndReason::ServerClosed(reason)),
            ServerMsg::Verdict(v) => self.ledger.verdict(v),
            ServerMsg::Event(ev) => self.on_event(ev, now),
        }
    }

    fn name(&self, id: PlayerId) -> String {
        self.names.get(&id).cloned().unwrap_or_else(|| id.to_string())
    }

    fn on_event(&mut self, ev: GameEvent, now: Duration) {
        let line = match ev {
            GameEvent::Join { id, name } => {
                let l = format!("{name} joined");
                self.names.insert(id, name);
                l
            }
            GameEvent::Leave { id, reason } => {
                let l = format!("{} left ({reason})", self.name(id));
                self.names.remove(&id);
                l
            }
            GameEvent::Kill { killer, victim } => {
                format!("{} killed {}", self.name(killer), self.name(victim))
            }
            GameEvent::Chat { from, text } => {
                let line = format!("{}: {text}", self.name(from));
                push_line(&mut self.chat, line, now);
                return;
            }
        };
        push_line(&mut self.feed, line, now);
    }

    /// A datagram from the server: decoded with the size limit; garbage is counted and dropped.
    pub fn on_datagram(&mut self, bytes: &[u8], now: Duration) {
        self.count_down(now, bytes.len());
        match decode::<SnapshotPacket>(bytes, MAX_DATAGRAM) {
            Ok(pkt) => self.on_snapshot(pkt, now),
            Err(e) => {
                self.counters.bad_packets += 1;
                tracing::debug!("bad snapshot datagram: {e}");
            }
        }
    }

    /// A decoded snapshot.
    pub fn on_snapshot(&mut self, pkt: SnapshotPacket, now: Duration) {
        if self.acks.contains(pkt.seq) || self.store.get(pkt.tick).is_some() {
            self.counters.duplicates += 1;
            return;
        }
        let empty = EntitySet::new();
        let base = match pkt.baseline {
            None => &empty,
            Some(t) => match self.store.get(t) {
                Some(b) => b,
                None => {
                    self.counters.missing_baseline += 1;
                    return;
                }
            },
        };
        let set = match apply_delta(base, &pkt.removed, &pkt.entities) {
            Ok(s) => s,
            Err(e) => {
                self.counters.bad_packets += 1;
                tracing::debug!("bad snapshot delta: {e}");
                return;
            }
        };
        let newer_tick = self.store.newest().is_none_or(|n| pkt.tick.is_after(n));
        if !self.store.insert(pkt.tick, set) {
            self.counters.duplicates += 1;
            return;
        }
        self.acks.record(pkt.seq);
        self.counters.received += 1;
        let mut gap = 0u32;
        match self.highest_snap {
            None => self.highest_snap = Some(pkt.seq),
            Some(h) if pkt.seq.is_after(h) => {
                gap = (pkt.seq.diff(h) - 1) as u32;
                self.counters.lost += u64::from(gap);
                self.highest_snap = Some(pkt.seq);
            }
            Some(_) => {
                // A late one we had counted as lost.
                self.counters.lost = self.counters.lost.saturating_sub(1);
                self.counters.reordered += 1;
            }
        }
        if newer_tick && let Some(prev) = self.last_arrival {
            let gap = now.saturating_sub(prev).as_millis() as u64;
            self.counters.max_gap_ms = self.counters.max_gap_ms.max(gap);
        }
        self.last_arrival = Some(now);
        self.arrivals.push_back(now);
        self.interp.on_snapshot(pkt.tick, now, gap);
        if !newer_tick {
            return;
        }
        if let Some(s) = pkt.last_input
            && self.last_applied.is_none_or(|l| s.is_after(l))
        {
            self.last_applied = Some(s);
        }
        self.clock.on_lead(pkt.tick, pkt.input_lead);
        if let Some(you) = pkt.you {
            match self.pred.reconcile(pkt.tick, &you, now) {
                Reconciled::Corrected => {
                    tracing::debug!(tick = pkt.tick.0, "prediction corrected");
                    self.clock.on_misprediction();
                }
                Reconciled::Reset => {
                    if let Some(respawn) = you.life.respawn_at {
                        let died = respawn.offset(-(self.cfg.ticks(RESPAWN_S) as i32));
                        self.ledger.void_after(died);
                    }
                }
                Reconciled::Agreed | Reconciled::Stale => {}
            }
        }
    }

    /// One local tick: samples `control`, predicts, judges a shot if the weapon fires, and returns
    /// the input datagram to send.
    pub fn tick(&mut self, control: &ControlInput, now: Duration) -> Result<Vec<u8>, SessionError> {
        self.last_tick_at = now;
        let tick = self.clock.advance();
        let seq = self.next_seq;
        self.next_seq = seq.next();
        let input = Input {
            mv: [axis(control.mv.x), axis(control.mv.y)],
            aim: if control.aim == Vec2::ZERO {
                [0, 0]
            } else {
                aim_from_dir(control.aim)
            },
            buttons: if control.fire { BUTTON_FIRE } else { 0 },
            view: None,
        };
        let view = self.current_view(tick, now);
        self.last_render = view;
        let step = self.pred.step(tick, input, view);
        if let Some(origin) = step.fired_from {
            self.judge_own_shot(seq, tick, origin, view, now);
        }
        self.inputs += 1;
        self.unacked.push_back(InputCmd {
            seq,
            tick,
            input: step.input,
        });
        if let Some(applied) = self.last_applied {
            self.unacked.retain(|c| c.seq.is_after(applied));
        }
        while self.unacked.len() > MAX_INPUTS_PER_PACKET {
            self.unacked.pop_front();
        }
        let bytes = encode(&ClientDatagram::Inputs {
            ack: self.acks,
            inputs: self.unacked.iter().copied().collect(),
        })?;
        self.stats_bytes.1 += bytes.len() as u64;
        self.up.push_back((now, bytes.len()));
        self.trim(now);
        Ok(bytes)
    }

    /// The interpolation view for an input of `tick`, kept inside the server's rewind window.
    fn current_view(&mut self, tick: Tick, now: Duration) -> Option<ShotView> {
        let base = self.interp.base()?;
        let newest = self.store.newest()?;
        // tick_a must stay within the window the server keeps when it simulates `tick`; the
        // snapshot before the render time can be up to one interval older, plus a tick of margin.
        let interval = self.welcome.snapshot_interval.max(1) as i32;
        let oldest_ok = tick.offset(-(self.cfg.max_rewind_ticks as i32) + interval + 1);
        self.interp.set_min_render(f64::from(oldest_ok.diff(base)));
        let render = self.interp.render_time(now, f64::from(newest.diff(base)), true);
        self.store.view_at(base, render)
    }

    fn judge_own_shot(&mut self, seq: Seq, tick: Tick, origin: Vec2, view: Option<ShotView>, now: Duration) {
        let me = self.welcome.player_id;
        let targets = view.and_then(|v| self.store.hitboxes_at(v)).unwrap_or_default();
        let aim = self.pred.state().weapon.aim;
        let (dir, dist, target) = resolve_shot(&self.map, me, origin, aim, &targets);
        let end = origin + dir * dist;
        self.tracers.push_back((origin, end, true, now));
        self.ledger.fired(ShotRecord {
            seq,
            tick,
            fired_at: now,
            origin,
            end,
            client_target: target,
            client_hitboxes: targets,
            server: None,
        });
    }

    fn trim(&mut self, now: Duration) {
        let cut = now.saturating_sub(RATE_WINDOW);
        while self.arrivals.front().is_some_and(|t| *t < cut) {
            self.arrivals.pop_front();
        }
        while self.down.front().is_some_and(|(t, _)| *t < cut) {
            self.down.pop_front();
        }
        while self.up.front().is_some_and(|(t, _)| *t < cut) {
            self.up.pop_front();
        }
        let tcut = now.saturating_sub(TRACER_LIFE);
        while self.tracers.front().is_some_and(|(_, _, _, t)| *t < tcut) {
            self.tracers.pop_front();
        }
    }

    /// What to draw at `now`: remote players interpolated at this instant, the local player
    /// predicted and smoothed.
    pub fn view(&mut self, now: Duration) -> GameView {
        let me = self.welcome.player_id;
        let mut players = Vec::new();
        if let (Some(base), Some(newest)) = (self.interp.base(), self.store.newest()) {
            let render = self.interp.render_time(now, f64::from(newest.diff(base)), false);
            if let Some(v) = self.store.view_at(base, render) {
                for (e, q) in self.store.entities_at(v) {
                    if e.id == me {
                        continue;
                    }
                    players.push(DrawnPlayer {
                        id: e.id,
                        name: self.name(e.id),
                        pos: q_to_pos2(q),
                        aim: aim_dir(e.aim).unwrap_or(Vec2::X),
                        health: e.health,
                        alive: e.alive,
                        local: false,
                    });
                }
            }
        }
        let local = *self.pred.state();
        let frac = now.saturating_sub(self.last_tick_at).as_secs_f32() / self.tick_period().as_secs_f32();
        if self.pred.synced() {
            players.push(DrawnPlayer {
                id: me,
                name: self.name(me),
                pos: self.pred.render_pos(frac, now),
                aim: aim_dir(local.weapon.aim).unwrap_or(Vec2::X),
                health: local.life.health,
                alive: local.life.alive(),
                local: true,
            });
        }
        let server_now = self.estimated_server_tick(now);
        let respawn_in_s = local
            .life
            .respawn_at
            .filter(|_| self.pred.synced())
            .map(|at| (at.diff(server_now).max(0) as f32 / self.cfg.tick_rate as f32).max(0.0));
        let mut scoreboard: Vec<ScoreRow> = self
            .store
            .newest_set()
            .map(|s| {
                s.values()
                    .map(|e| ScoreRow {
                        id: e.id,
                        name: self.name(e.id),
                        kills: e.kills,
                        deaths: e.deaths,
                        ping_ms: (e.id == me).then_some(self.rtt.as_secs_f32() * 1000.0),
                    })
                    .collect()
            })
            .unwrap_or_default();
        scoreboard.sort_by_key(|r| score_rank(r.id, r.kills, r.deaths));
        GameView {
            phase: self.phase.clone(),
            map: Some(self.map.clone()),
            local_id: Some(me),
            players,
            tracers: self
                .tracers
                .iter()
                .map(|(from, to, local, at)| Tracer {
                    from: *from,
                    to: *to,
                    local: *local,
                    age_s: now.saturating_sub(*at).as_secs_f32(),
                })
                .collect(),
            shots: self.ledger.reviews(now),
            kill_feed: lines(&self.feed, now),
            chat: lines(&self.chat, now),
            scoreboard,
            respawn_in_s,
            net: self.net_stats(now),
        }
    }

    /// The server tick estimated now.
    pub fn estimated_server_tick(&self, now: Duration) -> Tick {
        match self.interp.base() {
            Some(base) => base.offset(self.interp.server_now(now).floor() as i32),
            None => self.welcome.server_tick,
        }
    }

    /// The net graph numbers at `now`.
    pub fn net_stats(&self, now: Duration) -> NetStats {
        let window = RATE_WINDOW.as_secs_f32();
        let cut = now.saturating_sub(RATE_WINDOW);
        let sum = |q: &VecDeque<(Duration, usize)>| {
            q.iter()
                .filter(|(t, _)| *t >= cut)
                .map(|(_, n)| *n)
                .sum::<usize>() as f32
                / window
        };
        let c = &self.counters;
        let expected = c.received + c.lost;
        let rtts: Vec<f32> = self.rtt_history.iter().copied().collect();
        let mean = rtts.iter().sum::<f32>() / rtts.len().max(1) as f32;
        let jitter_ms = rtts.iter().map(|r| (r - mean).abs()).sum::<f32>() / rtts.len().max(1) as f32;
        NetStats {
            rtt_ms: self.rtt.as_secs_f32() * 1000.0,
            jitter_ms: jitter_ms.max(self.interp.jitter().as_secs_f32() * 1000.0),
            loss: if expected == 0 {
                0.0
            } else {
                c.lost as f32 / expected as f32
            },
            snapshot_rate: self.arrivals.iter().filter(|t| **t >= cut).count() as f32 / window,
            down_bytes_per_s: sum(&self.down),
            up_bytes_per_s: sum(&self.up),
            interp_delay_ms: self.interp.delay().as_secs_f32() * 1000.0,
            corrections: self.pred.corrections(),
            server_tick: self.estimated_server_tick(now),
            rtt_history_ms: rtts,
        }
    }
}

fn axis(v: f32) -> i8 {
    (v.clamp(-1.0, 1.0) * 127.0).round() as i8
}

fn push_line(q: &mut VecDeque<(String, Duration)>, text: String, now: Duration) {
    if q.len() >= FEED_LINES {
        q.pop_front();
    }
    q.push_back((text, now));
}

fn lines(q: &VecDeque<(String, Duration)>, now: Duration) -> Vec<FeedLine> {
    q.iter()
        .map(|(text, at)| FeedLine {
            text: text.clone(),
            age_s: now.saturating_sub(*at).as_secs_f32(),
        })
        .collect()
}
