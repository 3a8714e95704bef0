//! Binding UDP sockets for QUIC, dual-stack where asked (issue 17, "the internet is IPv6 too").
//!
//! `[::]:PORT` means "every address, IPv6 and IPv4": the socket is opened with `IPV6_V6ONLY`
//! off, so IPv4 peers arrive as IPv4-mapped addresses (`::ffff:a.b.c.d`). Where the OS has no
//! IPv6 (a kernel booted with `ipv6.disable=1`, some containers), `[::]:PORT` falls back to
//! `0.0.0.0:PORT` with a log line instead of failing. Every other address binds as given.

use socket2::{Domain, Protocol, Socket, Type};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};

/// Binds `addr`; `[::]` is dual-stack (IPv4 too, where the OS allows), falling back to
/// `0.0.0.0` on the same port when IPv6 is unavailable.
pub fn bind_udp(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    match addr {
        SocketAddr::V6(v6) if v6.ip().is_unspecified() => match dual_stack(addr) {
            Ok(s) => Ok(s),
            Err(e) if ipv6_unavailable(&e) => {
                let v4 = SocketAddr::from((Ipv4Addr::UNSPECIFIED, addr.port()));
                tracing::info!("no IPv6 here ({e}): listening on {v4} only");
                UdpSocket::bind(v4)
            }
            Err(e) => Err(e),
        },
        _ => UdpSocket::bind(addr),
    }
}

fn dual_stack(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let socket = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
    if let Err(e) = socket.set_only_v6(false) {
        // Some systems (OpenBSD) never mix the families: IPv6 only, said once.
        tracing::info!("IPv6 socket cannot also take IPv4 here: {e}");
    }
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// Errors meaning "this machine has no IPv6", as opposed to "the port is taken".
fn ipv6_unavailable(e: &std::io::Error) -> bool {
    // EAFNOSUPPORT (97) and EADDRNOTAVAIL (99) on Linux; the kinds cover the rest.
    matches!(e.raw_os_error(), Some(97 | 99))
        || matches!(
            e.kind(),
            std::io::ErrorKind::Unsupported | std::io::ErrorKind::AddrNotAvailable
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv6Addr};
    use std::time::Duration;

    #[test]
    fn the_unspecified_v6_address_takes_ipv4_and_ipv6() {
        let server = bind_udp(SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0))).unwrap();
        server.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let port = server.local_addr().unwrap().port();
        let mut buf = [0u8; 8];
        if server.local_addr().unwrap().is_ipv6() {
            let c6 = UdpSocket::bind((Ipv6Addr::LOCALHOST, 0)).unwrap();
            c6.send_to(b"six", (Ipv6Addr::LOCALHOST, port)).unwrap();
            let (n, from) = server.recv_from(&mut buf).unwrap();
            assert_eq!(
                (&buf[..n], from.ip()),
                (&b"six"[..], IpAddr::V6(Ipv6Addr::LOCALHOST))
            );
        }
        let c4 = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        c4.send_to(b"four", (Ipv4Addr::LOCALHOST, port)).unwrap();
        let (n, from) = server.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"four");
        assert_eq!(from.ip().to_canonical(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    }

    #[test]
    fn other_addresses_bind_as_given() {
        let s = bind_udp(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
        assert_eq!(s.local_addr().unwrap().ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
}
