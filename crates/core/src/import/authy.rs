//! Authy's token store (`com.authy.storage.tokens.authenticator.xml`).
//!
//! Read: the preference `com.authy.storage.tokens.authenticator.key` holds a JSON array of
//! `{decryptedSecret | encryptedSecret+salt, digits, originalName, originalIssuer, name}`.
//! Decrypt: an `encryptedSecret` (Base64) is AES-256-CBC (zero IV, PKCS#7) of the Base32
//! secret under PBKDF2-HMAC-SHA1(backup password, `salt` as UTF-8, 1,000 iterations).
//! Convert: TOTP, SHA-1, the file's digits, period 30 unless stated.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use zeroize::Zeroizing;

use super::android_prefs;
use super::common::{self, malformed, str_field, u32_field};
use super::{AccountEntry, Format, ImportError, ImportReport};
use crate::crypto;
use crate::{Algorithm, Kind};

const FORMAT: Format = Format::Authy;
pub(super) const KEY: &str = "com.authy.storage.tokens.authenticator.key";
const ITERATIONS: u32 = 1000;

/// Imports Authy's token store.
pub(super) fn import(bytes: &[u8], password: Option<&[u8]>) -> Result<ImportReport, ImportError> {
    let prefs = android_prefs::strings(bytes, FORMAT)?;
    let data =
        android_prefs::get(&prefs, KEY).ok_or_else(|| malformed(FORMAT, "no Authy token list"))?;
    common::json_bounded(data.as_bytes(), FORMAT)?;
    let tokens: Value =
        serde_json::from_str(data).map_err(|_| malformed(FORMAT, "the token list is not JSON"))?;
    let tokens = tokens
        .as_array()
        .ok_or_else(|| malformed(FORMAT, "the token list is not a list"))?;
    let encrypted = |t: &&Value| {
        str_field(t, "decryptedSecret").is_empty() && t.get("encryptedSecret").is_some()
    };
    let any_encrypted = tokens.iter().any(|t| encrypted(&t));
    let password = match (any_encrypted, password) {
        (true, None) => return Err(ImportError::PasswordRequired),
        (_, p) => p,
    };
    // One key derivation a salt (each costs about a millisecond; a file naming a new salt for
    // each of 100,000 tokens asked for a minute and a half): counted and capped before any.
    let salts: HashSet<&str> = tokens
        .iter()
        .filter(encrypted)
        .map(|t| str_field(t, "salt"))
        .collect();
    if password.is_some() && salts.len() > super::MAX_KEY_DERIVATIONS {
        return Err(malformed(
            FORMAT,
            format!(
                "it asks for {} key derivations (one for each salt); at most {} are done",
                salts.len(),
                super::MAX_KEY_DERIVATIONS
            ),
        ));
    }
    drop(salts);
    // Decrypt every encrypted secret; when none opens, the password is wrong.
    let mut keys: HashMap<&str, Zeroizing<[u8; 32]>> = HashMap::new();
    let mut secrets = Vec::with_capacity(tokens.len());
    for token in tokens {
        secrets.push(match (encrypted(&token), password) {
            (true, Some(p)) => {
                let salt = str_field(token, "salt");
                let key = keys
                    .entry(salt)
                    .or_insert_with(|| crypto::pbkdf2(false, p, salt.as_bytes(), ITERATIONS));
                Some(decrypt(token, key))
            }
            _ => None,
        });
    }
    let opened = secrets.iter().flatten().filter(|r| r.is_ok()).count();
    if any_encrypted && opened == 0 {
        return Err(ImportError::WrongPassword);
    }
    let mut report = ImportReport::default();
    for (i, (token, secret)) in tokens.iter().zip(secrets).enumerate() {
        let (issuer, name) = issuer_and_name(token);
        let result = match secret {
            None => convert(token, str_field(token, "decryptedSecret")),
            Some(Ok(secret)) => std::str::from_utf8(&secret)
                .map_err(|_| "the decrypted secret is not text".to_owned())
                .and_then(|s| convert(token, s)),
            Some(Err(())) => Err("the secret does not decrypt with this password".to_owned()),
        };
        report.push(common::label(&issuer, &name, i), result);
    }
    Ok(report)
}

