//! TOTP Authenticator's preferences (`TOTP_Authenticator_Preferences.xml`).
//!
//! Read: the preference `STATIC_TOTP_CODES_LIST` holds a JSON array of `{issuer, name, key,
//! base}` (objects, or strings holding them). Decrypt: the app's `.bin` backup is Base64 of
//! AES-256-CBC (zero IV, PKCS#7) under SHA-256(password), whose plaintext is a JSON object
//! whose first key is that list; the app offers its built-in password `TotpAuthenticator`
//! when the user set none.
//! Convert: `key` in base 16, 32 or 64; the app only makes default codes (TOTP, SHA-1, 6 digits,
//! 30 s), so its `digits` and `period` fields are not used.

use serde_json::Value;

use super::android_prefs;
use super::common::{self, malformed, str_field, uint_field};
use super::{AccountEntry, Format, ImportError, ImportReport};
use crate::crypto;
use crate::{Algorithm, Kind, Secret};

const FORMAT: Format = Format::TotpAuthenticator;
pub(super) const KEY: &str = "STATIC_TOTP_CODES_LIST";

/// The password the app encrypts with when the user chose none.
const DEFAULT_PASSWORD: &[u8] = b"TotpAuthenticator";

/// Imports TOTP Authenticator's preferences or encrypted backup.
pub(super) fn import(bytes: &[u8], password: Option<&[u8]>) -> Result<ImportReport, ImportError> {
    let text = std::str::from_utf8(bytes).map_err(|_| malformed(FORMAT, "not text"))?;
    if !android_prefs::looks_like(text) {
        let sealed = crypto::base64(text)
            .filter(|b| !b.is_empty() && b.len() % 16 == 0)
            .ok_or_else(|| malformed(FORMAT, "neither preferences XML nor a Base64 backup"))?;
        let open = |password: &[u8]| -> Option<Value> {
            let key = crypto::sha256(password);
            let plain = crypto::aes_cbc_open(&key[..], &[0; 16], &sealed).ok()?;
            serde_json::from_slice(&plain).ok()
        };
        // Without a password, try the one the app uses when the user set none.
        let outer = match password {
            Some(p) => open(p).ok_or(ImportError::WrongPassword)?,
            None => open(DEFAULT_PASSWORD).ok_or(ImportError::PasswordRequired)?,
        };
        let list = outer
            .as_object()
            .and_then(|o| o.keys().next())
            .ok_or_else(|| malformed(FORMAT, "the backup holds no code list"))?;
        return convert_list(list);
    }
    let prefs = android_prefs::strings(bytes, FORMAT)?;
    let data = android_prefs::get(&prefs, KEY)
        .ok_or_else(|| malformed(FORMAT, "no STATIC_TOTP_CODES_LIST"))?;
    convert_list(data)
}

fn convert_list(data: &str) -> Result<ImportReport, ImportError> {
    common::json_bounded(data.as_bytes(), FORMAT)?;
    let entries: Value =
        serde_json::from_str(data).map_err(|_| malformed(FORMAT, "the code list is not JSON"))?;
    let entries = entries
        .as_array()
        .ok_or_else(|| malformed(FORMAT, "the code list is not a list"))?;
    let mut report = ImportReport::default();
    for (i, entry) in entries.iter().enumerate() {
        // The app stores each entry as an object or as a string holding one.
        let parsed = match entry {
            Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
            other => other.clone(),
        };
        let label = common::label(str_field(&parsed, "issuer"), str_field(&parsed, "name"), i);
        let result = if parsed.is_object() {
            convert(&parsed)
        } else {
            Err("the entry is not a JSON object".to_owned())
        };
        report.push(label, result);
    }
    Ok(report)
}

fn convert(entry: &Value) -> Result<AccountEntry, String> {
    let key = str_field(entry, "key");
    let secret = match uint_field(entry, "base")? {
        Some(16) => Secret::from_bytes(crypto::hex(key).ok_or("the key is not hex")?),
        Some(32) => common::base32(key)?,
        Some(64) => {
            Secret::from_bytes(crypto::base64(key).ok_or("the key is not Base64")?.to_vec())
        }
        _ => return Err("unsupported key encoding (base)".to_owned()),
    };
    let account = common::account(
        str_field(entry, "issuer"),
        str_field(entry, "name"),
        secret,
        Kind::Totp { period: 30 },
        Algorithm::Sha1,
        6,
    )?;
    Ok(AccountEntry::new(account))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(list: &str) -> String {
        format!(
            "<map><string name=\"{KEY}\">{}</string></map>",
            list.replace('"', "&quot;")
        )
    }

    #[test]
    fn minimal_list_and_bad_base() {
        let list = r#"[{"issuer":"Acme","name":"alice","key":"0102FF","base":16,"digits":"8"},
                       {"issuer":"B","name":"b","key":"AQID","base":64},
                       {"issuer":"C","name":"c","key":"x","base":7}]"#;
        let report = import(file(list).as_bytes(), None).unwrap();
        assert_eq!(report.entries.len(), 2);
        assert_eq!(report.entries[0].account.secret.expose(), [1, 2, 255]);
        assert_eq!(report.entries[0].account.params.digits(), 6);
        assert_eq!(report.entries[1].account.secret.expose(), [1, 2, 3]);
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].entry, "C (c)");
    }

    #[test]
    fn malformed_and_encrypted_files() {
        assert!(matches!(
            import(b"<map></map>", None),
            Err(ImportError::Malformed { .. })
        ));
        assert!(matches!(
            import(b"c29tZQ==", None),
            Err(ImportError::Malformed { .. })
        ));
    }

    #[test]
    fn encrypted_backup() {
        let list = format!(
            r#"["{{\"issuer\":\"A\",\"name\":\"a\",\"key\":\"{}\",\"base\":32}}"]"#,
            super::super::test_support::B32
        );
        let plain = serde_json::to_vec(&serde_json::json!({ list: "1" })).unwrap();
        use base64::Engine;
        let seal = |password: &[u8]| {
            let key = crypto::sha256(password);
            let sealed = crypto::aes_cbc_seal(&key[..], &[0; 16], &plain);
            base64::engine::general_purpose::STANDARD.encode(sealed)
        };
        let file = seal(b"secret");
        super::super::test_support::assert_password_handling(
            |p| import(file.as_bytes(), p),
            b"secret",
            1,
        );
        // A backup made without a user password opens without one.
        let report = import(seal(DEFAULT_PASSWORD).as_bytes(), None).unwrap();
        assert_eq!(report.entries[0].account.issuer, "A");
    }
}
