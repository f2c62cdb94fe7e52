//! The sync service: its state (the pending target, the status record), the targets, the
//! errors and the status the settings screen shows, and choosing the target.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, Manager, Runtime};
use twofold_core::sync::{KeyFileError, SyncError};
use twofold_core::vault::{SyncCredentials, Vault, file};
use twofold_sync::{Listing, RunError, Store, Target, TargetError, WebDavTarget};
use zeroize::Zeroizing;

use super::dto::{
    EVENT_SYNC_STATUS, SyncFailure, SyncProblem, SyncState, SyncStatus, SyncTargetKind,
    SyncTargetView,
};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::state::AppState;

use super::run::Done;

/// How long after the last change a sync starts (changes in a row make one sync).
pub const DEBOUNCE: Duration = Duration::from_secs(2);
/// How often the background thread looks at the state.
pub(super) const TICK: Duration = Duration::from_millis(250);
/// The status file beside the vault: when the last sync ran and how it went. Nothing secret
/// (no target, no account): the settings screen shows it after a restart.
pub(super) const STATUS_FILE: &str = "sync-status.json";

/// How the last sync went, as kept in [`STATUS_FILE`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct Record {
    pub(super) last_sync_at: Option<u64>,
    pub(super) last_attempt_at: Option<u64>,
    pub(super) devices: u32,
    pub(super) last_changed: u32,
    pub(super) last_removed: u32,
    pub(super) problems: Vec<SyncProblem>,
    pub(super) last_error: Option<SyncFailure>,
}

/// A target chosen but not joined yet: the passphrase comes next.
pub(super) struct Pending {
    pub(super) target: Target,
    /// The WebDAV login entered with a WebDAV target (kept in the vault once joined).
    pub(super) login: Option<SyncCredentials>,
    /// No sync set there yet: the passphrase creates one (the UI asks for it twice).
    pub(super) creating: bool,
}

/// What the app keeps for sync beside the state, managed by Tauri.
pub struct SyncService {
    pub(super) pending: Mutex<Option<Pending>>,
    pub(super) record: Mutex<Record>,
    /// One sync at a time (a command's and the background thread's).
    pub(super) one_at_a_time: Mutex<()>,
    pub(super) running: AtomicBool,
    /// The vault file as the last sync saved it (that save is no change to sync again).
    pub(super) last_saved: Mutex<Option<file::Fingerprint>>,
    pub(super) debounce_ms: AtomicU64,
    /// Attempts that found the vault changed since they copied it (and started again).
    pub(super) lost_races: AtomicU64,
    /// Ticks of the background thread that ended with nothing to do (no sync due or
    /// running): tests wait on it instead of sleeping.
    pub(super) quiet_ticks: AtomicU64,
    pub(super) status_path: PathBuf,
}

impl std::fmt::Debug for SyncService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncService").finish_non_exhaustive()
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> AppResult<MutexGuard<'_, T>> {
    m.lock()
        .map_err(|_| AppError::internal("the sync service's state is poisoned"))
}

impl SyncService {
    /// The service of an app whose files live in `dir`; the last sync's status is read from
    /// there (a missing or unreadable status file is "never synced").
    pub fn new(dir: &Path) -> SyncService {
        let status_path = dir.join(STATUS_FILE);
        let record = std::fs::read(&status_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        SyncService {
            pending: Mutex::new(None),
            record: Mutex::new(record),
            one_at_a_time: Mutex::new(()),
            running: AtomicBool::new(false),
            last_saved: Mutex::new(None),
            debounce_ms: AtomicU64::new(DEBOUNCE.as_millis() as u64),
            lost_races: AtomicU64::new(0),
            quiet_ticks: AtomicU64::new(0),
            status_path,
        }
    }

    /// How many ticks of the background thread ended with nothing to do. Two more than a
    /// count read after a call mean the thread has seen the state that call left, and has
    /// done (or found nothing to do) about it.
    #[cfg(test)]
    pub fn quiet_ticks(&self) -> u64 {
        self.quiet_ticks.load(Ordering::SeqCst)
    }

    /// How long after the last change a sync starts.
    pub fn debounce(&self) -> Duration {
        Duration::from_millis(self.debounce_ms.load(Ordering::Relaxed))
    }

    /// How many sync attempts found the vault changed since they copied it, since start.
    pub fn lost_races(&self) -> u64 {
        self.lost_races.load(Ordering::Relaxed)
    }

    /// Changes the debounce (tests shorten it).
    pub fn set_debounce(&self, after: Duration) {
        let ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX);
        self.debounce_ms.store(ms, Ordering::Relaxed);
    }

    fn save_record(&self, record: &Record) {
        // The status is a convenience: a status file that cannot be written is not a failed
        // sync (the vault and the target have it all); it is kept in memory either way.
        if let Ok(bytes) = serde_json::to_vec_pretty(record) {
            let _ = file::write_atomic(&self.status_path, &bytes, false);
        }
    }

