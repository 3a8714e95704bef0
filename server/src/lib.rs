//! Rewind's authoritative server. `core` is the whole server logic without IO (sessions, inputs,
//! snapshots, verdicts, recording), driven by time and bytes; `ecs` is its `bevy_ecs`
//! simulation; `tick_loop` paces it on its own thread; `endpoint` is the QUIC pump around it.

#[cfg(feature = "agones")]
pub mod agones;
pub mod ai;
pub mod cert;
pub mod config;
pub mod core;
pub mod ecs;
pub mod endpoint;
pub mod inputs;
pub mod lan;
pub mod link;
pub mod metrics;
pub mod metrics_http;
pub mod outbox;
pub mod priority;
pub mod recorder;
pub mod roster;
pub mod server;
pub mod signer;
pub mod snapshots;
pub mod stats;
pub mod tick_loop;
pub mod view_age;

pub use config::ServerConfig;
pub use server::{ServerHandle, StartError, Stopper, start};
pub use stats::ServerStats;
