//! Checking a backup against the vault: does the file bring every account back exactly? One
//! comparison serves `twofold backup check` and the app's restore drill after each automatic
//! backup (`docs/vault.md`, "Backups that are checked").
//!
//! [`read`] opens a backup: a Twofold vault file (an automatic backup) with the vault's own key,
//! or, when it was written under an earlier password, with a password; any other file through
//! the importers ([`crate::import`]), so every export Twofold writes or reads can be checked.
//! [`compare`] pairs the vault's accounts with the backup's by issuer, name, type, parameters
//! and secret, in time linear in the number of accounts, and never prints a secret.

use std::collections::HashMap;

use crate::import::{self, ImportError, Skipped};
use crate::vault::{Account, Corruption, OpenError, Vault};
use crate::{OtpAccount, OtpParams};

/// A property of an account in which the backup differs from the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// The issuer.
    Issuer,
    /// The account name.
    Name,
    /// TOTP, HOTP or Steam.
    Type,
    /// The HMAC algorithm.
    Algorithm,
    /// The number of digits.
    Digits,
    /// The TOTP or Steam period.
    Period,
    /// The HOTP counter.
    Counter,
    /// The shared secret (which is never shown).
    Secret,
}

impl Field {
    /// The field's name as the CLI's JSON writes it.
    pub fn name(self) -> &'static str {
        match self {
            Field::Issuer => "issuer",
            Field::Name => "name",
            Field::Type => "type",
            Field::Algorithm => "algorithm",
            Field::Digits => "digits",
            Field::Period => "period",
            Field::Counter => "counter",
            Field::Secret => "secret",
        }
    }
}

/// An account of the vault that the backup holds differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The vault account's id.
    pub id: String,
    /// What differs, in [`Field`] order.
    pub fields: Vec<Field>,
}

/// What a backup holds compared with the vault.
#[derive(Debug, Default)]
pub struct Comparison {
    /// Ids of the vault's accounts the backup lacks.
    pub missing: Vec<String>,
    /// Accounts of the backup the vault does not hold.
    pub extra: Vec<OtpAccount>,
    /// Vault accounts the backup holds with other values.
    pub different: Vec<Difference>,
    /// Vault accounts the backup holds exactly.
    pub matching: usize,
    /// Entries of the backup that could not be read at all (an export's unsupported types).
    pub unreadable: Vec<Skipped>,
}

impl Comparison {
    /// True when restoring the backup brings back every account of the vault exactly.
    pub fn restores_everything(&self) -> bool {
        self.missing.is_empty() && self.different.is_empty()
    }
}

/// Why a backup could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// An export in another format that could not be imported (a wrong password among them).
    #[error(transparent)]
    Import(#[from] ImportError),
    /// A Twofold vault file that does not open (damaged, or a wrong password).
    #[error("the backup does not open: {0}")]
    Vault(OpenError),
}

impl CheckError {
    /// True when the password was wrong (the CLI's exit 3).
    pub fn is_wrong_password(&self) -> bool {
        matches!(
            self,
            CheckError::Import(ImportError::WrongPassword)
                | CheckError::Vault(OpenError::WrongPassword)
        )
    }
}

/// The accounts of a backup, and the entries it holds that could not be read.
#[derive(Debug, Default)]
pub struct BackupAccounts {
    /// The accounts.
    pub accounts: Vec<OtpAccount>,
    /// Entries that could not be read.
    pub unreadable: Vec<Skipped>,
}

/// Opens a backup. A Twofold vault file opens with `vault`'s key, or, when it was sealed
/// under another (an earlier password), with `password`; any other file is imported (format
/// detected) with `password` for an encrypted export.
pub fn read(
    bytes: &[u8],
    vault: &Vault,
    password: Option<&[u8]>,
) -> Result<BackupAccounts, CheckError> {
    let from_vault = |v: Vault| BackupAccounts {
        accounts: v.accounts().iter().map(|a| a.otp.clone()).collect(),
        unreadable: Vec::new(),
    };
    match vault.reload(bytes) {
        Ok(backup) => Ok(from_vault(backup)),
        // Not a Twofold vault: another format.
        Err(OpenError::Corrupt(
            Corruption::NotVaultJson | Corruption::NotTwofold | Corruption::Empty,
        )) => {
            let report = import::import(bytes, None, password)?;
            Ok(BackupAccounts {
                accounts: report.entries.into_iter().map(|e| e.account).collect(),
                unreadable: report.skipped,
            })
        }
        // Sealed under another master key: a backup from before a password change.
        Err(OpenError::Corrupt(Corruption::DatabaseAuth)) => {
            let password = password.ok_or(CheckError::Import(ImportError::PasswordRequired))?;
            Vault::open(bytes, password)
                .map(from_vault)
                .map_err(CheckError::Vault)
        }
        Err(e) => Err(CheckError::Vault(e)),
    }
}

