//! One sync, the re-key that removes a device and the membership's JSON, over a folder held
//! in memory (`sync::session`, `sync::rekey`, `sync::membership`).

use std::collections::BTreeMap;

use super::hlc::{DeviceId, MAX_AHEAD_MS};
use super::replica::{
    KeyFileError, MAX_NOTICE_BYTES, RekeyNotice, ReplicaError, SyncKey, Writer, create_key_file,
    key_check, notice_name, open_key_file, open_notice, open_replica, seal_notice, seal_replica,
};
use super::session::{
    Membership, Outcome, SUFFIX, SyncError, TargetFile, join, rejoin, rekey, replica_name, sync,
};
use super::state::State;
use crate::AccountEntry;
use crate::rng::SystemRng;
use crate::vault::KdfParams;
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
    let bytes = seal_replica(&forged, &writer, &id, &key, mallory, 1, &SystemRng::new()).unwrap();
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
