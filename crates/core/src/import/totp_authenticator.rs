//! TOTP Authenticator's preferences (`TOTP_Authenticator_Preferences.xml`).
//!
//! Read: the preference `STATIC_TOTP_CODES_LIST` holds a JSON array of `{issuer, name, key,
//! base}`. Decrypt: the app's encrypted `.bin` backups (AES-CBC) are not supported yet.
//! Convert: `key` in base 16, 32 or 64; the app only makes default codes (TOTP, SHA-1, 6 digits,
//! 30 s), so its `digits` and `period` fields are not used.

use serde_json::Value;

use super::android_prefs;
use super::common::{self, malformed, str_field, uint_field};
use super::crypto;
use super::{Format, ImportError, ImportReport, ImportedEntry};
use crate::{Algorithm, Kind, Secret};

const FORMAT: Format = Format::TotpAuthenticator;
pub(super) const KEY: &str = "STATIC_TOTP_CODES_LIST";

/// Imports TOTP Authenticator's preferences.
pub(super) fn import(bytes: &[u8]) -> Result<ImportReport, ImportError> {
    if std::str::from_utf8(bytes).is_ok_and(|t| !android_prefs::looks_like(t)) {
        return Err(malformed(
            FORMAT,
            "encrypted TOTP Authenticator backups are not supported yet",
        ));
    }
    let prefs = android_prefs::strings(bytes, FORMAT)?;
    let data = android_prefs::get(&prefs, KEY)
        .ok_or_else(|| malformed(FORMAT, "no STATIC_TOTP_CODES_LIST"))?;
    let entries: Value =
        serde_json::from_str(data).map_err(|_| malformed(FORMAT, "the code list is not JSON"))?;
    let entries = entries
        .as_array()
        .ok_or_else(|| malformed(FORMAT, "the code list is not a list"))?;
    let mut report = ImportReport::default();
    for (i, entry) in entries.iter().enumerate() {
        let label = common::label(str_field(entry, "issuer"), str_field(entry, "name"), i);
        report.push(label, convert(entry));
    }
    Ok(report)
}

fn convert(entry: &Value) -> Result<ImportedEntry, String> {
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
    Ok(ImportedEntry::new(account))
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
        let report = import(file(list).as_bytes()).unwrap();
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
            import(b"<map></map>"),
            Err(ImportError::Malformed { .. })
        ));
        assert!(matches!(
            import(b"c29tZQ=="),
            Err(ImportError::Malformed { .. })
        ));
    }
}
