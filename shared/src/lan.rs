//! LAN discovery (issue 17): a one-datagram query and a one-datagram answer on a fixed UDP port,
//! so a player can list the games on their network and join one with its certificate pinned.
//!
//! Pure: bytes in, bytes out. The server's responder and the client's search do the IO. Two
//! rules keep a responder from being a reflector for attacks with spoofed source addresses:
//! a query is padded to exactly `QUERY_LEN` bytes (a shorter datagram is not a query), and an
//! answer is never more than `MAX_AMPLIFICATION` times that; and `RateLimiter` caps the answers
//! per source address and in total. See docs/PROTOCOL.md, "LAN discovery".

use crate::codec::{self, CodecError};
use crate::rate::TokenBucket;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

/// The UDP port responders listen on (the game's default QUIC port + 1).
pub const LAN_PORT: u16 = 4434;
/// Version of the discovery protocol itself (not `PROTOCOL_VERSION`, which the answer carries).
pub const LAN_VERSION: u8 = 1;
/// First bytes of every query: "RWLQ".
pub const QUERY_MAGIC: [u8; 4] = *b"RWLQ";
/// First bytes of every answer: "RWLA".
pub const ANSWER_MAGIC: [u8; 4] = *b"RWLA";
/// Exact size of a query datagram. The padding is what pays for the answer.
pub const QUERY_LEN: usize = 64;
/// An answer is at most this many times the query's size.
pub const MAX_AMPLIFICATION: usize = 3;
/// Largest answer datagram: `MAX_AMPLIFICATION * QUERY_LEN`.
pub const MAX_ANSWER_LEN: usize = MAX_AMPLIFICATION * QUERY_LEN;
/// Longest server name or map name in an answer, in bytes (longer ones are cut at a character).
pub const MAX_TEXT_BYTES: usize = 32;
/// Bytes of a query before its padding: magic, version, nonce (8 bytes fixed), padding length.
const QUERY_HEADER_LEN: usize = 4 + 1 + 8 + 1;

/// Why a datagram is not a valid query or answer.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LanError {
    /// A query must be exactly `QUERY_LEN` bytes, so it costs the sender what the answer costs.
    #[error("a query is {QUERY_LEN} bytes, got {0}")]
    QueryLength(usize),
    /// Wrong magic: not ours (some other program on the port).
    #[error("not a Rewind LAN datagram")]
    Magic,
    /// A discovery version this build does not speak.
    #[error("LAN discovery version {0}, this build speaks {LAN_VERSION}")]
    Version(u8),
    /// The padding must be zeros (so the format can grow into it).
    #[error("query padding is not zeros")]
    Padding,
    /// A text field over `MAX_TEXT_BYTES`.
    #[error("a text field is {0} bytes, at most {MAX_TEXT_BYTES}")]
    Text(usize),
    /// The codec refused the bytes.
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// The question "who is playing here?". `nonce` is echoed, so a searcher knows which answers
/// are to its own query and a stray datagram cannot pose as one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LanQuery {
    /// Random per search.
    pub nonce: u64,
}

#[derive(Serialize, Deserialize)]
struct QueryWire {
    magic: [u8; 4],
    version: u8,
    nonce: [u8; 8],
    pad: Vec<u8>,
}

impl LanQuery {
    /// Exactly `QUERY_LEN` bytes.
    pub fn encode(&self) -> Vec<u8> {
        let wire = QueryWire {
            magic: QUERY_MAGIC,
            version: LAN_VERSION,
            nonce: self.nonce.to_le_bytes(),
            pad: vec![0; QUERY_LEN - QUERY_HEADER_LEN],
        };
        // A fixed-size struct of bytes always encodes; the test below pins the length.
        codec::encode(&wire).unwrap_or_default()
    }

    /// Parses a query; anything but exactly `QUERY_LEN` bytes of the right shape is refused.
    pub fn decode(bytes: &[u8]) -> Result<LanQuery, LanError> {
        if bytes.len() != QUERY_LEN {
            return Err(LanError::QueryLength(bytes.len()));
        }
        if bytes.get(..4) != Some(&QUERY_MAGIC[..]) {
            return Err(LanError::Magic);
        }
        let wire: QueryWire = codec::decode(bytes, QUERY_LEN)?;
        if wire.version != LAN_VERSION {
            return Err(LanError::Version(wire.version));
        }
        if wire.pad.iter().any(|&b| b != 0) {
            return Err(LanError::Padding);
        }
        Ok(LanQuery {
            nonce: u64::from_le_bytes(wire.nonce),
        })
    }
}

