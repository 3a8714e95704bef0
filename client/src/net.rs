//! The QUIC side of a session: connect (certificate check, handshake on the control stream),
//! then pump datagrams and control frames into the sans-IO `Session` and run its fixed-step loop.
//!
//! Used by both the window (`SessionHandle`, one session on its own runtime thread) and the
//! bots (many sessions as tasks on one runtime).

use crate::end::EndReason;
use crate::handshake::{Handshake, HandshakeError, Welcomed};
use crate::reconnect::{ATTEMPT_TIMEOUT, Reconnect};
use crate::session::Session;
use crate::tls::{FingerprintVerifier, KnownHosts, Trust, TrustError, VerifyOutcome, client_crypto};
use crate::view::{ControlInput, GameView, NetStats, Phase};
use rewind_net::ConditionerControl;
use rewind_shared::conditioner::LinkConfig;
use rewind_shared::protocol::{CLOSE_RESUMABLE, RejectReason, ResumeToken};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::sync::{Notify, mpsc};

/// How long to wait for the QUIC handshake and the welcome.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// When a name resolves to several addresses, the next is dialled this long after the previous
/// if neither has answered yet (happy eyeballs, RFC 8305's 250 ms).
pub const ATTEMPT_STAGGER: Duration = Duration::from_millis(250);
/// How often the transport's RTT estimate is sampled.
pub const RTT_SAMPLE_EVERY: Duration = Duration::from_millis(100);
/// RTT samples kept per session (for percentiles).
const MAX_RTT_SAMPLES: usize = 100_000;
/// How long a leaving client waits for the server to close after its `Leave`.
const LEAVE_LINGER: Duration = Duration::from_millis(500);
/// Application close code of a client leaving normally.
const CLOSE_BYE: u32 = 0;

/// Where and how to connect.
#[derive(Clone, Debug)]
pub struct ConnectConfig {
    /// Server address, `host:port`.
    pub addr: String,
    /// Player name.
    pub name: String,
    /// How the server's certificate is trusted.
    pub trust: Trust,
    /// Artificial network conditions on our socket (each direction).
    pub link: LinkConfig,
    /// Seed of the link conditioner.
    pub seed: u64,
    /// Cut the link completely for a while (to practise reconnecting).
    pub outage: Option<Outage>,
}

/// A window in which a link drops every packet both ways, to practise losing the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outage {
    /// From the start (of the run, or of the session).
    pub at: Duration,
    /// How long nothing gets through.
    pub lasts: Duration,
}

impl Outage {
    /// Cuts `control`'s link at `origin + at` and restores `normal` after `lasts` (a task on
    /// the current runtime; abort it to cancel).
    pub fn schedule(
        self,
        control: ConditionerControl,
        normal: LinkConfig,
        origin: Instant,
    ) -> tokio::task::JoinHandle<()> {
        let cut = LinkConfig { loss: 1.0, ..normal };
        tokio::spawn(async move {
            tokio::time::sleep_until(tokio::time::Instant::from_std(origin + self.at)).await;
            tracing::info!("outage: the link drops everything for {:?}", self.lasts);
            let _ = control.set_link(cut);
            tokio::time::sleep(self.lasts).await;
            let _ = control.set_link(normal);
            tracing::info!("outage over");
        })
    }
}

impl ConnectConfig {
    /// Connect to `addr` as `name`, pinning `cert_hash` if given, else trust on first use in the
    /// default known-hosts file; no artificial conditions.
    pub fn new(addr: impl Into<String>, name: impl Into<String>, cert_hash: Option<String>) -> ConnectConfig {
        ConnectConfig {
            addr: addr.into(),
            name: name.into(),
            trust: match cert_hash {
                Some(h) => Trust::Pin(h),
                None => Trust::KnownHosts(crate::tls::default_known_hosts()),
            },
            link: LinkConfig::perfect(),
            seed: 1,
            outage: None,
        }
    }
}

