//! Telling the user: events to the UI, local notifications of new sign-in requests.
//!
//! How a notification leads back into the app, per platform:
//!
//! | | tap | Approve / Deny buttons |
//! |---|---|---|
//! | Android | the plugin's `actionPerformed` listener (`actionId` "tap"), which the UI registers and forwards to `push_notification_action`; Rust emits `push-open`. A tap that starts the app from cold is delivered before the UI listens and is lost; the app then shows the pending request after unlock, as on desktop | `actionPerformed` with "approve"/"deny", forwarded the same way; Rust answers with the screen's checks |
//! | iOS | the same listener (`UNNotificationDefaultActionIdentifier` arrives as "tap") | the same |
//! | desktop | the plugin (notify-rust) reports no click: the notification says what waits, and the app shows the request when its window is opened | none (notify-rust has no actions) |
//!
//! Desktop uses the official notification plugin; phones use tauri-plugin-notifications (the
//! same Kotlin identifier, so it replaces the official one there; it also gives Rust the push
//! token, `crate::platform::phonepush`). Neither plugin's Rust side has a listener API (the
//! plugin handle is private), so the UI's listener is the only way in; everything after it is
//! decided here. The action names
//! the notification by its id (iOS reports no `extra` fields): Rust gave each sign-in
//! notification its id and keeps which nonce it stands for, so an id it never gave opens
//! nothing.

use tauri::{AppHandle, Emitter, Manager, Runtime};
use twofold_core::push::Answer;

use super::PushService;
use crate::dto::{
    EVENT_PUSH_CHALLENGES, EVENT_PUSH_OPEN, EVENT_PUSH_POLL_STATUS, NotificationAction,
    NotificationOutcome, PushChallengeView, PushOpenPayload, PushPollStatus, UiLocale,
};
use crate::error::{AppResult, ErrorKind};
use crate::events::BackupNotice;
use crate::state::{AppState, unix_now};

/// What one poll of every push account found.
#[derive(Debug, Default)]
pub struct PollReport {
    /// Everything to show now (collapsed, not muted).
    pub views: Vec<PushChallengeView>,
    /// The views with a challenge the UI was not told about before (notify these).
    pub new: Vec<PushChallengeView>,
    /// What the UI is to hear of the automatic backup after saving.
    pub backup: BackupNotice,
    /// Challenges refused by verification, with the reason (never shown as prompts).
    pub rejected: Vec<String>,
    /// How the poll went, when that changed since the poll before (tell the UI).
    pub status_changed: Option<PushPollStatus>,
}

/// Tells the UI what a poll found: `push-challenges` with everything to show when something
/// new arrived, `push-poll-status` when how polling goes changed, and a failed automatic
/// backup. Returns the views to notify.
pub fn announce<R: Runtime>(app: &AppHandle<R>, report: PollReport) -> Vec<PushChallengeView> {
    report.backup.report(app);
    if let Some(status) = report.status_changed {
        // Nobody to tell when the webview is gone.
        let _ = app.emit(EVENT_PUSH_POLL_STATUS, &status);
    }
    if !report.new.is_empty() {
        // Nobody to tell when the webview is gone; the notification still goes out.
        let _ = app.emit(EVENT_PUSH_CHALLENGES, &report.views);
    }
    report.new
}

/// Tells the UI how polling goes now (after a poll that failed for every account).
pub fn tell_status<R: Runtime>(app: &AppHandle<R>) {
    if let Ok(status) = app.state::<PushService>().status() {
        // Nobody to tell when the webview is gone.
        let _ = app.emit(EVENT_PUSH_POLL_STATUS, &status);
    }
}

/// The id of the sign-in notification's action type (phones).
pub const PUSH_ACTIONS: &str = "push-approval";

/// What Rust writes, in the UI's language.
struct Texts {
    title: &'static str,
    approve: &'static str,
    deny: &'static str,
    /// "({n} requests)"
    count: fn(u32) -> String,
}

fn texts(locale: UiLocale) -> Texts {
    match locale {
        UiLocale::En => Texts {
            title: "Approve sign-in?",
            approve: "Approve",
            deny: "Deny",
            count: |n| format!("({n} requests)"),
        },
        UiLocale::Sv => Texts {
            title: "Godkänna inloggningen?",
            approve: "Godkänn",
            deny: "Neka",
            count: |n| format!("({n} förfrågningar)"),
        },
    }
}

