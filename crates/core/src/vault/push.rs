//! The vault's push side: push accounts (apart from the OTP accounts, so no export sees
//! them) and this device's Web Push registration, with the token updates that tell the servers
//! of its endpoint. The challenges (polled, pushed, answered) are in `push_challenges`; what
//! polling needs while the vault is locked in `push_keyring`.

use super::{Vault, VaultError};
use crate::push::device_token::{DeviceToken, TokenError};
use crate::push::webpush::EceError;
use crate::push::{PendingTokenUpdate, PushAccount, PushRegistration, UpdateError, protocol};
use crate::rng::Rng;

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
}
