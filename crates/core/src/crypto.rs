//! The ciphers and key derivations of encrypted exports, on `ring`, `scrypt` and `argon2`.
//! Every buffer that holds a key or plaintext is zeroized when dropped.

use std::num::NonZeroU32;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use zeroize::Zeroizing;

/// Why decryption failed: the tag did not match (wrong key, or damaged data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TagMismatch;

/// AES-256-GCM decryption of `ciphertext || tag` with a 12-byte nonce.
pub(crate) fn aes_gcm_open(
    key: &[u8],
    nonce: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, TagMismatch> {
    aes_gcm_open_aad(key, nonce, &[], ciphertext_and_tag)
}

/// AES-256-GCM decryption with associated data `aad`.
pub(crate) fn aes_gcm_open_aad(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, TagMismatch> {
    let key = UnboundKey::new(&AES_256_GCM, key).map_err(|_| TagMismatch)?;
    let key = LessSafeKey::new(key);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| TagMismatch)?;
    let mut buffer = Zeroizing::new(ciphertext_and_tag.to_vec());
    let plain_len = key
        .open_in_place(nonce, Aad::from(aad), &mut buffer)
        .map_err(|_| TagMismatch)?
        .len();
    buffer.truncate(plain_len);
    Ok(buffer)
}

/// PBKDF2 with HMAC-SHA-256 or HMAC-SHA-1 into a 32-byte key.
pub(crate) fn pbkdf2(
    sha256: bool,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
) -> Zeroizing<[u8; 32]> {
    let algorithm = if sha256 {
        ring::pbkdf2::PBKDF2_HMAC_SHA256
    } else {
        ring::pbkdf2::PBKDF2_HMAC_SHA1
    };
    pbkdf2_with(algorithm, password, salt, iterations)
}

/// PBKDF2 (RFC 8018) with the given HMAC into a 32-byte key.
pub(crate) fn pbkdf2_with(
    algorithm: ring::pbkdf2::Algorithm,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
) -> Zeroizing<[u8; 32]> {
    let iterations = NonZeroU32::new(iterations).unwrap_or(NonZeroU32::MIN);
    let mut key = Zeroizing::new([0u8; 32]);
    ring::pbkdf2::derive(algorithm, iterations, salt, password, &mut key[..]);
    key
}

/// SHA-256 of the password, the key of old andOTP backups.
pub(crate) fn sha256(password: &[u8]) -> Zeroizing<[u8; 32]> {
    let digest = ring::digest::digest(&ring::digest::SHA256, password);
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(digest.as_ref());
    key
}

/// scrypt into a 32-byte key; `None` for parameters scrypt refuses.
pub(crate) fn scrypt(
    password: &[u8],
    salt: &[u8],
    log_n: u8,
    r: u32,
    p: u32,
) -> Option<Zeroizing<[u8; 32]>> {
    let params = scrypt::Params::new(log_n, r, p, 32).ok()?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password, salt, &params, &mut key[..]).ok()?;
    Some(key)
}

/// Argon2id into a 32-byte key; `None` for parameters argon2 refuses.
pub(crate) fn argon2id(
    password: &[u8],
    salt: &[u8],
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
) -> Option<Zeroizing<[u8; 32]>> {
    let params = argon2::Params::new(memory_kib, iterations, parallelism, Some(32)).ok()?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(password, salt, &mut key[..])
        .ok()?;
    Some(key)
}

/// True when an Argon2id derivation of an imported file stays within the vault's own caps
/// ([`KdfParams::MAX_MEMORY_KIB`], 1 GiB, and [`KdfParams::MAX_WORK_KIB`], memory × passes of
/// 4 GiB): one rule for the vault and for every export Twofold opens. Checked before deriving.
///
/// [`KdfParams::MAX_MEMORY_KIB`]: crate::vault::KdfParams::MAX_MEMORY_KIB
/// [`KdfParams::MAX_WORK_KIB`]: crate::vault::KdfParams::MAX_WORK_KIB
pub(crate) fn argon2_within_caps(memory_kib: u64, iterations: u64) -> bool {
    use crate::vault::KdfParams;
    memory_kib <= u64::from(KdfParams::MAX_MEMORY_KIB)
        && memory_kib.saturating_mul(iterations) <= KdfParams::MAX_WORK_KIB
}

/// Why a libsodium secretstream did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamError {
    /// The Poly1305 tag did not match: a wrong key, or damaged data.
    Mac,
    /// The message opened but is not tagged final: the stream was cut short.
    NotFinal,
}