/// The notification's title and body for `view` in `locale`.
pub fn notification_text(locale: UiLocale, view: &PushChallengeView) -> (String, String) {
    let t = texts(locale);
    let mut body = format!("{}\n{}", view.title, view.question);
    if view.count > 1 {
        body.push(' ');
        body.push_str(&(t.count)(view.count));
    }
    (t.title.to_owned(), body)
}

/// Records the UI's language and, on phones, registers the buttons again in it.
pub fn set_locale<R: Runtime>(
    app: &AppHandle<R>,
    service: &PushService,
    locale: UiLocale,
) -> AppResult<()> {
    *PushService::lock(&service.locale)? = locale;
    #[cfg(mobile)]
    register_actions(app, locale);
    let _ = app;
    Ok(())
}

/// The action buttons of a sign-in notification on phones ([`notify`] uses them where a
/// plain approval is possible). A press reaches the UI's `actionPerformed` listener
/// (`actionId` "approve" or "deny", the nonce in `notification.extra.nonce`), which hands it
/// to `push_notification_action`.
#[cfg(mobile)]
pub fn register_actions<R: Runtime>(app: &AppHandle<R>, locale: UiLocale) {
    use tauri_plugin_notifications::{Notifications, NotificationsExt};
    if app.try_state::<Notifications<R>>().is_none() {
        return;
    }
    // Without them the notification still opens the app, where the prompt has both buttons.
    if let Ok(types) = serde_json::from_value(action_types(locale)) {
        let _ = app.notifications().register_action_types(types);
    }
}

/// The sign-in notification's action type as tauri-plugin-notifications reads it (its
/// `ActionType` has no builder, only its serde shape, which its Kotlin and Swift sides parse):
/// Approve, and Deny (destructive), both bringing the app forward.
#[cfg_attr(desktop, allow(dead_code))]
pub fn action_types(locale: UiLocale) -> serde_json::Value {
    let t = texts(locale);
    serde_json::json!([{
        "id": PUSH_ACTIONS,
        "actions": [
            {"id": "approve", "title": t.approve, "foreground": true},
            {"id": "deny", "title": t.deny, "foreground": true, "destructive": true},
        ],
    }])
}

/// Whether a press of Approve on `view`'s notification may answer it: never for number
/// matching (the number is picked on the screen) nor for a token that asks for device
/// authentication. Such notifications get no buttons.
pub fn buttons_allowed(view: &PushChallengeView) -> bool {
    view.options.is_none() && !view.requires_unlock
}

/// The local notification of a new sign-in request, in the UI's language: "Approve
/// sign-in?", the server's title and question (no secret: the server wrote them for this
/// screen). On phones, Approve/Deny buttons when [`buttons_allowed`]. Without the
/// notification plugin (shell tests) the prompt shows in the app only.
pub fn notify<R: Runtime>(app: &AppHandle<R>, view: &PushChallengeView) {
    let Some(service) = app.try_state::<PushService>() else {
        return;
    };
    let Ok(id) = remember(&service, &view.nonce) else {
        return;
    };
    let locale = PushService::lock(&service.locale)
        .map(|l| *l)
        .unwrap_or_default();
    let (title, body) = notification_text(locale, view);
    show(app, id, title, body, view);
}

/// Desktop: the official plugin (no buttons: notify-rust has no actions).
#[cfg(desktop)]
fn show<R: Runtime>(
    app: &AppHandle<R>,
    id: i32,
    title: String,
    body: String,
    view: &PushChallengeView,
) {
    use tauri_plugin_notification::{Notification, NotificationExt};
    if app.try_state::<Notification<R>>().is_none() {
        return;
    }
    let builder = app
        .notification()
        .builder()
        .id(id)
        .title(title)
        .body(body)
        .extra("nonce", &view.nonce);
    // Without permission or a notification service the prompt still shows in the app.
    let _ = builder.show();
}

