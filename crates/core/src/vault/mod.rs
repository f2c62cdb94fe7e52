//! The encrypted vault: format and cryptography in `docs/vault.md` (version 1).
//!
//! A random 256-bit master key encrypts the account database with AES-256-GCM (`ring`), a
//! fresh nonce on every save, the header as it stands in the file as associated data. Slots
//! wrap the master key: password slots with Argon2id ([`kdf`]), device slots with a key from
//! the phone's keystore. This module turns bytes into a [`Vault`] and back; [`file`] does
//! the atomic file I/O at the edge.

pub mod file;
pub mod kdf;
mod model;
mod push;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use zeroize::Zeroizing;

pub use kdf::{KdfError, KdfParams};
pub use model::{Account, AddOutcome, Group};
pub use push::{ACTIVITY_MAX, ANSWERED_KEEP_SECS, ANSWERED_MAX};

use crate::OtpAccount;
use crate::otp::{Code, Generator, Kind};
use crate::rng::{Rng, RngError, uuid};
use model::Database;

/// The `format` field of every vault file.
pub const FORMAT: &str = "twofold-vault";
/// The newest format version this code writes (and the newest it reads).
pub const VERSION: u32 = 1;
/// Vault files larger than this are refused as corrupt (a hostile or damaged file must not
/// make the reader allocate without bound); 100,000 accounts take about 40 MB. Writing checks
/// the same limit, so no save produces a file the reader refuses.
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
/// The most key slots a vault file may list: one password slot and device slots for a few
/// phones. Each password slot costs a key derivation, so a file listing thousands would keep
/// the device busy for hours; more than this is refused as corrupt before any derivation.
pub const MAX_SLOTS: usize = 16;
/// The most password slots tried when opening (Twofold writes exactly one; a second may exist
/// only in a file written by a newer version).
pub const MAX_PASSWORD_SLOTS: usize = 2;

/// Why a vault could not be opened. A wrong password and a damaged file are different.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// No password slot unwraps the master key with this password.
    #[error("wrong password")]
    WrongPassword,
    /// The file is empty, truncated, altered or not a vault.
    #[error("the vault file is corrupt: {0}")]
    Corrupt(String),
    /// Written by a newer Twofold.
    #[error("the vault was written by a newer Twofold (format version {0}); update the app")]
    UnsupportedVersion(u32),
    /// The device key does not open any device slot.
    #[error("the device key does not unlock this vault")]
    DeviceKeyRejected,
}

/// Why the vault could not be changed or encrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// No account with that id.
    #[error("no account with id {0:?}")]
    NotFound(String),
    /// `next` on an account that is not HOTP.
    #[error("only HOTP accounts have a counter to advance")]
    NotHotp,
    /// The HOTP counter cannot go further.
    #[error("the HOTP counter is at its maximum")]
    CounterOverflow,
    /// Random bytes were not available.
    #[error(transparent)]
    Rng(#[from] RngError),
    /// Key derivation failed.
    #[error(transparent)]
    Kdf(#[from] KdfError),
    /// Encryption failed (never expected with valid keys).
    #[error("encryption failed")]
    Encrypt,
    /// No such slot, or removing it would leave no password slot.
    #[error("{0}")]
    Slot(&'static str),
    /// The encrypted vault would be larger than any vault the reader accepts
    /// ([`MAX_FILE_BYTES`]); nothing was written.
    #[error(
        "the vault would be {bytes} bytes, more than the {max} a vault may hold; nothing was saved (remove long notes or accounts)",
        max = MAX_FILE_BYTES
    )]
    TooLarge {
        /// The size the file would have had.
        bytes: usize,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Header {
    slots: Vec<Slot>,
    nonce: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SlotKdf {
    algorithm: String,
    version: u32,
    #[serde(flatten)]
    params: KdfParams,
    salt: String,
}

/// A key slot: one way of unwrapping the master key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Slot {
    Password {
        id: String,
        kdf: SlotKdf,
        nonce: String,
        wrapped_key: String,
    },
    Device {
        id: String,
        key_alias: String,
        nonce: String,
        wrapped_key: String,
    },
}

#[derive(Serialize)]
struct FileOut<'a> {
    format: &'a str,
    version: u32,
    header: &'a RawValue,
    db: String,
    checksum: String,
}

#[derive(Deserialize)]
struct FileIn<'a> {
    format: String,
    version: u32,
    #[serde(borrow)]
    header: &'a RawValue,
    db: String,
    checksum: String,
}

