//! Shell tests of the push commands (docs/ipc-push.md) through Tauri's IPC: an empty vault,
//! the error kinds, and a whole round (poll, collapse, mute, answer, never twice, activity)
//! against a local HTTP server that plays privacyIDEA with a key of the core's test vectors
//! (the real privacyIDEA round runs in tests/cli/privacyidea.rs through the CLI).

use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tauri::Manager;
use twofold_core::push::privacyidea::challenge_message;
use twofold_core::push::{PhoneKey, PushAccount, ServerKey};

use crate::dto::PushChallengeView;
use crate::push::commands::{COLLAPSE_SECS, collapse};
use crate::state::{AppState, unix_now};
use crate::tests::{Shell, shell};

pub(crate) const SERIAL: &str = "PIPU0001A2B3";

/// The core's 2048-bit test key: the phone's key and, in these tests, the server's too (so the
/// test can sign challenges).
pub(crate) fn test_key() -> PhoneKey {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/core/tests/vectors/push/phone-key-2048.pk8.b64"
    );
    let text = std::fs::read_to_string(path).expect("test key");
    let der = base64_decode(text.trim());
    PhoneKey::from_pkcs8(&der).expect("pkcs8")
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let v = ALPHABET.iter().position(|&a| a == c).expect("base64") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// A local stand-in for the privacyIDEA server: answers each request with the next scripted
/// JSON reply and records what it was sent.
pub(crate) struct FakeServer {
    pub(crate) url: String,
    replies: Arc<Mutex<VecDeque<Value>>>,
    requests: Arc<Mutex<Vec<String>>>,
    /// How long each reply waits (to make answers overlap).
    delay: Arc<Mutex<std::time::Duration>>,
}

pub(crate) fn fake_server() -> FakeServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/ttype/push",
        listener.local_addr().expect("address")
    );
    let replies: Arc<Mutex<VecDeque<Value>>> = Arc::default();
    let requests: Arc<Mutex<Vec<String>>> = Arc::default();
    let delay: Arc<Mutex<std::time::Duration>> = Arc::default();
    let (r, q, d) = (replies.clone(), requests.clone(), delay.clone());
    twofold_test_support::http::serve(listener, move |request| {
        std::thread::sleep(*d.lock().expect("delay"));
        q.lock()
            .expect("requests")
            .push(format!("{} {}", request.line, request.text()));
        twofold_test_support::http::Reply::json(
            r.lock()
                .expect("replies")
                .pop_front()
                .unwrap_or_else(|| json!({"result": {"status": true, "value": []}})),
        )
    });
    FakeServer {
        url,
        replies,
        requests,
        delay,
    }
}

impl FakeServer {
    pub(crate) fn reply(&self, v: Value) {
        self.replies.lock().expect("replies").push_back(v);
    }
    pub(crate) fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }
}

pub(crate) fn account(url: &str, require_pin: bool) -> PushAccount {
    let key = test_key();
    PushAccount {
        protocol: "privacyidea".into(),
        serial: SERIAL.into(),
        issuer: "ACME".into(),
        label: "alice".into(),
        url: url.into(),
        verify_tls: true,
        poll_only: true,
        require_pin,
        force_unlock: None,
        server_key: ServerKey::from_pkcs1_der(&key.public_pkcs1_der().expect("public"))
            .expect("server key"),
        phone_key: key,
        push_token: "no_firebase_token".into(),
        enrolled_at: 1,
    }
}

/// A challenge signed as the server signs it.
pub(crate) fn challenge(url: &str, nonce: &str, question: &str) -> Value {
    let message = challenge_message(nonce, url, SERIAL, question, "ACME sign-in", "1", None);
    json!({
        "nonce": nonce, "url": url, "serial": SERIAL, "question": question,
        "title": "ACME sign-in", "sslverify": "1",
        "signature": test_key().sign(message.as_bytes()).expect("sign"),
    })
}

pub(crate) fn poll_reply(list: Vec<Value>) -> Value {
    json!({"result": {"status": true, "value": list}, "jsonrpc": "2.0"})
}

pub(crate) fn enrol(s: &Shell, account: PushAccount) {
    let state = s.app.state::<AppState>();
    let mut inner = state.get().expect("state");
    let saved = state.change_saved(&mut inner, |vault| {
        vault.add_push_account(account);
        Ok(())
    });
    let _ = saved.expect("save").backup;
}

