//! The database inside the vault: accounts and groups, push accounts and their log, and their
//! JSON form (`docs/vault.md`).

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::container::{ContainerToken, StoredContainer};
use super::error::{Corruption, StoredAccountError, StoredPushAccountError};
use super::removed::{Removed, RemovedBy};
use crate::container::{Container, ContainerKey, Policies};
use crate::otp::{Algorithm, Kind, OtpParams};
use crate::push::{Activity, AnsweredNonce, Challenge, PhoneKey, PushAccount, ServerKey};
use crate::{OtpAccount, Secret};

/// An account in the vault: the OTP account and what the user keeps about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// A random UUID.
    pub id: String,
    /// Issuer, name, secret, code parameters.
    pub otp: OtpAccount,
    /// Free text.
    pub note: String,
    /// Shown first.
    pub favorite: bool,
    /// Ids of the groups it belongs to.
    pub groups: Vec<String>,
    /// An icon as a data URI, if any.
    pub icon: Option<String>,
    /// Position in the list.
    pub order: u32,
    /// When it was added (Unix seconds).
    pub created: u64,
    /// When a code was last used (Unix seconds).
    pub used: Option<u64>,
}

impl Account {
    pub(crate) fn new(id: String, otp: OtpAccount, order: u32, now: u64) -> Self {
        Account {
            id,
            otp,
            note: String::new(),
            favorite: false,
            groups: Vec::new(),
            icon: None,
            order,
            created: now,
            used: None,
        }
    }
}

/// A named group of accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// A random UUID.
    pub id: String,
    /// What the user calls it.
    pub name: String,
}

/// What [`super::Vault::add`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddOutcome {
    /// Added with this id.
    Added(String),
    /// The same secret, issuer and name are there already, under this id.
    Duplicate(String),
}

#[derive(Debug, Default)]
pub(crate) struct Database {
    pub accounts: Vec<Account>,
    pub groups: Vec<Group>,
    /// Push accounts live apart from `accounts`, so nothing that lists or exports OTP
    /// accounts can reach them.
    pub push_accounts: Vec<PushAccount>,
    pub push_pending: Vec<Challenge>,
    pub push_answered: Vec<AnsweredNonce>,
    pub push_activity: Vec<Activity>,
    /// This device's Web Push registration (keys, distributor token, endpoint), if it made one.
    pub push_registration: Option<crate::push::PushRegistration>,
    /// The sync target and this device's membership of its sync set (`docs/sync.md`).
    pub sync: Option<SyncSettings>,
    /// Registered privacyIDEA containers and the tokens they manage (`docs/containers.md`).
    pub containers: Vec<StoredContainer>,
    /// The WebDAV login for the sync target, if it needs one.
    pub sync_credentials: Option<SyncCredentials>,
    /// Accounts removed in the last 30 days, oldest first (`super::removed`).
    pub removed: Vec<Removed>,
}

/// The login to a WebDAV sync target (HTTP Basic), kept in the encrypted vault so later syncs
/// need nothing. Never in `Debug` output; the password is zeroized on drop.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCredentials {
    /// The WebDAV user name.
    pub user: String,
    /// The WebDAV password.
    pub password: Zeroizing<String>,
}

impl std::fmt::Debug for SyncCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncCredentials").finish_non_exhaustive()
    }
}

/// Where this vault syncs, and what it keeps to take part (the sync key among it).
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct SyncSettings {
    /// `folder:<absolute path>` or `webdav:<URL>`.
    pub target: String,
    /// This device's membership, a JSON object nested in the vault's (a vault written before
    /// it was typed kept it as a JSON string: it reads, and the next save writes the object).
    pub membership: crate::sync::Membership,
}

impl std::fmt::Debug for SyncSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncSettings")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct AccountDto {
    id: String,
    issuer: String,
    name: String,
    #[serde(rename = "type")]
    otp_type: String,
    algorithm: Algorithm,
    digits: u32,
    period: Option<u32>,
    counter: Option<u64>,
    secret: Zeroizing<String>,
    #[serde(default)]
    note: String,
    #[serde(default)]
    favorite: bool,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    icon: Option<String>,
    #[serde(default)]
    order: u32,
    #[serde(default)]
    created: u64,
    #[serde(default)]
    used: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct DatabaseDto {
    accounts: Vec<AccountDto>,
    #[serde(default)]
    groups: Vec<Group>,
    #[serde(default)]
    push_accounts: Vec<PushAccountDto>,
    #[serde(default)]
    push_pending: Vec<Challenge>,
    #[serde(default)]
    push_answered: Vec<AnsweredNonce>,
    #[serde(default)]
    push_activity: Vec<Activity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    push_registration: Option<crate::push::PushRegistration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sync: Option<SyncSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sync_credentials: Option<SyncCredentials>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    containers: Vec<ContainerDto>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    removed: Vec<RemovedDto>,
}