/// An unlocked vault: the master key and the accounts. Never printed with its secrets.
pub struct Vault {
    master: Zeroizing<[u8; 32]>,
    slots: Vec<Slot>,
    db: Database,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("slots", &self.slots.len())
            .field("accounts", &self.db.accounts.len())
            .field("push_accounts", &self.db.push_accounts.len())
            .finish_non_exhaustive()
    }
}

fn key(bytes: &[u8; 32]) -> Result<LessSafeKey, VaultError> {
    UnboundKey::new(&AES_256_GCM, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| VaultError::Encrypt)
}

fn slot_aad(id: &str) -> Vec<u8> {
    format!("twofold-slot-v1:{id}").into_bytes()
}

fn wrap(
    kek: &[u8; 32],
    master: &[u8; 32],
    id: &str,
    rng: &dyn Rng,
) -> Result<(String, String), VaultError> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce)?;
    let mut buf = Zeroizing::new(master.to_vec());
    key(kek)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(slot_aad(id)),
            &mut *buf,
        )
        .map_err(|_| VaultError::Encrypt)?;
    Ok((B64.encode(nonce), B64.encode(&*buf)))
}

fn unwrap_key(kek: &[u8; 32], nonce: &str, wrapped: &str, id: &str) -> Option<Zeroizing<[u8; 32]>> {
    let nonce: [u8; NONCE_LEN] = B64.decode(nonce).ok()?.try_into().ok()?;
    let mut buf = Zeroizing::new(B64.decode(wrapped).ok()?);
    let k = key(kek).ok()?;
    let plain = k
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(slot_aad(id)),
            &mut buf,
        )
        .ok()?;
    let master: [u8; 32] = plain.try_into().ok()?;
    Some(Zeroizing::new(master))
}

fn checksum(header: &str, db: &str) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(header.as_bytes());
    ctx.update(b"\n");
    ctx.update(db.as_bytes());
    ctx.finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn corrupt(reason: &str) -> OpenError {
    OpenError::Corrupt(reason.to_owned())
}

/// The parts of a file that slots need, checked for damage.
struct Parsed<'a> {
    header_raw: &'a str,
    header: Header,
    db: String,
}

fn parse_file(bytes: &[u8]) -> Result<Parsed<'_>, OpenError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(corrupt("the file is empty"));
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(corrupt("the file is larger than any vault"));
    }
    let file: FileIn =
        serde_json::from_slice(bytes).map_err(|_| corrupt("not a vault file, or truncated"))?;
    if file.format != FORMAT {
        return Err(corrupt("not a Twofold vault"));
    }
    if file.version > VERSION {
        return Err(OpenError::UnsupportedVersion(file.version));
    }
    let header_raw = file.header.get();
    if checksum(header_raw, &file.db) != file.checksum {
        return Err(corrupt(
            "its checksum does not match (the file was altered or damaged)",
        ));
    }
    let header: Header =
        serde_json::from_str(header_raw).map_err(|_| corrupt("the header is malformed"))?;
    Ok(Parsed {
        header_raw,
        header,
        db: file.db,
    })
}

impl Vault {
    /// A new, empty vault protected by `password` with Argon2id `kdf` parameters (raised to
    /// the floor if below it).
    pub fn create(password: &[u8], kdf: KdfParams, rng: &dyn Rng) -> Result<Vault, VaultError> {
        let mut master = Zeroizing::new([0u8; 32]);
        rng.fill(&mut *master)?;
        let mut vault = Vault {
            master,
            slots: Vec::new(),
            db: Database::default(),
        };
        vault.set_password(password, kdf, rng)?;
        Ok(vault)
    }