    pub(super) fn update_record(&self, f: impl FnOnce(&mut Record)) -> AppResult<()> {
        let mut record = lock(&self.record)?;
        f(&mut record);
        self.save_record(&record);
        Ok(())
    }
}

// ---- targets

/// The store of `target`: a WebDAV target logs in with `login` (a target being set up) or
/// the login the vault keeps; an Android folder goes through the platform's document API.
pub(super) fn open_store(
    state: &AppState,
    target: &Target,
    login: Option<&SyncCredentials>,
    vault: &Vault,
) -> AppResult<Box<dyn Store>> {
    if let Target::Saf(tree) = target {
        let docs = state.device()?.documents(tree)?;
        return Ok(Box::new(twofold_sync::DocumentFolder::new(docs)));
    }
    let login = login.or(vault.sync_credentials());
    let mut target = target.clone();
    // A stored WebDAV target names no user: the login the vault keeps does.
    if let Target::WebDav(w) = &mut target
        && w.user.is_none()
    {
        w.user = login.map(|l| l.user.clone()).filter(|u| !u.is_empty());
    }
    twofold_sync::open(&target, login.map(|l| l.password.clone())).map_err(|e| run_error(e.into()))
}

/// The target as the status shows it (`user`: the WebDAV login's, if any).
pub(super) fn target_view(target: &Target, user: Option<String>) -> SyncTargetView {
    match target {
        Target::Folder(_) | Target::Saf(_) => SyncTargetView {
            kind: SyncTargetKind::Folder,
            place: target.describe(),
            user: None,
        },
        Target::WebDav(_) => SyncTargetView {
            kind: SyncTargetKind::Webdav,
            place: target.describe(),
            user,
        },
    }
}

/// Whether `listing` holds a sync set already (a key file).
pub(super) fn has_key_file(listing: &Listing) -> bool {
    listing.files.iter().any(|f| {
        twofold_core::sync::replica::kind_of(&f.bytes) == twofold_core::sync::FileKind::KeyFile
    })
}

// ---- errors

/// The kind and message of a failed sync. A wrong passphrase has its own kind.
pub fn run_error(e: RunError) -> AppError {
    let message = e.to_string();
    let kind = match e {
        RunError::Target(TargetError::Io { .. }) => ErrorKind::Io,
        RunError::Target(TargetError::TooManyFiles) => ErrorKind::InvalidInput,
        RunError::Target(TargetError::Rng) => ErrorKind::Internal,
        RunError::Target(TargetError::PhoneFolder { .. }) => ErrorKind::Unsupported,
        RunError::Target(TargetError::Http(h)) => return crate::support::http_error(h),
        RunError::Target(TargetError::WebDavUrl { .. }) => ErrorKind::InvalidInput,
        RunError::Target(TargetError::Unauthorized { .. }) => ErrorKind::WrongPassword,
        RunError::Target(
            TargetError::Conflict { .. } | TargetError::Status { .. } | TargetError::Listing { .. },
        ) => ErrorKind::Server,
        RunError::Sync(s) => match s {
            SyncError::WrongPassphrase | SyncError::KeyFile(KeyFileError::WrongPassphrase) => {
                ErrorKind::WrongSyncPassphrase
            }
            SyncError::KeyFile(KeyFileError::KdfRefused | KeyFileError::Malformed(_))
            | SyncError::Membership => ErrorKind::Corrupt,
            SyncError::NewPassphrase => ErrorKind::SyncNewPassphrase,
            SyncError::Removed { .. } => ErrorKind::SyncRemoved,
            SyncError::PassphraseNeeded | SyncError::TooManyFiles | SyncError::CannotRemove(_) => {
                ErrorKind::InvalidInput
            }
            SyncError::KeyFile(KeyFileError::Rng(_))
            | SyncError::Replica(_)
            | SyncError::Rng(_) => ErrorKind::Internal,
        },
        RunError::Vault(v) => return AppError::from(v),
        RunError::Passphrase(_) | RunError::WeakPassphrase(_) => ErrorKind::InvalidInput,
    };
    AppError::new(kind, message)
}

// ---- the status

/// Sync's status for the settings screen. Needs the vault unlocked (the target is in it).
pub fn status(state: &AppState, service: &SyncService) -> AppResult<SyncStatus> {
    status_with(state, service, None)
}

/// The status right after `result`: that sync's own figures, even when another sync (the
/// background thread's) ran since, so that a sync that changed accounts is told as such.
pub fn status_after(
    state: &AppState,
    service: &SyncService,
    result: &AppResult<Done>,
) -> AppResult<SyncStatus> {
    status_with(
        state,
        service,
        result.as_ref().ok().map(|d| d.record.clone()),
    )
}

