//! Syncing: one run (its attempts and the locks it holds), setup, rejoin, the devices of the
//! sync set and their removal, turning sync off, and the background thread that decides when.

use std::sync::atomic::Ordering;
use std::time::Instant;

use tauri::{AppHandle, Manager, Runtime};
use twofold_core::rng::SystemRng;
use twofold_core::sync::SyncError;
use twofold_core::vault::{KdfParams, SyncCredentials, Vault, file};
use twofold_core::{Clock, SystemClock};
use twofold_sync::{Listing, Need, Planned, RunError, Store, Target};
use zeroize::Zeroizing;

use super::dto::{SyncDevice, SyncFailure, SyncProblem};
use super::service::*;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::events::BackupNotice;
use crate::state::AppState;
use crate::store::{By, Write};

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
    pub(super) record: Record,
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
