//! The control stream inside the core: the handshake (hello → welcome or reject) and, once
//! playing, chat and leave. Bytes arrive as the transport reads them; frames are cut here.

use super::conn::{CHAT_BURST, CHAT_PER_S, Client, Stage};
use super::{ClientKey, CloseReason, ServerCore};
use crate::ecs::components::Owner;
use rewind_shared::protocol::{
    ClientMsg, GameEvent, MAX_CHAT_CHARS, PROTOCOL_VERSION, RejectReason, ServerMsg, Welcome, valid_name,
};
use std::time::Duration;

impl ServerCore {
    /// Bytes read from a connection's control stream, in order.
    pub fn handle_control(&mut self, key: ClientKey, bytes: &[u8], now: Duration) {
        self.metrics.bytes_in.inc_by(bytes.len() as u64);
        let Some(conn) = self.conns.get_mut(&key) else {
            return;
        };
        conn.frames.push(bytes);
        loop {
            let Some(conn) = self.conns.get_mut(&key) else {
                return;
            };
            let playing = conn.client().is_some();
            let msg = match conn.frames.next_msg::<ClientMsg>() {
                Ok(Some(m)) => m,
                Ok(None) => return,
                Err(e) if playing => return self.close(key, CloseReason::Protocol(e.to_string())),
                Err(e) => return self.reject(key, RejectReason::Protocol(e.to_string())),
            };
            if playing {
                self.on_playing_msg(key, msg, now);
            } else {
                self.on_hello(key, msg, now);
            }
        }
    }

    /// The first message of a connection.
    fn on_hello(&mut self, key: ClientKey, msg: ClientMsg, now: Duration) {
        let ClientMsg::Hello { version, name } = msg else {
            return self.reject(key, RejectReason::Protocol("expected hello".into()));
        };
        if version != PROTOCOL_VERSION {
            return self.reject(
                key,
                RejectReason::VersionMismatch {
                    server: PROTOCOL_VERSION,
                    client: version,
                },
            );
        }
        if !valid_name(&name) {
            return self.reject(key, RejectReason::BadName);
        }
        if self.clients() >= usize::from(self.cfg.max_clients) {
            return self.reject(
                key,
                RejectReason::ServerFull {
                    max: self.cfg.max_clients,
                },
            );
        }
        let id = self.alloc_id();
        self.join(id, name.clone(), Owner::Client(key.0));
        let welcome = Welcome {
            version: PROTOCOL_VERSION,
            player_id: id,
            tick_rate: self.cfg.tick_rate,
            snapshot_interval: self.cfg.snapshot_interval,
            map_name: self.cfg.map.name.clone(),
            map_text: self.cfg.map.source.clone(),
            server_tick: self.sim.tick(),
            lagcomp: self.cfg.lagcomp,
            max_rewind_ticks: self.sim.cfg().max_rewind_ticks,
            roster: self.names.iter().map(|(id, n)| (*id, n.clone())).collect(),
        };
        // Everyone else hears of the join before the newcomer is in the broadcast list.
        self.broadcast(&ServerMsg::Event(GameEvent::Join {
            id,
            name: name.clone(),
        }));
        self.send(key, &ServerMsg::Welcome(welcome));
        if let Some(conn) = self.conns.get_mut(&key) {
            conn.stage = Stage::Playing(Box::new(Client::new(id, now)));
        }
        self.metrics.handshakes.inc();
        tracing::info!(player = %id, %name, %key, "client joined");
    }

    fn on_playing_msg(&mut self, key: ClientKey, msg: ClientMsg, now: Duration) {
        match msg {
            ClientMsg::Chat { text } => {
                let text: String = text
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(MAX_CHAT_CHARS)
                    .collect();
                let Some(client) = self.conns.get_mut(&key).and_then(|c| c.client_mut()) else {
                    return;
                };
                if text.trim().is_empty() {
                    return;
                }
                let from = client.player;
                if !client.chat_allowed(now) {
                    self.metrics.guard.chat_dropped.inc();
                    let text =
                        format!("chat limit: at most {CHAT_BURST} lines at once, {CHAT_PER_S} per second");
                    return self.send(key, &ServerMsg::Event(GameEvent::Notice { text }));
                }
                self.pending_chat.push((from, text.clone()));
                self.broadcast(&ServerMsg::Event(GameEvent::Chat { from, text }));
            }
            ClientMsg::Leave => self.close(key, CloseReason::Left),
            ClientMsg::Hello { .. } => self.close(key, CloseReason::Protocol("second hello".into())),
        }
    }

    /// Refuses a connection that is not playing: the reason on the control stream, then a close.
    pub(super) fn reject(&mut self, key: ClientKey, reason: RejectReason) {
        let g = &self.metrics.guard;
        match reason {
            RejectReason::VersionMismatch { .. } => g.refused_version.inc(),
            RejectReason::ServerFull { .. } => g.refused_full.inc(),
            RejectReason::BadName => g.refused_bad_name.inc(),
            RejectReason::ShuttingDown => g.refused_shutting_down.inc(),
            RejectReason::Protocol(_) => g.refused_protocol.inc(),
            RejectReason::TooManyFromAddress { .. } => g.refused_per_addr.inc(),
            RejectReason::Busy => g.refused_busy.inc(),
        };
        self.send(key, &ServerMsg::Reject(reason.clone()));
        self.close(key, CloseReason::Rejected(reason));
    }
}
