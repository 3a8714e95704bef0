//! Live server metrics for `--metrics ADDR` (DESIGN §9): a `prometheus-client` registry the tick
//! thread updates where it already counts its statistics, and a tiny HTTP/1.1 endpoint on the
//! network runtime that serves it as text on `GET /metrics`.
//!
//! The `--stats` JSON tells how a match went once it is over; these tell how it is going while it
//! runs, so an operator can watch tick time and bandwidth under load. The HTTP side is
//! deliberately minimal (no framework): one request per connection, bounded size, a deadline, a
//! cap on concurrent connections, and every malformed request answered or dropped, never a panic.

use crate::stats::NetCounters;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Largest request head accepted (request line plus headers); scrapers send a few hundred bytes.
pub const MAX_REQUEST_BYTES: usize = 8 * 1024;
/// A connection must deliver its request and take the answer within this long.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections served at once; more are closed at once rather than queued.
pub const MAX_CONNECTIONS: usize = 32;

/// Content type of the OpenMetrics text `prometheus-client` produces (Prometheus scrapes it).
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Tick duration buckets, in seconds: 50 µs .. 16 ms (a whole 60 Hz tick budget).
const TICK_BUCKETS: [f64; 12] = [
    0.000_05, 0.000_1, 0.000_2, 0.000_3, 0.000_5, 0.000_75, 0.001, 0.002, 0.004, 0.008, 0.016, 0.033,
];
/// Snapshot datagram size buckets, in bytes, up to the datagram limit.
const SNAPSHOT_BUCKETS: [f64; 10] = [
    32.0, 64.0, 128.0, 192.0, 256.0, 384.0, 512.0, 768.0, 1024.0, 1200.0,
];
/// Input buffer depth buckets (inputs waiting when a tick takes one; 1 = just in time).
const DEPTH_BUCKETS: [f64; 10] = [0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 32.0];
/// Rewind depth buckets, in ticks behind the tick being simulated.
const REWIND_BUCKETS: [f64; 12] = [0.0, 1.0, 2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0];

/// The metrics the tick loop updates. Every handle is a cheap shared atomic (or a short lock for
/// histograms), so updating them costs the tick next to nothing.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Ticks simulated.
    pub ticks: Counter,
    /// Wall time of one tick, in seconds.
    pub tick_seconds: Histogram,
    /// Ticks run so late the loop stopped catching up.
    pub overruns: Counter,
    /// Players in the match (AI included).
    pub players: Gauge,
    /// Connected human clients.
    pub clients: Gauge,
    /// Snapshot datagram sizes, in bytes.
    pub snapshot_bytes: Histogram,
    /// Bytes of snapshot datagrams sent (control-stream bytes are added at scrape time).
    pub datagram_bytes_out: Counter,
    /// Entities left out of snapshots to fit a datagram.
    pub deferred_entities: Counter,
    /// Inputs buffered for a client when the tick takes one.
    pub input_depth: Histogram,
    /// Ticks simulated with a repeated input.
    pub missing_inputs: Counter,
    /// Inputs that arrived after their tick.
    pub late_inputs: Counter,
    /// Inputs too far in the future.
    pub future_inputs: Counter,
    /// How far back shots were rewound: simulated tick − `view.tick_b`.
    pub rewind_ticks: Histogram,
    /// Shots fired.
    pub shots: Counter,
    /// Shots that hit.
    pub hits: Counter,
    /// Shots whose view was older than the rewind window.
    pub rejected_too_old: Counter,
    /// Shots whose view was impossible.
    pub refused_views: Counter,
}

