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
const NOTICE_FORMAT: &str = "twofold-sync-rekey";
const VERSION: u32 = 1;
/// The largest re-key notice read: a real one is under 1 KiB plus 33 bytes per removed device.
pub const MAX_NOTICE_BYTES: usize = 64 * 1024;
/// The most devices one re-key notice names as removed.
pub const MAX_NOTICE_REMOVED: usize = 1_000;
/// The longest device name kept, in characters (longer ones are cut).
pub const MAX_DEVICE_NAME_CHARS: usize = 64;

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
    /// A re-key notice (a device removed, the set re-keyed).
    RekeyNotice,
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
        Ok(p) if p.format == NOTICE_FORMAT => FileKind::RekeyNotice,
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

/// Who wrote a replica, sealed inside it (the storage learns no name): the writer's device
/// name and when it wrote it (its last sync), for the list of devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Writer {
    /// The device's name (the platform's device name or host name; the user may edit it).
    pub name: String,
    /// When the replica was written, Unix milliseconds.
    pub at: u64,
}

/// A device name as kept and shown: control characters dropped, spaces trimmed, at most
/// [`MAX_DEVICE_NAME_CHARS`] characters. Applied to every name written and read.
pub fn clean_device_name(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(MAX_DEVICE_NAME_CHARS)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

#[derive(Deserialize)]
struct BodyDto<'a> {
    writer: Option<Writer>,
    #[serde(borrow)]
    state: &'a serde_json::value::RawValue,
}

/// Seals `state` as `device`'s replica number `generation` under `key`, with `writer` (its
/// name and the time) inside.
pub fn seal_replica(
    state: &State,
    writer: &Writer,
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
    let header = serde_json::to_vec(&header).map_err(|_| ReplicaError::Malformed("header"))?;
    let writer = Writer {
        name: clean_device_name(&writer.name),
        at: writer.at,
    };
    let writer = serde_json::to_vec(&writer).map_err(|_| ReplicaError::Malformed("writer"))?;
    let state = state.to_json();
    let mut plain = Zeroizing::new(Vec::with_capacity(state.len() + writer.len() + 24));
    plain.extend_from_slice(b"{\"writer\":");
    plain.extend_from_slice(&writer);
    plain.extend_from_slice(b",\"state\":");
    plain.extend_from_slice(&state);
    plain.push(b'}');
    let out = seal_after(header, key, &nonce, &plain)?;
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
    let header: ReplicaHeader = header_line(bytes, "header")?;
    check_format(
        &header.format,
        header.version,
        REPLICA_FORMAT,
        "not a replica",
    )?;
    Ok(header)
}

/// A sealed file's first line, parsed as its header.
fn header_line<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, ReplicaError> {
    let line = bytes
        .split(|b| *b == b'\n')
        .next()
        .ok_or(ReplicaError::Malformed("empty"))?;
    serde_json::from_slice(line).map_err(|_| ReplicaError::Malformed(what))
}

/// A header's format and version are `expected`'s and this version's.
fn check_format(
    format: &str,
    version: u32,
    expected: &str,
    not_it: &'static str,
) -> Result<(), ReplicaError> {
    if format != expected {
        return Err(ReplicaError::Malformed(not_it));
    }
    if version != VERSION {
        return Err(ReplicaError::UnsupportedVersion(version));
    }
    Ok(())
}

/// `header` (its JSON line, the associated data), a newline and the Base64 of `plain` sealed
/// under `key` with `nonce`: the shape of every sealed file of a target.
fn seal_after(
    mut header: Vec<u8>,
    key: &SyncKey,
    nonce: &[u8; NONCE_LEN],
    plain: &[u8],
) -> Result<Vec<u8>, ReplicaError> {
    let sealed = crypto::aes_gcm_seal_aad(&key.0[..], nonce, &header, plain)
        .ok_or(ReplicaError::Malformed("the content could not be sealed"))?;
    header.push(b'\n');
    header.extend_from_slice(B64.encode(sealed).as_bytes());
    Ok(header)
}

/// A replica opened: its header, its state and who wrote it (`None` in a replica written
/// before devices had names: its content is the state alone).
#[derive(Debug)]
pub struct Opened {
    /// The header, as authenticated.
    pub header: ReplicaHeader,
    /// The writer's state.
    pub state: State,
    /// The writer's name and when it wrote.
    pub writer: Option<Writer>,
}

