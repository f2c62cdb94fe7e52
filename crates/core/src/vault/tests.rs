use super::format::{checksum, parse_file};
use super::*;
use crate::AccountEntry;
use crate::otp::{Algorithm, Kind, OtpParams};
use crate::rng::SystemRng;
use crate::{OtpAccount, Secret};

fn fast() -> KdfParams {
    KdfParams::MIN
}

fn account(i: u8) -> OtpAccount {
    OtpAccount {
        issuer: format!("Issuer {i}"),
        name: format!("user{i}@example.com"),
        secret: Secret::from_bytes(vec![i; 20]),
        params: OtpParams::new(Kind::Totp { period: 30 }, Algorithm::Sha1, 6).unwrap(),
    }
}

fn vault_with(n: u8) -> Vault {
    let rng = SystemRng::new();
    let mut v = Vault::create(b"correct horse", fast(), &rng).unwrap();
    for i in 1..=n {
        assert!(matches!(
            v.add(account(i), 1_700_000_000, &rng).unwrap(),
            AddOutcome::Added(_)
        ));
    }
    v
}

#[test]
fn round_trip() {
    let rng = SystemRng::new();
    let v = vault_with(3);
    let bytes = v.to_bytes(&rng).unwrap();
    let w = Vault::open(&bytes, b"correct horse").unwrap();
    assert_eq!(w.accounts(), v.accounts());
    assert_eq!(w.accounts()[1].otp, account(2));
    // A fresh nonce on every save: two saves of the same content differ.
    assert_ne!(v.to_bytes(&rng).unwrap(), bytes);
}

#[test]
fn wrong_password_and_corruption_are_different_errors() {
    let rng = SystemRng::new();
    let bytes = vault_with(2).to_bytes(&rng).unwrap();
    assert_eq!(
        Vault::open(&bytes, b"wrong").unwrap_err(),
        OpenError::WrongPassword
    );
    assert_eq!(
        Vault::open(b"", b"x").unwrap_err(),
        OpenError::Corrupt(Corruption::Empty)
    );
    assert_eq!(
        Vault::open(b"", b"x").unwrap_err().to_string(),
        "the vault file is corrupt: the file is empty"
    );
    assert_eq!(
        Vault::open(b"{}", b"x").unwrap_err(),
        OpenError::Corrupt(Corruption::NotVaultJson)
    );
    assert!(matches!(
        Vault::open(b"  \n", b"x"),
        Err(OpenError::Corrupt(_))
    ));
    for cut in [1, bytes.len() / 3, bytes.len() / 2, bytes.len() - 3] {
        assert!(
            matches!(
                Vault::open(&bytes[..cut], b"correct horse"),
                Err(OpenError::Corrupt(_))
            ),
            "cut {cut}"
        );
    }
    // Flip one character at many places: always corrupt (or, in whitespace, harmless).
    let text = String::from_utf8(bytes.clone()).unwrap();
    let mut corrupted = 0;
    for i in (0..bytes.len()).step_by(7) {
        let mut b = bytes.clone();
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        match Vault::open(&b, b"correct horse") {
            Err(OpenError::Corrupt(_)) | Err(OpenError::UnsupportedVersion(_)) => corrupted += 1,
            Ok(_) => assert!(
                text.as_bytes()[i].is_ascii_whitespace(),
                "flip at {i} went unnoticed"
            ),
            Err(e) => panic!("flip at {i}: {e:?}"),
        }
    }
    assert!(corrupted > 50);
}

#[test]
fn deliberate_tampering_with_recomputed_checksum_fails_authentication() {
    let rng = SystemRng::new();
    let bytes = vault_with(1).to_bytes(&rng).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let db = v["db"].as_str().unwrap().to_owned();
    let mut raw = B64.decode(&db).unwrap();
    raw[5] ^= 1;
    let db = B64.encode(raw);
    let header = serde_json::to_string(&v["header"]).unwrap();
    v["db"] = db.clone().into();
    v["checksum"] = checksum(&header, &db).into();
    let out = serde_json::to_vec(&v).unwrap();
    assert!(matches!(
        Vault::open(&out, b"correct horse"),
        Err(OpenError::Corrupt(_))
    ));
}

#[test]
fn newer_versions_and_foreign_files_are_refused() {
    let rng = SystemRng::new();
    let bytes = vault_with(0).to_bytes(&rng).unwrap();
    let text = String::from_utf8(bytes)
        .unwrap()
        .replace("\"version\": 1", "\"version\": 2");
    assert_eq!(
        Vault::open(text.as_bytes(), b"correct horse").unwrap_err(),
        OpenError::UnsupportedVersion(2)
    );
    assert!(matches!(
        Vault::open(b"{\"format\":\"aegis\"}", b"x"),
        Err(OpenError::Corrupt(_))
    ));
}

#[test]
fn changing_the_password_keeps_the_data() {
    let rng = SystemRng::new();
    let mut v = vault_with(2);
    v.set_password(b"new password", fast(), &rng).unwrap();
    let bytes = v.to_bytes(&rng).unwrap();
    assert_eq!(
        Vault::open(&bytes, b"correct horse").unwrap_err(),
        OpenError::WrongPassword
    );
    let w = Vault::open(&bytes, b"new password").unwrap();
    assert_eq!(w.accounts(), v.accounts());
    assert_eq!(w.slots().iter().filter(|s| s.1 == "password").count(), 1);
}

#[test]
fn device_slots() {
    let rng = SystemRng::new();
    let mut v = vault_with(1);
    let kek = [7u8; 32];
    let id = v.add_device_slot("twofold-device-key", &kek, &rng).unwrap();
    let bytes = v.to_bytes(&rng).unwrap();
    assert_eq!(
        Vault::open_with_device_key(&bytes, &kek)
            .unwrap()
            .accounts(),
        v.accounts()
    );
    assert_eq!(
        Vault::open_with_device_key(&bytes, &[8u8; 32]).unwrap_err(),
        OpenError::DeviceKeyRejected
    );
    assert!(Vault::open(&bytes, b"correct horse").is_ok());
    v.remove_device_slot(&id).unwrap();
    let bytes = v.to_bytes(&rng).unwrap();
    assert_eq!(
        Vault::open_with_device_key(&bytes, &kek).unwrap_err(),
        OpenError::DeviceKeyRejected
    );
    assert_eq!(
        v.remove_device_slot(&id).unwrap_err(),
        VaultError::NoDeviceSlot
    );
}