/// Phones: tauri-plugin-notifications, with the buttons when [`buttons_allowed`]. Its `show`
/// is asynchronous (answered by the Kotlin or Swift side on the main thread): sent, not awaited.
#[cfg(mobile)]
fn show<R: Runtime>(
    app: &AppHandle<R>,
    id: i32,
    title: String,
    body: String,
    view: &PushChallengeView,
) {
    use tauri_plugin_notifications::{Notifications, NotificationsExt};
    if app.try_state::<Notifications<R>>().is_none() {
        return;
    }
    let builder = app
        .notifications()
        .builder()
        .id(id)
        .title(title)
        .body(body)
        .extra("nonce", &view.nonce);
    let builder = if buttons_allowed(view) {
        builder.action_type_id(PUSH_ACTIONS)
    } else {
        builder
    };
    // Without permission or a notification service the prompt still shows in the app.
    tauri::async_runtime::spawn(async move {
        let _ = builder.show().await;
    });
}

/// How many sign-in notifications Rust remembers (older ones open nothing when tapped; their
/// requests have long expired: a request lives two minutes).
const REMEMBERED: usize = 64;

/// The id of `nonce`'s notification: the one it was given before, else a new one.
pub fn remember(service: &PushService, nonce: &str) -> AppResult<i32> {
    let mut shown = PushService::lock(&service.notified)?;
    if let Some((id, _)) = shown.iter().find(|(_, n)| n == nonce) {
        return Ok(*id);
    }
    // Ids from 1 up, wrapping long before i32::MAX matters (REMEMBERED are kept).
    let id = shown
        .back()
        .map_or(1, |(id, _)| id.checked_add(1).unwrap_or(1));
    shown.push_back((id, nonce.to_owned()));
    while shown.len() > REMEMBERED {
        shown.pop_front();
    }
    Ok(id)
}

/// The nonce of the sign-in notification with `id`, if Rust showed it.
fn nonce_of(service: &PushService, id: i32) -> AppResult<Option<String>> {
    Ok(PushService::lock(&service.notified)?
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, n)| n.clone()))
}

/// Opens `nonce`'s approval screen: the `push-open` event.
pub fn open<R: Runtime>(app: &AppHandle<R>, nonce: &str) {
    // Nobody to tell when the webview is gone; the request waits in the pending list.
    let _ = app.emit(
        EVENT_PUSH_OPEN,
        PushOpenPayload {
            nonce: nonce.to_owned(),
        },
    );
}

/// What the user did with the notification `id`: a tap opens its request's screen; Approve and Deny
/// answer through [`super::answer::answer`] (the screen's checks: pending, once per nonce,
/// device authentication) after this module's own: a request whose notification must not
/// have buttons ([`buttons_allowed`]), or a locked vault, opens the screen instead of answering.
pub async fn act<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    service: &PushService,
    action: NotificationAction,
    id: i32,
) -> AppResult<NotificationOutcome> {
    if action == NotificationAction::Dismiss {
        return Ok(NotificationOutcome::Nothing);
    }
    let Some(nonce) = nonce_of(service, id)? else {
        return Ok(NotificationOutcome::Nothing);
    };
    let view = match state.get().and_then(|inner| {
        super::collapse::pending_views(&inner, unix_now())
            .map(|views| views.into_iter().find(|v| v.nonce == nonce))
    }) {
        Ok(Some(view)) => view,
        // Answered or expired meanwhile: nothing to open.
        Ok(None) => return Ok(NotificationOutcome::Nothing),
        Err(e) if e.kind == ErrorKind::Locked => {
            open(app, &nonce);
            return Ok(NotificationOutcome::Opened);
        }
        Err(e) => return Err(e),
    };
    let approve = match action {
        NotificationAction::Approve if buttons_allowed(&view) => true,
        NotificationAction::Deny => false,
        _ => {
            open(app, &nonce);
            return Ok(NotificationOutcome::Opened);
        }
    };
    // Where the phone is, as the screen records it (none when unavailable or not allowed).
    let location = {
        let app = app.clone();
        crate::support::off_thread(move || Ok(crate::platform::location(&app).ok())).await?
    };
    let args = super::answer::AnswerArgs {
        nonce: nonce.clone(),
        answer: if approve {
            Answer::Accept { option: None }
        } else {
            Answer::Decline { reason: None }
        },
        approve,
        location,
    };
    match super::answer::answer(state, service, args).await {
        Ok((answer, backup)) => {
            backup.report(app);
            Ok(NotificationOutcome::Answered { answer })
        }
        // The screen asks for what the button cannot: the password, an unlock.
        Err(e) if matches!(e.kind, ErrorKind::AuthRequired | ErrorKind::Locked) => {
            open(app, &nonce);
            Ok(NotificationOutcome::Opened)
        }
        Err(e) => Err(e),
    }
}
