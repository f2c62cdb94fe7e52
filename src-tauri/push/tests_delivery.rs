//! Shell tests of push delivery (docs/push.md, "Push through the relay"): a fake distributor
//! behind the `Distributor` boundary, its calls driven through `push::delivery::handle` as the
//! UnifiedPush connector hands them over, and the local privacyIDEA stand-in of
//! `push/tests.rs` for the token updates and polls.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tauri::{Listener, Manager};
use twofold_core::push::device_token::{DeviceToken, parse};
use twofold_core::rng::SystemRng;

use crate::push::PushService;
use crate::push::delivery::{
    Distributor, DistributorError, Incoming, PushDelivery, handle, update_tokens,
};
use crate::push::tests::{SERIAL, account, challenge, enrol, fake_server, poll_reply};
use crate::state::AppState;
use crate::tests::Shell;

const DISTRIBUTOR: &str = "org.unifiedpush.Distributor.fake";
const ENDPOINT: &str = "https://push.example.org/up/AbC";
/// Long enough for a loaded 2-core machine; a pass never waits for it.
const PATIENCE: Duration = Duration::from_secs(120);

/// A distributor that takes every registration and says so on a channel.
struct FakeDistributor {
    registered: Mutex<Sender<String>>,
}

impl Distributor for FakeDistributor {
    fn register(&self, connection: &str) -> Result<String, DistributorError> {
        let _ = self
            .registered
            .lock()
            .expect("fake")
            .send(connection.to_owned());
        Ok(DISTRIBUTOR.to_owned())
    }
}

/// The `push-registration` events, as they come.
pub(crate) fn registration_events(s: &Shell) -> Receiver<Value> {
    let (tx, rx) = channel();
    let tx = Mutex::new(tx);
    s.app.listen_any("push-registration", move |e| {
        let v: Value = serde_json::from_str(e.payload()).expect("json");
        let _ = tx.lock().expect("events").send(v);
    });
    rx
}

fn shell_with_fake() -> (Shell, Receiver<String>) {
    let (tx, rx) = channel();
    let distributor = PushDelivery(Some(Arc::new(FakeDistributor {
        registered: Mutex::new(tx),
    })));
    let s = crate::tests::shell_with_distributor(
        tempfile::tempdir().expect("temp dir"),
        None,
        false,
        Default::default(),
        distributor,
    );
    (s, rx)
}

/// What the relay sends for `challenge` to the device token the vault gives the servers.
fn pushed(s: &Shell, challenge: &Value) -> Vec<u8> {
    let state = s.app.state::<AppState>();
    let token = state
        .get()
        .expect("state")
        .vault()
        .expect("unlocked")
        .push_device_token()
        .expect("a device token");
    let Ok(DeviceToken::WebPush(target)) = parse(&token) else {
        panic!("not a Web Push token: {token}")
    };
    twofold_core::push::webpush::encrypt(
        challenge.to_string().as_bytes(),
        &target.p256dh,
        &target.auth,
        &SystemRng::new(),
    )
    .expect("encrypt")
}

/// The nonces the vault holds as pending, oldest first.
fn pending_nonces(s: &Shell) -> Vec<String> {
    let state = s.app.state::<AppState>();
    let inner = state.get().expect("state");
    inner
        .vault()
        .expect("unlocked")
        .pending_challenges(crate::state::unix_now())
        .iter()
        .map(|c| c.nonce().to_owned())
        .collect()
}

/// The distributor gives `connection`'s endpoint ([`ENDPOINT`]).
fn new_endpoint(s: &Shell, connection: &str) {
    handle(
        s.app.handle(),
        Incoming::NewEndpoint {
            connection: connection.to_owned(),
            endpoint: ENDPOINT.into(),
        },
    )
    .expect("endpoint");
}

fn connection(s: &Shell) -> String {
    let state = s.app.state::<AppState>();
    let inner = state.get().expect("state");
    let vault = inner.vault().expect("unlocked");
    vault
        .push_registration()
        .expect("registered")
        .connection()
        .to_owned()
}

