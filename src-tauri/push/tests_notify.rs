//! Shell tests of the permission commands and of the notification as the way in (a tap opens
//! the request, Approve/Deny answer it with the screen's checks), through Tauri's IPC on the
//! mock runtime with the fake device of tests.rs and the fake privacyIDEA of push/tests.rs.

use serde_json::{Value, json};
use tauri::Manager;
use twofold_core::push::privacyidea::challenge_message;

use crate::dto::{Permission, PermissionState, PushChallengeView, UiLocale};
use crate::push::PushService;
use crate::push::notifier::{buttons_allowed, notification_text};
use crate::push::tests::{
    SERIAL, account, challenge, enrol, fake_server, poll_reply, test_key, wait_event,
};
use crate::state::AppState;
use crate::tests::shell;

#[test]
fn permissions_report_each_state_and_ask_only_when_the_os_would() {
    let s = shell();
    // Desktop: notifications only (no camera scanning, no location), and no vault needed.
    assert_eq!(
        s.ok("permissions_status", json!({})),
        json!([{ "permission": "notifications", "state": "prompt" }])
    );
    let set = |p: Permission, st: PermissionState| {
        s.device.permissions.lock().expect("fake").insert(p, st);
    };
    for (state, name) in [
        (PermissionState::Granted, "granted"),
        (PermissionState::Denied, "denied"),
        (PermissionState::Prompt, "prompt"),
        (PermissionState::PromptWithRationale, "promptWithRationale"),
    ] {
        set(Permission::Notifications, state);
        assert_eq!(
            s.ok("permissions_status", json!({}))[0]["state"],
            name,
            "{state:?}"
        );
    }

    // Refused once: asking shows the OS prompt again; the user allows.
    let asked = s.ok(
        "permission_request",
        json!({ "permission": "notifications" }),
    );
    assert_eq!(
        asked,
        json!({ "permission": "notifications", "state": "granted" })
    );
    assert_eq!(
        *s.device.prompted.lock().expect("fake"),
        vec![Permission::Notifications]
    );
    // Allowed: no prompt.
    s.ok(
        "permission_request",
        json!({ "permission": "notifications" }),
    );
    assert_eq!(s.device.prompted.lock().expect("fake").len(), 1);
    // Refused for good: the OS shows no prompt; the state says so (the UI then explains the
    // system settings).
    set(Permission::Notifications, PermissionState::Denied);
    assert_eq!(
        s.ok(
            "permission_request",
            json!({ "permission": "notifications" })
        )["state"],
        "denied"
    );
    assert_eq!(s.device.prompted.lock().expect("fake").len(), 1);
    // Not yet asked, and the user refuses at the prompt.
    set(Permission::Notifications, PermissionState::Prompt);
    s.device
        .prompt_answers
        .lock()
        .expect("fake")
        .insert(Permission::Notifications, PermissionState::Denied);
    assert_eq!(
        s.ok(
            "permission_request",
            json!({ "permission": "notifications" })
        )["state"],
        "denied"
    );
    assert_eq!(s.device.prompted.lock().expect("fake").len(), 2);

    // What does not apply on desktop is Unsupported, and no prompt is shown for it.
    assert_eq!(
        s.kind("permission_request", json!({ "permission": "camera" })),
        "Unsupported"
    );
    assert_eq!(
        s.kind("permission_request", json!({ "permission": "location" })),
        "Unsupported"
    );
    assert!(
        s.call("permission_request", json!({ "permission": "microphone" }))
            .is_err()
    );
    assert_eq!(s.device.prompted.lock().expect("fake").len(), 2);
}

fn view(options: Option<Vec<String>>, requires_unlock: bool, count: u32) -> PushChallengeView {
    PushChallengeView {
        nonce: "N".into(),
        serial: SERIAL.into(),
        issuer: "ACME".into(),
        label: "alice".into(),
        title: "ACME sign-in".into(),
        question: "Sign-in from 10.0.0.1?".into(),
        options,
        decline_reasons: false,
        requires_unlock,
        received_at: 1,
        expires_at: 121,
        count,
    }
}

#[test]
fn the_notification_speaks_the_ui_language_and_has_buttons_only_for_plain_requests() {
    let plain = view(None, false, 1);
    assert_eq!(
        notification_text(UiLocale::En, &plain),
        (
            "Approve sign-in?".into(),
            "ACME sign-in\nSign-in from 10.0.0.1?".into()
        )
    );
    assert_eq!(
        notification_text(UiLocale::Sv, &view(None, false, 3)),
        (
            "Godkänna inloggningen?".into(),
            "ACME sign-in\nSign-in from 10.0.0.1? (3 förfrågningar)".into()
        )
    );
    assert_eq!(
        notification_text(UiLocale::En, &view(None, false, 2)).1,
        "ACME sign-in\nSign-in from 10.0.0.1? (2 requests)"
    );
    assert!(buttons_allowed(&plain));
    assert!(!buttons_allowed(&view(
        Some(vec!["07".into(), "69".into(), "24".into()]),
        false,
        1
    )));
    assert!(!buttons_allowed(&view(None, true, 1)));

    // The UI tells Rust its language (no vault needed); the notifier writes in it.
    let s = shell();
    let locale = || *s.app.state::<PushService>().locale.lock().expect("locale");
    assert_eq!(locale(), UiLocale::En);
    s.ok("ui_locale_set", json!({ "locale": "sv" }));
    assert_eq!(locale(), UiLocale::Sv);
    assert!(s.call("ui_locale_set", json!({ "locale": "fr" })).is_err());
    assert_eq!(locale(), UiLocale::Sv);
}

