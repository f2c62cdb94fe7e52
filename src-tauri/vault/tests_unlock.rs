//! Shell tests of push while locked and biometric unlock (docs/push.md, "Push while locked";
//! docs/vault.md, device slot), with the platform's secure storage and tauri-plugin-biometry
//! replaced at their Rust boundary ([`SecureStore`], [`Biometrics`]) by fakes that keep what
//! they are given in memory, and a local HTTP server playing privacyIDEA.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tauri::Manager;
use zeroize::Zeroizing;

use crate::error::{AppError, AppResult, ErrorKind};
use crate::platform::keys::{Biometrics, DeviceKeys, PUSH_KEYRING, SecureStore};
use crate::push::PushService;
use crate::push::notifier::announce;
use crate::push::poller::poll_locked;
use crate::push::tests::{SERIAL, account, challenge, enrol, fake_server, poll_reply, wait_event};
use crate::state::AppState;
use crate::tests::{Shell, shell_with_keys};

/// The secure storage: entries in memory.
#[derive(Default)]
pub(crate) struct FakeStore {
    entries: Mutex<HashMap<String, Vec<u8>>>,
    writes: AtomicUsize,
}

impl SecureStore for FakeStore {
    fn name(&self) -> &'static str {
        "Fake store"
    }
    fn read(&self, name: &str) -> AppResult<Option<Zeroizing<Vec<u8>>>> {
        Ok(self
            .entries
            .lock()
            .expect("fake")
            .get(name)
            .cloned()
            .map(Zeroizing::new))
    }
    fn write(&self, name: &str, bytes: &[u8]) -> AppResult<()> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.entries
            .lock()
            .expect("fake")
            .insert(name.to_owned(), bytes.to_vec());
        Ok(())
    }
    fn delete(&self, name: &str) -> AppResult<()> {
        self.entries.lock().expect("fake").remove(name);
        Ok(())
    }
}

/// The biometrics as the plugin behaves: a key kept per alias, read back after a prompt that
/// succeeds or is cancelled, gone when the biometrics change.
#[derive(Default)]
pub(crate) struct FakeBiometrics {
    available: AtomicBool,
    keys: Mutex<HashMap<String, [u8; 32]>>,
    prompts: AtomicUsize,
    cancel_next: AtomicBool,
}

impl Biometrics for FakeBiometrics {
    fn available(&self) -> bool {
        self.available.load(Ordering::Relaxed)
    }
    fn store_key(&self, alias: &str, key: &[u8; 32]) -> AppResult<()> {
        if !self.available() {
            return Err(AppError::unsupported("no biometrics"));
        }
        self.keys
            .lock()
            .expect("fake")
            .insert(alias.to_owned(), *key);
        Ok(())
    }
    fn load_key(&self, alias: &str, _reason: &str) -> AppResult<Option<Zeroizing<[u8; 32]>>> {
        if !self.available() {
            return Err(AppError::unsupported("no biometrics"));
        }
        self.prompts.fetch_add(1, Ordering::Relaxed);
        if self.cancel_next.swap(false, Ordering::Relaxed) {
            return Err(AppError::new(ErrorKind::AuthRequired, "cancelled"));
        }
        Ok(self
            .keys
            .lock()
            .expect("fake")
            .get(alias)
            .map(|k| Zeroizing::new(*k)))
    }
    fn remove_key(&self, alias: &str) -> AppResult<()> {
        self.keys.lock().expect("fake").remove(alias);
        Ok(())
    }
}

impl FakeBiometrics {
    fn key(&self) -> Option<[u8; 32]> {
        self.keys.lock().expect("fake").values().next().copied()
    }
    /// A fingerprint was added: the platform invalidates the key.
    fn change_biometrics(&self) {
        self.keys.lock().expect("fake").clear();
    }
}

