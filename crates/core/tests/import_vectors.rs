//! Encrypted Ente Auth and Bitwarden exports made by independent implementations of the two
//! formats (libsodium through PyNaCl, and Python's `cryptography`), written once by
//! `tests/vectors/import/generate.py` (its seed is in the script and in `expected.json`).
//! Every file must import to exactly the accounts `expected.json` lists; a wrong password and
//! a flipped byte must fail, never yield accounts.

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use twofold_core::import::{self, Format, ImportError, ImportReport};
use twofold_core::{AccountEntry, Kind, Secret};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/import")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap()
}

fn expected() -> Value {
    serde_json::from_slice(&read("expected.json")).unwrap()
}

fn password(key: &str) -> Vec<u8> {
    expected()[key].as_str().unwrap().as_bytes().to_vec()
}

/// The entry matches the expected account: type, issuer, name, secret, algorithm, digits,
/// period or counter.
fn assert_account(entry: &AccountEntry, want: &Value) {
    let a = &entry.account;
    let secret = Secret::from_base32(want["secret"].as_str().unwrap()).unwrap();
    assert_eq!(a.secret.expose(), secret.expose(), "{want}");
    assert_eq!(a.issuer, want["issuer"].as_str().unwrap());
    assert_eq!(a.name, want["name"].as_str().unwrap());
    assert_eq!(
        a.params.algorithm().as_str(),
        want["algorithm"].as_str().unwrap()
    );
    assert_eq!(
        u64::from(a.params.digits()),
        want["digits"].as_u64().unwrap()
    );
    let kind = match want["type"].as_str().unwrap() {
        "totp" => Kind::Totp {
            period: want["period"].as_u64().unwrap() as u32,
        },
        "hotp" => Kind::Hotp {
            counter: want["counter"].as_u64().unwrap(),
        },
        "steam" => Kind::Steam {
            period: want["period"].as_u64().unwrap() as u32,
        },
        other => panic!("{other}"),
    };
    assert_eq!(a.params.kind(), kind, "{want}");
}

fn import_file(name: &str, format: Option<Format>, password: &[u8]) -> ImportReport {
    import::import(&read(name), format, Some(password)).unwrap()
}

#[test]
fn ente_encrypted_export() {
    let pw = password("ente_password");
    let bytes = read("ente-encrypted.json");
    assert_eq!(import::detect(&bytes), Some(Format::Ente));
    for format in [None, Some(Format::Ente)] {
        let report = import_file("ente-encrypted.json", format, &pw);
        let want = expected();
        let accounts = want["accounts"].as_array().unwrap();
        assert_eq!(report.entries.len(), accounts.len());
        for (entry, want) in report.entries.iter().zip(accounts) {
            assert_account(entry, want);
        }
        let first = &report.entries[0];
        assert!(first.favorite);
        assert_eq!(first.groups, ["work"]);
        assert_eq!(first.note, "first");
        // The trashed entry is reported, never dropped silently.
        assert_eq!(report.skipped.len(), 1);
        assert!(report.skipped[0].reason.contains("trash"));
    }
    assert_eq!(
        import::import(&bytes, None, Some(b"not the password")).err(),
        Some(ImportError::WrongPassword)
    );
    assert_eq!(
        import::import(&bytes, None, None).err(),
        Some(ImportError::PasswordRequired)
    );
}

#[test]
fn ente_flipped_byte_is_refused_not_garbage() {
    let pw = password("ente_password");
    let mut file: Value = serde_json::from_slice(&read("ente-encrypted.json")).unwrap();
    let sealed = STANDARD
        .decode(file["encryptedData"].as_str().unwrap())
        .unwrap();
    for at in [0, sealed.len() / 2, sealed.len() - 1] {
        let mut flipped = sealed.clone();
        flipped[at] ^= 0x01;
        file["encryptedData"] = STANDARD.encode(&flipped).into();
        // Ente's format has no key check apart from the Poly1305 tag: a damaged file reads as
        // a wrong password, and yields no account.
        assert_eq!(
            import::import(file.to_string().as_bytes(), None, Some(&pw)).err(),
            Some(ImportError::WrongPassword),
            "byte {at}"
        );
    }
}

