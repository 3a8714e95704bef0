//! Trusting the server's self-signed certificate: pinned by its SHA-256, or trusted on first use
//! and remembered in a known-hosts file like SSH. A changed certificate is a clear error naming
//! both fingerprints and the file, never silently accepted (DESIGN §8).
//!
//! Only the certificate's identity is replaced by the fingerprint check: the TLS 1.3 handshake
//! signature is still verified with ring, so a peer must hold the private key of the pinned
//! certificate.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use thiserror::Error;

/// Largest known-hosts file we read.
pub const MAX_KNOWN_HOSTS_BYTES: u64 = 1 << 20;

/// How the client decides to trust the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trust {
    /// Accept exactly this certificate (SHA-256 of the DER, 64 hex digits).
    Pin(String),
    /// Trust on first use, remembered in this known-hosts file under the server's address.
    KnownHosts(PathBuf),
}

/// Why the server's certificate was not trusted, or the known-hosts file is unusable.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TrustError {
    /// `--cert-hash` is not 64 hex digits.
    #[error("--cert-hash must be 64 hex digits (SHA-256 of the server certificate), got {0:?}")]
    BadPin(String),
    /// The pinned fingerprint does not match.
    #[error("server certificate mismatch: expected {expected}, the server presented {actual}")]
    PinMismatch {
        /// What was pinned.
        expected: String,
        /// What the server presented.
        actual: String,
    },
    /// The remembered fingerprint changed.
    #[error(
        "the certificate of {host} CHANGED: {file} remembers {remembered}, the server now presents \
         {actual}. If the server was legitimately re-keyed, delete that line from {file}; otherwise \
         someone may be impersonating it"
    )]
    Changed {
        /// Host key in the file.
        host: String,
        /// The file.
        file: String,
        /// Fingerprint on file.
        remembered: String,
        /// Fingerprint presented.
        actual: String,
    },
    /// The known-hosts file cannot be read or written.
    #[error("known-hosts file {file}: {why}")]
    File {
        /// The file.
        file: String,
        /// What went wrong.
        why: String,
    },
}

/// SHA-256 of a DER certificate as 64 lowercase hex digits.
pub fn cert_hash_hex(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    let mut s = String::with_capacity(64);
    for b in digest {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Normalizes a user-supplied fingerprint (case, optional `:` separators, `sha256:` prefix).
pub fn parse_pin(s: &str) -> Result<String, TrustError> {
    let t = s.trim();
    let t = t.strip_prefix("sha256:").unwrap_or(t);
    let hex: String = t
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(hex)
    } else {
        Err(TrustError::BadPin(s.to_string()))
    }
}

/// The default known-hosts file: `$XDG_DATA_HOME/rewind/known_hosts`, else
/// `~/.local/share/rewind/known_hosts`, else `./rewind_known_hosts`.
pub fn default_known_hosts() -> PathBuf {
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("rewind").join("known_hosts");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(h).join(".local/share/rewind/known_hosts");
    }
    PathBuf::from("rewind_known_hosts")
}

/// A known-hosts file: lines `HOST SHA256HEX`, `#` comments.
#[derive(Clone, Debug)]
pub struct KnownHosts {
    path: PathBuf,
    entries: Vec<(String, String)>,
}

impl KnownHosts {
    /// Reads the file (a missing file is empty). Malformed lines are an error with the line.
    pub fn load(path: &Path) -> Result<KnownHosts, TrustError> {
        let err = |why: String| TrustError::File {
            file: path.display().to_string(),
            why,
        };
        let text = match std::fs::metadata(path) {
            Ok(m) if m.len() > MAX_KNOWN_HOSTS_BYTES => {
                return Err(err(format!("larger than {MAX_KNOWN_HOSTS_BYTES} bytes")));
            }
            Ok(_) => std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(err(e.to_string())),
        };
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(host), Some(hash), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(err(format!("line {}: expected `HOST SHA256`", i + 1)));
            };
            let hash = parse_pin(hash).map_err(|_| err(format!("line {}: bad fingerprint", i + 1)))?;
            entries.push((host.to_string(), hash));
        }
        Ok(KnownHosts {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// The fingerprint remembered for `host`.
    pub fn get(&self, host: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(h, _)| h == host)
            .map(|(_, f)| f.as_str())
    }

    /// Every host remembered with fingerprint `hash` (how `replay verify` names a recording's
    /// signer: the server whose certificate a player already trusts).
    pub fn hosts_for(&self, hash: &str) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|(_, f)| f == hash)
            .map(|(h, _)| h.as_str())
            .collect()
    }

    /// Appends `host` with `hash` to the file (creating its directory).
    pub fn remember(&mut self, host: &str, hash: &str) -> Result<(), TrustError> {
        let err = |why: String| TrustError::File {
            file: self.path.display().to_string(),
            why,
        };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| err(e.to_string()))?;
        writeln!(f, "{host} {hash}").map_err(|e| err(e.to_string()))?;
        self.entries.push((host.to_string(), hash.to_string()));
        Ok(())
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// What the verifier decided, read back after the handshake (quinn reduces a rustls error to a
/// TLS alert, so the human-readable reason travels through here).
#[derive(Clone, Debug, Default)]
pub struct VerifyOutcome {
    /// Fingerprint the server presented.
    pub seen: Option<String>,
    /// Why it was refused.
    pub refused: Option<TrustError>,
    /// Accepted as a new host (to remember once the connection is up).
    pub first_use: bool,
}

