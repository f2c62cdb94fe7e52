//! The types that cross the IPC boundary (docs/ipc.md). Only codes, names and metadata go to
//! the webview; the only secrets coming from it (passwords, a typed secret) are zeroized on
//! drop. Their TypeScript form is generated into ui/src/bindings by ts-rs (see tests.rs).

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

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
    /// A device-key slot can unlock the vault with biometrics.
    pub biometrics_available: bool,
    /// The app's version.
    pub version: String,
}

/// How an account's codes move on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum OtpKind {
    /// Time-based (RFC 6238).
    Totp,
    /// Counter-based (RFC 4226).
    Hotp,
    /// Steam Guard.
    Steam,
}

/// The HMAC hash of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum OtpAlgorithm {
    /// HMAC-SHA-1.
    #[serde(rename = "SHA1")]
    Sha1,
    /// HMAC-SHA-256.
    #[serde(rename = "SHA256")]
    Sha256,
    /// HMAC-SHA-512.
    #[serde(rename = "SHA512")]
    Sha512,
}

/// An account as the list shows it: no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AccountView {
    /// Stable id.
    pub id: String,
    /// The service.
    pub issuer: String,
    /// The account name at the service.
    pub name: String,
    /// TOTP, HOTP or Steam.
    pub kind: OtpKind,
    /// HMAC hash.
    pub algorithm: OtpAlgorithm,
    /// Code length.
    pub digits: u32,
    /// Seconds per code (0 for HOTP).
    pub period: u32,
    /// HOTP counter; `null` for time-based kinds.
    #[cfg_attr(test, ts(type = "number | null"))]
    pub counter: Option<u64>,
    /// Shown first.
    pub favorite: bool,
    /// Names of its groups.
    pub groups: Vec<String>,
    /// Free text.
    pub note: String,
    /// Position in the list.
    pub order: u32,
    /// When it was added, Unix seconds.
    #[cfg_attr(test, ts(type = "number"))]
    pub created_at: u64,
    /// When a code was last used (HOTP advanced), Unix seconds.
    #[cfg_attr(test, ts(type = "number | null"))]
    pub used_at: Option<u64>,
}

/// The code of one account now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CodeView {
    /// The account's id.
    pub id: String,
    /// The code, ungrouped (`"123456"`).
    pub code: String,
    /// The code of the next period (time-based kinds), `null` for HOTP.
    pub next_code: Option<String>,
    /// Seconds per code (0 for HOTP).
    pub period: u32,
    /// Unix milliseconds when this code became valid (0 for HOTP).
    #[cfg_attr(test, ts(type = "number"))]
    pub valid_from_ms: u64,
    /// Unix milliseconds when it stops being valid (0 for HOTP).
    #[cfg_attr(test, ts(type = "number"))]
    pub valid_until_ms: u64,
}

/// The QR codes of a multi-QR Google Authenticator export seen so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct MigrationProgress {
    /// The export's batch id.
    pub batch_id: i32,
    /// How many QR codes it has.
    pub batch_size: u32,
    /// 0-based indexes scanned.
    pub received: Vec<u32>,
    /// 0-based indexes still to scan.
    pub missing: Vec<u32>,
}

/// What adding a URI, a typed account or a scanned image did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AddResult {
    /// The accounts added.
    pub added: Vec<AccountView>,
    /// Names of accounts already in the vault (not added again).
    pub duplicates: Vec<String>,
    /// Accounts of an export that could not be read, with the reason.
    pub skipped: Vec<ImportSkip>,
    /// Progress through a multi-QR Google Authenticator export; `null` otherwise.
    pub migration: Option<MigrationProgress>,
    /// The serial of a started privacyIDEA push enrolment (push issue); `null` otherwise.
    pub push_enrolment: Option<String>,
}

/// An account typed in by hand.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ManualAccount {
    /// The service.
    pub issuer: String,
    /// The account name.
    pub name: String,
    /// Base32 secret; wiped from memory after use.
    #[cfg_attr(test, ts(type = "string"))]
    pub secret: Zeroizing<String>,
    /// TOTP, HOTP or Steam.
    pub kind: OtpKind,
    /// HMAC hash (Steam: SHA1).
    pub algorithm: OtpAlgorithm,
    /// Code length (Steam: 5).
    pub digits: u32,
    /// Seconds per code (time-based kinds).
    pub period: u32,
    /// Starting counter (HOTP).
    #[cfg_attr(test, ts(type = "number"))]
    pub counter: u64,
}

/// Changes to an account; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AccountPatch {
    /// New issuer.
    #[cfg_attr(test, ts(optional))]
    pub issuer: Option<String>,
    /// New account name.
    #[cfg_attr(test, ts(optional))]
    pub name: Option<String>,
    /// New note.
    #[cfg_attr(test, ts(optional))]
    pub note: Option<String>,
    /// Favourite or not.
    #[cfg_attr(test, ts(optional))]
    pub favorite: Option<bool>,
    /// Group names (created as needed).
    #[cfg_attr(test, ts(optional))]
    pub groups: Option<Vec<String>>,
    /// New position.
    #[cfg_attr(test, ts(optional))]
    pub order: Option<u32>,
}

/// A format the importer reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ImportFormat {
    /// The name passed back to `import_file`.
    pub name: String,
    /// What a person calls it.
    pub label: String,
    /// Files of this format can be password-protected.
    pub encrypted: bool,
}

/// An entry that was not taken, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ImportSkip {
    /// Which entry.
    pub name: String,
    /// Why, in plain words.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ImportReportView {
    /// Accounts added.
    pub added: u32,
    /// Names of accounts already in the vault.
    pub duplicates: Vec<String>,
    /// Entries that could not be read.
    pub skipped: Vec<ImportSkip>,
}

/// The open formats the vault can be exported to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum ExportFormat {
    /// Aegis vault, encrypted with a password.
    Aegis,
    /// Aegis vault, plain JSON.
    AegisPlain,
    /// One `otpauth://` URI a line.
    OtpauthList,
    /// Google Authenticator `otpauth-migration://` URIs.
    GoogleMigration,
}

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
            language: Language::System,
            theme: Theme::System,
            backup_folder: None,
        }
    }
}

/// The last automatic or manual backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BackupStatus {
    /// Unix seconds of the last backup that succeeded.
    #[cfg_attr(test, ts(type = "number | null"))]
    pub last_ok_at: Option<u64>,
    /// Why the last backup failed; `null` when it succeeded.
    pub last_error: Option<String>,
    /// The file the last successful backup wrote.
    pub last_path: Option<String>,
}

/// The phone's position (phones only).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LocationView {
    /// Degrees.
    pub latitude: f64,
    /// Degrees.
    pub longitude: f64,
    /// Metres.
    pub accuracy_m: f64,
}

/// Why the vault was locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum LockReason {
    /// No activity for the lock timeout.
    Idle,
    /// The app went to the background.
    Background,
    /// The user locked it.
    User,
}

/// Payload of the `vault-locked` event.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct VaultLockedPayload {
    /// Why.
    pub reason: LockReason,
}

/// Payload of the `backup-failed` event.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BackupFailedPayload {
    /// What went wrong (names the path, never a secret).
    pub message: String,
}

/// The `vault-locked` event's name.
pub const EVENT_VAULT_LOCKED: &str = "vault-locked";
/// The `backup-failed` event's name.
pub const EVENT_BACKUP_FAILED: &str = "backup-failed";
