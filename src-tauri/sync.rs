//! Sync between the user's devices in the app (`docs/sync.md`, `docs/ipc.md` "Sync"):
//! choosing the target, joining or creating the sync set with the passphrase entered once,
//! syncing on demand and automatically, and the status the settings screen shows.
//! `twofold-sync` lists and writes the target and runs the merge (the core's, sans-IO); this
//! module decides when, holds the locks, saves the vault and keeps the status.
//!
//! Locks: the target is listed with no lock held (its I/O may be slow: a network folder, a
//! WebDAV server). Then a copy of the vault is read from its file under the state's lock (a
//! moment), and the merge, the sealing of the merged copy and this device's writes to the
//! target run with no lock held, so the app's other commands go on meanwhile. Last, under the
//! state's lock, [`AppState::change_with`] takes the vault's writer lock and reloads; if the
//! vault file is still the one copied, the merged copy becomes the vault and its sealed bytes
//! are written; if a change was saved meanwhile (here or by the CLI), the sync starts again
//! from a new listing (this device's new replica in it is merged, and the next one gets a
//! higher generation). The third attempt, and a setup, hold the locks throughout, as every
//! other change of the vault in this app does: it cannot lose that race.
//!
//! When: after an unlock (the app's launch included), when the app comes back to the
//! foreground, [`DEBOUNCE`] after the last saved change of the vault, and on demand. A
//! background thread ([`spawn`]) watches the state for the first three; a change is any save
//! (the fingerprint of the vault file as the app last wrote it changes), so no command has to
//! remember to ask.
//!
//! The folder comes from [`crate::platform::Device::choose_sync_folder`]: a path on desktop;
//! on Android the storage-access-framework picker's tree URI (`saf:` target), whose documents
//! the platform reaches through tauri-plugin-android-fs and [`twofold_sync::DocumentFolder`]
//! keeps the folder's rules on; on iOS `Unsupported` (no maintained plugin gives Rust the
//! document picker's folder with lasting security-scoped access), and the UI offers WebDAV.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, Manager, Runtime};
use twofold_core::rng::SystemRng;
use twofold_core::sync::{KeyFileError, SyncError};
use twofold_core::vault::{KdfParams, SyncCredentials, Vault, file};
use twofold_core::{Clock, SystemClock};
use twofold_sync::{Listing, Need, Planned, RunError, Store, Target, TargetError, WebDavTarget};
use zeroize::Zeroizing;

use crate::dto::{
    EVENT_SYNC_STATUS, SyncDevice, SyncFailure, SyncProblem, SyncState, SyncStatus, SyncTargetKind,
    SyncTargetView,
};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::events::BackupNotice;
use crate::state::AppState;
use crate::store::{By, Write};

/// How long after the last change a sync starts (changes in a row make one sync).
pub const DEBOUNCE: Duration = Duration::from_secs(2);
/// How often the background thread looks at the state.
const TICK: Duration = Duration::from_millis(250);
/// The status file beside the vault: when the last sync ran and how it went. Nothing secret
/// (no target, no account): the settings screen shows it after a restart.
const STATUS_FILE: &str = "sync-status.json";

/// How the last sync went, as kept in [`STATUS_FILE`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Record {
    last_sync_at: Option<u64>,
    last_attempt_at: Option<u64>,
    devices: u32,
    last_changed: u32,
    last_removed: u32,
    problems: Vec<SyncProblem>,
    last_error: Option<SyncFailure>,
}

/// A target chosen but not joined yet: the passphrase comes next.
struct Pending {
    target: Target,
    /// The WebDAV login entered with a WebDAV target (kept in the vault once joined).
    login: Option<SyncCredentials>,
    /// No sync set there yet: the passphrase creates one (the UI asks for it twice).
    creating: bool,
}

