//! Duo Mobile JSON exports.
//!
//! Read: a JSON array of `{name, accountType, otpGenerator{otpSecret, counter?}}`. Nothing is
//! encrypted. Convert: an entry with a counter is HOTP, otherwise TOTP (SHA-1, 6 digits, 30 s);
//! Duo Push accounts carry no OTP secret and are reported as skipped.

use serde_json::Value;

use super::common::{self, malformed, str_field, uint_field};
use super::{AccountEntry, Format, ImportError, ImportReport};
use crate::{Algorithm, Kind};

const FORMAT: Format = Format::Duo;

/// Imports a Duo Mobile export.
pub(super) fn import(bytes: &[u8]) -> Result<ImportReport, ImportError> {
    let file = common::json(bytes, FORMAT)?;
    let entries = file
        .as_array()
        .ok_or_else(|| malformed(FORMAT, "not a JSON array"))?;
    let mut report = ImportReport::default();
    for (i, entry) in entries.iter().enumerate() {
        let label = common::label(
            str_field(entry, "serviceTypeLabel"),
            str_field(entry, "name"),
            i,
        );
        report.push(label, convert(entry));
    }
    Ok(report)
}

fn convert(entry: &Value) -> Result<AccountEntry, String> {
    let generator = entry
        .get("otpGenerator")
        .filter(|g| g.is_object())
        .ok_or("no OTP secret (a Duo Push account cannot be imported)")?;
    let kind = match uint_field(generator, "counter")? {
        Some(counter) => Kind::Hotp { counter },
        None => Kind::Totp { period: 30 },
    };
    let account = common::account(
        str_field(entry, "serviceTypeLabel"),
        str_field(entry, "name"),
        common::base32(str_field(generator, "otpSecret"))?,
        kind,
        Algorithm::Sha1,
        6,
    )?;
    Ok(AccountEntry::new(account))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{B32, RAW};
    use super::*;

    #[test]
    fn minimal_export_and_push_account() {
        let file = format!(
            r#"[{{"name":"alice","otpGenerator":{{"otpSecret":"{B32}"}}}},
               {{"name":"bob","otpGenerator":{{"otpSecret":"{B32}","counter":3}}}},
               {{"name":"push","accountType":"DuoPushAccount"}}]"#
        );
        let report = import(file.as_bytes()).unwrap();
        assert_eq!(report.entries.len(), 2);
        assert_eq!(report.entries[0].account.secret.expose(), RAW);
        assert_eq!(
            report.entries[1].account.params.kind(),
            Kind::Hotp { counter: 3 }
        );
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].entry, "push");
    }

    #[test]
    fn malformed_export() {
        assert!(matches!(import(b"{}"), Err(ImportError::Malformed { .. })));
    }
}
