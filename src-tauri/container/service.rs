//! The container service: the preview, the core's runner over the app's transport and vault,
//! one exchange at a time, the failures kept for the views, and the background syncs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tauri::{AppHandle, Emitter, Manager, Runtime};
use twofold_core::SystemClock;
use twofold_core::container::{ContainerError, Host, Registration, Response, Runner};
use twofold_core::push::Request;
use twofold_core::rng::SystemRng;
use twofold_core::vault::{ContainerSyncReport, StoredContainer, Vault};
use zeroize::Zeroizing;

use super::dto::{
    ContainerPolicies, ContainerPreview, ContainerRegistered, ContainerSkip, ContainerSyncView,
    ContainerTokenView, ContainerTransfer, ContainerView, ContainerWarning,
    EVENT_CONTAINERS_SYNCED,
};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::events::BackupNotice;
use crate::state::AppState;
use crate::store::{By, Write};
use crate::support::{http_error, off_thread};

/// What the container service keeps beside the vault, managed by Tauri next to the state.
#[derive(Debug, Default)]
pub struct ContainerService {
    /// The registration shown for confirmation (one at a time), with its id.
    pending: Mutex<Option<(String, Registration)>>,
    /// Ids of previews so far.
    previews: AtomicU64,
    /// One container exchange at a time (a challenge is spent by the next request).
    busy: tauri::async_runtime::Mutex<()>,
    /// Why each container's last sync failed (since the app started).
    failures: Mutex<HashMap<String, String>>,
    /// When each container's sync was last tried (since the app started).
    attempts: Mutex<HashMap<String, Instant>>,
    /// [`NUDGE_EVERY`] unless a test shortened it (milliseconds; 0: the default).
    nudge_every_ms: AtomicU64,
}

impl ContainerService {
    fn lock<'a, T>(m: &'a Mutex<T>) -> AppResult<MutexGuard<'a, T>> {
        m.lock()
            .map_err(|_| AppError::internal("the container service's state is poisoned"))
    }

    /// How long a nudged sync waits after the container's last sync.
    fn nudge_every(&self) -> Duration {
        match self.nudge_every_ms.load(Ordering::Relaxed) {
            0 => NUDGE_EVERY,
            ms => Duration::from_millis(ms),
        }
    }

    /// Shortens [`NUDGE_EVERY`] (tests).
    #[cfg(test)]
    pub(crate) fn set_nudge_every(&self, every: Duration) {
        let ms = u64::try_from(every.as_millis()).unwrap_or(u64::MAX).max(1);
        self.nudge_every_ms.store(ms, Ordering::Relaxed);
    }

    /// True when the container's last sync was tried at least `every` ago (or never).
    fn quiet_for(&self, serial: &str, every: Duration) -> bool {
        self.attempts
            .lock()
            .map(|a| a.get(serial).is_none_or(|t| t.elapsed() >= every))
            .unwrap_or(false)
    }

    /// Keeps when `serial`'s sync was tried and why it failed.
    fn tried(&self, serial: &str, error: Option<&AppError>) {
        self.record(serial, error);
        if let Ok(mut a) = self.attempts.lock() {
            a.insert(serial.to_owned(), Instant::now());
        }
    }

    fn record(&self, serial: &str, error: Option<&AppError>) {
        if let Ok(mut f) = self.failures.lock() {
            match error {
                Some(e) => f.insert(serial.to_owned(), e.message.clone()),
                None => f.remove(serial),
            };
        }
    }
}

/// The app's side of the core's container runner: `twofold-http` carries the requests off
/// the async workers, the passphrase is the one the user typed with the confirmation, and each
/// change of the vault is made under the state's writer lock ([`AppState::change_saved`]:
/// the vault brought up to the file first) and saved, its failed backup kept for the UI.
struct App<'s> {
    state: &'s AppState,
    /// Whose act the saves are: a command's, or the app's own (a background sync, which must
    /// not keep the vault from locking).
    by: By,
    passphrase: Option<Zeroizing<String>>,
    /// The failed backups of the saves so far, for the UI.
    backups: Vec<BackupNotice>,
}

impl Host for App<'_> {
    type Error = AppError;

    fn check_url(&self, url: &str) -> AppResult<()> {
        twofold_http::check_url(url).map_err(http_error)?;
        Ok(())
    }

    fn send(&self, request: &Request) -> AppResult<Response> {
        let reply = twofold_http::send(request).map_err(http_error)?;
        Ok(Response {
            status: reply.status,
            body: reply.body,
        })
    }

    fn passphrase(&mut self, prompt: &str) -> AppResult<Zeroizing<String>> {
        match self.passphrase.take() {
            Some(p) if !p.is_empty() => Ok(p),
            _ => Err(ContainerError::PassphraseRequired(prompt.to_owned()).into()),
        }
    }

    fn read<T>(&self, read: impl FnOnce(&Vault) -> T) -> AppResult<T> {
        let inner = self.state.get()?;
        Ok(read(inner.vault()?))
    }

    fn change<T>(&mut self, apply: impl FnOnce(&mut Vault) -> AppResult<T>) -> AppResult<T> {
        let mut inner = self.state.get()?;
        let changed = self.state.change_with(&mut inner, self.by, |inner| {
            Ok((apply(inner.vault_mut()?)?, Write::YES))
        })?;
        if changed.backup.failure().is_some() {
            self.backups.push(changed.backup);
        }
        Ok(changed.value)
    }
}