/// Opens a libsodium `crypto_secretstream_xchacha20poly1305` stream of one message (tag
/// byte, ciphertext, 16-byte Poly1305 tag after the 24-byte `header`), which must carry the
/// FINAL tag: how Ente Auth encrypts a whole export in one push.
pub(crate) fn secretstream_open_final(
    key: &[u8; 32],
    header: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, StreamError> {
    use crypto_secretstream::{Header, Key, PullStream, Tag};
    let header = Header::try_from(header).map_err(|_| StreamError::Mac)?;
    let mut stream = PullStream::init(header, &Key::from(*key));
    let mut buffer = Zeroizing::new(sealed.to_vec());
    match stream.pull(&mut *buffer, &[]) {
        Ok(Tag::Final) => Ok(buffer),
        Ok(_) => Err(StreamError::NotFinal),
        Err(_) => Err(StreamError::Mac),
    }
}

/// Seals `plain` as one FINAL secretstream message under `key` with a given `header`, for
/// building Ente Auth test files (libsodium draws the header itself; tests fix it).
#[cfg(test)]
pub(crate) fn secretstream_seal_final(key: &[u8; 32], header: [u8; 24], plain: &[u8]) -> Vec<u8> {
    use crypto_secretstream::{Key, PushStream, Tag};
    struct Fixed([u8; 24]);
    impl rand_core::RngCore for Fixed {
        fn next_u32(&mut self) -> u32 {
            unimplemented!()
        }
        fn next_u64(&mut self) -> u64 {
            unimplemented!()
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.copy_from_slice(&self.0[..dest.len()]);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }
    impl rand_core::CryptoRng for Fixed {}
    let (_, mut stream) = PushStream::init(Fixed(header), &Key::from(*key));
    let mut buffer = plain.to_vec();
    stream.push(&mut buffer, &[], Tag::Final).unwrap();
    buffer
}

/// HMAC-SHA-256 (RFC 2104) of `data` checked against `tag` in constant time.
pub(crate) fn hmac_sha256_verify(key: &[u8], data: &[u8], tag: &[u8]) -> Result<(), TagMismatch> {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    ring::hmac::verify(&key, data, tag).map_err(|_| TagMismatch)
}

/// HMAC-SHA-256 of `data`, for building Bitwarden test files.
#[cfg(test)]
pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    ring::hmac::sign(&key, data).as_ref().to_vec()
}

/// HKDF-Expand (RFC 5869 §2.3) with SHA-256 of a 32-byte pseudorandom key into 32 bytes.
pub(crate) fn hkdf_sha256_expand(prk: &[u8], info: &[u8]) -> Zeroizing<[u8; 32]> {
    let prk = ring::hkdf::Prk::new_less_safe(ring::hkdf::HKDF_SHA256, prk);
    let mut out = Zeroizing::new([0u8; 32]);
    // 32 bytes is within HKDF-SHA-256's 255 × 32, so expand and fill cannot fail.
    if let Ok(okm) = prk.expand(&[info], ring::hkdf::HKDF_SHA256) {
        let _ = okm.fill(&mut out[..]);
    }
    out
}

/// AES-256-CBC decryption with PKCS#7 padding; a padding error is reported like a wrong key.
pub(crate) fn aes_cbc_open(
    key: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, TagMismatch> {
    use aes::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::Pkcs7};
    let decryptor =
        cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv).map_err(|_| TagMismatch)?;
    decryptor
        .decrypt_padded_vec::<Pkcs7>(ciphertext)
        .map(Zeroizing::new)
        .map_err(|_| TagMismatch)
}

/// AES-256-CBC encryption with PKCS#7 padding, for building old-format test files.
#[cfg(test)]
pub(crate) fn aes_cbc_seal(key: &[u8], iv: &[u8], plain: &[u8]) -> Vec<u8> {
    use aes::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
    cbc::Encryptor::<aes::Aes256>::new_from_slices(key, iv)
        .unwrap()
        .encrypt_padded_vec::<Pkcs7>(plain)
}

/// Decodes hex (either case).
pub(crate) fn hex(text: &str) -> Option<Vec<u8>> {
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(text.as_bytes())
        .ok()
}

/// Decodes standard Base64, padded or not (also tolerating `\/` already unescaped by JSON).
pub(crate) fn base64(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    use base64::Engine;
    use base64::engine::DecodePaddingMode;
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    engine.decode(clean.as_bytes()).ok().map(Zeroizing::new)
}

/// AES-256-GCM encryption of `plain` with associated data `aad` to `ciphertext || tag`; `None`
/// only for a key or nonce of the wrong length.
pub(crate) fn aes_gcm_seal_aad(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    plain: &[u8],
) -> Option<Vec<u8>> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).ok()?);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut buffer = Vec::with_capacity(plain.len() + AES_256_GCM.tag_len());
    buffer.extend_from_slice(plain);
    key.seal_in_place_append_tag(nonce, Aad::from(aad), &mut buffer)
        .ok()?;
    Some(buffer)
}

/// AES-256-GCM encryption to `ciphertext || tag`, for building encrypted test files.
#[cfg(test)]
pub(crate) fn aes_gcm_seal(key: &[u8], nonce: &[u8], plain: &[u8]) -> Vec<u8> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).unwrap());
    let nonce = Nonce::try_assume_unique_for_key(nonce).unwrap();
    let mut buffer = plain.to_vec();
    key.seal_in_place_append_tag(nonce, Aad::empty(), &mut buffer)
        .unwrap();
    buffer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcm_round_trip_and_tag_check() {
        let key = [7u8; 32];
        let sealed = aes_gcm_seal(&key, &[1; 12], b"hello");
        assert_eq!(
            &aes_gcm_open(&key, &[1; 12], &sealed).unwrap()[..],
            b"hello"
        );
        assert_eq!(aes_gcm_open(&[8; 32], &[1; 12], &sealed), Err(TagMismatch));
        assert_eq!(aes_gcm_open(&key, &[1; 11], &sealed), Err(TagMismatch));
    }
}
