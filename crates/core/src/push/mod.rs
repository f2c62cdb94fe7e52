//! Push sign-in approvals, sans-IO: this module builds requests and consumes response bytes;
//! the app and the CLI do the HTTP. Time comes from the caller (an injected [`crate::Clock`]).
//!
//! The protocol states are types: for privacyIDEA, a scanned [`privacyidea::Enrolment`] becomes a
//! [`privacyidea::PendingEnrolment`] (the request to send) and then a [`PushAccount`] (the
//! enrolled token, kept in the vault); a poll's bytes become verified [`Challenge`]s, and an
//! answer is a [`PendingAnswer`] until the server's reply makes it an [`AnswerOutcome`].
//! Nothing reaches the user before its server signature is checked.
//!
//! The flows and what an administrator configures: `docs/push.md`.

pub mod device_token;
mod keys;
pub mod privacyidea;
#[cfg(test)]
mod tests_webpush;
pub mod webpush;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use keys::{KeyError, MIN_SERVER_KEY_BITS, PHONE_KEY_BITS, PhoneKey, ServerKey};
pub use privacyidea::PrivacyIdea;
pub use webpush::PushRegistration;

/// A challenge may be answered until this many seconds after it was received (what the
/// official privacyIDEA app does; the server's own default lifetime is the same 120 s).
pub const CHALLENGE_LIFETIME_SECS: u64 = 120;

/// The HTTP method of a [`Request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET, parameters in the query string.
    Get,
    /// POST, parameters form-encoded (`application/x-www-form-urlencoded`) in the body.
    Post,
}

/// One HTTP request to make, as plain data: the caller sends it and hands the response body
/// back. `Debug` shows the method, URL and field names, never the values (an enrolment
/// credential or a push token could be among them).
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// GET or POST.
    pub method: Method,
    /// The URL, without the parameters.
    pub url: String,
    /// The parameters: the query string of a GET, the form body of a POST.
    pub params: Vec<(String, String)>,
    /// Check the server's TLS certificate (false only where the server asked for it with
    /// `sslverify=0`).
    pub verify_tls: bool,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.params.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("params", &names)
            .field("verify_tls", &self.verify_tls)
            .finish()
    }
}

impl Request {
    /// The value of a parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An enrolled push token: everything needed to poll for and answer its challenges. Lives in
/// the vault (the phone key encrypted with the rest), apart from the OTP accounts, so no
/// export ever sees it. `Debug` never shows the phone key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushAccount {
    /// The protocol ([`PushProtocol::name`]); `privacyidea` for now.
    pub protocol: String,
    /// The token's serial (`PIPU...`), unique in the vault.
    pub serial: String,
    /// Who enrolled it (the QR's `issuer`).
    pub issuer: String,
    /// The QR's label.
    pub label: String,
    /// Where polls and answers go.
    pub url: String,
    /// Check TLS certificates (`sslverify=1`).
    pub verify_tls: bool,
    /// The server has no push service for it: challenges only arrive by polling.
    pub poll_only: bool,
    /// The QR asked for the app's PIN (`pin=True`): unlock the device before approving.
    pub require_pin: bool,
    /// The QR's `app_force_unlock` (`any`, `biometric` or `pin`), if any.
    pub force_unlock: Option<String>,
    /// The phone's key pair.
    pub phone_key: PhoneKey,
    /// The server's public key for this token.
    pub server_key: ServerKey,
    /// The push service token the server has (`fbtoken`; `no_firebase_token` when polling).
    pub push_token: String,
    /// When the enrolment finished (Unix seconds).
    pub enrolled_at: u64,
}

impl PushAccount {
    /// True when approving needs device authentication first (`pin=True` or
    /// `app_force_unlock`).
    pub fn requires_unlock(&self) -> bool {
        self.require_pin || self.force_unlock.is_some()
    }