/// A recently removed account as stored: the account's own form, when and by whom.
#[derive(Serialize, Deserialize)]
struct RemovedDto {
    account: AccountDto,
    removed_at: u64,
    by: RemovedBy,
}

impl Database {
    /// The plaintext JSON, in a zeroizing buffer sized up front so it is not reallocated
    /// (which would leave copies of secrets behind).
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        let dto = DatabaseDto {
            accounts: self.accounts.iter().map(to_dto).collect(),
            groups: self.groups.clone(),
            push_accounts: self
                .push_accounts
                .iter()
                .map(PushAccountDto::from_account)
                .collect(),
            push_pending: self.push_pending.clone(),
            push_answered: self.push_answered.clone(),
            push_activity: self.push_activity.clone(),
            push_registration: self.push_registration.clone(),
            sync: self.sync.clone(),
            sync_credentials: self.sync_credentials.clone(),
            containers: self
                .containers
                .iter()
                .map(ContainerDto::from_stored)
                .collect(),
            removed: self
                .removed
                .iter()
                .map(|r| RemovedDto {
                    account: to_dto(&r.account),
                    removed_at: r.removed_at,
                    by: r.by.clone(),
                })
                .collect(),
        };
        // Room for everything up front: an RSA-4096 phone key is about 3.2 KB in base64.
        let capacity = 512 * (self.accounts.len() + 1)
            + 640 * self.removed.len()
            + 8192 * self.push_accounts.len()
            + 1024 * (self.push_pending.len() + self.push_activity.len())
            + 256 * self.push_answered.len()
            + self.push_registration.as_ref().map_or(0, |_| 4096)
            + self
                .sync
                .as_ref()
                .map_or(0, |s| 8192 + 640 * s.membership.state.len())
            + self
                .sync_credentials
                .as_ref()
                .map_or(0, |c| 2 * (c.user.len() + c.password.len()) + 64)
            + self
                .containers
                .iter()
                .map(|c| 1024 + 256 * c.tokens.len())
                .sum::<usize>()
            + 1024;
        let mut buf = Zeroizing::new(Vec::with_capacity(capacity));
        // Serializing plain structs into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *buf, &dto);
        buf
    }

    pub fn from_json(bytes: &[u8]) -> Result<Database, Corruption> {
        let dto: DatabaseDto =
            serde_json::from_slice(bytes).map_err(|_| Corruption::DatabaseJson)?;
        let mut accounts = Vec::with_capacity(dto.accounts.len());
        for (i, a) in dto.accounts.into_iter().enumerate() {
            accounts.push(from_dto(a).map_err(|reason| Corruption::Account {
                position: i + 1,
                reason,
            })?);
        }
        let mut push_accounts = Vec::with_capacity(dto.push_accounts.len());
        for (i, a) in dto.push_accounts.into_iter().enumerate() {
            push_accounts.push(a.into_account().map_err(|reason| Corruption::PushAccount {
                position: i + 1,
                reason,
            })?);
        }
        let mut containers = Vec::with_capacity(dto.containers.len());
        for (i, c) in dto.containers.into_iter().enumerate() {
            // A container registered before addresses were read once (docs/containers.md,
            // "Origin") may hold one the transport could read two ways: that container is not
            // loaded (its accounts stay, as the user's own), rather than the whole vault
            // refusing to open over it.
            if let Some(stored) = c
                .into_stored()
                .map_err(|()| Corruption::Container { position: i + 1 })?
            {
                containers.push(stored);
            }
        }
        let mut removed = Vec::with_capacity(dto.removed.len());
        for (i, r) in dto.removed.into_iter().enumerate() {
            removed.push(Removed {
                account: from_dto(r.account).map_err(|reason| Corruption::RemovedAccount {
                    position: i + 1,
                    reason,
                })?,
                removed_at: r.removed_at,
                by: r.by,
            });
        }
        Ok(Database {
            removed,
            containers,
            accounts,
            groups: dto.groups,
            push_accounts,
            push_pending: dto.push_pending,
            push_answered: dto.push_answered,
            push_activity: dto.push_activity,
            push_registration: dto.push_registration,
            sync: dto.sync,
            sync_credentials: dto.sync_credentials,
        })
    }
}

