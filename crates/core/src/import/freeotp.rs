//! FreeOTP+ JSON exports, and the token store of FreeOTP and FreeOTP+ (`tokens.xml`).
//!
//! Read: JSON `{tokenOrder, tokens[{algo, counter, digits, issuerExt, issuerInt, label, period,
//! secret: [signed bytes], type}]}`, or Android preferences XML with one such token as JSON per
//! `<string>` (and a `tokenOrder` list). Nothing is encrypted. Convert: FreeOTP stores the HOTP
//! counter of the last code shown, which is kept as it is.
//!
//! FreeOTP 2 keeps its tokens encrypted in a Java-serialized `HashMap<String, String>` (named
//! `tokens.xml` all the same): `masterKey` is a JSON object with a PBKDF2 salt, iteration count
//! and hash (`PBKDF2withHmacSHA1` or `...SHA512`) whose 256-bit output opens, with AES-256-GCM,
//! the master key (`mEncryptedKey`: ciphertext and tag as signed bytes, `mParameters` the DER
//! GCM parameters holding the nonce, `mToken` the associated data). Each token `ID` has its
//! parameters under `ID-token` (as above, without the secret) and its secret under `ID`,
//! encrypted the same way with the master key.

use serde_json::Value;

use zeroize::Zeroizing;

use super::common::{self, malformed, str_field, u32_field, uint_field};
use super::{AccountEntry, Format, ImportError, ImportReport};
use super::{android_prefs, java_serial};
use crate::Secret;
use crate::crypto;

/// Twenty times the PBKDF2 iterations FreeOTP uses (100,000), a second or two even with
/// HMAC-SHA-512: a file asking for more is refused rather than hanging the import.
const MAX_ITERATIONS: u32 = 2_000_000;

/// The preference that lists the tokens' order, not a token.
pub(super) const ORDER_KEY: &str = "tokenOrder";

/// Imports a FreeOTP+ JSON export or a FreeOTP token store (1 or 2); `format` names errors.
pub(super) fn import(
    bytes: &[u8],
    format: Format,
    password: Option<&[u8]>,
) -> Result<ImportReport, ImportError> {
    if java_serial::looks_like(bytes) {
        return import_v2(bytes, password);
    }
    let is_xml = std::str::from_utf8(bytes).is_ok_and(android_prefs::looks_like);
    let mut report = ImportReport::default();
    if is_xml {
        let prefs = android_prefs::strings(bytes, format)?;
        let tokens = prefs.iter().filter(|(name, _)| name != ORDER_KEY);
        for (i, (name, value)) in tokens.enumerate() {
            let result = serde_json::from_str::<Value>(value)
                .map_err(|_| "the token is not JSON".to_owned())
                .and_then(|token| convert(&token));
            report.push(common::label("", name, i), result);
        }
        return Ok(report);
    }
    let file = common::json(bytes, format)?;
    for (i, token) in common::array(&file, "tokens", format)?.iter().enumerate() {
        let label = common::label(issuer(token), str_field(token, "label"), i);
        report.push(label, convert(token));
    }
    Ok(report)
}

fn issuer(token: &Value) -> &str {
    match str_field(token, "issuerExt") {
        "" => str_field(token, "issuerInt"),
        issuer => issuer,
    }
}

/// FreeOTP writes the secret as Java's signed bytes.
fn secret(token: &Value) -> Result<Secret, String> {
    let bytes = signed_bytes(token.get("secret")).map_err(|e| format!("secret: {e}"))?;
    Ok(Secret::from_bytes(bytes.to_vec()))
}

/// True when the bytes are a FreeOTP 2 token store.
pub(super) fn is_v2(bytes: &[u8]) -> bool {
    java_serial::looks_like(bytes)
}

