//! `rewind netsim`: a standalone UDP proxy that applies link conditions in both directions, so
//! any server (even one built without conditioning) can be tested behind a bad network.
//!
//! Each client source address gets its own upstream socket (so the server sees one peer per
//! client) and its own pair of conditioners; sessions idle for [`IDLE_TIMEOUT`] are dropped.

use std::collections::HashMap;
use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rewind_shared::conditioner::{Conditioner, ConditionerStats, LinkConfig, derive_seed};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::args::NetArgs;
use crate::error::NetError;

/// Sessions with no traffic in either direction for this long are forgotten.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How often live counters are printed.
const REPORT_EVERY: Duration = Duration::from_secs(1);
/// Largest UDP datagram.
const MAX_DATAGRAM: usize = 64 * 1024;
/// Bound on simultaneous clients, so a spoofed-source flood cannot exhaust sockets.
const MAX_SESSIONS: usize = 4096;
/// Client datagrams waiting for their session task.
const SESSION_QUEUE: usize = 1024;

/// Counters of a netsim run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetsimStats {
    /// Client → server direction, all sessions.
    pub upstream: ConditionerStats,
    /// Server → client direction, all sessions.
    pub downstream: ConditionerStats,
    /// Sessions (distinct client addresses) ever created.
    pub sessions: u64,
}

impl std::fmt::Display for NetsimStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sessions {} | client→server {} | server→client {}",
            self.sessions, self.upstream, self.downstream
        )
    }
}

/// `rewind netsim` arguments.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct NetsimArgs {
    /// Address clients connect to
    #[arg(long, value_name = "ADDR")]
    pub listen: SocketAddr,
    /// The real server
    #[arg(long, value_name = "ADDR")]
    pub upstream: SocketAddr,
    /// Conditions applied to each direction
    #[command(flatten)]
    pub net: NetArgs,
}

/// Runs `rewind netsim` until Ctrl-C, printing live and final counters to stderr.
pub fn netsim_main(args: NetsimArgs) -> anyhow::Result<()> {
    let link = args.net.link_config()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let stats = rt.block_on(async {
        let netsim = Netsim::bind(args.listen, args.upstream, link, args.net.seed()).await?;
        eprintln!(
            "netsim: {} -> {} with {link} each way (Ctrl-C to stop)",
            netsim.local_addr()?,
            args.upstream
        );
        let stop = async {
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::error!(%e, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
        };
        netsim.run(stop).await
    })?;
    eprintln!("netsim: stopped. {stats}");
    Ok(())
}

/// Binds `listen` and proxies to `upstream` until `stop` resolves; see [`Netsim`].
pub async fn run_netsim(
    listen: SocketAddr,
    upstream: SocketAddr,
    link: LinkConfig,
    seed: u64,
    stop: impl Future<Output = ()>,
) -> Result<NetsimStats, NetError> {
    Netsim::bind(listen, upstream, link, seed).await?.run(stop).await
}

/// A bound, not yet running proxy; split from [`Netsim::run`] so callers can learn the port
/// of a `:0` listen address.
#[derive(Debug)]
pub struct Netsim {
    listen: Arc<UdpSocket>,
    upstream: SocketAddr,
    link: LinkConfig,
    seed: u64,
}

struct SessionState {
    up: ConditionerStats,
    down: ConditionerStats,
    last_activity: Instant,
}

struct Session {
    tx: mpsc::Sender<Vec<u8>>,
    state: Arc<Mutex<SessionState>>,
    task: JoinHandle<()>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Netsim {
    /// Binds the listening socket and validates `link`.
    pub async fn bind(
        listen: SocketAddr,
        upstream: SocketAddr,
        link: LinkConfig,
        seed: u64,
    ) -> Result<Self, NetError> {
        link.validate()?;
        let listen = Arc::new(UdpSocket::bind(listen).await?);
        Ok(Self {
            listen,
            upstream,
            link,
            seed,
        })
    }

    /// The address clients should use.
    pub fn local_addr(&self) -> Result<SocketAddr, NetError> {
        Ok(self.listen.local_addr()?)
    }

    /// Proxies until `stop` resolves, then returns the totals.
    pub async fn run(self, stop: impl Future<Output = ()>) -> Result<NetsimStats, NetError> {
        tokio::pin!(stop);
        let mut sessions: HashMap<SocketAddr, Session> = HashMap::new();
        let mut retired = NetsimStats::default();
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let mut report = tokio::time::interval(REPORT_EVERY);
        report.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                r = self.listen.recv_from(&mut buf) => match r {
                    Ok((n, from)) => self.forward_from_client(&mut sessions, &mut retired, from, &buf[..n]).await,
                    // e.g. ICMP errors surfacing on some platforms: not fatal for a proxy.
                    Err(e) => tracing::debug!(%e, "netsim listen socket error"),
                },
                _ = report.tick() => {
                    expire(&mut sessions, &mut retired, IDLE_TIMEOUT);
                    eprintln!("netsim: {} active, {}", sessions.len(), totals(&sessions, retired));
                }
            }
        }
        expire(&mut sessions, &mut retired, Duration::ZERO);
        Ok(retired)
    }

    async fn forward_from_client(
        &self,
        sessions: &mut HashMap<SocketAddr, Session>,
        retired: &mut NetsimStats,
        from: SocketAddr,
        data: &[u8],
    ) {
        if !sessions.contains_key(&from) {
            if sessions.len() >= MAX_SESSIONS {
                tracing::debug!(%from, "netsim session limit reached; datagram dropped");
                return;
            }
            match self.open_session(from, retired.sessions).await {
                Ok(s) => {
                    retired.sessions += 1;
                    tracing::info!(%from, "netsim: new session");
                    sessions.insert(from, s);
                }
                Err(e) => {
                    tracing::warn!(%e, %from, "netsim: cannot open upstream socket");
                    return;
                }
            }
        }
        if let Some(s) = sessions.get(&from) {
            // A full queue behaves like a congested link: the datagram is lost.
            if s.tx.try_send(data.to_vec()).is_err() {
                tracing::debug!(%from, "netsim session queue full; datagram dropped");
            }
        }
    }

    async fn open_session(&self, client: SocketAddr, index: u64) -> Result<Session, NetError> {
        let any: SocketAddr = if self.upstream.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let upstream = UdpSocket::bind(any).await?;
        upstream.connect(self.upstream).await?;
        let session_seed = derive_seed(self.seed, index);
        let up = Conditioner::new(self.link, derive_seed(session_seed, 0))?;
        let down = Conditioner::new(self.link, derive_seed(session_seed, 1))?;
        let state = Arc::new(Mutex::new(SessionState {
            up: ConditionerStats::default(),
            down: ConditionerStats::default(),
            last_activity: Instant::now(),
        }));
        let (tx, rx) = mpsc::channel(SESSION_QUEUE);
        let task = tokio::spawn(session_loop(SessionIo {
            client,
            listen: self.listen.clone(),
            upstream,
            rx,
            up,
            down,
            state: state.clone(),
        }));
        Ok(Session { tx, state, task })
    }
}

