//! Shell tests of the settings: stored and checked, the backups that follow every save, what a
//! desktop has not (camera, location, biometrics).

use serde_json::{Value, json};

use crate::tests::*;

#[test]
fn desktop_has_no_camera_location_or_biometrics() {
    let s = shell().unlocked();
    assert_eq!(s.kind("location_current", json!({})), "LocationUnavailable");
    assert_eq!(s.kind("vault_unlock_biometric", json!({})), "Unsupported");
    let mut settings = s.ok("settings_get", json!({}));
    settings["biometrics"] = json!(true);
    assert_eq!(
        s.kind("settings_set", json!({ "settings": settings })),
        "Unsupported"
    );
}

#[test]
fn settings_persist_and_are_checked() {
    let s = shell().unlocked();
    let defaults = s.ok("settings_get", json!({}));
    assert_eq!(
        defaults,
        json!({ "lockTimeoutSecs": 300, "lockOnBackground": true, "biometrics": false,
        "pushWhileLocked": true, "keepInTray": false,
        "language": "system", "theme": "system", "backupFolder": null })
    );
    let mut changed = defaults.clone();
    changed["language"] = json!("sv");
    changed["theme"] = json!("dark");
    changed["lockTimeoutSecs"] = json!(60);
    assert_eq!(
        s.ok("settings_set", json!({ "settings": changed })),
        changed
    );
    let mut bad = changed.clone();
    bad["lockTimeoutSecs"] = json!(100_000);
    assert_eq!(
        s.kind("settings_set", json!({ "settings": bad })),
        "InvalidInput"
    );
    // The webview cannot name a backup folder, not even an existing absolute one.
    let existing = tempfile::tempdir().expect("dir");
    for folder in [json!("relative/folder"), json!(existing.path())] {
        bad = changed.clone();
        bad["backupFolder"] = folder;
        assert_eq!(
            s.kind("settings_set", json!({ "settings": bad })),
            "InvalidInput"
        );
    }
    let Shell { dir, .. } = s;
    let s = shell_in(dir);
    // Read while locked (the unlock screen's language and theme), changed only when unlocked.
    assert_eq!(s.ok("settings_get", json!({})), changed);
    assert_eq!(
        s.kind("settings_set", json!({ "settings": defaults })),
        "Locked"
    );
    assert_eq!(s.kind("backup_folder_choose", json!({})), "Locked");
    assert_eq!(s.kind("backup_now", json!({})), "Locked");
    assert_eq!(s.ok("settings_get", json!({})), changed);
}

#[test]
fn backups_follow_every_save_and_failures_are_reported() {
    let s = shell().unlocked();
    let backups = tempfile::tempdir().expect("backup dir");
    assert_eq!(s.kind("backup_now", json!({})), "InvalidInput");
    // Cancelled folder dialog: nothing changes. The app's own folder is refused.
    assert_eq!(
        s.ok("backup_folder_choose", json!({}))["backupFolder"],
        Value::Null
    );
    s.device.will_pick_folder(Some(s.dir.path().to_owned()));
    assert_eq!(s.kind("backup_folder_choose", json!({})), "InvalidInput");
    s.device.will_pick_folder(Some(backups.path().to_owned()));
    let settings = s.ok("backup_folder_choose", json!({}));
    assert_eq!(settings["backupFolder"], json!(backups.path().to_str()));
    // Other settings keep the chosen folder when they are saved.
    let mut other = settings.clone();
    other["theme"] = json!("dark");
    assert_eq!(s.ok("settings_set", json!({ "settings": other })), other);
    s.ok("add_uri", json!({ "uri": URI }));
    let status = s.ok("backup_status", json!({}));
    let path = status["lastPath"].as_str().expect("backup path").to_owned();
    assert!(status["lastOkAt"].as_u64().is_some() && status["lastError"].is_null());
    // The backup is the encrypted vault: it opens with the password and holds the account.
    let bytes = std::fs::read(&path).expect("backup file");
    let vault = twofold_core::vault::Vault::open(&bytes, b"correct horse").expect("backup opens");
    assert_eq!(vault.accounts().len(), 1);
    assert!(!String::from_utf8_lossy(&bytes).contains(SECRET));
    assert!(s.ok("backup_now", json!({}))["lastPath"].is_string());

    // The folder disappears: the save succeeds, the failure is an event and in the status.
    let failed = s.events("backup-failed");
    drop(backups);
    s.ok("add_uri", json!({ "uri": HOTP_URI }));
    let events = failed.lock().expect("events").clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0].contains("backup failed"), "{events:?}");
    assert!(
        s.ok("backup_status", json!({}))["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("does not exist"))
    );
    assert_eq!(s.kind("backup_now", json!({})), "Io");
    assert_eq!(
        s.ok("accounts_list", json!({})).as_array().map(Vec::len),
        Some(2)
    );
}
