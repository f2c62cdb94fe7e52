//! The push types that cross the IPC boundary (docs/ipc.md, "Push"): the push accounts, the
//! sign-in requests and their answers, the activity log, enrolment, delivery and polling.

use serde::{Deserialize, Serialize};

use crate::dto::LocationView;

/// What the user did with a sign-in notification (the notification plugin's `actionId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum NotificationAction {
    /// Tapped the notification: open the request's approval screen.
    Tap,
    /// Pressed Approve (phones; never on a number-matching request).
    Approve,
    /// Pressed Deny (phones).
    Deny,
    /// Swiped it away: nothing to do.
    Dismiss,
}

/// What a notification action came to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum NotificationOutcome {
    /// The request's approval screen was opened (`push-open`): tapped, or a button press
    /// that needs the screen (number matching, device authentication, a locked vault).
    Opened,
    /// Answered from the button.
    Answered {
        /// The server's verdict.
        answer: PushAnswerView,
    },
    /// Dismissed, or the request is gone (answered or expired): nothing done.
    Nothing,
}

/// An enrolled push token (privacyIDEA PUSH), as the accounts list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PushAccountView {
    /// The token's serial.
    pub serial: String,
    /// Who enrolled it.
    pub issuer: String,
    /// The QR code's label.
    pub label: String,
    /// Where polls and answers go.
    pub url: String,
    /// Approving needs device authentication first.
    pub requires_unlock: bool,
    /// When it was enrolled (Unix seconds).
    #[cfg_attr(test, ts(type = "number"))]
    pub enrolled_at: u64,
    /// Prompts of this account are not shown until then (Unix seconds); `null` when not muted.
    #[cfg_attr(test, ts(type = "number | null"))]
    pub muted_until: Option<u64>,
    /// The QR code said `sslverify=0`: TLS certificates are not checked (warn in the row).
    pub insecure_tls: bool,
    /// The serial of the privacyIDEA container that manages it; `null` when none does.
    pub container: Option<String>,
    /// The organization that manages it (its container's issuer); `null` when none does.
    pub managed_by: Option<String>,
    /// False when the managing server forbids deleting it on this device.
    pub deletable: bool,
}

/// A verified sign-in request waiting for an answer (several of one account within a
/// minute collapse into one, the newest, with `count`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PushChallengeView {
    /// The server's one-time id of this sign-in (answer with it).
    pub nonce: String,
    /// The push account's serial.
    pub serial: String,
    /// The push account's issuer.
    pub issuer: String,
    /// The push account's label.
    pub label: String,
    /// The server's title (signed).
    pub title: String,
    /// The server's question (signed).
    pub question: String,
    /// Number matching: the options in the server's order (the UI shuffles them).
    pub options: Option<Vec<String>>,
    /// A decline may carry a reason.
    pub decline_reasons: bool,
    /// When it was received (Unix seconds).
    #[cfg_attr(test, ts(type = "number"))]
    pub received_at: u64,
    /// After this it can no longer be answered (Unix seconds; `receivedAt + 120`).
    #[cfg_attr(test, ts(type = "number"))]
    pub expires_at: u64,
    /// How many requests of this account within a minute this view stands for.
    pub count: u32,
    /// Approving needs device authentication first.
    pub requires_unlock: bool,
}

/// Approve or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum PushDecision {
    /// Approve the sign-in.
    Approve,
    /// Deny it.
    Deny,
}

/// Why a sign-in was denied (sent only where the server's signed capabilities allow it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum DeclineReason {
    /// "That wasn't me".
    UnknownTrigger,
    /// The user cancelled.
    Cancelled,
}

/// What the server did with an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PushAnswerView {
    /// The server took the answer (false for a wrong number: the prompt stays open).
    pub accepted: bool,
    /// Code to phone: show it large, the user types it on the sign-in page.
    pub display_code: Option<String>,
}

/// One decision of the sign-in activity log.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ActivityView {
    /// When (Unix seconds).
    #[cfg_attr(test, ts(type = "number"))]
    pub at: u64,
    /// The push account's serial.
    pub serial: String,
    /// Its issuer (empty when the account was removed since).
    pub issuer: String,
    /// Its label (empty when the account was removed since).
    pub label: String,
    /// The request's title.
    pub title: String,
    /// The request's question.
    pub question: String,
    /// Approve or deny.
    pub decision: PushDecision,
    /// The number picked, if any.
    pub answer: Option<String>,
    /// The reason of a denial, if any.
    pub reason: Option<DeclineReason>,
    /// The server took the answer.
    pub accepted: bool,
    /// Where the phone was, when known.
    pub location: Option<LocationView>,
}

