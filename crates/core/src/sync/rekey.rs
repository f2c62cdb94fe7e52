//! Removing a device from the sync set (`docs/sync.md`, "Removing a device"): the re-key that
//! removes it, the re-key notices a sync follows, and the rejoin with the set's new passphrase.

use super::hlc::DeviceId;
use super::membership::Membership;
use super::replica;
use super::replica::{
    FileKind, KeyFileError, RekeyNotice, ReplicaError, SyncKey, create_key_file, key_check,
    key_file_id, notice_name, open_key_file, open_notice, seal_notice,
};
use super::session::{MAX_FILES, SUFFIX, SyncError, TargetFile, Warning, is_temporary};
use crate::rng::Rng;
use crate::vault::KdfParams;

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
pub(super) fn follow_rekeys(
    m: &mut Membership,
    files: &[TargetFile],
) -> Result<Vec<Warning>, SyncError> {
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
/// one the notice commits to. The next [`sync`](super::sync) then retires the old key. A
/// passphrase that does not open it is [`SyncError::NewPassphrase`] (nothing changes); so is a
/// target with no re-key for this device.
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
/// the new key only (its next replica is the caller's: a [`sync`](super::sync) with the files
/// written here). Returns the files to write, the key file first.
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