#[test]
fn a_bad_stored_account_is_named_by_its_place_and_reason() {
    let db = br#"{"accounts":[{"id":"a","issuer":"I","name":"n","type":"totp","algorithm":"SHA1","digits":6,"period":30,"counter":null,"secret":"JBSWY3DPEHPK3PXP"},{"id":"b","issuer":"I","name":"m","type":"totp","algorithm":"SHA1","digits":6,"period":null,"counter":null,"secret":"JBSWY3DPEHPK3PXP"}]}"#;
    let err = model::Database::from_json(db).unwrap_err();
    assert_eq!(
        err,
        Corruption::Account {
            position: 2,
            reason: StoredAccountError::Kind,
        }
    );
    assert_eq!(
        err.to_string(),
        "account 2: unknown type or missing period/counter"
    );
    assert_eq!(
        model::Database::from_json(b"[").unwrap_err(),
        Corruption::DatabaseJson
    );
}

#[test]
fn weak_kdf_parameters_in_a_file_are_refused() {
    let rng = SystemRng::new();
    let bytes = vault_with(0).to_bytes(&rng).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["header"]["slots"][0]["kdf"]["memory_kib"] = 8.into();
    let header = serde_json::to_string(&v["header"]).unwrap();
    v["checksum"] = checksum(&header, v["db"].as_str().unwrap()).into();
    let out = serde_json::to_vec(&v).unwrap();
    assert_eq!(
        Vault::open(&out, b"correct horse").unwrap_err(),
        OpenError::Corrupt(Corruption::SlotKdfUnacceptable)
    );
}

#[test]
fn duplicates_hotp_and_removal() {
    let rng = SystemRng::new();
    let mut v = vault_with(1);
    let first = v.accounts()[0].id.clone();
    assert_eq!(
        v.add(account(1), 0, &rng).unwrap(),
        AddOutcome::Duplicate(first.clone())
    );
    let hotp = OtpAccount {
        issuer: "H".into(),
        name: "h".into(),
        secret: Secret::from_bytes(b"12345678901234567890".to_vec()),
        params: OtpParams::new(Kind::Hotp { counter: 0 }, Algorithm::Sha1, 6).unwrap(),
    };
    let AddOutcome::Added(h) = v.add(hotp, 0, &rng).unwrap() else {
        panic!()
    };
    // RFC 4226 Appendix D: counter 1 then 2.
    assert_eq!(v.next_hotp(&h, 5).unwrap(), "287082");
    assert_eq!(v.next_hotp(&h, 6).unwrap(), "359152");
    assert_eq!(
        v.account(&h).unwrap().otp.params.kind(),
        Kind::Hotp { counter: 2 }
    );
    assert_eq!(v.next_hotp(&first, 0).unwrap_err(), VaultError::NotHotp);
    v.remove(&first, 1_700_000_100).unwrap();
    assert!(matches!(
        v.remove(&first, 1_700_000_100),
        Err(VaultError::NotFound(_))
    ));
    assert_eq!(v.accounts().len(), 1);
}

#[test]
fn nothing_secret_is_printed() {
    let rng = SystemRng::new();
    let v = vault_with(1);
    let shown = format!("{v:?} {:?}", v.accounts());
    let b32 = account(1).secret.to_base32();
    assert!(!shown.contains(b32.as_str()), "{shown}");
    let bytes = v.to_bytes(&rng).unwrap();
    assert!(!String::from_utf8(bytes).unwrap().contains(b32.as_str()));
}

pub(super) mod push {
    use base64::Engine as _;
    use serde_json::{Value, json};

    use super::*;
    use crate::push::{
        Answer, AnswerError, AnswerOutcome, PhoneKey, PushAccount, ServerKey,
        privacyidea::NO_PUSH_TOKEN,
    };

    const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/push/");

    fn vector(name: &str) -> String {
        std::fs::read_to_string(format!("{VECTORS}{name}")).unwrap()
    }

    pub(in crate::vault) fn push_account() -> PushAccount {
        let der = B64.decode(vector("phone-key-2048.pk8.b64").trim()).unwrap();
        PushAccount {
            protocol: "privacyidea".into(),
            serial: "PIPU0001A2B3".into(),
            issuer: "ACME".into(),
            label: "alice".into(),
            url: "https://pi.example.com/ttype/push".into(),
            verify_tls: true,
            poll_only: true,
            require_pin: true,
            force_unlock: Some("biometric".into()),
            phone_key: PhoneKey::from_pkcs8(&der).unwrap(),
            server_key: ServerKey::from_base64(&vector("server-key.pkcs1.b64")).unwrap(),
            push_token: NO_PUSH_TOKEN.into(),
            enrolled_at: 5,
        }
    }

