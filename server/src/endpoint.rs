//! The QUIC side: accept connections, run the handshake on the control stream, then pump
//! datagrams and control messages between the connection and the tick loop. Everything read here
//! comes from the network: decoded with size limits, errors counted or answered, never a panic.

use crate::cert::Identity;
use crate::config::ServerConfig;
use crate::link::{ConnKey, NetEvent};
use crate::stats::NetCounters;
use rewind_shared::codec::decode;
use rewind_shared::frame::{FrameDecoder, encode_frame};
use rewind_shared::protocol::{
    ALPN, ClientDatagram, ClientMsg, MAX_CHAT_CHARS, MAX_CONTROL_FRAME, MAX_DATAGRAM, PROTOCOL_VERSION,
    RejectReason, ServerMsg, valid_name,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Application close codes.
pub mod close {
    /// Normal end (leave, match over).
    pub const DONE: u32 = 0;
    /// Handshake refused (reason sent first on the stream).
    pub const REJECTED: u32 = 1;
    /// Protocol violation.
    pub const PROTOCOL: u32 = 2;
}

/// Why the endpoint could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// quinn refused the crypto configuration.
    #[error("QUIC crypto configuration: {0}")]
    Crypto(String),
    /// The conditioned socket could not be set up.
    #[error("cannot set up the conditioned socket: {0}")]
    Conditioned(String),
    /// Binding the socket failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: std::net::SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
}

/// The quinn server configuration for this identity.
pub fn server_config(id: &Identity, cfg: &ServerConfig) -> Result<quinn::ServerConfig, EndpointError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(vec![id.cert.clone()], id.key.clone_key())?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls)
        .map_err(|e| EndpointError::Crypto(e.to_string()))?;
    let mut server = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    let mut transport = quinn::TransportConfig::default();
    transport
        .max_idle_timeout(quinn::IdleTimeout::try_from(cfg.idle_timeout).ok())
        .keep_alive_interval(Some(Duration::from_secs(1)))
        .max_concurrent_bidi_streams(1u32.into())
        .max_concurrent_uni_streams(0u32.into())
        .datagram_receive_buffer_size(Some(256 * 1024))
        .datagram_send_buffer_size(1024 * 1024)
        // Loss-based congestion control halves its window on every random loss and starves the
        // game streams on a lossy 200 ms link; BBR models bandwidth and round trip instead.
        .congestion_controller_factory(Arc::new(quinn::congestion::BbrConfig::default()));
    server.transport_config(Arc::new(transport));
    Ok(server)
}

/// Shared by every connection task.
#[derive(Clone)]
pub struct NetContext {
    /// To the tick loop.
    pub tx: Sender<NetEvent>,
    /// Counters.
    pub counters: Arc<NetCounters>,
    /// Limits.
    pub handshake_timeout: Duration,
    /// Datagrams per second per connection.
    pub max_datagrams_per_s: u32,
}

/// Accepts connections until the endpoint is closed.
pub async fn accept_loop(endpoint: quinn::Endpoint, ctx: NetContext) {
    let next_key = AtomicU64::new(1);
    while let Some(incoming) = endpoint.accept().await {
        let key = next_key.fetch_add(1, Ordering::Relaxed);
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let remote = incoming.remote_address();
            match incoming.await {
                Ok(conn) => {
                    let reason = serve_connection(conn, key, &ctx).await;
                    tracing::debug!(%remote, key, %reason, "connection ended");
                }
                Err(e) => tracing::debug!(%remote, "handshake failed: {e}"),
            }
        });
    }
}

/// Runs one connection to its end; returns why it ended.
async fn serve_connection(conn: quinn::Connection, key: ConnKey, ctx: &NetContext) -> String {
    let (mut send, mut recv) = match tokio::time::timeout(ctx.handshake_timeout, conn.accept_bi()).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return format!("no control stream: {e}"),
        Err(_) => {
            conn.close(close::PROTOCOL.into(), b"handshake timeout");
            return "handshake timeout".into();
        }
    };
    let mut frames = FrameDecoder::new(MAX_CONTROL_FRAME);
    let hello = tokio::time::timeout(ctx.handshake_timeout, read_msg(&mut recv, &mut frames, ctx)).await;
    let (version, name) = match hello {
        Ok(Ok(Some(ClientMsg::Hello { version, name }))) => (version, name),
        Ok(Ok(Some(_))) => {
            return reject(&conn, &mut send, RejectReason::Protocol("expected hello".into())).await;
        }
        Ok(Ok(None)) => return "closed before hello".into(),
        Ok(Err(e)) => return reject(&conn, &mut send, RejectReason::Protocol(e)).await,
        Err(_) => {
            return reject(
                &conn,
                &mut send,
                RejectReason::Protocol("handshake timeout".into()),
            )
            .await;
        }
    };
    if version != PROTOCOL_VERSION {
        return reject(
            &conn,
            &mut send,
            RejectReason::VersionMismatch {
                server: PROTOCOL_VERSION,
                client: version,
            },
        )
        .await;
    }
    if !valid_name(&name) {
        return reject(&conn, &mut send, RejectReason::BadName).await;
    }
    let (ctrl_tx, mut ctrl_rx) = mpsc::unbounded_channel::<ServerMsg>();
    let (reply_tx, reply_rx) = oneshot::channel();
    let join = NetEvent::Join {
        key,
        name,
        conn: conn.clone(),
        ctrl: ctrl_tx,
        reply: reply_tx,
    };
    if ctx.tx.send(join).is_err() {
        return reject(&conn, &mut send, RejectReason::ShuttingDown).await;
    }
    let welcome = match reply_rx.await {
        Ok(Ok(w)) => w,
        Ok(Err(reason)) => return reject(&conn, &mut send, reason).await,
        Err(_) => return reject(&conn, &mut send, RejectReason::ShuttingDown).await,
    };
    ctx.counters.clients_total.fetch_add(1, Ordering::Relaxed);
    if write_msg(&mut send, &ServerMsg::Welcome(welcome), ctx)
        .await
        .is_err()
    {
        let _ = ctx.tx.send(NetEvent::Left {
            key,
            reason: "lost during handshake".into(),
        });
        return "lost during handshake".into();
    }
    // Writer: control messages from the tick loop, in order; a shutdown closes the connection.
    let writer_conn = conn.clone();
    let writer_ctx = ctx.clone();
    let writer = tokio::spawn(async move {
        while let Some(msg) = ctrl_rx.recv().await {
            let last = matches!(msg, ServerMsg::Shutdown { .. });
            if write_msg(&mut send, &msg, &writer_ctx).await.is_err() {
                break;
            }
            if last {
                let _ = send.finish();
                // Let the reason reach the client before the close.
                tokio::time::sleep(Duration::from_millis(200)).await;
                writer_conn.close(close::DONE.into(), b"shutdown");
                break;
            }
        }
    });
    let datagrams = pump_datagrams(conn.clone(), key, ctx.clone());
    let control = pump_control(recv, frames, key, ctx.clone());
    let reason = tokio::select! {
        r = datagrams => r,
        r = control => r,
    };
    if reason.starts_with("protocol") {
        conn.close(close::PROTOCOL.into(), reason.as_bytes());
    }
    let _ = ctx.tx.send(NetEvent::Left {
        key,
        reason: reason.clone(),
    });
    writer.abort();
    reason
}

