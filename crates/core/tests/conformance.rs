//! Reference entries and otpauth lists of the conformance corpus in `../shared/conformance/`
//! (real exports from other apps; never copied into this repository). Skips with a printed
//! reason where that folder is absent, as in a fresh clone.

use std::path::PathBuf;

use serde_json::Value;
use twofold_core::otp::{Kind, OtpParams};
use twofold_core::{Algorithm, OtpAccount, Secret, uri};

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance");
    if dir.join("expected_entries.json").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {} is absent (a fresh clone has no ../shared); conformance not checked",
            dir.display()
        );
        None
    }
}

fn reference(dir: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("expected_entries.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["entries"].as_array().unwrap().clone()
}

fn account_of(e: &Value) -> OtpAccount {
    let secret = Secret::from_base32(e["secret_base32"].as_str().unwrap()).unwrap();
    let alg = Algorithm::parse(e["algo"].as_str().unwrap()).unwrap();
    let digits = e["digits"].as_u64().unwrap() as u32;
    let params = match e["type"].as_str().unwrap() {
        "totp" => OtpParams::new(
            Kind::Totp {
                period: e["period"].as_u64().unwrap() as u32,
            },
            alg,
            digits,
        ),
        "hotp" => OtpParams::new(
            Kind::Hotp {
                counter: e["counter"].as_u64().unwrap(),
            },
            alg,
            digits,
        ),
        "steam" => OtpParams::steam(e["period"].as_u64().unwrap() as u32),
        t => panic!("unknown type {t}"),
    }
    .unwrap();
    OtpAccount {
        issuer: e["issuer"].as_str().unwrap().to_owned(),
        name: e["name"].as_str().unwrap().to_owned(),
        secret,
        params,
    }
}

#[test]
fn reference_codes() {
    let Some(dir) = corpus() else { return };
    let entries = reference(&dir);
    assert_eq!(entries.len(), 8);
    let mut checked = 0;
    for e in &entries {
        let a = account_of(e);
        for (when, code) in e["codes"].as_object().unwrap() {
            let t = if when == "at_stored_counter" {
                0
            } else {
                when.parse().unwrap()
            };
            assert_eq!(
                a.code_at(t),
                code.as_str().unwrap(),
                "{} {} at {when}",
                a.issuer,
                a.name
            );
            checked += 1;
        }
    }
    eprintln!(
        "conformance: {checked} reference codes of {} entries match",
        entries.len()
    );
    assert_eq!(checked, 3 * 5 + 3);
}

/// Every line of the otpauth lists is one reference entry, exactly.
#[test]
fn otpauth_lists() {
    let Some(dir) = corpus() else { return };
    let entries: Vec<OtpAccount> = reference(&dir).iter().map(account_of).collect();
    for file in ["plain.txt", "ente_auth.txt"] {
        let text = std::fs::read_to_string(dir.join("aegis-importers").join(file)).unwrap();
        let mut n = 0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let a = uri::parse(line).unwrap_or_else(|e| panic!("{file}: {e}"));
            let want = entries
                .iter()
                .find(|r| r.secret == a.secret)
                .unwrap_or_else(|| panic!("{file}: an entry matches no reference secret"));
            assert_eq!(&a, want, "{file}");
            n += 1;
        }
        assert_eq!(n, 7, "{file}: entry count");
        eprintln!("conformance: {file}: {n}/7 entries exact");
    }
}
