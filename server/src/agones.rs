//! `serve --agones`: this process as an Agones game server. Agones (on Kubernetes) starts one
//! `rewind serve` per pod and talks to it through the SDK sidecar's gRPC server on localhost
//! (`AGONES_SDK_GRPC_PORT`, default 9357); the official `agones` crate is the client.
//!
//! What the server tells Agones, and why:
//! - labels `map` and `version` and the annotations `cert-hash` and `protocol`, before `Ready`,
//!   so an allocator can pick a server by map and version and a matchmaker can hand clients the
//!   fingerprint to pin;
//! - `Ready` once the QUIC endpoint listens (the caller connects after `start` returned);
//! - `Health` every `health_every` from a task that watches the tick counter: when the tick loop
//!   stops advancing for `stall_after`, the pings stop for good, so Agones marks a wedged server
//!   Unhealthy and replaces it (a process that is merely alive is not healthy);
//! - the players (welcomed clients and players waiting to resume) as the SDK list `players`
//!   (Counters and Lists, beta): its length is the player count, its values `NAME#ID`;
//! - `Shutdown` after the last match (`Agones::shutdown`), so the pod is recycled;
//! - the GameServer's state is watched and `Allocated` is logged when it happens.
//!
//! Nothing here touches the tick thread: the server publishes its tick counter (`Metrics`) and
//! its roster (`Roster`), and the tasks here read them on their own runtime.

use crate::metrics::Metrics;
use crate::roster::Roster;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The SDK list holding the players (declare it in the GameServer spec: `lists: players`).
pub const PLAYERS_LIST: &str = "players";

/// What to tell Agones about this server.
#[derive(Clone, Debug)]
pub struct AgonesOptions {
    /// Map name (label `map`).
    pub map: String,
    /// Build version (label `version`).
    pub version: String,
    /// Certificate fingerprint (annotation `cert-hash`), what clients pin.
    pub cert_hash: String,
    /// Seats for players (the `players` list's capacity).
    pub capacity: u16,
    /// Time between health pings.
    pub health_every: Duration,
    /// The tick loop counts as stalled after this long without a tick.
    pub stall_after: Duration,
}

impl AgonesOptions {
    /// Pings every second and a stall after 2 s without a tick: a GameServer's default health
    /// check (`periodSeconds: 5`, `failureThreshold: 3`) then replaces a wedged server within
    /// about 15 s, and a live one never misses a period.
    pub fn new(map: &str, version: &str, cert_hash: &str, capacity: u16) -> AgonesOptions {
        AgonesOptions {
            map: map.to_string(),
            version: version.to_string(),
            cert_hash: cert_hash.to_string(),
            capacity,
            health_every: Duration::from_secs(1),
            stall_after: Duration::from_secs(2),
        }
    }
}

/// Why the Agones side could not start.
#[derive(Debug, thiserror::Error)]
pub enum AgonesError {
    /// No SDK server answered.
    #[error(
        "cannot reach the Agones SDK server on localhost:{port} (AGONES_SDK_GRPC_PORT; is this running in an Agones pod?): {source}"
    )]
    Connect {
        /// The port tried.
        port: String,
        /// Cause (boxed: a gRPC status is large).
        source: Box<agones::errors::Error>,
    },
    /// An SDK call failed.
    #[error("Agones SDK call {call} failed: {source}")]
    Call {
        /// Which call.
        call: &'static str,
        /// Cause (boxed: a gRPC status is large).
        source: Box<agones::errors::Error>,
    },
    /// The runtime for the SDK tasks could not start.
    #[error("cannot start the Agones tasks: {0}")]
    Runtime(std::io::Error),
}

/// A live connection to the Agones sidecar, with its tasks running.
pub struct Agones {
    rt: tokio::runtime::Runtime,
    sdk: agones::Sdk,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

fn call(name: &'static str) -> impl FnOnce(agones::errors::Error) -> AgonesError {
    move |source| AgonesError::Call {
        call: name,
        source: Box::new(source),
    }
}

impl Agones {
    /// Connects to the sidecar, labels this server, marks it `Ready` and starts the health,
    /// player and watch tasks. Call it once the server listens.
    pub fn start(
        opts: AgonesOptions,
        metrics: Arc<Metrics>,
        roster: Arc<Roster>,
    ) -> Result<Agones, AgonesError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("rewind-agones")
            .enable_all()
            .build()
            .map_err(AgonesError::Runtime)?;
        let port = std::env::var("AGONES_SDK_GRPC_PORT").unwrap_or_else(|_| "9357".into());
        let mut sdk = rt
            .block_on(agones::Sdk::new(None, None))
            .map_err(|source| AgonesError::Connect {
                port,
                source: Box::new(source),
            })?;
        rt.block_on(async {
            sdk.set_label("map", label_value(&opts.map))
                .await
                .map_err(call("SetLabel"))?;
            sdk.set_label("version", label_value(&opts.version))
                .await
                .map_err(call("SetLabel"))?;
            sdk.set_annotation("cert-hash", opts.cert_hash.as_str())
                .await
                .map_err(call("SetAnnotation"))?;
            sdk.set_annotation("protocol", rewind_shared::protocol::PROTOCOL_VERSION.to_string())
                .await
                .map_err(call("SetAnnotation"))?;
            sdk.ready().await.map_err(call("Ready"))
        })?;
        tracing::info!(map = %opts.map, "Agones: ready");
        let _guard = rt.enter();
        let tasks = vec![
            tokio::spawn(health(sdk.clone(), metrics, opts.health_every, opts.stall_after)),
            tokio::spawn(players(sdk.clone(), roster, opts.capacity)),
            tokio::spawn(watch(sdk.clone())),
        ];
        drop(_guard);
        Ok(Agones { rt, sdk, tasks })
    }

