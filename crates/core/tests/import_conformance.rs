//! Conformance of the importers against real exports of other authenticator apps (the Aegis
//! importer test corpus), read from `../shared/conformance/` and never copied into the
//! project. When that folder is absent (a fresh clone) the tests print `SKIPPED: <reason>`.
//!
//! Every file is mapped to its format, password and the per-format adjustment that `docs/conformance.md` explains;
//! every imported entry must match a reference entry by secret bytes, and the number of
//! entries must equal what the file holds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use twofold_core::import::{self, Format, ImportError, ImportReport};
use twofold_core::{Kind, Secret};

/// Files imported exactly so far; the harness fails if fewer are.
const EXACT_FILES: usize = 29;
const TOTAL_FILES: usize = 41;

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance");
    if dir.join("aegis-importers").is_dir() && dir.join("expected_entries.json").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: conformance corpus not found at {} (it lives outside the repository)",
            dir.display()
        );
        None
    }
}

/// A reference entry of `expected_entries.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reference {
    kind: String,
    issuer: String,
    name: String,
    secret: Vec<u8>,
    algorithm: String,
    digits: u32,
    period: Option<u32>,
    /// `None` when the counter is not compared.
    counter: Option<u64>,
}

fn references(dir: &Path) -> Vec<Reference> {
    let text = std::fs::read_to_string(dir.join("expected_entries.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| Reference {
            kind: e["type"].as_str().unwrap().to_owned(),
            issuer: e["issuer"].as_str().unwrap().to_owned(),
            name: e["name"].as_str().unwrap().to_owned(),
            secret: Secret::from_base32(e["secret_base32"].as_str().unwrap())
                .unwrap()
                .expose()
                .to_vec(),
            algorithm: e["algo"].as_str().unwrap().to_owned(),
            digits: e["digits"].as_u64().unwrap() as u32,
            period: e["period"].as_u64().map(|p| p as u32),
            counter: e["counter"].as_u64(),
        })
        .collect()
}

/// The per-format adjustments of the reference entries (`docs/conformance.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Adjust {
    Exact,
    /// Every entry default TOTP (SHA1, 6 digits, 30 s).
    DefaultTotp,
    /// SHA1, the file's digits, period 30 (this file states none).
    Authy,
    /// Default TOTP, name lower-cased.
    DefaultTotpLowerName,
    /// TOTP with the entry's algorithm and digits; period the entry's or 30.
    TwoFasSchema2,
    /// Name is `Issuer:Name`.
    IssuerInName,
    /// Steam entries (`steam://SECRET`) match by secret only.
    SteamSecretOnly,
    /// HOTP counter one less than the reference.
    CounterMinusOne,
    /// Issuer empty; HOTP counter not compared.
    Duo,
    /// The Steam entry with issuer "Steam".
    SteamIssuer,
    /// SHA1 and 6 digits; TOTP at 30 s (Google Authenticator's database).
    Sha1SixDigits,
}

/// How a file of the corpus is imported, and what it holds.
struct Case {
    /// `None`: format not supported yet.
    format: Option<Format>,
    password: Option<&'static [u8]>,
    adjust: Adjust,
    /// Entries the file holds (counted by hand from the file).
    count: usize,
    /// Auto-detection must pick `format`.
    detectable: bool,
}