    /// Opens a vault file's bytes with a password.
    pub fn open(bytes: &[u8], password: &[u8]) -> Result<Vault, OpenError> {
        let parsed = parse_file(bytes)?;
        let password_slots = parsed
            .header
            .slots
            .iter()
            .filter(|s| matches!(s, Slot::Password { .. }))
            .count();
        if parsed.header.slots.len() > MAX_SLOTS || password_slots > MAX_PASSWORD_SLOTS {
            return Err(corrupt("the vault lists more key slots than any vault has"));
        }
        let mut any_password_slot = false;
        for slot in &parsed.header.slots {
            let Slot::Password {
                id,
                kdf,
                nonce,
                wrapped_key,
            } = slot
            else {
                continue;
            };
            any_password_slot = true;
            if kdf.algorithm != "argon2id" || kdf.version != 0x13 || !kdf.params.is_acceptable() {
                return Err(corrupt(
                    "a password slot has unacceptable key derivation parameters",
                ));
            }
            let salt = B64
                .decode(&kdf.salt)
                .map_err(|_| corrupt("a password slot's salt is malformed"))?;
            if salt.len() < 16 {
                return Err(corrupt("a password slot's salt is too short"));
            }
            let kek = kdf
                .params
                .derive(password, &salt)
                .map_err(|_| corrupt("a password slot has invalid key derivation parameters"))?;
            if let Some(master) = unwrap_key(&kek, nonce, wrapped_key, id) {
                return Self::decrypt(parsed, master);
            }
        }
        if any_password_slot {
            Err(OpenError::WrongPassword)
        } else {
            Err(corrupt("the vault has no password slot"))
        }
    }

    /// Opens a vault file's bytes with a device keystore key (after biometrics on a phone).
    pub fn open_with_device_key(bytes: &[u8], kek: &[u8; 32]) -> Result<Vault, OpenError> {
        let parsed = parse_file(bytes)?;
        let master = parsed.header.slots.iter().find_map(|s| match s {
            Slot::Device {
                id,
                nonce,
                wrapped_key,
                ..
            } => unwrap_key(kek, nonce, wrapped_key, id),
            Slot::Password { .. } => None,
        });
        match master {
            Some(m) => Self::decrypt(parsed, m),
            None => Err(OpenError::DeviceKeyRejected),
        }
    }

    fn decrypt(parsed: Parsed<'_>, master: Zeroizing<[u8; 32]>) -> Result<Vault, OpenError> {
        let bad = || corrupt("the encrypted database fails authentication (altered or damaged)");
        let nonce: [u8; NONCE_LEN] = B64
            .decode(&parsed.header.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(bad)?;
        let mut buf = Zeroizing::new(B64.decode(&parsed.db).map_err(|_| bad())?);
        let k = key(&master).map_err(|_| bad())?;
        let plain = k
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(parsed.header_raw.as_bytes()),
                &mut buf,
            )
            .map_err(|_| bad())?;
        let db = Database::from_json(plain).map_err(OpenError::Corrupt)?;
        Ok(Vault {
            master,
            slots: parsed.header.slots,
            db,
        })
    }

