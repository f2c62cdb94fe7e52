//! Push delivery (docs/push.md, "Push through the relay"): the app registers with the
//! platform's push distributor, gives the servers its device token (at enrolment, and with
//! privacyIDEA's signed `new_fb_token` update for tokens enrolled before or when the endpoint
//! changes), and reads the messages `twofold-relay` sends through it. A pushed challenge is
//! decrypted and verified by the core exactly as a polled one and told through the same
//! record of told nonces as the poller's, so one notification per nonce, whichever way came
//! first. Polling goes on as the fallback (and on resume).
//!
//! The distributor is behind [`Distributor`] (one name per platform: UnifiedPush over D-Bus
//! on Linux desktops, `crate::platform::unifiedpush`; FCM on Android and APNs on iOS through
//! tauri-plugin-notifications, `crate::platform::phonepush`; none elsewhere yet), and what it
//! tells the app arrives as [`Incoming`] at [`handle`]: the shell tests drive both.

use std::sync::Arc;

use tauri::{AppHandle, Emitter, Manager, Runtime};
use twofold_core::push::device_token::{DeviceToken, TokenError};
use twofold_core::rng::SystemRng;
use twofold_core::vault::{EndpointChange, Vault};

use super::PushService;
use crate::dto::{EVENT_PUSH_REGISTRATION, PushRegistrationState, PushRegistrationView};
use crate::error::{AppError, AppResult};
use crate::state::{AppState, unix_now};
use crate::store::{By, Write};
use crate::support::http_error;

/// What a push distributor tells the app (UnifiedPush's connector calls).
#[derive(Clone, PartialEq, Eq)]
pub enum Incoming {
    /// The endpoint of the registration named `connection` (after registering, or changed).
    NewEndpoint {
        /// The registration's connection token.
        connection: String,
        /// The push endpoint (a URL).
        endpoint: String,
    },
    /// A pushed message: the body the push service received, still encrypted.
    Message {
        /// The registration's connection token.
        connection: String,
        /// The RFC 8291 `aes128gcm` body.
        body: Vec<u8>,
    },
    /// The distributor dropped the registration.
    Unregistered {
        /// The registration's connection token (empty to confirm an unregistration).
        connection: String,
    },
    /// A phone's push service gave its token (FCM's registration token, the APNs device
    /// token) for the registration named `connection`: it becomes the device token.
    NativeToken {
        /// The registration's connection token.
        connection: String,
        /// The token, checked.
        token: DeviceToken,
    },
    /// A phone's push service gave no token (no permission, no network, a refusal).
    Refused {
        /// The registration's connection token.
        connection: String,
        /// Why, as the platform said it.
        reason: String,
    },
}

// Never the endpoint's path nor a message.
impl std::fmt::Debug for Incoming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Incoming::NewEndpoint { .. } => f.write_str("NewEndpoint(..)"),
            Incoming::Message { body, .. } => write!(f, "Message({} bytes)", body.len()),
            Incoming::Unregistered { .. } => f.write_str("Unregistered(..)"),
            Incoming::NativeToken { token, .. } => write!(f, "NativeToken({token:?})"),
            Incoming::Refused { .. } => f.write_str("Refused(..)"),
        }
    }
}

/// Why registering with a distributor failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DistributorError {
    /// No distributor runs (or none can be started): requests arrive by polling.
    #[error("no push distributor is installed")]
    NoDistributor,
    /// The distributor said no.
    #[error("the push distributor {name} refused: {reason}")]
    Refused {
        /// Its name.
        name: String,
        /// Its reason.
        reason: String,
    },
    /// The platform's channel to it failed.
    #[error("the push distributor cannot be reached: {0}")]
    Unreachable(String),
    /// This build cannot register (a phone build without the push service's configuration).
    #[error("{0}")]
    NotConfigured(String),
}

