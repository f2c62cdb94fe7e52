//! Text exports with one URI a line: plain `otpauth://` lists, Ente Auth's plain export (the
//! same with a `codeDisplay` JSON parameter), and Google Authenticator's
//! `otpauth-migration://` lines.

use std::collections::BTreeMap;

use super::common::{malformed, text};
use super::{AccountEntry, Format, ImportError, ImportReport, Skipped};
use crate::migration::{self, BatchProgress};
use crate::uri::{self, excerpt, query_pairs, split_scheme};

/// The non-empty lines of the file with their 1-based numbers.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
}

/// True when a line of the text carries Ente Auth's `codeDisplay` parameter.
pub(super) fn has_ente_metadata(text: &str) -> bool {
    text.lines().any(|l| code_display(l).is_some())
}

/// One URI a line (`otpauth://`, `steam://`; `otpauth-migration://` lines are expanded too).
pub(super) fn import_list(bytes: &[u8]) -> Result<ImportReport, ImportError> {
    read_lines(bytes, Format::OtpauthList)
}

/// Ente Auth's plain export (also what its encrypted export holds, see [`super::ente`]): URIs
/// whose `codeDisplay` holds pinned, trashed, tags and note.
pub(super) fn import_ente(bytes: &[u8]) -> Result<ImportReport, ImportError> {
    read_lines(bytes, Format::Ente)
}

fn read_lines(bytes: &[u8], format: Format) -> Result<ImportReport, ImportError> {
    let text = text(bytes, format)?;
    let mut report = ImportReport::default();
    let mut migration_lines = Vec::new();
    let mut any = false;
    for (number, line) in lines(text) {
        any = true;
        let lower = line.get(..20).unwrap_or(line).to_ascii_lowercase();
        if lower.starts_with("otpauth-migration:") {
            migration_lines.push((number, line));
            continue;
        }
        let entry = format!("line {number}");
        let result = uri::parse(line)
            .map_err(|e| e.to_string())
            .map(|account| with_ente_metadata(AccountEntry::new(account), line));
        // Through the report's own caps (entries per file, label and note sizes).
        report.push(
            entry,
            result.and_then(|e| e.ok_or_else(|| "in Ente Auth's trash".to_owned())),
        );
    }
    if !any {
        return Err(malformed(format, "the file holds no URI"));
    }
    read_migration_lines(&migration_lines, &mut report);
    Ok(report)
}

/// The decoded `codeDisplay` JSON of an Ente Auth URI.
fn code_display(line: &str) -> Option<serde_json::Value> {
    let (_, rest) = split_scheme(line)?;
    let (_, query) = rest.split_once('?')?;
    let raw = query_pairs(query)
        .into_iter()
        .find(|(k, _)| k == "codedisplay")?
        .1;
    let decoded = percent_encoding::percent_decode_str(&raw.replace('+', " "))
        .decode_utf8()
        .ok()?
        .into_owned();
    serde_json::from_str(&decoded).ok()
}

/// Applies Ente's metadata; `None` for a trashed entry.
fn with_ente_metadata(mut entry: AccountEntry, line: &str) -> Option<AccountEntry> {
    let Some(display) = code_display(line) else {
        return Some(entry);
    };
    if display.get("trashed").and_then(|v| v.as_bool()) == Some(true) {
        return None;
    }
    entry.favorite = display.get("pinned").and_then(|v| v.as_bool()) == Some(true);
    entry.note = super::common::str_field(&display, "note").to_owned();
    if let Some(tags) = display.get("tags").and_then(|v| v.as_array()) {
        entry.groups = tags
            .iter()
            .filter_map(|t| t.as_str())
            .map(str::to_owned)
            .collect();
    }
    Some(entry)
}

/// Lines of `otpauth-migration://` URIs (one Google Authenticator export, in one or more QR
/// codes).
pub(super) fn import_migration(bytes: &[u8]) -> Result<ImportReport, ImportError> {
    let text = text(bytes, Format::GoogleMigration)?;
    let all: Vec<(usize, &str)> = lines(text).collect();
    if all.is_empty() {
        return Err(malformed(Format::GoogleMigration, "the file holds no URI"));
    }
    let mut report = ImportReport::default();
    let found = read_migration_lines(&all, &mut report);
    if found == 0 {
        return Err(malformed(
            Format::GoogleMigration,
            "no line is an otpauth-migration:// URI",
        ));
    }
    Ok(report)
}

