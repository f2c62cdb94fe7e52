//! One sync, sans-IO (`docs/sync.md`, "A sync, step by step"): the front end lists the target
//! and hands over every `*.twofold-sync` file's name and bytes; this joins or creates the sync
//! set, records the device's local changes, merges every good replica, and returns the merged
//! accounts, this device's new replica to write, and a warning for every file it left out.

use std::collections::{BTreeMap, BTreeSet};

use super::hlc::{DeviceId, HlcClock};
use super::rekey::follow_rekeys;
use super::replica::{
    self, FileKind, KeyFileError, ReplicaError, SyncKey, Writer, clean_device_name,
    create_key_file, open_key_file, open_replica, replica_header, seal_replica,
};
use super::state::{State, StateError, Visible};
use crate::AccountEntry;
use crate::rng::{Rng, RngError};
use crate::vault::KdfParams;

pub use super::membership::{DeviceInfo, MAX_RETIRED_KEYS, Membership};
pub use super::rekey::{rejoin, rekey};

/// The ending of every file Twofold writes in a sync target.
pub const SUFFIX: &str = ".twofold-sync";
/// The most files of a target read in one sync: far more than devices and conflict copies.
pub const MAX_FILES: usize = 1_000;

/// A file of the target: its name (no folder) and bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct TargetFile {
    /// The file name, ending in [`SUFFIX`].
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for TargetFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TargetFile({}, {} bytes)", self.name, self.bytes.len())
    }
}

/// Why a sync could not run. A damaged or altered replica is not an error (it is a warning).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// No key file opens with the passphrase.
    #[error("wrong sync passphrase")]
    WrongPassphrase,
    /// The target holds a key file, and a passphrase is needed to join.
    #[error("this device has not joined the sync set: a sync passphrase is needed")]
    PassphraseNeeded,
    /// Every key file in the target is damaged.
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    /// This device's replica cannot be written.
    #[error(transparent)]
    Replica(#[from] ReplicaError),
    /// More files than [`MAX_FILES`].
    #[error("the sync target holds more than {MAX_FILES} sync files")]
    TooManyFiles,
    /// The membership kept in the vault does not read.
    #[error("the vault's sync settings are damaged")]
    Membership,
    /// A member removed a device and re-keyed the set: this device writes nothing until it is
    /// given the new passphrase (the one given, if any, does not open the new key).
    #[error(
        "the sync set has a new passphrase (a device was removed from it): sync again with the \
         new passphrase; nothing was written and this device's accounts stay"
    )]
    NewPassphrase,
    /// This device was removed from the sync set.
    #[error(
        "this device was removed from the sync set by {by}: it syncs no more (its accounts \
         stay here); turn sync off, or join again with the set's new passphrase"
    )]
    Removed {
        /// The remover's name (or id).
        by: String,
    },
    /// The device to remove is not one of the set's (or is this device).
    #[error("cannot remove {0}")]
    CannotRemove(String),
    /// The random number generator failed.
    #[error(transparent)]
    Rng(#[from] RngError),
}

impl From<StateError> for SyncError {
    fn from(_: StateError) -> Self {
        SyncError::Membership
    }
}

/// A file left out of the merge, and why (for a `warning:` line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file's name.
    pub file: String,
    /// Why it was left out.
    pub reason: String,
}

/// The result of [`sync`].
#[derive(Debug)]
pub struct Outcome {
    /// The accounts after the merge, for the vault to take.
    pub accounts: Vec<Visible>,
    /// How many accounts this sync added, removed or changed in the vault.
    pub changed: usize,
    /// The accounts of the vault this sync removed, each with the device whose removal it was
    /// (the author of the tombstone), for the vault's recently removed.
    pub removed_by: BTreeMap<String, DeviceId>,
    /// Other devices whose data was merged.
    pub devices: usize,
    /// Files merged.
    pub received: usize,
    /// Files left out.
    pub warnings: Vec<Warning>,
    /// This device's replica, to write (replacing its previous one).
    pub write: TargetFile,
}