/// What a responder says about its game: everything a player needs to pick it and join it with
/// the certificate pinned (no trust on first use).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanGame {
    /// Server name (`serve --lan --name`), at most `MAX_TEXT_BYTES`.
    pub name: String,
    /// Map name, at most `MAX_TEXT_BYTES`.
    pub map: String,
    /// Human players connected.
    pub players: u16,
    /// Human players at most.
    pub max_players: u16,
    /// AI players in the match (they take no slot).
    pub ai: u16,
    /// The game's QUIC port on the answering address.
    pub port: u16,
    /// The server's `PROTOCOL_VERSION`, so a client can skip games it cannot join.
    pub protocol: u32,
    /// SHA-256 of the server's DER certificate (what `--cert-hash` pins).
    pub cert_sha256: [u8; 32],
}

impl LanGame {
    /// The fingerprint as `serve` prints it and `--cert-hash` takes it: 64 lowercase hex digits.
    pub fn cert_hash_hex(&self) -> String {
        self.cert_sha256.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses a 64-digit hex fingerprint (`ServerHandle::cert_hash`); `None` if it is not one.
    pub fn parse_cert_hash(hex: &str) -> Option<[u8; 32]> {
        let hex = hex.as_bytes();
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in hex.chunks_exact(2).enumerate() {
            let s = std::str::from_utf8(pair).ok()?;
            *out.get_mut(i)? = u8::from_str_radix(s, 16).ok()?;
        }
        Some(out)
    }
}

/// Cuts `s` to at most `MAX_TEXT_BYTES` bytes at a character boundary (what an answer carries).
pub fn clip_text(s: &str) -> String {
    let mut end = s.len().min(MAX_TEXT_BYTES);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// The reply to one query: its nonce and the game.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LanAnswer {
    /// The query's nonce.
    pub nonce: u64,
    /// The game.
    pub game: LanGame,
}

#[derive(Serialize, Deserialize)]
struct AnswerWire {
    magic: [u8; 4],
    version: u8,
    nonce: [u8; 8],
    game: LanGame,
}

impl LanAnswer {
    /// At most `MAX_ANSWER_LEN` bytes: the texts are clipped to `MAX_TEXT_BYTES` first.
    pub fn encode(&self) -> Result<Vec<u8>, LanError> {
        let mut game = self.game.clone();
        game.name = clip_text(&game.name);
        game.map = clip_text(&game.map);
        let bytes = codec::encode(&AnswerWire {
            magic: ANSWER_MAGIC,
            version: LAN_VERSION,
            nonce: self.nonce.to_le_bytes(),
            game,
        })?;
        if bytes.len() > MAX_ANSWER_LEN {
            return Err(CodecError::TooLarge {
                len: bytes.len(),
                limit: MAX_ANSWER_LEN,
            }
            .into());
        }
        Ok(bytes)
    }

    /// Parses an answer of at most `MAX_ANSWER_LEN` bytes.
    pub fn decode(bytes: &[u8]) -> Result<LanAnswer, LanError> {
        if bytes.get(..4).is_some_and(|m| m != ANSWER_MAGIC) {
            return Err(LanError::Magic);
        }
        let wire: AnswerWire = codec::decode(bytes, MAX_ANSWER_LEN)?;
        if wire.magic != ANSWER_MAGIC {
            return Err(LanError::Magic);
        }
        if wire.version != LAN_VERSION {
            return Err(LanError::Version(wire.version));
        }
        for text in [&wire.game.name, &wire.game.map] {
            if text.len() > MAX_TEXT_BYTES {
                return Err(LanError::Text(text.len()));
            }
        }
        Ok(LanAnswer {
            nonce: u64::from_le_bytes(wire.nonce),
            game: wire.game,
        })
    }
}

/// Answers per second one source address earns.
pub const PER_ADDR_PER_S: f64 = 2.0;
/// Answers one source address may get at once before the rate applies.
pub const PER_ADDR_BURST: f64 = 4.0;
/// Answers per second in total, whatever the number of (possibly spoofed) sources.
pub const TOTAL_PER_S: f64 = 50.0;
/// Answers at once in total.
pub const TOTAL_BURST: f64 = 100.0;
/// Source addresses remembered at most.
pub const MAX_TRACKED_ADDRS: usize = 1024;

/// Token buckets per source address plus one for everything, with a bounded table: a query
/// flood from one address, or from many spoofed ones, costs the responder and its victims at
/// most `TOTAL_PER_S` small answers a second. Time comes in as `now` (since any fixed start).
#[derive(Debug)]
pub struct RateLimiter {
    per_addr: HashMap<IpAddr, TokenBucket>,
    total: TokenBucket,
    refused: u64,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter::new()
    }
}