impl Metrics {
    /// A registry with every metric, reading the network counters at scrape time.
    pub fn new(net: Arc<NetCounters>) -> Metrics {
        let mut registry = Registry::with_prefix("rewind");
        let ticks = Counter::default();
        let tick_seconds = Histogram::new(TICK_BUCKETS);
        let overruns = Counter::default();
        let players = Gauge::default();
        let clients = Gauge::default();
        let snapshot_bytes = Histogram::new(SNAPSHOT_BUCKETS);
        let datagram_bytes_out = Counter::default();
        let deferred_entities = Counter::default();
        let input_depth = Histogram::new(DEPTH_BUCKETS);
        let missing_inputs = Counter::default();
        let late_inputs = Counter::default();
        let future_inputs = Counter::default();
        let rewind_ticks = Histogram::new(REWIND_BUCKETS);
        let shots = Counter::default();
        let hits = Counter::default();
        let rejected_too_old = Counter::default();
        let refused_views = Counter::default();
        registry.register("ticks", "Ticks simulated", ticks.clone());
        registry.register_with_unit(
            "tick_duration",
            "Wall time of one server tick",
            Unit::Seconds,
            tick_seconds.clone(),
        );
        registry.register(
            "tick_overruns",
            "Times the loop fell so far behind that it stopped catching up",
            overruns.clone(),
        );
        registry.register("players", "Players in the match, AI included", players.clone());
        registry.register("clients", "Connected human clients", clients.clone());
        registry.register_with_unit(
            "snapshot_size",
            "Size of each snapshot datagram sent",
            Unit::Bytes,
            snapshot_bytes.clone(),
        );
        registry.register(
            "snapshot_deferred_entities",
            "Entities left out of a snapshot to fit one datagram",
            deferred_entities.clone(),
        );
        registry.register(
            "input_buffer_depth",
            "Inputs buffered for a client when the tick takes one (1 = just in time, 0 = missing)",
            input_depth.clone(),
        );
        registry.register(
            "missing_inputs",
            "Ticks simulated with a repeated input because none had arrived",
            missing_inputs.clone(),
        );
        registry.register(
            "late_inputs",
            "Inputs dropped because they arrived after their tick",
            late_inputs.clone(),
        );
        registry.register(
            "future_inputs",
            "Inputs dropped because their tick was too far ahead",
            future_inputs.clone(),
        );
        registry.register(
            "rewind_depth_ticks",
            "How many ticks back lag-compensated shots were traced (tick - view.tick_b)",
            rewind_ticks.clone(),
        );
        registry.register("shots", "Shots fired, AI included", shots.clone());
        registry.register("hits", "Shots that hit", hits.clone());
        registry.register(
            "rejected_too_old",
            "Shots whose view was older than the rewind window (clamped to it)",
            rejected_too_old.clone(),
        );
        registry.register(
            "refused_views",
            "Shots whose view was impossible (future or backwards)",
            refused_views.clone(),
        );
        registry.register_collector(Box::new(NetCollector {
            net,
            datagram_bytes_out: datagram_bytes_out.clone(),
        }));
        Metrics {
            registry,
            ticks,
            tick_seconds,
            overruns,
            players,
            clients,
            snapshot_bytes,
            datagram_bytes_out,
            deferred_entities,
            input_depth,
            missing_inputs,
            late_inputs,
            future_inputs,
            rewind_ticks,
            shots,
            hits,
            rejected_too_old,
            refused_views,
        }
    }

    /// Records one tick's wall time.
    pub fn tick(&self, elapsed: Duration) {
        self.ticks.inc();
        self.tick_seconds.observe(elapsed.as_secs_f64());
    }

    /// Records one snapshot datagram sent.
    pub fn snapshot(&self, bytes: usize) {
        self.datagram_bytes_out.inc_by(bytes as u64);
        self.snapshot_bytes.observe(bytes as f64);
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(8 * 1024);
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// Counters the network tasks keep as plain atomics, read when scraped.
#[derive(Debug)]
struct NetCollector {
    net: Arc<NetCounters>,
    datagram_bytes_out: Counter,
}

impl NetCollector {
    fn counter(encoder: &mut DescriptorEncoder, name: &str, help: &str, v: u64) -> std::fmt::Result {
        let c = ConstCounter::new(v);
        let m = encoder.encode_descriptor(name, help, None, c.metric_type())?;
        c.encode(m)
    }
}

impl Collector for NetCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let n = &self.net;
        let read = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let rows: [(&str, &str, u64); 5] = [
            (
                "bytes_in",
                "Bytes received (datagrams and control streams)",
                read(&n.bytes_in),
            ),
            (
                "bytes_out",
                "Bytes sent (snapshot datagrams and control streams)",
                self.datagram_bytes_out.get() + read(&n.stream_bytes_out),
            ),
            (
                "bad_datagrams",
                "Datagrams that failed to decode",
                read(&n.bad_datagrams),
            ),
            (
                "rate_limited_datagrams",
                "Datagrams dropped by the rate limit",
                read(&n.rate_limited),
            ),
            (
                "handshakes",
                "Client handshakes completed",
                read(&n.clients_total),
            ),
        ];
        for (name, help, v) in rows {
            Self::counter(&mut encoder, name, help, v)?;
        }
        Ok(())
    }
}

/// Serves `GET /metrics` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                // Out of descriptors and the like: back off instead of spinning.
                tracing::warn!("metrics listener: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "metrics: too many connections, closing");
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            if let Err(e) = tokio::time::timeout(REQUEST_TIMEOUT, handle(stream, &metrics)).await {
                tracing::debug!(%peer, "metrics request timed out: {e}");
            }
            drop(permit);
        });
    }
}