/// Why a connection could not be made or ended.
#[derive(Debug, Error)]
pub enum ConnectError {
    /// The address does not resolve.
    #[error("cannot resolve {addr}: {why}")]
    Resolve {
        /// As given.
        addr: String,
        /// Cause.
        why: String,
    },
    /// The certificate is not trusted (or the known-hosts file is broken).
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// The local endpoint could not be built.
    #[error("cannot open a local QUIC endpoint: {0}")]
    Endpoint(String),
    /// The server cannot be reached or the QUIC handshake failed.
    #[error("cannot connect to {addr}: {why}")]
    Connect {
        /// Server.
        addr: String,
        /// Cause.
        why: String,
    },
    /// The handshake on the control stream broke (transport trouble).
    #[error("handshake failed: {0}")]
    Handshake(String),
    /// The server refused us or spoke nonsense.
    #[error(transparent)]
    Refused(#[from] HandshakeError),
    /// The welcome was unusable.
    #[error(transparent)]
    Session(#[from] crate::session::SessionError),
}

/// An established connection after the welcome.
pub struct Connected {
    /// The QUIC connection.
    pub conn: quinn::Connection,
    send: quinn::SendStream,
    recv: quinn::RecvStream,
    /// The server's welcome and the control stream's decoder after it.
    pub welcomed: Welcomed,
    /// Server certificate fingerprint.
    pub cert_hash: String,
}

/// Builds the client endpoint with the link conditioner under it. Must run inside a runtime.
pub fn client_endpoint(
    link: LinkConfig,
    seed: u64,
) -> Result<(quinn::Endpoint, ConditionerControl), ConnectError> {
    // `[::]` is dual-stack (rewind_net::bind): one socket dials IPv6 and IPv4 servers alike
    // (quinn maps IPv4 destinations), and falls back to IPv4 only where there is no IPv6.
    let bind = SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0));
    client_endpoint_at(bind, link, seed)
}

/// `client_endpoint` bound to `bind` (the bots give each bot its own loopback address, as
/// distinct players have distinct addresses, so the server's per-address limits apply per bot).
pub fn client_endpoint_at(
    bind: SocketAddr,
    link: LinkConfig,
    seed: u64,
) -> Result<(quinn::Endpoint, ConditionerControl), ConnectError> {
    rewind_net::conditioned_endpoint(bind, None, link, seed)
        .map_err(|e| ConnectError::Endpoint(e.to_string()))
}

/// Every address `addr` resolves to, families interleaved in the resolver's order (RFC 8305:
/// the resolver's first choice first, then the other family, and so on).
async fn resolve(addr: &str) -> Result<Vec<SocketAddr>, ConnectError> {
    let err = |why: String| ConnectError::Resolve {
        addr: addr.to_string(),
        why,
    };
    let all: Vec<SocketAddr> = tokio::net::lookup_host(addr)
        .await
        .map_err(|e| err(e.to_string()))?
        .collect();
    let ordered = interleave_families(all);
    if ordered.is_empty() {
        return Err(err("no address".into()));
    }
    Ok(ordered)
}

/// Deduplicates `addrs` and alternates the families, starting with the first address's.
pub fn interleave_families(addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let mut unique: Vec<SocketAddr> = Vec::new();
    for a in addrs {
        if !unique.contains(&a) {
            unique.push(a);
        }
    }
    let first_v6 = unique.first().is_some_and(SocketAddr::is_ipv6);
    let (mut a, mut b): (
        std::collections::VecDeque<SocketAddr>,
        std::collections::VecDeque<SocketAddr>,
    ) = unique.into_iter().partition(|x| x.is_ipv6() == first_v6);
    let mut out = Vec::with_capacity(a.len() + b.len());
    loop {
        match (a.pop_front(), b.pop_front()) {
            (None, None) => return out,
            (x, y) => out.extend(x.into_iter().chain(y)),
        }
    }
}

