//! Push while locked (docs/push.md, "Push while locked"): what polling needs, the keys of the
//! push accounts that do not require the user's presence (`PushAccount::for_polling`), is kept
//! apart from the password-protected vault in the platform's secure storage
//! ([`crate::platform::keys::SecureStore`]) and in memory as a [`PushKeyring`], so the poller
//! polls, verifies and notifies while the vault is locked. Accounts with `pin` or
//! `app_force_unlock` stay in the vault only (polled while it is unlocked). Answering needs
//! the vault, so the user's presence (biometrics or the password); what the keyring received
//! is verified again with the vault's server keys before the vault takes it. With the setting
//! off, no key is kept outside the vault.
//!
//! The vault stays the record. While it is open, every poll round (and an unlock, an
//! enrolment, a removal) refreshes the keyring from it and writes the stored copy when the
//! accounts changed; after an unlock the vault takes over what the keyring received while
//! locked ([`twofold_core::vault::Vault::adopt_pending`]).

use tauri::{AppHandle, Manager, Runtime};
use twofold_core::vault::PushKeyring;

use super::PushService;
use crate::error::AppResult;
use crate::events::BackupNotice;
use crate::platform::keys::{DeviceKeys, PUSH_KEYRING};
use crate::state::{AppState, Inner, unix_now};
use crate::store::{By, Write};

/// Polling while locked is on: the setting allows it and there is a secure storage.
pub fn enabled(inner: &Inner, keys: Option<&DeviceKeys>) -> bool {
    inner.prefs.settings.push_while_locked && keys.is_some_and(|k| k.store.is_ok())
}

/// At start-up: the stored keyring, when polling while locked is on. A stored copy that
/// cannot be read is dropped (the next unlock writes it again from the vault).
pub fn load(state: &AppState, service: &PushService, keys: &DeviceKeys) -> AppResult<()> {
    let on = {
        let inner = state.get()?;
        enabled(&inner, Some(keys))
    };
    if !on {
        return Ok(());
    }
    let Ok(store) = &keys.store else {
        return Ok(());
    };
    if let Some(bytes) = store.read(PUSH_KEYRING)? {
        match PushKeyring::from_bytes(&bytes) {
            Ok(ring) => {
                // A copy holding more than polling needs (written by an earlier version, with
                // the keys of accounts that require presence) is written again without it.
                let kept = ring.to_bytes();
                if kept.as_slice() != bytes.as_slice() {
                    if ring.accounts().is_empty() {
                        store.delete(PUSH_KEYRING)?;
                    } else {
                        store.write(PUSH_KEYRING, &kept)?;
                    }
                }
                if !ring.accounts().is_empty() {
                    *PushService::lock(&service.keyring)? = Some(ring);
                }
            }
            Err(_) => store.delete(PUSH_KEYRING)?,
        }
    }
    Ok(())
}

/// Makes the keyring the open vault's again: kept in memory while polling while locked is on
/// (and there are push accounts), its stored copy written when the accounts changed and
/// removed when it is off or there are none. Nothing to do while locked.
pub fn refresh(state: &AppState, service: &PushService, keys: &DeviceKeys) -> AppResult<()> {
    let (fresh, on) = {
        let inner = state.get()?;
        let Some(vault) = inner.vault.as_ref() else {
            return Ok(());
        };
        (vault.push_keyring(), enabled(&inner, Some(keys)))
    };
    let Ok(store) = &keys.store else {
        return Ok(());
    };
    let keep = on && !fresh.accounts().is_empty();
    let changed = {
        let mut live = PushService::lock(&service.keyring)?;
        let changed = live.as_ref().is_none_or(|l| !l.same_accounts(&fresh));
        let had = live.is_some();
        *live = keep.then_some(fresh.clone());
        changed || (had && !keep)
    };
    if changed {
        // The storage is written without the state's lock (a D-Bus or Keystore call).
        if keep {
            store.write(PUSH_KEYRING, &fresh.to_bytes())?;
        } else {
            store.delete(PUSH_KEYRING)?;
        }
    }
    Ok(())
}

/// [`refresh`] for a command or the poller; a failure of the storage is not the command's:
/// polling while locked then goes on with the keyring in memory.
pub fn refresh_app<R: Runtime>(app: &AppHandle<R>) {
    if let (Some(state), Some(service), Some(keys)) = (
        app.try_state::<AppState>(),
        app.try_state::<PushService>(),
        app.try_state::<DeviceKeys>(),
    ) {
        let _ = refresh(&state, &service, &keys);
    }
}

/// Right after an unlock: the vault takes over the challenges received while it was locked
/// (saved when there were any), then the keyring is refreshed from it. Returns what the UI is
/// to hear of the backup.
pub fn after_unlock<R: Runtime>(app: &AppHandle<R>) -> AppResult<BackupNotice> {
    let state = app.state::<AppState>();
    let service = app.state::<PushService>();
    let received = PushService::lock(&service.keyring)?.clone();
    let mut backup = BackupNotice::NONE;
    if let Some(ring) = received {
        let mut inner = state.get()?;
        let now = unix_now();
        // Taking them over is not user activity.
        backup = state
            .change_with(&mut inner, By::App, |inner| {
                let adopted = inner.vault_mut()?.adopt_pending(&ring, now);
                Ok(((), Write::when(adopted > 0)))
            })?
            .backup;
    }
    refresh_app(app);
    super::delivery::spawn_after_unlock(app);
    Ok(backup)
}
