//! The QUIC side, a pump and nothing more: accept connections, hand each to the tick thread as a
//! `Link`, move control-stream bytes and datagrams into the link's bounded inbox, and write what
//! the core sends. Every decision (handshake, limits, reasons) is the core's (`crate::core`);
//! this is the only quinn glue of the server.

use crate::cert::Identity;
use crate::config::ServerConfig;
use crate::core::{ClientKey, CloseReason, LinkClosed, close_code};
use crate::link::{Arrivals, Link, NewLink};
use crate::metrics::Metrics;
use crate::outbox::DatagramBatch;
use rewind_shared::protocol::{ALPN, MAX_CONTROL_FRAME};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::mpsc;

/// Datagrams queued per connection between two ticks; more are dropped and counted (a client
/// sends one per tick, so only a flood reaches this).
pub const INBOX_DATAGRAMS: usize = 64;
/// Control-stream bytes queued per connection between two ticks; past this the reader stops
/// reading and QUIC flow control holds the client back.
pub const INBOX_CONTROL_BYTES: usize = 2 * MAX_CONTROL_FRAME;
/// Control writes queued per connection; a client that lets this fill is not reading and is
/// closed by the core.
pub const OUTBOX_MESSAGES: usize = 1024;
/// Control bytes queued per connection (besides what QUIC buffers within the client's
/// flow-control window); past this the client is closed as not reading.
pub const OUTBOX_BYTES: usize = 1024 * 1024;
/// A control write blocked this long means the client has stopped reading (its flow-control
/// window is full): it is closed, however little it has queued.
pub const CONTROL_STALL: Duration = Duration::from_secs(10);
/// How long a close waits for the reason to be delivered before the connection goes.
const CLOSE_GRACE: Duration = Duration::from_millis(200);
/// How long a rejection waits for the client to read its reason.
const REJECT_GRACE: Duration = Duration::from_secs(1);

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
        .ack_frequency_config(Some(rewind_net::sparse_acks()))
        // Loss-based congestion control halves its window on every random loss and starves the
        // game streams on a lossy 200 ms link; BBR models bandwidth and round trip instead.
        .congestion_controller_factory(Arc::new(quinn::congestion::BbrConfig::default()));
    server.transport_config(Arc::new(transport));
    Ok(server)
}

/// Connection attempts per second above which new ones must prove their address first (a QUIC
/// Retry round trip), so a spoofed-source flood cannot make the server do handshakes.
pub const RETRY_ABOVE_PER_S: usize = 32;

/// The bound QUIC endpoint, the server's only socket.
pub struct Listener {
    endpoint: quinn::Endpoint,
}

impl Listener {
    /// Binds `cfg.addr` inside `runtime`, under the link conditioner when `cfg.link` is not
    /// perfect; returns the listener and the real address (port 0 picks one).
    pub fn bind(
        runtime: &tokio::runtime::Runtime,
        id: &Identity,
        cfg: &ServerConfig,
    ) -> Result<(Listener, std::net::SocketAddr), EndpointError> {
        let quic_cfg = server_config(id, cfg)?;
        let addr = cfg.addr;
        let _guard = runtime.enter();
        let endpoint = if cfg.link.is_perfect() {
            let bind = |source| EndpointError::Bind { addr, source };
            let socket = rewind_net::bind::bind_udp(addr).map_err(bind)?;
            let runtime = Arc::new(quinn::TokioRuntime);
            quinn::Endpoint::new(rewind_net::endpoint_config(true), Some(quic_cfg), socket, runtime)
                .map_err(bind)?
        } else {
            let (endpoint, _control) =
                rewind_net::conditioned_endpoint(addr, Some(quic_cfg), cfg.link, cfg.link_seed)
                    .map_err(|e| EndpointError::Conditioned(e.to_string()))?;
            endpoint
        };
        let local = endpoint
            .local_addr()
            .map_err(|source| EndpointError::Bind { addr, source })?;
        Ok((Listener { endpoint }, local))
    }

