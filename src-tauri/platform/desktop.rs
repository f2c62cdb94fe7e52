//! Desktop: no camera scanning, no location, no biometrics. Each says so with `Unsupported`
//! (the location with `LocationUnavailable`) and the UI offers the fallback.

use tauri::{AppHandle, Runtime};

use crate::dto::LocationView;
use crate::error::{AppError, AppResult, ErrorKind};

/// Scanning with the camera.
pub fn scan_camera() -> AppError {
    AppError::unsupported(
        "there is no camera scanning on desktop; choose an image of the QR code or paste a screenshot",
    )
}

/// The device's position.
pub fn location<R: Runtime>(_app: &AppHandle<R>) -> AppResult<LocationView> {
    Err(AppError::new(
        ErrorKind::LocationUnavailable,
        "the location is not available on desktop",
    ))
}