/// The platform's push distributor. Its messages reach [`handle`].
pub trait Distributor: Send + Sync {
    /// Registers the app under `connection` (again: a distributor answers a known one with
    /// its endpoint). Returns the distributor's name; the endpoint arrives as
    /// [`Incoming::NewEndpoint`].
    fn register(&self, connection: &str) -> Result<String, DistributorError>;
}

/// The distributor of this run, managed by Tauri (`None`: this platform has none).
#[derive(Clone, Default)]
pub struct PushDelivery(pub Option<Arc<dyn Distributor>>);

/// What the push service knows of the registration (for Settings and the enrolment preview).
#[derive(Debug, Clone, Default)]
pub(crate) struct RegistrationStatus {
    /// The distributor's name once it took the registration.
    pub distributor: Option<String>,
    /// Why there is no push (no distributor, a refusal), if so.
    pub problem: Option<String>,
    /// The host of the endpoint the vault (or the keyring while locked) holds.
    pub endpoint_host: Option<String>,
    /// An endpoint or phone token that arrived while the vault was locked: taken at the next
    /// unlock.
    pub pending_endpoint: Option<(String, Endpoint)>,
    /// Counts the answers that arrived through [`handle`], so that a registration's own
    /// outcome never overwrites an answer that came meanwhile.
    answers: u64,
}

/// Where the device is reached: a Web Push endpoint or a phone's token.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// A distributor's Web Push endpoint (a URL).
    WebPush(String),
    /// A phone's FCM or APNs token.
    Native(DeviceToken),
}

// Never the endpoint's path nor a token.
impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::WebPush(url) => write!(f, "WebPush({:?})", host_of(url)),
            Endpoint::Native(token) => write!(f, "{token:?}"),
        }
    }
}

impl Endpoint {
    /// The push service's host, as Settings shows it.
    fn host(&self) -> Option<String> {
        match self {
            Endpoint::WebPush(url) => host_of(url),
            Endpoint::Native(token) => Some(native_host(token).to_owned()),
        }
    }

    /// Gives it to the vault's registration named `connection`.
    fn apply(&self, vault: &mut Vault, connection: &str) -> Result<EndpointChange, TokenError> {
        match self {
            Endpoint::WebPush(url) => vault.set_push_endpoint(connection, url),
            Endpoint::Native(token) => vault.set_push_native_token(connection, token.clone()),
        }
    }
}

/// The push service a phone's token is delivered through (the relay's FCM and APNs hosts).
fn native_host(token: &DeviceToken) -> &'static str {
    match token {
        DeviceToken::Apns { sandbox: true, .. } => "api.sandbox.push.apple.com",
        DeviceToken::Apns { .. } => "api.push.apple.com",
        _ => "fcm.googleapis.com",
    }
}

/// The host Settings shows for the vault's (or keyring's) registration.
fn registration_host(r: &twofold_core::push::webpush::PushRegistration) -> Option<String> {
    match r.native_token() {
        Some(token) => Some(native_host(token).to_owned()),
        None => r.endpoint().and_then(host_of),
    }
}

fn host_of(endpoint: &str) -> Option<String> {
    url::Url::parse(endpoint)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
}

/// The registration's state for Settings (`push_registration`).
pub fn view(service: &PushService, delivery: &PushDelivery) -> AppResult<PushRegistrationView> {
    let s = PushService::lock(&service.registration)?;
    let state = match (&delivery.0, &s.endpoint_host, &s.distributor) {
        (None, _, _) => PushRegistrationState::Unsupported,
        (Some(_), Some(_), _) => PushRegistrationState::Registered,
        (Some(_), None, Some(_)) => PushRegistrationState::Waiting,
        (Some(_), None, None) => PushRegistrationState::NoDistributor,
    };
    Ok(PushRegistrationView {
        state,
        distributor: s.distributor.clone(),
        endpoint_host: s.endpoint_host.clone(),
        problem: s.problem.clone(),
    })
}