    /// Accepts connections into `ctx` until `stop` completes, then closes every connection and
    /// waits up to 2 s for them to go.
    pub async fn serve(self, ctx: NetContext, stop: impl std::future::Future<Output = ()>) {
        let datagrams = tokio::spawn(ctx.datagrams.clone().run());
        let accept = tokio::spawn(accept_loop(self.endpoint.clone(), ctx));
        stop.await;
        self.endpoint.close(close_code::DONE.into(), b"server stopped");
        let _ = tokio::time::timeout(Duration::from_secs(2), self.endpoint.wait_idle()).await;
        accept.abort();
        datagrams.abort();
    }
}

/// Shared by every connection task.
#[derive(Clone)]
pub struct NetContext {
    /// New connections, to the tick thread (bounded: see `link::NEW_LINK_QUEUE`).
    pub links: SyncSender<NewLink>,
    /// Where retries are counted.
    pub metrics: Arc<Metrics>,
    /// Every connection's snapshots, to QUIC (`outbox`).
    pub datagrams: Arc<DatagramBatch>,
}

/// What the tick thread queues for a connection's writer.
#[derive(Debug)]
enum Out {
    Control(Vec<u8>),
    Close(CloseReason),
}

/// What arrived on a connection, waiting for the next tick.
#[derive(Debug, Default)]
struct Inbox {
    control: Vec<u8>,
    datagrams: VecDeque<Vec<u8>>,
    dropped: u64,
    closed: Option<LinkClosed>,
}

/// Locks, surviving a poisoned mutex (a panicked holder leaves plain data behind).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A QUIC connection as the tick thread sees it. The tick thread never takes quinn's connection
/// lock on its way (snapshots go through a queue, the datagram size is a copy): a network thread
/// holds that lock while it encrypts and sends, and the tick, waiting on it and then for the core,
/// ran late (at 256 players on one core, the ticks that did so took 7-9 ms more).
struct QuicLink {
    conn: quinn::Connection,
    inbox: Arc<Mutex<Inbox>>,
    out: mpsc::Sender<Out>,
    datagrams: Arc<DatagramBatch>,
    max_datagram: Arc<AtomicUsize>,
    backlog: Arc<Backlog>,
}

/// What a connection's writer has not delivered to QUIC yet, shared between the tick thread
/// (which queues) and the writer task (which writes).
#[derive(Debug)]
struct Backlog {
    bytes: AtomicUsize,
    /// Milliseconds since `epoch` at which the current write started (0: none in progress).
    writing_since_ms: AtomicU64,
    epoch: std::time::Instant,
}

impl Backlog {
    fn new() -> Backlog {
        Backlog {
            bytes: AtomicUsize::new(0),
            writing_since_ms: AtomicU64::new(0),
            epoch: std::time::Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64 + 1
    }

    /// Whether the client has stopped reading: too much queued, or one write blocked too long.
    fn stuck(&self, adding: usize) -> bool {
        let since = self.writing_since_ms.load(Ordering::Relaxed);
        self.bytes.load(Ordering::Relaxed) + adding > OUTBOX_BYTES
            || (since != 0 && self.now_ms().saturating_sub(since) > CONTROL_STALL.as_millis() as u64)
    }
}

impl Link for QuicLink {
    fn drain(&self, into: &mut Arrivals) {
        let mut g = lock(&self.inbox);
        std::mem::swap(&mut into.control, &mut g.control);
        into.datagrams.extend(g.datagrams.drain(..));
        into.dropped = std::mem::take(&mut g.dropped);
        into.closed = g.closed.take();
    }

    fn max_datagram_size(&self) -> usize {
        self.max_datagram.load(Ordering::Relaxed)
    }

    fn peer_ip(&self) -> std::net::IpAddr {
        // On the dual-stack socket IPv4 peers show as ::ffff:a.b.c.d: count them as IPv4, so the
        // per-address limits see one address whichever socket family took it.
        self.conn.remote_address().ip().to_canonical()
    }

    fn send_datagram(&self, bytes: Vec<u8>) {
        // A full queue drops it: the next snapshot is a delta against an acked baseline.
        self.datagrams.push(&self.conn, bytes.into(), &self.max_datagram);
    }