/// The vault registers at unlock, the distributor's endpoint becomes the device token, every
/// push token enrolled before gets it with the signed `new_fb_token` update, Settings says
/// so, and the enrolment preview says requests will be pushed (not for a poll-only server).
#[test]
fn the_app_registers_and_moves_its_tokens_to_push() {
    let server = fake_server();
    let (s, registered) = shell_with_fake();
    let view = s.ok("push_registration", json!({}));
    assert_eq!(view["state"], "noDistributor", "{view}");
    let events = registration_events(&s);
    let s = s.unlocked();
    let first = registered.recv_timeout(PATIENCE).expect("registered");
    assert_eq!(first, connection(&s));
    let view = events.recv_timeout(PATIENCE).expect("told");
    assert_eq!(view["state"], "waiting", "{view}");
    assert_eq!(view["distributor"], DISTRIBUTOR);
    assert_eq!(s.ok("push_registration", json!({})), view);
    enrol(&s, account(&server.url, false));

    // Another app's endpoint is ignored.
    handle(
        s.app.handle(),
        Incoming::NewEndpoint {
            connection: "another-app".into(),
            endpoint: ENDPOINT.into(),
        },
    )
    .expect("ignored");
    assert_eq!(s.ok("push_registration", json!({}))["state"], "waiting");

    // This device's: the server hears of it (signed update) and the token is stored.
    server.reply(json!({"result": {"status": true, "value": true}}));
    new_endpoint(&s, &first);
    let state = s.app.state::<AppState>();
    // Whichever run sent it (the one the endpoint started, or this one), it is done now.
    update_tokens(s.app.handle()).expect("updates");
    let token = {
        let inner = state.get().expect("state");
        let vault = inner.vault().expect("unlocked");
        assert_eq!(
            vault.push_account(SERIAL).expect("account").push_token,
            vault.push_device_token().expect("token")
        );
        vault.push_device_token().expect("token")
    };
    assert!(token.contains("push.example.org/up/AbC"), "{token}");
    let sent = server.requests();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].starts_with("POST /ttype/push ")
            && sent[0].contains("new_fb_token=%7B%22v%22%3A1%2C%22kind%22%3A%22webpush%22")
            && sent[0].contains(&format!("serial={SERIAL}"))
            && sent[0].contains("signature="),
        "{sent:?}"
    );
    let view = s.ok("push_registration", json!({}));
    assert_eq!(view["state"], "registered", "{view}");
    assert_eq!(view["endpointHost"], "push.example.org");
    assert!(!view.to_string().contains("AbC"), "{view}");

    // The same endpoint again: nothing to send.
    new_endpoint(&s, &first);
    update_tokens(s.app.handle()).expect("updates");
    assert_eq!(server.requests().len(), 1);

    // The preview: pushed for a server with a push service, only while open for a poll-only one.
    let qr = |poll_only: &str| {
        format!(
            "otpauth://pipush/PIPU2?url={}&ttl=10&issuer=ACME&enrollment_credential=abc&v=1&serial=PIPU2&sslverify=1&poll_only={poll_only}",
            server.url
        )
    };
    let preview = s.ok("push_enrol_preview", json!({ "uri": qr("False") }));
    assert_eq!(preview["delivery"], "push", "{preview}");
    let preview = s.ok("push_enrol_preview", json!({ "uri": qr("True") }));
    assert_eq!(preview["delivery"], "whileOpen", "{preview}");

    // Unregistered by the distributor: Settings says so, new enrolments are poll-only.
    handle(s.app.handle(), Incoming::Unregistered { connection: first }).expect("unregistered");
    let view = s.ok("push_registration", json!({}));
    assert_eq!(view["state"], "waiting", "{view}");
    assert!(view["problem"].as_str().is_some(), "{view}");
    let preview = s.ok("push_enrol_preview", json!({ "uri": qr("False") }));
    assert_eq!(preview["delivery"], "whileOpen");
}

/// A pushed sign-in is decrypted, verified with the server's key and told once per nonce,
/// whether the push or a poll brought it first; forged and foreign messages are dropped; while
/// locked the keyring reads it and the vault takes it after the unlock.
#[test]
fn a_pushed_request_is_told_once_whichever_way_came_first() {
    let server = fake_server();
    let (s, registered) = shell_with_fake();
    let s = s.unlocked();
    let connection = registered.recv_timeout(PATIENCE).expect("registered");
    enrol(&s, account(&server.url, false));
    // The token update the endpoint starts is taken (and done before any poll's reply waits).
    server.reply(json!({"result": {"status": true, "value": true}}));
    new_endpoint(&s, &connection);
    update_tokens(s.app.handle()).expect("updates");
    let told = s.events("push-challenges");
    let count = || told.lock().expect("events").len();
    let message = |nonce: &str| Incoming::Message {
        connection: connection.clone(),
        body: pushed(&s, &challenge(&server.url, nonce, "Sign-in from 10.0.0.1?")),
    };

    // Pushed first: told once, then not again for a redelivery nor for the poll that lists it.
    handle(s.app.handle(), message("N1")).expect("pushed");
    assert_eq!(count(), 1);
    let pending = s.ok("push_pending", json!({}));
    assert_eq!(pending[0]["nonce"], "N1", "{pending}");
    assert_eq!(pending[0]["question"], "Sign-in from 10.0.0.1?");
    handle(s.app.handle(), message("N1")).expect("again");
    assert_eq!(count(), 1);
    let state = s.app.state::<AppState>();
    let service = s.app.state::<PushService>();
    server.reply(poll_reply(vec![challenge(
        &server.url,
        "N1",
        "Sign-in from 10.0.0.1?",
    )]));
    let report = crate::push::poller::poll_blocking(&state, &service).expect("poll");
    assert!(report.new.is_empty(), "{:?}", report.new);

    // Polled first: the push that follows is not told again.
    server.reply(poll_reply(vec![
        challenge(&server.url, "N1", "Sign-in from 10.0.0.1?"),
        challenge(&server.url, "N2", "Sign-in from 10.0.0.1?"),
    ]));
    let report = crate::push::poller::poll_blocking(&state, &service).expect("poll");
    assert_eq!(report.new.len(), 1);
    let before = count();
    handle(s.app.handle(), message("N2")).expect("pushed");
    assert_eq!(count(), before);

    // Forged (not the server's signature), foreign (another connection): nothing told.
    let mut forged = challenge(&server.url, "N3", "Sign-in from 10.0.0.1?");
    forged["question"] = json!("Sign-in from 203.0.113.9?");
    let forged = Incoming::Message {
        connection: connection.clone(),
        body: pushed(&s, &forged),
    };
    assert_eq!(
        handle(s.app.handle(), forged)
            .err()
            .map(|e| format!("{:?}", e.kind)),
        Some("Verification".into())
    );
    handle(
        s.app.handle(),
        Incoming::Message {
            connection: "another-app".into(),
            body: pushed(&s, &challenge(&server.url, "N4", "?")),
        },
    )
    .expect("ignored");
    assert_eq!(count(), before);
    let nonces = pending_nonces(&s);
    assert_eq!(nonces, ["N1", "N2"]);

    // Locked: the keyring (with the registration) reads it; the vault takes it after unlock.
    let locked_body = message("N5");
    s.ok("vault_lock", json!({}));
    handle(s.app.handle(), locked_body).expect("pushed while locked");
    assert_eq!(count(), before + 1);
    assert_eq!(s.kind("push_pending", json!({})), "Locked");
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    let nonces = pending_nonces(&s);
    assert_eq!(nonces, ["N1", "N2", "N5"]);
}

