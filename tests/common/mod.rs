//! A minimal raw protocol client for server end-to-end tests: real QUIC on loopback, the real
//! wire format, no client-crate logic (so the server is tested against the protocol itself).

#![allow(dead_code, reason = "each test binary uses a different subset")]

use rewind_shared::ack::AckWindow;
use rewind_shared::codec::{decode_snapshot, encode};
use rewind_shared::frame::{FrameDecoder, encode_frame};
use rewind_shared::protocol::*;
use rewind_shared::snapshot::{EntitySet, apply_delta};
use rewind_shared::tick::Tick;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// A connected raw client.
pub struct RawClient {
    pub endpoint: quinn::Endpoint,
    pub conn: quinn::Connection,
    pub send: quinn::SendStream,
    pub recv: quinn::RecvStream,
    frames: FrameDecoder,
    /// Entity sets received, by tick.
    pub sets: BTreeMap<u32, EntitySet>,
    pub ack: AckWindow,
}

/// Connects, trusting exactly the server's self-signed certificate.
pub async fn connect(addr: SocketAddr, cert_der: &[u8]) -> RawClient {
    connect_from("127.0.0.1:0".parse().expect("test client"), addr, cert_der)
        .await
        .expect("test client connects")
}

/// Connects from a socket bound to `bind` (another loopback address acts as another host).
pub async fn connect_from(bind: SocketAddr, addr: SocketAddr, cert_der: &[u8]) -> Result<RawClient, String> {
    connect_tuned(bind, addr, cert_der, |_| {}).await
}

/// `connect_from` with the client's transport settings changed by `tune` (e.g. a tiny receive
/// window, as a client that wants to cost the server memory would advertise).
pub async fn connect_tuned(
    bind: SocketAddr,
    addr: SocketAddr,
    cert_der: &[u8],
    tune: impl FnOnce(&mut quinn::TransportConfig),
) -> Result<RawClient, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(cert_der.to_vec()))
        .expect("test client");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("test client")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls).expect("test client");
    let mut endpoint = quinn::Endpoint::client(bind).map_err(|e| e.to_string())?;
    let mut client = quinn::ClientConfig::new(Arc::new(crypto));
    let mut transport = quinn::TransportConfig::default();
    tune(&mut transport);
    client.transport_config(Arc::new(transport));
    endpoint.set_default_client_config(client);
    let conn = endpoint
        .connect(addr, "localhost")
        .map_err(|e| e.to_string())?
        .await
        .map_err(|e| e.to_string())?;
    let (send, recv) = conn.open_bi().await.map_err(|e| e.to_string())?;
    Ok(RawClient {
        endpoint,
        conn,
        send,
        recv,
        frames: FrameDecoder::new(MAX_CONTROL_FRAME),
        sets: BTreeMap::new(),
        ack: AckWindow::default(),
    })
}

impl RawClient {
    pub async fn send_msg(&mut self, msg: &ClientMsg) {
        self.send
            .write_all(&encode_frame(msg).expect("test client"))
            .await
            .expect("test client");
    }

    /// Sends a message if the connection still takes it (the server may already have closed it).
    pub async fn try_send_msg(&mut self, msg: &ClientMsg) -> bool {
        let bytes = encode_frame(msg).expect("test client");
        self.send.write_all(&bytes).await.is_ok()
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.send.write_all(bytes).await.expect("test client");
    }

    /// The next control message, or `None` if the stream ended or nothing came within 5 s.
    pub async fn next_msg(&mut self) -> Option<ServerMsg> {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(m) = self.frames.next_msg::<ServerMsg>().expect("test client") {
                return Some(m);
            }
            match tokio::time::timeout(Duration::from_secs(5), self.recv.read(&mut buf)).await {
                Ok(Ok(Some(n))) => self.frames.push(&buf[..n]),
                _ => return None,
            }
        }
    }

    /// Hello, then the server's answer.
    pub async fn hello(&mut self, version: u32, name: &str) -> ServerMsg {
        self.send_msg(&ClientMsg::Hello {
            version,
            name: name.into(),
        })
        .await;
        self.next_msg().await.expect("an answer to hello")
    }

    /// Receives one snapshot datagram, applies it to the stored baseline, records the ack.
    /// Returns the packet and the resulting entity set.
    pub async fn next_snapshot(&mut self, acking: bool) -> (SnapshotPacket, EntitySet) {
        loop {
            let bytes = tokio::time::timeout(Duration::from_secs(5), self.conn.read_datagram())
                .await
                .expect("a snapshot within 5 s")
                .expect("connection open");
            let packet: SnapshotPacket = decode_snapshot(&bytes, MAX_DATAGRAM).expect("test client");
            let empty = EntitySet::new();
            let base = match packet.baseline {
                None => &empty,
                Some(t) => match self.sets.get(&t.0) {
                    Some(s) => s,
                    None => continue, // baseline evicted on our side: skip
                },
            };
            let set = apply_delta(base, &packet.removed, &packet.entities).expect("test client");
            self.sets.insert(packet.tick.0, set.clone());
            while self.sets.len() > 128 {
                let first = *self.sets.keys().next().expect("test client");
                self.sets.remove(&first);
            }
            if acking {
                self.ack.record(packet.seq);
            }
            return (packet, set);
        }
    }

    /// Sends one input datagram.
    pub fn send_inputs(&self, inputs: Vec<InputCmd>) {
        let msg = ClientDatagram::Inputs {
            ack: self.ack,
            inputs,
        };
        self.conn
            .send_datagram(encode(&msg).expect("test client").into())
            .expect("test client");
    }
}

/// The tick a server is at, given a snapshot.
pub fn tick_of(p: &SnapshotPacket) -> Tick {
    p.tick
}