/// The file name of `device`'s replica.
pub fn replica_name(device: DeviceId) -> String {
    format!("{device}{SUFFIX}")
}

pub(super) fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp.")
}

/// Joins the sync set in `files` with `passphrase`, or creates one when the target has no key
/// file. Returns the membership, and the key file to write when one was created.
pub fn join(
    files: &[TargetFile],
    passphrase: &[u8],
    kdf: KdfParams,
    device: DeviceId,
    name: &str,
    rng: &dyn Rng,
) -> Result<(Membership, Option<TargetFile>), SyncError> {
    if files.len() > MAX_FILES {
        return Err(SyncError::TooManyFiles);
    }
    let mut keys = Vec::new();
    let mut key_files = BTreeMap::new();
    let mut last_error = None;
    for f in files
        .iter()
        .filter(|f| replica::kind_of(&f.bytes) == FileKind::KeyFile)
    {
        match open_key_file(&f.bytes, passphrase) {
            Ok(k) => {
                key_files.insert(k.0.clone(), f.bytes.clone());
                keys.push(k);
            }
            Err(e) => last_error = Some(e),
        }
    }
    let created = if keys.is_empty() {
        match last_error {
            Some(KeyFileError::WrongPassphrase) => return Err(SyncError::WrongPassphrase),
            Some(e) => return Err(e.into()),
            None => {
                let (id, key, bytes) = create_key_file(passphrase, kdf, rng)?;
                keys.push((id.clone(), key));
                key_files.insert(id.clone(), bytes.clone());
                Some(TargetFile {
                    name: format!("key-{id}{SUFFIX}"),
                    bytes,
                })
            }
        }
    } else {
        None
    };
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    keys.dedup_by(|a, b| a.0 == b.0);
    let membership = Membership {
        keys,
        key_files,
        retired: Vec::new(),
        device,
        name: clean_device_name(name),
        last_sync: None,
        devices: BTreeMap::new(),
        removed: BTreeSet::new(),
        clock: HlcClock::new(device),
        state: State::new(),
        generation: 0,
        seen: BTreeMap::new(),
    };
    Ok((membership, created))
}

