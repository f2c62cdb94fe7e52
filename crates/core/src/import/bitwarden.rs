//! Bitwarden exports, JSON and CSV: logins whose TOTP field holds an `otpauth://` or
//! `steam://` URI, or a bare Base32 secret.
//!
//! Read: JSON `{encrypted, folders, items[{name, notes, favorite, folderId, login{username,
//! totp}}]}`, or CSV with a `login_totp` column. Decrypt: password-protected exports are not
//! supported. Convert: items without a TOTP value are logins, not accounts, and are left out.

use std::collections::HashMap;

use serde_json::Value;

use super::common::{self, malformed, str_field};
use super::{AccountEntry, Format, ImportError, ImportReport};
use crate::{Algorithm, Kind, OtpAccount, uri};

const FORMAT: Format = Format::Bitwarden;

/// True for the header line of a Bitwarden CSV export.
pub(super) fn is_csv_header(line: &str) -> bool {
    line.split(',').any(|c| c.trim() == "login_totp")
}

/// Imports a Bitwarden JSON or CSV export.
pub(super) fn import(bytes: &[u8]) -> Result<ImportReport, ImportError> {
    let text = common::text(bytes, FORMAT)?;
    if text.trim_start().starts_with('{') {
        import_json(&common::json(bytes, FORMAT)?)
    } else {
        import_csv(text)
    }
}

fn import_json(file: &Value) -> Result<ImportReport, ImportError> {
    if file.get("encrypted").and_then(Value::as_bool) == Some(true) {
        return Err(malformed(
            FORMAT,
            "password-protected Bitwarden exports are not supported; export unencrypted JSON",
        ));
    }
    let folders: HashMap<&str, &str> = file
        .get("folders")
        .and_then(Value::as_array)
        .map(|f| {
            f.iter()
                .map(|f| (str_field(f, "id"), str_field(f, "name")))
                .collect()
        })
        .unwrap_or_default();
    let mut report = ImportReport::default();
    for (i, item) in common::array(file, "items", FORMAT)?.iter().enumerate() {
        let login = item.get("login").unwrap_or(&Value::Null);
        let totp = str_field(login, "totp");
        if totp.trim().is_empty() {
            continue;
        }
        let (name, username) = (str_field(item, "name"), str_field(login, "username"));
        let result = account(totp, name, username).map(|account| {
            let mut entry = AccountEntry::new(account);
            entry.note = str_field(item, "notes").to_owned();
            entry.favorite = item.get("favorite").and_then(Value::as_bool) == Some(true);
            if let Some(folder) = folders.get(str_field(item, "folderId")) {
                entry.groups.push((*folder).to_owned());
            }
            entry
        });
        report.push(common::label(name, username, i), result);
    }
    Ok(report)
}

fn import_csv(text: &str) -> Result<ImportReport, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|_| malformed(FORMAT, "no CSV header"))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let totp_col = column("login_totp").ok_or_else(|| malformed(FORMAT, "no login_totp column"))?;
    let (name_col, user_col) = (column("name"), column("login_username"));
    let (notes_col, fav_col, folder_col) = (column("notes"), column("favorite"), column("folder"));
    let mut report = ImportReport::default();
    for (i, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(_) => {
                report.push(format!("row {}", i + 2), Err("unreadable CSV row".into()));
                continue;
            }
        };
        let get = |col: Option<usize>| col.and_then(|c| record.get(c)).unwrap_or("");
        let totp = get(Some(totp_col));
        if totp.trim().is_empty() {
            continue;
        }
        let (name, username) = (get(name_col), get(user_col));
        let result = account(totp, name, username).map(|account| {
            let mut entry = AccountEntry::new(account);
            entry.note = get(notes_col).to_owned();
            entry.favorite = get(fav_col).trim() == "1";
            let folder = get(folder_col).trim();
            if !folder.is_empty() {
                entry.groups.push(folder.to_owned());
            }
            entry
        });
        report.push(common::label(name, username, i), result);
    }
    Ok(report)
}

/// The account of a TOTP field: a URI, or a bare Base32 secret named after the item.
fn account(totp: &str, item_name: &str, username: &str) -> Result<OtpAccount, String> {
    let totp = totp.trim();
    let lower = totp.get(..10).unwrap_or(totp).to_ascii_lowercase();
    if lower.starts_with("otpauth:") || lower.starts_with("steam:") {
        let mut account = uri::parse(totp).map_err(|e| e.to_string())?;
        if account.issuer.is_empty() {
            item_name.trim().clone_into(&mut account.issuer);
        }
        if account.name.is_empty() {
            username.trim().clone_into(&mut account.name);
        }
        return Ok(account);
    }
    common::account(
        item_name,
        username,
        common::base32(totp)?,
        Kind::Totp { period: 30 },
        Algorithm::Sha1,
        6,
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{B32, RAW};
    use super::*;

    #[test]
    fn minimal_json() {
        let file = format!(
            r#"{{"encrypted":false,"folders":[{{"id":"f","name":"Work"}}],"items":[
              {{"name":"Acme","notes":"n","favorite":true,"folderId":"f","login":{{"username":"alice","totp":"otpauth://totp/Acme:alice?secret={B32}"}}}},
              {{"name":"Site","login":{{"username":"bob","totp":"{B32}"}}}},
              {{"name":"No OTP","login":{{"username":"x","totp":null}}}},
              {{"name":"Card","type":3}}]}}"#
        );
        let report = import(file.as_bytes()).unwrap();
        assert_eq!(report.entries.len(), 2);
        assert!(report.skipped.is_empty());
        let e = &report.entries[0];
        assert_eq!(e.account.secret.expose(), RAW);
        assert_eq!((e.note.as_str(), e.favorite), ("n", true));
        assert_eq!(e.groups, ["Work"]);
        let bare = &report.entries[1].account;
        assert_eq!((bare.issuer.as_str(), bare.name.as_str()), ("Site", "bob"));
    }

    #[test]
    fn minimal_csv() {
        let file = format!(
            "folder,favorite,type,name,notes,fields,login_uri,login_username,login_password,login_totp\n\
             Work,1,login,Acme,,,,alice,,otpauth://totp/Acme:alice?secret={B32}\n\
             ,,login,Plain,,,,,,\n\
             ,,login,Valve,,,,,,steam://{B32}\n"
        );
        let report = import(file.as_bytes()).unwrap();
        assert_eq!(report.entries.len(), 2);
        assert!(report.entries[0].favorite);
        assert_eq!(report.entries[0].groups, ["Work"]);
        assert_eq!(report.entries[1].account.issuer, "Steam");
    }

    #[test]
    fn unsupported_type_is_skipped() {
        let file = format!("name,login_totp\nY,otpauth://yandex/y?secret={B32}\n");
        let report = import(file.as_bytes()).unwrap();
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].entry, "Y");
    }

    #[test]
    fn malformed_exports() {
        for bad in [
            &b"{\"items\":"[..],
            b"name,totp\n",
            b"{\"encrypted\":true,\"data\":\"x\"}",
            b"\xff",
        ] {
            assert!(matches!(import(bad), Err(ImportError::Malformed { .. })));
        }
    }
}
