//! The one error type of every command, serialized as `{ kind, message }` (docs/ipc.md).
//! Messages come from the core's errors, which never hold a secret.

use serde::{Deserialize, Serialize, Serializer};
use twofold_core::container::ContainerError;
use twofold_core::import::ImportError;
use twofold_core::payload::PayloadError;
use twofold_core::push::privacyidea::EnrolError;
use twofold_core::push::{AnswerError, ChallengeError, KeyError, PollError};
use twofold_core::scan::ScanError;
use twofold_core::vault::file::FileError;
use twofold_core::vault::{OpenError, VaultError};

/// What kind of failure, so the UI can react to it without reading the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum ErrorKind {
    /// The password does not open the vault or the file being imported.
    WrongPassword,
    /// The vault or a file is damaged or was tampered with.
    Corrupt,
    /// The command needs an unlocked vault.
    Locked,
    /// There is no vault yet.
    NoVault,
    /// A vault exists already.
    VaultExists,
    /// A bad URI, secret, image or field.
    InvalidInput,
    /// An encrypted import was given no password.
    PasswordRequired,
    /// The import file's format was not recognised.
    UnknownFormat,
    /// No account with that id.
    NotFound,
    /// This platform has no camera, location or biometrics, or the feature is not built yet.
    Unsupported,
    /// A disk error.
    Io,
    /// Anything else.
    Internal,
    /// The push server cannot be reached.
    Network,
    /// The push server answered with an error (the message carries its code).
    Server,
    /// The sign-in request is older than 2 minutes, or the enrolment QR code's `ttl` passed.
    Expired,
    /// This sign-in request was answered before (an answer is never sent twice).
    AlreadyAnswered,
    /// A challenge or an enrolment failed its signature checks.
    Verification,
    /// Location denied, turned off, or the platform has none (desktop).
    LocationUnavailable,
    /// Approving needs device authentication first (`pin=True` / `app_force_unlock`).
    AuthRequired,
    /// The sync passphrase does not open the sync set's key file.
    WrongSyncPassphrase,
    /// A device was removed and the sync set re-keyed: this device needs the new passphrase
    /// (`sync_rejoin`); it writes nothing until then.
    SyncNewPassphrase,
    /// This device was removed from its sync set (its accounts stay).
    SyncRemoved,
    Forbidden,
}

/// A failed command: a kind for the UI and a message for the person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// Plain words, never a secret.
    pub message: String,
}

/// `{ kind, message }`: the serialized form (ts-rs describes it through [`ErrorDto`]).
impl Serialize for AppError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ErrorDto {
            kind: self.kind,
            message: &self.message,
        }
        .serialize(s)
    }
}

#[derive(Serialize)]
struct ErrorDto<'a> {
    kind: ErrorKind,
    message: &'a str,
}

/// The TypeScript view of [`AppError`].
#[cfg(test)]
#[derive(ts_rs::TS)]
#[ts(rename = "AppError")]
#[allow(dead_code)]
pub struct AppErrorTs {
    kind: ErrorKind,
    message: String,
}

impl AppError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        AppError {
            kind,
            message: message.into(),
        }
    }

    /// The vault is locked.
    pub fn locked() -> Self {
        Self::new(ErrorKind::Locked, "the vault is locked; unlock it first")
    }

    /// A bad argument.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// Not available on this platform (or not in this build).
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }

    /// An unexpected failure.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
}

/// The result of every command.
pub type AppResult<T> = Result<T, AppError>;

