//! The files of a sync target (`docs/sync.md`, "Files in the target" and "Cryptography"): the
//! key file that wraps the sync key under the passphrase, and each device's replica, sealed
//! under the sync key with its header (key id, device id, generation) as associated data.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::hlc::DeviceId;
use super::state::{State, StateError};
use crate::crypto;
use crate::rng::{Rng, RngError};
use crate::vault::KdfParams;

/// The largest replica read or written: the vault's own size cap.
pub const MAX_REPLICA_BYTES: usize = 64 * 1024 * 1024;
/// The largest key file read: a real one is under 1 KiB.
pub const MAX_KEY_FILE_BYTES: usize = 64 * 1024;
/// Salt length of the key file's Argon2id slot.
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const KEY_FORMAT: &str = "twofold-sync-key";
const REPLICA_FORMAT: &str = "twofold-sync-replica";
const VERSION: u32 = 1;

/// The key every replica of a sync set is sealed with. Zeroized on drop; never printed.
#[derive(Clone)]
pub struct SyncKey(Zeroizing<[u8; 32]>);

impl SyncKey {
    /// The key from its bytes (as the vault keeps it).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        SyncKey(Zeroizing::new(bytes))
    }

    /// The raw bytes, for the vault to keep.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SyncKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SyncKey(..)")
    }
}

