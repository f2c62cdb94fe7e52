//! Shell tests of sync (docs/ipc.md, "Sync"): every sync command through Tauri's IPC under
//! `mock_builder`, with real temporary folders as the target: two app vaults, and an app vault
//! with a vault synced as the CLI does, converge through one folder; a wrong passphrase is its
//! own kind and changes nothing; a change is synced after the debounce and after an unlock;
//! turning off keeps the accounts; the status survives a restart.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tauri::Manager;
use twofold_core::rng::SystemRng;
use twofold_core::vault::{KdfParams, Vault, file};
use twofold_sync::{Folder, Target};
use zeroize::Zeroizing;

use crate::sync::SyncService;

// The real WebDAV server of the CLI's sync tests (Debian's Apache with mod_dav, on 127.0.0.1,
// stopped by its PID; SKIPPED when Apache is absent).
#[allow(dead_code)]
#[path = "../../tests/cli/webdav.rs"]
mod webdav_server;
use crate::tests::{Shell, shell_with};

const PASS: &str = "purple monkey dishwasher";
const GITHUB: &str = "otpauth://totp/GitHub:octo?secret=GEZDGNBVGY3TQOJQGEZDGNBV&issuer=GitHub";
const BANK: &str = "otpauth://totp/Bank:me?secret=MFRGGZDFMZTWQ2LKNNWG23TPOA&issuer=Bank";
const FORUM: &str = "otpauth://hotp/Forum:me?secret=GEZDGNBVGY3TQOJQ&issuer=Forum&counter=4";

fn app() -> Shell {
    shell_with(tempfile::tempdir().expect("temp dir"), None, false).unlocked()
}

/// The issuers of the app's accounts, sorted.
fn issuers(s: &Shell) -> Vec<String> {
    let mut v: Vec<String> = s
        .ok("accounts_list", json!({}))
        .as_array()
        .expect("list")
        .iter()
        .map(|a| a["issuer"].as_str().expect("issuer").to_owned())
        .collect();
    v.sort();
    v
}

/// The `*.twofold-sync` files in `dir`, name and bytes, sorted by name. A file gone between
/// the listing and its read (a background sync's temporary file, renamed meanwhile) is left
/// out, as a reader of the set does.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("folder")
        .map(|e| e.expect("entry"))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            match std::fs::read(e.path()) {
                Ok(bytes) => Some((name, bytes)),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
                Err(err) => panic!("read {name}: {err}"),
            }
        })
        .collect();
    out.sort();
    out
}

/// Chooses `folder` in the (fake) folder dialog of `s`.
fn choose(s: &Shell, folder: &Path) -> Value {
    s.device.will_pick_folder(Some(folder.to_owned()));
    s.ok("sync_folder_choose", json!({}))
}

