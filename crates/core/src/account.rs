//! An account as a QR code or URI describes it: who issued it, whose it is, and how its codes
//! are made.

use crate::{OtpParams, Secret};

/// One OTP account: issuer, account name, secret and code parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpAccount {
    /// The service (`""` when there is none).
    pub issuer: String,
    /// The account name at that service, often an e-mail address.
    pub name: String,
    /// The shared secret.
    pub secret: Secret,
    /// Kind, algorithm, digits, period or counter.
    pub params: OtpParams,
}

impl OtpAccount {
    /// The code at Unix time `unix` (HOTP: at the stored counter).
    pub fn code_at(&self, unix: u64) -> String {
        crate::otp::code(&self.secret, self.params, unix)
    }

    /// `Issuer (name)`, `Issuer`, or `name`: how the account is named to a person.
    pub fn display_name(&self) -> String {
        match (self.issuer.is_empty(), self.name.is_empty()) {
            (false, false) => format!("{} ({})", self.issuer, self.name),
            (false, true) => self.issuer.clone(),
            _ => self.name.clone(),
        }
    }
}

/// One account with the metadata an app keeps beside it (note, favourite, groups): what an
/// import yields, what an export writes and what a batch add takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountEntry {
    /// Issuer, name, secret and code parameters.
    pub account: OtpAccount,
    /// A free-text note.
    pub note: String,
    /// Marked as favourite (pinned) in the source app.
    pub favorite: bool,
    /// Names of the groups (folders, tags) the entry belongs to.
    pub groups: Vec<String>,
}

impl AccountEntry {
    /// An entry with no metadata.
    pub fn new(account: OtpAccount) -> Self {
        AccountEntry {
            account,
            note: String::new(),
            favorite: false,
            groups: Vec::new(),
        }
    }
}