    fn poll_reply() -> Vec<u8> {
        let list: Vec<Value> = vector("challenges.jsonl")
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["challenge"].clone())
            .collect();
        json!({"result": {"status": true, "value": list}})
            .to_string()
            .into_bytes()
    }

    const TRUE: &[u8] = br#"{"result": {"status": true, "value": true}}"#;
    const FALSE: &[u8] = br#"{"result": {"status": true, "value": false}}"#;

    #[test]
    fn push_accounts_round_trip_apart_from_otp_accounts() {
        let rng = SystemRng::new();
        let mut v = vault_with(1);
        assert!(!v.add_push_account(push_account()));
        let bytes = v.to_bytes(&rng).unwrap();
        let w = Vault::open(&bytes, b"correct horse").unwrap();
        assert_eq!(w.push_accounts(), &[push_account()]);
        assert_eq!(w.accounts().len(), 1);
        // The private key is encrypted: not in the file in any form.
        let pk = vector("phone-key-2048.pk8.b64");
        let text = String::from_utf8(bytes).unwrap();
        assert!(!text.contains(&pk.trim()[40..80]));
        assert!(!format!("{w:?}").contains("MII"));
        // A re-enrolment replaces.
        let mut w = w;
        assert!(w.add_push_account(push_account()));
        assert_eq!(w.push_accounts().len(), 1);
    }

    #[test]
    fn a_vault_without_push_fields_opens() {
        let db = br#"{"accounts": [], "groups": []}"#;
        let d = model::Database::from_json(db).unwrap();
        assert!(d.push_accounts.is_empty() && d.push_activity.is_empty());
    }

    #[test]
    fn poll_answer_never_twice_and_log() {
        let mut v = vault_with(0);
        v.add_push_account(push_account());
        let reqs = v.poll_requests(100);
        assert_eq!(reqs.len(), 1);
        assert!(reqs[0].1.is_ok());
        let out = v
            .read_poll_reply("PIPU0001A2B3", &poll_reply(), 100)
            .unwrap();
        assert_eq!(out.challenges.len(), 4);
        assert_eq!(v.pending_challenges(100).len(), 4);
        let nonces: Vec<String> = v
            .pending_challenges(100)
            .iter()
            .map(|c| c.nonce().to_owned())
            .collect();

        // Approve the plain one.
        let p = v
            .prepare_answer(&nonces[0], Answer::Accept { option: None }, 110)
            .unwrap();
        let o = v.finish_answer(&p, TRUE, None, 111).unwrap();
        assert_eq!(
            o,
            AnswerOutcome {
                accepted: true,
                display_code: None
            }
        );
        // Never twice, even when the server lists it again.
        assert_eq!(
            v.prepare_answer(&nonces[0], Answer::Accept { option: None }, 112)
                .unwrap_err(),
            AnswerError::AlreadyAnswered
        );
        v.read_poll_reply("PIPU0001A2B3", &poll_reply(), 115)
            .unwrap();
        assert_eq!(v.pending_challenges(115).len(), 3);

        // A wrong number-matching option leaves it open; the right one closes it.
        let wrong = v
            .prepare_answer(
                &nonces[1],
                Answer::Accept {
                    option: Some("07".into()),
                },
                116,
            )
            .unwrap();
        assert!(!v.finish_answer(&wrong, FALSE, None, 116).unwrap().accepted);
        let right = v
            .prepare_answer(
                &nonces[1],
                Answer::Accept {
                    option: Some("69".into()),
                },
                117,
            )
            .unwrap();
        assert!(v.finish_answer(&right, TRUE, None, 117).unwrap().accepted);
        assert!(v.is_answered(&nonces[1]));

        // Log: time, serial, question, decision.
        let log = v.push_activity();
        assert_eq!(log.len(), 3);
        assert_eq!(log[0].serial, "PIPU0001A2B3");
        assert_eq!(log[0].question, "Sign in to 192.0.2.7 as alice?");
        assert!(log[0].accepted && !log[1].accepted && log[2].accepted);
        assert_eq!(log[0].location, None);

        // Two minutes after the first receipt (100), the rest expire.
        assert_eq!(v.pending_challenges(220).len(), 2);
        assert!(v.pending_challenges(221).is_empty());
        assert_eq!(
            v.prepare_answer(&nonces[2], Answer::Decline { reason: None }, 221)
                .unwrap_err(),
            AnswerError::Expired
        );
        assert!(matches!(
            v.prepare_answer("NOPE", Answer::Decline { reason: None }, 100),
            Err(AnswerError::NotPending(_))
        ));

        // Everything survives a save.
        let w = Vault::open(&v.to_bytes(&SystemRng::new()).unwrap(), b"correct horse").unwrap();
        assert_eq!(w.push_activity(), v.push_activity());
        assert!(w.is_answered(&nonces[0]));
    }

    #[test]
    fn an_expired_nonce_the_server_still_lists_is_not_stored_again() {
        let mut v = vault_with(0);
        v.add_push_account(push_account());
        let first = v
            .read_poll_reply("PIPU0001A2B3", &poll_reply(), 100)
            .unwrap();
        assert_eq!(first.new.len(), 4, "all four are new the first time");
        // Seen again while pending: nothing new.
        let again = v
            .read_poll_reply("PIPU0001A2B3", &poll_reply(), 150)
            .unwrap();
        assert!(again.new.is_empty());
        // Long after they expired, the server still lists them: not new, not shown, and
        // still expired (no fresh two-minute window).
        let late = v
            .read_poll_reply("PIPU0001A2B3", &poll_reply(), 400)
            .unwrap();
        assert!(late.new.is_empty(), "{:?}", late.new);
        assert!(v.pending_challenges(400).is_empty());
        assert!(matches!(
            v.prepare_answer(&first.new[0], Answer::Decline { reason: None }, 401),
            Err(AnswerError::Expired)
        ));
        // Once the server forgets them, so does the vault.
        let empty = br#"{"result": {"status": true, "value": []}}"#;
        v.read_poll_reply("PIPU0001A2B3", empty, 402).unwrap();
        assert!(matches!(
            v.prepare_answer(&first.new[0], Answer::Decline { reason: None }, 403),
            Err(AnswerError::NotPending(_))
        ));
    }

    #[derive(Debug, thiserror::Error)]
    #[error("no route to the server")]
    struct Offline;

    #[test]
    fn a_round_of_polls_fails_only_when_every_account_failed() {
        let mut v = vault_with(0);
        v.add_push_account(push_account());
        let mut other = push_account();
        other.serial = "PIPU0002".into();
        v.add_push_account(other);
        // One account offline, the other answers: the round succeeds and says what is new.
        let round: PollRound<Offline> = v
            .read_poll_replies(
                vec![
                    ("PIPU0001A2B3".into(), Ok(poll_reply())),
                    ("PIPU0002".into(), Err(PollFailure::Send(Offline))),
                ],
                100,
            )
            .unwrap();
        assert_eq!(round.new.len(), 4);
        assert!(round.new.iter().all(|(_, s)| s == "PIPU0001A2B3"));
        assert_eq!(round.failed.len(), 1);
        assert_eq!(round.failed[0].0, "PIPU0002");
        // Every account failed: an error naming each.
        let clock = br#"{"result": {"status": false, "error": {"code": 10,
            "message": "Timestamp 2026-12-01T10:00:00+00:00 not in valid range."}}}"#;
        let err = v
            .read_poll_replies::<Offline>(
                vec![
                    ("PIPU0001A2B3".into(), Ok(clock.to_vec())),
                    ("PIPU0002".into(), Err(PollFailure::Send(Offline))),
                ],
                100,
            )
            .unwrap_err();
        assert!(err.clock_off());
        let text = err.to_string();
        assert!(text.contains("PIPU0002: no route"), "{text}");
        assert!(text.contains("clock is more than 60 seconds off"), "{text}");
        // No accounts: nothing to fail.
        let mut empty = vault_with(0);
        assert!(empty.read_poll_replies::<Offline>(vec![], 100).is_ok());
    }

    /// The test account without `pin`/`app_force_unlock`: one the keyring may hold.
    fn pollable_account() -> PushAccount {
        PushAccount {
            require_pin: false,
            force_unlock: None,
            ..push_account()
        }
    }

    /// The keyring holds only accounts that do not require the user's presence, and of those
    /// only what a poll needs: no push-service token; a copy written before (with a
    /// presence-requiring account's key in it) is read without it.
    #[test]
    fn the_keyring_holds_no_presence_token_and_only_what_polling_needs() {
        let mut v = vault_with(0);
        v.add_push_account(push_account());
        let mut open = pollable_account();
        open.serial = "PIPU0PEN".into();
        open.push_token = "fcm-token-of-this-phone".into();
        v.add_push_account(open.clone());
        let ring = v.push_keyring();
        let serials: Vec<&str> = ring.accounts().iter().map(|a| a.serial.as_str()).collect();
        assert_eq!(serials, ["PIPU0PEN"]);
        let bytes = ring.to_bytes();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("PIPU0001A2B3"), "{text}");
        assert!(!text.contains("fcm-token-of-this-phone"));
        assert_eq!(ring.accounts()[0].phone_key, open.phone_key);
        assert_eq!(ring.accounts()[0].server_key, open.server_key);
        assert_eq!(ring.accounts()[0].url, open.url);
        // The figure: what one account's entry holds.
        let entry: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let fields: Vec<&String> = entry[0].as_object().unwrap().keys().collect();
        println!(
            "keyring copy: {} bytes for 1 of 2 push accounts (the other requires presence); fields {fields:?}",
            bytes.len()
        );
        // An older copy with every account, the presence-requiring one included.
        let old = super::super::model::push_keyring_to_json(v.push_accounts(), None);
        let read = PushKeyring::from_bytes(&old).unwrap();
        assert!(read.same_accounts(&ring));
        assert_ne!(
            read.to_bytes().as_slice(),
            old.as_slice(),
            "the app writes it again"
        );
    }

    /// A challenge the keyring took (verified with keys read from the platform's storage) is
    /// verified again with the vault's server key before the vault takes it: a stored copy
    /// whose server key was replaced cannot slip a forged sign-in into the vault.
    #[test]
    fn challenges_from_the_keyring_are_verified_again_with_the_vaults_server_key() {
        let mut v = vault_with(0);
        v.add_push_account(pollable_account());
        // Someone with write access to the storage swaps the server key for their own.
        let forger = push_account().phone_key;
        let forged_key = ServerKey::from_pkcs1_der(&forger.public_pkcs1_der().unwrap()).unwrap();
        let mut stored: Value = serde_json::from_slice(&v.push_keyring().to_bytes()).unwrap();
        stored[0]["server_key"] = json!(forged_key.to_base64());
        let mut ring = PushKeyring::from_bytes(stored.to_string().as_bytes()).unwrap();
        let a = pollable_account();
        let message = crate::push::privacyidea::challenge_message(
            "F1", &a.url, &a.serial, "Approve?", "Sign-in", "1", None,
        );
        let forged = json!({"nonce": "F1", "url": a.url, "serial": a.serial,
            "question": "Approve?", "title": "Sign-in", "sslverify": "1",
            "signature": forger.sign(message.as_bytes()).unwrap()});
        let body = json!({"result": {"status": true, "value": [forged]}}).to_string();
        let round: PollRound<Offline> = ring
            .read_poll_replies(vec![(a.serial.clone(), Ok(body.into_bytes()))], 100)
            .unwrap();
        assert_eq!(round.new.len(), 1, "the keyring's own check passes");
        assert_eq!(v.adopt_pending(&ring, 101), 0, "the vault's does not");
        assert!(v.pending_challenges(101).is_empty());
        // The server's own challenges, from an untouched copy, are taken.
        let mut genuine = v.push_keyring();
        genuine
            .read_poll_replies::<Offline>(vec![(a.serial.clone(), Ok(poll_reply()))], 100)
            .unwrap();
        assert_eq!(v.adopt_pending(&genuine, 101), 4);
    }

    #[test]
    fn a_push_keyring_polls_while_the_vault_is_locked_and_hands_back_what_it_got() {
        let mut v = vault_with(0);
        v.add_push_account(pollable_account());
        // One challenge answered before the vault locked: never new again.
        v.read_poll_reply("PIPU0001A2B3", &poll_reply(), 100)
            .unwrap();
        let first = v.pending_challenges(100)[0].nonce().to_owned();
        let p = v
            .prepare_answer(&first, Answer::Accept { option: None }, 101)
            .unwrap();
        v.finish_answer(&p, TRUE, None, 101).unwrap();
        let vault_pending = v.pending_challenges(101).len();
        assert_eq!(vault_pending, 3);
        // Stored (accounts only, keys included) and read back, as the app does at start.
        let stored = v.push_keyring().to_bytes();
        let mut ring = PushKeyring::from_bytes(&stored).unwrap();
        assert_eq!(
            ring.accounts(),
            &[pollable_account().for_polling().unwrap()]
        );
        assert!(!format!("{ring:?}").contains("MII"));
        // The vault's in-memory keyring knows the answered nonce; a fresh one from storage
        // does not (pending bookkeeping is not stored), so the app keeps the live one.
        let mut live = v.push_keyring();
        let reqs = live.poll_requests(130);
        assert!(reqs[0].1.is_ok());
        let round: PollRound<Offline> = live
            .read_poll_replies(vec![("PIPU0001A2B3".into(), Ok(poll_reply()))], 130)
            .unwrap();
        assert!(round.new.is_empty(), "all were known to the vault");
        let round: PollRound<Offline> = ring
            .read_poll_replies(vec![("PIPU0001A2B3".into(), Ok(poll_reply()))], 130)
            .unwrap();
        assert_eq!(round.new.len(), 4);
        assert_eq!(ring.pending_challenges(130).len(), 4);
        // Taken back on unlock: only what the vault did not know, never the answered one.
        let mut fresh = vault_with(0);
        fresh.add_push_account(pollable_account());
        assert_eq!(fresh.adopt_pending(&ring, 131), 4);
        assert_eq!(v.adopt_pending(&ring, 131), 0);
        assert!(v.is_answered(&first));
        assert_eq!(v.pending_challenges(131).len(), vault_pending);
        // Expired ones are not taken (2 minutes after their receipt).
        let mut late = vault_with(0);
        late.add_push_account(pollable_account());
        assert_eq!(late.adopt_pending(&ring, 130 + 121), 0);
        // Hostile stored bytes are refused, not panicked on.
        assert!(PushKeyring::from_bytes(b"[{").is_err());
        assert!(PushKeyring::from_bytes(&vec![b' '; MAX_KEYRING_BYTES + 1]).is_err());
    }

    /// The first challenge of the vectors, as privacyIDEA's gateway posts it (`data`).
    fn signed_challenge(line: usize) -> Value {
        let l = vector("challenges.jsonl")
            .lines()
            .nth(line)
            .unwrap()
            .to_owned();
        serde_json::from_str::<Value>(&l).unwrap()["challenge"].clone()
    }

    /// What the relay sends for `challenge` to the device `v` registered (the relay's own
    /// encryption, from the device token the app gives the server).
    fn pushed(v: &Vault, challenge: &Value) -> Vec<u8> {
        let token = v.push_device_token().unwrap();
        let crate::push::device_token::DeviceToken::WebPush(target) =
            crate::push::device_token::parse(&token).unwrap()
        else {
            panic!("not a Web Push token")
        };
        crate::push::webpush::encrypt(
            challenge.to_string().as_bytes(),
            &target.p256dh,
            &target.auth,
            &SystemRng::new(),
        )
        .unwrap()
    }

    fn registered() -> Vault {
        let mut v = vault_with(0);
        v.add_push_account(pollable_account());
        let (reg, made) = v.ensure_push_registration(&SystemRng::new()).unwrap();
        assert!(made);
        let connection = reg.connection().to_owned();
        assert_eq!(v.push_device_token(), None, "no endpoint yet");
        assert_eq!(
            v.set_push_endpoint("another-app", "https://ntfy.example.org/upX")
                .unwrap(),
            EndpointChange::Ignored
        );
        assert_eq!(
            v.set_push_endpoint(&connection, "https://ntfy.example.org/upX?up=1")
                .unwrap(),
            EndpointChange::Changed
        );
        v
    }

    /// A pushed challenge is decrypted with the device's registration and verified with the
    /// server's key as a polled one; it is pending once per nonce, whether a poll or a push
    /// brought it first, and never again once answered.
    #[test]
    fn a_pushed_challenge_is_verified_as_a_polled_one_and_pending_once_per_nonce() {
        let rng = SystemRng::new();
        let mut unregistered = vault_with(0);
        unregistered.add_push_account(pollable_account());
        assert_eq!(
            unregistered.read_pushed(b"x", 100),
            Err(PushedError::NotRegistered)
        );
        let mut v = registered();
        assert!(!v.ensure_push_registration(&rng).unwrap().1, "made once");
        let c = signed_challenge(0);
        let nonce = c["nonce"].as_str().unwrap().to_owned();
        let body = pushed(&v, &c);
        let news = v.read_pushed(&body, 100).unwrap();
        assert_eq!(
            news,
            PushedNews {
                serial: "PIPU0001A2B3".into(),
                nonce: nonce.clone(),
                new: true
            }
        );
        assert_eq!(v.pending_challenges(100).len(), 1);
        assert_eq!(v.pending_challenges(100)[0].question(), c["question"]);
        // The same message again (a distributor's redelivery): not new.
        assert!(!v.read_pushed(&body, 101).unwrap().new);
        // The poll that lists it too: only the others are new.
        let polled = v
            .read_poll_reply("PIPU0001A2B3", &poll_reply(), 102)
            .unwrap();
        assert!(!polled.new.contains(&nonce));
        assert_eq!(polled.new.len(), 3);
        // A poll first, then the push: not new either.
        let second = signed_challenge(1);
        assert!(!v.read_pushed(&pushed(&v, &second), 103).unwrap().new);
        // Answered: a later push of it is not new.
        let p = v
            .prepare_answer(&nonce, Answer::Accept { option: None }, 104)
            .unwrap();
        v.finish_answer(&p, TRUE, None, 104).unwrap();
        assert!(!v.read_pushed(&body, 105).unwrap().new);
        assert!(v.pending_challenges(105).iter().all(|c| c.nonce() != nonce));

        // Refused as a poll refuses: an altered question (the server's signature fails), a
        // challenge for no account here, not a challenge at all, not for this device.
        let mut fresh = registered();
        let mut altered = c.clone();
        altered["question"] = json!("Sign in to 203.0.113.9 as alice?");
        assert_eq!(
            fresh.read_pushed(&pushed(&fresh, &altered), 100),
            Err(PushedError::Challenge(
                crate::push::ChallengeError::BadSignature
            ))
        );
        let mut other = c.clone();
        other["serial"] = json!("PIPU9999");
        assert_eq!(
            fresh.read_pushed(&pushed(&fresh, &other), 100),
            Err(PushedError::UnknownAccount("PIPU9999".into()))
        );
        assert_eq!(
            fresh.read_pushed(&pushed(&fresh, &json!("hello")), 100),
            Err(PushedError::NotAChallenge)
        );
        assert_eq!(
            fresh.read_pushed(&pushed(&v, &c), 100),
            Err(PushedError::Decrypt(
                crate::push::webpush::EceError::Decrypt
            ))
        );
        assert!(fresh.pending_challenges(100).is_empty());
    }

    /// While locked, the push keyring (stored with the registration, read back at start)
    /// reads pushed messages; the vault verifies them again when it takes them.
    #[test]
    fn the_keyring_reads_pushed_messages_while_locked() {
        let rng = SystemRng::new();
        let v = registered();
        let stored = v.push_keyring().to_bytes();
        let mut ring = PushKeyring::from_bytes(&stored).unwrap();
        assert!(ring.same_accounts(&v.push_keyring()));
        assert!(!format!("{ring:?}").contains("upX"));
        let c = signed_challenge(0);
        let news = ring.read_pushed(&pushed(&v, &c), 100).unwrap();
        assert!(news.new);
        assert_eq!(ring.pending_challenges(100).len(), 1);
        assert!(!ring.read_pushed(&pushed(&v, &c), 101).unwrap().new);
        // The vault takes it on unlock, after saving and opening (the registration kept).
        let bytes = v.to_bytes(&rng).unwrap();
        let mut opened = Vault::open(&bytes, b"correct horse").unwrap();
        assert_eq!(opened.push_registration(), v.push_registration());
        assert_eq!(opened.adopt_pending(&ring, 102), 1);
        // A keyring written before registrations existed (a plain list) still reads.
        let old = super::super::model::push_keyring_to_json(v.push_accounts(), None);
        let read = PushKeyring::from_bytes(&old).unwrap();
        assert_eq!(read.accounts().len(), 1);
        assert!(
            !read.same_accounts(&ring),
            "the registration is missing: write again"
        );
    }

    /// Tokens enrolled poll-only move to the device token with privacyIDEA's signed
    /// `new_fb_token` update, and again when the distributor's endpoint changes; a refused
    /// update keeps the old token.
    #[test]
    fn token_updates_move_tokens_to_the_device_token() {
        let mut unregistered = vault_with(0);
        unregistered.add_push_account(pollable_account());
        assert!(unregistered.push_token_updates(100).is_empty());
        let mut v = registered();
        let token = v.push_device_token().unwrap();
        let updates = v.push_token_updates(1_764_000_000);
        assert_eq!(updates.len(), 1);
        let (serial, update) = &updates[0];
        let update = update.as_ref().unwrap();
        assert_eq!(serial, "PIPU0001A2B3");
        let r = update.request();
        assert_eq!(r.param("new_fb_token"), Some(token.as_str()));
        assert_eq!(r.param("serial"), Some("PIPU0001A2B3"));
        let ts = r.param("timestamp").unwrap();
        assert_eq!(ts, "2025-11-24T16:00:00+00:00");
        // Signed with the token's phone key over `{new_fb_token}|{serial}|{timestamp}`.
        let pkcs1 = pollable_account().phone_key.public_pkcs1_der().unwrap();
        let signature = data_encoding::BASE32
            .decode(r.param("signature").unwrap().as_bytes())
            .unwrap();
        let signed = format!("{token}|PIPU0001A2B3|{ts}");
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            &pkcs1,
        )
        .verify(signed.as_bytes(), &signature)
        .unwrap();
        // Refused: the old token stays, the update is offered again.
        assert!(v.finish_token_update(update, FALSE).is_err());
        assert_eq!(v.push_accounts()[0].push_token, NO_PUSH_TOKEN);
        assert_eq!(v.push_token_updates(100).len(), 1);
        // Taken: stored, nothing more to send.
        v.finish_token_update(update, TRUE).unwrap();
        assert_eq!(v.push_accounts()[0].push_token, token);
        assert!(v.push_token_updates(100).is_empty());
        // A new endpoint: the server must hear of it.
        let connection = v.push_registration().unwrap().connection().to_owned();
        assert_eq!(
            v.set_push_endpoint(&connection, "https://ntfy.example.org/upY")
                .unwrap(),
            EndpointChange::Changed
        );
        assert_eq!(v.push_token_updates(100).len(), 1);
        // Unregistered by the distributor: no device token, nothing to send.
        assert!(v.clear_push_endpoint(&connection));
        assert_eq!(v.push_device_token(), None);
        assert!(v.push_token_updates(100).is_empty());
    }

    /// A phone's FCM (or APNs) token is the device token once the push service gave it: new
    /// enrolments send it, and tokens enrolled poll-only move to it with the same signed
    /// update; a Web Push token or another registration's answer is not taken.
    #[test]
    fn a_phone_token_moves_tokens_as_an_endpoint_does() {
        use crate::push::device_token::DeviceToken;
        let mut v = vault_with(0);
        v.add_push_account(pollable_account());
        let connection = v
            .ensure_push_registration(&SystemRng::new())
            .unwrap()
            .0
            .connection()
            .to_owned();
        let fcm = DeviceToken::fcm("dE4k:APA91bH-reg_token").unwrap();
        assert_eq!(
            v.set_push_native_token("another-app", fcm.clone()).unwrap(),
            EndpointChange::Ignored
        );
        assert_eq!(v.push_device_token(), None);
        assert_eq!(
            v.set_push_native_token(&connection, fcm.clone()).unwrap(),
            EndpointChange::Changed
        );
        assert_eq!(
            v.set_push_native_token(&connection, fcm.clone()).unwrap(),
            EndpointChange::Same
        );
        let token = v.push_device_token().unwrap();
        assert_eq!(
            token,
            r#"{"v":1,"kind":"fcm","token":"dE4k:APA91bH-reg_token"}"#
        );
        let updates = v.push_token_updates(1_764_000_000);
        assert_eq!(updates.len(), 1);
        let update = updates[0].1.as_ref().unwrap();
        assert_eq!(update.request().param("new_fb_token"), Some(token.as_str()));
        v.finish_token_update(update, TRUE).unwrap();
        assert_eq!(v.push_accounts()[0].push_token, token);
        assert!(v.push_token_updates(100).is_empty());
        // FirebaseMessaging rotated the token: the server hears of the new one.
        assert_eq!(
            v.set_push_native_token(&connection, DeviceToken::fcm("rotated:X").unwrap())
                .unwrap(),
            EndpointChange::Changed
        );
        assert_eq!(v.push_token_updates(100).len(), 1);
    }
}

