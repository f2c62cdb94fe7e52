//! privacyIDEA token containers (docs/ipc.md, "Containers"): one-line delegations to
//! the container service (`service.rs`).

use tauri::{AppHandle, Runtime, State};
use twofold_core::container::Registration;
use zeroize::Zeroizing;

use super::dto::{
    ContainerPreview, ContainerRegistered, ContainerSyncView, ContainerTransfer, ContainerView,
};
use crate::container::{self, ContainerService};
use crate::error::AppResult;
use crate::state::{AppState, unix_now};

/// Reads a `pia://container/` QR code for the confirmation screen: server, issuer, whether a
/// passphrase is asked and the server's prompt. Sends nothing.
#[tauri::command]
pub async fn container_preview(
    service: State<'_, ContainerService>,
    uri: Zeroizing<String>,
) -> AppResult<ContainerPreview> {
    let registration = Registration::parse(&uri, unix_now())?;
    drop(uri);
    container::preview(&service, registration)
}

/// Registers the previewed container the user confirmed, then syncs it the first time;
/// `offer`: the OTP accounts the user ticked for the server's initial transfer (none if absent).
#[tauri::command]
pub async fn container_register<R: Runtime>(
    app: AppHandle<R>,
    service: State<'_, ContainerService>,
    id: String,
    passphrase: Option<Zeroizing<String>>,
    offer: Option<Vec<String>>,
) -> AppResult<ContainerRegistered> {
    let offer = offer.unwrap_or_default();
    let (done, backup) = container::register(&app, &service, &id, passphrase, &offer).await?;
    backup.report(&app);
    Ok(done)
}

/// Forgets the previewed container QR code (the user cancelled).
#[tauri::command]
pub async fn container_cancel(service: State<'_, ContainerService>, id: String) -> AppResult<()> {
    container::cancel(&service, &id)
}

/// The registered containers.
#[tauri::command]
pub async fn containers_list(
    state: State<'_, AppState>,
    service: State<'_, ContainerService>,
) -> AppResult<Vec<ContainerView>> {
    container::list(&state, &service)
}

/// Syncs one container, or all of them.
#[tauri::command]
pub async fn container_sync<R: Runtime>(
    app: AppHandle<R>,
    service: State<'_, ContainerService>,
    serial: Option<String>,
) -> AppResult<Vec<ContainerSyncView>> {
    let (views, backups) =
        container::sync(&app, &service, serial.as_deref(), crate::store::By::User).await?;
    backups.into_iter().for_each(|b| b.report(&app));
    Ok(views)
}

/// Rolls the container over in place: a new key on this device, then a sync.
#[tauri::command]
pub async fn container_rollover<R: Runtime>(
    app: AppHandle<R>,
    service: State<'_, ContainerService>,
    serial: String,
) -> AppResult<ContainerSyncView> {
    let (view, backup) = container::rollover(&app, &service, &serial).await?;
    backup.report(&app);
    Ok(view)
}

/// "Move to a new phone": the `pia://container/` link and its QR code for the other device
/// (`AuthRequired` unless the password was entered within the last minute).
#[tauri::command]
pub async fn container_transfer<R: Runtime>(
    app: AppHandle<R>,
    service: State<'_, ContainerService>,
    serial: String,
) -> AppResult<ContainerTransfer> {
    container::transfer(&app, &service, &serial).await
}

/// Unregisters the container and removes its accounts from this device; the serials removed.
#[tauri::command]
pub async fn container_unregister<R: Runtime>(
    app: AppHandle<R>,
    service: State<'_, ContainerService>,
    serial: String,
) -> AppResult<Vec<String>> {
    let (removed, backup) = container::unregister(&app, &service, &serial).await?;
    backup.report(&app);
    Ok(removed)
}
