//! Whatever a scanned QR code or pasted text holds, sorted by what Twofold does with it: the
//! one classifier of the CLI and the app. A text is sorted by its scheme ([`PayloadKind::of`])
//! and read once by its kind's parser ([`parse`]); the value read is what goes on to the vault
//! or to the confirmation screen.

use std::fmt;

use crate::OtpAccount;
use crate::container::{ContainerError, Registration};
use crate::migration::{self, Batch, EntryError, MigrationError};
use crate::push::privacyidea::{EnrolError, Enrolment};
use crate::uri::{self, UriError};

/// What a QR code or a pasted URI holds, read.
#[derive(Debug)]
pub enum Payload {
    /// One OTP account (`otpauth://totp|hotp|steam`, `steam://`).
    Account(OtpAccount),
    /// One QR code of a Google Authenticator export.
    Migration(Batch),
    /// A privacyIDEA push enrolment (`otpauth://pipush/...`, `pia://pipush/...`), read at the
    /// scan time given to [`parse`] (its `ttl` counts from the scan).
    PushEnrolment(Enrolment),
    /// A privacyIDEA token container registration (`pia://container/...`), read at the scan
    /// time given to [`parse`].
    ContainerRegistration(Registration),
}

/// The kinds of payload, told apart by the scheme and the first path segment alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadKind {
    /// `otpauth://totp|hotp|steam/...`, `steam://...`, and anything not another kind (read as
    /// an account URI, which names what is wrong with it).
    Account,
    /// `otpauth-migration://offline?data=...`.
    Migration,
    /// `otpauth://pipush/...` or `pia://pipush/...`.
    PushEnrolment,
    /// `pia://container/...`.
    ContainerRegistration,
}

/// How far into a text its scheme's `://` is looked for: the longest scheme read
/// (`otpauth-migration`) is 17 bytes, so sorting never walks a long text.
const SCHEME_HEAD: usize = 32;

impl PayloadKind {
    /// Sorts a text (surrounding white space ignored) by its scheme and first path segment,
    /// the schemes compared without regard to case. Reads at most the first few dozen bytes.
    pub fn of(text: &str) -> PayloadKind {
        let text = text.trim_start();
        let head = &text.as_bytes()[..text.len().min(SCHEME_HEAD)];
        let Some(at) = head.windows(3).position(|w| w == b"://") else {
            return PayloadKind::Account;
        };
        // `://` is ASCII, so `at` and `at + 3` are character boundaries.
        let (scheme, rest) = (&text[..at], &text[at + 3..]);
        let starts = |prefix: &str| {
            rest.get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
        };
        if scheme.eq_ignore_ascii_case("otpauth-migration") {
            PayloadKind::Migration
        } else if scheme.eq_ignore_ascii_case("pia") && starts("container/") {
            PayloadKind::ContainerRegistration
        } else if (scheme.eq_ignore_ascii_case("otpauth") || scheme.eq_ignore_ascii_case("pia"))
            && starts("pipush/")
        {
            PayloadKind::PushEnrolment
        } else {
            PayloadKind::Account
        }
    }

    /// True for the kinds confirmed on a screen of their own, which must be scanned alone.
    pub fn comes_alone(self) -> bool {
        matches!(
            self,
            PayloadKind::PushEnrolment | PayloadKind::ContainerRegistration
        )
    }
}

impl fmt::Display for PayloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PayloadKind::Account => "account",
            PayloadKind::Migration => "Google Authenticator export",
            PayloadKind::PushEnrolment => "push enrolment",
            PayloadKind::ContainerRegistration => "container registration",
        })
    }
}