mod update {
    use super::*;
    use crate::otp::{Algorithm, Kind, OtpParams};
    use crate::rng::SystemRng;
    use crate::{OtpAccount, Secret};

    fn vault() -> (Vault, String) {
        let rng = SystemRng::new();
        let mut v = Vault::create(b"pw", KdfParams::MIN, &rng).unwrap();
        let otp = OtpAccount {
            issuer: "ACME".into(),
            name: "alice".into(),
            secret: Secret::from_bytes(vec![7; 20]),
            params: OtpParams::new(Kind::Totp { period: 30 }, Algorithm::Sha1, 6).unwrap(),
        };
        let AddOutcome::Added(id) = v.add(otp, 1_700_000_000, &rng).unwrap() else {
            panic!("not added")
        };
        (v, id)
    }

    #[test]
    fn update_changes_only_what_is_given_and_survives_a_save() {
        let rng = SystemRng::new();
        let (mut v, id) = vault();
        let before = v.account(&id).unwrap().clone();
        let a = v
            .update_account(
                &id,
                AccountUpdate {
                    name: Some("alice@acme.example".into()),
                    favorite: Some(true),
                    groups: Some(vec!["Work".into(), " ".into(), "Work".into(), "VPN".into()]),
                    ..AccountUpdate::default()
                },
                &rng,
            )
            .unwrap()
            .clone();
        assert_eq!(a.otp.name, "alice@acme.example");
        assert_eq!(a.otp.issuer, "ACME");
        assert_eq!(a.otp.secret, before.otp.secret);
        assert!(a.favorite);
        let names: Vec<_> = a.groups.iter().map(|g| v.group_name(g).unwrap()).collect();
        assert_eq!(names, ["Work", "VPN"]);
        let w = Vault::open(&v.to_bytes(&rng).unwrap(), b"pw").unwrap();
        assert_eq!(w.account(&id), Some(&a));
        // The same group name reuses the group.
        let again = v
            .update_account(
                &id,
                AccountUpdate {
                    groups: Some(vec!["VPN".into()]),
                    order: Some(9),
                    ..AccountUpdate::default()
                },
                &rng,
            )
            .unwrap()
            .clone();
        assert_eq!(v.groups().len(), 2);
        assert_eq!(again.order, 9);
    }

