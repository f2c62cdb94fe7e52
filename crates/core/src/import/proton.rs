//! Proton Authenticator JSON exports.
//!
//! Read: `{version, entries[{id, content{uri, entry_type, name}, note}]}`. Nothing is
//! encrypted. Convert: each `uri` is read as an `otpauth://` or `steam://` URI.

use serde_json::Value;

use super::common::{self, str_field};
use super::{AccountEntry, Format, ImportError, ImportReport};
use crate::uri;

const FORMAT: Format = Format::Proton;

/// Imports a Proton Authenticator export.
pub(super) fn import(bytes: &[u8]) -> Result<ImportReport, ImportError> {
    let file = common::json(bytes, FORMAT)?;
    let mut report = ImportReport::default();
    for (i, entry) in common::array(&file, "entries", FORMAT)?.iter().enumerate() {
        let content = entry.get("content").unwrap_or(&Value::Null);
        let name = str_field(content, "name");
        let result = uri::parse(str_field(content, "uri"))
            .map_err(|e| e.to_string())
            .map(|mut account| {
                if account.name.is_empty() {
                    name.trim().clone_into(&mut account.name);
                }
                let mut imported = AccountEntry::new(account);
                str_field(entry, "note").clone_into(&mut imported.note);
                imported
            });
        report.push(common::label("", name, i), result);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{B32, RAW};
    use super::*;

    #[test]
    fn minimal_export_and_unsupported_type() {
        let file = format!(
            r#"{{"version":1,"entries":[
              {{"content":{{"uri":"otpauth://totp/Acme:alice?secret={B32}","entry_type":"Totp","name":"alice"}},"note":"n"}},
              {{"content":{{"uri":"otpauth://yandex/y?secret={B32}","name":"y"}},"note":null}}]}}"#
        );
        let report = import(file.as_bytes()).unwrap();
        assert_eq!(report.entries.len(), 1);
        assert_eq!(report.entries[0].account.secret.expose(), RAW);
        assert_eq!(report.entries[0].note, "n");
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].entry, "y");
    }

    #[test]
    fn malformed_export() {
        assert!(matches!(
            import(br#"{"version":1}"#),
            Err(ImportError::Malformed { .. })
        ));
    }
}
