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
const HEADER_LEN: usize = 16 + 4 + 1 + 65;
/// The AEAD tag.
const TAG_LEN: usize = 16;
/// Push services must accept 4096 bytes of body (RFC 8030 §7.2); the plaintext that fits
/// beside the header, the padding delimiter and the tag.
pub const MAX_PLAINTEXT: usize = 4096 - HEADER_LEN - 1 - TAG_LEN;
/// The largest message [`PushRegistration::decrypt`] reads (RFC 8030 §7.2): anything longer is
/// refused before any work.
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// Plaintexts are padded to a multiple of this, so the push service learns less from the
/// length of a question.
const PAD_BLOCK: usize = 256;

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
    secret: Zeroizing<[u8; 32]>,
    auth: Zeroizing<[u8; 16]>,
    connection: String,
    endpoint: Option<String>,
    /// A phone's FCM or APNs token (never a Web Push one), when the platform's push service
    /// gave one: it is then the device token, and the keys above go unused.
    native: Option<DeviceToken>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

    fn b(s: &str) -> Vec<u8> {
        B64.decode(s).unwrap()
    }

    const UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
    const UA_PUBLIC: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const RFC_BODY: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml\
                            mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT\
                            pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";
    const RFC_PLAINTEXT: &[u8] = b"When I grow up, I want to be a watermelon";

    /// The RFC 8291 Appendix A user agent as a registration.
    fn rfc_device() -> PushRegistration {
        let mut secret = Zeroizing::new([0u8; 32]);
        secret.copy_from_slice(&b(UA_PRIVATE));
        let mut auth = Zeroizing::new([0u8; 16]);
        auth.copy_from_slice(&b(AUTH));
        PushRegistration {
            secret,
            auth,
            connection: "c".into(),
            endpoint: None,
            native: None,
        }
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
        let ua: [u8; 65] = b(UA_PUBLIC).try_into().unwrap();
        let auth: [u8; 16] = b(AUTH).try_into().unwrap();
        let salt: [u8; 16] = b("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
        let body = encrypt_with(
            &as_secret,
            &salt,
            &ua,
            &auth,
            RFC_PLAINTEXT,
            RFC_PLAINTEXT.len() + 1,
        )
        .unwrap();
        assert_eq!(B64.encode(body), RFC_BODY);
    }

    /// The receiving side of the same vector: the user agent's private key and auth secret
    /// open the published body to the published plaintext.
    #[test]
    fn rfc_8291_appendix_a_decrypts() {
        let device = rfc_device();
        assert_eq!(device.public_key().unwrap().to_vec(), b(UA_PUBLIC));
        let plain = device.decrypt(&b(RFC_BODY)).unwrap();
        assert_eq!(plain.as_slice(), RFC_PLAINTEXT);
    }

    #[test]
    fn refuses_altered_foreign_and_hostile_messages() {
        let device = rfc_device();
        let body = b(RFC_BODY);
        // The salt, the key id (the sender's key), the ciphertext, the tag. (The record size
        // is not authenticated: any size that holds the one record reads the same.)
        for i in [0, 15, 21, 60, 86, 100, body.len() - 1] {
            let mut altered = body.clone();
            altered[i] ^= 1;
            assert!(device.decrypt(&altered).is_err(), "byte {i}");
        }
        let other = PushRegistration::generate(&crate::rng::SystemRng::new()).unwrap();
        assert_eq!(other.decrypt(&body), Err(EceError::Decrypt));
        assert_eq!(
            device.decrypt(&vec![0u8; MAX_MESSAGE_BYTES + 1]),
            Err(EceError::Malformed("longer than 4096 bytes"))
        );
        assert_eq!(
            device.decrypt(&body[..50]),
            Err(EceError::Malformed("too short"))
        );
        // A record size smaller than the ciphertext: more than one record.
        let mut split = body.clone();
        split[16..20].copy_from_slice(&40u32.to_be_bytes());
        assert_eq!(
            device.decrypt(&split),
            Err(EceError::Malformed("more than one record"))
        );
    }

    #[test]
    fn round_trip_with_padding_and_a_fresh_key_each_time() {
        let rng = crate::rng::SystemRng::new();
        let device = PushRegistration::generate(&rng).unwrap();
        let public = device.public_key().unwrap();
        let message = br#"{"nonce":"N","question":"Sign in?"}"#;
        let sealed = encrypt(message, &public, &device.auth, &rng).unwrap();
        assert_eq!(sealed.len(), HEADER_LEN + PAD_BLOCK + TAG_LEN);
        assert_eq!(device.decrypt(&sealed).unwrap().as_slice(), message);
        let longest = vec![b'a'; MAX_PLAINTEXT];
        let sealed = encrypt(&longest, &public, &device.auth, &rng).unwrap();
        assert_eq!(sealed.len(), 4096);
        assert_eq!(device.decrypt(&sealed).unwrap().as_slice(), longest);
        assert_eq!(
            encrypt(&vec![b'a'; MAX_PLAINTEXT + 1], &public, &device.auth, &rng),
            Err(EceError::TooLarge(MAX_PLAINTEXT + 1))
        );
        assert_ne!(
            encrypt(b"{}", &public, &device.auth, &rng).unwrap(),
            encrypt(b"{}", &public, &device.auth, &rng).unwrap()
        );
    }

    #[test]
    fn a_phone_token_is_the_device_token_and_survives_storage() {
        let rng = crate::rng::SystemRng::new();
        let mut device = PushRegistration::generate(&rng).unwrap();
        let fcm = DeviceToken::fcm("dE4k:APA91bH-reg_token").unwrap();
        assert!(device.set_native_token(fcm.clone()).unwrap());
        assert!(!device.set_native_token(fcm.clone()).unwrap());
        assert_eq!(
            device.device_token().unwrap(),
            r#"{"v":1,"kind":"fcm","token":"dE4k:APA91bH-reg_token"}"#
        );
        // Kept before a distributor's endpoint, had there been one.
        device
            .set_endpoint("https://ntfy.example.org/upABC")
            .unwrap();
        assert_eq!(device.device_token().unwrap(), fcm.to_token().unwrap());
        let stored = serde_json::to_string(&device).unwrap();
        let back: PushRegistration = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, device);
        assert_eq!(back.native_token(), Some(&fcm));
        assert!(!format!("{device:?}").contains("APA91"));
        // A Web Push token comes through the endpoint only.
        let web = super::super::device_token::parse(&{
            let mut other = PushRegistration::generate(&rng).unwrap();
            other.set_endpoint("https://push.example.org/x").unwrap();
            other.device_token().unwrap()
        })
        .unwrap();
        assert_eq!(device.set_native_token(web), Err(TokenError::Field("kind")));
        // A stored token that is not a phone's is refused on reading.
        let tampered = stored.replace(r#"\"kind\":\"fcm\""#, r#"\"kind\":\"webpush\""#);
        assert_ne!(tampered, stored);
        assert!(serde_json::from_str::<PushRegistration>(&tampered).is_err());
    }

    #[test]
    fn the_device_token_holds_the_endpoint_and_public_keys_only() {
        let mut device = rfc_device();
        assert!(device.device_token().is_err());
        assert!(
            device
                .set_endpoint("https://ntfy.example.org/upABC?up=1")
                .unwrap()
        );
        assert!(
            !device
                .set_endpoint("https://ntfy.example.org/upABC?up=1")
                .unwrap()
        );
        let token = device.device_token().unwrap();
        assert_eq!(
            token,
            format!(
                r#"{{"v":1,"kind":"webpush","endpoint":"https://ntfy.example.org/upABC?up=1","p256dh":"{UA_PUBLIC}","auth":"{AUTH}"}}"#
            )
        );
        assert!(!token.contains(UA_PRIVATE));
        assert_eq!(
            device.set_endpoint("ftp://x.org/a"),
            Err(TokenError::Field("endpoint"))
        );
        let shown = format!("{device:?}");
        assert!(
            shown.contains("ntfy.example.org") && !shown.contains("upABC"),
            "{shown}"
        );
        assert!(
            !shown.contains(UA_PRIVATE) && !shown.contains(AUTH),
            "{shown}"
        );
        // Stored and read back whole; the stored form holds the private key, so it lives
        // only inside the encrypted vault.
        let stored = serde_json::to_string(&device).unwrap();
        let back: PushRegistration = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, device);
        assert!(
            serde_json::from_str::<PushRegistration>(
                r#"{"secret":"AAAA","auth":"AAAA","connection":"c"}"#
            )
            .is_err()
        );
    }
}
