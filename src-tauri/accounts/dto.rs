//! The accounts' types that cross the IPC boundary (docs/ipc.md, "Accounts"): the list, codes,
//! adding (typed, scanned, imported), edits, recently removed, import and export.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::container::dto::ContainerPreview;
use crate::push::dto::PushEnrolPreview;

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
    /// The serial of the privacyIDEA container that manages it; `null` when none does.
    pub container: Option<String>,
    /// The organization that manages it (its container's issuer); `null` when none does.
    pub managed_by: Option<String>,
    /// False when the managing server forbids deleting it on this device.
    pub deletable: bool,
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

/// What adding a URI, a typed account or a scanned image did: one outcome, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum AddResult {
    /// OTP accounts were read (and those not in the vault yet added).
    Added {
        /// The accounts added.
        added: Vec<AccountView>,
        /// Names of accounts already in the vault (not added again).
        duplicates: Vec<String>,
        /// Accounts of an export that could not be read, with the reason.
        skipped: Vec<ImportSkip>,
        /// Progress through a multi-QR Google Authenticator export; `null` otherwise.
        migration: Option<MigrationProgress>,
    },
    /// A privacyIDEA push enrolment QR code was read: nothing is sent until the user confirms
    /// it (`push_enrol_confirm` with its id).
    PushPreview {
        /// What the confirmation screen shows.
        preview: PushEnrolPreview,
    },
    /// A confirmed privacyIDEA push enrolment (`push_enrol_confirm`) is in the vault.
    PushEnrolled {
        /// The new push token's serial.
        serial: String,
    },
    /// A privacyIDEA container registration QR code was read: nothing is sent until the user
    /// confirms it (`container_register` with its id).
    ContainerPreview {
        /// What the confirmation screen shows.
        preview: ContainerPreview,
    },
}

/// Who removed an account (Settings → Recently removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum RemovedByKind {
    /// The user, on this device.
    ThisDevice,
    /// A sync: another device's removal (`RemovedView.byId` is its sync device id).
    Sync,
    /// A token container (`RemovedView.byId` is its serial).
    Container,
}

/// An account removed in the last 30 days, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RemovedView {
    /// Its id (the same when restored).
    pub id: String,
    /// The service.
    pub issuer: String,
    /// The account name at the service.
    pub name: String,
    /// When it was removed, Unix seconds.
    #[cfg_attr(test, ts(type = "number"))]
    pub removed_at: u64,
    /// Who removed it.
    pub by: RemovedByKind,
    /// The sync device id or the container serial; `null` for this device.
    pub by_id: Option<String>,
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

// The core's enums and their mirrors here: one conversion each, every variant named, so a
// variant added on either side fails to compile until it is mapped.

impl From<twofold_core::Kind> for OtpKind {
    fn from(k: twofold_core::Kind) -> Self {
        use twofold_core::Kind;
        match k {
            Kind::Totp { .. } => OtpKind::Totp,
            Kind::Hotp { .. } => OtpKind::Hotp,
            Kind::Steam { .. } => OtpKind::Steam,
        }
    }
}

impl From<twofold_core::Algorithm> for OtpAlgorithm {
    fn from(a: twofold_core::Algorithm) -> Self {
        use twofold_core::Algorithm;
        match a {
            Algorithm::Sha1 => OtpAlgorithm::Sha1,
            Algorithm::Sha256 => OtpAlgorithm::Sha256,
            Algorithm::Sha512 => OtpAlgorithm::Sha512,
        }
    }
}

impl From<OtpAlgorithm> for twofold_core::Algorithm {
    fn from(a: OtpAlgorithm) -> Self {
        use twofold_core::Algorithm;
        match a {
            OtpAlgorithm::Sha1 => Algorithm::Sha1,
            OtpAlgorithm::Sha256 => Algorithm::Sha256,
            OtpAlgorithm::Sha512 => Algorithm::Sha512,
        }
    }
}

impl From<ExportFormat> for twofold_core::export::ExportFormat {
    fn from(f: ExportFormat) -> Self {
        use twofold_core::export::ExportFormat as Core;
        match f {
            ExportFormat::Aegis => Core::Aegis,
            ExportFormat::AegisPlain => Core::AegisPlain,
            ExportFormat::OtpauthList => Core::OtpauthList,
            ExportFormat::GoogleMigration => Core::GoogleMigration,
        }
    }
}
