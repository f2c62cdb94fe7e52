//! privacyIDEA's PUSH token (`pipush`), byte-exact as privacyIDEA 3.14 speaks it
//! (`docs/privacyidea.md`; flows in `docs/push.md`).
//!
//! Every string either side signs is built by one named function here
//! ([`poll_message`], [`challenge_message`], [`capabilities_message`], [`accept_message`],
//! [`accept_option_message`], [`decline_message`], [`token_update_message`]), each with golden
//! tests.

use std::fmt;

use serde_json::Value;
use zeroize::Zeroizing;

use super::{
    Answer, AnswerError, AnswerOutcome, Challenge, ChallengeError, KeyError, Method, PendingAnswer,
    PendingTokenUpdate, PhoneKey, PollError, PollOutcome, PushAccount, PushProtocol, Request,
    ServerError, ServerKey, UpdateError,
};
use crate::uri::{excerpt, query_pairs, split_scheme};

/// The protocol's name in [`PushAccount::protocol`].
pub const NAME: &str = "privacyidea";

/// What a poll-only phone sends as its push token.
pub const NO_PUSH_TOKEN: &str = "no_firebase_token";

/// The enrolment URI's `ttl` when it has none, in minutes (privacyIDEA's default).
pub const DEFAULT_TTL_MINUTES: u64 = 10;

// ---------------------------------------------------------------------------------------------
// The signed strings.

/// What the phone signs to poll: `{serial}|{timestamp}`.
pub fn poll_message(serial: &str, timestamp: &str) -> String {
    format!("{serial}|{timestamp}")
}

/// What the server signs in a challenge:
/// `{nonce}|{url}|{serial}|{question}|{title}|{sslverify}`, then `|{require_presence}` when
/// the challenge asks for number matching.
pub fn challenge_message(
    nonce: &str,
    url: &str,
    serial: &str,
    question: &str,
    title: &str,
    sslverify: &str,
    require_presence: Option<&str>,
) -> String {
    let mut s = format!("{nonce}|{url}|{serial}|{question}|{title}|{sslverify}");
    if let Some(p) = require_presence {
        s.push('|');
        s.push_str(p);
    }
    s
}

/// What the server signs for its capabilities (3.14): the RFC 8785 canonical JSON of
/// `{"capabilities": <the parsed capabilities>, "nonce": "<nonce>"}`.
pub fn capabilities_message(capabilities: &Value, nonce: &str) -> Result<Vec<u8>, ChallengeError> {
    let mut outer = serde_json::Map::new();
    outer.insert("capabilities".to_owned(), capabilities.clone());
    outer.insert("nonce".to_owned(), Value::String(nonce.to_owned()));
    serde_json_canonicalizer::to_vec(&Value::Object(outer))
        .map_err(|_| ChallengeError::BadCapabilities("they cannot be canonicalized"))
}

/// What the phone signs to approve: `{nonce}|{serial}`.
pub fn accept_message(nonce: &str, serial: &str) -> String {
    format!("{nonce}|{serial}")
}

/// What the phone signs to approve with number matching: `{nonce}|{serial}|{option}`.
pub fn accept_option_message(nonce: &str, serial: &str, option: &str) -> String {
    format!("{nonce}|{serial}|{option}")
}

/// What the phone signs to decline: `{nonce}|{serial}|decline`, then `|{reason}` with a reason.
pub fn decline_message(nonce: &str, serial: &str, reason: Option<&str>) -> String {
    match reason {
        Some(r) => format!("{nonce}|{serial}|decline|{r}"),
        None => format!("{nonce}|{serial}|decline"),
    }
}

/// What the phone signs to give the server a new push token:
/// `{new_fb_token}|{serial}|{timestamp}`.
pub fn token_update_message(new_token: &str, serial: &str, timestamp: &str) -> String {
    format!("{new_token}|{serial}|{timestamp}")
}