    #[test]
    fn update_of_an_unknown_id_is_not_found() {
        let (mut v, _) = vault();
        assert_eq!(
            v.update_account("nope", AccountUpdate::default(), &SystemRng::new())
                .unwrap_err(),
            VaultError::NotFound("nope".into())
        );
    }
}

mod add_all {
    use super::*;

    fn entry(i: u8, groups: &[&str]) -> AccountEntry {
        AccountEntry {
            account: account(i),
            note: format!("note {i}"),
            favorite: i.is_multiple_of(2),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        }
    }

    #[test]
    fn counts_added_and_duplicates_in_order_and_numbers_the_new_ones() {
        let rng = SystemRng::new();
        let mut v = vault_with(1);
        let first = v.accounts()[0].id.clone();
        let report = v
            .add_all(
                [
                    entry(2, &["Work"]),
                    entry(1, &[]),
                    entry(3, &["Work", "Home"]),
                    entry(2, &[]),
                ],
                1_700_000_100,
                &rng,
            )
            .unwrap();
        assert_eq!(report.outcomes.len(), 4);
        assert_eq!(report.added_count(), 2);
        let added: Vec<&str> = report.added().collect();
        let dups: Vec<(&str, &str)> = report.duplicates().collect();
        // Account 1 was there before; the second account 2 repeats the first of this batch.
        assert_eq!(
            dups,
            [
                ("Issuer 1 (user1@example.com)", first.as_str()),
                ("Issuer 2 (user2@example.com)", added[0]),
            ]
        );
        assert_eq!(report.outcomes[0].0, "Issuer 2 (user2@example.com)");
        assert_eq!(report.outcomes[0].1, AddOutcome::Added(added[0].to_owned()));
        assert_eq!(report.outcomes[2].1, AddOutcome::Added(added[1].to_owned()));
        // New accounts go after the existing ones; duplicates take no place.
        let orders: Vec<u32> = v.accounts().iter().map(|a| a.order).collect();
        assert_eq!(orders, [0, 1, 2]);
        let two = v.account(added[0]).unwrap();
        assert_eq!((two.note.as_str(), two.favorite), ("note 2", true));
        assert_eq!(two.created, 1_700_000_100);
        let three = v.account(added[1]).unwrap();
        let names: Vec<_> = three
            .groups
            .iter()
            .map(|g| v.group_name(g).unwrap())
            .collect();
        assert_eq!(names, ["Work", "Home"]);
        // "Work" is one group, shared.
        assert_eq!(v.groups().len(), 2);
        assert_eq!(two.groups[0], three.groups[0]);
    }