fn to_dto(a: &Account) -> AccountDto {
    let kind = a.otp.params.kind();
    AccountDto {
        id: a.id.clone(),
        issuer: a.otp.issuer.clone(),
        name: a.otp.name.clone(),
        otp_type: kind.type_name().to_owned(),
        algorithm: a.otp.params.algorithm(),
        digits: a.otp.params.digits(),
        period: kind.period(),
        counter: kind.counter(),
        secret: a.otp.secret.to_base32(),
        note: a.note.clone(),
        favorite: a.favorite,
        groups: a.groups.clone(),
        icon: a.icon.clone(),
        order: a.order,
        created: a.created,
        used: a.used,
    }
}

fn from_dto(d: AccountDto) -> Result<Account, StoredAccountError> {
    let kind = match (d.otp_type.as_str(), d.period, d.counter) {
        ("totp", Some(period), _) => Kind::Totp { period },
        ("steam", Some(period), _) => Kind::Steam { period },
        ("hotp", _, Some(counter)) => Kind::Hotp { counter },
        _ => return Err(StoredAccountError::Kind),
    };
    let params = OtpParams::new(kind, d.algorithm, d.digits)?;
    let secret = Secret::from_base32(&d.secret)?;
    Ok(Account {
        id: d.id,
        otp: OtpAccount {
            issuer: d.issuer,
            name: d.name,
            secret,
            params,
        },
        note: d.note,
        favorite: d.favorite,
        groups: d.groups,
        icon: d.icon,
        order: d.order,
        created: d.created,
        used: d.used,
    })
}

/// The stored form of a [`PushAccount`] (the vault's JSON): keys as base64 DER, the private
/// one in a zeroizing string.
#[derive(Serialize, Deserialize)]
struct PushAccountDto {
    protocol: String,
    serial: String,
    issuer: String,
    label: String,
    url: String,
    verify_tls: bool,
    // Left out when empty, so the keyring's copy (`PushAccount::for_polling`) holds only
    // what polling needs; a vault's account always has its push token.
    #[serde(default, skip_serializing_if = "is_false")]
    poll_only: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    require_pin: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    force_unlock: Option<String>,
    phone_key: Zeroizing<String>,
    server_key: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    push_token: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    enrolled_at: u64,
}

fn is_false(b: &bool) -> bool {
    !b
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl PushAccountDto {
    fn from_account(a: &PushAccount) -> Self {
        use base64::Engine as _;
        PushAccountDto {
            protocol: a.protocol.clone(),
            serial: a.serial.clone(),
            issuer: a.issuer.clone(),
            label: a.label.clone(),
            url: a.url.clone(),
            verify_tls: a.verify_tls,
            poll_only: a.poll_only,
            require_pin: a.require_pin,
            force_unlock: a.force_unlock.clone(),
            phone_key: Zeroizing::new(
                base64::engine::general_purpose::STANDARD.encode(a.phone_key.pkcs8_der()),
            ),
            server_key: a.server_key.to_base64(),
            push_token: a.push_token.clone(),
            enrolled_at: a.enrolled_at,
        }
    }

    fn into_account(self) -> Result<PushAccount, StoredPushAccountError> {
        use base64::Engine as _;
        let der = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(self.phone_key.as_bytes())
                .map_err(|_| StoredPushAccountError::PhoneKeyBase64)?,
        );
        Ok(PushAccount {
            phone_key: PhoneKey::from_pkcs8(&der)?,
            server_key: ServerKey::from_base64(&self.server_key)?,
            protocol: self.protocol,
            serial: self.serial,
            issuer: self.issuer,
            label: self.label,
            url: self.url,
            verify_tls: self.verify_tls,
            poll_only: self.poll_only,
            require_pin: self.require_pin,
            force_unlock: self.force_unlock,
            push_token: self.push_token,
            enrolled_at: self.enrolled_at,
        })
    }
}

