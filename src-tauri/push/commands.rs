//! Push sign-in approvals (docs/ipc-push.md): one-line delegations to the push service in
//! `src-tauri/push/`.

use tauri::{AppHandle, Runtime, State};
use twofold_core::push::privacyidea::Enrolment;
use zeroize::Zeroizing;

use crate::dto::{
    ActivityView, AddResult, DeclineReason, LocationView, NotificationAction, NotificationOutcome,
    PushAccountView, PushAnswerView, PushChallengeView, PushDecision, PushEnrolPreview,
    PushPollStatus,
};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::push::{PushService, answer, collapse, enrol, poller};
use crate::state::{AppState, unix_now};

pub use crate::push::answer::AUTH_FRESH_SECS;
pub use crate::push::collapse::{COLLAPSE_SECS, collapse};

/// Longest mute: a week.
pub const MUTE_MAX_MINUTES: u32 = 7 * 24 * 60;

/// The enrolled push accounts.
#[tauri::command]
pub async fn push_accounts(state: State<'_, AppState>) -> AppResult<Vec<PushAccountView>> {
    collapse::accounts(&*state.get()?, unix_now())
}

/// Polls every push account now and returns what waits for an answer. Challenges that fail
/// verification are never shown; when some did and nothing else waits, `Verification`.
#[tauri::command]
pub async fn push_poll<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> AppResult<Vec<PushChallengeView>> {
    state.get()?.vault()?;
    let mut report = poller::poll_now(&app).await?;
    report.new.clear();
    let (views, rejected) = (report.views.clone(), std::mem::take(&mut report.rejected));
    crate::push::notifier::announce(&app, report);
    if views.is_empty() && !rejected.is_empty() {
        return Err(AppError::new(
            ErrorKind::Verification,
            format!(
                "refused sign-in requests that failed verification: {}",
                rejected.join("; ")
            ),
        ));
    }
    Ok(views)
}

/// How the last poll went: the accounts that failed and why, a clock that is off.
#[tauri::command]
pub async fn push_poll_status(service: State<'_, PushService>) -> AppResult<PushPollStatus> {
    service.status()
}

/// What waits for an answer, from the vault (no network).
#[tauri::command]
pub async fn push_pending(state: State<'_, AppState>) -> AppResult<Vec<PushChallengeView>> {
    collapse::pending_views(&*state.get()?, unix_now())
}

/// Answers the sign-in request `nonce` once: the decision (and the location, when given) go
/// to the activity log; the nonce is never answered again, even by two calls at once.
#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn push_answer<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    service: State<'_, PushService>,
    nonce: String,
    decision: PushDecision,
    answer: Option<String>,
    reason: Option<DeclineReason>,
    location: Option<LocationView>,
) -> AppResult<PushAnswerView> {
    let args = answer::AnswerArgs {
        nonce,
        answer: answer::core_answer(decision, answer, reason)?,
        approve: decision == PushDecision::Approve,
        location,
    };
    let (view, backup) = answer::answer(&state, &service, args).await?;
    backup.report(&app);
    Ok(view)
}

/// What the user did with the sign-in notification `id` (the UI forwards the notification
/// plugin's `actionPerformed`): a tap opens the request (`push-open`), Approve/Deny answer it with the
/// screen's checks, or open it when only the screen can (number matching, device
/// authentication, a locked vault).
#[tauri::command]
pub async fn push_notification_action<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    service: State<'_, PushService>,
    action: NotificationAction,
    id: i32,
) -> AppResult<NotificationOutcome> {
    crate::push::notifier::act(&app, &state, &service, action, id).await
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

/// The sign-in activity log, newest first.
#[tauri::command]
pub async fn push_activity(state: State<'_, AppState>) -> AppResult<Vec<ActivityView>> {
    collapse::activity(&*state.get()?)
}

/// Removes a push account from this device (its pending requests too). The token stays
/// enrolled on the server until its administrator deletes it. A container's push token is
/// refused (`Forbidden`) while its server forbids deleting container tokens, and otherwise
/// leaves its container here too (the next sync no longer reports it).
#[tauri::command]
pub async fn push_remove<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    serial: String,
) -> AppResult<()> {
    let mut inner = state.get()?;
    state.change(&app, &mut inner, |vault| {
        Ok(vault.remove_push_account(&serial)?)
    })?;
    if inner.prefs.push_muted.contains_key(&serial) {
        let mut prefs = inner.prefs.clone();
        prefs.push_muted.remove(&serial);
        // The mute of a removed account is harmless if it cannot be forgotten now.
        if state.save_prefs(&prefs).is_ok() {
            inner.prefs = prefs;
        }
    }
    drop(inner);
    crate::push::locked::refresh_app(&app);
    Ok(())
}

/// Reads a privacyIDEA `pipush` QR code for the confirmation screen: server host, issuer,
/// label and warnings. Sends nothing.
#[tauri::command]
pub async fn push_enrol_preview(
    service: State<'_, PushService>,
    uri: Zeroizing<String>,
) -> AppResult<PushEnrolPreview> {
    let enrolment = Enrolment::parse(&uri, unix_now())?;
    drop(uri);
    enrol::preview(&service, enrolment)
}

/// Enrols the previewed QR code the user confirmed (the only way a push enrolment is sent).
#[tauri::command]
pub async fn push_enrol_confirm<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    service: State<'_, PushService>,
    id: String,
) -> AppResult<AddResult> {
    let (result, backup) = enrol::confirm(&state, &service, &id).await?;
    backup.report(&app);
    crate::push::locked::refresh_app(&app);
    Ok(result)
}

/// This device's push registration: whether sign-in requests are pushed to it (Settings).
#[tauri::command]
pub async fn push_registration(
    service: State<'_, PushService>,
    delivery: State<'_, crate::push::delivery::PushDelivery>,
) -> AppResult<crate::dto::PushRegistrationView> {
    crate::push::delivery::view(&service, &delivery)
}

/// Forgets the previewed QR code (the user cancelled).
#[tauri::command]
pub async fn push_enrol_cancel(service: State<'_, PushService>, id: String) -> AppResult<()> {
    enrol::cancel(&service, &id)
}
