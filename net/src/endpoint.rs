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
    let config = endpoint_config(server_config.is_some());
    let endpoint = Endpoint::new_with_abstract_socket(config, server_config, Arc::new(socket), runtime)?;
    Ok((endpoint, control))
}

/// A plain quinn endpoint on quinn's own tokio socket, for code that never conditions (e.g. a
/// server that sits behind `rewind netsim`). Must be called inside a tokio runtime.
pub fn plain_endpoint(bind: SocketAddr, server_config: Option<ServerConfig>) -> Result<Endpoint, NetError> {
    let runtime = runtime()?;
    let socket = runtime.wrap_udp_socket(crate::bind::bind_udp(bind)?)?;
    Ok(Endpoint::new_with_abstract_socket(
        endpoint_config(server_config.is_some()),
        server_config,
        socket,
        runtime,
    )?)
}

/// Bytes of the connection ids a server hands out: every packet a client sends carries one.
/// quinn's default is 8; 4 still tells a few billion connections apart and still lets a client
/// whose NAT changes its port keep its connection, and saves 4 bytes on each of the 60 input
/// datagrams a second.
pub const SERVER_CID_LEN: usize = 4;

/// The endpoint configuration of every Rewind endpoint. Clients use zero-length connection ids:
/// each client connection has an endpoint of its own (one UDP socket, one remote address), so
/// quinn tells its packets apart by address, and every packet the server sends, snapshots above
/// all, is 8 bytes shorter. A server needs ids (many clients, and NAT rebinding): see
/// `SERVER_CID_LEN`.
pub fn endpoint_config(server: bool) -> EndpointConfig {
    let len = if server { SERVER_CID_LEN } else { 0 };
    let mut config = EndpointConfig::default();
    config.cid_generator(move || Box::new(quinn_proto::RandomConnectionIdGenerator::new(len)));
    config
}

/// How often the peer should acknowledge, asked of it through QUIC's ACK-frequency extension
/// (both ends here are quinn, which supports it). The game's datagrams are never retransmitted,
/// so acknowledgements only feed congestion control and loss detection, yet by default a peer
/// acknowledges every second packet: at 60 inputs a second that was some 30 acknowledgement-only
/// packets a second down to each client, and as many up for the snapshots. Asking for one after
/// 10 packets or 50 ms (capped by quinn at the round trip, at least 25 ms), and none for mere
/// reordering, lets nearly every acknowledgement ride on a packet that was going anyway.
pub fn sparse_acks() -> quinn::AckFrequencyConfig {
    let mut acks = quinn::AckFrequencyConfig::default();
    acks.ack_eliciting_threshold(quinn::VarInt::from_u32(10))
        .max_ack_delay(Some(std::time::Duration::from_millis(50)))
        .reordering_threshold(quinn::VarInt::from_u32(0));
    acks
}