    /// What polling while the vault is locked needs of this account (`docs/push.md`, "Push
    /// while locked"): the serial, the server's URL and key, the TLS flag, the name shown in
    /// the notification, and the phone key that signs the poll (privacyIDEA signs polls and
    /// answers with the one key). `None` for an account that requires the user's presence to
    /// approve ([`PushAccount::requires_unlock`]): its phone key never leaves the vault, since
    /// whoever holds it could approve without that presence. The push-service token and the
    /// enrolment time stay in the vault.
    pub fn for_polling(&self) -> Option<PushAccount> {
        if self.requires_unlock() {
            return None;
        }
        Some(PushAccount {
            protocol: self.protocol.clone(),
            serial: self.serial.clone(),
            issuer: self.issuer.clone(),
            label: self.label.clone(),
            url: self.url.clone(),
            verify_tls: self.verify_tls,
            poll_only: false,
            require_pin: false,
            force_unlock: None,
            phone_key: self.phone_key.clone(),
            server_key: self.server_key.clone(),
            push_token: String::new(),
            enrolled_at: 0,
        })
    }
}

/// A decline's reason, sent only when the server's signed capabilities allow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    /// "That wasn't me": the user did not start this sign-in.
    UnknownTrigger,
    /// The user started it and changed their mind.
    Cancelled,
}

impl DeclineReason {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            DeclineReason::UnknownTrigger => "unknown_trigger",
            DeclineReason::Cancelled => "cancelled",
        }
    }

    /// Reads a wire value.
    pub fn from_name(name: &str) -> Option<DeclineReason> {
        match name {
            "unknown_trigger" => Some(DeclineReason::UnknownTrigger),
            "cancelled" => Some(DeclineReason::Cancelled),
            _ => None,
        }
    }
}

/// What the user decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Answer {
    /// Approve; with number matching, the option the user picked.
    Accept {
        /// The picked option (required when the challenge offers options).
        option: Option<String>,
    },
    /// Deny, with a reason where the server accepts one.
    Decline {
        /// Why (only when [`Challenge::decline_reasons`] is true).
        reason: Option<DeclineReason>,
    },
}

/// A challenge whose server signature (and capabilities signature, where present) checked
/// out: only such a challenge is shown or answered. Made by a protocol's poll parsing (or
/// read back from the vault, where it is stored encrypted while it waits for an answer).
/// Equality compares what it says, not where it came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Challenge {
    serial: String,
    nonce: String,
    title: String,
    question: String,
    url: String,
    verify_tls: bool,
    options: Option<Vec<String>>,
    decline_reasons: bool,
    received_at: u64,
    /// The challenge as the server sent it (its JSON), kept in memory only, so that one
    /// verified with keys from the platform's storage can be verified again with the vault's
    /// ([`PushProtocol::verify`]) before the vault takes it.
    #[serde(skip)]
    signed: Option<String>,
}

impl PartialEq for Challenge {
    fn eq(&self, other: &Self) -> bool {
        self.serial == other.serial
            && self.nonce == other.nonce
            && self.title == other.title
            && self.question == other.question
            && self.url == other.url
            && self.verify_tls == other.verify_tls
            && self.options == other.options
            && self.decline_reasons == other.decline_reasons
            && self.received_at == other.received_at
    }
}

impl Eq for Challenge {}

impl Challenge {
    /// The token it is for.
    pub fn serial(&self) -> &str {
        &self.serial
    }
    /// The server's one-time id of this sign-in.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }
    /// The administrator's title (`push_title_on_mobile`).
    pub fn title(&self) -> &str {
        &self.title
    }
    /// The administrator's question (`push_text_on_mobile`), e.g. who signs in from where.
    pub fn question(&self) -> &str {
        &self.question
    }
    /// Where the answer goes.
    pub fn url(&self) -> &str {
        &self.url
    }
    /// Check TLS certificates when answering.
    pub fn verify_tls(&self) -> bool {
        self.verify_tls
    }
    /// Number matching: the options to pick from, in the server's order (show them in a
    /// random order, none pre-selected).
    pub fn options(&self) -> Option<&[String]> {
        self.options.as_deref()
    }
    /// The server's signed capabilities allow a reason with a decline.
    pub fn decline_reasons(&self) -> bool {
        self.decline_reasons
    }
    /// When it was received (Unix seconds).
    pub fn received_at(&self) -> u64 {
        self.received_at
    }
    /// After this (Unix seconds) it can no longer be answered.
    pub fn expires_at(&self) -> u64 {
        self.received_at.saturating_add(CHALLENGE_LIFETIME_SECS)
    }
    /// True once [`Challenge::expires_at`] has passed.
    pub fn is_expired(&self, now: u64) -> bool {
        now > self.expires_at()
    }
    /// The challenge as the server sent it, while this process holds it (never stored).
    pub fn signed(&self) -> Option<&str> {
        self.signed.as_deref()
    }
}

