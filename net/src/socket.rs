//! A quinn [`AsyncUdpSocket`] that runs every datagram through a link conditioner.
//!
//! Outgoing: `try_send` pushes into the outgoing conditioner and a tokio task releases packets to
//! the real socket at their delivery time. Incoming: `poll_recv` drains the real socket into the
//! incoming conditioner and hands quinn only the packets whose time has come, arming a tokio
//! timer for the next one. quinn therefore measures the conditioned RTT, sees the loss and
//! retransmits, exactly as on a bad network.
//!
//! GSO/GRO are hidden from quinn (one datagram per transmit/receive) because the conditioner
//! decides each datagram's fate separately.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use quinn::udp::{EcnCodepoint, RecvMeta, Transmit};
use quinn::{AsyncUdpSocket, UdpPoller};
use rewind_shared::conditioner::{
    Conditioner, ConditionerStats, ConfigError, LinkConfig, Packet, derive_seed,
};
use tokio::sync::Notify;
use tokio::time::{Instant, Sleep};

/// Largest datagram read without GRO (the most a UDP datagram can carry).
const MAX_DATAGRAM: usize = 64 * 1024;
/// Payload of one GRO segment: quinn's default `max_udp_payload_size`, which quinn also sizes
/// its own GRO buffers by (`max_udp_payload_size * gro_segments`).
const GRO_SEGMENT: usize = 1472;
/// Receives drained from the real socket per `poll_recv`, so a flood cannot starve quinn.
const MAX_DRAIN: usize = 256;

/// A datagram with the addressing quinn needs, as carried through the conditioner.
#[derive(Clone)]
struct Datagram {
    /// Destination (outgoing) or source (incoming).
    addr: SocketAddr,
    ecn: Option<EcnCodepoint>,
    /// Source IP (outgoing) or destination IP (incoming).
    local_ip: Option<IpAddr>,
    data: Vec<u8>,
}

impl Packet for Datagram {
    fn wire_len(&self) -> usize {
        self.data.len()
    }
}

struct Incoming {
    cond: Conditioner<Datagram>,
    timer: Pin<Box<Sleep>>,
    waker: Option<Waker>,
    buf: Vec<u8>,
}

/// Bypass counters: datagrams that took the fast path of a perfect, empty link.
#[derive(Default)]
struct Bypass {
    out: AtomicU64,
    inc: AtomicU64,
}

struct Shared {
    epoch: Instant,
    outgoing: Mutex<Conditioner<Datagram>>,
    incoming: Mutex<Incoming>,
    send_wake: Notify,
    closed: AtomicBool,
    bypass: Bypass,
}

/// A poisoned lock only means another thread panicked mid-update of counters and queues; the
/// conditioner stays usable, so carry on rather than take the connection down.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.epoch)
    }
}

/// Counters of both directions of a conditioned socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Datagrams this endpoint sent.
    pub outgoing: ConditionerStats,
    /// Datagrams this endpoint received.
    pub incoming: ConditionerStats,
}

/// Cloneable handle to a conditioned socket: change its link live and read its counters.
///
/// The game window keeps one to turn lag/jitter/loss up and down while playing.
#[derive(Clone)]
pub struct ConditionerControl {
    shared: Arc<Shared>,
}

impl fmt::Debug for ConditionerControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionerControl")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl ConditionerControl {
    /// Applies `link` to both directions. Packets already in flight keep their delivery time.
    pub fn set_link(&self, link: LinkConfig) -> Result<(), ConfigError> {
        self.set_outgoing(link)?;
        self.set_incoming(link)
    }

    /// Changes only what this endpoint sends.
    pub fn set_outgoing(&self, link: LinkConfig) -> Result<(), ConfigError> {
        lock(&self.shared.outgoing).set_config(link)?;
        self.shared.send_wake.notify_one();
        Ok(())
    }

    /// Changes only what this endpoint receives.
    pub fn set_incoming(&self, link: LinkConfig) -> Result<(), ConfigError> {
        let mut inc = lock(&self.shared.incoming);
        inc.cond.set_config(link)?;
        if let Some(w) = inc.waker.take() {
            w.wake();
        }
        Ok(())
    }

    /// Edits the outgoing settings with `f` and applies the result to both directions, e.g.
    /// `ctl.update(|l| l.latency += Duration::from_millis(10))`. Nothing changes if invalid.
    pub fn update(&self, f: impl FnOnce(&mut LinkConfig)) -> Result<LinkConfig, ConfigError> {
        let mut link = self.outgoing();
        f(&mut link);
        self.set_link(link)?;
        Ok(link)
    }

    /// Current outgoing settings.
    pub fn outgoing(&self) -> LinkConfig {
        *lock(&self.shared.outgoing).config()
    }

    /// Current incoming settings.
    pub fn incoming(&self) -> LinkConfig {
        *lock(&self.shared.incoming).cond.config()
    }

    /// Counters of both directions, including fast-path datagrams.
    pub fn stats(&self) -> LinkStats {
        let pass = |n: &AtomicU64| {
            let n = n.load(Ordering::Relaxed);
            ConditionerStats {
                sent: n,
                delivered: n,
                ..ConditionerStats::default()
            }
        };
        LinkStats {
            outgoing: lock(&self.shared.outgoing)
                .stats()
                .merged(pass(&self.shared.bypass.out)),
            incoming: lock(&self.shared.incoming)
                .cond
                .stats()
                .merged(pass(&self.shared.bypass.inc)),
        }
    }
}

