//! Property tests: writing is the exact inverse of reading, parsers never panic, and the engine
//! agrees with an independent implementation (totp-rs, used only as a cross-check).

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use twofold_core::AccountEntry;
use twofold_core::export::{self, ExportFormat};
use twofold_core::import;
use twofold_core::otp::{Kind, OtpParams};
use twofold_core::rng::SystemRng;
use twofold_core::{Algorithm, OtpAccount, Secret, migration, payload, uri};

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::Sha1),
        Just(Algorithm::Sha256),
        Just(Algorithm::Sha512)
    ]
}

fn params() -> impl Strategy<Value = OtpParams> {
    prop_oneof![
        (1u32..=86_400, algorithm(), 4u32..=10).prop_map(|(period, a, d)| OtpParams::new(
            Kind::Totp { period },
            a,
            d
        )
        .unwrap()),
        (any::<u64>(), algorithm(), 4u32..=10).prop_map(|(counter, a, d)| OtpParams::new(
            Kind::Hotp { counter },
            a,
            d
        )
        .unwrap()),
        (1u32..=300).prop_map(|p| OtpParams::steam(p).unwrap()),
    ]
}

/// Any text, including colons, '%', '+', '#', '&', '=', '?', '/', and non-ASCII.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 :%+#&=?/@._~-]{0,24}",
        any::<String>().prop_map(|s| s.chars().take(24).collect()),
    ]
}

prop_compose! {
    fn account()(issuer in text(), name in text(), secret in prop::collection::vec(any::<u8>(), 1..64),
                 params in params()) -> OtpAccount {
        // Spaces right after the label's colon are dropped by the Key Uri Format.
        let name = if issuer.is_empty() && !name.contains(':') { name } else { name.trim_start_matches(' ').to_owned() };
        OtpAccount { issuer, name, secret: Secret::from_bytes(secret), params }
    }
}

prop_compose! {
    fn google_account()(issuer in text(), name in text(), secret in prop::collection::vec(any::<u8>(), 1..64),
                        alg in algorithm(), digits in prop_oneof![Just(6u32), Just(8u32)],
                        hotp in any::<bool>(), counter in 0u64..=i64::MAX as u64) -> OtpAccount {
        let kind = if hotp { Kind::Hotp { counter } } else { Kind::Totp { period: 30 } };
        let name = if issuer.is_empty() { name } else { name.trim_start_matches(' ').to_owned() };
        OtpAccount { issuer, name, secret: Secret::from_bytes(secret),
                     params: OtpParams::new(kind, alg, digits).unwrap() }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/properties.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn uri_write_then_parse_is_identity(a in account()) {
        let written = uri::write(&a);
        prop_assert_eq!(uri::parse(&written).unwrap(), a);
    }

    #[test]
    fn migration_write_then_parse_is_identity(accounts in prop::collection::vec(google_account(), 0..25), id in any::<i32>()) {
        let export = migration::write(&accounts, id);
        prop_assert!(export.skipped.is_empty());
        prop_assert_eq!(export.uris.len(), accounts.len().div_ceil(migration::ACCOUNTS_PER_URI));
        let mut back = Vec::new();
        for (i, u) in export.uris.iter().enumerate() {
            let batch = migration::parse_uri(u).unwrap();
            prop_assert_eq!(batch.batch_index as usize, i);
            prop_assert_eq!(batch.batch_size as usize, export.uris.len());
            prop_assert_eq!(batch.batch_id, id);
            back.extend(batch.entries.into_iter().map(Result::unwrap));
        }
        prop_assert_eq!(back, accounts);
    }

    #[test]
    fn parsers_never_panic(s in any::<String>()) {
        let _ = uri::parse(&s);
        let _ = migration::parse_uri(&s);
        let _ = payload::parse(&s, 0);
        let _ = payload::parse(&format!("otpauth://totp/{s}"), 0);
        let _ = payload::parse(&format!("otpauth://hotp/x?secret=JBSWY3DP&{s}"), 0);
        let _ = payload::parse(&format!("pia://pipush/{s}"), 0);
        let _ = payload::parse(&format!("pia://container/{s}"), 0);
        let _ = payload::parse_all(&[s.as_str(), "otpauth://pipush/x"], 0);
    }

    #[test]
    fn migration_payload_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = migration::parse_payload(&bytes);
    }

    #[test]
    fn totp_agrees_with_totp_rs(secret in prop::collection::vec(any::<u8>(), 10..64),
                                alg in algorithm(), digits in 6usize..=8, period in 1u64..=120,
                                t in 0u64..=20_000_000_000) {
        let ours = OtpParams::new(Kind::Totp { period: period as u32 }, alg, digits as u32).unwrap();
        let theirs_alg = match alg {
            Algorithm::Sha1 => totp_rs::Algorithm::SHA1,
            Algorithm::Sha256 => totp_rs::Algorithm::SHA256,
            Algorithm::Sha512 => totp_rs::Algorithm::SHA512,
        };
        let theirs = totp_rs::TOTP::new_unchecked(theirs_alg, digits, 1, period, secret.clone());
        let s = Secret::from_bytes(secret);
        prop_assert_eq!(twofold_core::otp::code(&s, ours, t), theirs.generate(t));
    }
}

