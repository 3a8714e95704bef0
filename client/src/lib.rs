//! Rewind client crate (see docs/ARCHITECTURE.md).