/// Opens a replica with whichever of `keys` (key id, key) sealed it.
pub fn open_replica(bytes: &[u8], keys: &[(&str, &SyncKey)]) -> Result<Opened, ReplicaError> {
    let header = replica_header(bytes)?;
    let plain = open_sealed(bytes, key_named(keys, &header.key_id)?, &header.nonce)?;
    if plain.first() == Some(&b'[') {
        let state = State::from_json(&plain)?;
        return Ok(Opened {
            header,
            state,
            writer: None,
        });
    }
    let body: BodyDto<'_> =
        serde_json::from_slice(&plain).map_err(|_| StateError::Malformed("not a replica body"))?;
    let state = State::from_json(body.state.get().as_bytes())?;
    let writer = body.writer.map(|w| Writer {
        name: clean_device_name(&w.name),
        at: w.at,
    });
    Ok(Opened {
        header,
        state,
        writer,
    })
}

/// The key of `keys` whose id is `id`.
fn key_named<'k>(keys: &[(&str, &'k SyncKey)], id: &str) -> Result<&'k SyncKey, ReplicaError> {
    keys.iter()
        .find(|(k, _)| *k == id)
        .map(|(_, key)| *key)
        .ok_or(ReplicaError::UnknownKey)
}

/// The content after a header line, opened with `key` (the header line's exact bytes are the
/// associated data).
fn open_sealed(
    bytes: &[u8],
    key: &SyncKey,
    nonce: &str,
) -> Result<Zeroizing<Vec<u8>>, ReplicaError> {
    let split = bytes
        .iter()
        .position(|b| *b == b'\n')
        .ok_or(ReplicaError::Malformed("no content"))?;
    let (aad, body) = (&bytes[..split], &bytes[split + 1..]);
    let body = std::str::from_utf8(body).map_err(|_| ReplicaError::Altered)?;
    let sealed = crypto::base64(body).ok_or(ReplicaError::Altered)?;
    let nonce = crypto::base64(nonce).ok_or(ReplicaError::Altered)?;
    let plain = crypto::aes_gcm_open_aad(&key.0[..], &nonce, aad, &sealed)
        .map_err(|_| ReplicaError::Altered)?;
    Ok(plain)
}

/// The key id a key file names, read without any key derivation (to pick the file a re-key
/// notice names); `None` when it is not a readable key file.
pub fn key_file_id(bytes: &[u8]) -> Option<String> {
    if bytes.len() > MAX_KEY_FILE_BYTES {
        return None;
    }
    let dto: KeyFileDto = serde_json::from_slice(bytes).ok()?;
    (dto.format == KEY_FORMAT).then_some(dto.key_id)
}

/// A commitment to a sync key, put in a re-key notice: the notice then names not only the
/// new key file but the key inside it, so a key file put in its place (under the same key id,
/// another passphrase) is refused even when someone's passphrase opens it.
pub fn key_check(key_id: &str, key: &SyncKey) -> String {
    let mut input = Zeroizing::new(format!("twofold-sync-key-check-v1:{key_id}:").into_bytes());
    input.extend_from_slice(&key.0[..]);
    data_encoding::HEXLOWER.encode(&crypto::sha256(&input)[..])
}

/// A re-key notice (`docs/sync.md`, "Removing a device"): sealed under the key it retires,
/// so only a member can make one; it names the key that replaces it and the devices removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RekeyNotice {
    /// The key retired (the notice is sealed under it).
    pub old_key_id: String,
    /// The key that replaces it.
    pub new_key_id: String,
    /// [`key_check`] of the new key.
    pub key_check: String,
    /// The devices removed: they get the new key from no one.
    pub removed: Vec<DeviceId>,
    /// The device that re-keyed.
    pub by: DeviceId,
    /// When, Unix milliseconds.
    pub at: u64,
}

#[derive(Serialize, Deserialize)]
struct NoticeHeader {
    format: String,
    version: u32,
    key_id: String,
    nonce: String,
}

#[derive(Serialize, Deserialize)]
struct NoticeBody {
    new_key_id: String,
    key_check: String,
    removed: Vec<DeviceId>,
    by: DeviceId,
    at: u64,
}