#[test]
fn push_commands_on_an_empty_vault() {
    let s = shell();
    for cmd in [
        "push_accounts",
        "push_pending",
        "push_poll",
        "push_activity",
    ] {
        assert_eq!(s.kind(cmd, json!({})), "Locked", "{cmd}");
    }
    let s = s.unlocked();
    for cmd in [
        "push_accounts",
        "push_pending",
        "push_poll",
        "push_activity",
    ] {
        assert_eq!(s.ok(cmd, json!({})), json!([]), "{cmd}");
    }
    assert_eq!(
        s.kind("push_mute", json!({ "serial": "PIPU9", "minutes": 20 })),
        "NotFound"
    );
    assert_eq!(
        s.kind("push_remove", json!({ "serial": "PIPU9" })),
        "NotFound"
    );
    let answer = |decision: &str, reason: Value| {
        json!({ "nonce": "N1", "decision": decision, "answer": null, "reason": reason,
                "location": null })
    };
    assert_eq!(
        s.kind("push_answer", answer("approve", json!(null))),
        "NotFound"
    );
    assert_eq!(
        s.kind("push_answer", answer("approve", json!("unknown_trigger"))),
        "InvalidInput"
    );
    // A decision outside the contract's two is refused by Tauri's argument check.
    assert!(s.call("push_answer", answer("maybe", json!(null))).is_err());
}

#[test]
fn collapse_groups_one_accounts_prompts_within_a_minute() {
    let view = |serial: &str, nonce: &str, at: u64| PushChallengeView {
        nonce: nonce.into(),
        serial: serial.into(),
        issuer: String::new(),
        label: String::new(),
        title: "t".into(),
        question: "q".into(),
        options: None,
        decline_reasons: false,
        received_at: at,
        expires_at: at + 120,
        count: 1,
        requires_unlock: false,
    };
    let out = collapse(vec![
        view("A", "a2", 130),
        view("B", "b1", 100),
        view("A", "a1", 100),
        view("A", "a3", 130 + COLLAPSE_SECS + 1),
    ]);
    let got: Vec<(&str, u32)> = out.iter().map(|v| (v.nonce.as_str(), v.count)).collect();
    // a1 and a2 (30 s apart) are one prompt, the newest; a3 came more than a minute later.
    assert_eq!(got, [("b1", 1), ("a2", 2), ("a3", 1)]);
    // Received in the same second: the newest is the one that came last, whatever its nonce.
    let out = collapse(vec![view("A", "zz", 200), view("A", "aa", 200)]);
    assert_eq!(out[0].nonce, "aa");
    let out = collapse(vec![view("A", "aa", 200), view("A", "zz", 200)]);
    assert_eq!(out[0].nonce, "zz");
}

