//! One glob harness over the test-vector files in `tests/vectors/` (age style): every `*.txt`
//! under `otp/`, every `*.jsonl` under `uri/` and `migration/`. Adding a vector is adding a
//! line to a data file.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use twofold_core::migration;
use twofold_core::otp::{Generator, Kind, OtpParams};
use twofold_core::{Algorithm, OtpAccount, Secret, uri};

fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(dir);
    let mut out: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no *.{ext} vectors in {}", dir.display());
    out
}

#[test]
fn otp_vectors() {
    let mut count = 0;
    for file in files("otp", "txt") {
        let text = fs::read_to_string(&file).unwrap();
        let hotp = text.lines().any(|l| l.trim() == "@hotp");
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('@') {
                continue;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            let at = format!("{}:{}", file.display(), n + 1);
            let secret = Secret::from_bytes(f[1].as_bytes().to_vec());
            let t: u64 = f[2].parse().unwrap();
            let digits: u32 = f[3].parse().unwrap();
            let period: u32 = f.get(5).map_or(30, |p| p.parse().unwrap());
            let params = if f[0] == "STEAM" {
                OtpParams::steam(period).unwrap()
            } else {
                let alg = Algorithm::parse(f[0]).unwrap();
                let kind = if hotp {
                    Kind::Hotp { counter: t }
                } else {
                    Kind::Totp { period }
                };
                OtpParams::new(kind, alg, digits).unwrap()
            };
            let code = Generator::new(&secret, params).code_at(t);
            assert_eq!(code, f[4], "{at}");
            count += 1;
        }
    }
    assert!(count >= 40, "only {count} OTP vectors ran");
}

fn check_account(a: &OtpAccount, want: &Value, at: &str) {
    assert_eq!(a.issuer, want["issuer"].as_str().unwrap(), "{at}: issuer");
    assert_eq!(a.name, want["name"].as_str().unwrap(), "{at}: name");
    let kind = a.params.kind();
    assert_eq!(
        kind.type_name(),
        want["type"].as_str().unwrap(),
        "{at}: type"
    );
    assert_eq!(
        a.params.algorithm().as_str(),
        want["algorithm"].as_str().unwrap(),
        "{at}: algorithm"
    );
    assert_eq!(
        u64::from(a.params.digits()),
        want["digits"].as_u64().unwrap(),
        "{at}: digits"
    );
    assert_eq!(
        kind.period().map(u64::from),
        want.get("period").and_then(Value::as_u64),
        "{at}: period"
    );
    assert_eq!(
        kind.counter(),
        want.get("counter").and_then(Value::as_u64),
        "{at}: counter"
    );
    if let Some(hex) = want.get("secret_hex").and_then(Value::as_str) {
        let got: String = a
            .secret
            .expose()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(got, hex, "{at}: secret");
    }
    if let Some(short) = want.get("short_secret").and_then(Value::as_bool) {
        assert_eq!(a.secret.is_short(), short, "{at}: short secret flag");
    }
}

fn jsonl(dir: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for file in files(dir, "jsonl") {
        for (n, line) in fs::read_to_string(&file).unwrap().lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(line).unwrap();
            let at = format!("{}:{} ({})", file.display(), n + 1, v["case"]);
            out.push((at, v));
        }
    }
    out
}

#[test]
fn uri_vectors() {
    let cases = jsonl("uri");
    assert!(cases.len() >= 30, "only {} URI vectors", cases.len());
    for (at, v) in cases {
        let result = uri::parse(v["uri"].as_str().unwrap());
        match v.get("error").and_then(Value::as_str) {
            Some(err) => {
                let e = result.expect_err(&at);
                assert!(format!("{e:?}").starts_with(err), "{at}: got {e:?}");
                assert!(!e.to_string().is_empty());
            }
            None => {
                let a = result.unwrap_or_else(|e| panic!("{at}: {e}"));
                check_account(&a, &v, &at);
                // Writing is the exact inverse of reading.
                assert_eq!(uri::parse(&uri::write(&a)).unwrap(), a, "{at}: round trip");
            }
        }
    }
}

#[test]
fn migration_vectors() {
    let cases = jsonl("migration");
    assert!(cases.len() >= 9);
    for (at, v) in cases {
        let result = migration::parse_uri(v["uri"].as_str().unwrap());
        if let Some(err) = v.get("error").and_then(Value::as_str) {
            let e = result.expect_err(&at);
            assert!(format!("{e:?}").starts_with(err), "{at}: got {e:?}");
            continue;
        }
        let batch = result.unwrap_or_else(|e| panic!("{at}: {e}"));
        assert_eq!(
            u64::from(batch.batch_size),
            v["batch_size"].as_u64().unwrap(),
            "{at}"
        );
        assert_eq!(
            u64::from(batch.batch_index),
            v["batch_index"].as_u64().unwrap(),
            "{at}"
        );
        assert_eq!(
            i64::from(batch.batch_id),
            v["batch_id"].as_i64().unwrap(),
            "{at}"
        );
        let want = v["entries"].as_array().unwrap();
        assert_eq!(batch.entries.len(), want.len(), "{at}: entry count");
        for (i, (got, want)) in batch.entries.iter().zip(want).enumerate() {
            let at = format!("{at} entry {i}");
            match (got, want.get("error").and_then(Value::as_str)) {
                (Err(e), Some(err)) => assert_eq!(format!("{e:?}"), err, "{at}"),
                (Ok(a), None) => check_account(a, want, &at),
                (got, _) => panic!("{at}: got {got:?}, want {want}"),
            }
        }
    }
}
