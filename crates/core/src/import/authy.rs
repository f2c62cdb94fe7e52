//! Authy's token store (`com.authy.storage.tokens.authenticator.xml`).
//!
//! Read: the preference `com.authy.storage.tokens.authenticator.key` holds a JSON array of
//! `{decryptedSecret | encryptedSecret+salt, digits, originalName, originalIssuer, name}`.
//! Decrypt: encrypted secrets (AES-CBC) are not supported yet and are reported as skipped.
//! Convert: TOTP, SHA-1, the file's digits, period 30 unless stated.

use serde_json::Value;

use super::android_prefs;
use super::common::{self, malformed, str_field, u32_field};
use super::{Format, ImportError, ImportReport, ImportedEntry};
use crate::{Algorithm, Kind};

const FORMAT: Format = Format::Authy;
pub(super) const KEY: &str = "com.authy.storage.tokens.authenticator.key";

/// Imports Authy's token store.
pub(super) fn import(bytes: &[u8]) -> Result<ImportReport, ImportError> {
    let prefs = android_prefs::strings(bytes, FORMAT)?;
    let data =
        android_prefs::get(&prefs, KEY).ok_or_else(|| malformed(FORMAT, "no Authy token list"))?;
    let tokens: Value =
        serde_json::from_str(data).map_err(|_| malformed(FORMAT, "the token list is not JSON"))?;
    let tokens = tokens
        .as_array()
        .ok_or_else(|| malformed(FORMAT, "the token list is not a list"))?;
    let mut report = ImportReport::default();
    for (i, token) in tokens.iter().enumerate() {
        let (issuer, name) = issuer_and_name(token);
        report.push(common::label(&issuer, &name, i), convert(token));
    }
    Ok(report)
}

/// `originalName` is `Issuer:Name` (or just the name); `originalIssuer` wins when given.
fn issuer_and_name(token: &Value) -> (String, String) {
    let raw = match str_field(token, "originalName") {
        "" => str_field(token, "name"),
        raw => raw,
    };
    let (issuer, name) = match raw.split_once(':') {
        Some((issuer, name)) => (issuer.trim(), name.trim()),
        None => ("", raw.trim()),
    };
    let issuer = match str_field(token, "originalIssuer").trim() {
        "" => issuer,
        original => original,
    };
    (issuer.to_owned(), name.to_owned())
}

fn convert(token: &Value) -> Result<ImportedEntry, String> {
    let secret = str_field(token, "decryptedSecret");
    if secret.is_empty() {
        return Err(if token.get("encryptedSecret").is_some() {
            "encrypted Authy secrets are not supported yet".to_owned()
        } else {
            "no secret".to_owned()
        });
    }
    let (issuer, name) = issuer_and_name(token);
    let account = common::account(
        &issuer,
        &name,
        common::base32(secret)?,
        Kind::Totp {
            period: u32_field(token, "period")?.unwrap_or(30),
        },
        Algorithm::Sha1,
        u32_field(token, "digits")?.unwrap_or(6),
    )?;
    Ok(ImportedEntry::new(account))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{B32, RAW};
    use super::*;

    fn file(tokens: &str) -> String {
        let escaped = tokens.replace('"', "&quot;");
        format!("<?xml version='1.0'?>\n<map><string name=\"{KEY}\">{escaped}</string></map>")
    }

    #[test]
    fn minimal_store_and_encrypted_entry() {
        let tokens = format!(
            r#"[{{"decryptedSecret":"{B32}","digits":7,"originalName":"Acme:alice","originalIssuer":"Acme"}},
               {{"encryptedSecret":"AAAA","salt":"x","digits":6,"name":"Bank: bob"}}]"#
        );
        let report = import(file(&tokens).as_bytes()).unwrap();
        assert_eq!(report.entries.len(), 1);
        let a = &report.entries[0].account;
        assert_eq!(a.secret.expose(), RAW);
        assert_eq!((a.issuer.as_str(), a.name.as_str()), ("Acme", "alice"));
        assert_eq!(a.params.digits(), 7);
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].entry, "Bank (bob)");
    }

    #[test]
    fn malformed_store() {
        assert!(matches!(
            import(b"<map></map>"),
            Err(ImportError::Malformed { .. })
        ));
        assert!(matches!(
            import(file("{").as_bytes()),
            Err(ImportError::Malformed { .. })
        ));
    }
}
