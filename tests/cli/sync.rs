//! `twofold sync --folder` and `twofold sync --webdav` (`docs/cli.md` "Sync", `docs/sync.md`),
//! each test run against both targets: a folder, and a real Apache WebDAV server
//! (`webdav.rs`) whose served folder the test reads and alters directly. Three vaults with
//! different passwords converge in any order; a wrong passphrase exits 3 and changes nothing; a
//! conflict copy of an older replica resurrects nothing; a damaged replica is named in a warning
//! and loses nothing; kill -9 during a sync leaves the vault and the replicas readable; the
//! target never holds a secret or a label in clear. WebDAV adds: a refused login exits 3 and
//! changes nothing, the login is kept in the vault, and a conditional PUT that meets another
//! writer is a 412 conflict that writes nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::webdav::{Apache, DAV_PASSWORD, DAV_USER, apache};
use crate::{assert_error, stderr, stdout};

pub(crate) const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

pub(crate) fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("twofold-sync-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Where the vaults sync: a folder, or a WebDAV server (kept running while this lives).
pub(crate) enum Place {
    Folder(PathBuf),
    WebDav(Apache),
}

impl Place {
    /// The local folder holding the target's files (Apache's served folder for WebDAV).
    pub(crate) fn dir(&self) -> &Path {
        match self {
            Place::Folder(d) => d,
            Place::WebDav(a) => &a.dir,
        }
    }

    /// The `sync` options naming this target.
    pub(crate) fn args(&self) -> Vec<String> {
        match self {
            Place::Folder(d) => vec!["--folder".into(), d.to_str().unwrap().into()],
            Place::WebDav(a) => vec![
                "--webdav".into(),
                a.url.clone(),
                "--webdav-user".into(),
                DAV_USER.into(),
            ],
        }
    }
}

/// A fresh root folder and the target; `None` (after a printed `SKIPPED:`) when this target
/// cannot run here.
pub(crate) fn setup(name: &str, webdav: bool) -> Option<(PathBuf, Place)> {
    let kind = if webdav { "webdav" } else { "folder" };
    let root = dir(&format!("{name}-{kind}"));
    let place = if webdav {
        Place::WebDav(apache(name)?)
    } else {
        let folder = root.join("Sync");
        std::fs::create_dir_all(&folder).unwrap();
        Place::Folder(folder)
    };
    Some((root, place))
}

pub(crate) fn command(
    vault: &Path,
    password: &str,
    sync_pass: Option<&str>,
    args: &[&str],
) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_twofold"));
    c.arg("--vault").arg(vault).args(args);
    c.env_remove("TWOFOLD_VAULT")
        .env_remove("TWOFOLD_WEBDAV_PASSWORD")
        .env("TWOFOLD_PASSWORD", password)
        .stdin(Stdio::null());
    match sync_pass {
        Some(p) => c.env("TWOFOLD_SYNC_PASSWORD", p),
        None => c.env_remove("TWOFOLD_SYNC_PASSWORD"),
    };
    c
}

pub(crate) fn run(vault: &Path, password: &str, sync_pass: Option<&str>, args: &[&str]) -> Output {
    command(vault, password, sync_pass, args).output().unwrap()
}

pub(crate) fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", stderr(&o));
    o
}

pub(crate) fn vault(root: &Path, n: usize) -> (PathBuf, String) {
    let v = root.join(format!("vault{n}.json"));
    let pw = format!("password {n}");
    ok(run(&v, &pw, None, &["init", "--kdf", "minimum"]));
    (v, pw)
}

