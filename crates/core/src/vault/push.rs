//! The vault's push side: push accounts (apart from the OTP accounts, so no export sees
//! them), challenges waiting for an answer, answered nonces and the activity log. These
//! methods do the bookkeeping around [`crate::push`]'s requests and replies, so the app and
//! the CLI only carry bytes:
//!
//! 1. [`Vault::poll_requests`] → send each → [`Vault::read_poll_replies`] (verifies, stores,
//!    says what is new; fails only when every account failed);
//! 2. [`Vault::pending_challenges`] to show;
//! 3. [`Vault::prepare_answer`] → send → [`Vault::finish_answer`] (logs, marks the nonce).

use crate::push::device_token::{DeviceToken, TokenError};
use crate::push::webpush::EceError;
use crate::push::{
    Activity, Answer, AnswerError, AnswerOutcome, AnsweredNonce, Challenge, ChallengeError,
    Location, PendingAnswer, PendingTokenUpdate, PollError, PushAccount, PushRegistration, Request,
    UpdateError, protocol,
};
use crate::rng::Rng;

use zeroize::Zeroizing;

use super::{Corruption, Vault, VaultError};

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

/// What a distributor's endpoint did to the registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointChange {
    /// Another connection token than this device's: ignored (the UnifiedPush spec's rule).
    Ignored,
    /// The endpoint the registration had already.
    Same,
    /// A new endpoint: the servers must hear of it ([`Vault::push_token_updates`]).
    Changed,
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
        let replaced = self.drop_push_account(&serial).is_ok();
        self.db.push_accounts.push(account);
        replaced
    }

    /// Removes a push account the user deletes, and its pending challenges. A push account a
    /// token container manages is refused while its server forbids deleting container tokens
    /// ([`VaultError::ManagedDeletion`]); otherwise it is unlinked from its container, so the
    /// next sync no longer reports it (the server then re-keys it and sends it again, as for
    /// any token the phone does not report).
    pub fn remove_push_account(&mut self, serial: &str) -> Result<PushAccount, VaultError> {
        if self.push_account(serial).is_none() {
            return Err(VaultError::NotFound(serial.to_owned()));
        }
        self.release_managed_push(serial)?;
        self.drop_push_account(serial)
    }

    /// Removes a push account and its pending challenges, whatever manages it (a re-enrolment,
    /// or a container sync that removes or replaces it).
    pub(super) fn drop_push_account(&mut self, serial: &str) -> Result<PushAccount, VaultError> {
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
        poll_requests(&self.db.push_accounts, now)
    }

    /// This device's Web Push registration, if it made one.
    pub fn push_registration(&self) -> Option<&PushRegistration> {
        self.db.push_registration.as_ref()
    }

    /// This device's Web Push registration, made now (keys from `rng`) when there is none;
    /// true when it was made (save the vault).
    pub fn ensure_push_registration(
        &mut self,
        rng: &dyn Rng,
    ) -> Result<(&PushRegistration, bool), EceError> {
        let made = self.db.push_registration.is_none();
        if made {
            self.db.push_registration = Some(PushRegistration::generate(rng)?);
        }
        match self.db.push_registration.as_ref() {
            Some(r) => Ok((r, made)),
            None => Err(EceError::Rng),
        }
    }

    /// Takes the endpoint a distributor gave for the registration named `connection`.
    pub fn set_push_endpoint(
        &mut self,
        connection: &str,
        endpoint: &str,
    ) -> Result<EndpointChange, TokenError> {
        match self.db.push_registration.as_mut() {
            Some(r) if r.connection() == connection => Ok(if r.set_endpoint(endpoint)? {
                EndpointChange::Changed
            } else {
                EndpointChange::Same
            }),
            _ => Ok(EndpointChange::Ignored),
        }
    }

    /// Takes the FCM or APNs token the phone's push service gave for the registration named
    /// `connection`: it becomes [`Vault::push_device_token`] (a Web Push token is refused).
    pub fn set_push_native_token(
        &mut self,
        connection: &str,
        token: DeviceToken,
    ) -> Result<EndpointChange, TokenError> {
        match self.db.push_registration.as_mut() {
            Some(r) if r.connection() == connection => Ok(if r.set_native_token(token)? {
                EndpointChange::Changed
            } else {
                EndpointChange::Same
            }),
            _ => Ok(EndpointChange::Ignored),
        }
    }

    /// Forgets the endpoint of the registration named `connection` (the distributor
    /// unregistered it); true when it had one. The servers keep the old token until a new
    /// endpoint comes: messages to it fail at the relay, and polling carries on.
    pub fn clear_push_endpoint(&mut self, connection: &str) -> bool {
        match self.db.push_registration.as_mut() {
            Some(r) if r.connection() == connection && r.endpoint().is_some() => {
                r.clear_endpoint();
                true
            }
            _ => false,
        }
    }

    /// The push token to enrol a new push token with (its `fbtoken`): this device's Web Push
    /// device token (docs/relay.md) once a distributor gave an endpoint, else `None` (the
    /// enrolment then sends privacyIDEA's `no_firebase_token`, poll-only). The one answer for
    /// every enrolment, a scanned QR code's and a token container's.
    pub fn push_device_token(&self) -> Option<String> {
        self.db
            .push_registration
            .as_ref()
            .and_then(|r| r.device_token().ok())
    }

    /// The signed updates (privacyIDEA's `new_fb_token`, signed with each token's phone key)
    /// that give [`Vault::push_device_token`] to every push account the server knows under
    /// another token: those enrolled poll-only, or before the endpoint changed. Send each,
    /// then [`Vault::finish_token_update`]. Empty without a device token.
    pub fn push_token_updates(
        &self,
        now: u64,
    ) -> Vec<(String, Result<PendingTokenUpdate, UpdateError>)> {
        let Some(token) = self.push_device_token() else {
            return Vec::new();
        };
        self.db
            .push_accounts
            .iter()
            .filter(|a| a.push_token != token)
            .map(|a| {
                let update = match protocol(a) {
                    Some(p) => p.update_token(a, &token, now),
                    None => Err(UpdateError::Response(format!(
                        "unknown push protocol {:?}",
                        a.protocol
                    ))),
                };
                (a.serial.clone(), update)
            })
            .collect()
    }

    /// Reads the server's reply to a token update and, when it took the token, stores it on
    /// the account (save the vault).
    pub fn finish_token_update(
        &mut self,
        pending: &PendingTokenUpdate,
        body: &[u8],
    ) -> Result<(), UpdateError> {
        let account = self.push_account(pending.serial()).ok_or_else(|| {
            UpdateError::Response(format!("no push account {}", pending.serial()))
        })?;
        let p = protocol(account).ok_or_else(|| {
            UpdateError::Response(format!("unknown push protocol {:?}", account.protocol))
        })?;
        p.read_update(pending, body)?;
        self.set_push_token(pending.serial(), pending.new_token())
            .map_err(|e| UpdateError::Response(e.to_string()))
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

    /// What polling needs while this vault is locked ([`PushKeyring`]): the push accounts
    /// that do not require the user's presence, each with only what a poll needs
    /// ([`PushAccount::for_polling`]), the challenges waiting and the nonces answered.
    pub fn push_keyring(&self) -> PushKeyring {
        PushKeyring {
            registration: self.db.push_registration.clone(),
            accounts: self
                .db
                .push_accounts
                .iter()
                .filter_map(PushAccount::for_polling)
                .collect(),
            pending: self.db.push_pending.clone(),
            answered: self
                .db
                .push_answered
                .iter()
                .map(|a| a.nonce.clone())
                .collect(),
        }
    }

    /// Takes over the challenges `keyring` received while the vault was locked: each one of
    /// a push account of this vault, neither answered nor pending here, becomes pending (with
    /// its first receipt time, so it expires as it would have), once it verified again with
    /// this vault's server key as a poll of the vault verifies it: keys read from the
    /// platform's storage vouch for nothing the vault has not checked itself. Returns how
    /// many were taken.
    pub fn adopt_pending(&mut self, keyring: &PushKeyring, now: u64) -> usize {
        self.prune_answered(now);
        let mut adopted = 0;
        for c in &keyring.pending {
            let known = self.is_answered(c.nonce())
                || self.db.push_pending.iter().any(|p| p.nonce() == c.nonce());
            if known || c.is_expired(now) {
                continue;
            }
            let Some(account) = self.push_account(c.serial()) else {
                continue;
            };
            let verified = match (protocol(account), c.signed()) {
                (Some(p), Some(signed)) => p.verify(account, signed, c.received_at()),
                _ => continue,
            };
            if let Ok(fresh) = verified
                && fresh == *c
            {
                self.db.push_pending.push(fresh);
                adopted += 1;
            }
        }
        adopted
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

    fn prune_answered(&mut self, now: u64) {
        self.db
            .push_answered
            .retain(|a| a.at.saturating_add(ANSWERED_KEEP_SECS) >= now);
        let excess = self.db.push_answered.len().saturating_sub(ANSWERED_MAX);
        self.db.push_answered.drain(..excess);
    }
}

/// One signed poll request per account, with its serial.
fn poll_requests(accounts: &[PushAccount], now: u64) -> Vec<(String, Result<Request, PollError>)> {
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
fn read_poll_reply(
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
fn read_pushed(
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
fn read_round<E: std::error::Error + 'static>(
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

/// The largest stored push keyring read back (64 push accounts of an RSA-4096 key each
/// would be about 600 KB).
pub const MAX_KEYRING_BYTES: usize = 1024 * 1024;

/// What polling needs while the vault is locked (`docs/push.md`, "Push while locked"): the
/// push accounts that do not require the user's presence, with only what a poll needs (phone
/// key, serial, URL, server key, the name shown: [`PushAccount::for_polling`]) and, in memory
/// only, the challenges
/// received since and the nonces answered before. Its bytes ([`PushKeyring::to_bytes`]: the
/// accounts only) are kept in the platform's secure storage by the app, apart from the
/// password-protected vault. The vault stays the record: [`Vault::push_keyring`] makes one,
/// [`Vault::adopt_pending`] takes back what it received. `Debug` never shows a key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushKeyring {
    accounts: Vec<PushAccount>,
    /// This device's Web Push registration, so that a pushed message can be read while locked.
    registration: Option<PushRegistration>,
    pending: Vec<Challenge>,
    answered: Vec<String>,
}

impl PushKeyring {
    /// The accounts as stored (JSON of the vault's `push_accounts` shape), in a zeroizing
    /// buffer. The pending and answered lists are not stored: they live as long as the app.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        super::model::push_keyring_to_json(&self.accounts, self.registration.as_ref())
    }

    /// A keyring from [`PushKeyring::to_bytes`]; refused above [`MAX_KEYRING_BYTES`] or when
    /// an account cannot be read.
    pub fn from_bytes(bytes: &[u8]) -> Result<PushKeyring, Corruption> {
        if bytes.len() > MAX_KEYRING_BYTES {
            return Err(Corruption::DatabaseJson);
        }
        // A copy written by an earlier version may hold more: what the vault would not put
        // there now is not taken (the app then writes the copy again).
        let (accounts, registration) = super::model::push_keyring_from_json(bytes)?;
        Ok(PushKeyring {
            registration,
            accounts: accounts
                .iter()
                .filter_map(PushAccount::for_polling)
                .collect(),
            pending: Vec::new(),
            answered: Vec::new(),
        })
    }

    /// The push accounts.
    pub fn accounts(&self) -> &[PushAccount] {
        &self.accounts
    }

    /// This device's Web Push registration, if the vault had one.
    pub fn registration(&self) -> Option<&PushRegistration> {
        self.registration.as_ref()
    }

    /// True when both hold the same accounts (so the stored copy need not be written again).
    pub fn same_accounts(&self, other: &PushKeyring) -> bool {
        self.accounts == other.accounts && self.registration == other.registration
    }

    /// Reads a pushed message as [`Vault::read_pushed`] does, keeping a new challenge in
    /// memory until the vault takes it ([`Vault::adopt_pending`], which verifies it again).
    pub fn read_pushed(&mut self, body: &[u8], now: u64) -> Result<PushedNews, PushedError> {
        let answered = &self.answered;
        read_pushed(
            &self.accounts,
            &mut self.pending,
            |nonce| answered.iter().any(|a| a == nonce),
            self.registration.as_ref(),
            body,
            now,
        )
    }

    /// One signed poll request per push account, as [`Vault::poll_requests`].
    pub fn poll_requests(&self, now: u64) -> Vec<(String, Result<Request, PollError>)> {
        poll_requests(&self.accounts, now)
    }

    /// Reads a round of poll replies as [`Vault::read_poll_replies`] does, keeping what is
    /// new in memory until the vault takes it ([`Vault::adopt_pending`]).
    pub fn read_poll_replies<E: std::error::Error + 'static>(
        &mut self,
        replies: PollReplies<E>,
        now: u64,
    ) -> Result<PollRound<E>, PollFailed<E>> {
        let (accounts, pending, answered) = (&self.accounts, &mut self.pending, &self.answered);
        read_round(replies, |serial, body| {
            read_poll_reply(
                accounts,
                pending,
                |nonce| answered.iter().any(|a| a == nonce),
                serial,
                body,
                now,
            )
        })
    }

    /// Challenges received that have not expired, oldest first.
    pub fn pending_challenges(&self, now: u64) -> Vec<&Challenge> {
        self.pending
            .iter()
            .filter(|c| !c.is_expired(now) && !self.answered.iter().any(|a| a == c.nonce()))
            .collect()
    }

    /// The push account of `serial`.
    pub fn account(&self, serial: &str) -> Option<&PushAccount> {
        self.accounts.iter().find(|a| a.serial == serial)
    }
}
