//! One sync, sans-IO (`docs/sync.md`, "A sync, step by step"): the front end lists the target
//! and hands over every `*.twofold-sync` file's name and bytes; this joins or creates the sync
//! set, records the device's local changes, merges every good replica, and returns the merged
//! accounts, this device's new replica to write, and a warning for every file it left out.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::hlc::{DeviceId, HlcClock};
use super::replica::{
    self, FileKind, KeyFileError, ReplicaError, SyncKey, create_key_file, open_key_file,
    open_replica, replica_header, seal_replica,
};
use super::state::{State, StateError, Visible};
use crate::AccountEntry;
use crate::rng::{Rng, RngError};
use crate::vault::KdfParams;

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

/// What a device keeps (in its vault) to take part in a sync set.
#[derive(Debug, Clone)]
pub struct Membership {
    /// The key file's id and the key every replica is sealed with; more than one when two
    /// devices created sync sets at once (replicas under each are read; the smallest id writes).
    pub keys: Vec<(String, SyncKey)>,
    /// This device.
    pub device: DeviceId,
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
    rng: &dyn Rng,
) -> Result<(Membership, Option<TargetFile>), SyncError> {
    if files.len() > MAX_FILES {
        return Err(SyncError::TooManyFiles);
    }
    let mut keys = Vec::new();
    let mut last_error = None;
    for f in files
        .iter()
        .filter(|f| replica::kind_of(&f.bytes) == FileKind::KeyFile)
    {
        match open_key_file(&f.bytes, passphrase) {
            Ok(k) => keys.push(k),
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
        device,
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
    let (write_id, write_key) = m.keys.first().cloned().ok_or(SyncError::Membership)?;
    m.state.record_local(local, &mut m.clock, now_ms);
    let keys: Vec<(&str, &SyncKey)> = m.keys.iter().map(|(i, k)| (i.as_str(), k)).collect();
    let mut warnings = Vec::new();
    let mut devices = std::collections::BTreeSet::new();
    let mut received = 0;
    let mut seen = m.seen.clone();
    for f in files {
        if is_temporary(&f.name) || replica::kind_of(&f.bytes) == FileKind::KeyFile {
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
            Ok((h, state)) => {
                if let Err(e) = m.state.merge_bounded(&state, now_ms) {
                    warnings.push(warn(e.to_string()));
                    continue;
                }
                received += 1;
                if h.device != m.device {
                    devices.insert(h.device);
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
    m.generation += 1;
    let bytes = seal_replica(&m.state, &write_id, &write_key, m.device, m.generation, rng)?;
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

#[derive(Serialize, Deserialize)]
struct MembershipDto {
    keys: Vec<(String, Zeroizing<String>)>,
    device: DeviceId,
    clock: HlcClock,
    state: Zeroizing<String>,
    generation: u64,
    seen: BTreeMap<DeviceId, u64>,
}

impl Membership {
    /// The membership as JSON for the vault (it holds the sync key and secrets).
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        let state = self.state.to_json();
        let dto = MembershipDto {
            keys: self
                .keys
                .iter()
                .map(|(id, k)| (id.clone(), Zeroizing::new(B64.encode(k.expose()))))
                .collect(),
            device: self.device,
            clock: self.clock,
            state: Zeroizing::new(String::from_utf8_lossy(&state).into_owned()),
            generation: self.generation,
            seen: self.seen.clone(),
        };
        Zeroizing::new(serde_json::to_vec(&dto).unwrap_or_default())
    }

    /// Reads what [`Membership::to_json`] wrote.
    pub fn from_json(bytes: &[u8]) -> Result<Membership, SyncError> {
        let dto: MembershipDto =
            serde_json::from_slice(bytes).map_err(|_| SyncError::Membership)?;
        let mut keys = Vec::new();
        for (id, k) in dto.keys {
            let raw = crate::crypto::base64(&k).ok_or(SyncError::Membership)?;
            let key: [u8; 32] = raw[..].try_into().map_err(|_| SyncError::Membership)?;
            keys.push((id, SyncKey::from_bytes(key)));
        }
        if keys.is_empty() {
            return Err(SyncError::Membership);
        }
        Ok(Membership {
            keys,
            device: dto.device,
            clock: dto.clock,
            state: State::from_json(dto.state.as_bytes())?,
            generation: dto.generation,
            seen: dto.seen,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SystemRng;
    use crate::sync::MAX_AHEAD_MS;
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
        let bytes = seal_replica(&forged, &id, &key, mallory, 1, &SystemRng::new()).unwrap();
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
