use super::*;
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
    assert!(matches!(Vault::open(b"", b"x"), Err(OpenError::Corrupt(_))));
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
    assert!(v.remove_device_slot(&id).is_err());
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
    assert!(matches!(
        Vault::open(&out, b"correct horse"),
        Err(OpenError::Corrupt(_))
    ));
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
    v.remove(&first).unwrap();
    assert!(matches!(v.remove(&first), Err(VaultError::NotFound(_))));
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