/// The stored form of a [`StoredContainer`]: the P-384 scalar in base64, zeroizing.
#[derive(Serialize, Deserialize)]
struct ContainerDto {
    serial: String,
    issuer: String,
    server_url: String,
    verify_tls: bool,
    key: Zeroizing<String>,
    policies: Policies,
    registered_at: u64,
    last_sync: Option<u64>,
    #[serde(default)]
    tokens: Vec<ContainerToken>,
    /// Absent in vaults written before it: a container that had synced was past its initial
    /// transfer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    initial_transfer_done: Option<bool>,
}

impl ContainerDto {
    fn from_stored(s: &StoredContainer) -> Self {
        use base64::Engine as _;
        let c = &s.container;
        ContainerDto {
            serial: c.serial.clone(),
            issuer: c.issuer.clone(),
            server_url: c.server_url.as_str().to_owned(),
            verify_tls: c.verify_tls,
            key: Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(c.key.scalar())),
            policies: c.policies,
            registered_at: c.registered_at,
            last_sync: c.last_sync,
            tokens: s.tokens.clone(),
            initial_transfer_done: Some(s.initial_transfer_done),
        }
    }

    /// The stored container; `Ok(None)` for one whose address the transport could read two
    /// ways (not a container's, docs/containers.md "Origin"); `Err` for a damaged key.
    fn into_stored(self) -> Result<Option<StoredContainer>, ()> {
        use base64::Engine as _;
        let scalar = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(self.key.as_bytes())
                .map_err(|_| ())?,
        );
        let key = ContainerKey::from_scalar(&scalar).map_err(|_| ())?;
        let Ok(server_url) = crate::server_url::ServerUrl::parse(&self.server_url) else {
            return Ok(None);
        };
        Ok(Some(StoredContainer {
            container: Container {
                key,
                serial: self.serial,
                issuer: self.issuer,
                server_url,
                verify_tls: self.verify_tls,
                policies: self.policies,
                registered_at: self.registered_at,
                last_sync: self.last_sync,
            },
            tokens: self.tokens,
            initial_transfer_done: self
                .initial_transfer_done
                .unwrap_or(self.last_sync.is_some()),
        }))
    }
}

/// What a [`super::PushKeyring`] stores, zeroizing: the push accounts alone as JSON (the
/// vault's `push_accounts` shape), or, with this device's Web Push registration,
/// `{"accounts": [...], "webpush": {...}}`.
pub(crate) fn push_keyring_to_json(
    accounts: &[PushAccount],
    registration: Option<&crate::push::PushRegistration>,
) -> Zeroizing<Vec<u8>> {
    #[derive(Serialize)]
    struct WithRegistration<'a> {
        accounts: Vec<PushAccountDto>,
        webpush: &'a crate::push::PushRegistration,
    }
    let dtos: Vec<PushAccountDto> = accounts.iter().map(PushAccountDto::from_account).collect();
    let mut buf = Zeroizing::new(Vec::with_capacity(8192 * accounts.len() + 4096));
    // Serializing plain structs into a Vec cannot fail.
    let _ = match registration {
        None => serde_json::to_writer(&mut *buf, &dtos),
        Some(webpush) => serde_json::to_writer(
            &mut *buf,
            &WithRegistration {
                accounts: dtos,
                webpush,
            },
        ),
    };
    buf
}

/// [`push_keyring_to_json`] read back (either form).
pub(crate) fn push_keyring_from_json(
    bytes: &[u8],
) -> Result<(Vec<PushAccount>, Option<crate::push::PushRegistration>), Corruption> {
    #[derive(Deserialize)]
    struct WithRegistration {
        accounts: Vec<PushAccountDto>,
        webpush: Option<crate::push::PushRegistration>,
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let (dtos, registration) = if first == Some(&b'{') {
        let w: WithRegistration =
            serde_json::from_slice(bytes).map_err(|_| Corruption::DatabaseJson)?;
        (w.accounts, w.webpush)
    } else {
        let dtos: Vec<PushAccountDto> =
            serde_json::from_slice(bytes).map_err(|_| Corruption::DatabaseJson)?;
        (dtos, None)
    };
    let accounts = dtos
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            a.into_account().map_err(|reason| Corruption::PushAccount {
                position: i + 1,
                reason,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((accounts, registration))
}