impl RateLimiter {
    /// Everyone starts with a full bucket.
    pub fn new() -> RateLimiter {
        RateLimiter {
            per_addr: HashMap::new(),
            total: TokenBucket::new(TOTAL_PER_S, TOTAL_BURST, Duration::ZERO),
            refused: 0,
        }
    }

    /// Whether a query from `ip` at `now` may be answered (and spends a token if so).
    pub fn allow(&mut self, ip: IpAddr, now: Duration) -> bool {
        let ok = self.allow_inner(ip, now);
        if !ok {
            self.refused += 1;
        }
        ok
    }

    fn allow_inner(&mut self, ip: IpAddr, now: Duration) -> bool {
        if !self.per_addr.contains_key(&ip) && self.per_addr.len() >= MAX_TRACKED_ADDRS {
            // Forget the addresses whose buckets have refilled: they lose nothing by it.
            self.per_addr.retain(|_, b| !b.full_at(now));
            if self.per_addr.len() >= MAX_TRACKED_ADDRS {
                // Still full of active senders: refuse newcomers rather than grow.
                return false;
            }
        }
        let bucket = self
            .per_addr
            .entry(ip)
            .or_insert_with(|| TokenBucket::new(PER_ADDR_PER_S, PER_ADDR_BURST, now));
        // Check the address's own bucket first so one flooder does not drain the shared one.
        bucket.ready(now) && self.total.take(now) && bucket.take(now)
    }

