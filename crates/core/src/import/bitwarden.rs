//! Bitwarden exports, JSON and CSV: logins whose TOTP field holds an `otpauth://` or
//! `steam://` URI, or a bare Base32 secret.
//!
//! Read: JSON `{encrypted, folders, items[{name, notes, favorite, folderId, login{username,
//! totp}}]}`, or CSV with a `login_totp` column. Decrypt: a password-protected export
//! (`{encrypted: true, passwordProtected: true, salt, kdfType, kdfIterations, kdfMemory,
//! kdfParallelism, encKeyValidation_DO_NOT_EDIT, data}`) holds the plain JSON export in `data`.
//! Its key is PBKDF2-HMAC-SHA256 (`kdfType` 0) of the password with the `salt` text as salt, or
//! Argon2id (`kdfType` 1, memory in MiB) with SHA-256 of the salt text, stretched by
//! HKDF-Expand-SHA256 into an encryption key (`"enc"`) and a MAC key (`"mac"`); the fields are
//! EncStrings of type 2, `2.IV|CIPHERTEXT|MAC` (Base64), AES-256-CBC with HMAC-SHA256 over IV
//! and ciphertext, the MAC checked before decrypting. `encKeyValidation_DO_NOT_EDIT` tells a
//! wrong password from a damaged file. An "account restricted" export (encrypted with the
//! account's key, which only Bitwarden's servers release) is refused with how to export with a
//! password instead. Convert: items without a TOTP value are logins, not accounts, and are
//! left out.

use std::collections::HashMap;

use serde_json::Value;
use zeroize::Zeroizing;

use super::common::{self, malformed, str_field, uint_field};
use super::{AccountEntry, Format, ImportError, ImportReport};
use crate::{Algorithm, Kind, OtpAccount, crypto, uri};

const FORMAT: Format = Format::Bitwarden;

/// True for the header line of a Bitwarden CSV export.
pub(super) fn is_csv_header(line: &str) -> bool {
    line.split(',').any(|c| c.trim() == "login_totp")
}

/// The most PBKDF2 iterations accepted: Bitwarden's own maximum, 2,000,000 (its default is
/// 600,000), about a second on a phone.
pub(super) const MAX_PBKDF2_ITERATIONS: u64 = 2_000_000;
/// The most Argon2id lanes accepted: Bitwarden's own maximum, 16.
pub(super) const MAX_ARGON2_PARALLELISM: u64 = 16;

/// Imports a Bitwarden JSON or CSV export; `password` opens a password-protected one.
pub(super) fn import(bytes: &[u8], password: Option<&[u8]>) -> Result<ImportReport, ImportError> {
    let text = common::text(bytes, FORMAT)?;
    if !text.trim_start().starts_with('{') {
        return import_csv(text);
    }
    let file = common::json(bytes, FORMAT)?;
    if file.get("encrypted").and_then(Value::as_bool) != Some(true) {
        return import_json(&file);
    }
    if file.get("passwordProtected").and_then(Value::as_bool) != Some(true) {
        return Err(malformed(
            FORMAT,
            "this export is \"account restricted\": it is encrypted with your Bitwarden \
             account's key, which no other app can have. In Bitwarden, export the vault again \
             as \".json (Encrypted)\" with the export type \"Password protected\" (or as plain \
             .json), and import that file with its password",
        ));
    }
    let plain = decrypt(&file, password)?;
    let inner: Value = serde_json::from_slice(&plain)
        .map_err(|_| malformed(FORMAT, "the decrypted data is not JSON"))?;
    if inner.get("encrypted").and_then(Value::as_bool) == Some(true) {
        return Err(malformed(FORMAT, "the decrypted data is encrypted again"));
    }
    import_json(&inner)
}

/// How the export's key is derived, read and capped before any work.
enum Kdf {
    Pbkdf2 {
        iterations: u32,
    },
    Argon2id {
        memory_kib: u32,
        iterations: u32,
        lanes: u32,
    },
}

fn kdf(file: &Value) -> Result<Kdf, ImportError> {
    let number = |key: &str| {
        uint_field(file, key)
            .map_err(|e| malformed(FORMAT, e))?
            .ok_or_else(|| malformed(FORMAT, format!("no {key}")))
    };
    let too_costly = |what: String| {
        malformed(
            FORMAT,
            format!("its key derivation asks for {what}, more than Twofold allows"),
        )
    };
    let iterations = number("kdfIterations")?;
    match number("kdfType")? {
        0 => {
            if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS {
                return Err(too_costly(format!(
                    "{iterations} PBKDF2 iterations (at most {MAX_PBKDF2_ITERATIONS})"
                )));
            }
            Ok(Kdf::Pbkdf2 {
                iterations: iterations as u32,
            })
        }
        1 => {
            let (memory_mib, lanes) = (number("kdfMemory")?, number("kdfParallelism")?);
            let memory_kib = memory_mib.saturating_mul(1024);
            if iterations == 0
                || !(1..=MAX_ARGON2_PARALLELISM).contains(&lanes)
                || memory_kib < 8 * lanes
                || !crypto::argon2_within_caps(memory_kib, iterations)
            {
                return Err(too_costly(format!(
                    "Argon2id with {memory_mib} MiB × {iterations} passes and {lanes} lanes \
                     (at most 1 GiB, 4 GiB × passes, 16 lanes)"
                )));
            }
            // Within the caps, each fits in u32.
            Ok(Kdf::Argon2id {
                memory_kib: memory_kib as u32,
                iterations: iterations as u32,
                lanes: lanes as u32,
            })
        }
        other => Err(malformed(
            FORMAT,
            format!("kdfType {other} is not one Bitwarden uses (0 PBKDF2, 1 Argon2id)"),
        )),
    }
}

