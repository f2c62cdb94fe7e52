//! The two RSA keys of a push token: the phone's own key pair (generated here with the `rsa`
//! crate, used with `ring`) and the server's public key.
//!
//! Both directions use RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2), signatures travel as
//! RFC 4648 Base32, upper case, with `=` padding. Signing and verifying are `ring`'s
//! (constant-time big-integer code); the `rsa` crate only generates the key.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::signature::{self, KeyPair as _, RsaKeyPair, UnparsedPublicKey};
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
use zeroize::Zeroizing;

use crate::rng::Rng;

/// The size of the phone key the official privacyIDEA app makes, and so do we.
pub const PHONE_KEY_BITS: usize = 4096;

/// The smallest RSA key `ring` verifies with, and so the smallest server key we accept.
pub const MIN_SERVER_KEY_BITS: usize = 2048;

/// Why a key could not be made, read or used. Never holds key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The random number generator failed during key generation.
    #[error("the random number generator failed while generating the key")]
    Rng,
    /// Key generation failed.
    #[error("RSA key generation failed")]
    Generate,
    /// The stored phone key is not a valid RSA private key.
    #[error("the stored phone key is not a valid RSA private key")]
    InvalidPhoneKey,
    /// The server's public key is not usable.
    #[error("the server's public key is invalid: {0}")]
    InvalidServerKey(&'static str),
    /// Signing failed (never expected with a valid key).
    #[error("signing failed")]
    Sign,
}

/// Bridges the core's injected [`Rng`] to the interface `rsa`'s key generation takes. A
/// failure of the generator is remembered and turned into [`KeyError::Rng`] afterwards.
struct RngBridge<'a> {
    rng: &'a dyn Rng,
    failed: bool,
}

impl rand_core::RngCore for RngBridge<'_> {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        if self.rng.fill(dest).is_err() {
            self.failed = true;
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.rng.fill(dest).map_err(|e| {
            self.failed = true;
            rand_core::Error::new(e)
        })
    }
}

impl rand_core::CryptoRng for RngBridge<'_> {}

/// The phone's RSA key pair, kept as PKCS#8 DER in zeroizing memory. `Debug` prints nothing
/// of it; there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneKey {
    pkcs8: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for PhoneKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PhoneKey(<redacted>)")
    }
}

impl PhoneKey {
    /// Generates a new [`PHONE_KEY_BITS`]-bit key (e = 65537). This takes about a second, and
    /// more on slow phones: run it off the UI thread (e.g. `tauri::async_runtime::spawn_blocking`).
    pub fn generate(rng: &dyn Rng) -> Result<PhoneKey, KeyError> {
        Self::generate_bits(rng, PHONE_KEY_BITS)
    }

    /// Generates a key of `bits` bits (2048 to 8192; tests use 2048 to be quick).
    pub fn generate_bits(rng: &dyn Rng, bits: usize) -> Result<PhoneKey, KeyError> {
        if !(2048..=8192).contains(&bits) {
            return Err(KeyError::Generate);
        }
        // A generator that fails from the start is caught here, before the prime search.
        rng.fill(&mut [0u8; 32]).map_err(|_| KeyError::Rng)?;
        let mut bridge = RngBridge { rng, failed: false };
        let key = rsa::RsaPrivateKey::new(&mut bridge, bits);
        if bridge.failed {
            return Err(KeyError::Rng);
        }
        let key = key.map_err(|_| KeyError::Generate)?;
        let der = key.to_pkcs8_der().map_err(|_| KeyError::Generate)?;
        Self::from_pkcs8(der.as_bytes())
    }

    /// Reads a PKCS#8 DER private key (as stored in the vault).
    pub fn from_pkcs8(der: &[u8]) -> Result<PhoneKey, KeyError> {
        RsaKeyPair::from_pkcs8(der).map_err(|_| KeyError::InvalidPhoneKey)?;
        Ok(PhoneKey {
            pkcs8: Zeroizing::new(der.to_vec()),
        })
    }

