use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use super::*;
use crate::push::{Answer, DeclineReason, PhoneKey, ServerError, ServerKey};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/push/");

fn vector(name: &str) -> String {
    std::fs::read_to_string(format!("{VECTORS}{name}")).unwrap()
}

fn phone_key() -> PhoneKey {
    PhoneKey::from_pkcs8(&B64.decode(vector("phone-key-2048.pk8.b64").trim()).unwrap()).unwrap()
}

fn account() -> PushAccount {
    PushAccount {
        protocol: "privacyidea".into(),
        serial: "PIPU0001A2B3".into(),
        issuer: "ACME".into(),
        label: "PIPU0001A2B3".into(),
        url: "https://pi.example.com/ttype/push".into(),
        verify_tls: true,
        poll_only: true,
        require_pin: false,
        force_unlock: None,
        phone_key: phone_key(),
        server_key: ServerKey::from_base64(&vector("server-key.pkcs1.b64")).unwrap(),
        push_token: NO_PUSH_TOKEN.into(),
        enrolled_at: 0,
    }
}

/// The phone's signatures, checked with its public key.
fn phone_verifies(message: &str, signature: &str) -> bool {
    ServerKey::from_pkcs1_der(&phone_key().public_pkcs1_der().unwrap())
        .unwrap()
        .verify(message.as_bytes(), signature)
}

fn challenges() -> Vec<(String, Value)> {
    vector("challenges.jsonl")
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["name"].as_str().unwrap().to_owned(),
                v["challenge"].clone(),
            )
        })
        .collect()
}

fn challenge(name: &str) -> Value {
    challenges().into_iter().find(|(n, _)| n == name).unwrap().1
}

// ----- the signed strings, golden -----

#[test]
fn signed_strings_are_golden() {
    assert_eq!(
        poll_message("PIPU0001", "2026-11-27T17:47:00.819649+00:00"),
        "PIPU0001|2026-11-27T17:47:00.819649+00:00"
    );
    assert_eq!(
        challenge_message("N", "https://h/ttype/push", "S", "Q?", "T", "1", None),
        "N|https://h/ttype/push|S|Q?|T|1"
    );
    assert_eq!(
        challenge_message("N", "U", "S", "Q", "T", "0", Some("07,69,23")),
        "N|U|S|Q|T|0|07,69,23"
    );
    assert_eq!(accept_message("N", "S"), "N|S");
    assert_eq!(accept_option_message("N", "S", "69"), "N|S|69");
    assert_eq!(decline_message("N", "S", None), "N|S|decline");
    assert_eq!(
        decline_message("N", "S", Some("unknown_trigger")),
        "N|S|decline|unknown_trigger"
    );
    assert_eq!(
        token_update_message("fb-123", "S", "2026-11-27T17:47:00+00:00"),
        "fb-123|S|2026-11-27T17:47:00+00:00"
    );
    assert_eq!(
        capabilities_message(&json!({"decline_reason": true}), "NONCE").unwrap(),
        br#"{"capabilities":{"decline_reason":true},"nonce":"NONCE"}"#
    );
}

#[test]
fn timestamps_are_iso_8601_utc() {
    assert_eq!(timestamp(0), "1970-01-01T00:00:00+00:00");
    assert_eq!(timestamp(951_782_400), "2000-02-29T00:00:00+00:00");
    assert_eq!(timestamp(1_795_801_620), "2026-11-27T17:47:00+00:00");
    assert_eq!(timestamp(4_102_444_799), "2099-12-31T23:59:59+00:00");
}

#[test]
fn jcs_matches_rfc_8785_and_python() {
    for line in vector("jcs.jsonl").lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let input: Value = serde_json::from_str(v["input"].as_str().unwrap()).unwrap();
        let out = serde_json_canonicalizer::to_string(&input).unwrap();
        assert_eq!(out, v["canonical"].as_str().unwrap(), "{}", v["input"]);
    }
}

// ----- enrolment -----

const QR: &str = "otpauth://pipush/PIPU0001A2B3?url=https%3A//pi.example.com/ttype/push&ttl=10&issuer=privacyIDEA&enrollment_credential=9a1c1e4bd1e1f0b2c9e2bd4f3f9b41e0c1a2b3c4&v=1&serial=PIPU0001A2B3&sslverify=1&poll_only=True";

