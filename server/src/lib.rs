//! Rewind server crate (see docs/ARCHITECTURE.md).
