//! Building quinn endpoints, conditioned or not.

use std::net::SocketAddr;
use std::sync::Arc;

use quinn::{Endpoint, EndpointConfig, Runtime, ServerConfig, TokioRuntime};
use rewind_shared::conditioner::LinkConfig;

use crate::error::NetError;
use crate::socket::{ConditionedSocket, ConditionerControl};

fn runtime() -> Result<Arc<TokioRuntime>, NetError> {
    tokio::runtime::Handle::try_current().map_err(|_| NetError::NoRuntime)?;
    Ok(Arc::new(TokioRuntime))
}

/// A quinn endpoint whose socket applies `link` to each direction (outgoing and incoming use
/// independent random streams derived from `seed`), plus the handle to change it live.
///
/// The wrapper is always installed, even for a perfect link, so the game window can add lag
/// later; a perfect link with nothing in flight bypasses the conditioner (no extra task hop).
/// Server endpoints pass `Some(server_config)`. Must be called inside a tokio runtime.
pub fn conditioned_endpoint(
    bind: SocketAddr,
    server_config: Option<ServerConfig>,
    link: LinkConfig,
    seed: u64,
) -> Result<(Endpoint, ConditionerControl), NetError> {
    let runtime = runtime()?;
    let inner = runtime.wrap_udp_socket(crate::bind::bind_udp(bind)?)?;
    let (socket, control) = ConditionedSocket::new(inner, link, seed)?;
    let endpoint = Endpoint::new_with_abstract_socket(
        EndpointConfig::default(),
        server_config,
        Arc::new(socket),
        runtime,
    )?;
    Ok((endpoint, control))
}

/// A plain quinn endpoint on quinn's own tokio socket, for code that never conditions (e.g. a
/// server that sits behind `rewind netsim`). Must be called inside a tokio runtime.
pub fn plain_endpoint(bind: SocketAddr, server_config: Option<ServerConfig>) -> Result<Endpoint, NetError> {
    let runtime = runtime()?;
    let socket = runtime.wrap_udp_socket(crate::bind::bind_udp(bind)?)?;
    Ok(Endpoint::new_with_abstract_socket(
        EndpointConfig::default(),
        server_config,
        socket,
        runtime,
    )?)
}
