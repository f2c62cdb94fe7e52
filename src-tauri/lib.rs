//! Twofold's Tauri shell: a thin layer between the web UI (`ui/`) and `twofold-core`.
//!
//! The IPC contract is docs/ipc.md. Secrets stay here: the webview gets codes, names and
//! metadata only. The vault locks after the idle timeout and when the app goes to the
//! background.

pub mod accounts;
pub mod container;
pub mod dto;
pub mod error;
pub mod events;
pub mod place;
mod platform;
pub mod push;
pub mod settings;
pub mod state;
pub mod store;
pub mod support;
pub mod sync;
#[cfg(desktop)]
pub mod tray;
pub mod vault;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_docs;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tauri::{Emitter, Manager, Runtime};

use dto::{EVENT_VAULT_LOCKED, LockReason};
use events::reason;
use state::{AppState, KdfSource};

/// Every command of docs/ipc.md, for the app and for the shell tests.
pub fn handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    use crate::accounts::{commands as accounts, export, import, scan};
    use crate::push::commands as push;
    use crate::settings::commands as settings;
    use crate::sync::commands as sync;
    use crate::vault::commands as vault;
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
        accounts::removed_list,
        accounts::account_restore,
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
        crate::settings::platform::location_current,
        crate::settings::platform::permissions_status,
        crate::settings::platform::permission_request,
        crate::settings::platform::ui_locale_set,
        push::push_notification_action,
        push::push_accounts,
        push::push_poll,
        push::push_pending,
        push::push_answer,
        push::push_mute,
        push::push_activity,
        push::push_remove,
        push::push_poll_status,
        push::push_enrol_preview,
        push::push_enrol_confirm,
        push::push_enrol_cancel,
        push::push_registration,
        sync::passphrase_strength,
        sync::sync_status,
        sync::sync_folder_choose,
        sync::sync_webdav_choose,
        sync::sync_setup,
        sync::sync_now,
        sync::sync_off,
        sync::sync_rejoin,
        sync::sync_devices,
        sync::sync_rename_device,
        sync::sync_remove_device,
        container::commands::container_preview,
        container::commands::container_register,
        container::commands::container_cancel,
        container::commands::containers_list,
        container::commands::container_sync,
        container::commands::container_rollover,
        container::commands::container_transfer,
        container::commands::container_unregister,
    ]
}

/// How [`app_builder`] sets the app up: the app itself, or a shell test.
#[derive(Clone)]
pub struct AppOptions {
    /// Where the vault and settings live; `None`: `$TWOFOLD_DATA_DIR` or the platform's app
    /// data folder.
    pub data_dir: Option<PathBuf>,
    /// How password slots get their Argon2id parameters.
    pub kdf: KdfSource,
    /// Poll the push accounts this often in the background (`None`: no poller).
    pub poll_every: Option<Duration>,
    /// Lock the vault when idle (the idle timer thread).
    pub idle_lock: bool,
    /// The dialogs and clipboard; `None`: the system's, through the plugins.
    pub device: Option<std::sync::Arc<dyn platform::Device>>,
    /// The secure storage of the push keys and the biometrics; `None`: the platform's.
    pub device_keys: Option<platform::keys::DeviceKeys>,
    /// The push distributor; `None`: the platform's (`platform::push_delivery`).
    pub distributor: Option<push::delivery::PushDelivery>,
}

