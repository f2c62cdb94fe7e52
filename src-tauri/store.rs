//! The one way the shell changes the vault: the core's vault store (`twofold_core::vault::store`)
//! with the app's state. A change takes the vault file's writer lock (waiting for the CLI at
//! most [`WRITER_WAIT`]), brings the open vault up to the file when another writer saved since
//! this app last read or wrote it, applies the change, saves it when it asks for that (only if
//! the file is still the one loaded), copies it into the backup folder with its restore drill,
//! and records the backup in the status; what the UI is to hear of the backup comes back typed
//! ([`BackupNotice`]), the same from a command and from a background thread.
//!
//! The lock rules (`docs/vault.md`): no lock across a prompt or a network exchange (they run
//! before the change, their results go into it; a sync's setup, which must not lose a race, is
//! the one flow that holds the locks throughout); readers never wait for the file's lock (they
//! read the vault in memory); no hashing while idle (a refresh is one `stat` when nothing
//! changed).

use std::path::{Path, PathBuf};
use std::sync::{MutexGuard, TryLockError};
use std::time::Instant;

use tauri::{AppHandle, Runtime};
use twofold_core::rng::SystemRng;
use twofold_core::vault::store::{
    self, BackupFolder, BackupOutcome, RefreshError, SaveFailed, SaveOptions,
};
use twofold_core::vault::{Vault, file};

use crate::dto::{BackupCheck, BackupStatus};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::events::BackupNotice;
use crate::state::{AppState, Inner, unix_now};

/// How long a change waits for another writer (the CLI) to finish with the vault file.
pub const WRITER_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// How many times [`AppState::change_in_background`] lets a command go first.
const BACKGROUND_ATTEMPTS: usize = 8;

/// Whether a change is written, and how.
#[derive(Debug)]
pub enum Write {
    /// Seal the vault and write it, the previous version kept as `<vault>.bak` or removed.
    Seal(file::Backup),
    /// Write the vault as sealed beforehand without the state's lock (a sync's merged copy):
    /// these bytes must be the vault the change leaves in the state, sealed.
    Sealed(Vec<u8>),
    /// Nothing changed: write nothing.
    No,
}

impl Write {
    /// Seal and write, keeping the previous version: most changes.
    pub const YES: Write = Write::Seal(file::Backup::KeepPrevious);

    /// [`Write::YES`] when something `changed`, else [`Write::No`].
    pub fn when(changed: bool) -> Write {
        if changed { Write::YES } else { Write::No }
    }
}

/// Who asked for a change: the person (a command: the save is activity, which keeps the vault
/// from locking on idle), or the app on its own (a poll, a sync, a pushed message: not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// A command the person gave.
    User,
    /// The app on its own.
    App,
}

/// What a change returned, and what the UI is to hear of the backup after its save.
#[derive(Debug)]
pub struct Changed<T> {
    /// What the change returned.
    pub value: T,
    /// The failed backup after the save, if any (nothing when nothing was written).
    pub backup: BackupNotice,
}

impl AppState {
    /// One change of the open vault made by a command, always saved, a failed backup told to
    /// the UI. `apply` failing saves nothing.
    pub fn change<R: Runtime, T>(
        &self,
        app: &AppHandle<R>,
        inner: &mut Inner,
        apply: impl FnOnce(&mut Vault) -> AppResult<T>,
    ) -> AppResult<T> {
        let changed = self.change_saved(inner, apply)?;
        changed.backup.report(app);
        Ok(changed.value)
    }

    /// [`AppState::change`] for a caller that tells the UI of the backup itself later (a flow
    /// with no handle to the UI, or several saves).
    pub fn change_saved<T>(
        &self,
        inner: &mut Inner,
        apply: impl FnOnce(&mut Vault) -> AppResult<T>,
    ) -> AppResult<Changed<T>> {
        self.change_with(inner, By::User, |inner| {
            Ok((apply(inner.vault_mut()?)?, Write::YES))
        })
    }