/// Both fakes, shared by a test and its shell.
#[derive(Clone, Default)]
pub(crate) struct FakeKeys {
    pub(crate) store: Arc<FakeStore>,
    pub(crate) biometrics: Arc<FakeBiometrics>,
    /// No secure storage on this device (a Linux desktop without a Secret Service).
    pub(crate) no_store: bool,
}

impl FakeKeys {
    pub(crate) fn device_keys(&self) -> DeviceKeys {
        DeviceKeys {
            store: if self.no_store {
                Err("no Secret Service (such as GNOME Keyring) answers".into())
            } else {
                Ok(self.store.clone())
            },
            biometrics: self.biometrics.clone(),
        }
    }
}

fn shell_keys(keys: FakeKeys) -> Shell {
    shell_with_keys(tempfile::tempdir().expect("temp dir"), None, false, keys)
}

fn locked_poll(s: &Shell) -> Vec<String> {
    let state = s.app.state::<AppState>();
    let service = s.app.state::<PushService>();
    let report = poll_locked(&state, &service).expect("poll while locked");
    announce(s.app.handle(), report)
        .into_iter()
        .map(|v| v.nonce)
        .collect()
}

/// The stored keyring copy, if any.
fn stored_copy(keys: &FakeKeys) -> Option<Zeroizing<Vec<u8>>> {
    keys.store.read(PUSH_KEYRING).expect("read")
}

