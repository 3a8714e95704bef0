//! The server's counters, in one place: a `prometheus-client` registry the core updates as things
//! happen. `--metrics ADDR` serves it live (`metrics_http`), and `--stats` reads the same counters
//! at the end (`stats`), so the two can never disagree.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

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
    /// Snapshot datagrams sent.
    pub snapshots: Counter,
    /// Bytes sent: snapshot datagrams and control frames (payload, before QUIC).
    pub bytes_out: Counter,
    /// Bytes received: datagrams and control-stream bytes (payload).
    pub bytes_in: Counter,
    /// Datagrams that failed to decode.
    pub bad_datagrams: Counter,
    /// Datagrams dropped by the per-connection rate limit (or a full inbox).
    pub rate_limited: Counter,
    /// Refusals and disconnections of clients that misbehave or overstay (issue 12).
    pub guard: GuardCounters,
    /// Client handshakes completed.
    pub handshakes: Counter,
    /// Entities left out of snapshots to fit a datagram.
    pub deferred_entities: Counter,
    /// Snapshots postponed to the next tick because the tick had used its time.
    pub postponed_snapshots: Counter,
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
    /// Shots whose view was older than that client could have drawn (clamped to what it could).
    pub clamped_views: Counter,
    /// Shots traced against what the shooter had rather than the history (fog or deferral made
    /// them differ).
    pub seen_overrides: Counter,
    /// Killcams sent to victims.
    pub killcams: Counter,
    /// Bytes of the killcams sent (encoded messages, before framing).
    pub killcam_bytes: Counter,
}