async fn pump_datagrams(conn: quinn::Connection, key: ConnKey, ctx: NetContext) -> String {
    let mut window_start = Instant::now();
    let mut in_window = 0u32;
    let mut strikes = 0u32;
    loop {
        let bytes = match conn.read_datagram().await {
            Ok(b) => b,
            Err(e) => return connection_reason(&e),
        };
        ctx.counters
            .bytes_in
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        if window_start.elapsed() >= Duration::from_secs(1) {
            if in_window > ctx.max_datagrams_per_s.saturating_mul(3) {
                strikes += 1;
            }
            window_start = Instant::now();
            in_window = 0;
        }
        in_window += 1;
        if in_window > ctx.max_datagrams_per_s {
            ctx.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
            if strikes >= 3 {
                return "protocol: datagram flood".into();
            }
            continue;
        }
        match decode::<ClientDatagram>(&bytes, MAX_DATAGRAM) {
            Ok(msg) => {
                if ctx.tx.send(NetEvent::Datagram { key, msg }).is_err() {
                    return "server stopping".into();
                }
            }
            Err(e) => {
                ctx.counters.bad_datagrams.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(key, "bad datagram: {e}");
            }
        }
    }
}

async fn pump_control(
    mut recv: quinn::RecvStream,
    mut frames: FrameDecoder,
    key: ConnKey,
    ctx: NetContext,
) -> String {
    loop {
        match read_msg(&mut recv, &mut frames, &ctx).await {
            Ok(Some(ClientMsg::Chat { text })) => {
                let text: String = text
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(MAX_CHAT_CHARS)
                    .collect();
                if !text.trim().is_empty() && ctx.tx.send(NetEvent::Chat { key, text }).is_err() {
                    return "server stopping".into();
                }
            }
            Ok(Some(ClientMsg::Leave)) => return "left".into(),
            Ok(Some(ClientMsg::Hello { .. })) => return "protocol: second hello".into(),
            Ok(None) => {
                // The client finished its stream; keep the session until the connection closes.
                std::future::pending::<()>().await;
            }
            Err(e) => return format!("protocol: {e}"),
        }
    }
}

/// Reads the next control message; `Ok(None)` at the end of the stream.
async fn read_msg(
    recv: &mut quinn::RecvStream,
    frames: &mut FrameDecoder,
    ctx: &NetContext,
) -> Result<Option<ClientMsg>, String> {
    let mut buf = [0u8; 4096];
    loop {
        match frames.next_msg::<ClientMsg>() {
            Ok(Some(m)) => return Ok(Some(m)),
            Ok(None) => {}
            Err(e) => return Err(e.to_string()),
        }
        match recv.read(&mut buf).await {
            Ok(Some(n)) => {
                ctx.counters.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                frames.push(&buf[..n]);
            }
            Ok(None) => return Ok(None),
            Err(e) => return Err(format!("control stream: {e}")),
        }
    }
}

async fn write_msg(send: &mut quinn::SendStream, msg: &ServerMsg, ctx: &NetContext) -> Result<(), ()> {
    let bytes = encode_frame(msg).map_err(|e| tracing::error!("cannot encode control message: {e}"))?;
    ctx.counters
        .stream_bytes_out
        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
    send.write_all(&bytes).await.map_err(|_| ())
}

async fn reject(conn: &quinn::Connection, send: &mut quinn::SendStream, reason: RejectReason) -> String {
    let text = reason.to_string();
    if let Ok(bytes) = encode_frame(&ServerMsg::Reject(reason)) {
        let _ = send.write_all(&bytes).await;
        let _ = send.finish();
        let _ = tokio::time::timeout(Duration::from_secs(1), send.stopped()).await;
    }
    conn.close(close::REJECTED.into(), text.as_bytes());
    format!("rejected: {text}")
}

fn connection_reason(e: &quinn::ConnectionError) -> String {
    match e {
        quinn::ConnectionError::TimedOut => "timed out".into(),
        quinn::ConnectionError::ApplicationClosed(_) => "disconnected".into(),
        other => other.to_string(),
    }
}
