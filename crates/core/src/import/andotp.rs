//! andOTP backups: plain JSON, encrypted, and old encrypted.
//!
//! Read: plain is a JSON array; encrypted is `iterations (u32 BE) || salt(12) || nonce(12) ||
//! ciphertext||tag`; old encrypted is `nonce(12) || ciphertext||tag`. Decrypt: AES-256-GCM
//! with PBKDF2-HMAC-SHA1(password, salt, iterations), or SHA-256(password) for old files.
//! Convert: `type` TOTP/HOTP/STEAM (MOTP is reported as skipped), `tags` become groups.

use serde_json::Value;
use zeroize::Zeroizing;

use super::common::{self, malformed, str_field, u32_field, uint_field};
use super::{AccountEntry, Format, ImportError, ImportReport};
use crate::crypto;

const FORMAT: Format = Format::AndOtp;
const SALT_LEN: usize = 12;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 4 + SALT_LEN + NONCE_LEN;
/// andOTP picks 140,000 to 160,000 iterations; anything far beyond is not an andOTP file (and
/// would make the import hang): 2,000,000 PBKDF2-HMAC-SHA1 rounds take about a second.
const MAX_ITERATIONS: u32 = 2_000_000;

/// True when the bytes have the shape of a (new) encrypted andOTP backup.
pub(super) fn looks_encrypted(bytes: &[u8]) -> bool {
    bytes.len() >= HEADER_LEN + TAG_LEN
        && iterations(bytes).is_some_and(|n| (1_000..=MAX_ITERATIONS).contains(&n))
}

fn iterations(bytes: &[u8]) -> Option<u32> {
    let head: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    Some(u32::from_be_bytes(head))
}

/// Imports an andOTP backup, plain or encrypted.
pub(super) fn import(bytes: &[u8], password: Option<&[u8]>) -> Result<ImportReport, ImportError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        let file = common::json(bytes, FORMAT)?;
        let entries = file
            .as_array()
            .ok_or_else(|| malformed(FORMAT, "not a JSON array"))?;
        return Ok(convert(entries));
    }
    if bytes.len() < NONCE_LEN + TAG_LEN {
        return Err(malformed(FORMAT, "neither JSON nor an encrypted backup"));
    }
    let password = password.ok_or(ImportError::PasswordRequired)?;
    let plain = decrypt(bytes, password)?;
    common::json_bounded(&plain, FORMAT)?;
    let file: Value = serde_json::from_slice(&plain)
        .map_err(|_| malformed(FORMAT, "the decrypted backup is not JSON"))?;
    let entries = file
        .as_array()
        .ok_or_else(|| malformed(FORMAT, "the decrypted backup is not a JSON array"))?;
    Ok(convert(entries))
}

/// Tries the current layout, then the old one.
fn decrypt(bytes: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    if looks_encrypted(bytes) {
        let n = iterations(bytes).unwrap_or(1);
        let salt = &bytes[4..4 + SALT_LEN];
        let nonce = &bytes[4 + SALT_LEN..HEADER_LEN];
        let key = crypto::pbkdf2(false, password, salt, n);
        if let Ok(plain) = crypto::aes_gcm_open(&key[..], nonce, &bytes[HEADER_LEN..]) {
            return Ok(plain);
        }
    }
    let key = crypto::sha256(password);
    crypto::aes_gcm_open(&key[..], &bytes[..NONCE_LEN], &bytes[NONCE_LEN..])
        .map_err(|_| ImportError::WrongPassword)
}

fn convert(entries: &[Value]) -> ImportReport {
    let mut report = ImportReport::default();
    for (i, entry) in entries.iter().enumerate() {
        let (issuer, name) = issuer_and_name(entry);
        report.push(common::label(issuer, name, i), convert_entry(entry));
    }
    report
}

/// Issuer and name; old backups have no `issuer` and a label `Issuer - Issuer:Name`.
fn issuer_and_name(entry: &Value) -> (&str, &str) {
    let label = str_field(entry, "label");
    if entry.get("issuer").is_none()
        && let Some((issuer, name)) = label.split_once(" - ")
    {
        return (issuer, name);
    }
    (str_field(entry, "issuer"), label)
}

