//! How the CLI reads and names accounts, shared by the commands with and without a vault.

use twofold_core::payload::{Entries, Payload};
use twofold_core::{Clock, FixedClock, OtpAccount, SystemClock};

use crate::error::CliError;

/// The OTP accounts a payload holds; a push enrolment is an error here.
pub fn entries(payload: Payload) -> Result<Entries, CliError> {
    payload.into_entries().ok_or(CliError::PushEnrolment)
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