/// Runs `work` on the core's container runner off the async workers (it sends HTTP); the
/// state's lock is taken only inside each read and change. Returns its result and the failed
/// backups of its saves.
async fn run<R: Runtime, T: Send + 'static>(
    app: &AppHandle<R>,
    by: By,
    passphrase: Option<Zeroizing<String>>,
    work: impl FnOnce(&mut Runner<'_, App<'_>>) -> AppResult<T> + Send + 'static,
) -> AppResult<(T, Vec<BackupNotice>)> {
    let app = app.clone();
    off_thread(move || {
        let state = app.state::<AppState>();
        let rng = SystemRng::new();
        let host = App {
            state: &state,
            by,
            passphrase,
            backups: Vec::new(),
        };
        let mut runner = Runner::new(host, &SystemClock, &rng);
        let out = work(&mut runner)?;
        Ok((out, runner.into_host().backups))
    })
    .await
}

/// Keeps a read `pia://container/` QR code for [`register`]: nothing is sent. Refuses one
/// whose server address breaks the transport's rules. A new preview replaces the one before.
pub fn preview(
    service: &ContainerService,
    registration: Registration,
) -> AppResult<ContainerPreview> {
    let url = twofold_http::check_url(registration.server_url().as_str()).map_err(http_error)?;
    let mut warnings = Vec::new();
    if !registration.verify_tls() {
        warnings.push(ContainerWarning::TlsNotVerified);
    }
    if url.scheme() == "http" {
        warnings.push(ContainerWarning::PlainHttp);
    }
    let id = service
        .previews
        .fetch_add(1, Ordering::Relaxed)
        .saturating_add(1)
        .to_string();
    let preview = ContainerPreview {
        id: id.clone(),
        serial: registration.serial().to_owned(),
        issuer: registration.issuer().to_owned(),
        host: url.host_str().unwrap_or_default().to_owned(),
        url: registration.server_url().as_str().to_owned(),
        passphrase_prompt: registration.passphrase_prompt().map(str::to_owned),
        expires_at: registration.expires_at(),
        warnings,
    };
    *ContainerService::lock(&service.pending)? = Some((id, registration));
    Ok(preview)
}

/// Forgets the registration shown for confirmation (the user said no).
pub fn cancel(service: &ContainerService, id: &str) -> AppResult<()> {
    let mut slot = ContainerService::lock(&service.pending)?;
    if slot.as_ref().is_some_and(|(i, _)| i == id) {
        *slot = None;
    }
    Ok(())
}

/// Registers the previewed container `id` the user confirmed through the core's runner: a new
/// P-384 key, the finalize request (with the passphrase when the server asks for one), the
/// vault saved with the container, then its first sync (what is saved when a step fails: the
/// runner's rule, docs/containers.md). `offer`: the OTP accounts the user ticked, offered by
/// their next two codes if the server's policy `initially_add_tokens_to_container` asks for
/// this device's tokens (docs/containers.md, "Initial transfer"). The preview is kept when
/// registering fails, so a wrong passphrase can be typed again.
pub async fn register<R: Runtime>(
    app: &AppHandle<R>,
    service: &ContainerService,
    id: &str,
    passphrase: Option<Zeroizing<String>>,
    offer: &[String],
) -> AppResult<(ContainerRegistered, BackupNotice)> {
    let registration = {
        let slot = ContainerService::lock(&service.pending)?;
        match slot.as_ref() {
            Some((i, r)) if i == id => r.clone(),
            _ => {
                return Err(AppError::new(
                    ErrorKind::NotFound,
                    "no container registration waits for this confirmation; scan the QR code again",
                ));
            }
        }
    };
    let _busy = service.busy.lock().await;
    let offer = offer.to_vec();
    let (done, backups) = run(app, By::User, passphrase, move |r| {
        r.register(registration, None, &offer)
    })
    .await?;
    {
        let mut slot = ContainerService::lock(&service.pending)?;
        if slot.as_ref().is_some_and(|(i, _)| i == id) {
            *slot = None;
        }
    }
    let serial = done.container.serial.clone();
    service.tried(&serial, done.sync.as_ref().err());
    let container = view(&app.state::<AppState>(), service, &serial)?;
    let sync = sync_view(&serial, done.sync);
    Ok((
        ContainerRegistered { container, sync },
        backups.into_iter().next().unwrap_or_default(),
    ))
}

