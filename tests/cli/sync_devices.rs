//! Devices of a sync set (`docs/sync.md`, "Devices" and "Removing a device"; `docs/cli.md`
//! "Sync"), three vaults against a folder and a real Apache WebDAV server: `--devices --json`
//! lists each device by the name it gave, none of which reaches the target in clear; A removes
//! C with a re-key; B's next sync exits 3 ("the sync set has a new passphrase") and writes
//! nothing until it is given the new passphrase, then keeps the change it made meanwhile; C's
//! next sync exits 1 saying it was removed, and C's old passphrase opens nothing written after
//! the re-key (checked on the files). A re-key of a 1,000-account set is timed and its bytes
//! counted.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Instant;

use serde_json::Value;
use twofold_core::sync::replica::{open_key_file, open_replica};
use twofold_core::sync::{ReplicaError, SyncKey};

use crate::sync::{
    Place, accounts, assert_nothing_in_clear, listing, ok, setup, sync_command, uri, vault,
    vault_of,
};
use crate::{stderr, stdout};

const NEW_PASSPHRASE: &str = "violet tundra bicycle 7391";

/// `twofold sync` naming the target, with `extra` options and the sync passphrase `pass`.
fn sync_with(place: &Place, v: &(PathBuf, String), pass: &str, extra: &[&str]) -> Output {
    let mut c = sync_command(place, v);
    c.args(extra).env("TWOFOLD_SYNC_PASSWORD", pass);
    c.output().unwrap()
}

fn devices(v: &(PathBuf, String)) -> Vec<Value> {
    let o = ok(crate::sync::run(
        &v.0,
        &v.1,
        None,
        &["sync", "--devices", "--json"],
    ));
    serde_json::from_str::<Value>(&stdout(&o))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn id_named(list: &[Value], name: &str) -> String {
    list.iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {list:?}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The key files in the target: (file, key id).
fn key_files(dir: &Path) -> Vec<(PathBuf, String)> {
    listing(dir)
        .into_iter()
        .filter_map(|(p, bytes)| twofold_core::sync::replica::key_file_id(&bytes).map(|id| (p, id)))
        .collect()
}

fn remove_device_with_rekey(webdav: bool) {
    let Some((root, place)) = setup("devices", webdav) else {
        return;
    };
    let names = ["Anna's laptop", "Bertil's phone", "Cecilia's tablet"];
    let vaults: Vec<_> = (0..3).map(|n| vault(&root, n)).collect();
    let (a, b, c) = (&vaults[0], &vaults[1], &vaults[2]);
    ok(crate::sync::run(&a.0, &a.1, None, &["add", &uri(1)]));
    for (v, name) in vaults.iter().zip(names) {
        ok(sync_with(
            &place,
            v,
            "sync passphrase",
            &["--device-name", name],
        ));
    }
    // A lists the set as of its last sync: one after the others named themselves.
    ok(sync_with(&place, a, "sync passphrase", &[]));

    // Every device listed by its name, this one first and marked.
    let list = devices(a);
    assert_eq!(list.len(), 3, "{list:?}");
    for d in &list {
        let keys: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, vec!["id", "last_sync", "name", "this"], "{d}");
        assert_eq!(d["id"].as_str().unwrap().len(), 32);
        assert!(d["last_sync"].as_u64().unwrap() > 1_700_000_000, "{d}");
    }
    assert_eq!(
        (&list[0]["name"], &list[0]["this"]),
        (&names[0].into(), &true.into())
    );
    let mut others: Vec<&str> = list[1..]
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    others.sort();
    assert_eq!(others, vec![names[1], names[2]]);
    assert!(list[1..].iter().all(|d| d["this"] == false));
    let c_id = id_named(&list, names[2]);
    assert_eq!(devices(c)[0]["id"], c_id.as_str());
    for name in names {
        for (p, bytes) in listing(place.dir()) {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(name.split('\'').next().unwrap()),
                "{} names {name} in clear",
                p.display()
            );
        }
    }
    let (_, old_key_id) = key_files(place.dir()).pop().unwrap();

    // A removes C: a new key under a new passphrase (a weak one is refused first).
    let mut weak = sync_command(&place, a);
    weak.args(["--remove-device", &c_id])
        .env("TWOFOLD_SYNC_NEW_PASSWORD", "password1");
    let o = weak.output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let mut remove = sync_command(&place, a);
    remove
        .args(["--remove-device", &c_id])
        .env("TWOFOLD_SYNC_NEW_PASSWORD", NEW_PASSPHRASE);
    let o = ok(remove.output().unwrap());
    let removal: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let new_key_id = removal["key_id"].as_str().unwrap().to_owned();
    assert_ne!(new_key_id, old_key_id);
    assert_eq!(removal["removed"], c_id.as_str());
    let listed = devices(a);
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().all(|d| d["id"] != c_id.as_str()));

    // B changed something meanwhile; its sync with the old passphrase exits 3 and writes
    // nothing (C still holds the old key).
    ok(crate::sync::run(&b.0, &b.1, None, &["add", &uri(2)]));
    let before = listing(place.dir());
    let o = sync_with(&place, b, "sync passphrase", &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the sync set has a new passphrase"),
        "{}",
        stderr(&o)
    );
    assert_eq!(listing(place.dir()), before, "B wrote under the old key");
    // With the new passphrase B joins the new key and keeps its change.
    ok(sync_with(&place, b, NEW_PASSPHRASE, &[]));
    let o = ok(sync_with(&place, b, "anything: not asked again", &[]));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    ok(sync_with(&place, a, "sync passphrase", &[]));
    let both = accounts(a);
    assert_eq!(both.len(), 2, "{both:?}");
    assert_eq!(accounts(b), both);
    assert_eq!(devices(b).len(), 2);

    // C: removed, exit 1, keeps its accounts, writes nothing.
    let c_before = accounts(c);
    let before = listing(place.dir());
    let o = sync_with(&place, c, "sync passphrase", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("removed"), "{}", stderr(&o));
    assert!(stderr(&o).contains(names[0]), "{}", stderr(&o));
    assert_eq!(accounts(c), c_before);
    assert_eq!(listing(place.dir()), before);

    // Nothing written after the re-key opens with what C knows: the old passphrase opens the
    // old key only, and neither A's nor B's replica is sealed under it.
    let keys = key_files(place.dir());
    let old_file = &keys.iter().find(|(_, id)| *id == old_key_id).unwrap().0;
    let new_file = &keys.iter().find(|(_, id)| *id == new_key_id).unwrap().0;
    let (_, old_key): (String, SyncKey) =
        open_key_file(&std::fs::read(old_file).unwrap(), b"sync passphrase").unwrap();
    assert!(open_key_file(&std::fs::read(new_file).unwrap(), b"sync passphrase").is_err());
    let members = [&list[0]["id"], &id_named(&list, names[1]).into()]
        .map(|id| format!("{}.twofold-sync", id.as_str().unwrap()));
    for name in &members {
        let bytes = std::fs::read(place.dir().join(name)).unwrap();
        assert_eq!(
            open_replica(&bytes, &[(old_key_id.as_str(), &old_key)]).err(),
            Some(ReplicaError::UnknownKey),
            "{name}"
        );
        // Even forced under the old key's id, it does not open.
        let text = String::from_utf8(bytes)
            .unwrap()
            .replace(&new_key_id, &old_key_id);
        assert!(open_replica(text.as_bytes(), &[(old_key_id.as_str(), &old_key)]).is_err());
    }
    assert_nothing_in_clear(place.dir());
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn removing_a_device_from_a_folder_set_rekeys_and_the_others_rejoin() {
    remove_device_with_rekey(false);
}

