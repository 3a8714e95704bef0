//! Signed recordings: a replay is evidence of what one server saw only if nobody else could
//! have written it, so the server signs every chunk's chain digest with its certificate's key
//! and stores the certificate (DER) in the header chunk.
//!
//! What is signed is `SIGNATURE_CONTEXT || digest` of each chunk. In format version 2 the next
//! chunk's `prev` is SHA-256 of the digest and the signature, so a chunk's digest covers every
//! earlier byte, signatures included: one valid signature vouches for the whole file up to it.
//! A file cut by a crash is thus attributable up to its last complete chunk, and checking a file
//! costs one signature verification when it is good and a binary search (a few dozen) when it is
//! not, however many chunks a forger packs into it.
//!
//! Signing needs the private key and a random source (IO), so it stays behind `ChainSigner`,
//! implemented by the server; verifying is pure and lives here (`rustls-webpki` reads the public
//! key out of the certificate, `ring` checks the signature).

use super::error::ReplayError;
use rustls_pki_types::CertificateDer;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Prefix of every signed message: keeps a recording signature from ever being valid as
/// anything else the same key signs (TLS handshakes use their own context strings).
pub const SIGNATURE_CONTEXT: &[u8] = b"rewind replay chunk digest v2\0";

/// Signature algorithms a recording may use (the byte is stored with the certificate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigAlg {
    /// ECDSA on P-256 with SHA-256, ASN.1 DER signatures: what rcgen's default certificates use.
    EcdsaP256Sha256,
    /// Ed25519, for servers whose certificate has an Ed25519 key.
    Ed25519,
}

impl SigAlg {
    /// The stored byte.
    pub fn to_byte(self) -> u8 {
        match self {
            SigAlg::EcdsaP256Sha256 => 1,
            SigAlg::Ed25519 => 2,
        }
    }

    /// The algorithm a stored byte names, if this build knows it.
    pub fn from_byte(b: u8) -> Option<SigAlg> {
        match b {
            1 => Some(SigAlg::EcdsaP256Sha256),
            2 => Some(SigAlg::Ed25519),
            _ => None,
        }
    }

    fn verifier(self) -> &'static dyn rustls_pki_types::SignatureVerificationAlgorithm {
        match self {
            SigAlg::EcdsaP256Sha256 => webpki::ring::ECDSA_P256_SHA256,
            SigAlg::Ed25519 => webpki::ring::ED25519,
        }
    }
}

/// Why a chunk could not be signed (the recording stops: an unsigned tail would look forged).
#[derive(Debug, Error)]
#[error("cannot sign the recording: {0}")]
pub struct SignError(pub String);

/// Signs chain digests with the key of a certificate. The server implements it over its TLS
/// identity; `shared` only defines it, so it needs no key storage, randomness or IO.
pub trait ChainSigner: Send {
    /// The DER certificate whose key signs (stored in the file's header).
    fn certificate(&self) -> &[u8];
    /// The algorithm `sign` uses.
    fn algorithm(&self) -> SigAlg;
    /// Signs `message` (`signed_message` of a chunk digest).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// The bytes signed for a chunk whose chain digest is `digest`.
pub fn signed_message(digest: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNATURE_CONTEXT.len() + 32);
    m.extend_from_slice(SIGNATURE_CONTEXT);
    m.extend_from_slice(digest);
    m
}

/// SHA-256 of a DER certificate as 64 lower-case hex digits: the fingerprint `serve` prints and
/// clients pin (`--cert-hash`, known-hosts), so a replay's signer compares with the same string.
pub fn fingerprint(cert_der: &[u8]) -> String {
    Sha256::digest(cert_der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks one signature against a certificate's public key; the error says why it fails.
pub fn check_signature(cert_der: &[u8], alg: SigAlg, message: &[u8], signature: &[u8]) -> Result<(), String> {
    let der = CertificateDer::from(cert_der);
    let cert =
        webpki::EndEntityCert::try_from(&der).map_err(|e| format!("the certificate does not parse: {e}"))?;
    cert.verify_signature(alg.verifier(), message, signature)
        .map_err(|e| format!("{e:?}"))
}

/// The signer as stored in a version-2 header chunk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredSigner {
    pub alg: u8,
    pub cert: Vec<u8>,
}

/// Who vouches for a recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signer {
    /// No signature: a version-1 file, or one written without a key. Anyone could have made it.
    Unsigned,
    /// Every complete chunk is covered by a valid signature of this certificate's key.
    Signed {
        /// SHA-256 of the certificate, hex (compare with `--cert-hash` or known-hosts).
        fingerprint: String,
        /// The DER certificate stored in the file.
        certificate: Vec<u8>,
        /// The signature algorithm.
        algorithm: SigAlg,
        /// Complete chunks the last valid signature covers (all of them; for a file cut by a
        /// crash, up to the last complete one).
        chunks: u32,
    },
}

impl Signer {
    /// The fingerprint, when signed.
    pub fn fingerprint(&self) -> Option<&str> {
        match self {
            Signer::Unsigned => None,
            Signer::Signed { fingerprint, .. } => Some(fingerprint),
        }
    }
}

/// One complete chunk as signature checking needs it.
#[derive(Clone, Debug)]
pub(crate) struct SignedChunk {
    pub index: u32,
    pub offset: u64,
    pub digest: [u8; 32],
    pub signature: Vec<u8>,
}

/// Decides who vouches for the chunks of a parsed file. Because each digest covers every earlier
/// chunk and signature, a valid signature implies valid ones before it (for an honest key
/// holder): the last one is checked, and only if it fails is the first failing chunk located by
/// binary search. Chunks before the one named verified; it and everything after did not.
pub(crate) fn attribute(stored: &StoredSigner, chunks: &[SignedChunk]) -> Result<Signer, ReplayError> {
    let bad = |c: &SignedChunk, reason: String| ReplayError::BadSignature {
        chunk: c.index,
        offset: c.offset,
        reason,
    };
    let Some(first) = chunks.first() else {
        return Ok(Signer::Unsigned);
    };
    let Some(alg) = SigAlg::from_byte(stored.alg) else {
        return Err(bad(first, format!("unknown signature algorithm {}", stored.alg)));
    };
    let der = CertificateDer::from(stored.cert.as_slice());
    let cert = webpki::EndEntityCert::try_from(&der)
        .map_err(|e| bad(first, format!("the signer's certificate does not parse: {e:?}")))?;
    let valid = |c: &SignedChunk| {
        !c.signature.is_empty()
            && cert
                .verify_signature(alg.verifier(), &signed_message(&c.digest), &c.signature)
                .is_ok()
    };
    let last = &chunks[chunks.len() - 1];
    if valid(last) {
        return Ok(Signer::Signed {
            fingerprint: fingerprint(&stored.cert),
            certificate: stored.cert.clone(),
            algorithm: alg,
            chunks: chunks.len() as u32,
        });
    }
    let at = chunks.partition_point(valid);
    let c = chunks.get(at).unwrap_or(last);
    let reason = if c.signature.is_empty() {
        "the chunk carries no signature".to_string()
    } else {
        format!(
            "it does not verify with the key of certificate {} (edited after signing, or signed by another key)",
            fingerprint(&stored.cert)
        )
    };
    Err(bad(c, reason))
}
