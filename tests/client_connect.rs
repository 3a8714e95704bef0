//! End-to-end: the client's connection against an in-process server over real QUIC — the
//! certificate check (pin, trust on first use, changed certificate), a rejection shown verbatim,
//! and the `SessionHandle` the window uses.

use rewind_client::net::{ConnectConfig, ConnectError, client_endpoint, connect, spawn_session};
use rewind_client::tls::{KnownHosts, Trust, TrustError};
use rewind_client::view::{ControlInput, Phase};
use rewind_server::{ServerConfig, ServerHandle, start};
use rewind_shared::Vec2;
use rewind_shared::conditioner::LinkConfig;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn server() -> ServerHandle {
    start(ServerConfig {
        ai: 1,
        ..ServerConfig::default()
    })
    .expect("server starts")
}

fn try_connect(cfg: ConnectConfig) -> Result<(), ConnectError> {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let (endpoint, _) = client_endpoint(LinkConfig::perfect(), 1)?;
        let c = connect(&cfg, &endpoint).await?;
        c.conn.close(0u32.into(), b"bye");
        Ok(())
    })
}

fn temp_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rewind-client-connect-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("known_hosts")
}

#[test]
fn pinned_certificate_connects_and_a_wrong_pin_names_both_hashes() {
    let s = server();
    let addr = s.local_addr().to_string();
    try_connect(ConnectConfig::new(
        &addr,
        "pinned",
        Some(s.cert_hash().to_uppercase()),
    ))
    .expect("pin matches");
    let wrong = "ab".repeat(32);
    let err = try_connect(ConnectConfig::new(&addr, "pinned", Some(wrong.clone()))).expect_err("must refuse");
    let msg = err.to_string();
    assert!(
        matches!(err, ConnectError::Trust(TrustError::PinMismatch { .. })),
        "{msg}"
    );
    assert!(msg.contains(&wrong) && msg.contains(s.cert_hash()), "{msg}");
    s.stop();
    s.wait();
}

#[test]
fn trust_on_first_use_remembers_and_refuses_a_changed_certificate() {
    let s = server();
    let addr = s.local_addr().to_string();
    let file = temp_file("tofu");
    let cfg = ConnectConfig {
        trust: Trust::KnownHosts(file.clone()),
        ..ConnectConfig::new(&addr, "tofu", None)
    };
    try_connect(cfg.clone()).expect("first use is trusted");
    assert_eq!(
        KnownHosts::load(&file).expect("file").get(&addr),
        Some(s.cert_hash())
    );
    try_connect(cfg.clone()).expect("same certificate again");
    // Another server's certificate under the same name: the remembered one differs.
    let remembered = "cd".repeat(32);
    std::fs::write(&file, format!("{addr} {remembered}\n")).expect("rewrite");
    let err = try_connect(cfg).expect_err("changed certificate");
    let msg = err.to_string();
    assert!(
        matches!(err, ConnectError::Trust(TrustError::Changed { .. })),
        "{msg}"
    );
    assert!(msg.contains(&remembered) && msg.contains(s.cert_hash()), "{msg}");
    assert!(msg.contains(&file.display().to_string()), "{msg}");
    s.stop();
    s.wait();
}

#[test]
fn rejection_reason_is_shown_verbatim() {
    let s = server();
    let cfg = ConnectConfig::new(
        s.local_addr().to_string(),
        "bad\u{7}name",
        Some(s.cert_hash().to_string()),
    );
    let err = try_connect(cfg).expect_err("bad name is refused");
    assert!(
        matches!(
            err,
            ConnectError::Refused(rewind_client::handshake::HandshakeError::Rejected(_))
        ),
        "{err}"
    );
    assert!(err.to_string().contains("bad name"), "{err}");
    s.stop();
    s.wait();
}

#[test]
fn session_handle_plays_and_reports_unreachable_servers() {
    let s = server();
    let h = spawn_session(ConnectConfig::new(
        s.local_addr().to_string(),
        "window",
        Some(s.cert_hash().to_string()),
    ));
    let deadline = Instant::now() + Duration::from_secs(10);
    let start_pos = loop {
        let v = h.view();
        if let Some(me) = v.players.iter().find(|p| p.local) {
            assert_eq!(v.phase, Phase::Playing);
            assert!(v.map.is_some() && v.local_id == Some(me.id));
            break me.pos;
        }
        assert!(Instant::now() < deadline, "never saw our player: {:?}", v.phase);
        std::thread::sleep(Duration::from_millis(20));
    };
    for _ in 0..25 {
        h.send(ControlInput {
            mv: Vec2::new(1.0, 0.0),
            aim: Vec2::X,
            ..ControlInput::default()
        });
        std::thread::sleep(Duration::from_millis(20));
    }
    let v = h.view();
    let me = v.players.iter().find(|p| p.local).expect("local player");
    assert!(
        me.pos != start_pos,
        "moving right moved us: {} -> {}",
        start_pos,
        me.pos
    );
    assert!(v.net.snapshot_rate > 0.0 && v.net.corrections == 0, "{:?}", v.net);
    assert!(h.conditioner().is_some());
    h.close();
    drop(h);
    s.stop();
    s.wait();

    // Nothing listens there any more.
    let h = spawn_session(ConnectConfig::new("127.0.0.1:9", "nobody", Some("ab".repeat(32))));
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Phase::Ended { reason } = h.view().phase {
            assert!(reason.contains("127.0.0.1:9"), "{reason}");
            break;
        }
        assert!(Instant::now() < deadline, "no end reported");
        std::thread::sleep(Duration::from_millis(50));
    }
}