/// ISO 8601 UTC with an explicit offset, as privacyIDEA parses it:
/// `2026-11-27T17:47:00+00:00`. The server accepts ±60 s for polls, ±5 min for updates.
pub fn timestamp(unix_seconds: u64) -> String {
    let t = crate::clock::Utc::from_unix(unix_seconds);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

// ---------------------------------------------------------------------------------------------
// Enrolment.

/// Why an enrolment failed. Never holds the enrolment credential or a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrolError {
    /// Not an `otpauth://pipush/` or `pia://pipush/` URI.
    #[error("not a privacyIDEA push enrolment URI")]
    NotPush,
    /// A required parameter is missing.
    #[error("the enrolment URI lacks {0:?}")]
    Missing(&'static str),
    /// A parameter has a value we cannot use.
    #[error("the enrolment URI's {field} is invalid ({value:?})")]
    Invalid {
        /// The parameter.
        field: &'static str,
        /// An excerpt of its value (never for the credential).
        value: String,
    },
    /// The QR code's `ttl` has passed since it was scanned.
    #[error(
        "the enrolment QR code expired {ttl_minutes} minutes after it was scanned; ask for a new one"
    )]
    Expired {
        /// The QR's time to live.
        ttl_minutes: u64,
    },
    /// The phone key could not be made or used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The server said no (a wrong credential is error 905).
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The reply is not what the protocol says.
    #[error("unexpected enrolment reply: {0}")]
    Response(String),
}

/// Something the user should know before enrolling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrolWarning {
    /// `sslverify=0`: the server's TLS certificate will not be checked, for the enrolment
    /// and for every later challenge that says the same.
    TlsNotVerified,
    /// The server has no push service for this token: sign-ins are only seen by polling.
    PollOnly,
}

impl fmt::Display for EnrolWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EnrolWarning::TlsNotVerified => {
                "the server turned off TLS certificate checks (sslverify=0): anyone on the network path could impersonate it"
            }
            EnrolWarning::PollOnly => {
                "the server sends no push notifications for this token: sign-in requests appear when the app polls"
            }
        })
    }
}

/// A scanned enrolment QR code (`otpauth://pipush/LABEL?url=...&ttl=...`), checked. The
/// enrolment credential is kept in zeroizing memory and never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Enrolment {
    serial: String,
    label: String,
    issuer: String,
    url: crate::server_url::ServerUrl,
    ttl_minutes: u64,
    scanned_at: u64,
    credential: Zeroizing<String>,
    verify_tls: bool,
    poll_only: bool,
    require_pin: bool,
    force_unlock: Option<String>,
}

impl fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Enrolment")
            .field("serial", &self.serial)
            .field("label", &self.label)
            .field("issuer", &self.issuer)
            .field("url", &self.url)
            .field("ttl_minutes", &self.ttl_minutes)
            .field("scanned_at", &self.scanned_at)
            .field("verify_tls", &self.verify_tls)
            .field("poll_only", &self.poll_only)
            .finish_non_exhaustive()
    }
}

fn decoded(raw: &str, field: &'static str) -> Result<String, EnrolError> {
    percent_encoding::percent_decode_str(&raw.replace('+', " "))
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| EnrolError::Invalid {
            field,
            value: excerpt(raw),
        })
}

fn flag(value: Option<&str>, field: &'static str) -> Result<bool, EnrolError> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "0" | "") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(v) => Err(EnrolError::Invalid {
            field,
            value: excerpt(v),
        }),
    }
}