/// A number-matching challenge (privacyIDEA's `require_presence`), signed as the server does.
fn number_matching(url: &str, nonce: &str) -> Value {
    let presence = "07,69,24";
    let message = challenge_message(
        nonce,
        url,
        SERIAL,
        "Sign-in?",
        "ACME sign-in",
        "1",
        Some(presence),
    );
    json!({
        "nonce": nonce, "url": url, "serial": SERIAL, "question": "Sign-in?",
        "title": "ACME sign-in", "sslverify": "1", "require_presence": presence,
        "signature": test_key().sign(message.as_bytes()).expect("sign"),
    })
}

/// The id of `nonce`'s notification, as the notifier gave it when it showed it.
fn shown(s: &crate::tests::Shell, nonce: &str) -> i32 {
    let mut v = view(None, false, 1);
    v.nonce = nonce.into();
    crate::push::notifier::notify(s.app.handle(), &v);
    let service = s.app.state::<PushService>();
    let id = crate::push::notifier::remember(&service, nonce).expect("id");
    let again = crate::push::notifier::remember(&service, nonce).expect("id");
    assert_eq!(id, again, "one id per nonce");
    id
}

fn act(action: &str, id: i32) -> Value {
    json!({ "action": action, "id": id })
}

#[test]
fn a_tap_opens_the_request_and_the_buttons_answer_with_the_screens_checks() {
    let server = fake_server();
    let s = shell().unlocked();
    enrol(&s, account(&server.url, false));
    let opened = s.events("push-open");
    server.reply(poll_reply(vec![challenge(
        &server.url,
        "TAP1",
        "Sign-in from 10.0.0.1?",
    )]));
    s.ok("push_poll", json!({}));
    let tap1 = shown(&s, "TAP1");

    // A tap: Rust opens that request's screen; nothing is sent.
    let sent = server.requests().len();
    assert_eq!(
        s.ok("push_notification_action", act("tap", tap1)),
        json!({ "outcome": "opened" })
    );
    assert_eq!(
        wait_event(&opened, |v| v["nonce"] == "TAP1")["nonce"],
        "TAP1"
    );
    // Dismissed, or a notification Rust never showed: nothing.
    assert_eq!(
        s.ok("push_notification_action", act("dismiss", tap1)),
        json!({ "outcome": "nothing" })
    );
    assert_eq!(
        s.ok("push_notification_action", act("approve", 9999)),
        json!({ "outcome": "nothing" })
    );
    assert_eq!(server.requests().len(), sent, "nothing sent for a tap");
    assert!(
        s.call("push_notification_action", act("maybe", tap1))
            .is_err()
    );

    // Approve from the button: answered once, logged, never again.
    server.reply(json!({"result": {"status": true, "value": true}}));
    assert_eq!(
        s.ok("push_notification_action", act("approve", tap1)),
        json!({ "outcome": "answered", "answer": { "accepted": true, "displayCode": null } })
    );
    let requests = server.requests();
    assert!(
        requests[sent].starts_with("POST /ttype/push ") && requests[sent].contains("nonce=TAP1"),
        "{requests:?}"
    );
    let activity = s.ok("push_activity", json!({}));
    assert_eq!(activity[0]["decision"], "approve");
    // Desktop has no location: none is recorded, none invented.
    assert_eq!(activity[0]["location"], Value::Null);
    assert_eq!(
        s.ok("push_notification_action", act("approve", tap1)),
        json!({ "outcome": "nothing" })
    );

    // Number matching is never approved from a button: the screen opens instead.
    server.reply(poll_reply(vec![number_matching(&server.url, "NUM1")]));
    let shown = s.ok("push_poll", json!({}));
    assert_eq!(shown[0]["options"], json!(["07", "69", "24"]));
    let num1 = self::shown(&s, "NUM1");
    assert_ne!(num1, tap1);
    let sent = server.requests().len();
    assert_eq!(
        s.ok("push_notification_action", act("approve", num1)),
        json!({ "outcome": "opened" })
    );
    wait_event(&opened, |v| v["nonce"] == "NUM1");
    assert_eq!(server.requests().len(), sent, "nothing sent");
    // Deny from the button works for it (no number is needed to refuse).
    server.reply(json!({"result": {"status": true, "value": true}}));
    assert_eq!(
        s.ok("push_notification_action", act("deny", num1))["answer"]["accepted"],
        true
    );
    assert_eq!(s.ok("push_activity", json!({}))[0]["decision"], "deny");
    assert_eq!(server.requests().len(), sent + 1);
}

#[test]
fn a_button_opens_the_screen_when_it_needs_the_password_or_an_unlock() {
    let server = fake_server();
    let s = shell().unlocked();
    enrol(&s, account(&server.url, true));
    let opened = s.events("push-open");
    server.reply(poll_reply(vec![challenge(&server.url, "PIN1", "Sign-in?")]));
    s.ok("push_poll", json!({}));
    let pin1 = shown(&s, "PIN1");
    {
        let state = s.app.state::<AppState>();
        state.get().expect("state").password_at = None;
    }
    // The token asks for device authentication: the screen, not the button.
    let sent = server.requests().len();
    assert_eq!(
        s.ok("push_notification_action", act("approve", pin1)),
        json!({ "outcome": "opened" })
    );
    wait_event(&opened, |v| v["nonce"] == "PIN1");
    // Locked: the screen too (it asks for the unlock first).
    s.ok("vault_lock", json!({}));
    assert_eq!(
        s.ok("push_notification_action", act("deny", pin1)),
        json!({ "outcome": "opened" })
    );
    assert_eq!(server.requests().len(), sent, "nothing sent");
}
