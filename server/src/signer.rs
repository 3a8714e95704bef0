//! The server's recording signer: its TLS identity's key signs each chunk of `--record` files,
//! so a replay is evidence of what this server saw (its fingerprint is the one players pin).
//! The key is the certificate's own (rcgen makes ECDSA P-256, PKCS#8); `ring` signs.

use crate::cert::Identity;
use rewind_shared::replay::{ChainSigner, SigAlg, SignError, check_signature};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};

/// Why the identity cannot sign recordings.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    /// The key is neither an ECDSA P-256 nor an Ed25519 PKCS#8 key.
    #[error("the server key cannot sign recordings (not ECDSA P-256 or Ed25519 PKCS#8): {0}")]
    Key(String),
    /// The key does not belong to the certificate: its signatures would not verify.
    #[error("the server key does not match its certificate: {0}")]
    Mismatch(String),
}

enum Key {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// Signs chain digests with the key of the server's certificate.
pub struct IdentitySigner {
    cert: Vec<u8>,
    key: Key,
    rng: SystemRandom,
}

impl IdentitySigner {
    /// Loads the identity's key and checks, with a test signature, that the certificate's public
    /// key verifies it (a mismatched pair would write files nobody could attribute).
    pub fn new(identity: &Identity) -> Result<IdentitySigner, SignerError> {
        let rng = SystemRandom::new();
        let pkcs8 = identity.key.secret_der();
        let key = match EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &rng) {
            Ok(k) => Key::Ecdsa(k),
            Err(ecdsa) => match Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8) {
                Ok(k) => Key::Ed25519(k),
                Err(ed) => return Err(SignerError::Key(format!("ECDSA: {ecdsa}; Ed25519: {ed}"))),
            },
        };
        let signer = IdentitySigner {
            cert: identity.cert.as_ref().to_vec(),
            key,
            rng,
        };
        let probe = b"rewind: does this key belong to this certificate?";
        let sig = signer.sign(probe).map_err(|e| SignerError::Key(e.to_string()))?;
        check_signature(&signer.cert, signer.algorithm(), probe, &sig).map_err(SignerError::Mismatch)?;
        Ok(signer)
    }

    /// The public key bytes (for logs and tests).
    pub fn public_key(&self) -> &[u8] {
        match &self.key {
            Key::Ecdsa(k) => k.public_key().as_ref(),
            Key::Ed25519(k) => k.public_key().as_ref(),
        }
    }
}

impl ChainSigner for IdentitySigner {
    fn certificate(&self) -> &[u8] {
        &self.cert
    }

    fn algorithm(&self) -> SigAlg {
        match self.key {
            Key::Ecdsa(_) => SigAlg::EcdsaP256Sha256,
            Key::Ed25519(_) => SigAlg::Ed25519,
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        match &self.key {
            Key::Ecdsa(k) => k
                .sign(&self.rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|e| SignError(format!("ECDSA signing failed: {e}"))),
            Key::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_identity_signs_what_its_certificate_verifies() {
        let id = Identity::generate().expect("identity");
        let s = IdentitySigner::new(&id).expect("signer");
        assert_eq!(s.algorithm(), SigAlg::EcdsaP256Sha256, "rcgen's default key");
        let sig = s.sign(b"m").expect("sign");
        assert!(check_signature(id.cert.as_ref(), s.algorithm(), b"m", &sig).is_ok());
        assert!(check_signature(id.cert.as_ref(), s.algorithm(), b"n", &sig).is_err());
        let other = Identity::generate().expect("identity");
        assert!(check_signature(other.cert.as_ref(), s.algorithm(), b"m", &sig).is_err());
    }

    #[test]
    fn a_key_from_another_certificate_is_refused() {
        let a = Identity::generate().expect("identity");
        let b = Identity::generate().expect("identity");
        let mixed = Identity {
            cert: a.cert.clone(),
            key: b.key.clone_key(),
        };
        assert!(matches!(
            IdentitySigner::new(&mixed),
            Err(SignerError::Mismatch(_))
        ));
    }
}