fn slot_kinds(s: &Shell) -> Vec<String> {
    let file: Value =
        serde_json::from_slice(&std::fs::read(s.dir.path().join("vault.json")).expect("vault"))
            .expect("json");
    file["header"]["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .map(|slot| slot["type"].as_str().expect("type").to_owned())
        .collect()
}

fn set_setting(s: &Shell, name: &str, value: Value) -> Result<Value, Value> {
    let mut settings = s.ok("settings_get", json!({}));
    settings[name] = value;
    s.call("settings_set", json!({ "settings": settings }))
}

#[test]
fn with_the_vault_locked_a_poll_notifies_once_per_nonce_and_answering_asks_for_presence() {
    let server = fake_server();
    let keys = FakeKeys::default();
    let s = shell_keys(keys.clone()).unlocked();
    let status = s.ok("app_status", json!({}));
    assert_eq!(status["pushKeyStore"], "Fake store");
    assert_eq!(status["pushKeyStoreMissing"], Value::Null);
    enrol(&s, account(&server.url, false));
    // The next poll round keeps the push keys in the secure storage.
    s.ok("push_poll", json!({}));
    let stored = stored_copy(&keys).expect("stored");
    assert!(String::from_utf8_lossy(&stored).contains(SERIAL));
    let writes = keys.store.writes.load(Ordering::Relaxed);
    s.ok("push_poll", json!({}));
    assert_eq!(
        keys.store.writes.load(Ordering::Relaxed),
        writes,
        "unchanged accounts are not written again"
    );

    s.ok("vault_lock", json!({}));
    let events = s.events("push-challenges");
    assert!(locked_poll(&s).is_empty());
    // A sign-in while locked: one event and one notification, verified with the stored keys.
    server.reply(poll_reply(vec![challenge(&server.url, "L1", "Sign-in?")]));
    assert_eq!(locked_poll(&s), ["L1"]);
    server.reply(poll_reply(vec![challenge(&server.url, "L1", "Sign-in?")]));
    assert!(locked_poll(&s).is_empty(), "never twice");
    let seen = events.lock().expect("events").clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let shown: Value = serde_json::from_str(&seen[0]).expect("json");
    assert_eq!(shown[0]["nonce"], "L1");
    assert_eq!(shown[0]["issuer"], "ACME");
    // A forged one (signed by another key) is refused while locked too.
    let mut forged = challenge(&server.url, "L2", "Forged?");
    forged["question"] = json!("Changed after signing");
    server.reply(poll_reply(vec![forged]));
    assert!(locked_poll(&s).is_empty());

    // Answering needs the user: the vault is locked, nothing is sent.
    let approve = json!({ "nonce": "L1", "decision": "approve", "answer": null,
                          "reason": null, "location": null });
    assert_eq!(s.kind("push_answer", approve.clone()), "Locked");
    assert_eq!(s.kind("push_pending", json!({})), "Locked");
    let sent = server.requests();
    assert!(sent.iter().all(|r| r.starts_with("GET ")), "{sent:?}");

    // After the unlock the request is there without another poll, and is answered once.
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    assert_eq!(s.ok("push_pending", json!({}))[0]["nonce"], "L1");
    server.reply(json!({"result": {"status": true, "value": true}}));
    assert_eq!(s.ok("push_answer", approve.clone())["accepted"], true);
    assert_eq!(s.kind("push_answer", approve), "AlreadyAnswered");
    // Locked again: the answered nonce, still listed by the server, is not told again.
    s.ok("push_poll", json!({}));
    s.ok("vault_lock", json!({}));
    server.reply(poll_reply(vec![challenge(&server.url, "L1", "Sign-in?")]));
    assert!(locked_poll(&s).is_empty());
}

#[test]
fn after_a_restart_the_stored_keys_poll_before_any_unlock() {
    let server = fake_server();
    let keys = FakeKeys::default();
    let s = shell_keys(keys.clone()).unlocked();
    enrol(&s, account(&server.url, false));
    s.ok("push_poll", json!({}));
    drop(s);
    // A new start (another folder: the vault is not read) with the same secure storage.
    let s = shell_keys(keys.clone());
    assert_eq!(s.ok("app_status", json!({}))["unlocked"], false);
    server.reply(poll_reply(vec![challenge(&server.url, "R1", "Sign-in?")]));
    assert_eq!(locked_poll(&s), ["R1"]);
}

#[test]
fn the_background_poller_notifies_while_locked() {
    let server = fake_server();
    let keys = FakeKeys::default();
    let dir = tempfile::tempdir().expect("temp dir");
    let s = shell_with_keys(
        dir,
        Some(std::time::Duration::from_millis(200)),
        false,
        keys,
    )
    .unlocked();
    enrol(&s, account(&server.url, false));
    s.ok("push_poll", json!({}));
    s.ok("vault_lock", json!({}));
    let challenges = s.events("push-challenges");
    // privacyIDEA lists an open challenge at every poll: a poll that was under way when the
    // vault locked may take one reply and drop it, the next ones bring it again.
    for _ in 0..5 {
        server.reply(poll_reply(vec![challenge(&server.url, "BGL", "Sign-in?")]));
    }
    let shown = wait_event(&challenges, |v| v[0]["nonce"] == "BGL");
    assert_eq!(shown[0]["question"], "Sign-in?");
    assert_eq!(s.kind("push_pending", json!({})), "Locked");
}

#[test]
fn without_secure_storage_or_with_the_setting_off_push_waits_for_the_unlock() {
    let server = fake_server();
    let keys = FakeKeys {
        no_store: true,
        ..FakeKeys::default()
    };
    let s = shell_keys(keys).unlocked();
    let status = s.ok("app_status", json!({}));
    assert_eq!(status["pushKeyStore"], Value::Null);
    assert!(
        status["pushKeyStoreMissing"]
            .as_str()
            .is_some_and(|m| m.contains("Secret Service")),
        "{status}"
    );
    enrol(&s, account(&server.url, false));
    s.ok("push_poll", json!({}));
    s.ok("vault_lock", json!({}));
    let before = server.requests().len();
    assert!(locked_poll(&s).is_empty());
    assert_eq!(
        server.requests().len(),
        before,
        "nothing polled while locked"
    );

    // With storage, turning the setting off removes the stored keys.
    let keys = FakeKeys::default();
    let s = shell_keys(keys.clone()).unlocked();
    enrol(&s, account(&server.url, false));
    s.ok("push_poll", json!({}));
    assert!(stored_copy(&keys).is_some());
    set_setting(&s, "pushWhileLocked", json!(false)).expect("settings");
    assert!(stored_copy(&keys).is_none());
    s.ok("vault_lock", json!({}));
    let before = server.requests().len();
    assert!(locked_poll(&s).is_empty());
    assert_eq!(server.requests().len(), before);
    // Removing the last push account removes them too.
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    set_setting(&s, "pushWhileLocked", json!(true)).expect("settings");
    assert!(stored_copy(&keys).is_some());
    s.ok("push_remove", json!({ "serial": SERIAL }));
    assert!(stored_copy(&keys).is_none());
}

#[test]
fn biometric_unlock_through_the_device_slot() {
    let keys = FakeKeys::default();
    let s = shell_keys(keys.clone()).unlocked();
    // No biometrics on this device: Unsupported, and the UI does not offer it.
    assert_eq!(s.ok("app_status", json!({}))["biometricsAvailable"], false);
    assert_eq!(
        set_setting(&s, "biometrics", json!(true)).expect_err("refused")["kind"],
        "Unsupported"
    );
    assert_eq!(s.kind("vault_unlock_biometric", json!({})), "Unsupported");

    // A phone with biometrics: turning it on adds a device slot whose key the plugin keeps.
    keys.biometrics.available.store(true, Ordering::Relaxed);
    let status = s.ok("app_status", json!({}));
    assert_eq!(status["biometricsAvailable"], true);
    assert_eq!(status["biometricUnlock"], false);
    set_setting(&s, "biometrics", json!(true)).expect("turned on");
    assert_eq!(slot_kinds(&s), ["password", "device"]);
    let first_key = keys.biometrics.key().expect("key kept");
    assert_eq!(s.ok("app_status", json!({}))["biometricUnlock"], true);
    // The key never reaches the vault file or the webview.
    let file = std::fs::read_to_string(s.dir.path().join("vault.json")).expect("vault");
    assert!(!file.contains(&crate::platform::keys::key_text(&first_key)[..]));

    // Locked, then opened with biometrics (one prompt).
    s.ok("accounts_list", json!({}));
    s.ok("vault_lock", json!({}));
    s.ok("vault_unlock_biometric", json!({}));
    assert_eq!(keys.biometrics.prompts.load(Ordering::Relaxed), 1);
    assert_eq!(s.ok("app_status", json!({}))["unlocked"], true);
    s.ok("accounts_list", json!({}));

    // A cancelled prompt leaves it locked and biometric unlock on.
    s.ok("vault_lock", json!({}));
    keys.biometrics.cancel_next.store(true, Ordering::Relaxed);
    assert_eq!(s.kind("vault_unlock_biometric", json!({})), "AuthRequired");
    assert_eq!(s.kind("accounts_list", json!({})), "Locked");
    s.ok("vault_unlock_biometric", json!({}));

    // A password change drops the slot with the old master key; a new key is enrolled.
    s.ok(
        "vault_change_password",
        json!({ "current": "correct horse", "next": "battery staple" }),
    );
    assert_eq!(slot_kinds(&s), ["password", "device"]);
    assert_ne!(keys.biometrics.key(), Some(first_key));
    s.ok("vault_lock", json!({}));
    s.ok("vault_unlock_biometric", json!({}));

    // The biometrics change: the key is gone, biometric unlock turns itself off, and the
    // next password unlock removes the slot.
    s.ok("vault_lock", json!({}));
    keys.biometrics.change_biometrics();
    assert_eq!(s.kind("vault_unlock_biometric", json!({})), "AuthRequired");
    assert_eq!(s.ok("settings_get", json!({}))["biometrics"], false);
    assert_eq!(slot_kinds(&s), ["password", "device"]);
    s.ok("vault_unlock", json!({ "password": "battery staple" }));
    assert_eq!(slot_kinds(&s), ["password"]);
    assert_eq!(s.ok("app_status", json!({}))["biometricUnlock"], false);

    // On again, then off in the settings: the slot and the key go.
    set_setting(&s, "biometrics", json!(true)).expect("on");
    assert_eq!(slot_kinds(&s), ["password", "device"]);
    set_setting(&s, "biometrics", json!(false)).expect("off");
    assert_eq!(slot_kinds(&s), ["password"]);
    assert_eq!(keys.biometrics.key(), None);
    s.ok("vault_lock", json!({}));
    assert_eq!(s.kind("vault_unlock_biometric", json!({})), "Unsupported");
}

#[test]
fn a_key_that_no_longer_opens_the_vault_turns_biometric_unlock_off() {
    let keys = FakeKeys::default();
    keys.biometrics.available.store(true, Ordering::Relaxed);
    let s = shell_keys(keys.clone()).unlocked();
    set_setting(&s, "biometrics", json!(true)).expect("on");
    s.ok("vault_lock", json!({}));
    // Another key under the alias (a reinstall, a restored backup of the vault).
    keys.biometrics
        .store_key(crate::platform::keys::DEVICE_KEY_ALIAS, &[9; 32])
        .expect("store");
    assert_eq!(s.kind("vault_unlock_biometric", json!({})), "AuthRequired");
    assert_eq!(s.ok("settings_get", json!({}))["biometrics"], false);
    assert_eq!(keys.biometrics.key(), None);
    assert_eq!(s.kind("accounts_list", json!({})), "Locked");
}

#[test]
fn an_approval_that_asks_for_device_authentication_counts_biometrics_as_presence() {
    let server = fake_server();
    let keys = FakeKeys::default();
    keys.biometrics.available.store(true, Ordering::Relaxed);
    let s = shell_keys(keys.clone()).unlocked();
    set_setting(&s, "biometrics", json!(true)).expect("on");
    enrol(&s, account(&server.url, true));
    s.ok("push_poll", json!({}));
    s.ok("vault_lock", json!({}));
    // Its key stays in the vault: nothing is polled for it while locked.
    let before = server.requests().len();
    assert!(locked_poll(&s).is_empty());
    assert_eq!(server.requests().len(), before);
    server.reply(poll_reply(vec![challenge(&server.url, "P1", "Sign-in?")]));
    let approve = json!({ "nonce": "P1", "decision": "approve", "answer": null,
                          "reason": null, "location": null });
    assert_eq!(s.kind("push_answer", approve.clone()), "Locked");
    s.ok("vault_unlock_biometric", json!({}));
    s.ok("push_poll", json!({}));
    server.reply(json!({"result": {"status": true, "value": true}}));
    assert_eq!(s.ok("push_answer", approve)["accepted"], true);
    // Later, the presence has gone stale: asked again (the vault is open).
    server.reply(poll_reply(vec![challenge(&server.url, "P2", "Again?")]));
    s.ok("push_poll", json!({}));
    s.password_entered_ago(crate::state::REAUTH_SECS + 1);
    let again = json!({ "nonce": "P2", "decision": "approve", "answer": null,
                        "reason": null, "location": null });
    assert_eq!(s.kind("push_answer", again), "AuthRequired");
}

#[cfg(desktop)]
#[test]
fn keeping_running_in_the_tray_needs_a_system_tray() {
    let s = shell_keys(FakeKeys::default()).unlocked();
    assert_eq!(s.ok("settings_get", json!({}))["keepInTray"], false);
    match crate::tray::missing() {
        // This machine has no tray library: refused, nothing stored, closing quits.
        Some(why) => {
            let turned_on = set_setting(&s, "keepInTray", json!(true));
            let e = turned_on.expect_err("refused without a tray");
            assert_eq!(e["kind"], "Unsupported");
            assert!(e["message"].as_str().is_some_and(|m| m == why), "{e}");
            assert_eq!(s.ok("settings_get", json!({}))["keepInTray"], false);
            assert!(!crate::tray::keeps_running(s.app.handle()));
        }
        // The tray's menu needs GTK started, which the mock runtime does not do: the tray
        // itself is exercised by the real app only.
        None => {
            println!("SKIPPED: a tray library is installed; the mock runtime cannot make a tray")
        }
    }
}

/// Measurement (printed, not asserted): with the app's real poll interval and the vault
/// locked, from a sign-in appearing on a local server to the `push-challenges` event (which
/// goes with the notification), 5 times; the median is about half the 3 s interval.
#[test]
fn measure_trigger_to_notification_while_locked() {
    let server = fake_server();
    let dir = tempfile::tempdir().expect("temp dir");
    let every = crate::push::poller::PUSH_POLL_EVERY;
    let s = shell_with_keys(dir, Some(every), false, FakeKeys::default()).unlocked();
    enrol(&s, account(&server.url, false));
    s.ok("push_poll", json!({}));
    s.ok("vault_lock", json!({}));
    let challenges = s.events("push-challenges");
    let mut times = Vec::new();
    for i in 0..5u32 {
        // Triggers fall anywhere in the poll interval.
        std::thread::sleep(std::time::Duration::from_millis(u64::from(i) * 437 % 3000));
        let nonce = format!("M{i}");
        let start = std::time::Instant::now();
        server.reply(poll_reply(vec![challenge(&server.url, &nonce, "Sign-in?")]));
        wait_event(&challenges, |v| {
            v.as_array()
                .is_some_and(|a| a.iter().any(|c| c["nonce"] == nonce.as_str()))
        });
        times.push(start.elapsed());
    }
    times.sort();
    println!(
        "trigger -> notification while locked (poll every {every:?}), 5 runs: median {:?}, min {:?}, max {:?}",
        times[2], times[0], times[4]
    );
}

/// The stored keyring holds only the push accounts that do not require presence, and of those
/// only what a poll needs (no push-service token): a reader of the storage cannot approve a
/// `pin`/`app_force_unlock` account's sign-ins. Such an account is polled while the vault is
/// unlocked only. A copy written before (with every account) is written again at start
/// without them. With "Receive sign-in requests while locked" off, no key is kept outside the
/// vault at all and nothing is polled while locked.
#[test]
fn the_keyring_copy_holds_no_presence_account_and_the_setting_keeps_every_key_in_the_vault() {
    let server = fake_server();
    let keys = FakeKeys::default();
    let s = shell_keys(keys.clone()).unlocked();
    let mut presence = account(&server.url, true);
    presence.serial = "PIPUPRESENCE".into();
    enrol(&s, presence);
    enrol(&s, account(&server.url, false));
    s.ok("push_poll", json!({}));
    let stored = stored_copy(&keys).expect("stored");
    let copy: Value = serde_json::from_slice(&stored).expect("json");
    let entries = copy.as_array().expect("list");
    assert_eq!(entries.len(), 1, "{copy}");
    assert_eq!(entries[0]["serial"], SERIAL);
    let mut fields: Vec<&str> = entries[0]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "issuer",
            "label",
            "phone_key",
            "protocol",
            "serial",
            "server_key",
            "url",
            "verify_tls"
        ]
    );
    println!(
        "keyring copy ({}): {} bytes, 1 of 2 push accounts, fields {fields:?}",
        keys.store.name(),
        stored.len()
    );

    // Locked: only that account is polled.
    s.ok("vault_lock", json!({}));
    let before = server.requests().len();
    server.reply(poll_reply(vec![challenge(&server.url, "L1", "Sign-in?")]));
    assert_eq!(locked_poll(&s), ["L1"]);
    let polled = server.requests()[before..].to_vec();
    assert_eq!(polled.len(), 1, "{polled:?}");
    assert!(polled[0].contains(SERIAL) && !polled[0].contains("PIPUPRESENCE"));

    // A copy as an earlier version wrote it (both accounts, the presence one's key included)
    // is written again at start, without it.
    let mut old = copy.clone();
    let mut extra = entries[0].clone();
    extra["serial"] = json!("PIPUPRESENCE");
    extra["require_pin"] = json!(true);
    extra["push_token"] = json!("no_firebase_token");
    old.as_array_mut().expect("list").push(extra);
    keys.store
        .write(PUSH_KEYRING, old.to_string().as_bytes())
        .expect("write");
    let state = s.app.state::<AppState>();
    let service = s.app.state::<PushService>();
    crate::push::locked::load(&state, &service, &keys.device_keys()).expect("load");
    let rewritten = stored_copy(&keys).expect("stored");
    assert!(!String::from_utf8_lossy(&rewritten).contains("PIPUPRESENCE"));
    let before = server.requests().len();
    locked_poll(&s);
    assert!(
        server.requests()[before..]
            .iter()
            .all(|r| !r.contains("PIPUPRESENCE"))
    );

    // Every key in the vault: no copy at all, nothing polled while locked.
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    set_setting(&s, "pushWhileLocked", json!(false)).expect("settings");
    assert!(stored_copy(&keys).is_none());
    s.ok("push_poll", json!({}));
    assert!(stored_copy(&keys).is_none());
    s.ok("vault_lock", json!({}));
    let before = server.requests().len();
    assert!(locked_poll(&s).is_empty());
    assert_eq!(server.requests().len(), before);
    assert!(stored_copy(&keys).is_none());
}