/// The file name of the re-key notice that retires `old_key_id`.
pub fn notice_name(old_key_id: &str) -> String {
    format!("rekey-{old_key_id}{}", super::session::SUFFIX)
}

/// Seals `notice` under the key it retires (`old_key`).
pub fn seal_notice(
    notice: &RekeyNotice,
    old_key: &SyncKey,
    rng: &dyn Rng,
) -> Result<Vec<u8>, ReplicaError> {
    if notice.removed.len() > MAX_NOTICE_REMOVED {
        return Err(ReplicaError::Malformed("too many devices removed at once"));
    }
    let nonce = random::<NONCE_LEN>(rng)?;
    let header = NoticeHeader {
        format: NOTICE_FORMAT.into(),
        version: VERSION,
        key_id: notice.old_key_id.clone(),
        nonce: B64.encode(nonce),
    };
    let header = serde_json::to_vec(&header).map_err(|_| ReplicaError::Malformed("header"))?;
    let body = NoticeBody {
        new_key_id: notice.new_key_id.clone(),
        key_check: notice.key_check.clone(),
        removed: notice.removed.clone(),
        by: notice.by,
        at: notice.at,
    };
    let plain = serde_json::to_vec(&body).map_err(|_| ReplicaError::Malformed("notice"))?;
    seal_after(header, old_key, &nonce, &plain)
}

/// The key id a re-key notice claims to retire, read without decrypting.
pub fn notice_key_id(bytes: &[u8]) -> Result<String, ReplicaError> {
    notice_header(bytes).map(|h| h.key_id)
}

fn notice_header(bytes: &[u8]) -> Result<NoticeHeader, ReplicaError> {
    if bytes.len() > MAX_NOTICE_BYTES {
        return Err(ReplicaError::Malformed("larger than any re-key notice"));
    }
    let header: NoticeHeader = header_line(bytes, "notice header")?;
    check_format(
        &header.format,
        header.version,
        NOTICE_FORMAT,
        "not a re-key notice",
    )?;
    Ok(header)
}

/// Opens a re-key notice with whichever of `keys` it names: any change to it, or a notice
/// sealed under a key that is not the one it names, is [`ReplicaError::Altered`]; a key this
/// device does not hold is [`ReplicaError::UnknownKey`].
pub fn open_notice(bytes: &[u8], keys: &[(&str, &SyncKey)]) -> Result<RekeyNotice, ReplicaError> {
    let header = notice_header(bytes)?;
    let plain = open_sealed(bytes, key_named(keys, &header.key_id)?, &header.nonce)?;
    let body: NoticeBody =
        serde_json::from_slice(&plain).map_err(|_| ReplicaError::Malformed("notice"))?;
    if body.removed.len() > MAX_NOTICE_REMOVED {
        return Err(ReplicaError::Malformed("too many devices removed at once"));
    }
    Ok(RekeyNotice {
        old_key_id: header.key_id,
        new_key_id: body.new_key_id,
        key_check: body.key_check,
        removed: body.removed,
        by: body.by,
        at: body.at,
    })
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
        let writer = Writer {
            name: "Pixel\u{7}".into(),
            at: 5,
        };
        let file = seal_replica(&s, &writer, "k1", &key, device, 7, &rng).unwrap();
        assert_eq!(kind_of(&file), FileKind::Replica);
        let text = String::from_utf8(file.clone()).unwrap();
        assert!(!text.contains("alice") && !text.contains("ACME") && !text.contains("Pixel"));
        let opened = open_replica(&file, &[("k1", &key)]).unwrap();
        assert_eq!(
            (opened.header.device, opened.header.generation),
            (device, 7)
        );
        assert_eq!(opened.state, s);
        // The name is kept clean: no control character.
        assert_eq!(
            opened.writer,
            Some(Writer {
                name: "Pixel".into(),
                at: 5
            })
        );

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
        // One byte of the content changed: a Base64 character inside the ciphertext, whose six
        // bits all count (the last one before the padding carries bits a decoder ignores, so
        // changing it could leave the bytes as they were: it did in 15 of 40 runs).
        let mut flipped = file.clone();
        let inside = text.find('\n').unwrap() + 10;
        flipped[inside] = if flipped[inside] == b'A' { b'B' } else { b'A' };
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
