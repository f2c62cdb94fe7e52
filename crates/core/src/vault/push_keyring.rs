//! What polling needs while the vault is locked: the [`PushKeyring`] (push accounts that need
//! no device unlock, the challenges waiting, the nonces answered), kept in the platform's secure
//! storage, and the challenges it received taken over by the vault once unlocked.

use zeroize::Zeroizing;

use super::push_challenges::{
    PollFailed, PollReplies, PollRound, PushedError, PushedNews, poll_requests, read_poll_reply,
    read_pushed, read_round,
};
use super::{Corruption, Vault};
use crate::push::{Challenge, PollError, PushAccount, PushRegistration, Request, protocol};

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

impl Vault {
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
}
