//! The vault's OTP accounts and groups: add (one, or a batch with a report), edit, remove,
//! advance an HOTP counter, and list them for an export.

use std::collections::HashMap;

use crate::otp::{Code, Generator, Kind};
use crate::rng::{Rng, uuid};
use crate::{AccountEntry, OtpAccount};

use super::Vault;
use super::error::VaultError;
use super::model::{Account, AddOutcome, Group};
use super::removed::RemovedBy;

/// The export group that marks an account a token container manages.
pub const MANAGED_GROUP_PREFIX: &str = "Managed: ";

/// Changes to an account's descriptive fields (the app's edit screen); `None` leaves a field
/// as it is. The secret and code parameters never change here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountUpdate {
    /// New issuer.
    pub issuer: Option<String>,
    /// New account name.
    pub name: Option<String>,
    /// New note.
    pub note: Option<String>,
    /// Favourite or not.
    pub favorite: Option<bool>,
    /// Group names, in order; groups are created as needed, blank and repeated names dropped.
    pub groups: Option<Vec<String>>,
    /// New position in the list.
    pub order: Option<u32>,
}

/// The vault's accounts by issuer and name, its groups by name and the next display order:
/// built once per [`Vault::add_all`], so each entry costs a lookup, not a pass over the vault.
struct AddIndex {
    by_name: HashMap<(String, String), Vec<usize>>,
    groups: HashMap<String, String>,
    next_order: u32,
}

impl AddIndex {
    fn of(vault: &Vault) -> AddIndex {
        let mut by_name: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (i, a) in vault.db.accounts.iter().enumerate() {
            by_name
                .entry((a.otp.issuer.clone(), a.otp.name.clone()))
                .or_default()
                .push(i);
        }
        let mut groups = HashMap::new();
        for g in &vault.db.groups {
            // The first group of a name wins, as a search from the start finds it.
            groups.entry(g.name.clone()).or_insert_with(|| g.id.clone());
        }
        AddIndex {
            by_name,
            groups,
            next_order: vault
                .db
                .accounts
                .iter()
                .map(|a| a.order.saturating_add(1))
                .max()
                .unwrap_or(0),
        }
    }
}

/// What [`Vault::add_all`] did with each entry, in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddReport {
    /// One outcome an entry, with the entry's display name ([`OtpAccount::display_name`]).
    pub outcomes: Vec<(String, AddOutcome)>,
}

impl AddReport {
    /// The ids of the accounts added, in order.
    pub fn added(&self) -> impl Iterator<Item = &str> {
        self.outcomes.iter().filter_map(|(_, o)| match o {
            AddOutcome::Added(id) => Some(id.as_str()),
            AddOutcome::Duplicate(_) => None,
        })
    }

    /// How many accounts were added.
    pub fn added_count(&self) -> usize {
        self.added().count()
    }

    /// The entries that were there already: (display name, id of the account in the vault).
    pub fn duplicates(&self) -> impl Iterator<Item = (&str, &str)> {
        self.outcomes.iter().filter_map(|(name, o)| match o {
            AddOutcome::Duplicate(id) => Some((name.as_str(), id.as_str())),
            AddOutcome::Added(_) => None,
        })
    }
}

impl Vault {
    /// The accounts, in their display order.
    pub fn accounts(&self) -> &[Account] {
        &self.db.accounts
    }

    /// The groups.
    pub fn groups(&self) -> &[Group] {
        &self.db.groups
    }