/// Reads migration lines into the report; returns how many were valid batches. Unreadable
/// lines, bad entries and QR codes missing from a multi-QR export are reported as skipped.
fn read_migration_lines(lines: &[(usize, &str)], report: &mut ImportReport) -> usize {
    let mut progress: BTreeMap<i32, BatchProgress> = BTreeMap::new();
    let mut valid = 0;
    for &(number, line) in lines {
        let batch = match migration::parse_uri(line) {
            Ok(batch) => batch,
            Err(e) => {
                report.push(format!("line {number}"), Err(e.to_string()));
                continue;
            }
        };
        valid += 1;
        match progress.get_mut(&batch.batch_id) {
            Some(p) => {
                // Same batch id, so this cannot be another export.
                let _ = p.add(&batch);
            }
            None => {
                progress.insert(batch.batch_id, BatchProgress::new(&batch));
            }
        }
        for (i, entry) in batch.entries.into_iter().enumerate() {
            let name = format!("line {number}, account {}", i + 1);
            report.push(
                name,
                entry.map(AccountEntry::new).map_err(|e| e.to_string()),
            );
        }
    }
    for p in progress.values().filter(|p| !p.is_complete()) {
        let missing: Vec<String> = p.missing().iter().map(|i| (i + 1).to_string()).collect();
        report.skipped.push(Skipped {
            entry: format!(
                "QR code(s) {} of {}",
                excerpt(&missing.join(", ")),
                p.batch_size()
            ),
            reason: "missing from the file: their accounts were not imported".to_owned(),
        });
    }
    valid
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{B32, RAW};
    use super::*;
    use crate::{Algorithm, Kind, OtpAccount, OtpParams, Secret};

    #[test]
    fn minimal_list() {
        let text = format!("otpauth://totp/Acme:alice?secret={B32}&issuer=Acme\n\nsteam://{B32}\n");
        let report = import_list(text.as_bytes()).unwrap();
        assert!(report.skipped.is_empty());
        assert_eq!(report.entries.len(), 2);
        let a = &report.entries[0].account;
        assert_eq!((a.issuer.as_str(), a.name.as_str()), ("Acme", "alice"));
        assert_eq!(a.secret.expose(), RAW);
        assert_eq!(report.entries[1].account.params.kind().type_name(), "steam");
    }

    #[test]
    fn malformed_list() {
        assert!(matches!(
            import_list(b"\n \n"),
            Err(ImportError::Malformed { .. })
        ));
        assert!(matches!(
            import_list(b"\xff\xfe"),
            Err(ImportError::Malformed { .. })
        ));
    }

    #[test]
    fn unsupported_and_broken_lines_are_skipped() {
        let text = format!(
            "otpauth://yandex/a?secret={B32}\nmotp://x?secret=00\nhello\notpauth://totp/b?secret={B32}"
        );
        let report = import_list(text.as_bytes()).unwrap();
        assert_eq!(report.entries.len(), 1);
        let lines: Vec<&str> = report.skipped.iter().map(|s| s.entry.as_str()).collect();
        assert_eq!(lines, ["line 1", "line 2", "line 3"]);
        assert!(report.skipped[0].reason.contains("unsupported OTP type"));
    }

    #[test]
    fn ente_metadata() {
        let display = |json: &str| {
            percent_encoding::utf8_percent_encode(json, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
        };
        let text = format!(
            "otpauth://totp/A:a?secret={B32}&codeDisplay={}\notpauth://totp/B:b?secret={B32}&codeDisplay={}\n",
            display(r#"{"pinned":true,"trashed":false,"tags":["work"],"note":"n"}"#),
            display(r#"{"pinned":false,"trashed":true,"tags":[]}"#),
        );
        assert_eq!(super::super::detect(text.as_bytes()), Some(Format::Ente));
        let report = import_ente(text.as_bytes()).unwrap();
        assert_eq!(report.entries.len(), 1);
        let e = &report.entries[0];
        assert!(e.favorite);
        assert_eq!(e.groups, ["work"]);
        assert_eq!(e.note, "n");
        assert_eq!(report.skipped.len(), 1);
        assert!(report.skipped[0].reason.contains("trash"));
    }

    fn account(name: &str) -> OtpAccount {
        OtpAccount {
            issuer: "Acme".into(),
            name: name.into(),
            secret: Secret::from_bytes(RAW.to_vec()),
            params: OtpParams::new(Kind::Totp { period: 30 }, Algorithm::Sha1, 6).unwrap(),
        }
    }

    #[test]
    fn migration_lines_and_missing_batches() {
        let accounts: Vec<OtpAccount> = (0..12).map(|i| account(&format!("u{i}"))).collect();
        let export = migration::write(&accounts, 7);
        assert_eq!(export.uris.len(), 2);
        let all = format!("{}\n{}\n", *export.uris[0], *export.uris[1]);
        let report = import_migration(all.as_bytes()).unwrap();
        assert_eq!(report.entries.len(), 12);
        assert!(report.skipped.is_empty());

        let first_only = format!("{}\nnot a uri\n", *export.uris[0]);
        let report = import_migration(first_only.as_bytes()).unwrap();
        assert_eq!(report.entries.len(), 10);
        assert_eq!(report.skipped.len(), 2, "{:?}", report.skipped);
        assert!(report.skipped[1].entry.contains("QR code(s) 2 of 2"));

        assert!(matches!(
            import_migration(b"otpauth://totp/a?secret=AAAA"),
            Err(ImportError::Malformed { .. })
        ));
    }
}
