//! The key file (`docs/sync.md`, "Files in the target" and "Cryptography"): the sync key,
//! wrapped under the passphrase with Argon2id and AES-256-GCM, and the commitment to it that a
//! re-key notice names.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::replica::{NONCE_LEN, VERSION, random};
use crate::crypto;
use crate::rng::{Rng, RngError};
use crate::vault::KdfParams;

/// The largest key file read: a real one is under 1 KiB.
pub const MAX_KEY_FILE_BYTES: usize = 64 * 1024;
/// Salt length of the key file's Argon2id slot.
const SALT_LEN: usize = 32;
pub(super) const KEY_FORMAT: &str = "twofold-sync-key";

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

fn key_aad(key_id: &str) -> Vec<u8> {
    format!("twofold-sync-key-v1:{key_id}").into_bytes()
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
