//! Stratum (formerly Authenticator Pro) backups, plain or encrypted.
//!
//! Read: `{Authenticators, Categories, AuthenticatorCategories}`; encrypted files start with
//! `AUTHENTICATORPRO`, then salt(16) || iv(12) || ciphertext||tag. Decrypt: Argon2id (64 MiB,
//! 3 passes, 4 lanes) and AES-256-GCM. Legacy encrypted files start with `AuthenticatorPro`,
//! then salt(20) || iv(16) || AES-256-CBC ciphertext, key PBKDF2-HMAC-SHA1(password, salt,
//! 64,000). The app's own SQLite database (`authenticator.db3`) is read as well.
//! Convert: `Type` 1 HOTP, 2 TOTP, 4 Steam (3 mOTP and 5 Yandex are skipped); `Algorithm` 0
//! SHA1, 1 SHA256, 2 SHA512.

use std::collections::HashMap;

use serde_json::Value;

use super::common::{self, malformed, str_field, u32_field, uint_field};
use super::{AccountEntry, Format, ImportError, ImportReport};
use crate::crypto;
use crate::{Algorithm, Kind};

const FORMAT: Format = Format::Stratum;
const HEADER: &[u8] = b"AUTHENTICATORPRO";
const LEGACY_HEADER: &[u8] = b"AuthenticatorPro";
const SALT_LEN: usize = 16;
const IV_LEN: usize = 12;
const LEGACY_SALT_LEN: usize = 20;
const LEGACY_IV_LEN: usize = 16;
const LEGACY_ITERATIONS: u32 = 64_000;

/// True for an encrypted Stratum backup, current or legacy.
pub(super) fn is_encrypted(bytes: &[u8]) -> bool {
    bytes.starts_with(HEADER) || bytes.starts_with(LEGACY_HEADER)
}

/// Imports a Stratum backup.
pub(super) fn import(bytes: &[u8], password: Option<&[u8]>) -> Result<ImportReport, ImportError> {
    if super::sqlite::looks_like(bytes) {
        return convert(&super::sqlite::stratum_json(bytes)?);
    }
    if let Some(rest) = bytes.strip_prefix(LEGACY_HEADER) {
        let password = password.ok_or(ImportError::PasswordRequired)?;
        if rest.len() < LEGACY_SALT_LEN + LEGACY_IV_LEN + 16 {
            return Err(malformed(FORMAT, "the encrypted backup is truncated"));
        }
        let (salt, rest) = rest.split_at(LEGACY_SALT_LEN);
        let (iv, sealed) = rest.split_at(LEGACY_IV_LEN);
        let key = crypto::pbkdf2(false, password, salt, LEGACY_ITERATIONS);
        // CBC has no tag: a wrong key shows as bad padding or as bytes that are not JSON.
        let plain =
            crypto::aes_cbc_open(&key[..], iv, sealed).map_err(|_| ImportError::WrongPassword)?;
        common::json_bounded(&plain, FORMAT)?;
        let file: Value = serde_json::from_slice(&plain).map_err(|_| ImportError::WrongPassword)?;
        return convert(&file);
    }
    if let Some(rest) = bytes.strip_prefix(HEADER) {
        let password = password.ok_or(ImportError::PasswordRequired)?;
        if rest.len() < SALT_LEN + IV_LEN + 16 {
            return Err(malformed(FORMAT, "the encrypted backup is truncated"));
        }
        let (salt, rest) = rest.split_at(SALT_LEN);
        let (iv, sealed) = rest.split_at(IV_LEN);
        let key = crypto::argon2id(password, salt, 65_536, 3, 4)
            .ok_or_else(|| malformed(FORMAT, "key derivation failed"))?;
        let plain =
            crypto::aes_gcm_open(&key[..], iv, sealed).map_err(|_| ImportError::WrongPassword)?;
        return convert(&common::json(&plain, FORMAT)?);
    }
    convert(&common::json(bytes, FORMAT)?)
}

