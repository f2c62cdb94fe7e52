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
//! | clipboard | clipboard-manager plugin, written and cleared from Rust | the same |

pub mod keys;

#[cfg(desktop)]
mod desktop;
#[cfg(desktop)]
pub use desktop::*;

#[cfg(mobile)]
mod mobile;
#[cfg(mobile)]
pub use mobile::*;

/// Why biometrics cannot be turned on.
pub const BIOMETRICS_MISSING: &str =
    "this device has no biometric unlock for Twofold; unlock with your password";

use std::path::PathBuf;

use tauri::{AppHandle, Runtime};

use crate::error::{AppError, AppResult};

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
    /// Puts `text` on the clipboard.
    fn clipboard_write(&self, text: &str) -> AppResult<()>;
    /// What the clipboard holds as text, `None` when it holds none or cannot be read.
    fn clipboard_read(&self) -> Option<String>;
    /// Empties the clipboard.
    fn clipboard_clear(&self) -> AppResult<()>;
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
}