#[test]
fn poll_collapse_mute_answer_once_and_log() {
    let server = fake_server();
    let s = shell().unlocked();
    enrol(&s, account(&server.url, false));
    let accounts = s.ok("push_accounts", json!({}));
    assert_eq!(accounts[0]["serial"], SERIAL);
    assert_eq!(accounts[0]["insecureTls"], false);
    assert_eq!(accounts[0]["mutedUntil"], Value::Null);

    // Two sign-ins of one account arrive together: one prompt, count 2, the newest nonce.
    server.reply(poll_reply(vec![
        challenge(&server.url, "NONCE1", "Sign-in from 10.0.0.1?"),
        challenge(&server.url, "NONCE2", "Sign-in from 10.0.0.2?"),
    ]));
    let shown = s.ok("push_poll", json!({}));
    assert_eq!(shown.as_array().map(Vec::len), Some(1), "{shown}");
    assert_eq!(shown[0]["nonce"], "NONCE2");
    assert_eq!(shown[0]["count"], 2);
    assert_eq!(shown[0]["issuer"], "ACME");
    assert_eq!(shown[0]["question"], "Sign-in from 10.0.0.2?");
    assert_eq!(
        shown[0]["expiresAt"].as_u64(),
        shown[0]["receivedAt"].as_u64().map(|r| r + 120)
    );
    let polled = server.requests();
    assert!(
        polled[0].starts_with("GET /ttype/push?serial=PIPU0001A2B3&timestamp="),
        "{polled:?}"
    );
    assert_eq!(s.ok("push_pending", json!({})), shown);

    // Muted: nothing shown until unmuted.
    s.ok("push_mute", json!({ "serial": SERIAL, "minutes": 20 }));
    assert_eq!(s.ok("push_pending", json!({})), json!([]));
    let until = s.ok("push_accounts", json!({}))[0]["mutedUntil"].as_u64();
    assert!(
        until.is_some_and(|u| u >= unix_now() + 20 * 60 - 5),
        "{until:?}"
    );
    s.ok("push_mute", json!({ "serial": SERIAL, "minutes": 0 }));
    assert_eq!(s.ok("push_pending", json!({})), shown);

    // Approve with a location: the server takes it, the activity log has it.
    server.reply(json!({"result": {"status": true, "value": true}}));
    let location = json!({ "latitude": 59.3, "longitude": 18.1, "accuracyM": null });
    let approve = json!({ "nonce": "NONCE2", "decision": "approve", "answer": null,
                          "reason": null, "location": location });
    let answered = s.ok("push_answer", approve.clone());
    assert_eq!(answered, json!({ "accepted": true, "displayCode": null }));
    let sent = server.requests();
    assert!(
        sent[1].starts_with("POST /ttype/push ") && sent[1].contains("nonce=NONCE2"),
        "{sent:?}"
    );
    // Never twice, and no request goes out for it.
    assert_eq!(s.kind("push_answer", approve), "AlreadyAnswered");
    assert_eq!(server.requests().len(), 2);
    let activity = s.ok("push_activity", json!({}));
    assert_eq!(activity.as_array().map(Vec::len), Some(1));
    assert_eq!(activity[0]["decision"], "approve");
    assert_eq!(activity[0]["accepted"], true);
    assert_eq!(activity[0]["label"], "alice");
    // The coordinates as recorded, and the town near them named on the device.
    assert_eq!(activity[0]["location"]["latitude"], location["latitude"]);
    assert_eq!(activity[0]["location"]["longitude"], location["longitude"]);
    assert_eq!(activity[0]["location"]["place"]["country"], "SE");
    // The older prompt of the group is still there, alone now.
    let left = s.ok("push_pending", json!({}));
    assert_eq!(left[0]["nonce"], "NONCE1");
    assert_eq!(left[0]["count"], 1);

    // "That wasn't me" on a server without signed decline reasons: refused before sending.
    let deny = |reason: Value| {
        json!({ "nonce": "NONCE1", "decision": "deny", "answer": null, "reason": reason,
                "location": null })
    };
    assert_eq!(
        s.kind("push_answer", deny(json!("unknown_trigger"))),
        "InvalidInput"
    );
    server.reply(json!({"result": {"status": true, "value": true}}));
    assert_eq!(s.ok("push_answer", deny(json!(null)))["accepted"], true);
    assert_eq!(s.ok("push_activity", json!({}))[0]["decision"], "deny");
    assert_eq!(s.ok("push_pending", json!({})), json!([]));

    // Everything survived on disk: a fresh unlock sees the log and the spent nonces.
    s.ok("vault_lock", json!({}));
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    assert_eq!(
        s.ok("push_activity", json!({})).as_array().map(Vec::len),
        Some(2)
    );

    s.ok("push_remove", json!({ "serial": SERIAL }));
    assert_eq!(s.ok("push_accounts", json!({})), json!([]));
}

