//! Rewind's authoritative server: the `bevy_ecs` simulation, the fixed-step tick loop on its own
//! thread, the QUIC endpoint on tokio, lag compensation and recording.

pub mod ai;
pub mod cert;
pub mod config;
pub mod ecs;
pub mod endpoint;
pub mod inputs;
pub mod link;
pub mod metrics;
pub mod recorder;
pub mod server;
pub mod snapshots;
pub mod stats;
pub mod tick_loop;

pub use config::ServerConfig;
pub use server::{ServerHandle, StartError, Stopper, start};
pub use stats::ServerStats;
