//! The CLI's errors and their exit codes.

use twofold_core::import::ImportError;
use twofold_core::payload::{EntryFailure, PayloadError};
use twofold_core::push::privacyidea::EnrolError;
use twofold_core::push::{AnswerError, KeyError, PollError};
use twofold_core::scan::ScanError;
use twofold_core::sync::SyncError;
use twofold_core::vault::{OpenError, PollFailed, VaultError, file::FileError};

/// What went wrong, worded for the one `error: ...` line. Never holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A URI or payload that is not an account.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// A push enrolment URI given where an OTP account is expected.
    #[error("this is a privacyIDEA push enrolment, not a code account; use `twofold push enroll`")]
    PushEnrolment,
    /// A container registration QR given where an OTP account is expected.
    #[error(
        "this is a privacyIDEA token container registration, not a code account; use `twofold container register`"
    )]
    ContainerRegistration,
    /// Some accounts of an export could not be read (the others were printed).
    #[error("{0}")]
    Entries(String),
    /// An image could not be read or held no QR code.
    #[error("{0}")]
    Scan(String),
    /// The vault could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The vault could not be changed or encrypted.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The vault file could not be read or written.
    #[error("{}{}", .0, file_hint(.0))]
    File(#[from] FileError),
    /// Another process changed the vault in a way this command cannot follow.
    #[error(transparent)]
    Refresh(#[from] twofold_core::vault::store::RefreshError),
    /// The export could not be imported.
    #[error("{}{}", .0, import_hint(.0))]
    Import(#[from] ImportError),
    /// A backup could not be read for `backup check`.
    #[error("{}{}", .0, backup_hint(.0))]
    Backup(#[from] twofold_core::backup::CheckError),
    /// `backup check`: the backup lacks accounts of the vault or holds them differently.
    #[error("{0}")]
    BackupIncomplete(String),
    /// No password could be had.
    #[error("{0}")]
    Password(String),
    /// Nothing matched, or nothing was added.
    #[error("{0}")]
    Nothing(String),
    /// A push enrolment failed.
    #[error("push enrolment failed: {0}")]
    Enrol(#[from] EnrolError),
    /// Polling failed.
    #[error("{0}")]
    Poll(#[from] PollError),
    /// An answer to a sign-in request failed.
    #[error("{0}")]
    Answer(#[from] AnswerError),
    /// A push key could not be made.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// An HTTP request failed (no reply to read).
    #[error(transparent)]
    Http(#[from] twofold_http::HttpError),
    /// Every push account's poll failed.
    #[error(transparent)]
    Polls(#[from] PollFailed<twofold_http::HttpError>),
    /// A sync could not run (a wrong passphrase among the reasons).
    #[error("sync failed: {0}")]
    Sync(#[from] SyncError),
    /// The sync target could not be read or written.
    #[error("{0}")]
    SyncTarget(String),
    /// A new sync set's passphrase is too weak (the core's one rule, as in the app).
    #[error("sync passphrase refused: {0}")]
    WeakPassphrase(#[from] twofold_core::strength::WeakPassphrase),
    /// The WebDAV server refused the login (HTTP 401): a wrong WebDAV user or password.
    #[error("{0}")]
    WebDavLogin(String),
    /// A token container operation failed.
    #[error("container: {0}")]
    Container(#[from] twofold_core::container::ContainerError),
    /// A container key could not be made.
    #[error(transparent)]
    ContainerKey(#[from] twofold_core::container::ContainerKeyError),
    /// Some container syncs failed (the others were saved).
    #[error("{0}")]
    ContainerSync(String),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

/// The CLI's own hint after the core's words.
fn file_hint(e: &FileError) -> &'static str {
    match e {
        FileError::NotFound(_) => " (create one with `twofold init`)",
        FileError::Changed(_) => " (run the command again)",
        FileError::Exists(_) | FileError::Io { .. } | FileError::Busy(_) => "",
    }
}

/// The CLI's own hint after the core's words.
fn backup_hint(e: &twofold_core::backup::CheckError) -> &'static str {
    match e {
        twofold_core::backup::CheckError::Import(i) => import_hint(i),
        twofold_core::backup::CheckError::Vault(_) => "",
    }
}

/// The CLI's own hint after the core's words.
fn import_hint(e: &ImportError) -> &'static str {
    match e {
        ImportError::UnknownFormat => "; name it with --format",
        ImportError::PasswordRequired
        | ImportError::WrongPassword
        | ImportError::Malformed { .. } => "",
    }
}

impl CliError {
    /// The accounts of an export that could not be read, in one line.
    pub fn entries(failures: &[EntryFailure]) -> Self {
        let reasons: Vec<String> = failures.iter().map(ToString::to_string).collect();
        CliError::Entries(reasons.join("; "))
    }

    /// The exit code of the contract: 3 wrong password, 4 corrupt vault, 1 anything else.
    /// Every variant is named, so a new one is a decision, not a silent 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Open(OpenError::WrongPassword) => 3,
            CliError::Import(ImportError::WrongPassword) => 3,
            CliError::Sync(SyncError::WrongPassphrase | SyncError::NewPassphrase) => 3,
            CliError::WebDavLogin(_) => 3,
            CliError::Backup(e) if e.is_wrong_password() => 3,
            CliError::Open(OpenError::Corrupt(_) | OpenError::UnsupportedVersion(_)) => 4,
            CliError::Open(OpenError::DeviceKeyRejected)
            | CliError::Import(
                ImportError::PasswordRequired
                | ImportError::Malformed { .. }
                | ImportError::UnknownFormat,
            )
            | CliError::Payload(_)
            | CliError::PushEnrolment
            | CliError::ContainerRegistration
            | CliError::Entries(_)
            | CliError::Scan(_)
            | CliError::Vault(_)
            | CliError::File(_)
            | CliError::Refresh(_)
            | CliError::Backup(_)
            | CliError::BackupIncomplete(_)
            | CliError::Password(_)
            | CliError::Nothing(_)
            | CliError::Enrol(_)
            | CliError::Poll(_)
            | CliError::Answer(_)
            | CliError::Key(_)
            | CliError::Http(_)
            | CliError::Polls(_)
            | CliError::Sync(
                SyncError::PassphraseNeeded
                | SyncError::KeyFile(_)
                | SyncError::Replica(_)
                | SyncError::TooManyFiles
                | SyncError::Membership
                | SyncError::Removed { .. }
                | SyncError::CannotRemove(_)
                | SyncError::Rng(_),
            )
            | CliError::SyncTarget(_)
            | CliError::WeakPassphrase(_)
            | CliError::Container(_)
            | CliError::ContainerKey(_)
            | CliError::ContainerSync(_)
            | CliError::Output(_) => 1,
        }
    }
}

/// `FILE: reason` for an image that failed.
pub fn scan_failure(file: &std::path::Path, reason: &ScanError) -> String {
    format!("{}: {reason}", file.display())
}

impl From<twofold_sync::RunError> for CliError {
    fn from(e: twofold_sync::RunError) -> Self {
        match e {
            twofold_sync::RunError::Target(t) => t.into(),
            twofold_sync::RunError::Sync(s) => CliError::Sync(s),
            twofold_sync::RunError::Vault(v) => CliError::Vault(v),
            twofold_sync::RunError::Passphrase(p) => CliError::Password(p),
            twofold_sync::RunError::WeakPassphrase(w) => CliError::WeakPassphrase(w),
        }
    }
}

impl From<twofold_sync::TargetError> for CliError {
    fn from(e: twofold_sync::TargetError) -> Self {
        match e {
            twofold_sync::TargetError::Unauthorized { status: 401, .. } => {
                CliError::WebDavLogin(e.to_string())
            }
            other => CliError::SyncTarget(other.to_string()),
        }
    }
}