/// What a poll brought: the verified challenges, and those refused (never shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollOutcome {
    /// Verified challenges, in the server's order.
    pub challenges: Vec<Challenge>,
    /// Challenges that failed verification, with the reason.
    pub rejected: Vec<ChallengeError>,
}

/// Why one challenge of a poll was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    /// A field is missing or not a string.
    #[error("a challenge lacks the field {0:?}")]
    Missing(&'static str),
    /// It names another token.
    #[error("a challenge for another token ({0}) came with this token's poll")]
    WrongSerial(String),
    /// The server's signature does not match: altered on the way, or not from this server.
    #[error("a challenge's signature does not verify with the server key (altered or forged)")]
    BadSignature,
    /// The capabilities are unsigned, malformed, or their signature does not match.
    #[error("a challenge's capabilities are not signed by the server: {0}")]
    BadCapabilities(&'static str),
}

/// The server refused a request: its `result.error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the server refused: {message} (error {code})")]
pub struct ServerError {
    /// privacyIDEA's error code (e.g. 905 for a wrong enrolment credential).
    pub code: i64,
    /// Its message.
    pub message: String,
}

/// Why a poll failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PollError {
    /// The account's protocol is not one this version speaks.
    #[error("unknown push protocol {0:?}")]
    UnknownProtocol(String),
    /// The poll could not be signed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The server said no.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The reply is not what the protocol says.
    #[error("unexpected poll reply: {0}")]
    Response(String),
    /// The server refused the poll's timestamp: this device's clock is more than 60 s off
    /// the server's (privacyIDEA's ERR10 "timestamp ... not in range").
    #[error(
        "this device's clock is more than 60 seconds off the server's ({0}); set the clock right and try again"
    )]
    ClockOff(ServerError),
}

/// Why an answer could not be made or was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// Received more than [`CHALLENGE_LIFETIME_SECS`] ago.
    #[error("this sign-in request has expired")]
    Expired,
    /// Already answered: a nonce is never answered twice.
    #[error("this sign-in request was already answered")]
    AlreadyAnswered,
    /// Number matching: approving needs one of the options.
    #[error("pick one of the options shown ({0})")]
    OptionRequired(String),
    /// Number matching: not one of the options.
    #[error("{0:?} is not one of the options ({1})")]
    NotAnOption(String, String),
    /// An option given where none was asked.
    #[error("this sign-in request has no options to pick from")]
    NoOptions,
    /// A decline reason the server's signed capabilities do not allow.
    #[error("this server does not take a reason with a decline")]
    ReasonNotAllowed,
    /// The challenge belongs to another account.
    #[error("the challenge is not for this account")]
    WrongAccount,
    /// No pending (received, unanswered, unexpired) challenge has this nonce.
    #[error(
        "no pending sign-in request {0:?} (poll first; requests expire 2 minutes after they arrive)"
    )]
    NotPending(String),
    /// The push account of the challenge is gone or speaks an unknown protocol.
    #[error("no usable push account {0:?} for this sign-in request")]
    NoAccount(String),
    /// The answer could not be signed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The server said no.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The reply is not what the protocol says.
    #[error("unexpected answer reply: {0}")]
    Response(String),
}

/// Why a push-token update failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    /// The new token is empty or has a `|` (which would make the signed string ambiguous).
    #[error("the new push token is empty or contains '|'")]
    InvalidToken,
    /// The request could not be signed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The server said no.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The reply is not what the protocol says.
    #[error("unexpected update reply: {0}")]
    Response(String),
}

/// A coarse position of the phone when a decision was made (the app asks for it, optional).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
    /// Radius of uncertainty in metres, if known.
    pub accuracy_m: Option<f64>,
}

/// One decision in the activity log (kept in the vault).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// When (Unix seconds).
    pub at: u64,
    /// The token.
    pub serial: String,
    /// The challenge's title.
    pub title: String,
    /// The challenge's question.
    pub question: String,
    /// What the user decided.
    pub answer: Answer,
    /// The server took the answer.
    pub accepted: bool,
    /// Where the phone was; `None` when unavailable, denied or not asked (the CLI).
    pub location: Option<Location>,
}