/// Dials `addrs` one after another, `ATTEMPT_STAGGER` apart (sooner when one fails), and keeps
/// the first QUIC handshake to complete; the others are dropped. The error is the last failure.
async fn dial(
    endpoint: &quinn::Endpoint,
    client: quinn::ClientConfig,
    addrs: Vec<SocketAddr>,
) -> Result<quinn::Connection, String> {
    let deadline = tokio::time::Instant::now() + CONNECT_TIMEOUT;
    let mut pending = addrs.into_iter().peekable();
    let mut attempts = tokio::task::JoinSet::new();
    let mut last_err: Option<String> = None;
    loop {
        if let Some(a) = pending.next() {
            match endpoint.connect_with(client.clone(), a, "rewind") {
                Ok(connecting) => {
                    tracing::debug!(%a, "dialling");
                    attempts.spawn(async move { (a, connecting.await) });
                }
                Err(e) => {
                    last_err = Some(format!("{a}: {e}"));
                    continue;
                }
            }
        }
        if attempts.is_empty() {
            return Err(last_err.unwrap_or_else(|| "no address to dial".into()));
        }
        let wait_until = if pending.peek().is_some() {
            (tokio::time::Instant::now() + ATTEMPT_STAGGER).min(deadline)
        } else {
            deadline
        };
        match tokio::time::timeout_at(wait_until, attempts.join_next()).await {
            Ok(Some(Ok((a, Ok(conn))))) => {
                tracing::debug!(%a, "connected");
                attempts.abort_all();
                return Ok(conn);
            }
            Ok(Some(Ok((a, Err(e))))) => last_err = Some(format!("{a}: {e}")),
            Ok(Some(Err(e))) => last_err = Some(e.to_string()),
            Ok(None) => {}
            Err(_) if tokio::time::Instant::now() >= deadline => {
                attempts.abort_all();
                return Err(last_err.unwrap_or_else(|| "no answer (timed out)".into()));
            }
            Err(_) => {}
        }
        if pending.peek().is_none() && attempts.is_empty() {
            return Err(last_err.unwrap_or_else(|| "no answer (timed out)".into()));
        }
    }
}

/// Connects, checks the certificate, says hello and waits for the welcome.
pub async fn connect(cfg: &ConnectConfig, endpoint: &quinn::Endpoint) -> Result<Connected, ConnectError> {
    connect_as(cfg, endpoint, None).await
}

/// `connect`, opening with `Resume` for `token`'s player instead of a hello when given.
async fn connect_as(
    cfg: &ConnectConfig,
    endpoint: &quinn::Endpoint,
    token: Option<ResumeToken>,
) -> Result<Connected, ConnectError> {
    let addrs = resolve(&cfg.addr).await?;
    let (verifier, outcome) = FingerprintVerifier::new(&cfg.trust, &cfg.addr)?;
    let crypto = client_crypto(verifier).map_err(|e| ConnectError::Endpoint(e.to_string()))?;
    let quic = quinn::crypto::rustls::QuicClientConfig::try_from(crypto)
        .map_err(|e| ConnectError::Endpoint(e.to_string()))?;
    let mut client = quinn::ClientConfig::new(Arc::new(quic));
    let mut transport = quinn::TransportConfig::default();
    transport
        .max_idle_timeout(quinn::IdleTimeout::try_from(Duration::from_secs(10)).ok())
        .keep_alive_interval(Some(Duration::from_secs(1)))
        .datagram_receive_buffer_size(Some(256 * 1024))
        .ack_frequency_config(Some(rewind_net::sparse_acks()))
        // Inputs are a small constant stream that must not stall: loss-based controllers halve
        // the window on every random loss and, at a 200 ms round trip, their 2-packet minimum
        // window is below the input rate, so datagrams queue and arrive too late. BBR paces by
        // measured bandwidth instead.
        .congestion_controller_factory(Arc::new(quinn::congestion::BbrConfig::default()));
    client.transport_config(Arc::new(transport));
    let connect_err = |why: String| ConnectError::Connect {
        addr: cfg.addr.clone(),
        why,
    };
    let trust_failure = |outcome: &Arc<Mutex<VerifyOutcome>>| lock(outcome).refused.clone();
    let conn = match dial(endpoint, client, addrs).await {
        Ok(c) => c,
        Err(e) => {
            return Err(match trust_failure(&outcome) {
                Some(t) => ConnectError::Trust(t),
                None => connect_err(e),
            });
        }
    };
    let (seen, first_use) = {
        let o = lock(&outcome);
        (o.seen.clone().unwrap_or_default(), o.first_use)
    };
    if first_use && let Trust::KnownHosts(path) = &cfg.trust {
        let mut kh = KnownHosts::load(path)?;
        kh.remember(&cfg.addr, &seen)?;
        tracing::info!(
            "trusting {} on first use ({seen}), remembered in {}",
            cfg.addr,
            path.display()
        );
    }
    let hs = async {
        let (mut send, mut recv) = conn
            .open_bi()
            .await
            .map_err(|e| ConnectError::Handshake(e.to_string()))?;
        let (mut handshake, hello) = match token {
            Some(t) => Handshake::resume(t)?,
            None => Handshake::start(&cfg.name)?,
        };
        send.write_all(&hello)
            .await
            .map_err(|e| ConnectError::Handshake(e.to_string()))?;
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match recv.read(&mut buf).await {
                Ok(Some(n)) => n,
                Ok(None) => return Err(ConnectError::Handshake("the server closed the stream".into())),
                Err(e) => return Err(ConnectError::Handshake(closed_reason(&e.to_string(), &conn))),
            };
            handshake = match handshake.on_control_bytes(&buf[..n])? {
                Ok(welcomed) => return Ok((send, recv, welcomed)),
                Err(more) => more,
            };
        }
    };
    let (send, recv, welcomed) = match tokio::time::timeout(CONNECT_TIMEOUT, hs).await {
        Ok(r) => r?,
        Err(_) => return Err(ConnectError::Handshake("no welcome (timed out)".into())),
    };
    Ok(Connected {
        conn,
        send,
        recv,
        welcomed,
        cert_hash: seen,
    })
}