#[test]
fn forged_unreachable_expired_and_auth_required() {
    let server = fake_server();
    let s = shell().unlocked();
    enrol(&s, account(&server.url, true));

    // A challenge whose question was changed after signing is never shown.
    let mut forged = challenge(&server.url, "FORGED", "Sign-in from 10.0.0.1?");
    forged["question"] = json!("Sign-in from your office?");
    server.reply(poll_reply(vec![forged]));
    assert_eq!(s.kind("push_poll", json!({})), "Verification");
    assert_eq!(s.ok("push_pending", json!({})), json!([]));

    // A server error is reported as such.
    server.reply(json!({"result": {"status": false,
        "error": {"code": 4010, "message": "ERR4010: bad signature"}}}));
    assert_eq!(s.kind("push_poll", json!({})), "Server");

    // The account asks for device authentication: approving needs a fresh password entry.
    server.reply(poll_reply(vec![challenge(&server.url, "PIN1", "Sign-in?")]));
    let shown = s.ok("push_poll", json!({}));
    assert_eq!(shown[0]["requiresUnlock"], true);
    {
        let state = s.app.state::<AppState>();
        state.get().expect("state").password_at = None;
    }
    let approve = json!({ "nonce": "PIN1", "decision": "approve", "answer": null,
                          "reason": null, "location": null });
    let before = server.requests().len();
    assert_eq!(s.kind("push_answer", approve.clone()), "AuthRequired");
    assert_eq!(
        server.requests().len(),
        before,
        "nothing sent without authentication"
    );
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    server.reply(json!({"result": {"status": true, "value": true}}));
    assert_eq!(s.ok("push_answer", approve)["accepted"], true);

    // Older than two minutes: expired, not sent.
    {
        let state = s.app.state::<AppState>();
        let mut inner = state.get().expect("state");
        let body = poll_reply(vec![challenge(&server.url, "OLD", "Sign-in?")]).to_string();
        inner
            .vault_mut()
            .expect("unlocked")
            .read_poll_reply(SERIAL, body.as_bytes(), unix_now() - 200)
            .expect("read");
    }
    let deny = json!({ "nonce": "OLD", "decision": "deny", "answer": null, "reason": null,
                       "location": null });
    assert_eq!(s.kind("push_answer", deny), "Expired");

    // The server is gone: Network.
    let gone = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/ttype/push", gone.local_addr().expect("addr"));
    drop(gone);
    s.ok("push_remove", json!({ "serial": SERIAL }));
    enrol(&s, account(&url, false));
    assert_eq!(s.kind("push_poll", json!({})), "Network");
}

/// A `pipush` QR code for the fake server.
fn enrolment_qr(url: &str) -> String {
    format!(
        "otpauth://pipush/{SERIAL}?url={url}&ttl=10&issuer=ACME&enrollment_credential=9a1c1e4bd1e1f0b2c9e2bd4f3f9b41e0c1a2b3c4&v=1&serial={SERIAL}&sslverify=1&poll_only=True"
    )
}

#[test]
fn a_scanned_pipush_qr_enrols_and_a_refused_one_saves_nothing() {
    let server = fake_server();
    let s = shell().unlocked();
    let vault_file = s.dir.path().join("vault.json");

    // Pasted: a preview for the confirmation screen, and nothing sent.
    let before = std::fs::read(&vault_file).expect("vault");
    let pasted = s.ok("add_uri", json!({ "uri": enrolment_qr(&server.url) }));
    assert_eq!(pasted["kind"], "pushPreview");
    let preview = pasted["preview"].clone();
    assert_eq!(preview["host"], "127.0.0.1");
    assert_eq!(preview["issuer"], "ACME");
    assert_eq!(preview["label"], SERIAL);
    assert_eq!(preview["url"], server.url);
    assert_eq!(preview["warnings"], json!(["pollOnly", "plainHttp"]));
    assert!(server.requests().is_empty(), "sent before the confirmation");
    // Refused by the server (a wrong credential): no account, the vault file untouched.
    server.reply(json!({"result": {"status": false,
        "error": {"code": 905, "message": "ERR905: Invalid enrollment credential."}}}));
    assert_eq!(
        s.kind("push_enrol_confirm", json!({ "id": preview["id"] })),
        "Server"
    );
    assert_eq!(s.ok("push_accounts", json!({})), json!([]));
    assert_eq!(std::fs::read(&vault_file).expect("vault"), before);
    // A preview is confirmed once.
    assert_eq!(
        s.kind("push_enrol_confirm", json!({ "id": preview["id"] })),
        "NotFound"
    );
    assert_eq!(server.requests().len(), 1);

    // Scanned from an image and confirmed: the push account is saved.
    let server_key = ServerKey::from_pkcs1_der(&test_key().public_pkcs1_der().expect("public"))
        .expect("key")
        .to_base64();
    server.reply(json!({
        "detail": {"public_key": server_key, "rollout_state": "enrolled", "serial": SERIAL},
        "result": {"status": true, "value": true}
    }));
    let png = crate::tests::qr_png(&enrolment_qr(&server.url));
    let scanned = s.ok_raw("scan_image", &png, &[]);
    // A preview, not an enrolment.
    assert_eq!(scanned["kind"], "pushPreview");
    assert_eq!(scanned.get("serial"), None);
    assert_eq!(server.requests().len(), 1, "sent before the confirmation");
    let added = s.ok(
        "push_enrol_confirm",
        json!({ "id": scanned["preview"]["id"] }),
    );
    assert_eq!(added["kind"], "pushEnrolled");
    assert_eq!(added["serial"], SERIAL);
    // An enrolment, no OTP account added.
    assert_eq!(added.get("added"), None);
    let sent = server.requests();
    assert!(
        sent[1].starts_with("POST /ttype/push ") && sent[1].contains("enrollment_credential="),
        "{sent:?}"
    );
    s.ok("vault_lock", json!({}));
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    let accounts = s.ok("push_accounts", json!({}));
    assert_eq!(accounts[0]["serial"], SERIAL);
    assert_eq!(accounts[0]["issuer"], "ACME");
    assert_eq!(accounts[0]["requiresUnlock"], false);
}

