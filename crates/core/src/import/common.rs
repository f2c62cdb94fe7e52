//! Helpers shared by the importers: reading loosely typed JSON fields, building accounts, and
//! filling a report.

use serde_json::Value;

use super::{AccountEntry, Format, ImportError, ImportReport, Skipped};
use crate::uri::excerpt;
use crate::{Algorithm, Kind, OtpAccount, OtpParams, Secret};

/// A whole-file error for `format`.
pub(super) fn malformed(format: Format, reason: impl Into<String>) -> ImportError {
    ImportError::Malformed {
        format: format.name(),
        reason: reason.into(),
    }
}

/// The file as UTF-8 text, without a byte-order mark.
pub(super) fn text(bytes: &[u8], format: Format) -> Result<&str, ImportError> {
    std::str::from_utf8(bytes)
        .map(|t| t.trim_start_matches('\u{feff}'))
        .map_err(|_| malformed(format, "the file is not UTF-8 text"))
}

/// The file as JSON, refused before parsing when it holds more than [`MAX_JSON_VALUES`].
pub(super) fn json(bytes: &[u8], format: Format) -> Result<Value, ImportError> {
    json_text(text(bytes, format)?, format)
}

/// JSON text (a whole file, or a document inside one), refused before parsing when it holds
/// more than [`MAX_JSON_VALUES`] values.
pub(super) fn json_text(text: &str, format: Format) -> Result<Value, ImportError> {
    json_bounded(text.as_bytes(), format)?;
    serde_json::from_str(text).map_err(|e| {
        // Only the error's category: its message could quote the content.
        let what = match e.classify() {
            serde_json::error::Category::Eof => "truncated",
            serde_json::error::Category::Data => "unexpected data",
            _ => "syntax error",
        };
        malformed(format, format!("not valid JSON ({what})"))
    })
}

/// Refuses JSON text of more than [`MAX_JSON_VALUES`] values, before it is parsed.
pub(super) fn json_bounded(text: &[u8], format: Format) -> Result<(), ImportError> {
    if json_values(text) > MAX_JSON_VALUES {
        return Err(malformed(
            format,
            format!(
                "it holds more than {MAX_JSON_VALUES} JSON values; no export of at most {MAX_ENTRIES} accounts does"
            ),
        ));
    }
    Ok(())
}

/// An upper bound of the number of values in JSON text, in one pass without allocating:
/// every value but the first follows a `,`, a `[` or a `:` outside strings.
pub(super) fn json_values(text: &[u8]) -> usize {
    let mut count = 1;
    let mut in_string = false;
    let mut escaped = false;
    for &b in text {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b',' | b'[' | b':' => count += 1,
                _ => {}
            }
        }
    }
    count
}

/// A string field, `""` when absent, null or not a string.
pub(super) fn str_field<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A non-negative integer field, also accepted as a numeric string or a float without fraction;
/// `Ok(None)` when absent or null.
pub(super) fn uint_field(v: &Value, key: &str) -> Result<Option<u64>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1e18)
                    .map(|f| f as u64)
            })
            .map(Some)
            .ok_or_else(|| format!("{key} is not a valid number")),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{key} is not a valid number: {:?}", excerpt(s))),
        Some(_) => Err(format!("{key} is not a number")),
    }
}

/// A `u32` field (digits, period).
pub(super) fn u32_field(v: &Value, key: &str) -> Result<Option<u32>, String> {
    match uint_field(v, key)? {
        None => Ok(None),
        Some(n) => u32::try_from(n)
            .map(Some)
            .map_err(|_| format!("{key} is out of range")),
    }
}

/// An algorithm name, SHA1 when empty.
pub(super) fn algorithm(name: &str) -> Result<Algorithm, String> {
    if name.trim().is_empty() {
        return Ok(Algorithm::Sha1);
    }
    Algorithm::parse(name).ok_or_else(|| format!("unsupported algorithm {:?}", excerpt(name)))
}

/// A Base32 secret.
pub(super) fn base32(text: &str) -> Result<Secret, String> {
    Secret::from_base32(text).map_err(|e| e.to_string())
}

/// The kind named `type_name` (`totp`, `hotp`, `steam` in any case); others are unsupported.
pub(super) fn kind(
    type_name: &str,
    period: Option<u32>,
    counter: Option<u64>,
) -> Result<Kind, String> {
    match type_name.trim().to_ascii_lowercase().as_str() {
        "totp" => Ok(Kind::Totp {
            period: period.unwrap_or(30),
        }),
        "hotp" => Ok(Kind::Hotp {
            counter: counter.unwrap_or(0),
        }),
        "steam" => Ok(Kind::Steam {
            period: period.unwrap_or(30),
        }),
        other => Err(format!("unsupported OTP type {:?}", excerpt(other))),
    }
}

/// An account from its parts, with parameters checked.
pub(super) fn account(
    issuer: &str,
    name: &str,
    secret: Secret,
    kind: Kind,
    algorithm: Algorithm,
    digits: u32,
) -> Result<OtpAccount, String> {
    let params = match kind {
        // Steam is always SHA-1 with 5 characters, whatever the file claims.
        Kind::Steam { period } => OtpParams::steam(period),
        _ => OtpParams::new(kind, algorithm, digits),
    }
    .map_err(|e| e.to_string())?;
    if secret.expose().is_empty() {
        return Err("the secret is empty".to_owned());
    }
    Ok(OtpAccount {
        issuer: issuer.trim().to_owned(),
        name: name.trim().to_owned(),
        secret,
        params,
    })
}

