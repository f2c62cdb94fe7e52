//! What the shell keeps between commands: the open vault (or none), the settings file, the
//! progress of a multi-QR export, the idle timer and the last backup. One mutex guards it all.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use twofold_core::migration::BatchProgress;
use twofold_core::rng::SystemRng;
use twofold_core::vault::{KdfParams, Vault, file};

use crate::dto::{BackupStatus, LockReason, Settings};
use crate::error::{AppError, AppResult, ErrorKind};

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
    /// The last backup.
    pub backup: BackupStatus,
    /// When the vault password was last entered (unlock, create, change): approving a
    /// sign-in that requires device authentication needs it recent.
    pub password_at: Option<Instant>,
    /// Nonces of the challenges the UI was told about (event, notification or a poll's
    /// answer): none is notified twice.
    pub notified: HashSet<String>,
}

/// The shell's state, managed by Tauri.
#[derive(Debug)]
pub struct AppState {
    dir: PathBuf,
    kdf: KdfSource,
    inner: Mutex<Inner>,
    foreground: AtomicBool,
    poll_soon: AtomicBool,
}

/// Backups kept in the backup folder; older ones are removed.
pub const BACKUPS_KEPT: usize = 10;
const BACKUP_PREFIX: &str = "twofold-backup-";

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
                backup: BackupStatus::default(),
                password_at: None,
                notified: HashSet::new(),
            }),
            foreground: AtomicBool::new(true),
            poll_soon: AtomicBool::new(false),
        }
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
    pub fn get(&self) -> AppResult<MutexGuard<'_, Inner>> {
        self.inner.lock().map_err(|_| {
            AppError::internal(
                "the app's state is damaged after an earlier failure; restart the app",
            )
        })
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

    /// Encrypts and saves the open vault atomically, then writes the automatic backup when a
    /// backup folder is set. `Ok(Some(message))`: saved, but the backup failed (the caller
    /// tells the UI through the `backup-failed` event).
    pub fn save_vault(&self, inner: &mut Inner) -> AppResult<Option<String>> {
        let vault = inner.vault.as_ref().ok_or_else(AppError::locked)?;
        let bytes = vault.to_bytes(&SystemRng::new())?;
        file::write_atomic(&self.vault_path(), &bytes, false)?;
        inner.last_activity = Instant::now();
        let Some(folder) = inner.prefs.settings.backup_folder.clone() else {
            return Ok(None);
        };
        Ok(match write_backup(Path::new(&folder), &bytes, unix_now()) {
            Ok(path) => {
                inner.backup = BackupStatus {
                    last_ok_at: Some(unix_now()),
                    last_error: None,
                    last_path: Some(path.display().to_string()),
                };
                None
            }
            Err(e) => {
                inner.backup.last_error = Some(e.message.clone());
                Some(e.message)
            }
        })
    }

    /// Copies the vault file, as encrypted on disk, into the backup folder now.
    pub fn backup_now(&self, inner: &mut Inner) -> AppResult<BackupStatus> {
        let folder = inner
            .prefs
            .settings
            .backup_folder
            .clone()
            .ok_or_else(|| AppError::invalid("choose a backup folder in the settings first"))?;
        let bytes = file::read(&self.vault_path())?;
        match write_backup(Path::new(&folder), &bytes, unix_now()) {
            Ok(path) => {
                inner.backup = BackupStatus {
                    last_ok_at: Some(unix_now()),
                    last_error: None,
                    last_path: Some(path.display().to_string()),
                };
                Ok(inner.backup.clone())
            }
            Err(e) => {
                inner.backup.last_error = Some(e.message.clone());
                Err(e)
            }
        }
    }

    /// The app is in the foreground (the push poller runs only then).
    pub fn is_foreground(&self) -> bool {
        self.foreground.load(Ordering::Relaxed)
    }

    /// Records whether the app is in the foreground.
    pub fn set_foreground(&self, foreground: bool) {
        self.foreground.store(foreground, Ordering::Relaxed);
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
    pub fn lock_if_idle(&self, now: Instant) -> bool {
        let Ok(mut inner) = self.inner.lock() else {
            return false;
        };
        let timeout = u64::from(inner.prefs.settings.lock_timeout_secs);
        if inner.vault.is_none() || timeout == 0 {
            return false;
        }
        if now.saturating_duration_since(inner.last_activity) >= Duration::from_secs(timeout) {
            inner.lock();
            return true;
        }
        false
    }

    /// Locks because the app went to the background, if the settings say so; true when it
    /// locked.
    pub fn lock_on_background(&self) -> bool {
        let Ok(mut inner) = self.inner.lock() else {
            return false;
        };
        if inner.vault.is_some() && inner.prefs.settings.lock_on_background {
            inner.lock();
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

    /// Forgets the vault (its keys and secrets are zeroized on drop), the scan progress and
    /// the last password entry.
    pub fn lock(&mut self) {
        self.vault = None;
        self.migration = None;
        self.password_at = None;
    }
}

/// Why the vault is locked, for the `vault-locked` event.
pub fn reason(reason: LockReason) -> crate::dto::VaultLockedPayload {
    crate::dto::VaultLockedPayload { reason }
}

/// `YYYYMMDD-HHMMSS` (UTC) of Unix seconds.
fn stamp(unix: u64) -> String {
    let t = twofold_core::clock::Utc::from_unix(unix);
    format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// Writes `bytes` (an encrypted vault) as a new backup in `folder` and keeps the newest
/// [`BACKUPS_KEPT`].
pub fn write_backup(folder: &Path, bytes: &[u8], unix: u64) -> AppResult<PathBuf> {
    let io = |what: &str, p: &Path, e: std::io::Error| {
        AppError::new(
            ErrorKind::Io,
            format!("backup failed: cannot {what} {}: {e}", p.display()),
        )
    };
    if !folder.is_absolute() {
        return Err(AppError::invalid(
            "the backup folder must be an absolute path",
        ));
    }
    if !folder.is_dir() {
        return Err(AppError::new(
            ErrorKind::Io,
            format!(
                "backup failed: the folder {} does not exist",
                folder.display()
            ),
        ));
    }
    let path = folder.join(format!("{BACKUP_PREFIX}{}.json", stamp(unix)));
    file::write_atomic(&path, bytes, false)
        .map_err(|e| AppError::new(ErrorKind::Io, format!("backup failed: {e}")))?;
    // The previous version of a same-second backup is not worth keeping.
    let _ = std::fs::remove_file(file::backup_path(&path));
    let mut old: Vec<PathBuf> = std::fs::read_dir(folder)
        .map_err(|e| io("list", folder, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(BACKUP_PREFIX) && n.ends_with(".json"))
        })
        .collect();
    old.sort();
    let excess = old.len().saturating_sub(BACKUPS_KEPT);
    for p in &old[..excess] {
        std::fs::remove_file(p).map_err(|e| io("remove the old backup", p, e))?;
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_utc_calendar_times() {
        assert_eq!(stamp(0), "19700101-000000");
        assert_eq!(stamp(1_700_000_000), "20231114-221320");
        assert_eq!(stamp(951_782_400), "20000229-000000");
    }
}
