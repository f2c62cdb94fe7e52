//! The vault's push challenges: those waiting for an answer, answered nonces and the
//! activity log. These
//! methods do the bookkeeping around [`crate::push`]'s requests and replies, so the app and
//! the CLI only carry bytes:
//!
//! 1. [`Vault::poll_requests`] → send each → [`Vault::read_poll_replies`] (verifies, stores,
//!    says what is new; fails only when every account failed);
//! 2. [`Vault::pending_challenges`] to show;
//! 3. [`Vault::prepare_answer`] → send → [`Vault::finish_answer`] (logs, marks the nonce).

use super::Vault;
use crate::push::webpush::EceError;
use crate::push::{
    Activity, Answer, AnswerError, AnswerOutcome, AnsweredNonce, Challenge, ChallengeError,
    Location, PendingAnswer, PollError, PushAccount, PushRegistration, Request, protocol,
};

/// Answered nonces are remembered this long (far beyond any challenge's life).
pub const ANSWERED_KEEP_SECS: u64 = 30 * 24 * 3600;
/// At most this many answered nonces are kept (the oldest go first).
pub const ANSWERED_MAX: usize = 10_000;
/// At most this many activity entries are kept (the oldest go first).
pub const ACTIVITY_MAX: usize = 10_000;

/// What one account's poll reply brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollNews {
    /// Every verified challenge the server listed, in its order (new, known and answered).
    pub challenges: Vec<Challenge>,
    /// Nonces stored as pending by this reply: never seen before, so never told.
    pub new: Vec<String>,
    /// Challenges that failed verification, with the reason (never shown).
    pub rejected: Vec<ChallengeError>,
}

/// Why one account's poll brought nothing: the request could not be made or sent (`E`, the
/// transport's error), or the reply was refused.
#[derive(Debug, thiserror::Error)]
pub enum PollFailure<E: std::error::Error + 'static> {
    /// The request did not reach the server or got no usable reply.
    #[error(transparent)]
    Send(E),
    /// The poll could not be signed, or the reply was refused.
    #[error(transparent)]
    Poll(#[from] PollError),
}

/// Each account's poll reply body (or why there is none), by serial: what a transport made of
/// [`Vault::poll_requests`].
pub type PollReplies<E> = Vec<(String, Result<Vec<u8>, PollFailure<E>>)>;

/// What one round of polls over every push account brought.
#[derive(Debug)]
pub struct PollRound<E: std::error::Error + 'static> {
    /// Nonces stored as pending in this round (each told once), with their serials.
    pub new: Vec<(String, String)>,
    /// Challenges refused by verification, by serial.
    pub rejected: Vec<(String, ChallengeError)>,
    /// Accounts whose poll failed while others succeeded, by serial.
    pub failed: Vec<(String, PollFailure<E>)>,
}

/// Every account's poll failed (and there was at least one account).
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.iter().map(|(s, e)| format!("{s}: {e}")).collect::<Vec<_>>().join("; "))]
pub struct PollFailed<E: std::error::Error + 'static>(pub Vec<(String, PollFailure<E>)>);

/// Why a pushed message (privacyIDEA's challenge, carried by the relay through Web Push) was
/// not taken. Nothing of it is shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushedError {
    /// This device has no Web Push registration, so nothing could be for it.
    #[error("this device has no push registration")]
    NotRegistered,
    /// The message does not decrypt with this device's keys.
    #[error(transparent)]
    Decrypt(#[from] EceError),
    /// It decrypted to something other than a challenge (JSON naming a serial).
    #[error("the pushed message is not a sign-in request")]
    NotAChallenge,
    /// The challenge names no push account of this device.
    #[error("the pushed sign-in request is for no push account here ({0})")]
    UnknownAccount(String),
    /// The challenge failed verification with the account's server key, as a polled one would.
    #[error(transparent)]
    Challenge(#[from] ChallengeError),
}

/// What a pushed message brought: a verified challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedNews {
    /// Its token.
    pub serial: String,
    /// Its nonce.
    pub nonce: String,
    /// Stored as pending now: neither a poll nor an earlier message brought it before, and it
    /// was not answered.
    pub new: bool,
}
impl<E: std::error::Error + 'static> PollFailed<E> {
    /// True when a server said this device's clock is off (a poll's timestamp must be within
    /// 60 s of the server's time).
    pub fn clock_off(&self) -> bool {
        self.0
            .iter()
            .any(|(_, e)| matches!(e, PollFailure::Poll(PollError::ClockOff(_))))
    }
}

impl Vault {
    /// One signed poll request per push account, with its serial.
    pub fn poll_requests(&self, now: u64) -> Vec<(String, Result<Request, PollError>)> {
        poll_requests(&self.db.push_accounts, now)
    }