impl Enrolment {
    /// Reads an enrolment URI scanned at `scanned_at` (Unix seconds): its `ttl` counts from then.
    pub fn parse(uri: &str, scanned_at: u64) -> Result<Enrolment, EnrolError> {
        let uri = uri.trim();
        if uri.len() > crate::uri::MAX_URI_LEN {
            return Err(EnrolError::Invalid {
                field: "URI",
                value: format!("{} bytes long", uri.len()),
            });
        }
        let (scheme, rest) = split_scheme(uri).ok_or(EnrolError::NotPush)?;
        if scheme != "otpauth" && scheme != "pia" {
            return Err(EnrolError::NotPush);
        }
        let rest = match rest.get(..7) {
            Some(host) if host.eq_ignore_ascii_case("pipush/") => &rest[7..],
            _ => return Err(EnrolError::NotPush),
        };
        let (raw_label, query) = rest.split_once('?').unwrap_or((rest, ""));
        let label = decoded(raw_label, "label")?;
        let pairs = query_pairs(query);
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        let required = |k: &'static str| -> Result<String, EnrolError> {
            let v = decoded(get(k).ok_or(EnrolError::Missing(k))?, k)?;
            if v.is_empty() {
                return Err(EnrolError::Missing(k));
            }
            Ok(v)
        };
        let optional = |k: &'static str| -> Result<Option<String>, EnrolError> {
            get(k).map(|v| decoded(v, k)).transpose()
        };

        if let Some(v) = optional("v")?
            && v != "1"
        {
            return Err(EnrolError::Invalid {
                field: "version (v)",
                value: excerpt(&v),
            });
        }
        // Read as the transport reads it; an address two readers could take for two hosts is
        // refused (crate::server_url).
        let url = crate::server_url::ServerUrl::parse(&required("url")?).map_err(|e| {
            EnrolError::Invalid {
                field: "url",
                value: e.to_string(),
            }
        })?;
        let serial = required("serial")?;
        if serial.contains('|') {
            return Err(EnrolError::Invalid {
                field: "serial",
                value: excerpt(&serial),
            });
        }
        // The credential goes through zeroizing buffers only.
        let credential = {
            let raw =
                get("enrollment_credential").ok_or(EnrolError::Missing("enrollment_credential"))?;
            let spaced = Zeroizing::new(raw.replace('+', " "));
            let value = Zeroizing::new(
                percent_encoding::percent_decode_str(&spaced)
                    .decode_utf8()
                    .map_err(|_| EnrolError::Invalid {
                        field: "enrollment_credential",
                        value: "not UTF-8".to_owned(),
                    })?
                    .into_owned(),
            );
            if value.is_empty() {
                return Err(EnrolError::Missing("enrollment_credential"));
            }
            value
        };
        let ttl_minutes = match optional("ttl")? {
            None => DEFAULT_TTL_MINUTES,
            Some(t) => t.trim().parse().map_err(|_| EnrolError::Invalid {
                field: "ttl",
                value: excerpt(&t),
            })?,
        };
        let verify_tls = match optional("sslverify")?.as_deref() {
            None | Some("1") => true,
            Some("0") => false,
            Some(v) => {
                return Err(EnrolError::Invalid {
                    field: "sslverify",
                    value: excerpt(v),
                });
            }
        };
        let force_unlock = match optional("app_force_unlock")? {
            None => None,
            Some(v) if v.is_empty() => None,
            Some(v) if matches!(v.as_str(), "any" | "biometric" | "pin") => Some(v),
            Some(v) => {
                return Err(EnrolError::Invalid {
                    field: "app_force_unlock",
                    value: excerpt(&v),
                });
            }
        };
        Ok(Enrolment {
            poll_only: flag(optional("poll_only")?.as_deref(), "poll_only")?,
            require_pin: flag(optional("pin")?.as_deref(), "pin")?,
            issuer: optional("issuer")?.unwrap_or_default(),
            serial,
            label,
            url,
            ttl_minutes,
            scanned_at,
            credential,
            verify_tls,
            force_unlock,
        })
    }

    /// The token's serial.
    pub fn serial(&self) -> &str {
        &self.serial
    }
    /// The QR's label.
    pub fn label(&self) -> &str {
        &self.label
    }
    /// The QR's issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    /// Where the enrolment goes.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }
    /// [`Enrolment::url`] as the transport reads it.
    pub fn server_url(&self) -> &crate::server_url::ServerUrl {
        &self.url
    }
    /// Check TLS certificates for the enrolment request.
    pub fn verify_tls(&self) -> bool {
        self.verify_tls
    }
    /// `pin=True` or `app_force_unlock`: approving will need device authentication.
    pub fn requires_unlock(&self) -> bool {
        self.require_pin || self.force_unlock.is_some()
    }
    /// After this (Unix seconds) the QR code may no longer be used.
    pub fn expires_at(&self) -> u64 {
        self.scanned_at
            .saturating_add(self.ttl_minutes.saturating_mul(60))
    }
    /// What to tell the user before going on.
    pub fn warnings(&self) -> Vec<EnrolWarning> {
        let mut w = Vec::new();
        if !self.verify_tls {
            w.push(EnrolWarning::TlsNotVerified);
        }
        if self.poll_only {
            w.push(EnrolWarning::PollOnly);
        }
        w
    }

    /// Step 2 of the enrolment: with the phone's new key (see [`PhoneKey::generate`]) and its
    /// push token (`None` for poll-only), the request that registers the key. Refused once
    /// the QR's `ttl` has passed.
    pub fn start(
        self,
        phone_key: PhoneKey,
        push_token: Option<&str>,
        now: u64,
    ) -> Result<PendingEnrolment, EnrolError> {
        if now > self.expires_at() {
            return Err(EnrolError::Expired {
                ttl_minutes: self.ttl_minutes,
            });
        }
        let push_token = push_token
            .filter(|t| !t.is_empty())
            .unwrap_or(NO_PUSH_TOKEN)
            .to_owned();
        let request = Request {
            method: Method::Post,
            url: self.url.as_str().to_owned(),
            params: vec![
                (
                    "enrollment_credential".to_owned(),
                    self.credential.as_str().to_owned(),
                ),
                ("serial".to_owned(), self.serial.clone()),
                ("fbtoken".to_owned(), push_token.clone()),
                ("pubkey".to_owned(), phone_key.public_key_spki_base64()?),
            ],
            verify_tls: self.verify_tls,
        };
        Ok(PendingEnrolment {
            enrolment: self,
            phone_key,
            push_token,
            request,
        })
    }
}

