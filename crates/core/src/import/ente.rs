//! Ente Auth exports: the plain text export (otpauth URIs with a `codeDisplay` parameter,
//! read by [`super::uri_list`]) and the encrypted export, which holds the same text.
//!
//! Read: `{version: 1, kdfParams: {memLimit, opsLimit, salt}, encryptedData, encryptionNonce}`
//! (Base64 fields). Decrypt: the key is libsodium's `crypto_pwhash` Argon2id13 of the password
//! (`memLimit` bytes of memory, `opsLimit` passes, one lane, 32 bytes); `encryptedData` is one
//! `crypto_secretstream_xchacha20poly1305` message tagged FINAL, `encryptionNonce` its 24-byte
//! header. Convert: as the plain export (pinned, tags, note; trashed entries are skipped).

use serde_json::Value;

use super::common::{self, malformed, str_field, uint_field};
use super::{Format, ImportError, ImportReport, uri_list};
use crate::crypto::{self, StreamError};

const FORMAT: Format = Format::Ente;
/// libsodium's `crypto_pwhash_MEMLIMIT_MIN`: 8 KiB.
const MEMLIMIT_MIN: u64 = 8192;
/// libsodium's `crypto_pwhash_SALTBYTES`.
const SALT_BYTES: usize = 16;

/// True for the structure of the encrypted export.
pub(super) fn is_encrypted(file: &Value) -> bool {
    file.get("kdfParams").is_some() && file.get("encryptedData").is_some()
}

/// Imports an Ente Auth export, encrypted or plain.
pub(super) fn import(bytes: &[u8], password: Option<&[u8]>) -> Result<ImportReport, ImportError> {
    let text = common::text(bytes, FORMAT)?;
    if !text.trim_start().starts_with('{') {
        return uri_list::import_ente(bytes);
    }
    let file = common::json(bytes, FORMAT)?;
    if !is_encrypted(&file) {
        return Err(malformed(FORMAT, "no kdfParams and encryptedData"));
    }
    let plain = decrypt(&file, password)?;
    uri_list::import_ente(&plain)
}

/// The parameters of the key derivation, checked against the caps before any work.
struct Kdf {
    memory_kib: u32,
    passes: u32,
    salt: zeroize::Zeroizing<Vec<u8>>,
}

fn kdf(file: &Value) -> Result<Kdf, ImportError> {
    let params = file
        .get("kdfParams")
        .ok_or_else(|| malformed(FORMAT, "no kdfParams"))?;
    let number = |key: &str| {
        uint_field(params, key)
            .map_err(|e| malformed(FORMAT, e))?
            .ok_or_else(|| malformed(FORMAT, format!("kdfParams has no {key}")))
    };
    let (mem_limit, ops_limit) = (number("memLimit")?, number("opsLimit")?);
    if mem_limit < MEMLIMIT_MIN || ops_limit == 0 {
        return Err(malformed(
            FORMAT,
            "memLimit or opsLimit below libsodium's minimum",
        ));
    }
    // crypto_pwhash: memory in KiB is memLimit / 1024 (rounded down), passes are opsLimit.
    let memory_kib = mem_limit / 1024;
    if !crypto::argon2_within_caps(memory_kib, ops_limit) {
        return Err(malformed(
            FORMAT,
            format!(
                "its key derivation asks for {} MiB × {ops_limit} passes, more than Twofold \
                 allows (1 GiB, and 4 GiB × passes; Ente Auth writes 256 MiB × 16)",
                memory_kib / 1024
            ),
        ));
    }
    let salt = crypto::base64(str_field(params, "salt"))
        .filter(|s| s.len() == SALT_BYTES)
        .ok_or_else(|| malformed(FORMAT, "the salt is not 16 bytes of Base64"))?;
    Ok(Kdf {
        // Both fit: memory_kib ≤ 1 GiB in KiB, and passes ≤ 4 GiB·passes / 8 KiB.
        memory_kib: u32::try_from(memory_kib).map_err(|_| malformed(FORMAT, "memLimit"))?,
        passes: u32::try_from(ops_limit).map_err(|_| malformed(FORMAT, "opsLimit"))?,
        salt,
    })
}

