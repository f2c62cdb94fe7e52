//! Re-key notices (`docs/sync.md`, "Removing a device"): sealed under the key a re-key
//! retires, naming the key that replaces it and the devices removed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use super::hlc::DeviceId;
use super::key_file::SyncKey;
use super::replica::{
    NONCE_LEN, ReplicaError, VERSION, check_format, header_line, key_named, open_sealed, random,
    seal_after,
};
use crate::rng::Rng;

pub(super) const NOTICE_FORMAT: &str = "twofold-sync-rekey";
/// The largest re-key notice read: a real one is under 1 KiB plus 33 bytes per removed device.
pub const MAX_NOTICE_BYTES: usize = 64 * 1024;
/// The most devices one re-key notice names as removed.
pub const MAX_NOTICE_REMOVED: usize = 1_000;

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