impl Metrics {
    /// A registry with every metric at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("rewind");
        let ticks = Counter::default();
        let tick_seconds = Histogram::new(TICK_BUCKETS);
        let overruns = Counter::default();
        let players = Gauge::default();
        let clients = Gauge::default();
        let snapshot_bytes = Histogram::new(SNAPSHOT_BUCKETS);
        let snapshots = Counter::default();
        let bytes_out = Counter::default();
        let bytes_in = Counter::default();
        let bad_datagrams = Counter::default();
        let rate_limited = Counter::default();
        let handshakes = Counter::default();
        let deferred_entities = Counter::default();
        let postponed_snapshots = Counter::default();
        let input_depth = Histogram::new(DEPTH_BUCKETS);
        let missing_inputs = Counter::default();
        let late_inputs = Counter::default();
        let future_inputs = Counter::default();
        let rewind_ticks = Histogram::new(REWIND_BUCKETS);
        let shots = Counter::default();
        let hits = Counter::default();
        let rejected_too_old = Counter::default();
        let refused_views = Counter::default();
        let clamped_views = Counter::default();
        let seen_overrides = Counter::default();
        let killcams = Counter::default();
        let killcam_bytes = Counter::default();
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
            "snapshots_postponed",
            "Snapshots postponed to the next tick because the tick had used its time budget",
            postponed_snapshots.clone(),
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
            "Shots whose view this client could not have drawn (never sent or received, gap, future)",
            refused_views.clone(),
        );
        registry.register(
            "seen_overrides",
            "Shots traced against the hitboxes the shooter had (differing from the history)",
            seen_overrides.clone(),
        );
        registry.register(
            "clamped_views",
            "Shots whose view was older than this client's latency allows (clamped)",
            clamped_views.clone(),
        );
        registry.register("snapshots", "Snapshot datagrams sent", snapshots.clone());
        registry.register(
            "bytes_out",
            "Bytes sent (snapshot datagrams and control streams)",
            bytes_out.clone(),
        );
        registry.register(
            "bytes_in",
            "Bytes received (datagrams and control streams)",
            bytes_in.clone(),
        );
        registry.register(
            "bad_datagrams",
            "Datagrams that failed to decode",
            bad_datagrams.clone(),
        );
        registry.register(
            "rate_limited_datagrams",
            "Datagrams dropped by the rate limit",
            rate_limited.clone(),
        );
        registry.register("handshakes", "Client handshakes completed", handshakes.clone());
        registry.register("killcams", "Killcams sent to victims", killcams.clone());
        registry.register_with_unit(
            "killcam",
            "Bytes of the killcams sent (encoded, before framing)",
            Unit::Bytes,
            killcam_bytes.clone(),
        );
        let guard = GuardCounters::register(&mut registry);
        Metrics {
            guard,
            registry,
            ticks,
            tick_seconds,
            overruns,
            players,
            clients,
            snapshot_bytes,
            snapshots,
            bytes_out,
            bytes_in,
            bad_datagrams,
            rate_limited,
            handshakes,
            deferred_entities,
            postponed_snapshots,
            input_depth,
            missing_inputs,
            late_inputs,
            future_inputs,
            rewind_ticks,
            shots,
            hits,
            rejected_too_old,
            refused_views,
            clamped_views,
            seen_overrides,
            killcams,
            killcam_bytes,
        }
    }

    /// Records one snapshot datagram sent.
    pub fn snapshot(&self, bytes: usize) {
        self.snapshots.inc();
        self.bytes_out.inc_by(bytes as u64);
        self.snapshot_bytes.observe(bytes as f64);
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(8 * 1024);
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// Why connections were refused or dropped, one counter per cause (each also in `--stats`).
#[derive(Debug, Clone, Default)]
pub struct GuardCounters {
    /// Refused: other protocol version.
    pub refused_version: Counter,
    /// Refused: bad name.
    pub refused_bad_name: Counter,
    /// Refused: server full.
    pub refused_full: Counter,
    /// Refused: protocol error or handshake timeout.
    pub refused_protocol: Counter,
    /// Refused: the server was stopping.
    pub refused_shutting_down: Counter,
    /// Refused: too many connections from one address.
    pub refused_per_addr: Counter,
    /// Refused: too many handshakes at once, or one address connecting too often.
    pub refused_busy: Counter,
    /// Connection attempts sent a QUIC Retry (address validation) during a handshake flood.
    pub retries: Counter,
    /// Dropped: sent no datagram for too long.
    pub dropped_silent: Counter,
    /// Chat lines dropped by the per-player rate limit.
    pub chat_dropped: Counter,
    /// Dropped: did not read its control stream (backlog full).
    pub slow_readers: Counter,
    /// Players given back to a reconnecting client (`ClientMsg::Resume`).
    pub resumed: Counter,
    /// Resumes refused: unknown or expired token.
    pub refused_resume: Counter,
    /// Dropped players whose grace period ran out before they came back.
    pub resume_expired: Counter,
}

impl GuardCounters {
    fn register(registry: &mut Registry) -> GuardCounters {
        let g = GuardCounters::default();
        let rows: [(&str, &str, &Counter); 14] = [
            (
                "quic_retries",
                "Connection attempts asked to validate their address (QUIC Retry)",
                &g.retries,
            ),
            (
                "refused_per_addr",
                "Connections refused: too many from one address",
                &g.refused_per_addr,
            ),
            (
                "refused_busy",
                "Connections refused: too many handshakes at once",
                &g.refused_busy,
            ),
            (
                "refused_version",
                "Handshakes refused: other protocol version",
                &g.refused_version,
            ),
            (
                "refused_bad_name",
                "Handshakes refused: bad name",
                &g.refused_bad_name,
            ),
            ("refused_full", "Handshakes refused: server full", &g.refused_full),
            (
                "refused_protocol",
                "Handshakes refused: protocol error or no hello in time",
                &g.refused_protocol,
            ),
            (
                "refused_shutting_down",
                "Handshakes refused: server stopping",
                &g.refused_shutting_down,
            ),
            (
                "dropped_silent",
                "Clients dropped for sending no datagram for too long",
                &g.dropped_silent,
            ),
            (
                "chat_dropped",
                "Chat lines dropped by the rate limit",
                &g.chat_dropped,
            ),
            (
                "slow_readers",
                "Clients dropped for not reading their control stream",
                &g.slow_readers,
            ),
            (
                "resumed",
                "Players given back to a reconnecting client",
                &g.resumed,
            ),
            (
                "refused_resume",
                "Resumes refused: unknown or expired token",
                &g.refused_resume,
            ),
            (
                "resume_expired",
                "Dropped players removed when their grace period ran out",
                &g.resume_expired,
            ),
        ];
        for (name, help, c) in rows {
            registry.register(name, help, c.clone());
        }
        g
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_names_every_metric() {
        let m = Metrics::new();
        m.ticks.inc();
        m.tick_seconds.observe(0.000_3);
        m.bytes_in.inc_by(7);
        m.bytes_out.inc_by(5);
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
            "rewind_snapshots_total 1",
        ] {
            assert!(text.contains(name), "missing {name:?} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