#[test]
fn the_background_poll_announces_each_challenge_once() {
    use crate::push::notifier::announce;
    let server = fake_server();
    let s = shell().unlocked();
    enrol(&s, account(&server.url, false));
    let events = s.events("push-challenges");
    let state = s.app.state::<AppState>();
    let service = s.app.state::<crate::push::PushService>();
    let poll_blocking = |state: &AppState| crate::push::poller::poll_blocking(state, &service);
    let handle = s.app.handle();

    // Nothing waits: no event.
    assert!(announce(handle, poll_blocking(&state).expect("poll")).is_empty());
    // A sign-in arrives: one event with it, one view to notify.
    server.reply(poll_reply(vec![challenge(&server.url, "B1", "Sign-in?")]));
    let new = announce(handle, poll_blocking(&state).expect("poll"));
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].nonce, "B1");
    // The server sends it again with the next poll: no second event or notification.
    server.reply(poll_reply(vec![challenge(&server.url, "B1", "Sign-in?")]));
    assert!(announce(handle, poll_blocking(&state).expect("poll")).is_empty());
    // A second one of the same account: the collapsed view is announced, count 2.
    server.reply(poll_reply(vec![challenge(
        &server.url,
        "B2",
        "Sign-in again?",
    )]));
    let new = announce(handle, poll_blocking(&state).expect("poll"));
    assert_eq!((new[0].nonce.as_str(), new[0].count), ("B2", 2));
    let seen = events.lock().expect("events").clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[1].contains("\"B2\""), "{seen:?}");

    // A muted account's new challenge is not announced; the UI's own poll marks what it got.
    s.ok("push_mute", json!({ "serial": SERIAL, "minutes": 20 }));
    server.reply(poll_reply(vec![challenge(&server.url, "B3", "Muted?")]));
    assert!(announce(handle, poll_blocking(&state).expect("poll")).is_empty());
    s.ok("push_mute", json!({ "serial": SERIAL, "minutes": 0 }));
    server.reply(poll_reply(vec![challenge(
        &server.url,
        "B4",
        "Seen by the UI?",
    )]));
    assert_eq!(s.ok("push_poll", json!({}))[0]["nonce"], "B4");
    assert!(announce(handle, poll_blocking(&state).expect("poll")).is_empty());
    assert_eq!(events.lock().expect("events").len(), 2);
}

#[test]
fn push_enrolment_needs_the_confirmation() {
    let server = fake_server();
    let s = shell().unlocked();
    // Plain HTTP to another machine, and sslverify=0: refused, or warned about.
    let remote = enrolment_qr("http://192.0.2.7/ttype/push");
    assert_eq!(s.kind("add_uri", json!({ "uri": remote })), "InvalidInput");
    let unchecked =
        enrolment_qr("https://pi.example.com/ttype/push").replace("sslverify=1", "sslverify=0");
    let preview = s.ok("push_enrol_preview", json!({ "uri": unchecked }));
    assert_eq!(preview["host"], "pi.example.com");
    assert_eq!(preview["warnings"], json!(["tlsNotVerified", "pollOnly"]));

    // Cancelled: the confirmation of that preview finds nothing, nothing is sent.
    let preview = s.ok(
        "push_enrol_preview",
        json!({ "uri": enrolment_qr(&server.url) }),
    );
    s.ok("push_enrol_cancel", json!({ "id": preview["id"] }));
    assert_eq!(
        s.kind("push_enrol_confirm", json!({ "id": preview["id"] })),
        "NotFound"
    );
    // A newer preview replaces an older one: the older id confirms nothing.
    let older = s.ok(
        "push_enrol_preview",
        json!({ "uri": enrolment_qr(&server.url) }),
    );
    let newer = s.ok(
        "push_enrol_preview",
        json!({ "uri": enrolment_qr(&server.url) }),
    );
    assert_ne!(older["id"], newer["id"]);
    assert_eq!(
        s.kind("push_enrol_confirm", json!({ "id": older["id"] })),
        "NotFound"
    );
    assert!(server.requests().is_empty(), "{:?}", server.requests());
    assert_eq!(s.ok("push_accounts", json!({})), json!([]));
}

