//! One vault file, several writers (`docs/vault.md`, "One writer at a time"): the rules the
//! CLI and the app share. A writer reads and unlocks the vault without any lock (a save
//! replaces the file by a rename, so a reader always sees one whole version), asks the person
//! and talks to servers without any lock, and takes the file's writer lock only around a
//! change: under it, the vault is first brought up to what the file holds now ([`refresh`]:
//! one `stat` when nothing changed), the change is applied to that, and the result is written
//! only if the file is still the one just read ([`file::write_if_unchanged`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::file::{self, Backup, BackupFolderError, FileError, Fingerprint, Look, VaultLock};
use super::{OpenError, Vault, VaultError};
use crate::rng::Rng;

/// The vault on disk could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The file could not be looked at or read.
    #[error(transparent)]
    File(#[from] FileError),
    /// The file is there but does not open with this vault's master key: another program
    /// changed the password (or damaged the file) since this one opened it.
    #[error(
        "the vault was changed by another program in a way this one cannot follow ({0}); open it again"
    )]
    Reopen(OpenError),
    /// The file was removed since it was opened.
    #[error("the vault {0} was removed by another program since it was opened")]
    Removed(std::path::PathBuf),
}

/// Brings `vault` up to the file at `path` when another writer saved since `loaded` (the
/// fingerprint of what `vault` was read from or last saved as), and updates `loaded`. True
/// when the vault was reloaded. An unchanged file costs one `stat` ([`file::look`]).
pub fn refresh(
    path: &Path,
    vault: &mut Vault,
    loaded: &mut Option<Fingerprint>,
) -> Result<bool, RefreshError> {
    match file::look(path, loaded.as_ref())? {
        Look::Same(now) => {
            *loaded = Some(now);
            Ok(false)
        }
        Look::Changed(bytes, now) => {
            *vault = vault.reload(&bytes).map_err(RefreshError::Reopen)?;
            *loaded = Some(now);
            Ok(true)
        }
        Look::Missing => Err(RefreshError::Removed(path.to_owned())),
    }
}

/// Whether a change is to be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Save {
    /// Write the vault (with what becomes of the previous version).
    Yes(Backup),
    /// Nothing changed: write nothing.
    No,
}

/// Where the copy that follows a save goes: a timestamped copy of the encrypted vault in a
/// folder the person chose (the app's automatic backup), checked by the restore drill. The
/// CLI sets none: its saves keep only `<vault>.bak` ([`Backup`]).
#[derive(Debug, Clone, Copy)]
pub struct BackupFolder<'a> {
    /// The folder (absolute).
    pub dir: &'a Path,
    /// Unix seconds now: the copy's name (`twofold-backup-YYYYMMDD-HHMMSS.json`, UTC).
    pub now: u64,
    /// Runs on the copy between writing it and the drill (tests: a disk that damages what it
    /// stores). `None` in the apps.
    pub after_write: Option<fn(&Path)>,
}

/// What a save asks for besides the vault file itself.
#[derive(Debug, Clone, Copy)]
pub struct SaveOptions<'a> {
    /// What becomes of the previous version (`<vault>.bak`).
    pub previous: Backup,
    /// The backup folder, if any.
    pub folder: Option<BackupFolder<'a>>,
}

impl SaveOptions<'_> {
    /// The previous version kept as `<vault>.bak`, no backup folder: the CLI's saves.
    pub const KEEP_PREVIOUS: SaveOptions<'static> = SaveOptions {
        previous: Backup::KeepPrevious,
        folder: None,
    };
}

/// The restore drill of a copy: read back from disk, opened with the vault's key and compared
/// with the vault account by account ([`crate::backup::check`], as `twofold backup check`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drill {
    /// Accounts the copy holds.
    pub accounts: usize,
    /// Accounts of the vault the copy lacks.
    pub missing: usize,
    /// Accounts the copy holds with other values.
    pub different: usize,
    /// Restoring the copy brings back every account exactly.
    pub verified: bool,
    /// Why the copy could not be read or opened at all.
    pub error: Option<String>,
}

