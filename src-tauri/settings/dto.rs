//! The settings types that cross the IPC boundary (docs/ipc.md, "Settings"): the settings,
//! the backup status and its restore drill, the OS permissions the settings screen shows, the
//! device's location (and the place near it), and the UI's language as Rust writes in it.

use serde::{Deserialize, Serialize};

/// Light, dark, or as the system says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Theme {
    /// Follow the system.
    #[default]
    System,
    /// Light.
    Light,
    /// Dark.
    Dark,
}

/// The UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Language {
    /// Follow the system.
    #[default]
    System,
    /// English.
    En,
    /// Swedish.
    Sv,
}

/// The user's settings, kept in `settings.json` beside the vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Settings {
    /// Seconds without activity before the vault locks; 0 never locks on idle.
    pub lock_timeout_secs: u32,
    /// Lock when the app goes to the background.
    pub lock_on_background: bool,
    /// Unlock with biometrics (phones with a device-key slot).
    pub biometrics: bool,
    /// Poll for sign-in requests while the vault is locked (the push keys kept in the
    /// platform's secure storage, docs/push.md).
    pub push_while_locked: bool,
    /// Desktop: closing the window keeps Twofold running in the system tray (polling).
    pub keep_in_tray: bool,
    /// UI language.
    pub language: Language,
    /// UI theme.
    pub theme: Theme,
    /// Where encrypted backups of the vault are written after each change; `null`: none.
    pub backup_folder: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lock_timeout_secs: 300,
            lock_on_background: true,
            biometrics: false,
            push_while_locked: true,
            keep_in_tray: false,
            language: Language::System,
            theme: Theme::System,
            backup_folder: None,
        }
    }
}

/// The last automatic or manual backup, its restore drill, and the changes no backup holds.
/// Kept in `settings.json`, so it outlives a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BackupStatus {
    /// Unix seconds of the last backup that succeeded.
    #[cfg_attr(test, ts(type = "number | null"))]
    pub last_ok_at: Option<u64>,
    /// Why the last backup failed; `null` when it succeeded.
    pub last_error: Option<String>,
    /// The file the last successful backup wrote.
    pub last_path: Option<String>,
    /// The restore drill of the last backup written: the file read back, opened with the
    /// vault's key and compared with the vault. `null` before the first.
    pub check: Option<BackupCheck>,
    /// Changes saved since the last verified backup, export or sync: what a lost phone
    /// would lose now.
    pub changes_since_backup: u32,
}

/// What the restore drill found in a backup just written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BackupCheck {
    /// Accounts the backup holds.
    pub accounts: u32,
    /// It restores every account of the vault exactly.
    pub verified: bool,
    /// Accounts of the vault it lacks.
    pub missing: u32,
    /// Accounts of the vault it holds differently.
    pub different: u32,
    /// Why it could not be opened at all (damaged); `null` when it opened.
    pub error: Option<String>,
}

/// Which step of an automatic backup failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum BackupFailure {
    /// The file could not be written.
    Write,
    /// It was written, but reading it back does not restore the vault (the restore drill).
    Check,
}

/// A permission the OS asks the user for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Permission {
    /// The camera, to scan QR codes (phones; asked by the barcode scanner in the UI).
    Camera,
    /// Notifications of sign-in requests.
    Notifications,
    /// The location, recorded with each answered sign-in request (phones).
    Location,
}

/// What the OS allows for one permission (the plugins' `PermissionState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum PermissionState {
    /// Allowed.
    Granted,
    /// Refused for good: only the system settings can allow it now.
    Denied,
    /// Not asked yet: asking shows the OS prompt.
    Prompt,
    /// Refused once (Android): asking again shows the OS prompt, with the reason first.
    PromptWithRationale,
}

/// One permission and its state (Settings → Permissions, the first-run permission step).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PermissionView {
    /// Which.
    pub permission: Permission,
    /// Its state now.
    pub state: PermissionState,
}

/// The phone's position (phones only; desktop answers `LocationUnavailable`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LocationView {
    /// Degrees.
    pub latitude: f64,
    /// Degrees.
    pub longitude: f64,
    /// Radius of uncertainty in metres, when known.
    pub accuracy_m: Option<f64>,
    /// The nearest town, looked up on the device from bundled GeoNames data (`crate::place`);
    /// `None` far from any (at sea). Rust fills it in; one sent back by the UI is never kept
    /// (the activity log stores the coordinates and names the place when it is read).
    #[serde(default)]
    pub place: Option<PlaceView>,
}

/// A place a person recognises, near a location: "near Goeteborg, SE".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PlaceView {
    /// The nearest town or city (GeoNames, places of 1000 people or more).
    pub name: String,
    /// Its region (county, state), as GeoNames names it; empty when it has none.
    pub region: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// How far the location is from it, in kilometres.
    pub distance_km: f64,
}

/// The language the UI shows (its setting resolved), for what Rust writes: notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum UiLocale {
    /// English.
    #[default]
    En,
    /// Swedish.
    Sv,
}
