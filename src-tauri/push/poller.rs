//! Polling: one round over every push account (requests signed under the state's lock, sent
//! without it, replies read under it again), and the background poller of the app.

use std::collections::HashSet;
use std::time::Duration;

use tauri::{AppHandle, Manager, Runtime};
use twofold_core::push::PollError;
use twofold_core::vault::{PollFailed, PollFailure, PollRound, PushKeyring};
use twofold_http::HttpError;

use super::PushService;
use super::collapse::{challenge_view, collapse, muted_until, pending_views};
pub use super::notifier::PollReport;
use crate::dto::{PushChallengeView, PushPollFailure, PushPollStatus};
use crate::error::{AppError, AppResult};
use crate::platform::keys::DeviceKeys;
use crate::state::{AppState, Inner, unix_now};
use crate::store::Write;
use crate::support::http_error;

/// How often the push accounts are polled.
pub const PUSH_POLL_EVERY: Duration = Duration::from_secs(3);
/// At most this many notified nonces are remembered (then the set starts over; a nonce lives
/// two minutes, so an old one cannot come back).
const NOTIFIED_MAX: usize = 10_000;

fn failure_view(serial: &str, e: &PollFailure<HttpError>) -> PushPollFailure {
    PushPollFailure {
        serial: serial.to_owned(),
        message: e.to_string(),
        clock_off: matches!(e, PollFailure::Poll(PollError::ClockOff(_))),
    }
}

fn status_of(failures: Vec<PushPollFailure>) -> PushPollStatus {
    PushPollStatus {
        at: unix_now(),
        clock_off: failures.iter().any(|f| f.clock_off),
        failures,
    }
}

/// The error of a round where every account failed: the first failure's kind.
fn round_error(failed: PollFailed<HttpError>) -> AppError {
    let message = failed.to_string();
    let kind = match failed.0.into_iter().next() {
        Some((_, PollFailure::Send(e))) => http_error(e).kind,
        Some((_, PollFailure::Poll(e))) => AppError::from(e).kind,
        None => crate::error::ErrorKind::Internal,
    };
    AppError::new(kind, message)
}

/// The accounts whose poll the server itself refused (not a transport failure, not the clock).
fn refused(failed: &[(String, PollFailure<HttpError>)]) -> impl Iterator<Item = &str> {
    failed.iter().filter_map(|(serial, e)| {
        matches!(e, PollFailure::Poll(PollError::Server(_))).then_some(serial.as_str())
    })
}

/// The poll status and the first part of the report from one round of replies, the vault's
/// or the keyring's: a round in which every account failed is the error (and the status).
fn begin_report(
    service: &PushService,
    round: Result<PollRound<HttpError>, PollFailed<HttpError>>,
) -> AppResult<(PollRound<HttpError>, PollReport)> {
    let round = match round {
        Ok(round) => round,
        Err(failed) => {
            let status = status_of(failed.0.iter().map(|(s, e)| failure_view(s, e)).collect());
            service.set_status(status)?;
            return Err(round_error(failed));
        }
    };
    let mut report = PollReport::default();
    let status = status_of(
        round
            .failed
            .iter()
            .map(|(s, e)| failure_view(s, e))
            .collect(),
    );
    if service.set_status(status.clone())? {
        report.status_changed = Some(status);
    }
    report.rejected = round
        .rejected
        .iter()
        .map(|(serial, r)| format!("{serial}: {r}"))
        .collect();
    Ok((round, report))
}

/// Polls every push account now (blocking: HTTP), verifies and stores what arrives, and
/// reports what to show. The state's lock is not held while the requests travel, nor while
/// the vault file's writer lock is waited for ([`AppState::change_in_background`]); the
/// vault file is read again only when another program changed it. Fails only when every
/// account's poll failed; either way the service's poll status says how it went.
pub fn poll_blocking(state: &AppState, service: &PushService) -> AppResult<PollReport> {
    let requests = state.get()?.vault()?.poll_requests(unix_now());
    let replies = twofold_http::poll_all(requests);
    let now = unix_now();
    let (changed, mut inner) = state.change_in_background(|inner| {
        let read = inner.vault_mut()?.read_poll_replies(replies, now);
        // A container's push token with news (a new challenge; a poll the server refused, as it
        // does once the token was re-keyed or left the container) gets its container synced: the
        // server's poll never says that a container changed (docs/containers.md).
        let news: Vec<&str> = match &read {
            Ok(round) => round
                .new
                .iter()
                .map(|(_, serial)| serial.as_str())
                .chain(refused(&round.failed))
                .collect(),
            Err(failed) => refused(&failed.0).collect(),
        };
        let nudged = inner.vault()?.containers_of_push(news);
        if !nudged.is_empty() {
            service.nudge(nudged)?;
        }
        let (round, report) = begin_report(service, read)?;
        // Saved when something new arrived (not the person's activity: polling must not keep
        // the vault from locking on idle).
        let write = Write::when(!round.new.is_empty());
        Ok((report, write))
    })?;
    let mut report = changed.value;
    report.backup = changed.backup;
    (report.views, report.new) = tell_unlocked(&mut inner, now)?;
    Ok(report)
}

