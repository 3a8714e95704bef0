//! Starting and stopping a server in-process: `rewind serve`, `rewind play` and the tests all use
//! `start`. The network runs on a tokio runtime on its own thread and the tick loop on another, so
//! a caller may be sync or async, and dropping the handle stops everything.

use crate::cert::Identity;
use crate::config::{ConfigError, ServerConfig};
use crate::core::ServerCore;
use crate::endpoint::{EndpointError, Listener, NetContext};
use crate::link::{NEW_LINK_QUEUE, NewLink};
use crate::stats::ServerStats;
use crate::tick_loop::TickLoop;
use crate::tick_loop::{STOP_NONE, STOP_OPERATOR, STOP_TERMINATED};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Why a server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The recording file could not be created.
    #[error(transparent)]
    Record(#[from] crate::recorder::RecordError),
    /// Certificate trouble.
    #[error(transparent)]
    Cert(#[from] crate::cert::CertError),
    /// The certificate's key cannot sign the recording.
    #[error(transparent)]
    Signer(#[from] crate::signer::SignerError),
    /// QUIC/TLS setup or bind failure.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// The metrics listener could not be bound.
    #[error("cannot serve metrics on {addr}: {source}")]
    Metrics {
        /// Address asked for.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// The LAN discovery socket could not be bound.
    #[error("cannot answer LAN discovery on {addr}: {source}")]
    Lan {
        /// Address asked for.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// A thread or runtime could not be created.
    #[error("cannot start server threads: {0}")]
    Runtime(std::io::Error),
}

/// Stops a server from anywhere.
#[derive(Clone, Debug)]
pub struct Stopper(Arc<AtomicU8>);

impl Stopper {
    /// Asks the server to stop; the tick loop tells clients why and ends.
    pub fn stop(&self) {
        request(&self.0, STOP_OPERATOR);
    }

    /// Asks the server to stop because the process is terminating (SIGTERM): the same drain,
    /// with clients told that the server is shutting down.
    pub fn terminate(&self) {
        request(&self.0, STOP_TERMINATED);
    }
}

/// Sets the stop request unless one is already set (the first reason wins).
fn request(stop: &AtomicU8, why: u8) {
    let _ = stop.compare_exchange(STOP_NONE, why, Ordering::Relaxed, Ordering::Relaxed);
}

/// A running server.
pub struct ServerHandle {
    addr: SocketAddr,
    cert_hash: String,
    cert_der: Vec<u8>,
    metrics_addr: Option<SocketAddr>,
    lan_addr: Option<SocketAddr>,
    lan_counters: Arc<crate::lan::LanCounters>,
    metrics: Arc<crate::metrics::Metrics>,
    roster: Arc<crate::roster::Roster>,
    stop: Arc<AtomicU8>,
    tick_thread: Option<JoinHandle<ServerStats>>,
    net_thread: Option<JoinHandle<()>>,
    net_stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Network worker threads: two, or one where the server may use only one core (pinned with
/// `taskset`, a one-vCPU instance). There a second worker adds only hand-offs, and one more
/// runnable thread taking its share of the core from the tick (256 players on one core, two
/// runs each: tick p99 13.5-14.0 ms with one, 13.2-15.1 ms over three runs with two).
fn net_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().min(2))
}

/// Starts a server: binds, creates or loads the certificate, spawns the network and tick threads.
pub fn start(cfg: ServerConfig) -> Result<ServerHandle, StartError> {
    cfg.validate()?;
    let identity = match &cfg.data_dir {
        Some(dir) => Identity::load_or_create(dir)?,
        None => Identity::generate()?,
    };
    let (links, incoming) = std::sync::mpsc::sync_channel::<NewLink>(NEW_LINK_QUEUE);
    let ctx_links = links;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(net_workers())
        .thread_name("rewind-net")
        .on_thread_start(crate::priority::yield_to_the_tick)
        .enable_all()
        .build()
        .map_err(StartError::Runtime)?;
    let (listener, local) = Listener::bind(&runtime, &identity, &cfg)?;
    // Bound here, before any thread starts, so a bad address fails `start` and the real port is
    // known at once (port 0 in tests).
    let metrics_listener = match cfg.metrics {
        Some(addr) => {
            let _guard = runtime.enter();
            let bind = || -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
                let std_listener = std::net::TcpListener::bind(addr)?;
                std_listener.set_nonblocking(true)?;
                let listener = tokio::net::TcpListener::from_std(std_listener)?;
                let bound = listener.local_addr()?;
                Ok((listener, bound))
            };
            Some(bind().map_err(|source| StartError::Metrics { addr, source })?)
        }
        None => None,
    };
    let metrics_addr = metrics_listener.as_ref().map(|(_, a)| *a);
    // Bound here too, for the same reasons as the metrics listener.
    let lan_socket = match &cfg.lan {
        Some(lan) => {
            let _guard = runtime.enter();
            let bind = || -> std::io::Result<(tokio::net::UdpSocket, SocketAddr)> {
                let socket = tokio::net::UdpSocket::from_std(crate::lan::bind(lan.addr)?)?;
                let bound = socket.local_addr()?;
                Ok((socket, bound))
            };
            let (socket, bound) = bind().map_err(|source| StartError::Lan {
                addr: lan.addr,
                source,
            })?;
            let game = rewind_shared::lan::LanGame {
                name: rewind_shared::lan::clip_text(&lan.name),
                map: rewind_shared::lan::clip_text(&cfg.map.name),
                players: 0,
                max_players: cfg.max_clients,
                ai: cfg.ai,
                port: local.port(),
                protocol: rewind_shared::protocol::PROTOCOL_VERSION,
                cert_sha256: identity.hash_bytes(),
            };
            Some((socket, bound, game))
        }
        None => None,
    };
    let lan_addr = lan_socket.as_ref().map(|(_, a, _)| *a);
    let lan_counters = Arc::new(crate::lan::LanCounters::default());
    let recordings = cfg
        .record
        .as_ref()
        .map(|path| MatchRecordings::new(path.clone(), &cfg, &identity));
    let recorder = match &recordings {
        Some(r) => Some(r.start(1, rewind_shared::tick::Tick(0))?),
        None => None,
    };
    let stop = Arc::new(AtomicU8::new(STOP_NONE));
    let mut core = ServerCore::new(cfg, recorder);
    if let Some(r) = recordings.filter(|_| core.config().rules.several()) {
        core.set_recordings(Box::new(move |number, start| match r.start(number, start) {
            Ok(rec) => Some(rec),
            Err(e) => {
                tracing::error!("match {number} is not recorded: {e}");
                None
            }
        }));
    }
    let tick_loop = TickLoop::new(core, incoming, stop.clone());
    let metrics = tick_loop.metrics();
    let roster = tick_loop.roster();
    let ctx = NetContext {
        links: ctx_links,
        metrics: metrics.clone(),
        datagrams: Arc::default(),
    };
    let handle_metrics = metrics.clone();
    let lan_task = lan_socket.map(|(socket, _, game)| {
        let advert = crate::lan::Advert {
            game,
            metrics: metrics.clone(),
        };
        (socket, advert, lan_counters.clone())
    });
    let (net_stop, net_stop_rx) = tokio::sync::oneshot::channel::<()>();
    let net_thread = std::thread::Builder::new()
        .name("rewind-net-main".into())
        .spawn(move || {
            runtime.block_on(async move {
                let metrics_task = metrics_listener
                    .map(|(listener, _)| tokio::spawn(crate::metrics_http::serve(listener, metrics)));
                let lan_task = lan_task.map(|(socket, advert, counters)| {
                    tokio::spawn(crate::lan::serve(socket, advert, counters))
                });
                listener
                    .serve(ctx, async {
                        let _ = net_stop_rx.await;
                    })
                    .await;
                if let Some(t) = metrics_task {
                    t.abort();
                }
                if let Some(t) = lan_task {
                    t.abort();
                }
            });
            runtime.shutdown_timeout(Duration::from_secs(1));
        })
        .map_err(StartError::Runtime)?;
    let tick_thread = std::thread::Builder::new()
        .name("rewind-tick".into())
        .spawn(move || tick_loop.run())
        .map_err(StartError::Runtime)?;
    Ok(ServerHandle {
        addr: local,
        cert_hash: identity.hash_hex(),
        cert_der: identity.cert.to_vec(),
        metrics_addr,
        lan_addr,
        lan_counters,
        metrics: handle_metrics,
        roster,
        stop,
        tick_thread: Some(tick_thread),
        net_thread: Some(net_thread),
        net_stop: Some(net_stop),
    })
}

impl ServerHandle {
    /// The address the server listens on (with the real port when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where `GET /metrics` is served (with the real port when 0 was asked), if it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Where LAN discovery queries are answered (with the real port when 0 was asked), if they are.
    pub fn lan_addr(&self) -> Option<SocketAddr> {
        self.lan_addr
    }

    /// What the LAN responder has done so far (answers, rate-limited and malformed queries).
    pub fn lan_counters(&self) -> &crate::lan::LanCounters {
        &self.lan_counters
    }

    /// Human clients connected now, as the tick loop last published it (read-only; for the LAN
    /// advert and for hosts that show it).
    pub fn clients(&self) -> u32 {
        u32::try_from(self.metrics.clients.get()).unwrap_or(0)
    }

    /// The live metrics; their tick counter is the server's heartbeat (Agones health).
    pub fn metrics(&self) -> Arc<crate::metrics::Metrics> {
        self.metrics.clone()
    }

    /// The human players as the tick loop last published them (Agones player tracking).
    pub fn roster(&self) -> Arc<crate::roster::Roster> {
        self.roster.clone()
    }

    /// SHA-256 of the DER certificate, 64 hex digits (what clients pin).
    pub fn cert_hash(&self) -> &str {
        &self.cert_hash
    }

    /// The DER certificate.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// Asks the server to stop (clients are told why); returns at once.
    pub fn stop(&self) {
        request(&self.stop, STOP_OPERATOR);
    }

    /// A cloneable way to stop the server from another thread (a Ctrl-C handler).
    pub fn stopper(&self) -> Stopper {
        Stopper(self.stop.clone())
    }

    /// Whether the tick loop has ended (match over or stopped).
    pub fn is_finished(&self) -> bool {
        self.tick_thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Waits for the match to end (its duration, or `stop`) and returns the statistics.
    pub fn wait(mut self) -> ServerStats {
        self.join()
    }

    fn join(&mut self) -> ServerStats {
        let stats = match self.tick_thread.take().map(JoinHandle::join) {
            Some(Ok(s)) => s,
            Some(Err(_)) => {
                tracing::error!("tick thread panicked");
                ServerStats::default()
            }
            None => ServerStats::default(),
        };
        // Give writers a moment to deliver the shutdown reason before the endpoint closes.
        std::thread::sleep(Duration::from_millis(300));
        if let Some(tx) = self.net_stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.net_thread.take() {
            let _ = t.join();
        }
        stats
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if self.tick_thread.is_some() {
            self.stop();
            self.join();
        }
    }
}

/// How `--record FILE` makes each match's recording: the file name (`recorder::match_path`),
/// the header and the certificate key that signs it.
struct MatchRecordings {
    base: std::path::PathBuf,
    several: bool,
    header: rewind_shared::replay::ReplayHeader,
    identity: Identity,
}

impl MatchRecordings {
    fn new(base: std::path::PathBuf, cfg: &ServerConfig, identity: &Identity) -> MatchRecordings {
        let mut header = rewind_shared::replay::ReplayHeader::new(
            &cfg.map.name,
            &cfg.map.source,
            cfg.sim_config(),
            cfg.seed,
            rewind_shared::tick::Tick(0),
        );
        header.config = format!(
            r#"{{"tick_rate":{},"ai":{},"lagcomp":{},"max_rewind_ms":{},"snapshot_interval":{}}}"#,
            cfg.tick_rate,
            cfg.ai,
            cfg.lagcomp,
            cfg.max_rewind.as_millis(),
            cfg.snapshot_interval
        );
        // Validated: at most MAX_PLAYERS_CEILING, so it fits.
        header.max_players = cfg.ai.saturating_add(cfg.max_clients);
        MatchRecordings {
            base,
            several: cfg.rules.several(),
            header,
            identity: Identity {
                cert: identity.cert.clone(),
                key: identity.key.clone_key(),
            },
        }
    }

    /// Starts the signed recording of match `number`, from an empty world after tick `start`.
    fn start(
        &self,
        number: u32,
        start: rewind_shared::tick::Tick,
    ) -> Result<crate::recorder::Recorder, StartError> {
        let path = crate::recorder::match_path(&self.base, number, self.several);
        let mut header = self.header.clone();
        header.start_tick = start;
        let signer = crate::signer::IdentitySigner::new(&self.identity)?;
        Ok(crate::recorder::Recorder::start(
            &path,
            header,
            Some(Box::new(signer)),
        )?)
    }
}
