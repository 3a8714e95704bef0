//! The sans-IO session: decoded messages and the time go in, datagrams and a `GameView` come out.
//!
//! It owns everything a connected client knows (welcome, map, received snapshots, prediction,
//! clock sync, shots) and nothing about sockets or clocks, so it runs the same under the real
//! QUIC connection, the bots, and the in-memory tests with scripted loss and reordering.
//!
//! It is a composition: `Uplink` sends the inputs, `Downlink` keeps the snapshots, `Predictor`
//! and `ClockSync` run our player ahead of the server, `Interpolator` draws the others behind it,
//! `ShotLedger` judges our shots, `Feed` holds what the HUD tells and `Meter` what the net graph
//! shows. The session routes each input to the parts concerned and assembles the outputs.

use crate::cheat::{Cheat, WallhackCount, backtrack};
use crate::clock::ClockSync;
pub use crate::downlink::SnapshotCounters;
use crate::downlink::{Downlink, Kept};
use crate::end::EndReason;
use crate::feed::Feed;
use crate::handshake::Welcomed;
use crate::interpolation::{Interpolator, SnapshotStore};
use crate::killcam::KillcamPlayback;
use crate::meter::Meter;
use crate::prediction::{Predictor, Reconciled};
use crate::shots::{ShotLedger, ShotRecord, ShotStats};
use crate::uplink::{Uplink, input_of};
use crate::view::{ControlInput, DrawnPlayer, GameView, KillcamOverlay, NetStats, Phase, ScoreRow};
use rewind_shared::Vec2;
use rewind_shared::codec::CodecError;
use rewind_shared::fog::near_respawn;
use rewind_shared::frame::{FrameDecoder, encode_frame};
use rewind_shared::input::{BUTTON_FIRE, ShotView, aim_dir};
use rewind_shared::killcam::Killcam;
use rewind_shared::map::{Map, MapError};
use rewind_shared::player::score_rank;
use rewind_shared::player::{PlayerId, PlayerState};
use rewind_shared::protocol::{
    ClientMsg, GameEvent, MAX_CONTROL_FRAME, MAX_INPUTS_PER_PACKET, ServerMsg, SnapshotPacket, Welcome,
};
use rewind_shared::quant::q_to_pos2;
use rewind_shared::sim::{RESPAWN_S, Shot, SimConfig};
use rewind_shared::tick::{Seq, Tick};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

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
    /// Bytes received (datagrams and control stream).
    pub bytes_down: u64,
    /// Bytes sent (datagrams and control stream).
    pub bytes_up: u64,
    /// Fastest our player moved, as the server reported it (units per second).
    pub top_speed: f32,
    /// Remote positions received, and those beyond the line of sight (the wallhack's count).
    pub wallhack: WallhackCount,
    /// Bytes of the killcams received (encoded messages): downstream that only deaths cost.
    pub killcam_bytes: u64,
}

/// The connected client's state.
#[derive(Debug)]
pub struct Session {
    welcome: Welcome,
    /// Frames of the control stream not yet complete.
    control: FrameDecoder,
    ended: Option<EndReason>,
    phase: Phase,
    map: Arc<Map>,
    cfg: SimConfig,
    uplink: Uplink,
    downlink: Downlink,
    interp: Interpolator,
    clock: ClockSync,
    pred: Predictor,
    ledger: ShotLedger,
    feed: Feed,
    meter: Meter,
    /// When the last local tick ran (the drawn local player is smoothed from there).
    last_tick_at: Duration,
    /// Tick of the last input predicted and sent (a forward clock jump leaves a gap after it).
    last_input_tick: Option<Tick>,
    /// The view the last local tick rendered.
    last_render: Option<ShotView>,
    /// What the server was last told of the debug view (`ClientMsg::DebugView`).
    debug_told: bool,
    /// Shot counters of the remote players in view in the newest snapshot (`EntityState::shots`).
    remote_shots: Vec<(PlayerId, u8)>,
    /// The next `remote_shots`, kept to reuse its allocation.
    remote_shots_next: Vec<(PlayerId, u8)>,
    /// Counters of the parts a resume replaced (snapshot stream, prediction, clock).
    carried: Carried,
    /// Resumes so far.
    resumes: u32,
    /// When the connection dropped, while reconnecting.
    reconnecting_since: Option<Duration>,
    /// A red-team behaviour (bots only).
    cheat: Option<Cheat>,
    /// Nobody watches or listens (bots): what only a player would see or hear, other players'
    /// tracers, is not worked out (a ray each, for hundreds of bots in one process).
    headless: bool,
    top_speed: f32,
    wallhack: WallhackCount,
    /// Our latest respawn tick (past or due), from the server's word on our player.
    last_respawn: Option<Tick>,
    /// The killcam playing during our respawn wait.
    killcam: Option<KillcamPlayback>,
    /// The last killcam received (kept for tests and reports after it played).
    last_killcam: Option<Killcam>,
    /// Bytes of the killcams received.
    killcam_bytes: u64,
}

