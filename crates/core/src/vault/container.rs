//! The vault's side of privacyIDEA token containers (`docs/containers.md`): the registered
//! containers (key, server URL, policies, last sync) and which of the vault's accounts and
//! push accounts each one manages. What a sync sends and how its reply is applied is in
//! `container_sync`.

use serde::{Deserialize, Serialize};

use super::removed::RemovedBy;
use super::{Vault, VaultError};
use crate::container::Container;

/// A token of a container as the vault holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerToken {
    /// The server's token serial.
    pub serial: String,
    /// `hotp`, `totp`, `daypassword` or `push`.
    pub tokentype: String,
    /// The OTP account's id; `None` for a push token (the push account has `serial`).
    pub account: Option<String>,
}

/// A registered container and the tokens it manages in this vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredContainer {
    /// The container (its key among it).
    pub container: Container,
    /// Its tokens in this vault.
    pub tokens: Vec<ContainerToken>,
    /// The container has synced successfully once: the initial transfer (policy
    /// `initially_add_tokens_to_container`) is over, nothing is offered again. Kept by a
    /// rollover in place.
    pub initial_transfer_done: bool,
}

impl Vault {
    /// The registered containers.
    pub fn containers(&self) -> &[StoredContainer] {
        &self.db.containers
    }

    /// One container by serial.
    pub fn container(&self, serial: &str) -> Option<&StoredContainer> {
        self.db
            .containers
            .iter()
            .find(|c| c.container.serial == serial)
    }

    /// Stores a newly registered container. One with the same serial (registered again, or
    /// rolled over in place) gets the new key and policies and keeps its tokens.
    pub fn add_container(&mut self, container: Container) {
        match self
            .db
            .containers
            .iter_mut()
            .find(|c| c.container.serial == container.serial)
        {
            Some(c) => c.container = container,
            None => self.db.containers.push(StoredContainer {
                container,
                tokens: Vec::new(),
                initial_transfer_done: false,
            }),
        }
    }

    /// True when the next sync of `serial` is its initial transfer: its first sync, with the
    /// server's policy `initially_add_tokens_to_container` on.
    pub fn initial_transfer_open(&self, serial: &str) -> bool {
        self.container(serial).is_some_and(|c| {
            !c.initial_transfer_done && c.container.policies.initially_add_tokens_to_container
        })
    }

    pub(super) fn managed_anywhere(&self, serial: Option<&str>, account: Option<&str>) -> bool {
        self.db.containers.iter().any(|c| {
            c.tokens.iter().any(|t| match (account, &t.account) {
                (Some(id), Some(a)) => a == id,
                (None, None) => serial == Some(t.serial.as_str()),
                _ => false,
            })
        })
    }

    /// Checks that the OTP account `id` can be offered to a container: it exists, no
    /// container manages it, and privacyIDEA has a token type for it (not Steam).
    pub fn check_offerable(&self, id: &str) -> Result<(), VaultError> {
        let a = self
            .account(id)
            .ok_or_else(|| VaultError::NotFound(id.to_owned()))?;
        if self.managed_anywhere(None, Some(id)) {
            return Err(VaultError::NotOfferable {
                id: id.to_owned(),
                reason: "a token container manages it already",
            });
        }
        if matches!(a.otp.params.kind(), crate::Kind::Steam { .. }) {
            return Err(VaultError::NotOfferable {
                id: id.to_owned(),
                reason: "privacyIDEA has no Steam tokens",
            });
        }
        Ok(())
    }
    /// The container and server serial of an OTP account that a container manages.
    pub fn managed_account(&self, id: &str) -> Option<(&StoredContainer, &ContainerToken)> {
        self.db.containers.iter().find_map(|c| {
            c.tokens
                .iter()
                .find(|t| t.account.as_deref() == Some(id))
                .map(|t| (c, t))
        })
    }

    /// The container that manages the push account `serial`, if any.
    pub fn managed_push_account(&self, serial: &str) -> Option<&StoredContainer> {
        self.db.containers.iter().find(|c| {
            c.tokens
                .iter()
                .any(|t| t.account.is_none() && t.serial == serial)
        })
    }

    /// The containers (serials, each once, in vault order) that manage any of the push
    /// accounts `serials`: whose push tokens just had news (a new challenge, a poll the server
    /// refused), so that the app can sync them (privacyIDEA 3.14's poll replies and push
    /// notifications never say that a container changed; docs/containers.md).
    pub fn containers_of_push<'a>(
        &self,
        serials: impl IntoIterator<Item = &'a str>,
    ) -> Vec<String> {
        let serials: Vec<&str> = serials.into_iter().collect();
        self.db
            .containers
            .iter()
            .filter(|c| {
                c.tokens
                    .iter()
                    .any(|t| t.account.is_none() && serials.contains(&t.serial.as_str()))
            })
            .map(|c| c.container.serial.clone())
            .collect()
    }
    /// The server says the container is not registered (any more): unregistering it here is
    /// no longer the server's to refuse, so the local `disable_client_container_unregister`
    /// is lifted and the user may remove it.
    pub fn container_gone(&mut self, serial: &str) {
        if let Some(c) = self
            .db
            .containers
            .iter_mut()
            .find(|c| c.container.serial == serial)
        {
            c.container.policies.disable_client_container_unregister = false;
        }
    }

    /// Removes a container and every account and push account it manages (after the server
    /// unregistered it) at `now`; its accounts stay restorable for 30 days.
    pub fn remove_container(
        &mut self,
        serial: &str,
        now: u64,
    ) -> Result<StoredContainer, VaultError> {
        let i = self
            .db
            .containers
            .iter()
            .position(|c| c.container.serial == serial)
            .ok_or_else(|| VaultError::NotFound(serial.to_owned()))?;
        let c = self.db.containers.remove(i);
        for t in &c.tokens {
            match &t.account {
                Some(id) => {
                    self.discard_account(id, RemovedBy::Container(serial.to_owned()), now);
                }
                None => {
                    let _ = self.drop_push_account(&t.serial);
                }
            }
        }
        Ok(c)
    }

    /// Refuses to delete the account `id` when a container manages it and the server's
    /// policy forbids deleting container tokens; otherwise unlinks it from its container (the
    /// next sync then gets it again, re-keyed, as the server does for any unreported token).
    pub(super) fn release_managed(&mut self, id: &str) -> Result<(), VaultError> {
        if let Some((c, _)) = self.managed_account(id)
            && c.container.policies.disable_client_token_deletion
        {
            return Err(VaultError::ManagedDeletion(c.container.serial.clone()));
        }
        for c in &mut self.db.containers {
            c.tokens.retain(|t| t.account.as_deref() != Some(id));
        }
        Ok(())
    }

    /// As [`Vault::release_managed`] for the push account `serial`: refused under
    /// `disable_client_token_deletion`, otherwise unlinked from its container.
    pub(super) fn release_managed_push(&mut self, serial: &str) -> Result<(), VaultError> {
        if let Some(c) = self.managed_push_account(serial)
            && c.container.policies.disable_client_token_deletion
        {
            return Err(VaultError::ManagedDeletion(c.container.serial.clone()));
        }
        for c in &mut self.db.containers {
            c.tokens
                .retain(|t| !(t.account.is_none() && t.serial == serial));
        }
        Ok(())
    }
}
