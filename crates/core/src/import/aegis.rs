//! Aegis vaults (`aegis-export.json`, `aegis-backup-*.json`), plain or encrypted.
//!
//! Read: `{version: 1, header: {slots, params}, db}`. Decrypt: a password slot (type 1) derives
//! an AES-256-GCM key with scrypt that unwraps the master key; the master key opens `db`.
//! Convert: content versions 1–3; groups are a `group` string in v2 and uuids in v3.

use std::collections::HashMap;

use serde_json::Value;
use zeroize::Zeroizing;

use super::common::{self, malformed, str_field, u32_field, uint_field};
use super::{AccountEntry, Format, ImportError, ImportReport};
use crate::crypto;

const FORMAT: Format = Format::Aegis;
/// The largest scrypt N accepted, as log2 (Aegis uses 2^15).
const MAX_LOG_N: u8 = 20;
/// The most memory one scrypt derivation may take, 128·N·r bytes: 256 MiB (Aegis's own
/// N=2^15, r=8 takes 32 MiB). N=2^20, r=32 would ask for 4 GiB and abort the process.
pub(super) const MAX_SCRYPT_MEMORY: u64 = 256 * 1024 * 1024;
/// The most scrypt work, N·r·p: 2^22, sixteen times Aegis's N=2^15, r=8, p=1, about a second
/// on a phone. N·r·p is proportional to the time a derivation takes.
pub(super) const MAX_SCRYPT_WORK: u64 = 1 << 22;
/// The most password slots tried: each costs a derivation. Aegis writes one per password
/// (users have one, rarely two); a file listing more is refused before any is tried.
pub(super) const MAX_PASSWORD_SLOTS: usize = 4;

/// Imports an Aegis vault.
pub(super) fn import(bytes: &[u8], password: Option<&[u8]>) -> Result<ImportReport, ImportError> {
    let file = common::json(bytes, FORMAT)?;
    let version = uint_field(&file, "version").map_err(|e| malformed(FORMAT, e))?;
    if version != Some(1) {
        return Err(malformed(FORMAT, "unsupported vault version"));
    }
    let header = file
        .get("header")
        .ok_or_else(|| malformed(FORMAT, "no header"))?;
    let db = file.get("db").ok_or_else(|| malformed(FORMAT, "no db"))?;
    match db {
        Value::Object(_) => convert(db),
        Value::String(text) => {
            let password = password.ok_or(ImportError::PasswordRequired)?;
            let content = decrypt(header, text, password)?;
            common::json_bounded(&content, FORMAT)?;
            let content: Value = serde_json::from_slice(&content)
                .map_err(|_| malformed(FORMAT, "the decrypted vault is not JSON"))?;
            convert(&content)
        }
        _ => Err(malformed(FORMAT, "db is neither an object nor a string")),
    }
}

fn field_bytes(v: &Value, key: &str) -> Result<Vec<u8>, ImportError> {
    crypto::hex(str_field(v, key)).ok_or_else(|| malformed(FORMAT, format!("{key} is not hex")))
}

/// Unwraps the master key with the first password slot the password opens, then opens `db`.
fn decrypt(header: &Value, db: &str, password: &[u8]) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let slots = common::array(header, "slots", FORMAT)?;
    let mut master = None;
    let mut password_slots = 0;
    if slots
        .iter()
        .filter(|s| uint_field(s, "type") == Ok(Some(1)))
        .count()
        > MAX_PASSWORD_SLOTS
    {
        return Err(malformed(
            FORMAT,
            format!("the vault lists more than {MAX_PASSWORD_SLOTS} password slots"),
        ));
    }
    for slot in slots
        .iter()
        .filter(|s| uint_field(s, "type") == Ok(Some(1)))
    {
        password_slots += 1;
        if let Some(key) = unwrap_slot(slot, password)? {
            master = Some(key);
            break;
        }
    }
    if password_slots == 0 {
        return Err(malformed(FORMAT, "the vault has no password slot"));
    }
    let master = master.ok_or(ImportError::WrongPassword)?;

    let params = header
        .get("params")
        .ok_or_else(|| malformed(FORMAT, "no header params"))?;
    let nonce = field_bytes(params, "nonce")?;
    let tag = field_bytes(params, "tag")?;
    let mut sealed = crypto::base64(db).ok_or_else(|| malformed(FORMAT, "db is not Base64"))?;
    sealed.extend_from_slice(&tag);
    crypto::aes_gcm_open(&master, &nonce, &sealed)
        .map_err(|_| malformed(FORMAT, "the vault's data does not match its key (damaged)"))
}