fn sync_view(serial: &str, r: AppResult<ContainerSyncReport>) -> ContainerSyncView {
    let (r, error) = ContainerSyncReport::or_failure(serial, r);
    ContainerSyncView {
        serial: r.serial,
        added: r.added.into_iter().map(|(s, _)| s).collect(),
        updated: r.updated,
        removed: r.removed,
        joined: r.joined,
        skipped: r
            .skipped
            .into_iter()
            .map(|(entry, reason)| ContainerSkip { entry, reason })
            .collect(),
        error: error.map(|e| e.message),
    }
}

/// The container as the UI shows it.
fn container_view(c: &StoredContainer, failure: Option<&String>) -> ContainerView {
    let p = c.container.policies;
    ContainerView {
        serial: c.container.serial.clone(),
        issuer: c.container.issuer.clone(),
        server_url: c.container.server_url.as_str().to_owned(),
        tokens: c
            .tokens
            .iter()
            .map(|t| ContainerTokenView {
                serial: t.serial.clone(),
                tokentype: t.tokentype.clone(),
                account: t.account.clone(),
            })
            .collect(),
        policies: ContainerPolicies {
            rollover: p.container_client_rollover,
            delete_tokens: !p.disable_client_token_deletion,
            unregister: !p.disable_client_container_unregister,
        },
        registered_at: c.container.registered_at,
        last_sync: c.container.last_sync,
        last_error: failure.cloned(),
    }
}

fn view(state: &AppState, service: &ContainerService, serial: &str) -> AppResult<ContainerView> {
    let inner = state.get()?;
    let c = inner
        .vault()?
        .container(serial)
        .ok_or_else(|| not_found(serial))?;
    let failures = ContainerService::lock(&service.failures)?;
    Ok(container_view(c, failures.get(serial)))
}

fn not_found(serial: &str) -> AppError {
    AppError::new(
        ErrorKind::NotFound,
        format!("no container {serial:?} on this device"),
    )
}

/// The registered containers.
pub fn list(state: &AppState, service: &ContainerService) -> AppResult<Vec<ContainerView>> {
    let inner = state.get()?;
    let failures = ContainerService::lock(&service.failures)?;
    Ok(inner
        .vault()?
        .containers()
        .iter()
        .map(|c| container_view(c, failures.get(&c.container.serial)))
        .collect())
}

/// Syncs `serial`, or every container, through the core's runner; a failed one does not stop
/// the others (its view says why). `by`: the person's command, or the app on its own (the
/// background syncs: their saves never keep the vault from locking). Returns the reports and
/// the failed backups' messages.
pub async fn sync<R: Runtime>(
    app: &AppHandle<R>,
    service: &ContainerService,
    serial: Option<&str>,
    by: By,
) -> AppResult<(Vec<ContainerSyncView>, Vec<BackupNotice>)> {
    let serials: Vec<String> = {
        let state = app.state::<AppState>();
        let inner = state.get()?;
        let vault = inner.vault()?;
        match serial {
            Some(s) => {
                vault.container(s).ok_or_else(|| not_found(s))?;
                vec![s.to_owned()]
            }
            None => vault
                .containers()
                .iter()
                .map(|c| c.container.serial.clone())
                .collect(),
        }
    };
    let _busy = service.busy.lock().await;
    let mut views = Vec::new();
    let mut backups = Vec::new();
    for s in serials {
        let serial = s.clone();
        let (r, saved) = match run(app, by, None, move |r| Ok(r.sync(&serial, &[]))).await {
            Ok((r, saved)) => (r, saved),
            Err(e) => (Err(e), Vec::new()),
        };
        service.tried(&s, r.as_ref().err());
        views.push(sync_view(&s, r));
        backups.extend(saved);
    }
    Ok((views, backups))
}

/// "Move to a new phone": the `pia://container/` link, and as a QR code, for the other
/// device. This device's copy keeps working until the other one registers it. Whoever
/// registers the link takes the container's accounts: the password must have been entered
/// within the last minute (`AuthRequired`), as for an account's QR code.
pub async fn transfer<R: Runtime>(
    app: &AppHandle<R>,
    service: &ContainerService,
    serial: &str,
) -> AppResult<ContainerTransfer> {
    app.state::<AppState>().get()?.require_recent_password(
        std::time::Instant::now(),
        "moving an organization's accounts to a new phone",
    )?;
    let _busy = service.busy.lock().await;
    let serial = serial.to_owned();
    let (link, _) = run(app, By::User, None, move |r| r.rollover_uri(&serial)).await?;
    let qr = qrcode::QrCode::new(link.as_bytes())
        .map_err(|e| AppError::internal(format!("cannot draw the QR code: {e}")))?;
    let qr_svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build();
    Ok(ContainerTransfer {
        link: link.to_string(),
        qr_svg,
    })
}

