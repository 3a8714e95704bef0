//! Shared test fixtures: a self-signed TLS setup and a tiny echo server.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rewind_shared::protocol::ALPN;
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};

pub const LOCALHOST: &str = "127.0.0.1:0";

pub fn localhost() -> SocketAddr {
    LOCALHOST.parse().expect("valid addr")
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Matching server and client configs around one self-signed "localhost" certificate.
pub fn tls_configs() -> (quinn::ServerConfig, quinn::ClientConfig) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
    let cert: CertificateDer<'static> = ck.cert.der().clone();
    let key = PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der());

    let mut server = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("tls13")
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key.into())
        .expect("server cert");
    server.alpn_protocols = vec![ALPN.to_vec()];
    let mut server_cfg =
        quinn::ServerConfig::with_crypto(Arc::new(QuicServerConfig::try_from(server).expect("quic server")));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).expect("root");
    let mut client = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("tls13")
        .with_root_certificates(roots)
        .with_no_client_auth();
    client.alpn_protocols = vec![ALPN.to_vec()];
    let mut client_cfg =
        quinn::ClientConfig::new(Arc::new(QuicClientConfig::try_from(client).expect("quic client")));

    let mut transport = quinn::TransportConfig::default();
    transport.keep_alive_interval(Some(Duration::from_millis(500)));
    let transport = Arc::new(transport);
    server_cfg.transport_config(transport.clone());
    client_cfg.transport_config(transport);
    (server_cfg, client_cfg)
}

/// Serves every connection: echoes each bidirectional stream back to its sender.
pub fn spawn_echo_server(endpoint: quinn::Endpoint) {
    tokio::spawn(async move {
        while let Some(incoming) = endpoint.accept().await {
            tokio::spawn(async move {
                let Ok(conn) = incoming.await else { return };
                while let Ok((mut send, mut recv)) = conn.accept_bi().await {
                    tokio::spawn(async move {
                        if let Ok(data) = recv.read_to_end(64 * 1024).await {
                            let _ = send.write_all(&data).await;
                            let _ = send.finish();
                        }
                    });
                }
            });
        }
    });
}

/// One request/response round trip over a fresh bidirectional stream.
pub async fn ping(conn: &quinn::Connection, n: u32) {
    let (mut send, mut recv) = conn.open_bi().await.expect("open bi");
    send.write_all(&n.to_le_bytes()).await.expect("write");
    send.finish().expect("finish");
    let back = recv.read_to_end(64).await.expect("echo");
    assert_eq!(back, n.to_le_bytes());
}

/// `rounds` sequential pings, then quinn's smoothed RTT estimate.
pub async fn measure_rtt(conn: &quinn::Connection, rounds: u32) -> Duration {
    for i in 0..rounds {
        ping(conn, i).await;
    }
    conn.rtt()
}
