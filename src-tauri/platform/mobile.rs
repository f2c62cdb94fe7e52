//! Android and iOS: location through the geolocation plugin; the camera through the
//! barcode-scanner plugin, driven by the UI.

use tauri::{AppHandle, Runtime};
use tauri_plugin_geolocation::{GeolocationExt, PositionOptions};

use crate::dto::LocationView;
use crate::error::{AppError, AppResult, ErrorKind};

/// Scanning with the camera from Rust: the barcode-scanner plugin's Rust side has no scan
/// call, so the UI scans with the plugin and sends the text to `add_uri`.
pub fn scan_camera() -> AppError {
    AppError::unsupported(
        "scan with the barcode scanner from the UI and add the text it reads with add_uri",
    )
}

/// The location permission (coarse: an approximate position is all an approval needs), checked
/// or asked for through the geolocation plugin.
pub fn location_permission<R: Runtime>(
    app: &AppHandle<R>,
    ask: bool,
) -> AppResult<crate::dto::PermissionState> {
    use tauri_plugin_geolocation::PermissionType;
    let geo = app.geolocation();
    let status = if ask {
        geo.request_permissions(Some(vec![PermissionType::CoarseLocation]))
    } else {
        geo.check_permissions()
    }
    .map_err(|e| {
        AppError::internal(format!(
            "the system did not answer about the location permission: {e}"
        ))
    })?;
    Ok(super::state_of(status.coarse_location))
}

/// The phone's position.
pub fn location<R: Runtime>(app: &AppHandle<R>) -> AppResult<LocationView> {
    let position = app
        .geolocation()
        .get_current_position(Some(PositionOptions {
            // Coarse is enough to show where an approval came from.
            enable_high_accuracy: false,
            // Ten seconds at most: the prompt says "Location unavailable" after that.
            timeout: 10_000,
            // A fix from the last minute is as good for naming the town.
            maximum_age: 60_000,
        }))
        .map_err(|e| {
            AppError::new(
                ErrorKind::LocationUnavailable,
                format!("the location is not available: {e}"),
            )
        })?;
    Ok(LocationView {
        latitude: position.coords.latitude,
        longitude: position.coords.longitude,
        accuracy_m: Some(position.coords.accuracy),
        place: None,
    })
}
