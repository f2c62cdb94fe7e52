//! Android and iOS: location through the geolocation plugin; the camera through the
//! barcode-scanner plugin, driven by the UI; notifications and the push token through
//! tauri-plugin-notifications.

use tauri::{AppHandle, Runtime};
use tauri_plugin_geolocation::{GeolocationExt, PositionOptions};

use crate::dto::LocationView;
use crate::error::{AppError, AppResult, ErrorKind};

/// Scanning with the camera from Rust: the barcode-scanner plugin's Rust side has no scan
/// call, so the UI scans with the plugin and sends the text to `add_uri`.
pub fn scan_camera() -> AppError {
    AppError::unsupported(
        "scan with the barcode scanner from the UI and add the text it reads with add_uri",
    )
}

/// The location permission (coarse: an approximate position is all an approval needs), checked
/// or asked for through the geolocation plugin.
pub fn location_permission<R: Runtime>(
    app: &AppHandle<R>,
    ask: bool,
) -> AppResult<crate::dto::PermissionState> {
    use tauri_plugin_geolocation::PermissionType;
    let geo = app.geolocation();
    let status = if ask {
        geo.request_permissions(Some(vec![PermissionType::CoarseLocation]))
    } else {
        geo.check_permissions()
    }
    .map_err(|e| {
        AppError::internal(format!(
            "the system did not answer about the location permission: {e}"
        ))
    })?;
    Ok(super::state_of(status.coarse_location))
}

/// The notification permission, checked or asked for through tauri-plugin-notifications (its
/// calls are answered on the main thread: this runs off it, as every permission call does).
/// Asked only while it is not granted: the plugin's Android side never answers a request for a
/// permission already granted.
pub fn notification_permission<R: Runtime>(
    app: &AppHandle<R>,
    ask: bool,
) -> AppResult<crate::dto::PermissionState> {
    use tauri::Manager;
    use tauri_plugin_notifications::{Notifications, NotificationsExt};
    if app.try_state::<Notifications<R>>().is_none() {
        return Err(super::not_from_rust(crate::dto::Permission::Notifications));
    }
    let failed = |e: tauri_plugin_notifications::Error| {
        AppError::internal(format!(
            "the system did not answer about the permission: {e}"
        ))
    };
    let n = app.notifications();
    let now = tauri::async_runtime::block_on(n.permission_state()).map_err(failed)?;
    if !ask || now == tauri::plugin::PermissionState::Granted {
        return Ok(super::state_of(now));
    }
    tauri::async_runtime::block_on(n.request_permission())
        .map(super::state_of)
        .map_err(failed)
}

/// The phone's position.
pub fn location<R: Runtime>(app: &AppHandle<R>) -> AppResult<LocationView> {
    let position = app
        .geolocation()
        .get_current_position(Some(PositionOptions {
            // Coarse is enough to show where an approval came from.
            enable_high_accuracy: false,
            // Ten seconds at most: the prompt says "Location unavailable" after that.
            timeout: 10_000,
            // A fix from the last minute is as good for naming the town.
            maximum_age: 60_000,
        }))
        .map_err(|e| {
            AppError::new(
                ErrorKind::LocationUnavailable,
                format!("the location is not available: {e}"),
            )
        })?;
    Ok(LocationView {
        latitude: position.coords.latitude,
        longitude: position.coords.longitude,
        accuracy_m: Some(position.coords.accuracy),
        place: None,
    })
}

/// The push service's token through tauri-plugin-notifications: FCM on Android in a build with
/// the app's Firebase configuration (`gen/android/app/google-services.json`, which the build
/// script notes as `twofold_fcm`; without it FirebaseMessaging has no project and the plugin
/// could give no token), APNs on iOS (the sandbox for debug builds, which Xcode signs for
/// development). `None`: this build has no push.
pub fn push_tokens<R: Runtime>(
    app: &AppHandle<R>,
) -> Option<std::sync::Arc<dyn super::phonepush::TokenSource>> {
    use super::phonepush::Service;
    #[cfg(all(target_os = "android", twofold_fcm))]
    let service = Some(Service::Fcm);
    #[cfg(all(target_os = "android", not(twofold_fcm)))]
    let service: Option<Service> = None;
    #[cfg(target_os = "ios")]
    let service = Some(Service::Apns {
        sandbox: cfg!(debug_assertions),
    });
    let service = service?;
    Some(std::sync::Arc::new(PluginTokens {
        app: app.clone(),
        service,
    }))
}

/// [`super::phonepush::TokenSource`] through tauri-plugin-notifications.
struct PluginTokens<R: Runtime> {
    app: AppHandle<R>,
    service: super::phonepush::Service,
}

impl<R: Runtime> super::phonepush::TokenSource for PluginTokens<R> {
    fn service(&self) -> super::phonepush::Service {
        self.service
    }

    /// Only once notifications are allowed: the plugin would otherwise show the OS prompt
    /// itself, outside the app's own permission step (which asks with its reason).
    fn request(&self, answer: super::phonepush::TokenAnswer) {
        use tauri::Manager;
        use tauri::plugin::PermissionState;
        use tauri_plugin_notifications::{Notifications, NotificationsExt};
        let app = self.app.clone();
        let name = self.service.name();
        tauri::async_runtime::spawn(async move {
            if app.try_state::<Notifications<R>>().is_none() {
                return answer(Err("the notification plugin is not loaded".to_owned()));
            }
            let n = app.notifications();
            let outcome = match n.permission_state().await {
                Ok(PermissionState::Granted) => n
                    .register_for_push_notifications()
                    .await
                    .map_err(|e| format!("{name} gave no token: {e}")),
                Ok(_) => Err(
                    "notifications are not allowed for Twofold: sign-in requests arrive while it is open"
                        .to_owned(),
                ),
                Err(e) => Err(format!(
                    "the system did not answer about the notification permission: {e}"
                )),
            };
            answer(outcome);
        });
    }
}
