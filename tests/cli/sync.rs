//! `twofold sync --folder` (`docs/cli.md` "Sync", `docs/sync.md`): three vaults with different
//! passwords converge through one folder in any order; a wrong passphrase exits 3 and changes
//! nothing; a conflict copy of an older replica resurrects nothing; a damaged replica is named
//! in a warning and loses nothing; the folder never holds a secret or a label in clear.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::{assert_error, stderr, stdout};

const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("twofold-sync-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(vault: &Path, password: &str, sync_pass: Option<&str>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_twofold"));
    c.arg("--vault").arg(vault).args(args);
    c.env_remove("TWOFOLD_VAULT")
        .env("TWOFOLD_PASSWORD", password)
        .stdin(Stdio::null());
    match sync_pass {
        Some(p) => c.env("TWOFOLD_SYNC_PASSWORD", p),
        None => c.env_remove("TWOFOLD_SYNC_PASSWORD"),
    };
    c.output().unwrap()
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", stderr(&o));
    o
}

fn vault(root: &Path, n: usize) -> (PathBuf, String) {
    let v = root.join(format!("vault{n}.json"));
    let pw = format!("password {n}");
    ok(run(&v, &pw, None, &["init", "--kdf", "minimum"]));
    (v, pw)
}

fn sync(folder: &Path, v: &(PathBuf, String)) -> Value {
    let o = ok(run(
        &v.0,
        &v.1,
        Some("sync passphrase"),
        &[
            "sync",
            "--folder",
            folder.to_str().unwrap(),
            "--kdf",
            "minimum",
            "--json",
        ],
    ));
    serde_json::from_str(&stdout(&o)).unwrap()
}

/// `(issuer, name, code)` of every account, sorted.
fn accounts(v: &(PathBuf, String)) -> Vec<(String, String, String)> {
    let o = ok(run(
        &v.0,
        &v.1,
        None,
        &["code", "--at", "1000000000", "--json"],
    ));
    let list: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let mut out: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["issuer"].as_str().unwrap().to_owned(),
                a["name"].as_str().unwrap().to_owned(),
                a["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn ids(v: &(PathBuf, String)) -> Vec<String> {
    let o = ok(run(&v.0, &v.1, None, &["list", "--json"]));
    let list: Value = serde_json::from_str(&stdout(&o)).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

fn uri(n: u64) -> String {
    format!("otpauth://totp/Issuer{n}:user{n}?secret={SECRET}&issuer=Issuer{n}&digits=8")
}

fn assert_nothing_in_clear(folder: &Path) {
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(name.ends_with(".twofold-sync"), "{name}");
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        for needle in [SECRET, "Issuer", "user", "sync passphrase", "password"] {
            assert!(!text.contains(needle), "{name} holds {needle:?} in clear");
        }
    }
}

#[test]
fn three_vaults_converge_through_one_folder_in_any_order() {
    let root = dir("converge");
    let folder = root.join("Sync");
    std::fs::create_dir_all(&folder).unwrap();
    let vaults: Vec<_> = (0..3).map(|n| vault(&root, n)).collect();
    // A fixed pseudo-random history: adds, removals and syncs in a scrambled order.
    let mut seed: u64 = 0x2f0f_1d5e;
    let mut next = |m: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % m
    };
    let mut added = 0;
    for _ in 0..24 {
        let v = &vaults[next(3) as usize];
        match next(4) {
            0 | 1 => {
                added += 1;
                ok(run(&v.0, &v.1, None, &["add", &uri(added)]));
            }
            2 => {
                if let Some(id) = ids(v).first() {
                    ok(run(&v.0, &v.1, None, &["remove", id]));
                }
            }
            _ => {
                sync(&folder, v);
            }
        }
    }
    // Two rounds in which every device syncs once bring everyone to the same accounts.
    for _ in 0..2 {
        for v in &vaults {
            sync(&folder, v);
        }
    }
    let first = accounts(&vaults[0]);
    assert!(!first.is_empty());
    assert_eq!(accounts(&vaults[1]), first);
    assert_eq!(accounts(&vaults[2]), first);
    let report = sync(&folder, &vaults[0]);
    assert_eq!(report["devices"], 2);
    assert_eq!(report["changed"], 0);
    assert_eq!(report["sent"], true);
    assert_nothing_in_clear(&folder);
    let _ = std::fs::remove_dir_all(&root);
}

/// Two vaults beside a sync folder; the first has one account and has synced once.
fn two_vaults_one_synced(name: &str) -> (PathBuf, PathBuf, (PathBuf, String), (PathBuf, String)) {
    let root = dir(name);
    let folder = root.join("Sync");
    std::fs::create_dir_all(&folder).unwrap();
    let a = vault(&root, 0);
    let b = vault(&root, 1);
    ok(run(&a.0, &a.1, None, &["add", &uri(1)]));
    sync(&folder, &a);
    (root, folder, a, b)
}

/// The folder's files, sorted.
fn listing(folder: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn wrong_passphrase_exits_3_and_changes_nothing() {
    let (root, folder, _a, b) = two_vaults_one_synced("wrong");
    let vault_before = std::fs::read(&b.0).unwrap();
    let files_before = listing(&folder);
    let o = run(
        &b.0,
        &b.1,
        Some("not the passphrase"),
        &["sync", "--folder", folder.to_str().unwrap()],
    );
    let line = assert_error(&o, 3);
    assert!(line.contains("passphrase"), "{line}");
    assert_eq!(std::fs::read(&b.0).unwrap(), vault_before);
    assert_eq!(listing(&folder), files_before);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn conflict_copies_resurrect_nothing_and_damage_loses_nothing() {
    let (root, folder, a, b) = two_vaults_one_synced("conflict");
    let replica_of = |dir: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_str().unwrap();
                !n.starts_with("key-")
            })
            .collect()
    };
    let a_replica = replica_of(&folder).pop().unwrap();
    let old = std::fs::read(&a_replica).unwrap();
    let id = ids(&a)[0].clone();
    ok(run(&a.0, &a.1, None, &["remove", &id]));
    sync(&folder, &a);
    sync(&folder, &b);
    assert!(accounts(&b).is_empty());

    // A sync tool's conflict copy of the older replica: merged silently, resurrects nothing.
    let stem = a_replica.file_stem().unwrap().to_str().unwrap().to_owned();
    std::fs::write(
        folder.join(format!("{stem} (conflicted copy).twofold-sync")),
        &old,
    )
    .unwrap();
    let o = ok(run(&b.0, &b.1, None, &["sync", "--json"]));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    assert!(accounts(&b).is_empty());

    // One byte of b's replica changed: a's sync names it, exits 0, and keeps what it has.
    ok(run(&a.0, &a.1, None, &["add", &uri(2)]));
    let before = accounts(&a);
    let b_replica = replica_of(&folder)
        .into_iter()
        .find(|p| p != &a_replica && !p.to_str().unwrap().contains("conflicted"))
        .unwrap();
    let mut bytes = std::fs::read(&b_replica).unwrap();
    let i = bytes.len() - 7;
    bytes[i] ^= 0x01;
    std::fs::write(&b_replica, &bytes).unwrap();
    let o = ok(run(&a.0, &a.1, None, &["sync"]));
    let err = stderr(&o);
    assert!(
        err.lines().any(|l| l.starts_with("warning:")
            && l.contains(b_replica.file_name().unwrap().to_str().unwrap())),
        "{err}"
    );
    assert_eq!(accounts(&a), before);
    assert_nothing_in_clear(&folder);
    let _ = std::fs::remove_dir_all(&root);
}
