//! The control stream inside the core: the handshake (hello → welcome or reject) and, once
//! playing, chat and leave. Bytes arrive as the transport reads them; frames are cut here.

use super::conn::{CHAT_BURST, CHAT_PER_S, CHAT_SERVER_PER_S};
use super::{ClientKey, CloseReason, ServerCore};
use crate::ecs::components::Owner;
use rewind_shared::protocol::{
    ClientMsg, GameEvent, MAX_CHAT_CHARS, PROTOCOL_VERSION, RejectReason, ServerMsg, valid_name,
};
use std::time::Duration;

impl ServerCore {
    /// Bytes read from a connection's control stream, in order.
    pub fn handle_control(&mut self, key: ClientKey, bytes: &[u8], now: Duration) {
        self.advance(now);
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

    /// The first message of a connection: a new player, or a resume.
    fn on_hello(&mut self, key: ClientKey, msg: ClientMsg, now: Duration) {
        let version = match &msg {
            ClientMsg::Hello { version, .. } | ClientMsg::Resume { version, .. } => *version,
            _ => return self.reject(key, RejectReason::Protocol("expected hello".into())),
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
        let name = match msg {
            ClientMsg::Resume { token, .. } => return self.on_resume(key, token, now),
            ClientMsg::Hello { name, .. } => name,
            _ => return,
        };
        if !valid_name(&name) {
            return self.reject(key, RejectReason::BadName);
        }
        // Seats held by players waiting to resume count too: dropping and coming back must not
        // lose a seat to a newcomer, and parking must not let one address hold more seats.
        if self.seats() >= usize::from(self.cfg.max_clients) {
            return self.reject(
                key,
                RejectReason::ServerFull {
                    max: self.cfg.max_clients,
                },
            );
        }
        let addr = self.conns.get(&key).map(|c| c.addr);
        if addr.is_some_and(|a| self.seats_of(a) >= usize::from(self.cfg.max_per_addr)) {
            return self.reject(
                key,
                RejectReason::TooManyFromAddress {
                    max: self.cfg.max_per_addr,
                },
            );
        }
        let id = self.alloc_id();
        self.join(id, name.clone(), Owner::Client(key.0));
        // Everyone else hears of the join before the newcomer is in the broadcast list.
        self.broadcast(&ServerMsg::Event(GameEvent::Join {
            id,
            name: name.clone(),
        }));
        self.welcome(key, id, now);
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
                let refusal = if !client.chat_allowed(now) {
                    Some(format!(
                        "chat limit: at most {CHAT_BURST} lines at once, {CHAT_PER_S} per second"
                    ))
                } else if !self.chat_budget.take(now) {
                    Some(format!(
                        "chat busy: the server carries at most {CHAT_SERVER_PER_S} lines per second; try again"
                    ))
                } else {
                    None
                };
                if let Some(text) = refusal {
                    self.metrics.guard.chat_dropped.inc();
                    return self.send(key, &ServerMsg::Event(GameEvent::Notice { text }));
                }
                self.pending_chat.push((from, text.clone()));
                self.broadcast(&ServerMsg::Event(GameEvent::Chat { from, text }));
            }
            ClientMsg::Leave => self.close(key, CloseReason::Left),
            ClientMsg::DebugView { hitboxes } => {
                if let Some(client) = self.conns.get_mut(&key).and_then(|c| c.client_mut()) {
                    client.debug_hitboxes = hitboxes;
                }
            }
            ClientMsg::Hello { .. } | ClientMsg::Resume { .. } => {
                self.close(key, CloseReason::Protocol("second hello".into()))
            }
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
            RejectReason::ResumeUnknown => g.refused_resume.inc(),
        };
        self.send(key, &ServerMsg::Reject(reason.clone()));
        self.close(key, CloseReason::Rejected(reason));
    }
}
