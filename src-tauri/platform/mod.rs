//! Device features behind one name: `desktop.rs` and `mobile.rs` (as Tauri's plugins do).
//!
//! | feature | desktop | Android / iOS |
//! |---|---|---|
//! | camera scan | `Unsupported`: choose an image or paste a screenshot | the UI runs the barcode-scanner plugin (its Rust side exposes no scan) and sends the text to `add_uri` |
//! | location | `LocationUnavailable` (the geolocation plugin's desktop stub returns a zeroed position, which must never be shown) | geolocation plugin |
//! | biometric unlock | `Unsupported` | the vault's device slot, its key kept by tauri-plugin-biometry ([`keys::Biometrics`]) |
//! | push keys while locked | the Keychain, the Credential Manager or the Secret Service ([`keys::SecureStore`]; none: polling only while unlocked) | Android Keystore, iOS Keychain |
//! | save dialog (exports) | dialog plugin, opened from Rust | the document picker; a `content://` answer is `Unsupported` until a mobile file writer exists |
//! | folder dialog (backups) | dialog plugin, opened from Rust | `Unsupported` (the plugin has no folder picker on phones) |
//! | sync folder | the folder dialog: a path | Android: the storage-access-framework folder picker (tauri-plugin-android-fs), a tree URI whose access is kept across restarts, read and written through the plugin (`platform/saf.rs`); iOS: `Unsupported` (no maintained plugin gives Rust the document picker's folder with security-scoped access), the UI offers WebDAV |
//! | push delivery (`push::delivery`) | Linux: UnifiedPush over D-Bus ([`unifiedpush`], when a distributor is installed); macOS, Windows: none yet, polling | the push service's token through tauri-plugin-notifications ([`phonepush`]): FCM on Android (only in a build with google-services.json; without it polling, and Settings says so), APNs on iOS |
//! | clipboard | clipboard-manager plugin, written and cleared from Rust | the same |
//! | permissions | notifications only, through the notification plugin (which reports `Granted`: desktop systems have no per-app prompt it can ask) | notifications (tauri-plugin-notifications) and location (geolocation plugin, coarse) from Rust; the camera from the UI through the barcode-scanner plugin's own calls, because that plugin's Rust side has no permission call |

pub mod keys;

#[cfg(desktop)]
mod desktop;
#[cfg(desktop)]
pub use desktop::*;

#[cfg(mobile)]
mod mobile;
#[cfg(mobile)]
pub use mobile::*;

#[cfg(target_os = "android")]
mod saf;

#[cfg(target_os = "linux")]
pub mod unifiedpush;

#[cfg(any(mobile, test))]
pub mod phonepush;

/// The platform's push distributor (docs/push.md, "Push through the relay"): on Linux the
/// UnifiedPush D-Bus connector ([`unifiedpush`]), its calls handed to
/// [`crate::push::delivery::handle`] in order on a thread of their own (a session bus that
/// cannot be used is reported as the distributor's problem); on phones the push service's token
/// through tauri-plugin-notifications ([`phonepush`]: FCM on Android when the build has a
/// Firebase configuration, APNs on iOS); none on the other platforms yet.
pub fn push_delivery<R: Runtime>(app: &AppHandle<R>) -> crate::push::delivery::PushDelivery {
    use crate::push::delivery::PushDelivery;
    #[cfg(target_os = "linux")]
    {
        use std::sync::Arc;
        match unifiedpush::UnifiedPush::connect() {
            Ok((connector, incoming)) => {
                serve(app, incoming);
                PushDelivery(Some(Arc::new(connector)))
            }
            Err(e) => PushDelivery(Some(Arc::new(unifiedpush::NoBus(e.to_string())))),
        }
    }
    #[cfg(mobile)]
    {
        use std::sync::Arc;
        match mobile::push_tokens(app) {
            Some(source) => {
                let (phone, incoming) = phonepush::PhonePush::new(source);
                serve(app, incoming);
                PushDelivery(Some(Arc::new(phone)))
            }
            None => PushDelivery(Some(Arc::new(phonepush::Unconfigured(
                phonepush::NO_FIREBASE,
            )))),
        }
    }
    #[cfg(not(any(target_os = "linux", mobile)))]
    {
        let _ = app;
        PushDelivery(None)
    }
}

/// Hands what the distributor tells the app to [`crate::push::delivery::handle`], in order, on a
/// thread of its own.
#[cfg(any(target_os = "linux", mobile))]
fn serve<R: Runtime>(
    app: &AppHandle<R>,
    incoming: impl IntoIterator<Item = crate::push::delivery::Incoming> + Send + 'static,
) {
    let handle = app.clone();
    std::thread::spawn(move || {
        for message in incoming {
            // A message the app cannot read is dropped; polling still brings it.
            let _ = crate::push::delivery::handle(&handle, message);
        }
    });
}