/// Payload of the `push-open` event.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PushOpenPayload {
    /// The prompt to open.
    pub nonce: String,
}

/// The `push-challenges` event's name (payload `PushChallengeView[]`).
pub const EVENT_PUSH_CHALLENGES: &str = "push-challenges";
/// The `push-open` event's name.
pub const EVENT_PUSH_OPEN: &str = "push-open";

impl From<DeclineReason> for twofold_core::push::DeclineReason {
    fn from(r: DeclineReason) -> Self {
        use twofold_core::push::DeclineReason as Core;
        match r {
            DeclineReason::UnknownTrigger => Core::UnknownTrigger,
            DeclineReason::Cancelled => Core::Cancelled,
        }
    }
}

impl From<twofold_core::push::DeclineReason> for DeclineReason {
    fn from(r: twofold_core::push::DeclineReason) -> Self {
        use twofold_core::push::DeclineReason as Core;
        match r {
            Core::UnknownTrigger => DeclineReason::UnknownTrigger,
            Core::Cancelled => DeclineReason::Cancelled,
        }
    }
}

/// Something the user must see before a push enrolment is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum PushEnrolWarning {
    /// `sslverify=0`: the server's TLS certificate will not be checked.
    TlsNotVerified,
    /// The server sends no push notifications: sign-ins appear when the app polls.
    PollOnly,
    /// `http://` (allowed to this device only, a test server): nothing is encrypted.
    PlainHttp,
}

/// A privacyIDEA push enrolment QR code, read but not sent: the confirmation screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PushEnrolPreview {
    /// Confirm (or cancel) with this id.
    pub id: String,
    /// The server's host name, as the enrolment will contact it.
    pub host: String,
    /// The whole server address.
    pub url: String,
    /// Who asks (the QR code's issuer).
    pub issuer: String,
    /// The QR code's label.
    pub label: String,
    /// The token's serial.
    pub serial: String,
    /// Approving will need device authentication.
    pub requires_unlock: bool,
    /// After this (Unix seconds) the QR code can no longer be used.
    #[cfg_attr(test, ts(type = "number"))]
    pub expires_at: u64,
    /// Every warning, in this order: TLS, poll-only, plain HTTP.
    pub warnings: Vec<PushEnrolWarning>,
    /// How this token's sign-in requests will arrive.
    pub delivery: PushDelivery,
}

/// How a push token's sign-in requests arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum PushDelivery {
    /// Pushed through the organization's relay and this device's push distributor, also while
    /// Twofold is closed to the tray or locked (polling stays as the fallback).
    Push,
    /// Only while Twofold runs: it asks the server every 3 s (the server is poll-only, or this
    /// device has no push distributor).
    WhileOpen,
}

/// The state of this device's push registration (Settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum PushRegistrationState {
    /// This platform has no push distributor Twofold can use yet: requests arrive by polling.
    Unsupported,
    /// No push distributor is installed (or it refused): requests arrive by polling.
    NoDistributor,
    /// Registered with the distributor, waiting for its endpoint (or for an unlock).
    Waiting,
    /// The distributor gave an endpoint: new and existing push tokens get pushed requests.
    Registered,
}

/// This device's push registration, for Settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PushRegistrationView {
    /// Where it stands.
    pub state: PushRegistrationState,
    /// The distributor's name (a D-Bus service name on Linux), once it took the registration.
    pub distributor: Option<String>,
    /// The push service's host of the endpoint (never its path).
    pub endpoint_host: Option<String>,
    /// Why there is no push, when there is a reason to show.
    pub problem: Option<String>,
}

/// One push account whose last poll failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PushPollFailure {
    /// The account's serial.
    pub serial: String,
    /// What failed (no network, the server refused, ...).
    pub message: String,
    /// The server refused the poll's time: this device's clock is more than 60 s off.
    pub clock_off: bool,
}

/// How the last poll of the push accounts went (the `push-poll-status` event's payload and
/// `push_poll_status`'s answer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PushPollStatus {
    /// When (Unix seconds; 0 before the first poll).
    #[cfg_attr(test, ts(type = "number"))]
    pub at: u64,
    /// The accounts whose poll failed; empty when every poll worked.
    pub failures: Vec<PushPollFailure>,
    /// Some server said this device's clock is more than 60 s off.
    pub clock_off: bool,
}

/// The `push-poll-status` event's name (payload `PushPollStatus`), sent when how polling
/// goes changes.
pub const EVENT_PUSH_POLL_STATUS: &str = "push-poll-status";
/// This device's push registration changed (payload [`PushRegistrationView`]).
pub const EVENT_PUSH_REGISTRATION: &str = "push-registration";
