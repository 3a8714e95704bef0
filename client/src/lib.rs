//! Rewind client crate: connection, prediction, reconciliation, interpolation, rendering, bots.
//!
//! The core is sans-IO (`session` and the modules it composes, `uplink`, `downlink`,
//! `prediction`, `clock`, `interpolation`, `shots`, `feed` and `meter`, take decoded messages and
//! the time, and give datagrams and a `GameView`); `net` runs it over QUIC; `bots` runs many of them
//! headless; the window (`game`) only draws `GameView`s and sends `ControlInput`s, and plays the
//! sounds `sound` derives from those views.

pub mod bots;
pub mod cheat;
pub mod clock;
pub mod downlink;
pub mod end;
pub mod feed;
pub mod game;
pub mod handshake;
pub mod interpolation;
pub mod killcam;
pub mod lan;
pub mod meter;
pub mod net;
pub mod prediction;
pub mod reconnect;
pub mod replay_view;
pub mod session;
pub mod settings;
pub mod shots;
pub mod sound;
pub mod tls;
pub mod uplink;
pub mod view;
