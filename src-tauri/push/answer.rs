//! Answering a sign-in request: once per nonce, even when two answers race.

use std::time::Instant;

use twofold_core::push::{Answer, PushAccount};

use super::PushService;
use crate::dto::{DeclineReason, LocationView, PushAnswerView, PushDecision};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::events::BackupNotice;
use crate::state::{AppState, Inner, unix_now};
use crate::support::http_error;

/// Approving a sign-in that requires device authentication needs the vault password entered
/// this recently (seconds) on platforms without biometrics: the app's one re-authentication
/// window ([`crate::state::REAUTH_SECS`]).
pub const AUTH_FRESH_SECS: u64 = crate::state::REAUTH_SECS;

/// The core's answer from the UI's decision.
pub fn core_answer(
    decision: PushDecision,
    answer: Option<String>,
    reason: Option<DeclineReason>,
) -> AppResult<Answer> {
    Ok(match decision {
        PushDecision::Approve => {
            if reason.is_some() {
                return Err(AppError::invalid("a reason goes with a denial only"));
            }
            Answer::Accept { option: answer }
        }
        PushDecision::Deny => Answer::Decline {
            reason: reason.map(super::collapse::core_reason),
        },
    })
}

/// Checks device authentication before approving for an account that requires it. Desktop
/// (and phones until the device-key slot exists): the vault password entered within
/// [`AUTH_FRESH_SECS`].
pub fn check_auth(inner: &Inner, requires_unlock: bool, now: Instant) -> AppResult<()> {
    if !requires_unlock {
        return Ok(());
    }
    inner.require_recent_password(
        now,
        "approving a sign-in for this account, which asks for device authentication",
    )
}

/// A nonce marked in flight; unmarked when dropped (after the answer was recorded, or when
/// it could not be sent, so it may be tried again).
struct InFlight<'a> {
    service: &'a PushService,
    nonce: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Ok(mut set) = PushService::lock(&self.service.in_flight) {
            set.remove(&self.nonce);
        }
    }
}

/// What the shell needs to answer, from the command's arguments.
pub struct AnswerArgs {
    /// The sign-in request.
    pub nonce: String,
    /// Approve or deny, with the option picked and the reason given.
    pub answer: Answer,
    /// Approving (device authentication may be needed).
    pub approve: bool,
    /// Where the phone is, for the activity log.
    pub location: Option<LocationView>,
}

/// Answers a sign-in request: checked and marked in flight under the state's lock (a second
/// answer to the same nonce is refused until this one is recorded), sent without it, then
/// recorded and saved. Returns the server's verdict and what the UI is to hear of the backup.
pub async fn answer(
    state: &AppState,
    service: &PushService,
    args: AnswerArgs,
) -> AppResult<(PushAnswerView, BackupNotice)> {
    let (pending, _mark) = {
        let inner = state.get()?;
        let vault = inner.vault()?;
        let pending = vault.prepare_answer(&args.nonce, args.answer, unix_now())?;
        if args.approve {
            let requires = vault
                .push_account(pending.serial())
                .is_some_and(PushAccount::requires_unlock);
            check_auth(&inner, requires, Instant::now())?;
        }
        if !PushService::lock(&service.in_flight)?.insert(args.nonce.clone()) {
            return Err(AppError::new(
                ErrorKind::AlreadyAnswered,
                "this sign-in request is being answered already",
            ));
        }
        let mark = InFlight {
            service,
            nonce: args.nonce.clone(),
        };
        (pending, mark)
    };
    let request = pending.request().clone();
    let body =
        crate::support::off_thread(move || twofold_http::send_body(&request).map_err(http_error))
            .await?;
    let mut inner = state.get()?;
    // The answer reached the server: its nonce is spent (and logged) even when the server
    // refused it, so the vault is saved whatever the reply.
    let changed = state.change_saved(&mut inner, |vault| {
        Ok(vault.finish_answer(
            &pending,
            &body,
            args.location.map(super::collapse::location),
            unix_now(),
        ))
    })?;
    let outcome = changed.value?;
    Ok((
        PushAnswerView {
            accepted: outcome.accepted,
            display_code: outcome.display_code,
        },
        changed.backup,
    ))
}
