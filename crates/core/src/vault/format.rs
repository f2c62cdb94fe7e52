//! The vault file format (`docs/vault.md`, version 1): the JSON envelope and its checksum, key
//! slots that wrap the master key, and the encrypted database.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use zeroize::Zeroizing;

use super::error::{Corruption, OpenError, VaultError};
use super::kdf::KdfParams;
use super::model::Database;
use crate::rng::Rng;

/// The `format` field of every vault file.
pub const FORMAT: &str = "twofold-vault";
/// The newest format version this code writes (and the newest it reads).
pub const VERSION: u32 = 1;
/// Vault files larger than this are refused as corrupt (a hostile or damaged file must not
/// make the reader allocate without bound); 100,000 accounts take about 40 MB. Writing checks
/// the same limit, so no save produces a file the reader refuses.
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
/// The most key slots a vault file may list: one password slot and device slots for a few
/// phones. Each password slot costs a key derivation, so a file listing thousands would keep
/// the device busy for hours; more than this is refused as corrupt before any derivation.
pub const MAX_SLOTS: usize = 16;
/// The most password slots tried when opening (Twofold writes exactly one; a second may exist
/// only in a file written by a newer version).
pub const MAX_PASSWORD_SLOTS: usize = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Header {
    pub slots: Vec<Slot>,
    pub nonce: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SlotKdf {
    pub algorithm: String,
    pub version: u32,
    #[serde(flatten)]
    pub params: KdfParams,
    pub salt: String,
}

/// A key slot: one way of unwrapping the master key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub(super) enum Slot {
    Password {
        id: String,
        kdf: SlotKdf,
        nonce: String,
        wrapped_key: String,
    },
    Device {
        id: String,
        key_alias: String,
        nonce: String,
        wrapped_key: String,
    },
}

#[derive(Serialize)]
struct FileOut<'a> {
    format: &'a str,
    version: u32,
    header: &'a RawValue,
    db: String,
    checksum: String,
}

#[derive(Deserialize)]
struct FileIn<'a> {
    format: String,
    version: u32,
    #[serde(borrow)]
    header: &'a RawValue,
    db: String,
    checksum: String,
}

fn key(bytes: &[u8; 32]) -> Result<LessSafeKey, VaultError> {
    UnboundKey::new(&AES_256_GCM, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| VaultError::Encrypt)
}

fn slot_aad(id: &str) -> Vec<u8> {
    format!("twofold-slot-v1:{id}").into_bytes()
}

/// Wraps the master key under `kek` for slot `id`: (nonce, wrapped key), both base64.
pub(super) fn wrap(
    kek: &[u8; 32],
    master: &[u8; 32],
    id: &str,
    rng: &dyn Rng,
) -> Result<(String, String), VaultError> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce)?;
    let mut buf = Zeroizing::new(master.to_vec());
    key(kek)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(slot_aad(id)),
            &mut *buf,
        )
        .map_err(|_| VaultError::Encrypt)?;
    Ok((B64.encode(nonce), B64.encode(&*buf)))
}

fn unwrap_key(kek: &[u8; 32], nonce: &str, wrapped: &str, id: &str) -> Option<Zeroizing<[u8; 32]>> {
    let nonce: [u8; NONCE_LEN] = B64.decode(nonce).ok()?.try_into().ok()?;
    let mut buf = Zeroizing::new(B64.decode(wrapped).ok()?);
    let k = key(kek).ok()?;
    let plain = k
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(slot_aad(id)),
            &mut buf,
        )
        .ok()?;
    let master: [u8; 32] = plain.try_into().ok()?;
    Some(Zeroizing::new(master))
}

pub(super) fn checksum(header: &str, db: &str) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(header.as_bytes());
    ctx.update(b"\n");
    ctx.update(db.as_bytes());
    ctx.finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The parts of a file that slots need, checked for damage.
pub(super) struct Parsed<'a> {
    header_raw: &'a str,
    pub header: Header,
    db: String,
}

