//! Shell tests of the phones' push registration (docs/push.md, "Phones"): the plugin's edge
//! (`platform::phonepush::TokenSource`, tauri-plugin-notifications on a phone) mocked, its
//! answers driven through `push::delivery::handle` as the platform's thread hands them over,
//! and the local privacyIDEA stand-in of `tests_push.rs` for enrolment and token updates.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tauri::Manager;
use twofold_core::push::ServerKey;

use super::tests::{SERIAL, account, enrol, fake_server, test_key};
use super::tests_delivery::registration_events;
use crate::platform::phonepush::{PhonePush, Service, TokenAnswer, TokenSource, Unconfigured};
use crate::push::delivery::{Incoming, PushDelivery, handle, update_tokens};
use crate::state::AppState;
use crate::tests::Shell;

/// Long enough for a loaded 2-core machine; a pass never waits for it.
const PATIENCE: Duration = Duration::from_secs(120);
const FCM_TOKEN: &str = "dE4k:APA91bH-reg_token";

/// The plugin's edge: every request is handed to the test, which answers it.
struct MockTokens {
    service: Service,
    asked: Mutex<Sender<TokenAnswer>>,
}

impl TokenSource for MockTokens {
    fn service(&self) -> Service {
        self.service
    }

    fn request(&self, answer: TokenAnswer) {
        let _ = self.asked.lock().expect("mock").send(answer);
    }
}

/// A phone: its registrations reach the mock; what they tell the app comes back on
/// `incoming` (handed to `handle` by the test, as the platform's thread does).
struct Phone {
    s: Shell,
    asked: Receiver<TokenAnswer>,
    incoming: Receiver<Incoming>,
    told: Receiver<Value>,
}

fn phone(service: Service) -> Phone {
    let (tx, asked) = channel();
    let (push, incoming) = PhonePush::new(Arc::new(MockTokens {
        service,
        asked: Mutex::new(tx),
    }));
    let s = crate::tests::shell_with_distributor(
        tempfile::tempdir().expect("temp dir"),
        None,
        false,
        Default::default(),
        PushDelivery(Some(Arc::new(push))),
    );
    let told = registration_events(&s);
    Phone {
        s,
        asked,
        incoming,
        told,
    }
}

impl Phone {
    /// The app's next request for a token, once the registration that made it was told (what
    /// Settings then shows is the second value).
    fn asked(&self) -> (TokenAnswer, Value) {
        let respond = self
            .asked
            .recv_timeout(PATIENCE)
            .expect("the app asked for a token");
        let view = self.told.recv_timeout(PATIENCE).expect("told");
        (respond, view)
    }

    /// The mock answers the app's next request; the app takes what the answer became.
    fn answer(&self, answer: Result<&str, &str>) {
        let (respond, _) = self.asked();
        respond(answer.map(str::to_owned).map_err(str::to_owned));
        let told = self.incoming.recv_timeout(PATIENCE).expect("told");
        handle(self.s.app.handle(), told).expect("handled");
    }

    /// Locks and unlocks (the app asks for the token again), what was told before dropped.
    fn unlock_again(&self) {
        self.s.ok("vault_lock", json!({}));
        while self.told.try_recv().is_ok() {}
        self.s
            .ok("vault_unlock", json!({ "password": "correct horse" }));
    }
}

fn device_token(s: &Shell) -> Option<String> {
    let state = s.app.state::<AppState>();
    let inner = state.get().expect("state");
    inner.vault().expect("unlocked").push_device_token()
}

fn enrolment_qr(url: &str, serial: &str) -> String {
    format!(
        "otpauth://pipush/{serial}?url={url}&ttl=10&issuer=ACME&enrollment_credential=abc&v=1&serial={serial}&sslverify=1&poll_only=False"
    )
}