    /// Reads a pushed message (the body the push service received, as the distributor hands
    /// it over): decrypted with this device's registration, then the challenge verified with
    /// its account's server key exactly as a polled one ([`crate::push::PushProtocol::verify`]),
    /// and kept as pending unless a poll or an earlier message brought it already, or it was
    /// answered: one pending challenge, so one notification, per nonce, whichever way came first.
    pub fn read_pushed(&mut self, body: &[u8], now: u64) -> Result<PushedNews, PushedError> {
        self.prune_answered(now);
        let answered = &self.db.push_answered;
        read_pushed(
            &self.db.push_accounts,
            &mut self.db.push_pending,
            |nonce| answered.iter().any(|a| a.nonce == nonce),
            self.db.push_registration.as_ref(),
            body,
            now,
        )
    }

    /// Reads the reply to `serial`'s poll: verifies every challenge and keeps the verified,
    /// unanswered ones as pending, and says which are new. A challenge seen again keeps its
    /// first receipt time, so it still expires 2 minutes after it first arrived; an expired
    /// one is remembered for as long as the server lists it, so it never comes back as new.
    pub fn read_poll_reply(
        &mut self,
        serial: &str,
        body: &[u8],
        now: u64,
    ) -> Result<PollNews, PollError> {
        self.prune_answered(now);
        let answered = &self.db.push_answered;
        read_poll_reply(
            &self.db.push_accounts,
            &mut self.db.push_pending,
            |nonce| answered.iter().any(|a| a.nonce == nonce),
            serial,
            body,
            now,
        )
    }

    /// Reads one round of poll replies (from [`Vault::poll_requests`], each sent by the
    /// caller's transport): every account's reply is read as [`Vault::read_poll_reply`] does.
    /// Fails only when every account failed; otherwise the failures are in the round.
    pub fn read_poll_replies<E: std::error::Error + 'static>(
        &mut self,
        replies: PollReplies<E>,
        now: u64,
    ) -> Result<PollRound<E>, PollFailed<E>> {
        read_round(replies, |serial, body| {
            self.read_poll_reply(serial, body, now)
        })
    }
    /// Challenges waiting for an answer that have not expired, oldest first.
    pub fn pending_challenges(&self, now: u64) -> Vec<&Challenge> {
        self.db
            .push_pending
            .iter()
            .filter(|c| !c.is_expired(now) && !self.is_answered(c.nonce()))
            .collect()
    }

    /// True when this nonce was answered already.
    pub fn is_answered(&self, nonce: &str) -> bool {
        self.db.push_answered.iter().any(|a| a.nonce == nonce)
    }

    /// The signed answer to the pending challenge `nonce`. Refuses a nonce answered before
    /// (never twice), an unknown or expired one, and what the protocol refuses.
    pub fn prepare_answer(
        &self,
        nonce: &str,
        answer: Answer,
        now: u64,
    ) -> Result<PendingAnswer, AnswerError> {
        if self.is_answered(nonce) {
            return Err(AnswerError::AlreadyAnswered);
        }
        let challenge = self
            .db
            .push_pending
            .iter()
            .find(|c| c.nonce() == nonce)
            .ok_or_else(|| AnswerError::NotPending(crate::uri::excerpt(nonce)))?;
        if challenge.is_expired(now) {
            return Err(AnswerError::Expired);
        }
        let account = self
            .push_account(challenge.serial())
            .ok_or_else(|| AnswerError::NoAccount(challenge.serial().to_owned()))?;
        let protocol =
            protocol(account).ok_or_else(|| AnswerError::NoAccount(account.serial.clone()))?;
        protocol.answer(account, challenge, answer, now)
    }

    /// Reads the server's reply to an answer, logs the decision and marks the nonce
    /// answered, unless a wrong number-matching option left the challenge open. A reply the
    /// server refused still marks the nonce: it reached the server and is never sent again.
    pub fn finish_answer(
        &mut self,
        pending: &PendingAnswer,
        body: &[u8],
        location: Option<Location>,
        now: u64,
    ) -> Result<AnswerOutcome, AnswerError> {
        let result = match self.push_account(pending.serial()).and_then(protocol) {
            Some(p) => p.read_answer(pending, body),
            None => Err(AnswerError::NoAccount(pending.serial().to_owned())),
        };
        let accepted = matches!(&result, Ok(o) if o.accepted);
        let still_open = matches!(&result, Ok(o) if !o.accepted) && pending.is_option_accept();
        if let Some(c) = self
            .db
            .push_pending
            .iter()
            .find(|c| c.nonce() == pending.nonce())
        {
            let entry = Activity {
                at: now,
                serial: pending.serial().to_owned(),
                title: c.title().to_owned(),
                question: c.question().to_owned(),
                answer: pending.answer().clone(),
                accepted,
                location,
            };
            self.db.push_activity.push(entry);
            let excess = self.db.push_activity.len().saturating_sub(ACTIVITY_MAX);
            self.db.push_activity.drain(..excess);
        }
        if !still_open {
            self.db
                .push_pending
                .retain(|c| c.nonce() != pending.nonce());
            self.db.push_answered.push(AnsweredNonce {
                serial: pending.serial().to_owned(),
                nonce: pending.nonce().to_owned(),
                at: now,
            });
            self.prune_answered(now);
        }
        result
    }

    /// The activity log, oldest first.
    pub fn push_activity(&self) -> &[Activity] {
        &self.db.push_activity
    }

    pub(super) fn prune_answered(&mut self, now: u64) {
        self.db
            .push_answered
            .retain(|a| a.at.saturating_add(ANSWERED_KEEP_SECS) >= now);
        let excess = self.db.push_answered.len().saturating_sub(ANSWERED_MAX);
        self.db.push_answered.drain(..excess);
    }
}