fn import_v2(bytes: &[u8], password: Option<&[u8]>) -> Result<ImportReport, ImportError> {
    let format = Format::FreeOtp;
    // Read.
    let map = java_serial::string_map(bytes).map_err(|e| malformed(format, e))?;
    let get = |key: &str| map.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let master: Value = get("masterKey")
        .and_then(|v| serde_json::from_str(v).ok())
        .ok_or_else(|| malformed(format, "no readable masterKey"))?;
    let hash = match str_field(&master, "mAlgorithm") {
        "PBKDF2withHmacSHA1" => ring::pbkdf2::PBKDF2_HMAC_SHA1,
        "PBKDF2withHmacSHA512" => ring::pbkdf2::PBKDF2_HMAC_SHA512,
        other => {
            return Err(malformed(
                format,
                format!(
                    "unsupported key derivation {:?}",
                    crate::uri::excerpt(other)
                ),
            ));
        }
    };
    let salt = signed_bytes(master.get("mSalt")).map_err(|e| malformed(format, e))?;
    let iterations = u32_field(&master, "mIterations")
        .ok()
        .flatten()
        .filter(|&n| (1..=MAX_ITERATIONS).contains(&n))
        .ok_or_else(|| malformed(format, "no usable PBKDF2 iteration count"))?;
    let wrapped = master
        .get("mEncryptedKey")
        .ok_or_else(|| malformed(format, "no mEncryptedKey"))?;
    // Decrypt the master key.
    let password = password.ok_or(ImportError::PasswordRequired)?;
    let kek = crypto::pbkdf2_with(hash, password, &salt, iterations);
    let master_key = open(wrapped, &kek[..]).map_err(|e| match e {
        OpenFailure::Tag => ImportError::WrongPassword,
        OpenFailure::Malformed(reason) => malformed(format, reason),
    })?;
    // Convert every token.
    let mut report = ImportReport::default();
    let tokens = map
        .iter()
        .filter_map(|(k, v)| Some((k.strip_suffix("-token")?, v)));
    for (i, (id, params)) in tokens.enumerate() {
        let result = serde_json::from_str::<Value>(params)
            .map_err(|_| "the token's parameters are not JSON".to_owned())
            .and_then(|token| {
                let secret = get(id)
                    .and_then(|v| serde_json::from_str::<Value>(v).ok())
                    .and_then(|v| {
                        v.get("key")
                            .and_then(Value::as_str)
                            .and_then(|k| serde_json::from_str::<Value>(k).ok())
                    })
                    .ok_or_else(|| "no encrypted secret".to_owned())
                    .and_then(|key| {
                        open(&key, &master_key[..]).map_err(|e| match e {
                            OpenFailure::Tag => "the secret does not decrypt".to_owned(),
                            OpenFailure::Malformed(reason) => reason,
                        })
                    })?;
                convert_with(&token, Secret::from_bytes(secret.to_vec()))
            });
        let label = serde_json::from_str::<Value>(params)
            .map(|t| common::label(issuer(&t), str_field(&t, "label"), i))
            .unwrap_or_else(|_| common::label("", id, i));
        report.push(label, result);
    }
    Ok(report)
}

enum OpenFailure {
    Tag,
    Malformed(String),
}

/// Opens a FreeOTP `EncryptedKey` JSON object with `key`.
fn open(encrypted: &Value, key: &[u8]) -> Result<Zeroizing<Vec<u8>>, OpenFailure> {
    let bad = OpenFailure::Malformed;
    if str_field(encrypted, "mCipher") != "AES/GCM/NoPadding" {
        return Err(bad("unsupported cipher".to_owned()));
    }
    let ciphertext = signed_bytes(encrypted.get("mCipherText")).map_err(bad)?;
    let parameters = signed_bytes(encrypted.get("mParameters")).map_err(bad)?;
    let nonce = gcm_nonce(&parameters).ok_or_else(|| bad("no GCM nonce".to_owned()))?;
    let aad = str_field(encrypted, "mToken").as_bytes();
    crypto::aes_gcm_open_aad(key, nonce, aad, &ciphertext).map_err(|_| OpenFailure::Tag)
}

/// The nonce in DER `GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING, aes-ICVlen INTEGER }`
/// (RFC 5084), or a bare OCTET STRING.
fn gcm_nonce(der: &[u8]) -> Option<&[u8]> {
    let (tag, body) = (*der.first()?, der.get(1..)?);
    let short_len = |b: &[u8]| -> Option<(usize, usize)> {
        let n = *b.first()?;
        (n < 0x80).then_some((usize::from(n), 1))
    };
    match tag {
        0x04 => {
            let (len, skip) = short_len(body)?;
            body.get(skip..skip + len)
        }
        0x30 => {
            let (len, skip) = short_len(body)?;
            let inner = body.get(skip..skip + len)?;
            (inner.first() == Some(&0x04)).then_some(())?;
            gcm_nonce(inner)
        }
        _ => None,
    }
}