    /// Encrypts the vault into file bytes, with a fresh nonce.
    pub fn to_bytes(&self, rng: &dyn Rng) -> Result<Vec<u8>, VaultError> {
        let mut buf = self.db.to_json();
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce)?;
        let header = Header {
            slots: self.slots.clone(),
            nonce: B64.encode(nonce),
        };
        let header_json = serde_json::to_string(&header).map_err(|_| VaultError::Encrypt)?;
        key(&self.master)?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(header_json.as_bytes()),
                &mut *buf,
            )
            .map_err(|_| VaultError::Encrypt)?;
        let db = B64.encode(&*buf);
        let header_raw = RawValue::from_string(header_json).map_err(|_| VaultError::Encrypt)?;
        let file = FileOut {
            format: FORMAT,
            version: VERSION,
            checksum: checksum(header_raw.get(), &db),
            header: &header_raw,
            db,
        };
        let mut out = serde_json::to_vec_pretty(&file).map_err(|_| VaultError::Encrypt)?;
        out.push(b'\n');
        if out.len() > MAX_FILE_BYTES {
            return Err(VaultError::TooLarge { bytes: out.len() });
        }
        Ok(out)
    }

    /// Sets a new password: a **new master key** wrapped by a new password slot, so that the
    /// next save re-encrypts everything and no earlier copy of the file (or its old password,
    /// or its master key) opens what is saved from now on. Device slots wrapped the old master
    /// key and are removed: the app enrols the device key again. Nothing changes on error.
    pub fn set_password(
        &mut self,
        password: &[u8],
        kdf: KdfParams,
        rng: &dyn Rng,
    ) -> Result<(), VaultError> {
        let params = kdf.at_least_floor();
        if !params.is_acceptable() {
            // Above the ceiling: the reader would refuse the file this writes.
            return Err(KdfError.into());
        }
        let mut master = Zeroizing::new([0u8; 32]);
        rng.fill(&mut *master)?;
        let mut salt = [0u8; 32];
        rng.fill(&mut salt)?;
        let kek = params.derive(password, &salt)?;
        let id = uuid(rng)?;
        let (nonce, wrapped_key) = wrap(&kek, &master, &id, rng)?;
        let slot = Slot::Password {
            id,
            kdf: SlotKdf {
                algorithm: "argon2id".into(),
                version: 0x13,
                params,
                salt: B64.encode(salt),
            },
            nonce,
            wrapped_key,
        };
        self.master = master;
        self.slots = vec![slot];
        Ok(())
    }

    /// Adds a device-keystore slot; returns its id.
    pub fn add_device_slot(
        &mut self,
        key_alias: &str,
        kek: &[u8; 32],
        rng: &dyn Rng,
    ) -> Result<String, VaultError> {
        let id = uuid(rng)?;
        let (nonce, wrapped_key) = wrap(kek, &self.master, &id, rng)?;
        self.slots.push(Slot::Device {
            id: id.clone(),
            key_alias: key_alias.to_owned(),
            nonce,
            wrapped_key,
        });
        Ok(id)
    }

    /// Removes a device slot (password slots are replaced, never removed).
    pub fn remove_device_slot(&mut self, id: &str) -> Result<(), VaultError> {
        let before = self.slots.len();
        self.slots
            .retain(|s| !matches!(s, Slot::Device { id: sid, .. } if sid == id));
        if self.slots.len() == before {
            return Err(VaultError::Slot("no device slot with that id"));
        }
        Ok(())
    }

    /// The ids and kinds of the slots (`password` or `device`).
    pub fn slots(&self) -> Vec<(String, &'static str)> {
        self.slots
            .iter()
            .map(|s| match s {
                Slot::Password { id, .. } => (id.clone(), "password"),
                Slot::Device { id, .. } => (id.clone(), "device"),
            })
            .collect()
    }

    /// The accounts, in their display order.
    pub fn accounts(&self) -> &[Account] {
        &self.db.accounts
    }

    /// The groups.
    pub fn groups(&self) -> &[Group] {
        &self.db.groups
    }

    /// One account by id.
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.db.accounts.iter().find(|a| a.id == id)
    }

    /// Adds an account unless one with the same secret, issuer and name is there already.
    pub fn add(
        &mut self,
        otp: OtpAccount,
        now: u64,
        rng: &dyn Rng,
    ) -> Result<AddOutcome, VaultError> {
        // Names first: they are not secret and usually differ, so the constant-time secret
        // comparison runs only for real candidates (10,000 imports: 1 s before, see benches).
        if let Some(existing) = self.db.accounts.iter().find(|a| {
            a.otp.name == otp.name && a.otp.issuer == otp.issuer && a.otp.secret == otp.secret
        }) {
            return Ok(AddOutcome::Duplicate(existing.id.clone()));
        }
        let order = self
            .db
            .accounts
            .iter()
            .map(|a| a.order + 1)
            .max()
            .unwrap_or(0);
        let account = Account::new(uuid(rng)?, otp, order, now);
        let id = account.id.clone();
        self.db.accounts.push(account);
        Ok(AddOutcome::Added(id))
    }

    /// Adds an account with its metadata (imports), group names created as needed.
    pub fn add_with_metadata(
        &mut self,
        entry: crate::AccountEntry,
        now: u64,
        rng: &dyn Rng,
    ) -> Result<AddOutcome, VaultError> {
        let outcome = self.add(entry.account, now, rng)?;
        if let AddOutcome::Added(id) = &outcome {
            let mut group_ids = Vec::new();
            for name in &entry.groups {
                group_ids.push(self.group_id(name, rng)?);
            }
            if let Some(a) = self.db.accounts.iter_mut().find(|a| &a.id == id) {
                a.note = entry.note;
                a.favorite = entry.favorite;
                a.groups = group_ids;
            }
        }
        Ok(outcome)
    }

    fn group_id(&mut self, name: &str, rng: &dyn Rng) -> Result<String, VaultError> {
        if let Some(g) = self.db.groups.iter().find(|g| g.name == name) {
            return Ok(g.id.clone());
        }
        let id = uuid(rng)?;
        self.db.groups.push(Group {
            id: id.clone(),
            name: name.to_owned(),
        });
        Ok(id)
    }

    /// Where the account `id` is in the list.
    fn position(&self, id: &str) -> Result<usize, VaultError> {
        self.db
            .accounts
            .iter()
            .position(|a| a.id == id)
            .ok_or_else(|| VaultError::NotFound(id.to_owned()))
    }

    /// Removes an account; returns it.
    pub fn remove(&mut self, id: &str) -> Result<Account, VaultError> {
        let i = self.position(id)?;
        Ok(self.db.accounts.remove(i))
    }

    /// Every account as an export entry: the OTP account, note, favourite and group names.
    /// Push accounts are not OTP accounts and never appear here.
    pub fn export_entries(&self) -> Vec<crate::AccountEntry> {
        self.accounts()
            .iter()
            .map(|a| crate::AccountEntry {
                account: a.otp.clone(),
                note: a.note.clone(),
                favorite: a.favorite,
                groups: a
                    .groups
                    .iter()
                    .filter_map(|id| self.groups().iter().find(|g| &g.id == id))
                    .map(|g| g.name.clone())
                    .collect(),
            })
            .collect()
    }

    /// HOTP: advances the counter and returns the code at the new counter.
    pub fn next_hotp(&mut self, id: &str, now: u64) -> Result<Code, VaultError> {
        let i = self.position(id)?;
        let a = &mut self.db.accounts[i];
        let Kind::Hotp { counter } = a.otp.params.kind() else {
            return Err(VaultError::NotHotp);
        };
        let next = counter.checked_add(1).ok_or(VaultError::CounterOverflow)?;
        a.otp.params = a.otp.params.with_counter(next);
        a.used = Some(now);
        Ok(Generator::new(&a.otp.secret, a.otp.params).code_at_counter(next))
    }
}

