//! RFC 8291 Web Push message encryption (ECDH on P-256 with the device's key, HKDF-SHA-256
//! with its auth secret, one RFC 8188 `aes128gcm` record), and this device's side of it: its
//! [`PushRegistration`]. One definition for both ends: `twofold-relay` encrypts with
//! [`encrypt`], the app decrypts with [`PushRegistration::decrypt`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use p256::{PublicKey, SecretKey};
use ring::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::device_token::{DeviceToken, TokenError, WebPushTarget};
use crate::rng::Rng;

/// The record size written in the header (RFC 8188 §2.1).
pub const RECORD_SIZE: u32 = 4096;
/// The header: salt (16), rs (4), idlen (1), the sender's public key (65).
pub(super) const HEADER_LEN: usize = 16 + 4 + 1 + 65;
/// The AEAD tag.
pub(super) const TAG_LEN: usize = 16;
/// Push services must accept 4096 bytes of body (RFC 8030 §7.2); the plaintext that fits
/// beside the header, the padding delimiter and the tag.
pub const MAX_PLAINTEXT: usize = 4096 - HEADER_LEN - 1 - TAG_LEN;
/// The largest message [`PushRegistration::decrypt`] reads (RFC 8030 §7.2): anything longer is
/// refused before any work.
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// Plaintexts are padded to a multiple of this, so the push service learns less from the
/// length of a question.
pub(super) const PAD_BLOCK: usize = 256;

/// Why a message could not be encrypted or decrypted. Never holds key material or plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EceError {
    /// The plaintext does not fit one Web Push message.
    #[error("the message is {0} bytes; Web Push carries at most {MAX_PLAINTEXT}")]
    TooLarge(usize),
    /// A public key is not a P-256 point.
    #[error("the device's public key is not a P-256 point")]
    BadKey,
    /// The random number generator failed.
    #[error("the system's random number generator failed")]
    Rng,
    /// The message is not one RFC 8291 `aes128gcm` record.
    #[error("the push message is not an aes128gcm record ({0})")]
    Malformed(&'static str),
    /// The record does not open with this device's keys: not for this device, or altered.
    #[error("the push message does not decrypt with this device's keys (not for it, or altered)")]
    Decrypt,
}

/// Encrypts `plaintext` for the device (`ua_public`, `auth`) with a fresh key and salt from
/// `rng`, padded to a multiple of 256 bytes (RFC 8291 §3.4, RFC 8188: one record).
pub fn encrypt(
    plaintext: &[u8],
    ua_public: &[u8; 65],
    auth: &[u8; 16],
    rng: &dyn Rng,
) -> Result<Vec<u8>, EceError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(EceError::TooLarge(plaintext.len()));
    }
    let mut salt = [0u8; 16];
    rng.fill(&mut salt).map_err(|_| EceError::Rng)?;
    let as_secret = random_secret(rng)?;
    let padded = (plaintext.len() + 1).div_ceil(PAD_BLOCK) * PAD_BLOCK;
    let padded = padded.min(MAX_PLAINTEXT + 1);
    encrypt_with(&as_secret, &salt, ua_public, auth, plaintext, padded)
}

/// A P-256 private key from `rng`.
fn random_secret(rng: &dyn Rng) -> Result<SecretKey, EceError> {
    loop {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill(bytes.as_mut()).map_err(|_| EceError::Rng)?;
        // Out of range (zero or above the order) with probability about 2^-32: draw again.
        if let Ok(key) = SecretKey::from_slice(bytes.as_ref()) {
            return Ok(key);
        }
    }
}