#[test]
fn concurrent_answers_to_one_nonce_send_once() {
    let server = fake_server();
    let s = shell().unlocked();
    enrol(&s, account(&server.url, false));
    server.reply(poll_reply(vec![challenge(&server.url, "RACE", "Sign-in?")]));
    s.ok("push_poll", json!({}));
    *server.delay.lock().expect("delay") = std::time::Duration::from_millis(400);
    server.reply(json!({"result": {"status": true, "value": true}}));
    server.reply(json!({"result": {"status": true, "value": true}}));
    let deny = json!({ "nonce": "RACE", "decision": "deny", "answer": null, "reason": null,
                       "location": null });
    let window = s.app.get_webview_window("main").expect("window");
    let call = |args: Value| {
        tauri::test::get_ipc_response(
            &window,
            tauri::webview::InvokeRequest {
                cmd: "push_answer".into(),
                callback: tauri::ipc::CallbackFn(0),
                error: tauri::ipc::CallbackFn(1),
                url: "tauri://localhost".parse().expect("url"),
                body: tauri::ipc::InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: tauri::test::INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().expect("json response"))
    };
    let results: Vec<Result<Value, Value>> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..2).map(|_| scope.spawn(|| call(deny.clone()))).collect();
        calls
            .into_iter()
            .map(|c| c.join().expect("thread"))
            .collect()
    });
    let answered: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("POST") && r.contains("nonce=RACE"))
        .collect();
    assert_eq!(answered.len(), 1, "{answered:?}");
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    let refused: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(refused[0]["kind"], "AlreadyAnswered", "{refused:?}");
    assert_eq!(
        s.ok("push_activity", json!({})).as_array().map(Vec::len),
        Some(1)
    );
}

