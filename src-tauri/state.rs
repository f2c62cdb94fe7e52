//! What the shell keeps between commands: the open vault (or none), the settings file, the
//! progress of a multi-QR export, the idle timer and the last backup. One mutex guards it all.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, TryLockError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use twofold_core::migration::BatchProgress;
use twofold_core::rng::SystemRng;
use twofold_core::vault::store::{
    self, BackupFolder, BackupOutcome, BackupStep, RefreshError, SaveFailed, SaveOptions,
};
use twofold_core::vault::{KdfParams, Vault, file};
use zeroize::Zeroizing;

use tauri::{AppHandle, Emitter, Runtime};

use crate::dto::{
    BackupCheck, BackupFailedPayload, BackupFailure, BackupStatus, EVENT_BACKUP_FAILED, LockReason,
    Settings,
};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::platform::Device;

/// How recent the password must be before the shell shows a secret (an account's QR code) or
/// writes one in plain text (a plain export): entered within this many seconds.
pub const REAUTH_SECS: u64 = 60;

/// How long a copied code stays on the clipboard (unless the vault locks or the app exits
/// first, which clear it at once).
pub const CLIPBOARD_CLEAR_SECS: u64 = 30;

/// The code Twofold last put on the clipboard: cleared only while the clipboard still holds
/// it, so whatever the person copied since is left alone. Never printed.
pub struct Copied {
    /// The copied text.
    pub text: Zeroizing<String>,
    /// Which copy this is, so a timer of an earlier copy leaves a later one alone.
    pub seq: u64,
}

impl std::fmt::Debug for Copied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Copied")
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

/// How password slots get their Argon2id parameters.
#[derive(Debug, Clone, Copy)]
pub enum KdfSource {
    /// Measured on this device (0.3–0.8 s per derivation): the app.
    Calibrate,
    /// Fixed parameters (tests use the floor).
    Fixed(KdfParams),
}

impl KdfSource {
    /// The parameters for a new password slot.
    pub fn params(self) -> AppResult<KdfParams> {
        match self {
            KdfSource::Calibrate => {
                KdfParams::calibrate().map_err(|e| AppError::internal(e.to_string()))
            }
            KdfSource::Fixed(p) => Ok(p),
        }
    }
}

/// The settings file: the user's settings and whether the privacy statement was accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Prefs {
    /// The privacy statement was accepted.
    pub first_run_done: bool,
    /// The user's settings.
    pub settings: Settings,
    /// Push prompts of these accounts (by serial) are not shown until then (Unix seconds).
    /// Not secret, so kept here rather than in the vault.
    pub push_muted: BTreeMap<String, u64>,
    /// The last backup, its restore drill, and the changes since the last verified backup,
    /// export or sync (no secret: counts, a time, a path).
    pub backup: BackupStatus,
}

/// The mutable part of the state.
#[derive(Debug)]
pub struct Inner {
    /// The unlocked vault, `None` while locked.
    pub vault: Option<Vault>,
    /// What `settings.json` holds.
    pub prefs: Prefs,
    /// The multi-QR Google Authenticator export being scanned, if any.
    pub migration: Option<BatchProgress>,
    /// The last user activity (`touch`, unlock, changes).
    pub last_activity: Instant,
    /// When the vault password was last entered (unlock, create, change): approving a
    /// sign-in that requires device authentication needs it recent.
    pub password_at: Option<Instant>,
    /// Nonces of the challenges the UI was told about (event, notification or a poll's
    /// answer): none is notified twice.
    pub notified: HashSet<String>,
    /// The code on the clipboard, if Twofold put it there.
    pub copied: Option<Copied>,
    /// The vault file as this app last read or wrote it: a save checks that no other writer
    /// (the CLI) changed it since (`docs/vault.md`, "One writer at a time").
    pub loaded: Option<file::Fingerprint>,
}

/// How long a change waits for another writer (the CLI) to finish with the vault file.
pub const WRITER_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// How many times [`AppState::begin_background_change`] lets a command go first.
const BACKGROUND_ATTEMPTS: usize = 8;

/// The shell's state, managed by Tauri.
#[derive(Debug)]
pub struct AppState {
    dir: PathBuf,
    kdf: KdfSource,
    inner: Mutex<Inner>,
    foreground: AtomicBool,
    poll_soon: AtomicBool,
    device: DeviceSlot,
    copy_seq: AtomicU64,
    clipboard_clear_ms: AtomicU64,
    /// The last backup failure was its restore drill, not writing it (read without the
    /// state's lock by the `backup-failed` event).
    drill_failed: AtomicBool,
    /// Tests only: runs on a backup between writing it and the restore drill (a disk that
    /// damages what it stores).
    #[cfg(test)]
    pub backup_fault: Mutex<Option<fn(&Path)>>,
}

