//! Exports in open formats, so that nobody is locked in: an encrypted Aegis vault (the scrypt
//! password slot exactly as Aegis writes it), plain Aegis JSON, a list of `otpauth://` URIs, and
//! Google Authenticator migration URIs. Every format reads back through [`crate::import`].
//!
//! Push accounts (privacyIDEA) are never exported: their keys belong to one phone, and the
//! server would refuse a copy. Only [`AccountEntry`] values, OTP accounts with their
//! metadata, can be given here.

use std::collections::BTreeMap;

use base64::Engine;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::AccountEntry;
use crate::import::Skipped;
use crate::otp::Kind;
use crate::rng::{self, Rng};
use crate::{migration, uri};

/// scrypt cost Aegis uses for password slots: N = 2^15, r = 8, p = 1 (RFC 7914).
pub const AEGIS_SCRYPT_LOG_N: u8 = 15;
const AEGIS_SCRYPT_R: u32 = 8;
const AEGIS_SCRYPT_P: u32 = 1;
/// Aegis's vault content version written here (groups as UUIDs, v3).
const AEGIS_DB_VERSION: u32 = 3;

/// The formats Twofold writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    /// Encrypted Aegis vault (`aegis`).
    Aegis,
    /// Plain Aegis JSON (`aegis-plain`).
    AegisPlain,
    /// One `otpauth://` URI a line (`otpauth-list`); Steam as `otpauth://steam/...`.
    OtpauthList,
    /// Google Authenticator `otpauth-migration://` URIs, one a line, at most 10 accounts each
    /// (`google-migration`).
    GoogleMigration,
}

impl ExportFormat {
    /// Every format.
    pub const ALL: [ExportFormat; 4] = [
        ExportFormat::Aegis,
        ExportFormat::AegisPlain,
        ExportFormat::OtpauthList,
        ExportFormat::GoogleMigration,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Aegis => "aegis",
            ExportFormat::AegisPlain => "aegis-plain",
            ExportFormat::OtpauthList => "otpauth-list",
            ExportFormat::GoogleMigration => "google-migration",
        }
    }

    /// The format of a command-line name; `None` for unknown names.
    pub fn from_name(name: &str) -> Option<ExportFormat> {
        let name = name.trim().to_ascii_lowercase();
        ExportFormat::ALL.into_iter().find(|f| f.name() == name)
    }

    /// True when the file is encrypted and needs a password.
    pub fn is_encrypted(self) -> bool {
        self == ExportFormat::Aegis
    }
}

/// Why an export could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// The format is encrypted and no password was given.
    #[error("this export format is encrypted; a password is needed")]
    PasswordRequired,
    /// The password is empty.
    #[error("the export password must not be empty")]
    EmptyPassword,
    /// The system's random number generator failed.
    #[error("the random number generator failed")]
    Rng,
    /// Key derivation or encryption failed.
    #[error("encryption failed")]
    Crypto,
}

/// A written export: the file's bytes (they hold secrets) and the accounts the format cannot
/// hold, each with the reason.
pub struct Exported {
    /// The file's contents.
    pub bytes: Zeroizing<Vec<u8>>,
    /// How many accounts were written.
    pub written: usize,
    /// Accounts left out.
    pub skipped: Vec<Skipped>,
}

impl std::fmt::Debug for Exported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exported")
            .field(
                "bytes",
                &format_args!("[{} bytes, redacted]", self.bytes.len()),
            )
            .field("written", &self.written)
            .field("skipped", &self.skipped)
            .finish()
    }
}