/// Waits up to 10 s for an event whose payload satisfies `ok`.
pub(crate) fn wait_event(events: &Arc<Mutex<Vec<String>>>, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(v) = events
            .lock()
            .expect("events")
            .iter()
            .map(|e| serde_json::from_str::<Value>(e).expect("json"))
            .find(|v| ok(v))
        {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "no such event");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The app's set-up under `mock_builder`: its background poller finds a sign-in, tells the UI
/// when polls start failing (a clock that is off named as such) and when they work again.
#[test]
fn the_background_poller_runs_and_its_failures_surface() {
    let server = fake_server();
    let dir = tempfile::tempdir().expect("temp dir");
    let s = crate::tests::shell_with(dir, Some(std::time::Duration::from_millis(200)), false)
        .unlocked();
    let challenges = s.events("push-challenges");
    let status = s.events("push-poll-status");
    assert_eq!(s.ok("push_poll_status", json!({}))["failures"], json!([]));
    enrol(&s, account(&server.url, false));

    server.reply(poll_reply(vec![challenge(&server.url, "BG1", "Sign-in?")]));
    let shown = wait_event(&challenges, |v| v[0]["nonce"] == "BG1");
    assert_eq!(shown[0]["issuer"], "ACME");

    // The server says the phone's clock is off (privacyIDEA's ERR10 for the timestamp).
    server.reply(json!({"result": {"status": false, "error": {"code": 10,
        "message": "Timestamp 2026-12-01T10:00:00+00:00 not in valid range."}}}));
    let failed = wait_event(&status, |v| v["clockOff"] == true);
    assert_eq!(failed["failures"][0]["serial"], SERIAL);
    let message = failed["failures"][0]["message"].as_str().expect("message");
    assert!(
        message.contains("clock is more than 60 seconds off"),
        "{message}"
    );
    // Working again: the UI hears that too.
    wait_event(&status, |v| {
        v["failures"] == json!([]) && v["at"].as_u64().is_some_and(|a| a > 0)
    });

    // The server goes away: Network failures surface.
    let gone = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/ttype/push", gone.local_addr().expect("addr"));
    drop(gone);
    s.ok("push_remove", json!({ "serial": SERIAL }));
    enrol(&s, account(&url, false));
    let failed = wait_event(&status, |v| {
        v["failures"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot reach"))
    });
    assert_eq!(failed["clockOff"], false);
    let now = s.ok("push_poll_status", json!({}));
    assert_eq!(now["failures"][0]["serial"], SERIAL);
}

/// The app's set-up under `mock_builder` with its idle-lock thread: an idle vault locks by
/// itself and the UI hears `vault-locked` with the reason.
#[test]
fn the_idle_lock_runs_under_the_app_set_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = crate::tests::shell_with(dir, None, true).unlocked();
    let locked = s.events("vault-locked");
    let mut settings = s.ok("settings_get", json!({}));
    settings["lockTimeoutSecs"] = json!(1);
    s.ok("settings_set", json!({ "settings": settings }));
    let event = wait_event(&locked, |v| v["reason"] == "idle");
    assert_eq!(event["reason"], "idle");
    assert_eq!(s.kind("push_pending", json!({})), "Locked");
}

/// Issue 18: the poller reads the vault file only when another program changed it, and waits
/// for the file's writer lock (held by the CLI) without holding the state's lock, so the app
/// goes on serving meanwhile and the poll completes once the CLI is done.
#[test]
fn the_poller_reads_only_a_changed_file_and_waits_for_the_cli_without_the_state() {
    use crate::push::PushService;
    use crate::push::poller::poll_blocking;
    use std::time::Duration;
    use twofold_core::vault::{Vault, file};
    let server = fake_server();
    let s = shell().unlocked();
    enrol(&s, account(&server.url, false));
    let state = s.app.state::<AppState>();
    let service = s.app.state::<PushService>();
    let path = s.dir.path().join("vault.json");

    // Polls of an unchanged file cost a `stat`: this thread reads no vault file.
    let reads = file::reads_on_this_thread();
    for _ in 0..3 {
        poll_blocking(&state, &service).expect("poll");
    }
    assert_eq!(
        file::reads_on_this_thread(),
        reads,
        "an unchanged file was read"
    );

    // Another program saves: the next poll reads the file once and has its account.
    {
        let _cli = file::lock(&path, Duration::from_secs(5)).expect("lock");
        let bytes = std::fs::read(&path).expect("read");
        let mut v = Vault::open(&bytes, b"correct horse").expect("open");
        let uri = format!(
            "otpauth://totp/CLI:by%20the%20cli?secret={}",
            "JBSWY3DPEHPK3PXP"
        );
        v.add(
            twofold_core::uri::parse(&uri).expect("uri"),
            1,
            &twofold_core::rng::SystemRng::new(),
        )
        .expect("add");
        let sealed = v
            .to_bytes(&twofold_core::rng::SystemRng::new())
            .expect("seal");
        file::write_atomic(&path, &sealed, false).expect("write");
    }
    poll_blocking(&state, &service).expect("poll");
    assert_eq!(file::reads_on_this_thread(), reads + 1);
    let accounts = s.ok("accounts_list", json!({}));
    assert_eq!(accounts[0]["name"], "by the cli", "{accounts}");
    poll_blocking(&state, &service).expect("poll");
    assert_eq!(file::reads_on_this_thread(), reads + 1);

    // The CLI holds the writer lock while a sign-in arrives.
    let cli = file::lock(&path, Duration::from_secs(5)).expect("lock");
    server.reply(poll_reply(vec![challenge(
        &server.url,
        "W1",
        "While the CLI writes?",
    )]));
    let served = server.requests().len();
    let handle = s.app.handle().clone();
    let poller = std::thread::spawn(move || {
        poll_blocking(&handle.state::<AppState>(), &handle.state::<PushService>())
            .map(|report| report.new.len())
    });
    // Its request was answered: the poller is past the network, on its way to the file lock.
    while server.requests().len() == served {
        std::thread::sleep(Duration::from_millis(10));
    }
    // The app serves meanwhile: the state is not held by the poller waiting for the CLI (it
    // was, for up to 10 s, and then the poll failed as "in use").
    assert_eq!(s.ok("accounts_list", json!({}))[0]["name"], "by the cli");
    drop(cli);
    let new = poller
        .join()
        .expect("poller")
        .expect("the poll after the CLI");
    assert_eq!(new, 1);
    let saved = Vault::open(&std::fs::read(&path).expect("read"), b"correct horse").expect("open");
    assert_eq!(saved.pending_challenges(unix_now()).len(), 1);
}
