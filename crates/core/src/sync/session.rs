//! One sync, sans-IO (`docs/sync.md`, "A sync, step by step"): the front end lists the target
//! and hands over every `*.twofold-sync` file's name and bytes; this joins or creates the sync
//! set, records the device's local changes, merges every good replica, and returns the merged
//! accounts, this device's new replica to write, and a warning for every file it left out.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::hlc::{DeviceId, HlcClock};
use super::replica::{
    self, FileKind, KeyFileError, RekeyNotice, ReplicaError, SyncKey, Writer, clean_device_name,
    create_key_file, key_check, key_file_id, notice_name, open_key_file, open_notice, open_replica,
    replica_header, seal_notice, seal_replica,
};
use super::state::{State, StateError, Visible};
use crate::AccountEntry;
use crate::rng::{Rng, RngError};
use crate::vault::KdfParams;

/// The ending of every file Twofold writes in a sync target.
pub const SUFFIX: &str = ".twofold-sync";
/// The most files of a target read in one sync: far more than devices and conflict copies.
pub const MAX_FILES: usize = 1_000;
/// The most retired keys a device keeps (to write re-key notices under them for devices that
/// missed a re-key); older ones are forgotten.
pub const MAX_RETIRED_KEYS: usize = 8;

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

/// What a device keeps (in its vault) to take part in a sync set.
#[derive(Debug, Clone)]
pub struct Membership {
    /// The key file's id and the key every replica is sealed with; more than one when two
    /// devices created sync sets at once (replicas under each are read; the smallest id writes).
    pub keys: Vec<(String, SyncKey)>,
    /// The key files of [`Membership::keys`] (by key id) as this device opened or made them:
    /// a rejoin refuses a passphrase that opens one of them (the old passphrase, which a
    /// removed device knows, never opens a key of a re-keyed set, even one the removed device
    /// forged and named in a notice of its own).
    pub key_files: BTreeMap<String, Vec<u8>>,
    /// Keys a re-key replaced (newest last): replicas under them are never merged again (a
    /// removed device holds them); a re-key made here writes a notice under each, for the
    /// devices that missed an earlier one.
    pub retired: Vec<(String, SyncKey)>,
    /// This device.
    pub device: DeviceId,
    /// This device's name, sealed in its replica (the platform's device name or host name).
    pub name: String,
    /// When this device last synced, Unix milliseconds.
    pub last_sync: Option<u64>,
    /// The other devices of the set, as their newest merged replica names them (name, and
    /// when it was written: their last sync).
    pub devices: BTreeMap<DeviceId, Writer>,
    /// Devices removed from the set: never listed again.
    pub removed: BTreeSet<DeviceId>,
    /// Its clock.
    pub clock: HlcClock,
    /// The state as of the last sync.
    pub state: State,
    /// How many replicas this device has written.
    pub generation: u64,
    /// The highest generation merged from each other device.
    pub seen: BTreeMap<DeviceId, u64>,
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

fn is_temporary(name: &str) -> bool {
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

/// The re-key notices in `files` sealed under a key this device writes with (a notice under
/// any other key is not this device's business: it cannot have been removed by it). A notice
/// that does not open is named in a warning and ignored.
fn notices(m: &Membership, files: &[TargetFile]) -> (Vec<RekeyNotice>, Vec<Warning>) {
    let keys: Vec<(&str, &SyncKey)> = m.keys.iter().map(|(i, k)| (i.as_str(), k)).collect();
    let mut found = Vec::new();
    let mut warnings = Vec::new();
    for f in files
        .iter()
        .filter(|f| !is_temporary(&f.name))
        .filter(|f| replica::kind_of(&f.bytes) == FileKind::RekeyNotice)
    {
        match open_notice(&f.bytes, &keys) {
            Ok(n) => found.push(n),
            Err(ReplicaError::UnknownKey) => {}
            Err(e) => warnings.push(Warning {
                file: f.name.clone(),
                reason: e.to_string(),
            }),
        }
    }
    (found, warnings)
}

/// Follows the re-key notices under this device's keys (`docs/sync.md`, "Removing a
/// device"): removed is [`SyncError::Removed`]; a new key this device does not hold is
/// [`SyncError::NewPassphrase`]; a new key it holds (it rejoined) retires the old one. A
/// notice naming a key this device holds under another key check was not made by the member
/// who made that key: named in a warning and ignored. Changes nothing unless it returns `Ok`.
fn follow_rekeys(m: &mut Membership, files: &[TargetFile]) -> Result<Vec<Warning>, SyncError> {
    let (found, mut warnings) = notices(m, files);
    if let Some(n) = found.iter().find(|n| n.removed.contains(&m.device)) {
        let by = m
            .devices
            .get(&n.by)
            .map(|w| w.name.clone())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| format!("device {}", n.by));
        return Err(SyncError::Removed { by });
    }
    let mut retire = Vec::new();
    for n in &found {
        match m.keys.iter().find(|(id, _)| *id == n.new_key_id) {
            None => return Err(SyncError::NewPassphrase),
            Some((id, key)) if key_check(id, key) != n.key_check => warnings.push(Warning {
                file: notice_name(&n.old_key_id),
                reason: "a re-key notice that does not match the key it names".into(),
            }),
            Some(_) => retire.push(n),
        }
    }
    for n in retire {
        if let Some(i) = m.keys.iter().position(|(id, _)| *id == n.old_key_id) {
            let old = m.keys.remove(i);
            m.retired.push(old);
        }
        for d in &n.removed {
            m.removed.insert(*d);
            m.devices.remove(d);
        }
    }
    m.forget_old_retired();
    Ok(warnings)
}

/// Takes the new key of a re-keyed set with `passphrase` (the set's new one): the key file a
/// re-key notice under this device's key names, opened with the passphrase, whose key is the
/// one the notice commits to. The next [`sync`] then retires the old key. A passphrase that
/// does not open it is [`SyncError::NewPassphrase`] (nothing changes); so is a target with no
/// re-key for this device.
pub fn rejoin(
    m: &mut Membership,
    files: &[TargetFile],
    passphrase: &[u8],
) -> Result<(), SyncError> {
    if files.len() > MAX_FILES {
        return Err(SyncError::TooManyFiles);
    }
    let (found, _) = notices(m, files);
    let notice = found
        .iter()
        .find(|n| !m.keys.iter().any(|(id, _)| *id == n.new_key_id))
        .ok_or(SyncError::NewPassphrase)?;
    // The passphrase of the keys being left (the removed device knows it) is never a new one:
    // a key file it opens could be the removed device's own, named in a notice it forged under
    // the old key. Checked against the key files this device kept, and those in the target.
    let current: Vec<&str> = m.keys.iter().map(|(id, _)| id.as_str()).collect();
    let old_files = m
        .key_files
        .iter()
        .filter(|(id, _)| current.contains(&id.as_str()))
        .map(|(_, bytes)| bytes.as_slice())
        .chain(
            files
                .iter()
                .filter(|f| key_file_id(&f.bytes).is_some_and(|id| current.contains(&id.as_str())))
                .map(|f| f.bytes.as_slice()),
        );
    for bytes in old_files {
        if open_key_file(bytes, passphrase).is_ok() {
            return Err(SyncError::NewPassphrase);
        }
    }
    let mut opened = None;
    for f in files
        .iter()
        .filter(|f| key_file_id(&f.bytes).as_deref() == Some(notice.new_key_id.as_str()))
    {
        match open_key_file(&f.bytes, passphrase) {
            Ok((id, key)) if key_check(&id, &key) == notice.key_check => {
                m.key_files.insert(id.clone(), f.bytes.clone());
                opened = Some((id, key));
                break;
            }
            // A key file put in the new one's place: not the key the notice names.
            Ok(_) | Err(KeyFileError::WrongPassphrase) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let key = opened.ok_or(SyncError::NewPassphrase)?;
    m.keys.push(key);
    m.keys.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(())
}

/// Removes `device` from the set and re-keys it (`docs/sync.md`, "Removing a device"): a new
/// sync key under `passphrase` (its key file), and a re-key notice under every key this device
/// holds or retired, naming the new key and the removed devices. This device then writes under
/// the new key only (its next replica is the caller's: a [`sync`] with the files written
/// here). Returns the files to write, the key file first.
pub fn rekey(
    m: &mut Membership,
    device: DeviceId,
    passphrase: &[u8],
    kdf: KdfParams,
    now_ms: u64,
    rng: &dyn Rng,
) -> Result<Vec<TargetFile>, SyncError> {
    m.removable(device)?;
    let (new_id, new_key, key_file) = create_key_file(passphrase, kdf, rng)?;
    let mut removed: Vec<DeviceId> = m.removed.iter().copied().collect();
    removed.push(device);
    removed.sort();
    removed.dedup();
    let check = key_check(&new_id, &new_key);
    m.key_files.insert(new_id.clone(), key_file.clone());
    let mut out = vec![TargetFile {
        name: format!("key-{new_id}{SUFFIX}"),
        bytes: key_file,
    }];
    for (old_id, old_key) in m.keys.iter().chain(&m.retired) {
        let notice = RekeyNotice {
            old_key_id: old_id.clone(),
            new_key_id: new_id.clone(),
            key_check: check.clone(),
            removed: removed.clone(),
            by: m.device,
            at: now_ms,
        };
        out.push(TargetFile {
            name: notice_name(old_id),
            bytes: seal_notice(&notice, old_key, rng)?,
        });
    }
    let old = std::mem::replace(&mut m.keys, vec![(new_id, new_key)]);
    m.retired.extend(old);
    m.forget_old_retired();
    m.removed.insert(device);
    m.devices.remove(&device);
    Ok(out)
}

/// One device of the set as listed (`twofold sync --devices`, the app's Settings → Sync).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    /// Its id (32 hex digits).
    pub id: DeviceId,
    /// Its name.
    pub name: String,
    /// When it last synced, Unix seconds (`None`: not known).
    pub last_sync: Option<u64>,
    /// Whether it is this device.
    pub this: bool,
}

impl Membership {
    /// The set's devices as of this device's last sync: this one first, then by name.
    pub fn device_list(&self) -> Vec<DeviceInfo> {
        let mut others: Vec<DeviceInfo> = self
            .devices
            .iter()
            .filter(|(id, _)| !self.removed.contains(id) && **id != self.device)
            .map(|(id, w)| DeviceInfo {
                id: *id,
                name: w.name.clone(),
                last_sync: (w.at > 0).then_some(w.at / 1000),
                this: false,
            })
            .collect();
        others.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
        let mut out = vec![DeviceInfo {
            id: self.device,
            name: self.name.clone(),
            last_sync: self.last_sync.map(|ms| ms / 1000),
            this: true,
        }];
        out.extend(others);
        out
    }

    /// Keeps the newest [`MAX_RETIRED_KEYS`] retired keys, and the key files of the keys kept.
    fn forget_old_retired(&mut self) {
        let excess = self.retired.len().saturating_sub(MAX_RETIRED_KEYS);
        self.retired.drain(..excess);
        let kept: BTreeSet<&str> = self
            .keys
            .iter()
            .chain(&self.retired)
            .map(|(id, _)| id.as_str())
            .collect();
        self.key_files.retain(|id, _| kept.contains(id.as_str()));
    }

    /// Whether `device` is one this device may remove: another device of the set.
    pub fn removable(&self, device: DeviceId) -> Result<(), SyncError> {
        if device == self.device {
            return Err(SyncError::CannotRemove(
                "this device: remove it from another device, or turn sync off here".into(),
            ));
        }
        if !self.devices.contains_key(&device) {
            return Err(SyncError::CannotRemove(format!(
                "{device}: no such device in this sync set (list them with --devices)"
            )));
        }
        Ok(())
    }

    /// Renames this device (sent with its next replica).
    pub fn set_name(&mut self, name: &str) {
        self.name = clean_device_name(name);
    }
}

/// The membership as the vault stores it: a JSON object nested in the vault's JSON, keys and
/// key files in Base64. Vaults written before it was typed kept the whole membership, and its
/// state, as JSON strings: both read (see [`Membership`]'s `Deserialize`).
#[derive(Serialize, Deserialize)]
struct MembershipDto {
    keys: Vec<(String, Zeroizing<String>)>,
    /// Key files, Base64.
    #[serde(default)]
    key_files: BTreeMap<String, String>,
    #[serde(default)]
    retired: Vec<(String, Zeroizing<String>)>,
    device: DeviceId,
    #[serde(default)]
    name: String,
    #[serde(default)]
    last_sync: Option<u64>,
    #[serde(default)]
    devices: BTreeMap<DeviceId, Writer>,
    #[serde(default)]
    removed: BTreeSet<DeviceId>,
    clock: HlcClock,
    #[serde(deserialize_with = "state_or_legacy_string")]
    state: State,
    generation: u64,
    seen: BTreeMap<DeviceId, u64>,
}

/// The state of a [`MembershipDto`]: an array of records, or (as written before the
/// membership was typed) that array as a JSON string.
fn state_or_legacy_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<State, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = State;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a sync state")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<State, E> {
            State::from_json(v.as_bytes()).map_err(E::custom)
        }
        fn visit_string<E: serde::de::Error>(self, v: String) -> Result<State, E> {
            self.visit_str(&Zeroizing::new(v))
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<State, A::Error> {
            State::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
        }
    }
    d.deserialize_any(V)
}

