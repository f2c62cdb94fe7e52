//! Sync between the user's devices (docs/ipc.md, "Sync"): one-line delegations to
//! [`crate::sync`], run off the async workers (dialogs, the target's I/O, key derivation).
//! Each sync is told to the UI with the `sync-status` event as well as answered.

use tauri::{AppHandle, Manager, Runtime, State};
use zeroize::Zeroizing;

use super::dto::{PassphraseStrength, SyncDevice, SyncStatus};
use crate::error::AppResult;
use crate::state::AppState;
use crate::support::off_thread;
use crate::sync::{self, SyncService};

/// Runs `work` with the state and the sync service on a blocking thread.
async fn blocking<R: Runtime, T: Send + 'static>(
    app: &AppHandle<R>,
    work: impl FnOnce(&AppState, &SyncService) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    let handle = app.clone();
    off_thread(move || work(&handle.state::<AppState>(), &handle.state::<SyncService>())).await
}

/// The strength of a new password or passphrase by the core's one rule (the meter, and the
/// check before a vault password or a new sync set's passphrase is taken). Works locked too.
#[tauri::command]
pub async fn passphrase_strength(passphrase: Zeroizing<String>) -> PassphraseStrength {
    twofold_core::strength::estimate(&passphrase).into()
}

/// How sync stands. Only while unlocked.
#[tauri::command]
pub async fn sync_status(
    state: State<'_, AppState>,
    service: State<'_, SyncService>,
) -> AppResult<SyncStatus> {
    sync::status(&state, &service)
}

/// Rust opens the folder dialog; the chosen folder waits for the passphrase (`sync_setup`).
#[tauri::command]
pub async fn sync_folder_choose<R: Runtime>(app: AppHandle<R>) -> AppResult<SyncStatus> {
    blocking(&app, sync::choose_folder).await
}

/// A WebDAV server to sync through; waits for the passphrase like a folder.
#[tauri::command]
pub async fn sync_webdav_choose<R: Runtime>(
    app: AppHandle<R>,
    url: String,
    user: String,
    password: Zeroizing<String>,
) -> AppResult<SyncStatus> {
    blocking(&app, move |s, v| {
        sync::choose_webdav(s, v, &url, &user, password)
    })
    .await
}

/// Joins (or creates) the chosen target's sync set with the passphrase, entered once, and
/// syncs.
#[tauri::command]
pub async fn sync_setup<R: Runtime>(
    app: AppHandle<R>,
    passphrase: Zeroizing<String>,
) -> AppResult<SyncStatus> {
    let result = blocking(&app, move |s, v| sync::set_up(s, v, passphrase)).await;
    finish(&app, result)
}

/// Syncs now.
#[tauri::command]
pub async fn sync_now<R: Runtime>(app: AppHandle<R>) -> AppResult<SyncStatus> {
    let result = blocking(&app, sync::sync_now).await;
    finish(&app, result)
}

/// Syncs with the set's new passphrase, after another device removed one and re-keyed the set
/// (the sync's error was `SyncNewPassphrase`).
#[tauri::command]
pub async fn sync_rejoin<R: Runtime>(
    app: AppHandle<R>,
    passphrase: Zeroizing<String>,
) -> AppResult<SyncStatus> {
    let result = blocking(&app, move |s, v| sync::rejoin(s, v, passphrase)).await;
    finish(&app, result)
}

/// The sync set's devices as of this device's last sync, this one first.
#[tauri::command]
pub async fn sync_devices(state: State<'_, AppState>) -> AppResult<Vec<SyncDevice>> {
    sync::devices(&state)
}

/// Renames this device in the sync set (sent with the next sync).
#[tauri::command]
pub async fn sync_rename_device<R: Runtime>(
    app: AppHandle<R>,
    name: String,
) -> AppResult<Vec<SyncDevice>> {
    let (list, backup) = blocking(&app, move |s, _| sync::rename(s, &name)).await?;
    backup.report(&app);
    Ok(list)
}

/// Removes another device from the sync set and re-keys it with a new passphrase (the
/// password again within the last minute).
#[tauri::command]
pub async fn sync_remove_device<R: Runtime>(
    app: AppHandle<R>,
    id: String,
    passphrase: Zeroizing<String>,
) -> AppResult<SyncStatus> {
    let result = blocking(&app, move |s, v| sync::remove_device(s, v, &id, passphrase)).await;
    finish(&app, result)
}

/// Turns sync off on this device (the accounts stay; the target's files stay for the other
/// devices).
#[tauri::command]
pub async fn sync_off<R: Runtime>(app: AppHandle<R>) -> AppResult<SyncStatus> {
    let backup = blocking(&app, sync::turn_off).await?;
    backup.report(&app);
    sync::status(&app.state::<AppState>(), &app.state::<SyncService>())
}

/// Tells the UI about a sync, then answers with its status (or its error).
fn finish<R: Runtime>(app: &AppHandle<R>, result: AppResult<sync::Done>) -> AppResult<SyncStatus> {
    sync::announce(app, &result);
    let status = sync::status_after(
        &app.state::<AppState>(),
        &app.state::<SyncService>(),
        &result,
    );
    result?;
    status
}