/// Runs the restore drill on the copy at `path` against `vault`.
pub fn drill(vault: &Vault, path: &Path) -> Drill {
    let outcome = file::read(path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| crate::backup::check(&bytes, vault, None).map_err(|e| e.to_string()));
    match outcome {
        Ok(c) => Drill {
            accounts: c.matching + c.different.len() + c.extra.len(),
            verified: c.restores_everything(),
            missing: c.missing.len(),
            different: c.different.len(),
            error: None,
        },
        Err(error) => Drill {
            error: Some(error),
            ..Drill::default()
        },
    }
}

/// What became of the copy that follows a save: the save itself stands in every case.
#[derive(Debug)]
pub enum BackupOutcome {
    /// No backup folder is set (or nothing was saved).
    NotAsked,
    /// The copy was written at `path`; `drill` says whether it restores the vault.
    Written {
        /// The copy.
        path: PathBuf,
        /// Its restore drill.
        drill: Drill,
    },
    /// The copy could not be written.
    Failed(BackupFolderError),
}

/// Which step of the backup that follows a save failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupStep {
    /// Writing the copy.
    Write,
    /// Its restore drill: the copy was written but does not restore the vault.
    Check,
}

/// A failed backup, as a front end reports it (no secret: counts, a path, an I/O error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupFailure {
    /// What to tell the person.
    pub message: String,
    /// Which step failed.
    pub step: BackupStep,
}

impl BackupOutcome {
    /// The failure to report, if the copy was asked for and is not a verified one.
    pub fn failure(&self) -> Option<BackupFailure> {
        match self {
            BackupOutcome::NotAsked => None,
            BackupOutcome::Failed(e) => Some(BackupFailure {
                message: e.to_string(),
                step: BackupStep::Write,
            }),
            BackupOutcome::Written { drill, .. } if drill.verified => None,
            BackupOutcome::Written { path, drill } => Some(BackupFailure {
                message: match &drill.error {
                    Some(e) => format!(
                        "the backup {} was written but does not open again: {e}",
                        path.display()
                    ),
                    None => format!(
                        "the backup {} does not restore the vault: {} account(s) missing, {} different",
                        path.display(),
                        drill.missing,
                        drill.different
                    ),
                },
                step: BackupStep::Check,
            }),
        }
    }
}

/// Writes a copy of `bytes` (the vault at its newest, encrypted) into `folder` and runs the
/// restore drill on it against `vault` (the same version, unlocked).
pub fn back_up(vault: &Vault, bytes: &[u8], folder: &BackupFolder<'_>) -> BackupOutcome {
    let path = match file::write_backup(folder.dir, bytes, &stamp(folder.now)) {
        Ok(path) => path,
        Err(e) => return BackupOutcome::Failed(e),
    };
    if let Some(after_write) = folder.after_write {
        after_write(&path);
    }
    let drill = drill(vault, &path);
    BackupOutcome::Written { path, drill }
}