/// `twofold sync` naming the target (with the WebDAV password in the environment).
pub(crate) fn sync_command(place: &Place, v: &(PathBuf, String)) -> Command {
    let mut args = vec!["sync".to_owned()];
    args.extend(place.args());
    args.extend(["--kdf", "minimum", "--json"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut c = command(&v.0, &v.1, Some("sync passphrase"), &args);
    c.env("TWOFOLD_WEBDAV_PASSWORD", DAV_PASSWORD);
    c
}

pub(crate) fn sync(place: &Place, v: &(PathBuf, String)) -> Value {
    let o = ok(sync_command(place, v).output().unwrap());
    serde_json::from_str(&stdout(&o)).unwrap()
}

/// `(issuer, name, code)` of every account, sorted.
pub(crate) fn accounts(v: &(PathBuf, String)) -> Vec<(String, String, String)> {
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

pub(crate) fn ids(v: &(PathBuf, String)) -> Vec<String> {
    let o = ok(run(&v.0, &v.1, None, &["list", "--json"]));
    let list: Value = serde_json::from_str(&stdout(&o)).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

pub(crate) fn uri(n: u64) -> String {
    format!("otpauth://totp/Issuer{n}:user{n}?secret={SECRET}&issuer=Issuer{n}&digits=8")
}

/// Only `*.twofold-sync` files (no temporary leftovers), none holding a secret, a label, a
/// passphrase or a password in clear.
pub(crate) fn assert_nothing_in_clear(folder: &Path) {
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(name.ends_with(".twofold-sync"), "{name}");
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        // Labels are `Issuer<n>:user<n>`; the needles are long enough not to turn up in a
        // large replica's Base64 by chance.
        for needle in [
            SECRET,
            "Issuer",
            "user1",
            "passphrase",
            "password",
            DAV_PASSWORD,
        ] {
            assert!(!text.contains(needle), "{name} holds {needle:?} in clear");
        }
    }
}

fn three_vaults_converge(webdav: bool) {
    let Some((root, place)) = setup("converge", webdav) else {
        return;
    };
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
                sync(&place, v);
            }
        }
    }
    // Two rounds in which every device syncs once bring everyone to the same accounts.
    for _ in 0..2 {
        for v in &vaults {
            sync(&place, v);
        }
    }
    let first = accounts(&vaults[0]);
    assert!(!first.is_empty());
    assert_eq!(accounts(&vaults[1]), first);
    assert_eq!(accounts(&vaults[2]), first);
    let report = sync(&place, &vaults[0]);
    assert_eq!(report["devices"], 2);
    assert_eq!(report["changed"], 0);
    assert_eq!(report["sent"], true);
    if let Place::WebDav(a) = &place {
        assert_eq!(report["target"], format!("webdav:{}/", a.url));
    }
    assert_nothing_in_clear(place.dir());
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn three_vaults_converge_through_one_folder_in_any_order() {
    three_vaults_converge(false);
}

#[test]
fn three_vaults_converge_through_webdav_in_any_order() {
    three_vaults_converge(true);
}

pub(crate) type Vaults = (PathBuf, Place, (PathBuf, String), (PathBuf, String));

/// Two vaults beside a sync target; the first has one account and has synced once.
pub(crate) fn two_vaults_one_synced(name: &str, webdav: bool) -> Option<Vaults> {
    let (root, place) = setup(name, webdav)?;
    let a = vault(&root, 0);
    let b = vault(&root, 1);
    ok(run(&a.0, &a.1, None, &["add", &uri(1)]));
    sync(&place, &a);
    Some((root, place, a, b))
}

/// The folder's files, sorted, with their contents.
pub(crate) fn listing(folder: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

fn wrong_passphrase(webdav: bool) {
    let Some((root, place, _a, b)) = two_vaults_one_synced("wrong", webdav) else {
        return;
    };
    let vault_before = std::fs::read(&b.0).unwrap();
    let files_before = listing(place.dir());
    let mut c = sync_command(&place, &b);
    c.env("TWOFOLD_SYNC_PASSWORD", "not the passphrase");
    let o = c.output().unwrap();
    let line = assert_error(&o, 3);
    assert!(line.contains("passphrase"), "{line}");
    assert_eq!(std::fs::read(&b.0).unwrap(), vault_before);
    assert_eq!(listing(place.dir()), files_before);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn wrong_passphrase_exits_3_and_changes_nothing() {
    wrong_passphrase(false);
}

#[test]
fn wrong_passphrase_through_webdav_exits_3_and_changes_nothing() {
    wrong_passphrase(true);
}

fn conflict_copies_and_damage(webdav: bool) {
    let Some((root, place, a, b)) = two_vaults_one_synced("conflict", webdav) else {
        return;
    };
    let folder = place.dir().to_owned();
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
    sync(&place, &a);
    sync(&place, &b);
    assert!(accounts(&b).is_empty());

    // A sync tool's conflict copy of the older replica: merged silently, resurrects nothing.
    // (`twofold sync` alone: the stored target, and for WebDAV the login kept in the vault.)
    let stem = a_replica.file_stem().unwrap().to_str().unwrap().to_owned();
    std::fs::write(
        folder.join(format!("{stem} (conflicted copy).twofold-sync")),
        &old,
    )
    .unwrap();
    let o = ok(run(&b.0, &b.1, None, &["sync", "--json"]));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    let report: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["received"], 2, "{report}");
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

#[test]
fn conflict_copies_resurrect_nothing_and_damage_loses_nothing() {
    conflict_copies_and_damage(false);
}

#[test]
fn webdav_conflict_copies_resurrect_nothing_and_damage_loses_nothing() {
    conflict_copies_and_damage(true);
}

/// A vault of `n` accounts, imported from an `otpauth://` list.
pub(crate) fn vault_of(root: &Path, i: usize, n: u64) -> (PathBuf, String) {
    let v = vault(root, i);
    let list: String = (1..=n).map(|k| uri(k) + "\n").collect();
    let file = root.join(format!("accounts{i}.txt"));
    std::fs::write(&file, list).unwrap();
    ok(run(
        &v.0,
        &v.1,
        None,
        &["import", file.to_str().unwrap(), "--format", "otpauth-list"],
    ));
    v
}

fn timed_sync(place: &Place, v: &(PathBuf, String)) -> (Value, f64) {
    let t = Instant::now();
    let report = sync(place, v);
    (report, t.elapsed().as_secs_f64() * 1000.0)
}

fn kill_during_sync(webdav: bool) {
    let Some((root, place)) = setup("kill", webdav) else {
        return;
    };
    let kind = if webdav { "WebDAV" } else { "folder" };
    // 1,000 accounts, so that a sync has something to do while it is killed.
    let a = vault_of(&root, 0, 1000);
    let b = vault(&root, 1);
    let (_, create) = timed_sync(&place, &a);
    let (joined, join) = timed_sync(&place, &b);
    assert_eq!(joined["changed"], 1000);
    // A sync that changes nothing (both replicas read and merged, A's written): the best of
    // three, the machine being shared.
    let steady = (0..3)
        .map(|_| timed_sync(&place, &a).1)
        .fold(f64::INFINITY, f64::min);
    let replica = listing(place.dir())
        .into_iter()
        .filter(|(p, _)| !p.file_name().unwrap().to_str().unwrap().starts_with("key-"))
        .map(|(_, b)| b.len())
        .max()
        .unwrap();
    println!(
        "{kind} sync of 1,000 accounts (whole `twofold sync` process): creating the set \
         {create:.0} ms, joining {join:.0} ms, a sync that changes nothing {steady:.0} ms (best of 3); \
         replica {replica} bytes"
    );

    // Killed at moments spread over a whole sync, its write included (each after a change,
    // so there is something to write): the vault and every replica stay readable.
    let mut added = 1000;
    for percent in [0u64, 20, 40, 55, 70, 80, 90, 100] {
        let delay_ms = (steady as u64) * percent / 100;
        added += 1;
        ok(run(&a.0, &a.1, None, &["add", &uri(added)]));
        let mut child = sync_command(&place, &a)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        // SIGKILL to exactly this PID.
        let _ = child.kill();
        let _ = child.wait();
        // The vault opens with everything it had (and the change).
        assert_eq!(ids(&a).len() as u64, added, "after a kill at {delay_ms} ms");
        // Every replica reads: the other device merges them without a warning.
        let o = ok(sync_command(&place, &b).output().unwrap());
        assert!(
            !stderr(&o).contains("warning"),
            "after a kill at {delay_ms} ms: {}",
            stderr(&o)
        );
    }
    // And the next syncs complete the picture.
    sync(&place, &a);
    sync(&place, &b);
    assert_eq!(accounts(&a), accounts(&b));
    assert_eq!(accounts(&b).len() as u64, added);
    assert_nothing_in_clear(place.dir());
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn kill_9_during_a_folder_sync_leaves_vault_and_replicas_readable() {
    kill_during_sync(false);
}

#[test]
fn kill_9_during_a_webdav_sync_leaves_vault_and_replicas_readable() {
    kill_during_sync(true);
}

#[test]
fn a_refused_webdav_login_exits_3_and_changes_nothing() {
    let Some((root, place, a, b)) = two_vaults_one_synced("login", true) else {
        return;
    };
    let vault_before = std::fs::read(&b.0).unwrap();
    let files_before = listing(place.dir());
    let mut c = sync_command(&place, &b);
    c.env("TWOFOLD_WEBDAV_PASSWORD", "WRONG-WEBDAV-PASSWORD");
    let o = c.output().unwrap();
    let line = assert_error(&o, 3);
    assert!(line.contains("WebDAV") && line.contains("login"), "{line}");
    assert!(
        !stderr(&o).contains("WRONG-WEBDAV-PASSWORD"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&b.0).unwrap(), vault_before);
    assert_eq!(listing(place.dir()), files_before);

    // No password at all, no terminal: a clear error, never a hang.
    let o = run(
        &b.0,
        &b.1,
        Some("sync passphrase"),
        &[
            "sync",
            "--webdav",
            &place.args()[1],
            "--webdav-user",
            DAV_USER,
        ],
    );
    let line = assert_error(&o, 1);
    assert!(line.contains("TWOFOLD_WEBDAV_PASSWORD"), "{line}");

    // The login that worked is kept (encrypted) in a's vault: a later sync needs nothing, and
    // the vault file does not hold it in clear.
    ok(run(&a.0, &a.1, None, &["sync"]));
    let file = String::from_utf8_lossy(&std::fs::read(&a.0).unwrap()).into_owned();
    assert!(!file.contains(DAV_PASSWORD));
    // A refused address: plain HTTP to another host, credentials in it.
    for bad in [
        "http://dav.example.com/sync",
        "https://alice:secret-in-url@dav.example.com/sync",
    ] {
        let o = run(
            &b.0,
            &b.1,
            Some("sync passphrase"),
            &["sync", "--webdav", bad],
        );
        let line = assert_error(&o, 1);
        assert!(!line.contains("secret-in-url"), "{line}");
    }
    assert_eq!(std::fs::read(&b.0).unwrap(), vault_before);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_conditional_put_that_meets_another_writer_is_a_412_conflict() {
    use twofold_core::rng::SystemRng;
    use twofold_core::sync::{DeviceId, TargetFile};
    use twofold_sync::{Target, TargetError, WebDavTarget};
    use zeroize::Zeroizing;

    let Some(server) = apache("412") else {
        return;
    };
    let rng = SystemRng::new();
    let device = DeviceId::random(&rng).unwrap();
    let target = Target::WebDav(WebDavTarget::new(&server.url, Some(DAV_USER.into())).unwrap());
    let open = || twofold_sync::open(&target, Some(Zeroizing::new(DAV_PASSWORD.into()))).unwrap();
    let file = |name: &str, bytes: &[u8]| TargetFile {
        name: name.into(),
        bytes: bytes.to_vec(),
    };
    let path = server.dir.join("mine.twofold-sync");
    let set_mtime = |secs_from_now: i64| {
        let t = if secs_from_now >= 0 {
            std::time::SystemTime::now() + Duration::from_secs(secs_from_now as u64)
        } else {
            std::time::SystemTime::now() - Duration::from_secs((-secs_from_now) as u64)
        };
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(t)
            .unwrap();
    };

    // A first write: If-None-Match: *, so a file that appeared since the listing is kept.
    let mut store = open();
    assert!(store.list().unwrap().files.is_empty());
    std::fs::write(&path, b"another writer's").unwrap();
    let err = store
        .put(&file("mine.twofold-sync", b"mine"), device, &rng)
        .unwrap_err();
    assert!(
        matches!(&err, TargetError::Conflict { name } if name == "mine.twofold-sync"),
        "{err:?}"
    );
    assert!(err.to_string().contains("412"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"another writer's");

    // A strong ETag (the file is older than a second): If-Match; another writer's change in
    // between is a 412 and nothing is written.
    set_mtime(-10);
    let mut store = open();
    assert_eq!(store.list().unwrap().files.len(), 1);
    std::fs::write(&path, b"changed meanwhile").unwrap();
    let err = store
        .put(&file("mine.twofold-sync", b"mine"), device, &rng)
        .unwrap_err();
    assert!(matches!(err, TargetError::Conflict { .. }), "{err:?}");
    assert_eq!(std::fs::read(&path).unwrap(), b"changed meanwhile");
    // Unchanged since the listing: written.
    set_mtime(-10);
    let mut store = open();
    store.list().unwrap();
    store
        .put(&file("mine.twofold-sync", b"mine 1"), device, &rng)
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"mine 1");

    // Only a weak ETag (Apache's for a file changed in the last second): the PUT waits until
    // an unchanged file's ETag is strong, then sends If-Match with it.
    set_mtime(0);
    let mut store = open();
    store.list().unwrap();
    std::fs::write(&path, b"changed later").unwrap();
    set_mtime(5);
    let err = store
        .put(&file("mine.twofold-sync", b"mine"), device, &rng)
        .unwrap_err();
    assert!(matches!(err, TargetError::Conflict { .. }), "{err:?}");
    assert_eq!(std::fs::read(&path).unwrap(), b"changed later");
    set_mtime(0);
    let mut store = open();
    store.list().unwrap();
    store
        .put(&file("mine.twofold-sync", b"mine 2"), device, &rng)
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"mine 2");
}
