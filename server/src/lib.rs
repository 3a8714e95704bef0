//! Rewind's authoritative server: the `bevy_ecs` simulation, the fixed-step tick loop on its own
//! thread, the QUIC endpoint on tokio, lag compensation and recording.

pub mod cert;
pub mod config;
pub mod ecs;
pub mod inputs;
pub mod snapshots;

pub use config::ServerConfig;
