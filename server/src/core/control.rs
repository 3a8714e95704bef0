//! The control stream inside the core: the handshake (hello → welcome or reject) and, once
//! playing, chat and leave. Bytes arrive as the transport reads them; frames are cut here.

use super::conn::{Client, Stage};
use super::{ClientKey, CloseReason, ServerCore};
use crate::ecs::components::Owner;
use crate::inputs::InputBuffer;
use crate::snapshots::SnapshotStream;
use rewind_shared::protocol::{
    ClientMsg, GameEvent, MAX_CHAT_CHARS, PROTOCOL_VERSION, RejectReason, ServerMsg, Welcome, valid_name,
};
use std::time::Duration;

impl ServerCore {
    /// Bytes read from a connection's control stream, in order.
    pub fn handle_control(&mut self, key: ClientKey, bytes: &[u8], _now: Duration) {
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
                self.on_playing_msg(key, msg);
            } else {
                self.on_hello(key, msg);
            }
        }
    }

    /// The first message of a connection.
    fn on_hello(&mut self, key: ClientKey, msg: ClientMsg) {
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
            conn.stage = Stage::Playing(Box::new(Client {
                player: id,
                inputs: InputBuffer::default(),
                snaps: SnapshotStream::default(),
            }));
        }
        self.metrics.handshakes.inc();
        tracing::info!(player = %id, %name, %key, "client joined");
    }

    fn on_playing_msg(&mut self, key: ClientKey, msg: ClientMsg) {
        match msg {
            ClientMsg::Chat { text } => {
                let text: String = text
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(MAX_CHAT_CHARS)
                    .collect();
                let Some(from) = self.conns.get(&key).and_then(|c| c.client()).map(|c| c.player) else {
                    return;
                };
                if text.trim().is_empty() {
                    return;
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
        self.send(key, &ServerMsg::Reject(reason.clone()));
        self.close(key, CloseReason::Rejected(reason));
    }
}