/// Rollover in place through the core's runner: a new key on this device (saved at once),
/// then a sync (the server re-keys every token).
pub async fn rollover<R: Runtime>(
    app: &AppHandle<R>,
    service: &ContainerService,
    serial: &str,
) -> AppResult<(ContainerSyncView, BackupNotice)> {
    let _busy = service.busy.lock().await;
    let owned = serial.to_owned();
    let (done, backups) = run(app, By::User, None, move |r| r.rollover(&owned)).await?;
    service.tried(serial, done.sync.as_ref().err());
    Ok((
        sync_view(serial, done.sync),
        backups.into_iter().next().unwrap_or_default(),
    ))
}

/// Unregisters `serial` on the server (when its policy allows) and removes it and every
/// account it manages from this device, through the core's runner. Returns the serials
/// removed and the failed backup.
pub async fn unregister<R: Runtime>(
    app: &AppHandle<R>,
    service: &ContainerService,
    serial: &str,
) -> AppResult<(Vec<String>, BackupNotice)> {
    let _busy = service.busy.lock().await;
    {
        let state = app.state::<AppState>();
        let inner = state.get()?;
        inner
            .vault()?
            .container(serial)
            .ok_or_else(|| not_found(serial))?;
    }
    let owned = serial.to_owned();
    let (removed, backups) = run(app, By::User, None, move |r| r.unregister(&owned)).await?;
    service.record(serial, None);
    Ok((
        removed.tokens.into_iter().map(|t| t.serial).collect(),
        backups.into_iter().next().unwrap_or_default(),
    ))
}

/// How often the background thread looks whether the app came back or was unlocked.
const WATCH_EVERY: Duration = Duration::from_millis(500);

/// A container that the push poller nudged (one of its push tokens had a new challenge, or
/// the server refused its poll) is synced at most once this long after its last sync: a burst
/// of sign-ins, or a token whose polls keep failing, costs one sync, not one per poll.
pub const NUDGE_EVERY: Duration = Duration::from_secs(300);

/// Syncs `serial` (every container with `None`) and tells the UI (`containers-synced`) and
/// the backup's failure, if any. Blocking; true when the round ran.
fn sync_and_tell<R: Runtime>(app: &AppHandle<R>, serial: Option<&str>) -> bool {
    let service = app.state::<ContainerService>();
    match tauri::async_runtime::block_on(sync(app, &service, serial, By::App)) {
        Ok((views, backups)) => {
            backups.into_iter().for_each(|b| b.report(app));
            // An event that cannot be delivered has no one to be told.
            let _ = app.emit(EVENT_CONTAINERS_SYNCED, views);
            true
        }
        Err(_) => false,
    }
}

/// Syncs the containers the push poller nudged since the last call (see [`NUDGE_EVERY`]);
/// privacyIDEA's poll never says that a container changed, so a sign-in request of one of its
/// push tokens, or a poll the server refused, is the sign that the organization is at work.
/// Blocking; returns the containers synced.
pub fn sync_nudged<R: Runtime>(app: &AppHandle<R>) -> Vec<String> {
    let Some(push) = app.try_state::<crate::push::PushService>() else {
        return Vec::new();
    };
    let nudged = push.take_nudged().unwrap_or_default();
    let service = app.state::<ContainerService>();
    let every = service.nudge_every();
    nudged
        .into_iter()
        .filter(|serial| service.quiet_for(serial, every) && sync_and_tell(app, Some(serial)))
        .collect()
}

/// Syncs every container when the vault is unlocked (the launch too) and when the app comes
/// back to the foreground (a resume), and the containers the push poller nudged
/// ([`sync_nudged`]), for the life of the app. Failures are kept for the containers' views;
/// each round is told to the UI (`containers-synced`).
pub fn spawn<R: Runtime>(app: AppHandle<R>) {
    std::thread::spawn(move || {
        // When the password was last entered (each unlock sets it, however quickly it follows
        // a lock) and whether the app was in the foreground, at the last look.
        let mut seen: (Option<std::time::Instant>, bool) = (None, true);
        loop {
            std::thread::sleep(WATCH_EVERY);
            let state = app.state::<AppState>();
            let foreground = state.is_foreground();
            let look = state.peek(|i| {
                i.vault
                    .as_ref()
                    .map(|v| (i.password_at, !v.containers().is_empty()))
            });
            let Some(Some((unlocked_at, any))) = look else {
                seen = (None, foreground);
                continue;
            };
            let due = unlocked_at != seen.0 || (foreground && !seen.1);
            seen = (unlocked_at, foreground);
            if due && any && foreground {
                sync_and_tell(&app, None);
            }
            sync_nudged(&app);
        }
    });
}