    /// The change every other is made of, by a caller holding the state's lock: the writer
    /// lock taken, the vault brought up to the file, `apply` run on the state (it says whether
    /// and how to write), the save and its backup. `apply` failing writes nothing.
    pub fn change_with<T>(
        &self,
        inner: &mut Inner,
        by: By,
        apply: impl FnOnce(&mut Inner) -> AppResult<(T, Write)>,
    ) -> AppResult<Changed<T>> {
        inner.vault()?;
        let lock = file::lock(&self.vault_path(), WRITER_WAIT)?;
        self.refresh(inner)?;
        self.apply_and_save(inner, &lock, by, apply)
    }

    /// [`AppState::change_with`] for a thread that holds neither lock yet (the push poller, a
    /// token update): the file's writer lock is waited for *without* the state's lock, so no
    /// command (nor the UI) waits behind a CLI's save. The state is then taken only if it is
    /// free: a command holding it may itself be waiting for the file lock, so the file lock is
    /// let go, the command is waited for, and both are tried again. Not the person's activity.
    /// Returns the state still locked, for what follows the save.
    pub fn change_in_background<T>(
        &self,
        apply: impl FnOnce(&mut Inner) -> AppResult<(T, Write)>,
    ) -> AppResult<(Changed<T>, MutexGuard<'_, Inner>)> {
        let path = self.vault_path();
        for _ in 0..BACKGROUND_ATTEMPTS {
            let lock = file::lock(&path, WRITER_WAIT)?;
            match self.try_get() {
                Ok(mut inner) => {
                    self.refresh(&mut inner)?;
                    let changed = self.apply_and_save(&mut inner, &lock, By::App, apply)?;
                    return Ok((changed, inner));
                }
                Err(TryLockError::WouldBlock) => {
                    drop(lock);
                    drop(self.get()?);
                }
                Err(TryLockError::Poisoned(_)) => {
                    drop(lock);
                    // Locks the vault and answers `Locked`.
                    drop(self.get()?);
                }
            }
        }
        Err(file::FileError::Busy(path).into())
    }

    fn apply_and_save<T>(
        &self,
        inner: &mut Inner,
        lock: &file::VaultLock,
        by: By,
        apply: impl FnOnce(&mut Inner) -> AppResult<(T, Write)>,
    ) -> AppResult<Changed<T>> {
        let (value, write) = apply(inner)?;
        let outcome = match write {
            Write::No => {
                return Ok(Changed {
                    value,
                    backup: BackupNotice::NONE,
                });
            }
            Write::Seal(previous) => {
                self.save_with(inner, previous, |vault, loaded, options| {
                    store::save(lock, vault, loaded, &SystemRng::new(), options)
                })?
            }
            Write::Sealed(bytes) => self.save_with(
                inner,
                file::Backup::KeepPrevious,
                |vault, loaded, options| store::save_sealed(lock, vault, loaded, &bytes, options),
            )?,
        };
        if by == By::User {
            inner.last_activity = Instant::now();
        }
        Ok(Changed {
            value,
            backup: BackupNotice::of(&outcome),
        })
    }

    /// Brings the open vault up to the file when another writer saved since this app last
    /// read or wrote it (the core's [`store::refresh`]: one `stat` when nothing changed).
    /// When the file was re-keyed elsewhere (a password change in the CLI), the app locks:
    /// unlock again.
    fn refresh(&self, inner: &mut Inner) -> AppResult<()> {
        let path = self.vault_path();
        let vault = inner.vault.as_mut().ok_or_else(AppError::locked)?;
        match store::refresh(&path, vault, &mut inner.loaded) {
            // A vault file removed meanwhile: the save that follows reports it.
            Ok(_) | Err(RefreshError::Removed(_)) => Ok(()),
            Err(RefreshError::File(e)) => Err(e.into()),
            Err(RefreshError::Reopen(_)) => Err(rekeyed(inner)),
        }
    }

