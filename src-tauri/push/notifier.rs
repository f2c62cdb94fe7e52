//! Telling the user: events to the UI, local notifications of new sign-in requests.

use tauri::{AppHandle, Emitter, Manager, Runtime};

use super::PushService;
use super::poller::PollReport;
use crate::dto::{EVENT_PUSH_CHALLENGES, EVENT_PUSH_POLL_STATUS, PushChallengeView};

/// Tells the UI what a poll found: `push-challenges` with everything to show when something
/// new arrived, `push-poll-status` when how polling goes changed, and a failed automatic
/// backup. Returns the views to notify.
pub fn announce<R: Runtime>(app: &AppHandle<R>, report: PollReport) -> Vec<PushChallengeView> {
    crate::commands::report_backup(app, report.backup_failure);
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
#[cfg(mobile)]
const PUSH_ACTIONS: &str = "push-approval";

/// The action buttons of a sign-in notification on phones ([`notify`] uses them where a
/// plain approval is possible). The UI receives a press through the notification plugin's
/// `onAction` (`actionId` "approve" or "deny", the nonce in `notification.extra.nonce`).
#[cfg(mobile)]
pub fn register_actions<R: Runtime>(app: &AppHandle<R>) {
    use tauri_plugin_notification::{Action, ActionType, NotificationExt};
    let actions = ActionType::builder(PUSH_ACTIONS)
        .actions(vec![
            Action::builder("approve", "Approve")
                .foreground(true)
                .build(),
            Action::builder("deny", "Deny")
                .foreground(true)
                .destructive(true)
                .build(),
        ])
        .build();
    // Without them the notification still opens the app, where the prompt has both buttons.
    let _ = app.notification().register_action_types(vec![actions]);
}

/// The local notification of a new sign-in request: "Approve sign-in?", the server's title
/// and question (no secret: the server wrote them for this screen). On phones, Approve/Deny
/// buttons when the request needs no number matching and no device authentication. Without
/// the notification plugin (shell tests) the prompt shows in the app only.
pub fn notify<R: Runtime>(app: &AppHandle<R>, view: &PushChallengeView) {
    use tauri_plugin_notification::{Notification, NotificationExt};
    if app.try_state::<Notification<R>>().is_none() {
        return;
    }
    let mut body = format!("{}\n{}", view.title, view.question);
    if view.count > 1 {
        body.push_str(&format!(" ({} requests)", view.count));
    }
    let builder = app
        .notification()
        .builder()
        .title("Approve sign-in?")
        .body(body)
        .extra("nonce", &view.nonce);
    #[cfg(mobile)]
    let builder = if view.options.is_none() && !view.requires_unlock {
        builder.action_type_id(PUSH_ACTIONS)
    } else {
        builder
    };
    // Without permission or a notification service the prompt still shows in the app.
    let _ = builder.show();
}
