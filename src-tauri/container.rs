//! privacyIDEA token containers in the app (docs/containers.md, "In the app"): the core builds
//! and reads every message (`twofold_core::container`), `twofold-http` carries them off the
//! async workers, and the vault keeps the containers and their tokens. The app state's lock is
//! never held during HTTP: a sync reads what it reports, releases the lock, talks to the
//! server, and applies the checked reply under the vault's writer lock, all or nothing. The
//! commands in `commands/container.rs` delegate here.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tauri::{AppHandle, Emitter, Manager, Runtime};
use twofold_core::container::{Container, ContainerError, ContainerKey, Operation, Registration};
use twofold_core::push::privacyidea::Enrolment;
use twofold_core::push::{PhoneKey, PushAccount, Request};
use twofold_core::rng::SystemRng;
use twofold_core::vault::{ContainerSyncReport, StoredContainer};
use zeroize::Zeroizing;

use crate::dto::{
    ContainerPolicies, ContainerPreview, ContainerRegistered, ContainerSkip, ContainerSyncView,
    ContainerTokenView, ContainerTransfer, ContainerView, ContainerWarning,
    EVENT_CONTAINERS_SYNCED,
};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::push::{http_error, off_thread};
use crate::state::{AppState, unix_now};

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

    fn record(&self, serial: &str, error: Option<&AppError>) {
        if let Ok(mut f) = self.failures.lock() {
            match error {
                Some(e) => f.insert(serial.to_owned(), e.message.clone()),
                None => f.remove(serial),
            };
        }
    }
}