    fn send_control(&self, bytes: Vec<u8>) -> bool {
        let len = bytes.len();
        if self.backlog.stuck(len) {
            return false;
        }
        match self.out.try_send(Out::Control(bytes)) {
            Ok(()) => {
                self.backlog.bytes.fetch_add(len, Ordering::Relaxed);
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => false,
            // The writer ended with the connection; the close is on its way to the core.
            Err(mpsc::error::TrySendError::Closed(_)) => true,
        }
    }

    fn close(&self, reason: &CloseReason) {
        // A client that stopped reading would never let the writer reach the close.
        let stuck = *reason == CloseReason::Backlogged || self.backlog.stuck(0);
        if stuck || self.out.try_send(Out::Close(reason.clone())).is_err() {
            // The writer is gone or stuck: close without delivering the reason.
            self.conn
                .close(reason.code().into(), reason.to_string().as_bytes());
        }
    }
}

/// Accepts connections until the endpoint is closed.
async fn accept_loop(endpoint: quinn::Endpoint, ctx: NetContext) {
    let next_key = AtomicU64::new(1);
    // Arrival times of the last `RETRY_ABOVE_PER_S` attempts. // bounded: capped below
    let mut recent: VecDeque<std::time::Instant> = VecDeque::with_capacity(RETRY_ABOVE_PER_S + 1);
    while let Some(incoming) = endpoint.accept().await {
        let now = std::time::Instant::now();
        let busy = recent.len() >= RETRY_ABOVE_PER_S
            && recent
                .front()
                .is_some_and(|t| now.duration_since(*t) < Duration::from_secs(1));
        recent.push_back(now);
        while recent.len() > RETRY_ABOVE_PER_S {
            recent.pop_front();
        }
        let incoming = if busy && !incoming.remote_address_validated() && incoming.may_retry() {
            match incoming.retry() {
                Ok(()) => {
                    ctx.metrics.guard.retries.inc();
                    continue;
                }
                Err(e) => e.into_incoming(),
            }
        } else {
            incoming
        };
        let key = ClientKey(next_key.fetch_add(1, Ordering::Relaxed));
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let remote = incoming.remote_address();
            match incoming.await {
                Ok(conn) => {
                    let why = serve_connection(conn, key, &ctx).await;
                    tracing::debug!(%remote, %key, %why, "connection ended");
                }
                Err(e) => tracing::debug!(%remote, "handshake failed: {e}"),
            }
        });
    }
}

/// Pumps one connection until it ends; returns how it ended.
async fn serve_connection(conn: quinn::Connection, key: ClientKey, ctx: &NetContext) -> LinkClosed {
    let inbox = Arc::new(Mutex::new(Inbox::default()));
    let (out_tx, mut out_rx) = mpsc::channel::<Out>(OUTBOX_MESSAGES);
    let max_datagram = Arc::new(AtomicUsize::new(datagram_size(&conn)));
    let backlog = Arc::new(Backlog::new());
    let link = QuicLink {
        conn: conn.clone(),
        inbox: inbox.clone(),
        out: out_tx,
        datagrams: ctx.datagrams.clone(),
        max_datagram: max_datagram.clone(),
        backlog: backlog.clone(),
    };
    match ctx.links.try_send((key, Box::new(link))) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            conn.close(close_code::REJECTED.into(), b"server busy, try again");
            return LinkClosed::Lost("server busy".into());
        }
        Err(TrySendError::Disconnected(_)) => {
            conn.close(close_code::DONE.into(), b"server stopping");
            return LinkClosed::Lost("server stopping".into());
        }
    }
    // The control stream, unless the core closes the connection first (handshake timeout).
    let (send, recv) = tokio::select! {
        s = conn.accept_bi() => match s {
            Ok(s) => s,
            Err(e) => return closed(&inbox, link_closed(&e)),
        },
        out = wait_close(&mut out_rx) => {
            if let Some(reason) = out {
                conn.close(reason.code().into(), reason.to_string().as_bytes());
            }
            return closed(&inbox, LinkClosed::Lost("closed before the control stream".into()));
        }
    };
    let why = tokio::select! {
        why = read_datagrams(&conn, &inbox) => why,
        why = read_control(recv, &inbox) => why,
        () = write_control(&conn, send, &mut out_rx, &backlog) => LinkClosed::Lost("closed by the server".into()),
    };
    closed(&inbox, why)
}