/// Tells the UI the registration's state (`push-registration`).
fn tell<R: Runtime>(app: &AppHandle<R>) {
    if let (Some(service), Some(delivery)) = (
        app.try_state::<PushService>(),
        app.try_state::<PushDelivery>(),
    ) && let Ok(view) = view(&service, &delivery)
    {
        // Nobody to tell when the webview is gone.
        let _ = app.emit(EVENT_PUSH_REGISTRATION, view);
    }
}

/// True when a new enrolment would get push: the device token is known.
pub(crate) fn push_ready(service: &PushService) -> bool {
    PushService::lock(&service.registration).is_ok_and(|s| s.endpoint_host.is_some())
}

fn register_with<R: Runtime>(app: &AppHandle<R>, connection: &str) {
    let Some(distributor) = app.try_state::<PushDelivery>().and_then(|d| d.0.clone()) else {
        return;
    };
    let service = app.state::<PushService>();
    let before = PushService::lock(&service.registration).map_or(0, |s| s.answers);
    let outcome = distributor.register(connection);
    if let Ok(mut s) = PushService::lock(&service.registration) {
        // A phone's platform may have answered already (its token or a refusal): that stands.
        let answered = s.answers != before;
        match outcome {
            Ok(name) => {
                if !answered {
                    s.problem = None;
                }
                if s.problem.is_none() {
                    s.distributor = Some(name);
                }
            }
            Err(e) if !answered => {
                s.distributor = None;
                s.problem = Some(e.to_string());
            }
            Err(_) => {}
        }
    };
    tell(app);
}

/// At start-up, still locked: the registration the stored keyring holds is registered again
/// (the distributor then confirms its endpoint), so pushed messages are read while locked.
pub fn start<R: Runtime>(app: &AppHandle<R>) {
    let service = app.state::<PushService>();
    let registration = PushService::lock(&service.keyring)
        .ok()
        .and_then(|k| k.as_ref().and_then(|r| r.registration().cloned()));
    if let Some(r) = registration {
        if let Ok(mut s) = PushService::lock(&service.registration) {
            s.endpoint_host = registration_host(&r);
        }
        register_with(app, r.connection());
    }
}

/// [`after_unlock`] off the caller's thread (the distributor is another process), nothing
/// without a distributor.
pub fn spawn_after_unlock<R: Runtime>(app: &AppHandle<R>) {
    if app
        .try_state::<PushDelivery>()
        .and_then(|d| d.0.clone())
        .is_some()
    {
        let handle = app.clone();
        std::thread::spawn(move || after_unlock(&handle));
    }
}

/// After an unlock (and once a new vault was made): the vault's registration is made
/// when there is none and a distributor exists, registered with the distributor, an endpoint
/// that came while locked taken, and the servers told the device token where they have
/// another. Errors are the status's ([`view`]), never the unlock's.
pub fn after_unlock<R: Runtime>(app: &AppHandle<R>) {
    if app
        .try_state::<PushDelivery>()
        .and_then(|d| d.0.clone())
        .is_none()
    {
        return;
    }
    let state = app.state::<AppState>();
    let service = app.state::<PushService>();
    let connection = (|| -> AppResult<String> {
        let mut inner = state.get()?;
        let changed = state.change_with(&mut inner, By::App, |inner| {
            let (registration, made) = inner
                .vault_mut()?
                .ensure_push_registration(&SystemRng::new())
                .map_err(|e| AppError::internal(e.to_string()))?;
            let connection = registration.connection().to_owned();
            let mut changed = made;
            if let Some((c, endpoint)) = PushService::lock(&service.registration)?
                .pending_endpoint
                .take()
            {
                changed |= endpoint.apply(inner.vault_mut()?, &c) == Ok(EndpointChange::Changed);
            }
            Ok((connection, Write::when(changed)))
        })?;
        changed.backup.report(app);
        let connection = changed.value;
        let endpoint = inner
            .vault()?
            .push_registration()
            .and_then(registration_host);
        PushService::lock(&service.registration)?.endpoint_host = endpoint;
        Ok(connection)
    })();
    let Ok(connection) = connection else {
        return;
    };
    super::locked::refresh_app(app);
    register_with(app, &connection);
    spawn_token_updates(app);
}