impl From<OpenError> for AppError {
    fn from(e: OpenError) -> Self {
        let kind = match e {
            OpenError::WrongPassword | OpenError::DeviceKeyRejected => ErrorKind::WrongPassword,
            OpenError::Corrupt(_) | OpenError::UnsupportedVersion(_) => ErrorKind::Corrupt,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<VaultError> for AppError {
    fn from(e: VaultError) -> Self {
        let kind = match e {
            VaultError::NotFound(_) => ErrorKind::NotFound,
            VaultError::NotHotp
            | VaultError::CounterOverflow
            | VaultError::TooLarge { .. }
            | VaultError::NotOfferable { .. }
            | VaultError::AlreadyPresent(_) => ErrorKind::InvalidInput,
            VaultError::ManagedDeletion(_) => ErrorKind::Forbidden,
            VaultError::Rng(_)
            | VaultError::Kdf(_)
            | VaultError::Encrypt
            | VaultError::NoDeviceSlot => ErrorKind::Internal,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<FileError> for AppError {
    fn from(e: FileError) -> Self {
        let kind = match e {
            FileError::NotFound(_) => ErrorKind::NoVault,
            FileError::Exists(_) => ErrorKind::VaultExists,
            FileError::Io { .. } | FileError::Busy(_) | FileError::Changed(_) => ErrorKind::Io,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<PayloadError> for AppError {
    fn from(e: PayloadError) -> Self {
        match e {
            // As when read by their own commands (push_enrol_preview, container_preview).
            PayloadError::PushEnrolment(e) => e.into(),
            PayloadError::ContainerRegistration(e) => e.into(),
            PayloadError::Uri(_) | PayloadError::Migration(_) | PayloadError::NotAlone(_) => {
                Self::invalid(e.to_string())
            }
        }
    }
}

impl From<ScanError> for AppError {
    fn from(e: ScanError) -> Self {
        Self::invalid(e.to_string())
    }
}

impl From<ImportError> for AppError {
    fn from(e: ImportError) -> Self {
        let kind = match e {
            ImportError::PasswordRequired => ErrorKind::PasswordRequired,
            ImportError::WrongPassword => ErrorKind::WrongPassword,
            ImportError::Malformed { .. } => ErrorKind::InvalidInput,
            ImportError::UnknownFormat => ErrorKind::UnknownFormat,
        };
        let hint = match e {
            ImportError::UnknownFormat => "; choose it from the list",
            ImportError::PasswordRequired
            | ImportError::WrongPassword
            | ImportError::Malformed { .. } => "",
        };
        Self::new(kind, format!("{e}{hint}"))
    }
}

impl From<tauri::Error> for AppError {
    fn from(e: tauri::Error) -> Self {
        Self::internal(e.to_string())
    }
}

impl From<PollError> for AppError {
    fn from(e: PollError) -> Self {
        let kind = match e {
            PollError::Server(_) | PollError::Response(_) | PollError::ClockOff(_) => {
                ErrorKind::Server
            }
            PollError::UnknownProtocol(_) | PollError::Key(_) => ErrorKind::Internal,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<AnswerError> for AppError {
    fn from(e: AnswerError) -> Self {
        let kind = match e {
            AnswerError::Expired => ErrorKind::Expired,
            AnswerError::AlreadyAnswered => ErrorKind::AlreadyAnswered,
            AnswerError::OptionRequired(_)
            | AnswerError::NotAnOption(..)
            | AnswerError::NoOptions
            | AnswerError::ReasonNotAllowed => ErrorKind::InvalidInput,
            AnswerError::NotPending(_) | AnswerError::NoAccount(_) => ErrorKind::NotFound,
            AnswerError::Server(_) | AnswerError::Response(_) => ErrorKind::Server,
            AnswerError::WrongAccount | AnswerError::Key(_) => ErrorKind::Internal,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<EnrolError> for AppError {
    fn from(e: EnrolError) -> Self {
        let kind = match e {
            EnrolError::NotPush | EnrolError::Missing(_) | EnrolError::Invalid { .. } => {
                ErrorKind::InvalidInput
            }
            EnrolError::Expired { .. } => ErrorKind::Expired,
            EnrolError::Server(_) | EnrolError::Response(_) => ErrorKind::Server,
            EnrolError::Key(KeyError::InvalidServerKey(_)) => ErrorKind::Verification,
            EnrolError::Key(
                KeyError::Rng | KeyError::Generate | KeyError::InvalidPhoneKey | KeyError::Sign,
            ) => ErrorKind::Internal,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<ChallengeError> for AppError {
    fn from(e: ChallengeError) -> Self {
        Self::new(ErrorKind::Verification, e.to_string())
    }
}

impl From<twofold_core::vault::PushedError> for AppError {
    fn from(e: twofold_core::vault::PushedError) -> Self {
        use twofold_core::vault::PushedError;
        let kind = match e {
            PushedError::NotRegistered | PushedError::UnknownAccount(_) => ErrorKind::NotFound,
            PushedError::Decrypt(_) | PushedError::NotAChallenge | PushedError::Challenge(_) => {
                ErrorKind::Verification
            }
        };
        Self::new(kind, e.to_string())
    }
}

impl From<twofold_core::push::UpdateError> for AppError {
    fn from(e: twofold_core::push::UpdateError) -> Self {
        use twofold_core::push::UpdateError;
        let kind = match e {
            UpdateError::InvalidToken => ErrorKind::InvalidInput,
            UpdateError::Server(_) | UpdateError::Response(_) => ErrorKind::Server,
            UpdateError::Key(_) => ErrorKind::Internal,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<KeyError> for AppError {
    fn from(e: KeyError) -> Self {
        Self::internal(e.to_string())
    }
}

impl From<ContainerError> for AppError {
    fn from(e: ContainerError) -> Self {
        let kind = match e {
            ContainerError::NotContainer
            | ContainerError::Missing(_)
            | ContainerError::Invalid { .. }
            | ContainerError::Url(_)
            | ContainerError::Algorithm(_) => ErrorKind::InvalidInput,
            ContainerError::Expired { .. } => ErrorKind::Expired,
            ContainerError::PassphraseRequired(_) => ErrorKind::PasswordRequired,
            ContainerError::Key(_) => ErrorKind::Internal,
            ContainerError::Server(_)
            | ContainerError::Response(_)
            | ContainerError::TooLarge(_) => ErrorKind::Server,
            ContainerError::Forbidden(_) => ErrorKind::Forbidden,
            ContainerError::Decrypt => ErrorKind::Verification,
        };
        Self::new(kind, e.to_string())
    }
}