fn convert_entry(entry: &Value) -> Result<AccountEntry, String> {
    let kind = common::kind(
        str_field(entry, "type"),
        u32_field(entry, "period")?,
        uint_field(entry, "counter")?,
    )?;
    let (issuer, name) = issuer_and_name(entry);
    let account = common::account(
        issuer,
        name,
        common::base32(str_field(entry, "secret"))?,
        kind,
        common::algorithm(str_field(entry, "algorithm"))?,
        u32_field(entry, "digits")?.unwrap_or(6),
    )?;
    let mut imported = AccountEntry::new(account);
    if let Some(tags) = entry.get("tags").and_then(Value::as_array) {
        imported.groups = tags
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
    }
    Ok(imported)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{B32, RAW};
    use super::*;
    use crate::Kind;

    fn plain() -> String {
        format!(
            r#"[{{"secret":"{B32}","issuer":"Acme","label":"alice","digits":6,"type":"TOTP","algorithm":"SHA1","period":30,"tags":["Work"]}},
               {{"secret":"{B32}","issuer":"Valve","label":"gabe","digits":5,"type":"STEAM","algorithm":"SHA1","period":30}},
               {{"secret":"{B32}","issuer":"M","label":"m","digits":6,"type":"MOTP","algorithm":"MD5","period":10,"pin":"1234"}}]"#
        )
    }

    #[test]
    fn minimal_plain_backup() {
        let report = import(plain().as_bytes(), None).unwrap();
        assert_eq!(report.entries.len(), 2);
        assert_eq!(report.entries[0].account.secret.expose(), RAW);
        assert_eq!(report.entries[0].groups, ["Work"]);
        assert_eq!(
            report.entries[1].account.params.kind(),
            Kind::Steam { period: 30 }
        );
    }

    #[test]
    fn motp_is_skipped() {
        let report = import(plain().as_bytes(), None).unwrap();
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].entry, "M (m)");
    }

    #[test]
    fn malformed_backups() {
        assert!(matches!(
            import(b"[1,", None),
            Err(ImportError::Malformed { .. })
        ));
        assert!(matches!(
            import(b"short", Some(b"pw")),
            Err(ImportError::Malformed { .. })
        ));
    }

    #[test]
    fn encrypted_backups() {
        let password = b"pw";
        let (salt, nonce) = ([4u8; SALT_LEN], [6u8; NONCE_LEN]);
        let key = crypto::pbkdf2(false, password, &salt, 1_000);
        let mut file = 1_000u32.to_be_bytes().to_vec();
        file.extend_from_slice(&salt);
        file.extend_from_slice(&nonce);
        file.extend(crypto::aes_gcm_seal(&key[..], &nonce, plain().as_bytes()));
        assert_eq!(super::super::detect(&file), Some(Format::AndOtp));
        assert_eq!(import(&file, Some(password)).unwrap().entries.len(), 2);
        assert_eq!(
            import(&file, Some(b"no")).err(),
            Some(ImportError::WrongPassword)
        );
        assert_eq!(
            import(&file, None).err(),
            Some(ImportError::PasswordRequired)
        );

        let old_json = format!(
            r#"[{{"secret":"{B32}","label":"Acme - Acme:alice","digits":6,"type":"TOTP","period":30}}]"#
        );
        let mut old = nonce.to_vec();
        old.extend(crypto::aes_gcm_seal(
            &crypto::sha256(password)[..],
            &nonce,
            old_json.as_bytes(),
        ));
        let report = import(&old, Some(password)).unwrap();
        let a = &report.entries[0].account;
        assert_eq!((a.issuer.as_str(), a.name.as_str()), ("Acme", "Acme:alice"));
        assert_eq!(
            import(&old, Some(b"no")).err(),
            Some(ImportError::WrongPassword)
        );
    }
}