/// The Base32 text of one token's encrypted secret, with the key of its salt.
fn decrypt(token: &Value, key: &[u8; 32]) -> Result<Zeroizing<Vec<u8>>, ()> {
    let sealed = crypto::base64(str_field(token, "encryptedSecret")).ok_or(())?;
    let plain = crypto::aes_cbc_open(&key[..], &[0; 16], &sealed).map_err(|_| ())?;
    // A wrong key passes the padding check one time in 256: Base32 text is the real test.
    let text = std::str::from_utf8(&plain).map_err(|_| ())?;
    crate::Secret::from_base32(text).map_err(|_| ())?;
    Ok(plain)
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

fn convert(token: &Value, secret: &str) -> Result<AccountEntry, String> {
    if secret.is_empty() {
        return Err("no secret".to_owned());
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
    Ok(AccountEntry::new(account))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{B32, RAW};
    use super::*;

    fn file(tokens: &str) -> String {
        let escaped = tokens.replace('"', "&quot;");
        format!("<?xml version='1.0'?>\n<map><string name=\"{KEY}\">{escaped}</string></map>")
    }

    fn seal(password: &[u8], salt: &str, base32: &str) -> String {
        use base64::Engine;
        let key = crypto::pbkdf2(false, password, salt.as_bytes(), ITERATIONS);
        let sealed = crypto::aes_cbc_seal(&key[..], &[0; 16], base32.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(sealed)
    }

    #[test]
    fn plain_and_encrypted_entries() {
        let sealed = seal(b"pw", "salty", B32);
        let tokens = format!(
            r#"[{{"decryptedSecret":"{B32}","digits":7,"originalName":"Acme:alice","originalIssuer":"Acme"}},
               {{"encryptedSecret":"{sealed}","salt":"salty","digits":6,"name":"Bank: bob"}},
               {{"encryptedSecret":"AAAA","salt":"x","digits":6,"name":"Shop: eve"}}]"#
        );
        let file = file(&tokens);
        let report = import(file.as_bytes(), Some(b"pw")).unwrap();
        assert_eq!(report.entries.len(), 2);
        let a = &report.entries[0].account;
        assert_eq!(a.secret.expose(), RAW);
        assert_eq!((a.issuer.as_str(), a.name.as_str()), ("Acme", "alice"));
        assert_eq!(a.params.digits(), 7);
        assert_eq!(report.entries[1].account.secret.expose(), RAW);
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].entry, "Shop (eve)");
        super::super::test_support::assert_password_handling(
            |p| import(file.as_bytes(), p),
            b"pw",
            2,
        );
    }

    #[test]
    fn plain_store_needs_no_password() {
        let tokens = format!(r#"[{{"decryptedSecret":"{B32}","digits":6,"name":"a"}}]"#);
        assert_eq!(
            import(file(&tokens).as_bytes(), None)
                .unwrap()
                .entries
                .len(),
            1
        );
    }

    #[test]
    fn one_derivation_a_salt_and_a_cap_on_their_count() {
        // Many tokens of one salt: one derivation, every secret opens.
        let sealed = seal(b"pw", "shared", B32);
        let tokens: Vec<String> = (0..3000)
            .map(|i| {
                format!(r#"{{"encryptedSecret":"{sealed}","salt":"shared","name":"user{i}"}}"#)
            })
            .collect();
        let report = import(
            file(&format!("[{}]", tokens.join(","))).as_bytes(),
            Some(b"pw"),
        )
        .unwrap();
        assert_eq!(report.entries.len(), 3000);
        // One salt more than the cap: refused before any derivation, the count named.
        let tokens: Vec<String> = (0..=super::super::MAX_KEY_DERIVATIONS)
            .map(|i| format!(r#"{{"encryptedSecret":"{sealed}","salt":"s{i}","name":"u{i}"}}"#))
            .collect();
        let e = import(
            file(&format!("[{}]", tokens.join(","))).as_bytes(),
            Some(b"pw"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("2001 key derivations"), "{e}");
    }

    #[test]
    fn malformed_store() {
        assert!(matches!(
            import(b"<map></map>", None),
            Err(ImportError::Malformed { .. })
        ));
        assert!(matches!(
            import(file("{").as_bytes(), None),
            Err(ImportError::Malformed { .. })
        ));
    }
}
