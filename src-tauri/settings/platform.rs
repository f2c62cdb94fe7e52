//! Device features: the phone's location, the OS permissions, the UI's language.

use tauri::{AppHandle, Runtime, State};

use crate::dto::{LocationView, Permission, PermissionView, UiLocale};
use crate::error::AppResult;
use crate::push::PushService;
use crate::state::AppState;

/// Where the phone is (the push approval prompt shows it), coarse, within ten seconds, with
/// the nearest town looked up on the device. `LocationUnavailable` on desktop.
#[tauri::command]
pub async fn location_current<R: Runtime>(app: AppHandle<R>) -> AppResult<LocationView> {
    crate::support::off_thread(move || {
        crate::platform::location(&app).map(crate::place::with_place)
    })
    .await
}

/// The permissions this platform asks for from Rust, each with its state (desktop: only
/// notifications; the camera's is the barcode scanner's, asked in the UI).
#[tauri::command]
pub async fn permissions_status(state: State<'_, AppState>) -> AppResult<Vec<PermissionView>> {
    let device = state.device()?;
    crate::support::off_thread(move || crate::platform::permissions(&*device)).await
}

/// Shows the OS prompt for one permission and returns its state after it.
#[tauri::command]
pub async fn permission_request(
    state: State<'_, AppState>,
    permission: Permission,
) -> AppResult<PermissionView> {
    let device = state.device()?;
    crate::support::off_thread(move || crate::platform::request(&*device, permission)).await
}

/// The language the UI shows: Rust writes the notifications in it.
#[tauri::command]
pub async fn ui_locale_set<R: Runtime>(
    app: AppHandle<R>,
    service: State<'_, PushService>,
    locale: UiLocale,
) -> AppResult<()> {
    crate::push::notifier::set_locale(&app, &service, locale)
}