/// The content-encryption key and nonce of a message (RFC 8291 §3.3-3.4, RFC 8188 §2.2-2.3):
/// `shared` is the ECDH secret, the same on both sides.
fn content_keys(
    shared: &[u8],
    auth: &[u8; 16],
    ua_public: &[u8; 65],
    as_public: &[u8],
    salt: &[u8],
) -> Result<(LessSafeKey, [u8; 12]), EceError> {
    // IKM = HKDF(auth, ecdh_secret, "WebPush: info" || 0 || ua_public || as_public, 32).
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(ua_public);
    key_info.extend_from_slice(as_public);
    let mut ikm = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(auth), shared)
        .expand(&key_info, ikm.as_mut())
        .map_err(|_| EceError::BadKey)?;
    let prk = Hkdf::<Sha256>::new(Some(salt), ikm.as_ref());
    let mut cek = Zeroizing::new([0u8; 16]);
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", cek.as_mut())
        .map_err(|_| EceError::BadKey)?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .map_err(|_| EceError::BadKey)?;
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_128_GCM, cek.as_ref()).map_err(|_| EceError::BadKey)?,
    );
    Ok((key, nonce))
}

/// The deterministic core: `record_len` is the plaintext, its delimiter and zero padding.
pub(super) fn encrypt_with(
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
    let (key, nonce) = content_keys(
        shared.raw_secret_bytes().as_slice(),
        auth,
        ua_public,
        &as_public,
        salt,
    )?;

    // One record, the last: plaintext, the delimiter 0x02, zeros (RFC 8188 §2).
    let mut record = Vec::with_capacity(HEADER_LEN + record_len + TAG_LEN);
    record.extend_from_slice(salt);
    record.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    record.push(65);
    record.extend_from_slice(&as_public);
    let mut body = Vec::with_capacity(record_len + TAG_LEN);
    body.extend_from_slice(plaintext);
    body.push(2);
    body.resize(record_len.max(plaintext.len() + 1), 0);
    // The first record's sequence number is 0: the nonce is used as derived.
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut body)
        .map_err(|_| EceError::BadKey)?;
    record.extend_from_slice(&body);
    Ok(record)
}

/// Opens one RFC 8291 message with the device's private key and auth secret: the header
/// read and checked (RFC 8291 §4: one record, the sender's key as its key id), the record
/// opened, the padding removed (RFC 8188 §2: the last record's delimiter 0x02, then zeros).
fn decrypt_with(
    body: &[u8],
    ua_secret: &SecretKey,
    auth: &[u8; 16],
) -> Result<Zeroizing<Vec<u8>>, EceError> {
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(EceError::Malformed("longer than 4096 bytes"));
    }
    if body.len() < HEADER_LEN + TAG_LEN + 1 {
        return Err(EceError::Malformed("too short"));
    }
    let (salt, rest) = body.split_at(16);
    let (rs, rest) = rest.split_at(4);
    let rs = u32::from_be_bytes([rs[0], rs[1], rs[2], rs[3]]) as usize;
    if rest[0] != 65 {
        return Err(EceError::Malformed("the key id is not a P-256 public key"));
    }
    let (as_public, ciphertext) = rest[1..].split_at(65);
    // RFC 8291 §4: a push message is a single record; the record size bounds it.
    if rs < TAG_LEN + 2 || ciphertext.len() > rs {
        return Err(EceError::Malformed("more than one record"));
    }
    let as_key = PublicKey::from_sec1_bytes(as_public)
        .map_err(|_| EceError::Malformed("the sender's key is not a P-256 point"))?;
    let ua_public: [u8; 65] = ua_secret
        .public_key()
        .to_sec1_bytes()
        .as_ref()
        .try_into()
        .map_err(|_| EceError::BadKey)?;
    let shared = p256::ecdh::diffie_hellman(ua_secret.to_nonzero_scalar(), as_key.as_affine());
    let (key, nonce) = content_keys(
        shared.raw_secret_bytes().as_slice(),
        auth,
        &ua_public,
        as_public,
        salt,
    )?;
    let mut plain = Zeroizing::new(ciphertext.to_vec());
    let len = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::empty(),
            &mut plain,
        )
        .map_err(|_| EceError::Decrypt)?
        .len();
    plain.truncate(len);
    // The padding: zeros after the delimiter, which must be 2 (the last record).
    let end = plain
        .iter()
        .rposition(|&b| b != 0)
        .ok_or(EceError::Malformed("no padding delimiter"))?;
    if plain[end] != 2 {
        return Err(EceError::Malformed("not the last record"));
    }
    plain.truncate(end);
    Ok(plain)
}

