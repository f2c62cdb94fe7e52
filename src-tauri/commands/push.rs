//! Push sign-in approvals (docs/ipc-push.md): the core builds and reads privacyIDEA's
//! messages and keeps the vault's bookkeeping; this module carries them over HTTP (reqwest,
//! rustls, as the CLI's `twofold push`) without holding the state's lock while it waits,
//! collapses and mutes prompts, and enrols a scanned `pipush` QR code.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use tauri::{AppHandle, Emitter, Runtime, State};
use twofold_core::push::privacyidea::Enrolment;
use twofold_core::push::{
    Activity, Answer, Challenge, DeclineReason as CoreReason, Location, Method, PhoneKey,
    PushAccount, Request,
};
use twofold_core::rng::SystemRng;
use zeroize::Zeroizing;

use crate::dto::{
    ActivityView, AddResult, DeclineReason, EVENT_PUSH_CHALLENGES, LocationView, PushAccountView,
    PushAnswerView, PushChallengeView, PushDecision,
};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::state::{AppState, Inner, unix_now};

/// How long one HTTP exchange may take.
const TIMEOUT: Duration = Duration::from_secs(20);
/// Prompts of one account this close together (seconds) collapse into one with a count.
pub const COLLAPSE_SECS: u64 = 60;
/// Approving a sign-in that requires device authentication needs the vault password entered
/// this recently (seconds) on platforms without biometrics.
pub const AUTH_FRESH_SECS: u64 = 60;
/// Longest mute: a week.
pub const MUTE_MAX_MINUTES: u32 = 7 * 24 * 60;
/// At most this many notified nonces are remembered (then the set starts over; a nonce lives
/// two minutes, so an old one cannot come back).
const NOTIFIED_MAX: usize = 10_000;

/// Sends a request (blocking: call it off the async runtime's workers) and returns the
/// reply's body whatever its HTTP status (privacyIDEA puts its errors in a JSON body). TLS
/// certificates are checked unless the server said otherwise (`sslverify=0`).
pub(crate) fn send(request: &Request) -> AppResult<Vec<u8>> {
    let fail = |e: reqwest::Error| {
        AppError::new(
            ErrorKind::Network,
            format!(
                "cannot reach {}: {}",
                request.url,
                describe(&e.without_url())
            ),
        )
    };
    let client = reqwest::blocking::Client::builder()
        .danger_accept_invalid_certs(!request.verify_tls)
        .timeout(TIMEOUT)
        .user_agent(concat!("twofold/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(fail)?;
    let builder = match request.method {
        Method::Get => client.get(&request.url).query(&request.params),
        Method::Post => client.post(&request.url).form(&request.params),
    };
    let reply = builder.send().map_err(fail)?;
    Ok(reply.bytes().map_err(fail)?.to_vec())
}

/// The error and its causes on one line.
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Runs blocking work (HTTP, RSA key generation) off the async runtime's workers.
async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| AppError::internal(format!("a background task failed: {e}")))?
}

fn muted_until(muted: &BTreeMap<String, u64>, serial: &str, now: u64) -> Option<u64> {
    muted.get(serial).copied().filter(|&until| until > now)
}

fn account_view(a: &PushAccount, muted: &BTreeMap<String, u64>, now: u64) -> PushAccountView {
    PushAccountView {
        serial: a.serial.clone(),
        issuer: a.issuer.clone(),
        label: a.label.clone(),
        url: a.url.clone(),
        requires_unlock: a.requires_unlock(),
        enrolled_at: a.enrolled_at,
        muted_until: muted_until(muted, &a.serial, now),
        insecure_tls: !a.verify_tls,
    }
}

fn challenge_view(c: &Challenge, account: Option<&PushAccount>) -> PushChallengeView {
    PushChallengeView {
        nonce: c.nonce().to_owned(),
        serial: c.serial().to_owned(),
        issuer: account.map(|a| a.issuer.clone()).unwrap_or_default(),
        label: account.map(|a| a.label.clone()).unwrap_or_default(),
        title: c.title().to_owned(),
        question: c.question().to_owned(),
        options: c.options().map(<[String]>::to_vec),
        decline_reasons: c.decline_reasons(),
        received_at: c.received_at(),
        expires_at: c.expires_at(),
        count: 1,
        requires_unlock: account.is_some_and(PushAccount::requires_unlock),
    }
}

