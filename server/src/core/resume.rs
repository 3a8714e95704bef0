//! Reconnect and resume. A player whose connection drops for a reason it can come back from (the
//! transport timed out or was lost, the client went silent or stopped reading) is *parked*: it
//! stays in the match, standing still where it was (it can be shot), and keeps its seat for the
//! grace period. A new connection whose first message is `ClientMsg::Resume` with the player's
//! token gets it back with its id, score, health and position; the recording never sees a leave.
//!
//! Only a client that has sent at least one datagram is parked: a connection that said hello and
//! nothing else (a slot squatter) is removed as before, so parking cannot be used to hold seats.
//! Parked players count against `--max-clients` and, with the live players of the same address,
//! against `--max-per-addr`, so one address can hold at most that many seats either way.

use super::conn::{Client, Conn, Stage};
use super::{ClientKey, CloseReason, ServerCore};
use rand::rngs::{ChaCha20Rng, SysRng};
use rand::{Rng, SeedableRng};
use rewind_shared::input::Input;
use rewind_shared::player::PlayerId;
use rewind_shared::protocol::{GameEvent, PROTOCOL_VERSION, RejectReason, ResumeToken, ServerMsg, Welcome};
use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::time::Duration;

/// A player waiting for its client to come back.
#[derive(Debug)]
pub(super) struct Parked {
    pub player: PlayerId,
    /// Where its connection came from (for the per-address seat count).
    pub addr: IpAddr,
    /// When its connection ended.
    pub since: Duration,
    /// The aim it keeps while it stands still.
    pub aim: [i16; 2],
    /// Why its connection ended (the leave reason if it never comes back).
    pub why: String,
}

/// Where resume tokens come from: a ChaCha20 stream seeded by the operating system, so tokens
/// cannot be guessed from each other or from the match seed.
pub(super) struct Tokens(ChaCha20Rng);

impl Tokens {
    pub fn from_os() -> Tokens {
        match ChaCha20Rng::try_from_rng(&mut SysRng) {
            Ok(rng) => Tokens(rng),
            Err(e) => {
                // No OS entropy (never seen on Linux): std's per-process random keys, which it
                // draws from the OS too when it can. Tokens stay unpredictable to a remote peer.
                tracing::warn!("no OS randomness for resume tokens ({e}); using std's hasher keys");
                let seed = RandomState::new().hash_one(std::time::SystemTime::now());
                Tokens(ChaCha20Rng::seed_from_u64(seed))
            }
        }
    }

    pub fn next(&mut self) -> ResumeToken {
        let mut t = [0u8; 16];
        self.0.fill_bytes(&mut t);
        ResumeToken(t)
    }
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens")
    }
}

impl ServerCore {
    /// Ends a connection's session: parks its player when `resumable` (and it ever sent a
    /// datagram, and resuming is on), otherwise removes it and tells everyone.
    pub(super) fn end_session(&mut self, conn: Conn, why: String, resumable: bool) {
        let addr = conn.addr;
        let Stage::Playing(c) = conn.stage else {
            return;
        };
        let keep = resumable && !self.stopped && !self.cfg.resume_grace.is_zero() && c.last_heard.is_some();
        if !keep {
            return self.leave(c.player, &why);
        }
        tracing::info!(player = %c.player, reason = %why, "connection lost; player kept for a resume");
        self.parked.insert(
            c.token,
            Parked {
                player: c.player,
                addr,
                since: self.now,
                aim: c.inputs.last_aim(),
                why,
            },
        );
    }

    /// Players (live or parked) whose connection came from `addr`.
    pub(super) fn seats_of(&self, addr: IpAddr) -> usize {
        let live = self
            .conns
            .values()
            .filter(|c| c.addr == addr && c.client().is_some())
            .count();
        live + self.parked.values().filter(|p| p.addr == addr).count()
    }

    /// Seats taken: playing clients and parked players.
    pub(super) fn seats(&self) -> usize {
        self.clients() + self.parked.len()
    }