/// `YYYYMMDD-HHMMSS` (UTC) of Unix seconds: the name of a copy in the backup folder.
pub fn stamp(unix: u64) -> String {
    let t = crate::clock::Utc::from_unix(unix);
    format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// Why a save did not happen. Nothing of the change reached the disk.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The vault could not be sealed.
    #[error(transparent)]
    Seal(#[from] VaultError),
    /// The file could not be written, or another writer saved in between.
    #[error(transparent)]
    Write(#[from] FileError),
}

impl SaveError {
    /// The front end's own error, built from the core's.
    pub fn into_error<E: From<FileError> + From<VaultError>>(self) -> E {
        match self {
            SaveError::Seal(e) => E::from(e),
            SaveError::Write(e) => E::from(e),
        }
    }
}

/// A failed save ([`save`]): why, and whether the vault in memory could be read back from the
/// file. When it could not because the file no longer opens with this vault's key (another
/// program changed the password), `rekeyed` is set: the front end closes the vault.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct SaveFailed {
    /// Why the save failed.
    pub error: SaveError,
    /// The file was re-keyed elsewhere: the vault in memory can no longer follow it.
    pub rekeyed: bool,
}

/// Seals `vault` and saves it under `lock` ([`save_sealed`]).
pub fn save(
    lock: &VaultLock,
    vault: &mut Vault,
    loaded: &mut Option<Fingerprint>,
    rng: &dyn Rng,
    options: &SaveOptions<'_>,
) -> Result<BackupOutcome, SaveFailed> {
    match vault.to_bytes(rng) {
        Ok(bytes) => save_sealed(lock, vault, loaded, &bytes, options),
        Err(e) => Err(revert(lock.vault(), vault, loaded, e.into())),
    }
}

/// The save of every front end, for a vault sealed beforehand as `bytes` (a sync seals its
/// merged copy without the app's lock): written under `lock` only if the file is still the
/// one `loaded` ([`file::write_if_unchanged`], the previous version handled as
/// `options.previous` says), then the copy into the backup folder with its restore drill
/// ([`back_up`]), whose failure is in the outcome: the save stands. When the save fails,
/// `vault` is read back from the file, so it never holds a change that is not on disk.
pub fn save_sealed(
    lock: &VaultLock,
    vault: &mut Vault,
    loaded: &mut Option<Fingerprint>,
    bytes: &[u8],
    options: &SaveOptions<'_>,
) -> Result<BackupOutcome, SaveFailed> {
    match file::write_if_unchanged(lock, bytes, loaded.as_ref(), options.previous) {
        Ok(now) => *loaded = Some(now),
        Err(e) => return Err(revert(lock.vault(), vault, loaded, e.into())),
    }
    Ok(match &options.folder {
        Some(folder) => back_up(vault, bytes, folder),
        None => BackupOutcome::NotAsked,
    })
}

/// Reads `vault` back from the file after a failed save, whatever the file's stamp says.
fn revert(
    path: &Path,
    vault: &mut Vault,
    loaded: &mut Option<Fingerprint>,
    error: SaveError,
) -> SaveFailed {
    let mut rekeyed = false;
    if let Ok((bytes, now)) = file::read_fingerprinted(path) {
        match vault.reload(&bytes) {
            Ok(fresh) => {
                *vault = fresh;
                *loaded = Some(now);
            }
            Err(_) => rekeyed = true,
        }
    }
    SaveFailed { error, rekeyed }
}

/// The result of a [`change`]: what `apply` returned and what became of the backup.
#[derive(Debug)]
pub struct Changed<T> {
    /// What `apply` returned.
    pub value: T,
    /// The copy into the backup folder ([`BackupOutcome::NotAsked`] when nothing was saved).
    pub backup: BackupOutcome,
}

/// One change of the vault at `path`, the way every front end makes it: takes the writer lock
/// (waiting up to `wait` for another writer), [`refresh`]es `vault`, applies `apply` to it, and
/// when `apply` asks for it seals and writes the result (only if the file is still the one
/// just read) and then the copy into `folder` ([`save`]). The lock is held for this alone:
/// prompts and network exchanges happen before (their results go into `apply`) or after. On
/// an error nothing is written; a failed backup is in [`Changed::backup`].
#[allow(clippy::too_many_arguments)]
pub fn change<T, E>(
    path: &Path,
    wait: Duration,
    vault: &mut Vault,
    loaded: &mut Option<Fingerprint>,
    rng: &dyn Rng,
    folder: Option<BackupFolder<'_>>,
    apply: impl FnOnce(&mut Vault) -> Result<(T, Save), E>,
) -> Result<Changed<T>, E>
where
    E: From<FileError> + From<RefreshError> + From<VaultError>,
{
    let lock = file::lock(path, wait)?;
    refresh(path, vault, loaded)?;
    let (value, save_as) = apply(vault)?;
    let backup = match save_as {
        Save::Yes(previous) => save(&lock, vault, loaded, rng, &SaveOptions { previous, folder })
            .map_err(|failed| failed.error.into_error::<E>())?,
        Save::No => BackupOutcome::NotAsked,
    };
    Ok(Changed { value, backup })
}
