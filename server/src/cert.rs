//! The server's self-signed certificate: created on first run, kept in the data directory, and
//! identified to players by the SHA-256 of its DER encoding (what clients pin).

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A certificate and its key.
#[derive(Debug)]
pub struct Identity {
    /// DER certificate.
    pub cert: CertificateDer<'static>,
    /// PKCS#8 key.
    pub key: PrivateKeyDer<'static>,
}

/// Why the certificate could not be loaded or made.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// Reading or writing the data directory failed.
    #[error("certificate file {path}: {source}")]
    Io {
        /// Which file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// rcgen refused.
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

const CERT_FILE: &str = "server-cert.der";
const KEY_FILE: &str = "server-key.der";

impl Identity {
    /// A fresh self-signed certificate for "localhost" and "rewind".
    pub fn generate() -> Result<Identity, CertError> {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), "rewind".into()])?;
        Ok(Identity {
            cert: ck.cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der())),
        })
    }

    /// Loads the identity kept in `dir`, or creates and stores one on first run.
    pub fn load_or_create(dir: &Path) -> Result<Identity, CertError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CertError::Io { path, source }
        };
        let (cert_path, key_path) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
        if cert_path.exists() && key_path.exists() {
            let cert = std::fs::read(&cert_path).map_err(io(&cert_path))?;
            let key = std::fs::read(&key_path).map_err(io(&key_path))?;
            return Ok(Identity {
                cert: CertificateDer::from(cert),
                key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
            });
        }
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let id = Identity::generate()?;
        std::fs::write(&cert_path, id.cert.as_ref()).map_err(io(&cert_path))?;
        write_private(&key_path, id.key.secret_der()).map_err(io(&key_path))?;
        Ok(id)
    }

    /// SHA-256 of the DER certificate, lower-case hex (64 digits).
    pub fn hash_hex(&self) -> String {
        cert_hash_hex(&self.cert)
    }

    /// SHA-256 of the DER certificate as bytes (what the LAN discovery answer carries).
    pub fn hash_bytes(&self) -> [u8; 32] {
        Sha256::digest(&self.cert).into()
    }
}

/// SHA-256 of a DER certificate as 64 lower-case hex digits.
pub fn cert_hash_hex(der: &[u8]) -> String {
    Sha256::digest(der).iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the key readable by the owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(bytes)
}

/// Where the server keeps its files when no `--data-dir` is given.
pub fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("rewind");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".local/share/rewind"),
        None => PathBuf::from(".rewind"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_is_kept_across_runs() {
        let dir = std::env::temp_dir().join(format!("rewind-cert-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let a = Identity::load_or_create(&dir).unwrap();
        let b = Identity::load_or_create(&dir).unwrap();
        assert_eq!(a.hash_hex(), b.hash_hex());
        assert_eq!(a.hash_hex().len(), 64);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