/// The export's text, opened with the password.
fn decrypt(
    file: &Value,
    password: Option<&[u8]>,
) -> Result<zeroize::Zeroizing<Vec<u8>>, ImportError> {
    let version = uint_field(file, "version").map_err(|e| malformed(FORMAT, e))?;
    if version != Some(1) {
        return Err(malformed(FORMAT, "unsupported export version (1 is read)"));
    }
    let kdf = kdf(file)?;
    let header = crypto::base64(str_field(file, "encryptionNonce"))
        .filter(|h| h.len() == 24)
        .ok_or_else(|| malformed(FORMAT, "encryptionNonce is not 24 bytes of Base64"))?;
    let sealed = crypto::base64(str_field(file, "encryptedData"))
        .ok_or_else(|| malformed(FORMAT, "encryptedData is not Base64"))?;
    let password = password.ok_or(ImportError::PasswordRequired)?;
    let key = crypto::argon2id(password, &kdf.salt, kdf.memory_kib, kdf.passes, 1)
        .ok_or_else(|| malformed(FORMAT, "Argon2id refused the key derivation parameters"))?;
    // The format has no separate key check: a wrong password and a damaged file both fail
    // the Poly1305 tag, and a wrong password is by far the likelier.
    crypto::secretstream_open_final(&key, &header, &sealed).map_err(|e| match e {
        StreamError::Mac => ImportError::WrongPassword,
        StreamError::NotFinal => malformed(FORMAT, "the encrypted data is cut short"),
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::B32;
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    /// An encrypted export of `text` with cheap parameters (1 MiB, 1 pass).
    fn encrypted(password: &[u8], text: &str, mem_limit: u64, ops_limit: u64) -> String {
        let salt = [5u8; 16];
        let key = crypto::argon2id(
            password,
            &salt,
            (mem_limit / 1024) as u32,
            ops_limit as u32,
            1,
        )
        .unwrap();
        let sealed = crypto::secretstream_seal_final(&key, [7; 24], text.as_bytes());
        serde_json::json!({
            "version": 1,
            "kdfParams": {"memLimit": mem_limit, "opsLimit": ops_limit, "salt": STANDARD.encode(salt)},
            "encryptedData": STANDARD.encode(sealed),
            "encryptionNonce": STANDARD.encode([7u8; 24]),
        })
        .to_string()
    }

    fn text() -> String {
        format!("otpauth://totp/A:a?secret={B32}\notpauth://hotp/B:b?secret={B32}&counter=3")
    }

    #[test]
    fn encrypted_export_round_trip_and_passwords() {
        let file = encrypted(b"pw", &text(), 1 << 20, 1);
        super::super::test_support::assert_encrypted_file(file.as_bytes(), FORMAT, 2);
    }

    #[test]
    fn hostile_costs_are_refused_before_deriving() {
        let file = encrypted(b"pw", &text(), 1 << 20, 1);
        let start = std::time::Instant::now();
        for (mem, ops) in [
            // 4 GiB of memory (more than the 1 GiB cap).
            ("4294967296", "2"),
            // 64 MiB × 100,000 passes (memory fine, time not).
            ("67108864", "100000"),
            ("18446744073709551615", "18446744073709551615"),
            // Below libsodium's minimums.
            ("1024", "1"),
            ("1048576", "0"),
        ] {
            let hostile = file
                .replace(r#""memLimit":1048576"#, &format!(r#""memLimit":{mem}"#))
                .replace(r#""opsLimit":1"#, &format!(r#""opsLimit":{ops}"#));
            assert_ne!(hostile, file);
            assert!(
                matches!(
                    import(hostile.as_bytes(), Some(b"pw")),
                    Err(ImportError::Malformed { .. })
                ),
                "{mem} {ops}"
            );
            // Refused also without a password: the file is judged before anyone is asked.
            assert!(matches!(
                import(hostile.as_bytes(), None),
                Err(ImportError::Malformed { .. })
            ));
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn damaged_and_cut_files() {
        let file = encrypted(b"pw", &text(), 1 << 20, 1);
        let v: Value = serde_json::from_str(&file).unwrap();
        let mut sealed = STANDARD
            .decode(v["encryptedData"].as_str().unwrap())
            .unwrap();
        sealed[5] ^= 1;
        let mut flipped = v.clone();
        flipped["encryptedData"] = STANDARD.encode(&sealed).into();
        // No garbage accounts: the tag check fails (reported as the likelier wrong password).
        assert_eq!(
            import(flipped.to_string().as_bytes(), Some(b"pw")).err(),
            Some(ImportError::WrongPassword)
        );
        for (key, value) in [
            ("encryptionNonce", "AAAA"),
            ("encryptedData", "%%%"),
            ("version", "2"),
        ] {
            let mut bad = v.clone();
            bad[key] = serde_json::from_str(value).unwrap_or(Value::String(value.into()));
            assert!(
                matches!(
                    import(bad.to_string().as_bytes(), Some(b"pw")),
                    Err(ImportError::Malformed { .. })
                ),
                "{key}"
            );
        }
        let mut no_salt = v.clone();
        no_salt["kdfParams"]["salt"] = "AAAA".into();
        assert!(matches!(
            import(no_salt.to_string().as_bytes(), Some(b"pw")),
            Err(ImportError::Malformed { .. })
        ));
    }

    #[test]
    fn a_stream_that_is_not_final_is_cut_short() {
        use crypto_secretstream::{Key, PushStream, Tag};
        let salt = [5u8; 16];
        let key = crypto::argon2id(b"pw", &salt, 1024, 1, 1).unwrap();
        let (header, mut stream) = PushStream::init(rand_core::OsRng, &Key::from(*key));
        let mut message = text().into_bytes();
        stream.push(&mut message, &[], Tag::Message).unwrap();
        let file = serde_json::json!({
            "version": 1,
            "kdfParams": {"memLimit": 1 << 20, "opsLimit": 1, "salt": STANDARD.encode(salt)},
            "encryptedData": STANDARD.encode(message),
            "encryptionNonce": STANDARD.encode(header.as_ref()),
        })
        .to_string();
        let err = import(file.as_bytes(), Some(b"pw")).unwrap_err();
        assert!(err.to_string().contains("cut short"), "{err}");
    }
}