impl Default for AppOptions {
    /// The app's: its data folder, calibrated KDF, the poller and the idle lock.
    fn default() -> Self {
        AppOptions {
            data_dir: None,
            kdf: KdfSource::Calibrate,
            // `TWOFOLD_PUSH_POLL=off`: no poller (the real-app test measures push delivery alone).
            poll_every: match std::env::var("TWOFOLD_PUSH_POLL").as_deref() {
                Ok("off") => None,
                _ => Some(push::poller::PUSH_POLL_EVERY),
            },
            idle_lock: true,
            device: None,
            device_keys: None,
            distributor: None,
        }
    }
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

/// Locks when the app leaves the foreground: on phones when its window loses focus or the
/// app is resumed, on desktop when the window is minimized.
fn on_background<R: Runtime>(app: &tauri::AppHandle<R>) {
    app.state::<AppState>().set_foreground(false);
    if app.state::<AppState>().lock_on_background() {
        emit_locked(app, LockReason::Background);
    }
}

/// A window event: leaving the foreground locks, coming back polls at once.
fn on_window_event<R: Runtime>(window: &tauri::Window<R>, event: &tauri::WindowEvent) {
    match event {
        tauri::WindowEvent::Focused(false)
            if cfg!(mobile) || window.is_minimized().unwrap_or(false) =>
        {
            on_background(window.app_handle());
        }
        #[cfg(desktop)]
        tauri::WindowEvent::CloseRequested { api, .. }
            if tray::keeps_running(window.app_handle()) =>
        {
            // Into the tray: hidden, polling goes on; leaving the foreground as minimizing does.
            api.prevent_close();
            let _ = window.hide();
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
    }
}

/// The app on `builder` (the real one in [`run`], `tauri::test::mock_builder()` in the shell
/// tests): its state, the push service, the idle lock, the push poller, the window events
/// and every command. Plugins are the caller's.
pub fn app_builder<R: Runtime>(
    builder: tauri::Builder<R>,
    options: AppOptions,
) -> tauri::Builder<R> {
    builder
        .setup(move |app| {
            let dir = match options.data_dir.clone() {
                Some(d) => d,
                None => data_dir(app)?,
            };
            let sync_service = sync::SyncService::new(&dir);
            let state = AppState::new(dir, options.kdf);
            state.set_device(match options.device.clone() {
                Some(device) => device,
                None => std::sync::Arc::new(platform::TauriDevice(app.handle().clone())),
            });
            app.manage(state);
            app.manage(push::PushService::default());
            app.manage(sync_service);
            let keys = match options.device_keys.clone() {
                Some(keys) => keys,
                None => platform::keys::DeviceKeys::platform(app.handle()),
            };
            // Without the stored push keys, sign-in requests arrive after the next unlock.
            let _ = push::locked::load(&app.state(), &app.state(), &keys);
            app.manage(keys);
            let delivery = match options.distributor.clone() {
                Some(d) => d,
                None => platform::push_delivery(app.handle()),
            };
            app.manage(delivery);
            // Still locked: the stored keyring's registration, so pushes are read while locked.
            let handle = app.handle().clone();
            std::thread::spawn(move || push::delivery::start(&handle));
            #[cfg(desktop)]
            if app.state::<AppState>().get()?.prefs.settings.keep_in_tray {
                // Without a tray, closing the window quits as before.
                let _ = tray::ensure(app.handle());
            }
            app.manage(container::ContainerService::default());
            if options.idle_lock {
                spawn_idle_lock(app.handle().clone());
            }
            #[cfg(mobile)]
            push::notifier::register_actions(app.handle(), dto::UiLocale::default());
            if let Some(every) = options.poll_every {
                push::poller::spawn(app.handle().clone(), every);
                container::spawn(app.handle().clone());
            }
            sync::spawn(app.handle().clone());
            Ok(())
        })
        .on_window_event(on_window_event)
        .invoke_handler(handler())
}

/// Starts the app.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    // Notifications: the official plugin on desktop; on phones tauri-plugin-notifications,
    // which also gives Rust the push service's token (docs/push.md, "Phones").
    let builder = tauri::Builder::default();
    #[cfg(desktop)]
    let builder = builder.plugin(tauri_plugin_notification::init());
    #[cfg(mobile)]
    let builder = builder.plugin(tauri_plugin_notifications::init());
    let builder = builder
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_clipboard_manager::init());
    #[cfg(mobile)]
    let builder = builder
        .plugin(tauri_plugin_barcode_scanner::init())
        .plugin(tauri_plugin_geolocation::init());
    // Biometric unlock's device key (platform/keys.rs); called from Rust only.
    #[cfg(mobile)]
    let builder = builder.plugin(tauri_plugin_biometry::init());
    // The sync folder's picker and documents (storage access framework), from Rust only.
    #[cfg(target_os = "android")]
    let builder = builder.plugin(tauri_plugin_android_fs::init());
    let app = app_builder(builder, AppOptions::default()).build(tauri::generate_context!());
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
                // And ask the push service for its token again (docs/push.md, "Phones"): it may
                // have rotated, or notifications were just allowed (the OS prompt pauses the
                // app). Nothing while locked: the unlock asks.
                push::delivery::spawn_after_unlock(_app);
            }
        }),
        Err(e) => {
            eprintln!("error: Twofold could not start: {e}");
            std::process::exit(1);
        }
    }
}