/// The master key in a password slot; `None` when the password does not open it.
fn unwrap_slot(slot: &Value, password: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>, ImportError> {
    let number = |key: &str| {
        uint_field(slot, key)
            .ok()
            .flatten()
            .ok_or_else(|| malformed(FORMAT, format!("slot has no valid {key}")))
    };
    let (n, r, p) = (number("n")?, number("r")?, number("p")?);
    if !n.is_power_of_two() || n < 2 {
        return Err(malformed(FORMAT, "scrypt n is not a power of two"));
    }
    let log_n = n.trailing_zeros() as u8;
    if log_n > MAX_LOG_N || r == 0 || r > 32 || p == 0 || p > 16 {
        return Err(malformed(FORMAT, "scrypt parameters out of range"));
    }
    // n ≤ 2^20, r ≤ 32, p ≤ 16 here: the products fit in u64.
    if 128 * n * r > MAX_SCRYPT_MEMORY || n * r * p > MAX_SCRYPT_WORK {
        return Err(malformed(
            FORMAT,
            "the scrypt parameters ask for more memory or time than Aegis ever uses",
        ));
    }
    let salt = field_bytes(slot, "salt")?;
    let mut wrapped = field_bytes(slot, "key")?;
    let key_params = slot
        .get("key_params")
        .ok_or_else(|| malformed(FORMAT, "slot has no key_params"))?;
    let nonce = field_bytes(key_params, "nonce")?;
    wrapped.extend_from_slice(&field_bytes(key_params, "tag")?);
    let derived = crypto::scrypt(password, &salt, log_n, r as u32, p as u32)
        .ok_or_else(|| malformed(FORMAT, "scrypt parameters refused"))?;
    Ok(crypto::aes_gcm_open(&derived[..], &nonce, &wrapped).ok())
}

/// The entries of a (decrypted) vault content.
fn convert(content: &Value) -> Result<ImportReport, ImportError> {
    let version = uint_field(content, "version")
        .map_err(|e| malformed(FORMAT, e))?
        .unwrap_or(1);
    if !(1..=3).contains(&version) {
        return Err(malformed(
            FORMAT,
            format!("content version {version} is not supported (1 to 3 are)"),
        ));
    }
    let groups: HashMap<&str, &str> = content
        .get("groups")
        .and_then(Value::as_array)
        .map(|groups| {
            groups
                .iter()
                .map(|g| (str_field(g, "uuid"), str_field(g, "name")))
                .collect()
        })
        .unwrap_or_default();
    let mut report = ImportReport::default();
    for (i, entry) in common::array(content, "entries", FORMAT)?
        .iter()
        .enumerate()
    {
        let label = common::label(str_field(entry, "issuer"), str_field(entry, "name"), i);
        report.push(label, convert_entry(entry, &groups));
    }
    Ok(report)
}

fn convert_entry(entry: &Value, groups: &HashMap<&str, &str>) -> Result<AccountEntry, String> {
    let info = entry.get("info").ok_or("no info")?;
    let kind = common::kind(
        str_field(entry, "type"),
        u32_field(info, "period")?,
        uint_field(info, "counter")?,
    )?;
    let account = common::account(
        str_field(entry, "issuer"),
        str_field(entry, "name"),
        common::base32(str_field(info, "secret"))?,
        kind,
        common::algorithm(str_field(info, "algo"))?,
        u32_field(info, "digits")?.unwrap_or(6),
    )?;
    let mut imported = AccountEntry::new(account);
    imported.note = str_field(entry, "note").to_owned();
    imported.favorite = entry.get("favorite").and_then(Value::as_bool) == Some(true);
    // v3: uuids of the content's groups; v2: one group name.
    if let Some(ids) = entry.get("groups").and_then(Value::as_array) {
        for id in ids.iter().filter_map(Value::as_str) {
            let name = groups.get(id).copied().unwrap_or(id);
            imported.groups.push(name.to_owned());
        }
    }
    let group = str_field(entry, "group");
    if !group.is_empty() && !imported.groups.iter().any(|g| g == group) {
        imported.groups.push(group.to_owned());
    }
    Ok(imported)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{B32, RAW};
    use super::*;
    use crate::Kind;

    fn content() -> String {
        format!(
            r#"{{"version":3,"groups":[{{"uuid":"g1","name":"Work"}}],"entries":[
            {{"type":"totp","name":"alice","issuer":"Acme","note":"hi","favorite":true,
              "groups":["g1"],"info":{{"secret":"{B32}","algo":"SHA256","digits":7,"period":20}}}},
            {{"type":"hotp","name":"bob","issuer":"","info":{{"secret":"{B32}","algo":"SHA1","digits":6,"counter":5}}}},
            {{"type":"motp","name":"m","issuer":"X","info":{{"secret":"{B32}","pin":"1234"}}}},
            {{"type":"yandex","name":"y","issuer":"Y","info":{{"secret":"{B32}","pin":"1234"}}}}]}}"#
        )
    }

    fn plain() -> String {
        format!(
            r#"{{"version":1,"header":{{"slots":null,"params":null}},"db":{}}}"#,
            content()
        )
    }

    #[test]
    fn minimal_plain_vault() {
        let report = import(plain().as_bytes(), None).unwrap();
        assert_eq!(report.entries.len(), 2);
        let e = &report.entries[0];
        assert_eq!(e.account.secret.expose(), RAW);
        assert_eq!(e.account.params.digits(), 7);
        assert_eq!(e.account.params.kind(), Kind::Totp { period: 20 });
        assert_eq!((e.note.as_str(), e.favorite), ("hi", true));
        assert_eq!(e.groups, ["Work"]);
        assert_eq!(
            report.entries[1].account.params.kind(),
            Kind::Hotp { counter: 5 }
        );
    }

    #[test]
    fn unsupported_types_are_skipped() {
        let report = import(plain().as_bytes(), None).unwrap();
        let skipped: Vec<&str> = report.skipped.iter().map(|s| s.entry.as_str()).collect();
        assert_eq!(skipped, ["X (m)", "Y (y)"]);
        assert!(report.skipped[0].reason.contains("motp"));
    }

    #[test]
    fn malformed_vaults() {
        for bad in [
            "",
            "[]",
            r#"{"version":1,"header":{}}"#,
            r#"{"version":2,"header":{},"db":{}}"#,
            r#"{"version":1,"header":{},"db":{"version":9,"entries":[]}}"#,
            r#"{"version":1,"header":{},"db":{"version":1}}"#,
        ] {
            assert!(
                matches!(
                    import(bad.as_bytes(), None),
                    Err(ImportError::Malformed { .. })
                ),
                "{bad}"
            );
        }
    }

    fn hex(bytes: &[u8]) -> String {
        data_encoding::HEXLOWER.encode(bytes)
    }

    /// An encrypted vault with a cheap scrypt cost (n = 2^10).
    fn encrypted(password: &[u8]) -> String {
        let (salt, master) = ([3u8; 32], [9u8; 32]);
        let derived = crypto::scrypt(password, &salt, 10, 8, 1).unwrap();
        let wrapped = crypto::aes_gcm_seal(&derived[..], &[1; 12], &master);
        let (key, key_tag) = wrapped.split_at(32);
        let db = crypto::aes_gcm_seal(&master, &[2; 12], content().as_bytes());
        let (db, tag) = db.split_at(db.len() - 16);
        use base64::Engine;
        format!(
            r#"{{"version":1,"header":{{"slots":[
                {{"type":2,"key":"00","key_params":{{"nonce":"00","tag":"00"}}}},
                {{"type":1,"key":"{}","key_params":{{"nonce":"{}","tag":"{}"}},"n":1024,"r":8,"p":1,"salt":"{}"}}],
              "params":{{"nonce":"{}","tag":"{}"}}}},"db":"{}"}}"#,
            hex(key),
            hex(&[1; 12]),
            hex(key_tag),
            hex(&salt),
            hex(&[2; 12]),
            hex(tag),
            base64::engine::general_purpose::STANDARD.encode(db)
        )
    }

    #[test]
    fn oversized_notes_and_labels_are_skipped_not_taken() {
        let long_note = plain().replace(
            r#""note":"hi""#,
            &format!(r#""note":"{}""#, "n".repeat(65 * 1024)),
        );
        let report = import(long_note.as_bytes(), None).unwrap();
        assert_eq!(report.entries.len(), 1);
        assert!(report.skipped.iter().any(|s| s.reason.contains("note")));
        let long_name = plain().replace(
            r#""name":"bob""#,
            &format!(r#""name":"{}""#, "b".repeat(2000)),
        );
        let report = import(long_name.as_bytes(), None).unwrap();
        assert_eq!(report.entries.len(), 1);
        let s = report
            .skipped
            .iter()
            .find(|s| s.reason.contains("longer"))
            .unwrap();
        assert!(s.entry.len() <= common::MAX_LABEL_BYTES + 4);
    }

    #[test]
    fn scrypt_bombs_and_slot_floods_are_refused_before_deriving() {
        let file = encrypted(b"pw");
        let bomb = file.replace(r#""n":1024,"r":8,"p":1"#, r#""n":1048576,"r":32,"p":16"#);
        assert_ne!(bomb, file);
        let start = std::time::Instant::now();
        assert!(matches!(
            import(bomb.as_bytes(), Some(b"pw")),
            Err(ImportError::Malformed { .. })
        ));
        // Within the old range but 2 GiB of memory (2^20 x 16 x 128 bytes).
        let big = file.replace(r#""n":1024,"r":8,"p":1"#, r#""n":1048576,"r":16,"p":1"#);
        assert!(matches!(
            import(big.as_bytes(), Some(b"pw")),
            Err(ImportError::Malformed { .. })
        ));
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        let v: Value = serde_json::from_str(&file).unwrap();
        let slot = v["header"]["slots"][1].clone();
        let mut flood = v.clone();
        flood["header"]["slots"] = Value::Array(vec![slot; MAX_PASSWORD_SLOTS + 1]);
        assert!(matches!(
            import(flood.to_string().as_bytes(), Some(b"wrong")),
            Err(ImportError::Malformed { .. })
        ));
    }

    #[test]
    fn encrypted_vault() {
        let file = encrypted(b"pw");
        super::super::test_support::assert_password_handling(
            |pw| import(file.as_bytes(), pw),
            b"pw",
            2,
        );
    }
}