pub(super) fn parse_file(bytes: &[u8]) -> Result<Parsed<'_>, OpenError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Corruption::Empty.into());
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Corruption::TooLarge.into());
    }
    let file: FileIn = serde_json::from_slice(bytes).map_err(|_| Corruption::NotVaultJson)?;
    if file.format != FORMAT {
        return Err(Corruption::NotTwofold.into());
    }
    if file.version > VERSION {
        return Err(OpenError::UnsupportedVersion(file.version));
    }
    let header_raw = file.header.get();
    if checksum(header_raw, &file.db) != file.checksum {
        return Err(Corruption::Checksum.into());
    }
    let header: Header = serde_json::from_str(header_raw).map_err(|_| Corruption::Header)?;
    Ok(Parsed {
        header_raw,
        header,
        db: file.db,
    })
}

/// The master key from the first password slot that `password` opens.
pub(super) fn unlock_with_password(
    slots: &[Slot],
    password: &[u8],
) -> Result<Zeroizing<[u8; 32]>, OpenError> {
    let password_slots = slots
        .iter()
        .filter(|s| matches!(s, Slot::Password { .. }))
        .count();
    if slots.len() > MAX_SLOTS || password_slots > MAX_PASSWORD_SLOTS {
        return Err(Corruption::TooManySlots.into());
    }
    let mut any_password_slot = false;
    for slot in slots {
        let Slot::Password {
            id,
            kdf,
            nonce,
            wrapped_key,
        } = slot
        else {
            continue;
        };
        any_password_slot = true;
        if kdf.algorithm != "argon2id" || kdf.version != 0x13 || !kdf.params.is_acceptable() {
            return Err(Corruption::SlotKdfUnacceptable.into());
        }
        let salt = B64
            .decode(&kdf.salt)
            .map_err(|_| Corruption::SlotSaltMalformed)?;
        if salt.len() < 16 {
            return Err(Corruption::SlotSaltShort.into());
        }
        let kek = kdf
            .params
            .derive(password, &salt)
            .map_err(|_| Corruption::SlotKdfInvalid)?;
        if let Some(master) = unwrap_key(&kek, nonce, wrapped_key, id) {
            return Ok(master);
        }
    }
    if any_password_slot {
        Err(OpenError::WrongPassword)
    } else {
        Err(Corruption::NoPasswordSlot.into())
    }
}

/// The master key from the first device slot that `kek` opens.
pub(super) fn unlock_with_device_key(
    slots: &[Slot],
    kek: &[u8; 32],
) -> Option<Zeroizing<[u8; 32]>> {
    slots.iter().find_map(|s| match s {
        Slot::Device {
            id,
            nonce,
            wrapped_key,
            ..
        } => unwrap_key(kek, nonce, wrapped_key, id),
        Slot::Password { .. } => None,
    })
}

/// Decrypts and reads the database of a parsed file.
pub(super) fn decrypt_db(parsed: &Parsed<'_>, master: &[u8; 32]) -> Result<Database, OpenError> {
    let bad = || Corruption::DatabaseAuth;
    let nonce: [u8; NONCE_LEN] = B64
        .decode(&parsed.header.nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or_else(bad)?;
    let mut buf = Zeroizing::new(B64.decode(&parsed.db).map_err(|_| bad())?);
    let k = key(master).map_err(|_| bad())?;
    let plain = k
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(parsed.header_raw.as_bytes()),
            &mut buf,
        )
        .map_err(|_| bad())?;
    Ok(Database::from_json(plain)?)
}

/// Encrypts the database's plaintext `buf` into file bytes, with a fresh nonce.
pub(super) fn seal(
    slots: &[Slot],
    master: &[u8; 32],
    mut buf: Zeroizing<Vec<u8>>,
    rng: &dyn Rng,
) -> Result<Vec<u8>, VaultError> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce)?;
    let header = Header {
        slots: slots.to_vec(),
        nonce: B64.encode(nonce),
    };
    let header_json = serde_json::to_string(&header).map_err(|_| VaultError::Encrypt)?;
    key(master)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(header_json.as_bytes()),
            &mut *buf,
        )
        .map_err(|_| VaultError::Encrypt)?;
    let db = B64.encode(&*buf);
    let header_raw = RawValue::from_string(header_json).map_err(|_| VaultError::Encrypt)?;
    let file = FileOut {
        format: FORMAT,
        version: VERSION,
        checksum: checksum(header_raw.get(), &db),
        header: &header_raw,
        db,
    };
    let mut out = serde_json::to_vec_pretty(&file).map_err(|_| VaultError::Encrypt)?;
    out.push(b'\n');
    Ok(out)
}