    /// Saves through the core's store with the app's options (the backup folder of the
    /// settings), then records the save and its backup in the status. When the save fails
    /// (disk full, another writer), the core reads the vault in memory back from the file, so
    /// it never holds a change that is not on disk.
    fn save_with(
        &self,
        inner: &mut Inner,
        previous: file::Backup,
        save: impl FnOnce(
            &mut Vault,
            &mut Option<file::Fingerprint>,
            &SaveOptions<'_>,
        ) -> Result<BackupOutcome, SaveFailed>,
    ) -> AppResult<BackupOutcome> {
        let folder = inner
            .prefs
            .settings
            .backup_folder
            .clone()
            .map(PathBuf::from);
        let options = SaveOptions {
            previous,
            folder: folder.as_deref().map(|dir| self.backup_folder(dir)),
        };
        let vault = inner.vault.as_mut().ok_or_else(AppError::locked)?;
        let outcome = match save(vault, &mut inner.loaded, &options) {
            Ok(outcome) => outcome,
            Err(failed) => {
                if failed.rekeyed {
                    rekeyed(inner);
                }
                return Err(failed.error.into_error());
            }
        };
        let status = &mut inner.prefs.backup;
        status.changes_since_backup = status.changes_since_backup.saturating_add(1);
        record_backup(inner, &outcome);
        self.save_backup_status(inner);
        Ok(outcome)
    }

    /// The backup folder at `dir` as of now.
    fn backup_folder<'a>(&self, dir: &'a Path) -> BackupFolder<'a> {
        BackupFolder {
            dir,
            now: unix_now(),
            #[cfg(test)]
            after_write: *self.backup_fault.lock().unwrap_or_else(|p| p.into_inner()),
            #[cfg(not(test))]
            after_write: None,
        }
    }

    /// Copies the vault file, as encrypted on disk, into the backup folder now, and runs the
    /// restore drill on it (the core's [`store::back_up`]). A backup that fails the drill is
    /// no error here: the status says what is wrong.
    pub fn backup_now(&self, inner: &mut Inner) -> AppResult<BackupStatus> {
        let folder = inner
            .prefs
            .settings
            .backup_folder
            .clone()
            .ok_or_else(|| AppError::invalid("choose a backup folder in the settings first"))?;
        let bytes = file::read(&self.vault_path())?;
        let outcome = store::back_up(
            inner.vault()?,
            &bytes,
            &self.backup_folder(Path::new(&folder)),
        );
        record_backup(inner, &outcome);
        self.save_backup_status(inner);
        match outcome {
            BackupOutcome::Failed(e) => Err(backup_error(e)),
            _ => Ok(inner.prefs.backup.clone()),
        }
    }

    /// Every change so far is in a verified export or synced to the other devices.
    pub fn mark_backed_up(&self, inner: &mut Inner) {
        inner.prefs.backup.changes_since_backup = 0;
        self.save_backup_status(inner);
    }

    /// Writes the backup status with the settings. Best effort: the status only informs, and
    /// the next save writes it again; the vault and the backup are already on disk.
    fn save_backup_status(&self, inner: &Inner) {
        let _ = self.save_prefs(&inner.prefs);
    }
}

/// The vault file was re-keyed elsewhere: the app locks, unlock again.
fn rekeyed(inner: &mut Inner) -> AppError {
    inner.lock();
    AppError::new(
        ErrorKind::Locked,
        "the vault was changed elsewhere with another password; unlock it again",
    )
}

/// Records what became of a backup in the status: where it is and its restore drill, or why
/// it was not written. A verified backup leaves no change outside a backup.
fn record_backup(inner: &mut Inner, outcome: &BackupOutcome) {
    let status = &mut inner.prefs.backup;
    match outcome {
        BackupOutcome::NotAsked => {}
        BackupOutcome::Failed(e) => status.last_error = Some(e.to_string()),
        BackupOutcome::Written { path, drill } => {
            status.last_ok_at = Some(unix_now());
            status.last_error = None;
            status.last_path = Some(path.display().to_string());
            if drill.verified {
                status.changes_since_backup = 0;
            }
            status.check = Some(BackupCheck::from(drill));
        }
    }
}

/// A backup that could not be written, as the command `backup_now` answers it.
fn backup_error(e: file::BackupFolderError) -> AppError {
    match e {
        file::BackupFolderError::NotAbsolute => AppError::invalid(e.to_string()),
        _ => AppError::new(ErrorKind::Io, e.to_string()),
    }
}

impl From<&store::Drill> for BackupCheck {
    fn from(d: &store::Drill) -> Self {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        BackupCheck {
            accounts: count(d.accounts),
            verified: d.verified,
            missing: count(d.missing),
            different: count(d.different),
            error: d.error.clone(),
        }
    }
}
