//! The client's side of the handshake, without IO: `start` gives the hello frame to write, then
//! every chunk read from the control stream goes to `on_control_bytes` until it yields the
//! welcome (or a refusal). Bytes that arrived after the welcome stay in the decoder, which the
//! `Session` takes over, so nothing the server sent right after the welcome is lost.

use rewind_shared::frame::{FrameDecoder, encode_frame};
use rewind_shared::protocol::{
    ClientMsg, MAX_CONTROL_FRAME, PROTOCOL_VERSION, RejectReason, ResumeToken, ServerMsg, Welcome,
};
use thiserror::Error;

/// Why the handshake failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum HandshakeError {
    /// The server refused; its reason.
    #[error("the server refused: {0}")]
    Rejected(RejectReason),
    /// The server is stopping; its reason.
    #[error("the server refused: {0}")]
    ShuttingDown(String),
    /// The server's bytes are not a valid frame.
    #[error("handshake failed: {0}")]
    Malformed(String),
    /// The server sent something else than a welcome first.
    #[error("handshake failed: expected a welcome, got {0}")]
    Unexpected(&'static str),
    /// Our hello could not be encoded.
    #[error("handshake failed: cannot encode the hello: {0}")]
    Encode(String),
}

/// A handshake in progress.
#[derive(Debug)]
pub struct Handshake {
    frames: FrameDecoder,
}

/// A completed handshake: the welcome, and the control stream's decoder with whatever came after.
#[derive(Debug)]
pub struct Welcomed {
    /// The server's welcome.
    pub welcome: Welcome,
    /// The control stream's decoder, positioned after the welcome.
    pub frames: FrameDecoder,
}

impl Handshake {
    /// Starts a handshake as `name`; returns it and the hello frame to write first.
    pub fn start(name: &str) -> Result<(Handshake, Vec<u8>), HandshakeError> {
        Handshake::opening(&ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            name: name.to_string(),
        })
    }

    /// Starts a handshake that asks for the player `token` was issued for (after a dropped
    /// connection); the answer is a `Welcome` as for a hello, or `ResumeUnknown`.
    pub fn resume(token: ResumeToken) -> Result<(Handshake, Vec<u8>), HandshakeError> {
        Handshake::opening(&ClientMsg::Resume {
            version: PROTOCOL_VERSION,
            token,
        })
    }

    fn opening(first: &ClientMsg) -> Result<(Handshake, Vec<u8>), HandshakeError> {
        let bytes = encode_frame(first).map_err(|e| HandshakeError::Encode(e.to_string()))?;
        Ok((
            Handshake {
                frames: FrameDecoder::new(MAX_CONTROL_FRAME),
            },
            bytes,
        ))
    }

    /// Bytes read from the control stream. `Ok(None)` until the welcome is complete.
    pub fn on_control_bytes(mut self, bytes: &[u8]) -> Result<Result<Welcomed, Handshake>, HandshakeError> {
        self.frames.push(bytes);
        match self.frames.next_msg::<ServerMsg>() {
            Ok(None) => Ok(Err(self)),
            Ok(Some(ServerMsg::Welcome(welcome))) => Ok(Ok(Welcomed {
                welcome,
                frames: self.frames,
            })),
            Ok(Some(ServerMsg::Reject(r))) => Err(HandshakeError::Rejected(r)),
            Ok(Some(ServerMsg::Shutdown { reason })) => Err(HandshakeError::ShuttingDown(reason)),
            Ok(Some(ServerMsg::Event(_))) => Err(HandshakeError::Unexpected("an event")),
            Ok(Some(ServerMsg::Verdict(_))) => Err(HandshakeError::Unexpected("a verdict")),
            Ok(Some(ServerMsg::Killcam(_))) => Err(HandshakeError::Unexpected("a killcam")),
            Err(e) => Err(HandshakeError::Malformed(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rewind_shared::player::PlayerId;
    use rewind_shared::tick::Tick;

    fn welcome() -> Welcome {
        Welcome {
            version: PROTOCOL_VERSION,
            player_id: PlayerId(3),
            tick_rate: 60,
            snapshot_interval: 1,
            map_name: "m".into(),
            map_text: "#".into(),
            server_tick: Tick(9),
            lagcomp: true,
            max_rewind_ticks: 24,
            roster: vec![],
            resume_token: ResumeToken([7; 16]),
            resume_grace_ms: 30_000,
        }
    }

    #[test]
    fn welcome_split_anywhere_completes_and_keeps_what_follows() {
        let mut bytes = encode_frame(&ServerMsg::Welcome(welcome())).unwrap();
        let shutdown = ServerMsg::Shutdown { reason: "x".into() };
        bytes.extend(encode_frame(&shutdown).unwrap());
        for cut in 0..bytes.len() {
            let (hs, _) = Handshake::start("me").unwrap();
            let hs = match hs.on_control_bytes(&bytes[..cut]).unwrap() {
                Ok(w) => {
                    assert!(cut >= bytes.len() - encode_frame(&shutdown).unwrap().len());
                    let mut frames = w.frames;
                    frames.push(&bytes[cut..]);
                    assert_eq!(frames.next_msg::<ServerMsg>().unwrap(), Some(shutdown.clone()));
                    continue;
                }
                Err(hs) => hs,
            };
            let mut w = hs.on_control_bytes(&bytes[cut..]).unwrap().unwrap();
            assert_eq!(w.welcome, welcome());
            assert_eq!(w.frames.next_msg::<ServerMsg>().unwrap(), Some(shutdown.clone()));
        }
    }

    #[test]
    fn refusals_are_typed() {
        let reason = RejectReason::ServerFull { max: 2 };
        let bytes = encode_frame(&ServerMsg::Reject(reason.clone())).unwrap();
        let (hs, hello) = Handshake::start("me").unwrap();
        assert!(!hello.is_empty());
        assert_eq!(
            hs.on_control_bytes(&bytes).unwrap_err(),
            HandshakeError::Rejected(reason)
        );
        let (hs, _) = Handshake::start("me").unwrap();
        let garbage = [255u8, 255, 255, 255, 1];
        assert!(matches!(
            hs.on_control_bytes(&garbage),
            Err(HandshakeError::Malformed(_))
        ));
    }
}