#[test]
fn ente_hostile_mem_limit_is_refused_before_deriving() {
    let pw = password("ente_password");
    let mut file: Value = serde_json::from_slice(&read("ente-encrypted.json")).unwrap();
    file["kdfParams"]["memLimit"] = (8u64 << 30).into();
    let start = std::time::Instant::now();
    let err = import::import(file.to_string().as_bytes(), None, Some(&pw)).unwrap_err();
    assert!(
        err.to_string().contains("more than Twofold allows"),
        "{err}"
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn bitwarden_password_protected_exports() {
    let pw = password("bitwarden_password");
    let want = expected();
    let accounts = want["accounts"].as_array().unwrap();
    for name in [
        "bitwarden-encrypted-pbkdf2.json",
        "bitwarden-encrypted-argon2id.json",
    ] {
        let bytes = read(name);
        assert_eq!(import::detect(&bytes), Some(Format::Bitwarden), "{name}");
        for format in [None, Some(Format::Bitwarden)] {
            let report = import_file(name, format, &pw);
            assert!(report.skipped.is_empty(), "{name}: {:?}", report.skipped);
            assert_eq!(report.entries.len(), accounts.len(), "{name}");
            for (i, (entry, want)) in report.entries.iter().zip(accounts).enumerate() {
                if i == 1 {
                    // Kept as a bare Base32 secret: Bitwarden's default TOTP (SHA1, 6, 30).
                    let mut default = want.clone();
                    default["algorithm"] = "SHA1".into();
                    default["digits"] = 6.into();
                    default["period"] = 30.into();
                    assert_account(entry, &default);
                } else {
                    assert_account(entry, want);
                }
            }
            let first = &report.entries[0];
            assert!(first.favorite);
            assert_eq!(first.groups, ["Work"]);
            assert_eq!(first.note, "first");
        }
        assert_eq!(
            import::import(&bytes, None, Some(b"not the password")).err(),
            Some(ImportError::WrongPassword),
            "{name}"
        );
        assert_eq!(
            import::import(&bytes, None, None).err(),
            Some(ImportError::PasswordRequired)
        );
    }
}

#[test]
fn bitwarden_flipped_byte_is_damage_not_garbage() {
    let pw = password("bitwarden_password");
    let file: Value = serde_json::from_slice(&read("bitwarden-encrypted-pbkdf2.json")).unwrap();
    let data = file["data"].as_str().unwrap();
    let (kind, rest) = data.split_once('.').unwrap();
    let parts: Vec<&str> = rest.split('|').collect();
    let mut ct = STANDARD.decode(parts[1]).unwrap();
    let last = ct.len() - 1;
    ct[last] ^= 0x80;
    let mut flipped = file.clone();
    flipped["data"] = format!("{kind}.{}|{}|{}", parts[0], STANDARD.encode(&ct), parts[2]).into();
    let err = import::import(flipped.to_string().as_bytes(), None, Some(&pw)).unwrap_err();
    assert!(
        matches!(err, ImportError::Malformed { .. }) && err.to_string().contains("damaged"),
        "{err}"
    );
}

#[test]
fn bitwarden_hostile_costs_are_refused_before_deriving() {
    let pw = password("bitwarden_password");
    let file: Value = serde_json::from_slice(&read("bitwarden-encrypted-argon2id.json")).unwrap();
    let start = std::time::Instant::now();
    for (key, value) in [
        ("kdfMemory", 1u64 << 20),
        ("kdfIterations", 1 << 30),
        ("kdfParallelism", 1 << 10),
    ] {
        let mut hostile = file.clone();
        hostile[key] = value.into();
        let err = import::import(hostile.to_string().as_bytes(), None, Some(&pw)).unwrap_err();
        assert!(
            err.to_string().contains("more than Twofold allows"),
            "{key}: {err}"
        );
    }
    let mut pbkdf2: Value =
        serde_json::from_slice(&read("bitwarden-encrypted-pbkdf2.json")).unwrap();
    pbkdf2["kdfIterations"] = 100_000_000u64.into();
    let err = import::import(pbkdf2.to_string().as_bytes(), None, Some(&pw)).unwrap_err();
    assert!(
        err.to_string().contains("more than Twofold allows"),
        "{err}"
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn bitwarden_account_restricted_export_is_refused_with_the_way_out() {
    let bytes = read("bitwarden-account-restricted.json");
    assert_eq!(import::detect(&bytes), Some(Format::Bitwarden));
    let err = import::import(&bytes, None, Some(b"any")).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("account restricted") && text.contains("Password protected"),
        "{text}"
    );
}
