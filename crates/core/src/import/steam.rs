//! Steam Guard files (Steam Desktop Authenticator `.maFile`, steamguard-cli manifests).
//!
//! Read: one account object, or `{accounts: {id: account}}`. Nothing is encrypted here.
//! Convert: `shared_secret` is Base64; the issuer is Steam and the name `account_name`.

use serde_json::Value;

use super::common::{self, malformed, str_field};
use super::{AccountEntry, Format, ImportError, ImportReport};
use crate::crypto;
use crate::uri::STEAM_ISSUER;
use crate::{Algorithm, Kind, Secret};

const FORMAT: Format = Format::Steam;

/// Imports a Steam Guard file.
pub(super) fn import(bytes: &[u8]) -> Result<ImportReport, ImportError> {
    let file = common::json(bytes, FORMAT)?;
    let accounts: Vec<&Value> = match file.get("accounts") {
        Some(Value::Object(map)) => map.values().collect(),
        Some(Value::Array(list)) => list.iter().collect(),
        _ if file.get("shared_secret").is_some() => vec![&file],
        _ => return Err(malformed(FORMAT, "no shared_secret and no accounts")),
    };
    let mut report = ImportReport::default();
    for (i, account) in accounts.into_iter().enumerate() {
        let name = str_field(account, "account_name");
        report.push(common::label(STEAM_ISSUER, name, i), convert(account));
    }
    Ok(report)
}

fn convert(account: &Value) -> Result<AccountEntry, String> {
    let secret =
        crypto::base64(str_field(account, "shared_secret")).ok_or("shared_secret is not Base64")?;
    let account = common::account(
        STEAM_ISSUER,
        str_field(account, "account_name"),
        Secret::from_bytes(secret.to_vec()),
        Kind::Steam { period: 30 },
        Algorithm::Sha1,
        5,
    )?;
    Ok(AccountEntry::new(account))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_manifest_files() {
        let single = br#"{"shared_secret":"AQID","account_name":"gabe"}"#;
        let report = import(single).unwrap();
        let a = &report.entries[0].account;
        assert_eq!(a.secret.expose(), [1, 2, 3]);
        assert_eq!((a.issuer.as_str(), a.name.as_str()), ("Steam", "gabe"));
        assert_eq!(a.params.kind(), Kind::Steam { period: 30 });
        let many = br#"{"accounts":{"1":{"shared_secret":"AQID","account_name":"a"},"2":{"shared_secret":"%%","account_name":"b"}}}"#;
        let report = import(many).unwrap();
        assert_eq!(report.entries.len(), 1);
        assert_eq!(report.skipped.len(), 1, "bad Base64 is reported");
    }

    #[test]
    fn malformed_file() {
        assert!(matches!(
            import(br#"{"x":1}"#),
            Err(ImportError::Malformed { .. })
        ));
    }
}