    #[test]
    fn an_empty_batch_changes_nothing() {
        let rng = SystemRng::new();
        let mut v = vault_with(2);
        let report = v.add_all(Vec::new(), 0, &rng).unwrap();
        assert_eq!(report, AddReport::default());
        assert_eq!(report.added_count(), 0);
        assert_eq!(v.accounts().len(), 2);
    }
}

#[test]
fn a_new_password_makes_a_new_master_key() {
    let rng = SystemRng::new();
    let mut v = vault_with(2);
    v.add_device_slot("twofold-device-key", &[7u8; 32], &rng)
        .unwrap();
    let old_master = *v.master;
    let old_bytes = v.to_bytes(&rng).unwrap();
    v.set_password(b"new password", fast(), &rng).unwrap();
    assert_ne!(*v.master, old_master);
    // The device slot wrapped the old key: it is gone.
    assert_eq!(v.slots().len(), 1);
    let new_bytes = v.to_bytes(&rng).unwrap();
    // The old copy's master key (which the old password still unwraps) does not decrypt the
    // new file's database.
    let old = Vault::open(&old_bytes, b"correct horse").unwrap();
    let parsed = parse_file(&new_bytes).unwrap();
    assert!(matches!(
        Vault::decrypt(parsed, old.master.clone()),
        Err(OpenError::Corrupt(_))
    ));
    assert_eq!(
        Vault::open(&new_bytes, b"new password").unwrap().accounts(),
        v.accounts()
    );
}

