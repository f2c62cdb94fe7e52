//! Sync you can trust (`docs/sync.md`, `docs/cli.md` "Sync": "Time", "Bounded", "Passphrase"),
//! each test against a folder and a real Apache WebDAV server where the target matters: a
//! member's replica forged with far-future stamps is named and never merged, and a local change
//! made afterwards sticks; junk replicas past the memory budget are skipped by name; a weak
//! sync passphrase is refused at set-up.

use serde_json::Value;
use twofold_core::rng::SystemRng;
use twofold_core::sync::replica::{open_key_file, seal_replica};
use twofold_core::sync::session::replica_name;
use twofold_core::sync::{DeviceId, Hlc, State};
use twofold_core::{AccountEntry, uri as otpauth};

use crate::stderr;
use crate::sync::{Place, accounts, ids, ok, run, sync, sync_command, two_vaults_one_synced};

/// A member who knows the passphrase writes a replica as `mallory` replacing every account
/// `ids` with `secret`, stamped (2^64-1 ms, 2^32-1): what would freeze those accounts for good.
fn forge_far_future(place: &Place, ids: &[String], secret: &str) -> String {
    let key_file = std::fs::read_dir(place.dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with("key-"))
        .unwrap();
    let (key_id, key) =
        open_key_file(&std::fs::read(key_file).unwrap(), b"sync passphrase").unwrap();
    let mallory = DeviceId::from_bytes([0x66; 16]);
    let mut state = State::new();
    for (n, id) in ids.iter().enumerate() {
        let account = otpauth::parse(&format!(
            "otpauth://totp/Mallory:victim{n}?secret={secret}&issuer=Mallory"
        ))
        .unwrap();
        let stamp = Hlc {
            ms: u64::MAX,
            counter: u32::MAX,
            device: mallory,
        };
        state.upsert(id, AccountEntry::new(account), n as u32, stamp);
    }
    let bytes = seal_replica(&state, &key_id, &key, mallory, 1, &SystemRng::new()).unwrap();
    let name = replica_name(mallory);
    std::fs::write(place.dir().join(&name), bytes).unwrap();
    name
}

fn far_future_replica(webdav: bool) {
    let Some((root, place, a, b)) = two_vaults_one_synced("future", webdav) else {
        return;
    };
    sync(&place, &b);
    let before = accounts(&b);
    assert_eq!(before.len(), 1);
    let forged = forge_far_future(&place, &ids(&b), "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");

    // Named in a warning, nothing of it merged, exit 0.
    let o = ok(sync_command(&place, &b).output().unwrap());
    let warnings: Vec<String> = stderr(&o)
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .map(str::to_owned)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(&forged) && warnings[0].contains("ahead"),
        "{warnings:?}"
    );
    let report: Value = serde_json::from_str(&crate::stdout(&o)).unwrap();
    assert_eq!(report["changed"], 0, "{report}");
    assert_eq!(accounts(&b), before);

    // A local change made afterwards sticks, here and on the other device.
    let id = ids(&b)[0].clone();
    ok(run(&b.0, &b.1, None, &["remove", &id]));
    ok(run(&b.0, &b.1, None, &["add", &crate::sync::uri(7)]));
    sync(&place, &b);
    sync(&place, &a);
    sync(&place, &b);
    let after = accounts(&b);
    assert_eq!(after.len(), 1);
    assert!(after[0].0.contains("Issuer7"), "{after:?}");
    assert_eq!(accounts(&a), after);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_far_future_replica_in_a_folder_is_named_and_a_later_change_sticks() {
    far_future_replica(false);
}

#[test]
fn a_far_future_replica_through_webdav_is_named_and_a_later_change_sticks() {
    far_future_replica(true);
}