fn closed_reason(fallback: &str, conn: &quinn::Connection) -> String {
    match conn.close_reason() {
        Some(quinn::ConnectionError::ApplicationClosed(c)) if !c.reason.is_empty() => {
            String::from_utf8_lossy(&c.reason).into_owned()
        }
        Some(e) => e.to_string(),
        None => fallback.to_string(),
    }
}

/// Locks, surviving a poisoned mutex (a panicked holder leaves plain data behind).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A session shared between its driver task and whoever looks at it.
#[derive(Debug)]
pub struct Slot {
    /// The session once welcomed.
    pub session: Option<Session>,
    /// Phase before the session exists (connecting, failed).
    pub phase: Phase,
    /// RTT samples in microseconds.
    pub rtt_us: Vec<u64>,
    /// Transport bytes received / sent (QUIC wire, with headers), last sampled, over every
    /// connection of the session.
    pub udp_bytes: (u64, u64),
    /// Transport bytes of the connections that already ended.
    pub udp_done: (u64, u64),
    /// Outages that started a reconnect.
    pub reconnects: u32,
    /// Successful resumes.
    pub resumes: Vec<Resumed>,
    /// A red-team behaviour for the session once it starts (bots only).
    pub cheat: Option<crate::cheat::Cheat>,
    /// Nobody watches the session (bots): see `Session::set_headless`.
    pub headless: bool,
}

/// One successful resume, in session time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resumed {
    /// When the drop was noticed.
    pub lost_at: Duration,
    /// When the server gave our player back.
    pub resumed_at: Duration,
}

impl Default for Slot {
    fn default() -> Self {
        Slot {
            session: None,
            phase: Phase::Connecting,
            rtt_us: Vec::new(),
            udp_bytes: (0, 0),
            udp_done: (0, 0),
            reconnects: 0,
            resumes: Vec::new(),
            cheat: None,
            headless: false,
        }
    }
}

/// What decides the input of each tick: the window's latest keys, or a bot.
pub trait Brain: Send {
    /// The input for the tick about to run.
    fn control(&mut self, session: &Session, now: Duration) -> ControlInput;
}

/// How to dial again after a drop: the same address and trust, on the same endpoint (so the
/// link conditioner and its live settings stay in force).
#[derive(Clone, Copy)]
pub struct Redial<'a> {
    /// Where and how.
    pub cfg: &'a ConnectConfig,
    /// Our QUIC endpoint.
    pub endpoint: &'a quinn::Endpoint,
    /// Spreads the reconnect jitter between clients.
    pub seed: u64,
}

/// One live connection's parts.
struct LinkParts {
    conn: quinn::Connection,
    send: quinn::SendStream,
    recv: quinn::RecvStream,
}

/// What stops a session from outside: the stop signal and the planned end.
struct Limits {
    stop: Arc<Notify>,
    deadline: Option<tokio::time::Instant>,
}