/// Why a folder cannot be chosen for sync on iOS.
#[cfg(target_os = "ios")]
const NO_SYNC_FOLDER: &str = "syncing through a folder is not available on this iPhone yet: its document picker gives no folder this version can keep reading and writing; sync through a WebDAV server instead";

/// Why biometrics cannot be turned on.
pub const BIOMETRICS_MISSING: &str =
    "this device has no biometric unlock for Twofold; unlock with your password";

use std::path::PathBuf;

use tauri::{AppHandle, Runtime};
use twofold_sync::{Documents, Target};

use crate::dto::{Permission, PermissionState};
use crate::error::{AppError, AppResult};

/// The permissions the OS asks for on this platform and Rust asks for through the plugins.
/// Desktop: notifications only (no camera scanning, no location). Phones: notifications and
/// location; the camera is asked by the barcode scanner in the UI (docs/ipc.md).
pub const RUST_PERMISSIONS: &[Permission] = if cfg!(mobile) {
    &[Permission::Notifications, Permission::Location]
} else {
    &[Permission::Notifications]
};

/// Each permission of [`RUST_PERMISSIONS`] with its state.
pub fn permissions(device: &dyn Device) -> AppResult<Vec<crate::dto::PermissionView>> {
    RUST_PERMISSIONS
        .iter()
        .map(|&permission| {
            Ok(crate::dto::PermissionView {
                permission,
                state: device.permission_state(permission)?,
            })
        })
        .collect()
}

/// Asks for `permission` (the OS prompt) and returns its state after.
pub fn request(
    device: &dyn Device,
    permission: Permission,
) -> AppResult<crate::dto::PermissionView> {
    if !RUST_PERMISSIONS.contains(&permission) {
        return Err(not_from_rust(permission));
    }
    Ok(crate::dto::PermissionView {
        permission,
        state: device.request_permission(permission)?,
    })
}

/// The plugins' permission state as the app's.
fn state_of(s: tauri::plugin::PermissionState) -> PermissionState {
    use tauri::plugin::PermissionState as P;
    match s {
        P::Granted => PermissionState::Granted,
        P::Denied => PermissionState::Denied,
        P::Prompt => PermissionState::Prompt,
        P::PromptWithRationale => PermissionState::PromptWithRationale,
    }
}

/// Why a permission cannot be checked or asked for from Rust here.
fn not_from_rust(which: Permission) -> AppError {
    AppError::unsupported(match which {
        Permission::Camera if cfg!(mobile) => {
            "the camera permission is asked by the barcode scanner in the app's screen"
        }
        Permission::Camera => "there is no camera scanning on desktop",
        Permission::Location => "there is no location on desktop",
        Permission::Notifications => "notifications are not available",
    })
}

/// The system's file dialogs and clipboard, the boundary shell tests replace (a dialog cannot
/// be driven without a window; the clipboard under test is a plain string). The app uses
/// [`TauriDevice`], the official dialog and clipboard-manager plugins, called from Rust only:
/// the webview gets no permission of either plugin, so it can neither name a path nor read the
/// clipboard.
pub trait Device: Send + Sync + 'static {
    /// The system's save dialog, suggesting `file_name`; `None` when the person cancels.
    fn choose_save_path(&self, file_name: &str) -> AppResult<Option<PathBuf>>;
    /// The system's folder dialog; `None` when the person cancels.
    fn choose_folder(&self) -> AppResult<Option<PathBuf>>;
    /// The system's picker of a folder to sync through; `None` when the person cancels.
    /// Desktop: the folder dialog (a [`Target::Folder`]); Android: the storage-access-framework
    /// picker (a [`Target::Saf`], its access kept across restarts); iOS: `Unsupported`.
    fn choose_sync_folder(&self) -> AppResult<Option<Target>>;
    /// The Android folder of a [`Target::Saf`] (its tree URI), read and written through the
    /// document API. `Unsupported` where there is none (desktop, iOS).
    fn documents(&self, tree: &str) -> AppResult<Box<dyn Documents>>;
    /// Puts `text` on the clipboard.
    fn clipboard_write(&self, text: &str) -> AppResult<()>;
    /// What the clipboard holds as text, `None` when it holds none or cannot be read.
    fn clipboard_read(&self) -> Option<String>;
    /// Empties the clipboard.
    fn clipboard_clear(&self) -> AppResult<()>;
    /// What the OS allows for `which` now. `Unsupported` for what does not apply here
    /// (see [`RUST_PERMISSIONS`]).
    fn permission_state(&self, which: Permission) -> AppResult<PermissionState>;
    /// Shows the OS prompt for `which` (when the OS still shows one) and returns the state
    /// after it. `Unsupported` as in [`Device::permission_state`].
    fn request_permission(&self, which: Permission) -> AppResult<PermissionState>;
}