/// The dialogs and clipboard, set once at start-up (the app: the plugins; tests: a fake).
#[derive(Default)]
struct DeviceSlot(OnceLock<Arc<dyn Device>>);

impl std::fmt::Debug for DeviceSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "DeviceSlot(set)"
        } else {
            "DeviceSlot(unset)"
        })
    }
}

/// Unix seconds now.
pub fn unix_now() -> u64 {
    unix_now_ms() / 1000
}

/// Unix milliseconds now.
pub fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl AppState {
    /// The state of an app whose files live in `dir` (`vault.json`, `settings.json`). A
    /// missing settings file gives the defaults; an unreadable one too, so a damaged settings
    /// file never keeps the user from their codes.
    pub fn new(dir: PathBuf, kdf: KdfSource) -> Self {
        let prefs = std::fs::read(dir.join("settings.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        AppState {
            dir,
            kdf,
            inner: Mutex::new(Inner {
                vault: None,
                prefs,
                migration: None,
                last_activity: Instant::now(),
                password_at: None,
                notified: HashSet::new(),
                copied: None,
                loaded: None,
            }),
            foreground: AtomicBool::new(true),
            poll_soon: AtomicBool::new(false),
            device: DeviceSlot::default(),
            copy_seq: AtomicU64::new(0),
            clipboard_clear_ms: AtomicU64::new(CLIPBOARD_CLEAR_SECS * 1000),
            drill_failed: AtomicBool::new(false),
            #[cfg(test)]
            backup_fault: Mutex::new(None),
        }
    }

    /// Sets the dialogs and clipboard (once; later calls are ignored).
    pub fn set_device(&self, device: Arc<dyn Device>) {
        let _ = self.device.0.set(device);
    }

    /// The dialogs and clipboard.
    pub fn device(&self) -> AppResult<Arc<dyn Device>> {
        self.device
            .0
            .get()
            .cloned()
            .ok_or_else(|| AppError::unsupported("this build has no dialogs or clipboard"))
    }

    /// How long a copied code stays on the clipboard.
    pub fn clipboard_clear_after(&self) -> Duration {
        Duration::from_millis(self.clipboard_clear_ms.load(Ordering::Relaxed))
    }

    /// Changes how long a copied code stays on the clipboard (tests shorten it).
    pub fn set_clipboard_clear_after(&self, after: Duration) {
        let ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX);
        self.clipboard_clear_ms.store(ms, Ordering::Relaxed);
    }

    /// Puts `text` on the clipboard and remembers it; returns the copy's number for
    /// [`AppState::clear_copied`].
    pub fn copy(&self, inner: &mut Inner, text: Zeroizing<String>) -> AppResult<u64> {
        self.device()?.clipboard_write(&text)?;
        let seq = self.copy_seq.fetch_add(1, Ordering::Relaxed) + 1;
        inner.copied = Some(Copied { text, seq });
        Ok(seq)
    }

    /// Clears the clipboard if it still holds what Twofold copied (copy number `seq`, or any
    /// copy when `None`); true when it was cleared.
    pub fn clear_copied(&self, inner: &mut Inner, seq: Option<u64>) -> bool {
        let ours = inner
            .copied
            .as_ref()
            .is_some_and(|c| seq.is_none_or(|s| s == c.seq));
        if !ours {
            return false;
        }
        let Some(copied) = inner.copied.take() else {
            return false;
        };
        let Ok(device) = self.device() else {
            return false;
        };
        let still = device
            .clipboard_read()
            .is_some_and(|now| now.as_str() == copied.text.as_str());
        // A clipboard that cannot be cleared has nothing more to be done about it here.
        still && device.clipboard_clear().is_ok()
    }

    /// Locks the vault and clears a copied code from the clipboard. Fails closed: a poisoned
    /// state (a command panicked while holding it) is locked too, and usable again after.
    pub fn lock_now(&self) {
        let mut inner = self.inner_even_poisoned();
        self.lock_inner(&mut inner);
    }

    fn lock_inner(&self, inner: &mut Inner) {
        inner.lock();
        self.clear_copied(inner, None);
    }

    /// The state even when poisoned: only for locking, which makes any state safe.
    fn inner_even_poisoned(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| {
            let mut inner = poisoned.into_inner();
            self.lock_inner(&mut inner);
            self.inner.clear_poison();
            inner
        })
    }

    /// The app's own folder (vault, settings).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the vault file is.
    pub fn vault_path(&self) -> PathBuf {
        self.dir.join("vault.json")
    }

    fn prefs_path(&self) -> PathBuf {
        self.dir.join("settings.json")
    }

    /// The KDF parameters for a new password slot.
    pub fn kdf(&self) -> AppResult<KdfParams> {
        self.kdf.params()
    }

    /// The state, locked for one command.
    /// A state poisoned by an earlier failure locks the vault (fails closed) and answers
    /// `Locked` this once; unlocking works again after.
    pub fn get(&self) -> AppResult<MutexGuard<'_, Inner>> {
        match self.inner.lock() {
            Ok(inner) => Ok(inner),
            Err(poisoned) => {
                self.lock_poisoned(poisoned.into_inner());
                Err(AppError::new(
                    ErrorKind::Locked,
                    "the vault was locked after an internal failure; unlock it again",
                ))
            }
        }
    }

    /// Reads the state for a background look (the sync thread): `None` when it is poisoned,
    /// which is left for [`AppState::get`] and the lock paths to handle (they lock the vault).
    pub fn peek<T>(&self, f: impl FnOnce(&Inner) -> T) -> Option<T> {
        self.inner.lock().ok().map(|inner| f(&inner))
    }

    /// Writes the settings file.
    pub fn save_prefs(&self, prefs: &Prefs) -> AppResult<()> {
        std::fs::create_dir_all(&self.dir).map_err(|e| {
            AppError::new(
                ErrorKind::Io,
                format!("cannot create {}: {e}", self.dir.display()),
            )
        })?;
        let bytes =
            serde_json::to_vec_pretty(prefs).map_err(|e| AppError::internal(e.to_string()))?;
        file::write_atomic(&self.prefs_path(), &bytes, false)?;
        Ok(())
    }

    /// Starts a change of the open vault: takes the vault file's writer lock (waiting for the
    /// CLI at most [`WRITER_WAIT`]) and, when another writer saved since this app last read
    /// or wrote the file, reloads the vault from it first, so the change applies to the newest
    /// accounts and none is lost. Hold the returned lock until [`AppState::save_vault`].
    pub fn begin_change(&self, inner: &mut Inner) -> AppResult<file::VaultLock> {
        inner.vault()?;
        let lock = file::lock(&self.vault_path(), WRITER_WAIT)?;
        self.refresh(inner)?;
        Ok(lock)
    }

    /// One change of the open vault made by a command: [`AppState::begin_change`], `apply`,
    /// [`AppState::save_vault`], and a failed backup reported to the UI ([`report_backup`]).
    /// `apply` failing saves nothing.
    pub fn change<R: Runtime, T>(
        &self,
        app: &AppHandle<R>,
        inner: &mut Inner,
        apply: impl FnOnce(&mut Vault) -> AppResult<T>,
    ) -> AppResult<T> {
        let (out, backup) = self.change_saved(inner, apply)?;
        report_backup(app, backup);
        Ok(out)
    }

    /// [`AppState::change`] for a caller that reports the failed backup itself later (a flow
    /// with no handle to the UI yet): the result and the backup failure's message, if any.
    pub fn change_saved<T>(
        &self,
        inner: &mut Inner,
        apply: impl FnOnce(&mut Vault) -> AppResult<T>,
    ) -> AppResult<(T, Option<String>)> {
        let writer = self.begin_change(inner)?;
        let out = apply(inner.vault_mut()?)?;
        let backup = self.save_vault(inner, &writer)?;
        Ok((out, backup))
    }

    /// [`AppState::begin_change`] for a change made in the background (the push poller),
    /// which holds neither lock yet: the file's writer lock is waited for *without* the
    /// state's lock, so no command (nor the UI) waits behind a CLI's save. The state is then
    /// taken only if it is free: a command holding it may itself be waiting for the file lock,
    /// so the file lock is let go, the command is waited for, and both are tried again.
    pub fn begin_background_change(&self) -> AppResult<(file::VaultLock, MutexGuard<'_, Inner>)> {
        let path = self.vault_path();
        for _ in 0..BACKGROUND_ATTEMPTS {
            let lock = file::lock(&path, WRITER_WAIT)?;
            match self.inner.try_lock() {
                Ok(mut inner) => {
                    self.refresh(&mut inner)?;
                    return Ok((lock, inner));
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
            Err(RefreshError::Reopen(_)) => Err(self.rekeyed(inner)),
        }
    }

    fn rekeyed(&self, inner: &mut Inner) -> AppError {
        inner.lock();
        AppError::new(
            ErrorKind::Locked,
            "the vault was changed elsewhere with another password; unlock it again",
        )
    }

    /// Encrypts and saves the open vault under the writer lock of [`AppState::begin_change`]
    /// (the core's [`store::save`]: written only if the file is still the one loaded, then the
    /// copy into the backup folder with its restore drill). When the save fails (disk full,
    /// another writer), the core reads the vault in memory back from the file, so it never
    /// holds a change that is not on disk. `Ok(Some(message))`: saved, but the backup failed
    /// (the caller tells the UI through the `backup-failed` event).
    pub fn save_vault(
        &self,
        inner: &mut Inner,
        lock: &file::VaultLock,
    ) -> AppResult<Option<String>> {
        self.save_vault_with(inner, lock, file::Backup::KeepPrevious)
    }

    /// [`AppState::save_vault`] choosing what becomes of the previous version (a password
    /// change removes it: it opens with the old password).
    pub fn save_vault_with(
        &self,
        inner: &mut Inner,
        lock: &file::VaultLock,
        backup: file::Backup,
    ) -> AppResult<Option<String>> {
        self.save_with(inner, backup, |vault, loaded, options| {
            store::save(lock, vault, loaded, &SystemRng::new(), options)
        })
    }

    /// [`AppState::save_vault_with`] for a vault sealed beforehand, without the state's lock (a
    /// sync seals its merged copy while the app goes on serving): `bytes` must be
    /// `inner.vault` sealed (the core's [`store::save_sealed`]).
    pub fn write_sealed(
        &self,
        inner: &mut Inner,
        lock: &file::VaultLock,
        bytes: &[u8],
        backup: file::Backup,
    ) -> AppResult<Option<String>> {
        self.save_with(inner, backup, |vault, loaded, options| {
            store::save_sealed(lock, vault, loaded, bytes, options)
        })
    }

    /// Saves through the core's store with the app's options (the backup folder of the
    /// settings), then records the save and its backup in the status.
    fn save_with(
        &self,
        inner: &mut Inner,
        previous: file::Backup,
        save: impl FnOnce(
            &mut Vault,
            &mut Option<file::Fingerprint>,
            &SaveOptions<'_>,
        ) -> Result<BackupOutcome, SaveFailed>,
    ) -> AppResult<Option<String>> {
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
                    self.rekeyed(inner);
                }
                return Err(failed.error.into_error());
            }
        };
        inner.last_activity = Instant::now();
        let status = &mut inner.prefs.backup;
        status.changes_since_backup = status.changes_since_backup.saturating_add(1);
        let failure = self.record_backup(inner, &outcome);
        self.save_backup_status(inner);
        Ok(failure)
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
        self.record_backup(inner, &outcome);
        self.save_backup_status(inner);
        match outcome {
            BackupOutcome::Failed(e) => Err(backup_error(e)),
            _ => Ok(inner.prefs.backup.clone()),
        }
    }

    /// Records what became of a backup in the status: where it is and its restore drill, or
    /// why it was not written. A verified backup leaves no change outside a backup. Returns
    /// the failure's message, if any.
    fn record_backup(&self, inner: &mut Inner, outcome: &BackupOutcome) -> Option<String> {
        let failure = outcome.failure();
        let status = &mut inner.prefs.backup;
        match outcome {
            BackupOutcome::NotAsked => return None,
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
        self.drill_failed.store(
            failure
                .as_ref()
                .is_some_and(|f| f.step == BackupStep::Check),
            Ordering::Relaxed,
        );
        failure.map(|f| f.message)
    }

    /// True when the last backup failure was its restore drill (the file was written).
    pub fn last_backup_failure_was_drill(&self) -> bool {
        self.drill_failed.load(Ordering::Relaxed)
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

    /// The app is in the foreground (the push poller runs only then).
    pub fn is_foreground(&self) -> bool {
        self.foreground.load(Ordering::Relaxed)
    }

    /// Records whether the app is in the foreground.
    pub fn set_foreground(&self, foreground: bool) {
        self.foreground.store(foreground, Ordering::Relaxed);
    }

    /// Puts the vault just opened (or created) from `bytes` into `inner`, with the user's
    /// presence (password or biometrics) as of now, and asks for a poll: the one way create,
    /// unlock and biometric unlock open the app.
    pub fn install_opened(&self, inner: &mut Inner, vault: Vault, bytes: &[u8]) {
        let now = Instant::now();
        inner.loaded = Some(file::Fingerprint::of(bytes));
        inner.vault = Some(vault);
        inner.last_activity = now;
        inner.password_at = Some(now);
        self.request_poll();
    }

    /// Asks the push poller to poll now rather than at its next tick (unlock, resume).
    pub fn request_poll(&self) {
        self.poll_soon.store(true, Ordering::Relaxed);
    }

    /// True once after [`AppState::request_poll`].
    pub fn take_poll_request(&self) -> bool {
        self.poll_soon.swap(false, Ordering::Relaxed)
    }

    /// Locks when the vault has been idle for the lock timeout; true when it locked.
    /// A poisoned state locks at once (true when a vault was open).
    pub fn lock_if_idle(&self, now: Instant) -> bool {
        let mut inner = match self.inner.lock() {
            Ok(inner) => inner,
            Err(poisoned) => return self.lock_poisoned(poisoned.into_inner()),
        };
        let timeout = u64::from(inner.prefs.settings.lock_timeout_secs);
        if inner.vault.is_none() || timeout == 0 {
            return false;
        }
        if now.saturating_duration_since(inner.last_activity) >= Duration::from_secs(timeout) {
            self.lock_inner(&mut inner);
            return true;
        }
        false
    }

    /// Locks a poisoned state and clears the poison; true when a vault was open.
    fn lock_poisoned(&self, mut inner: MutexGuard<'_, Inner>) -> bool {
        let was_open = inner.vault.is_some();
        self.lock_inner(&mut inner);
        self.inner.clear_poison();
        was_open
    }

    /// Locks because the app went to the background, if the settings say so; true when it
    /// locked.
    /// A poisoned state locks whatever the setting says.
    pub fn lock_on_background(&self) -> bool {
        let mut inner = match self.inner.lock() {
            Ok(inner) => inner,
            Err(poisoned) => return self.lock_poisoned(poisoned.into_inner()),
        };
        if inner.vault.is_some() && inner.prefs.settings.lock_on_background {
            self.lock_inner(&mut inner);
            return true;
        }
        false
    }
}

impl Inner {
    /// The open vault, or `Locked`.
    pub fn vault(&self) -> AppResult<&Vault> {
        self.vault.as_ref().ok_or_else(AppError::locked)
    }

    /// The open vault to change, or `Locked`.
    pub fn vault_mut(&mut self) -> AppResult<&mut Vault> {
        self.vault.as_mut().ok_or_else(AppError::locked)
    }

    /// `AuthRequired` unless the vault password was entered within [`REAUTH_SECS`] of `now`
    /// (unlock, create, change, or `vault_unlock` again while open). `what` finishes "enter
    /// your password again before ...".
    pub fn require_recent_password(&self, now: Instant, what: &str) -> AppResult<()> {
        self.vault()?;
        let fresh = self.password_at.is_some_and(|at| {
            now.saturating_duration_since(at) <= Duration::from_secs(REAUTH_SECS)
        });
        if fresh {
            return Ok(());
        }
        Err(AppError::new(
            ErrorKind::AuthRequired,
            format!(
                "enter your password again before {what} (it counts for {REAUTH_SECS} seconds)"
            ),
        ))
    }

    /// Forgets the vault (its keys and secrets are zeroized on drop), the scan progress and
    /// the last password entry. The clipboard is cleared by [`AppState::lock_now`].
    pub fn lock(&mut self) {
        self.vault = None;
        self.migration = None;
        self.password_at = None;
        self.loaded = None;
    }
}

/// Why the vault is locked, for the `vault-locked` event.
pub fn reason(reason: LockReason) -> crate::dto::VaultLockedPayload {
    crate::dto::VaultLockedPayload { reason }
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

/// Tells the UI that the automatic backup after a save failed (the save itself succeeded):
/// writing it, or its restore drill. Called while the caller may still hold the state's
/// lock: which step failed comes from a flag beside it, never from the locked state.
pub(crate) fn report_backup<R: Runtime>(app: &AppHandle<R>, failure: Option<String>) {
    use tauri::Manager;
    if let Some(message) = failure {
        let check = app
            .try_state::<AppState>()
            .is_some_and(|s| s.last_backup_failure_was_drill());
        let kind = if check {
            BackupFailure::Check
        } else {
            BackupFailure::Write
        };
        // An event that cannot be delivered has no one to be reported to; the status keeps it.
        let _ = app.emit(EVENT_BACKUP_FAILED, BackupFailedPayload { message, kind });
    }
}
