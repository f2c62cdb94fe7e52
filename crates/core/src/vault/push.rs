//! The vault's push side: push accounts (apart from the OTP accounts, so no export sees
//! them), challenges waiting for an answer, answered nonces and the activity log. These
//! methods do the bookkeeping around [`crate::push`]'s requests and replies, so the app and
//! the CLI only carry bytes:
//!
//! 1. [`Vault::poll_requests`] → send each → [`Vault::read_poll_reply`] (verifies, stores);
//! 2. [`Vault::pending_challenges`] to show;
//! 3. [`Vault::prepare_answer`] → send → [`Vault::finish_answer`] (logs, marks the nonce).

use crate::push::{
    Activity, Answer, AnswerError, AnswerOutcome, AnsweredNonce, Challenge, Location,
    PendingAnswer, PollError, PollOutcome, PushAccount, Request, protocol,
};

use super::{Vault, VaultError};

/// Answered nonces are remembered this long (far beyond any challenge's life).
pub const ANSWERED_KEEP_SECS: u64 = 30 * 24 * 3600;
/// At most this many answered nonces are kept (the oldest go first).
pub const ANSWERED_MAX: usize = 10_000;
/// At most this many activity entries are kept (the oldest go first).
pub const ACTIVITY_MAX: usize = 10_000;

impl Vault {
    /// The enrolled push accounts.
    pub fn push_accounts(&self) -> &[PushAccount] {
        &self.db.push_accounts
    }

    /// One push account by serial.
    pub fn push_account(&self, serial: &str) -> Option<&PushAccount> {
        self.db.push_accounts.iter().find(|a| a.serial == serial)
    }

    /// Adds an enrolled push account; one with the same serial (a re-enrolment) is replaced
    /// and its pending challenges dropped. Returns true when one was replaced.
    pub fn add_push_account(&mut self, account: PushAccount) -> bool {
        let serial = account.serial.clone();
        let replaced = self.remove_push_account(&serial).is_ok();
        self.db.push_accounts.push(account);
        replaced
    }

    /// Removes a push account and its pending challenges.
    pub fn remove_push_account(&mut self, serial: &str) -> Result<PushAccount, VaultError> {
        let i = self
            .db
            .push_accounts
            .iter()
            .position(|a| a.serial == serial)
            .ok_or_else(|| VaultError::NotFound(serial.to_owned()))?;
        self.db.push_pending.retain(|c| c.serial() != serial);
        Ok(self.db.push_accounts.remove(i))
    }

    /// Stores the new push-service token of an account (after the server took it).
    pub fn set_push_token(&mut self, serial: &str, token: &str) -> Result<(), VaultError> {
        let a = self
            .db
            .push_accounts
            .iter_mut()
            .find(|a| a.serial == serial)
            .ok_or_else(|| VaultError::NotFound(serial.to_owned()))?;
        a.push_token = token.to_owned();
        Ok(())
    }

    /// One signed poll request per push account, with its serial.
    pub fn poll_requests(&self, now: u64) -> Vec<(String, Result<Request, PollError>)> {
        self.db
            .push_accounts
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

    /// Reads the reply to `serial`'s poll: verifies every challenge and keeps the verified,
    /// unanswered ones as pending (a challenge seen again keeps its first receipt time, so it
    /// still expires 2 minutes after it first arrived).
    pub fn read_poll_reply(
        &mut self,
        serial: &str,
        body: &[u8],
        now: u64,
    ) -> Result<PollOutcome, PollError> {
        let account = self
            .push_account(serial)
            .ok_or_else(|| PollError::Response(format!("no push account {serial:?}")))?;
        let protocol = protocol(account)
            .ok_or_else(|| PollError::UnknownProtocol(account.protocol.clone()))?;
        let outcome = protocol.read_poll(account, body, now)?;
        self.prune_push(now);
        for c in &outcome.challenges {
            let known = self.is_answered(c.nonce())
                || self.db.push_pending.iter().any(|p| p.nonce() == c.nonce());
            if !known {
                self.db.push_pending.push(c.clone());
            }
        }
        Ok(outcome)
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
            self.prune_push(now);
        }
        result
    }

    /// The activity log, oldest first.
    pub fn push_activity(&self) -> &[Activity] {
        &self.db.push_activity
    }

    fn prune_push(&mut self, now: u64) {
        self.db.push_pending.retain(|c| !c.is_expired(now));
        self.db
            .push_answered
            .retain(|a| a.at.saturating_add(ANSWERED_KEEP_SECS) >= now);
        let excess = self.db.push_answered.len().saturating_sub(ANSWERED_MAX);
        self.db.push_answered.drain(..excess);
    }
}