fn case(file: &str) -> Case {
    let c = |format, password, adjust, count| Case {
        format: Some(format),
        password,
        adjust,
        count,
        detectable: true,
    };
    let test: Option<&'static [u8]> = Some(b"test");
    match file {
        "plain.txt" => c(Format::OtpauthList, None, Adjust::Exact, 7),
        "ente_auth.txt" => c(Format::Ente, None, Adjust::Exact, 7),
        "aegis_plain.json" | "aegis_plain_grouped_v2.json" => {
            c(Format::Aegis, None, Adjust::Exact, 7)
        }
        "aegis_encrypted.json" => c(Format::Aegis, test, Adjust::Exact, 7),
        "andotp_plain.json" => c(Format::AndOtp, None, Adjust::Exact, 7),
        "andotp_encrypted.bin" => c(Format::AndOtp, test, Adjust::Exact, 7),
        // Random-looking bytes: only `--format andotp` can name it.
        "andotp_encrypted_old.bin" => Case {
            detectable: false,
            ..c(Format::AndOtp, test, Adjust::IssuerInName, 6)
        },
        "2fas_authenticator.json" => c(Format::TwoFas, None, Adjust::DefaultTotp, 6),
        "2fas_authenticator_plain.2fas" => c(Format::TwoFas, None, Adjust::TwoFasSchema2, 4),
        "2fas_authenticator_encrypted.2fas" => c(Format::TwoFas, test, Adjust::TwoFasSchema2, 4),
        "2fas_authenticator_plain_v3.2fas" => c(Format::TwoFas, None, Adjust::Exact, 6),
        "2fas_authenticator_encrypted_v3.2fas" => c(Format::TwoFas, test, Adjust::Exact, 6),
        "2fas_authenticator_plain_v4.2fas" => c(Format::TwoFas, None, Adjust::Exact, 5),
        "2fas_authenticator_encrypted_v4.2fas" => c(Format::TwoFas, test, Adjust::Exact, 5),
        "proton_authenticator.json" => c(Format::Proton, None, Adjust::Exact, 3),
        "bitwarden.json" | "bitwarden.csv" => {
            c(Format::Bitwarden, None, Adjust::SteamSecretOnly, 4)
        }
        "freeotp_plus.json" => c(Format::FreeOtpPlus, None, Adjust::CounterMinusOne, 6),
        "stratum_plain.json" => c(Format::Stratum, None, Adjust::Exact, 7),
        "stratum_encrypted.bin" => c(Format::Stratum, test, Adjust::Exact, 7),
        "freeotp.xml" => c(Format::FreeOtp, None, Adjust::CounterMinusOne, 4),
        "freeotp_plus_internal.xml" => c(Format::FreeOtp, None, Adjust::CounterMinusOne, 6),
        "freeotp_v2_api23.xml"
        | "freeotp_v2_api25.xml"
        | "freeotp_v2_api27.xml"
        | "freeotp_v2_api34.xml" => c(Format::FreeOtp, test, Adjust::Exact, 6),
        "freeotp_v2_null_algo.xml" => c(Format::FreeOtp, test, Adjust::Exact, 1),
        "stratum_encrypted_legacy.bin" => c(Format::Stratum, test, Adjust::Exact, 7),
        "stratum_internal.db" => c(Format::Stratum, None, Adjust::Exact, 7),
        "authy_encrypted.xml" => c(Format::Authy, Some(b"testtest"), Adjust::Authy, 3),
        "totp_authenticator.bin" => Case {
            detectable: false,
            ..c(
                Format::TotpAuthenticator,
                Some(b"Testtest1"),
                Adjust::DefaultTotpLowerName,
                3,
            )
        },
        "authenticator_plus.zip" => c(
            Format::AuthenticatorPlus,
            Some(b"testtesttest"),
            Adjust::Exact,
            7,
        ),
        "google_authenticator.sqlite" => {
            c(Format::GoogleAuthenticator, None, Adjust::Sha1SixDigits, 6)
        }
        "microsoft_authenticator.sqlite" => {
            c(Format::MicrosoftAuthenticator, None, Adjust::DefaultTotp, 7)
        }
        "authy_plain.xml" => c(Format::Authy, None, Adjust::Authy, 3),
        "battle_net_authenticator.xml" => c(Format::BattleNet, None, Adjust::Exact, 1),
        "totp_authenticator_internal.xml" => c(
            Format::TotpAuthenticator,
            None,
            Adjust::DefaultTotpLowerName,
            3,
        ),
        "duo.json" => c(Format::Duo, None, Adjust::Duo, 2),
        "steam.json" | "steam_old.json" => c(Format::Steam, None, Adjust::SteamIssuer, 1),
        _ => Case {
            format: None,
            password: None,
            adjust: Adjust::Exact,
            count: 0,
            detectable: false,
        },
    }
}

fn adjusted(r: &Reference, adjust: Adjust) -> Reference {
    let mut r = r.clone();
    match adjust {
        Adjust::Exact | Adjust::SteamSecretOnly => {}
        Adjust::DefaultTotp => {
            r.kind = "totp".into();
            r.algorithm = "SHA1".into();
            r.digits = 6;
            r.period = Some(30);
            r.counter = None;
        }
        Adjust::Authy => {
            r.algorithm = "SHA1".into();
            r.period = Some(30);
        }
        Adjust::DefaultTotpLowerName => {
            r = adjusted(&r, Adjust::DefaultTotp);
            r.name = r.name.to_lowercase();
        }
        Adjust::TwoFasSchema2 => {
            r.kind = "totp".into();
            r.period = Some(r.period.unwrap_or(30));
            r.counter = None;
        }
        Adjust::IssuerInName => r.name = format!("{}:{}", r.issuer, r.name),
        Adjust::CounterMinusOne => r.counter = r.counter.map(|c| c - 1),
        Adjust::Duo => {
            r.issuer.clear();
            r.counter = None;
        }
        Adjust::SteamIssuer => r.issuer = "Steam".into(),
        Adjust::Sha1SixDigits => {
            r.algorithm = "SHA1".into();
            r.digits = 6;
            if r.kind != "hotp" {
                r.kind = "totp".into();
                r.period = Some(30);
            }
        }
    }
    r
}