/// What the replaced parts had counted before a resume.
#[derive(Clone, Copy, Debug, Default)]
struct Carried {
    snapshots: SnapshotCounters,
    corrections: u64,
    resets: u64,
    clock_jumps: u64,
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
            rules: rewind_shared::sim::SIM_VERSION,
        };
        let rtt_ticks = rtt.as_secs_f32() * tick_rate as f32;
        tracing::debug!(
            player = welcome.player_id.0,
            server_tick = welcome.server_tick.0,
            rtt_ticks,
            "session starts"
        );
        let local = PlayerState {
            id: welcome.player_id,
            ..PlayerState::default()
        };
        let mut session = Session {
            control: frames,
            ended: None,
            phase: Phase::Playing,
            uplink: Uplink::new(tick_rate),
            downlink: Downlink::default(),
            interp: Interpolator::new(tick_rate, welcome.snapshot_interval),
            clock: ClockSync::new(welcome.server_tick, rtt_ticks, tick_rate),
            pred: Predictor::new(cfg, map.clone(), local),
            ledger: ShotLedger::default(),
            feed: Feed::new(&welcome.roster, welcome.player_id),
            meter: Meter::new(rtt),
            map,
            cfg,
            welcome,
            last_tick_at: now,
            last_input_tick: None,
            last_render: None,
            debug_told: false,
            remote_shots: Vec::new(),
            remote_shots_next: Vec::new(),
            carried: Carried::default(),
            resumes: 0,
            reconnecting_since: None,
            cheat: None,
            headless: false,
            top_speed: 0.0,
            wallhack: WallhackCount::default(),
            last_respawn: None,
            killcam: None,
            last_killcam: None,
            killcam_bytes: 0,
        };
        session.on_control_bytes(&[], now);
        Ok(session)
    }

    /// Our player back on a new connection after a drop. The parts that belong to the old
    /// connection start afresh (the snapshot stream and its acknowledgements, interpolation, the
    /// clock, prediction until the first snapshot), their counters carried over; the feed, the
    /// shots and the meters go on. Shots still awaiting a verdict are given up: it went out on
    /// the old connection. A welcome for another player or another map ends the session.
    pub fn resume(&mut self, welcomed: Welcomed, now: Duration, rtt: Duration) {
        let Welcomed { welcome, frames } = welcomed;
        if welcome.player_id != self.welcome.player_id || welcome.map_text != self.welcome.map_text {
            return self.end(EndReason::BadWelcome(format!(
                "the resumed session is not ours (player {} on {}, expected player {} on {})",
                welcome.player_id, welcome.map_name, self.welcome.player_id, self.welcome.map_name
            )));
        }
        let old = self.stats();
        self.carried = Carried {
            snapshots: old.snapshots,
            corrections: old.corrections,
            resets: old.resets,
            clock_jumps: old.clock_jumps,
        };
        let tick_rate = welcome.tick_rate.max(1);
        let rtt_ticks = rtt.as_secs_f32() * tick_rate as f32;
        let local = PlayerState {
            id: welcome.player_id,
            ..PlayerState::default()
        };
        self.downlink = Downlink::default();
        self.interp = Interpolator::new(tick_rate, welcome.snapshot_interval);
        self.clock = ClockSync::new(welcome.server_tick, rtt_ticks, tick_rate);
        self.pred = Predictor::new(self.cfg, self.map.clone(), local);
        self.ledger.abandon_awaited();
        self.feed.set_roster(&welcome.roster, welcome.player_id);
        self.control = frames;
        self.welcome = welcome;
        self.phase = Phase::Playing;
        self.last_render = None;
        self.debug_told = false;
        self.remote_shots.clear();
        self.last_tick_at = now;
        self.last_input_tick = None;
        self.resumes += 1;
        self.on_control_bytes(&[], now);
    }

    /// Resumes so far.
    pub fn resumes(&self) -> u32 {
        self.resumes
    }

    /// The token that resumes our player, and how long the server keeps it after a drop.
    pub fn resume_ticket(&self) -> (rewind_shared::protocol::ResumeToken, Duration) {
        (
            self.welcome.resume_token,
            Duration::from_millis(u64::from(self.welcome.resume_grace_ms)),
        )
    }

    /// Shows the match frozen under "Reconnecting… n s", counting from `since` (session time;
    /// `None`: back to playing).
    pub fn set_reconnecting(&mut self, since: Option<Duration>) {
        self.reconnecting_since = since;
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
        self.downlink.store()
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
        let store = self.downlink.store();
        let mut out = Vec::with_capacity(store.get(view.tick_b).map_or(0, |s| s.len()));
        out.extend(
            store
                .entities_at(view)
                .filter(|(e, _)| e.id != self.welcome.player_id)
                .map(|(e, q)| (e.id, q_to_pos2(q), e.alive)),
        );
        out
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
            self.meter.count_down(now, bytes.len());
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
        self.meter.count_up(now, bytes.len());
        Ok(bytes)
    }

    /// The control frame saying we leave on purpose.
    pub fn leave_frame(&mut self, now: Duration) -> Result<Vec<u8>, SessionError> {
        let bytes = encode_frame(&ClientMsg::Leave)?;
        self.meter.count_up(now, bytes.len());
        Ok(bytes)
    }

    /// A control frame to send now, if the debug view was opened or closed since the server was
    /// last told (every connection starts with it closed on the server's side).
    pub fn debug_frame(
        &mut self,
        control: &ControlInput,
        now: Duration,
    ) -> Result<Option<Vec<u8>>, SessionError> {
        if control.debug_view == self.debug_told {
            return Ok(None);
        }
        let bytes = encode_frame(&ClientMsg::DebugView {
            hitboxes: control.debug_view,
        })?;
        self.debug_told = control.debug_view;
        self.meter.count_up(now, bytes.len());
        Ok(Some(bytes))
    }

    /// The measured round trip (from the transport).
    pub fn set_rtt(&mut self, rtt: Duration) {
        self.meter.set_rtt(rtt);
    }

    /// All counters.
    pub fn stats(&self) -> SessionStats {
        let mut snapshots = self.carried.snapshots;
        snapshots += self.downlink.counters();
        SessionStats {
            snapshots,
            shots: self.ledger.stats(),
            corrections: self.carried.corrections + self.pred.corrections(),
            resets: self.carried.resets + self.pred.resets(),
            inputs: self.uplink.sent(),
            clock_jumps: self.carried.clock_jumps + self.clock.jumps(),
            bytes_down: self.meter.bytes_down(),
            bytes_up: self.meter.bytes_up(),
            top_speed: self.top_speed,
            wallhack: self.wallhack,
            killcam_bytes: self.killcam_bytes,
        }
    }

    /// Plays as a modified client would (`rewind bots --cheat`).
    pub fn set_cheat(&mut self, cheat: Option<Cheat>) {
        self.cheat = cheat;
    }

    /// Whether nobody watches this session (bots): their effects are left out.
    pub fn set_headless(&mut self, headless: bool) {
        self.headless = headless;
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
            // A kill is only a line of the kill feed, which nobody reads in a headless session.
            ServerMsg::Event(GameEvent::Kill { .. }) if self.headless => {}
            ServerMsg::Event(ev) => self.feed.on_event(ev, now),
            ServerMsg::Killcam(cam) => self.on_killcam(cam, now),
        }
    }

    /// Our killcam arrived: checked against its bounds, then played for what is left of the
    /// respawn wait.
    fn on_killcam(&mut self, cam: Killcam, now: Duration) {
        // The message's size: the killcam's and one byte of variant index.
        self.killcam_bytes += rewind_shared::codec::encode(&cam).map_or(0, |b| b.len() as u64 + 1);
        if let Err(e) = cam.validate() {
            tracing::warn!("killcam ignored: {e}");
            return;
        }
        if cam.victim != self.welcome.player_id {
            tracing::warn!("killcam ignored: it is not of our death");
            return;
        }
        let since = self.estimated_server_tick(now).diff(cam.tick).max(0) as f32 / self.cfg.tick_rate as f32;
        let available = (RESPAWN_S - since).clamp(0.5, RESPAWN_S);
        let names = cam.players.iter().map(|id| (*id, self.feed.name(*id))).collect();
        let playback =
            KillcamPlayback::new(cam.clone(), &self.map, names, self.cfg.tick_rate, now, available);
        tracing::info!(
            killer = cam.killer.0,
            victim = cam.victim.0,
            tick = cam.tick.0,
            origin = ?cam.origin,
            end = ?cam.end,
            traced = ?cam.traced,
            frames = cam.frames.len(),
            view_delay_ms = playback.view_delay_ms(),
            behind_wall_ms = playback.behind_wall_ms(),
            "killcam"
        );
        self.killcam = Some(playback);
        self.last_killcam = Some(cam);
    }

    /// Stops the killcam now (its key; `--no-killcam` stops every one as it arrives).
    pub fn skip_killcam(&mut self) {
        self.killcam = None;
    }

    /// The last killcam the server sent us, if any.
    pub fn last_killcam(&self) -> Option<&Killcam> {
        self.last_killcam.as_ref()
    }

    /// Our recent shots with their verdicts, oldest first.
    pub fn recent_shots(&self) -> impl Iterator<Item = &ShotRecord> {
        self.ledger.recent()
    }

    /// The killcam playing now, if any.
    pub fn killcam(&self) -> Option<&KillcamPlayback> {
        self.killcam.as_ref()
    }

    /// A datagram from the server: decoded with the size limit; garbage is counted and dropped.
    pub fn on_datagram(&mut self, bytes: &[u8], now: Duration) {
        self.meter.count_down(now, bytes.len());
        if let Some(pkt) = self.downlink.decode(bytes) {
            self.on_snapshot(pkt, now);
        }
    }

    /// A decoded snapshot: kept by the downlink (or dropped and counted), then interpolation
    /// learns of it, and if it is the newest, the server's word on our inputs, our clock and our
    /// player goes to the uplink, clock sync and prediction.
    pub fn on_snapshot(&mut self, pkt: SnapshotPacket, now: Duration) {
        let Some(Kept { newest, skipped }) = self.downlink.on_snapshot(&pkt, now) else {
            return;
        };
        self.meter.arrival(now);
        self.interp.on_snapshot(pkt.tick, now, skipped);
        if !newest {
            return;
        }
        if let Some(s) = pkt.last_input {
            self.uplink.on_applied(s);
        }
        self.remote_shots_fired(now);
        if let Some(you) = &pkt.you {
            self.top_speed = self.top_speed.max(you.body.vel.length());
            if let Some(r) = you.life.respawn_at {
                self.last_respawn = Some(r);
            }
            if self.cheat == Some(Cheat::Wallhack) {
                self.count_wallhack(you.body.pos, pkt.tick, pkt.input_lead);
            }
        }
        if let Some(by) = self.clock.on_lead(pkt.tick, pkt.input_lead) {
            tracing::debug!(tick = pkt.tick.0, lead = pkt.input_lead, by, "clock jumped");
        }
        if let Some(you) = pkt.you {
            match self.pred.reconcile(pkt.tick, &you, now) {
                Reconciled::Corrected => {
                    tracing::debug!(tick = pkt.tick.0, lead = pkt.input_lead, "prediction corrected");
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

    /// Other players' shots, from their shot counters in the newest snapshot: a tracer from where
    /// the snapshot has them along their aim to the first wall (the sound follows the tracer).
    /// Only players in view in both snapshots count, so a player coming out of the fog is silent.
    fn remote_shots_fired(&mut self, now: Duration) {
        if self.headless {
            return;
        }
        let Some(set) = self.downlink.store().newest_set() else {
            return;
        };
        let mine = self.welcome.player_id;
        // Both in id order: one walk, no map rebuilt per snapshot (a bot process runs hundreds
        // of these).
        let mut seen = std::mem::take(&mut self.remote_shots_next);
        seen.clear();
        let mut before = self.remote_shots.iter().peekable();
        let mut fired = Vec::new();
        for e in set.values().filter(|e| e.id != mine && e.in_view()) {
            seen.push((e.id, e.shots));
            while before.next_if(|(id, _)| *id < e.id).is_some() {}
            let was = before.next_if(|(id, _)| *id == e.id).map(|(_, n)| *n);
            if was.is_some_and(|n| n != e.shots)
                && let Some(dir) = aim_dir(e.aim)
            {
                let from = q_to_pos2(e.pos);
                let dist = self.map.raycast(from, dir, rewind_shared::sim::WEAPON_RANGE);
                fired.push((from, from + dir * dist));
            }
        }
        self.remote_shots_next = std::mem::replace(&mut self.remote_shots, seen);
        for (from, to) in fired {
            self.feed.tracer(from, to, false, now);
        }
    }

    /// One local tick: samples `control`, predicts, judges a shot if the weapon fires, and returns
    /// the input datagram to send.
    pub fn tick(&mut self, control: &ControlInput, now: Duration) -> Result<Vec<u8>, SessionError> {
        self.last_tick_at = now;
        let tick = self.clock.advance();
        let view = self.current_view(tick, now);
        self.last_render = view;
        let mut input = input_of(control);
        if self.feed.between_matches() {
            // The server ignores inputs until the next match: predict standing still.
            input = rewind_shared::input::Input {
                aim: input.aim,
                ..Default::default()
            };
        }
        self.fill_gap(tick, input);
        let mut view = view;
        match self.cheat {
            Some(Cheat::RapidFire) => input.buttons |= BUTTON_FIRE,
            Some(Cheat::Speed) => {
                input.mv = input.mv.map(|a| {
                    if a < 0 {
                        -127
                    } else if a > 0 {
                        127
                    } else {
                        0
                    }
                })
            }
            _ => {}
        }
        // What the view shows, for judging our own shot: only worth computing when the weapon
        // can fire this tick (a held trigger waits out the cooldown most ticks; the step fires
        // under the same rule, and a respawn does not touch the weapon).
        let can_fire = input.fire() && !self.pred.state().weapon.next_fire.is_after(tick);
        let mut drawn = match view {
            Some(v) if can_fire => self.downlink.store().hitboxes_at(v).unwrap_or_default(),
            _ => Vec::new(),
        };
        if self.cheat == Some(Cheat::Backtrack) && input.fire() {
            let me = self.pred.state();
            if let Some((v, boxes)) = backtrack(
                self.downlink.store(),
                &self.map,
                me.id,
                me.body.pos,
                input.aim,
                tick,
                self.cfg.max_rewind_ticks,
                view,
            ) {
                view = Some(v);
                drawn = boxes;
            }
        }
        let step = self.pred.step(tick, input, view, &drawn);
        if let Some(shot) = step.shot {
            self.record_own_shot(self.uplink.upcoming_seq(), tick, shot, (view, drawn), now);
        }
        // The loss measured on snapshots stands for the upstream's too.
        self.uplink.set_loss(self.downlink.counters().loss());
        let mut bytes = self.uplink.send(tick, step.input, self.downlink.acks())?;
        if self.cheat == Some(Cheat::Speed) {
            // The same tick again under a new sequence: a second move for one tick, if the server
            // were to take it.
            bytes = self.uplink.send(tick, step.input, self.downlink.acks())?;
        }
        self.meter.count_up(now, bytes.len());
        self.meter.expire(now);
        self.feed.expire(now);
        Ok(bytes)
    }

    /// After a forward clock jump the ticks between our last input and `tick` would reach the
    /// server without input (it repeats the last movement or stands still) while we predicted
    /// none of them: a misprediction at every jump, and every shot until the correction from a
    /// place the server does not have us at. So each skipped tick the server has not simulated
    /// yet (after the snapshot that made us jump) is predicted and sent with the movement and
    /// aim held now (never the trigger). A gap longer than one datagram holds is left to the
    /// correction.
    fn fill_gap(&mut self, tick: Tick, input: rewind_shared::input::Input) {
        let Some(last) = self.last_input_tick.replace(tick) else {
            return;
        };
        let gap = tick.diff(last) - 1;
        if gap <= 0 || gap >= MAX_INPUTS_PER_PACKET as i32 {
            return;
        }
        let held = rewind_shared::input::Input {
            buttons: input.buttons & !BUTTON_FIRE,
            view: None,
            ..input
        };
        // The server has simulated up to the snapshot that made the clock jump: filling those
        // ticks would predict moves it never made.
        let mut t = match self.clock.jumped_at() {
            Some(s) if s.is_after(last) => s.next(),
            _ => last.next(),
        };
        while tick.is_after(t) {
            let step = self.pred.step(t, held, None, &[]);
            self.uplink.hold(t, step.input);
            t = t.next();
        }
    }

    /// The wallhack's count: every remote position in the newest snapshot, and which of them
    /// were beyond the line of sight from `me` even with the fog's margins.
    fn count_wallhack(&mut self, me: Vec2, at: Tick, server_lead: i16) {
        let Some(set) = self.downlink.store().newest_set() else {
            return;
        };
        let mine = self.welcome.player_id;
        let others: Vec<Vec2> = set
            .values()
            .filter(|e| e.id != mine && e.in_view())
            .map(|e| q_to_pos2(e.pos))
            .collect();
        // The horizon the fog allows for: what this client's view age can be (the server's
        // rule, `rewind_server::core::fog::view_age`, from what the client knows of itself).
        let tick = Duration::from_secs_f64(1.0 / f64::from(self.cfg.tick_rate.max(1)));
        let interval = tick * self.welcome.snapshot_interval.max(1);
        // The lead the server measured for us (what its rule uses), not our own estimate.
        let lead = tick * u32::from(server_lead.max(0).unsigned_abs());
        let jitter = Duration::from_secs_f32(self.meter.rtt_jitter_ms().max(0.0) / 1000.0);
        // The server's round trip comes from acknowledgements, which wait for our next input
        // datagram: up to a tick more than the transport's (half on average, a quarter of a
        // tick of mean deviation, times four).
        let age = self.meter.rtt() + tick * 3 / 2 + jitter * 4 + lead + interval * 4;
        // The server lifts the fog within a view age before a respawn.
        let respawning = near_respawn(self.last_respawn, at, age, tick);
        self.wallhack
            .count(&self.map, me, others.into_iter(), age, interval, respawning);
    }

    /// The interpolation view for an input of `tick`, kept inside the server's rewind window.
    fn current_view(&mut self, tick: Tick, now: Duration) -> Option<ShotView> {
        let base = self.interp.base()?;
        let store = self.downlink.store();
        let newest = store.newest()?;
        // tick_a must stay within the window the server keeps when it simulates `tick`; the
        // snapshot before the render time can be up to one interval older, plus a tick of margin.
        let interval = self.welcome.snapshot_interval.max(1) as i32;
        let oldest_ok = tick.offset(-(self.cfg.max_rewind_ticks as i32) + interval + 1);
        self.interp.set_min_render(f64::from(oldest_ok.diff(base)));
        let render = self.interp.render_time(now, f64::from(newest.diff(base)), true);
        store.view_at(base, render)
    }

    /// Our shot as the shared `Fire` phase traced it against what we drew: the verdict we
    /// expect from the server, and the tracer we show at once.
    fn record_own_shot(
        &mut self,
        seq: Seq,
        tick: Tick,
        shot: Shot,
        (view, drawn): (Option<ShotView>, Vec<(PlayerId, Vec2)>),
        now: Duration,
    ) {
        let end = shot.origin + shot.dir * shot.dist;
        self.feed.tracer(shot.origin, end, true, now);
        self.ledger.fired(ShotRecord {
            seq,
            tick,
            fired_at: now,
            origin: shot.origin,
            end,
            client_target: shot.target,
            client_hitboxes: drawn,
            view,
            server: None,
        });
    }

    /// What to draw at `now`: remote players interpolated at this instant, the local player
    /// predicted and smoothed.
    pub fn view(&mut self, now: Duration) -> GameView {
        let me = self.welcome.player_id;
        let mut players = Vec::new();
        let store = self.downlink.store();
        if let (Some(base), Some(newest)) = (self.interp.base(), store.newest()) {
            let render = self.interp.render_time(now, f64::from(newest.diff(base)), false);
            if let Some(v) = store.view_at(base, render) {
                for (e, q) in store.entities_at(v) {
                    if e.id == me {
                        continue;
                    }
                    players.push(DrawnPlayer {
                        id: e.id,
                        name: self.feed.name(e.id),
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
                name: self.feed.name(me),
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
        let mut scoreboard: Vec<ScoreRow> = store
            .newest_set()
            .map(|s| {
                s.values()
                    .map(|e| ScoreRow {
                        id: e.id,
                        name: self.feed.name(e.id),
                        kills: e.kills,
                        deaths: e.deaths,
                        ping_ms: (e.id == me).then_some(ms(self.meter.rtt())),
                    })
                    .collect()
            })
            .unwrap_or_default();
        scoreboard.sort_by_key(|r| score_rank(r.id, r.kills, r.deaths));
        let phase = match (self.reconnecting_since, &self.phase) {
            (Some(since), Phase::Playing) => Phase::Reconnecting {
                for_s: now.saturating_sub(since).as_secs_f32(),
            },
            _ => self.phase.clone(),
        };
        let mut tracers = self.feed.tracers(now);
        let scene = self.killcam.as_ref().and_then(|k| k.scene(now));
        if scene.is_none() {
            self.killcam = None;
        }
        let killcam = scene.map(|scene| {
            players = scene.players;
            tracers = scene.tracers;
            KillcamOverlay {
                hint: "Space: skip the killcam".to_string(),
                ..scene.overlay
            }
        });
        GameView {
            phase,
            map: Some(self.map.clone()),
            local_id: Some(me),
            players,
            tracers,
            shots: self.ledger.reviews(now),
            kill_feed: self.feed.kill_feed(now),
            chat: self.feed.chat(now),
            scoreboard,
            respawn_in_s,
            match_over: self.feed.match_over(now),
            net: self.net_stats(now),
            killcam,
        }
    }

    /// The server tick estimated now.
    pub fn estimated_server_tick(&self, now: Duration) -> Tick {
        match self.interp.base() {
            Some(base) => base.offset(self.interp.server_now(now).floor() as i32),
            None => self.welcome.server_tick,
        }
    }

    /// The net graph numbers at `now`, each from the part that measures it.
    pub fn net_stats(&self, now: Duration) -> NetStats {
        NetStats {
            rtt_ms: ms(self.meter.rtt()),
            jitter_ms: self.meter.rtt_jitter_ms().max(ms(self.interp.jitter())),
            loss: self.downlink.counters().loss(),
            snapshot_rate: self.meter.snapshot_rate(now),
            down_bytes_per_s: self.meter.down_per_s(now),
            up_bytes_per_s: self.meter.up_per_s(now),
            interp_delay_ms: ms(self.interp.delay()),
            corrections: self.pred.corrections(),
            server_tick: self.estimated_server_tick(now),
            rtt_history_ms: self.meter.rtt_history_ms(),
        }
    }
}

/// A duration in milliseconds, as the net graph shows them.
fn ms(d: Duration) -> f32 {
    d.as_secs_f32() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rewind_shared::protocol::{PROTOCOL_VERSION, ResumeToken};

    fn session() -> Session {
        let welcome = Welcome {
            version: PROTOCOL_VERSION,
            player_id: PlayerId(3),
            tick_rate: 60,
            snapshot_interval: 2,
            map_name: "m".into(),
            map_text: "S.".into(),
            server_tick: Tick(9),
            lagcomp: true,
            max_rewind_ticks: 24,
            roster: vec![(PlayerId(3), "me".into()), (PlayerId(4), "ann".into())],
            resume_token: ResumeToken([7; 16]),
            resume_grace_ms: 30_000,
        };
        Session::new(welcome, Duration::ZERO, Duration::from_millis(20)).expect("a valid welcome")
    }

    /// A headless session (a bot) leaves out what only a player would read: the kill feed's
    /// lines. Everything else of an event still counts (a join names the player).
    #[test]
    fn a_headless_session_keeps_no_kill_feed() {
        let kill = ServerMsg::Event(GameEvent::Kill {
            killer: PlayerId(4),
            victim: PlayerId(3),
        });
        let join = ServerMsg::Event(GameEvent::Join {
            id: PlayerId(5),
            name: "bob".into(),
        });
        let now = Duration::from_millis(100);
        let mut watched = session();
        watched.on_server_msg(kill.clone(), now);
        let lines: Vec<String> = watched.view(now).kill_feed.into_iter().map(|l| l.text).collect();
        assert_eq!(lines, vec!["ann killed me".to_string()]);
        let mut headless = session();
        headless.set_headless(true);
        headless.on_server_msg(kill, now);
        assert!(headless.view(now).kill_feed.is_empty());
        headless.on_server_msg(join, now);
        assert_eq!(headless.feed.name(PlayerId(5)), "bob");
    }
}