#[test]
fn removing_a_device_from_a_webdav_set_rekeys_and_the_others_rejoin() {
    remove_device_with_rekey(true);
}

/// Figure for `docs/sync.md`: removing a device from a set of 1,000 accounts (the sync first,
/// the new key's Argon2id at the minimum cost, the notice and the replica under the new key),
/// one whole `twofold` process, with the bytes it wrote to the target.
#[test]
fn measure_a_rekey_of_a_1000_account_set() {
    let Some((root, place)) = setup("rekey-1000", false) else {
        return;
    };
    let a = vault_of(&root, 0, 1000);
    let b = vault(&root, 1);
    ok(sync_with(&place, &a, "sync passphrase", &[]));
    ok(sync_with(&place, &b, "sync passphrase", &[]));
    ok(sync_with(&place, &a, "sync passphrase", &[]));
    let b_id = devices(&a)[1]["id"].as_str().unwrap().to_owned();
    let mut remove = sync_command(&place, &a);
    remove
        .args(["--remove-device", &b_id])
        .env("TWOFOLD_SYNC_NEW_PASSWORD", NEW_PASSPHRASE);
    let t = Instant::now();
    let o = ok(remove.output().unwrap());
    let took = t.elapsed();
    let removal: Value = serde_json::from_str(&stdout(&o)).unwrap();
    println!(
        "re-key of a 1,000-account set ({} build): {:.2} s for the whole process (a sync, then \
         the re-key), {} bytes written by the re-key",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        took.as_secs_f64(),
        removal["bytes_written"]
    );
    assert!(removal["bytes_written"].as_u64().unwrap() > 100_000);
    let _ = std::fs::remove_dir_all(&root);
}
