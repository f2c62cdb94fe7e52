//! Desktop: with the setting `keepInTray`, closing the window hides it and Twofold keeps
//! running in the system tray, so the push poller goes on (docs/push.md, "Push while locked").
//! The tray's menu opens the window again or quits. Where the desktop has no tray library
//! (Linux without libayatana-appindicator3 or libappindicator3) the setting is `Unsupported`
//! and closing the window quits, as before.

use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};

use crate::dto::Language;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

const TRAY_ID: &str = "main";

/// Why this desktop has no system tray, `None` when it has one. Linux: the libraries the tray
/// loads at run time (tray-icon's libappindicator-sys, which panics without them), looked for
/// first.
pub fn missing() -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        let names = [
            "libayatana-appindicator3.so.1",
            "libappindicator3.so.1",
            "libayatana-appindicator3.so",
            "libappindicator3.so",
        ];
        // SAFETY: loading a system library whose initialisers are those of a GTK library the
        // app links already; it is closed again at once.
        let found = names
            .iter()
            .any(|n| unsafe { libloading::Library::new(n) }.is_ok());
        if !found {
            return Some(
                "this desktop has no system tray library (libayatana-appindicator3)".into(),
            );
        }
    }
    None
}

fn labels(language: Language) -> (&'static str, &'static str) {
    let swedish = match language {
        Language::Sv => true,
        Language::En => false,
        Language::System => std::env::var("LANG").is_ok_and(|l| l.starts_with("sv")),
    };
    if swedish {
        ("Öppna Twofold", "Avsluta")
    } else {
        ("Open Twofold", "Quit")
    }
}

/// Shows the main window again (from the tray), polling at once.
fn open<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
    let state = app.state::<AppState>();
    state.set_foreground(true);
    state.request_poll();
}

/// Puts Twofold in the system tray (once); `Unsupported` where there is no tray.
pub fn ensure<R: Runtime>(app: &AppHandle<R>) -> AppResult<()> {
    if app.tray_by_id(TRAY_ID).is_some() {
        return Ok(());
    }
    if let Some(why) = missing() {
        return Err(AppError::unsupported(why));
    }
    let language = app.state::<AppState>().get()?.prefs.settings.language;
    let (open_label, quit_label) = labels(language);
    let failed = |e: tauri::Error| AppError::internal(format!("cannot make the tray icon: {e}"));
    let open_item =
        MenuItem::with_id(app, "open", open_label, true, None::<&str>).map_err(failed)?;
    let quit_item =
        MenuItem::with_id(app, "quit", quit_label, true, None::<&str>).map_err(failed)?;
    let menu = Menu::with_items(app, &[&open_item, &quit_item]).map_err(failed)?;
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip("Twofold")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "open" => open(app),
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app).map_err(failed)?;
    Ok(())
}

/// Takes Twofold out of the system tray.
pub fn remove<R: Runtime>(app: &AppHandle<R>) {
    let _ = app.remove_tray_by_id(TRAY_ID);
}

/// True when closing the window should hide it instead: the setting is on and the tray is
/// there to bring it back.
pub fn keeps_running<R: Runtime>(app: &AppHandle<R>) -> bool {
    let on = app
        .state::<AppState>()
        .get()
        .is_ok_and(|i| i.prefs.settings.keep_in_tray);
    on && app.tray_by_id(TRAY_ID).is_some()
}
