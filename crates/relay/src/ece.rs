//! RFC 8291 Web Push message encryption: ECDH on P-256 with the device's key, HKDF-SHA-256
//! with its auth secret, then one RFC 8188 `aes128gcm` record.

use hkdf::Hkdf;
use p256::{PublicKey, SecretKey};
use ring::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::Sha256;

/// The record size written in the header (RFC 8188 §2.1).
pub const RECORD_SIZE: u32 = 4096;
/// The header: salt (16), rs (4), idlen (1), the sender's public key (65).
const HEADER_LEN: usize = 16 + 4 + 1 + 65;
/// Push services must accept 4096 bytes of body (RFC 8030 §7.2); the plaintext that fits
/// beside the header, the padding delimiter and the tag.
pub const MAX_PLAINTEXT: usize = 4096 - HEADER_LEN - 1 - 16;
/// Plaintexts are padded to a multiple of this, so the push service learns less from the
/// length of a question.
const PAD_BLOCK: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EceError {
    #[error("the message is {0} bytes; Web Push carries at most {MAX_PLAINTEXT}")]
    TooLarge(usize),
    #[error("the device's public key is not a P-256 point")]
    BadKey,
    #[error("the system's random number generator failed")]
    Rng,
}

/// Encrypts `plaintext` for the device with a fresh key and salt, padded.
pub fn encrypt(
    plaintext: &[u8],
    ua_public: &[u8; 65],
    auth: &[u8; 16],
) -> Result<Vec<u8>, EceError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(EceError::TooLarge(plaintext.len()));
    }
    let rng = SystemRandom::new();
    let mut salt = [0u8; 16];
    rng.fill(&mut salt).map_err(|_| EceError::Rng)?;
    let as_secret = loop {
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        rng.fill(bytes.as_mut()).map_err(|_| EceError::Rng)?;
        // Out of range (zero or above the order) with probability about 2^-32: draw again.
        if let Ok(key) = SecretKey::from_slice(bytes.as_ref()) {
            break key;
        }
    };
    let padded = (plaintext.len() + 1).div_ceil(PAD_BLOCK) * PAD_BLOCK;
    let padded = padded.min(MAX_PLAINTEXT + 1);
    encrypt_with(&as_secret, &salt, ua_public, auth, plaintext, padded)
}

/// The deterministic core: `record_len` is the plaintext, its delimiter and zero padding.
fn encrypt_with(
    as_secret: &SecretKey,
    salt: &[u8; 16],
    ua_public: &[u8; 65],
    auth: &[u8; 16],
    plaintext: &[u8],
    record_len: usize,
) -> Result<Vec<u8>, EceError> {
    let ua_key = PublicKey::from_sec1_bytes(ua_public).map_err(|_| EceError::BadKey)?;
    let as_public = as_secret.public_key().to_sec1_bytes();
    let shared = p256::ecdh::diffie_hellman(as_secret.to_nonzero_scalar(), ua_key.as_affine());

    // RFC 8291 §3.4: IKM = HKDF(auth, ecdh_secret, "WebPush: info" || 0 || ua || as, 32).
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(ua_public);
    key_info.extend_from_slice(&as_public);
    let mut ikm = zeroize::Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes().as_slice())
        .expand(&key_info, ikm.as_mut())
        .map_err(|_| EceError::BadKey)?;

    // RFC 8188 §2.2-2.3: the content-encryption key and nonce from the salt.
    let prk = Hkdf::<Sha256>::new(Some(salt), ikm.as_ref());
    let mut cek = zeroize::Zeroizing::new([0u8; 16]);
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", cek.as_mut())
        .map_err(|_| EceError::BadKey)?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .map_err(|_| EceError::BadKey)?;

    // One record, the last: plaintext, the delimiter 0x02, zeros (RFC 8188 §2).
    let mut record = Vec::with_capacity(HEADER_LEN + record_len + 16);
    record.extend_from_slice(salt);
    record.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    record.push(65);
    record.extend_from_slice(&as_public);
    let mut body = Vec::with_capacity(record_len + 16);
    body.extend_from_slice(plaintext);
    body.push(2);
    body.resize(record_len.max(plaintext.len() + 1), 0);
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_128_GCM, cek.as_ref()).map_err(|_| EceError::BadKey)?,
    );
    // The first record's sequence number is 0: the nonce is used as derived.
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut body)
        .map_err(|_| EceError::BadKey)?;
    record.extend_from_slice(&body);
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

    fn b(s: &str) -> Vec<u8> {
        B64.decode(s).unwrap()
    }

    /// RFC 8291 §5 and Appendix A: the published keys, salt and message give exactly the
    /// published body.
    #[test]
    fn rfc_8291_appendix_a() {
        let as_secret =
            SecretKey::from_slice(&b("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")).unwrap();
        assert_eq!(
            B64.encode(as_secret.public_key().to_sec1_bytes()),
            "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
        );
        let ua: [u8; 65] = b("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4")
            .try_into()
            .unwrap();
        let auth: [u8; 16] = b("BTBZMqHH6r4Tts7J_aSIgg").try_into().unwrap();
        let salt: [u8; 16] = b("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
        let plaintext = b"When I grow up, I want to be a watermelon";
        let body = encrypt_with(
            &as_secret,
            &salt,
            &ua,
            &auth,
            plaintext,
            plaintext.len() + 1,
        )
        .unwrap();
        assert_eq!(
            B64.encode(body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml\
             mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT\
             pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        );
    }

    #[test]
    fn pads_to_blocks_and_caps_the_size() {
        let ua: [u8; 65] = b("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4")
            .try_into()
            .unwrap();
        let auth = [7u8; 16];
        let short = encrypt(b"{}", &ua, &auth).unwrap();
        assert_eq!(short.len(), HEADER_LEN + PAD_BLOCK + 16);
        let longest = encrypt(&vec![b'a'; MAX_PLAINTEXT], &ua, &auth).unwrap();
        assert_eq!(longest.len(), 4096);
        assert_eq!(
            encrypt(&vec![b'a'; MAX_PLAINTEXT + 1], &ua, &auth),
            Err(EceError::TooLarge(MAX_PLAINTEXT + 1))
        );
        // A fresh key and salt every time.
        assert_ne!(encrypt(b"{}", &ua, &auth).unwrap(), short);
    }
}