    /// One account by id.
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.db.accounts.iter().find(|a| a.id == id)
    }

    /// The name of the group `id`.
    pub fn group_name(&self, id: &str) -> Option<&str> {
        self.db
            .groups
            .iter()
            .find(|g| g.id == id)
            .map(|g| g.name.as_str())
    }

    /// Adds an account unless one with the same secret, issuer and name is there already.
    pub fn add(
        &mut self,
        otp: OtpAccount,
        now: u64,
        rng: &dyn Rng,
    ) -> Result<AddOutcome, VaultError> {
        self.add_with_metadata(AccountEntry::new(otp), now, rng)
    }

    /// Adds an account with its metadata (imports), group names created as needed.
    pub fn add_with_metadata(
        &mut self,
        entry: AccountEntry,
        now: u64,
        rng: &dyn Rng,
    ) -> Result<AddOutcome, VaultError> {
        let mut index = AddIndex::of(self);
        self.insert(&mut index, entry, now, rng)
    }

    /// Adds every entry with its metadata, in order, and reports what became of each; an
    /// entry already in the vault (or earlier in `entries`) is a duplicate, not an error.
    /// Linear in the vault and the entries: the accounts and groups are indexed once (an
    /// import of 100,000 accounts, `docs/cli.md` "Scale").
    pub fn add_all(
        &mut self,
        entries: impl IntoIterator<Item = AccountEntry>,
        now: u64,
        rng: &dyn Rng,
    ) -> Result<AddReport, VaultError> {
        let mut index = AddIndex::of(self);
        let mut report = AddReport::default();
        for entry in entries {
            let name = entry.account.display_name();
            let outcome = self.insert(&mut index, entry, now, rng)?;
            report.outcomes.push((name, outcome));
        }
        Ok(report)
    }

    fn insert(
        &mut self,
        index: &mut AddIndex,
        entry: AccountEntry,
        now: u64,
        rng: &dyn Rng,
    ) -> Result<AddOutcome, VaultError> {
        let otp = entry.account;
        let key = (otp.issuer.clone(), otp.name.clone());
        // Names first: they are not secret and usually differ, so the constant-time secret
        // comparison runs only for the accounts of the same issuer and name.
        let same_name = index.by_name.entry(key).or_default();
        if let Some(&i) = same_name
            .iter()
            .find(|&&i| self.db.accounts[i].otp.secret == otp.secret)
        {
            return Ok(AddOutcome::Duplicate(self.db.accounts[i].id.clone()));
        }
        let mut account = Account::new(uuid(rng)?, otp, index.next_order, now);
        let mut group_ids = Vec::with_capacity(entry.groups.len());
        for name in &entry.groups {
            let id = match index.groups.get(name) {
                Some(id) => id.clone(),
                None => {
                    let id = self.group_id(name, rng)?;
                    index.groups.insert(name.clone(), id.clone());
                    id
                }
            };
            group_ids.push(id);
        }
        account.note = entry.note;
        account.favorite = entry.favorite;
        account.groups = group_ids;
        let id = account.id.clone();
        same_name.push(self.db.accounts.len());
        self.db.accounts.push(account);
        index.next_order = index.next_order.saturating_add(1);
        Ok(AddOutcome::Added(id))
    }

    pub(super) fn group_id(&mut self, name: &str, rng: &dyn Rng) -> Result<String, VaultError> {
        if let Some(g) = self.db.groups.iter().find(|g| g.name == name) {
            return Ok(g.id.clone());
        }
        let id = uuid(rng)?;
        self.db.groups.push(Group {
            id: id.clone(),
            name: name.to_owned(),
        });
        Ok(id)
    }

    /// Where the account `id` is in the list.
    fn position(&self, id: &str) -> Result<usize, VaultError> {
        self.db
            .accounts
            .iter()
            .position(|a| a.id == id)
            .ok_or_else(|| VaultError::NotFound(id.to_owned()))
    }

    /// Removes an account at `now`; returns it. It stays restorable for 30 days
    /// ([`Vault::restore`]).
    /// An account a token container manages is refused while its server forbids deleting
    /// container tokens ([`VaultError::ManagedDeletion`]).
    pub fn remove(&mut self, id: &str, now: u64) -> Result<Account, VaultError> {
        self.position(id)?;
        self.release_managed(id)?;
        self.discard_account(id, RemovedBy::ThisDevice, now)
            .ok_or_else(|| VaultError::NotFound(id.to_owned()))
    }

    /// Every account as an export entry: the OTP account, note, favourite and group names.
    /// An account a token container manages is marked by one more group,
    /// `Managed: <container serial>` ([`MANAGED_GROUP_PREFIX`]). Push accounts are not OTP
    /// accounts and never appear here.
    pub fn export_entries(&self) -> Vec<AccountEntry> {
        self.accounts()
            .iter()
            .map(|a| {
                let mut groups: Vec<String> = a
                    .groups
                    .iter()
                    .filter_map(|id| self.groups().iter().find(|g| &g.id == id))
                    .map(|g| g.name.clone())
                    .collect();
                if let Some((c, _)) = self.managed_account(&a.id) {
                    groups.push(format!("{MANAGED_GROUP_PREFIX}{}", c.container.serial));
                }
                AccountEntry {
                    account: a.otp.clone(),
                    note: a.note.clone(),
                    favorite: a.favorite,
                    groups,
                }
            })
            .collect()
    }

    /// HOTP: advances the counter and returns the code at the new counter.
    pub fn next_hotp(&mut self, id: &str, now: u64) -> Result<Code, VaultError> {
        let i = self.position(id)?;
        let a = &mut self.db.accounts[i];
        let Kind::Hotp { counter } = a.otp.params.kind() else {
            return Err(VaultError::NotHotp);
        };
        let next = counter.checked_add(1).ok_or(VaultError::CounterOverflow)?;
        a.otp.params = a.otp.params.with_counter(next);
        a.used = Some(now);
        Ok(Generator::new(&a.otp.secret, a.otp.params).code_at_counter(next))
    }

    /// Applies `update` to the account `id` and returns it.
    pub fn update_account(
        &mut self,
        id: &str,
        update: AccountUpdate,
        rng: &dyn Rng,
    ) -> Result<&Account, VaultError> {
        let i = self.position(id)?;
        let group_ids = match update.groups {
            Some(names) => {
                let mut ids: Vec<String> = Vec::new();
                for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
                    let gid = self.group_id(name, rng)?;
                    if !ids.contains(&gid) {
                        ids.push(gid);
                    }
                }
                Some(ids)
            }
            None => None,
        };
        let a = &mut self.db.accounts[i];
        if let Some(issuer) = update.issuer {
            a.otp.issuer = issuer;
        }
        if let Some(name) = update.name {
            a.otp.name = name;
        }
        if let Some(note) = update.note {
            a.note = note;
        }
        if let Some(favorite) = update.favorite {
            a.favorite = favorite;
        }
        if let Some(ids) = group_ids {
            a.groups = ids;
        }
        if let Some(order) = update.order {
            a.order = order;
        }
        Ok(&self.db.accounts[i])
    }
}