/// Collapses the prompts of one account that arrived within [`COLLAPSE_SECS`] of the one
/// before into one: the newest (answering it answers that nonce; the older ones stay
/// pending and show next), with `count` saying how many there were. Oldest group first.
pub fn collapse(mut views: Vec<PushChallengeView>) -> Vec<PushChallengeView> {
    views.sort_by(|a, b| {
        (a.serial.as_str(), a.received_at, a.nonce.as_str()).cmp(&(
            b.serial.as_str(),
            b.received_at,
            b.nonce.as_str(),
        ))
    });
    let mut out: Vec<PushChallengeView> = Vec::new();
    for v in views {
        match out.last_mut() {
            Some(last)
                if last.serial == v.serial
                    && v.received_at.saturating_sub(last.received_at) <= COLLAPSE_SECS =>
            {
                let count = last.count.saturating_add(1);
                *last = PushChallengeView { count, ..v };
            }
            _ => out.push(v),
        }
    }
    out.sort_by(|a, b| (a.received_at, &a.nonce).cmp(&(b.received_at, &b.nonce)));
    out
}

/// The pending, unexpired, unanswered challenges of accounts not muted, one view per
/// collapsed group.
pub(crate) fn pending_views(inner: &Inner, now: u64) -> AppResult<Vec<PushChallengeView>> {
    let vault = inner.vault()?;
    let views = vault
        .pending_challenges(now)
        .into_iter()
        .filter(|c| muted_until(&inner.prefs.push_muted, c.serial(), now).is_none())
        .map(|c| challenge_view(c, vault.push_account(c.serial())))
        .collect();
    Ok(collapse(views))
}

/// What one poll of every push account found.
#[derive(Debug, Default)]
pub(crate) struct PollReport {
    /// Everything to show now (collapsed, not muted).
    pub views: Vec<PushChallengeView>,
    /// The views with a challenge the UI was not told about before (notify these).
    pub new: Vec<PushChallengeView>,
    /// The automatic backup after saving failed with this message.
    pub backup_failure: Option<String>,
    /// Challenges refused by verification, with the reason (never shown as prompts).
    pub rejected: Vec<String>,
}