/// This device's Web Push registration (RFC 8291 §2): its P-256 key pair and 16-byte auth
/// secret, the token that names the registration to the push distributor (UnifiedPush's
/// "connection token", random), and the endpoint the distributor gave, if any. Kept in the
/// encrypted vault (and, for receiving while locked, in the push keyring). The private key
/// and the auth secret are zeroized on drop; `Debug` shows the endpoint's host only.
#[derive(Clone, PartialEq, Eq)]
pub struct PushRegistration {
    pub(super) secret: Zeroizing<[u8; 32]>,
    pub(super) auth: Zeroizing<[u8; 16]>,
    pub(super) connection: String,
    pub(super) endpoint: Option<String>,
    /// A phone's FCM or APNs token (never a Web Push one), when the platform's push service
    /// gave one: it is then the device token, and the keys above go unused.
    pub(super) native: Option<DeviceToken>,
}

impl std::fmt::Debug for PushRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = self
            .endpoint
            .as_deref()
            .and_then(|e| url::Url::parse(e).ok())
            .and_then(|u| u.host_str().map(str::to_owned));
        f.debug_struct("PushRegistration")
            .field("endpoint_host", &host)
            .field("native", &self.native.as_ref().map(DeviceToken::kind))
            .finish_non_exhaustive()
    }
}

/// The stored form (inside the encrypted vault): base64url keys in zeroizing strings.
#[derive(Serialize, Deserialize)]
struct StoredRegistration {
    secret: Zeroizing<String>,
    auth: Zeroizing<String>,
    connection: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    endpoint: Option<String>,
    /// The phone's FCM or APNs device token, as its `fbtoken` text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    native: Option<String>,
}

impl Serialize for PushRegistration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        StoredRegistration {
            secret: Zeroizing::new(URL_SAFE_NO_PAD.encode(self.secret.as_ref())),
            auth: Zeroizing::new(URL_SAFE_NO_PAD.encode(self.auth.as_ref())),
            connection: self.connection.clone(),
            endpoint: self.endpoint.clone(),
            native: match self.native.as_ref().map(DeviceToken::to_token).transpose() {
                Ok(native) => native,
                Err(_) => return Err(serde::ser::Error::custom("unwritable device token")),
            },
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for PushRegistration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let stored = StoredRegistration::deserialize(d)?;
        let secret = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(stored.secret.as_bytes())
                .map_err(|_| D::Error::custom("the push registration's key is not base64url"))?,
        );
        let auth = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(stored.auth.as_bytes())
                .map_err(|_| D::Error::custom("the push registration's auth is not base64url"))?,
        );
        let mut reg = PushRegistration {
            secret: Zeroizing::new([0u8; 32]),
            auth: Zeroizing::new([0u8; 16]),
            connection: stored.connection,
            endpoint: None,
            native: None,
        };
        if secret.len() != 32 || auth.len() != 16 || SecretKey::from_slice(&secret).is_err() {
            return Err(D::Error::custom(
                "the push registration's keys are unusable",
            ));
        }
        reg.secret.copy_from_slice(&secret);
        reg.auth.copy_from_slice(&auth);
        if let Some(e) = stored.endpoint {
            reg.set_endpoint(&e)
                .map_err(|_| D::Error::custom("the push registration's endpoint is unusable"))?;
        }
        if let Some(native) = stored.native {
            let token = super::device_token::parse(&native).map_err(|_| {
                D::Error::custom("the push registration's device token is unusable")
            })?;
            reg.set_native_token(token).map_err(|_| {
                D::Error::custom("the push registration's device token is unusable")
            })?;
        }
        Ok(reg)
    }
}