/// Sends the token updates the vault asks for, off the caller's thread.
fn spawn_token_updates<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    std::thread::spawn(move || {
        let _ = update_tokens(&app);
    });
}

/// Gives the device token to every push account's server that has another (privacyIDEA's
/// signed `new_fb_token`; blocking: HTTP), storing each one the server took (a failed backup
/// after the save told to the UI). Returns each account's outcome; nothing to do while locked
/// or without a device token.
pub fn update_tokens<R: Runtime>(app: &AppHandle<R>) -> AppResult<Vec<(String, AppResult<()>)>> {
    let state = app.state::<AppState>();
    let service = app.state::<PushService>();
    // One run at a time: a second finds the tokens the first stored.
    let _one = PushService::lock(&service.updating)?;
    let updates = match state.get()?.vault.as_ref() {
        Some(v) => v.push_token_updates(unix_now()),
        None => return Ok(Vec::new()),
    };
    let mut out = Vec::new();
    for (serial, update) in updates {
        let outcome = (|| -> AppResult<()> {
            let update = update?;
            let body = twofold_http::send_body(update.request()).map_err(http_error)?;
            let (changed, inner) = state.change_in_background(|inner| {
                inner.vault_mut()?.finish_token_update(&update, &body)?;
                Ok(((), Write::YES))
            })?;
            drop(inner);
            changed.backup.report(app);
            Ok(())
        })();
        out.push((serial, outcome));
    }
    Ok(out)
}

/// What a distributor told the app: an endpoint taken (and the servers told), a message read
/// (decrypted, verified, notified once per nonce), an unregistration noted.
pub fn handle<R: Runtime>(app: &AppHandle<R>, incoming: Incoming) -> AppResult<()> {
    match incoming {
        Incoming::NewEndpoint {
            connection,
            endpoint,
        } => new_endpoint(app, connection, Endpoint::WebPush(endpoint)),
        Incoming::NativeToken { connection, token } => {
            answered(app, None)?;
            new_endpoint(app, connection, Endpoint::Native(token))
        }
        Incoming::Refused { connection, reason } => refused(app, &connection, reason),
        Incoming::Message { connection, body } => message(app, &connection, &body),
        Incoming::Unregistered { connection } => unregistered(app, &connection),
    }
}

/// Notes that the platform answered a registration ([`register_with`] then keeps it), with
/// the problem it reported, if any.
fn answered<R: Runtime>(app: &AppHandle<R>, problem: Option<String>) -> AppResult<()> {
    let service = app.state::<PushService>();
    let mut s = PushService::lock(&service.registration)?;
    s.answers = s.answers.wrapping_add(1);
    if problem.is_some() {
        s.distributor = None;
    }
    s.problem = problem;
    Ok(())
}

/// The phone's push service gave no token: requests arrive by polling, and Settings says why.
/// A token given before stays the servers' (messages to it fail at the relay; polling goes on).
fn refused<R: Runtime>(app: &AppHandle<R>, connection: &str, reason: String) -> AppResult<()> {
    let service = app.state::<PushService>();
    let from_vault = app
        .state::<AppState>()
        .get()?
        .vault
        .as_ref()
        .map(|v| v.push_registration().map(|r| r.connection() == connection));
    let ours = {
        match from_vault {
            Some(ours) => ours.unwrap_or(false),
            None => PushService::lock(&service.keyring)?
                .as_ref()
                .and_then(|k| k.registration().map(|r| r.connection() == connection))
                .unwrap_or(true),
        }
    };
    if ours {
        answered(app, Some(reason))?;
        tell(app);
    }
    Ok(())
}