/// Polls every push account now (blocking: HTTP), verifies and stores what arrives, and
/// reports what to show. The state's lock is not held while the requests travel. Fails only
/// when every account's poll failed.
pub(crate) fn poll_blocking(state: &AppState) -> AppResult<PollReport> {
    let requests = state.get()?.vault()?.poll_requests(unix_now());
    let total = requests.len();
    let replies: Vec<(String, AppResult<Vec<u8>>)> = requests
        .into_iter()
        .map(|(serial, r)| {
            let body = r.map_err(AppError::from).and_then(|r| send(&r));
            (serial, body)
        })
        .collect();
    let mut inner = state.get()?;
    let now = unix_now();
    let before: Vec<String> = inner
        .vault()?
        .pending_challenges(now)
        .iter()
        .map(|c| c.nonce().to_owned())
        .collect();
    let mut failures: Vec<AppError> = Vec::new();
    let mut report = PollReport::default();
    for (serial, body) in replies {
        let outcome = body.and_then(|b| {
            inner
                .vault_mut()?
                .read_poll_reply(&serial, &b, now)
                .map_err(AppError::from)
        });
        match outcome {
            Ok(o) => report
                .rejected
                .extend(o.rejected.into_iter().map(|r| format!("{serial}: {r}"))),
            Err(e) => failures.push(AppError::new(e.kind, format!("{serial}: {}", e.message))),
        }
    }
    if total > 0 && failures.len() == total {
        let kind = failures[0].kind;
        let message = failures
            .iter()
            .map(|f| f.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(AppError::new(kind, message));
    }
    let pending: Vec<(String, String)> = inner
        .vault()?
        .pending_challenges(now)
        .iter()
        .map(|c| (c.nonce().to_owned(), c.serial().to_owned()))
        .collect();
    if pending.iter().any(|(n, _)| !before.contains(n)) {
        // Saving is not user activity: polling must not keep the vault from locking on idle.
        let idle_since = inner.last_activity;
        report.backup_failure = state.save_vault(&mut inner)?;
        inner.last_activity = idle_since;
    }
    report.views = pending_views(&inner, now)?;
    if inner.notified.len() > NOTIFIED_MAX {
        inner.notified.clear();
    }
    // A view is new when a challenge of its account (shown, so not muted) was never told.
    let mut fresh_serials = HashSet::new();
    for (nonce, serial) in pending {
        if muted_until(&inner.prefs.push_muted, &serial, now).is_none()
            && inner.notified.insert(nonce)
        {
            fresh_serials.insert(serial);
        }
    }
    report.new = report
        .views
        .iter()
        .filter(|v| fresh_serials.contains(&v.serial))
        .cloned()
        .collect();
    Ok(report)
}

/// Tells the UI what a background poll found: `push-challenges` with everything to show when
/// something new arrived, and a failed automatic backup. Returns the views to notify.
pub(crate) fn announce<R: Runtime>(
    app: &AppHandle<R>,
    report: PollReport,
) -> Vec<PushChallengeView> {
    super::report_backup(app, report.backup_failure);
    if !report.new.is_empty() {
        // Nobody to tell when the webview is gone; the notification still goes out.
        let _ = app.emit(EVENT_PUSH_CHALLENGES, &report.views);
    }
    report.new
}

/// The enrolled push accounts.
#[tauri::command]
pub async fn push_accounts(state: State<'_, AppState>) -> AppResult<Vec<PushAccountView>> {
    let inner = state.get()?;
    let now = unix_now();
    Ok(inner
        .vault()?
        .push_accounts()
        .iter()
        .map(|a| account_view(a, &inner.prefs.push_muted, now))
        .collect())
}

/// Polls every push account now and returns what waits for an answer. Challenges that fail
/// verification are never shown; when some did and nothing else waits, `Verification`.
#[tauri::command]
pub async fn push_poll<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> AppResult<Vec<PushChallengeView>> {
    state.get()?.vault()?;
    let report = {
        let app = app.clone();
        off_thread(move || {
            use tauri::Manager;
            poll_blocking(&app.state::<AppState>())
        })
        .await?
    };
    super::report_backup(&app, report.backup_failure);
    if report.views.is_empty() && !report.rejected.is_empty() {
        return Err(AppError::new(
            ErrorKind::Verification,
            format!(
                "refused sign-in requests that failed verification: {}",
                report.rejected.join("; ")
            ),
        ));
    }
    Ok(report.views)
}

/// What waits for an answer, from the vault (no network).
#[tauri::command]
pub async fn push_pending(state: State<'_, AppState>) -> AppResult<Vec<PushChallengeView>> {
    let inner = state.get()?;
    pending_views(&inner, unix_now())
}

fn core_answer(
    decision: PushDecision,
    answer: Option<String>,
    reason: Option<DeclineReason>,
) -> AppResult<Answer> {
    Ok(match decision {
        PushDecision::Approve => {
            if reason.is_some() {
                return Err(AppError::invalid("a reason goes with a denial only"));
            }
            Answer::Accept { option: answer }
        }
        PushDecision::Deny => Answer::Decline {
            reason: reason.map(|r| match r {
                DeclineReason::UnknownTrigger => CoreReason::UnknownTrigger,
                DeclineReason::Cancelled => CoreReason::Cancelled,
            }),
        },
    })
}

/// Checks device authentication before approving for an account that requires it. Desktop
/// (and phones until the device-key slot exists): the vault password entered within
/// [`AUTH_FRESH_SECS`].
pub(crate) fn check_auth(inner: &Inner, requires_unlock: bool, now: Instant) -> AppResult<()> {
    if !requires_unlock {
        return Ok(());
    }
    let fresh = inner.password_at.is_some_and(|at| {
        now.saturating_duration_since(at) <= Duration::from_secs(AUTH_FRESH_SECS)
    });
    if fresh {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorKind::AuthRequired,
            format!(
                "this account asks for device authentication before approving: enter the vault password (unlock again), then approve within {AUTH_FRESH_SECS} seconds"
            ),
        ))
    }
}

/// Answers the sign-in request `nonce`: the decision (and the location, when given) go to the
/// activity log; the nonce is never answered again.
#[tauri::command]
pub async fn push_answer<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    nonce: String,
    decision: PushDecision,
    answer: Option<String>,
    reason: Option<DeclineReason>,
    location: Option<LocationView>,
) -> AppResult<PushAnswerView> {
    let core = core_answer(decision, answer, reason)?;
    let pending = {
        let inner = state.get()?;
        let vault = inner.vault()?;
        let pending = vault.prepare_answer(&nonce, core, unix_now())?;
        if decision == PushDecision::Approve {
            let requires = vault
                .push_account(pending.serial())
                .is_some_and(PushAccount::requires_unlock);
            check_auth(&inner, requires, Instant::now())?;
        }
        pending
    };
    let request = pending.request().clone();
    let body = off_thread(move || send(&request)).await?;
    let mut inner = state.get()?;
    let location = location.map(|l| Location {
        latitude: l.latitude,
        longitude: l.longitude,
        accuracy_m: l.accuracy_m,
    });
    // The answer reached the server: its nonce is spent (and logged) even when the server
    // refused it, so the vault is saved whatever the reply.
    let outcome = inner
        .vault_mut()?
        .finish_answer(&pending, &body, location, unix_now());
    let backup = state.save_vault(&mut inner)?;
    super::report_backup(&app, backup);
    let outcome = outcome?;
    Ok(PushAnswerView {
        accepted: outcome.accepted,
        display_code: outcome.display_code,
    })
}