impl Limits {
    /// Resolves with the reason once stopped or past the deadline.
    async fn reached(&self) -> EndReason {
        tokio::select! {
            _ = self.stop.notified() => EndReason::Left,
            _ = async { match self.deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => {
                EndReason::Finished
            }
        }
    }
}

/// Runs a welcomed connection until the session ends, `stop` is notified or `until` (session
/// time) passes: the pump between QUIC and the sans-IO `Session`, which makes every decision.
/// With `redial`, a connection that drops in a way the player can come back from is replaced:
/// the client reconnects with backoff and resumes its player (the match stays on screen under
/// "Reconnecting… n s"). Returns why the session ended.
#[allow(clippy::too_many_arguments)] // the pump's whole context; each caller fills every slot
pub async fn drive(
    c: Connected,
    slot: Arc<Mutex<Slot>>,
    brain: &mut dyn Brain,
    start: Instant,
    stop: Arc<Notify>,
    mut chat: Option<mpsc::UnboundedReceiver<String>>,
    until: Option<Duration>,
    redial: Option<Redial<'_>>,
) -> EndReason {
    let Connected {
        conn,
        send,
        recv,
        welcomed,
        ..
    } = c;
    match Session::start(welcomed, start.elapsed(), conn.rtt()) {
        Ok(mut session) => {
            let mut g = lock(&slot);
            session.set_cheat(g.cheat);
            session.set_headless(g.headless);
            g.session = Some(session);
            g.phase = Phase::Playing;
        }
        Err(e) => {
            let reason = EndReason::BadWelcome(e.to_string());
            lock(&slot).phase = Phase::Ended {
                reason: reason.to_string(),
            };
            conn.close(CLOSE_BYE.into(), b"bad welcome");
            return reason;
        }
    }
    let limits = Limits {
        stop,
        deadline: until.map(|u| tokio::time::Instant::from_std(start + u)),
    };
    let mut link = LinkParts { conn, send, recv };
    let reason = loop {
        let reason = pump(&mut link, &slot, brain, start, &limits, &mut chat).await;
        let st = link.conn.stats();
        {
            let mut g = lock(&slot);
            g.udp_done.0 += st.udp_rx.bytes;
            g.udp_done.1 += st.udp_tx.bytes;
            g.udp_bytes = g.udp_done;
        }
        let Some(redial) = redial.filter(|_| reason.resumable()) else {
            break reason;
        };
        tracing::info!("connection dropped ({reason}); reconnecting to resume");
        match reconnect(redial, &slot, start, &limits, &reason).await {
            Ok(next) => link = next,
            Err(r) => break r,
        }
    };
    if reason.is_ours() {
        let bye = lock(&slot)
            .session
            .as_mut()
            .map(|s| s.leave_frame(start.elapsed()));
        if let Some(Ok(bytes)) = bye {
            let _ = link.send.write_all(&bytes).await;
        }
        let _ = link.send.finish();
        // The server closes once it has read our leave; closing first could drop the frame.
        let _ = tokio::time::timeout(LEAVE_LINGER, link.conn.closed()).await;
        link.conn.close(CLOSE_BYE.into(), b"bye");
    }
    let mut g = lock(&slot);
    let reason = match g.session.as_mut() {
        Some(s) => {
            s.end(reason);
            s.ended().cloned().unwrap_or(EndReason::Left)
        }
        None => reason,
    };
    g.phase = Phase::Ended {
        reason: reason.to_string(),
    };
    reason
}

/// How the transport's end of a connection reads to the session: a drop we can come back from
/// (a timeout, a reset, the server keeping our player), or the end.
fn lost(e: &quinn::ConnectionError, conn: &quinn::Connection) -> EndReason {
    use quinn::ConnectionError as E;
    match e {
        E::TimedOut | E::Reset => EndReason::Dropped(e.to_string()),
        E::ApplicationClosed(c) if c.error_code == quinn::VarInt::from_u32(CLOSE_RESUMABLE) => {
            EndReason::Dropped(closed_reason(&e.to_string(), conn))
        }
        _ => EndReason::ConnectionLost(closed_reason(&e.to_string(), conn)),
    }
}

/// One local tick of the session: round-trip sample, controls, the input datagram out. Returns
/// a control frame to write (the debug view opened or closed), or why the session ended.
fn tick_once(
    slot: &Arc<Mutex<Slot>>,
    brain: &mut dyn Brain,
    conn: &quinn::Connection,
    start: Instant,
    now: Duration,
    next_rtt: &mut Duration,
) -> Result<Option<Vec<u8>>, EndReason> {
    let mut g = lock(slot);
    if start.elapsed() >= *next_rtt {
        *next_rtt = start.elapsed() + RTT_SAMPLE_EVERY;
        let rtt = conn.rtt();
        if g.rtt_us.len() < MAX_RTT_SAMPLES {
            g.rtt_us.push(rtt.as_micros() as u64);
        }
        let st = conn.stats();
        g.udp_bytes = (g.udp_done.0 + st.udp_rx.bytes, g.udp_done.1 + st.udp_tx.bytes);
        if let Some(s) = g.session.as_mut() {
            s.set_rtt(rtt);
        }
    }
    let Some(s) = g.session.as_mut() else {
        return Err(EndReason::Left);
    };
    if let Some(reason) = s.ended() {
        return Err(reason.clone());
    }
    let control = brain.control(s, now);
    let frame = s
        .debug_frame(&control, now)
        .map_err(|e| EndReason::Encode(e.to_string()))?;
    let bytes = s
        .tick(&control, now)
        .map_err(|e| EndReason::Encode(e.to_string()))?;
    if bytes.len() <= conn.max_datagram_size().unwrap_or(0) {
        // A full send buffer drops the datagram: the next one repeats it.
        let _ = conn.send_datagram(bytes.into());
    }
    Ok(frame)
}

/// One connection's pump: datagrams and control bytes into the session, its ticks out.
async fn pump(
    link: &mut LinkParts,
    slot: &Arc<Mutex<Slot>>,
    brain: &mut dyn Brain,
    start: Instant,
    limits: &Limits,
    chat: &mut Option<mpsc::UnboundedReceiver<String>>,
) -> EndReason {
    let LinkParts { conn, send, recv } = link;
    let mut buf = vec![0u8; 16 * 1024];
    let mut next_tick = tokio::time::Instant::now();
    let mut next_rtt = start.elapsed();
    let mut stream_open = true;
    loop {
        tokio::select! {
            dg = conn.read_datagram() => match dg {
                Ok(bytes) => {
                    if let Some(s) = lock(slot).session.as_mut() {
                        s.on_datagram(&bytes, start.elapsed());
                    }
                }
                Err(e) => return lost(&e, conn),
            },
            r = recv.read(&mut buf), if stream_open => match r {
                Ok(Some(n)) => {
                    if let Some(s) = lock(slot).session.as_mut() {
                        s.on_control_bytes(&buf[..n], start.elapsed());
                    }
                }
                Ok(None) => stream_open = false,
                Err(quinn::ReadError::ConnectionLost(e)) => return lost(&e, conn),
                Err(e) => return EndReason::ConnectionLost(closed_reason(&e.to_string(), conn)),
            },
            Some(line) = async { match chat.as_mut() { Some(rx) => rx.recv().await, None => None } } => {
                let frame = lock(slot).session.as_mut().map(|s| s.chat_frame(line, start.elapsed()));
                match frame {
                    Some(Ok(bytes)) if send.write_all(&bytes).await.is_err() => {
                        return EndReason::ConnectionLost(closed_reason("control stream closed", conn));
                    }
                    Some(Err(e)) => tracing::warn!("chat line not sent: {e}"),
                    Some(Ok(_)) | None => {}
                }
            }
            _ = tokio::time::sleep_until(next_tick) => {
                // The tick's own time, not the moment it ran: after a hitch the ticks that catch
                // up keep their spacing, so the views they carry stay as old as ever (the server
                // holds a client's view age steady, `rewind_server::view_age`).
                let at = next_tick.into_std().saturating_duration_since(start);
                let debug_frame = match tick_once(slot, brain, conn, start, at, &mut next_rtt) {
                    Ok(frame) => frame,
                    Err(reason) => return reason,
                };
                if let Some(frame) = debug_frame
                    && send.write_all(&frame).await.is_err()
                {
                    return EndReason::ConnectionLost(closed_reason("control stream closed", conn));
                }
                let period = lock(slot).session.as_ref().map_or(Duration::from_millis(16), Session::tick_period);
                next_tick += period;
                let behind = tokio::time::Instant::now().saturating_duration_since(next_tick);
                if behind > Duration::from_millis(100) {
                    // Stalled (debugger, overloaded machine): do not burst to catch up.
                    next_tick = tokio::time::Instant::now() + period;
                }
            }
            reason = limits.reached() => return reason,
        }
    }
}

/// Dials again until the server gives our player back, the grace period is over, or the
/// session is stopped. The session shows "Reconnecting… n s" meanwhile.
async fn reconnect(
    redial: Redial<'_>,
    slot: &Arc<Mutex<Slot>>,
    start: Instant,
    limits: &Limits,
    why: &EndReason,
) -> Result<LinkParts, EndReason> {
    let lost_at = start.elapsed();
    let ticket = {
        let mut g = lock(slot);
        g.reconnects += 1;
        g.session.as_mut().map(|s| {
            s.set_reconnecting(Some(lost_at));
            s.resume_ticket()
        })
    };
    let Some((token, grace)) = ticket else {
        return Err(why.clone());
    };
    let mut plan = Reconnect::new(lost_at, grace, redial.seed);
    loop {
        let Some(wait) = plan.next(start.elapsed()) else {
            return Err(EndReason::ConnectionLost(format!(
                "{why}; not back within the server's {} s grace period",
                grace.as_secs()
            )));
        };
        let attempt = async {
            tokio::time::sleep(wait).await;
            tokio::time::timeout(
                ATTEMPT_TIMEOUT,
                connect_as(redial.cfg, redial.endpoint, Some(token)),
            )
            .await
        };
        let answer = tokio::select! {
            a = attempt => a,
            reason = limits.reached() => return Err(reason),
        };
        let c = match answer {
            Ok(Ok(c)) => c,
            Ok(Err(ConnectError::Refused(HandshakeError::Rejected(r)))) if !retry_after(&r) => {
                return Err(EndReason::Rejected(r));
            }
            Ok(Err(e @ (ConnectError::Trust(_) | ConnectError::Resolve { .. }))) => {
                return Err(EndReason::ConnectionLost(e.to_string()));
            }
            Ok(Err(e)) => {
                tracing::debug!(attempt = plan.attempts(), "reconnect attempt failed: {e}");
                continue;
            }
            Err(_) => continue,
        };
        let now = start.elapsed();
        let mut g = lock(slot);
        let Some(s) = g.session.as_mut() else {
            return Err(why.clone());
        };
        s.resume(c.welcomed, now, c.conn.rtt());
        if let Some(reason) = s.ended() {
            return Err(reason.clone());
        }
        s.set_reconnecting(None);
        g.resumes.push(Resumed {
            lost_at,
            resumed_at: now,
        });
        tracing::info!(
            after_ms = now.saturating_sub(lost_at).as_millis() as u64,
            "resumed our player"
        );
        return Ok(LinkParts {
            conn: c.conn,
            send: c.send,
            recv: c.recv,
        });
    }
}

/// Refusals worth another attempt during a reconnect: the server was only busy.
fn retry_after(r: &RejectReason) -> bool {
    matches!(r, RejectReason::Busy | RejectReason::TooManyFromAddress { .. })
}

/// The latest input from the window, with clicks latched until a tick has seen them.
#[derive(Debug, Default)]
struct WindowInput {
    latest: ControlInput,
    fire_latched: bool,
}

struct WindowBrain(Arc<Mutex<WindowInput>>);

impl Brain for WindowBrain {
    fn control(&mut self, _: &Session, _: Duration) -> ControlInput {
        let mut w = lock(&self.0);
        let mut c = w.latest.clone();
        c.fire |= w.fire_latched;
        c.chat = None;
        w.fire_latched = false;
        c
    }
}

/// A session running on its own thread, for the window: it takes `ControlInput`s and gives
/// `GameView`s computed when asked (so remote players are interpolated at the frame's time).
pub struct SessionHandle {
    slot: Arc<Mutex<Slot>>,
    input: Arc<Mutex<WindowInput>>,
    chat: mpsc::UnboundedSender<String>,
    stop: Arc<Notify>,
    conditioner: Arc<Mutex<Option<ConditionerControl>>>,
    start: Instant,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Connects and runs a session in the background; never fails here: failures show as
/// `Phase::Ended` in the view.
pub fn spawn_session(cfg: ConnectConfig) -> SessionHandle {
    let slot = Arc::new(Mutex::new(Slot::default()));
    let input = Arc::new(Mutex::new(WindowInput::default()));
    let (chat_tx, chat_rx) = mpsc::unbounded_channel();
    let stop = Arc::new(Notify::new());
    let conditioner = Arc::new(Mutex::new(None));
    let start = Instant::now();
    let (t_slot, t_input, t_stop, t_cond) = (slot.clone(), input.clone(), stop.clone(), conditioner.clone());
    let thread = std::thread::Builder::new()
        .name("rewind-session".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    lock(&t_slot).phase = Phase::Ended {
                        reason: format!("cannot start the network runtime: {e}"),
                    };
                    return;
                }
            };
            rt.block_on(async move {
                let fail = |e: ConnectError| {
                    lock(&t_slot).phase = Phase::Ended {
                        reason: e.to_string(),
                    };
                };
                let (endpoint, control) = match client_endpoint(cfg.link, cfg.seed) {
                    Ok(x) => x,
                    Err(e) => return fail(e),
                };
                if let Some(o) = cfg.outage {
                    o.schedule(control.clone(), cfg.link, start);
                }
                *lock(&t_cond) = Some(control);
                let connected = tokio::select! {
                    c = connect(&cfg, &endpoint) => c,
                    _ = t_stop.notified() => return,
                };
                match connected {
                    Ok(c) => {
                        let mut brain = WindowBrain(t_input);
                        let redial = Redial {
                            cfg: &cfg,
                            endpoint: &endpoint,
                            seed: cfg.seed,
                        };
                        let reason = drive(
                            c,
                            t_slot.clone(),
                            &mut brain,
                            start,
                            t_stop,
                            Some(chat_rx),
                            None,
                            Some(redial),
                        )
                        .await;
                        tracing::info!("session ended: {reason}");
                    }
                    Err(e) => fail(e),
                }
                let _ = tokio::time::timeout(Duration::from_secs(1), endpoint.wait_idle()).await;
            });
        });
    let thread = match thread {
        Ok(t) => Some(t),
        Err(e) => {
            lock(&slot).phase = Phase::Ended {
                reason: format!("cannot start the network thread: {e}"),
            };
            None
        }
    };
    SessionHandle {
        slot,
        input,
        chat: chat_tx,
        stop,
        conditioner,
        start,
        thread,
    }
}