/// How an entry is named in a skipped list: `issuer (name)`, or its 1-based position.
pub(super) fn label(issuer: &str, name: &str, index: usize) -> String {
    let (issuer, name) = (issuer.trim(), name.trim());
    match (issuer.is_empty(), name.is_empty()) {
        (false, false) => format!("{} ({})", excerpt(issuer), excerpt(name)),
        (false, true) => excerpt(issuer),
        (true, false) => excerpt(name),
        (true, true) => format!("entry {}", index + 1),
    }
}

/// The most accounts taken from one file: the vault's own limit (`docs/vault.md`, "Limits");
/// further entries are reported as skipped.
pub const MAX_ENTRIES: usize = 100_000;
/// The most entries listed as skipped, one by one; one more line says that the list stops
/// there. A hostile file of millions of empty entries must not cost a report line each.
pub const MAX_SKIPPED: usize = MAX_ENTRIES;
/// The most JSON values (objects, arrays, numbers, strings...) in one file, counted before it
/// is parsed: forty per account of the largest file. A parsed value takes about 32 bytes
/// whatever its text, so `[0,0,0,...]` would cost sixteen times the file's size.
pub const MAX_JSON_VALUES: usize = 40 * MAX_ENTRIES;
/// The longest note taken: 64 KiB. Apps keep a line or a paragraph there; a 60 MB note made
/// a vault that no longer opened.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;
/// The longest issuer, account name or group name taken: 1 KiB, far beyond any real label
/// (an otpauth URI's label is typically under 100 bytes).
pub const MAX_LABEL_BYTES: usize = 1024;

/// Why an entry is too large to take, if it is.
fn too_large(e: &AccountEntry) -> Option<String> {
    if e.note.len() > MAX_NOTE_BYTES {
        return Some(format!(
            "the note is {} bytes long; at most {MAX_NOTE_BYTES} are kept",
            e.note.len()
        ));
    }
    let labels = [&e.account.issuer, &e.account.name];
    if labels
        .into_iter()
        .chain(&e.groups)
        .any(|l| l.len() > MAX_LABEL_BYTES)
    {
        return Some(format!(
            "an issuer, name or group is longer than {MAX_LABEL_BYTES} bytes"
        ));
    }
    None
}

impl ImportReport {
    /// Records one entry: taken, or skipped with its reason (its own, or a size limit).
    pub(super) fn push(&mut self, entry: String, result: Result<AccountEntry, String>) {
        let result = result.and_then(|e| match too_large(&e) {
            Some(reason) => Err(reason),
            None if self.entries.len() >= MAX_ENTRIES => Err(format!(
                "more than {MAX_ENTRIES} accounts in one file (a vault's limit)"
            )),
            None => Ok(e),
        });
        match result {
            Ok(e) => self.entries.push(e),
            Err(reason) if self.skipped.len() < MAX_SKIPPED => self.skipped.push(Skipped {
                entry: cap_label(entry),
                reason,
            }),
            Err(_) if self.skipped.len() == MAX_SKIPPED => self.skipped.push(Skipped {
                entry: "later entries".to_owned(),
                reason: format!(
                    "more than {MAX_SKIPPED} entries could not be taken; the rest are not listed"
                ),
            }),
            // Listed once above: a file of millions of bad entries costs no memory a piece.
            Err(_) => {}
        }
    }
}

/// An entry's label for the report, cut to [`MAX_LABEL_BYTES`] (at a character boundary).
fn cap_label(mut label: String) -> String {
    if label.len() > MAX_LABEL_BYTES {
        let mut end = MAX_LABEL_BYTES;
        while !label.is_char_boundary(end) {
            end -= 1;
        }
        label.truncate(end);
        label.push('…');
    }
    label
}

/// The JSON array at `key`, or an error naming it.
pub(super) fn array<'a>(
    v: &'a Value,
    key: &str,
    format: Format,
) -> Result<&'a Vec<Value>, ImportError> {
    v.get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| malformed(format, format!("no {key} array")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_values_are_counted_outside_strings_and_capped_before_parsing() {
        assert_eq!(json_values(b"0"), 1);
        assert_eq!(json_values(br#"{"a":[1,2,{}],"b":"x,y:[\",z"}"#), 7);
        let many = format!("[{}0]", "0,".repeat(MAX_JSON_VALUES));
        let e = json(many.as_bytes(), Format::TwoFas)
            .unwrap_err()
            .to_string();
        assert!(e.contains("JSON values"), "{e}");
    }

    #[test]
    fn skipped_entries_are_listed_up_to_the_cap() {
        let mut report = ImportReport::default();
        for i in 0..MAX_SKIPPED + 10 {
            report.push(format!("entry {i}"), Err("bad".to_owned()));
        }
        assert_eq!(report.skipped.len(), MAX_SKIPPED + 1);
        assert!(report.skipped[MAX_SKIPPED].reason.contains("not listed"));
    }
}
