//! Device features: the phone's location.

use tauri::{AppHandle, Runtime};

use crate::dto::LocationView;
use crate::error::AppResult;

/// Where the phone is (the push approval prompt shows it). `Unsupported` on desktop.
#[tauri::command]
pub async fn location_current<R: Runtime>(app: AppHandle<R>) -> AppResult<LocationView> {
    crate::platform::location(&app)
}
