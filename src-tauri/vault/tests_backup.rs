//! Backups that are checked (`docs/vault.md`, "Backups that are checked"): after each
//! automatic backup the shell reads the file back, opens it with the vault's key and compares it
//! with the vault (the restore drill); the status counts the changes no verified backup, export
//! or sync holds; a backup that fails the drill is a `backup-failed` event of kind `check`.

use serde_json::{Value, json};
use tauri::Manager;

use crate::state::AppState;
use crate::tests::shell;

const URIS: [&str; 3] = [
    "otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME",
    "otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=3",
    "otpauth://totp/Shop:carol?secret=MFRGGZDFMZTWQ2LK&issuer=Shop",
];

fn status(s: &crate::tests::Shell) -> Value {
    s.ok("backup_status", json!({}))
}

/// A disk that damages what it stores: one byte of the backup's encrypted database changed.
pub(crate) fn flip_a_byte(path: &std::path::Path) {
    let mut bytes = std::fs::read(path).expect("backup");
    let at = bytes.len() / 2;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(path, bytes).expect("damaged");
}

/// The first backup the test wrote (one account), which [`stale_copy`] hands back.
static FIRST_BACKUP: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

/// A disk that keeps an older file: the backup replaced by the first one written.
fn stale_copy(path: &std::path::Path) {
    let first = FIRST_BACKUP.lock().expect("first").clone();
    std::fs::write(path, first).expect("stale copy");
}

#[test]
fn every_backup_is_drilled_and_changes_outside_backups_are_counted() {
    let s = shell().unlocked();
    assert_eq!(status(&s)["changesSinceBackup"], 0);
    assert_eq!(status(&s)["check"], Value::Null);
    // No backup folder: every change is one more that no backup holds, across a restart of
    // the status (it lives in settings.json).
    s.ok("add_uri", json!({ "uri": URIS[0] }));
    assert_eq!(status(&s)["changesSinceBackup"], 1);
    let settings: Value = serde_json::from_slice(
        &std::fs::read(s.dir.path().join("settings.json")).expect("settings"),
    )
    .expect("json");
    assert_eq!(settings["backup"]["changesSinceBackup"], 1);

    // A backup folder: each save writes a backup, which passes its drill.
    let backups = tempfile::tempdir().expect("backups");
    s.device.will_pick_folder(Some(backups.path().to_owned()));
    s.ok("backup_folder_choose", json!({}));
    let drilled = s.ok("backup_now", json!({}));
    assert_eq!(
        drilled["check"],
        json!({ "accounts": 1, "verified": true, "missing": 0, "different": 0, "error": null })
    );
    assert_eq!(drilled["changesSinceBackup"], 0);
    let first = drilled["lastPath"].as_str().expect("path");
    *FIRST_BACKUP.lock().expect("first") = std::fs::read(first).expect("first backup");
    s.ok("add_uri", json!({ "uri": URIS[1] }));
    let st = status(&s);
    assert_eq!(st["check"]["accounts"], 2, "{st}");
    assert_eq!(st["check"]["verified"], true);
    assert_eq!(st["changesSinceBackup"], 0);
    assert!(st["lastError"].is_null());

    // The disk damages the next backup: the drill says so, as an event of kind `check`, and
    // the change stays counted as not in any backup.
    let failed = s.events("backup-failed");
    let state = s.app.state::<AppState>();
    *state.backup_fault.lock().expect("fault") = Some(flip_a_byte);
    s.ok("add_uri", json!({ "uri": URIS[2] }));
    let st = status(&s);
    assert_eq!(st["check"]["verified"], false, "{st}");
    assert!(
        st["check"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("does not open")),
        "{st}"
    );
    assert_eq!(st["changesSinceBackup"], 1);
    assert!(st["lastError"].is_null(), "the write itself succeeded");
    let events = failed.lock().expect("events").clone();
    assert_eq!(events.len(), 1, "{events:?}");
    let event: Value = serde_json::from_str(&events[0]).expect("payload");
    assert_eq!(event["kind"], "check");
    assert!(
        event["message"]
            .as_str()
            .is_some_and(|m| m.contains("does not open again")),
        "{event}"
    );

    // A disk that hands back an older file: the drill names what is missing.
    *state.backup_fault.lock().expect("fault") = Some(stale_copy);
    let st = s.ok("backup_now", json!({}));
    assert_eq!(
        st["check"],
        json!({ "accounts": 1, "verified": false, "missing": 2, "different": 0, "error": null }),
        "{st}"
    );
    assert_eq!(st["changesSinceBackup"], 1);

    // A sound disk again: verified, nothing outside a backup.
    *state.backup_fault.lock().expect("fault") = None;
    let st = s.ok("backup_now", json!({}));
    assert_eq!(st["check"]["verified"], true);
    assert_eq!(st["check"]["accounts"], 3);
    assert_eq!(st["changesSinceBackup"], 0);
}

#[test]
fn a_verified_export_leaves_no_change_outside_a_backup() {
    let s = shell().unlocked();
    s.ok("add_uri", json!({ "uri": URIS[0] }));
    s.ok("add_uri", json!({ "uri": "steam://JBSWY3DPEHPK3PXQ" }));
    assert_eq!(status(&s)["changesSinceBackup"], 2);
    let out = tempfile::tempdir().expect("out");
    // A Google export cannot hold the Steam account: it does not restore everything.
    s.password_entered_ago(0);
    s.device.will_save_to(Some(out.path().join("google.txt")));
    s.ok(
        "export_file",
        json!({ "format": "google-migration", "password": null }),
    );
    assert_eq!(status(&s)["changesSinceBackup"], 2);
    // An encrypted Aegis export holds them all: read back with its password, verified.
    s.device.will_save_to(Some(out.path().join("aegis.json")));
    s.ok(
        "export_file",
        json!({ "format": "aegis", "password": "export pw" }),
    );
    assert_eq!(status(&s)["changesSinceBackup"], 0);
}
