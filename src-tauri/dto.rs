//! The types that cross the IPC boundary (docs/ipc.md): each domain's own (`accounts::dto`,
//! `vault::dto`, `push::dto`, `sync::dto`, `container::dto`, `settings::dto`), re-exported
//! here, and the app-wide ones: the start-up status and raw IPC bodies. Only codes, names and
//! metadata go to the webview; the only secrets coming from it (passwords, a typed secret) are
//! zeroized on drop. Their TypeScript form is generated into ui/src/bindings by ts-rs (see
//! tests.rs).

use serde::Serialize;
use zeroize::Zeroizing;

pub use crate::accounts::dto::*;
pub use crate::container::dto::*;
pub use crate::push::dto::*;
pub use crate::settings::dto::*;
pub use crate::sync::dto::*;
pub use crate::vault::dto::*;

/// Which platform the app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Platform {
    /// Linux, macOS, Windows.
    Desktop,
    /// Android.
    Android,
    /// iOS.
    Ios,
}

impl Platform {
    /// The platform this build is for.
    pub const fn current() -> Platform {
        if cfg!(target_os = "android") {
            Platform::Android
        } else if cfg!(target_os = "ios") {
            Platform::Ios
        } else {
            Platform::Desktop
        }
    }
}

/// What the UI needs at start to pick its first screen.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AppStatus {
    /// A vault file exists.
    pub vault_exists: bool,
    /// The vault is open in memory.
    pub unlocked: bool,
    /// Desktop or which phone.
    pub platform: Platform,
    /// The privacy statement was accepted.
    pub first_run_done: bool,
    /// The device has biometrics that can unlock the vault (a device-key slot).
    pub biometrics_available: bool,
    /// Biometric unlock is set up: the vault has a device slot and its key is kept.
    pub biometric_unlock: bool,
    /// Where the push accounts' keys are kept for polling while locked ("Secret Service",
    /// "Keychain", ...); `null`: this device has no such storage, so sign-in requests arrive
    /// only while the vault is unlocked.
    pub push_key_store: Option<String>,
    /// Why there is no such storage, when there is none.
    pub push_key_store_missing: Option<String>,
    /// The app's version.
    pub version: String,
}

/// The bytes of a raw IPC body (`invoke(cmd, bytes, { headers })` with a `Uint8Array`): files
/// and images travel as bytes, not as JSON arrays of numbers. Wiped on drop.
pub fn raw_body(request: &tauri::ipc::Request<'_>) -> crate::error::AppResult<Zeroizing<Vec<u8>>> {
    match request.body() {
        tauri::ipc::InvokeBody::Raw(bytes) => Ok(Zeroizing::new(bytes.clone())),
        tauri::ipc::InvokeBody::Json(_) => Err(crate::error::AppError::invalid(
            "send the bytes as the raw body of the call",
        )),
    }
}

/// A header of a raw IPC call, percent-encoded by the UI (`encodeURIComponent`) so that any
/// text fits; `None` when absent. Wiped on drop (it may be a password).
pub fn raw_header(
    request: &tauri::ipc::Request<'_>,
    name: &str,
) -> crate::error::AppResult<Option<Zeroizing<String>>> {
    let Some(value) = request.headers().get(name) else {
        return Ok(None);
    };
    let bad = || crate::error::AppError::invalid(format!("the {name} header is not valid text"));
    let text = value.to_str().map_err(|_| bad())?;
    let decoded = percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map_err(|_| bad())?;
    Ok(Some(Zeroizing::new(decoded.into_owned())))
}