/// Android: at unlock the app asks the plugin for FirebaseMessaging's token; the token becomes
/// the relay's `fcm` device token, a token enrolled poll-only before is moved to it with the
/// signed `new_fb_token` update, a new enrolment sends it as its `fbtoken`, Settings says
/// requests arrive through FCM, and a rotated token is sent again.
#[test]
fn an_fcm_token_becomes_the_device_token_of_enrolments_and_updates() {
    let server = fake_server();
    let mut p = phone(Service::Fcm);
    p.s = p.s.unlocked();
    let s = &p.s;
    enrol(s, account(&server.url, false));
    // Asked, not yet answered: Settings says it waits for the push service.
    let (respond, told) = p.asked();
    let view = s.ok("push_registration", json!({}));
    assert_eq!(view, told);
    assert_eq!(view["state"], "waiting", "{view}");
    assert_eq!(view["distributor"], "Firebase Cloud Messaging");
    assert_eq!(device_token(s), None);

    // The plugin gives the token: the server hears of it, signed with the token's key.
    server.reply(json!({"result": {"status": true, "value": true}}));
    respond(Ok(FCM_TOKEN.to_owned()));
    handle(
        s.app.handle(),
        p.incoming.recv_timeout(PATIENCE).expect("told"),
    )
    .expect("token");
    let token = device_token(s).expect("a device token");
    assert_eq!(
        token,
        format!(r#"{{"v":1,"kind":"fcm","token":"{FCM_TOKEN}"}}"#)
    );
    let state = s.app.state::<AppState>();
    // Whichever run sent it (the one the token started, or this one), it is done now.
    update_tokens(s.app.handle()).expect("updates");
    assert_eq!(
        state
            .get()
            .expect("state")
            .vault()
            .expect("unlocked")
            .push_account(SERIAL)
            .expect("account")
            .push_token,
        token
    );
    let sent = server.requests();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].starts_with("POST /ttype/push ")
            && sent[0].contains("new_fb_token=%7B%22v%22%3A1%2C%22kind%22%3A%22fcm%22%2C%22token%22%3A%22dE4k%3AAPA91bH-reg_token%22%7D")
            && sent[0].contains(&format!("serial={SERIAL}"))
            && sent[0].contains("signature="),
        "{sent:?}"
    );
    let view = s.ok("push_registration", json!({}));
    assert_eq!(view["state"], "registered", "{view}");
    assert_eq!(view["endpointHost"], "fcm.googleapis.com");
    assert_eq!(view["problem"], Value::Null);
    assert!(!view.to_string().contains("APA91"), "{view}");

    // A new enrolment sends the token as its fbtoken; the preview says requests are pushed.
    let qr = enrolment_qr(&server.url, "PIPU2");
    let preview = s.ok("push_enrol_preview", json!({ "uri": qr }));
    assert_eq!(preview["delivery"], "push", "{preview}");
    let server_key = ServerKey::from_pkcs1_der(&test_key().public_pkcs1_der().expect("public"))
        .expect("key")
        .to_base64();
    server.reply(json!({
        "detail": {"public_key": server_key, "rollout_state": "enrolled", "serial": "PIPU2"},
        "result": {"status": true, "value": true}
    }));
    let pasted = s.ok("add_uri", json!({ "uri": qr }));
    s.ok(
        "push_enrol_confirm",
        json!({ "id": pasted["preview"]["id"] }),
    );
    let sent = server.requests();
    assert!(
        sent[1].contains("enrollment_credential=")
            && sent[1].contains("fbtoken=%7B%22v%22%3A1%2C%22kind%22%3A%22fcm%22"),
        "{sent:?}"
    );

    // FirebaseMessaging rotated the token (asked again at the next unlock): both servers hear.
    p.unlock_again();
    server.reply(json!({"result": {"status": true, "value": true}}));
    server.reply(json!({"result": {"status": true, "value": true}}));
    p.answer(Ok("rotated:Token-2"));
    update_tokens(s.app.handle()).expect("updates");
    let sent = server.requests();
    let moved = sent
        .iter()
        .filter(|r| r.contains("new_fb_token=%7B%22v%22%3A1%2C%22kind%22%3A%22fcm%22%2C%22token%22%3A%22rotated%3AToken-2"))
        .count();
    assert_eq!(moved, 2, "{sent:?}");
}

