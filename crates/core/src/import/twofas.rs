//! 2FAS backups (`.2fas`, schemas 1–4), plain or encrypted.
//!
//! Read: `{schemaVersion, services, groups, servicesEncrypted?, reference?}`. Decrypt:
//! `servicesEncrypted` is `b64(ciphertext||tag):b64(salt):b64(iv)`, key PBKDF2-HMAC-SHA256
//! (10,000 iterations), AES-256-GCM; `reference` (same layout) checks the password first.
//! Convert: `tokenType` TOTP/HOTP/STEAM (absent before schema 3: TOTP).

use std::collections::HashMap;

use serde_json::Value;
use zeroize::Zeroizing;

use super::common::{self, malformed, str_field, u32_field, uint_field};
use super::{AccountEntry, Format, ImportError, ImportReport};
use crate::crypto;

const FORMAT: Format = Format::TwoFas;
const ITERATIONS: u32 = 10_000;

/// Imports a 2FAS backup.
pub(super) fn import(bytes: &[u8], password: Option<&[u8]>) -> Result<ImportReport, ImportError> {
    let file = common::json(bytes, FORMAT)?;
    uint_field(&file, "schemaVersion")
        .ok()
        .flatten()
        .ok_or_else(|| malformed(FORMAT, "no schemaVersion"))?;
    let encrypted = str_field(&file, "servicesEncrypted");
    if encrypted.is_empty() {
        return convert(common::array(&file, "services", FORMAT)?, &file);
    }
    let password = password.ok_or(ImportError::PasswordRequired)?;
    let plain = decrypt(encrypted, str_field(&file, "reference"), password)?;
    common::json_bounded(&plain, FORMAT)?;
    let services: Value = serde_json::from_slice(&plain)
        .map_err(|_| malformed(FORMAT, "the decrypted services are not JSON"))?;
    let services = services
        .as_array()
        .ok_or_else(|| malformed(FORMAT, "the decrypted services are not a list"))?;
    convert(services, &file)
}

/// The three Base64 parts `ciphertext||tag : salt : iv`.
struct Sealed {
    data: Zeroizing<Vec<u8>>,
    salt: Zeroizing<Vec<u8>>,
    iv: Zeroizing<Vec<u8>>,
}

fn split(text: &str, what: &str) -> Result<Sealed, ImportError> {
    // At most four pieces: a field of millions of separators costs nothing (it took a slice
    // for each, 16 bytes a byte of the file).
    let mut parts = text.splitn(4, ':');
    let (Some(data), Some(salt), Some(iv), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed(FORMAT, format!("{what} is not data:salt:iv")));
    };
    let decode = |p: &str| {
        crypto::base64(p).ok_or_else(|| malformed(FORMAT, format!("{what} is not Base64")))
    };
    Ok(Sealed {
        data: decode(data)?,
        salt: decode(salt)?,
        iv: decode(iv)?,
    })
}

fn decrypt(
    encrypted: &str,
    reference: &str,
    password: &[u8],
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let services = split(encrypted, "servicesEncrypted")?;
    let key = crypto::pbkdf2(true, password, &services.salt, ITERATIONS);
    if !reference.is_empty() {
        let reference = split(reference, "reference")?;
        let reference_key;
        let check_key = if reference.salt == services.salt {
            &key
        } else {
            reference_key = crypto::pbkdf2(true, password, &reference.salt, ITERATIONS);
            &reference_key
        };
        crypto::aes_gcm_open(&check_key[..], &reference.iv, &reference.data)
            .map_err(|_| ImportError::WrongPassword)?;
        return crypto::aes_gcm_open(&key[..], &services.iv, &services.data)
            .map_err(|_| malformed(FORMAT, "the services do not match their key (damaged)"));
    }
    crypto::aes_gcm_open(&key[..], &services.iv, &services.data)
        .map_err(|_| ImportError::WrongPassword)
}

fn convert(services: &[Value], file: &Value) -> Result<ImportReport, ImportError> {
    let groups: HashMap<&str, &str> = file
        .get("groups")
        .and_then(Value::as_array)
        .map(|g| {
            g.iter()
                .map(|g| (str_field(g, "id"), str_field(g, "name")))
                .collect()
        })
        .unwrap_or_default();
    let mut report = ImportReport::default();
    for (i, service) in services.iter().enumerate() {
        let otp = service.get("otp").unwrap_or(&Value::Null);
        let label = common::label(&issuer(service, otp), str_field(otp, "account"), i);
        report.push(label, convert_service(service, otp, &groups));
    }
    Ok(report)
}

/// The issuer, or the service's name when the OTP block has none.
fn issuer(service: &Value, otp: &Value) -> String {
    let issuer = str_field(otp, "issuer");
    if issuer.trim().is_empty() {
        str_field(service, "name").to_owned()
    } else {
        issuer.to_owned()
    }
}