/// Reads a backup ([`read`]) and compares it with the vault ([`compare`]).
pub fn check(
    bytes: &[u8],
    vault: &Vault,
    password: Option<&[u8]>,
) -> Result<Comparison, CheckError> {
    let backup = read(bytes, vault, password)?;
    let mut comparison = compare(vault.accounts(), backup.accounts);
    comparison.unreadable = backup.unreadable;
    Ok(comparison)
}

/// Everything compared, secret included.
type Exact<'a> = (&'a str, &'a str, OtpParams, &'a [u8]);

fn exact(a: &OtpAccount) -> Exact<'_> {
    (&a.issuer, &a.name, a.params, a.secret.expose())
}

/// The fields in which two accounts differ.
fn differences(vault: &OtpAccount, backup: &OtpAccount) -> Vec<Field> {
    let (v, b) = (vault.params, backup.params);
    let (vk, bk) = (v.kind(), b.kind());
    [
        (Field::Issuer, vault.issuer != backup.issuer),
        (Field::Name, vault.name != backup.name),
        (Field::Type, vk.type_name() != bk.type_name()),
        (Field::Algorithm, v.algorithm() != b.algorithm()),
        (Field::Digits, v.digits() != b.digits()),
        (Field::Period, vk.period() != bk.period()),
        (Field::Counter, vk.counter() != bk.counter()),
        (Field::Secret, vault.secret != backup.secret),
    ]
    .into_iter()
    .filter_map(|(field, differs)| differs.then_some(field))
    .collect()
}