/// iOS: the APNs device token (hex, as the plugin gives it) becomes the relay's `apns` device
/// token, the sandbox flag kept, and Settings names Apple's push service.
#[test]
fn an_apns_token_becomes_the_device_token() {
    let mut p = phone(Service::Apns { sandbox: true });
    p.s = p.s.unlocked();
    let s = &p.s;
    p.answer(Ok("00FF10ab"));
    assert_eq!(
        device_token(s).expect("a device token"),
        r#"{"v":1,"kind":"apns","token":"00ff10ab","sandbox":true}"#
    );
    let view = s.ok("push_registration", json!({}));
    assert_eq!(view["state"], "registered", "{view}");
    assert_eq!(view["distributor"], "Apple Push Notification service");
    assert_eq!(view["endpointHost"], "api.sandbox.push.apple.com");
}

/// No token (notifications not allowed, no network, a token that is not one): no device
/// token, tokens stay poll-only and nothing is sent, Settings says why, the enrolment preview
/// says requests arrive while the app is open; a later token still moves the tokens.
#[test]
fn without_a_token_requests_are_polled_and_settings_says_why() {
    let server = fake_server();
    let mut p = phone(Service::Fcm);
    p.s = p.s.unlocked();
    let s = &p.s;
    enrol(s, account(&server.url, false));
    let reason =
        "notifications are not allowed for Twofold: sign-in requests arrive while it is open";
    p.answer(Err(reason));
    let view = s.ok("push_registration", json!({}));
    assert_eq!(view["state"], "noDistributor", "{view}");
    assert_eq!(view["problem"], reason);
    assert_eq!(device_token(s), None);
    assert!(update_tokens(s.app.handle()).expect("updates").is_empty());
    assert!(server.requests().is_empty());
    let preview = s.ok(
        "push_enrol_preview",
        json!({ "uri": enrolment_qr(&server.url, "PIPU2") }),
    );
    assert_eq!(preview["delivery"], "whileOpen", "{preview}");

    // A token the relay could not read (not FCM's alphabet) is refused the same way.
    p.unlock_again();
    p.answer(Ok("not a token/../x"));
    let view = s.ok("push_registration", json!({}));
    assert_eq!(view["state"], "noDistributor", "{view}");
    assert!(
        view["problem"]
            .as_str()
            .expect("problem")
            .contains("unusable token"),
        "{view}"
    );
    assert_eq!(device_token(s), None);

    // Allowed later (the next unlock asks again): the token comes, the account moves.
    p.unlock_again();
    server.reply(json!({"result": {"status": true, "value": true}}));
    p.answer(Ok(FCM_TOKEN));
    update_tokens(s.app.handle()).expect("updates");
    assert_eq!(server.requests().len(), 1);
    assert_eq!(s.ok("push_registration", json!({}))["state"], "registered");
}

/// An Android build without google-services.json: the app never asks the plugin, polls, and
/// Settings says why.
#[test]
fn a_build_without_firebase_polls_and_says_so() {
    let s = crate::tests::shell_with_distributor(
        tempfile::tempdir().expect("temp dir"),
        None,
        false,
        Default::default(),
        PushDelivery(Some(Arc::new(Unconfigured(
            crate::platform::phonepush::NO_FIREBASE,
        )))),
    );
    let told = registration_events(&s);
    let s = s.unlocked();
    // The registration runs off the unlock's thread: its outcome is told.
    let view = told.recv_timeout(PATIENCE).expect("told");
    assert_eq!(view["state"], "noDistributor", "{view}");
    assert_eq!(s.ok("push_registration", json!({})), view);
    assert_eq!(view["problem"], crate::platform::phonepush::NO_FIREBASE);
    assert_eq!(device_token(&s), None);
}

/// The sign-in notification's buttons as tauri-plugin-notifications reads them, in the UI's
/// language: Approve, and Deny (destructive), under the id the notifier gives notifications
/// with buttons.
#[test]
fn the_phone_notification_buttons_are_written_in_the_plugins_shape() {
    use crate::dto::UiLocale;
    use crate::push::notifier::{PUSH_ACTIONS, action_types};
    let sv = action_types(UiLocale::Sv);
    assert_eq!(sv[0]["id"], PUSH_ACTIONS);
    assert_eq!(
        sv[0]["actions"],
        json!([
            {"id": "approve", "title": "Godkänn", "foreground": true},
            {"id": "deny", "title": "Neka", "foreground": true, "destructive": true},
        ])
    );
    assert_eq!(
        action_types(UiLocale::En)[0]["actions"][0]["title"],
        "Approve"
    );
}