impl Membership {
    fn to_dto(&self) -> MembershipDto {
        let encode = |keys: &[(String, SyncKey)]| {
            keys.iter()
                .map(|(id, k)| (id.clone(), Zeroizing::new(B64.encode(k.expose()))))
                .collect()
        };
        MembershipDto {
            keys: encode(&self.keys),
            key_files: self
                .key_files
                .iter()
                .map(|(id, bytes)| (id.clone(), B64.encode(bytes)))
                .collect(),
            retired: encode(&self.retired),
            device: self.device,
            name: self.name.clone(),
            last_sync: self.last_sync,
            devices: self.devices.clone(),
            removed: self.removed.clone(),
            clock: self.clock,
            state: self.state.clone(),
            generation: self.generation,
            seen: self.seen.clone(),
        }
    }

    fn from_dto(dto: MembershipDto) -> Result<Membership, SyncError> {
        let decode = |keys: Vec<(String, Zeroizing<String>)>| {
            keys.into_iter()
                .map(|(id, k)| {
                    let raw = crate::crypto::base64(&k).ok_or(SyncError::Membership)?;
                    let key: [u8; 32] = raw[..].try_into().map_err(|_| SyncError::Membership)?;
                    Ok((id, SyncKey::from_bytes(key)))
                })
                .collect::<Result<Vec<_>, SyncError>>()
        };
        let keys = decode(dto.keys)?;
        if keys.is_empty() {
            return Err(SyncError::Membership);
        }
        let mut key_files = BTreeMap::new();
        for (id, b64) in dto.key_files {
            let bytes = B64.decode(b64).map_err(|_| SyncError::Membership)?;
            key_files.insert(id, bytes);
        }
        Ok(Membership {
            keys,
            key_files,
            retired: decode(dto.retired)?,
            device: dto.device,
            name: clean_device_name(&dto.name),
            last_sync: dto.last_sync,
            devices: dto.devices,
            removed: dto.removed,
            clock: dto.clock,
            state: dto.state,
            generation: dto.generation,
            seen: dto.seen,
        })
    }