/// Sends a request; privacyIDEA puts its errors in the body, so any status is read by the core.
fn send(request: &Request) -> AppResult<Vec<u8>> {
    twofold_http::check_url(&request.url).map_err(http_error)?;
    twofold_http::send_body(request).map_err(http_error)
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

/// Registers the previewed container `id` the user confirmed: a new P-384 key, the finalize
/// request (with the passphrase when the server asks for one), the vault saved with the
/// container, then its first sync. `offer`: the OTP accounts the user ticked, offered by
/// their next two codes if the server's policy `initially_add_tokens_to_container` asks for
/// this device's tokens (docs/containers.md, "Initial transfer"). The preview is kept when
/// registering fails, so a wrong passphrase can be typed again.
pub async fn register(
    state: &AppState,
    service: &ContainerService,
    id: &str,
    passphrase: Option<Zeroizing<String>>,
    offer: &[String],
) -> AppResult<(ContainerRegistered, Option<String>)> {
    {
        let inner = state.get()?;
        let vault = inner.vault()?;
        for account in offer {
            vault.check_offerable(account)?;
        }
    }
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
    let secret = match (registration.passphrase_prompt(), passphrase) {
        (Some(_), Some(p)) if !p.is_empty() => Some(p),
        (Some(prompt), _) => {
            return Err(ContainerError::PassphraseRequired(prompt.to_owned()).into());
        }
        (None, _) => None,
    };
    let _busy = service.busy.lock().await;
    let container = off_thread(move || {
        twofold_http::check_url(registration.server_url().as_str()).map_err(http_error)?;
        let key = ContainerKey::generate(&SystemRng::new()).map_err(ContainerError::from)?;
        let pending =
            registration.start(key, None, secret.as_ref().map(|s| s.as_str()), unix_now())?;
        let body = send(pending.request())?;
        Ok(pending.finish(&body, unix_now())?)
    })
    .await?;
    {
        let mut slot = ContainerService::lock(&service.pending)?;
        if slot.as_ref().is_some_and(|(i, _)| i == id) {
            *slot = None;
        }
    }
    let serial = container.serial.clone();
    // Registered on the server: keep the key even if the first sync fails.
    let backup = {
        let mut inner = state.get()?;
        let writer = state.begin_change(&mut inner)?;
        inner.vault_mut()?.add_container(container);
        state.save_vault(&mut inner, &writer)?
    };
    let sync = sync_locked(state, service, &serial, offer).await;
    let container = view(state, service, &serial)?;
    let (sync, backup2) = sync_view(&serial, sync);
    Ok((ContainerRegistered { container, sync }, backup.or(backup2)))
}

fn sync_view(
    serial: &str,
    r: AppResult<(ContainerSyncReport, Option<String>)>,
) -> (ContainerSyncView, Option<String>) {
    match r {
        Ok((r, backup)) => (
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
                error: None,
            },
            backup,
        ),
        Err(e) => (
            ContainerSyncView {
                serial: serial.to_owned(),
                added: Vec::new(),
                updated: Vec::new(),
                removed: Vec::new(),
                joined: Vec::new(),
                skipped: Vec::new(),
                error: Some(e.message),
            },
            None,
        ),
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

/// The stored container `serial` (a copy: the state's lock is released before any HTTP).
fn stored(state: &AppState, serial: &str) -> AppResult<Container> {
    let inner = state.get()?;
    inner
        .vault()?
        .container(serial)
        .map(|c| c.container.clone())
        .ok_or_else(|| not_found(serial))
}

/// Enrols a PUSH token a sync brought, through the push code (RSA key, `/ttype/push`).
fn enrol_push(uri: &str) -> AppResult<PushAccount> {
    let enrolment = Enrolment::parse(uri, unix_now())?;
    twofold_http::check_url(enrolment.url()).map_err(http_error)?;
    let key = PhoneKey::generate(&SystemRng::new())?;
    let pending = enrolment.start(key, None, unix_now())?;
    let body = send(pending.request())?;
    Ok(pending.finish(&body, unix_now())?)
}

/// One container's sync with the service's exchange lock held, all or nothing: the vault
/// changes only once every request (challenge, sync, each PUSH token's enrolment) succeeded.
/// `offer`: OTP accounts the user chose for the initial transfer (sent only when this sync is
/// it).
async fn sync_locked(
    state: &AppState,
    service: &ContainerService,
    serial: &str,
    offer: &[String],
) -> AppResult<(ContainerSyncReport, Option<String>)> {
    let r = sync_inner(state, serial, offer).await;
    service.record(serial, r.as_ref().err());
    if let Ok(mut a) = service.attempts.lock() {
        a.insert(serial.to_owned(), Instant::now());
    }
    r
}

async fn sync_inner(
    state: &AppState,
    serial: &str,
    offer: &[String],
) -> AppResult<(ContainerSyncReport, Option<String>)> {
    let (container, sent) = {
        let inner = state.get()?;
        let vault = inner.vault()?;
        let c = vault.container(serial).ok_or_else(|| not_found(serial))?;
        (
            c.container.clone(),
            vault.container_sync_tokens(serial, offer, unix_now())?,
        )
    };
    // Transport failures are the outer error; the protocol's own, the inner one.
    let exchange = off_thread(move || {
        let run = || -> AppResult<Result<_, ContainerError>> {
            let body = send(&container.challenge_request(Operation::Sync))?;
            let challenge = match container.read_challenge(Operation::Sync, &body) {
                Ok(c) => c,
                Err(e) => return Ok(Err(e)),
            };
            let pending = container.sync_offering(
                &challenge,
                &sent.report,
                sent.offers,
                &SystemRng::new(),
            )?;
            let body = send(pending.request())?;
            Ok(pending.finish(&body))
        };
        run()
    })
    .await?;
    let reply = match exchange {
        Ok(r) => r,
        Err(e) => {
            if e.is_unregistered() {
                // Gone from the server: unregistering here is no longer the server's to refuse.
                let mut inner = state.get()?;
                let writer = state.begin_change(&mut inner)?;
                inner.vault_mut()?.container_gone(serial);
                state.save_vault(&mut inner, &writer)?;
            }
            return Err(e.into());
        }
    };
    let push = {
        // Only the container's own PUSH tokens are enrolled (the others are skipped with the
        // reason by apply_container_sync): no key goes to another server.
        let uris: Vec<Zeroizing<String>> = state
            .get()?
            .vault()?
            .container_push_to_enrol(&reply)
            .into_iter()
            .map(|a| a.uri.clone())
            .collect();
        off_thread(move || uris.iter().map(|u| enrol_push(u)).collect()).await?
    };
    let mut inner = state.get()?;
    let writer = state.begin_change(&mut inner)?;
    let report =
        inner
            .vault_mut()?
            .apply_container_sync(&reply, push, unix_now(), &SystemRng::new())?;
    let backup = state.save_vault(&mut inner, &writer)?;
    Ok((report, backup))
}

/// Syncs `serial`, or every container; a failed one does not stop the others (its view says
/// why). Returns the reports and the failed backups' messages.
pub async fn sync(
    state: &AppState,
    service: &ContainerService,
    serial: Option<&str>,
) -> AppResult<(Vec<ContainerSyncView>, Vec<String>)> {
    let serials: Vec<String> = {
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
    for s in &serials {
        let (view, backup) = sync_view(s, sync_locked(state, service, s, &[]).await);
        views.push(view);
        backups.extend(backup);
    }
    Ok((views, backups))
}

/// Asks the server for a rollover of `serial` (allowed by its policy): the new registration
/// QR code's text. The exchange lock must be held.
async fn rollover_uri(state: &AppState, serial: &str) -> AppResult<String> {
    let container = stored(state, serial)?;
    if !container.policies.container_client_rollover {
        return Err(ContainerError::Forbidden("container_client_rollover (not set)").into());
    }
    off_thread(move || {
        let body = send(&container.challenge_request(Operation::Rollover))?;
        let challenge = container.read_challenge(Operation::Rollover, &body)?;
        let pending = container.rollover(&challenge)?;
        let body = send(pending.request())?;
        Ok(pending.finish(&body)?)
    })
    .await
}

/// "Move to a new phone": the `pia://container/` link, and as a QR code, for the other
/// device. This device's copy keeps working until the other one registers it. Whoever
/// registers the link takes the container's accounts: the password must have been entered
/// within the last minute (`AuthRequired`), as for an account's QR code.
pub async fn transfer(
    state: &AppState,
    service: &ContainerService,
    serial: &str,
) -> AppResult<ContainerTransfer> {
    state.get()?.require_recent_password(
        std::time::Instant::now(),
        "moving an organization's accounts to a new phone",
    )?;
    let _busy = service.busy.lock().await;
    let link = Zeroizing::new(rollover_uri(state, serial).await?);
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

/// Rollover in place: a new key on this device, then a sync (the server re-keys every token).
pub async fn rollover(
    state: &AppState,
    service: &ContainerService,
    serial: &str,
) -> AppResult<(ContainerSyncView, Option<String>)> {
    let _busy = service.busy.lock().await;
    let uri = Zeroizing::new(rollover_uri(state, serial).await?);
    let registration = Registration::parse(&uri, unix_now())?;
    drop(uri);
    if registration.serial() != serial {
        return Err(
            ContainerError::Response("the rollover QR names another container".into()).into(),
        );
    }
    if let Some(prompt) = registration.passphrase_prompt() {
        return Err(ContainerError::PassphraseRequired(prompt.to_owned()).into());
    }
    let renewed = off_thread(move || {
        twofold_http::check_url(registration.server_url().as_str()).map_err(http_error)?;
        let key = ContainerKey::generate(&SystemRng::new()).map_err(ContainerError::from)?;
        let pending = registration.start(key, None, None, unix_now())?;
        let body = send(pending.request())?;
        Ok(pending.finish(&body, unix_now())?)
    })
    .await?;
    // The old key stopped working: the new one is kept whatever the sync does.
    let backup = {
        let mut inner = state.get()?;
        let writer = state.begin_change(&mut inner)?;
        inner.vault_mut()?.add_container(renewed);
        state.save_vault(&mut inner, &writer)?
    };
    let (view, backup2) = sync_view(serial, sync_locked(state, service, serial, &[]).await);
    Ok((view, backup.or(backup2)))
}

/// Unregisters `serial` on the server (when its policy allows) and removes it and every
/// account it manages from this device. Returns the serials removed and the failed backup.
pub async fn unregister(
    state: &AppState,
    service: &ContainerService,
    serial: &str,
) -> AppResult<(Vec<String>, Option<String>)> {
    let _busy = service.busy.lock().await;
    let container = stored(state, serial)?;
    if container.policies.disable_client_container_unregister {
        return Err(ContainerError::Forbidden("disable_client_container_unregister").into());
    }
    off_thread(move || {
        let body = send(&container.challenge_request(Operation::Unregister))?;
        match container.read_challenge(Operation::Unregister, &body) {
            Ok(ch) => {
                let pending = container.unregister(&ch)?;
                let reply = twofold_http::send(pending.request()).map_err(http_error)?;
                pending.finish_with_status(reply.status, &reply.body)?;
                Ok(())
            }
            // Already unregistered on the server (ERR3001, ERR601).
            Err(e) if e.is_unregistered() => Ok(()),
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    let mut inner = state.get()?;
    let writer = state.begin_change(&mut inner)?;
    let removed = inner
        .vault_mut()?
        .remove_container(serial, crate::state::unix_now())?;
    let backup = state.save_vault(&mut inner, &writer)?;
    service.record(serial, None);
    Ok((
        removed.tokens.into_iter().map(|t| t.serial).collect(),
        backup,
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
    let state = app.state::<AppState>();
    let service = app.state::<ContainerService>();
    match tauri::async_runtime::block_on(sync(&state, &service, serial)) {
        Ok((views, backups)) => {
            for b in backups {
                crate::commands::report_backup(app, Some(b));
            }
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