impl PushRegistration {
    /// A new registration: a P-256 key pair, a 16-byte auth secret and a connection token
    /// (a version-4 UUID), all from `rng`; no endpoint yet.
    pub fn generate(rng: &dyn Rng) -> Result<PushRegistration, EceError> {
        let key = random_secret(rng)?;
        let mut secret = Zeroizing::new([0u8; 32]);
        secret.copy_from_slice(key.to_bytes().as_slice());
        let mut auth = Zeroizing::new([0u8; 16]);
        rng.fill(auth.as_mut()).map_err(|_| EceError::Rng)?;
        let connection = crate::rng::uuid(rng).map_err(|_| EceError::Rng)?;
        Ok(PushRegistration {
            secret,
            auth,
            connection,
            endpoint: None,
            native: None,
        })
    }

    fn secret_key(&self) -> Result<SecretKey, EceError> {
        SecretKey::from_slice(self.secret.as_ref()).map_err(|_| EceError::BadKey)
    }

    /// The public key, uncompressed SEC 1 (65 bytes): the device token's `p256dh`.
    pub fn public_key(&self) -> Result<[u8; 65], EceError> {
        self.secret_key()?
            .public_key()
            .to_sec1_bytes()
            .as_ref()
            .try_into()
            .map_err(|_| EceError::BadKey)
    }

    /// The token that names this registration to the push distributor.
    pub fn connection(&self) -> &str {
        &self.connection
    }

    /// The endpoint the distributor gave, if any.
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// Takes the distributor's (new) endpoint, checked as the device token requires; true
    /// when it differs from the one before (the servers must then be told: the token update).
    pub fn set_endpoint(&mut self, endpoint: &str) -> Result<bool, TokenError> {
        super::device_token::read_endpoint(endpoint)?;
        let mut next = self.clone();
        next.endpoint = Some(endpoint.to_owned());
        // The whole token must fit, too.
        next.device_token()?;
        let changed = self.endpoint != next.endpoint;
        *self = next;
        Ok(changed)
    }

    /// Forgets the endpoint (the distributor unregistered this app).
    pub fn clear_endpoint(&mut self) {
        self.endpoint = None;
    }

    /// Takes the phone's FCM or APNs token (a Web Push token is refused: its endpoint comes
    /// through [`PushRegistration::set_endpoint`]); true when it differs from the one before
    /// (the servers must then be told: the token update).
    pub fn set_native_token(&mut self, token: DeviceToken) -> Result<bool, TokenError> {
        if matches!(token, DeviceToken::WebPush(_)) {
            return Err(TokenError::Field("kind"));
        }
        // The whole token must fit.
        token.to_token()?;
        let changed = self.native.as_ref() != Some(&token);
        self.native = Some(token);
        Ok(changed)
    }

    /// The phone's FCM or APNs token, if the platform's push service gave one.
    pub fn native_token(&self) -> Option<&DeviceToken> {
        self.native.as_ref()
    }

    /// The device token for the servers' `fbtoken` (docs/relay.md, "The device token"): the
    /// phone's FCM or APNs token when there is one, else the Web Push one once the
    /// distributor gave an endpoint.
    pub fn device_token(&self) -> Result<String, TokenError> {
        if let Some(native) = &self.native {
            return native.to_token();
        }
        let endpoint = self
            .endpoint
            .as_deref()
            .ok_or(TokenError::Field("endpoint"))?;
        let public = self.public_key().map_err(|_| TokenError::Field("p256dh"))?;
        WebPushTarget::new(endpoint, public, *self.auth)?.to_token()
    }

    /// Decrypts a pushed message (the distributor hands over the push service's body as
    /// received), capped at [`MAX_MESSAGE_BYTES`] before any work.
    pub fn decrypt(&self, body: &[u8]) -> Result<Zeroizing<Vec<u8>>, EceError> {
        decrypt_with(body, &self.secret_key()?, &self.auth)
    }
}