/// Rewrites a file's header with `edit` and fixes the checksum (a hostile file).
fn with_header(bytes: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    edit(&mut v["header"]);
    let header = serde_json::to_string(&v["header"]).unwrap();
    v["checksum"] = checksum(&header, v["db"].as_str().unwrap()).into();
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn slot_bombs_are_refused_before_any_derivation() {
    let rng = SystemRng::new();
    let bytes = vault_with(0).to_bytes(&rng).unwrap();
    // Argon2 at 4 GiB x 64 passes x 16 lanes: refused, not attempted.
    let out = with_header(&bytes, |h| {
        let kdf = &mut h["slots"][0]["kdf"];
        kdf["memory_kib"] = (4u32 * 1024 * 1024).into();
        kdf["iterations"] = 64.into();
        kdf["lanes"] = 16.into();
    });
    let start = std::time::Instant::now();
    assert!(matches!(
        Vault::open(&out, b"correct horse"),
        Err(OpenError::Corrupt(_))
    ));
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    // A thousand password slots: refused by count.
    let out = with_header(&bytes, |h| {
        let slot = h["slots"][0].clone();
        h["slots"] = serde_json::Value::Array(vec![slot; 1000]);
    });
    assert!(matches!(
        Vault::open(&out, b"wrong"),
        Err(OpenError::Corrupt(_))
    ));
}

#[test]
fn a_vault_too_large_to_open_is_never_written() {
    let rng = SystemRng::new();
    let mut v = vault_with(1);
    let id = v.accounts()[0].id.clone();
    v.update_account(
        &id,
        AccountUpdate {
            note: Some("n".repeat(60 * 1000 * 1000)),
            ..AccountUpdate::default()
        },
        &rng,
    )
    .unwrap();
    assert!(matches!(v.to_bytes(&rng), Err(VaultError::TooLarge { .. })));
}

#[test]
fn the_webdav_login_is_kept_encrypted_never_shown_and_cleared_with_sync() {
    let rng = SystemRng::new();
    let mut v = vault_with(1);
    assert!(v.sync_credentials().is_none());
    let login = SyncCredentials {
        user: "alice".into(),
        password: zeroize::Zeroizing::new("WEBDAV-PASSWORD-42".into()),
    };
    assert!(!format!("{login:?}").contains("WEBDAV-PASSWORD-42"));
    assert!(!format!("{login:?}").contains("alice"));
    v.set_sync_credentials(Some(login.clone()));
    let bytes = v.to_bytes(&rng).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains("WEBDAV-PASSWORD-42"));
    let mut w = Vault::open(&bytes, b"correct horse").unwrap();
    assert_eq!(w.sync_credentials(), Some(&login));
    assert!(!format!("{w:?}").contains("WEBDAV-PASSWORD-42"));
    w.clear_sync();
    assert!(w.sync_credentials().is_none());
    let w = Vault::open(&w.to_bytes(&rng).unwrap(), b"correct horse").unwrap();
    assert!(w.sync_credentials().is_none());
}

