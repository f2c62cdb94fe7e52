//! FreeOTP+ JSON exports, and the token store of FreeOTP and FreeOTP+ (`tokens.xml`).
//!
//! Read: JSON `{tokenOrder, tokens[{algo, counter, digits, issuerExt, issuerInt, label, period,
//! secret: [signed bytes], type}]}`, or Android preferences XML with one such token as JSON per
//! `<string>` (and a `tokenOrder` list). Nothing is encrypted. Convert: FreeOTP stores the HOTP
//! counter of the last code shown, which is kept as it is.

use serde_json::Value;

use super::android_prefs;
use super::common::{self, str_field, u32_field, uint_field};
use super::{Format, ImportError, ImportReport, ImportedEntry};
use crate::Secret;

/// The preference that lists the tokens' order, not a token.
pub(super) const ORDER_KEY: &str = "tokenOrder";

/// Imports a FreeOTP+ JSON export or a FreeOTP token store; `format` names errors.
pub(super) fn import(bytes: &[u8], format: Format) -> Result<ImportReport, ImportError> {
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
    let items = token
        .get("secret")
        .and_then(Value::as_array)
        .ok_or("no secret")?;
    let bytes = items
        .iter()
        .map(|b| {
            b.as_i64()
                .filter(|b| (-128..=255).contains(b))
                .map(|b| b as u8)
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or("the secret is not a list of bytes")?;
    Ok(Secret::from_bytes(bytes))
}

fn convert(token: &Value) -> Result<ImportedEntry, String> {
    let kind = common::kind(
        str_field(token, "type"),
        u32_field(token, "period")?,
        uint_field(token, "counter")?,
    )?;
    let account = common::account(
        issuer(token),
        str_field(token, "label"),
        secret(token)?,
        kind,
        common::algorithm(str_field(token, "algo"))?,
        u32_field(token, "digits")?.unwrap_or(6),
    )?;
    Ok(ImportedEntry::new(account))
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
        let report = import(file.as_bytes(), Format::FreeOtpPlus).unwrap();
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
        let report = import(file.as_bytes(), Format::FreeOtpPlus).unwrap();
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
        let report = import(xml.as_bytes(), Format::FreeOtp).unwrap();
        assert_eq!(report.entries.len(), 1);
        assert_eq!(report.entries[0].account.secret.expose(), [1, 2]);
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].entry, "B:b");
    }

    #[test]
    fn malformed_export() {
        for bad in [&b"{}"[..], b"[[", b"<map><string>"] {
            assert!(matches!(
                import(bad, Format::FreeOtp),
                Err(ImportError::Malformed { .. })
            ));
        }
    }
}