fn convert(file: &Value) -> Result<ImportReport, ImportError> {
    let categories: HashMap<&str, &str> = file
        .get("Categories")
        .and_then(Value::as_array)
        .map(|c| {
            c.iter()
                .map(|c| (str_field(c, "Id"), str_field(c, "Name")))
                .collect()
        })
        .unwrap_or_default();
    let links: Vec<(&str, &str)> = file
        .get("AuthenticatorCategories")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .map(|l| {
                    (
                        str_field(l, "AuthenticatorSecret"),
                        str_field(l, "CategoryId"),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut report = ImportReport::default();
    for (i, entry) in common::array(file, "Authenticators", FORMAT)?
        .iter()
        .enumerate()
    {
        let label = common::label(str_field(entry, "Issuer"), str_field(entry, "Username"), i);
        let result = convert_entry(entry).map(|mut imported| {
            let secret = str_field(entry, "Secret");
            imported.groups = links
                .iter()
                .filter(|(s, _)| *s == secret)
                .filter_map(|(_, id)| categories.get(id))
                .map(|name| (*name).to_owned())
                .collect();
            imported
        });
        report.push(label, result);
    }
    Ok(report)
}

fn convert_entry(entry: &Value) -> Result<AccountEntry, String> {
    let period = u32_field(entry, "Period")?;
    let kind = match uint_field(entry, "Type")? {
        Some(1) => Kind::Hotp {
            counter: uint_field(entry, "Counter")?.unwrap_or(0),
        },
        Some(2) => Kind::Totp {
            period: period.unwrap_or(30),
        },
        Some(4) => Kind::Steam {
            period: period.unwrap_or(30),
        },
        Some(3) => return Err("unsupported OTP type mOTP".to_owned()),
        Some(5) => return Err("unsupported OTP type Yandex".to_owned()),
        _ => return Err("unknown OTP type".to_owned()),
    };
    let algorithm = match uint_field(entry, "Algorithm")? {
        None | Some(0) => Algorithm::Sha1,
        Some(1) => Algorithm::Sha256,
        Some(2) => Algorithm::Sha512,
        Some(_) => return Err("unsupported algorithm".to_owned()),
    };
    let account = common::account(
        str_field(entry, "Issuer"),
        str_field(entry, "Username"),
        common::base32(str_field(entry, "Secret"))?,
        kind,
        algorithm,
        u32_field(entry, "Digits")?.unwrap_or(6),
    )?;
    Ok(AccountEntry::new(account))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{B32, RAW};
    use super::*;

    fn plain() -> String {
        format!(
            r#"{{"Authenticators":[
              {{"Type":2,"Issuer":"Acme","Username":"alice","Secret":"{B32}","Algorithm":1,"Digits":8,"Period":60,"Counter":0}},
              {{"Type":3,"Issuer":"M","Username":"m","Secret":"{B32}","Pin":"1234","Algorithm":0,"Digits":6,"Period":10}}],
              "Categories":[{{"Id":"c","Name":"Work"}}],
              "AuthenticatorCategories":[{{"CategoryId":"c","AuthenticatorSecret":"{B32}"}}]}}"#
        )
    }

    #[test]
    fn minimal_plain_backup_and_motp() {
        let report = import(plain().as_bytes(), None).unwrap();
        assert_eq!(report.entries.len(), 1);
        let e = &report.entries[0];
        assert_eq!(e.account.secret.expose(), RAW);
        assert_eq!(e.account.params.algorithm(), Algorithm::Sha256);
        assert_eq!(e.groups, ["Work"]);
        assert_eq!(report.skipped.len(), 1);
        assert!(report.skipped[0].reason.contains("mOTP"));
    }

    #[test]
    fn malformed_backups() {
        for bad in [
            &b"{}"[..],
            b"AUTHENTICATORPROshort",
            b"AuthenticatorPro0123456789",
        ] {
            assert!(matches!(
                import(bad, Some(b"pw")),
                Err(ImportError::Malformed { .. })
            ));
        }
    }

    #[test]
    fn encrypted_backup() {
        let (salt, iv) = ([1u8; SALT_LEN], [2u8; IV_LEN]);
        let key = crypto::argon2id(b"pw", &salt, 65_536, 3, 4).unwrap();
        let mut file = HEADER.to_vec();
        file.extend_from_slice(&salt);
        file.extend_from_slice(&iv);
        file.extend(crypto::aes_gcm_seal(&key[..], &iv, plain().as_bytes()));
        assert_eq!(import(&file, Some(b"pw")).unwrap().entries.len(), 1);
        assert_eq!(
            import(&file, Some(b"no")).err(),
            Some(ImportError::WrongPassword)
        );
        assert_eq!(
            import(&file, None).err(),
            Some(ImportError::PasswordRequired)
        );
    }
}