/// A JSON array of Java's signed bytes.
fn signed_bytes(value: Option<&Value>) -> Result<Zeroizing<Vec<u8>>, String> {
    let items = value
        .and_then(Value::as_array)
        .ok_or("missing byte array")?;
    items
        .iter()
        .map(|b| {
            b.as_i64()
                .filter(|b| (-128..=255).contains(b))
                .map(|b| b as u8)
        })
        .collect::<Option<Vec<u8>>>()
        .map(Zeroizing::new)
        .ok_or_else(|| "not a list of bytes".to_owned())
}

fn convert(token: &Value) -> Result<AccountEntry, String> {
    convert_with(token, secret(token)?)
}

fn convert_with(token: &Value, secret: Secret) -> Result<AccountEntry, String> {
    let kind = common::kind(
        str_field(token, "type"),
        u32_field(token, "period")?,
        uint_field(token, "counter")?,
    )?;
    let account = common::account(
        issuer(token),
        str_field(token, "label"),
        secret,
        kind,
        common::algorithm(str_field(token, "algo"))?,
        u32_field(token, "digits")?.unwrap_or(6),
    )?;
    Ok(AccountEntry::new(account))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kind;

    #[test]
    fn minimal_export() {
        let file = r#"{"tokenOrder":["A:a"],"tokens":[
            {"algo":"SHA256","counter":4,"digits":6,"issuerExt":"A","issuerInt":"B","label":"a","period":30,"secret":[-1,0,127],"type":"HOTP"},
            {"digits":6,"issuerInt":"B","label":"b","secret":[1,2,3],"type":"TOTP"}]}"#;
        let report = import(file.as_bytes(), Format::FreeOtpPlus, None).unwrap();
        assert_eq!(report.entries.len(), 2);
        let a = &report.entries[0].account;
        assert_eq!(a.secret.expose(), [255, 0, 127]);
        assert_eq!(a.issuer, "A");
        assert_eq!(a.params.kind(), Kind::Hotp { counter: 4 });
        assert_eq!(report.entries[1].account.issuer, "B");
    }

    #[test]
    fn unsupported_type_and_bad_secret_are_skipped() {
        let file = r#"{"tokens":[{"label":"m","secret":[1],"type":"MOTP"},{"label":"s","secret":[900],"type":"TOTP"}]}"#;
        let report = import(file.as_bytes(), Format::FreeOtpPlus, None).unwrap();
        assert!(report.entries.is_empty());
        assert_eq!(report.skipped.len(), 2);
    }

    #[test]
    fn token_store_xml() {
        let xml = r#"<?xml version='1.0' encoding='utf-8' standalone='yes' ?>
<map>
    <string name="A:a">{&quot;algo&quot;:&quot;SHA1&quot;,&quot;digits&quot;:6,&quot;issuerExt&quot;:&quot;A&quot;,&quot;label&quot;:&quot;a&quot;,&quot;period&quot;:30,&quot;secret&quot;:[1,2],&quot;type&quot;:&quot;TOTP&quot;}</string>
    <string name="B:b">not json</string>
    <string name="tokenOrder">[&quot;A:a&quot;,&quot;B:b&quot;]</string>
</map>"#;
        assert_eq!(super::super::detect(xml.as_bytes()), Some(Format::FreeOtp));
        let report = import(xml.as_bytes(), Format::FreeOtp, None).unwrap();
        assert_eq!(report.entries.len(), 1);
        assert_eq!(report.entries[0].account.secret.expose(), [1, 2]);
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].entry, "B:b");
    }

    #[test]
    fn malformed_export() {
        for bad in [&b"{}"[..], b"[[", b"<map><string>"] {
            assert!(matches!(
                import(bad, Format::FreeOtp, None),
                Err(ImportError::Malformed { .. })
            ));
        }
    }
}
