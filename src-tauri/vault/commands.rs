//! Creating, unlocking, locking the vault and changing its password.

use std::time::Instant;

use tauri::{AppHandle, Emitter, Manager, Runtime, State};
use twofold_core::rng::SystemRng;
use twofold_core::vault::{Vault, file};
use zeroize::Zeroizing;

use crate::dto::{AppStatus, EVENT_VAULT_LOCKED, LockReason, Platform};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::events::{BackupNotice, reason};
use crate::platform::keys::DeviceKeys;
use crate::state::AppState;
use crate::store::{By, Write};

fn non_empty(password: &str) -> AppResult<()> {
    if password.is_empty() {
        return Err(AppError::invalid("the password must not be empty"));
    }
    Ok(())
}

/// Which screen the UI starts on.
#[tauri::command]
pub async fn app_status(
    state: State<'_, AppState>,
    keys: State<'_, DeviceKeys>,
) -> AppResult<AppStatus> {
    let biometrics_available = keys.biometrics.available();
    let inner = state.get()?;
    Ok(AppStatus {
        vault_exists: state.vault_path().exists(),
        unlocked: inner.vault.is_some(),
        platform: Platform::current(),
        first_run_done: inner.prefs.first_run_done,
        biometrics_available,
        biometric_unlock: biometrics_available && crate::vault::biometric::is_set_up(&inner),
        push_key_store: keys.store_name().map(str::to_owned),
        push_key_store_missing: keys.store.as_ref().err().cloned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

/// The privacy statement was accepted.
#[tauri::command]
pub async fn first_run_accept(state: State<'_, AppState>) -> AppResult<()> {
    let mut inner = state.get()?;
    let mut prefs = inner.prefs.clone();
    prefs.first_run_done = true;
    state.save_prefs(&prefs)?;
    inner.prefs = prefs;
    Ok(())
}

/// Creates the vault with a password and leaves it unlocked.
#[tauri::command]
pub async fn vault_create<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    password: Zeroizing<String>,
) -> AppResult<()> {
    non_empty(&password)?;
    let path = state.vault_path();
    if path.exists() {
        return Err(file::FileError::Exists(path).into());
    }
    let vault = Vault::create(password.as_bytes(), state.kdf()?, &SystemRng::new())?;
    let mut inner = state.get()?;
    let bytes = vault.to_bytes(&SystemRng::new())?;
    file::write_atomic(&path, &bytes, true)?;
    state.install_opened(&mut inner, vault, &bytes);
    drop(inner);
    crate::push::locked::refresh_app(&app);
    crate::push::delivery::spawn_after_unlock(&app);
    Ok(())
}

/// Opens the vault with its password. Also works while it is open: entering the password
/// again is the desktop's device authentication before approving a sign-in that asks for it.
/// Afterwards the vault takes over the sign-in requests that arrived while it was locked, and
/// the device slot follows the biometrics setting (`biometric::reconcile`).
#[tauri::command]
pub async fn vault_unlock<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    keys: State<'_, DeviceKeys>,
    password: Zeroizing<String>,
) -> AppResult<()> {
    let bytes = file::read(&state.vault_path())?;
    let vault = Vault::open(&bytes, password.as_bytes())?;
    let mut inner = state.get()?;
    state.install_opened(&mut inner, vault, &bytes);
    // Neither step may undo the unlock: a slot left behind is removed at the next unlock, and
    // requests received while locked are still listed by the server at the next poll.
    let slot_backup =
        crate::vault::biometric::reconcile(&state, &mut inner, &keys).unwrap_or(BackupNotice::NONE);
    drop(inner);
    let backup = crate::push::locked::after_unlock(&app).unwrap_or(BackupNotice::NONE);
    slot_backup.or(backup).report(&app);
    Ok(())
}

/// Opens the vault with the device key after biometrics (a device slot, docs/vault.md);
/// `Unsupported` where the device has no biometric unlock (desktop). The prompt runs off the
/// async workers.
#[tauri::command]
pub async fn vault_unlock_biometric<R: Runtime>(app: AppHandle<R>) -> AppResult<()> {
    let handle = app.clone();
    crate::support::off_thread(move || {
        let keys = handle.state::<DeviceKeys>();
        crate::vault::biometric::unlock(&handle.state::<AppState>(), &keys)
    })
    .await?;
    // Requests received while locked are still listed by the server if this fails.
    crate::push::locked::after_unlock(&app)
        .unwrap_or(BackupNotice::NONE)
        .report(&app);
    Ok(())
}

/// Locks the vault now.
#[tauri::command]
pub async fn vault_lock<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> AppResult<()> {
    state.lock_now();
    app.emit(EVENT_VAULT_LOCKED, reason(LockReason::User))?;
    Ok(())
}

/// Replaces the password after checking the current one against the file.
#[tauri::command]
pub async fn vault_change_password<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    current: Zeroizing<String>,
    next: Zeroizing<String>,
) -> AppResult<()> {
    non_empty(&next)?;
    state.get()?.vault()?;
    let kdf = state.kdf()?;
    // Both key derivations (checking the current password, wrapping the new master key) run
    // without the state's lock, on the vault as the file holds it now.
    let bytes = file::read(&state.vault_path())?;
    let mut rekeyed =
        Vault::open(&bytes, current.as_bytes()).map_err(|e| match AppError::from(e) {
            e if e.kind == ErrorKind::WrongPassword => {
                AppError::new(ErrorKind::WrongPassword, "the current password is wrong")
            }
            e => e,
        })?;
    rekeyed.set_password(next.as_bytes(), kdf, &SystemRng::new())?;
    let mut inner = state.get()?;
    let path = state.vault_path();
    let changed = state.change_with(&mut inner, By::User, |inner| {
        if file::current(&path)? != Some(file::Fingerprint::of(&bytes)) {
            return Err(AppError::new(
                ErrorKind::Io,
                "the vault was changed elsewhere while the password was being changed; try again",
            ));
        }
        inner.vault = Some(rekeyed);
        inner.password_at = Some(Instant::now());
        // The previous version opens with the old password: it does not stay beside the vault.
        Ok(((), Write::Seal(file::Backup::Remove)))
    })?;
    changed.backup.report(&app);
    // The device slot went with the old master key: biometric unlock gets a new one.
    let keys = app.state::<DeviceKeys>();
    crate::vault::biometric::reconcile(&state, &mut inner, &keys)?.report(&app);
    Ok(())
}