/// One signed poll request per account, with its serial.
pub(super) fn poll_requests(
    accounts: &[PushAccount],
    now: u64,
) -> Vec<(String, Result<Request, PollError>)> {
    accounts
        .iter()
        .map(|a| {
            let r = match protocol(a) {
                Some(p) => p.poll(a, now),
                None => Err(PollError::UnknownProtocol(a.protocol.clone())),
            };
            (a.serial.clone(), r)
        })
        .collect()
}

/// One account's poll reply read into `pending` (the vault's or a [`PushKeyring`]'s): see
/// [`Vault::read_poll_reply`].
pub(super) fn read_poll_reply(
    accounts: &[PushAccount],
    pending: &mut Vec<Challenge>,
    is_answered: impl Fn(&str) -> bool,
    serial: &str,
    body: &[u8],
    now: u64,
) -> Result<PollNews, PollError> {
    let account = accounts
        .iter()
        .find(|a| a.serial == serial)
        .ok_or_else(|| PollError::Response(format!("no push account {serial:?}")))?;
    let protocol =
        protocol(account).ok_or_else(|| PollError::UnknownProtocol(account.protocol.clone()))?;
    let outcome = protocol.read_poll(account, body, now)?;
    // Expired challenges of this account go once the server stops listing them.
    pending.retain(|p| {
        p.serial() != serial
            || !p.is_expired(now)
            || outcome.challenges.iter().any(|c| c.nonce() == p.nonce())
    });
    let mut new = Vec::new();
    for c in &outcome.challenges {
        let known = is_answered(c.nonce()) || pending.iter().any(|p| p.nonce() == c.nonce());
        if !known {
            pending.push(c.clone());
            new.push(c.nonce().to_owned());
        }
    }
    Ok(PollNews {
        challenges: outcome.challenges,
        new,
        rejected: outcome.rejected,
    })
}

/// One pushed message read into `pending` (the vault's or a [`PushKeyring`]'s): see
/// [`Vault::read_pushed`].
pub(super) fn read_pushed(
    accounts: &[PushAccount],
    pending: &mut Vec<Challenge>,
    is_answered: impl Fn(&str) -> bool,
    registration: Option<&PushRegistration>,
    body: &[u8],
    now: u64,
) -> Result<PushedNews, PushedError> {
    let registration = registration.ok_or(PushedError::NotRegistered)?;
    let plain = registration.decrypt(body)?;
    let text = std::str::from_utf8(&plain).map_err(|_| PushedError::NotAChallenge)?;
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|_| PushedError::NotAChallenge)?;
    let serial = value
        .get("serial")
        .and_then(serde_json::Value::as_str)
        .ok_or(PushedError::NotAChallenge)?;
    let account = accounts
        .iter()
        .find(|a| a.serial == serial)
        .ok_or_else(|| PushedError::UnknownAccount(crate::uri::excerpt(serial)))?;
    let protocol =
        protocol(account).ok_or_else(|| PushedError::UnknownAccount(account.serial.clone()))?;
    let challenge = protocol.verify(account, text, now)?;
    let nonce = challenge.nonce().to_owned();
    let known = is_answered(&nonce) || pending.iter().any(|p| p.nonce() == nonce);
    if !known {
        pending.push(challenge);
    }
    Ok(PushedNews {
        serial: account.serial.clone(),
        nonce,
        new: !known,
    })
}

/// A round of replies, each read by `read`; fails only when every account failed.
pub(super) fn read_round<E: std::error::Error + 'static>(
    replies: PollReplies<E>,
    mut read: impl FnMut(&str, &[u8]) -> Result<PollNews, PollError>,
) -> Result<PollRound<E>, PollFailed<E>> {
    let total = replies.len();
    let mut round = PollRound {
        new: Vec::new(),
        rejected: Vec::new(),
        failed: Vec::new(),
    };
    for (serial, body) in replies {
        let news = body.and_then(|b| Ok(read(&serial, &b)?));
        match news {
            Ok(n) => {
                round
                    .new
                    .extend(n.new.into_iter().map(|nonce| (nonce, serial.clone())));
                round
                    .rejected
                    .extend(n.rejected.into_iter().map(|r| (serial.clone(), r)));
            }
            Err(e) => round.failed.push((serial, e)),
        }
    }
    if total > 0 && round.failed.len() == total {
        return Err(PollFailed(round.failed));
    }
    Ok(round)
}