#[test]
fn enrolment_uri_is_read() {
    let e = Enrolment::parse(QR, 1000).unwrap();
    assert_eq!(e.serial(), "PIPU0001A2B3");
    assert_eq!(e.url(), "https://pi.example.com/ttype/push");
    assert_eq!(e.issuer(), "privacyIDEA");
    assert_eq!(e.label(), "PIPU0001A2B3");
    assert!(e.verify_tls());
    assert_eq!(e.expires_at(), 1000 + 600);
    assert_eq!(e.warnings(), vec![EnrolWarning::PollOnly]);
    assert!(!e.requires_unlock());
    // The credential is never printed.
    assert!(!format!("{e:?}").contains("9a1c1e4b"));

    let pia = QR
        .replace("otpauth://", "pia://")
        .replace("sslverify=1", "sslverify=0")
        + "&pin=True&app_force_unlock=biometric";
    let e = Enrolment::parse(&pia, 0).unwrap();
    assert!(!e.verify_tls());
    assert!(e.warnings().contains(&EnrolWarning::TlsNotVerified));
    assert!(e.requires_unlock());
}

#[test]
fn bad_enrolment_uris_are_typed_errors() {
    assert_eq!(
        Enrolment::parse("otpauth://totp/x?secret=AA", 0).unwrap_err(),
        EnrolError::NotPush
    );
    assert_eq!(
        Enrolment::parse(&QR.replace("&serial=PIPU0001A2B3", ""), 0).unwrap_err(),
        EnrolError::Missing("serial")
    );
    let no_cred = QR.replace(
        "enrollment_credential=9a1c1e4bd1e1f0b2c9e2bd4f3f9b41e0c1a2b3c4",
        "x=y",
    );
    assert_eq!(
        Enrolment::parse(&no_cred, 0).unwrap_err(),
        EnrolError::Missing("enrollment_credential")
    );
    assert!(matches!(
        Enrolment::parse(&QR.replace("v=1", "v=2"), 0),
        Err(EnrolError::Invalid { .. })
    ));
    assert!(matches!(
        Enrolment::parse(&QR.replace("ttl=10", "ttl=ten"), 0),
        Err(EnrolError::Invalid { field: "ttl", .. })
    ));
    assert!(matches!(
        Enrolment::parse(&QR.replace("https%3A//", "ftp%3A//"), 0),
        Err(EnrolError::Invalid { field: "url", .. })
    ));
}

#[test]
fn enrolment_ttl_is_enforced() {
    let e = Enrolment::parse(QR, 1000).unwrap();
    assert_eq!(
        e.start(phone_key(), None, 1000 + 601).unwrap_err(),
        EnrolError::Expired { ttl_minutes: 10 }
    );
}

#[test]
fn enrolment_request_and_reply() {
    let pending = Enrolment::parse(QR, 1000)
        .unwrap()
        .start(phone_key(), None, 1100)
        .unwrap();
    let r = pending.request();
    assert_eq!(r.method, Method::Post);
    assert_eq!(r.url, "https://pi.example.com/ttype/push");
    let names: Vec<&str> = r.params.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        ["enrollment_credential", "serial", "fbtoken", "pubkey"]
    );
    assert_eq!(r.param("fbtoken"), Some("no_firebase_token"));
    assert_eq!(
        r.param("pubkey"),
        Some(vector("phone-key-2048.spki.b64").trim())
    );
    assert!(!format!("{r:?}").contains("9a1c1e4b"));
    assert!(!format!("{pending:?}").contains("9a1c1e4b"));

    let reply = json!({
        "detail": {"public_key": vector("server-key.pkcs1.b64"),
                   "rollout_state": "enrolled", "serial": "PIPU0001A2B3", "threadid": 1},
        "result": {"status": true, "value": true},
        "version": "privacyIDEA 3.14"
    });
    let account = pending.finish(reply.to_string().as_bytes(), 1101).unwrap();
    assert_eq!(account.serial, "PIPU0001A2B3");
    assert_eq!(account.server_key, self::account().server_key);
    assert_eq!(account.enrolled_at, 1101);
    // No key material in Debug.
    let shown = format!("{account:?}");
    assert!(shown.contains("PhoneKey(<redacted>)"), "{shown}");
    assert!(!shown.contains("MII"), "{shown}");
    assert!(account.poll_only);
}