/// Hides the prompts of one push account for `minutes` (0 shows them again).
#[tauri::command]
pub async fn push_mute(state: State<'_, AppState>, serial: String, minutes: u32) -> AppResult<()> {
    if minutes > MUTE_MAX_MINUTES {
        return Err(AppError::invalid(format!(
            "mute for at most {MUTE_MAX_MINUTES} minutes"
        )));
    }
    let mut inner = state.get()?;
    if inner.vault()?.push_account(&serial).is_none() {
        return Err(AppError::new(
            ErrorKind::NotFound,
            format!("no push account {serial}"),
        ));
    }
    let mut prefs = inner.prefs.clone();
    let now = unix_now();
    prefs.push_muted.retain(|_, until| *until > now);
    if minutes == 0 {
        prefs.push_muted.remove(&serial);
    } else {
        prefs
            .push_muted
            .insert(serial, now.saturating_add(u64::from(minutes) * 60));
    }
    state.save_prefs(&prefs)?;
    inner.prefs = prefs;
    Ok(())
}

fn activity_view(a: &Activity, account: Option<&PushAccount>) -> ActivityView {
    let (decision, answer, reason) = match &a.answer {
        Answer::Accept { option } => (PushDecision::Approve, option.clone(), None),
        Answer::Decline { reason } => (
            PushDecision::Deny,
            None,
            reason.map(|r| match r {
                CoreReason::UnknownTrigger => DeclineReason::UnknownTrigger,
                CoreReason::Cancelled => DeclineReason::Cancelled,
            }),
        ),
    };
    ActivityView {
        at: a.at,
        serial: a.serial.clone(),
        issuer: account.map(|x| x.issuer.clone()).unwrap_or_default(),
        label: account.map(|x| x.label.clone()).unwrap_or_default(),
        title: a.title.clone(),
        question: a.question.clone(),
        decision,
        answer,
        reason,
        accepted: a.accepted,
        location: a.location.map(|l| LocationView {
            latitude: l.latitude,
            longitude: l.longitude,
            accuracy_m: l.accuracy_m,
        }),
    }
}

/// The sign-in activity log, newest first.
#[tauri::command]
pub async fn push_activity(state: State<'_, AppState>) -> AppResult<Vec<ActivityView>> {
    let inner = state.get()?;
    let vault = inner.vault()?;
    Ok(vault
        .push_activity()
        .iter()
        .rev()
        .map(|a| activity_view(a, vault.push_account(&a.serial)))
        .collect())
}

/// Removes a push account from this device (its pending requests too). The token stays
/// enrolled on the server until its administrator deletes it.
#[tauri::command]
pub async fn push_remove<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    serial: String,
) -> AppResult<()> {
    let mut inner = state.get()?;
    inner.vault_mut()?.remove_push_account(&serial)?;
    let backup = state.save_vault(&mut inner)?;
    super::report_backup(&app, backup);
    if inner.prefs.push_muted.contains_key(&serial) {
        let mut prefs = inner.prefs.clone();
        prefs.push_muted.remove(&serial);
        // The mute of a removed account is harmless if it cannot be forgotten now.
        if state.save_prefs(&prefs).is_ok() {
            inner.prefs = prefs;
        }
    }
    Ok(())
}

/// Enrols a scanned privacyIDEA `pipush` QR code: a new RSA-4096 phone key (a few seconds,
/// off the async workers), the registration request, the server's reply checked, and only
/// then the vault saved with the new push account. A failed enrolment saves nothing.
pub(crate) async fn enrol<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    uri: Zeroizing<String>,
) -> AppResult<AddResult> {
    let enrolment = Enrolment::parse(&uri, unix_now())?;
    drop(uri);
    state.get()?.vault()?;
    let account = off_thread(move || {
        let key = PhoneKey::generate(&SystemRng::new())?;
        let pending = enrolment.start(key, None, unix_now())?;
        let body = send(pending.request())?;
        Ok(pending.finish(&body, unix_now())?)
    })
    .await?;
    let serial = account.serial.clone();
    let mut inner = state.get()?;
    inner.vault_mut()?.add_push_account(account);
    let backup = state.save_vault(&mut inner)?;
    super::report_backup(app, backup);
    Ok(AddResult {
        push_enrolment: Some(serial),
        ..AddResult::default()
    })
}
