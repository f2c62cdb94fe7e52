//! Twofold's Tauri shell: a thin layer between the web UI (`ui/`) and `twofold-core`.
//!
//! The IPC contract is docs/ipc.md. Secrets stay here: the webview gets codes, names and
//! metadata only. The vault locks after the idle timeout and when the app goes to the
//! background.

pub mod commands;
pub mod dto;
pub mod error;
mod platform;
pub mod state;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_push;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tauri::{Emitter, Manager, Runtime};

use dto::{EVENT_VAULT_LOCKED, LockReason, PushChallengeView};
use state::{AppState, KdfSource, reason};

/// Every command of docs/ipc.md, for the app and for the shell tests.
pub fn handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    use commands::{accounts, export, import, push, scan, settings, vault};
    tauri::generate_handler![
        vault::app_status,
        vault::first_run_accept,
        vault::vault_create,
        vault::vault_unlock,
        vault::vault_unlock_biometric,
        vault::vault_lock,
        vault::vault_change_password,
        accounts::accounts_list,
        accounts::codes_now,
        accounts::hotp_next,
        accounts::account_update,
        accounts::account_delete,
        accounts::account_qr_svg,
        accounts::code_copy,
        accounts::touch,
        scan::add_uri,
        scan::add_manual,
        scan::scan_image,
        scan::scan_camera,
        import::import_formats,
        import::import_file,
        export::export_file,
        settings::settings_get,
        settings::settings_set,
        settings::backup_folder_choose,
        settings::backup_now,
        settings::backup_status,
        commands::platform::location_current,
        push::push_accounts,
        push::push_poll,
        push::push_pending,
        push::push_answer,
        push::push_mute,
        push::push_activity,
        push::push_remove,
    ]
}

/// Where the vault and settings live: `$TWOFOLD_DATA_DIR` when set (tests, portable use),
/// else the platform's app data folder.
fn data_dir<R: Runtime>(app: &tauri::App<R>) -> Result<PathBuf, tauri::Error> {
    match std::env::var_os("TWOFOLD_DATA_DIR").filter(|d| !d.is_empty()) {
        Some(d) => Ok(PathBuf::from(d)),
        None => app.path().app_data_dir(),
    }
}

fn emit_locked<R: Runtime>(app: &tauri::AppHandle<R>, why: LockReason) {
    // Nobody to tell when the webview is gone; the vault is locked either way.
    let _ = app.emit(EVENT_VAULT_LOCKED, reason(why));
}

/// Checks the idle timer every second for the life of the app.
fn spawn_idle_lock<R: Runtime>(app: tauri::AppHandle<R>) {
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_secs(1));
            if app.state::<AppState>().lock_if_idle(Instant::now()) {
                emit_locked(&app, LockReason::Idle);
            }
        }
    });
}

/// How often the push accounts are polled while the app is in the foreground and unlocked.
const PUSH_POLL_EVERY: Duration = Duration::from_secs(3);

/// Polls the push accounts every [`PUSH_POLL_EVERY`] while the app is in the foreground and
/// the vault unlocked, and at once (within a quarter second) after an unlock or a resume.
/// New verified challenges go to the UI (`push-challenges`) and raise a notification, once
/// per nonce. A failed poll (no network) is retried on the next tick without a word.
fn spawn_push_poller<R: Runtime>(app: tauri::AppHandle<R>) {
    std::thread::spawn(move || {
        let step = Duration::from_millis(250);
        loop {
            let state = app.state::<AppState>();
            let mut waited = Duration::ZERO;
            while waited < PUSH_POLL_EVERY && !state.take_poll_request() {
                std::thread::sleep(step);
                waited += step;
            }
            let unlocked = state.get().is_ok_and(|i| i.vault.is_some());
            if !state.is_foreground() || !unlocked {
                continue;
            }
            let Ok(report) = commands::push::poll_blocking(&state) else {
                continue;
            };
            for view in commands::push::announce(&app, report) {
                notify(&app, &view);
            }
        }
    });
}

/// The action buttons of a sign-in notification on phones ([`notify`] uses them where a
/// plain approval is possible). The UI receives a press through the notification plugin's
/// `onAction` (`actionId` "approve" or "deny", the nonce in `notification.extra.nonce`).
#[cfg(mobile)]
fn register_push_actions<R: Runtime>(app: &tauri::AppHandle<R>) {
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

/// The id of the sign-in notification's action type (phones).
#[cfg(mobile)]
const PUSH_ACTIONS: &str = "push-approval";

/// The local notification of a new sign-in request: "Approve sign-in?", the server's title
/// and question (no secret: the server wrote them for this screen). On phones, Approve/Deny
/// buttons when the request needs no number matching and no device authentication.
fn notify<R: Runtime>(app: &tauri::AppHandle<R>, view: &PushChallengeView) {
    use tauri_plugin_notification::NotificationExt;
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

/// Locks when the app leaves the foreground: on phones when its window loses focus or the
/// app is resumed, on desktop when the window is minimized.
fn on_background<R: Runtime>(app: &tauri::AppHandle<R>) {
    app.state::<AppState>().set_foreground(false);
    if app.state::<AppState>().lock_on_background() {
        emit_locked(app, LockReason::Background);
    }
}

/// Starts the app.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_clipboard_manager::init());
    #[cfg(mobile)]
    let builder = builder
        .plugin(tauri_plugin_barcode_scanner::init())
        .plugin(tauri_plugin_geolocation::init());
    let app = builder
        .setup(|app| {
            let dir = data_dir(app)?;
            let state = AppState::new(dir, KdfSource::Calibrate);
            state.set_device(std::sync::Arc::new(platform::TauriDevice(
                app.handle().clone(),
            )));
            app.manage(state);
            spawn_idle_lock(app.handle().clone());
            #[cfg(mobile)]
            register_push_actions(app.handle());
            spawn_push_poller(app.handle().clone());
            Ok(())
        })
        .on_window_event(|window, event| match event {
            tauri::WindowEvent::Focused(false)
                if cfg!(mobile) || window.is_minimized().unwrap_or(false) =>
            {
                on_background(window.app_handle());
            }
            tauri::WindowEvent::Focused(true) => {
                let state = window.app_handle().state::<AppState>();
                if !state.is_foreground() {
                    // Back from minimized (desktop) or the background (phones): poll now.
                    state.request_poll();
                }
                state.set_foreground(true);
            }
            _ => {}
        })
        .invoke_handler(handler())
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|_app, _event| {
            // Leaving: lock, and clear a copied code still on the clipboard.
            if let tauri::RunEvent::Exit = _event {
                _app.state::<AppState>().lock_now();
            }
            #[cfg(mobile)]
            if let tauri::RunEvent::Resumed = _event {
                on_background(_app);
                // Back in the foreground: poll now.
                let state = _app.state::<AppState>();
                state.set_foreground(true);
                state.request_poll();
            }
        }),
        Err(e) => {
            eprintln!("error: Twofold could not start: {e}");
            std::process::exit(1);
        }
    }
}