fn totals(sessions: &HashMap<SocketAddr, Session>, retired: NetsimStats) -> NetsimStats {
    sessions.values().fold(retired, |acc, s| {
        let st = lock(&s.state);
        NetsimStats {
            upstream: acc.upstream.merged(st.up),
            downstream: acc.downstream.merged(st.down),
            ..acc
        }
    })
}

/// Ends sessions idle for `idle` (all of them for `Duration::ZERO`), folding their counters into
/// `retired`.
fn expire(sessions: &mut HashMap<SocketAddr, Session>, retired: &mut NetsimStats, idle: Duration) {
    let now = Instant::now();
    sessions.retain(|addr, s| {
        let st = lock(&s.state);
        if !idle.is_zero() && now.saturating_duration_since(st.last_activity) < idle {
            return true;
        }
        s.task.abort();
        retired.upstream = retired.upstream.merged(st.up);
        retired.downstream = retired.downstream.merged(st.down);
        if !idle.is_zero() {
            tracing::info!(%addr, "netsim: session expired");
        }
        false
    });
}

struct SessionIo {
    client: SocketAddr,
    listen: Arc<UdpSocket>,
    upstream: UdpSocket,
    rx: mpsc::Receiver<Vec<u8>>,
    up: Conditioner,
    down: Conditioner,
    state: Arc<Mutex<SessionState>>,
}

/// One client's two directions: conditions client datagrams on their way to the server and
/// server datagrams on their way back.
async fn session_loop(mut io: SessionIo) {
    let epoch = Instant::now();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let deadline = match (io.up.next_deadline(), io.down.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(epoch + d).await,
                None => std::future::pending().await,
            }
        };
        let mut active = false;
        tokio::select! {
            m = io.rx.recv() => match m {
                Some(p) => {
                    io.up.push(epoch.elapsed(), p);
                    active = true;
                }
                None => return,
            },
            r = io.upstream.recv(&mut buf) => match r {
                Ok(n) => {
                    io.down.push(epoch.elapsed(), buf[..n].to_vec());
                    active = true;
                }
                // Connected UDP reports ICMP port-unreachable as an error: the server is not
                // there (yet). Like a real network, just keep going.
                Err(e) => tracing::debug!(%e, "netsim upstream error"),
            },
            _ = sleep => {}
        }
        let now = epoch.elapsed();
        while let Some(p) = io.up.poll(now) {
            if let Err(e) = io.upstream.send(&p).await {
                tracing::debug!(%e, "netsim send to server failed");
            }
        }
        while let Some(p) = io.down.poll(now) {
            if let Err(e) = io.listen.send_to(&p, io.client).await {
                tracing::debug!(%e, "netsim send to client failed");
            }
        }
        let mut st = lock(&io.state);
        st.up = io.up.stats();
        st.down = io.down.stats();
        if active {
            st.last_activity = Instant::now();
        }
    }
}
