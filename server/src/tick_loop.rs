//! The fixed-step pump on its own thread: once per tick it hands what arrived on every link to
//! the `ServerCore`, runs the core's tick and passes the core's output back to the links. It
//! paces itself with an accumulator against the wall clock, catching up after a slow tick instead
//! of drifting, and never blocks on the network. All decisions are the core's.

use crate::core::{ClientKey, ServerCore, ShutdownReason, Transmit};
use crate::link::{Arrivals, Link, NewLink};
use crate::metrics::Metrics;
use crate::stats::ServerStats;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// Ticks behind schedule after which the loop stops trying to catch up.
const MAX_CATCH_UP_TICKS: u32 = 8;

/// `stop` value: keep running.
pub const STOP_NONE: u8 = 0;
/// `stop` value: stop as asked by the operator (Ctrl-C, `ServerHandle::stop`).
pub const STOP_OPERATOR: u8 = 1;
/// `stop` value: stop because the process is terminating (SIGTERM).
pub const STOP_TERMINATED: u8 = 2;

/// The tick thread: the core and the links it talks through.
pub struct TickLoop {
    core: ServerCore,
    links: BTreeMap<ClientKey, Box<dyn Link>>,
    incoming: Receiver<NewLink>,
    stop: Arc<AtomicU8>,
    origin: Instant,
    arrivals: Arrivals,
    roster: Arc<crate::roster::Roster>,
}

impl TickLoop {
    /// A pump around `core`, taking new connections from `incoming`; it stops when `stop` holds
    /// one of the `STOP_*` requests.
    pub fn new(core: ServerCore, incoming: Receiver<NewLink>, stop: Arc<AtomicU8>) -> TickLoop {
        TickLoop {
            core,
            links: BTreeMap::new(),
            incoming,
            stop,
            origin: Instant::now(),
            arrivals: Arrivals::default(),
            roster: Arc::default(),
        }
    }

    /// The live metrics (served by `--metrics`).
    pub fn metrics(&self) -> Arc<Metrics> {
        self.core.metrics()
    }

    /// The players as this loop last published them (a few times a second).
    pub fn roster(&self) -> Arc<crate::roster::Roster> {
        self.roster.clone()
    }

    /// Runs until stopped or the match duration is over; returns the final statistics.
    pub fn run(mut self) -> ServerStats {
        let cfg = self.core.config();
        let dt = Duration::from_secs_f64(1.0 / f64::from(cfg.tick_rate));
        let max_ticks = cfg
            .duration
            .map(|d| (d.as_secs_f64() * f64::from(cfg.tick_rate)).round() as u64);
        let mut realtime = cfg.realtime_tick && raise();
        let mut next = Instant::now();
        let reason = loop {
            match self.stop.load(Ordering::Relaxed) {
                STOP_OPERATOR => break ShutdownReason::Operator,
                STOP_TERMINATED => break ShutdownReason::Terminated,
                _ => {}
            }
            if self.core.matches_done() || max_ticks.is_some_and(|m| self.core.ticks() >= m) {
                break ShutdownReason::MatchOver;
            }
            let now = Instant::now();
            if now < next {
                std::thread::sleep((next - now).min(Duration::from_millis(5)));
                continue;
            }
            let started = Instant::now();
            if started > next + dt {
                self.core.record_late_tick();
            }
            let cpu_before = thread_cpu_time();
            self.tick();
            let cpu = thread_cpu_time()
                .zip(cpu_before)
                .map(|(after, before)| after.saturating_sub(before));
            self.core.record_tick_time(started.elapsed(), cpu);
            next += dt;
            if Instant::now() > next + dt * MAX_CATCH_UP_TICKS {
                self.core.record_overrun();
                next = Instant::now();
                if std::mem::take(&mut realtime) {
                    // A real-time loop that cannot keep up would hold the core the network
                    // needs to drain the very inputs it waits for.
                    crate::priority::lower_the_tick();
                    tracing::warn!(
                        "the tick fell {MAX_CATCH_UP_TICKS} ticks behind: back to normal priority"
                    );
                }
            }
        };
        self.accept_links();
        let mut stats = self.core.shutdown(reason);
        stats.tick_realtime = realtime;
        self.flush();
        stats
    }

    /// One tick: arrivals in, the core's tick (within `--tick-budget`, counted from here),
    /// output out.
    pub fn tick(&mut self) {
        let started = Instant::now();
        let budget = self.core.config().tick_budget();
        self.pump_in();
        let now = self.origin.elapsed();
        match budget {
            Some(b) => self.core.tick_within(now, &mut || started.elapsed() >= b),
            None => self.core.tick(now),
        }
        self.flush();
        if self
            .core
            .ticks()
            .is_multiple_of(crate::roster::publish_every_ticks(self.core.config().tick_rate))
        {
            self.roster.set(self.core.client_roster());
        }
    }

    fn accept_links(&mut self) {
        let now = self.origin.elapsed();
        while let Ok((key, link)) = self.incoming.try_recv() {
            self.core
                .handle_connect(key, link.peer_ip(), link.max_datagram_size(), now);
            self.links.insert(key, link);
        }
    }

    fn pump_in(&mut self) {
        self.accept_links();
        let now = self.origin.elapsed();
        let keys: Vec<ClientKey> = self.links.keys().copied().collect();
        for key in keys {
            let Some(link) = self.links.get(&key) else {
                continue;
            };
            self.arrivals.clear();
            link.drain(&mut self.arrivals);
            self.core.set_max_datagram(key, link.max_datagram_size());
            let a = &mut self.arrivals;
            if !a.control.is_empty() {
                self.core.handle_control(key, &a.control, now);
            }
            for d in &a.datagrams {
                self.core.handle_datagram(key, d, now);
            }
            if a.dropped > 0 {
                self.core.handle_dropped(key, a.dropped, now);
            }
            if let Some(why) = a.closed.take() {
                self.core.handle_closed(key, why);
                self.links.remove(&key);
            }
            // Route closes decided while handling this link before the next one is drained.
            self.flush();
        }
    }

    /// Passes everything the core queued to the links.
    fn flush(&mut self) {
        while let Some(t) = self.core.poll_transmit() {
            match t {
                Transmit::Datagram { key, bytes } => {
                    if let Some(link) = self.links.get(&key) {
                        link.send_datagram(bytes);
                    }
                }
                Transmit::Control { key, bytes } => {
                    if let Some(link) = self.links.get(&key)
                        && !link.send_control(bytes)
                    {
                        self.core.handle_backlogged(key);
                    }
                }
                Transmit::Close { key, reason } => {
                    if let Some(link) = self.links.remove(&key) {
                        link.close(&reason);
                    }
                }
            }
        }
    }
}

/// `--realtime-tick`: raises the calling (tick) thread, or says why not and goes on at normal
/// priority.
fn raise() -> bool {
    match crate::priority::raise_the_tick() {
        Ok(()) => {
            tracing::info!(
                "tick thread at real-time priority (SCHED_FIFO {})",
                crate::priority::TICK_RT_PRIORITY
            );
            true
        }
        Err(e) => {
            tracing::warn!("--realtime-tick: {e}; the tick runs at normal priority");
            false
        }
    }
}

/// The CPU time the calling thread has used: with the wall time, it tells a tick that computed
/// for long from one that waited for the core or a lock.
fn thread_cpu_time() -> Option<Duration> {
    #[cfg(unix)]
    {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        Some(Duration::new(
            u64::try_from(t.tv_sec).ok()?,
            u32::try_from(t.tv_nsec).ok()?,
        ))
    }
    #[cfg(not(unix))]
    {
        None
    }
}