/// A vault that synced, as the vault file holds it (its JSON, unsealed).
fn synced_vault() -> (Vault, crate::sync::TargetFile) {
    let rng = SystemRng::new();
    let mut v = vault_with(2);
    let device = crate::sync::DeviceId::random(&rng).unwrap();
    let (mut m, key_file) =
        crate::sync::join(&[], b"sync passphrase", fast(), device, "laptop", &rng).unwrap();
    let key_file = key_file.expect("a new set has a key file");
    let outcome = crate::sync::sync(
        &mut m,
        &v.sync_local(),
        &[key_file],
        1_700_000_000_000,
        &rng,
    )
    .unwrap();
    v.set_sync("folder:/sync", m);
    (v, outcome.write)
}

#[test]
fn a_vault_whose_sync_membership_is_a_json_string_opens_and_is_saved_typed() {
    use serde_json::Value;
    let rng = SystemRng::new();
    let (v, replica) = synced_vault();
    let m = v.sync_membership().expect("member").clone();
    assert_eq!(m.state.len(), 2);
    // The vault as main wrote it until the membership was typed: the membership a JSON
    // string, and in it the state another JSON string.
    let mut old: Value = serde_json::from_slice(&v.db.to_json()).unwrap();
    let mut membership = old["sync"]["membership"].take();
    assert!(membership.is_object(), "stored typed: {membership}");
    assert!(membership["state"].is_array());
    membership["state"] = Value::String(membership["state"].to_string());
    old["sync"]["membership"] = Value::String(membership.to_string());
    let mut w = Vault::create(b"correct horse", fast(), &rng).unwrap();
    w.db = model::Database::from_json(old.to_string().as_bytes()).expect("the old form reads");
    let file = w.to_bytes(&rng).unwrap();

    // It opens, with the same membership.
    let opened = Vault::open(&file, b"correct horse").unwrap();
    assert_eq!(opened.sync_target(), Some("folder:/sync"));
    let back = opened.sync_membership().expect("member");
    assert_eq!(back.device, m.device);
    assert_eq!(back.name, "laptop");
    assert_eq!(back.keys.len(), 1);
    assert_eq!(back.keys[0].0, m.keys[0].0);
    assert_eq!(back.keys[0].1.expose(), m.keys[0].1.expose());
    assert_eq!(back.key_files, m.key_files);
    assert_eq!(back.state, m.state);
    assert_eq!(back.clock, m.clock);
    assert_eq!(back.generation, m.generation);
    assert_eq!(back.last_sync, m.last_sync);
    // It syncs as before: its own replica merges and changes nothing.
    let mut again = back.clone();
    let outcome = crate::sync::sync(
        &mut again,
        &opened.sync_local(),
        &[replica],
        1_700_000_060_000,
        &rng,
    )
    .unwrap();
    assert_eq!(outcome.changed, 0);
    // The next save writes the membership as an object, its state as an array.
    let saved: Value = serde_json::from_slice(&opened.db.to_json()).unwrap();
    assert!(saved["sync"]["membership"].is_object());
    assert!(saved["sync"]["membership"]["state"].is_array());
    assert_eq!(
        saved["sync"]["membership"]["device"],
        Value::String(m.device.to_hex())
    );
    // Neither form prints the sync key.
    let key = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        m.keys[0].1.expose(),
    );
    assert!(!format!("{opened:?}").contains(&key));
    assert!(!format!("{back:?}").contains(&key));
    assert!(!format!("{:?}", opened.db).contains(&key));
    // A damaged membership is a damaged vault, in either form.
    let mut bad = old.clone();
    bad["sync"]["membership"] = Value::String("{\"keys\":[]}".into());
    assert!(model::Database::from_json(bad.to_string().as_bytes()).is_err());
}