/// The largest datagram the connection can send now (it grows as the path's MTU is discovered).
pub(crate) fn datagram_size(conn: &quinn::Connection) -> usize {
    conn.max_datagram_size().unwrap_or(1200)
}

/// Tells the tick thread the connection is gone.
fn closed(inbox: &Mutex<Inbox>, why: LinkClosed) -> LinkClosed {
    lock(inbox).closed = Some(why.clone());
    why
}

/// Waits for a close from the core, skipping control bytes that cannot be sent yet (there is no
/// stream before the client opens one, and nothing but a rejection goes out before a hello).
async fn wait_close(out: &mut mpsc::Receiver<Out>) -> Option<CloseReason> {
    loop {
        match out.recv().await? {
            Out::Close(reason) => return Some(reason),
            Out::Control(_) => continue,
        }
    }
}

async fn read_datagrams(conn: &quinn::Connection, inbox: &Mutex<Inbox>) -> LinkClosed {
    loop {
        let bytes = match conn.read_datagram().await {
            Ok(b) => b,
            Err(e) => return link_closed(&e),
        };
        let mut g = lock(inbox);
        if g.datagrams.len() >= INBOX_DATAGRAMS {
            g.dropped += 1;
        } else {
            g.datagrams.push_back(bytes.to_vec());
        }
    }
}

async fn read_control(mut recv: quinn::RecvStream, inbox: &Mutex<Inbox>) -> LinkClosed {
    let mut buf = vec![0u8; 4096];
    loop {
        if lock(inbox).control.len() >= INBOX_CONTROL_BYTES {
            // Backpressure: the tick thread drains the inbox every tick.
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        match recv.read(&mut buf).await {
            Ok(Some(n)) => lock(inbox).control.extend_from_slice(&buf[..n]),
            // The client finished its stream; the session lasts until the connection closes.
            Ok(None) => std::future::pending::<()>().await,
            // A closing connection fails the stream too: the datagram reader reports the
            // connection's own reason, so the two never race to name it.
            Err(quinn::ReadError::ConnectionLost(_)) => std::future::pending::<()>().await,
            Err(e) => return LinkClosed::Lost(format!("control stream: {e}")),
        }
    }
}

/// Writes the core's control bytes in order; on a close, delivers the reason, then closes.
async fn write_control(
    conn: &quinn::Connection,
    mut send: quinn::SendStream,
    out: &mut mpsc::Receiver<Out>,
    backlog: &Backlog,
) {
    while let Some(msg) = out.recv().await {
        match msg {
            Out::Control(bytes) => {
                backlog
                    .writing_since_ms
                    .store(backlog.now_ms(), Ordering::Relaxed);
                let written = send.write_all(&bytes).await;
                backlog.writing_since_ms.store(0, Ordering::Relaxed);
                backlog.bytes.fetch_sub(bytes.len(), Ordering::Relaxed);
                if written.is_err() {
                    // The connection is going; the datagram reader reports why.
                    std::future::pending::<()>().await;
                }
            }
            Out::Close(reason) => {
                let _ = send.finish();
                let grace = match reason {
                    CloseReason::Rejected(_) => REJECT_GRACE,
                    _ => CLOSE_GRACE,
                };
                // Let the reason reach the client before the close.
                let _ = tokio::time::timeout(grace, send.stopped()).await;
                conn.close(reason.code().into(), reason.to_string().as_bytes());
                return;
            }
        }
    }
}

fn link_closed(e: &quinn::ConnectionError) -> LinkClosed {
    match e {
        quinn::ConnectionError::TimedOut => LinkClosed::TimedOut,
        quinn::ConnectionError::ApplicationClosed(_) => LinkClosed::ClosedByPeer,
        other => LinkClosed::Lost(other.to_string()),
    }
}