    /// The PKCS#8 DER, for the vault.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    fn pair(&self) -> Result<RsaKeyPair, KeyError> {
        RsaKeyPair::from_pkcs8(&self.pkcs8).map_err(|_| KeyError::InvalidPhoneKey)
    }

    /// The public key as PKCS#1 `RSAPublicKey` DER.
    pub fn public_pkcs1_der(&self) -> Result<Vec<u8>, KeyError> {
        Ok(self.pair()?.public_key().as_ref().to_vec())
    }

    /// The public key as base64 `SubjectPublicKeyInfo` DER without PEM lines: what the
    /// enrolment sends as `pubkey`.
    pub fn public_key_spki_base64(&self) -> Result<String, KeyError> {
        let pkcs1 = self.public_pkcs1_der()?;
        let public =
            rsa::RsaPublicKey::from_pkcs1_der(&pkcs1).map_err(|_| KeyError::InvalidPhoneKey)?;
        let spki = public
            .to_public_key_der()
            .map_err(|_| KeyError::InvalidPhoneKey)?;
        Ok(B64.encode(spki.as_bytes()))
    }

    /// Signs `message` with RSASSA-PKCS1-v1_5 / SHA-256; the signature in upper-case Base32
    /// with padding.
    pub fn sign(&self, message: &[u8]) -> Result<String, KeyError> {
        let pair = self.pair()?;
        let mut sig = vec![0u8; pair.public().modulus_len()];
        pair.sign(
            &signature::RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            message,
            &mut sig,
        )
        .map_err(|_| KeyError::Sign)?;
        Ok(data_encoding::BASE32.encode(&sig))
    }
}

/// The server's RSA public key of one token, as PKCS#1 `RSAPublicKey` DER.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerKey {
    pkcs1: Vec<u8>,
}

impl fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerKey({} bytes)", self.pkcs1.len())
    }
}