/// An enrolment whose request is ready: send [`PendingEnrolment::request`], then give the
/// reply to [`PendingEnrolment::finish`]. Nothing is stored before `finish` succeeds, so a
/// failed enrolment leaves no half-enrolled token behind.
#[derive(Debug)]
pub struct PendingEnrolment {
    enrolment: Enrolment,
    phone_key: PhoneKey,
    push_token: String,
    request: Request,
}

impl PendingEnrolment {
    /// The request to send.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The enrolment being completed.
    pub fn enrolment(&self) -> &Enrolment {
        &self.enrolment
    }

    /// Reads the server's reply: the enrolled token, with the server's public key.
    pub fn finish(self, body: &[u8], now: u64) -> Result<PushAccount, EnrolError> {
        let json = reply(body).map_err(|e| match e {
            Reply::Server(s) => EnrolError::Server(s),
            Reply::Bad(m) => EnrolError::Response(m),
        })?;
        let detail = json.get("detail").unwrap_or(&Value::Null);
        let state = detail.get("rollout_state").and_then(Value::as_str);
        if state != Some("enrolled") {
            return Err(EnrolError::Response(format!(
                "the token's rollout state is {}, not \"enrolled\"",
                state.map_or("missing".to_owned(), |s| format!("{:?}", excerpt(s)))
            )));
        }
        if let Some(serial) = detail.get("serial").and_then(Value::as_str)
            && serial != self.enrolment.serial
        {
            return Err(EnrolError::Response(format!(
                "the reply is for another token ({})",
                excerpt(serial)
            )));
        }
        let key = detail
            .get("public_key")
            .and_then(Value::as_str)
            .ok_or_else(|| EnrolError::Response("the server's public key is missing".into()))?;
        let server_key = ServerKey::from_base64(key)?;
        let e = self.enrolment;
        Ok(PushAccount {
            protocol: NAME.to_owned(),
            serial: e.serial,
            issuer: e.issuer,
            label: e.label,
            url: e.url.as_str().to_owned(),
            verify_tls: e.verify_tls,
            poll_only: e.poll_only,
            require_pin: e.require_pin,
            force_unlock: e.force_unlock,
            phone_key: self.phone_key,
            server_key,
            push_token: self.push_token,
            enrolled_at: now,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Replies.

enum Reply {
    Server(ServerError),
    Bad(String),
}

/// privacyIDEA's reply envelope: `{"result": {"status": true, "value": ...}, "detail": ...}`,
/// or `{"result": {"status": false, "error": {"code", "message"}}}`.
fn reply(body: &[u8]) -> Result<Value, Reply> {
    let json: Value =
        serde_json::from_slice(body).map_err(|_| Reply::Bad("the reply is not JSON".to_owned()))?;
    let result = json
        .get("result")
        .ok_or_else(|| Reply::Bad("the reply has no result".to_owned()))?;
    match result.get("status").and_then(Value::as_bool) {
        Some(true) => Ok(json),
        Some(false) => {
            let err = result.get("error").unwrap_or(&Value::Null);
            Err(Reply::Server(ServerError {
                code: err.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: err
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("no message")
                    .chars()
                    .take(300)
                    .collect(),
            }))
        }
        None => Err(Reply::Bad("the reply has no status".to_owned())),
    }
}

/// privacyIDEA's refusal of a poll whose timestamp is more than a minute off its clock:
/// `privacyIDEAError` (code 10) "Timestamp ... not in valid range.".
fn is_timestamp_refusal(e: &ServerError) -> bool {
    let m = e.message.to_ascii_lowercase();
    e.code == 10 && m.contains("timestamp") && m.contains("range")
}

fn value(json: &Value) -> &Value {
    json.get("result")
        .and_then(|r| r.get("value"))
        .unwrap_or(&Value::Null)
}

/// Verifies one challenge of a poll reply against `account`'s server key.
pub fn verify_challenge(
    account: &PushAccount,
    c: &Value,
    received_at: u64,
) -> Result<Challenge, ChallengeError> {
    let s = |k: &'static str| {
        c.get(k)
            .and_then(Value::as_str)
            .ok_or(ChallengeError::Missing(k))
    };
    let nonce = s("nonce")?;
    let question = s("question")?;
    let serial = s("serial")?;
    let title = s("title")?;
    let sslverify = s("sslverify")?;
    let url = s("url")?;
    let signature = s("signature")?;
    let require_presence = match c.get("require_presence") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_str()
                .ok_or(ChallengeError::Missing("require_presence"))?,
        ),
    };
    if serial != account.serial {
        return Err(ChallengeError::WrongSerial(excerpt(serial)));
    }
    let message = challenge_message(
        nonce,
        url,
        serial,
        question,
        title,
        sslverify,
        require_presence,
    );
    if !account.server_key.verify(message.as_bytes(), signature) {
        return Err(ChallengeError::BadSignature);
    }
    let decline_reasons = match (c.get("capabilities"), c.get("capabilities_signature")) {
        (None | Some(Value::Null), None | Some(Value::Null)) => false,
        (Some(caps), Some(sig)) => {
            let caps = caps.as_str().ok_or(ChallengeError::BadCapabilities(
                "they are not a JSON string",
            ))?;
            let sig = sig.as_str().ok_or(ChallengeError::BadCapabilities(
                "the signature is not a string",
            ))?;
            let parsed: Value = serde_json::from_str(caps)
                .map_err(|_| ChallengeError::BadCapabilities("they are not JSON"))?;
            if !parsed.is_object() {
                return Err(ChallengeError::BadCapabilities(
                    "they are not a JSON object",
                ));
            }
            let signed = capabilities_message(&parsed, nonce)?;
            if !account.server_key.verify(&signed, sig) {
                return Err(ChallengeError::BadCapabilities(
                    "the signature does not verify",
                ));
            }
            parsed.get("decline_reason") == Some(&Value::Bool(true))
        }
        (Some(_), None) => return Err(ChallengeError::BadCapabilities("no signature")),
        (None, Some(_)) => {
            return Err(ChallengeError::BadCapabilities(
                "a signature without capabilities",
            ));
        }
    };
    let options = match require_presence {
        None => None,
        Some(p) => {
            let opts: Vec<String> = p.split(',').map(str::to_owned).collect();
            if opts.iter().any(String::is_empty) {
                return Err(ChallengeError::Missing("require_presence"));
            }
            Some(opts)
        }
    };
    Ok(Challenge {
        serial: serial.to_owned(),
        nonce: nonce.to_owned(),
        title: title.to_owned(),
        question: question.to_owned(),
        url: url.to_owned(),
        verify_tls: sslverify != "0",
        options,
        decline_reasons,
        received_at,
        signed: Some(c.to_string()),
    })
}

// ---------------------------------------------------------------------------------------------
// The protocol.

/// privacyIDEA's PUSH token protocol.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrivacyIdea;

impl PushProtocol for PrivacyIdea {
    fn name(&self) -> &'static str {
        NAME
    }