/// Why the report does not match the references, if it does not.
fn check(report: &ImportReport, refs: &[Reference], case: &Case) -> Result<(), String> {
    if !report.skipped.is_empty() {
        return Err(format!("skipped: {:?}", report.skipped));
    }
    if report.entries.len() != case.count {
        return Err(format!(
            "{} entries instead of {}",
            report.entries.len(),
            case.count
        ));
    }
    for e in &report.entries {
        let a = &e.account;
        let Some(r) = refs.iter().find(|r| r.secret == a.secret.expose()) else {
            return Err(format!("{} matches no reference secret", a.display_name()));
        };
        if case.adjust == Adjust::SteamSecretOnly && r.kind == "steam" {
            continue;
        }
        let r = adjusted(r, case.adjust);
        let kind = a.params.kind();
        let counter = match (kind, r.counter) {
            (Kind::Hotp { counter }, Some(_)) => Some(counter),
            _ => None,
        };
        let got = Reference {
            kind: kind.type_name().to_owned(),
            issuer: a.issuer.clone(),
            name: a.name.clone(),
            secret: a.secret.expose().to_vec(),
            algorithm: a.params.algorithm().as_str().to_owned(),
            digits: a.params.digits(),
            period: kind.period(),
            counter,
        };
        let want = Reference {
            counter: if r.kind == "hotp" { r.counter } else { None },
            period: if r.kind == "hotp" { None } else { r.period },
            ..r
        };
        if got != want {
            return Err(format!(
                "{}: got {} {} {}/{} {:?} {:?}, want {} {} {}/{} {:?} {:?}",
                a.display_name(),
                got.kind,
                got.algorithm,
                got.issuer,
                got.name,
                got.period,
                got.counter,
                want.kind,
                want.algorithm,
                want.issuer,
                want.name,
                want.period,
                want.counter,
            ));
        }
    }
    Ok(())
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.join("aegis-importers"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_file() {
    let Some(dir) = corpus() else { return };
    let refs = references(&dir);
    let files = files(&dir);
    let mut exact = 0;
    let mut failed = Vec::new();
    for (name, bytes) in &files {
        let case = case(name);
        let Some(format) = case.format else {
            println!("{name}: not supported yet");
            continue;
        };
        let result = import::import(bytes, Some(format), case.password)
            .map_err(|e| e.to_string())
            .and_then(|report| check(&report, &refs, &case).map(|()| report));
        match result {
            Ok(report) => {
                exact += 1;
                println!("{name}: exact ({} entries)", report.entries.len());
            }
            Err(reason) => {
                println!("{name}: FAILED: {reason}");
                failed.push(name.clone());
            }
        }
    }
    println!("{exact} of {TOTAL_FILES} files imported exactly");
    assert_eq!(files.len(), TOTAL_FILES, "the corpus changed");
    assert!(failed.is_empty(), "failed: {failed:?}");
    assert!(exact >= EXACT_FILES, "only {exact} files imported exactly");
}

#[test]
fn aegis_v2_groups() {
    let Some(dir) = corpus() else { return };
    let bytes = std::fs::read(dir.join("aegis-importers/aegis_plain_grouped_v2.json")).unwrap();
    let report = import::import(&bytes, Some(Format::Aegis), None).unwrap();
    let mut groups: BTreeMap<&str, usize> = BTreeMap::new();
    for g in report.entries.iter().flat_map(|e| &e.groups) {
        *groups.entry(g).or_default() += 1;
    }
    assert_eq!(groups, BTreeMap::from([("group1", 2), ("group2", 1)]));
}

#[test]
fn detection_picks_the_format() {
    let Some(dir) = corpus() else { return };
    for (name, bytes) in files(&dir) {
        let case = case(&name);
        if let (Some(format), true) = (case.format, case.detectable) {
            assert_eq!(import::detect(&bytes), Some(format), "{name}");
        }
    }
}

#[test]
fn wrong_password_and_missing_password() {
    let Some(dir) = corpus() else { return };
    for (name, bytes) in files(&dir) {
        let case = case(&name);
        let (Some(format), Some(_)) = (case.format, case.password) else {
            continue;
        };
        assert_eq!(
            import::import(&bytes, Some(format), Some(b"not the password")).err(),
            Some(ImportError::WrongPassword),
            "{name}"
        );
        assert_eq!(
            import::import(&bytes, Some(format), None).err(),
            Some(ImportError::PasswordRequired),
            "{name}"
        );
    }
}