    /// Queries refused so far.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// Source addresses currently remembered (at most `MAX_TRACKED_ADDRS`).
    pub fn tracked(&self) -> usize {
        self.per_addr.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    fn game(name: &str) -> LanGame {
        LanGame {
            name: name.into(),
            map: "arena".into(),
            players: 3,
            max_players: 64,
            ai: 7,
            port: 4433,
            protocol: crate::protocol::PROTOCOL_VERSION,
            cert_sha256: [0xab; 32],
        }
    }

    #[test]
    fn a_query_is_exactly_query_len_bytes_and_round_trips() {
        let q = LanQuery { nonce: u64::MAX };
        let bytes = q.encode();
        assert_eq!(bytes.len(), QUERY_LEN);
        assert_eq!(&bytes[..4], b"RWLQ");
        assert_eq!(LanQuery::decode(&bytes), Ok(q));
        assert_eq!(LanQuery::decode(&bytes[..63]), Err(LanError::QueryLength(63)));
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(LanQuery::decode(&long), Err(LanError::QueryLength(65)));
        let mut dirty = bytes.clone();
        dirty[QUERY_LEN - 1] = 1;
        assert_eq!(LanQuery::decode(&dirty), Err(LanError::Padding));
        let mut v2 = bytes;
        v2[4] = 2;
        assert_eq!(LanQuery::decode(&v2), Err(LanError::Version(2)));
    }

    #[test]
    fn the_largest_answer_is_at_most_three_times_the_query() {
        let mut g = game(&"é".repeat(100));
        g.map = "m".repeat(500);
        g.players = u16::MAX;
        g.max_players = u16::MAX;
        g.ai = u16::MAX;
        g.port = u16::MAX;
        g.protocol = u32::MAX;
        let bytes = LanAnswer {
            nonce: u64::MAX,
            game: g,
        }
        .encode()
        .expect("encodes");
        assert!(bytes.len() <= MAX_AMPLIFICATION * QUERY_LEN, "{}", bytes.len());
        assert_eq!(MAX_ANSWER_LEN, 192);
        // The figure the docs give: 128 bytes at most, 2x the query.
        assert_eq!(bytes.len(), 128);
        let back = LanAnswer::decode(&bytes).expect("decodes");
        assert_eq!(back.game.name.len(), 32);
        assert_eq!(back.game.name, "é".repeat(16));
        assert_eq!(back.game.map.len(), 32);
    }

    #[test]
    fn an_answer_round_trips_and_its_fingerprint_is_hex() {
        let a = LanAnswer {
            nonce: 42,
            game: game("Friday"),
        };
        let back = LanAnswer::decode(&a.encode().expect("encodes")).expect("decodes");
        assert_eq!(back, a);
        let hex = back.game.cert_hash_hex();
        assert_eq!(hex, "ab".repeat(32));
        assert_eq!(LanGame::parse_cert_hash(&hex), Some([0xab; 32]));
        assert_eq!(LanGame::parse_cert_hash("abc"), None);
        assert_eq!(LanGame::parse_cert_hash(&"zz".repeat(32)), None);
    }

    #[test]
    fn a_query_is_not_an_answer_and_the_reverse() {
        let q = LanQuery { nonce: 1 }.encode();
        assert_eq!(LanAnswer::decode(&q), Err(LanError::Magic));
        let a = LanAnswer {
            nonce: 1,
            game: game("x"),
        }
        .encode()
        .expect("encodes");
        assert!(LanQuery::decode(&a).is_err());
    }

    #[test]
    fn a_flood_from_one_address_gets_the_burst_then_the_rate() {
        let mut rl = RateLimiter::new();
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let t0 = Duration::from_secs(10);
        let allowed = (0..100).filter(|_| rl.allow(ip, t0)).count();
        assert_eq!(allowed, PER_ADDR_BURST as usize);
        assert_eq!(rl.refused(), 96);
        // One second later two more (PER_ADDR_PER_S), not more.
        let t1 = t0 + Duration::from_secs(1);
        let allowed = (0..100).filter(|_| rl.allow(ip, t1)).count();
        assert_eq!(allowed, PER_ADDR_PER_S as usize);
        // Another address is not punished for it.
        assert!(rl.allow(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), t1));
    }

    #[test]
    fn many_sources_are_capped_in_total_and_the_table_stays_bounded() {
        let mut rl = RateLimiter::new();
        let now = Duration::from_secs(1);
        let mut allowed = 0;
        for i in 0..5000u32 {
            let ip = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
            if rl.allow(ip, now) {
                allowed += 1;
            }
        }
        assert_eq!(allowed, TOTAL_BURST as usize);
        assert!(rl.tracked() <= MAX_TRACKED_ADDRS);
        // Much later the idle addresses are forgotten and newcomers are served again.
        let later = now + Duration::from_secs(60);
        assert!(rl.allow(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), later));
        assert!(rl.tracked() <= MAX_TRACKED_ADDRS);
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = LanQuery::decode(&bytes);
            if let Ok(a) = LanAnswer::decode(&bytes) {
                prop_assert!(a.game.name.len() <= MAX_TEXT_BYTES);
            }
        }

        #[test]
        fn decoding_mutated_valid_datagrams_never_panics(
            nonce in any::<u64>(), pos in 0usize..200, byte in any::<u8>(), cut in 0usize..200,
        ) {
            let mut q = LanQuery { nonce }.encode();
            let i = pos % q.len();
            q[i] = byte;
            let _ = LanQuery::decode(&q);
            let mut a = LanAnswer { nonce, game: game("Friday") }.encode().expect("encodes");
            let i = pos % a.len();
            a[i] = byte;
            a.truncate(cut);
            let _ = LanAnswer::decode(&a);
        }

        #[test]
        fn every_answer_fits_the_bound(name in ".{0,80}", map in ".{0,80}", players in any::<u16>(), port in any::<u16>(), protocol in any::<u32>()) {
            let g = LanGame { name, map, players, max_players: players, ai: players, port, protocol, cert_sha256: [7; 32] };
            let bytes = LanAnswer { nonce: 9, game: g }.encode().expect("encodes");
            prop_assert!(bytes.len() <= MAX_ANSWER_LEN);
            prop_assert!(LanAnswer::decode(&bytes).is_ok());
        }
    }
}