/// [`Device`] through the dialog and clipboard-manager plugins. Desktop: every call. Phones:
/// the save dialog is the platform's document picker (its `content://` answer is refused as
/// `Unsupported` until a mobile file writer exists), no folder picker (`Unsupported`), the
/// clipboard works.
pub struct TauriDevice<R: Runtime>(pub AppHandle<R>);

/// A dialog's answer as a file path. Phones may answer with a `content://` URI, which std::fs
/// cannot write: `Unsupported` until the mobile file writer exists.
fn file_path(p: tauri_plugin_dialog::FilePath) -> AppResult<PathBuf> {
    p.into_path().map_err(|_| {
        AppError::unsupported("the chosen place is not a file path this version can write to")
    })
}

impl<R: Runtime> Device for TauriDevice<R> {
    fn choose_save_path(&self, file_name: &str) -> AppResult<Option<PathBuf>> {
        use tauri_plugin_dialog::DialogExt;
        self.0
            .dialog()
            .file()
            .set_file_name(file_name)
            .blocking_save_file()
            .map(file_path)
            .transpose()
    }

    #[cfg(desktop)]
    fn choose_folder(&self) -> AppResult<Option<PathBuf>> {
        use tauri_plugin_dialog::DialogExt;
        self.0
            .dialog()
            .file()
            .blocking_pick_folder()
            .map(file_path)
            .transpose()
    }

    /// The dialog plugin has no folder picker on phones (its `pick_folder` is desktop-only).
    #[cfg(mobile)]
    fn choose_folder(&self) -> AppResult<Option<PathBuf>> {
        Err(AppError::unsupported(
            "choosing a backup folder on a phone needs the platform's folder picker, which this version does not have yet",
        ))
    }

    #[cfg(desktop)]
    fn choose_sync_folder(&self) -> AppResult<Option<Target>> {
        Ok(self.choose_folder()?.map(Target::Folder))
    }

    #[cfg(target_os = "android")]
    fn choose_sync_folder(&self) -> AppResult<Option<Target>> {
        saf::choose(&self.0)
    }

    /// iOS: see the table above.
    #[cfg(target_os = "ios")]
    fn choose_sync_folder(&self) -> AppResult<Option<Target>> {
        Err(AppError::unsupported(NO_SYNC_FOLDER))
    }

    #[cfg(target_os = "android")]
    fn documents(&self, tree: &str) -> AppResult<Box<dyn Documents>> {
        saf::documents(&self.0, tree)
    }

    #[cfg(not(target_os = "android"))]
    fn documents(&self, _tree: &str) -> AppResult<Box<dyn Documents>> {
        Err(AppError::unsupported(
            "this folder was chosen on an Android phone: only the app there can reach it",
        ))
    }

    fn clipboard_write(&self, text: &str) -> AppResult<()> {
        use tauri_plugin_clipboard_manager::ClipboardExt;
        self.0
            .clipboard()
            .write_text(text)
            .map_err(|e| AppError::internal(format!("cannot write to the clipboard: {e}")))
    }

    fn clipboard_read(&self) -> Option<String> {
        use tauri_plugin_clipboard_manager::ClipboardExt;
        self.0.clipboard().read_text().ok()
    }

    fn clipboard_clear(&self) -> AppResult<()> {
        use tauri_plugin_clipboard_manager::ClipboardExt;
        self.0
            .clipboard()
            .clear()
            .map_err(|e| AppError::internal(format!("cannot clear the clipboard: {e}")))
    }

    fn permission_state(&self, which: Permission) -> AppResult<PermissionState> {
        permission(&self.0, which, false)
    }

    fn request_permission(&self, which: Permission) -> AppResult<PermissionState> {
        permission(&self.0, which, true)
    }
}

/// Checks (or asks for, when `ask`) a permission through its plugin.
fn permission<R: Runtime>(
    app: &AppHandle<R>,
    which: Permission,
    ask: bool,
) -> AppResult<PermissionState> {
    match which {
        #[cfg(mobile)]
        Permission::Notifications => mobile::notification_permission(app, ask),
        #[cfg(desktop)]
        Permission::Notifications => {
            use tauri::Manager;
            use tauri_plugin_notification::{Notification, NotificationExt};
            if app.try_state::<Notification<R>>().is_none() {
                return Err(not_from_rust(which));
            }
            let n = app.notification();
            let state = if ask {
                n.request_permission()
            } else {
                n.permission_state()
            };
            state.map(state_of).map_err(|e| {
                AppError::internal(format!(
                    "the system did not answer about the permission: {e}"
                ))
            })
        }
        #[cfg(mobile)]
        Permission::Location => mobile::location_permission(app, ask),
        _ => Err(not_from_rust(which)),
    }
}
