//! The encrypted vault: format and cryptography in `docs/vault.md` (version 1).
//!
//! A random 256-bit master key encrypts the account database with AES-256-GCM (`ring`), a
//! fresh nonce on every save, the header as it stands in the file as associated data. Slots
//! wrap the master key: password slots with Argon2id ([`kdf`]), device slots with a key from
//! the phone's keystore. This module turns bytes into a [`Vault`] and back ([`format`] is the
//! file format, [`accounts`] the account operations); [`file`] does the atomic file I/O at
//! the edge.

mod accounts;
mod container;
mod container_sync;
mod error;
pub mod file;
mod format;
pub mod kdf;
mod model;
mod push;
mod push_challenges;
mod push_keyring;
mod removed;
pub mod store;
mod sync;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use zeroize::Zeroizing;

pub use accounts::{AccountUpdate, AddReport, MANAGED_GROUP_PREFIX};
pub use container::{ContainerToken, StoredContainer};
pub use container_sync::{ContainerSyncReport, ContainerSyncTokens};
pub use error::{Corruption, OpenError, StoredAccountError, StoredPushAccountError, VaultError};
pub use format::{FORMAT, MAX_FILE_BYTES, MAX_PASSWORD_SLOTS, MAX_SLOTS, VERSION};
pub use kdf::{KdfError, KdfParams};
pub use model::{Account, AddOutcome, Group, SyncCredentials};
pub use push::EndpointChange;
pub use push_challenges::{
    ACTIVITY_MAX, ANSWERED_KEEP_SECS, ANSWERED_MAX, PollFailed, PollFailure, PollNews, PollReplies,
    PollRound, PushedError, PushedNews,
};
pub use push_keyring::{MAX_KEYRING_BYTES, PushKeyring};
pub use removed::{REMOVED_KEEP_SECS, REMOVED_MAX, Removed, RemovedBy};

use crate::rng::{Rng, uuid};
use format::{Slot, SlotKdf, wrap};
use model::Database;

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
        let parsed = format::parse_file(bytes)?;
        let master = format::unlock_with_password(&parsed.header.slots, password)?;
        Self::decrypt(parsed, master)
    }

    /// Reads `bytes`, the same vault as saved since by another writer (the CLI, a second app
    /// window), with this vault's master key. Fails when the file was re-keyed meanwhile (a
    /// password change elsewhere): then the user unlocks again.
    pub fn reload(&self, bytes: &[u8]) -> Result<Vault, OpenError> {
        let parsed = format::parse_file(bytes)?;
        Self::decrypt(parsed, self.master.clone())
    }

    /// Opens a vault file's bytes with a device keystore key (after biometrics on a phone).
    pub fn open_with_device_key(bytes: &[u8], kek: &[u8; 32]) -> Result<Vault, OpenError> {
        let parsed = format::parse_file(bytes)?;
        match format::unlock_with_device_key(&parsed.header.slots, kek) {
            Some(m) => Self::decrypt(parsed, m),
            None => Err(OpenError::DeviceKeyRejected),
        }
    }

    fn decrypt(
        parsed: format::Parsed<'_>,
        master: Zeroizing<[u8; 32]>,
    ) -> Result<Vault, OpenError> {
        let db = format::decrypt_db(&parsed, &master)?;
        Ok(Vault {
            master,
            slots: parsed.header.slots,
            db,
        })
    }

    /// Encrypts the vault into file bytes, with a fresh nonce.
    pub fn to_bytes(&self, rng: &dyn Rng) -> Result<Vec<u8>, VaultError> {
        let out = format::seal(&self.slots, &self.master, self.db.to_json(), rng)?;
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
            return Err(VaultError::NoDeviceSlot);
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
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_container;
#[cfg(test)]
mod tests_store;
#[cfg(test)]
mod tests_sync;