pub(super) fn status_with(
    state: &AppState,
    service: &SyncService,
    record: Option<Record>,
) -> AppResult<SyncStatus> {
    let (target, user) = {
        let inner = state.get()?;
        let vault = inner.vault()?;
        let user = vault.sync_credentials().map(|c| c.user.clone());
        (vault.sync_target().map(str::to_owned), user)
    };
    let record = match record {
        Some(r) => r,
        None => lock(&service.record)?.clone(),
    };
    let pending = lock(&service.pending)?;
    let running = service.running.load(Ordering::Relaxed);
    let (sync_state, view, creating) = match (&*pending, target) {
        (Some(p), _) => (
            SyncState::NeedsPassphrase,
            Some(target_view(
                &p.target,
                p.login.as_ref().map(|l| l.user.clone()),
            )),
            p.creating,
        ),
        (None, Some(t)) => {
            let view = Target::parse(&t).ok().map(|t| target_view(&t, user));
            (SyncState::On, view, false)
        }
        (None, None) => (SyncState::Off, None, false),
    };
    let on = sync_state == SyncState::On;
    Ok(SyncStatus {
        state: sync_state,
        target: view,
        creating,
        running,
        last_sync_at: record.last_sync_at.filter(|_| on),
        last_attempt_at: record.last_attempt_at.filter(|_| on),
        devices: if on { record.devices } else { 0 },
        last_changed: if on { record.last_changed } else { 0 },
        last_removed: if on { record.last_removed } else { 0 },
        many_removed: on && record.last_removed > crate::dto::MANY_REMOVED,
        problems: if on { record.problems } else { Vec::new() },
        last_error: record.last_error.filter(|_| on),
    })
}

/// Tells the UI how sync stands after `result` (after every sync; the account list refreshes
/// when `lastChanged` is not 0).
pub(super) fn tell<R: Runtime>(app: &AppHandle<R>, result: &AppResult<Done>) {
    let status = status_after(
        &app.state::<AppState>(),
        &app.state::<SyncService>(),
        result,
    );
    if let Ok(status) = status {
        // Nobody to tell when the webview is gone; the status file keeps it.
        let _ = app.emit(EVENT_SYNC_STATUS, status);
    }
}

// ---- choosing the target

pub(super) fn check_off(state: &AppState) -> AppResult<()> {
    let inner = state.get()?;
    // A sync target receives every secret, under a passphrase of the chooser's making: the
    // password again, as for a plain export (the same 60 s rule).
    inner.require_recent_password(Instant::now(), "choosing where your accounts sync")?;
    if inner.vault()?.sync_target().is_some() {
        return Err(AppError::invalid(
            "sync is on already: turn it off before choosing another place",
        ));
    }
    Ok(())
}

/// Lists `target` (no lock held) and keeps it as the pending target.
pub(super) fn choose(
    state: &AppState,
    service: &SyncService,
    target: Target,
    login: Option<SyncCredentials>,
) -> AppResult<SyncStatus> {
    let store = {
        let inner = state.get()?;
        open_store(state, &target, login.as_ref(), inner.vault()?)?
    };
    let mut store = store;
    let listing = store.list().map_err(|e| run_error(e.into()))?;
    *lock(&service.pending)? = Some(Pending {
        creating: !has_key_file(&listing),
        target,
        login,
    });
    status(state, service)
}

/// The folder the system's picker chose (desktop: the folder dialog; Android: the
/// storage-access-framework picker), kept as the pending target; unchanged when the picker was
/// cancelled. Blocking (the picker); only while unlocked, with the password entered within the
/// last minute (`AuthRequired`), and while sync is off. iOS: `Unsupported`.
pub fn choose_folder(state: &AppState, service: &SyncService) -> AppResult<SyncStatus> {
    check_off(state)?;
    let Some(target) = state.device()?.choose_sync_folder()? else {
        return status(state, service);
    };
    if let Target::Folder(folder) = &target {
        if !folder.is_absolute() || !folder.is_dir() {
            return Err(AppError::invalid(format!(
                "the sync folder {} is not an existing folder",
                folder.display()
            )));
        }
        if folder.canonicalize().ok() == state.dir().canonicalize().ok() {
            return Err(AppError::invalid(
                "choose another folder than the app's own for sync",
            ));
        }
    }
    choose(state, service, target, None)
}

/// A WebDAV collection as the pending target, listed with the login first (a refused login
/// is `WrongPassword`, an address Twofold does not use `InvalidInput`).
pub fn choose_webdav(
    state: &AppState,
    service: &SyncService,
    url: &str,
    user: &str,
    password: Zeroizing<String>,
) -> AppResult<SyncStatus> {
    check_off(state)?;
    if url.trim().is_empty() {
        return Err(AppError::invalid("enter the WebDAV server's address"));
    }
    let user = user.trim();
    let target = WebDavTarget::new(url.trim(), (!user.is_empty()).then(|| user.to_owned()))
        .map_err(|e| run_error(e.into()))?;
    let login = (!user.is_empty() || !password.is_empty()).then(|| SyncCredentials {
        user: user.to_owned(),
        password,
    });
    choose(state, service, Target::WebDav(target), login)
}