impl SessionHandle {
    /// What to draw now.
    pub fn view(&self) -> GameView {
        let now = self.start.elapsed();
        let mut g = lock(&self.slot);
        let phase = g.phase.clone();
        match g.session.as_mut() {
            Some(s) => {
                let mut v = s.view(now);
                if matches!(phase, Phase::Ended { .. }) {
                    v.phase = phase;
                }
                v
            }
            None => GameView {
                phase,
                map: None,
                local_id: None,
                players: Vec::new(),
                tracers: Vec::new(),
                shots: Vec::new(),
                kill_feed: Vec::new(),
                chat: Vec::new(),
                scoreboard: Vec::new(),
                respawn_in_s: None,
                match_over: None,
                net: NetStats::default(),
                killcam: None,
            },
        }
    }

    /// The player's input this frame (a click is kept until the next tick sees it; a chat
    /// line is sent on the control stream).
    pub fn send(&self, mut input: ControlInput) {
        if let Some(line) = input.chat.take() {
            let _ = self.chat.send(line);
        }
        if input.skip_killcam
            && let Some(s) = lock(&self.slot).session.as_mut()
        {
            s.skip_killcam();
        }
        let mut w = lock(&self.input);
        w.fire_latched |= input.fire;
        w.latest = input;
    }

    /// The live link conditioner of our socket (None until the endpoint exists).
    pub fn conditioner(&self) -> Option<ConditionerControl> {
        lock(&self.conditioner).clone()
    }

    /// Leaves the match and closes the connection (returns at once).
    pub fn close(&self) {
        self.stop.notify_one();
    }

    /// Whether the session has ended.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
}

impl Drop for SessionHandle {
    fn drop(&mut self) {
        self.stop.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::interleave_families;
    use std::net::SocketAddr;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn families_alternate_from_the_resolvers_first_choice_without_repeats() {
        let got = interleave_families(vec![
            a("[::1]:1"),
            a("[2001:db8::1]:1"),
            a("127.0.0.1:1"),
            a("[::1]:1"),
            a("10.0.0.1:1"),
            a("10.0.0.2:1"),
        ]);
        assert_eq!(
            got,
            vec![
                a("[::1]:1"),
                a("127.0.0.1:1"),
                a("[2001:db8::1]:1"),
                a("10.0.0.1:1"),
                a("10.0.0.2:1"),
            ]
        );
        let v4_first = interleave_families(vec![a("127.0.0.1:1"), a("[::1]:1")]);
        assert_eq!(v4_first, vec![a("127.0.0.1:1"), a("[::1]:1")]);
        assert!(interleave_families(Vec::new()).is_empty());
    }
}