/// Pairs the vault's accounts with a backup's: first the exact matches; then, among the rest,
/// the same secret (a label or parameter changed), then the same issuer and name (the secret
/// changed); what remains is missing from the backup or extra in it. Each backup account
/// pairs at most once, so a duplicate in the vault needs its own copy in the backup.
pub fn compare(vault: &[Account], backup: Vec<OtpAccount>) -> Comparison {
    let mut comparison = Comparison::default();
    let mut taken = vec![false; backup.len()];
    // Each map: key → indexes of untaken backup accounts, used from the front.
    let mut by_exact: HashMap<Exact<'_>, Vec<usize>> = HashMap::new();
    let mut by_secret: HashMap<&[u8], Vec<usize>> = HashMap::new();
    let mut by_label: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, b) in backup.iter().enumerate() {
        by_exact.entry(exact(b)).or_default().push(i);
        by_secret.entry(b.secret.expose()).or_default().push(i);
        by_label.entry((&b.issuer, &b.name)).or_default().push(i);
    }
    let take = |indexes: Option<&mut Vec<usize>>, taken: &mut Vec<bool>| {
        let indexes = indexes?;
        while let Some(i) = indexes.pop() {
            if !taken[i] {
                taken[i] = true;
                return Some(i);
            }
        }
        None
    };
    let mut rest = Vec::new();
    for account in vault {
        match take(by_exact.get_mut(&exact(&account.otp)), &mut taken) {
            Some(_) => comparison.matching += 1,
            None => rest.push(account),
        }
    }
    let mut unpaired = Vec::new();
    for account in rest {
        let a = &account.otp;
        let paired = take(by_secret.get_mut(a.secret.expose()), &mut taken)
            .or_else(|| take(by_label.get_mut(&(&a.issuer[..], &a.name[..])), &mut taken));
        match paired {
            Some(i) => comparison.different.push(Difference {
                id: account.id.clone(),
                fields: differences(a, &backup[i]),
            }),
            None => unpaired.push(account.id.clone()),
        }
    }
    comparison.missing = unpaired;
    comparison.extra = backup
        .into_iter()
        .zip(taken)
        .filter_map(|(b, taken)| (!taken).then_some(b))
        .collect();
    comparison
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SystemRng;
    use crate::vault::KdfParams;
    use crate::{Algorithm, Kind, Secret};

    fn otp(issuer: &str, name: &str, secret: u8, kind: Kind) -> OtpAccount {
        OtpAccount {
            issuer: issuer.into(),
            name: name.into(),
            secret: Secret::from_bytes(vec![secret; 20]),
            params: OtpParams::new(kind, Algorithm::Sha1, 6).unwrap(),
        }
    }

    fn vault_with(accounts: &[OtpAccount]) -> Vault {
        let rng = SystemRng::new();
        let mut v = Vault::create(b"pw", KdfParams::MIN, &rng).unwrap();
        for a in accounts {
            v.add(a.clone(), 1, &rng).unwrap();
        }
        v
    }

    const TOTP: Kind = Kind::Totp { period: 30 };

    #[test]
    fn the_vault_itself_matches_and_changes_are_named() {
        let accounts = [
            otp("A", "a", 1, TOTP),
            otp("B", "b", 2, Kind::Hotp { counter: 3 }),
            otp("C", "c", 3, TOTP),
            otp("D", "d", 4, TOTP),
        ];
        let vault = vault_with(&accounts);
        let same = compare(vault.accounts(), accounts.iter().rev().cloned().collect());
        assert_eq!(same.matching, 4);
        assert!(same.restores_everything());

        let mut backup: Vec<OtpAccount> = accounts.to_vec();
        backup[0].secret = Secret::from_bytes(vec![9; 20]); // the secret changed
        backup[1].params = OtpParams::new(Kind::Hotp { counter: 1 }, Algorithm::Sha1, 6).unwrap();
        backup[2].name = "renamed".into(); // same secret, another name
        backup.remove(3); // D is missing
        backup.push(otp("E", "e", 5, TOTP)); // extra
        let c = compare(vault.accounts(), backup);
        let id = |i: usize| vault.accounts()[i].id.clone();
        assert_eq!(c.matching, 0);
        assert_eq!(c.missing, [id(3)]);
        assert_eq!(c.extra.len(), 1);
        assert_eq!(c.extra[0].issuer, "E");
        let mut different = c.different.clone();
        different.sort_by(|a, b| a.id.cmp(&b.id));
        let mut want = vec![
            Difference {
                id: id(0),
                fields: vec![Field::Secret],
            },
            Difference {
                id: id(1),
                fields: vec![Field::Counter],
            },
            Difference {
                id: id(2),
                fields: vec![Field::Name],
            },
        ];
        want.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(different, want);
        assert!(!c.restores_everything());
        assert!(!format!("{c:?}").contains("[9, 9"), "no secret in Debug");
    }

    #[test]
    fn each_backup_account_pairs_once() {
        let a = otp("A", "a", 1, TOTP);
        let vault = vault_with(std::slice::from_ref(&a));
        let c = compare(vault.accounts(), vec![a.clone(), a]);
        assert_eq!((c.matching, c.extra.len()), (1, 1));
        let c = compare(vault.accounts(), Vec::new());
        assert_eq!(c.missing.len(), 1);
    }

    #[test]
    fn a_vault_backup_opens_with_the_vault_key_and_exports_through_the_importers() {
        let rng = SystemRng::new();
        let vault = vault_with(&[otp("A", "a", 1, TOTP), otp("B", "b", 2, TOTP)]);
        let backup = vault.to_bytes(&rng).unwrap();
        let c = check(&backup, &vault, None).unwrap();
        assert_eq!(c.matching, 2);
        assert!(c.restores_everything());

        // An export (any format the importers read), encrypted with its own password.
        let entries = vault.export_entries();
        let export = crate::export::export(
            &entries,
            crate::export::ExportFormat::Aegis,
            Some(b"export pw"),
            &rng,
        )
        .unwrap();
        assert_eq!(
            check(&export.bytes, &vault, Some(b"wrong")).unwrap_err(),
            CheckError::Import(ImportError::WrongPassword)
        );
        assert_eq!(
            check(&export.bytes, &vault, Some(b"export pw"))
                .unwrap()
                .matching,
            2
        );

        // A damaged backup is an error, never a comparison.
        let mut damaged = backup.clone();
        let at = damaged.len() / 2;
        damaged[at] = if damaged[at] == b'A' { b'B' } else { b'A' };
        assert!(matches!(
            check(&damaged, &vault, None),
            Err(CheckError::Vault(_))
        ));
    }

    #[test]
    fn a_backup_from_before_a_password_change_needs_that_password() {
        let rng = SystemRng::new();
        let mut vault = vault_with(&[otp("A", "a", 1, TOTP)]);
        let old = vault.to_bytes(&rng).unwrap();
        vault.set_password(b"new", KdfParams::MIN, &rng).unwrap();
        let err = check(&old, &vault, None).unwrap_err();
        assert_eq!(err, CheckError::Import(ImportError::PasswordRequired));
        assert!(
            check(&old, &vault, Some(b"nope"))
                .unwrap_err()
                .is_wrong_password()
        );
        assert_eq!(check(&old, &vault, Some(b"pw")).unwrap().matching, 1);
    }
}
