//! Settings and backups.

use tauri::State;

use crate::dto::{BackupStatus, Settings};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The most a lock timeout may be: one day.
pub const MAX_LOCK_TIMEOUT_SECS: u32 = 86_400;

/// The settings.
#[tauri::command]
pub async fn settings_get(state: State<'_, AppState>) -> AppResult<Settings> {
    Ok(state.get()?.prefs.settings.clone())
}

/// Checks and stores the settings; returns them as stored.
#[tauri::command]
pub async fn settings_set(state: State<'_, AppState>, settings: Settings) -> AppResult<Settings> {
    if settings.lock_timeout_secs > MAX_LOCK_TIMEOUT_SECS {
        return Err(AppError::invalid(
            "the lock timeout can be at most one day (86400 s)",
        ));
    }
    let mut settings = settings;
    settings.backup_folder = settings
        .backup_folder
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty());
    if let Some(f) = &settings.backup_folder {
        let p = std::path::Path::new(f);
        if !p.is_absolute() || !p.is_dir() {
            return Err(AppError::invalid(format!(
                "the backup folder {f} is not an existing folder"
            )));
        }
    }
    if settings.biometrics && !crate::platform::biometrics_available() {
        return Err(AppError::unsupported(crate::platform::BIOMETRICS_MISSING));
    }
    let mut inner = state.get()?;
    let mut prefs = inner.prefs.clone();
    prefs.settings = settings;
    state.save_prefs(&prefs)?;
    inner.prefs = prefs;
    Ok(inner.prefs.settings.clone())
}

/// Writes an encrypted backup of the vault to the backup folder now.
#[tauri::command]
pub async fn backup_now(state: State<'_, AppState>) -> AppResult<BackupStatus> {
    let mut inner = state.get()?;
    state.backup_now(&mut inner)
}

/// The last backup's outcome.
#[tauri::command]
pub async fn backup_status(state: State<'_, AppState>) -> AppResult<BackupStatus> {
    Ok(state.get()?.backup.clone())
}