    /// A parked player's input: stand still, keep the aim, never fire.
    pub(super) fn parked_inputs(&self, inputs: &mut BTreeMap<PlayerId, Input>) {
        for p in self.parked.values() {
            inputs.insert(
                p.player,
                Input {
                    aim: p.aim,
                    ..Input::default()
                },
            );
        }
    }

    /// Removes parked players whose grace period is over.
    pub(super) fn expire_parked(&mut self, now: Duration) {
        let grace = self.cfg.resume_grace;
        let over: Vec<ResumeToken> = self
            .parked
            .iter()
            .filter(|(_, p)| now.saturating_sub(p.since) >= grace)
            .map(|(t, _)| *t)
            .collect();
        for token in over {
            if let Some(p) = self.parked.remove(&token) {
                self.metrics.guard.resume_expired.inc();
                self.leave(p.player, &p.why);
            }
        }
    }

    /// The first message of a reconnecting client (its version already checked): its player
    /// back, or a refusal.
    pub(super) fn on_resume(&mut self, key: ClientKey, token: ResumeToken, now: Duration) {
        let player = match self.parked.remove(&token) {
            Some(p) => Some(p.player),
            None => self.take_over(token),
        };
        let Some(player) = player else {
            return self.reject(key, RejectReason::ResumeUnknown);
        };
        self.metrics.guard.resumed.inc();
        tracing::info!(%player, %key, "client resumed its player");
        self.welcome(key, player, now);
    }

    /// A token still held by a live connection: the client noticed the drop before the server
    /// did (or moved to a new network). The old connection is closed and its player handed over.
    fn take_over(&mut self, token: ResumeToken) -> Option<PlayerId> {
        let (old, player) = self.conns.iter().find_map(|(k, c)| {
            let client = c.client()?;
            (client.token == token).then_some((*k, client.player))
        })?;
        self.conns.remove(&old);
        self.out.push_back(super::Transmit::Close {
            key: old,
            reason: CloseReason::Replaced,
        });
        Some(player)
    }

    /// Welcomes `key` as `player` with a fresh resume token: the one place a connection starts
    /// playing, for new players and resumed ones alike.
    pub(super) fn welcome(&mut self, key: ClientKey, player: PlayerId, now: Duration) {
        let token = self.tokens.next();
        let welcome = Welcome {
            version: PROTOCOL_VERSION,
            player_id: player,
            tick_rate: self.cfg.tick_rate,
            snapshot_interval: self.cfg.snapshot_interval,
            map_name: self.cfg.map.name.clone(),
            map_text: self.cfg.map.source.clone(),
            server_tick: self.sim.tick(),
            lagcomp: self.cfg.lagcomp,
            max_rewind_ticks: self.sim.cfg().max_rewind_ticks,
            roster: self.names.iter().map(|(id, n)| (*id, n.clone())).collect(),
            resume_token: token,
            resume_grace_ms: u32::try_from(self.cfg.resume_grace.as_millis()).unwrap_or(u32::MAX),
        };
        self.send(key, &ServerMsg::Welcome(welcome));
        if self.cfg.rules.limited() && !self.in_intermission() {
            let start = self.match_start_event();
            self.send(key, &start);
        }
        if let Some(conn) = self.conns.get_mut(&key) {
            conn.stage = Stage::Playing(Box::new(Client::new(player, token, now, self.cfg.tick_rate)));
        }
    }

    /// Forgets a player for good, telling everyone.
    pub(super) fn leave(&mut self, player: PlayerId, reason: &str) {
        self.names.remove(&player);
        self.shots_fired.remove(&player);
        let before = self.pending_joins.len();
        self.pending_joins.retain(|(id, _)| *id != player);
        if self.pending_joins.len() == before {
            self.sim.remove_player(player);
            self.pending_leaves.push(player);
        }
        tracing::info!(%player, %reason, "player left");
        self.broadcast(&ServerMsg::Event(GameEvent::Leave {
            id: player,
            reason: reason.to_string(),
        }));
    }
}
