//! QUIC glue shared by server and client (see docs/ARCHITECTURE.md).
