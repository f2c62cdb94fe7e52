//! How the CLI reads and names accounts, shared by the commands with and without a vault.

use twofold_core::payload::{self, Accounts, PayloadError, PayloadKind, Scanned};
use twofold_core::{Clock, FixedClock, OtpAccount, SystemClock};

use crate::error::CliError;

/// The OTP accounts the texts of one scan (or one typed URI) hold, each read once by the
/// core's classifier, as in the app. A push enrolment or a container registration, even a
/// broken one, is pointed to its own command.
pub fn read_accounts<T: AsRef<str>>(texts: &[T], scanned_at: u64) -> Result<Accounts, CliError> {
    let elsewhere = |kind: Option<PayloadKind>| match kind {
        Some(PayloadKind::PushEnrolment) => Some(CliError::PushEnrolment),
        Some(PayloadKind::ContainerRegistration) => Some(CliError::ContainerRegistration),
        Some(PayloadKind::Account | PayloadKind::Migration) | None => None,
    };
    match payload::parse_all(texts, scanned_at) {
        Ok(Scanned::Accounts(accounts)) => Ok(accounts),
        Ok(Scanned::PushEnrolment(_)) => Err(CliError::PushEnrolment),
        Ok(Scanned::ContainerRegistration(_)) => Err(CliError::ContainerRegistration),
        Err(PayloadError::NotAlone(kind)) => {
            Err(elsewhere(Some(kind)).unwrap_or(CliError::Payload(PayloadError::NotAlone(kind))))
        }
        Err(e) => Err(elsewhere(e.kind()).unwrap_or(CliError::Payload(e))),
    }
}

/// `--at` if given, else the system clock.
pub fn now(at: Option<u64>) -> u64 {
    match at {
        Some(t) => FixedClock(t).now(),
        None => SystemClock.now(),
    }
}

/// Warns on stderr when an account's secret is shorter than recommended.
pub fn warn_short_secret(account: &OtpAccount) {
    if account.secret.is_short() {
        eprintln!(
            "warning: the secret of {} is {} bits long, shorter than the recommended {}",
            display(&account.display_name()),
            account.secret.bits(),
            twofold_core::Secret::RECOMMENDED_BITS
        );
    }
}

/// An account's display name quoted (control characters escaped), or "this account".
pub fn display(name: &str) -> String {
    if name.is_empty() {
        "this account".to_owned()
    } else {
        format!("{name:?}")
    }
}