/// An EncString of type 2: AES-256-CBC with HMAC-SHA256 (`2.IV|CT|MAC`, Base64 parts).
struct EncString {
    iv: Zeroizing<Vec<u8>>,
    ciphertext: Zeroizing<Vec<u8>>,
    mac: Zeroizing<Vec<u8>>,
}

impl EncString {
    fn parse(text: &str, field: &str) -> Result<Self, ImportError> {
        let bad = |why: &str| malformed(FORMAT, format!("{field} {why}"));
        let Some(rest) = text.strip_prefix("2.") else {
            return Err(match text.split_once('.') {
                Some((kind, _)) if kind.len() <= 2 => bad(&format!(
                    "is an EncString of type {kind}; Bitwarden's exports use type 2"
                )),
                _ => bad("is not an EncString"),
            });
        };
        let mut parts = rest.split('|').map(crypto::base64);
        let (Some(Some(iv)), Some(Some(ciphertext)), Some(Some(mac)), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("is not IV|ciphertext|MAC in Base64"));
        };
        if iv.len() != 16 || mac.len() != 32 || ciphertext.is_empty() || ciphertext.len() % 16 != 0
        {
            return Err(bad("has parts of the wrong length"));
        }
        Ok(EncString {
            iv,
            ciphertext,
            mac,
        })
    }

    /// The plaintext, after the MAC is checked (constant time); `None` when it does not match.
    fn open(&self, enc: &[u8], mac: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let mut signed = Zeroizing::new(Vec::with_capacity(16 + self.ciphertext.len()));
        signed.extend_from_slice(&self.iv);
        signed.extend_from_slice(&self.ciphertext);
        crypto::hmac_sha256_verify(mac, &signed, &self.mac).ok()?;
        crypto::aes_cbc_open(enc, &self.iv, &self.ciphertext).ok()
    }
}

/// The plain JSON export a password-protected one holds.
fn decrypt(file: &Value, password: Option<&[u8]>) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let kdf = kdf(file)?;
    let salt = str_field(file, "salt");
    if salt.is_empty() {
        return Err(malformed(FORMAT, "no salt"));
    }
    let check = EncString::parse(
        str_field(file, "encKeyValidation_DO_NOT_EDIT"),
        "encKeyValidation_DO_NOT_EDIT",
    )?;
    let data = EncString::parse(str_field(file, "data"), "data")?;
    let password = password.ok_or(ImportError::PasswordRequired)?;
    let key = match kdf {
        Kdf::Pbkdf2 { iterations } => crypto::pbkdf2(true, password, salt.as_bytes(), iterations),
        Kdf::Argon2id {
            memory_kib,
            iterations,
            lanes,
        } => {
            let salt = ring::digest::digest(&ring::digest::SHA256, salt.as_bytes());
            crypto::argon2id(password, salt.as_ref(), memory_kib, iterations, lanes)
                .ok_or_else(|| malformed(FORMAT, "Argon2id refused the parameters"))?
        }
    };
    let enc = crypto::hkdf_sha256_expand(&key[..], b"enc");
    let mac = crypto::hkdf_sha256_expand(&key[..], b"mac");
    check
        .open(&enc[..], &mac[..])
        .ok_or(ImportError::WrongPassword)?;
    data.open(&enc[..], &mac[..]).ok_or_else(|| {
        malformed(
            FORMAT,
            "the data does not match the export's key (the file is damaged)",
        )
    })
}