/// The conditioned socket handed to quinn; see the module docs.
pub struct ConditionedSocket {
    inner: Arc<dyn AsyncUdpSocket>,
    shared: Arc<Shared>,
}

impl fmt::Debug for ConditionedSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionedSocket")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl Drop for ConditionedSocket {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.send_wake.notify_one();
    }
}

impl ConditionedSocket {
    /// Wraps `inner` (e.g. from `TokioRuntime::wrap_udp_socket`) and spawns the release task.
    /// Must be called inside a tokio runtime.
    pub fn new(
        inner: Arc<dyn AsyncUdpSocket>,
        link: LinkConfig,
        seed: u64,
    ) -> Result<(Self, ConditionerControl), ConfigError> {
        let epoch = Instant::now();
        // With GRO the kernel coalesces up to 64 segments into one read, but never past 64 KiB;
        // 64 KiB per segment (4 MiB per socket) made a bot process zero a gigabyte as 248 bots
        // started, stalling the ones already playing for 100-200 ms.
        let buf_len = MAX_DATAGRAM.max(GRO_SEGMENT * inner.max_receive_segments().max(1));
        let shared = Arc::new(Shared {
            epoch,
            outgoing: Mutex::new(Conditioner::new(link, derive_seed(seed, 0))?),
            incoming: Mutex::new(Incoming {
                cond: Conditioner::new(link, derive_seed(seed, 1))?,
                timer: Box::pin(tokio::time::sleep_until(epoch)),
                waker: None,
                buf: vec![0; buf_len],
            }),
            send_wake: Notify::new(),
            closed: AtomicBool::new(false),
            bypass: Bypass::default(),
        });
        tokio::spawn(release_outgoing(inner.clone(), shared.clone()));
        let control = ConditionerControl {
            shared: shared.clone(),
        };
        Ok((Self { inner, shared }, control))
    }

    /// Moves everything readable from the real socket into the incoming conditioner. Returns
    /// an error only if the socket failed.
    fn drain_inner(&self, cx: &mut Context, inc: &mut Incoming) -> io::Result<()> {
        let now = self.shared.now();
        for _ in 0..MAX_DRAIN {
            let mut meta = [RecvMeta::default()];
            let Incoming { cond, buf, .. } = &mut *inc;
            let mut bufs = [IoSliceMut::new(&mut buf[..])];
            match self.inner.poll_recv(cx, &mut bufs, &mut meta) {
                Poll::Ready(Ok(n)) => {
                    for m in &meta[..n] {
                        let stride = if m.stride == 0 { m.len } else { m.stride };
                        for chunk in buf[..m.len.min(buf.len())].chunks(stride.max(1)) {
                            let d = Datagram {
                                addr: m.addr,
                                ecn: m.ecn,
                                local_ip: m.dst_ip,
                                data: chunk.to_vec(),
                            };
                            cond.push(now, d);
                        }
                    }
                }
                // An ICMP error for an earlier send (Windows reports it on recv): not fatal.
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::ConnectionReset => continue,
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => return Ok(()),
            }
        }
        // Still readable: make sure we are polled again soon.
        cx.waker().wake_by_ref();
        Ok(())
    }
}

impl AsyncUdpSocket for ConditionedSocket {
    fn create_io_poller(self: Arc<Self>) -> Pin<Box<dyn UdpPoller>> {
        self.inner.clone().create_io_poller()
    }