#[test]
fn enrolment_refused_by_the_server() {
    let pending = Enrolment::parse(QR, 0)
        .unwrap()
        .start(phone_key(), Some("fb-token"), 0)
        .unwrap();
    assert_eq!(pending.request().param("fbtoken"), Some("fb-token"));
    let reply = json!({"result": {"status": false,
        "error": {"code": 905, "message": "ERR905: Invalid enrollment credential."}}});
    assert!(matches!(
        pending.finish(reply.to_string().as_bytes(), 0),
        Err(EnrolError::Server(ServerError { code: 905, .. }))
    ));
}

// ----- polling and verification -----

#[test]
fn poll_request_is_signed() {
    let r = PrivacyIdea.poll(&account(), 1_795_801_620).unwrap();
    assert_eq!(r.method, Method::Get);
    assert_eq!(r.param("timestamp"), Some("2026-11-27T17:47:00+00:00"));
    assert!(phone_verifies(
        "PIPU0001A2B3|2026-11-27T17:47:00+00:00",
        r.param("signature").unwrap()
    ));
}

fn poll_reply(list: Vec<Value>) -> Vec<u8> {
    json!({"result": {"status": true, "value": list}, "id": 1, "jsonrpc": "2.0"})
        .to_string()
        .into_bytes()
}

#[test]
fn signed_challenges_verify() {
    let all: Vec<Value> = challenges().into_iter().map(|(_, c)| c).collect();
    let out = PrivacyIdea
        .read_poll(&account(), &poll_reply(all), 500)
        .unwrap();
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert_eq!(out.challenges.len(), 4);
    let plain = &out.challenges[0];
    assert_eq!(plain.question(), "Sign in to 192.0.2.7 as alice?");
    assert_eq!(plain.options(), None);
    assert!(!plain.decline_reasons());
    assert_eq!(plain.expires_at(), 620);
    let nm = &out.challenges[1];
    assert_eq!(nm.options().unwrap(), ["07", "69", "23"]);
    assert!(out.challenges[2].decline_reasons());
    assert_eq!(
        out.challenges[2].question(),
        "Anmeldung bei München – ok? ✓"
    );
    assert!(!out.challenges[3].verify_tls());
    assert!(out.challenges[3].decline_reasons());
}

fn tampered(name: &str, field: &str, value: Value) -> ChallengeError {
    let mut c = challenge(name);
    c[field] = value;
    verify_challenge(&account(), &c, 0).unwrap_err()
}