    /// Tells Agones this server is done (after the last match, or after a drain on SIGTERM), so
    /// the pod is recycled, and stops the tasks.
    pub fn shutdown(mut self) {
        for t in &self.tasks {
            t.abort();
        }
        let sdk = &mut self.sdk;
        let done = self
            .rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(2), sdk.shutdown()).await });
        match done {
            Ok(Ok(())) => tracing::info!("Agones: shutdown requested"),
            Ok(Err(e)) => tracing::error!("Agones: Shutdown failed: {e}"),
            Err(_) => tracing::error!("Agones: Shutdown timed out"),
        }
        self.rt.shutdown_timeout(Duration::from_millis(500));
    }
}

/// A Kubernetes label value: at most 63 of `[A-Za-z0-9._-]`, starting and ending alphanumeric
/// (a map file's name may hold anything).
pub fn label_value(s: &str) -> String {
    let mapped: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(63)
        .collect();
    mapped
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

/// Pings while the tick counter moves; stops for good once it has not moved for `stall_after`.
async fn health(sdk: agones::Sdk, metrics: Arc<Metrics>, every: Duration, stall_after: Duration) {
    let pings = sdk.health_check();
    let mut last = metrics.ticks.get();
    let mut moved = Instant::now();
    let mut timer = tokio::time::interval(every);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        timer.tick().await;
        let ticks = metrics.ticks.get();
        if ticks != last {
            last = ticks;
            moved = Instant::now();
        }
        let still = moved.elapsed();
        if still >= stall_after {
            tracing::error!(
                stalled_ms = still.as_millis() as u64,
                "Agones: the tick loop has stalled; health pings stop so the server is replaced"
            );
            return;
        }
        if pings.send(()).await.is_err() {
            tracing::error!("Agones: the health stream closed");
            return;
        }
    }
}

/// Keeps the `players` list equal to the server's roster (checked twice a second).
async fn players(sdk: agones::Sdk, roster: Arc<Roster>, capacity: u16) {
    let mut beta = sdk.beta().clone();
    if let Err(e) = beta.set_list_capacity(PLAYERS_LIST, i64::from(capacity)).await {
        tracing::warn!(
            "Agones: cannot set the players list's capacity (declare `lists: players` in the GameServer spec): {e}"
        );
    }
    let mut listed: BTreeSet<String> = BTreeSet::new();
    let mut timer = tokio::time::interval(Duration::from_millis(500));
    loop {
        timer.tick().await;
        let now: BTreeSet<String> = roster
            .get()
            .into_iter()
            .map(|(id, name)| format!("{name}#{}", id.0))
            .collect();
        for gone in listed.difference(&now) {
            match beta.delete_list_value(PLAYERS_LIST, gone).await {
                Ok(()) => tracing::info!(player = %gone, "Agones: player left"),
                Err(e) => tracing::warn!(player = %gone, "Agones: cannot remove a player: {e}"),
            }
        }
        for new in now.difference(&listed) {
            match beta.append_list_value(PLAYERS_LIST, new).await {
                Ok(()) => tracing::info!(player = %new, "Agones: player joined"),
                Err(e) => tracing::warn!(player = %new, "Agones: cannot add a player: {e}"),
            }
        }
        listed = now;
    }
}

/// Logs the GameServer's state changes, `Allocated` above all (a matchmaker claimed this server).
async fn watch(mut sdk: agones::Sdk) {
    let mut stream = match sdk.watch_gameserver().await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("Agones: cannot watch the GameServer: {e}");
            return;
        }
    };
    let mut state = String::new();
    while let Ok(Some(gs)) = stream.message().await {
        let Some(now) = gs.status.map(|s| s.state) else {
            continue;
        };
        if now != state {
            if now == "Allocated" {
                tracing::info!("Agones: allocated (a match was assigned to this server)");
            } else {
                tracing::info!(state = %now, "Agones: state");
            }
            state = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::label_value;

    #[test]
    fn label_values_are_what_kubernetes_accepts() {
        assert_eq!(label_value("arena"), "arena");
        assert_eq!(label_value("0.1.0"), "0.1.0");
        assert_eq!(label_value("/maps/my map.txt"), "maps_my_map.txt");
        assert_eq!(label_value(&"x".repeat(80)).len(), 63);
        assert_eq!(label_value("--"), "");
    }
}