#[cfg(test)]
mod tests;

/// Changes to an account's descriptive fields (the app's edit screen); `None` leaves a field
/// as it is. The secret and code parameters never change here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountUpdate {
    /// New issuer.
    pub issuer: Option<String>,
    /// New account name.
    pub name: Option<String>,
    /// New note.
    pub note: Option<String>,
    /// Favourite or not.
    pub favorite: Option<bool>,
    /// Group names, in order; groups are created as needed, blank and repeated names dropped.
    pub groups: Option<Vec<String>>,
    /// New position in the list.
    pub order: Option<u32>,
}

impl Vault {
    /// Applies `update` to the account `id` and returns it.
    pub fn update_account(
        &mut self,
        id: &str,
        update: AccountUpdate,
        rng: &dyn Rng,
    ) -> Result<&Account, VaultError> {
        let i = self.position(id)?;
        let group_ids = match update.groups {
            Some(names) => {
                let mut ids: Vec<String> = Vec::new();
                for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
                    let gid = self.group_id(name, rng)?;
                    if !ids.contains(&gid) {
                        ids.push(gid);
                    }
                }
                Some(ids)
            }
            None => None,
        };
        let a = &mut self.db.accounts[i];
        if let Some(issuer) = update.issuer {
            a.otp.issuer = issuer;
        }
        if let Some(name) = update.name {
            a.otp.name = name;
        }
        if let Some(note) = update.note {
            a.note = note;
        }
        if let Some(favorite) = update.favorite {
            a.favorite = favorite;
        }
        if let Some(ids) = group_ids {
            a.groups = ids;
        }
        if let Some(order) = update.order {
            a.order = order;
        }
        Ok(&self.db.accounts[i])
    }

    /// The name of the group `id`.
    pub fn group_name(&self, id: &str) -> Option<&str> {
        self.db
            .groups
            .iter()
            .find(|g| g.id == id)
            .map(|g| g.name.as_str())
    }
}

