//! Errors of the QUIC glue.

use rewind_shared::conditioner::ConfigError;

/// Why an endpoint or the netsim proxy could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// Binding or using a socket failed.
    #[error("network I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The link conditions are invalid.
    #[error("invalid network conditions: {0}")]
    Config(#[from] ConfigError),
    /// quinn and the conditioner timers need a tokio runtime.
    #[error("must be called inside a tokio runtime")]
    NoRuntime,
}
