//! Rewind client crate: connection, prediction, reconciliation, interpolation, rendering, bots.

pub mod view;