/// An entry with metadata; issuer and name without surrounding spaces, which importers trim.
fn entry() -> impl Strategy<Value = AccountEntry> {
    (
        account(),
        text(),
        any::<bool>(),
        prop::collection::vec("[A-Za-z ]{1,8}", 0..3),
    )
        .prop_map(|(mut a, note, favorite, groups)| {
            a.issuer = a.issuer.trim().to_owned();
            a.name = a.name.trim().to_owned();
            let mut groups: Vec<String> = groups
                .into_iter()
                .map(|g| g.trim().to_owned())
                .filter(|g| !g.is_empty())
                .collect();
            groups.dedup();
            AccountEntry {
                account: a,
                note,
                favorite,
                groups,
            }
        })
}

fn round_trip(
    entries: &[AccountEntry],
    format: ExportFormat,
    password: Option<&[u8]>,
) -> Vec<AccountEntry> {
    let out = export::export(entries, format, password, &SystemRng::new()).unwrap();
    let report = import::import(&out.bytes, None, password).unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    report.entries
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/properties.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn aegis_plain_export_then_import_is_identity(entries in prop::collection::vec(entry(), 0..12)) {
        prop_assert_eq!(round_trip(&entries, ExportFormat::AegisPlain, None), entries);
    }

    #[test]
    fn otpauth_list_export_then_import_keeps_accounts(entries in prop::collection::vec(entry(), 1..12)) {
        let back: Vec<OtpAccount> = round_trip(&entries, ExportFormat::OtpauthList, None).into_iter().map(|e| e.account).collect();
        let want: Vec<OtpAccount> = entries.into_iter().map(|e| e.account).collect();
        prop_assert_eq!(back, want);
    }

    #[test]
    fn google_migration_export_then_import_keeps_accounts(accounts in prop::collection::vec(google_account(), 1..25)) {
        let accounts: Vec<OtpAccount> = accounts.into_iter().map(|mut a| { a.issuer = a.issuer.trim().to_owned(); a.name = a.name.trim().to_owned(); a }).collect();
        let entries: Vec<AccountEntry> = accounts.iter().cloned().map(AccountEntry::new).collect();
        let back: Vec<OtpAccount> = round_trip(&entries, ExportFormat::GoogleMigration, None).into_iter().map(|e| e.account).collect();
        prop_assert_eq!(back, accounts);
    }
}

proptest! {
    // scrypt at Aegis's cost (32 MiB) makes each case about a tenth of a second.
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn aegis_encrypted_export_then_import_is_identity(entries in prop::collection::vec(entry(), 0..6), pw in "[ -~]{1,16}") {
        prop_assert_eq!(round_trip(&entries, ExportFormat::Aegis, Some(pw.as_bytes())), entries);
    }
}