#[cfg(test)]
mod update_tests {
    use super::*;
    use crate::otp::{Algorithm, Kind, OtpParams};
    use crate::rng::SystemRng;
    use crate::{OtpAccount, Secret};

    fn vault() -> (Vault, String) {
        let rng = SystemRng::new();
        let mut v = Vault::create(b"pw", KdfParams::MIN, &rng).unwrap();
        let otp = OtpAccount {
            issuer: "ACME".into(),
            name: "alice".into(),
            secret: Secret::from_bytes(vec![7; 20]),
            params: OtpParams::new(Kind::Totp { period: 30 }, Algorithm::Sha1, 6).unwrap(),
        };
        let AddOutcome::Added(id) = v.add(otp, 1_700_000_000, &rng).unwrap() else {
            panic!("not added")
        };
        (v, id)
    }

    #[test]
    fn update_changes_only_what_is_given_and_survives_a_save() {
        let rng = SystemRng::new();
        let (mut v, id) = vault();
        let before = v.account(&id).unwrap().clone();
        let a = v
            .update_account(
                &id,
                AccountUpdate {
                    name: Some("alice@acme.example".into()),
                    favorite: Some(true),
                    groups: Some(vec!["Work".into(), " ".into(), "Work".into(), "VPN".into()]),
                    ..AccountUpdate::default()
                },
                &rng,
            )
            .unwrap()
            .clone();
        assert_eq!(a.otp.name, "alice@acme.example");
        assert_eq!(a.otp.issuer, "ACME");
        assert_eq!(a.otp.secret, before.otp.secret);
        assert!(a.favorite);
        let names: Vec<_> = a.groups.iter().map(|g| v.group_name(g).unwrap()).collect();
        assert_eq!(names, ["Work", "VPN"]);
        let w = Vault::open(&v.to_bytes(&rng).unwrap(), b"pw").unwrap();
        assert_eq!(w.account(&id), Some(&a));
        // The same group name reuses the group.
        let again = v
            .update_account(
                &id,
                AccountUpdate {
                    groups: Some(vec!["VPN".into()]),
                    order: Some(9),
                    ..AccountUpdate::default()
                },
                &rng,
            )
            .unwrap()
            .clone();
        assert_eq!(v.groups().len(), 2);
        assert_eq!(again.order, 9);
    }

    #[test]
    fn update_of_an_unknown_id_is_not_found() {
        let (mut v, _) = vault();
        assert_eq!(
            v.update_account("nope", AccountUpdate::default(), &SystemRng::new())
                .unwrap_err(),
            VaultError::NotFound("nope".into())
        );
    }
}