fn convert_service(
    service: &Value,
    otp: &Value,
    groups: &HashMap<&str, &str>,
) -> Result<AccountEntry, String> {
    let token_type = match str_field(otp, "tokenType") {
        "" => "TOTP",
        t => t,
    };
    let kind = common::kind(
        token_type,
        u32_field(otp, "period")?.filter(|p| *p > 0),
        uint_field(otp, "counter")?,
    )?;
    let account = common::account(
        &issuer(service, otp),
        str_field(otp, "account"),
        common::base32(str_field(service, "secret"))?,
        kind,
        common::algorithm(str_field(otp, "algorithm"))?,
        u32_field(otp, "digits")?.unwrap_or(6),
    )?;
    let mut entry = AccountEntry::new(account);
    let group = str_field(service, "groupId");
    if let Some(name) = groups.get(group) {
        entry.groups.push((*name).to_owned());
    }
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{B32, RAW};
    use super::*;
    use crate::Kind;
    use base64::Engine;

    #[test]
    fn a_field_of_separators_is_malformed_without_a_slice_each() {
        let colons = ":".repeat(1 << 20);
        let file = format!(r#"{{"schemaVersion":4,"services":[],"servicesEncrypted":"{colons}"}}"#);
        let e = import(file.as_bytes(), Some(b"pw"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not data:salt:iv"), "{e}");
    }

    fn services() -> String {
        format!(
            r#"[{{"name":"Acme","secret":"{B32}","groupId":"g","otp":{{"account":"alice","issuer":"",
                "digits":8,"period":60,"algorithm":"SHA512","tokenType":"TOTP"}}}},
              {{"name":"Bank","secret":"{B32}","otp":{{"account":"bob","issuer":"Bank","counter":3,"tokenType":"HOTP"}}}},
              {{"name":"Y","secret":"{B32}","otp":{{"account":"y","tokenType":"YANDEX"}}}}]"#
        )
    }

    fn plain() -> String {
        format!(
            r#"{{"schemaVersion":4,"groups":[{{"id":"g","name":"Work"}}],"services":{}}}"#,
            services()
        )
    }

    #[test]
    fn minimal_plain_backup() {
        let report = import(plain().as_bytes(), None).unwrap();
        assert_eq!(report.entries.len(), 2);
        let a = &report.entries[0];
        assert_eq!(a.account.issuer, "Acme", "the service name stands in");
        assert_eq!(a.account.secret.expose(), RAW);
        assert_eq!(a.account.params.kind(), Kind::Totp { period: 60 });
        assert_eq!(a.groups, ["Work"]);
        assert_eq!(
            report.entries[1].account.params.kind(),
            Kind::Hotp { counter: 3 }
        );
    }

    #[test]
    fn schema_1_is_default_totp() {
        let file = format!(
            r#"{{"schemaVersion":1,"services":[{{"name":"A","secret":"{B32}","type":"Unknown","otp":{{"account":"a"}}}}]}}"#
        );
        let report = import(file.as_bytes(), None).unwrap();
        let p = report.entries[0].account.params;
        assert_eq!((p.kind(), p.digits()), (Kind::Totp { period: 30 }, 6));
    }

    #[test]
    fn unsupported_type_is_skipped() {
        let report = import(plain().as_bytes(), None).unwrap();
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].entry, "Y (y)");
    }

    #[test]
    fn malformed_backups() {
        for bad in [
            "{}",
            r#"{"schemaVersion":4}"#,
            "nope",
            r#"{"schemaVersion":4,"services":[],"servicesEncrypted":"a:b"}"#,
        ] {
            let result = import(bad.as_bytes(), Some(b"pw"));
            assert!(
                matches!(result, Err(ImportError::Malformed { .. })),
                "{bad}"
            );
        }
    }

    fn encrypted(password: &[u8]) -> String {
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let salt = [5u8; 256];
        let key = crypto::pbkdf2(true, password, &salt, ITERATIONS);
        let data = crypto::aes_gcm_seal(&key[..], &[1; 12], services().as_bytes());
        let reference = crypto::aes_gcm_seal(&key[..], &[2; 12], b"reference");
        format!(
            r#"{{"schemaVersion":4,"services":[],"servicesEncrypted":"{}:{}:{}","reference":"{}:{}:{}"}}"#,
            b64(&data),
            b64(&salt),
            b64(&[1; 12]),
            b64(&reference),
            b64(&salt),
            b64(&[2; 12])
        )
    }

    #[test]
    fn encrypted_backup() {
        let file = encrypted(b"pw");
        super::super::test_support::assert_password_handling(
            |pw| import(file.as_bytes(), pw),
            b"pw",
            2,
        );
    }
}
