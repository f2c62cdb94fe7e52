//! Biometric unlock through the vault's device slot (docs/vault.md): a random 256-bit key
//! wraps the master key in a device slot and is kept by the platform behind biometrics
//! ([`Biometrics`], tauri-plugin-biometry on phones), read from Rust only. The setting
//! `biometrics` and the slot go together:
//! - turned on (first run after the password, or Settings): a new key, stored, then the slot;
//! - turned off: the slot removed (saved), then the key;
//! - the biometrics changed (the key is invalidated) or the slot no longer opens the vault:
//!   the key is forgotten, the setting turned off, and the next password unlock removes the
//!   slot;
//! - a password change drops device slots (a new master key): the app enrols a new key.

use twofold_core::rng::{Rng, SystemRng};
use twofold_core::vault::{OpenError, Vault, file};
use zeroize::Zeroizing;

use crate::error::{AppError, AppResult, ErrorKind};
use crate::events::BackupNotice;
use crate::platform::keys::{Biometrics, DEVICE_KEY_ALIAS, DeviceKeys};
use crate::state::{AppState, Inner};
use crate::store::{By, Write};

/// What the biometric prompt says.
pub const PROMPT_REASON: &str = "Unlock Twofold";

fn has_device_slot(vault: &Vault) -> bool {
    vault.slots().iter().any(|(_, kind)| *kind == "device")
}

/// Biometric unlock is set up: the setting is on and the open vault (if open) has its slot.
pub fn is_set_up(inner: &Inner) -> bool {
    inner.prefs.settings.biometrics && inner.vault.as_ref().is_none_or(has_device_slot)
}

/// Removes every device slot from the open vault; true when there was one.
fn drop_device_slots(vault: &mut Vault) -> AppResult<bool> {
    let ids: Vec<String> = vault
        .slots()
        .into_iter()
        .filter(|(_, kind)| *kind == "device")
        .map(|(id, _)| id)
        .collect();
    for id in &ids {
        vault.remove_device_slot(id)?;
    }
    Ok(!ids.is_empty())
}

/// Adds a device slot under a new key kept behind biometrics (an older slot replaced).
fn enrol(vault: &mut Vault, biometrics: &dyn Biometrics) -> AppResult<()> {
    if !biometrics.available() {
        return Err(AppError::unsupported(crate::platform::BIOMETRICS_MISSING));
    }
    let rng = SystemRng::new();
    let mut key = Zeroizing::new([0u8; 32]);
    rng.fill(&mut *key)
        .map_err(|e| AppError::internal(e.to_string()))?;
    drop_device_slots(vault)?;
    biometrics.store_key(DEVICE_KEY_ALIAS, &key)?;
    vault.add_device_slot(DEVICE_KEY_ALIAS, &key, &rng)?;
    Ok(())
}

/// Turns biometric unlock on or off as `on` says, for the open vault (saved); the setting is
/// the caller's. Returns what the UI is to hear of the backup.
pub fn set(
    state: &AppState,
    inner: &mut Inner,
    keys: &DeviceKeys,
    on: bool,
) -> AppResult<BackupNotice> {
    let mut applied = false;
    let changed = state.change_with(inner, By::User, |inner| {
        applied = true;
        let vault = inner.vault_mut()?;
        if on {
            enrol(vault, keys.biometrics.as_ref())?;
            return Ok(((), Write::YES));
        }
        Ok(((), Write::when(drop_device_slots(vault)?)))
    });
    if applied && !on {
        // The slot is gone from the file first; a key left behind opens nothing.
        let _ = keys.biometrics.remove_key(DEVICE_KEY_ALIAS);
    }
    Ok(changed?.backup)
}

/// After a password unlock or a password change: the slot follows the setting. Off (turned
/// off, or turned off because the biometrics changed): a slot left in the vault is removed.
/// On without a slot (a password change dropped it): a new key is enrolled. Returns what the
/// UI is to hear of the backup.
pub fn reconcile(
    state: &AppState,
    inner: &mut Inner,
    keys: &DeviceKeys,
) -> AppResult<BackupNotice> {
    let want = inner.prefs.settings.biometrics;
    let has = has_device_slot(inner.vault()?);
    if want == has {
        return Ok(BackupNotice::NONE);
    }
    if want && !keys.biometrics.available() {
        turn_off_setting(state, inner);
        return Ok(BackupNotice::NONE);
    }
    set(state, inner, keys, want)
}

fn turn_off_setting(state: &AppState, inner: &mut Inner) {
    let mut prefs = inner.prefs.clone();
    prefs.settings.biometrics = false;
    // Not written: the setting is corrected again at the next unlock.
    if state.save_prefs(&prefs).is_ok() {
        inner.prefs = prefs;
    }
}

/// Opens the vault with the device key after biometrics. The key is read (the prompt shown)
/// without the state's lock. A key that is gone or no longer opens the vault turns biometric
/// unlock off (`AuthRequired`: use the password, after which the slot is removed).
pub fn unlock(state: &AppState, keys: &DeviceKeys) -> AppResult<()> {
    if !state.get()?.prefs.settings.biometrics {
        return Err(AppError::unsupported(
            "biometric unlock is off; unlock with your password",
        ));
    }
    let bytes = file::read(&state.vault_path())?;
    let gone = || {
        let _ = keys.biometrics.remove_key(DEVICE_KEY_ALIAS);
        if let Ok(mut inner) = state.get() {
            turn_off_setting(state, &mut inner);
        }
        AppError::new(
            ErrorKind::AuthRequired,
            "the biometrics on this device changed, so biometric unlock was turned off; unlock with your password and turn it on again in the settings",
        )
    };
    let Some(key) = keys.biometrics.load_key(DEVICE_KEY_ALIAS, PROMPT_REASON)? else {
        return Err(gone());
    };
    let vault = match Vault::open_with_device_key(&bytes, &key) {
        Ok(v) => v,
        Err(OpenError::DeviceKeyRejected) => return Err(gone()),
        Err(e) => return Err(e.into()),
    };
    // Biometrics are the user's presence, as the password is.
    let mut inner = state.get()?;
    state.install_opened(&mut inner, vault, &bytes);
    Ok(())
}