    fn poll(&self, account: &PushAccount, now: u64) -> Result<Request, PollError> {
        let ts = timestamp(now);
        let signature = account
            .phone_key
            .sign(poll_message(&account.serial, &ts).as_bytes())?;
        Ok(Request {
            method: Method::Get,
            url: account.url.clone(),
            params: vec![
                ("serial".to_owned(), account.serial.clone()),
                ("timestamp".to_owned(), ts),
                ("signature".to_owned(), signature),
            ],
            verify_tls: account.verify_tls,
        })
    }

    fn verify(
        &self,
        account: &PushAccount,
        signed: &str,
        received_at: u64,
    ) -> Result<Challenge, ChallengeError> {
        let c: Value =
            serde_json::from_str(signed).map_err(|_| ChallengeError::Missing("nonce"))?;
        verify_challenge(account, &c, received_at)
    }

    fn read_poll(
        &self,
        account: &PushAccount,
        body: &[u8],
        received_at: u64,
    ) -> Result<PollOutcome, PollError> {
        let json = reply(body).map_err(|e| match e {
            Reply::Server(s) if is_timestamp_refusal(&s) => PollError::ClockOff(s),
            Reply::Server(s) => PollError::Server(s),
            Reply::Bad(m) => PollError::Response(m),
        })?;
        let list = value(&json)
            .as_array()
            .ok_or_else(|| PollError::Response("the challenges are not a list".into()))?;
        let mut out = PollOutcome {
            challenges: Vec::new(),
            rejected: Vec::new(),
        };
        for c in list {
            match verify_challenge(account, c, received_at) {
                Ok(ch) => out.challenges.push(ch),
                Err(e) => out.rejected.push(e),
            }
        }
        Ok(out)
    }

