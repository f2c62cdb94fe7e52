//! What the shell keeps between commands: the open vault (or none), the settings file, the
//! progress of a multi-QR export, the idle timer and the last backup. One mutex guards it all.
//! Changes of the vault go through the shell's store (`store.rs`).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use twofold_core::migration::BatchProgress;
use twofold_core::vault::{KdfParams, Vault, file};
use zeroize::Zeroizing;

use crate::dto::{BackupStatus, Settings};
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

    /// The state if no one holds it now (a background change: [`AppState::change_in_background`]).
    pub(crate) fn try_get(&self) -> std::sync::TryLockResult<MutexGuard<'_, Inner>> {
        self.inner.try_lock()
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