/// Writes `entries` in `format`; `password` encrypts the formats that are encrypted.
pub fn export(
    entries: &[AccountEntry],
    format: ExportFormat,
    password: Option<&[u8]>,
    rng: &dyn Rng,
) -> Result<Exported, ExportError> {
    match format {
        ExportFormat::OtpauthList => {
            let mut text = Zeroizing::new(String::new());
            for e in entries {
                text.push_str(&uri::write(&e.account));
                text.push('\n');
            }
            Ok(Exported {
                bytes: Zeroizing::new(text.as_bytes().to_vec()),
                written: entries.len(),
                skipped: Vec::new(),
            })
        }
        ExportFormat::GoogleMigration => {
            let accounts: Vec<_> = entries.iter().map(|e| e.account.clone()).collect();
            let mut id = [0u8; 4];
            rng.fill(&mut id).map_err(|_| ExportError::Rng)?;
            // Google's batch ids are positive.
            let batch_id = i32::from_be_bytes(id) & i32::MAX;
            let written = migration::write(&accounts, batch_id);
            let mut text = Zeroizing::new(String::new());
            for u in &written.uris {
                text.push_str(u);
                text.push('\n');
            }
            let skipped: Vec<Skipped> = written
                .skipped
                .iter()
                .map(|(i, reason)| Skipped {
                    entry: entries[*i].account.display_name(),
                    reason: reason.to_string(),
                })
                .collect();
            Ok(Exported {
                bytes: Zeroizing::new(text.as_bytes().to_vec()),
                written: entries.len() - skipped.len(),
                skipped,
            })
        }
        ExportFormat::AegisPlain => {
            let db = aegis_db(entries, rng)?;
            let file = json!({
                "version": 1,
                "header": { "slots": Value::Null, "params": Value::Null },
                "db": db,
            });
            Ok(Exported {
                bytes: to_json(&file),
                written: entries.len(),
                skipped: Vec::new(),
            })
        }
        ExportFormat::Aegis => {
            let password = password.ok_or(ExportError::PasswordRequired)?;
            if password.is_empty() {
                return Err(ExportError::EmptyPassword);
            }
            let db = aegis_db(entries, rng)?;
            let plain = to_json(&db);
            let master = random::<32>(rng)?;
            let (db_sealed, db_nonce, db_tag) = seal(&master[..], &plain, rng)?;
            let salt = random::<32>(rng)?;
            let kek = crate::crypto::scrypt(
                password,
                &salt[..],
                AEGIS_SCRYPT_LOG_N,
                AEGIS_SCRYPT_R,
                AEGIS_SCRYPT_P,
            )
            .ok_or(ExportError::Crypto)?;
            let (key_sealed, key_nonce, key_tag) = seal(&kek[..], &master[..], rng)?;
            let hex = |b: &[u8]| data_encoding::HEXLOWER.encode(b);
            let slot = json!({
                "type": 1,
                "uuid": rng::uuid(rng).map_err(|_| ExportError::Rng)?,
                "key": hex(&key_sealed),
                "key_params": { "nonce": hex(&key_nonce), "tag": hex(&key_tag) },
                "n": 1u32 << AEGIS_SCRYPT_LOG_N,
                "r": AEGIS_SCRYPT_R,
                "p": AEGIS_SCRYPT_P,
                "salt": hex(&salt[..]),
                "repaired": true,
                "is_backup": false,
            });
            let file = json!({
                "version": 1,
                "header": {
                    "slots": [slot],
                    "params": { "nonce": hex(&db_nonce), "tag": hex(&db_tag) },
                },
                "db": base64::engine::general_purpose::STANDARD.encode(&db_sealed),
            });
            Ok(Exported {
                bytes: to_json(&file),
                written: entries.len(),
                skipped: Vec::new(),
            })
        }
    }
}

fn to_json(value: &Value) -> Zeroizing<Vec<u8>> {
    // Serializing a `Value` cannot fail: its keys are strings.
    let mut out = Zeroizing::new(Vec::new());
    if serde_json::to_writer_pretty(&mut *out, value).is_err() {
        out.clear();
    }
    out.push(b'\n');
    out
}

fn random<const N: usize>(rng: &dyn Rng) -> Result<Zeroizing<[u8; N]>, ExportError> {
    let mut b = Zeroizing::new([0u8; N]);
    rng.fill(&mut b[..]).map_err(|_| ExportError::Rng)?;
    Ok(b)
}

