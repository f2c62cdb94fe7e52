//! The container's keys: the phone's ECDSA P-384 signing key (FIPS 186-5, RustCrypto `p384`),
//! each sync's X25519 key (RFC 7748, `x25519-dalek`) and the reply's AES-256-GCM with a
//! 16-byte IV (NIST SP 800-38D, `aes-gcm`).

use std::fmt;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Nonce, Tag};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use p384::ecdsa::signature::hazmat::PrehashSigner;
use p384::ecdsa::{DerSignature, SigningKey};
use p384::pkcs8::{EncodePublicKey as _, LineEnding};
use zeroize::Zeroizing;

use crate::rng::Rng;

/// Why a container key could not be made, read or used. Never holds key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContainerKeyError {
    /// The random number generator failed.
    #[error("the random number generator failed while making a container key")]
    Rng,
    /// The stored key is not a valid P-384 private key.
    #[error("the stored container key is not a valid P-384 private key")]
    Invalid,
    /// Signing or encoding failed (never expected with a valid key).
    #[error("signing with the container key failed")]
    Sign,
}

/// The phone's P-384 key of one registered container, kept as its 48-byte scalar in
/// zeroizing memory. `Debug` prints nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct ContainerKey {
    scalar: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for ContainerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContainerKey(<redacted>)")
    }
}

impl ContainerKey {
    /// A new key from the injected generator (48 random bytes, drawn again in the
    /// astronomically rare case they are not a valid scalar).
    pub fn generate(rng: &dyn Rng) -> Result<ContainerKey, ContainerKeyError> {
        for _ in 0..8 {
            let mut b = Zeroizing::new(vec![0u8; 48]);
            rng.fill(&mut b).map_err(|_| ContainerKeyError::Rng)?;
            if let Ok(k) = Self::from_scalar(&b) {
                return Ok(k);
            }
        }
        Err(ContainerKeyError::Rng)
    }

    /// Reads a 48-byte big-endian private scalar (as stored in the vault).
    pub fn from_scalar(bytes: &[u8]) -> Result<ContainerKey, ContainerKeyError> {
        SigningKey::from_slice(bytes).map_err(|_| ContainerKeyError::Invalid)?;
        Ok(ContainerKey {
            scalar: Zeroizing::new(bytes.to_vec()),
        })
    }

    /// The private scalar, for the vault.
    pub fn scalar(&self) -> &[u8] {
        &self.scalar
    }

    fn signing_key(&self) -> Result<SigningKey, ContainerKeyError> {
        SigningKey::from_slice(&self.scalar).map_err(|_| ContainerKeyError::Invalid)
    }

    /// The public key as PEM SubjectPublicKeyInfo (RFC 5480), lines of 64, trailing `\n`: the
    /// form `register/finalize` takes.
    pub fn public_key_pem(&self) -> Result<String, ContainerKeyError> {
        self.signing_key()?
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|_| ContainerKeyError::Sign)
    }

    /// The public key as an uncompressed SEC 1 point (tests verify with `ring`).
    pub fn public_key_sec1(&self) -> Result<Vec<u8>, ContainerKeyError> {
        Ok(self
            .signing_key()?
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec())
    }

    /// ECDSA over SHA-256 of the UTF-8 `message` (the digest as the prehash, RFC 6979 nonce),
    /// DER-encoded, standard base64 with padding: what privacyIDEA verifies.
    pub fn sign(&self, message: &str) -> Result<String, ContainerKeyError> {
        let digest = ring::digest::digest(&ring::digest::SHA256, message.as_bytes());
        let sig: DerSignature = self
            .signing_key()?
            .sign_prehash(digest.as_ref())
            .map_err(|_| ContainerKeyError::Sign)?;
        Ok(B64.encode(sig.as_bytes()))
    }
}

/// One sync's X25519 key pair (the private half zeroized on drop).
pub struct SyncKey {
    secret: x25519_dalek::StaticSecret,
}

impl fmt::Debug for SyncKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SyncKey(<redacted>)")
    }
}

impl SyncKey {
    /// A fresh pair from the injected generator.
    pub fn generate(rng: &dyn Rng) -> Result<SyncKey, ContainerKeyError> {
        let mut b = Zeroizing::new([0u8; 32]);
        rng.fill(&mut *b).map_err(|_| ContainerKeyError::Rng)?;
        Ok(Self::from_bytes(*b))
    }

    /// A pair from a fixed private key (the golden vectors).
    pub fn from_bytes(private: [u8; 32]) -> SyncKey {
        SyncKey {
            secret: x25519_dalek::StaticSecret::from(private),
        }
    }

    /// The public key, raw 32 bytes in standard base64 with padding (`public_enc_key_client`).
    pub fn public_base64(&self) -> String {
        B64.encode(x25519_dalek::PublicKey::from(&self.secret).as_bytes())
    }

    /// The raw X25519 shared secret with the server's public key: privacyIDEA's AES key (no
    /// KDF). `None` for a low-order server key (an all-zero secret).
    pub fn shared_secret(&self, server_public: &[u8; 32]) -> Option<Zeroizing<[u8; 32]>> {
        let shared = self
            .secret
            .diffie_hellman(&x25519_dalek::PublicKey::from(*server_public));
        if !shared.was_contributory() {
            return None;
        }
        Some(Zeroizing::new(shared.to_bytes()))
    }
}

/// AES-256-GCM decryption with a 16-byte IV, no associated data, the tag apart.
pub fn aes_gcm16_open(
    key: &[u8; 32],
    iv: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    type Gcm16 = AesGcm<Aes256, aes_gcm::aead::consts::U16>;
    if iv.len() != 16 || tag.len() != 16 {
        return None;
    }
    let cipher = Gcm16::new_from_slice(key).ok()?;
    let nonce = Nonce::<aes_gcm::aead::consts::U16>::try_from(iv).ok()?;
    let tag = Tag::<aes_gcm::aead::consts::U16>::try_from(tag).ok()?;
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    cipher
        .decrypt_inout_detached(&nonce, &[], buf.as_mut_slice().into(), &tag)
        .ok()?;
    Some(buf)
}