    fn try_send(&self, transmit: &Transmit) -> io::Result<()> {
        let mut out = lock(&self.shared.outgoing);
        if out.config().is_perfect() && out.in_flight() == 0 {
            drop(out);
            self.inner.try_send(transmit)?;
            let n = transmit
                .segment_size
                .map_or(1, |s| transmit.contents.len().div_ceil(s.max(1)));
            self.shared.bypass.out.fetch_add(n as u64, Ordering::Relaxed);
            return Ok(());
        }
        let now = self.shared.now();
        let seg = transmit.segment_size.unwrap_or(transmit.contents.len()).max(1);
        for chunk in transmit.contents.chunks(seg) {
            let d = Datagram {
                addr: transmit.destination,
                ecn: transmit.ecn,
                local_ip: transmit.src_ip,
                data: chunk.to_vec(),
            };
            out.push(now, d);
        }
        drop(out);
        self.shared.send_wake.notify_one();
        Ok(())
    }

    fn poll_recv(
        &self,
        cx: &mut Context,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        let mut inc = lock(&self.shared.incoming);
        if inc.cond.config().is_perfect() && inc.cond.in_flight() == 0 {
            drop(inc);
            let res = self.inner.poll_recv(cx, bufs, meta);
            if let Poll::Ready(Ok(n)) = &res {
                let count: usize = meta[..*n]
                    .iter()
                    .map(|m| {
                        if m.stride == 0 {
                            1
                        } else {
                            m.len.div_ceil(m.stride)
                        }
                    })
                    .sum();
                self.shared.bypass.inc.fetch_add(count as u64, Ordering::Relaxed);
            }
            return res;
        }
        self.drain_inner(cx, &mut inc)?;
        loop {
            let now = self.shared.now();
            let mut n = 0;
            while n < bufs.len().min(meta.len()) {
                let Some(d) = inc.cond.poll(now) else { break };
                let Some(dst) = bufs[n].get_mut(..d.data.len()) else {
                    tracing::debug!(
                        len = d.data.len(),
                        "conditioned datagram larger than quinn's buffer"
                    );
                    continue;
                };
                dst.copy_from_slice(&d.data);
                let m = &mut meta[n];
                m.addr = d.addr;
                m.len = d.data.len();
                m.stride = d.data.len();
                m.ecn = d.ecn;
                m.dst_ip = d.local_ip;
                n += 1;
            }
            if n > 0 {
                return Poll::Ready(Ok(n));
            }
            inc.waker = Some(cx.waker().clone());
            let Some(deadline) = inc.cond.next_deadline() else {
                return Poll::Pending;
            };
            let at = self.shared.epoch + deadline;
            inc.timer.as_mut().reset(at);
            if inc.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            // The deadline passed while we were working: deliver now.
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn max_transmit_segments(&self) -> usize {
        1
    }

    fn max_receive_segments(&self) -> usize {
        1
    }

    fn may_fragment(&self) -> bool {
        self.inner.may_fragment()
    }
}

/// Releases outgoing datagrams to the real socket at their delivery time until the socket is
/// dropped.
async fn release_outgoing(inner: Arc<dyn AsyncUdpSocket>, shared: Arc<Shared>) {
    let mut poller = inner.clone().create_io_poller();
    while !shared.closed.load(Ordering::Acquire) {
        let now = shared.now();
        loop {
            let next = lock(&shared.outgoing).poll(now);
            let Some(d) = next else { break };
            send_one(inner.as_ref(), &mut poller, &d).await;
        }
        let deadline = lock(&shared.outgoing).next_deadline();
        match deadline {
            Some(d) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(shared.epoch + d) => {}
                    _ = shared.send_wake.notified() => {}
                }
            }
            None => shared.send_wake.notified().await,
        }
    }
}

async fn send_one(inner: &dyn AsyncUdpSocket, poller: &mut Pin<Box<dyn UdpPoller>>, d: &Datagram) {
    let transmit = Transmit {
        destination: d.addr,
        ecn: d.ecn,
        contents: &d.data,
        segment_size: None,
        src_ip: d.local_ip,
    };
    loop {
        match inner.try_send(&transmit) {
            Ok(()) => return,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if let Err(e) = poll_fn(|cx| poller.as_mut().poll_writable(cx)).await {
                    tracing::debug!(%e, "conditioned socket not writable; datagram dropped");
                    return;
                }
            }
            Err(e) => {
                // Like a real network: a failed send is a lost datagram, QUIC recovers.
                tracing::debug!(%e, "conditioned send failed; datagram dropped");
                return;
            }
        }
    }
}