/// One sync: records `local` (the vault's accounts now: id, entry, order), merges every good
/// replica in `files`, and returns the merged accounts and this device's next replica. The
/// membership is updated in place; the caller saves it with the accounts only after writing
/// [`Outcome::write`], so a failure leaves the vault as it was.
pub fn sync(
    m: &mut Membership,
    local: &[(String, AccountEntry, u32)],
    files: &[TargetFile],
    now_ms: u64,
    rng: &dyn Rng,
) -> Result<Outcome, SyncError> {
    if files.len() > MAX_FILES {
        return Err(SyncError::TooManyFiles);
    }
    // A re-key is seen before anything changes: a removed device, or one without the new key,
    // writes nothing.
    let mut warnings = follow_rekeys(m, files)?;
    let (write_id, write_key) = m.keys.first().cloned().ok_or(SyncError::Membership)?;
    m.state.record_local(local, &mut m.clock, now_ms);
    let keys: Vec<(&str, &SyncKey)> = m.keys.iter().map(|(i, k)| (i.as_str(), k)).collect();
    // Replicas under a key that a re-key retired are never merged (the removed device holds
    // that key); they are left out silently, as are those under a key a notice here retires.
    let retired: BTreeSet<String> = m
        .retired
        .iter()
        .map(|(id, _)| id.clone())
        .chain(
            files
                .iter()
                .filter(|f| replica::kind_of(&f.bytes) == FileKind::RekeyNotice)
                .filter_map(|f| replica::notice_key_id(&f.bytes).ok()),
        )
        .filter(|id| !m.keys.iter().any(|(k, _)| k == id))
        .collect();
    let mut peers: BTreeMap<DeviceId, Writer> = BTreeMap::new();
    let mut devices = std::collections::BTreeSet::new();
    let mut received = 0;
    let mut seen = m.seen.clone();
    for f in files {
        if is_temporary(&f.name)
            || matches!(
                replica::kind_of(&f.bytes),
                FileKind::KeyFile | FileKind::RekeyNotice
            )
        {
            continue;
        }
        let warn = |reason: String| Warning {
            file: f.name.clone(),
            reason,
        };
        let header = match replica_header(&f.bytes) {
            Ok(h) => h,
            Err(e) => {
                warnings.push(warn(e.to_string()));
                continue;
            }
        };
        if retired.contains(&header.key_id) {
            continue;
        }
        if header.device == m.device && header.generation <= m.generation {
            // This device's own replica (or a copy of an older one): nothing new in it.
            continue;
        }
        let canonical = f.name == replica_name(header.device);
        let before = seen.get(&header.device).copied().unwrap_or(0);
        if header.generation < before && canonical {
            warnings.push(warn(format!(
                "rolled back: generation {} after {} was seen",
                header.generation, before
            )));
            continue;
        }
        match open_replica(&f.bytes, &keys) {
            Ok(opened) => {
                let (h, state) = (opened.header, opened.state);
                if let Err(e) = m.state.merge_bounded(&state, now_ms) {
                    warnings.push(warn(e.to_string()));
                    continue;
                }
                received += 1;
                if h.device != m.device {
                    devices.insert(h.device);
                    let writer = opened.writer.unwrap_or(Writer {
                        name: String::new(),
                        at: 0,
                    });
                    let newest = peers.entry(h.device).or_insert_with(|| writer.clone());
                    if writer.at > newest.at {
                        *newest = writer;
                    }
                }
                let s = seen.entry(h.device).or_insert(0);
                *s = (*s).max(h.generation);
                // A newer replica of this very device (its vault restored from an older
                // copy): the next one written must be newer still.
                if h.device == m.device {
                    m.generation = m.generation.max(h.generation);
                }
            }
            Err(e) => warnings.push(warn(e.to_string())),
        }
    }
    if let Some(stamp) = m.state.max_stamp() {
        m.clock.observe(&stamp, now_ms);
    }
    let accounts = m.state.visible();
    let changed = count_changes(local, &accounts);
    let shown: std::collections::BTreeSet<&str> = accounts.iter().map(|v| v.id.as_str()).collect();
    let removed_by = local
        .iter()
        .filter(|(id, _, _)| !shown.contains(id.as_str()))
        .filter_map(|(id, _, _)| {
            let t = m.state.records().get(id)?.removed?;
            Some((id.clone(), t.stamp.device))
        })
        .collect();
    seen.remove(&m.device);
    m.seen = seen;
    for (device, writer) in peers {
        if m.removed.contains(&device) {
            continue;
        }
        let known = m.devices.entry(device).or_insert_with(|| writer.clone());
        if writer.at >= known.at {
            *known = writer;
        }
    }
    m.generation += 1;
    m.last_sync = Some(now_ms);
    let writer = Writer {
        name: m.name.clone(),
        at: now_ms,
    };
    let bytes = seal_replica(
        &m.state,
        &writer,
        &write_id,
        &write_key,
        m.device,
        m.generation,
        rng,
    )?;
    Ok(Outcome {
        accounts,
        changed,
        removed_by,
        devices: devices.len(),
        received,
        warnings,
        write: TargetFile {
            name: replica_name(m.device),
            bytes,
        },
    })
}

fn count_changes(local: &[(String, AccountEntry, u32)], merged: &[Visible]) -> usize {
    let before: BTreeMap<&str, (&AccountEntry, u32)> = local
        .iter()
        .map(|(id, e, o)| (id.as_str(), (e, *o)))
        .collect();
    let after: BTreeMap<&str, (&AccountEntry, u32)> = merged
        .iter()
        .map(|v| (v.id.as_str(), (&v.entry, v.order)))
        .collect();
    let removed = before.keys().filter(|id| !after.contains_key(*id)).count();
    let added_or_changed = after
        .iter()
        .filter(|(id, now)| before.get(*id) != Some(*now))
        .count();
    removed + added_or_changed
}