/// What a request asked for.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Metrics,
    NotFound,
    MethodNotAllowed,
    BadRequest,
    TooLarge,
}

/// Reads one request head (bounded) and answers it; the connection is closed afterwards.
async fn handle(mut stream: TcpStream, metrics: &Metrics) {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let route = loop {
        if let Some(end) = head_end(&buf) {
            break route(&buf[..end]);
        }
        if buf.len() >= MAX_REQUEST_BYTES {
            break Route::TooLarge;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return, // gone before asking anything
            // At most one chunk past the limit, checked before the next read.
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let response = match route {
        Route::Metrics => match metrics.encode() {
            Ok(body) => response("200 OK", CONTENT_TYPE, &body),
            Err(_) => response(
                "500 Internal Server Error",
                "text/plain",
                "cannot encode metrics\n",
            ),
        },
        Route::NotFound => response("404 Not Found", "text/plain", "not found; try /metrics\n"),
        Route::MethodNotAllowed => response("405 Method Not Allowed", "text/plain", "GET only\n"),
        Route::BadRequest => response("400 Bad Request", "text/plain", "bad request\n"),
        Route::TooLarge => response("431 Request Header Fields Too Large", "text/plain", "too large\n"),
    };
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Where the request head ends (after the blank line), if it has.
fn head_end(buf: &[u8]) -> Option<usize> {
    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
        return Some(i + 4);
    }
    buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2)
}

/// Routes a request head: only `GET /metrics` (query string ignored) is served.
fn route(head: &[u8]) -> Route {
    let Ok(text) = std::str::from_utf8(head) else {
        return Route::BadRequest;
    };
    let line = text.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Route::BadRequest;
    };
    if !version.starts_with("HTTP/1.") {
        return Route::BadRequest;
    }
    if method != "GET" {
        return Route::MethodNotAllowed;
    }
    let path = target.split('?').next().unwrap_or_default();
    if path == "/metrics" {
        Route::Metrics
    } else {
        Route::NotFound
    }
}

fn response(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_only_get_metrics() {
        assert_eq!(route(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), Route::Metrics);
        assert_eq!(route(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"), Route::Metrics);
        assert_eq!(route(b"GET / HTTP/1.1\r\n\r\n"), Route::NotFound);
        assert_eq!(route(b"GET /metricsx HTTP/1.1\r\n\r\n"), Route::NotFound);
        assert_eq!(route(b"POST /metrics HTTP/1.1\r\n\r\n"), Route::MethodNotAllowed);
        assert_eq!(route(b"GET /metrics\r\n\r\n"), Route::BadRequest);
        assert_eq!(route(b"GET /metrics SPDY/3\r\n\r\n"), Route::BadRequest);
        assert_eq!(route(b"\xff\xfe /metrics HTTP/1.1\r\n\r\n"), Route::BadRequest);
        assert_eq!(route(b"\r\n\r\n"), Route::BadRequest);
    }

    #[test]
    fn head_ends_at_the_blank_line() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b\r\n"), None);
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nbody"), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.1\n\n"), Some(16));
    }

    #[test]
    fn exposition_names_every_metric() {
        let net = Arc::new(NetCounters::default());
        net.bytes_in.fetch_add(7, Ordering::Relaxed);
        net.stream_bytes_out.fetch_add(5, Ordering::Relaxed);
        let m = Metrics::new(net);
        m.tick(Duration::from_micros(300));
        m.snapshot(100);
        m.rewind_ticks.observe(6.0);
        let text = m.encode().unwrap();
        for name in [
            "rewind_ticks_total 1",
            "rewind_tick_duration_seconds_bucket{le=\"0.0005\"} 1",
            "rewind_tick_duration_seconds_bucket{le=\"0.0002\"} 0",
            "rewind_players ",
            "rewind_clients ",
            "rewind_snapshot_size_bytes_count 1",
            "rewind_input_buffer_depth_bucket",
            "rewind_missing_inputs_total 0",
            "rewind_late_inputs_total",
            "rewind_future_inputs_total",
            "rewind_rewind_depth_ticks_bucket{le=\"6.0\"} 1",
            "rewind_shots_total",
            "rewind_hits_total",
            "rewind_rejected_too_old_total",
            "rewind_bytes_in_total 7",
            "rewind_bytes_out_total 105",
            "rewind_bad_datagrams_total 0",
        ] {
            assert!(text.contains(name), "missing {name:?} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