/// What to show with the vault open, and which views hold a challenge never told before: the
/// one record of told nonces (`Inner::notified`) whichever way a challenge came (a poll, a
/// pushed message), so each is notified once.
pub(crate) fn tell_unlocked(
    inner: &mut Inner,
    now: u64,
) -> AppResult<(Vec<PushChallengeView>, Vec<PushChallengeView>)> {
    let views = pending_views(inner, now)?;
    if inner.notified.len() > NOTIFIED_MAX {
        inner.notified.clear();
    }
    // A view is new when a challenge of its account (shown, so not muted) was never told
    // (one that arrived while its account was muted is told once the mute ends).
    let mut fresh_serials = HashSet::new();
    let pending: Vec<(String, String)> = inner
        .vault()?
        .pending_challenges(now)
        .iter()
        .map(|c| (c.nonce().to_owned(), c.serial().to_owned()))
        .collect();
    for (nonce, serial) in pending {
        if muted_until(&inner.prefs.push_muted, &serial, now).is_none()
            && inner.notified.insert(nonce)
        {
            fresh_serials.insert(serial);
        }
    }
    let new = views_of(&views, &fresh_serials);
    Ok((views, new))
}

/// [`tell_unlocked`] while locked, from what the keyring received.
pub(crate) fn tell_locked(
    inner: &mut Inner,
    ring: &PushKeyring,
    now: u64,
) -> (Vec<PushChallengeView>, Vec<PushChallengeView>) {
    let shown: Vec<_> = ring
        .pending_challenges(now)
        .into_iter()
        .filter(|c| muted_until(&inner.prefs.push_muted, c.serial(), now).is_none())
        .collect();
    let views = collapse(
        shown
            .iter()
            .map(|c| challenge_view(c, ring.account(c.serial())))
            .collect(),
    );
    if inner.notified.len() > NOTIFIED_MAX {
        inner.notified.clear();
    }
    let mut fresh_serials = HashSet::new();
    for c in &shown {
        if inner.notified.insert(c.nonce().to_owned()) {
            fresh_serials.insert(c.serial().to_owned());
        }
    }
    let new = views_of(&views, &fresh_serials);
    (views, new)
}

/// A poll run by the `push_poll` command (off the async workers), its news told as a
/// background poll's would be.
pub async fn poll_now<R: Runtime>(app: &AppHandle<R>) -> AppResult<PollReport> {
    let handle = app.clone();
    let result = crate::support::off_thread(move || {
        let polled = poll_blocking(&handle.state::<AppState>(), &handle.state::<PushService>());
        super::locked::refresh_app(&handle);
        polled
    })
    .await;
    if result.is_err() {
        super::notifier::tell_status(app);
    }
    result
}

/// Polls the push accounts once while the vault is locked, with the keyring kept for that
/// ([`super::locked`]): the same verification, the same once-per-nonce bookkeeping of what
/// was told, muted accounts left out. The challenges stay in the keyring until an unlock
/// hands them to the vault. Nothing to do without a keyring or once the vault is open.
pub fn poll_locked(state: &AppState, service: &PushService) -> AppResult<PollReport> {
    let requests = match PushService::lock(&service.keyring)?.as_ref() {
        Some(ring) => ring.poll_requests(unix_now()),
        None => return Ok(PollReport::default()),
    };
    let replies = twofold_http::poll_all(requests);
    let now = unix_now();
    let mut live = PushService::lock(&service.keyring)?;
    let Some(ring) = live.as_mut() else {
        return Ok(PollReport::default());
    };
    let (_, mut report) = begin_report(service, ring.read_poll_replies(replies, now))?;
    let mut inner = state.get()?;
    if inner.vault.is_some() {
        // Unlocked meanwhile: the vault's own poll takes over (the server lists them again).
        return Ok(PollReport::default());
    }
    (report.views, report.new) = tell_locked(&mut inner, ring, now);
    Ok(report)
}

/// Polls the push accounts every `every`, in the foreground and in the background (a
/// minimized window, the tray), and at once (within a quarter second) after an unlock or a
/// resume: with the vault while it is unlocked, with the keyring while it is locked and
/// polling while locked is on ([`super::locked`]). New verified challenges go to the UI
/// (`push-challenges`) and raise a notification, once per nonce. A failed poll is retried on
/// the next tick; the UI hears of it (`push-poll-status`).
pub fn spawn<R: Runtime>(app: AppHandle<R>, every: Duration) {
    std::thread::spawn(move || {
        let step = Duration::from_millis(250).min(every);
        loop {
            let state = app.state::<AppState>();
            let mut waited = Duration::ZERO;
            while waited < every && !state.take_poll_request() {
                std::thread::sleep(step);
                waited += step;
            }
            let Ok((unlocked, while_locked)) = state.get().map(|i| {
                let keys = app.try_state::<DeviceKeys>();
                (
                    i.vault.is_some(),
                    super::locked::enabled(&i, keys.as_deref()),
                )
            }) else {
                continue;
            };
            let service = app.state::<PushService>();
            let polled = if unlocked {
                let polled = poll_blocking(&state, &service);
                super::locked::refresh_app(&app);
                polled
            } else if while_locked {
                poll_locked(&state, &service)
            } else {
                continue;
            };
            match polled {
                Ok(report) => {
                    for view in super::notifier::announce(&app, report) {
                        super::notifier::notify(&app, &view);
                    }
                }
                Err(_) => super::notifier::tell_status(&app),
            }
        }
    });
}

/// The views of the accounts in `serials`: what a round tells as new.
fn views_of(views: &[PushChallengeView], serials: &HashSet<String>) -> Vec<PushChallengeView> {
    views
        .iter()
        .filter(|v| serials.contains(&v.serial))
        .cloned()
        .collect()
}