/// A nonce that was answered, kept so it is never answered again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnsweredNonce {
    /// The token.
    pub serial: String,
    /// The nonce.
    pub nonce: String,
    /// When (Unix seconds).
    pub at: u64,
}

/// An answer on its way: send [`PendingAnswer::request`], then give the reply to
/// [`PendingAnswer::finish`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAnswer {
    request: Request,
    serial: String,
    nonce: String,
    answer: Answer,
}

impl PendingAnswer {
    /// The request to send.
    pub fn request(&self) -> &Request {
        &self.request
    }
    /// The nonce answered.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }
    /// The token.
    pub fn serial(&self) -> &str {
        &self.serial
    }
    /// What is answered.
    pub fn answer(&self) -> &Answer {
        &self.answer
    }
}

impl PendingAnswer {
    /// True for an approval with a number-matching option: a `false` reply leaves the
    /// challenge open for another try.
    pub fn is_option_accept(&self) -> bool {
        matches!(self.answer, Answer::Accept { option: Some(_) })
    }
}

/// What the server did with an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerOutcome {
    /// The server took the answer (true for a successful decline too). False for a wrong
    /// number-matching option: the challenge stays open for another try.
    pub accepted: bool,
    /// Code to phone: the code the user types into the sign-in form (show it prominently).
    pub display_code: Option<String>,
}

/// A push-token update on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTokenUpdate {
    request: Request,
    serial: String,
    new_token: String,
}

impl PendingTokenUpdate {
    /// The request to send.
    pub fn request(&self) -> &Request {
        &self.request
    }
    /// The token.
    pub fn serial(&self) -> &str {
        &self.serial
    }
    /// The new push token, to store once the server took it.
    pub fn new_token(&self) -> &str {
        &self.new_token
    }
}

/// A push protocol after enrolment: polling, answering, token updates. Enrolment differs too
/// much between protocols to share a signature (see [`privacyidea::Enrolment`]). Object-safe:
/// [`protocol`] picks the implementation for an account.
pub trait PushProtocol {
    /// The name stored in [`PushAccount::protocol`].
    fn name(&self) -> &'static str;

    /// The signed request that asks the server for `account`'s open challenges.
    fn poll(&self, account: &PushAccount, now: u64) -> Result<Request, PollError>;

    /// Verifies a challenge as the server sent it ([`Challenge::signed`]) with `account`'s
    /// server key, as [`PushProtocol::read_poll`] does for each one of a reply.
    fn verify(
        &self,
        account: &PushAccount,
        signed: &str,
        received_at: u64,
    ) -> Result<Challenge, ChallengeError>;

    /// Reads a poll reply, verifying every challenge; `received_at` is now.
    fn read_poll(
        &self,
        account: &PushAccount,
        body: &[u8],
        received_at: u64,
    ) -> Result<PollOutcome, PollError>;

    /// The signed answer to a verified challenge. Refuses an expired challenge, a missing or
    /// unknown option, and a decline reason the capabilities do not allow.
    fn answer(
        &self,
        account: &PushAccount,
        challenge: &Challenge,
        answer: Answer,
        now: u64,
    ) -> Result<PendingAnswer, AnswerError>;

    /// Reads the reply to an answer.
    fn read_answer(
        &self,
        pending: &PendingAnswer,
        body: &[u8],
    ) -> Result<AnswerOutcome, AnswerError>;

    /// The signed request that gives the server a new push-service token.
    fn update_token(
        &self,
        account: &PushAccount,
        new_token: &str,
        now: u64,
    ) -> Result<PendingTokenUpdate, UpdateError>;

    /// Reads the reply to a token update; on `Ok` store [`PendingTokenUpdate::new_token`].
    fn read_update(&self, pending: &PendingTokenUpdate, body: &[u8]) -> Result<(), UpdateError>;
}

/// The protocol an account speaks, if this version knows it.
pub fn protocol(account: &PushAccount) -> Option<&'static dyn PushProtocol> {
    static PRIVACYIDEA: PrivacyIdea = PrivacyIdea;
    match account.protocol.as_str() {
        privacyidea::NAME => Some(&PRIVACYIDEA),
        _ => None,
    }
}