fn import_json(file: &Value) -> Result<ImportReport, ImportError> {
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
        let report = import(file.as_bytes(), None).unwrap();
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
        let report = import(file.as_bytes(), None).unwrap();
        assert_eq!(report.entries.len(), 2);
        assert!(report.entries[0].favorite);
        assert_eq!(report.entries[0].groups, ["Work"]);
        assert_eq!(report.entries[1].account.issuer, "Steam");
    }

    #[test]
    fn unsupported_type_is_skipped() {
        let file = format!("name,login_totp\nY,otpauth://yandex/y?secret={B32}\n");
        let report = import(file.as_bytes(), None).unwrap();
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
            assert!(matches!(
                import(bad, None),
                Err(ImportError::Malformed { .. })
            ));
        }
    }

    fn enc_string(enc: &[u8], mac: &[u8], iv: [u8; 16], plain: &[u8]) -> String {
        use base64::Engine;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let ct = crypto::aes_cbc_seal(enc, &iv, plain);
        let signed = [&iv[..], &ct].concat();
        format!(
            "2.{}|{}|{}",
            b64(&iv),
            b64(&ct),
            b64(&crypto::hmac_sha256(mac, &signed))
        )
    }

    /// A password-protected export (PBKDF2, 5,000 iterations) of a one-account plain export.
    fn protected(password: &[u8]) -> Value {
        let salt = "c2FsdHlzYWx0";
        let key = crypto::pbkdf2(true, password, salt.as_bytes(), 5000);
        let enc = crypto::hkdf_sha256_expand(&key[..], b"enc");
        let mac = crypto::hkdf_sha256_expand(&key[..], b"mac");
        let plain = format!(
            r#"{{"encrypted":false,"items":[{{"name":"Acme","login":{{"username":"a","totp":"{B32}"}}}}]}}"#
        );
        serde_json::json!({
            "encrypted": true, "passwordProtected": true, "salt": salt,
            "kdfType": 0, "kdfIterations": 5000, "kdfMemory": null, "kdfParallelism": null,
            "encKeyValidation_DO_NOT_EDIT": enc_string(&enc[..], &mac[..], [1; 16], b"check"),
            "data": enc_string(&enc[..], &mac[..], [2; 16], plain.as_bytes()),
        })
    }

    #[test]
    fn password_protected_json() {
        let file = protected(b"pw").to_string();
        super::super::test_support::assert_encrypted_file(file.as_bytes(), FORMAT, 1);
    }

    #[test]
    fn flipped_bytes_fail_the_mac_not_into_garbage() {
        let file = protected(b"pw");
        let flip = |field: &str, part: usize| {
            let mut f = file.clone();
            let text = f[field].as_str().unwrap().to_owned();
            let (kind, rest) = text.split_once('.').unwrap();
            let mut parts: Vec<Vec<u8>> = rest
                .split('|')
                .map(|p| crypto::base64(p).unwrap().to_vec())
                .collect();
            parts[part][3] ^= 0x40;
            use base64::Engine;
            let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
            let joined: Vec<String> = parts.iter().map(|p| b64(p)).collect();
            f[field] = format!("{kind}.{}", joined.join("|")).into();
            import(f.to_string().as_bytes(), Some(b"pw")).err()
        };
        for part in 0..3 {
            // The data: the key checked out, so the file is damaged.
            let err = flip("data", part).unwrap();
            assert!(err.to_string().contains("damaged"), "{err}");
            // The key check: indistinguishable from a wrong password.
            assert_eq!(
                flip("encKeyValidation_DO_NOT_EDIT", part),
                Some(ImportError::WrongPassword)
            );
        }
    }

    #[test]
    fn hostile_costs_are_refused_before_deriving() {
        let file = protected(b"pw");
        let start = std::time::Instant::now();
        let cases: [&[(&str, Value)]; 7] = [
            &[("kdfIterations", 2_000_001.into())],
            &[("kdfIterations", u64::MAX.into())],
            &[("kdfIterations", 0.into())],
            // Argon2id: 4 GiB of memory, 1 GiB × 10 passes, 64 lanes, an unknown KDF.
            &[
                ("kdfType", 1.into()),
                ("kdfIterations", 3.into()),
                ("kdfMemory", 4096.into()),
                ("kdfParallelism", 4.into()),
            ],
            &[
                ("kdfType", 1.into()),
                ("kdfIterations", 10.into()),
                ("kdfMemory", 1024.into()),
                ("kdfParallelism", 4.into()),
            ],
            &[
                ("kdfType", 1.into()),
                ("kdfIterations", 3.into()),
                ("kdfMemory", 64.into()),
                ("kdfParallelism", 64.into()),
            ],
            &[("kdfType", 7.into())],
        ];
        for case in cases {
            let mut hostile = file.clone();
            for (k, v) in case {
                hostile[*k] = v.clone();
            }
            for password in [Some(&b"pw"[..]), None] {
                assert!(
                    matches!(
                        import(hostile.to_string().as_bytes(), password),
                        Err(ImportError::Malformed { .. })
                    ),
                    "{case:?}"
                );
            }
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn account_restricted_export_says_how_to_export_with_a_password() {
        let file = br#"{"encrypted":true,"encKeyValidation_DO_NOT_EDIT":"2.AA==|AA==|AA==","folders":[],"items":[]}"#;
        assert_eq!(super::super::detect(file), Some(FORMAT));
        let err = import(file, Some(b"pw")).unwrap_err();
        assert!(err.to_string().contains("Password protected"), "{err}");
    }

    #[test]
    fn other_enc_string_types_are_named() {
        let mut file = protected(b"pw");
        file["data"] = "0.AAAA|AAAA".into();
        let err = import(file.to_string().as_bytes(), Some(b"pw")).unwrap_err();
        assert!(err.to_string().contains("type 0"), "{err}");
    }
}
