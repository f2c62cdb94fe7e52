//! The files of a sync target (`docs/sync.md`, "Files in the target" and "Cryptography"): the
//! key file that wraps the sync key under the passphrase, and each device's replica, sealed
//! under the sync key with its header (key id, device id, generation) as associated data. The
//! key file is in `key_file`, re-key notices in `notice`; both are re-exported here.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::hlc::DeviceId;
use super::key_file::KEY_FORMAT;
use super::notice::NOTICE_FORMAT;
use super::state::{State, StateError};
use crate::crypto;
use crate::rng::{Rng, RngError};

pub use super::key_file::{
    KeyFileError, MAX_KEY_FILE_BYTES, SyncKey, create_key_file, key_check, key_file_id,
    open_key_file,
};
pub use super::notice::{
    MAX_NOTICE_BYTES, MAX_NOTICE_REMOVED, RekeyNotice, notice_key_id, notice_name, open_notice,
    seal_notice,
};

/// The largest replica read or written: the vault's own size cap.
pub const MAX_REPLICA_BYTES: usize = 64 * 1024 * 1024;
pub(super) const NONCE_LEN: usize = 12;
const REPLICA_FORMAT: &str = "twofold-sync-replica";
pub(super) const VERSION: u32 = 1;
/// The longest device name kept, in characters (longer ones are cut).
pub const MAX_DEVICE_NAME_CHARS: usize = 64;

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

pub(super) fn random<const N: usize>(rng: &dyn Rng) -> Result<[u8; N], RngError> {
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
pub(super) fn header_line<T: serde::de::DeserializeOwned>(
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
pub(super) fn check_format(
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
pub(super) fn seal_after(
    mut header: Vec<u8>,
    key: &SyncKey,
    nonce: &[u8; NONCE_LEN],
    plain: &[u8],
) -> Result<Vec<u8>, ReplicaError> {
    let sealed = crypto::aes_gcm_seal_aad(&key.expose()[..], nonce, &header, plain)
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
pub(super) fn key_named<'k>(
    keys: &[(&str, &'k SyncKey)],
    id: &str,
) -> Result<&'k SyncKey, ReplicaError> {
    keys.iter()
        .find(|(k, _)| *k == id)
        .map(|(_, key)| *key)
        .ok_or(ReplicaError::UnknownKey)
}

/// The content after a header line, opened with `key` (the header line's exact bytes are the
/// associated data).
pub(super) fn open_sealed(
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
    let plain = crypto::aes_gcm_open_aad(&key.expose()[..], &nonce, aad, &sealed)
        .map_err(|_| ReplicaError::Altered)?;
    Ok(plain)
}
