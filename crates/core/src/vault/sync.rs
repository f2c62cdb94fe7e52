//! The vault's side of sync (`docs/sync.md`): where it syncs, the membership it keeps, its OTP
//! accounts as the sync state sees them, and taking the merged accounts back. Push accounts
//! never take part.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::model::{Account, SyncCredentials, SyncSettings};
use super::removed::RemovedBy;
use super::{Vault, VaultError};
use crate::AccountEntry;
use crate::rng::Rng;
use crate::sync::{DeviceId, DeviceInfo, Membership, SyncError, Visible};

impl Vault {
    /// The sync target (`folder:<path>` or `webdav:<URL>`), if sync is set up.
    pub fn sync_target(&self) -> Option<&str> {
        self.db.sync.as_ref().map(|s| s.target.as_str())
    }

    /// This device's membership of its sync set, if sync is set up.
    pub fn sync_membership(&self) -> Option<&Membership> {
        self.db.sync.as_ref().map(|s| &s.membership)
    }

    /// Keeps the target and the membership (after a sync, or when joining).
    pub fn set_sync(&mut self, target: &str, membership: Membership) {
        self.db.sync = Some(SyncSettings {
            target: target.to_owned(),
            membership,
        });
    }

    /// The sync set's devices as of this device's last sync (this one first), if sync is set
    /// up: the one list `twofold sync --devices` and the app's Settings → Sync show.
    pub fn sync_devices(&self) -> Option<Vec<DeviceInfo>> {
        self.sync_membership().map(Membership::device_list)
    }

    /// Renames this device in its sync set (sent with its next replica).
    pub fn set_sync_device_name(&mut self, name: &str) -> Result<(), SyncError> {
        let settings = self.db.sync.as_mut().ok_or(SyncError::PassphraseNeeded)?;
        settings.membership.set_name(name);
        Ok(())
    }

    /// Forgets the sync target, the sync key and the WebDAV login; the accounts stay.
    pub fn clear_sync(&mut self) {
        self.db.sync = None;
        self.db.sync_credentials = None;
    }

    /// The login to the WebDAV sync target, if one is kept.
    pub fn sync_credentials(&self) -> Option<&SyncCredentials> {
        self.db.sync_credentials.as_ref()
    }

    /// Keeps (or, with `None`, forgets) the login to the WebDAV sync target; saved encrypted
    /// with the rest of the vault.
    pub fn set_sync_credentials(&mut self, credentials: Option<SyncCredentials>) {
        self.db.sync_credentials = credentials;
    }

    /// Every OTP account as the sync state records it: id, entry (group names) and order.
    /// Accounts a token container manages are bound to this device's registration, like push
    /// accounts, and never sync.
    pub fn sync_local(&self) -> Vec<(String, AccountEntry, u32)> {
        self.accounts()
            .iter()
            .zip(self.export_entries())
            .filter(|(a, _)| self.managed_account(&a.id).is_none())
            .map(|(a, e)| (a.id.clone(), e, a.order))
            .collect()
    }

    /// Makes the OTP accounts what the merge says: edits kept by id (icon, creation and use
    /// times stay), new ones added with their synced id, the others removed, each kept
    /// restorable for 30 days as removed by the device `removed_by` names for its id (the
    /// removal's author, [`crate::sync::Outcome::removed_by`]).
    pub fn apply_synced(
        &mut self,
        merged: &[Visible],
        removed_by: &BTreeMap<String, DeviceId>,
        now: u64,
        rng: &dyn Rng,
    ) -> Result<(), VaultError> {
        // Looked up by id through an index made once, so a merge is linear in the accounts
        // (a lookup by a scan of the list made it quadratic).
        let managed: HashSet<String> = self
            .db
            .containers
            .iter()
            .flat_map(|c| c.tokens.iter().filter_map(|t| t.account.clone()))
            .collect();
        let mut index: HashMap<String, usize> = HashMap::with_capacity(self.db.accounts.len());
        for (i, a) in self.db.accounts.iter().enumerate() {
            index.entry(a.id.clone()).or_insert(i);
        }
        // Container accounts never sync: they stay as they are.
        let mut accounts: Vec<Account> = self
            .db
            .accounts
            .iter()
            .filter(|a| managed.contains(&a.id))
            .cloned()
            .collect();
        for v in merged {
            let mut groups = Vec::with_capacity(v.entry.groups.len());
            for name in &v.entry.groups {
                groups.push(self.group_id(name, rng)?);
            }
            if managed.contains(&v.id) {
                continue;
            }
            let mut account = match index.get(&v.id) {
                Some(&i) => self.db.accounts[i].clone(),
                None => Account::new(v.id.clone(), v.entry.account.clone(), v.order, now),
            };
            account.otp = v.entry.account.clone();
            account.note = v.entry.note.clone();
            account.favorite = v.entry.favorite;
            account.groups = groups;
            account.order = v.order;
            accounts.push(account);
        }
        let old = std::mem::replace(&mut self.db.accounts, accounts);
        let kept: BTreeSet<&str> = self.db.accounts.iter().map(|a| a.id.as_str()).collect();
        let gone: Vec<(Account, RemovedBy)> = old
            .into_iter()
            .filter(|a| !kept.contains(a.id.as_str()))
            .map(|a| {
                let by = removed_by
                    .get(&a.id)
                    .map_or_else(|| "unknown".to_owned(), DeviceId::to_hex);
                (a, RemovedBy::Sync(by))
            })
            .collect();
        self.record_removed_all(gone, now);
        self.prune_removed(now);
        Ok(())
    }
}