/// Checks the server certificate by fingerprint instead of a CA chain.
#[derive(Debug)]
pub struct FingerprintVerifier {
    expected: Expected,
    provider: Arc<CryptoProvider>,
    outcome: Arc<Mutex<VerifyOutcome>>,
}

#[derive(Debug)]
enum Expected {
    Pin(String),
    Tofu {
        host: String,
        file: String,
        remembered: Option<String>,
    },
}

impl FingerprintVerifier {
    /// A verifier for `trust` when connecting to `host` (the known-hosts key).
    pub fn new(
        trust: &Trust,
        host: &str,
    ) -> Result<(Arc<FingerprintVerifier>, Arc<Mutex<VerifyOutcome>>), TrustError> {
        let expected = match trust {
            Trust::Pin(p) => Expected::Pin(parse_pin(p)?),
            Trust::KnownHosts(path) => {
                let kh = KnownHosts::load(path)?;
                Expected::Tofu {
                    host: host.to_string(),
                    file: path.display().to_string(),
                    remembered: kh.get(host).map(str::to_string),
                }
            }
        };
        let outcome = Arc::new(Mutex::new(VerifyOutcome::default()));
        Ok((
            Arc::new(FingerprintVerifier {
                expected,
                provider: Arc::new(rustls::crypto::ring::default_provider()),
                outcome: outcome.clone(),
            }),
            outcome,
        ))
    }

    fn decide(&self, actual: String) -> Result<bool, TrustError> {
        match &self.expected {
            Expected::Pin(p) if *p == actual => Ok(false),
            Expected::Pin(p) => Err(TrustError::PinMismatch {
                expected: p.clone(),
                actual,
            }),
            Expected::Tofu { remembered: None, .. } => Ok(true),
            Expected::Tofu {
                remembered: Some(r), ..
            } if *r == actual => Ok(false),
            Expected::Tofu {
                host,
                file,
                remembered: Some(r),
            } => Err(TrustError::Changed {
                host: host.clone(),
                file: file.clone(),
                remembered: r.clone(),
                actual,
            }),
        }
    }
}

impl ServerCertVerifier for FingerprintVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let actual = cert_hash_hex(end_entity);
        let decision = self.decide(actual.clone());
        let mut out = self.outcome.lock().unwrap_or_else(|p| p.into_inner());
        out.seen = Some(actual);
        match decision {
            Ok(first_use) => {
                out.first_use = first_use;
                Ok(ServerCertVerified::assertion())
            }
            Err(e) => {
                let msg = e.to_string();
                out.refused = Some(e);
                Err(rustls::Error::General(msg))
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The rustls client configuration (TLS 1.3 only, ring, our ALPN) around a verifier.
pub fn client_crypto(verifier: Arc<FingerprintVerifier>) -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![rewind_shared::protocol::ALPN.to_vec()];
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_normalized_and_checked() {
        let h = cert_hash_hex(b"cert");
        assert_eq!(h.len(), 64);
        assert_eq!(parse_pin(&h.to_uppercase()).unwrap(), h);
        assert!(parse_pin("abc").is_err());
        let (v, _) = FingerprintVerifier::new(&Trust::Pin(h.clone()), "x").unwrap();
        assert_eq!(v.decide(h.clone()), Ok(false));
        let other = cert_hash_hex(b"other");
        let e = v.decide(other.clone()).unwrap_err();
        assert!(e.to_string().contains(&h) && e.to_string().contains(&other));
    }

    #[test]
    fn known_hosts_first_use_then_changed_is_an_error_naming_both_and_the_file() {
        let dir = std::env::temp_dir().join(format!("rewind-kh-{}", std::process::id()));
        let path = dir.join("sub/known_hosts");
        let _ = std::fs::remove_dir_all(&dir);
        let trust = Trust::KnownHosts(path.clone());
        let a = cert_hash_hex(b"a");
        let (v, _) = FingerprintVerifier::new(&trust, "host:1").unwrap();
        assert_eq!(
            v.decide(a.clone()),
            Ok(true),
            "unknown host is trusted on first use"
        );
        KnownHosts::load(&path).unwrap().remember("host:1", &a).unwrap();
        let (v, _) = FingerprintVerifier::new(&trust, "host:1").unwrap();
        assert_eq!(v.decide(a.clone()), Ok(false));
        let b = cert_hash_hex(b"b");
        let msg = v.decide(b.clone()).unwrap_err().to_string();
        assert!(
            msg.contains(&a) && msg.contains(&b) && msg.contains("known_hosts"),
            "{msg}"
        );
        KnownHosts::load(&path).unwrap().remember("host:2", &a).unwrap();
        let kh = KnownHosts::load(&path).unwrap();
        assert_eq!(kh.hosts_for(&a), vec!["host:1", "host:2"]);
        assert!(kh.hosts_for(&b).is_empty());
        std::fs::write(&path, "host:1 nothex\n").unwrap();
        assert!(
            KnownHosts::load(&path)
                .unwrap_err()
                .to_string()
                .contains("line 1")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