/// A sign-in request polled with keys from the platform's storage is verified again with the
/// vault's server key before the vault takes it: a stored copy whose server key someone
/// replaced with their own (any process of a desktop session can write the Secret Service)
/// gets a notification through at most, never a request into the vault or an answer.
#[test]
fn a_request_the_keyring_took_is_verified_again_with_the_vaults_server_key() {
    let server = fake_server();
    let keys = FakeKeys::default();
    let s = shell_keys(keys.clone()).unlocked();
    // The vault's account trusts the real server's key (whose private half this test lacks).
    let mut genuine = account(&server.url, false);
    let real_key = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/core/tests/vectors/push/server-key.pkcs1.b64"
    ))
    .expect("server key");
    genuine.server_key =
        twofold_core::push::ServerKey::from_base64(real_key.trim()).expect("server key");
    enrol(&s, genuine);
    s.ok("push_poll", json!({}));
    s.ok("vault_lock", json!({}));
    // The stored copy's server key swapped for the forger's, then read (as at a start).
    let forger = crate::push::tests::test_key();
    let forged_key =
        twofold_core::push::ServerKey::from_pkcs1_der(&forger.public_pkcs1_der().expect("public"))
            .expect("key");
    let mut copy: Value =
        serde_json::from_slice(&stored_copy(&keys).expect("stored")).expect("json");
    copy[0]["server_key"] = json!(forged_key.to_base64());
    keys.store
        .write(PUSH_KEYRING, copy.to_string().as_bytes())
        .expect("write");
    let state = s.app.state::<AppState>();
    let service = s.app.state::<PushService>();
    crate::push::locked::load(&state, &service, &keys.device_keys()).expect("load");
    // The forger's request passes the copy's own check (signed with test_key)...
    server.reply(poll_reply(vec![challenge(&server.url, "F1", "Approve?")]));
    assert_eq!(locked_poll(&s), ["F1"]);
    // ...and not the vault's: after the unlock it is not there to approve.
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    assert_eq!(s.ok("push_pending", json!({})), json!([]));
    let approve = json!({ "nonce": "F1", "decision": "approve", "answer": null,
                          "reason": null, "location": null });
    assert!(s.call("push_answer", approve).is_err());
    assert!(server.requests().iter().all(|r| r.starts_with("GET ")));
}
