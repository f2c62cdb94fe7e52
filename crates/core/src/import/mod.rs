//! Importing other apps' exports, in three steps per format (Aegis style): **read** the file's
//! structure, **decrypt** it when it is encrypted, **convert** each entry to an
//! [`ImportedEntry`]. Every entry that cannot be taken is reported in
//! [`ImportReport::skipped`] with a reason: nothing is ever dropped silently.

use crate::OtpAccount;

/// One account taken from an export, with the metadata the source app kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedEntry {
    /// Issuer, name, secret and code parameters.
    pub account: OtpAccount,
    /// A free-text note.
    pub note: String,
    /// Marked as favourite (pinned) in the source app.
    pub favorite: bool,
    /// Names of the groups (folders, tags) the entry belongs to.
    pub groups: Vec<String>,
}

impl ImportedEntry {
    /// An entry with no metadata.
    pub fn new(account: OtpAccount) -> Self {
        ImportedEntry {
            account,
            note: String::new(),
            favorite: false,
            groups: Vec::new(),
        }
    }
}

/// An entry of the file that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// How the entry is named in the file (issuer/name, or its position), never its secret.
    pub entry: String,
    /// Why it was not imported.
    pub reason: String,
}

/// What an import produced.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// The entries taken, in file order.
    pub entries: Vec<ImportedEntry>,
    /// The entries not taken.
    pub skipped: Vec<Skipped>,
}

/// Why a whole file could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The file is encrypted and no password was given.
    #[error("the file is encrypted; a password is needed")]
    PasswordRequired,
    /// The password does not open the file.
    #[error("wrong password for the file being imported")]
    WrongPassword,
    /// The file is not of the format asked for, or is damaged.
    #[error("not a valid {format} file: {reason}")]
    Malformed {
        /// The format's name.
        format: &'static str,
        /// What is wrong, without any secret.
        reason: String,
    },
    /// `auto` could not tell the format.
    #[error("the file's format was not recognised; name it with --format")]
    UnknownFormat,
}