    /// The membership as JSON (it holds the sync key and secrets).
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        // Serializing plain data to a Vec cannot fail.
        Zeroizing::new(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Reads what [`Membership::to_json`] wrote (or a membership written before it was
    /// typed, its state a JSON string).
    pub fn from_json(bytes: &[u8]) -> Result<Membership, SyncError> {
        let dto: MembershipDto =
            serde_json::from_slice(bytes).map_err(|_| SyncError::Membership)?;
        Membership::from_dto(dto)
    }
}

/// Written as a JSON object (the vault nests it in its own JSON).
impl Serialize for Membership {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_dto().serialize(serializer)
    }
}

/// Reads what `Serialize` wrote; also a membership as a JSON string, as vaults kept it before
/// it was typed (the migration on read: the next save writes the object).
impl<'de> Deserialize<'de> for Membership {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Membership, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Membership;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sync membership")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Membership, E> {
                Membership::from_json(v.as_bytes()).map_err(E::custom)
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Membership, E> {
                self.visit_str(&Zeroizing::new(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Membership, A::Error> {
                let dto =
                    MembershipDto::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Membership::from_dto(dto).map_err(serde::de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SystemRng;
    use crate::sync::MAX_AHEAD_MS;
    use crate::sync::replica::MAX_NOTICE_BYTES;
    use crate::{Algorithm, Kind, OtpAccount, OtpParams, Secret};

    fn entry(name: &str) -> AccountEntry {
        AccountEntry::new(OtpAccount {
            issuer: "ACME".into(),
            name: name.into(),
            secret: Secret::from_bytes(name.as_bytes().repeat(4)),
            params: OtpParams::new(Kind::Totp { period: 30 }, Algorithm::Sha1, 6).unwrap(),
        })
    }

    /// A folder target: file name -> bytes.
    #[derive(Default)]
    struct Folder(BTreeMap<String, Vec<u8>>);

    impl Folder {
        fn files(&self) -> Vec<TargetFile> {
            self.0
                .iter()
                .map(|(name, bytes)| TargetFile {
                    name: name.clone(),
                    bytes: bytes.clone(),
                })
                .collect()
        }
        fn put(&mut self, f: TargetFile) {
            self.0.insert(f.name, f.bytes);
        }
    }

    struct Device {
        m: Membership,
        vault: Vec<(String, AccountEntry, u32)>,
    }

    impl Device {
        fn join(n: u8, folder: &mut Folder, pass: &[u8]) -> Result<Device, SyncError> {
            let rng = SystemRng::new();
            let (m, created) = join(
                &folder.files(),
                pass,
                KdfParams::MIN,
                DeviceId::from_bytes([n; 16]),
                &format!("device {n}"),
                &rng,
            )?;
            if let Some(f) = created {
                folder.put(f);
            }
            Ok(Device { m, vault: vec![] })
        }
        fn sync(&mut self, folder: &mut Folder, now: u64) -> Outcome {
            let out = sync(
                &mut self.m,
                &self.vault,
                &folder.files(),
                now,
                &SystemRng::new(),
            )
            .unwrap();
            self.vault = out
                .accounts
                .iter()
                .map(|v| (v.id.clone(), v.entry.clone(), v.order))
                .collect();
            folder.put(out.write.clone());
            out
        }
        fn names(&self) -> Vec<String> {
            self.vault
                .iter()
                .map(|(_, e, _)| e.account.name.clone())
                .collect()
        }
    }

    #[test]
    fn three_devices_converge_through_one_folder() {
        let mut folder = Folder::default();
        let mut a = Device::join(1, &mut folder, b"sync pass").unwrap();
        let mut b = Device::join(2, &mut folder, b"sync pass").unwrap();
        let mut c = Device::join(3, &mut folder, b"sync pass").unwrap();
        assert_eq!(folder.0.len(), 1, "one key file, made by the first device");
        a.vault.push(("a1".into(), entry("alice"), 0));
        b.vault.push(("b1".into(), entry("bob"), 1));
        let out = a.sync(&mut folder, 1_000);
        assert_eq!((out.devices, out.received, out.changed), (0, 0, 0));
        let out = b.sync(&mut folder, 2_000);
        assert_eq!((out.devices, out.received, out.changed), (1, 1, 1));
        let out = c.sync(&mut folder, 3_000);
        assert_eq!((out.devices, out.changed), (2, 2));
        c.vault.retain(|(id, _, _)| id != "a1");
        c.sync(&mut folder, 4_000);
        a.sync(&mut folder, 5_000);
        b.sync(&mut folder, 6_000);
        assert_eq!(a.names(), vec!["bob".to_string()]);
        assert_eq!(b.names(), a.names());
        assert_eq!(c.names(), a.names());
        // Nothing in the folder is readable: no name, no issuer.
        for bytes in folder.0.values() {
            let text = String::from_utf8_lossy(bytes);
            assert!(!text.contains("bob") && !text.contains("ACME"));
        }
    }

    #[test]
    fn wrong_passphrase_is_its_own_error_and_changes_nothing() {
        let mut folder = Folder::default();
        Device::join(1, &mut folder, b"right").unwrap();
        let before = folder.0.clone();
        assert_eq!(
            Device::join(2, &mut folder, b"wrong").err(),
            Some(SyncError::WrongPassphrase)
        );
        assert_eq!(folder.0, before);
    }

    #[test]
    fn damaged_rolled_back_and_conflict_copies_are_handled() {
        let mut folder = Folder::default();
        let mut a = Device::join(1, &mut folder, b"p").unwrap();
        let mut b = Device::join(2, &mut folder, b"p").unwrap();
        a.vault.push(("a1".into(), entry("alice"), 0));
        a.sync(&mut folder, 1_000);
        let a_name = replica_name(a.m.device);
        let old = folder.0[&a_name].clone();
        a.vault.retain(|_| false);
        a.sync(&mut folder, 2_000);
        b.sync(&mut folder, 3_000);
        assert!(b.names().is_empty());

        // A conflict copy of the older replica: merged, and it resurrects nothing.
        folder.0.insert(
            format!("{} (conflicted copy).twofold-sync", a.m.device),
            old.clone(),
        );
        let out = b.sync(&mut folder, 4_000);
        assert!(out.warnings.is_empty());
        assert!(b.names().is_empty());

        // The canonical file rolled back to the older replica: named and left out.
        folder.0.insert(a_name.clone(), old);
        let out = b.sync(&mut folder, 5_000);
        assert_eq!(out.warnings.len(), 1);
        assert!(out.warnings[0].reason.contains("rolled back"));

        // One byte changed: named and left out; the vault keeps what it had.
        b.vault.push(("b1".into(), entry("bob"), 0));
        b.sync(&mut folder, 6_000);
        let b_name = replica_name(b.m.device);
        let mut bytes = folder.0[&b_name].clone();
        let i = bytes.len() - 5;
        bytes[i] ^= 0x01;
        folder.0.insert(b_name.clone(), bytes);
        let out = a.sync(&mut folder, 7_000);
        assert!(out.warnings.iter().any(|w| w.file == b_name));
        assert!(a.names().is_empty());
    }

    #[test]
    fn a_replica_stamped_far_ahead_is_named_and_a_later_local_edit_sticks() {
        let now = 1_700_000_000_000;
        let mut folder = Folder::default();
        let mut a = Device::join(1, &mut folder, b"p").unwrap();
        a.vault.push(("a1".into(), entry("alice"), 0));
        a.sync(&mut folder, now);
        // A member forges a replica from a's: every account replaced, stamped (2^64-1, 2^32-1).
        let mallory = DeviceId::from_bytes([9; 16]);
        let mut forged = State::new();
        let stamp = crate::sync::Hlc {
            ms: u64::MAX,
            counter: u32::MAX,
            device: mallory,
        };
        forged.upsert("a1", entry("mallory"), 0, stamp);
        let (id, key) = a.m.keys[0].clone();
        let writer = Writer {
            name: "mallory".into(),
            at: now,
        };
        let bytes =
            seal_replica(&forged, &writer, &id, &key, mallory, 1, &SystemRng::new()).unwrap();
        let name = replica_name(mallory);
        folder.put(TargetFile {
            name: name.clone(),
            bytes,
        });
        let out = a.sync(&mut folder, now + 1_000);
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert_eq!(out.warnings[0].file, name);
        assert!(
            out.warnings[0].reason.contains("ahead"),
            "{:?}",
            out.warnings
        );
        assert_eq!((out.received, out.changed), (0, 0));
        assert_eq!(a.names(), vec!["alice".to_string()]);
        // The clock kept to the wall clock: a local edit made now wins, and stays.
        a.vault[0].1.account.name = "alice@work".into();
        a.sync(&mut folder, now + 2_000);
        let out = a.sync(&mut folder, now + 3_000);
        assert_eq!(out.warnings.len(), 1);
        assert_eq!(a.names(), vec!["alice@work".to_string()]);
        assert!(a.m.clock.tick(now + 4_000).ms < now + MAX_AHEAD_MS);
    }

    /// `docs/sync.md`, "Tombstones and size": version 1 keeps every removal for good (nothing
    /// prunes them), so a device back after more than 400 days merges like any other and its
    /// old replica brings back nothing removed meanwhile.
    #[test]
    fn removals_are_kept_for_good_and_a_device_back_after_400_days_resurrects_nothing() {
        const DAY: u64 = 24 * 60 * 60 * 1000;
        let t0 = 1_700_000_000_000;
        let mut folder = Folder::default();
        let mut a = Device::join(1, &mut folder, b"p").unwrap();
        let mut b = Device::join(2, &mut folder, b"p").unwrap();
        a.vault.push(("a1".into(), entry("alice"), 0));
        a.vault.push(("a2".into(), entry("bob"), 1));
        a.sync(&mut folder, t0);
        b.sync(&mut folder, t0 + 1_000);
        assert_eq!(b.names(), vec!["alice".to_string(), "bob".to_string()]);
        let b_name = replica_name(b.m.device);
        let stale = folder.0[&b_name].clone();
        // a removes alice; b goes away for 500 days.
        a.vault.retain(|(id, _, _)| id != "a1");
        a.sync(&mut folder, t0 + 2_000);
        let later = t0 + 500 * DAY;
        a.sync(&mut folder, later);
        assert!(
            a.m.state.records()["a1"].removed.is_some(),
            "the removal is kept"
        );
        // b's old replica (a sync tool's conflict copy) is merged: nothing comes back.
        folder.0.insert(
            format!("{} (conflicted copy).twofold-sync", b.m.device),
            stale,
        );
        let out = a.sync(&mut folder, later + 1_000);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(a.names(), vec!["bob".to_string()]);
        // b itself comes back and syncs: it takes the removal, and its replica resurrects
        // nothing for anyone.
        let out = b.sync(&mut folder, later + 2_000);
        assert_eq!(out.changed, 1);
        assert_eq!(b.names(), vec!["bob".to_string()]);
        a.sync(&mut folder, later + 3_000);
        assert_eq!(a.names(), vec!["bob".to_string()]);
    }

    /// What a device's sync returns, without applying it (to see errors).
    fn try_sync(d: &mut Device, folder: &mut Folder, now: u64) -> Result<Outcome, SyncError> {
        let out = sync(&mut d.m, &d.vault, &folder.files(), now, &SystemRng::new())?;
        d.vault = out
            .accounts
            .iter()
            .map(|v| (v.id.clone(), v.entry.clone(), v.order))
            .collect();
        folder.put(out.write.clone());
        Ok(out)
    }

    /// Three devices synced; `a` removes `c` and re-keys under `new`.
    fn three_and_a_removal(folder: &mut Folder, new: &[u8]) -> (Device, Device, Device) {
        let mut a = Device::join(1, folder, b"old pass").unwrap();
        let mut b = Device::join(2, folder, b"old pass").unwrap();
        let mut c = Device::join(3, folder, b"old pass").unwrap();
        a.vault.push(("a1".into(), entry("alice"), 0));
        a.sync(folder, 1_000);
        b.sync(folder, 2_000);
        c.sync(folder, 3_000);
        a.sync(folder, 5_000);
        assert_eq!(a.m.devices.len(), 2);
        let files = rekey(
            &mut a.m,
            c.m.device,
            new,
            KdfParams::MIN,
            6_000,
            &SystemRng::new(),
        )
        .unwrap();
        for f in files {
            folder.put(f);
        }
        a.sync(folder, 6_000);
        (a, b, c)
    }

    #[test]
    fn a_removed_device_reads_nothing_new_and_the_others_rejoin_losing_nothing() {
        let mut folder = Folder::default();
        let (mut a, mut b, mut c) = three_and_a_removal(&mut folder, b"new pass");
        assert_eq!(a.m.keys.len(), 1);
        assert_ne!(a.m.keys[0].0, b.m.keys[0].0, "a new key id");
        assert!(a.m.device_list().iter().all(|d| d.id != c.m.device));

        // b changed something meanwhile; its sync stops before writing anything.
        b.vault.push(("b1".into(), entry("bob"), 1));
        let before = folder.0.clone();
        assert_eq!(
            try_sync(&mut b, &mut folder, 7_000).err(),
            Some(SyncError::NewPassphrase)
        );
        assert_eq!(folder.0, before, "nothing written under the old key");
        // The old passphrase is not the new one.
        assert_eq!(
            rejoin(&mut b.m, &folder.files(), b"old pass").err(),
            Some(SyncError::NewPassphrase)
        );
        rejoin(&mut b.m, &folder.files(), b"new pass").unwrap();
        try_sync(&mut b, &mut folder, 8_000).unwrap();
        assert_eq!(b.m.keys.len(), 1);
        assert_eq!(
            b.m.keys[0].0, a.m.keys[0].0,
            "b writes under the new key only"
        );
        a.sync(&mut folder, 9_000);
        assert_eq!(a.names(), vec!["alice".to_string(), "bob".to_string()]);
        assert_eq!(b.names(), a.names());

        // c: removed, and nothing written after the re-key opens with what it holds, even
        // with the old passphrase.
        let before = folder.0.clone();
        assert!(matches!(
            try_sync(&mut c, &mut folder, 10_000),
            Err(SyncError::Removed { .. })
        ));
        assert_eq!(folder.0, before);
        let keys: Vec<(&str, &SyncKey)> = c.m.keys.iter().map(|(i, k)| (i.as_str(), k)).collect();
        for name in [replica_name(a.m.device), replica_name(b.m.device)] {
            assert_eq!(
                open_replica(&folder.0[&name], &keys).err(),
                Some(ReplicaError::UnknownKey)
            );
        }
        let new_key_file = format!("key-{}{SUFFIX}", a.m.keys[0].0);
        assert_eq!(
            open_key_file(&folder.0[&new_key_file], b"old pass").err(),
            Some(KeyFileError::WrongPassphrase)
        );
        // A newcomer with the old passphrase is told the set has a new one; with the new one
        // it joins the new key only.
        let mut d = Device::join(4, &mut folder, b"old pass").unwrap();
        assert_eq!(
            try_sync(&mut d, &mut folder, 11_000).err(),
            Some(SyncError::NewPassphrase)
        );
        let mut e = Device::join(5, &mut folder, b"new pass").unwrap();
        let out = try_sync(&mut e, &mut folder, 12_000).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(e.names(), a.names());
    }

    /// The removed device holds the old key and may still write to the folder: it replaces the
    /// notice with one of its own naming a key file it wrapped under the OLD passphrase, and
    /// deletes the old key file. A device that has not rejoined is asked for the new
    /// passphrase; the old one is refused (it would open the removed device's key), so the
    /// lure gains nothing but a denial.
    #[test]
    fn a_removed_device_cannot_lure_the_others_onto_a_key_under_the_old_passphrase() {
        let mut folder = Folder::default();
        let (_a, mut b, c) = three_and_a_removal(&mut folder, b"new pass");
        let rng = SystemRng::new();
        let (old_id, old_key) = c.m.keys[0].clone();
        let (fake_id, fake_key, fake_file) =
            create_key_file(b"old pass", KdfParams::MIN, &rng).unwrap();
        let notice = RekeyNotice {
            old_key_id: old_id.clone(),
            new_key_id: fake_id.clone(),
            key_check: key_check(&fake_id, &fake_key),
            removed: vec![],
            by: c.m.device,
            at: 7_000,
        };
        folder.put(TargetFile {
            name: notice_name(&old_id),
            bytes: seal_notice(&notice, &old_key, &rng).unwrap(),
        });
        folder.put(TargetFile {
            name: format!("key-{fake_id}{SUFFIX}"),
            bytes: fake_file,
        });
        folder.0.remove(&format!("key-{old_id}{SUFFIX}"));
        assert_eq!(
            try_sync(&mut b, &mut folder, 8_000).err(),
            Some(SyncError::NewPassphrase)
        );
        assert_eq!(
            rejoin(&mut b.m, &folder.files(), b"old pass").err(),
            Some(SyncError::NewPassphrase)
        );
        assert_eq!(b.m.keys.len(), 1);
        assert_eq!(b.m.keys[0].0, old_id, "no key taken");
        // The membership keeps the key file it joined with, through its JSON too.
        let back = Membership::from_json(&b.m.to_json()).unwrap();
        assert_eq!(back.key_files, b.m.key_files);
        assert!(back.key_files.contains_key(&old_id));
    }

    #[test]
    fn forged_or_altered_rekey_notices_are_refused() {
        let mut folder = Folder::default();
        let mut a = Device::join(1, &mut folder, b"old pass").unwrap();
        let mut b = Device::join(2, &mut folder, b"old pass").unwrap();
        a.sync(&mut folder, 1_000);
        b.sync(&mut folder, 2_000);
        a.sync(&mut folder, 3_000);
        let (old_id, old_key) = a.m.keys[0].clone();
        let rng = SystemRng::new();
        // A folder writer (no sync key) forges a notice claiming to retire the set's key, with
        // a key file of its own: sealed under a key of its making, it does not open.
        let (evil_id, evil_key, evil_file) =
            create_key_file(b"attacker", KdfParams::MIN, &rng).unwrap();
        let forged = RekeyNotice {
            old_key_id: old_id.clone(),
            new_key_id: evil_id.clone(),
            key_check: key_check(&evil_id, &evil_key),
            removed: vec![b.m.device],
            by: a.m.device,
            at: 4_000,
        };
        let forged_bytes = seal_notice(&forged, &SyncKey::from_bytes([7; 32]), &rng).unwrap();
        folder.put(TargetFile {
            name: format!("key-{evil_id}{SUFFIX}"),
            bytes: evil_file.clone(),
        });
        folder.put(TargetFile {
            name: notice_name(&old_id),
            bytes: forged_bytes,
        });
        let out = try_sync(&mut b, &mut folder, 5_000).unwrap();
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert_eq!(out.warnings[0].file, notice_name(&old_id));
        assert!(out.warnings[0].reason.contains("altered"));

        // A real notice, then altered: one byte of its content, or its header's key id.
        let real = RekeyNotice {
            old_key_id: old_id.clone(),
            new_key_id: evil_id.clone(),
            key_check: key_check(&evil_id, &evil_key),
            removed: vec![],
            by: a.m.device,
            at: 4_000,
        };
        let sealed = seal_notice(&real, &old_key, &rng).unwrap();
        let keys = [(old_id.as_str(), &old_key)];
        assert_eq!(open_notice(&sealed, &keys).unwrap(), real);
        // A Base64 character inside the ciphertext (all six bits count; not the last before
        // the padding, which carries bits a decoder ignores).
        let mut flipped = sealed.clone();
        let i = sealed.iter().position(|&b| b == b'\n').unwrap() + 10;
        flipped[i] = if flipped[i] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            open_notice(&flipped, &keys).err(),
            Some(ReplicaError::Altered)
        );
        let text = String::from_utf8(sealed.clone()).unwrap();
        let renamed = text.replace(&old_id, &"0".repeat(32));
        assert_eq!(
            open_notice(renamed.as_bytes(), &[("0".repeat(32).as_str(), &old_key)]).err(),
            Some(ReplicaError::Altered)
        );
        assert!(open_notice(&vec![b'{'; MAX_NOTICE_BYTES + 1], &keys).is_err());

        // A member's real notice, whose new key file a folder writer then replaced with its
        // own under the same key id: the user's new passphrase does not open it, and the
        // writer's passphrase opens a key the notice does not name. Refused either way.
        let (new_id, new_key, _) = create_key_file(b"new pass", KdfParams::MIN, &rng).unwrap();
        let notice = RekeyNotice {
            old_key_id: old_id.clone(),
            new_key_id: new_id.clone(),
            key_check: key_check(&new_id, &new_key),
            removed: vec![],
            by: a.m.device,
            at: 6_000,
        };
        folder.put(TargetFile {
            name: notice_name(&old_id),
            bytes: seal_notice(&notice, &old_key, &rng).unwrap(),
        });
        let swapped = String::from_utf8(evil_file)
            .unwrap()
            .replace(&evil_id, &new_id);
        folder.put(TargetFile {
            name: format!("key-{new_id}{SUFFIX}"),
            bytes: swapped.into_bytes(),
        });
        assert_eq!(
            try_sync(&mut b, &mut folder, 7_000).err(),
            Some(SyncError::NewPassphrase)
        );
        for pass in [&b"new pass"[..], b"attacker", b"old pass"] {
            assert_eq!(
                rejoin(&mut b.m, &folder.files(), pass).err(),
                Some(SyncError::NewPassphrase)
            );
        }
        assert_eq!(b.m.keys.len(), 1, "no key taken");
    }

    #[test]
    fn devices_are_listed_with_their_names_and_last_sync() {
        let mut folder = Folder::default();
        let mut a = Device::join(1, &mut folder, b"p").unwrap();
        let mut b = Device::join(2, &mut folder, b"p").unwrap();
        b.m.set_name("Bob's\u{1b}[31m phone  ");
        b.sync(&mut folder, 2_000_000);
        a.sync(&mut folder, 3_000_000);
        let list = a.m.device_list();
        assert_eq!(list.len(), 2);
        assert_eq!(
            (list[0].name.as_str(), list[0].last_sync, list[0].this),
            ("device 1", Some(3_000), true)
        );
        assert_eq!(
            (list[1].name.as_str(), list[1].last_sync, list[1].this),
            ("Bob's[31m phone", Some(2_000), false)
        );
        assert!(a.m.removable(b.m.device).is_ok());
        assert!(a.m.removable(a.m.device).is_err());
        assert!(a.m.removable(DeviceId::from_bytes([9; 16])).is_err());
        // The name is inside the sealed replica only.
        for bytes in folder.0.values() {
            assert!(!String::from_utf8_lossy(bytes).contains("Bob"));
        }
        let back = Membership::from_json(&a.m.to_json()).unwrap();
        assert_eq!(back.device_list(), list);
    }

    #[test]
    fn membership_round_trips_through_json() {
        let mut folder = Folder::default();
        let mut a = Device::join(1, &mut folder, b"p").unwrap();
        a.vault.push(("a1".into(), entry("alice"), 0));
        a.sync(&mut folder, 1_000);
        let back = Membership::from_json(&a.m.to_json()).unwrap();
        assert_eq!(back.state, a.m.state);
        assert_eq!(back.generation, 1);
        assert_eq!(back.keys[0].1.expose(), a.m.keys[0].1.expose());
        assert!(!format!("{back:?}").contains(&format!("{:?}", a.m.keys[0].1.expose())));
    }
}
