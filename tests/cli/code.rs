//! `twofold code --uri URI [--at T] [--json]`.

use serde_json::Value;

use crate::{assert_error, stdout, twofold};

/// Base32 of the RFC 4226/6238 SHA-1 seed "12345678901234567890".
const RFC_SEED: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

#[test]
fn rfc6238_code_as_text() {
    let uri = format!("otpauth://totp/RFC:6238?secret={RFC_SEED}&digits=8");
    for (t, want) in [
        ("59", "94287082"),
        ("1111111109", "07081804"),
        ("20000000000", "65353130"),
    ] {
        let o = twofold(&["code", "--uri", &uri, "--at", t]);
        assert!(o.status.success());
        assert_eq!(stdout(&o), format!("{want}\n"));
    }
}

#[test]
fn hotp_at_the_uris_counter_and_steam() {
    let o = twofold(&[
        "code",
        "--uri",
        &format!("otpauth://hotp/x?secret={RFC_SEED}&counter=9"),
    ]);
    assert_eq!(stdout(&o), "520489\n");
    let o = twofold(&[
        "code",
        "--uri",
        "steam://GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "--at",
        "59",
    ]);
    assert_eq!(stdout(&o), "PV9M4\n");
}

#[test]
fn json_is_one_document_of_accounts_with_codes() {
    let uri = format!(
        "otpauth://hotp/ACME%20Co:alice?secret={RFC_SEED}&issuer=ACME+Co&counter=1&algorithm=SHA1"
    );
    let o = twofold(&["code", "--uri", &uri, "--json"]);
    assert!(o.status.success());
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let expected = serde_json::json!([{
        "id": "1", "issuer": "ACME Co", "name": "alice", "type": "hotp", "algorithm": "SHA1",
        "digits": 6, "period": null, "counter": 1, "container": null, "serial": null,
        "code": "287082"
    }]);
    assert_eq!(v, expected);
    let o = twofold(&[
        "code",
        "--uri",
        &format!("otpauth://totp/x?secret={RFC_SEED}"),
        "--json",
        "--at",
        "59",
    ]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v[0]["issuer"], "");
    assert_eq!(v[0]["period"], 30);
    assert_eq!(v[0]["counter"], Value::Null);
    assert_eq!(v[0]["code"], "287082");
    assert!(!stdout(&o).contains(RFC_SEED));
}

#[test]
fn google_export_gives_every_account_in_payload_order() {
    // Two accounts: SHA1 TOTP "12345678901234567890" named a, then HOTP counter 1 named b,
    // both written by twofold-core's own exporter and checked against the RFC values.
    use twofold_core::otp::{Kind, OtpParams};
    use twofold_core::{Algorithm, OtpAccount, Secret, migration};
    let seed = Secret::from_bytes(b"12345678901234567890".to_vec());
    let accounts = [
        OtpAccount {
            issuer: "I".into(),
            name: "a".into(),
            secret: seed.clone(),
            params: OtpParams::new(Kind::Totp { period: 30 }, Algorithm::Sha1, 8).unwrap(),
        },
        OtpAccount {
            issuer: "I".into(),
            name: "b".into(),
            secret: seed,
            params: OtpParams::new(Kind::Hotp { counter: 1 }, Algorithm::Sha1, 6).unwrap(),
        },
    ];
    let export = migration::write(&accounts, 5);
    let o = twofold(&["code", "--uri", &export.uris[0], "--at", "59"]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), "94287082\n287082\n");
    let o = twofold(&["code", "--uri", &export.uris[0], "--at", "59", "--json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[1]["name"], "b");
}

#[test]
fn bad_input_is_one_clean_error_line() {
    let secret = "JBSWY3DPEHPK3PXP";
    let cases = [
        format!("otpauth://totp/x?secret={secret}&period=0"),
        format!("otpauth://totp/x?secret={secret}&digits=0"),
        format!("otpauth://totp/x?secret={secret}&digits=11"),
        "otpauth://totp/x?issuer=A".to_owned(),
        "otpauth://totp/x?secret=".to_owned(),
        format!("otpauth://totp/x?secret={secret}!!"),
        format!("otpauth://yandex/x?secret={secret}"),
        format!("otpauth://totp/x?secret={secret}&algorithm=MD5"),
        "otpauth-migration://offline?data=CgoKBDEyMzQSAWE".to_owned(),
        "otpauth-migration://offline?data=////".to_owned(),
        "not a uri".to_owned(),
        format!(
            "otpauth://totp/x?secret={secret}&issuer={}",
            "a".repeat(100 * 1024)
        ),
    ];
    for uri in &cases {
        let o = twofold(&["code", "--uri", uri]);
        let line = assert_error(&o, 1);
        assert!(!line.contains(secret), "{line}");
        assert!(line.len() < 200, "a short message: {line}");
        assert!(stdout(&o).is_empty());
    }
}

#[test]
fn push_enrolment_is_pointed_elsewhere() {
    let o = twofold(&[
        "code",
        "--uri",
        "otpauth://pipush/PIPU0001?url=https%3A//pi/ttype/push&serial=PIPU0001",
    ]);
    let line = assert_error(&o, 1);
    assert!(line.contains("push enroll"), "{line}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(twofold(&["code", "--uri"]).status.code(), Some(2));
    assert_eq!(
        twofold(&["code", "--uri", "x", "--at", "yesterday"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(twofold(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(twofold(&["--help"]).status.code(), Some(0));
}

#[test]
fn short_secrets_are_flagged_not_rejected() {
    let o = twofold(&[
        "code",
        "--uri",
        "otpauth://totp/GitHub:me?secret=JBSWY3DPEHPK3PXP&issuer=GitHub",
        "--at",
        "59",
    ]);
    assert!(o.status.success());
    assert_eq!(stdout(&o).trim().len(), 6);
    assert!(crate::stderr(&o).contains("80 bits"));
}