    fn answer(
        &self,
        account: &PushAccount,
        challenge: &Challenge,
        answer: Answer,
        now: u64,
    ) -> Result<PendingAnswer, AnswerError> {
        if challenge.serial != account.serial {
            return Err(AnswerError::WrongAccount);
        }
        if challenge.is_expired(now) {
            return Err(AnswerError::Expired);
        }
        let nonce = challenge.nonce.as_str();
        let serial = account.serial.as_str();
        let mut params = vec![
            ("nonce".to_owned(), nonce.to_owned()),
            ("serial".to_owned(), serial.to_owned()),
        ];
        let message = match (&answer, challenge.options()) {
            (Answer::Accept { option: None }, None) => accept_message(nonce, serial),
            (Answer::Accept { option: None }, Some(opts)) => {
                return Err(AnswerError::OptionRequired(opts.join(", ")));
            }
            (Answer::Accept { option: Some(_) }, None) => return Err(AnswerError::NoOptions),
            (Answer::Accept { option: Some(o) }, Some(opts)) => {
                if !opts.contains(o) {
                    return Err(AnswerError::NotAnOption(excerpt(o), opts.join(", ")));
                }
                params.push(("presence_answer".to_owned(), o.clone()));
                accept_option_message(nonce, serial, o)
            }
            (Answer::Decline { reason }, _) => {
                params.push(("decline".to_owned(), "1".to_owned()));
                if let Some(r) = reason {
                    if !challenge.decline_reasons {
                        return Err(AnswerError::ReasonNotAllowed);
                    }
                    params.push(("decline_reason".to_owned(), r.as_str().to_owned()));
                }
                decline_message(nonce, serial, reason.map(|r| r.as_str()))
            }
        };
        params.push((
            "signature".to_owned(),
            account.phone_key.sign(message.as_bytes())?,
        ));
        Ok(PendingAnswer {
            request: Request {
                method: Method::Post,
                url: challenge.url.clone(),
                params,
                verify_tls: challenge.verify_tls,
            },
            serial: account.serial.clone(),
            nonce: challenge.nonce.clone(),
            answer,
        })
    }

    fn read_answer(
        &self,
        _pending: &PendingAnswer,
        body: &[u8],
    ) -> Result<AnswerOutcome, AnswerError> {
        let json = reply(body).map_err(|e| match e {
            Reply::Server(s) => AnswerError::Server(s),
            Reply::Bad(m) => AnswerError::Response(m),
        })?;
        let accepted = value(&json)
            .as_bool()
            .ok_or_else(|| AnswerError::Response("the result is not true or false".into()))?;
        let display_code = json
            .get("detail")
            .and_then(|d| d.get("display_code"))
            .and_then(Value::as_str)
            .filter(|_| accepted)
            .map(str::to_owned);
        Ok(AnswerOutcome {
            accepted,
            display_code,
        })
    }

    fn update_token(
        &self,
        account: &PushAccount,
        new_token: &str,
        now: u64,
    ) -> Result<PendingTokenUpdate, UpdateError> {
        if new_token.is_empty() || new_token.contains('|') {
            return Err(UpdateError::InvalidToken);
        }
        let ts = timestamp(now);
        let signature = account
            .phone_key
            .sign(token_update_message(new_token, &account.serial, &ts).as_bytes())?;
        Ok(PendingTokenUpdate {
            request: Request {
                method: Method::Post,
                url: account.url.clone(),
                params: vec![
                    ("new_fb_token".to_owned(), new_token.to_owned()),
                    ("serial".to_owned(), account.serial.clone()),
                    ("timestamp".to_owned(), ts),
                    ("signature".to_owned(), signature),
                ],
                verify_tls: account.verify_tls,
            },
            serial: account.serial.clone(),
            new_token: new_token.to_owned(),
        })
    }

    fn read_update(&self, _pending: &PendingTokenUpdate, body: &[u8]) -> Result<(), UpdateError> {
        let json = reply(body).map_err(|e| match e {
            Reply::Server(s) => UpdateError::Server(s),
            Reply::Bad(m) => UpdateError::Response(m),
        })?;
        match value(&json).as_bool() {
            Some(true) => Ok(()),
            _ => Err(UpdateError::Response(
                "the server did not take the new token".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests;
