//! Settings and backups. Changing them needs the vault unlocked; the backup folder is chosen
//! in the system's folder dialog, never typed by the webview.

use tauri::{AppHandle, Runtime, State};

use crate::dto::{BackupStatus, Settings};
use crate::error::{AppError, AppResult};
use crate::platform::keys::DeviceKeys;
use crate::state::AppState;

/// The most a lock timeout may be: one day.
pub const MAX_LOCK_TIMEOUT_SECS: u32 = 86_400;

/// The settings (also while locked: the unlock screen needs the language and theme).
#[tauri::command]
pub async fn settings_get(state: State<'_, AppState>) -> AppResult<Settings> {
    Ok(state.get()?.prefs.settings.clone())
}

/// Checks and stores the settings; returns them as stored. Only while unlocked. The backup
/// folder can be turned off (`null`) here but only chosen with `backup_folder_choose`.
#[tauri::command]
pub async fn settings_set<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    keys: State<'_, DeviceKeys>,
    settings: Settings,
) -> AppResult<Settings> {
    if settings.lock_timeout_secs > MAX_LOCK_TIMEOUT_SECS {
        return Err(AppError::invalid(
            "the lock timeout can be at most one day (86400 s)",
        ));
    }
    if settings.keep_in_tray && !state.get()?.prefs.settings.keep_in_tray {
        #[cfg(desktop)]
        crate::tray::ensure(&app)?;
        #[cfg(mobile)]
        return Err(AppError::unsupported("phones have no system tray"));
    }
    #[cfg(desktop)]
    if !settings.keep_in_tray {
        crate::tray::remove(&app);
    }
    if settings.biometrics && !keys.biometrics.available() {
        return Err(AppError::unsupported(crate::platform::BIOMETRICS_MISSING));
    }
    let mut inner = state.get()?;
    inner.vault()?;
    if settings.biometrics != inner.prefs.settings.biometrics {
        // The device slot first: the setting says what the vault has.
        crate::vault::biometric::set(&state, &mut inner, &keys, settings.biometrics)?.report(&app);
    }
    let stored = inner.prefs.settings.backup_folder.clone();
    if settings.backup_folder.is_some() && settings.backup_folder != stored {
        return Err(AppError::invalid(
            "choose the backup folder in the folder dialog (Choose folder…)",
        ));
    }
    let mut prefs = inner.prefs.clone();
    prefs.settings = settings;
    state.save_prefs(&prefs)?;
    inner.prefs = prefs;
    let stored = inner.prefs.settings.clone();
    drop(inner);
    // Polling while locked turned on or off: the stored push keys follow.
    crate::push::locked::refresh_app(&app);
    Ok(stored)
}

/// Opens the system's folder dialog and makes the chosen folder the backup folder. Only while
/// unlocked. Returns the settings as stored (unchanged when the dialog was cancelled).
#[tauri::command]
pub async fn backup_folder_choose(state: State<'_, AppState>) -> AppResult<Settings> {
    state.get()?.vault()?;
    let device = state.device()?;
    let chosen = tauri::async_runtime::spawn_blocking(move || device.choose_folder())
        .await
        .map_err(|e| AppError::internal(format!("the folder dialog failed: {e}")))??;
    let mut inner = state.get()?;
    inner.vault()?;
    let Some(folder) = chosen else {
        return Ok(inner.prefs.settings.clone());
    };
    if !folder.is_absolute() || !folder.is_dir() {
        return Err(AppError::invalid(format!(
            "the backup folder {} is not an existing folder",
            folder.display()
        )));
    }
    if folder.canonicalize().ok() == state.dir().canonicalize().ok() {
        return Err(AppError::invalid(
            "backups must go to another folder than the vault's own",
        ));
    }
    let folder = folder
        .to_str()
        .ok_or_else(|| AppError::invalid("the folder's name is not valid text"))?
        .to_owned();
    let mut prefs = inner.prefs.clone();
    prefs.settings.backup_folder = Some(folder);
    state.save_prefs(&prefs)?;
    inner.prefs = prefs;
    Ok(inner.prefs.settings.clone())
}

/// Writes an encrypted backup of the vault to the backup folder now. Only while unlocked.
#[tauri::command]
pub async fn backup_now(state: State<'_, AppState>) -> AppResult<BackupStatus> {
    let mut inner = state.get()?;
    inner.vault()?;
    state.backup_now(&mut inner)
}

/// The last backup's outcome.
#[tauri::command]
pub async fn backup_status(state: State<'_, AppState>) -> AppResult<BackupStatus> {
    Ok(state.get()?.prefs.backup.clone())
}