/// A save the app makes on its own, in a background thread (the push token update, once the
/// server took the new device token), is told to the UI exactly as a command's save is when
/// its automatic backup fails: one `backup-failed` event each, of the same kind and form. The
/// token update used to drop its backup's failure (the status alone kept it).
#[test]
fn a_failed_backup_after_a_background_save_is_told_as_a_commands_is() {
    let server = fake_server();
    let (s, registered) = shell_with_fake();
    let s = s.unlocked();
    let connection = registered.recv_timeout(PATIENCE).expect("registered");
    enrol(&s, account(&server.url, false));
    let backups = tempfile::tempdir().expect("backups");
    s.device.will_pick_folder(Some(backups.path().to_owned()));
    s.ok("backup_folder_choose", json!({}));
    let failed = s.events("backup-failed");
    // A disk that damages every backup: each fails its restore drill.
    *s.app
        .state::<AppState>()
        .backup_fault
        .lock()
        .expect("fault") = Some(crate::vault::tests_backup::flip_a_byte);

    // A command's save.
    s.ok(
        "add_uri",
        json!({ "uri": "otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME" }),
    );
    let count = || failed.lock().expect("events").len();
    assert_eq!(count(), 1);

    // The distributor's endpoint (saved), then the token update the server takes (saved in
    // the background; whichever run sent it, it is done when this call returns).
    server.reply(json!({"result": {"status": true, "value": true}}));
    new_endpoint(&s, &connection);
    update_tokens(s.app.handle()).expect("updates");
    let state = s.app.state::<AppState>();
    {
        let inner = state.get().expect("state");
        let vault = inner.vault().expect("unlocked");
        assert_eq!(
            vault.push_account(SERIAL).expect("account").push_token,
            vault.push_device_token().expect("token"),
            "the server took the token and the vault saved it"
        );
    }
    let events = failed.lock().expect("events").clone();
    assert_eq!(
        events.len(),
        3,
        "the command's, the endpoint's, the token update's: {events:?}"
    );
    let payloads: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str(e).expect("payload"))
        .collect();
    for event in &payloads {
        assert_eq!(event["kind"], "check", "{event}");
        assert!(
            event["message"]
                .as_str()
                .is_some_and(|m| m.contains("does not open again")),
            "{event}"
        );
    }
}

/// What the distributor (another process on the session bus) does is never the person's
/// activity: an endpoint given and taken back, again and again, saves the vault each time but
/// never keeps it from locking when idle.
#[test]
fn a_distributor_never_keeps_the_vault_from_locking() {
    let (s, registered) = shell_with_fake();
    let s = s.unlocked();
    let connection = registered.recv_timeout(PATIENCE).expect("registered");
    let state = s.app.state::<AppState>();
    let idle_since = std::time::Instant::now()
        .checked_sub(Duration::from_secs(3600))
        .expect("an hour ago");
    state.get().expect("state").last_activity = idle_since;
    for _ in 0..3 {
        new_endpoint(&s, &connection);
        handle(
            s.app.handle(),
            Incoming::Unregistered {
                connection: connection.clone(),
            },
        )
        .expect("unregistered");
    }
    let inner = state.get().expect("state");
    assert!(
        inner
            .vault()
            .expect("unlocked")
            .push_registration()
            .is_some_and(|r| r.endpoint().is_none()),
        "the endpoint was taken back"
    );
    assert_eq!(inner.last_activity, idle_since);
}
