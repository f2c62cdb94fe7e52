//! Push registration on phones (docs/push.md, "Phones"): the platform's push service (FCM on
//! Android, APNs on iOS) gives its token through tauri-plugin-notifications
//! (`register_for_push_notifications`), which is [`TokenSource`] here so that the shell tests
//! drive the flow with the plugin's edge mocked. The token becomes a relay device token
//! (`DeviceToken::Fcm` / `DeviceToken::Apns`) and reaches the one registration flow of
//! `crate::push::delivery` as [`Incoming::NativeToken`] (the vault's device token: enrolments
//! send it, `new_fb_token` moves the tokens enrolled before), or, when the platform gives none,
//! as [`Incoming::Refused`] with its reason: polling stays, and Settings says why.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use twofold_core::push::device_token::{DeviceToken, TokenError};

use crate::push::delivery::{Distributor, DistributorError, Incoming};

/// The push service a phone's token belongs to.
// Each platform makes one (Android only with google-services.json); the tests make both.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Firebase Cloud Messaging (Android): FirebaseMessaging's registration token.
    Fcm,
    /// Apple Push Notification service (iOS): the device token, hex.
    Apns {
        /// Signed for Apple's development environment (the relay then uses the sandbox).
        sandbox: bool,
    },
}

impl Service {
    /// Its name, as Settings shows it.
    pub fn name(self) -> &'static str {
        match self {
            Service::Fcm => "Firebase Cloud Messaging",
            Service::Apns { .. } => "Apple Push Notification service",
        }
    }

    /// The platform's token as the relay's device token, checked as the relay reads it.
    pub fn device_token(self, raw: &str) -> Result<DeviceToken, TokenError> {
        match self {
            Service::Fcm => DeviceToken::fcm(raw),
            Service::Apns { sandbox } => DeviceToken::apns(raw, sandbox),
        }
    }
}

/// The answer of [`TokenSource::request`]: the platform's token, or why there is none.
pub type TokenAnswer = Box<dyn FnOnce(Result<String, String>) + Send>;

/// The plugin's edge: asks the platform for its push token.
pub trait TokenSource: Send + Sync + 'static {
    /// Which push service the token is for.
    fn service(&self) -> Service;
    /// Asks for the token; `answer` is called once, from any thread, possibly before this
    /// returns (the platform answers on its main thread: never wait for it here).
    fn request(&self, answer: TokenAnswer);
}

/// The [`Distributor`] of phones: registering asks the [`TokenSource`]; its answer goes out as
/// an [`Incoming`] on the channel [`PhonePush::new`] returns, which the platform hands to
/// `crate::push::delivery::handle` in order on a thread of its own (as UnifiedPush's calls).
pub struct PhonePush {
    source: Arc<dyn TokenSource>,
    incoming: Mutex<Sender<Incoming>>,
}

impl PhonePush {
    /// The phone's registration through `source`, and what it will tell the app.
    pub fn new(source: Arc<dyn TokenSource>) -> (Self, Receiver<Incoming>) {
        let (tx, rx) = channel();
        (
            PhonePush {
                source,
                incoming: Mutex::new(tx),
            },
            rx,
        )
    }
}

impl Distributor for PhonePush {
    fn register(&self, connection: &str) -> Result<String, DistributorError> {
        let service = self.source.service();
        let tx = self
            .incoming
            .lock()
            .map_err(|_| DistributorError::Unreachable("a registration failed before".into()))?
            .clone();
        let connection = connection.to_owned();
        self.source.request(Box::new(move |answer| {
            let incoming = match answer.and_then(|raw| {
                service
                    .device_token(&raw)
                    .map_err(|e| format!("{} gave an unusable token: {e}", service.name()))
            }) {
                Ok(token) => Incoming::NativeToken { connection, token },
                Err(reason) => Incoming::Refused { connection, reason },
            };
            // Nobody listens once the app is leaving.
            let _ = tx.send(incoming);
        }));
        Ok(service.name().to_owned())
    }
}

/// A phone build that cannot register: requests arrive by polling, and Settings says why.
pub struct Unconfigured(pub &'static str);

/// Why an Android build has no push: FCM needs the app's own Firebase project.
pub const NO_FIREBASE: &str = "no Firebase configuration in this build (google-services.json): sign-in requests arrive while Twofold is open";

impl Distributor for Unconfigured {
    fn register(&self, _connection: &str) -> Result<String, DistributorError> {
        Err(DistributorError::NotConfigured(self.0.to_owned()))
    }
}