fn new_endpoint<R: Runtime>(
    app: &AppHandle<R>,
    connection: String,
    endpoint: Endpoint,
) -> AppResult<()> {
    let state = app.state::<AppState>();
    let service = app.state::<PushService>();
    let mut inner = state.get()?;
    if inner.vault.is_none() {
        // Taken at the next unlock, if it is this device's registration.
        let ours = PushService::lock(&service.keyring)?
            .as_ref()
            .and_then(|k| k.registration().map(|r| r.connection() == connection))
            .unwrap_or(true);
        if ours {
            let mut s = PushService::lock(&service.registration)?;
            s.endpoint_host = endpoint.host();
            s.pending_endpoint = Some((connection, endpoint));
            drop(s);
            tell(app);
        }
        return Ok(());
    }
    let changed = state.change_with(&mut inner, By::App, |inner| {
        let change = endpoint
            .apply(inner.vault_mut()?, &connection)
            .map_err(|e| AppError::invalid(e.to_string()))?;
        Ok((change, Write::when(change == EndpointChange::Changed)))
    })?;
    let change = changed.value;
    if change == EndpointChange::Ignored {
        return Ok(());
    }
    PushService::lock(&service.registration)?.endpoint_host = endpoint.host();
    tell(app);
    if change == EndpointChange::Changed {
        drop(inner);
        changed.backup.report(app);
        super::locked::refresh_app(app);
        spawn_token_updates(app);
    }
    Ok(())
}

fn unregistered<R: Runtime>(app: &AppHandle<R>, connection: &str) -> AppResult<()> {
    let state = app.state::<AppState>();
    let service = app.state::<PushService>();
    let mut inner = state.get()?;
    if inner.vault.is_some() {
        // The distributor's act, not the person's: it must not keep the vault from locking.
        let changed = state.change_with(&mut inner, By::App, |inner| {
            let cleared = inner.vault_mut()?.clear_push_endpoint(connection);
            Ok((cleared, Write::when(cleared)))
        })?;
        drop(inner);
        if changed.value {
            changed.backup.report(app);
            super::locked::refresh_app(app);
        }
    }
    let mut s = PushService::lock(&service.registration)?;
    s.endpoint_host = None;
    s.pending_endpoint = None;
    s.problem = Some("the push distributor unregistered Twofold".to_owned());
    drop(s);
    tell(app);
    Ok(())
}

/// A pushed message: read by the vault while it is open (saved when new), by the keyring
/// while locked; then told and notified as a poll's news, once per nonce.
fn message<R: Runtime>(app: &AppHandle<R>, connection: &str, body: &[u8]) -> AppResult<()> {
    let state = app.state::<AppState>();
    let service = app.state::<PushService>();
    let now = unix_now();
    let mut report = super::poller::PollReport::default();
    // The keyring's lock before the state's, as the locked poll takes them.
    let mut live = PushService::lock(&service.keyring)?;
    let mut inner = state.get()?;
    if let Some(vault) = inner.vault.as_ref() {
        drop(live);
        if vault
            .push_registration()
            .is_none_or(|r| r.connection() != connection)
        {
            return Ok(());
        }
        report.backup = state
            .change_with(&mut inner, By::App, |inner| {
                let news = inner.vault_mut()?.read_pushed(body, now)?;
                Ok(((), Write::when(news.new)))
            })?
            .backup;
        (report.views, report.new) = super::poller::tell_unlocked(&mut inner, now)?;
        drop(inner);
    } else {
        let Some(ring) = live.as_mut() else {
            return Ok(());
        };
        if ring
            .registration()
            .is_none_or(|r| r.connection() != connection)
        {
            return Ok(());
        }
        ring.read_pushed(body, now)?;
        (report.views, report.new) = super::poller::tell_locked(&mut inner, ring, now);
        drop(inner);
        drop(live);
    }
    for view in super::notifier::announce(app, report) {
        super::notifier::notify(app, &view);
    }
    Ok(())
}