#[test]
fn tampered_challenges_fail() {
    use ChallengeError::*;
    assert_eq!(
        tampered("plain", "question", json!("Sign in as mallory?")),
        BadSignature
    );
    assert_eq!(tampered("plain", "title", json!("ACME!")), BadSignature);
    assert_eq!(
        tampered("plain", "url", json!("https://evil.example/ttype/push")),
        BadSignature
    );
    assert_eq!(tampered("plain", "sslverify", json!("0")), BadSignature);
    assert_eq!(
        tampered("plain", "nonce", json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")),
        BadSignature
    );
    assert_eq!(
        tampered("plain", "serial", json!("PIPU9999")),
        WrongSerial("PIPU9999".into())
    );
    assert_eq!(
        tampered("plain", "signature", json!("ABCDEFGH")),
        BadSignature
    );
    // Options added, changed or removed.
    assert_eq!(
        tampered("plain", "require_presence", json!("07")),
        BadSignature
    );
    assert_eq!(
        tampered("number-matching", "require_presence", json!("07,69,24")),
        BadSignature
    );
    let mut c = challenge("number-matching");
    c.as_object_mut().unwrap().remove("require_presence");
    assert_eq!(
        verify_challenge(&account(), &c, 0).unwrap_err(),
        BadSignature
    );
    // Capabilities changed, unsigned, or a signature moved to another challenge.
    assert!(matches!(
        tampered(
            "capabilities",
            "capabilities",
            json!("{\"decline_reason\": false}")
        ),
        BadCapabilities(_)
    ));
    assert!(matches!(
        tampered(
            "capabilities",
            "capabilities",
            json!("{\"decline_reason\": true, \"x\": 1}")
        ),
        BadCapabilities(_)
    ));
    assert!(matches!(
        tampered("plain", "capabilities", json!("{\"decline_reason\": true}")),
        BadCapabilities(_)
    ));
    let other_sig =
        challenge("number-matching-capabilities-sslverify-0")["capabilities_signature"].clone();
    assert!(matches!(
        tampered("capabilities", "capabilities_signature", other_sig),
        BadCapabilities(_)
    ));
    // Missing fields.
    let mut c = challenge("plain");
    c.as_object_mut().unwrap().remove("title");
    assert_eq!(
        verify_challenge(&account(), &c, 0).unwrap_err(),
        Missing("title")
    );
}

#[test]
fn a_tampered_challenge_is_rejected_and_the_others_kept() {
    let mut bad = challenge("plain");
    bad["question"] = json!("changed");
    let out = PrivacyIdea
        .read_poll(
            &account(),
            &poll_reply(vec![bad, challenge("capabilities")]),
            0,
        )
        .unwrap();
    assert_eq!(out.challenges.len(), 1);
    assert_eq!(out.rejected, vec![ChallengeError::BadSignature]);
}

#[test]
fn poll_errors() {
    let reply = json!({"result": {"status": false,
        "error": {"code": -1, "message": "Could not verify signature!"}}});
    assert!(matches!(
        PrivacyIdea.read_poll(&account(), reply.to_string().as_bytes(), 0),
        Err(PollError::Server(_))
    ));
    assert!(matches!(
        PrivacyIdea.read_poll(&account(), b"<html>", 0),
        Err(PollError::Response(_))
    ));
}

// ----- answers -----

fn verified(name: &str, received_at: u64) -> Challenge {
    verify_challenge(&account(), &challenge(name), received_at).unwrap()
}

#[test]
fn accept_and_decline_are_signed() {
    let a = account();
    let c = verified("plain", 100);
    let p = PrivacyIdea
        .answer(&a, &c, Answer::Accept { option: None }, 150)
        .unwrap();
    let r = p.request();
    assert_eq!(r.url, "https://pi.example.com/ttype/push");
    assert_eq!(r.param("nonce"), Some(c.nonce()));
    assert!(phone_verifies(
        &format!("{}|PIPU0001A2B3", c.nonce()),
        r.param("signature").unwrap()
    ));

    let p = PrivacyIdea
        .answer(&a, &c, Answer::Decline { reason: None }, 150)
        .unwrap();
    assert_eq!(p.request().param("decline"), Some("1"));
    assert_eq!(p.request().param("decline_reason"), None);
    assert!(phone_verifies(
        &format!("{}|PIPU0001A2B3|decline", c.nonce()),
        p.request().param("signature").unwrap()
    ));
}

#[test]
fn decline_reasons_only_where_the_capabilities_allow() {
    let a = account();
    let why = Answer::Decline {
        reason: Some(DeclineReason::UnknownTrigger),
    };
    assert_eq!(
        PrivacyIdea
            .answer(&a, &verified("plain", 0), why.clone(), 0)
            .unwrap_err(),
        AnswerError::ReasonNotAllowed
    );
    let c = verified("capabilities", 0);
    let p = PrivacyIdea.answer(&a, &c, why, 0).unwrap();
    assert_eq!(p.request().param("decline_reason"), Some("unknown_trigger"));
    assert!(phone_verifies(
        &format!("{}|PIPU0001A2B3|decline|unknown_trigger", c.nonce()),
        p.request().param("signature").unwrap()
    ));
}

#[test]
fn number_matching_answers() {
    let a = account();
    let c = verified("number-matching", 0);
    assert!(matches!(
        PrivacyIdea.answer(&a, &c, Answer::Accept { option: None }, 0),
        Err(AnswerError::OptionRequired(_))
    ));
    assert!(matches!(
        PrivacyIdea.answer(
            &a,
            &c,
            Answer::Accept {
                option: Some("99".into())
            },
            0
        ),
        Err(AnswerError::NotAnOption(..))
    ));
    assert_eq!(
        PrivacyIdea
            .answer(
                &a,
                &verified("plain", 0),
                Answer::Accept {
                    option: Some("07".into())
                },
                0
            )
            .unwrap_err(),
        AnswerError::NoOptions
    );
    let p = PrivacyIdea
        .answer(
            &a,
            &c,
            Answer::Accept {
                option: Some("69".into()),
            },
            0,
        )
        .unwrap();
    assert_eq!(p.request().param("presence_answer"), Some("69"));
    assert!(phone_verifies(
        &format!("{}|PIPU0001A2B3|69", c.nonce()),
        p.request().param("signature").unwrap()
    ));
}

#[test]
fn challenges_expire_two_minutes_after_receipt() {
    let a = account();
    let c = verified("plain", 1000);
    assert!(
        PrivacyIdea
            .answer(&a, &c, Answer::Accept { option: None }, 1120)
            .is_ok()
    );
    assert_eq!(
        PrivacyIdea
            .answer(&a, &c, Answer::Accept { option: None }, 1121)
            .unwrap_err(),
        AnswerError::Expired
    );
}

#[test]
fn answer_replies() {
    let a = account();
    let p = PrivacyIdea
        .answer(
            &a,
            &verified("plain", 0),
            Answer::Accept { option: None },
            0,
        )
        .unwrap();
    let read = |v: Value| PrivacyIdea.read_answer(&p, v.to_string().as_bytes());
    assert_eq!(
        read(json!({"result": {"status": true, "value": true}, "detail": {"display_code": "42"}}))
            .unwrap(),
        AnswerOutcome {
            accepted: true,
            display_code: Some("42".into())
        }
    );
    assert_eq!(
        read(json!({"result": {"status": true, "value": false}})).unwrap(),
        AnswerOutcome {
            accepted: false,
            display_code: None
        }
    );
    assert!(matches!(
        read(json!({"result": {"status": false, "error": {"code": 10, "message": "x"}}})),
        Err(AnswerError::Server(_))
    ));
}

#[test]
fn token_update_is_signed() {
    let a = account();
    let p = PrivacyIdea
        .update_token(&a, "new-token", 1_795_801_620)
        .unwrap();
    let r = p.request();
    assert_eq!(r.param("new_fb_token"), Some("new-token"));
    assert!(phone_verifies(
        "new-token|PIPU0001A2B3|2026-11-27T17:47:00+00:00",
        r.param("signature").unwrap()
    ));
    assert_eq!(
        PrivacyIdea.update_token(&a, "a|b", 0).unwrap_err(),
        UpdateError::InvalidToken
    );
    assert!(
        PrivacyIdea
            .read_update(&p, br#"{"result": {"status": true, "value": true}}"#)
            .is_ok()
    );
}

// ----- genuine bytes from a live privacyIDEA 3.14 (capture_real.py) -----

#[test]
fn a_real_3_14_challenge_verifies_and_its_tampered_copies_do_not() {
    let real: Value = serde_json::from_str(&vector("real-3.14.json")).unwrap();
    assert_eq!(real["version"], "privacyIDEA 3.14");
    let server_key = real["server_public_key"].as_str().unwrap();
    assert!(
        server_key.contains('\n'),
        "the server key comes with newlines"
    );
    let mut a = account();
    a.serial = real["serial"].as_str().unwrap().to_owned();
    a.url = real["url"].as_str().unwrap().to_owned();
    a.server_key = ServerKey::from_base64(server_key).unwrap();
    a.phone_key = PhoneKey::from_pkcs8(
        &B64.decode(real["phone_private_key_pkcs8"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let body = real["poll_reply"].as_str().unwrap();
    let out = PrivacyIdea.read_poll(&a, body.as_bytes(), 0).unwrap();
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    let c = &out.challenges[0];
    assert!(
        c.decline_reasons(),
        "3.14's signed capabilities allow decline reasons"
    );
    let options = c.options().unwrap();
    assert_eq!(options.len(), 3);
    assert!(options.contains(&real["presence_answer"].as_str().unwrap().to_owned()));

    let raw: Value = serde_json::from_str(body).unwrap();
    let first = &raw["result"]["value"][0];
    for (field, value) in [
        ("question", json!("Sign-in to Chrome from 198.51.100.1")),
        ("url", json!("https://evil.example/ttype/push")),
        ("sslverify", json!("1")),
        ("require_presence", json!("01,02,03")),
        ("title", json!("privacyIDEA")),
    ] {
        let mut t = first.clone();
        t[field] = value;
        assert_eq!(
            verify_challenge(&a, &t, 0).unwrap_err(),
            ChallengeError::BadSignature,
            "{field}"
        );
    }
    let mut t = first.clone();
    t["capabilities"] = json!("{\"decline_reason\": false}");
    assert!(matches!(
        verify_challenge(&a, &t, 0),
        Err(ChallengeError::BadCapabilities(_))
    ));
}