/// Why a key file could not be made or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    /// The passphrase does not unwrap the key.
    #[error("wrong sync passphrase")]
    WrongPassphrase,
    /// The file's Argon2id parameters are outside what any Twofold writes.
    #[error("the sync key file asks for key-derivation costs outside the accepted range")]
    KdfRefused,
    /// Not a key file, or damaged.
    #[error("the sync key file is damaged: {0}")]
    Malformed(&'static str),
    /// The random number generator failed.
    #[error(transparent)]
    Rng(#[from] RngError),
}

/// Why a replica could not be written or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplicaError {
    /// Larger than [`MAX_REPLICA_BYTES`].
    #[error("the replica is larger than {MAX_REPLICA_BYTES} bytes")]
    TooLarge,
    /// Not a replica, or its header is damaged.
    #[error("not a readable replica: {0}")]
    Malformed(&'static str),
    /// Written by a newer Twofold.
    #[error("the replica has version {0}, newer than this app reads")]
    UnsupportedVersion(u32),
    /// Sealed under a key this device does not have.
    #[error("the replica is sealed under a sync key this device does not have")]
    UnknownKey,
    /// The content or the header was changed after sealing.
    #[error("the replica was altered or damaged")]
    Altered,
    /// The content decrypts but is not a state.
    #[error(transparent)]
    State(#[from] StateError),
    /// The random number generator failed.
    #[error(transparent)]
    Rng(#[from] RngError),
}

#[derive(Serialize, Deserialize)]
struct KdfDto {
    algorithm: String,
    memory_kib: u32,
    iterations: u32,
    lanes: u32,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct KeyFileDto {
    format: String,
    version: u32,
    key_id: String,
    kdf: KdfDto,
    nonce: String,
    wrapped_key: String,
}

/// A replica's header: what is bound to its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaHeader {
    /// Always `twofold-sync-replica`.
    pub format: String,
    /// The format version.
    pub version: u32,
    /// The key file whose key sealed it.
    pub key_id: String,
    /// The device that wrote it.
    pub device: DeviceId,
    /// That device's write count.
    pub generation: u64,
    /// The AES-GCM nonce, Base64.
    pub nonce: String,
}

/// What a `.twofold-sync` file is, read from its start without decrypting anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A key file.
    KeyFile,
    /// A replica.
    Replica,
    /// Neither (damaged, or not Twofold's).
    Unknown,
}

fn key_aad(key_id: &str) -> Vec<u8> {
    format!("twofold-sync-key-v1:{key_id}").into_bytes()
}

fn random<const N: usize>(rng: &dyn Rng) -> Result<[u8; N], RngError> {
    let mut b = [0u8; N];
    rng.fill(&mut b)?;
    Ok(b)
}

/// Tells a key file from a replica by its first line.
pub fn kind_of(bytes: &[u8]) -> FileKind {
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    #[derive(Deserialize)]
    struct Probe {
        format: String,
    }
    match serde_json::from_slice::<Probe>(first) {
        Ok(p) if p.format == KEY_FORMAT => FileKind::KeyFile,
        Ok(p) if p.format == REPLICA_FORMAT => FileKind::Replica,
        _ => FileKind::Unknown,
    }
}

/// Makes a new sync key and its key file under `passphrase`: `(key id, key, file bytes)`.
pub fn create_key_file(
    passphrase: &[u8],
    kdf: KdfParams,
    rng: &dyn Rng,
) -> Result<(String, SyncKey, Vec<u8>), KeyFileError> {
    let key = SyncKey(Zeroizing::new(random::<32>(rng)?));
    let key_id = data_encoding::HEXLOWER.encode(&random::<16>(rng)?);
    let salt = random::<SALT_LEN>(rng)?;
    let nonce = random::<NONCE_LEN>(rng)?;
    let kek = kdf
        .derive(passphrase, &salt)
        .map_err(|_| KeyFileError::KdfRefused)?;
    let wrapped = crypto::aes_gcm_seal_aad(&kek[..], &nonce, &key_aad(&key_id), &key.0[..])
        .ok_or(KeyFileError::Malformed("the key could not be wrapped"))?;
    let dto = KeyFileDto {
        format: KEY_FORMAT.into(),
        version: VERSION,
        key_id: key_id.clone(),
        kdf: KdfDto {
            algorithm: "argon2id".into(),
            memory_kib: kdf.memory_kib,
            iterations: kdf.iterations,
            lanes: kdf.lanes,
            salt: B64.encode(salt),
        },
        nonce: B64.encode(nonce),
        wrapped_key: B64.encode(wrapped),
    };
    let bytes = serde_json::to_vec(&dto).map_err(|_| KeyFileError::Malformed("not JSON"))?;
    Ok((key_id, key, bytes))
}

/// Opens a key file with `passphrase`: `(key id, key)`. The Argon2id parameters are checked
/// against the vault's caps before any work.
pub fn open_key_file(bytes: &[u8], passphrase: &[u8]) -> Result<(String, SyncKey), KeyFileError> {
    if bytes.len() > MAX_KEY_FILE_BYTES {
        return Err(KeyFileError::Malformed("larger than any key file"));
    }
    let dto: KeyFileDto =
        serde_json::from_slice(bytes).map_err(|_| KeyFileError::Malformed("not a key file"))?;
    if dto.format != KEY_FORMAT {
        return Err(KeyFileError::Malformed("not a key file"));
    }
    if dto.version != VERSION {
        return Err(KeyFileError::Malformed("a newer key file version"));
    }
    if data_encoding::HEXLOWER
        .decode(dto.key_id.as_bytes())
        .map_or(true, |id| id.len() != 16)
    {
        return Err(KeyFileError::Malformed("bad key id"));
    }
    let kdf = KdfParams {
        memory_kib: dto.kdf.memory_kib,
        iterations: dto.kdf.iterations,
        lanes: dto.kdf.lanes,
    };
    if dto.kdf.algorithm != "argon2id" || !kdf.is_acceptable() {
        return Err(KeyFileError::KdfRefused);
    }
    let salt = crypto::base64(&dto.kdf.salt).ok_or(KeyFileError::Malformed("bad salt"))?;
    let nonce = crypto::base64(&dto.nonce).ok_or(KeyFileError::Malformed("bad nonce"))?;
    let wrapped =
        crypto::base64(&dto.wrapped_key).ok_or(KeyFileError::Malformed("bad wrapped key"))?;
    if salt.len() < 16 || nonce.len() != NONCE_LEN || wrapped.len() != 32 + 16 {
        return Err(KeyFileError::Malformed("bad lengths"));
    }
    let kek = kdf
        .derive(passphrase, &salt)
        .map_err(|_| KeyFileError::KdfRefused)?;
    let plain = crypto::aes_gcm_open_aad(&kek[..], &nonce, &key_aad(&dto.key_id), &wrapped)
        .map_err(|_| KeyFileError::WrongPassphrase)?;
    let key: [u8; 32] = plain[..]
        .try_into()
        .map_err(|_| KeyFileError::Malformed("bad key length"))?;
    Ok((dto.key_id, SyncKey(Zeroizing::new(key))))
}

/// Seals `state` as `device`'s replica number `generation` under `key`.
pub fn seal_replica(
    state: &State,
    key_id: &str,
    key: &SyncKey,
    device: DeviceId,
    generation: u64,
    rng: &dyn Rng,
) -> Result<Vec<u8>, ReplicaError> {
    let nonce = random::<NONCE_LEN>(rng)?;
    let header = ReplicaHeader {
        format: REPLICA_FORMAT.into(),
        version: VERSION,
        key_id: key_id.into(),
        device,
        generation,
        nonce: B64.encode(nonce),
    };
    let mut out = serde_json::to_vec(&header).map_err(|_| ReplicaError::Malformed("header"))?;
    let plain = state.to_json();
    let sealed = crypto::aes_gcm_seal_aad(&key.0[..], &nonce, &out, &plain)
        .ok_or(ReplicaError::Malformed("the state could not be sealed"))?;
    out.push(b'\n');
    out.extend_from_slice(B64.encode(sealed).as_bytes());
    if out.len() > MAX_REPLICA_BYTES {
        return Err(ReplicaError::TooLarge);
    }
    Ok(out)
}

/// Reads a replica's header without decrypting (to choose the key, and to check the
/// generation before the work of decrypting).
pub fn replica_header(bytes: &[u8]) -> Result<ReplicaHeader, ReplicaError> {
    if bytes.len() > MAX_REPLICA_BYTES {
        return Err(ReplicaError::TooLarge);
    }
    let line = bytes
        .split(|b| *b == b'\n')
        .next()
        .ok_or(ReplicaError::Malformed("empty"))?;
    let header: ReplicaHeader =
        serde_json::from_slice(line).map_err(|_| ReplicaError::Malformed("header"))?;
    if header.format != REPLICA_FORMAT {
        return Err(ReplicaError::Malformed("not a replica"));
    }
    if header.version != VERSION {
        return Err(ReplicaError::UnsupportedVersion(header.version));
    }
    Ok(header)
}

/// Opens a replica with whichever of `keys` (key id, key) sealed it.
pub fn open_replica(
    bytes: &[u8],
    keys: &[(&str, &SyncKey)],
) -> Result<(ReplicaHeader, State), ReplicaError> {
    let header = replica_header(bytes)?;
    let split = bytes
        .iter()
        .position(|b| *b == b'\n')
        .ok_or(ReplicaError::Malformed("no content"))?;
    let (aad, body) = (&bytes[..split], &bytes[split + 1..]);
    let key = keys
        .iter()
        .find(|(id, _)| *id == header.key_id)
        .map(|(_, k)| *k)
        .ok_or(ReplicaError::UnknownKey)?;
    let body = std::str::from_utf8(body).map_err(|_| ReplicaError::Altered)?;
    let sealed = crypto::base64(body).ok_or(ReplicaError::Altered)?;
    let nonce = crypto::base64(&header.nonce).ok_or(ReplicaError::Altered)?;
    let plain = crypto::aes_gcm_open_aad(&key.0[..], &nonce, aad, &sealed)
        .map_err(|_| ReplicaError::Altered)?;
    let state = State::from_json(&plain)?;
    Ok((header, state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SystemRng;
    use crate::sync::hlc::HlcClock;
    use crate::{AccountEntry, Algorithm, Kind, OtpAccount, OtpParams, Secret};

    fn state() -> State {
        let mut c = HlcClock::new(DeviceId::from_bytes([1; 16]));
        let mut s = State::new();
        let account = OtpAccount {
            issuer: "ACME".into(),
            name: "alice".into(),
            secret: Secret::from_bytes(b"12345678901234567890".to_vec()),
            params: OtpParams::new(Kind::Totp { period: 30 }, Algorithm::Sha1, 6).unwrap(),
        };
        s.upsert("x", AccountEntry::new(account), 0, c.tick(1_000));
        s
    }

    #[test]
    fn key_file_opens_with_the_passphrase_only() {
        let rng = SystemRng::new();
        let (id, key, file) = create_key_file(b"correct horse", KdfParams::MIN, &rng).unwrap();
        assert_eq!(kind_of(&file), FileKind::KeyFile);
        let (id2, key2) = open_key_file(&file, b"correct horse").unwrap();
        assert_eq!((id2, key2.expose()), (id, key.expose()));
        assert_eq!(
            open_key_file(&file, b"wrong").unwrap_err(),
            KeyFileError::WrongPassphrase
        );
        assert!(!String::from_utf8_lossy(&file).contains("correct horse"));
        assert_eq!(format!("{key:?}"), "SyncKey(..)");
    }

    #[test]
    fn key_file_costs_are_capped_before_any_work() {
        let rng = SystemRng::new();
        let (_, _, file) = create_key_file(b"pw", KdfParams::MIN, &rng).unwrap();
        let text = String::from_utf8(file).unwrap();
        let hostile = text.replace(
            &format!("\"memory_kib\":{}", KdfParams::MIN.memory_kib),
            "\"memory_kib\":4294967295",
        );
        assert_eq!(
            open_key_file(hostile.as_bytes(), b"pw").unwrap_err(),
            KeyFileError::KdfRefused
        );
    }

    #[test]
    fn replicas_round_trip_and_any_change_is_caught() {
        let rng = SystemRng::new();
        let key = SyncKey::from_bytes([9; 32]);
        let device = DeviceId::from_bytes([2; 16]);
        let s = state();
        let file = seal_replica(&s, "k1", &key, device, 7, &rng).unwrap();
        assert_eq!(kind_of(&file), FileKind::Replica);
        let text = String::from_utf8(file.clone()).unwrap();
        assert!(!text.contains("alice") && !text.contains("ACME"));
        let (header, back) = open_replica(&file, &[("k1", &key)]).unwrap();
        assert_eq!((header.device, header.generation), (device, 7));
        assert_eq!(back, s);

        // Another device's id, or an older generation, in the header: refused.
        let swapped = text.replace(&device.to_hex(), &"03".repeat(16));
        assert_eq!(
            open_replica(swapped.as_bytes(), &[("k1", &key)]).unwrap_err(),
            ReplicaError::Altered
        );
        let rolled = text.replace("\"generation\":7", "\"generation\":6");
        assert_eq!(
            open_replica(rolled.as_bytes(), &[("k1", &key)]).unwrap_err(),
            ReplicaError::Altered
        );
        // One byte of the content changed.
        let mut flipped = file.clone();
        let last = flipped.len() - 3;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            open_replica(&flipped, &[("k1", &key)]).unwrap_err(),
            ReplicaError::Altered
        );
        assert_eq!(
            open_replica(&file, &[("k2", &key)]).unwrap_err(),
            ReplicaError::UnknownKey
        );
        assert_eq!(
            open_replica(&file, &[("k1", &SyncKey::from_bytes([8; 32]))]).unwrap_err(),
            ReplicaError::Altered
        );
        assert_eq!(kind_of(b"garbage"), FileKind::Unknown);
    }
}