/// What the app keeps for sync beside the state, managed by Tauri.
pub struct SyncService {
    pending: Mutex<Option<Pending>>,
    record: Mutex<Record>,
    /// One sync at a time (a command's and the background thread's).
    one_at_a_time: Mutex<()>,
    running: AtomicBool,
    /// The vault file as the last sync saved it (that save is no change to sync again).
    last_saved: Mutex<Option<file::Fingerprint>>,
    debounce_ms: AtomicU64,
    /// Attempts that found the vault changed since they copied it (and started again).
    lost_races: AtomicU64,
    /// Ticks of the background thread that ended with nothing to do (no sync due or
    /// running): tests wait on it instead of sleeping.
    quiet_ticks: AtomicU64,
    status_path: PathBuf,
}

impl std::fmt::Debug for SyncService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncService").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> AppResult<MutexGuard<'_, T>> {
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

    fn update_record(&self, f: impl FnOnce(&mut Record)) -> AppResult<()> {
        let mut record = lock(&self.record)?;
        f(&mut record);
        self.save_record(&record);
        Ok(())
    }
}

// ---- targets

/// The store of `target`: a WebDAV target logs in with `login` (a target being set up) or
/// the login the vault keeps; an Android folder goes through the platform's document API.
fn open_store(
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
fn target_view(target: &Target, user: Option<String>) -> SyncTargetView {
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
fn has_key_file(listing: &Listing) -> bool {
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
        RunError::Target(TargetError::Http(h)) => return crate::push::http_error(h),
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

fn status_with(
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
fn tell<R: Runtime>(app: &AppHandle<R>, result: &AppResult<Done>) {
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

fn check_off(state: &AppState) -> AppResult<()> {
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
fn choose(
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

// ---- syncing

/// What a sync did, for the caller to tell.
#[derive(Debug)]
pub struct Done {
    /// Accounts added, changed or removed here.
    pub changed: usize,
    /// What the UI is to hear of the automatic backup after saving.
    pub backup: BackupNotice,
    /// The vault file as this sync saved it.
    pub saved: Option<file::Fingerprint>,
    /// The status record this sync wrote.
    record: Record,
}

/// The passphrase of a setup, and the Argon2id parameters when the target had no sync set
/// when it was chosen (they are calibrated before any lock is taken).
struct Setup {
    passphrase: Zeroizing<String>,
    kdf: Option<KdfParams>,
}

/// One sync (blocking: the target's I/O): with the pending target and `setup`'s passphrase
/// when setting up, else with the vault's target. Holds the locks as the module says.
fn run(
    state: &AppState,
    service: &SyncService,
    setup: Option<Setup>,
    rejoin: Option<Zeroizing<String>>,
) -> AppResult<Done> {
    let _one = lock(&service.one_at_a_time)?;
    service.running.store(true, Ordering::Relaxed);
    let result = run_locked(state, service, setup, rejoin);
    service.running.store(false, Ordering::Relaxed);
    result
}

fn run_locked(
    state: &AppState,
    service: &SyncService,
    setup: Option<Setup>,
    rejoin: Option<Zeroizing<String>>,
) -> AppResult<Done> {
    let (target, login) = match &setup {
        Some(_) => lock(&service.pending)?
            .as_ref()
            .map(|p| (p.target.clone(), p.login.clone()))
            .ok_or_else(|| AppError::invalid("choose a folder or a WebDAV server first"))?,
        None => {
            let inner = state.get()?;
            let stored = inner
                .vault()?
                .sync_target()
                .ok_or_else(|| AppError::invalid("sync is off: choose a folder first"))?
                .to_owned();
            (
                Target::parse(&stored).map_err(|e| AppError::unsupported(e.to_string()))?,
                None,
            )
        }
    };
    let mut store = {
        let inner = state.get()?;
        open_store(state, &target, login.as_ref(), inner.vault()?)?
    };
    let job = Job {
        target: &target,
        login: login.as_ref(),
        setup: setup.as_ref(),
        rejoin: rejoin.as_ref(),
    };
    let mut attempt = 1;
    let (report, backup, saved) = loop {
        // The target's files, read without any lock (again after a lost race: this device's
        // own file changed, and a WebDAV write needs its new ETag).
        let listing = store.list().map_err(|e| run_error(e.into()))?;
        // A setup holds the locks: a lost race would leave a replica under a device id that
        // the vault never keeps (another device, to everyone else).
        let hold = attempt == ATTEMPTS || setup.is_some();
        if let Some(done) = job.attempt(state, &mut *store, listing, hold)? {
            break done;
        }
        service.lost_races.fetch_add(1, Ordering::Relaxed);
        attempt += 1;
    };
    *lock(&service.last_saved)? = saved;

    if setup.is_some() {
        *lock(&service.pending)? = None;
    }
    record_success(service, &report, backup, saved)
}

/// Keeps how a successful sync (or the sync of a removal) went, in the status.
fn record_success(
    service: &SyncService,
    report: &twofold_sync::Report,
    backup: BackupNotice,
    saved: Option<file::Fingerprint>,
) -> AppResult<Done> {
    let now = SystemClock.now();
    let record = Record {
        last_sync_at: Some(now),
        last_attempt_at: Some(now),
        devices: u32::try_from(report.devices).unwrap_or(u32::MAX),
        last_changed: u32::try_from(report.changed).unwrap_or(u32::MAX),
        last_removed: u32::try_from(report.removed).unwrap_or(u32::MAX),
        problems: report
            .warnings
            .iter()
            .map(|w| SyncProblem {
                file: w.file.clone(),
                reason: w.reason.clone(),
            })
            .collect(),
        last_error: None,
    };
    service.update_record(|r| *r = record.clone())?;
    Ok(Done {
        changed: report.changed,
        backup,
        saved,
        record,
    })
}

/// How many times a sync merges without the state's lock before it holds the lock throughout
/// (the vault changed under each earlier attempt: the user kept editing).
const ATTEMPTS: usize = 3;

/// What one sync works with, whichever attempt.
struct Job<'a> {
    target: &'a Target,
    login: Option<&'a SyncCredentials>,
    setup: Option<&'a Setup>,
    /// The set's new passphrase, after a re-key (`sync_rejoin`).
    rejoin: Option<&'a Zeroizing<String>>,
}

/// A finished attempt: the run's report, what the UI is to hear of the backup, the vault file
/// as saved.
type Attempt = (
    twofold_sync::Report,
    BackupNotice,
    Option<file::Fingerprint>,
);

impl Job<'_> {
    /// Merges `listing` (read beforehand, without the state's lock) into `copy` (the vault as
    /// the file holds it) and returns the run's report and this device's files to write
    /// (`twofold_sync::plan`, sans-IO).
    fn merge(
        &self,
        copy: &mut Vault,
        listing: Listing,
        rng: &SystemRng,
    ) -> AppResult<Planned<twofold_sync::Report>> {
        let mut passphrase = |need: Need| match self.setup {
            _ if need == Need::Rejoin => self
                .rejoin
                .map(|p| (p.clone(), KdfParams::MIN))
                .ok_or(RunError::Sync(SyncError::NewPassphrase)),
            Some(Setup { kdf: None, .. }) if need == Need::Create => Err(RunError::Passphrase(
                "the sync set is gone from this place since it was chosen: choose it again".into(),
            )),
            Some(s) => Ok((s.passphrase.clone(), s.kdf.unwrap_or(KdfParams::MIN))),
            None => Err(RunError::Passphrase(
                "this device has not joined the sync set: set sync up again with the passphrase"
                    .into(),
            )),
        };
        let planned = twofold_sync::plan(
            copy,
            self.target,
            listing,
            &mut passphrase,
            None,
            &SystemClock,
            rng,
        )
        .map_err(run_error)?;
        if let Some(login) = self.login {
            copy.set_sync_credentials(Some(login.clone()));
        }
        Ok(planned)
    }

    /// One attempt. Unless `hold`: a copy of the vault is read from the file under the
    /// state's lock (a moment), then the merge, the sealing and the target's writes run
    /// without it, and the state's lock and the vault's writer lock are taken again only to
    /// save the sealed copy, if the vault file is still the one copied; `None` when it is not
    /// (a change saved meanwhile, here or by the CLI: the caller tries again, and the files
    /// written meanwhile are harmless, `docs/sync.md`). With `hold`, the locks are held
    /// throughout, so the attempt cannot lose that race.
    fn attempt(
        &self,
        state: &AppState,
        store: &mut dyn Store,
        listing: Listing,
        hold: bool,
    ) -> AppResult<Option<Attempt>> {
        let rng = SystemRng::new();
        let put = |store: &mut dyn Store, planned: &Planned<twofold_sync::Report>| {
            twofold_sync::apply(store, planned, &rng).map_err(|e| run_error(e.into()))
        };
        // Saving after a sync is not user activity: it must not keep the vault from locking.
        if hold {
            let mut inner = state.get()?;
            let changed = state.change_with(&mut inner, By::App, |inner| {
                let bytes = file::read(&state.vault_path())?;
                let mut copy = inner.vault()?.reload(&bytes)?;
                let planned = self.merge(&mut copy, listing, &rng)?;
                put(store, &planned)?;
                inner.vault = Some(copy);
                Ok((planned.done, Write::YES))
            })?;
            // Synced: every change is on the other devices too.
            state.mark_backed_up(&mut inner);
            return Ok(Some((changed.value, changed.backup, inner.loaded)));
        }
        let (mut copy, copied) = {
            let inner = state.get()?;
            let bytes = file::read(&state.vault_path())?;
            let copy = inner.vault()?.reload(&bytes)?;
            (copy, file::Fingerprint::of(&bytes))
        };
        let planned = self.merge(&mut copy, listing, &rng)?;
        let sealed = copy.to_bytes(&rng)?;
        put(store, &planned)?;
        let mut inner = state.get()?;
        let changed = state.change_with(&mut inner, By::App, |inner| {
            if inner.loaded != Some(copied) {
                return Ok((false, Write::No));
            }
            inner.vault = Some(copy);
            Ok((true, Write::Sealed(sealed)))
        })?;
        if !changed.value {
            return Ok(None);
        }
        state.mark_backed_up(&mut inner);
        Ok(Some((planned.done, changed.backup, inner.loaded)))
    }
}

/// A sync that is not a setup (with the set's new passphrase after a re-key: `rejoin`), its
/// failure kept in the status.
fn run_and_record(
    state: &AppState,
    service: &SyncService,
    rejoin: Option<Zeroizing<String>>,
) -> AppResult<Done> {
    let result = run(state, service, None, rejoin);
    if let Err(e) = &result
        && e.kind != ErrorKind::Locked
    {
        let now = SystemClock.now();
        service.update_record(|r| {
            r.last_attempt_at = Some(now);
            r.last_changed = 0;
            r.last_removed = 0;
            r.last_error = Some(SyncFailure {
                kind: e.kind,
                message: e.message.clone(),
            });
        })?;
    }
    result
}

/// Joins or creates the sync set of the pending target with `passphrase` (entered once) and
/// syncs. A wrong passphrase is `WrongSyncPassphrase` and changes nothing; the password must
/// have been entered within the last minute (`AuthRequired`), as for choosing the target.
pub fn set_up(
    state: &AppState,
    service: &SyncService,
    passphrase: Zeroizing<String>,
) -> AppResult<Done> {
    state
        .get()?
        .require_recent_password(Instant::now(), "creating or joining a sync set")?;
    if passphrase.is_empty() {
        return Err(AppError::invalid("the sync passphrase must not be empty"));
    }
    let creating = lock(&service.pending)?.as_ref().is_some_and(|p| p.creating);
    // A new key file gets calibrated Argon2id parameters; joining reads them from the file.
    let kdf = if creating { Some(state.kdf()?) } else { None };
    run(state, service, Some(Setup { passphrase, kdf }), None)
}

/// Syncs now (the `sync_now` command).
pub fn sync_now(state: &AppState, service: &SyncService) -> AppResult<Done> {
    run_and_record(state, service, None)
}

/// Syncs with the set's new passphrase after another device removed one and re-keyed
/// (`sync_rejoin`): the key a re-key notice under this device's key names, opened with it.
/// No password again: the target stays, and only a member can have named the key. A wrong
/// one is `SyncNewPassphrase` again and writes nothing.
pub fn rejoin(
    state: &AppState,
    service: &SyncService,
    passphrase: Zeroizing<String>,
) -> AppResult<Done> {
    if passphrase.is_empty() {
        return Err(AppError::invalid("enter the sync set's new passphrase"));
    }
    run_and_record(state, service, Some(passphrase))
}

// ---- devices

/// The sync set's devices as of this device's last sync, this one first (`sync_devices`).
pub fn devices(state: &AppState) -> AppResult<Vec<SyncDevice>> {
    let inner = state.get()?;
    let list = inner
        .vault()?
        .sync_devices()
        .ok_or_else(|| AppError::invalid("sync is off"))?;
    Ok(list.into_iter().map(SyncDevice::from).collect())
}

/// Renames this device in its sync set (`sync_rename_device`): saved, and sent with the next
/// sync (the save itself starts one, as any change does). Returns the list and what the UI is
/// to hear of the backup.
pub fn rename(state: &AppState, name: &str) -> AppResult<(Vec<SyncDevice>, BackupNotice)> {
    if twofold_core::sync::replica::clean_device_name(name).is_empty() {
        return Err(AppError::invalid("enter a name for this device"));
    }
    let mut inner = state.get()?;
    let changed = state.change_saved(&mut inner, |vault| {
        vault
            .set_sync_device_name(name)
            .map_err(|e| run_error(e.into()))
    })?;
    drop(inner);
    Ok((devices(state)?, changed.backup))
}

/// Removes device `id` from the sync set and re-keys it with `passphrase`, the set's new one
/// (`sync_remove_device`; `twofold_sync::remove_device`, the CLI's sequence): the password
/// must have been entered within the last minute (`AuthRequired`, nothing written), and the
/// passphrase pass the strength rule (`InvalidInput`). The locks are held throughout, as for
/// a setup.
pub fn remove_device(
    state: &AppState,
    service: &SyncService,
    id: &str,
    passphrase: Zeroizing<String>,
) -> AppResult<Done> {
    state
        .get()?
        .require_recent_password(Instant::now(), "removing a device from the sync set")?;
    let device: twofold_core::sync::DeviceId = id
        .parse()
        .map_err(|e: twofold_core::sync::hlc::BadDeviceId| AppError::invalid(e.to_string()))?;
    twofold_core::strength::check(&passphrase).map_err(|e| run_error(e.into()))?;
    let kdf = state.kdf()?;
    let _one = lock(&service.one_at_a_time)?;
    service.running.store(true, Ordering::Relaxed);
    let result = remove_locked(state, service, device, &passphrase, kdf);
    service.running.store(false, Ordering::Relaxed);
    result
}

fn remove_locked(
    state: &AppState,
    service: &SyncService,
    device: twofold_core::sync::DeviceId,
    passphrase: &str,
    kdf: KdfParams,
) -> AppResult<Done> {
    let (target, mut store) = {
        let inner = state.get()?;
        let vault = inner.vault()?;
        let stored = vault
            .sync_target()
            .ok_or_else(|| AppError::invalid("sync is off"))?;
        let target = Target::parse(stored).map_err(|e| AppError::unsupported(e.to_string()))?;
        vault
            .sync_membership()
            .ok_or_else(|| AppError::invalid("sync is off"))?
            .removable(device)
            .map_err(|e| run_error(e.into()))?;
        let store = open_store(state, &target, None, vault)?;
        (target, store)
    };
    let listing = store.list().map_err(|e| run_error(e.into()))?;
    let rng = SystemRng::new();
    let mut inner = state.get()?;
    let changed = state.change_with(&mut inner, By::App, |inner| {
        let bytes = file::read(&state.vault_path())?;
        let mut copy = inner.vault()?.reload(&bytes)?;
        let planned = twofold_sync::plan_removal(
            &mut copy,
            &target,
            listing,
            device,
            (passphrase, kdf),
            &SystemClock,
            &rng,
        )
        .map_err(run_error)?;
        twofold_sync::apply(store.as_mut(), &planned, &rng).map_err(|e| run_error(e.into()))?;
        inner.vault = Some(copy);
        Ok((planned.done, Write::YES))
    })?;
    let removal = changed.value;
    state.mark_backed_up(&mut inner);
    let saved = inner.loaded;
    drop(inner);
    *lock(&service.last_saved)? = saved;
    record_success(service, &removal.sync, changed.backup, saved)
}

/// Turns sync off: the vault forgets the target and the sync key (the accounts stay, and so
/// do the files in the target, for the other devices); a pending target is forgotten.
pub fn turn_off(state: &AppState, service: &SyncService) -> AppResult<BackupNotice> {
    let _one = lock(&service.one_at_a_time)?;
    *lock(&service.pending)? = None;
    let mut inner = state.get()?;
    let mut backup = BackupNotice::NONE;
    if inner.vault()?.sync_target().is_some() {
        backup = state
            .change_saved(&mut inner, |vault| {
                vault.clear_sync();
                Ok(())
            })?
            .backup;
    }
    drop(inner);
    let record = Record::default();
    *lock(&service.record)? = record;
    let _ = std::fs::remove_file(&service.status_path);
    Ok(backup)
}

/// Tells the UI what a sync (or its failure) changed.
pub fn announce<R: Runtime>(app: &AppHandle<R>, result: &AppResult<Done>) {
    if let Ok(done) = result {
        done.backup.clone().report(app);
    }
    tell(app, result);
}

// ---- the background thread

/// What the background thread saw at its last look.
#[derive(Default)]
struct Seen {
    unlocked: bool,
    /// When the password or biometrics were last entered (each unlock sets it).
    entered: Option<Instant>,
    foreground: bool,
    saved: Option<file::Fingerprint>,
    due: Option<Instant>,
}

/// Syncs in the background for the life of the app: after an unlock, on a return to the
/// foreground, and [`SyncService::debounce`] after the last saved change; only while the vault
/// is unlocked and syncs somewhere. Each sync is told to the UI (`sync-status`).
pub fn spawn<R: Runtime>(app: AppHandle<R>) {
    std::thread::spawn(move || {
        let mut seen = Seen {
            foreground: true,
            ..Seen::default()
        };
        loop {
            std::thread::sleep(TICK);
            let state = app.state::<AppState>();
            let service = app.state::<SyncService>();
            let look = state.peek(|inner| match inner.vault.as_ref() {
                Some(v) => (
                    true,
                    v.sync_target().is_some(),
                    inner.loaded,
                    inner.password_at,
                ),
                None => (false, false, None, None),
            });
            let (unlocked, on, saved, entered) = look.unwrap_or((false, false, None, None));
            let foreground = state.is_foreground();
            let now = Instant::now();
            if !unlocked {
                seen = Seen {
                    foreground,
                    ..Seen::default()
                };
                service.quiet_ticks.fetch_add(1, Ordering::SeqCst);
                continue;
            }
            // An unlock is also told by when the password (or biometrics) was last entered: a
            // lock and unlock quicker than one tick are never seen locked.
            if !seen.unlocked || entered != seen.entered || (foreground && !seen.foreground) {
                // Unlocked (the launch too) or back in the foreground: sync now.
                seen.due = Some(now);
            } else if saved != seen.saved
                && service.last_saved.lock().is_ok_and(|own| *own != saved)
            {
                // A change was saved: sync once the changes stop for a moment.
                seen.due = Some(now + service.debounce());
            }
            seen.unlocked = true;
            seen.entered = entered;
            seen.foreground = foreground;
            seen.saved = saved;
            if !on || seen.due.is_none_or(|due| now < due) {
                if !on {
                    seen.due = None;
                }
                if seen.due.is_none() {
                    service.quiet_ticks.fetch_add(1, Ordering::SeqCst);
                }
                continue;
            }
            seen.due = None;
            let result = run_and_record(&state, &service, None);
            announce(&app, &result);
        }
    });
}