/// Why a payload is of no use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// A broken or unsupported account URI, or a text too long to read.
    #[error(transparent)]
    Uri(#[from] UriError),
    /// A broken Google Authenticator export.
    #[error(transparent)]
    Migration(#[from] MigrationError),
    /// A broken privacyIDEA push enrolment.
    #[error(transparent)]
    PushEnrolment(#[from] EnrolError),
    /// A broken privacyIDEA container registration.
    #[error(transparent)]
    ContainerRegistration(#[from] ContainerError),
    /// A push enrolment or a container registration among other QR codes of one scan.
    #[error("this image holds a {0} QR code among others; scan it on its own")]
    NotAlone(PayloadKind),
}

impl PayloadError {
    /// The kind of the text that could not be read; `None` for a text too long to sort or a
    /// scan that mixes kinds.
    pub fn kind(&self) -> Option<PayloadKind> {
        match self {
            PayloadError::Uri(UriError::TooLong { .. }) | PayloadError::NotAlone(_) => None,
            PayloadError::Uri(_) => Some(PayloadKind::Account),
            PayloadError::Migration(_) => Some(PayloadKind::Migration),
            PayloadError::PushEnrolment(_) => Some(PayloadKind::PushEnrolment),
            PayloadError::ContainerRegistration(_) => Some(PayloadKind::ContainerRegistration),
        }
    }
}

/// Sorts and reads a payload scanned at `scanned_at` (Unix seconds; a push enrolment's and a
/// container registration's time to live count from then). A text longer than
/// [`uri::MAX_URI_LEN`] is refused before it is sorted.
pub fn parse(text: &str, scanned_at: u64) -> Result<Payload, PayloadError> {
    let text = text.trim();
    if text.len() > uri::MAX_URI_LEN {
        return Err(UriError::TooLong { len: text.len() }.into());
    }
    Ok(match PayloadKind::of(text) {
        PayloadKind::Migration => Payload::Migration(migration::parse_uri(text)?),
        PayloadKind::PushEnrolment => Payload::PushEnrolment(Enrolment::parse(text, scanned_at)?),
        PayloadKind::ContainerRegistration => {
            Payload::ContainerRegistration(Registration::parse(text, scanned_at)?)
        }
        PayloadKind::Account => Payload::Account(uri::parse(text)?),
    })
}

/// The OTP accounts of one scan and the QR codes of a Google Authenticator export among them,
/// each in scan order.
#[derive(Debug, Default)]
pub struct Accounts {
    /// The accounts of `otpauth://` and `steam://` QR codes.
    pub accounts: Vec<OtpAccount>,
    /// The QR codes of an export.
    pub exports: Vec<Batch>,
}

impl Accounts {
    /// Every account, each with its place (from 1) in its QR code, and the accounts of an
    /// export that could not be read: the single accounts first, then each export QR code's.
    pub fn into_entries(self) -> Entries {
        let mut entries = Entries {
            accounts: self.accounts.into_iter().map(|a| (1, a)).collect(),
            failures: Vec::new(),
        };
        for batch in self.exports {
            let read = Entries::from(batch);
            entries.accounts.extend(read.accounts);
            entries.failures.extend(read.failures);
        }
        entries
    }
}

/// What the QR codes of one scan (or one typed text) hold, each read once.
#[derive(Debug)]
pub enum Scanned {
    /// OTP accounts and export QR codes.
    Accounts(Accounts),
    /// A push enrolment, scanned alone.
    PushEnrolment(Enrolment),
    /// A container registration, scanned alone.
    ContainerRegistration(Registration),
}

/// Reads the texts of one scan, each once, at `scanned_at` (see [`parse`]). A push enrolment
/// or a container registration among other QR codes is refused before anything is read
/// ([`PayloadError::NotAlone`], a container registration named first): each is confirmed on its
/// own screen. Otherwise the first text that cannot be read fails the whole scan, so a bad
/// QR code adds nothing.
pub fn parse_all<T: AsRef<str>>(texts: &[T], scanned_at: u64) -> Result<Scanned, PayloadError> {
    if texts.len() > 1 {
        for alone in [
            PayloadKind::ContainerRegistration,
            PayloadKind::PushEnrolment,
        ] {
            if texts.iter().any(|t| PayloadKind::of(t.as_ref()) == alone) {
                return Err(PayloadError::NotAlone(alone));
            }
        }
    }
    let mut read = Accounts::default();
    for text in texts {
        match parse(text.as_ref(), scanned_at)? {
            Payload::Account(a) => read.accounts.push(a),
            Payload::Migration(batch) => read.exports.push(batch),
            Payload::PushEnrolment(e) => return Ok(Scanned::PushEnrolment(e)),
            Payload::ContainerRegistration(r) => return Ok(Scanned::ContainerRegistration(r)),
        }
    }
    Ok(Scanned::Accounts(read))
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
    /// `None` for a push enrolment or a container registration, which hold none.
    pub fn into_entries(self) -> Option<Entries> {
        match self {
            Payload::Account(a) => Some(Entries {
                accounts: vec![(1, a)],
                failures: Vec::new(),
            }),
            Payload::Migration(batch) => Some(batch.into()),
            Payload::PushEnrolment(_) | Payload::ContainerRegistration(_) => None,
        }
    }

    /// Its kind.
    pub fn kind(&self) -> PayloadKind {
        match self {
            Payload::Account(_) => PayloadKind::Account,
            Payload::Migration(_) => PayloadKind::Migration,
            Payload::PushEnrolment(_) => PayloadKind::PushEnrolment,
            Payload::ContainerRegistration(_) => PayloadKind::ContainerRegistration,
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
        let p = parse(
            "otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME",
            0,
        )
        .unwrap();
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
        let e = parse(&export.uris[0], 0).unwrap().into_entries().unwrap();
        assert_eq!(numbered(&e), [(1, "alice"), (2, "bob")]);
        assert!(e.failures.is_empty());
    }

    /// A privacyIDEA 3.12 `pipush` QR code (as in `push::privacyidea` tests).
    const PUSH: &str = "otpauth://pipush/PIPU0001A2B3?url=https%3A//pi.example.com/ttype/push&ttl=10&issuer=privacyIDEA&enrollment_credential=9a1c1e4bd1e1f0b2c9e2bd4f3f9b41e0c1a2b3c4&v=1&serial=PIPU0001A2B3&sslverify=1&poll_only=True";
    /// A privacyIDEA 3.12 container registration QR code (as in `container` tests).
    const CONTAINER: &str = "pia://container/SMPH0008F19E?issuer=privacyIDEA&ttl=10&nonce=8e1afc836697758b55388f9f441d256097c976f9&time=2026-12-01T21%3A17%3A26.235976%2B00%3A00&url=http%3A//127.0.0.1%3A5066/&serial=SMPH0008F19E&key_algorithm=secp384r1&hash_algorithm=SHA256&ssl_verify=False&passphrase=&send_passphrase=False";
    /// When [`CONTAINER`] was made.
    const SCANNED: u64 = 1_796_159_846;

    #[test]
    fn a_push_enrolment_holds_no_accounts() {
        let p = parse(PUSH, SCANNED).unwrap();
        assert!(p.into_entries().is_none());
    }

    #[test]
    fn a_container_registration_holds_no_accounts() {
        let p = parse(CONTAINER, SCANNED).unwrap();
        assert!(p.into_entries().is_none());
    }

    /// Every kind, with the spellings each front end meets (case, white space, `pia://`), is
    /// sorted into exactly one kind, the one its parser reads.
    #[test]
    fn each_kind_is_sorted_once_by_its_scheme() {
        let export = migration::write(&[account("alice")], 3);
        let cases: [(&str, PayloadKind); 14] = [
            (
                "otpauth://totp/ACME:a?secret=JBSWY3DPEHPK3PXP",
                PayloadKind::Account,
            ),
            (
                "OTPAUTH://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=1",
                PayloadKind::Account,
            ),
            (
                "otpauth://steam/a?secret=JBSWY3DPEHPK3PXP",
                PayloadKind::Account,
            ),
            ("steam://JBSWY3DPEHPK3PXP", PayloadKind::Account),
            ("https://example.com", PayloadKind::Account),
            ("no scheme at all", PayloadKind::Account),
            (&export.uris[0], PayloadKind::Migration),
            (
                "  Otpauth-Migration://offline?data=x\n",
                PayloadKind::Migration,
            ),
            (PUSH, PayloadKind::PushEnrolment),
            (
                "pia://PIPUSH/x?url=https%3A//pi/ttype/push",
                PayloadKind::PushEnrolment,
            ),
            (CONTAINER, PayloadKind::ContainerRegistration),
            (
                "\tPIA://Container/SMPH1?serial=SMPH1",
                PayloadKind::ContainerRegistration,
            ),
            // A container path under another scheme is no registration.
            (
                "otpauth://container/x?secret=JBSWY3DPEHPK3PXP",
                PayloadKind::Account,
            ),
            ("pia://totp/x?secret=JBSWY3DPEHPK3PXP", PayloadKind::Account),
        ];
        for (text, kind) in cases {
            assert_eq!(PayloadKind::of(text), kind, "{text}");
            match parse(text, SCANNED) {
                Ok(p) => assert_eq!(p.kind(), kind, "{text}"),
                Err(e) => assert_eq!(e.kind(), Some(kind), "{text}: {e}"),
            }
        }
        // The value read is the kind's own parser's: nothing is left to read again.
        let Payload::PushEnrolment(e) = parse(PUSH, SCANNED).unwrap() else {
            panic!("not a push enrolment")
        };
        assert_eq!(
            e,
            crate::push::privacyidea::Enrolment::parse(PUSH, SCANNED).unwrap()
        );
        assert_eq!(e.expires_at(), SCANNED + 600);
        let Payload::ContainerRegistration(r) = parse(CONTAINER, SCANNED).unwrap() else {
            panic!("not a container registration")
        };
        assert_eq!(r, Registration::parse(CONTAINER, SCANNED).unwrap());
        assert_eq!(r.serial(), "SMPH0008F19E");
    }

    /// A text over the cap is refused before it is sorted or read, whatever its kind; sorting
    /// reads only the head of a text, so a scheme far into it is no scheme.
    #[test]
    fn hostile_sizes_are_refused_before_any_work() {
        let export = migration::write(&[account("alice")], 3);
        for prefix in [
            "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&x=",
            export.uris[0].as_str(),
            PUSH,
            CONTAINER,
        ] {
            let long = format!("{prefix}&pad={}", "a".repeat(uri::MAX_URI_LEN));
            let e = parse(&long, SCANNED).unwrap_err();
            assert_eq!(e, PayloadError::Uri(UriError::TooLong { len: long.len() }));
            assert_eq!(e.kind(), None);
            let e = parse_all(&[long.as_str()], SCANNED).unwrap_err();
            assert!(
                matches!(e, PayloadError::Uri(UriError::TooLong { .. })),
                "{e}"
            );
        }
        // At the cap, white space around it not counted, a text is read.
        let at_cap = format!(
            " {PUSH}&pad={} ",
            "a".repeat(uri::MAX_URI_LEN - PUSH.len() - 5)
        );
        assert_eq!(
            parse(&at_cap, SCANNED).unwrap().kind(),
            PayloadKind::PushEnrolment
        );
        let far = format!(
            "{}otpauth-migration://offline?data=x",
            "x".repeat(SCHEME_HEAD)
        );
        assert_eq!(PayloadKind::of(&far), PayloadKind::Account);
        let megabyte = "a".repeat(1 << 20);
        assert_eq!(PayloadKind::of(&megabyte), PayloadKind::Account);
    }

    /// One scan: a push enrolment or a container registration comes alone (a container named
    /// first), refused before any text is read; otherwise the accounts and the export QR codes.
    #[test]
    fn a_scan_is_read_once_and_confirmed_kinds_come_alone() {
        let export = migration::write(&[account("alice"), account("bob")], 3);
        let totp = "otpauth://totp/ACME:carol?secret=JBSWY3DPEHPK3PXP";
        let Scanned::Accounts(read) = parse_all(&[export.uris[0].as_str(), totp], 0).unwrap()
        else {
            panic!("not accounts")
        };
        assert_eq!(read.exports.len(), 1);
        let entries = read.into_entries();
        assert_eq!(numbered(&entries), [(1, "carol"), (1, "alice"), (2, "bob")]);
        assert!(matches!(
            parse_all(&[PUSH], SCANNED).unwrap(),
            Scanned::PushEnrolment(_)
        ));
        assert!(matches!(
            parse_all(&[CONTAINER], SCANNED).unwrap(),
            Scanned::ContainerRegistration(_)
        ));
        // A broken text among them is not read first: the mix is the error.
        let broken = "otpauth://totp/x?secret=!!";
        assert_eq!(
            parse_all(&[broken, PUSH, CONTAINER], SCANNED).unwrap_err(),
            PayloadError::NotAlone(PayloadKind::ContainerRegistration)
        );
        let e = parse_all(&[totp, PUSH], SCANNED).unwrap_err();
        assert_eq!(e, PayloadError::NotAlone(PayloadKind::PushEnrolment));
        assert_eq!(
            e.to_string(),
            "this image holds a push enrolment QR code among others; scan it on its own"
        );
        // The first text that cannot be read fails the scan.
        assert_eq!(
            parse_all(&[totp, broken], 0).unwrap_err().kind(),
            Some(PayloadKind::Account)
        );
    }
}
