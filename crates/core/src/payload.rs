//! Whatever a scanned QR code or pasted text holds, sorted by what Twofold does with it.

use crate::OtpAccount;
use crate::migration::{self, Batch, EntryError, MigrationError};
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

/// An account of a Google Authenticator export that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("account {position} of the export: {error}")]
pub struct EntryFailure {
    /// Its place in its QR code, from 1.
    pub position: usize,
    /// Which QR code of the export (0-based).
    pub batch_index: u32,
    /// Why it could not be read.
    pub error: EntryError,
}

/// The OTP accounts a payload holds, each with its place (from 1) in its QR code, and the
/// accounts that could not be read.
#[derive(Debug, Default)]
pub struct Entries {
    /// The accounts read, in payload order.
    pub accounts: Vec<(usize, OtpAccount)>,
    /// The accounts that could not be read, in payload order.
    pub failures: Vec<EntryFailure>,
}

impl From<Batch> for Entries {
    fn from(batch: Batch) -> Self {
        let mut entries = Entries::default();
        for (i, entry) in batch.entries.into_iter().enumerate() {
            match entry {
                Ok(a) => entries.accounts.push((i + 1, a)),
                Err(error) => entries.failures.push(EntryFailure {
                    position: i + 1,
                    batch_index: batch.batch_index,
                    error,
                }),
            }
        }
        entries
    }
}

impl Payload {
    /// The OTP accounts this payload holds, and those of an export that could not be read;
    /// `None` for a push enrolment, which holds none.
    pub fn into_entries(self) -> Option<Entries> {
        match self {
            Payload::Account(a) => Some(Entries {
                accounts: vec![(1, a)],
                failures: Vec::new(),
            }),
            Payload::Migration(batch) => Some(batch.into()),
            Payload::PushEnrolment(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str) -> OtpAccount {
        crate::uri::parse(&format!(
            "otpauth://totp/ACME:{name}?secret=JBSWY3DPEHPK3PXP&issuer=ACME"
        ))
        .unwrap()
    }

    fn numbered(e: &Entries) -> Vec<(usize, &str)> {
        e.accounts
            .iter()
            .map(|(i, a)| (*i, a.name.as_str()))
            .collect()
    }

    #[test]
    fn one_account_is_the_first_and_only_entry() {
        let p = parse("otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME").unwrap();
        let e = p.into_entries().unwrap();
        assert_eq!(e.accounts.len(), 1);
        assert_eq!(e.accounts[0].0, 1);
        assert_eq!(e.accounts[0].1.name, "alice");
        assert!(e.failures.is_empty());
    }

    #[test]
    fn an_export_flattens_into_accounts_and_failures_in_place() {
        let batch = Batch {
            version: 1,
            batch_size: 2,
            batch_index: 1,
            batch_id: 7,
            entries: vec![
                Ok(account("alice")),
                Err(EntryError::Algorithm(4)),
                Ok(account("bob")),
            ],
        };
        let e = Entries::from(batch);
        assert_eq!(numbered(&e), [(1, "alice"), (3, "bob")]);
        assert_eq!(
            e.failures,
            [EntryFailure {
                position: 2,
                batch_index: 1,
                error: EntryError::Algorithm(4),
            }]
        );
        assert_eq!(
            e.failures[0].to_string(),
            "account 2 of the export: unsupported algorithm (MD5)"
        );
    }

    #[test]
    fn a_parsed_export_gives_its_accounts_numbered_from_one() {
        let export = migration::write(&[account("alice"), account("bob")], 3);
        let e = parse(&export.uris[0]).unwrap().into_entries().unwrap();
        assert_eq!(numbered(&e), [(1, "alice"), (2, "bob")]);
        assert!(e.failures.is_empty());
    }

    #[test]
    fn a_push_enrolment_holds_no_accounts() {
        let p = parse("otpauth://pipush/PIPU0001?url=https://pi.example/ttype/push").unwrap();
        assert!(p.into_entries().is_none());
    }
}
