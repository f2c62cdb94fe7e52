//! Whatever a scanned QR code or pasted text holds, sorted by what Twofold does with it.

use crate::OtpAccount;
use crate::migration::{self, Batch, MigrationError};
use crate::uri::{self, UriError, split_scheme};

/// What a QR code or a pasted URI holds.
#[derive(Debug)]
pub enum Payload {
    /// One OTP account (`otpauth://totp|hotp|steam`, `steam://`).
    Account(OtpAccount),
    /// One QR code of a Google Authenticator export.
    Migration(Batch),
    /// A privacyIDEA push enrolment (`otpauth://pipush/...`, `pia://pipush/...`), kept as text:
    /// read it with [`crate::push::privacyidea::Enrolment::parse`] and the scan time (its
    /// `ttl` counts from the scan).
    PushEnrolment(String),
}

/// Why a payload is of no use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// A broken or unsupported account URI.
    #[error(transparent)]
    Uri(#[from] UriError),
    /// A broken Google Authenticator export.
    #[error(transparent)]
    Migration(#[from] MigrationError),
}

/// Sorts and reads a payload.
pub fn parse(text: &str) -> Result<Payload, PayloadError> {
    let text = text.trim();
    if text.len() > uri::MAX_URI_LEN {
        return Err(UriError::TooLong { len: text.len() }.into());
    }
    match split_scheme(text) {
        Some((scheme, _)) if scheme == "otpauth-migration" => {
            Ok(Payload::Migration(migration::parse_uri(text)?))
        }
        Some((scheme, rest))
            if (scheme == "otpauth" || scheme == "pia")
                && rest
                    .get(..7)
                    .is_some_and(|t| t.eq_ignore_ascii_case("pipush/")) =>
        {
            Ok(Payload::PushEnrolment(text.to_owned()))
        }
        _ => Ok(Payload::Account(uri::parse(text)?)),
    }
}