/// Ciphertext, nonce and tag, which Aegis stores apart.
type Sealed = (Vec<u8>, [u8; 12], [u8; 16]);

/// AES-256-GCM with a fresh nonce.
fn seal(key: &[u8], plain: &[u8], rng: &dyn Rng) -> Result<Sealed, ExportError> {
    let nonce = *random::<12>(rng)?;
    let key =
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| ExportError::Crypto)?);
    let mut buffer = plain.to_vec();
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::empty(),
            &mut buffer,
        )
        .map_err(|_| ExportError::Crypto)?;
    let mut t = [0u8; 16];
    t.copy_from_slice(tag.as_ref());
    Ok((buffer, nonce, t))
}

/// The Aegis vault content (version 3): entries and groups.
fn aegis_db(entries: &[AccountEntry], rng: &dyn Rng) -> Result<Value, ExportError> {
    let mut groups: BTreeMap<&str, String> = BTreeMap::new();
    for name in entries.iter().flat_map(|e| e.groups.iter()) {
        if !groups.contains_key(name.as_str()) {
            groups.insert(name, rng::uuid(rng).map_err(|_| ExportError::Rng)?);
        }
    }
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let a = &e.account;
        let p = &a.params;
        let secret = a.secret.to_base32();
        let (kind, mut info) = match p.kind() {
            Kind::Totp { period } => ("totp", json!({ "period": period })),
            Kind::Hotp { counter } => ("hotp", json!({ "counter": counter })),
            Kind::Steam { period } => ("steam", json!({ "period": period })),
        };
        info["secret"] = Value::from(secret.as_str());
        info["algo"] = Value::from(p.algorithm().as_str());
        info["digits"] = Value::from(p.digits());
        out.push(json!({
            "type": kind,
            "uuid": rng::uuid(rng).map_err(|_| ExportError::Rng)?,
            "name": a.name,
            "issuer": a.issuer,
            "note": e.note,
            "favorite": e.favorite,
            "icon": Value::Null,
            "info": info,
            "groups": e.groups.iter().filter_map(|g| groups.get(g.as_str())).collect::<Vec<_>>(),
        }));
    }
    let groups: Vec<Value> = groups
        .iter()
        .map(|(name, uuid)| json!({ "uuid": uuid, "name": name }))
        .collect();
    Ok(json!({
        "version": AEGIS_DB_VERSION,
        "entries": out,
        "groups": groups,
        "icons_optimized": true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{self, Format};
    use crate::otp::OtpParams;
    use crate::rng::SystemRng;
    use crate::{Algorithm, OtpAccount, Secret};

    fn entries() -> Vec<AccountEntry> {
        let account = |issuer: &str, name: &str, kind, digits| OtpAccount {
            issuer: issuer.into(),
            name: name.into(),
            secret: Secret::from_bytes(b"12345678901234567890".to_vec()),
            params: match kind {
                Kind::Steam { period } => OtpParams::steam(period).unwrap(),
                k => OtpParams::new(k, Algorithm::Sha256, digits).unwrap(),
            },
        };
        let mut a = AccountEntry::new(account("Acme", "alice", Kind::Totp { period: 30 }, 6));
        a.note = "recovery codes in the safe".into();
        a.favorite = true;
        a.groups = vec!["Work".into(), "Mail".into()];
        let b = AccountEntry::new(account("", "bob:x", Kind::Hotp { counter: 42 }, 8));
        let c = AccountEntry::new(account("Steam", "gamer", Kind::Steam { period: 30 }, 5));
        let mut d = AccountEntry::new(account("Odd", "period", Kind::Totp { period: 45 }, 7));
        d.groups = vec!["Work".into()];
        vec![a, b, c, d]
    }

    fn same(left: &[AccountEntry], right: &[AccountEntry]) {
        assert_eq!(left.len(), right.len());
        for (l, r) in left.iter().zip(right) {
            assert_eq!(l.account, r.account);
        }
    }

    #[test]
    fn every_format_reads_back() {
        let rng = SystemRng::new();
        let all = entries();
        for format in ExportFormat::ALL {
            let out = export(&all, format, Some(b"pw"), &rng).unwrap();
            let back = import::import(&out.bytes, None, Some(b"pw")).unwrap();
            assert!(back.skipped.is_empty(), "{format:?}: {:?}", back.skipped);
            match format {
                ExportFormat::GoogleMigration => {
                    // Steam and a 45 s / 7-digit TOTP do not fit; they are reported.
                    assert_eq!(out.written, 2);
                    assert_eq!(out.skipped.len(), 2);
                    same(&back.entries, &[all[0].clone(), all[1].clone()]);
                }
                ExportFormat::Aegis | ExportFormat::AegisPlain => {
                    assert_eq!(import::detect(&out.bytes), Some(Format::Aegis));
                    assert_eq!(
                        back.entries, all,
                        "{format:?} keeps note, favourite, groups"
                    );
                }
                ExportFormat::OtpauthList => same(&back.entries, &all),
            }
        }
    }

    #[test]
    fn aegis_slot_is_as_aegis_writes_it() {
        let out = export(
            &entries(),
            ExportFormat::Aegis,
            Some(b"pw"),
            &SystemRng::new(),
        )
        .unwrap();
        let file: Value = serde_json::from_slice(&out.bytes).unwrap();
        let slot = &file["header"]["slots"][0];
        assert_eq!(slot["type"], 1);
        assert_eq!(
            (slot["n"].clone(), slot["r"].clone(), slot["p"].clone()),
            (json!(32768), json!(8), json!(1))
        );
        assert_eq!(slot["salt"].as_str().unwrap().len(), 64);
        assert_eq!(slot["key"].as_str().unwrap().len(), 64);
        assert_eq!(slot["key_params"]["nonce"].as_str().unwrap().len(), 24);
        assert_eq!(slot["key_params"]["tag"].as_str().unwrap().len(), 32);
        assert_eq!(file["header"]["params"]["tag"].as_str().unwrap().len(), 32);
        assert!(file["db"].is_string());
        assert_eq!(
            import::import(&out.bytes, None, Some(b"wrong")).err(),
            Some(import::ImportError::WrongPassword)
        );
    }

    #[test]
    fn encrypted_export_needs_a_password_and_hides_secrets() {
        let rng = SystemRng::new();
        let all = entries();
        assert_eq!(
            export(&all, ExportFormat::Aegis, None, &rng).err(),
            Some(ExportError::PasswordRequired)
        );
        assert_eq!(
            export(&all, ExportFormat::Aegis, Some(b""), &rng).err(),
            Some(ExportError::EmptyPassword)
        );
        let out = export(&all, ExportFormat::Aegis, Some(b"pw"), &rng).unwrap();
        let text = String::from_utf8(out.bytes.to_vec()).unwrap();
        let b32 = all[0].account.secret.to_base32();
        assert!(!text.contains(b32.as_str()));
        assert!(!format!("{out:?}").contains(b32.as_str()));
    }

    #[test]
    fn google_migration_batches_hold_ten() {
        let one = entries()[0].clone();
        let many = vec![one; 23];
        let out = export(
            &many,
            ExportFormat::GoogleMigration,
            None,
            &SystemRng::new(),
        )
        .unwrap();
        let text = std::str::from_utf8(&out.bytes).unwrap();
        let batches: Vec<_> = text
            .lines()
            .map(|l| migration::parse_uri(l).unwrap())
            .collect();
        assert_eq!(batches.len(), 3);
        assert_eq!(
            batches.iter().map(|b| b.entries.len()).collect::<Vec<_>>(),
            [10, 10, 3]
        );
    }
}
