//! Recently removed (`docs/cli.md` "With a vault": `removed` and `restore`): three vaults sync
//! through a folder and a real WebDAV server; one member removes an account, the sync takes it
//! from the others, where `removed` names who did it; `restore` on one brings it back with its
//! secret, and the next syncs bring it back on every vault (the restore wins over the removal
//! it undoes).

use std::path::PathBuf;

use serde_json::Value;

use crate::sync::{accounts, ids, ok, run, setup, sync, uri, vault};
use crate::{assert_error, stdout};

fn removed(v: &(PathBuf, String)) -> Vec<Value> {
    let o = ok(run(&v.0, &v.1, None, &["removed", "--json"]));
    serde_json::from_str::<Value>(&stdout(&o))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn undone_and_synced_back(webdav: bool) {
    let Some((root, place)) = setup("restore", webdav) else {
        return;
    };
    let vaults: Vec<_> = (0..3).map(|n| vault(&root, n)).collect();
    let (a, b, c) = (&vaults[0], &vaults[1], &vaults[2]);
    for n in 1..=3 {
        ok(run(&a.0, &a.1, None, &["add", &uri(n)]));
    }
    for v in [a, b, c] {
        sync(&place, v);
    }
    let all = accounts(a);
    assert_eq!(all.len(), 3);
    assert_eq!(accounts(b), all);
    assert_eq!(accounts(c), all);
    assert!(removed(c).is_empty());

    // A member (b) removes one account; the sync takes it from a and c.
    let before: Value =
        serde_json::from_str(&stdout(&ok(run(&b.0, &b.1, None, &["list", "--json"])))).unwrap();
    let gone = before[1].clone();
    let id = gone["id"].as_str().unwrap().to_owned();
    ok(run(&b.0, &b.1, None, &["remove", &id]));
    sync(&place, b);
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for v in [a, c] {
        let report = sync(&place, v);
        assert_eq!(report["changed"], 1, "{report}");
        assert_eq!(accounts(v).len(), 2);
    }

    // Each lists it: by "this device" on b, by b's sync device id elsewhere.
    let on_b = removed(b);
    assert_eq!(on_b.len(), 1);
    assert_eq!(on_b[0]["by"], "this device");
    let on_c = removed(c);
    assert_eq!(on_c.len(), 1, "{on_c:?}");
    let r = &on_c[0];
    assert_eq!(r["id"], gone["id"]);
    assert_eq!(r["issuer"], gone["issuer"]);
    assert_eq!(r["name"], gone["name"]);
    let at = r["removed_at"].as_u64().unwrap();
    assert!(at >= start - 1 && at <= start + 600, "{r}");
    let by = r["by"].as_str().unwrap();
    assert!(
        by.len() == 32 && by.bytes().all(|b| b.is_ascii_hexdigit()),
        "{r}"
    );
    assert_eq!(removed(a)[0]["by"], by, "both name the same device");
    assert_eq!(
        r.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["by", "id", "issuer", "name", "removed_at"]
    );
    // The device id is b's: the one its replica is named by.
    assert!(
        std::fs::read_dir(place.dir()).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_str()
            .unwrap()
            .starts_with(by)),
        "no replica of {by}"
    );

    // c restores it, with its secret (the same code); a second restore, or an unknown id, fails.
    let o = ok(run(&c.0, &c.1, None, &["restore", &id]));
    assert!(
        stdout(&o).starts_with(&format!("restored {id} ")),
        "{}",
        stdout(&o)
    );
    assert_eq!(accounts(c), all);
    assert!(removed(c).is_empty());
    assert_error(&run(&c.0, &c.1, None, &["restore", &id]), 1);
    assert_error(&run(&c.0, &c.1, None, &["restore", "no-such-id"]), 1);

    // Synced back to all: the restore wins over b's removal, even on b, which removed it.
    sync(&place, c);
    for v in [a, b] {
        let report = sync(&place, v);
        assert_eq!(report["changed"], 1, "{report}");
    }
    for _ in 0..2 {
        for v in [a, b, c] {
            sync(&place, v);
        }
    }
    for v in [a, b, c] {
        assert_eq!(accounts(v), all);
        assert!(ids(v).contains(&id));
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_members_removal_is_undone_with_restore_and_synced_back() {
    undone_and_synced_back(false);
}

#[test]
fn a_members_removal_is_undone_with_restore_and_synced_back_through_webdav() {
    undone_and_synced_back(true);
}

#[test]
fn removed_lists_newest_first_and_restore_keeps_the_account_whole() {
    let root = crate::sync::dir("removed-local");
    let v = vault(&root, 0);
    ok(run(&v.0, &v.1, None, &["add", &uri(1)]));
    ok(run(
        &v.0,
        &v.1,
        None,
        &[
            "add",
            "otpauth://hotp/Bank:me?secret=JBSWY3DPEHPK3PXP&issuer=Bank&counter=5&algorithm=SHA256",
        ],
    ));
    let before: Value =
        serde_json::from_str(&stdout(&ok(run(&v.0, &v.1, None, &["list", "--json"])))).unwrap();
    let list = before.as_array().unwrap();
    for a in list {
        ok(run(
            &v.0,
            &v.1,
            None,
            &["remove", a["id"].as_str().unwrap()],
        ));
    }
    let text = stdout(&ok(run(&v.0, &v.1, None, &["removed"])));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines.iter().all(|l| l.ends_with(" by this device")),
        "{text}"
    );
    let listed = removed(&v);
    let at: Vec<u64> = listed
        .iter()
        .map(|r| r["removed_at"].as_u64().unwrap())
        .collect();
    assert!(at[0] >= at[1], "newest first: {at:?}");
    let hotp = list.iter().find(|a| a["type"] == "hotp").unwrap();
    ok(run(
        &v.0,
        &v.1,
        None,
        &["restore", hotp["id"].as_str().unwrap()],
    ));
    let after: Value =
        serde_json::from_str(&stdout(&ok(run(&v.0, &v.1, None, &["list", "--json"])))).unwrap();
    assert_eq!(after.as_array().unwrap(), std::slice::from_ref(hotp));
    assert_eq!(
        stdout(&ok(run(
            &v.0,
            &v.1,
            None,
            &["next", hotp["id"].as_str().unwrap()]
        )))
        .trim()
        .len(),
        6
    );
    assert_eq!(removed(&v).len(), 1);

    // `removed` only reads: it answers while another writer holds the vault's lock.
    let held = twofold_core::vault::file::lock(&v.0, std::time::Duration::from_secs(5)).unwrap();
    assert_eq!(removed(&v).len(), 1);
    drop(held);
    let _ = std::fs::remove_dir_all(&root);
}