impl ServerKey {
    /// Reads the key as privacyIDEA sends it: base64 PKCS#1 DER with a `\n` every 64
    /// characters (any whitespace and PEM armour lines are dropped first).
    pub fn from_base64(text: &str) -> Result<ServerKey, KeyError> {
        let clean: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("-----"))
            .flat_map(|l| l.chars())
            .filter(|c| !c.is_whitespace())
            .collect();
        if clean.is_empty() {
            return Err(KeyError::InvalidServerKey("it is empty"));
        }
        let der = B64
            .decode(clean.as_bytes())
            .map_err(|_| KeyError::InvalidServerKey("it is not base64"))?;
        Self::from_pkcs1_der(&der)
    }

    /// Reads PKCS#1 `RSAPublicKey` DER.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<ServerKey, KeyError> {
        let key = rsa::RsaPublicKey::from_pkcs1_der(der)
            .map_err(|_| KeyError::InvalidServerKey("it is not a PKCS#1 RSA public key"))?;
        if rsa::traits::PublicKeyParts::size(&key) * 8 < MIN_SERVER_KEY_BITS {
            return Err(KeyError::InvalidServerKey("it is shorter than 2048 bits"));
        }
        Ok(ServerKey {
            pkcs1: der.to_vec(),
        })
    }

    /// The DER bytes.
    pub fn pkcs1_der(&self) -> &[u8] {
        &self.pkcs1
    }

    /// Base64 of the DER (how the vault stores it).
    pub fn to_base64(&self) -> String {
        B64.encode(&self.pkcs1)
    }

    /// True when `signature` (upper-case Base32 with padding) is this key's RSASSA-PKCS1-v1_5
    /// / SHA-256 signature of `message`.
    pub fn verify(&self, message: &[u8], signature: &str) -> bool {
        let Ok(sig) = data_encoding::BASE32.decode(signature.trim().as_bytes()) else {
            return false;
        };
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.pkcs1)
            .verify(message, &sig)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{RngError, SystemRng};

    /// A 2048-bit PKCS#8 test key and its signature of `1234|PIPU0001` as Python's
    /// `cryptography` makes them (tests/vectors/push/).
    const KEY: &str = include_str!("../../tests/vectors/push/phone-key-2048.pk8.b64");
    const SIG: &str = include_str!("../../tests/vectors/push/phone-key-2048.sig.b32");
    const PUB_SPKI: &str = include_str!("../../tests/vectors/push/phone-key-2048.spki.b64");

    fn test_key() -> PhoneKey {
        PhoneKey::from_pkcs8(&B64.decode(KEY.trim()).unwrap()).unwrap()
    }

    #[test]
    fn signatures_are_byte_exact_base32_with_padding() {
        let sig = test_key().sign(b"1234|PIPU0001").unwrap();
        assert_eq!(sig, SIG.trim());
        // 256 bytes -> 416 characters, the last 4 of them padding.
        assert_eq!(sig.len(), 416);
        assert!(sig.ends_with("===="));
        assert!(!sig.chars().any(|c| c.is_ascii_lowercase()));
    }

    #[test]
    fn public_key_is_spki_base64() {
        assert_eq!(
            test_key().public_key_spki_base64().unwrap(),
            PUB_SPKI.trim()
        );
    }

    #[test]
    fn verify_round_trip_and_tamper() {
        let k = test_key();
        let server = ServerKey::from_pkcs1_der(&k.public_pkcs1_der().unwrap()).unwrap();
        let sig = k.sign(b"nonce|serial").unwrap();
        assert!(server.verify(b"nonce|serial", &sig));
        assert!(!server.verify(b"nonce|serial2", &sig));
        assert!(!server.verify(b"nonce|serial", &sig.to_lowercase()));
        assert!(!server.verify(b"nonce|serial", "AAAA"));
    }

    #[test]
    fn server_key_with_embedded_newlines() {
        let der = test_key().public_pkcs1_der().unwrap();
        let b64 = B64.encode(&der);
        let wrapped: Vec<String> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        let with_newlines = wrapped.join("\n");
        assert!(with_newlines.contains('\n'));
        assert_eq!(
            ServerKey::from_base64(&with_newlines).unwrap().pkcs1_der(),
            &der[..]
        );
        let pem = format!(
            "-----BEGIN RSA PUBLIC KEY-----\n{with_newlines}\n-----END RSA PUBLIC KEY-----\n"
        );
        assert_eq!(ServerKey::from_base64(&pem).unwrap().pkcs1_der(), &der[..]);
        assert!(matches!(
            ServerKey::from_base64("not base64!"),
            Err(KeyError::InvalidServerKey(_))
        ));
        assert!(matches!(
            ServerKey::from_base64(&B64.encode(b"\x30\x03\x02\x01\x05")),
            Err(KeyError::InvalidServerKey(_))
        ));
    }

    #[test]
    fn generated_key_signs_and_never_prints() {
        let k = PhoneKey::generate_bits(&SystemRng::new(), 2048).unwrap();
        let server = ServerKey::from_pkcs1_der(&k.public_pkcs1_der().unwrap()).unwrap();
        assert!(server.verify(b"x", &k.sign(b"x").unwrap()));
        assert_eq!(format!("{k:?}"), "PhoneKey(<redacted>)");
    }

    struct BrokenRng;
    impl Rng for BrokenRng {
        fn fill(&self, _: &mut [u8]) -> Result<(), RngError> {
            Err(RngError)
        }
    }

    #[test]
    fn a_failing_generator_is_an_error() {
        assert_eq!(
            PhoneKey::generate_bits(&BrokenRng, 2048).unwrap_err(),
            KeyError::Rng
        );
        assert_eq!(
            PhoneKey::generate_bits(&SystemRng::new(), 1024).unwrap_err(),
            KeyError::Generate
        );
    }
}