/// Waits until the background sync thread of `s` has seen the state as it is now and done
/// what it had to (two of its ticks ended with nothing to do), however loaded the machine.
fn settle(s: &Shell) {
    let service = s.app.state::<SyncService>();
    let start = service.quiet_ticks();
    wait_for("the background sync thread to settle", || {
        service.quiet_ticks() >= start + 2
    });
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_app_vaults_converge_through_one_folder_and_a_wrong_passphrase_changes_nothing() {
    let folder = tempfile::tempdir().expect("folder");
    let a = app();
    let b = app();
    a.ok("add_uri", json!({ "uri": GITHUB }));
    b.ok("add_uri", json!({ "uri": BANK }));

    let off = a.ok("sync_status", json!({}));
    assert_eq!(off["state"], "off");
    assert_eq!(off["target"], Value::Null);

    // A creates the sync set: the folder is empty, so the passphrase creates (asked twice).
    let chosen = choose(&a, folder.path());
    assert_eq!(chosen["state"], "needsPassphrase");
    assert_eq!(chosen["creating"], true);
    assert_eq!(chosen["target"]["kind"], "folder");
    assert_eq!(
        chosen["target"]["place"],
        folder.path().display().to_string()
    );
    assert_eq!(
        a.kind("sync_setup", json!({ "passphrase": "" })),
        "InvalidInput"
    );
    let on = a.ok("sync_setup", json!({ "passphrase": PASS }));
    assert_eq!(on["state"], "on");
    assert_eq!(on["devices"], 0);
    assert!(on["lastSyncAt"].as_u64().is_some(), "{on}");
    assert_eq!(on["lastError"], Value::Null);
    // A's background thread may be writing its next replica (the change made before the
    // setup is synced 2 s after it): its temporary file is not a file of the set.
    let names: Vec<String> = files(folder.path())
        .into_iter()
        .map(|f| f.0)
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(names.len(), 2, "the key file and A's replica: {names:?}");
    // Let A's background thread see the unlock (its sync, if any, is over).
    settle(&a);

    // B joins: the folder holds a sync set, so the passphrase is asked once.
    let chosen = choose(&b, folder.path());
    assert_eq!(chosen["creating"], false);
    let before = files(folder.path());
    let vault_before = std::fs::read(b.dir.path().join("vault.json")).expect("vault");
    let wrong = b
        .call("sync_setup", json!({ "passphrase": "not it" }))
        .expect_err("wrong passphrase");
    assert_eq!(wrong["kind"], "WrongSyncPassphrase");
    assert!(
        !wrong["message"]
            .as_str()
            .expect("message")
            .contains("not it")
    );
    assert_eq!(files(folder.path()), before, "the folder is unchanged");
    assert_eq!(
        std::fs::read(b.dir.path().join("vault.json")).expect("vault"),
        vault_before,
        "the vault is unchanged"
    );
    assert_eq!(issuers(&b), ["Bank"]);
    assert_eq!(b.ok("sync_status", json!({}))["state"], "needsPassphrase");

    let joined = b.ok("sync_setup", json!({ "passphrase": PASS }));
    assert_eq!(joined["state"], "on");
    assert_eq!(joined["devices"], 1);
    assert_eq!(joined["lastChanged"], 1);
    assert_eq!(issuers(&b), ["Bank", "GitHub"]);

    let synced = a.ok("sync_now", json!({}));
    assert_eq!(synced["devices"], 1);
    assert_eq!(synced["lastChanged"], 1);
    assert_eq!(issuers(&a), ["Bank", "GitHub"]);

    // A removal on one device is a removal on the other.
    let list = a.ok("accounts_list", json!({}));
    let bank = list
        .as_array()
        .expect("list")
        .iter()
        .find(|x| x["issuer"] == "Bank")
        .expect("bank")["id"]
        .clone();
    a.ok("account_delete", json!({ "id": bank }));
    a.ok("sync_now", json!({}));
    b.ok("sync_now", json!({}));
    assert_eq!(issuers(&b), ["GitHub"]);

    // The folder holds no secret and no label in clear.
    for (name, bytes) in files(folder.path()) {
        assert!(name.ends_with(".twofold-sync"), "{name}");
        let text = String::from_utf8_lossy(&bytes);
        for clear in ["GitHub", "octo", "Bank", "GEZDGNBV", "MFRGGZDF"] {
            assert!(!text.contains(clear), "{name} holds {clear}");
        }
    }
}

/// A vault synced as `twofold sync --folder` does (crates/cli/src/sync.rs): the run of
/// twofold-sync on the vault file, saved after.
fn cli_sync(vault_path: &Path, password: &str, folder: &Path, creating: bool) -> usize {
    let _lock = file::lock(vault_path, Duration::from_secs(5)).expect("lock");
    let mut vault =
        Vault::open(&file::read(vault_path).expect("read"), password.as_bytes()).expect("open");
    let target = Target::Folder(folder.to_owned());
    let mut store = Folder::new(folder.to_owned());
    let mut ask = |need: twofold_sync::Need| {
        assert_eq!(need == twofold_sync::Need::Create, creating);
        Ok((Zeroizing::new(PASS.to_owned()), KdfParams::MIN))
    };
    let report = twofold_sync::run(
        &mut vault,
        &target,
        &mut store,
        &mut ask,
        None,
        &twofold_core::SystemClock,
        &SystemRng::new(),
    )
    .expect("cli sync");
    let bytes = vault.to_bytes(&SystemRng::new()).expect("seal");
    file::write_atomic(vault_path, &bytes, false).expect("save");
    report.changed
}

fn cli_vault(dir: &Path, uris: &[&str]) -> PathBuf {
    let rng = SystemRng::new();
    let mut vault = Vault::create(b"cli password", KdfParams::MIN, &rng).expect("vault");
    for u in uris {
        vault
            .add(twofold_core::uri::parse(u).expect("uri"), 0, &rng)
            .expect("add");
    }
    let path = dir.join("cli-vault.json");
    file::write_atomic(&path, &vault.to_bytes(&rng).expect("seal"), true).expect("write");
    path
}

fn cli_issuers(path: &Path) -> Vec<String> {
    let vault = Vault::open(&file::read(path).expect("read"), b"cli password").expect("open");
    let mut v: Vec<String> = vault
        .accounts()
        .iter()
        .map(|a| a.otp.issuer.clone())
        .collect();
    v.sort();
    v
}

#[test]
fn an_app_vault_and_a_cli_synced_vault_converge_and_hotp_counters_only_grow() {
    let folder = tempfile::tempdir().expect("folder");
    let cli_dir = tempfile::tempdir().expect("cli dir");
    let cli = cli_vault(cli_dir.path(), &[GITHUB, FORUM]);
    assert_eq!(cli_sync(&cli, "cli password", folder.path(), true), 0);

    let a = app();
    a.ok("add_uri", json!({ "uri": BANK }));
    assert_eq!(choose(&a, folder.path())["creating"], false);
    let on = a.ok("sync_setup", json!({ "passphrase": PASS }));
    assert_eq!(on["lastChanged"], 2);
    assert_eq!(issuers(&a), ["Bank", "Forum", "GitHub"]);

    // The HOTP counter advanced in the app reaches the CLI's vault.
    let list = a.ok("accounts_list", json!({}));
    let forum = list
        .as_array()
        .expect("list")
        .iter()
        .find(|x| x["issuer"] == "Forum")
        .expect("forum")["id"]
        .clone();
    assert_eq!(
        a.ok("hotp_next", json!({ "id": forum }))["id"],
        forum.clone()
    );
    a.ok("sync_now", json!({}));
    assert_eq!(cli_sync(&cli, "cli password", folder.path(), false), 2);
    assert_eq!(cli_issuers(&cli), ["Bank", "Forum", "GitHub"]);
    let vault = Vault::open(&file::read(&cli).expect("read"), b"cli password").expect("open");
    let counter = vault
        .accounts()
        .iter()
        .find(|x| x.otp.issuer == "Forum")
        .and_then(|x| x.otp.params.kind().counter());
    assert!(counter.is_some_and(|c| c > 4), "{counter:?}");
}

#[test]
fn a_change_is_synced_after_the_debounce_and_after_an_unlock() {
    let folder = tempfile::tempdir().expect("folder");
    let a = app();
    let b = app();
    for s in [&a, &b] {
        s.app
            .state::<SyncService>()
            .set_debounce(Duration::from_millis(300));
    }
    choose(&a, folder.path());
    a.ok("sync_setup", json!({ "passphrase": PASS }));
    let a_replica = files(folder.path())
        .into_iter()
        .map(|(name, _)| name)
        // Not a temporary file of a background sync that may be writing meanwhile.
        .find(|n| !n.starts_with("key-") && !n.starts_with('.'))
        .expect("A's replica");
    choose(&b, folder.path());
    b.ok("sync_setup", json!({ "passphrase": PASS }));
    let replica_of_a = |folder: &Path| std::fs::read(folder.join(&a_replica)).expect("A's replica");
    // Let the background threads see the set-up (an unlock's sync, if any, is over).
    settle(&a);
    settle(&b);
    let before = replica_of_a(folder.path());

    // A change in A: A's background thread syncs it on its own, and tells the UI.
    let told = a.events("sync-status");
    let started = Instant::now();
    a.ok("add_uri", json!({ "uri": GITHUB }));
    wait_for("A's debounced sync", || {
        replica_of_a(folder.path()) != before
    });
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    println!("debounced sync written {waited:?} after the change (debounce 300 ms)");
    wait_for("the sync-status event", || {
        !told.lock().expect("events").is_empty()
    });
    let status: Value = serde_json::from_str(&told.lock().expect("events")[0]).expect("payload");
    assert_eq!(status["state"], "on");
    assert_eq!(status["lastError"], Value::Null);

    // B is locked while A adds another; B's unlock syncs at once and tells the UI, whose
    // account list then refreshes (lastChanged > 0).
    b.ok("vault_lock", json!({}));
    a.ok("add_uri", json!({ "uri": BANK }));
    a.ok("sync_now", json!({}));
    let told_b = b.events("sync-status");
    b.ok("vault_unlock", json!({ "password": "correct horse" }));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !told_b
        .lock()
        .expect("events")
        .iter()
        .any(|p| p.contains("\"lastChanged\":2"))
    {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for B's sync after the unlock; B was told {:?}; B has {:?}",
            told_b.lock().expect("events"),
            issuers(&b)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(issuers(&b), ["Bank", "GitHub"]);
}

#[test]
fn turning_off_keeps_the_accounts_and_the_status_survives_a_restart() {
    let folder = tempfile::tempdir().expect("folder");
    let a = app();
    a.ok("add_uri", json!({ "uri": GITHUB }));
    choose(&a, folder.path());
    let on = a.ok("sync_setup", json!({ "passphrase": PASS }));
    let last = on["lastSyncAt"].as_u64().expect("last sync");

    // A new app on the same folder: after the unlock the status is still there.
    let Shell { dir, .. } = a;
    let a = shell_with(dir, None, false);
    a.ok("vault_unlock", json!({ "password": "correct horse" }));
    let again = a.ok("sync_status", json!({}));
    assert_eq!(again["state"], "on");
    assert!(again["lastSyncAt"].as_u64().expect("last sync") >= last);

    // Sync off: the vault forgets the target and the key; accounts and files stay.
    let off = a.ok("sync_off", json!({}));
    assert_eq!(off["state"], "off");
    assert_eq!(off["lastSyncAt"], Value::Null);
    assert_eq!(issuers(&a), ["GitHub"]);
    assert_eq!(files(folder.path()).len(), 2);
    assert_eq!(a.kind("sync_now", json!({})), "InvalidInput");
    a.ok("vault_lock", json!({}));
    a.ok("vault_unlock", json!({ "password": "correct horse" }));
    assert_eq!(a.ok("sync_status", json!({}))["state"], "off");

    // Off with a folder chosen but not joined forgets the choice.
    assert_eq!(choose(&a, folder.path())["state"], "needsPassphrase");
    assert_eq!(a.ok("sync_off", json!({}))["state"], "off");
}

#[test]
fn choosing_needs_an_unlocked_vault_an_existing_other_folder_and_a_usable_webdav_address() {
    let folder = tempfile::tempdir().expect("folder");
    let s = shell_with(tempfile::tempdir().expect("dir"), None, false);
    assert_eq!(s.kind("sync_status", json!({})), "Locked");
    let s = s.unlocked();
    // Cancelled: nothing changes.
    s.device.will_pick_folder(None);
    assert_eq!(s.ok("sync_folder_choose", json!({}))["state"], "off");
    s.device.will_pick_folder(Some(s.dir.path().to_owned()));
    assert_eq!(s.kind("sync_folder_choose", json!({})), "InvalidInput");
    s.device
        .will_pick_folder(Some(folder.path().join("missing")));
    assert_eq!(s.kind("sync_folder_choose", json!({})), "InvalidInput");
    assert_eq!(
        s.kind("sync_setup", json!({ "passphrase": PASS })),
        "InvalidInput"
    );
    assert_eq!(s.kind("sync_now", json!({})), "InvalidInput");
    // Plain HTTP only to loopback; credentials never in the address; never in a message.
    for url in [
        "http://dav.example.com/twofold/",
        "https://me:secret@dav.example.com/twofold/",
    ] {
        let webdav = json!({ "url": url, "user": "me", "password": "secret" });
        let e = s.call("sync_webdav_choose", webdav).expect_err(url);
        assert_eq!(e["kind"], "InvalidInput", "{url}: {e}");
        assert!(!e["message"].as_str().expect("message").contains("secret"));
    }
    assert_eq!(s.ok("sync_status", json!({}))["state"], "off");

    // Once on, another place needs sync off first.
    choose(&s, folder.path());
    s.ok("sync_setup", json!({ "passphrase": PASS }));
    s.device.will_pick_folder(Some(folder.path().to_owned()));
    assert_eq!(s.kind("sync_folder_choose", json!({})), "InvalidInput");

    // A folder that went away: the sync fails with Io, and the status says so.
    // (A background sync of the unlock may be writing there: try until the folder is gone.)
    let gone = folder.path().to_owned();
    wait_for("the folder to go", || {
        let _ = std::fs::remove_dir_all(&gone);
        !gone.exists()
    });
    assert_eq!(s.kind("sync_now", json!({})), "Io");
    let status = s.ok("sync_status", json!({}));
    assert_eq!(status["lastError"]["kind"], "Io");
    assert!(status["lastSyncAt"].as_u64().is_some());
    s.ok("vault_lock", json!({}));
    assert_eq!(s.kind("sync_status", json!({})), "Locked");
}

#[test]
fn a_sync_set_gone_since_it_was_chosen_is_not_made_again_without_asking_twice() {
    let folder = tempfile::tempdir().expect("folder");
    let a = app();
    choose(&a, folder.path());
    a.ok("sync_setup", json!({ "passphrase": PASS }));
    settle(&a);
    let b = app();
    assert_eq!(choose(&b, folder.path())["creating"], false);
    for (name, _) in files(folder.path()) {
        std::fs::remove_file(folder.path().join(name)).expect("remove");
    }
    // Joining was asked once; a new sync set needs the passphrase twice (and calibrated
    // key-derivation costs): B must choose the folder again.
    assert_eq!(
        b.kind("sync_setup", json!({ "passphrase": PASS })),
        "InvalidInput"
    );
    assert!(files(folder.path()).is_empty());
    assert_eq!(choose(&b, folder.path())["creating"], true);
}

/// An Android folder (the storage-access-framework picker's tree URI), reached through the
/// document API (here [`twofold_sync::DirDocuments`], the same rules on a plain directory),
/// syncs like a path: A chooses it as a tree, B the same directory as a path; they converge,
/// A's vault keeps the `saf:` target and the status names the folder as a person reads it.
#[test]
fn an_android_folder_through_the_document_api_syncs_like_a_path() {
    let folder = tempfile::tempdir().expect("folder");
    let tree = "content://com.android.externalstorage.documents/tree/primary%3ASync%2FTwofold";
    let a = app();
    let b = app();
    a.ok("add_uri", json!({ "uri": GITHUB }));
    b.ok("add_uri", json!({ "uri": BANK }));
    a.device.will_pick_tree(tree, folder.path());
    let chosen = a.ok("sync_folder_choose", json!({}));
    assert_eq!(chosen["state"], "needsPassphrase");
    assert_eq!(chosen["creating"], true);
    assert_eq!(chosen["target"]["kind"], "folder");
    assert_eq!(chosen["target"]["place"], "primary:Sync/Twofold");
    let on = a.ok("sync_setup", json!({ "passphrase": PASS }));
    assert_eq!(on["state"], "on", "{on}");
    // A's background thread may be writing its next replica (the change made before the
    // setup is synced 2 s after it): its temporary file is not a file of the set.
    let names: Vec<String> = files(folder.path())
        .into_iter()
        .map(|f| f.0)
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(names.len(), 2, "the key file and A's replica: {names:?}");
    {
        let inner = a.app.state::<crate::state::AppState>();
        let inner = inner.get().expect("state");
        assert_eq!(
            inner.vault().expect("vault").sync_target(),
            Some(format!("saf:{tree}").as_str())
        );
    }
    choose(&b, folder.path());
    b.ok("sync_setup", json!({ "passphrase": PASS }));
    a.ok("add_uri", json!({ "uri": FORUM }));
    let again = a.ok("sync_now", json!({}));
    assert_eq!(again["lastError"], Value::Null, "{again}");
    // A's background sync of the change (debounced, and maybe due after the sync above)
    // writes A's replica again, and a document API has no replacing rename: for a moment the
    // name is missing (`docs/sync.md`), and a sync of B then would find no replica of A.
    settle(&a);
    b.ok("sync_now", json!({}));
    assert_eq!(issuers(&a), ["Bank", "Forum", "GitHub"]);
    assert_eq!(issuers(&b), ["Bank", "Forum", "GitHub"]);
    // One replica per device and the key file: the temporary documents are gone, once no
    // background sync (the debounced one after the change) is writing one.
    settle(&a);
    settle(&b);
    let names: Vec<String> = files(folder.path()).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.iter().all(|n| !n.contains(".tmp.")), "{names:?}");
}

/// An app whose vault holds 1,000 TOTP accounts, imported as an otpauth list.
fn app_with_1000_accounts() -> Shell {
    let a = app();
    let list: String = (0..1000)
        .map(|i| {
            format!("otpauth://totp/Issuer{i}:user{i}@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Issuer{i}\n")
        })
        .collect();
    let report = a.ok_raw(
        "import_file",
        list.as_bytes(),
        &[("format", "otpauth-list")],
    );
    assert_eq!(report["added"], 1000);
    a
}

/// Figures, not assertions on time: 1,000 accounts synced between two app vaults through the
/// shell (debug build of the shell; the KDF and AES are optimised as in every test build).
#[test]
fn measure_sync_of_1000_accounts_between_two_apps() {
    let folder = tempfile::tempdir().expect("folder");
    let a = app_with_1000_accounts();
    choose(&a, folder.path());
    let t = Instant::now();
    a.ok("sync_setup", json!({ "passphrase": PASS }));
    let create = t.elapsed();
    let b = app();
    choose(&b, folder.path());
    let t = Instant::now();
    let joined = b.ok("sync_setup", json!({ "passphrase": PASS }));
    let join = t.elapsed();
    assert_eq!(joined["lastChanged"], 1000);
    let t = Instant::now();
    a.ok("sync_now", json!({}));
    let again = t.elapsed();
    let replica = files(folder.path())
        .into_iter()
        .filter(|(n, _)| !n.starts_with("key-"))
        .map(|(_, b)| b.len())
        .max()
        .unwrap_or(0);
    println!(
        "app sync of 1,000 accounts: create {create:?} (Argon2id at the floor), join and take 1,000 {join:?}, sync with nothing new {again:?}; replica {replica} bytes"
    );
}

/// How long another command (listing the accounts) waits while a sync of 1,000 accounts runs:
/// the list is asked for again and again while A syncs with B's 1,000-account replica; the
/// longest and the median wait are printed (never asserted: a shared machine's timings vary).
#[test]
fn measure_how_long_a_command_waits_during_a_sync_of_1000_accounts() {
    let folder = tempfile::tempdir().expect("folder");
    let a = app_with_1000_accounts();
    choose(&a, folder.path());
    a.ok("sync_setup", json!({ "passphrase": PASS }));
    let b = app();
    choose(&b, folder.path());
    b.ok("sync_setup", json!({ "passphrase": PASS }));
    // B's own change makes its replica new to A.
    b.ok("add_uri", json!({ "uri": BANK }));
    b.ok("sync_now", json!({}));
    // Let A's background thread settle (its sync after the unlock is over).
    settle(&a);

    // What listing 1,000 accounts takes with no sync running.
    let mut alone: Vec<Duration> = (0..3)
        .map(|_| {
            let t = Instant::now();
            a.ok("accounts_list", json!({}));
            t.elapsed()
        })
        .collect();
    alone.sort();

    let handle = a.app.handle().clone();
    let started = Instant::now();
    let syncing = std::thread::spawn(move || {
        let result = crate::sync::sync_now(
            &handle.state::<crate::state::AppState>(),
            &handle.state::<SyncService>(),
        );
        (result.map(|d| d.changed), Instant::now())
    });
    let mut waits = Vec::new();
    while !syncing.is_finished() {
        let t = Instant::now();
        let listed = a.ok("accounts_list", json!({}));
        waits.push(t.elapsed());
        assert!(listed.as_array().is_some_and(|l| l.len() >= 1000));
    }
    let (changed, ended) = syncing.join().expect("sync thread");
    // 1 (B's new account), or 0 when A's background thread took it first: the merge and the
    // save of 1,000 accounts run either way.
    assert!(changed.expect("sync") <= 1);
    assert_eq!(issuers(&a).len(), 1001);
    waits.sort();
    let longest = waits.last().copied().unwrap_or_default();
    let median = waits.get(waits.len() / 2).copied().unwrap_or_default();
    println!(
        "during an app sync of 1,000 accounts ({:?}), accounts_list answered {} times: longest {longest:?}, median {median:?} (alone: {:?})",
        ended - started,
        waits.len(),
        alone[1]
    );
}

/// Changes saved while syncs merge without the state's lock are never lost: a sync that finds
/// the vault changed since it copied it starts again (its own new replica merged, a higher
/// generation written), and at the end both devices hold every account.
#[test]
fn changes_saved_while_a_sync_merges_are_kept() {
    let folder = tempfile::tempdir().expect("folder");
    let a = app();
    let list: String = (0..300)
        .map(|i| format!("otpauth://totp/Bulk{i}:u?secret=JBSWY3DPEHPK3PXP&issuer=Bulk{i}\n"))
        .collect();
    a.ok_raw(
        "import_file",
        list.as_bytes(),
        &[("format", "otpauth-list")],
    );
    choose(&a, folder.path());
    a.ok("sync_setup", json!({ "passphrase": PASS }));
    let b = app();
    choose(&b, folder.path());
    b.ok("sync_setup", json!({ "passphrase": PASS }));
    let handle = a.app.handle().clone();
    let syncing = std::thread::spawn(move || {
        (0..4)
            .map(|_| {
                crate::sync::sync_now(
                    &handle.state::<crate::state::AppState>(),
                    &handle.state::<SyncService>(),
                )
                .map(|_| ())
            })
            .collect::<Vec<_>>()
    });
    let mut added = Vec::new();
    for i in 0..6 {
        let uri = format!("otpauth://totp/During{i}:u?secret=GEZDGNBVGY3TQOJQ&issuer=During{i}");
        a.ok("add_uri", json!({ "uri": uri }));
        added.push(format!("During{i}"));
        std::thread::sleep(Duration::from_millis(120));
    }
    for r in syncing.join().expect("sync thread") {
        r.expect("each sync succeeds");
    }
    println!(
        "syncs that found the vault changed since they copied it and started again: {}",
        a.app.state::<SyncService>().lost_races()
    );
    a.ok("sync_now", json!({}));
    b.ok("sync_now", json!({}));
    for s in [&a, &b] {
        let have = issuers(s);
        assert_eq!(have.len(), 306, "{have:?}");
        assert!(added.iter().all(|i| have.contains(i)));
    }
    // The file holds what memory does.
    let reopened = Vault::open(
        &std::fs::read(a.dir.path().join("vault.json")).expect("vault"),
        b"correct horse",
    )
    .expect("open");
    assert_eq!(reopened.accounts().len(), 306);
}

#[test]
fn a_return_to_the_foreground_syncs() {
    let folder = tempfile::tempdir().expect("folder");
    let a = app();
    let b = app();
    choose(&a, folder.path());
    a.ok("sync_setup", json!({ "passphrase": PASS }));
    choose(&b, folder.path());
    b.ok("sync_setup", json!({ "passphrase": PASS }));
    // A goes to the background (phones; desktop: minimized) for a while.
    let state = a.app.state::<crate::state::AppState>();
    state.set_foreground(false);
    settle(&a);
    b.ok("add_uri", json!({ "uri": GITHUB }));
    b.ok("sync_now", json!({}));
    settle(&a);
    assert_eq!(
        issuers(&a),
        Vec::<String>::new(),
        "no sync in the background"
    );
    // Back in the foreground (what the window's focus event records): A syncs at once.
    state.set_foreground(true);
    wait_for("A's sync on return", || issuers(&a) == ["GitHub"]);
}

#[test]
fn two_app_vaults_converge_through_a_real_webdav_server_and_keep_its_login() {
    let Some(dav) = webdav_server::apache("app") else {
        return;
    };
    let a = app();
    let b = app();
    a.ok("add_uri", json!({ "uri": GITHUB }));
    b.ok("add_uri", json!({ "uri": BANK }));
    let login = |password: &str| json!({ "url": dav.url, "user": webdav_server::DAV_USER, "password": password });

    // A refused login is its own kind, names no password, and chooses nothing.
    let refused = a
        .call("sync_webdav_choose", login("not the password"))
        .expect_err("refused login");
    assert_eq!(refused["kind"], "WrongPassword", "{refused}");
    assert!(
        !refused["message"]
            .as_str()
            .expect("message")
            .contains("not the password")
    );
    assert_eq!(a.ok("sync_status", json!({}))["state"], "off");

    let chosen = a.ok("sync_webdav_choose", login(webdav_server::DAV_PASSWORD));
    assert_eq!(chosen["state"], "needsPassphrase");
    assert_eq!(chosen["creating"], true);
    assert_eq!(chosen["target"]["kind"], "webdav");
    assert_eq!(chosen["target"]["place"], format!("{}/", dav.url));
    assert_eq!(chosen["target"]["user"], webdav_server::DAV_USER);
    a.ok("sync_setup", json!({ "passphrase": PASS }));
    settle(&a);

    let chosen = b.ok("sync_webdav_choose", login(webdav_server::DAV_PASSWORD));
    assert_eq!(chosen["creating"], false);
    assert_eq!(
        b.kind("sync_setup", json!({ "passphrase": "not it" })),
        "WrongSyncPassphrase"
    );
    let joined = b.ok("sync_setup", json!({ "passphrase": PASS }));
    assert_eq!(joined["state"], "on");
    assert_eq!(joined["devices"], 1);
    assert_eq!(joined["target"]["user"], webdav_server::DAV_USER);
    assert_eq!(issuers(&b), ["Bank", "GitHub"]);

    // Later syncs log in with what the vault keeps, after a restart too.
    let Shell { dir, .. } = a;
    let a = shell_with(dir, None, false);
    a.ok("vault_unlock", json!({ "password": "correct horse" }));
    let synced = a.ok("sync_now", json!({}));
    assert_eq!(synced["devices"], 1, "{synced}");
    assert_eq!(issuers(&a), ["Bank", "GitHub"]);

    // The server holds no secret, no label and no login in clear.
    for (name, bytes) in files(&dav.dir) {
        assert!(name.ends_with(".twofold-sync"), "{name}");
        let text = String::from_utf8_lossy(&bytes);
        for clear in [
            "GitHub",
            "octo",
            "Bank",
            "GEZDGNBV",
            "MFRGGZDF",
            webdav_server::DAV_PASSWORD,
        ] {
            assert!(!text.contains(clear), "{name} holds {clear}");
        }
    }
}

/// One passphrase rule (the core's): the meter's command rates as the CLI refuses, and a new
/// sync set with a weak passphrase is refused in Rust, whatever the webview checked.
#[test]
fn the_passphrase_rule_is_the_cores_and_a_weak_new_sync_set_is_refused() {
    let folder = tempfile::tempdir().expect("folder");
    let a = app();
    for (pass, acceptable) in [
        ("", false),
        ("password1", false),
        ("twofold2024", false),
        (PASS, true),
        ("correct horse battery staple", true),
    ] {
        let s = a.ok("passphrase_strength", json!({ "passphrase": pass }));
        assert_eq!(s["acceptable"], acceptable, "{pass:?}: {s}");
        let core = twofold_core::strength::estimate(pass);
        assert_eq!(s["score"], core.score, "{pass:?}");
    }
    let chosen = choose(&a, folder.path());
    assert_eq!(chosen["creating"], true);
    let e = a
        .call("sync_setup", json!({ "passphrase": "password1" }))
        .expect_err("weak");
    assert_eq!(e["kind"], "InvalidInput");
    assert!(e["message"].as_str().expect("message").contains("too weak"));
    assert!(
        !e["message"]
            .as_str()
            .expect("message")
            .contains("password1")
    );
    assert!(files(folder.path()).is_empty(), "no key file was made");
    assert_eq!(
        a.ok("sync_setup", json!({ "passphrase": PASS }))["state"],
        "on"
    );
}

/// Choosing a target and creating or joining a sync set send every secret somewhere: the
/// password again, within the last minute, as for a plain export. Without it nothing is chosen,
/// listed or written.
#[test]
fn choosing_a_target_and_setting_up_need_the_password_again() {
    let folder = tempfile::tempdir().expect("folder");
    let a = app();
    a.ok("add_uri", json!({ "uri": GITHUB }));
    a.password_entered_ago(61);
    a.device.will_pick_folder(Some(folder.path().to_owned()));
    let e = a
        .call("sync_folder_choose", json!({}))
        .expect_err("stale password");
    assert_eq!(e["kind"], "AuthRequired");
    assert!(e["message"].as_str().expect("message").contains("sync"));
    assert_eq!(a.ok("sync_status", json!({}))["state"], "off");
    assert_eq!(
        a.kind(
            "sync_webdav_choose",
            json!({ "url": "https://dav.example.com/", "user": "u", "password": "p" })
        ),
        "AuthRequired"
    );
    assert_eq!(a.ok("sync_status", json!({}))["state"], "off");

    // The password again: the folder is chosen.
    a.ok("vault_unlock", json!({ "password": "correct horse" }));
    assert_eq!(choose(&a, folder.path())["state"], "needsPassphrase");

    // A minute later, setting up asks again and writes nothing until it has it.
    a.password_entered_ago(61);
    assert_eq!(
        a.kind("sync_setup", json!({ "passphrase": PASS })),
        "AuthRequired"
    );
    assert!(files(folder.path()).is_empty());
    assert_eq!(a.ok("sync_status", json!({}))["state"], "needsPassphrase");
    // A wrong password does not count.
    assert_eq!(
        a.kind("vault_unlock", json!({ "password": "wrong" })),
        "WrongPassword"
    );
    assert_eq!(
        a.kind("sync_setup", json!({ "passphrase": PASS })),
        "AuthRequired"
    );
    a.ok("vault_unlock", json!({ "password": "correct horse" }));
    assert_eq!(
        a.ok("sync_setup", json!({ "passphrase": PASS }))["state"],
        "on"
    );
    // Syncing once set up needs nothing more (the app syncs by itself).
    a.password_entered_ago(61);
    a.ok("sync_now", json!({}));
}

/// Recently removed (docs/ipc.md, `removed_list`, `account_restore`): a member (a vault synced
/// as the CLI does) removes four accounts; the app's sync takes them out, says so
/// (`lastRemoved`, `manyRemoved`), and lists them as removed by that device; a restore brings
/// one back with its secret, and it reaches the member again: the restore wins over the removal.
#[test]
fn a_sync_that_removes_many_says_so_and_a_restore_comes_back_everywhere() {
    const MORE: [&str; 3] = [
        "otpauth://totp/Shop:me?secret=GEZDGNBVGY3TQOJQGEZDGNBV&issuer=Shop",
        "otpauth://totp/Mail:me?secret=MFRGGZDFMZTWQ2LKNNWG23TP&issuer=Mail",
        "otpauth://totp/Cloud:me?secret=JBSWY3DPEHPK3PXPJBSWY3DP&issuer=Cloud",
    ];
    let folder = tempfile::tempdir().expect("folder");
    let cli_dir = tempfile::tempdir().expect("cli dir");
    let cli = cli_vault(cli_dir.path(), &[GITHUB, BANK, MORE[0], MORE[1], MORE[2]]);
    cli_sync(&cli, "cli password", folder.path(), true);

    let a = app();
    assert_eq!(a.ok("removed_list", json!({})), json!([]));
    choose(&a, folder.path());
    let on = a.ok("sync_setup", json!({ "passphrase": PASS }));
    assert_eq!(on["lastRemoved"], 0);
    assert_eq!(on["manyRemoved"], false);
    assert_eq!(issuers(&a).len(), 5);
    // The member removes all but GitHub.
    let member_device = {
        let _lock = file::lock(&cli, Duration::from_secs(5)).expect("lock");
        let mut vault =
            Vault::open(&file::read(&cli).expect("read"), b"cli password").expect("open");
        let gone: Vec<String> = vault
            .accounts()
            .iter()
            .filter(|x| x.otp.issuer != "GitHub")
            .map(|x| x.id.clone())
            .collect();
        for id in gone {
            vault.remove(&id, crate::state::unix_now()).expect("remove");
        }
        let device = vault.sync_membership().expect("member").device.to_hex();
        file::write_atomic(
            &cli,
            &vault.to_bytes(&SystemRng::new()).expect("seal"),
            false,
        )
        .expect("save");
        device
    };
    cli_sync(&cli, "cli password", folder.path(), false);

    let synced = a.ok("sync_now", json!({}));
    assert_eq!(synced["lastRemoved"], 4, "{synced}");
    assert_eq!(synced["manyRemoved"], true);
    assert_eq!(issuers(&a), ["GitHub"]);
    let removed = a.ok("removed_list", json!({}));
    let removed = removed.as_array().expect("removed");
    assert_eq!(removed.len(), 4);
    for r in removed {
        assert_eq!(r["by"], "sync");
        assert_eq!(r["byId"], member_device.as_str());
        assert!(r["removedAt"].as_u64().is_some_and(|t| t > 1_700_000_000));
        assert!(r.get("secret").is_none());
    }
    let bank = removed
        .iter()
        .find(|r| r["issuer"] == "Bank")
        .expect("bank")["id"]
        .clone();

    let back = a.ok("account_restore", json!({ "id": bank }));
    assert_eq!(
        (back["id"].clone(), back["issuer"].clone()),
        (bank.clone(), json!("Bank"))
    );
    assert_eq!(
        a.kind("account_restore", json!({ "id": bank })),
        "InvalidInput"
    );
    assert_eq!(
        a.kind("account_restore", json!({ "id": "nope" })),
        "NotFound"
    );
    assert_eq!(
        a.ok("removed_list", json!({})).as_array().map(Vec::len),
        Some(3)
    );
    // The same secret: the restored account's code is Bank's at the moment it was read (one
    // read, so a 30 s window that rolls over in between cannot tell them apart).
    let restored = a
        .ok("codes_now", json!({}))
        .as_array()
        .expect("codes")
        .iter()
        .find(|c| c["id"] == bank)
        .expect("restored code")
        .clone();
    let at = restored["validFromMs"].as_u64().expect("valid from") / 1000;
    let expected = twofold_core::uri::parse(BANK)
        .expect("Bank's URI")
        .code_at(at);
    assert_eq!(restored["code"], expected.as_str(), "the same secret");

    // Synced back to the member, which had removed it.
    a.ok("sync_now", json!({}));
    cli_sync(&cli, "cli password", folder.path(), false);
    assert_eq!(cli_issuers(&cli), ["Bank", "GitHub"]);
    let vault = Vault::open(&file::read(&cli).expect("read"), b"cli password").expect("open");
    assert!(vault.account(bank.as_str().expect("id")).is_some());
}

/// Devices (docs/ipc.md, `sync_devices`, `sync_rename_device`, `sync_remove_device`,
/// `sync_rejoin`): three app vaults name themselves and list each other; removing one needs
/// the password again and a strong new passphrase; afterwards another app's sync is
/// `SyncNewPassphrase` and writes nothing until `sync_rejoin` gives it the new passphrase,
/// then keeps what it added meanwhile; the removed app's sync is `SyncRemoved`.
#[test]
fn devices_are_named_listed_and_one_is_removed_with_a_rekey() {
    const NEW: &str = "violet tundra bicycle 7391";
    let folder = tempfile::tempdir().expect("folder");
    let (a, b, c) = (app(), app(), app());
    a.ok("add_uri", json!({ "uri": GITHUB }));
    for s in [&a, &b, &c] {
        choose(s, folder.path());
        s.ok("sync_setup", json!({ "passphrase": PASS }));
    }
    assert_eq!(
        a.kind("sync_rename_device", json!({ "name": " \u{7} " })),
        "InvalidInput"
    );
    for (s, name) in [
        (&a, "Anna's laptop"),
        (&b, "Bertil's phone"),
        (&c, "Cecilia's tablet"),
    ] {
        let list = s.ok("sync_rename_device", json!({ "name": name }));
        assert_eq!(list[0]["name"], name);
        assert_eq!(list[0]["this"], true);
        s.ok("sync_now", json!({}));
    }
    a.ok("sync_now", json!({}));
    let list = a.ok("sync_devices", json!({}));
    let list = list.as_array().expect("devices");
    assert_eq!(list.len(), 3, "{list:?}");
    let mut names: Vec<&str> = list
        .iter()
        .map(|d| d["name"].as_str().expect("name"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["Anna's laptop", "Bertil's phone", "Cecilia's tablet"]
    );
    assert!(list[0]["lastSync"].as_u64().is_some());
    let id_of = |name: &str| {
        list.iter().find(|d| d["name"] == name).expect("device")["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let (a_id, c_id) = (id_of("Anna's laptop"), id_of("Cecilia's tablet"));

    // Removing needs the password within the last minute, a strong passphrase, another
    // device: nothing is written otherwise.
    let before = files(folder.path());
    a.password_entered_ago(61);
    assert_eq!(
        a.kind(
            "sync_remove_device",
            json!({ "id": c_id, "passphrase": NEW })
        ),
        "AuthRequired"
    );
    a.ok("vault_unlock", json!({ "password": "correct horse" }));
    assert_eq!(
        a.kind(
            "sync_remove_device",
            json!({ "id": c_id, "passphrase": "password1" })
        ),
        "InvalidInput"
    );
    assert_eq!(
        a.kind(
            "sync_remove_device",
            json!({ "id": a_id, "passphrase": NEW })
        ),
        "InvalidInput"
    );
    assert_eq!(
        a.kind(
            "sync_remove_device",
            json!({ "id": "nope", "passphrase": NEW })
        ),
        "InvalidInput"
    );
    let key_files = |dir: &Path| {
        files(dir)
            .into_iter()
            .filter(|(n, _)| n.starts_with("key-"))
            .count()
    };
    assert_eq!(key_files(folder.path()), 1);
    assert_eq!(
        files(folder.path())
            .into_iter()
            .filter(|(n, _)| n.starts_with("rekey-"))
            .count(),
        0,
        "{before:?}"
    );
    let done = a.ok(
        "sync_remove_device",
        json!({ "id": c_id, "passphrase": NEW }),
    );
    assert_eq!(done["state"], "on");
    assert_eq!(key_files(folder.path()), 2);
    let listed = a.ok("sync_devices", json!({}));
    assert_eq!(listed.as_array().expect("devices").len(), 2, "{listed}");

    // B: told the set has a new passphrase; writes nothing; then rejoins and keeps its change.
    b.ok("add_uri", json!({ "uri": BANK }));
    let err = b.call("sync_now", json!({})).expect_err("re-keyed");
    assert_eq!(err["kind"], "SyncNewPassphrase");
    let status = b.ok("sync_status", json!({}));
    assert_eq!(status["lastError"]["kind"], "SyncNewPassphrase");
    let b_replica = format!("{}.twofold-sync", id_of("Bertil's phone"));
    let b_before = std::fs::read(folder.path().join(&b_replica)).expect("b's replica");
    assert_eq!(
        b.kind("sync_rejoin", json!({ "passphrase": PASS })),
        "SyncNewPassphrase"
    );
    assert_eq!(
        std::fs::read(folder.path().join(&b_replica)).expect("b's replica"),
        b_before,
        "nothing written under the old key"
    );
    let on = b.ok("sync_rejoin", json!({ "passphrase": NEW }));
    assert_eq!(on["lastError"], Value::Null);
    a.ok("sync_now", json!({}));
    assert_eq!(issuers(&a), ["Bank", "GitHub"]);
    assert_eq!(issuers(&b), ["Bank", "GitHub"]);
    // Later syncs need nothing more.
    b.ok("sync_now", json!({}));

    // C: removed; its accounts stay.
    let err = c.call("sync_now", json!({})).expect_err("removed");
    assert_eq!(err["kind"], "SyncRemoved");
    assert!(
        err["message"]
            .as_str()
            .expect("message")
            .contains("Anna's laptop"),
        "{err}"
    );
    assert_eq!(issuers(&c), ["GitHub"]);
}
